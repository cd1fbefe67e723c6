"""Short DDIM and GAN runs on a lent GPU: images/s of the standard vs mouse variants.

Each run goes through ``run_training`` (AMP and ``torch.compile`` as given) on the embedded
digits set upscaled to RGB; throughput is the median of the logged windows after the first
(which holds the compilation).

    python scripts/gpu_check.py                       # CUDA, 64x64, bf16, compiled
    python scripts/gpu_check.py --device cpu --size 16 --width 8 --steps 6 --precision fp32 \
        --no-compile                                  # the same path on CPU, in seconds
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import torch

from bionn.experiments import make_config, run_training


def throughput(kind: str, variant: str, args: argparse.Namespace, root: Path) -> float:
    """Median training images/s of one short run."""
    widths = {}
    if args.width:
        widths = {"width": args.width, **({"disc_width": args.width} if kind == "gan" else {})}
    config = make_config(
        kind,
        variant=variant,
        image_size=args.size,
        channels=3,
        steps=args.steps,
        device=args.device,
        precision=args.precision,
        compile=args.compile,
        progress=False,
        log_every=args.log_every,
        sample_every=0,
        checkpoint_every=0,
        n_samples=8,
        out=str(root / f"{kind}-{variant}"),
        **widths,
    )
    result = run_training(config)
    lines = (result.run_dir / "metrics.jsonl").read_text().splitlines()
    rates = [json.loads(line)["images_per_s"] for line in lines if "images_per_s" in line]
    return statistics.median(rates[1:] or rates)


def main() -> None:
    """Run the four short trainings and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--width", type=int, default=0, help="0: the published widths")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--precision", default="bf16")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    if args.device.startswith("cuda"):
        print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}")
    print(
        f"{args.size}x{args.size} RGB, {args.precision}, compile={args.compile}, "
        f"{args.steps} steps per run"
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("ddim", "gan"):
            rates = {v: throughput(kind, v, args, Path(tmp)) for v in ("standard", "mouse")}
            results[kind] = rates
            print(
                f"{kind:4s}  standard {rates['standard']:9.1f} images/s   mouse "
                f"{rates['mouse']:9.1f} images/s   mouse/standard "
                f"{rates['mouse'] / rates['standard']:.2f}"
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
