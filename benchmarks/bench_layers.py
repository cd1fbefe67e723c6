"""Speed of windowed layers against the plain torch layer: training step and inference.

Question: what does the window cost? Targets (issue 2): <= 1.05x for a training step (forward +
backward) and <= 1.02x for inference (eval mode, where the masked weight is cached).
Shapes: MouseConv2d(256 -> 256, 3x3) on a batch of 32 16x16 maps, MouseLinear(4096 -> 4096) on
a batch of 256. Both variants are timed in turns in one process; medians of repeated runs.

Run: ``.venv/bin/python benchmarks/bench_layers.py [--repeats N] [--threads T]``
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name, (plain, windowed, x) in cases().items():
        # a second plain layer timed like the others: its ratio is the noise floor of the run
        layers = {"plain": plain, "windowed": windowed, "control": copy.deepcopy(plain)}
        for task in ("train fwd+bwd", "eval inference_mode", "eval no_grad"):
            if task.startswith("train"):
                variants = {key: training_step(layer, x) for key, layer in layers.items()}
            else:
                mode = task.split()[-1]
                variants = {key: inference(layer, x, mode) for key, layer in layers.items()}
            medians = interleaved_medians(variants, repeats=args.repeats)
            target = 1.05 if task.startswith("train") else 1.02
            base = medians["plain"]
            rows.append((name, task, f"{1e3 * base:.1f}", f"{1e3 * medians['windowed']:.1f}",
                         f"{medians['windowed'] / base:.3f}x", f"<= {target:.2f}x",
                         f"{medians['control'] / base:.3f}x"))  # fmt: skip
    print(f"torch {torch.__version__}, {args.threads} threads, median of {args.repeats} runs, "
          f"usage {USAGE}; control = a second plain layer (noise floor)")  # fmt: skip
    print_table(("layer", "task", "plain ms", "windowed ms", "ratio", "target", "control"), rows)

if __name__ == "__main__":
    main()
