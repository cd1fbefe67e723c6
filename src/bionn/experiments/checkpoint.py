"""Checkpoints: atomic save, validated load (``weights_only=True``), RNG states, models back.

A checkpoint is ``{model, optimizer, scaler, ema, step, config, rng_states, version}``: the
uncompiled model's ``state_dict``, a dict of optimiser states, the GradScaler state (or None),
the EMA model's ``state_dict`` (DDIM; else None), the optimiser step count, the resolved config
dict, the torch / CUDA / NumPy / Python RNG states and the bionn version. It is written to a
temporary file in the same folder, flushed and renamed, so a killed run never leaves half a file,
with the permissions of every other output (:func:`bionn.data.atomic_write`). With ``keep`` N,
each checkpoint is also kept as ``step-<step>.pt`` (a hard link to the same data), the newest N
of them. A finished run's weights also go to ``model.safetensors`` (the weights a sampler uses,
the config in its metadata), which :func:`load_checkpoint` reads as well.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn

import bionn
from bionn.data import atomic_write
from bionn.experiments.config import ConfigError, RunConfig, config_from_dict

__all__ = [
    "CHECKPOINT_KEYS",
    "CheckpointError",
    "LoadedModel",
    "get_rng_states",
    "load_checkpoint",
    "load_run",
    "read_checkpoint",
    "save_checkpoint",
    "save_model_file",
    "set_rng_states",
]

CHECKPOINT_KEYS = ("model", "optimizer", "scaler", "ema", "step", "config", "rng_states", "version")
LAST = "last.pt"
MODEL_FILE = "model.safetensors"


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or does not belong here; the message says why."""


