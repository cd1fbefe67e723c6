"""The paper models are the published ones: per-layer counts against the original Keras code.

Reference figures: ../shared/docs/EXPERIMENTS.md (measured on the original scripts; Keras'
summary counts every trainable weight, so BatchNorm contributes gamma and beta only).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import bionn
from bionn.experiments import build
from bionn.experiments.models.ddim import Attention, MaskDropout
from bionn.experiments.models.gan import GAN

# DDIM mouse convs in build order: (active, weights)
DDIM_MOUSE = [
    (102_312, 294_912),
    (204_624, 589_824),
    (204_624, 589_824),
    (204_624, 589_824),
    (407_160, 1_179_648),
    (814_320, 2_359_296),
    (814_320, 2_359_296),
    (814_320, 2_359_296),
    (607_518, 1_769_472),
    (204_624, 589_824),
    (407_160, 1_179_648),
    (204_624, 589_824),
    (154_080, 442_368),
    (52_920, 147_456),
    (102_312, 294_912),
    (52_920, 147_456),
]
# DCGAN generator layers with parameters, in order (Keras summary, trainable)
GENERATOR = [1_654_784, 32_768, 13_107_712, 1_024, 3_277_056, 512, 819_328, 256, 9_603]
DISCRIMINATOR = [3_136, 131_200, 524_544, 2_097_664, 8_193]
GENERATOR_MOUSE = [(4_481_150, 13_107_200), (1_119_125, 3_276_800), (284_200, 819_200)]


def _trainable(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _layers_with_parameters(module: nn.Module) -> list[int]:
    counts = []
    for layer in module.modules():
        own = sum(p.numel() for p in layer.parameters(recurse=False) if p.requires_grad)
        if isinstance(layer, nn.utils.parametrize.ParametrizationList):
            continue  # spectral norm's weight, counted with its conv below
        if hasattr(layer, "parametrizations"):
            own += sum(p.numel() for p in layer.parametrizations.parameters())
        if own:
            counts.append(own)
    return counts


def _windows(module: nn.Module) -> list[tuple[int, int]]:
    return [
        (int(m.expanded_window().count_nonzero()), m.weight.numel())
        for m in module.modules()
        if isinstance(m, bionn.WindowedLayer)
    ]


@pytest.mark.parametrize("variant", ["standard", "mouse"])
def test_paper_ddim_counts(variant: str) -> None:
    unet = build("ddim", variant, image_size=64, channels=3).network
    assert _trainable(unet) == 18_106_947
    assert _windows(unet) == (DDIM_MOUSE if variant == "mouse" else [])


def test_paper_ddim_mouse_grids_follow_the_output_width() -> None:
    unet = build("ddim", "mouse", image_size=64, channels=3).network
    first_up = unet.up[0].blocks[0]
    assert first_up.conv1.in_channels == 768 and first_up.conv1.out_channels == 256
    spec = first_up.conv1.window_spec
    assert (spec.x_width, spec.y_width) == (16, 16)


@pytest.mark.parametrize("variant", ["standard", "mouse"])
def test_paper_dcgan_counts(variant: str) -> None:
    gan = build("gan", variant, image_size=64, channels=3)
    assert isinstance(gan, GAN)
    assert _layers_with_parameters(gan.generator) == GENERATOR
    assert _trainable(gan.generator) == 18_903_043
    assert _layers_with_parameters(gan.discriminator) == DISCRIMINATOR
    assert _trainable(gan.discriminator) == 2_764_737
    assert _windows(gan.generator) == (GENERATOR_MOUSE if variant == "mouse" else [])


def test_attention_residual_adds_the_normalised_input() -> None:
    torch.manual_seed(0)
    attention = Attention(16)
    nn.init.normal_(attention.norm.weight)
    nn.init.normal_(attention.norm.bias)
    x = torch.randn(2, 16, 4, 4) * 3 + 1
    with torch.no_grad():
        attention.proj.weight.zero_()
        attention.proj.bias.zero_()
        assert torch.allclose(attention(x), attention.norm(x), atol=1e-6)
        attention.proj.bias.fill_(0.5)
        assert torch.allclose(attention(x), attention.norm(x) + 0.5, atol=1e-6)


def test_mask_dropout_keeps_the_distribution_and_masks_the_gradient() -> None:
    torch.manual_seed(0)
    dropout = MaskDropout(0.25)
    x = torch.ones(200_000, requires_grad=True)
    y = dropout(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.75) < 0.01
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / 0.75))
    y.sum().backward()
    assert torch.equal(x.grad, kept * (1 / 0.75))
    assert torch.equal(dropout.eval()(x), x)
