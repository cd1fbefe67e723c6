r"""``bionn compare KIND``: standard vs bio-mimetic variant over seeds, evaluated, in one report.

For each seed both variants are trained (or a finished run in the runs folder is picked up, an
interrupted one resumed), scored (:mod:`bionn.experiments.evaluation`) and summarised by
:func:`~bionn.experiments.report.write_compare_report`: Markdown + JSON with parameters, %usage,
the metric's mean, sd and per-run values, Welch's t-test, runs that did not converge listed
apart, and figures (points per run, loss curves, sample grids side by side).

Example:
    bionn compare gan --data digits --image-size 28 --width 32 --steps 300 --seeds 3 \
        --n-samples 1000 --out reports/gan-digits

"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from bionn.experiments.evaluation import EvalSettings
from bionn.experiments.study import (
    add_study_arguments,
    base_overrides,
    bio_variant,
    ensure_run,
    eval_settings,
    parse_seeds,
)

__all__ = ["add_arguments", "compare", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bionn compare`` options."""
    add_study_arguments(parser)
    parser.add_argument("--out", required=True, help="report folder")
    parser.add_argument("--runs-dir", default=None, help="run folders (default OUT/runs); "
                        "finished runs there are reused")  # fmt: skip
    parser.add_argument("--usage", type=float, default=None,
                        help="fraction of weights the bio-mimetic layers keep")
    parser.add_argument("--radius", type=float, default=None, help="mouse radius")
    parser.add_argument("--reduction", type=float, default=None, help="schizo param_reduction")


def compare(kind: str, overrides: dict[str, Any], seeds: list[int], settings: EvalSettings,
            out: Path, runs_dir: Path | None = None, bio: dict[str, Any] | None = None,
            command: str = "", log: Any = print) -> Path:  # fmt: skip
    """Train, evaluate and report standard vs bio-mimetic runs; returns ``report.md``.

    Args:
        kind: 'gan', 'ddim' or 'classifier'.
        overrides: Training options shared by all runs (see ``make_config``).
        seeds: One run per variant and seed.
        settings: How generated images are scored.
        out: The report folder.
        runs_dir: Where runs live (default ``out / "runs"``).
        bio: Options of the bio-mimetic variant only (usage / radius / reduction).
        command: The command line, recorded in the report.
        log: Progress printer.

    """
    from bionn.experiments import make_config
    from bionn.experiments.evaluation import evaluate_run
    from bionn.experiments.report import write_compare_report

    runs_dir = runs_dir or out / "runs"
    variants = {"standard": {}, bio_variant(kind, overrides.get("model")): dict(bio or {})}
    configs = {v: [make_config(kind, **overrides, **extra, variant=v, seed=s,
                               out=str(runs_dir / f"{v}-s{s}")) for s in seeds]
               for v, extra in variants.items()}  # every config checked before any training
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for i, seed in enumerate(seeds):
        for variant in variants:
            config = configs[variant][i]
            started = time.perf_counter()
            ensure_run(config)
            scores = evaluate_run(config.run_dir(), settings)
            runs[variant].append(scores)
            log(f"{variant} seed {seed}: {scores['metric']} {scores['value']:.4g} "
                f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
    first = configs["standard"][0]
    meta = {"title": f"{kind} {first.model} on {first.data}: standard vs "
                     f"{list(variants)[1]}",  # fmt: skip
            "description": f"{len(seeds)} seeds per variant; image size {first.image_size}, "
                           f"width {first.width}, "
                           + (f"{first.steps} steps" if first.steps else f"{first.epochs} epochs")
                           + f" of batch {first.batch_size}.",  # fmt: skip
            "command": command, "kind": kind, "model": first.model, "data": first.data,
            "seeds": seeds, "training": overrides, "bio_options": bio or {},
            "evaluation": settings.__dict__}  # fmt: skip
    return write_compare_report(out, meta, runs)


def run(args: argparse.Namespace) -> int:
    """Run the comparison; 2 with a message on bad input."""
    bio = {k: getattr(args, k) for k in ("usage", "radius", "reduction")
           if getattr(args, k) is not None}  # fmt: skip
    command = "bionn compare " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        report = compare(args.kind, base_overrides(args), parse_seeds(args.seeds),
                         eval_settings(args), Path(args.out),
                         Path(args.runs_dir) if args.runs_dir else None, bio, command)
    except (ValueError, RuntimeError, OSError) as error:  # user errors are ValueErrors
        print(f"bionn compare: {error}", file=sys.stderr)
        return 2
    print(report.read_text())
    print(f"report written to {report.parent}")
    return 0
