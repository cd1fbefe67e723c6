"""Compact vs plain safetensors size, and frozen-mode inference time against the plain model.

Models: the mouse paper's DCGAN generator (64x64, mouse variant, from bionn.experiments) and
torchvision's ResNet-18 after ``bionn.mousify`` (usage 0.35). "Plain" is the same model with
every windowed layer turned back into its torch layer (``to_plain``), saved by safetensors.

Timing: median over repeats of one forward pass (after warm-up) in eval mode: under
``torch.inference_mode`` for the plain, windowed (masking every call) and frozen models, and
with autograd on, as in training, against the plain model.

    .venv/bin/python benchmarks/bench_compact.py [--repeats 15] [--threads 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import tempfile
import time
from collections.abc import Callable

import torch
import torchvision
from safetensors.torch import save_file
from torch import nn

import bionn
from bionn.experiments.models import build


def plain_copy(model: nn.Module) -> nn.Module:
    """The model with every windowed layer replaced by ``to_plain()``."""
    plain = copy.deepcopy(model)
    for parent in list(plain.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, bionn.WindowedLayer):
                setattr(parent, name, child.to_plain())
    return plain


def windowed_only(model: nn.Module) -> nn.ModuleDict:
    layers = {
        n.replace(".", "_"): m
        for n, m in model.named_modules()
        if isinstance(m, bionn.WindowedLayer)
    }
    return nn.ModuleDict(layers)


def file_sizes(model: nn.Module, folder: str) -> tuple[int, int]:
    """(compact bytes, plain safetensors bytes) of ``model``."""
    compact, plain = os.path.join(folder, "compact.st"), os.path.join(folder, "plain.st")
    bionn.save_compact(model, compact)
    save_file({k: v.contiguous() for k, v in plain_copy(model).state_dict().items()}, plain)
    return os.path.getsize(compact), os.path.getsize(plain)


def median_ms(
    runs: dict[str, Callable[[], object]], repeats: int, device: torch.device
) -> dict[str, float]:
    """Median ms per call of each run; runs interleave, so load from other processes hits all."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for repeat in range(repeats + 2):  # the first two rounds warm up
        for name, run in runs.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            run()
            if device.type == "cuda":
                torch.cuda.synchronize()
            if repeat >= 2:
                times[name].append(1000 * (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in times.items()}


def timings(model: nn.Module, x: torch.Tensor, repeats: int) -> dict[str, float]:
    """Median forward ms: inference (plain, windowed, frozen) and with autograd on (as in training).

    Windowed layers mask their weight on every call; frozen ones hold the masked weight.
    """
    model = model.eval().to(x.device)
    plain = plain_copy(model)
    frozen = copy.deepcopy(model)
    bionn.freeze(frozen)

    def inference(module: nn.Module) -> Callable[[], object]:
        def run() -> object:
            with torch.inference_mode():
                return module(x)

        return run

    return median_ms(
        {
            "plain": inference(plain),
            "windowed": inference(model),
            "frozen": inference(frozen),
            "plain, grad on": lambda: plain(x),
            "windowed, grad on": lambda: model(x),
        },
        repeats,
        x.device,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)

    generator = build("gan", "mouse").generator
    resnet = torchvision.models.resnet18(weights=None)
    bionn.mousify(resnet, usage=0.35)
    cases = {
        "DCGAN generator (mouse, 64x64)": (generator, torch.randn(args.batch, 100)),
        "ResNet-18 mousify(0.35)": (resnet, torch.randn(args.batch, 3, 224, 224)),
    }
    print(f"{'model':32} {'part':16} {'usage':>7} {'compact MB':>11} {'plain MB':>9} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for name, (model, _) in cases.items():
            usage = bionn.usage_report(model)
            for part, target, fraction in (
                ("whole model", model, usage.total.usage),
                ("windowed layers", windowed_only(model), usage.windowed_total.usage),
            ):
                compact, plain = file_sizes(target, folder)
                print(
                    f"{name:32} {part:16} {100 * fraction:6.2f}% {compact / 1e6:11.3f} "
                    f"{plain / 1e6:9.3f} {compact / plain:7.4f}"
                )
    print(
        f"\nforward time, median of {args.repeats}, batch {args.batch}, {device}, "
        f"{args.threads} threads (ms; ratio to plain)"
    )
    for name, (model, x) in cases.items():
        result = timings(model, x.to(device), args.repeats)
        print(name)
        for key, value in result.items():
            base = result["plain, grad on" if "grad on" in key else "plain"]
            print(f"  {key:22} {value:9.2f} ms  ratio {value / base:.3f}")


if __name__ == "__main__":
    main()
