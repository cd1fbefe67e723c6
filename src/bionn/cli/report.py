"""``bionn report FOLDER``: rewrite the report of a ``compare`` or ``sweep`` folder.

A sweep's report aggregates whatever points are finished (shards may still be running); a
compare folder's report is rebuilt from its saved results. A folder holding several of them
(``reports/demo``) gets each one rewritten.

Examples:
    bionn report sweeps/cat
    bionn report reports/demo/gan --out reports/gan-again
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bionn.cli import error_exit

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bionn report`` options."""
    parser.add_argument("folder", help="a folder written by bionn compare or bionn sweep")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="report folder (default: the compare folder itself, SWEEP/report)")


def run(args: argparse.Namespace) -> int:
    """Write the reports; 2 with a message when there is nothing to report."""
    from bionn.experiments.report import rewrite_report

    try:
        paths = rewrite_report(Path(args.folder), Path(args.out) if args.out else None)
    except ValueError as error:
        return error_exit("report", error)
    for path in paths:
        print(path.read_text())
        print(f"report written to {path.parent}")
    return 0
