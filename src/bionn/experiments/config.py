"""One frozen dataclass per experiment kind, with the published defaults as data.

Every field is one option: its type (``Literal`` for closed sets), its help text, its option
group and its allowed range live on the field, and the CLI (:mod:`bionn.cli.options`) is
generated from them. A config is a value: it is checked once, when it is built
(:meth:`RunConfig.validate` returns the problems and changes nothing; construction raises
:class:`ConfigError` listing them), and never changed afterwards. ``None`` means "the model's
published value": :func:`with_published` fills those, :func:`bionn.experiments.plan.resolve`
adds the data set's facts.

Example:
    >>> from bionn.experiments.config import make_config, config_errors
    >>> make_config("gan", variant="mouse").batch_size        # the paper's batch
    32
    >>> config_errors("gan", {"usage": 35})
    ['--usage must be in (0, 1] (a fraction of the weights: 0.35 keeps 35 %), got 35']
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

__all__ = [
    "KINDS",
    "ClassifierConfig",
    "ConfigError",
    "DDIMConfig",
    "GANConfig",
    "Range",
    "RunConfig",
    "config_class",
    "config_errors",
    "config_from_dict",
    "field_type",
    "make_config",
    "published_values",
    "with_published",
]


class ConfigError(ValueError):
    """A configuration value or combination that cannot run; the message says why.

    Attributes:
        errors: One message per problem.

    """

    def __init__(self, errors: list[str] | str) -> None:
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class Range:
    """Allowed numeric values of an option: ``low`` / ``high`` bounds, open or closed."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    note: str = ""  # what the unit means, e.g. for fractions

    def __contains__(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            text = (
                f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}"
                f"{')' if self.high_open else ']'}"
            )
        elif self.low is not None:
            text = f"{'>' if self.low_open else '>='} {self.low:g}"
        else:
            text = f"{'<' if self.high_open else '<='} {self.high:g}"
        return f"{text} ({self.note})" if self.note else text


AT_LEAST_1, NON_NEGATIVE, POSITIVE = Range(1), Range(0), Range(0, low_open=True)
FRACTION_KEPT = Range(0, 1, low_open=True, note="a fraction of the weights: 0.35 keeps 35 %")
FRACTION_REMOVED = Range(0, 1, high_open=True, note="a fraction of the weights: 0.8 removes 80 %")
UNIT = Range(0, 1, high_open=True)

GROUPS = ("model", "data", "training", "output", "runtime")


def _opt(default: Any, help_text: str, group: str, check: Range | None = None) -> Any:
    """A config field: default, help, option group and allowed range."""
    assert group in GROUPS, group
    return field(default=default, metadata={"help": help_text, "group": group, "check": check})


Variant = Literal["standard", "mouse", "schizo"]
Precision = Literal["fp32", "bf16", "fp16"]
LogFormat = Literal["jsonl", "tensorboard"]


