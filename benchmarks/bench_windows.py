"""Build time of the '2d' window against plain loops over docs/spec.md; solve and refusal times.

Question: how much faster is :func:`bionn.windows.window_2d` than the per-channel loop the
original code ran? Target (issue 2): >= 50x. Issue 9's targets follow in a second table: the
'2d' window of a 4096x4096 layer in <= 10 ms, the ``usage=`` radius solve for it in <= 50 ms,
and absurd layers (``MouseConv2d(10**5, 10**5, 3, usage=0.35)``, ``MouseLinear(10**6, 10**6,
usage=0.35)``) refused in < 1 s. Two baselines, both from ``tests/test_spec_oracle.py``
(which pins them to the golden masks): the loop per x channel and grid row that sets each row's
span as one slice, and the literal loop that sets one connection at a time. All timed in turns in
one process; medians of repeated runs.

Run: ``.venv/bin/python benchmarks/bench_windows.py [--repeats N]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import bionn
from bionn.windows import radius_for_usage, window_2d
from timing import interleaved_medians, print_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_spec_oracle import loop_window_2d  # noqa: E402  (the oracle lives with the tests)

# (label, n_x, n_y, x_width, y_width, radius): exact grids, r = 0.4 (about 35 % usage)
SHAPES = [
    ("conv 512x512 (16x32 grids)", 512, 512, 32, 32, 0.4),
    ("linear 4096x4096 (64x64 grids)", 4096, 4096, 64, 64, 0.4),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(2)
    rows = []
    for label, *shape in SHAPES:
        assert np.array_equal(window_2d(*shape), loop_window_2d(*shape))  # same mask, or no row
        medians = interleaved_medians(
            {
                "vectorised": lambda s=shape: window_2d(*s),
                "loop (slice per row)": lambda s=shape: loop_window_2d(*s),
                "loop (per connection)": lambda s=shape: loop_window_2d(*s, per_connection=True),
            },
            repeats=args.repeats,
            warmup=1,
        )
        n_x, n_y = shape[0], shape[1]
        layer = bionn.MouseLinear(
            n_x,
            n_y,
            radius=shape[4],
            in_grid=(n_x // shape[2], shape[2]),
            out_grid=(n_y // shape[3], shape[3]),
        )
        assert np.array_equal(layer.window.numpy(), window_2d(*shape))
        fast = medians["vectorised"]
        rows.append(
            (
                label,
                f"{1e3 * fast:.2f}",
                f"{1e3 * medians['loop (slice per row)']:.1f}",
                f"{medians['loop (slice per row)'] / fast:.1f}x",
                f"{1e3 * medians['loop (per connection)']:.0f}",
                f"{medians['loop (per connection)'] / fast:.0f}x",
            )
        )
    print(f"numpy {np.__version__}, median of {args.repeats} runs")
    print_table(
        ("window '2d'", "vectorised ms", "loop/row ms", "speed-up", "loop/conn ms", "speed-up"),
        rows,
    )
    print()
    print_table(("issue 9 target", "ms", "target ms"), target_rows(args.repeats))


def refusal_seconds(build: Callable[[], object]) -> float:
    start = time.perf_counter()
    try:
        build()
    except MemoryError:
        return time.perf_counter() - start
    raise AssertionError("an absurd layer was built")


def target_rows(repeats: int) -> list[tuple[str, str, str]]:
    """Median times of the 4096x4096 build and solve, and of refusing absurd sizes."""
    medians = interleaved_medians(
        {
            "build '2d' 4096x4096 (64x64 grids)": lambda: window_2d(4096, 4096, 64, 64, 0.4),
            "usage=0.35 solve, 4096x4096": lambda: radius_for_usage(4096, 4096, 64, 64, 0.35),
        },
        repeats=repeats,
        warmup=1,
    )
    targets = {"build": 10, "usage=0.35": 50}
    rows = [
        (name, f"{1e3 * t:.1f}", f"<= {targets[name.split()[0]]}") for name, t in medians.items()
    ]
    for name, build in {
        "refuse MouseConv2d(1e5, 1e5, 3)": lambda: bionn.MouseConv2d(10**5, 10**5, 3, usage=0.35),
        "refuse MouseLinear(1e6, 1e6)": lambda: bionn.MouseLinear(10**6, 10**6, usage=0.35),
    }.items():
        rows.append((name, f"{1e3 * refusal_seconds(build):.1f}", "< 1000"))
    return rows


if __name__ == "__main__":
    main()
