"""Run-folder rules: a new run needs an empty, writable folder; a resumed run keeps its config."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from bionn.experiments.checkpoint import CheckpointError
from bionn.experiments.config import RunConfig, config_from_dict

__all__ = ["RESUMABLE_OPTIONS", "RunError", "check_new_run_dir", "merge_resumed_config"]

# options a resumed run may change: they do not alter what the weights mean
RESUMABLE_OPTIONS = frozenset(
    {
        "steps",
        "epochs",
        "device",
        "workers",
        "checkpoint_every",
        "sample_every",
        "log_every",
        "progress",
        "compile",
        "out",
        "n_samples",
        "data_root",
        "cache_dir",
        "download",
        "keep",
        "log",
        "micro_batch",
    }
)


class RunError(ValueError):
    """The run folder cannot be used; the message says why."""


def check_new_run_dir(run_dir: Path) -> None:
    """Check that a new run's folder is absent or empty, and writable."""
    if run_dir.exists():
        if not run_dir.is_dir():
            raise RunError(f"--out {run_dir} exists and is not a folder")
        if any(run_dir.iterdir()):
            raise RunError(
                f"--out {run_dir} already holds files; pass --resume to continue that "
                "run or choose another --out"
            )
    existing = run_dir
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise RunError(f"--out {run_dir}: cannot write to {existing.resolve()}")


def merge_resumed_config(
    saved: dict[str, Any], config: RunConfig, given: set[str] | None
) -> RunConfig:
    """Return the saved config, with the resumable options of ``config`` applied.

    Raises:
        CheckpointError: The checkpoint is of another kind, or ``config`` sets an option that
            would change the run (model, variant, usage, sizes, ...) to another value.

    """
    saved = dict(saved)
    kind = saved.pop("kind", None)
    if kind != config.kind:
        raise CheckpointError(
            f"the checkpoint in {config.run_dir()} is a {kind!r} run, not {config.kind!r}"
        )
    names = {f.name for f in dataclasses.fields(config)}
    asked = names if given is None else given & names
    conflicts = [
        f"{name}: checkpoint {saved.get(name)!r}, asked {getattr(config, name)!r}"
        for name in sorted(asked - RESUMABLE_OPTIONS)
        if name in saved
        and getattr(config, name) is not None
        and saved[name] != getattr(config, name)
    ]
    if conflicts:
        raise CheckpointError(
            f"the checkpoint in {config.run_dir()} is from another configuration ("
            + "; ".join(conflicts)
            + "); resume without those options or use another --out"
        )
    saved.update({name: getattr(config, name) for name in asked & RESUMABLE_OPTIONS})
    return config_from_dict(kind, saved)
