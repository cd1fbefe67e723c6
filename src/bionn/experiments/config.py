"""One dataclass per experiment kind, with the published defaults, and the CLI built from it.

Every field carries its help text in ``metadata["help"]``; :func:`add_config_arguments` turns the
fields into ``--dashed-options`` and :func:`config_from_args` builds the validated config back,
from an optional JSON config file plus the options actually given. Unknown keys and wrong types
are errors (:class:`ConfigError`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "KINDS",
    "ClassifierConfig",
    "ConfigError",
    "DDIMConfig",
    "GANConfig",
    "RunConfig",
    "add_config_arguments",
    "config_class",
    "config_from_args",
    "config_from_dict",
    "make_config",
]


class ConfigError(ValueError):
    """A configuration value or combination that cannot run; the message says why."""


def _opt(default: Any, help_text: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help_text, **extra})


@dataclass
class RunConfig:
    """Options shared by every experiment kind (the published defaults live in subclasses)."""

    kind: ClassVar[str] = ""
    MODELS: ClassVar[dict[str, tuple[str, ...]]] = {}  # model -> allowed variants
    # model -> published values of the options left at None
    PUBLISHED: ClassVar[dict[str, dict[str, Any]]] = {}

    model: str = _opt("", "architecture (see --help of the kind for the list)")
    variant: str = _opt("standard", "standard, or the bio-mimetic variant: mouse / schizo")
    usage: float | None = _opt(
        None, "fraction of weights kept in the bio-mimetic layers (default: published radius)"
    )
    radius: float = _opt(0.4, "mouse connection radius (window2d_width) when --usage is unset")
    reduction: float | None = _opt(
        None, "schizo param_reduction when --usage is unset (default: the model's published one)"
    )
    data: str = _opt("digits", "digits (embedded), mnist, fashionmnist, cifar10 or an image folder")
    data_root: str = _opt("data", "folder holding torchvision data sets")
    download: bool = _opt(False, "download a torchvision data set into --data-root if missing")
    cache_dir: str = _opt("", "cache for decoded image folders (default ~/.cache/bionn)")
    skip_corrupt: bool = _opt(False, "skip unreadable images of a folder with a warning")
    limit: int | None = _opt(None, "use only the first N training images")
    image_size: int | None = _opt(None, "image height = width (default: the model's, e.g. 64)")
    channels: int | None = _opt(None, "image channels: 1 or 3 (default: the data set's)")
    classes: int | None = _opt(None, "number of classes (default: the data set's)")
    width: int | None = _opt(None, "base width of the network (default: the published one)")
    epochs: int | None = _opt(None, "training epochs (default: published; --steps overrides)")
    steps: int | None = _opt(None, "optimiser steps in total (overrides --epochs)")
    batch_size: int | None = _opt(None, "batch size per process (default: the published one)")
    lr: float | None = _opt(None, "learning rate (default: the published one)")
    seed: int = _opt(0, "seed of weights, data order and noise")
    out: str = _opt("", "run folder (default runs/<kind>-<model>-<variant>-s<seed>)")
    device: str = _opt("auto", "auto, cpu, cuda or cuda:N")
    precision: str = _opt("fp32", "fp32, bf16 or fp16 (autocast; fp16 needs CUDA)")
    compile: bool = _opt(
        False, "wrap the networks in torch.compile (every model; for GPUs: on CPUs it compiles "
        "for minutes and has not been measured faster than eager)",
    )
    deterministic: bool = _opt(False, "torch.use_deterministic_algorithms (exact resume on GPU)")
    workers: int = _opt(0, "processes decoding image folders (0: this process)")
    checkpoint_every: int = _opt(500, "steps between checkpoints (0: only at the end)")
    sample_every: int = _opt(1000, "steps between sample grids (0: only at the end)")
    log_every: int = _opt(10, "steps between metric lines")
    n_samples: int = _opt(64, "images in each sample grid")
    progress: bool = _opt(True, "show a progress bar")

    def validate(self) -> None:
        """Fill the published defaults, then raise :class:`ConfigError` for bad values."""
        if self.model not in self.MODELS:
            raise ConfigError(
                f"unknown {self.kind} model {self.model!r}; choose one of {sorted(self.MODELS)}"
            )
        if self.variant not in self.MODELS[self.model]:
            raise ConfigError(
                f"unknown variant {self.variant!r} for {self.kind} model {self.model!r}; "
                f"choose one of {list(self.MODELS[self.model])}"
            )
        for name, value in self.PUBLISHED[self.model].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.usage is not None and not (0.0 < self.usage <= 1.0):
            raise ConfigError(f"--usage must be in (0, 1], got {self.usage}")
        if self.reduction is not None and not (0.0 <= self.reduction < 1.0):
            raise ConfigError(f"--reduction must be in [0, 1), got {self.reduction}")
        if not self.radius > 0:
            raise ConfigError(f"--radius must be > 0, got {self.radius}")
        for name in ("image_size", "width", "epochs", "batch_size", "n_samples", "log_every",
                     "steps", "limit"):  # fmt: skip
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
        for name in ("workers", "checkpoint_every", "sample_every"):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 0")
        if self.classes is not None and self.classes < 1:
            raise ConfigError(f"--classes must be >= 1, got {self.classes}")
        if self.channels not in (None, 1, 3):
            raise ConfigError(f"--channels must be 1 or 3, got {self.channels}")
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise ConfigError(f"--precision must be fp32, bf16 or fp16, got {self.precision!r}")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise ConfigError(f"--device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.lr is not None and not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"--lr must be > 0, got {self.lr}")

    def run_dir(self) -> Path:
        """Return the run folder: ``out`` or the default name."""
        return Path(self.out or f"runs/{self.kind}-{self.model}-{self.variant}-s{self.seed}")

    def to_dict(self) -> dict[str, Any]:
        """Return the resolved config with its kind, for JSON and checkpoints."""
        return {"kind": self.kind, **dataclasses.asdict(self)}


@dataclass
class GANConfig(RunConfig):
    """DCGAN of the mouse paper (64x64, Adam 1e-4 / 0.5, batch 32) and its relatives."""

    kind: ClassVar[str] = "gan"
    MODELS: ClassVar[dict[str, tuple[str, ...]]] = {
        "dcgan": ("standard", "mouse"),  # the paper's, spectral-norm discriminator
        "cdcgan": ("standard", "mouse"),  # its class-conditional version
        "tutorial": ("standard", "mouse"),  # PyTorch tutorial DCGAN (ngf = ndf = 64)
    }
    _PAPER: ClassVar[dict[str, Any]] = {
        "image_size": 64, "width": 128, "epochs": 500, "batch_size": 32, "lr": 1e-4,
        "label_noise": 0.05,
    }  # fmt: skip
    PUBLISHED: ClassVar[dict[str, dict[str, Any]]] = {
        "dcgan": _PAPER,
        "cdcgan": _PAPER,
        "tutorial": {"image_size": 64, "width": 64, "epochs": 5, "batch_size": 128, "lr": 2e-4,
                     "label_noise": 0.0},
    }
    model: str = _opt("dcgan", "dcgan (paper), cdcgan (class-conditional) or tutorial")
    disc_width: int = _opt(64, "discriminator width of the first conv")
    z_dim: int = _opt(100, "latent dimension")
    beta1: float = _opt(0.5, "Adam beta1")
    beta2: float = _opt(0.999, "Adam beta2")
    label_noise: float | None = _opt(
        None, "scale of the uniform noise on the discriminator targets (paper 0.05)"
    )
    keras_mode: bool = _opt(
        False, "as the original script: BN / spectral norm frozen and dropout off while training"
    )

    def validate(self) -> None:
        """Also check the GAN options."""
        super().validate()
        if self.disc_width < 1 or self.z_dim < 1 or (self.label_noise or 0) < 0:
            raise ConfigError("--disc-width and --z-dim must be >= 1, --label-noise >= 0")


@dataclass
class DDIMConfig(RunConfig):
    """DDIM of the mouse paper (U-Net 64-512, Adam 2e-4, batch 64, EMA 0.999, 20 steps)."""

    kind: ClassVar[str] = "ddim"
    MODELS: ClassVar[dict[str, tuple[str, ...]]] = {"unet": ("standard", "mouse")}
    PUBLISHED: ClassVar[dict[str, dict[str, Any]]] = {
        "unet": {"image_size": 64, "width": 64, "epochs": 1250, "batch_size": 64, "lr": 2e-4},
    }
    model: str = _opt("unet", "unet (the paper's)")
    levels: int = _opt(4, "U-Net levels; widths are width * (1, 2, 4, 8, ...)[:levels]")
    block_depth: int = _opt(2, "residual blocks per level")
    attention: bool = _opt(True, "self-attention at image_size / 4 (16x16 at 64x64)")
    dropout: float = _opt(0.1, "dropout inside residual blocks")
    ema: float = _opt(0.999, "EMA decay of the weights used for sampling")
    sampling_steps: int = _opt(20, "DDIM steps for sample grids")
    repetitions: int = _opt(5, "repetitions of the data set per epoch")

    def validate(self) -> None:
        """Also check the U-Net and diffusion options."""
        super().validate()
        if not 1 <= self.levels <= 6 or self.block_depth < 1:
            raise ConfigError("--levels must be 1..6 and --block-depth >= 1")
        if not (0.0 <= self.ema < 1.0) or not (0.0 <= self.dropout < 1.0):
            raise ConfigError("--ema and --dropout must be in [0, 1)")
        if self.sampling_steps < 1 or self.repetitions < 1:
            raise ConfigError("--sampling-steps and --repetitions must be >= 1")


@dataclass
class ClassifierConfig(RunConfig):
    """Classifiers of the schizophrenia paper and the mouse repository's tutorials."""

    kind: ClassVar[str] = "classifier"
    MODELS: ClassVar[dict[str, tuple[str, ...]]] = {
        "mlp": ("standard", "schizo"),  # MNIST: constrained Dense(512)
        "cnn": ("standard", "schizo"),  # CIFAR-10 CNN: constrained Dense(512)
        "vgg16": ("standard", "schizo"),  # constrained convs in the last two blocks
        "mouse-mlp": ("standard", "mouse"),  # 784-1024-512-10, mouse middle layer
        "lenet": ("standard", "mouse"),  # CIFAR LeNet, mouse second conv
    }
    PUBLISHED: ClassVar[dict[str, dict[str, Any]]] = {
        "mlp": {"image_size": 28, "width": 512, "epochs": 50, "batch_size": 32, "lr": 1e-3,
                "optimizer": "adam", "reduction": 0.5},
        "cnn": {"image_size": 32, "width": 32, "epochs": 100, "batch_size": 32, "lr": 1e-4,
                "optimizer": "rmsprop", "reduction": 0.5},
        "vgg16": {"image_size": 32, "width": 64, "epochs": 200, "batch_size": 200, "lr": 0.1,
                  "optimizer": "sgd", "reduction": 0.6},
        "mouse-mlp": {"image_size": 28, "width": 1024, "epochs": 10, "batch_size": 256,
                      "lr": 0.01, "optimizer": "sgd"},
        "lenet": {"image_size": 32, "width": 6, "epochs": 2, "batch_size": 4, "lr": 1e-3,
                  "optimizer": "sgd"},
    }  # fmt: skip
    model: str = _opt("mlp", "mlp, cnn, vgg16, mouse-mlp or lenet")
    form: str = _opt("diagonal", "schizo form: diagonal, gaussian, random (convs: kernel, ...)")
    optimizer: str | None = _opt(None, "adam, rmsprop or sgd (default: the published one)")
    augment: bool | None = _opt(None, "random flips and shifts (default: on for vgg16)")

    def validate(self) -> None:
        """Also check the optimiser name."""
        super().validate()
        if self.augment is None:
            self.augment = self.model == "vgg16"
        if self.optimizer not in ("adam", "rmsprop", "sgd"):
            raise ConfigError(f"--optimizer must be adam, rmsprop or sgd, got {self.optimizer!r}")