def get_rng_states() -> dict[str, Any]:
    """torch, CUDA, NumPy and Python RNG states as ``weights_only``-loadable values."""
    # legacy=True (the default) gives the tuple; NumPy's stubs type the call as the dict
    state = cast("tuple[str, np.ndarray, int, int, float]", np.random.get_state())
    kind, keys, pos, has_gauss, cached = state
    version, internal, gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "python": [version, list(internal), gauss],
    }


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore what :func:`get_rng_states` returned."""
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))


def save_checkpoint(path: str | Path, payload: dict[str, Any], keep: int = 0) -> Path:
    """Write ``payload`` (all of :data:`CHECKPOINT_KEYS`) atomically to ``path``.

    Args:
        path: The checkpoint file (``checkpoints/last.pt`` of a run).
        payload: The checkpoint dict.
        keep: Also keep this checkpoint as ``step-<step>.pt`` beside ``path`` and delete all
            but the newest ``keep`` such milestones (0: no milestones).

    """
    missing = [key for key in CHECKPOINT_KEYS if key not in payload]
    if missing:
        raise ValueError(f"checkpoint payload lacks {missing}")
    path = atomic_write(path, lambda handle: torch.save(payload, handle), sync=True)
    if keep > 0:
        _keep_milestone(path, int(payload["step"]), keep)
    return path


def _keep_milestone(path: Path, step: int, keep: int) -> None:
    milestone = path.with_name(f"step-{step:09d}.pt")
    milestone.unlink(missing_ok=True)
    try:
        os.link(path, milestone)  # no copy: last.pt is replaced, never rewritten in place
    except OSError:  # a file system without hard links
        with path.open("rb") as source:
            atomic_write(milestone, lambda handle: shutil.copyfileobj(source, handle))
    for old in sorted(path.parent.glob("step-*.pt"))[:-keep]:
        old.unlink()


def save_model_file(
    path: str | Path, state: dict[str, torch.Tensor], config: dict[str, Any], step: int
) -> Path:
    """Write a model's ``state`` as safetensors, with its config and step in the metadata.

    Args:
        path: The file (``model.safetensors`` beside a run's ``config.json``).
        state: The weights to publish (DDIM: the EMA weights, which sampling uses).
        config: The run's config dict (with its kind), stored as JSON metadata.
        step: Optimiser steps the weights were trained for.

    """
    from safetensors.torch import save

    # safetensors refuses tensors sharing memory: give each entry its own contiguous copy
    tensors = {name: value.detach().cpu().contiguous().clone() for name, value in state.items()}
    metadata = {"config": json.dumps(config), "step": str(step), "bionn": bionn.__version__}
    data = save(tensors, metadata=metadata)
    return atomic_write(path, lambda handle: handle.write(data))


def _read_model_file(path: Path) -> dict[str, Any]:
    """A checkpoint-like dict (``model``, ``ema`` None, ``config``, ``step``) from safetensors."""
    from safetensors import safe_open

    try:
        with safe_open(path, framework="pt") as handle:
            metadata = handle.metadata() or {}
            state = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
        config = json.loads(metadata["config"])
        step = int(metadata["step"])
    except Exception as error:  # noqa: BLE001 - safetensors and json raise many types
        raise CheckpointError(f"{path} is not a bionn model file: {error}") from error
    return {"model": state, "ema": None, "config": config, "step": step}


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Return the checkpoint dict at ``path`` (a file, or a run folder: its last checkpoint).

    Raises:
        CheckpointError: Missing, unreadable, or not a bionn experiment checkpoint.

    """
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoints" / LAST
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many types for broken files
        raise CheckpointError(f"checkpoint {path} is corrupt or unreadable: {error}") from error
    if not isinstance(payload, dict) or any(key not in payload for key in CHECKPOINT_KEYS):
        raise CheckpointError(f"{path} is not a bionn experiment checkpoint (no {CHECKPOINT_KEYS})")
    return payload


def checkpoint_config(payload: dict[str, Any]) -> RunConfig:
    """Return the validated config stored in a checkpoint."""
    saved = dict(payload["config"])
    try:
        return config_from_dict(saved.pop("kind", ""), saved)
    except ConfigError as error:
        raise CheckpointError(f"the checkpoint's config is not valid here: {error}") from error


@dataclass
class LoadedModel:
    """A model rebuilt from a checkpoint, in eval mode.

    Attributes:
        model: GAN, DDIM (EMA weights when saved) or classifier.
        config: The run's resolved config.
        step: Optimiser steps it was trained for.
        path: The checkpoint file.

    """

    model: nn.Module
    config: RunConfig
    step: int
    path: Path


def load_checkpoint(
    path: str | Path,
    device: str | torch.device = "cpu",
    *,
    kind: str | None = None,
    variant: str | None = None,
    use_ema: bool = True,
) -> LoadedModel:
    """Rebuild the model saved at ``path`` (file or run folder), ready to sample or evaluate.

    Args:
        path: A checkpoint file, a run folder (its last checkpoint) or a finished run's
            ``model.safetensors``.
        device: Where to put the model.
        kind: If given, the checkpoint must be of this kind ('gan', 'ddim', 'classifier').
        variant: If given, the checkpoint must be of this variant.
        use_ema: Load the EMA weights when the checkpoint has them (DDIM sampling).

    Raises:
        CheckpointError: Missing, corrupt, or of another kind / variant.

    """
    from bionn.experiments.models import build_model

    is_model_file = Path(path).suffix == ".safetensors"
    payload = _read_model_file(Path(path)) if is_model_file else read_checkpoint(path)
    config = checkpoint_config(payload)
    for name, wanted, got in (("kind", kind, config.kind), ("variant", variant, config.variant)):
        if wanted is not None and wanted != got:
            raise CheckpointError(f"checkpoint {path} is a {got!r} {name}, not {wanted!r}")
    model = build_model(config)
    state = payload["ema"] if use_ema and payload["ema"] is not None else payload["model"]
    try:
        model.load_state_dict(state)
    except (RuntimeError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path} does not fit its model: {error}") from error
    file = Path(path) / "checkpoints" / LAST if Path(path).is_dir() else Path(path)
    return LoadedModel(model.to(device).eval(), config, int(payload["step"]), file)


def load_run(run_dir: str | Path, device: str | torch.device = "cpu") -> tuple[LoadedModel, dict]:
    """Return the model of a run folder and its ``summary.json`` (``{}`` if absent)."""
    loaded = load_checkpoint(run_dir, device)
    summary_path = Path(run_dir) / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    return loaded, summary


def version() -> str:
    """Return the version string stored in checkpoints."""
    return bionn.__version__
