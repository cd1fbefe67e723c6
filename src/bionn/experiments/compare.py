"""Standard vs bio-mimetic variant over seeds, evaluated, in one report (``bionn compare``).

For each seed both variants are trained (or a finished run in the runs folder is picked up, an
interrupted one resumed), scored as soon as it is trained (:mod:`bionn.experiments.evaluation`;
the report is rewritten after each, so a study stopped early reports its finished runs) and
summarised by
:func:`~bionn.experiments.report.write_compare_report`: Markdown + JSON with parameters, %usage,
the metric's mean, sd and per-run values, Welch's t-test, runs that did not converge listed
apart, and figures (points per run, loss curves, sample grids side by side).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bionn.experiments.evaluation import EvalSettings
from bionn.experiments.results import RunScores
from bionn.experiments.study import bio_variant, progress_bar, train_runs

__all__ = ["compare"]

logger = logging.getLogger(__name__)


def compare(
    kind: str,
    overrides: dict[str, Any],
    seeds: list[int],
    settings: EvalSettings,
    out: Path,
    runs_dir: Path | None = None,
    bio: dict[str, Any] | None = None,
    command: str = "",
    log: Callable[[str], None] | None = None,
    jobs: int = 1,
) -> Path:
    """Train, evaluate and report standard vs bio-mimetic runs; returns ``report.md``.

    Every run's config is built (and so checked) before the first one trains.

    Args:
        kind: 'gan', 'ddim' or 'classifier'.
        overrides: Training options shared by all runs (fields of the kind's config; ``progress``
            switches the overall bar, the runs' own bars stay off).
        seeds: One run per variant and seed.
        settings: How generated images are scored.
        out: The report folder.
        runs_dir: Where runs live (default ``out / "runs"``).
        bio: Options of the bio-mimetic variant only (usage / radius / reduction).
        command: The command line, recorded in the report.
        log: Called with one line per finished run (default: the ``bionn`` logger).
        jobs: Runs trained at once, each in its own process (:func:`train_runs`).

    """
    from bionn.experiments import make_config
    from bionn.experiments.evaluation import evaluate_run
    from bionn.experiments.report import write_compare_report

    log = log or logger.info
    runs_dir = runs_dir or out / "runs"
    shared = {**overrides, "progress": False}
    variants = {"standard": {}, bio_variant(kind, overrides.get("model")): dict(bio or {})}
    configs = {
        v: [
            make_config(kind, **shared, **extra, variant=v, seed=s, out=str(runs_dir / f"{v}-s{s}"))
            for s in seeds
        ]
        for v, extra in variants.items()
    }
    runs: dict[str, list[RunScores]] = {v: [] for v in variants}
    ordered = [
        (seed, variant, configs[variant][i]) for i, seed in enumerate(seeds) for variant in variants
    ]
    first = configs["standard"][0]
    length = f"{first.steps} steps" if first.steps else f"{first.epochs} epochs"
    meta = {
        "title": f"{kind} {first.model} on {first.data}: standard vs {list(variants)[1]}",
        "command": command,
        "kind": kind,
        "model": first.model,
        "data": first.data,
        "seeds": seeds,
        "training": overrides,
        "bio_options": bio or {},
        "evaluation": settings.__dict__,
    }

    def write_report() -> Path:
        scored = sum(map(len, runs.values()))
        done = (
            ""
            if scored == len(ordered)
            else f" ({scored} of {len(ordered)} runs trained and scored so far)"
        )
        description = (
            f"{len(seeds)} seeds per variant{done}; image size {first.image_size}, "
            f"width {first.width}, {length} of batch {first.batch_size}."
        )
        return write_compare_report(out, {**meta, "description": description}, runs)

    with progress_bar(len(ordered), f"compare {kind}", overrides.get("progress", True)) as bar:
        bar.set_postfix_str(f"training, {jobs} at a time")

        def score(config: Any) -> None:  # as soon as it is trained: a stopped study keeps it
            started = time.perf_counter()
            scores = RunScores.from_dict(evaluate_run(config.run_dir(), settings))
            runs[config.variant].append(scores)
            bar.update(1)
            log(
                f"{config.variant} seed {config.seed}: {scores.metric} {scores.value:.4g} "
                f"(scored in {time.perf_counter() - started:.0f} s)"
            )
            if all(runs.values()):  # both variants scored at least once: a report exists
                write_report()

        train_runs([config for *_, config in ordered], jobs, score)
    return write_report()