KINDS: dict[str, type[RunConfig]] = {c.kind: c for c in (GANConfig, DDIMConfig, ClassifierConfig)}


def config_class(kind: str) -> type[RunConfig]:
    """Return the config dataclass of ``kind`` ('gan', 'ddim' or 'classifier')."""
    if kind not in KINDS:
        raise ConfigError(f"unknown experiment kind {kind!r}; choose one of {sorted(KINDS)}")
    return KINDS[kind]


def _field_type(cls: type, name: str) -> tuple[type, bool]:
    """Return ``(base type, optional)`` of a field from its annotation."""
    hint = typing.get_type_hints(cls)[name]
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        base = next(a for a in args if a is not type(None))
        return base, True
    return hint, False


def _coerce(cls: type, name: str, value: Any) -> Any:
    base, optional = _field_type(cls, name)
    if value is None and optional:
        return None
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, base) or (base is int and isinstance(value, bool)):
        raise ConfigError(f"{name} must be {base.__name__}, got {type(value).__name__} {value!r}")
    return value


def config_from_dict(kind: str, values: dict[str, Any]) -> RunConfig:
    """Build and validate the config of ``kind`` from a dict (a saved config or a JSON file)."""
    cls = config_class(kind)
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in values.items() if k != "kind"}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"unknown {kind} config keys: {unknown}")
    config = cls(**{k: _coerce(cls, k, v) for k, v in values.items()})
    config.validate()
    return config


