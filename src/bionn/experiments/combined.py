"""One Markdown page holding several reports (``bionn report ... --combined``, the demo's page).

``docs/results.md`` is such a page: the reports of the compare and sweep folders it names, in
order, each with its command line, under a title and an optional introduction. Figures are
copied beside the page (``results/<report>/`` for ``results.md``) and the reports' links point
at the copies, so the page and its folder can be committed or moved together.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

__all__ = ["write_combined"]

_FIGURE_LINK = re.compile(r"\]\((?!https?:|/)([^)\s]+\.png)\)")
_HEADING = re.compile(r"^(#+) ", flags=re.MULTILINE)


def _names(reports: Sequence[Path]) -> list[str]:
    """A folder name per report: its study's folder (a sweep's, not ``report/``), unique."""
    folders = [r.parent.parent if r.parent.name == "report" else r.parent for r in reports]
    plain = [folder.name for folder in folders]
    return [
        name if plain.count(name) == 1 else f"{folder.parent.name}-{name}"
        for name, folder in zip(plain, folders, strict=True)
    ]


def write_combined(reports: Sequence[Path], path: Path, title: str, intro: str = "") -> Path:
    r"""Write ``path``: ``title``, ``intro``, then every ``report.md`` one heading level down.

    Args:
        reports: ``report.md`` files written by ``bionn compare`` / ``bionn sweep``.
        path: The page to write (e.g. ``docs/results.md``).
        title: Its first heading.
        intro: Markdown placed before the reports (what was run, on which machine).

    Returns:
        ``path``.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "gan").mkdir()
        >>> _ = (root / "gan" / "report.md").write_text("# GAN\n\n![curves](curves.png)\n")
        >>> _ = (root / "gan" / "curves.png").write_bytes(b"png")
        >>> page = write_combined([root / "gan" / "report.md"], root / "all.md", "Results")
        >>> print(page.read_text())
        # Results
        <BLANKLINE>
        ## GAN
        <BLANKLINE>
        ![curves](all/gan/curves.png)
        <BLANKLINE>
        >>> (root / "all" / "gan" / "curves.png").is_file()
        True
    """
    path = Path(path)
    assets = path.with_suffix("")
    lines = [f"# {title}", ""] + ([intro.strip(), ""] if intro.strip() else [])
    for report, name in zip(reports, _names(reports), strict=True):
        report = Path(report)
        target = assets / name
        target.mkdir(parents=True, exist_ok=True)
        for figure in sorted(report.parent.glob("*.png")):
            shutil.copyfile(figure, target / figure.name)
        text = _HEADING.sub(r"#\1 ", report.read_text().strip())
        text = _FIGURE_LINK.sub(rf"]({assets.name}/{name}/\1)", text)
        lines += [text, ""]
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, path)
    return path
