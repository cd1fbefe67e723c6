"""The seed's PyTorch names, generated from the one defaults table, keep the seed's signatures."""

from __future__ import annotations

import inspect

import pytest
import torch

import bionn
from bionn.seed_defaults import SEED_DEFAULTS, SEED_LAYERS

TORCH_ROWS = [row for row in SEED_LAYERS if row.framework == "torch"]


@pytest.mark.parametrize("row", TORCH_ROWS, ids=[row.name for row in TORCH_ROWS])
def test_signature_is_plain_layer_then_seed_arguments(row) -> None:
    cls = getattr(bionn, row.name)
    parameters = inspect.signature(cls).parameters
    plain = [
        n for n in inspect.signature(cls.plain_class()).parameters if n not in ("device", "dtype")
    ]
    assert list(parameters) == [*plain, *row.window_args, "device", "dtype", "seed", "scale_init"]
    for name in row.window_args:
        assert parameters[name].default == SEED_DEFAULTS[name]


def test_positional_seed_arguments_follow_the_seed_order() -> None:
    # mLinear(in, out, bias, halfbandwidth, param_reduction, form, in2d, out2d, window2d)
    layer = bionn.mLinear(16, 8, False, 0, 0.5, "2d", 4, 4, 0.5)
    assert layer.bias is None and layer.form == "2d"
    assert (layer.window_spec.x_width, layer.window_spec.y_width, layer.window_spec.radius) == (
        4,
        4,
        0.5,
    )
    # SzConv2d(..., padding_mode, param_reduction, form, halfbandwidth)
    conv = bionn.SzConv2d(8, 8, 3, 1, 0, 1, 1, True, "zeros", 0.7, "kernel", seed=3)
    assert conv.form == "kernel" and conv.window_spec.reduction == pytest.approx(0.7)


def test_print_param_usage(capsys: pytest.CaptureFixture[str]) -> None:
    layer = bionn.mConvTranspose2d(8, 8, 3, form="diagonal", print_param_usage=True)
    assert capsys.readouterr().out == f"param %usage: {100.0 * layer.usage}\n"


def test_seed_layers_are_the_windowed_layers() -> None:
    assert issubclass(bionn.mConv2d, bionn.WindowedConv2d)
    assert issubclass(bionn.SzLinear, bionn.WindowedLinear)
    assert bionn.mConvTranspose2d.plain_class() is torch.nn.ConvTranspose2d
    assert bionn.mLinear.__module__ == "bionn.layers.compat"


@pytest.mark.parametrize("row", TORCH_ROWS, ids=[row.name for row in TORCH_ROWS])
def test_seed_layers_are_class_statements_documenting_their_arguments(row) -> None:
    cls = getattr(bionn, row.name)
    assert f"class {row.name}(" in inspect.getsource(cls), "a class statement, not type()"
    assert cls.__init__.__qualname__ == f"{row.name}.__init__"
    positional = [
        name
        for name, p in inspect.signature(cls).parameters.items()
        if p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    doc = inspect.getdoc(cls)
    assert doc.startswith("The original ") and f"``{row.name}``" in doc.splitlines()[0]
    assert f"Positional order: {', '.join(positional)}." in doc
    assert f"``param_reduction={SEED_DEFAULTS['param_reduction']!r}``" in doc
