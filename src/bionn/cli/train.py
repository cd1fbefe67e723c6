"""``bionn train {gan,ddim,classifier}``: options generated from the experiment's config class.

Examples:
    bionn train gan --variant mouse --data ~/data/afhq/cat --epochs 500
    bionn train ddim --data digits --image-size 32 --width 32 --steps 2000 --no-attention
    bionn train classifier --model mlp --variant schizo --usage 0.2 --data mnist --download
    bionn train gan --out runs/gan-mouse-s0 --resume
    torchrun --nproc-per-node 2 -m bionn.cli train ddim --device cpu ...
"""

from __future__ import annotations

import argparse
import sys

from bionn.cli import command_parser, error_exit
from bionn.cli.options import add_config_arguments, config_from_args
from bionn.experiments.config import KINDS
from bionn.experiments.study import EXIT_INTERRUPTED

__all__ = ["EXIT_INTERRUPTED", "add_arguments", "interrupted_exit", "run"]

_KIND_EXAMPLES = {
    "gan": "bionn train gan --variant mouse --data ~/data/afhq/cat --epochs 500",
    "ddim": "bionn train ddim --variant mouse --data digits --image-size 32 --steps 2000",
    "classifier": "bionn train classifier --model mlp --variant schizo --usage 0.2 --data mnist",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One sub-parser per experiment kind, its options made from the config dataclass."""
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, cls in KINDS.items():
        doc = f"Example:\n    {_KIND_EXAMPLES[kind]}\n"
        sub = command_parser(kinds, kind, (cls.__doc__ or "").splitlines()[0], doc)
        add_config_arguments(sub, cls)
        sub.add_argument(
            "--resume",
            action="store_true",
            help="continue the run in --out from its last checkpoint",
        )


def interrupted_exit(message: str) -> int:
    """Print ``interrupted: MESSAGE`` to stderr and return :data:`EXIT_INTERRUPTED` (130)."""
    print(f"interrupted: {message}", file=sys.stderr)
    return EXIT_INTERRUPTED


def run(args: argparse.Namespace) -> int:
    """Train; 0 when done, 2 for bad input, 130 when interrupted (after a checkpoint)."""
    from bionn.experiments import USER_ERRORS
    from bionn.experiments.train import run_training

    try:
        config, given = config_from_args(args.kind, args)
        result = run_training(config, resume=args.resume, given=given)
    except USER_ERRORS as error:
        return error_exit("train", error)
    if result.status == "interrupted":
        return interrupted_exit(
            f"checkpoint written to {result.checkpoint}; continue with "
            f"--out {result.run_dir} --resume"
        )
    if result.summary:
        print(f"run finished: {result.run_dir} (summary.json, metrics.jsonl, checkpoints/)")
    return 0
