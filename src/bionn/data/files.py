"""Files bionn writes: atomic replacement with ordinary permissions, and stale temporaries.

Every checkpoint, cache and result file is written to a hidden temporary beside its target
(``.<name>.<random>.tmp``), flushed and renamed over the target, so a killed process never
leaves half a file under the real name. The temporary is created with mode ``0o666`` filtered
by the umask, as ``open()`` would create the target itself (``0644`` under the usual umask 022);
``tempfile.mkstemp`` would make it ``0600``, readable by its owner only. A process killed
between creating and renaming leaves its temporary behind: :func:`clear_stale_temporaries`
removes them when a run starts again.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "clear_stale_temporaries", "save_torch", "write_text"]

logger = logging.getLogger(__name__)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def atomic_write(
    path: str | Path, write: Callable[[IO[bytes]], Any], *, sync: bool = False
) -> Path:
    """Write ``path`` through ``write(handle)`` to a temporary, then rename it over ``path``.

    Args:
        path: The target file; its folder is created if missing.
        write: Called once with a binary file handle open for writing.
        sync: ``fsync`` before the rename (checkpoints: the data is on disk when the name is).

    Returns:
        ``path``.

    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    # os.open applies the umask to 0o666, as a plain open() of the target would
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def save_torch(obj: Any, path: str | Path, *, sync: bool = False) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (see :func:`atomic_write`)."""
    import torch

    return atomic_write(path, lambda handle: torch.save(obj, handle), sync=sync)


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write(path, lambda handle: handle.write(text.encode()))


def clear_stale_temporaries(folder: str | Path, recursive: bool = True) -> list[Path]:
    """Remove the ``.*.tmp`` files a killed writer left in ``folder``; return what was removed.

    Call it only where no other process is writing (a run folder when its run starts).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp")
    removed = [path for path in found if path.is_file()]
    for path in removed:
        path.unlink(missing_ok=True)
    if removed:
        logger.warning(
            "removed %d stale temporary file(s) left by a killed run in %s: %s",
            len(removed),
            folder,
            ", ".join(p.name for p in removed[:5]),
        )
    return removed