@dataclass(frozen=True)
class RunConfig:
    """Options shared by every experiment kind (the published defaults live in subclasses)."""

    kind: ClassVar[str] = ""
    MODELS: ClassVar[dict[str, tuple[str, ...]]] = {}  # model -> allowed variants
    # model -> published values of the options left at None
    PUBLISHED: ClassVar[dict[str, dict[str, Any]]] = {}

    model: str = _opt("", "architecture", "model")
    variant: Variant = _opt("standard", "standard, or the bio-mimetic variant", "model")
    usage: float | None = _opt(
        None,
        "fraction of weights the bio-mimetic layers keep (default: from --radius / --reduction)",
        "model",
        FRACTION_KEPT,
    )
    radius: float = _opt(
        0.4, "mouse connection radius (window2d_width) when --usage is unset", "model", POSITIVE
    )
    reduction: float | None = _opt(
        None,
        "schizo param_reduction when --usage is unset (default: the model's published one)",
        "model",
        FRACTION_REMOVED,
    )
    width: int | None = _opt(
        None, "base width of the network (default: published)", "model", AT_LEAST_1
    )
    data: str = _opt(
        "digits", "digits (embedded), mnist, fashionmnist, cifar10 or an image folder", "data"
    )
    data_root: str = _opt("data", "folder holding torchvision data sets", "data")
    test_data: str = _opt(
        "",
        "test folder of an image-folder data set, one class per "
        "sub-folder (default: the sibling 'test' of a folder named 'train')",
        "data",
    )
    download: bool = _opt(
        False, "download a torchvision data set into --data-root if missing", "data"
    )
    cache_dir: str = _opt("", "cache of decoded image folders (default ~/.cache/bionn)", "data")
    skip_corrupt: bool = _opt(False, "skip unreadable images of a folder with a warning", "data")
    limit: int | None = _opt(None, "use only the first N training images", "data", AT_LEAST_1)
    image_size: int | None = _opt(
        None, "image height = width (default: the model's, e.g. 64)", "data", AT_LEAST_1
    )
    channels: Literal[1, 3] | None = _opt(None, "image channels (default: the data set's)", "data")
    classes: int | None = _opt(
        None, "number of classes (default: the data set's)", "data", AT_LEAST_1
    )
    workers: int = _opt(
        0, "processes decoding image folders (0: this process)", "data", NON_NEGATIVE
    )
    epochs: int | None = _opt(
        None, "training epochs (default: published; --steps overrides)", "training", AT_LEAST_1
    )
    steps: int | None = _opt(
        None, "optimiser steps in total (overrides --epochs)", "training", AT_LEAST_1
    )
    batch_size: int | None = _opt(
        None, "batch size per process (default: published)", "training", AT_LEAST_1
    )
    lr: float | None = _opt(None, "learning rate (default: published)", "training", POSITIVE)
    seed: int = _opt(0, "seed of weights, data order and noise", "training", NON_NEGATIVE)
    out: str = _opt("", "run folder (default runs/<kind>-<model>-<variant>-s<seed>)", "output")
    checkpoint_every: int = _opt(
        500, "steps between checkpoints (0: only at the end)", "output", NON_NEGATIVE
    )
    sample_every: int = _opt(
        1000, "steps between sample grids (0: only at the end)", "output", NON_NEGATIVE
    )
    log_every: int = _opt(10, "steps between metric lines", "output", AT_LEAST_1)
    n_samples: int = _opt(64, "images in each sample grid", "output", AT_LEAST_1)
    eval_every: int = _opt(
        0,
        "steps between scores of the run's metric on a fixed small sample "
        "(0: off); reports draw them as curves",
        "output",
        NON_NEGATIVE,
    )
    curve_samples: int = _opt(
        500, "images in the fixed sample scored every --eval-every steps", "output", Range(2)
    )
    keep: int = _opt(
        0,
        "milestone checkpoints kept besides last.pt, as checkpoints/step-N.pt (0: last.pt only)",
        "output",
        NON_NEGATIVE,
    )
    log: LogFormat = _opt(
        "jsonl",
        "metrics.jsonl only, or also TensorBoard scalars and sample grids in <out>/tensorboard",
        "output",
    )
    progress: bool = _opt(True, "show progress bars", "output")
    device: str = _opt("auto", "auto (CUDA if present), cpu, cuda or cuda:N", "runtime")
    precision: Precision = _opt(
        "fp32",
        "autocast precision (fp16 needs CUDA; bf16 is fast only "
        "on GPUs and CPUs with native bf16, e.g. AVX512-BF16 / AMX, and "
        "far slower elsewhere: timings per CPU in benchmarks/README.md)",
        "runtime",
    )
    compile: bool = _opt(
        False,
        "wrap the networks in torch.compile (every model; pays off on "
        "GPUs, little on CPUs: benchmarks/README.md)",
        "runtime",
    )
    deterministic: bool = _opt(
        False, "torch.use_deterministic_algorithms (exact resume on GPU)", "runtime"
    )

    def __post_init__(self) -> None:
        errors = self.validate()
        if errors:
            raise ConfigError(errors)

    def validate(self) -> list[str]:
        """Return every problem of this config (empty when it can run); changes nothing."""
        errors = [
            e
            for f in dataclasses.fields(self)
            if f.name not in ("model", "variant") and (e := _field_error(self, f))
        ]
        if errors:  # the rules below assume well-typed values
            return errors
        if self.model not in self.MODELS:  # model and variant: checked against MODELS
            return [
                f"unknown {self.kind} model {self.model!r}: --model must be one of "
                f"{', '.join(self.MODELS)}"
            ]
        if self.variant not in self.MODELS[self.model]:
            errors.append(
                f"unknown variant {self.variant!r} for {self.kind} model "
                f"{self.model!r}: --variant must be one of "
                f"{', '.join(self.MODELS[self.model])}"
            )
        if not (self.device in ("auto", "cpu", "cuda") or _is_cuda_index(self.device)):
            errors.append(f"--device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.test_data and self.data.lower() in NAMED_DATASETS:
            errors.append(f"--test-data is for image folders; {self.data} has its own test split")
        return errors

    @classmethod
    def choices(cls, name: str) -> tuple[Any, ...] | None:
        """The allowed values of field ``name`` for this kind (None: not a closed set)."""
        if name == "variant":
            return tuple(dict.fromkeys(v for vs in cls.MODELS.values() for v in vs))
        base, _ = field_type(cls, name)
        return typing.get_args(base) if typing.get_origin(base) is Literal else None

    def run_dir(self) -> Path:
        """Return the run folder: ``out`` or the default name."""
        return Path(self.out or f"runs/{self.kind}-{self.model}-{self.variant}-s{self.seed}")

    def to_dict(self) -> dict[str, Any]:
        """Return the config with its kind, for JSON and checkpoints."""
        return {"kind": self.kind, **dataclasses.asdict(self)}


NAMED_DATASETS = ("digits", "mnist", "fashionmnist", "cifar10")  # bionn.data.DATASETS, torch-free


def _is_cuda_index(device: str) -> bool:
    prefix, _, index = device.partition(":")
    return prefix == "cuda" and index.isdigit()


def field_type(cls: type, name: str) -> tuple[Any, bool]:
    """Return ``(type, optional)`` of a config field: ``int | None`` -> ``(int, True)``."""
    hint = typing.get_type_hints(cls)[name]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return next(a for a in typing.get_args(hint) if a is not type(None)), True
    return hint, False


def _field_error(config: RunConfig, f: dataclasses.Field) -> str | None:
    """The problem of one field's value (type, Literal choice or range), or None."""
    value = getattr(config, f.name)
    base, optional = field_type(type(config), f.name)
    flag = "--" + f.name.replace("_", "-")
    if value is None:
        return None if optional else f"{flag} must be set"
    if typing.get_origin(base) is Literal:
        choices = typing.get_args(base)
        if value in choices and type(value) is type(choices[0]):
            return None
        return f"{flag} must be one of {', '.join(map(str, choices))}, got {value!r}"
    if type(value) is not base and not (base is float and type(value) is int):
        return f"{flag} must be {base.__name__}, got {type(value).__name__} {value!r}"
    check = f.metadata.get("check")
    if check is not None and value not in check:
        return f"{flag} must be {check}, got {value!r}"
    return None


@dataclass(frozen=True)
class GANConfig(RunConfig):
    """DCGAN of the mouse paper (64x64, Adam 1e-4 / 0.5, batch 32) and its relatives."""

    kind: ClassVar[str] = "gan"
    MODELS: ClassVar[dict[str, tuple[str, ...]]] = {
        "dcgan": ("standard", "mouse"),  # the paper's, spectral-norm discriminator
        "cdcgan": ("standard", "mouse"),  # its class-conditional version
        "tutorial": ("standard", "mouse"),  # PyTorch tutorial DCGAN (ngf = ndf = 64)
    }
    _PAPER: ClassVar[dict[str, Any]] = {
        "image_size": 64,
        "width": 128,
        "epochs": 500,
        "batch_size": 32,
        "lr": 1e-4,
        "label_noise": 0.05,
    }
    PUBLISHED: ClassVar[dict[str, dict[str, Any]]] = {
        "dcgan": _PAPER,
        "cdcgan": _PAPER,
        "tutorial": {
            "image_size": 64,
            "width": 64,
            "epochs": 5,
            "batch_size": 128,
            "lr": 2e-4,
            "label_noise": 0.0,
        },
    }
    model: Literal["dcgan", "cdcgan", "tutorial"] = _opt(
        "dcgan", "dcgan (paper), cdcgan (class-conditional) or tutorial (PyTorch DCGAN)", "model"
    )
    disc_width: int = _opt(64, "discriminator width of the first conv", "model", AT_LEAST_1)
    z_dim: int = _opt(100, "latent dimension", "model", AT_LEAST_1)
    beta1: float = _opt(0.5, "Adam beta1", "training", UNIT)
    beta2: float = _opt(0.999, "Adam beta2", "training", UNIT)
    label_noise: float | None = _opt(
        None,
        "scale of the uniform noise on the discriminator targets (paper 0.05)",
        "training",
        NON_NEGATIVE,
    )
    keras_mode: bool = _opt(
        False,
        "as the original script: BN / spectral norm frozen and dropout off while training",
        "training",
    )


@dataclass(frozen=True)
class DDIMConfig(RunConfig):
    """DDIM of the mouse paper (U-Net 64-512, Adam 2e-4, batch 64, EMA 0.999, 20 steps)."""

    kind: ClassVar[str] = "ddim"
    MODELS: ClassVar[dict[str, tuple[str, ...]]] = {"unet": ("standard", "mouse")}
    PUBLISHED: ClassVar[dict[str, dict[str, Any]]] = {
        "unet": {"image_size": 64, "width": 64, "epochs": 1250, "batch_size": 64, "lr": 2e-4},
    }
    model: Literal["unet"] = _opt("unet", "unet (the paper's)", "model")
    levels: int = _opt(
        4, "U-Net levels; widths are width * (1, 2, 4, 8, ...)[:levels]", "model", Range(1, 6)
    )
    block_depth: int = _opt(2, "residual blocks per level", "model", AT_LEAST_1)
    attention: bool = _opt(True, "self-attention at image_size / 4 (16x16 at 64x64)", "model")
    dropout: float = _opt(0.1, "dropout inside residual blocks", "model", UNIT)
    ema: float = _opt(0.999, "EMA decay of the weights used for sampling", "training", UNIT)
    repetitions: int = _opt(5, "repetitions of the data set per epoch", "training", AT_LEAST_1)
    sampling_steps: int = _opt(20, "DDIM steps for sample grids", "output", AT_LEAST_1)
    micro_batch: int = _opt(
        0,
        "images per forward / backward; a batch's gradients are summed "
        "over its micro-batches before the one optimiser step (the same "
        "maths: no batch statistics in the U-Net). 0: 16 on a CPU, where "
        "small pieces train faster (benchmarks/README.md); the whole batch "
        "on a GPU",
        "runtime",
        NON_NEGATIVE,
    )


@dataclass(frozen=True)
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
    _SMALL: ClassVar[dict[str, Any]] = {"augment": False}
    PUBLISHED: ClassVar[dict[str, dict[str, Any]]] = {
        "mlp": {
            "image_size": 28,
            "width": 512,
            "epochs": 50,
            "batch_size": 32,
            "lr": 1e-3,
            "optimizer": "adam",
            "reduction": 0.5,
            **_SMALL,
        },
        "cnn": {
            "image_size": 32,
            "width": 32,
            "epochs": 100,
            "batch_size": 32,
            "lr": 1e-4,
            "optimizer": "rmsprop",
            "reduction": 0.5,
            **_SMALL,
        },
        "vgg16": {
            "image_size": 32,
            "width": 64,
            "epochs": 200,
            "batch_size": 200,
            "lr": 0.1,
            "optimizer": "sgd",
            "reduction": 0.6,
            "augment": True,
        },
        "mouse-mlp": {
            "image_size": 28,
            "width": 1024,
            "epochs": 10,
            "batch_size": 256,
            "lr": 0.01,
            "optimizer": "sgd",
            **_SMALL,
        },
        "lenet": {
            "image_size": 32,
            "width": 6,
            "epochs": 2,
            "batch_size": 4,
            "lr": 1e-3,
            "optimizer": "sgd",
            **_SMALL,
        },
    }
    model: Literal["mlp", "cnn", "vgg16", "mouse-mlp", "lenet"] = _opt(
        "mlp",
        "mlp / cnn / vgg16 (schizophrenia paper), mouse-mlp / lenet (mouse tutorials)",
        "model",
    )
    form: Literal["diagonal", "gaussian", "random", "individual", "kernel"] = _opt(
        "diagonal", "schizo window form (convs: individual, kernel or diagonal)", "model"
    )
    optimizer: Literal["adam", "rmsprop", "sgd"] | None = _opt(
        None, "optimiser (default: the published one)", "training"
    )
    augment: bool | None = _opt(None, "random flips and shifts (default: on for vgg16)", "training")


KINDS: dict[str, type[RunConfig]] = {c.kind: c for c in (GANConfig, DDIMConfig, ClassifierConfig)}


def config_class(kind: str) -> type[RunConfig]:
    """Return the config dataclass of ``kind`` ('gan', 'ddim' or 'classifier')."""
    if kind not in KINDS:
        raise ConfigError(f"unknown experiment kind {kind!r}; choose one of {sorted(KINDS)}")
    return KINDS[kind]


def _build(kind: str, values: dict[str, Any]) -> RunConfig:
    cls = config_class(kind)
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in values.items() if k != "kind"}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"unknown {kind} config keys: {unknown}")
    return cls(**values)


