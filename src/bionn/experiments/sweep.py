"""A grid of usage (or radius / reduction) values times seeds, resumable (``bionn sweep``).

A sweep reproduces the papers' figures and can be split across processes or machines.

The sweep folder holds ``sweep.json`` (the configuration), ``runs/<point>/`` (training runs) and
``results/<point>.json`` (one evaluated result per grid point, written atomically when the
point is done). Running the same command again skips finished points and resumes interrupted
runs; ``shard=(i, n)`` takes every n-th point starting at i, so n processes or machines sharing
the folder split the grid. A folder written by a different configuration is refused.
:func:`~bionn.experiments.report.write_sweep_report` aggregates whatever results exist.

Values: ``usage`` 1 and ``reduction`` 0 mean the standard (dense) variant, the papers'
baseline; other values use the bio-mimetic variant with that option. Every value is checked
against the swept option's own range before anything is written or trained.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bionn.experiments.config import ConfigError, RunConfig
from bionn.experiments.evaluation import EvalSettings
from bionn.experiments.results import RunScores
from bionn.experiments.study import StudyError, bio_variant, progress_bar, train_runs

__all__ = ["PARAMS", "grid", "parse_shard", "parse_values", "point_configs", "sweep"]

logger = logging.getLogger(__name__)

PARAMS = ("usage", "radius", "reduction")


def parse_shard(text: str) -> tuple[int, int]:
    """``"1/4"`` -> (1, 4), checked."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError as error:
        raise StudyError(f"--shard must be i/n, e.g. 0/2; got {text!r}") from error
    if not 0 <= index < count:
        raise StudyError(f"--shard i/n needs 0 <= i < n; got {text!r}")
    return index, count


def parse_values(text: str) -> list[float]:
    """``"0.2,0.35,1"`` -> [0.2, 0.35, 1.0], checked (numbers, at least one, no repeats)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as error:
        raise StudyError(f"--values must be numbers separated by commas, got {text!r}") from error
    if not values:
        raise StudyError("--values is empty")
    if len(set(values)) != len(values):
        raise StudyError(f"--values repeats a value: {text!r}")
    return values


def _variant_options(kind: str, model: str | None, param: str, value: float) -> dict[str, Any]:
    standard = (param == "usage" and value == 1.0) or (param == "reduction" and value == 0.0)
    if standard:
        return {"variant": "standard"}
    return {"variant": bio_variant(kind, model), param: value}


def point_configs(
    kind: str,
    overrides: dict[str, Any],
    param: str,
    values: list[float],
    seeds: list[int],
    out: Path,
) -> dict[tuple[float, int], RunConfig]:
    """The config of every grid point; each value is checked by the swept option's own rules.

    Raises:
        StudyError: ``param`` is unknown or also given as a fixed option, or a value is out of
            the option's range (the message names ``--values`` and the allowed values).

    """
    from bionn.experiments import make_config

    if param not in PARAMS:
        raise StudyError(f"--param must be one of {', '.join(PARAMS)}, got {param!r}")
    if param in overrides:
        raise StudyError(f"--{param} is the swept option: give its values with --values only")
    bio = bio_variant(kind, overrides.get("model"))
    if (param, bio) in (("radius", "schizo"), ("reduction", "mouse")):
        raise StudyError(
            f"--param {param} does not apply to the {bio} variant of this model; "
            f"sweep usage or {'radius' if bio == 'mouse' else 'reduction'}"
        )
    configs = {}
    for value, seed in grid(values, seeds):
        options = _variant_options(kind, overrides.get("model"), param, value)
        try:
            configs[(value, seed)] = make_config(
                kind,
                **overrides,
                **options,
                seed=seed,
                out=str(out / "runs" / f"{param}-{value:g}-s{seed}"),
            )
        except ConfigError as error:
            bad = [e for e in error.errors if e.startswith(f"--{param} ")]
            if bad:
                raise StudyError(
                    f"--values: {value:g} is not a valid {param}: {bad[0]}. Nothing was run."
                ) from error
            raise
    return configs


def grid(values: list[float], seeds: list[int]) -> list[tuple[float, int]]:
    """Return the points in their fixed order (value-major), which shards index into."""
    return [(value, seed) for value in values for seed in seeds]


def _claim_folder(out: Path, spec: dict[str, Any]) -> None:
    """Write ``sweep.json`` or check that the folder's is the same configuration."""
    path = out / "sweep.json"
    if not path.is_file():
        # another shard may be writing its sweep.json.tmp* right now: that is no foreign file
        foreign = (
            [p for p in out.iterdir() if not p.name.startswith("sweep.json")]
            if out.is_dir()
            else []
        )
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
        raise StudyError(
            f"{out} holds a sweep of another configuration (differs in "
            f"{', '.join(differ)}); nothing was changed. Use another --out "
            f"or repeat the original command."
        )


