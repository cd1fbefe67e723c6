"""``bionn report FOLDER [FOLDER ...]``: rewrite the reports of ``compare`` / ``sweep`` folders.

A sweep's report aggregates whatever points are finished (shards may still be running); a
compare folder's report is rebuilt from its saved results. A folder holding several of them
(``reports/demo``) gets each one rewritten. ``--combined FILE`` also writes one page holding
every report in the order given, with its figures copied beside the page: that is how
``docs/results.md`` is made.

Examples:
    bionn report sweeps/cat
    bionn report reports/demo/gan --out reports/gan-again
    bionn report runs/gan-fmnist runs/gan-fmnist-usage --combined docs/results.md \
        --title "Measured results" --intro notes.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bionn.cli import error_exit

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bionn report`` options."""
    parser.add_argument(
        "folders",
        nargs="+",
        metavar="FOLDER",
        help="folders written by bionn compare or bionn sweep",
    )
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="report folder (default: the compare folder itself, SWEEP/report); "
        "with several folders, DIR/<folder name> each",
    )
    parser.add_argument(
        "--combined",
        default=None,
        metavar="FILE",
        help="also write one Markdown page with every report, figures copied "
        "to the folder of the same name beside it",
    )
    parser.add_argument(
        "--title",
        default="Measured results",
        help="first heading of the --combined page (default: Measured results)",
    )
    parser.add_argument(
        "--intro",
        default=None,
        metavar="FILE",
        help="Markdown placed under the title of the --combined page",
    )


def run(args: argparse.Namespace) -> int:
    """Write the reports; 2 with a message when there is nothing to report."""
    from bionn.experiments.combined import write_combined
    from bionn.experiments.report import rewrite_report

    folders = [Path(folder) for folder in args.folders]
    paths: list[Path] = []
    try:
        intro = Path(args.intro).read_text() if args.intro else ""
        for folder in folders:
            out = Path(args.out) / folder.name if args.out and len(folders) > 1 else args.out
            paths += rewrite_report(folder, Path(out) if out else None)
        combined = (
            write_combined(paths, Path(args.combined), args.title, intro) if args.combined else None
        )
    except (ValueError, OSError) as error:
        return error_exit("report", error)
    for path in paths:
        print(path.read_text())
        print(f"report written to {path.parent}")
    if combined:
        print(f"combined page written to {combined}")
    return 0
