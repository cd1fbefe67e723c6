"""Speed of windowed layers against the plain torch layer: training, forward, frozen forward.

Question: what does the window cost? Targets (issue 9), as ratios to the plain layer timed in
the same run: MouseLinear(4096 -> 4096) at batch 256: training step <= 1.15x, eval forward
without freezing <= 1.10x, frozen forward (``bionn.freeze``) <= 1.02x; MouseConv2d(256 -> 256,
3x3) on 32 16x16 maps: training step <= 1.05x. ``--candidates`` also times the ways of applying
a bool window to a 4096x4096 weight (the layers use ``torch.where``: no float copy of the
window). All variants are timed in turns in one process; medians of repeated runs.

Run: ``.venv/bin/python benchmarks/bench_layers.py [--repeats N] [--threads T] [--candidates]``
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable

import torch
from torch import nn

import bionn
from timing import interleaved_medians, print_table

USAGE = 0.35  # the mouse paper's typical share of weights


def cases() -> dict[str, tuple[nn.Module, nn.Module, torch.Tensor]]:
    """name -> (plain layer, windowed layer, input)."""
    torch.manual_seed(0)
    return {
        "conv 256->256 3x3, b32 16x16": (
            nn.Conv2d(256, 256, 3, padding=1),
            bionn.MouseConv2d(256, 256, 3, padding=1, usage=USAGE),
            torch.randn(32, 256, 16, 16),
        ),
        "linear 4096->4096, b256": (
            nn.Linear(4096, 4096),
            bionn.MouseLinear(4096, 4096, usage=USAGE),
            torch.randn(256, 4096),
        ),
    }


def training_step(layer: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    """Forward + backward with a fixed output gradient (no loss cost in the timing)."""
    layer.train()
    grad = torch.randn_like(layer(x))

    def step() -> None:
        layer.zero_grad(set_to_none=True)
        layer(x).backward(grad)

    return step


def inference(layer: nn.Module, x: torch.Tensor, mode: str) -> Callable[[], None]:
    """One eval-mode forward under ``torch.inference_mode`` or ``torch.no_grad``."""
    layer.eval()
    guard = torch.inference_mode if mode == "inference_mode" else torch.no_grad

    def forward() -> None:
        with guard():
            layer(x)

    return forward


# task -> target ratio per layer kind (None: no target)
TARGETS = {
    "train fwd+bwd": {"conv": 1.05, "linear": 1.15},
    "eval forward": {"conv": None, "linear": 1.10},
    "frozen forward": {"conv": None, "linear": 1.02},
}


def variants_for(task: str, layers: dict[str, nn.Module], x: torch.Tensor) -> dict:
    if task.startswith("train"):
        return {key: training_step(layer, x) for key, layer in layers.items()}
    if task.startswith("frozen"):
        frozen = {**layers, "windowed": copy.deepcopy(layers["windowed"]).freeze()}
        return {key: inference(layer, x, "inference_mode") for key, layer in frozen.items()}
    return {key: inference(layer, x, "no_grad") for key, layer in layers.items()}


def mask_candidates(repeats: int) -> list[tuple[str, ...]]:
    """Each way of applying a bool window to a 4096x4096 weight, forward and backward."""
    weight = torch.randn(4096, 4096, requires_grad=True)
    window = torch.rand(4096, 4096) < 0.35
    as_float = window.float()  # what the first pass cached: +64 MiB
    ways = {
        "torch.where(window, weight, 0)": lambda: torch.where(window, weight, 0.0),
        "weight * bool window": lambda: weight * window,
        "weight.masked_fill(~window, 0)": lambda: weight.masked_fill(~window, 0.0),
        "weight * float copy (+64 MiB)": lambda: weight * as_float,
        "no mask (plain)": lambda: weight * 1,
    }

    def timed(make: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            weight.grad = None
            make().sum().backward()

        return run

    medians = interleaved_medians({k: timed(f) for k, f in ways.items()}, repeats=repeats)
    base = medians["no mask (plain)"]
    return [(name, f"{1e3 * t:.1f}", f"{t / base:.2f}x") for name, t in medians.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--candidates", action="store_true", help="also time the mask ops")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name, (plain, windowed, x) in cases().items():
        # a second plain layer timed like the others: its ratio is the noise floor of the run
        layers = {"plain": plain, "windowed": windowed, "control": copy.deepcopy(plain)}
        for task, targets in TARGETS.items():
            medians = interleaved_medians(variants_for(task, layers, x), repeats=args.repeats)
            target = targets[name.split()[0]]
            base = medians["plain"]
            rows.append(
                (
                    name,
                    task,
                    f"{1e3 * base:.1f}",
                    f"{1e3 * medians['windowed']:.1f}",
                    f"{medians['windowed'] / base:.3f}x",
                    f"<= {target:.2f}x" if target else "-",
                    f"{medians['control'] / base:.3f}x",
                )
            )
    print(
        f"torch {torch.__version__}, {args.threads} threads, median of {args.repeats} runs, "
        f"usage {USAGE}; control = a second plain layer (noise floor)"
    )
    print_table(("layer", "task", "plain ms", "windowed ms", "ratio", "target", "control"), rows)
    if args.candidates:
        print("\nApplying a bool window to a 4096x4096 weight (forward + backward of the sum):")
        print_table(("way", "ms", "ratio to no mask"), mask_candidates(args.repeats))


if __name__ == "__main__":
    main()
