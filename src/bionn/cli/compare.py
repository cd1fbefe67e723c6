r"""``bionn compare KIND``: standard vs bio-mimetic over seeds, evaluated, in one report.

Takes every ``bionn train KIND`` option (but --variant, --seed and --out, which it sets per
run); --usage, --radius and --reduction apply to the bio-mimetic runs only. Finished runs in
the runs folder are reused and interrupted ones resumed, so the command can be repeated.

Example:
    bionn compare gan --data digits --image-size 28 --width 32 --disc-width 16 --steps 300 \
        --seeds 3 --eval-samples 1000 --out reports/gan-digits
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bionn.cli import command_parser, error_exit
from bionn.cli.options import add_study_arguments, eval_settings, study_options
from bionn.cli.train import interrupted_exit
from bionn.experiments.config import KINDS

__all__ = ["add_arguments", "run"]

_BIO_ONLY = ("usage", "radius", "reduction")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One sub-parser per kind: train's options, seeds, evaluation, --out and --runs-dir."""
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind in KINDS:
        sub = command_parser(kinds, kind, f"compare standard vs bio-mimetic {kind} runs", __doc__)
        add_study_arguments(sub, kind, "report folder")
        sub.add_argument(
            "--runs-dir",
            default=None,
            metavar="DIR",
            help="run folders (default OUT/runs); finished runs there are reused",
        )


def run(args: argparse.Namespace) -> int:
    """Run the comparison; 2 with a message on bad input."""
    from bionn.experiments.compare import compare
    from bionn.experiments.study import check_jobs, parse_seeds

    try:
        options = study_options(args)
        bio = {k: options.pop(k) for k in _BIO_ONLY if k in options}
        report = compare(
            args.kind,
            options,
            parse_seeds(args.seeds),
            eval_settings(args, options.get("device", "auto")),
            Path(args.out),
            Path(args.runs_dir) if args.runs_dir else None,
            bio,
            args.command_line,
            jobs=check_jobs(args.jobs),
        )
    except (ValueError, RuntimeError, OSError) as error:  # user errors are ValueErrors
        return error_exit("compare", error)
    except KeyboardInterrupt:
        return interrupted_exit(f"every run checkpointed; the same command resumes in {args.out}")
    print(report.read_text())
    print(f"report written to {report.parent}")
    return 0
