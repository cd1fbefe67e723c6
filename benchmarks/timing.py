"""Timing helpers shared by the benchmark scripts: interleaved repeats, medians, a table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence


def interleaved_medians(
    variants: dict[str, Callable[[], object]], repeats: int, warmup: int = 2
) -> dict[str, float]:
    """Median seconds per call of each variant, timed in turns so that load drifts hit all alike.

    Every round calls each variant once; the order rotates between rounds so that no variant
    always runs first or right after the same other one.
    """
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows as a plain fixed-width table (first column left-aligned, others right)."""
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for index, row in enumerate(cells):
        pairs = enumerate(zip(row, widths, strict=True))
        line = "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs)
        print(line.rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))