def _record_command(out: Path, command: str) -> None:
    """Append ``command`` to ``out/commands.txt`` unless it is there already."""
    path = out / "commands.txt"
    known = path.read_text().splitlines() if path.is_file() else []
    if command and command not in known:
        with path.open("a") as file:  # one short line: shards appending at once stay whole
            file.write(command + "\n")


def sweep(
    kind: str,
    overrides: dict[str, Any],
    param: str,
    values: list[float],
    seeds: list[int],
    settings: EvalSettings,
    out: Path,
    shard: tuple[int, int] = (0, 1),
    log: Callable[[str], None] | None = None,
    jobs: int = 1,
    command: str = "",
) -> int:
    """Run this shard's unfinished points, seed by seed; returns how many it evaluated.

    Each point is scored as soon as it is trained, so a sweep stopped early keeps the scores
    of its finished points and ``bionn report`` shows them.

    Args:
        kind: 'gan', 'ddim' or 'classifier'.
        overrides: Training options shared by all points (``progress`` switches the overall
            bar; the runs' own bars stay off).
        param: The swept option: 'usage', 'radius' or 'reduction'.
        values: Its values (usage 1 / reduction 0: the standard variant).
        seeds: Runs per value.
        settings: How generated images are scored.
        out: The sweep folder (shared by all shards).
        shard: ``(i, n)``: run every n-th point from i.
        log: Called with one line per finished point (default: the ``bionn`` logger).
        jobs: Runs trained at once, each in its own process (``train_runs``).
        command: The command line, added to the folder's ``commands.txt`` (shards and reruns
            each add theirs once); the report lists them.

    Raises:
        StudyError: A bad value, shard or folder; nothing is written or trained then.

    """
    from bionn.experiments.evaluation import evaluate_run

    log = log or logger.info
    configs = point_configs(kind, {**overrides, "progress": False}, param, values, seeds, out)
    base = {k: v for k, v in overrides.items() if k != "progress"}  # shards may differ in that
    spec = {
        "kind": kind,
        "param": param,
        "values": values,
        "seeds": seeds,
        "base": base,
        "evaluation": {
            k: v for k, v in settings.__dict__.items() if k not in ("device", "cache_dir")
        },
    }
    _claim_folder(out, spec)
    _record_command(out, command)
    (out / "results").mkdir(exist_ok=True)
    index, count = shard
    todo = [
        (value, seed)
        for i, (value, seed) in enumerate(grid(values, seeds))
        if i % count == index
        and not (out / "results" / f"{param}-{value:g}-s{seed}.json").is_file()
    ]
    todo.sort(key=lambda point: seeds.index(point[1]))  # seed by seed: stopped early, every
    # value has as many seeds as the others, give or take one
    point_of = {configs[point].out: point for point in todo}

    def score(config: RunConfig) -> None:  # as soon as it is trained: a stopped sweep keeps it
        value, seed = point_of[config.out]
        bar.update(1)
        bar.set_postfix_str(f"scoring {param} {value:g} seed {seed}")
        scores = RunScores.from_dict(
            {**evaluate_run(config.run_dir(), settings), "grid_value": value}
        )
        result_path = out / "results" / f"{param}-{value:g}-s{seed}.json"
        tmp = result_path.with_name(result_path.name + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(scores.to_dict(), indent=2))
        os.replace(tmp, result_path)
        bar.update(1)
        bar.set_postfix_str(f"training, {jobs} at a time")
        log(f"{param} {value:g} seed {seed}: {scores.metric} {scores.value:.4g}")

    with progress_bar(2 * len(todo), f"sweep {param}", overrides.get("progress", True)) as bar:
        bar.set_postfix_str(f"training, {jobs} at a time")
        train_runs([configs[point] for point in todo], jobs, score)
    return len(todo)
