r"""``bionn sweep KIND``: a grid of usage (or radius / reduction) values times seeds, resumable.

Takes every ``bionn train KIND`` option (but --variant, --seed and --out). Every value is
checked against the swept option's own range before anything runs (usage is a fraction: 0.35,
not 35). usage 1 and reduction 0 mean the standard (dense) model. The same command again skips
finished points; ``--shard i/n`` splits the grid across processes or machines sharing --out.

Example:
    bionn sweep classifier --data mnist --param reduction \
        --values 0,0.167,0.333,0.5,0.6,0.7,0.8,0.85,0.9,0.925 --seeds 3 --out sweeps/schizo
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bionn.cli import command_parser, error_exit
from bionn.cli.options import add_study_arguments, eval_settings, study_options
from bionn.cli.train import interrupted_exit
from bionn.experiments.config import KINDS

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One sub-parser per kind: train's options, the grid, seeds, evaluation and --out."""
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind in KINDS:
        sub = command_parser(kinds, kind, f"sweep {kind} runs over a grid of values", __doc__)
        add_study_arguments(sub, kind, "sweep folder (shared by all shards)")
        grid = sub.add_argument_group("grid options")
        grid.add_argument(
            "--param",
            choices=("usage", "radius", "reduction"),
            default="usage",
            help="the option the grid varies (default: usage)",
        )
        grid.add_argument(
            "--values",
            required=True,
            help="comma list, e.g. 0.2,0.35,0.5,1 (usage 1 / reduction 0: the standard model)",
        )
        grid.add_argument(
            "--shard", default="0/1", help="i/n: run every n-th point from i (default: 0/1)"
        )


def run(args: argparse.Namespace) -> int:
    """Run the shard, then aggregate what is finished; 2 with a message on bad input."""
    from bionn.experiments.report import write_sweep_report
    from bionn.experiments.study import check_jobs, parse_seeds
    from bionn.experiments.sweep import parse_shard, parse_values, sweep

    out = Path(args.out)
    try:
        options = study_options(args)
        done = sweep(
            args.kind,
            options,
            args.param,
            parse_values(args.values),
            parse_seeds(args.seeds),
            eval_settings(args, options.get("device", "auto")),
            out,
            parse_shard(args.shard),
            jobs=check_jobs(args.jobs),
            command=args.command_line,
        )
        report = write_sweep_report(out)
    except (ValueError, RuntimeError, OSError) as error:  # user errors are ValueErrors
        return error_exit("sweep", error)
    except KeyboardInterrupt:
        scored = len(list((out / "results").glob("*.json")))
        return interrupted_exit(
            f"every run checkpointed; the same command resumes in {out}; "
            f"`bionn report {out}` reports the {scored} point(s) scored"
        )
    print(report.read_text())
    print(f"{done} point(s) run by this shard; report written to {report.parent}")
    return 0
