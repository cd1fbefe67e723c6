"""``bionn sample``: images from a GAN or DDIM run, as a grid and / or one PNG per image.

Examples:
    bionn sample --checkpoint runs/ddim-unet-mouse-s0 --n-samples 64 --grid grid.png
    bionn sample --checkpoint runs/gan/checkpoints/last.pt --n-samples 10000 --out fid/gen
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bionn.cli import error_exit

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sample options to ``parser``."""
    parser.add_argument(
        "--checkpoint", required=True, help="checkpoint file or run folder (its last checkpoint)"
    )
    parser.add_argument(
        "--n-samples", type=int, default=64, metavar="N", help="number of images (default: 64)"
    )
    parser.add_argument("--grid", metavar="FILE", help="PNG grid to write")
    parser.add_argument("--out", metavar="DIR", help="folder for one PNG per image (for FID)")
    parser.add_argument(
        "--sampling-steps",
        type=int,
        default=None,
        metavar="N",
        help="DDIM steps (default: the run's --sampling-steps)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
    parser.add_argument(
        "--sample-batch",
        type=int,
        default=64,
        metavar="N",
        help="images generated per forward pass (default: 64)",
    )
    parser.add_argument(
        "--device",
        default="auto",
        help="auto (CUDA if present), cpu, cuda or cuda:N (default: auto)",
    )
    parser.add_argument("--nrow", type=int, default=8, help="images per grid row (default: 8)")


def _check_target(path: Path, is_dir: bool) -> str | None:
    folder = path if is_dir else path.parent
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write to {existing}"
    if is_dir and path.exists() and not path.is_dir():
        return f"--out {path} exists and is not a folder"
    return None


def _check(args: argparse.Namespace) -> str | None:
    if not args.grid and not args.out:
        return "give --grid FILE.png and/or --out FOLDER"
    for name in ("n_samples", "sample_batch", "sampling_steps", "nrow"):
        value = getattr(args, name)
        if value is not None and value < 1:
            return f"--{name.replace('_', '-')} must be >= 1, got {value}"
    for value, is_dir in ((args.grid, False), (args.out, True)):
        problem = value and _check_target(Path(value), is_dir)
        if problem:
            return problem
    return None


def run(args: argparse.Namespace) -> int:
    """Sample and write; 0 when done, 2 for bad input."""
    from bionn.experiments import USER_ERRORS, load_checkpoint
    from bionn.experiments.ddp import resolve_device
    from bionn.experiments.sampling import sample_images, save_grid, save_singles

    problem = _check(args)
    if problem:
        return error_exit("sample", problem)
    try:
        device = resolve_device(args.device)
        loaded = load_checkpoint(args.checkpoint, device)
    except (*USER_ERRORS, ValueError) as error:
        return error_exit("sample", str(error))
    if loaded.config.kind == "classifier":
        return error_exit(
            "sample", f"{args.checkpoint} is a classifier checkpoint: only GAN and DDIM can sample"
        )
    steps = args.sampling_steps or getattr(loaded.config, "sampling_steps", 20)
    images = sample_images(
        loaded.model, args.n_samples, steps=steps, seed=args.seed, batch_size=args.sample_batch
    )
    if args.grid:
        Path(args.grid).parent.mkdir(parents=True, exist_ok=True)
        print(f"wrote {save_grid(images, args.grid, nrow=args.nrow)}")
    if args.out:
        paths = save_singles(images, args.out)
        print(f"wrote {len(paths)} PNGs to {args.out}")
    return 0
