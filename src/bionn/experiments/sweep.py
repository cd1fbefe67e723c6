r"""``bionn sweep``: a grid of usage (or radius / reduction) values times seeds, resumable.

A sweep reproduces the papers' figures and can be split across processes or machines.

The sweep folder holds ``sweep.json`` (the configuration), ``runs/<point>/`` (training runs) and
``results/<point>.json`` (one evaluated result per grid point, written atomically when the
point is done). Running the same command again skips finished points and resumes interrupted
runs; ``--shard i/n`` takes every n-th point starting at i, so n processes or machines sharing
the folder split the grid. A folder written by a different configuration is refused.
``bionn report`` aggregates whatever results exist.

Values: ``usage`` 1.0 and ``reduction`` 0 mean the standard (dense) variant, the papers'
baseline; other values use the bio-mimetic variant with that option.

Example:
    bionn sweep classifier --data mnist --param reduction \
        --values 0,0.167,0.333,0.5,0.6,0.7,0.8,0.85,0.9,0.925 --seeds 3 --out sweeps/schizo

"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from bionn.experiments.evaluation import EvalSettings
from bionn.experiments.study import (
    StudyError,
    add_study_arguments,
    base_overrides,
    bio_variant,
    ensure_run,
    eval_settings,
    parse_seeds,
)

__all__ = ["add_arguments", "grid", "parse_shard", "run", "sweep"]

PARAMS = ("usage", "radius", "reduction")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bionn sweep`` options."""
    add_study_arguments(parser)
    parser.add_argument("--param", choices=PARAMS, default="usage", help="what the grid varies")
    parser.add_argument("--values", required=True,
                        help="comma list, e.g. 0.2,0.35,0.5,1 (usage 1 / reduction 0: standard)")
    parser.add_argument("--out", required=True, help="sweep folder (shared by all shards)")
    parser.add_argument("--shard", default="0/1", help="i/n: run every n-th point from i")


def parse_shard(text: str) -> tuple[int, int]:
    """``"1/4"`` -> (1, 4), checked."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError as error:
        raise StudyError(f"--shard must be i/n, e.g. 0/2; got {text!r}") from error
    if not 0 <= index < count:
        raise StudyError(f"--shard i/n needs 0 <= i < n; got {text!r}")
    return index, count


def _variant_options(kind: str, model: str | None, param: str, value: float) -> dict[str, Any]:
    standard = (param == "usage" and value >= 1.0) or (param == "reduction" and value == 0.0)
    if standard:
        return {"variant": "standard"}
    return {"variant": bio_variant(kind, model), param: value}


def grid(values: list[float], seeds: list[int]) -> list[tuple[float, int]]:
    """Return the points in their fixed order (value-major), which shards index into."""
    return [(value, seed) for value in values for seed in seeds]


def _claim_folder(out: Path, spec: dict[str, Any]) -> None:
    """Write ``sweep.json`` or check that the folder's is the same configuration."""
    path = out / "sweep.json"
    if not path.is_file():
        # another shard may be writing its sweep.json.tmp* right now: that is no foreign file
        foreign = [p for p in out.iterdir() if not p.name.startswith("sweep.json")] \
            if out.is_dir() else []
        if foreign:
            raise StudyError(f"{out} is not empty and holds no sweep.json; use another --out")
        out.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"sweep.json.tmp{os.getpid()}")
        tmp.write_text(json.dumps(spec, indent=2, sort_keys=True))
        try:  # shards starting at once: the first link wins, the others compare below
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    saved = json.loads(path.read_text())
    if saved != spec:
        differ = sorted(k for k in set(saved) | set(spec) if saved.get(k) != spec.get(k))
        raise StudyError(f"{out} holds a sweep of another configuration (differs in "
                         f"{', '.join(differ)}); nothing was changed. Use another --out "
                         f"or repeat the original command.")  # fmt: skip


def sweep(kind: str, overrides: dict[str, Any], param: str, values: list[float],
          seeds: list[int], settings: EvalSettings, out: Path, shard: tuple[int, int] = (0, 1),
          log: Any = print) -> int:  # fmt: skip
    """Run this shard's unfinished points; returns how many it evaluated."""
    from bionn.experiments import make_config
    from bionn.experiments.evaluation import evaluate_run

    if param not in PARAMS:
        raise StudyError(f"--param must be one of {PARAMS}, got {param!r}")
    if not values:
        raise StudyError("--values is empty")
    spec = {"kind": kind, "param": param, "values": values, "seeds": seeds, "base": overrides,
            "evaluation": {k: v for k, v in settings.__dict__.items()
                           if k not in ("device", "cache_dir")}}  # fmt: skip
    configs = {
        (value, seed): make_config(kind, **overrides, seed=seed,
                                   **_variant_options(kind, overrides.get("model"), param, value),
                                   out=str(out / "runs" / f"{param}-{value:g}-s{seed}"))
        for value, seed in grid(values, seeds)
    }  # every point checked before the folder is touched
    _claim_folder(out, spec)
    (out / "results").mkdir(exist_ok=True)
    index, count = shard
    done = 0
    for i, (value, seed) in enumerate(grid(values, seeds)):
        result_path = out / "results" / f"{param}-{value:g}-s{seed}.json"
        if i % count != index or result_path.is_file():
            continue
        config = configs[(value, seed)]
        ensure_run(config)
        scores = {**evaluate_run(config.run_dir(), settings), "grid_value": value}
        tmp = result_path.with_name(result_path.name + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(scores, indent=2))
        os.replace(tmp, result_path)
        done += 1
        log(f"{param} {value:g} seed {seed}: {scores['metric']} {scores['value']:.4g}")
    return done


def run(args: argparse.Namespace) -> int:
    """Run the shard, then aggregate what is finished; 2 with a message on bad input."""
    from bionn.experiments.report import write_sweep_report

    try:
        values = [float(v) for v in args.values.split(",") if v.strip()]
    except ValueError:
        print(f"bionn sweep: --values must be numbers separated by commas, got {args.values!r}",
              file=sys.stderr)  # fmt: skip
        return 2
    out = Path(args.out)
    try:
        done = sweep(args.kind, base_overrides(args), args.param, values,
                     parse_seeds(args.seeds), eval_settings(args), out, parse_shard(args.shard))
        report = write_sweep_report(out)
    except (ValueError, RuntimeError, OSError) as error:  # user errors are ValueErrors
        print(f"bionn sweep: {error}", file=sys.stderr)
        return 2
    print(report.read_text())
    print(f"{done} point(s) run by this shard; report written to {report.parent}")
    return 0
