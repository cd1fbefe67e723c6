"""Dead windows, TorchScript and explicit constructor signatures of the PyTorch layers."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable

import pytest
import torch
from torch import nn

import bionn

# -- a window that keeps no weight --------------------------------------------------------------

# (factory, what the message must say): the class, the window's shape and what was asked
DEAD_CLEAN = {
    "schizo-linear-random": (
        lambda: bionn.SchizoLinear(2, 2, usage=0.05, form="random", seed=0),
        r"SchizoLinear: the 2 x 2 'random' window keeps no weight at "
        r"usage=0.05 \(param_reduction=0.95\), seed=0",
    ),
    "schizo-conv-kernel": (
        lambda: bionn.SchizoConv2d(2, 2, 3, usage=0.05, form="kernel", seed=0),
        r"SchizoConv2d: the 2 x 2 x 3 x 3 'kernel' window keeps no weight at "
        r"usage=0.05",
    ),
    "schizo-convT-individual": (
        lambda: bionn.SchizoConvTranspose2d(1, 1, 1, usage=0.05, form="individual", seed=1),
        r"SchizoConvTranspose2d: the 1 x 1 x 1 x 1 'individual' window keeps no weight",
    ),
    "mouse-linear-usage": (
        lambda: bionn.MouseLinear(16, 16, usage=1e-6),
        r"MouseLinear: the 16 x 16 '2d' window keeps no weight at usage=1e-06",
    ),
    "mouse-conv-radius": (
        lambda: bionn.MouseConv2d(16, 8, 3, radius=1e-200),
        r"MouseConv2d: the 8 x 16 x 3 x 3 '2d' window keeps no weight at "
        r"radius=1e-200",
    ),
    "windowed-linear-recipe": (
        lambda: bionn.WindowedLinear(4, 4, recipe=bionn.WindowSpec("diagonal", reduction=1.0)),
        r"WindowedLinear: the 4 x 4 'diagonal' window keeps no weight at usage=0",
    ),
}


@pytest.mark.parametrize("name", list(DEAD_CLEAN))
def test_clean_layers_refuse_a_window_that_keeps_no_weight(name: str) -> None:
    build, match = DEAD_CLEAN[name]
    with pytest.raises(ValueError, match=match + ".*the layer would be dead"):
        build()


DEAD_SEED = {
    "mlinear-random": (
        lambda: bionn.mLinear(2, 2, form="random", param_reduction=1.0, seed=0),
        r"mLinear: the 2 x 2 'random' window keeps no weight at usage=0 "
        r"\(param_reduction=1\), seed=0",
    ),
    "szlinear-diagonal": (
        lambda: bionn.SzLinear(16, 8, param_reduction=1.0),
        r"SzLinear: the 8 x 16 'diagonal' window keeps no weight",
    ),
    "mconv-2d": (
        lambda: bionn.mConv2d(
            4, 4, 3, form="2d", input2d_width=2, output2d_width=2, window2d_width=1e-200
        ),
        r"mConv2d: the 4 x 4 x 3 x 3 '2d' window keeps no weight at "
        r"window2d_width=1e-200 \(input2d_width=2, output2d_width=2\)",
    ),
}


@pytest.mark.parametrize("name", list(DEAD_SEED))
def test_seed_layers_warn_and_build_the_dead_layer_as_the_original(name: str) -> None:
    build, match = DEAD_SEED[name]
    with pytest.warns(UserWarning, match=match) as caught:
        layer = build()
    assert caught[0].filename == __file__, "the warning points at the caller's line"
    assert layer.usage == 0.0 and not bool(layer.window.any())
    x = torch.randn((3, layer.in_features) if isinstance(layer, nn.Linear) else (3, 4, 5, 5))
    expected = layer.bias.reshape(-1, *(1,) * (x.dim() - 2)).expand_as(layer(x))
    torch.testing.assert_close(layer(x), expected)


@pytest.mark.parametrize(
    "build",
    [
        lambda: bionn.MouseLinear(16, 16, radius=1e-9),  # the radius still reaches the node itself
        lambda: bionn.SchizoLinear(2, 2, usage=0.05, form="random", seed=1),
        lambda: bionn.SzLinear(16, 8, param_reduction=0.99),
    ],
    ids=["mouse-tiny-radius", "random-one-weight", "band-of-one"],
)
def test_a_window_keeping_a_single_weight_is_accepted(build: Callable[[], nn.Module]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = build()
    assert 0 < layer.usage <= 0.25 and bool(layer.window.any())


# -- TorchScript --------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_jit_script_is_refused_naming_the_ways_out() -> None:
    model = nn.Sequential(bionn.MouseConv2d(8, 8, 3, padding=1, usage=0.35), nn.ReLU())
    match = (
        r"MouseConv2d: torch.jit.script cannot compile windowed layers .* "
        r"torch.export.export\(model, args\) or torch.compile\(model\).* layer.to_plain\(\)"
    )
    with pytest.raises(RuntimeError, match=match):
        torch.jit.script(model)
    with pytest.raises(RuntimeError, match="SchizoLinear: torch.jit.script cannot compile"):
        torch.jit.script(bionn.SchizoLinear(8, 8, usage=0.5))
    # the ways out the message names give the eager model's output
    x = torch.randn(2, 8, 6, 6)
    expected = model(x)
    exported = torch.export.export(model, (x,)).module()
    torch.testing.assert_close(exported(x), expected)
    scripted = torch.jit.script(nn.Sequential(model[0].to_plain(), nn.ReLU()))
    torch.testing.assert_close(scripted(x), expected)


# -- constructor signatures ---------------------------------------------------------------------

MOUSE_ARGUMENTS = {
    "usage": None,
    "radius": None,
    "in_grid": None,
    "out_grid": None,
    "scale_init": True,
}
SCHIZO_ARGUMENTS = {"usage": None, "form": "diagonal", "seed": None, "scale_init": True}
WINDOWED_ARGUMENTS = {"recipe": inspect.Parameter.empty, "scale_init": True}


@pytest.mark.parametrize(
    ("cls", "ours"),
    [
        (bionn.MouseLinear, MOUSE_ARGUMENTS),
        (bionn.MouseConv2d, MOUSE_ARGUMENTS),
        (bionn.MouseConvTranspose2d, MOUSE_ARGUMENTS),
        (bionn.SchizoLinear, SCHIZO_ARGUMENTS),
        (bionn.SchizoConv2d, SCHIZO_ARGUMENTS),
        (bionn.SchizoConvTranspose2d, SCHIZO_ARGUMENTS),
        (bionn.WindowedLinear, WINDOWED_ARGUMENTS),
        (bionn.WindowedConv2d, WINDOWED_ARGUMENTS),
        (bionn.WindowedConvTranspose2d, WINDOWED_ARGUMENTS),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_signature_is_the_framework_layer_then_ours_keyword_only(cls: type, ours: dict) -> None:
    parameters = inspect.signature(cls).parameters
    plain = inspect.signature(cls.plain_class()).parameters
    assert list(parameters) == [*plain, *ours]
    assert list(plain)[-2:] == ["device", "dtype"]
    for name, parameter in plain.items():
        assert parameters[name].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        assert parameters[name].default == parameter.default, name
    for name, default in ours.items():
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters[name].default == default, name


def test_every_framework_argument_reaches_the_layer_positionally() -> None:
    conv = bionn.MouseConvTranspose2d(
        8, 4, 3, 2, 1, 1, 2, False, 1, "zeros", "cpu", torch.float64, usage=0.5
    )
    expected = nn.ConvTranspose2d(8, 4, 3, 2, 1, 1, 2, False, 1, "zeros", "cpu", torch.float64)
    assert conv.extra_repr().startswith(expected.extra_repr())
    assert conv.weight.dtype == torch.float64 and conv.bias is None
    linear = bionn.SchizoLinear(8, 4, False, "meta", torch.float16, usage=0.5)
    assert linear.weight.is_meta and linear.weight.dtype == torch.float16 and linear.bias is None


def test_conversion_leaves_a_layer_whose_window_would_be_empty_plain() -> None:
    import warnings

    model = torch.nn.Sequential(
        torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(64, 8), torch.nn.Linear(8, 1)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = bionn.schizofy(model, usage=0.05, form="random", seed=0, min_channels=1)
    skipped = {change.name: change.note for change in report.skipped}
    assert "its window would keep no weight" in skipped["0"]
    assert type(model[0]) is torch.nn.Linear  # left as it was
    assert isinstance(model[2], bionn.WindowedLinear)  # the others still converted
