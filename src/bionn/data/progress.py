"""One way to show progress: a tqdm bar on stderr, on when stderr is a terminal by default."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["progress_bar"]


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    desc: str,
    total: int | None = None,
    enabled: bool | None = None,
    unit: str = "it",
) -> Any:
    """A tqdm bar over ``iterable`` (or updated by hand when None).

    Args:
        iterable: What to iterate; None for a bar advanced with ``update``.
        desc: What the user is waiting for ("decoding images", "real features", ...).
        total: Expected count (taken from ``len(iterable)`` when omitted).
        enabled: True shows the bar, False hides it, None shows it when stderr is a terminal.
        unit: Unit of the count.

    """
    from tqdm import tqdm

    return tqdm(
        iterable,
        desc=desc,
        total=total,
        unit=unit,
        file=sys.stderr,
        disable=None if enabled is None else not enabled,
        dynamic_ncols=True,
        leave=False,
    )
