"""Compact checkpoints: store only the weights a window keeps, rebuild the rest on loading.

A windowed layer's window is a deterministic function of its configuration (form, radius,
grids, reduction, seed; see docs/spec.md), so the file holds that configuration in the safetensors
metadata instead of the mask, and for binary forms only ``weight[window]``: a mouse layer at
35 % usage costs about 35 % of its plain size. 'gaussian' windows keep every weight, so their
full weight is stored. Every other parameter and buffer is stored as ``state_dict`` has it.

Binary windows store ``weight[window]``, so the masked-out entries of ``weight`` (zero after the
windowed initialisation, and never touched by gradients) come back as zeros; the model's output
is the same bit for bit. (Windows: Saiga et al. 2025, Sci. Rep. 15:25091; Mizutani et al. 2022,
Front. Neurorobot. 16:851471.)

Needs the ``safetensors`` package (``pip install bionn[experiments]`` or ``pip install
safetensors``); ``import bionn`` does not import it.

Example:
    >>> import tempfile, torch, bionn
    >>> model = torch.nn.Sequential(bionn.MouseLinear(256, 256, usage=0.35))
    >>> path = tempfile.mkdtemp() + "/model.safetensors"
    >>> bionn.save_compact(model, path)
    >>> bionn.load_compact(path, model)

"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from typing import Any

import torch
from torch import Tensor, nn

from bionn.layers import WindowedLayer

__all__ = ["FORMAT_VERSION", "load_compact", "save_compact"]

FORMAT_VERSION = "2"  # 2: the checksum covers the metadata and tensor headers too
_ACTIVE = "weight_active"  # key suffix of a packed weight[window]
_SPEC_FIELDS = ("form", "radius", "x_width", "y_width", "reduction", "halfbandwidth", "seed")


def save_compact(model: nn.Module, path: str | os.PathLike[str]) -> None:
    """Write ``model``'s state to a safetensors file, windowed layers packed.

    Args:
        model: Any module; its windowed layers are stored as their active weights plus window
            configuration, everything else as in ``state_dict``.
        path: Destination file (conventionally ``*.safetensors``).

    Raises:
        ValueError: A frozen 'gaussian' layer, whose weight holds the window already (save it
            before freezing), or a windowed layer under a parametrization.

    """
    state = model.state_dict()
    layers: dict[str, dict[str, Any]] = {}
    packed_by_id: dict[tuple[int, int], Tensor] = {}
    for prefix, layer in _windowed_layers(model).items():
        if layer.frozen and not layer.is_binary:
            raise ValueError(
                f"layer {prefix[:-1]!r} is a frozen 'gaussian' layer: its weight "
                "holds the window already; save it before freeze()"
            )
        if prefix + "weight" not in state:
            raise ValueError(
                f"layer {prefix[:-1]!r} has a parametrized weight (spectral_norm?); "
                "save_compact stores plain windowed weights only: use torch.save(state_dict)"
            )
        layers[prefix] = _layer_config(layer)
        del state[prefix + "window"], state[prefix + "weight"]
        identity = (id(layer.weight), id(layer.window))  # tied layers: one weight, one window
        if identity not in packed_by_id:
            weight = layer.weight.detach()  # 'gaussian': the raw weight; forward re-multiplies
            packed_by_id[identity] = weight[layer.expanded_window()] if layer.is_binary else weight
        state[prefix + (_ACTIVE if layer.is_binary else "weight")] = packed_by_id[identity]
    tensors, aliases = _deduplicate(state)
    metadata = {
        "bionn.compact": FORMAT_VERSION,
        "bionn.layers": json.dumps(layers),
        "bionn.aliases": json.dumps(aliases),
        # module versions (state_dict's _metadata): some modules' loading reads them (MNASNet)
        "bionn.versions": json.dumps(
            {key: value.get("version") for key, value in getattr(state, "_metadata", {}).items()}
        ),
    }
    metadata["bionn.sha256"] = _digest(tensors, metadata)
    from safetensors.torch import save_file  # lazy: safetensors is needed only here

    save_file(tensors, os.fspath(path), metadata=metadata)


def load_compact(path: str | os.PathLike[str], model: nn.Module) -> None:
    """Load a :func:`save_compact` file into ``model`` (built with the same layer arguments).

    Args:
        path: The file.
        model: A model of the saved architecture and window configuration; loaded in place.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is a directory or not a bionn compact file; the file is truncated,
            corrupt, edited (its metadata is under the checksum too) or malformed; or it comes
            from a model with other layers or another window configuration. The message names
            the file and the problem.

    """
    tensors, saved_layers, aliases, versions = _read(path)
    model_layers = _windowed_layers(model)
    for prefix in saved_layers.keys() ^ model_layers.keys():
        where = "the model has no windowed" if prefix in saved_layers else "the file has no"
        raise ValueError(
            f"{path}: {where} layer {prefix[:-1]!r}; the file comes from another "
            "model (or the model was converted differently)"
        )
    for alias, original in aliases.items():
        tensors[alias] = tensors[original]
    for prefix, layer in model_layers.items():
        _check_config(path, prefix, saved_layers[prefix], layer)
        tensors[prefix + "weight"] = _unpack(path, prefix, tensors, layer)
        tensors[prefix + "window"] = layer.window
    try:
        state = OrderedDict(tensors)
        # load_state_dict reads the versions from this attribute, which OrderedDict does not declare
        state._metadata = {key: {"version": v} for key, v in versions.items()}  # type: ignore[attr-defined]
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ValueError(
            f"{path} does not fit this model (another architecture?): {error}"
        ) from None
    except ValueError as error:  # a windowed layer refusing the window it is given
        raise ValueError(f"{path} does not fit this model: {error}") from None


def _windowed_layers(model: nn.Module) -> dict[str, WindowedLayer]:
    """Windowed layers by ``state_dict`` prefix, shared ones under every name they have."""
    return {
        f"{name}." if name else "": module
        for name, module in model.named_modules(remove_duplicate=False)
        if isinstance(module, WindowedLayer)
    }


def _layer_config(layer: WindowedLayer) -> dict[str, Any]:
    spec = layer.window_spec
    config = {field: getattr(spec, field) for field in _SPEC_FIELDS}
    return {**config, "class": type(layer).__name__, "shape": list(layer.weight.shape)}


def _check_config(path: object, prefix: str, saved: dict[str, Any], layer: WindowedLayer) -> None:
    ours = _layer_config(layer)
    differing = [k for k in (*_SPEC_FIELDS, "shape") if saved.get(k) != ours[k]]
    if differing:
        theirs = ", ".join(f"{k}={saved.get(k)!r}" for k in differing)
        mine = ", ".join(f"{k}={ours[k]!r}" for k in differing)
        raise ValueError(
            f"{path}: layer {prefix[:-1]!r} was saved with another window "
            f"configuration ({theirs}) than the model's ({mine}); build the model "
            "with the saved layer arguments"
        )


def _unpack(path: object, prefix: str, tensors: dict[str, Tensor], layer: WindowedLayer) -> Tensor:
    if not layer.is_binary:
        return tensors[prefix + "weight"]
    active = tensors.pop(prefix + _ACTIVE, None)
    window = layer.expanded_window().cpu()
    if active is None or active.dim() != 1 or active.numel() != int(window.count_nonzero()):
        size = "no" if active is None else active.numel()
        raise ValueError(
            f"{path}: layer {prefix[:-1]!r} holds {size} active weights "
            f"but its window keeps {int(window.count_nonzero())}"
        )
    weight = torch.zeros(window.shape, dtype=active.dtype)
    weight[window] = active
    return weight


def _deduplicate(state: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, str]]:
    """Store a tensor shared by several keys (shared modules, tied weights) once."""
    tensors: dict[str, Tensor] = {}
    aliases: dict[str, str] = {}
    seen: dict[tuple[Any, ...], str] = {}
    for key, tensor in state.items():
        identity = (
            tensor.untyped_storage().data_ptr(),
            tensor.storage_offset(),
            tuple(tensor.shape),
            tensor.stride(),
            tensor.dtype,
        )
        if identity in seen and tensor.numel():
            aliases[key] = seen[identity]
            continue
        seen[identity] = key
        # safetensors refuses tensors sharing memory; clones also make partial views safe
        tensors[key] = tensor.detach().cpu().contiguous().clone()
    return tensors, aliases


def _digest(tensors: dict[str, Tensor], metadata: dict[str, str]) -> str:
    """SHA-256 over metadata, keys, dtypes, shapes and raw bytes: catches any edit or damage."""
    digest = hashlib.sha256()
    for key in sorted(metadata):
        if key != "bionn.sha256":
            digest.update(f"{key}={metadata[key]}\0".encode())
    for key in sorted(tensors):
        tensor = tensors[key]
        digest.update(f"{key}:{tensor.dtype}:{list(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _read(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Tensor], dict[str, dict[str, Any]], dict[str, str], dict[str, Any]]:
    """The tensors, layer configurations, key aliases and module versions of a checked file."""
    from safetensors import SafetensorError, safe_open  # lazy: needed only here

    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory, not a bionn compact file")
    try:
        with safe_open(os.fspath(path), framework="pt") as file:
            metadata = file.metadata() or {}
            tensors = {key: file.get_tensor(key) for key in file.keys()}
    except FileNotFoundError:
        raise
    except (SafetensorError, OSError) as error:
        raise ValueError(
            f"{path} is not a readable safetensors file (truncated or corrupt?): {error}"
        ) from None
    if metadata.get("bionn.compact") != FORMAT_VERSION:
        raise ValueError(
            f"{path} is not a bionn compact file of format {FORMAT_VERSION!r} (its format: "
            f"{metadata.get('bionn.compact')!r}); plain safetensors files load with "
            "safetensors.torch.load_file"
        )
    if _digest(tensors, metadata) != metadata.get("bionn.sha256"):
        raise ValueError(
            f"{path} is corrupt or was edited: its metadata and tensors do not match the "
            "checksum saved with them"
        )
    layers = _metadata_json(path, metadata, "bionn.layers")
    aliases = _metadata_json(path, metadata, "bionn.aliases")
    versions = _metadata_json(path, metadata, "bionn.versions")
    if not all(isinstance(c, dict) and isinstance(c.get("shape"), list) for c in layers.values()):
        raise ValueError(f"{path}: metadata 'bionn.layers' holds a malformed layer entry")
    for alias, original in aliases.items():
        if original not in tensors:
            raise ValueError(
                f"{path}: metadata 'bionn.aliases' maps {alias!r} to {original!r}, "
                "which the file does not hold"
            )
    return tensors, layers, aliases, versions


def _metadata_json(path: object, metadata: dict[str, str], key: str) -> dict[str, Any]:
    """``metadata[key]`` parsed as a JSON object, or a ValueError naming the file and key."""
    try:
        value = json.loads(metadata[key])
    except (KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: metadata {key!r} is missing or not JSON ({error})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: metadata {key!r} is not a JSON object")
    return value