def config_errors(kind: str, values: dict[str, Any]) -> list[str]:
    """Return the problems of a config of ``kind`` built from ``values`` (empty: it is valid)."""
    try:
        _build(kind, values)
    except ConfigError as error:
        return error.errors
    return []


def config_from_dict(kind: str, values: dict[str, Any]) -> RunConfig:
    """Build the config of ``kind`` from a dict (a saved config or a JSON file), as given.

    Raises:
        ConfigError: Unknown keys, wrong types or values out of range (all listed).

    """
    return _build(kind, values)


def published_values(config: RunConfig) -> dict[str, Any]:
    """The published values of the options ``config`` leaves at None."""
    published = config.PUBLISHED[config.model]
    return {k: v for k, v in published.items() if getattr(config, k) is None}


def with_published(config: RunConfig) -> RunConfig:
    """Return ``config`` with the options left at None set to the published values."""
    missing = published_values(config)
    return dataclasses.replace(config, **missing) if missing else config


def make_config(kind: str, **options: Any) -> RunConfig:
    """Return the config of ``kind`` with ``options`` and the published values of the rest.

    The published values join the options before the config is built, so it is checked once.
    """
    cls = config_class(kind)
    model = options.get("model") or next(
        f.default for f in dataclasses.fields(cls) if f.name == "model"
    )
    published = cls.PUBLISHED.get(model, {}) if isinstance(model, str) else {}
    given = {k: v for k, v in options.items() if not (v is None and k in published)}
    return config_from_dict(kind, {**published, **given})
