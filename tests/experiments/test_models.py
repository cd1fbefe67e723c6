"""Forward shapes of every model and variant, published usage figures, size errors."""

from __future__ import annotations

import pytest
import torch

import bionn
from bionn.experiments import BuildError, ConfigError, build, measured_part
from bionn.experiments.config import ClassifierConfig
from bionn.experiments.models import DDIM, GAN
from bionn.experiments.train.ddim import EMA


@pytest.mark.parametrize("model", ["dcgan", "cdcgan", "tutorial"])
@pytest.mark.parametrize("variant", ["standard", "mouse"])
@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 3), (64, 3)])
def test_gan_shapes(model: str, variant: str, size: int, channels: int) -> None:
    gan = build(
        "gan",
        variant,
        model=model,
        image_size=size,
        channels=channels,
        width=8,
        disc_width=8,
        classes=10,
    )
    assert isinstance(gan, GAN)
    labels = torch.tensor([1, 2, 3]) if model == "cdcgan" else None
    fake = gan.generator(torch.randn(3, 100), labels)
    assert fake.shape == (3, channels, size, size)
    assert gan.discriminator(fake, labels).shape == (3,)
    assert gan.sample(2).shape == (2, channels, size, size)


def test_paper_gan_mouse_usage() -> None:
    gan = build("gan", "mouse", image_size=64, channels=3)
    report = bionn.usage_report(gan.generator)
    mouse = [row for row in report.layers if row.form == "2d"]
    assert [round(100 * row.usage, 2) for row in mouse] == [34.19, 34.15, 34.69]
    assert round(100 * report.windowed_total.usage, 2) == 34.21
    assert round(100 * report.total.usage, 2) == 39.96  # EXPERIMENTS.md: 40.2 % incl. biases


def test_tutorial_gan_grids() -> None:
    gan = build("gan", "mouse", model="tutorial", image_size=64, channels=3)
    grids = [
        (m.window_spec.x_width, m.window_spec.y_width)
        for m in gan.generator.modules()
        if isinstance(m, bionn.WindowedLayer)
    ]
    assert grids == [(16, 16), (16, 8), (8, 8)]


def test_paper_ddim_mouse_usage() -> None:
    ddim = build("ddim", "mouse", image_size=64, channels=3)
    report = bionn.usage_report(ddim.network)
    mouse = [row for row in report.layers if row.form == "2d"]
    assert len(mouse) == 16
    # the original: 34.57 % of the mouse convs, 44.05 % of all weights non-zero
    assert abs(report.windowed_total.usage - 0.3457) < 0.001
    assert abs(report.total.usage - 0.4405) < 0.002


@pytest.mark.parametrize("variant", ["standard", "mouse"])
@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 3)])
def test_ddim_shapes_and_sampling(variant: str, size: int, channels: int) -> None:
    ddim = build("ddim", variant, image_size=size, channels=channels, width=8)
    assert isinstance(ddim, DDIM)
    noisy = torch.randn(2, channels, size, size)
    assert ddim.network(noisy, torch.rand(2, 1, 1, 1)).shape == noisy.shape
    assert ddim.loss(torch.rand(2, channels, size, size)).ndim == 0
    images = ddim.sample(2, steps=2, generator=torch.Generator().manual_seed(0))
    again = ddim.sample(2, steps=2, generator=torch.Generator().manual_seed(0))
    assert images.shape == noisy.shape and torch.equal(images, again)  # deterministic DDIM
    assert 0 <= images.min() and images.max() <= 1


def test_ddim_keeps_channels_last_throughout() -> None:
    """Every conv and norm of a channels_last U-Net sees channels_last inputs (no layout copies)."""
    ddim = build("ddim", "mouse", image_size=32, channels=3, width=8)
    ddim.to(memory_format=torch.channels_last)
    other_layout = []

    def check(module, inputs, output) -> None:
        for t in (*inputs, output):
            if isinstance(t, torch.Tensor) and t.dim() == 4 and t.shape[1] > 1 and t.shape[-1] > 1:
                if not t.is_contiguous(memory_format=torch.channels_last):
                    other_layout.append((type(module).__name__, tuple(t.shape)))

    for module in ddim.modules():
        module.register_forward_hook(check)
    ddim.loss(torch.rand(4, 3, 32, 32).contiguous(memory_format=torch.channels_last))
    assert other_layout == []


@pytest.mark.parametrize("model", sorted(ClassifierConfig.MODELS))
def test_classifier_shapes(model: str) -> None:
    size = 32 if model in ("cnn", "vgg16", "lenet") else 28
    for variant in ClassifierConfig.MODELS[model]:
        for channels in (1, 3):
            options = {"width": 8} if model == "vgg16" else {}
            net = build("classifier", variant, model=model, channels=channels, classes=7, **options)
            assert net(torch.rand(2, channels, size, size)).shape == (2, 7)


def test_bio_variants_report_usage() -> None:
    mlp = build("classifier", "mouse", model="mouse-mlp")
    assert round(100 * bionn.usage_report(mlp).windowed_total.usage) == 34
    lenet = build("classifier", "mouse", model="lenet", channels=3)
    assert bionn.usage_report(lenet).windowed_total.usage < 0.5
    schizo = build("classifier", "schizo", model="mlp", usage=0.2)
    assert abs(bionn.usage_report(schizo).windowed_total.usage - 0.2) < 0.01
    targeted = build("gan", "mouse", image_size=32, width=16, usage=0.5)
    report = bionn.usage_report(measured_part(targeted))
    assert abs(report.windowed_total.usage - 0.5) < 0.1


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("gan", {"image_size": 30}, "does not fit the GAN"),
        ("gan", {"image_size": 8}, "does not fit the GAN"),
        ("ddim", {"image_size": 4}, "too small"),
        ("ddim", {"width": 12}, "divisible by 8"),
        ("classifier", {"model": "vgg16", "image_size": 28}, "multiple of 32"),
        ("classifier", {"model": "lenet", "image_size": 8}, "at least 16x16"),
    ],
)
def test_impossible_sizes(kind: str, options: dict, message: str) -> None:
    with pytest.raises(BuildError, match=message):
        build(kind, "standard", **options)


@pytest.mark.parametrize(
    ("kind", "variant", "options", "message"),
    [
        ("gan", "mouse", {"usage": 1.5}, "usage must be in"),
        ("gan", "mouse", {"usage": 0.0}, "usage must be in"),
        ("gan", "schizo", {}, "unknown variant"),
        ("gan", "standard", {"model": "stylegan"}, "unknown gan model"),
        ("classifier", "mouse", {"model": "mlp"}, "unknown variant"),
        ("nonsense", "standard", {}, "unknown experiment kind"),
    ],
)
def test_bad_model_options(kind: str, variant: str, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build(kind, variant, **options)


def test_ema_copies_bool_windows_and_averages_weights() -> None:
    ddim = build("ddim", "mouse", image_size=16, width=8, levels=2)
    ema = EMA(ddim, decay=0.5)
    windows = [b for b in ema.module.buffers() if b.dtype == torch.bool]
    assert windows
    with torch.no_grad():
        for p in ddim.parameters():
            p.add_(1.0)
    before = [p.clone() for p in ema.module.parameters()]
    ema.update(ddim)
    for old, new, current in zip(before, ema.module.parameters(), ddim.parameters(), strict=True):
        assert torch.allclose(new, 0.5 * old + 0.5 * current)
    for copied, original in zip(ema.module.buffers(), ddim.buffers(), strict=True):
        assert copied.dtype == original.dtype and torch.equal(copied, original)
