"""``bionn sample``: images from a GAN or DDIM checkpoint, as a grid and / or single PNGs.

Examples:
    bionn sample --checkpoint runs/ddim-unet-mouse-s0 --n 64 --out grid.png
    bionn sample --checkpoint runs/gan/checkpoints/last.pt --n 10000 --out-dir fid/gen

"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sample options to ``parser``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("Examples:", 1)[1]
    parser.add_argument("--checkpoint", required=True,
                        help="checkpoint file or run folder (its last checkpoint)")  # fmt: skip
    parser.add_argument("--n", type=int, default=64, help="number of images (default 64)")
    parser.add_argument("--out", help="PNG grid to write")
    parser.add_argument("--out-dir", help="folder for one PNG per image (for FID)")
    parser.add_argument("--steps", type=int, default=None,
                        help="DDIM steps (default: the run's --sampling-steps)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per batch")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    parser.add_argument("--nrow", type=int, default=8, help="images per grid row")


def _check_target(path: Path, is_dir: bool) -> str | None:
    folder = path if is_dir else path.parent
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write to {existing}"
    if is_dir and path.exists() and not path.is_dir():
        return f"--out-dir {path} exists and is not a folder"
    return None


def run(args: argparse.Namespace) -> int:
    """Sample and write; 0 when done, 2 for bad input."""
    from bionn.experiments import USER_ERRORS, load_checkpoint
    from bionn.experiments.ddp import resolve_device
    from bionn.experiments.sampling import sample_images, save_grid, save_singles

    def fail(message: str) -> int:
        print(f"bionn sample: error: {message}", file=sys.stderr)
        return 2

    if not args.out and not args.out_dir:
        return fail("give --out grid.png and/or --out-dir FOLDER")
    if args.n < 1 or args.batch_size < 1 or (args.steps is not None and args.steps < 1):
        return fail("--n, --batch-size and --steps must be >= 1")
    for value, is_dir in ((args.out, False), (args.out_dir, True)):
        problem = value and _check_target(Path(value), is_dir)
        if problem:
            return fail(problem)
    try:
        device = resolve_device(args.device)
        loaded = load_checkpoint(args.checkpoint, device)
    except (*USER_ERRORS, ValueError) as error:
        return fail(str(error))
    if loaded.config.kind == "classifier":
        return fail(f"{args.checkpoint} is a classifier checkpoint: only GAN and DDIM can sample")
    steps = args.steps or getattr(loaded.config, "sampling_steps", 20)
    images = sample_images(loaded.model, args.n, steps=steps, seed=args.seed,
                           batch_size=args.batch_size)  # fmt: skip
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        print(f"wrote {save_grid(images, args.out, nrow=args.nrow)}")
    if args.out_dir:
        paths = save_singles(images, args.out_dir)
        print(f"wrote {len(paths)} PNGs to {args.out_dir}")
    return 0
