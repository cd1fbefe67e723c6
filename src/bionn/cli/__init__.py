"""The ``bionn`` command line: one thin module per command, imported when the command runs.

Each module listed in :data:`COMMANDS` provides ``add_arguments(parser)`` and
``run(args) -> int``, and its docstring's ``Example:`` section becomes the epilog of its
``--help``. ``import bionn`` never imports this package, so the library core needs none of the
experiment dependencies. ``bionn``, ``python -m bionn`` and ``python -m bionn.cli`` are the
same program.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import shlex
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "EXIT_USAGE", "build_parser", "error_exit", "main"]

EXIT_USAGE = 2  # bad input, as argparse exits

# command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("bionn.cli.train", "train a GAN, DDIM or classifier"),
    "sample": ("bionn.cli.sample", "sample images from a GAN or DDIM run"),
    "fid": ("bionn.cli.fid", "FID / KID / proxy distance between two image sets"),
    "compare": ("bionn.cli.compare", "standard vs bio-mimetic over seeds (the main job)"),
    "sweep": ("bionn.cli.sweep", "a grid of usage (radius, reduction) values times seeds"),
    "report": ("bionn.cli.report", "rewrite the report of a compare or sweep folder"),
    "mask": ("bionn.cli.mask", "draw a layer's connection window as a PNG"),
    "ablate": ("bionn.cli.ablate", "remove trained weights by pattern and evaluate"),
}


def example_epilog(doc: str | None) -> str:
    """The text after ``Example:`` / ``Examples:`` in a module docstring (the --help epilog)."""
    text = doc or ""
    for marker in ("Examples:", "Example:"):
        if marker in text:
            return marker + text.split(marker, 1)[1].rstrip()
    return ""


def command_parser(
    sub: argparse._SubParsersAction, name: str, help_text: str, doc: str | None
) -> argparse.ArgumentParser:
    """Add a sub-parser whose --help ends with the worked example of ``doc``."""
    return sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=example_epilog(doc),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )  # options by their full names only


def error_exit(command: str, error: object) -> int:
    """Print ``bionn COMMAND: error: MESSAGE`` to stderr and return :data:`EXIT_USAGE`."""
    print(f"bionn {command}: error: {error}", file=sys.stderr)
    return EXIT_USAGE


def _version() -> str:
    import bionn

    return f"bionn {bionn.__version__}"


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every command (commands whose imports fail say so when run)."""
    parser = argparse.ArgumentParser(
        prog="bionn",
        description="Experiments and tools of bionn, the bio-mimetic layer library.",
        allow_abbrev=False,
        epilog="Run 'bionn COMMAND --help' for a command's options and a worked example.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            command = sub.add_parser(
                name, help=help_text, description=help_text, allow_abbrev=False
            )
            command.set_defaults(_unavailable=f"bionn {name} is unavailable: {error}")
            continue
        command = command_parser(sub, name, help_text, module.__doc__)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    # what studies record in their reports, so that a reader can rerun them
    args.command_line = "bionn " + " ".join(shlex.quote(a) for a in argv)
    if getattr(args, "_unavailable", None):
        print(args._unavailable, file=sys.stderr)
        return EXIT_USAGE
    # library messages (bionn.*) go to stderr; progress bars stay intact around them
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("bionn")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        from tqdm.contrib.logging import logging_redirect_tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the experiments extra
        return int(args._run(args) or 0)
    try:
        with logging_redirect_tqdm(loggers=[logger]):
            return int(args._run(args) or 0)
    finally:
        logger.removeHandler(handler)