def make_config(kind: str, **overrides: Any) -> RunConfig:
    """Return the config of ``kind`` with its published defaults and ``overrides`` (validated)."""
    return config_from_dict(kind, overrides)


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _parse_optional(base: type) -> Any:
    def parse(text: str) -> Any:
        return None if text.lower() == "none" else base(text)

    parse.__name__ = base.__name__
    return parse


def add_config_arguments(parser: argparse.ArgumentParser, cls: type[RunConfig]) -> None:
    """One ``--option`` per field of ``cls``; defaults stay unset so given options are known."""
    parser.add_argument("--config", metavar="JSON", help="JSON file of options (CLI wins)")
    for f in dataclasses.fields(cls):
        base, optional = _field_type(cls, f.name)
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        if "(default" not in help_text:  # some helps already say what the default means
            help_text += f" (default: {f.default})"
        if base is bool:
            parser.add_argument(
                flag, dest=f.name, nargs="?", const=True, type=_parse_bool,
                default=argparse.SUPPRESS, metavar="BOOL", help=help_text,
            )  # fmt: skip
            parser.add_argument(
                "--no-" + f.name.replace("_", "-"), dest=f.name, action="store_false",
                default=argparse.SUPPRESS, help=argparse.SUPPRESS,
            )  # fmt: skip
            continue
        parse = _parse_optional(base) if optional else base
        parser.add_argument(flag, dest=f.name, type=parse, default=argparse.SUPPRESS,
                            metavar=f.name.upper(), help=help_text)  # fmt: skip


def config_from_args(kind: str, args: argparse.Namespace) -> tuple[RunConfig, set[str]]:
    """Return the validated config from ``--config`` and the given options, and the given names."""
    cls = config_class(kind)
    values: dict[str, Any] = {}
    config_file = getattr(args, "config", None)
    if config_file:
        try:
            loaded = json.loads(Path(config_file).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError(f"cannot read config file {config_file}: {error}") from error
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {config_file} must hold a JSON object")
        values.update(loaded)
    names = {f.name for f in dataclasses.fields(cls)}
    given = {name for name in names if name in vars(args)}
    values.update({name: getattr(args, name) for name in given})
    return config_from_dict(kind, values), given | (set(values) - {"kind"})
