"""The ``bionn`` command line: one sub-command per module, imported only when the CLI runs.

Each module listed in :data:`COMMANDS` provides ``add_arguments(parser)`` and ``run(args) -> int``.
The library core never imports this file, so ``import bionn`` needs none of the experiment
dependencies.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

# sub-command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("bionn.experiments.train_cli", "train a GAN, DDIM or classifier"),
    "sample": ("bionn.experiments.sample_cli", "sample images from a checkpoint"),
    "fid": ("bionn.metrics.cli", "FID / KID / proxy distance between image sets"),
    "compare": ("bionn.experiments.compare", "standard vs bio-mimetic over seeds (the main job)"),
    "sweep": ("bionn.experiments.sweep", "a grid of usage values times seeds"),
    "report": ("bionn.experiments.report", "aggregate finished sweep runs"),
    "mask": ("bionn.viz_cli", "draw connection windows as PNG"),
    "ablate": ("bionn.experiments.ablate", "remove trained weights by pattern, evaluate"),
}


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bionn", description="Experiments and tools of bionn, the bio-mimetic layer library."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            command.set_defaults(_unavailable=f"bionn {name} is unavailable: {error}")
            continue
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns the exit status."""
    args = _build_parser().parse_args(argv)
    if getattr(args, "_unavailable", None):
        print(args._unavailable, file=sys.stderr)
        return 2
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
