"""Build any experiment model from its config: :func:`build_model` or :func:`build`.

GAN configs give a :class:`GAN` (``.generator``, ``.discriminator``), DDIM configs a
:class:`DDIM` (``.network`` is the U-Net), classifier configs an ``nn.Module`` returning logits.
:func:`measured_part` is the part whose usage the papers report (generator, U-Net, classifier).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from bionn.experiments.config import (
    ClassifierConfig,
    ConfigError,
    DDIMConfig,
    GANConfig,
    RunConfig,
    make_config,
)
from bionn.experiments.models._bio import Bio, BuildError
from bionn.experiments.models.classifiers import build_classifier
from bionn.experiments.models.ddim import DDIM, UNet
from bionn.experiments.models.gan import GAN

__all__ = [
    "DDIM",
    "GAN",
    "Bio",
    "BuildError",
    "UNet",
    "build",
    "build_model",
    "count_parameters",
    "measured_part",
]

_DEFAULT_CHANNELS = {"gan": 3, "ddim": 3, "classifier": 1}


def _bio(config: RunConfig) -> Bio:
    reduction = config.reduction if config.reduction is not None else 0.5
    form = getattr(config, "form", "diagonal")
    return Bio(config.variant, config.usage, config.radius, reduction, form, config.seed)


def build_model(
    config: RunConfig, channels: int | None = None, classes: int | None = None
) -> nn.Module:
    """Return the model of a validated ``config``.

    Args:
        config: A :class:`GANConfig`, :class:`DDIMConfig` or :class:`ClassifierConfig`.
        channels: Image channels (default ``config.channels``, else 3 / 3 / 1).
        classes: Classes of the data (default ``config.classes``, else 10); used by
            classifiers and the conditional GAN.

    Raises:
        BuildError: The sizes or arguments do not fit the architecture.

    """
    channels = channels or config.channels or _DEFAULT_CHANNELS[config.kind]
    classes = classes or config.classes or 10
    size, width = config.image_size, config.width
    assert size is not None and width is not None, "call config.validate() first"
    bio = _bio(config)
    try:
        if isinstance(config, GANConfig):
            return GAN(
                style="tutorial" if config.model == "tutorial" else "paper",
                z_dim=config.z_dim,
                width=width,
                disc_width=config.disc_width,
                image_size=size,
                channels=channels,
                classes=classes if config.model == "cdcgan" else 0,
                bio=bio,
            )
        if isinstance(config, DDIMConfig):
            network = UNet(
                channels=channels,
                image_size=size,
                width=width,
                levels=config.levels,
                block_depth=config.block_depth,
                attention=config.attention,
                dropout=config.dropout,
                bio=bio,
            )
            return DDIM(network, channels, size)
        if isinstance(config, ClassifierConfig):
            return build_classifier(
                config.model,
                channels=channels,
                image_size=size,
                classes=classes,
                width=width,
                bio=bio,
            )
    except (ValueError, TypeError) as error:
        if isinstance(error, BuildError):
            raise
        raise BuildError(f"cannot build {config.kind} {config.model!r}: {error}") from error
    raise ConfigError(f"no model for config {type(config).__name__}")


def build(kind: str, variant: str = "standard", **options: Any) -> nn.Module:
    """Shortcut: ``build('gan', 'mouse', image_size=32, channels=1)``.

    ``options`` are fields of the kind's config (``model``, ``usage``, ``width``, ...); the
    published defaults fill the rest.
    """
    return build_model(make_config(kind, variant=variant, **options))


def measured_part(model: nn.Module) -> nn.Module:
    """Return the part whose usage the papers report: generator, U-Net or classifier."""
    if isinstance(model, GAN):
        return model.generator
    if isinstance(model, DDIM):
        return model.network
    return model


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
