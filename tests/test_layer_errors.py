"""Every bad layer argument fails at construction with an error naming it and what is allowed."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
import torch

import bionn

CASES: dict[str, tuple[Callable[[], object], type[Exception], str]] = {
    # unknown or unsupported form, per family
    "schizo-linear-form": (
        lambda: bionn.SchizoLinear(8, 8, usage=0.5, form="band"),
        ValueError,
        r"SchizoLinear: form must be one of \('diagonal', 'gaussian', "
        r"'random'\), got 'band'",
    ),
    "schizo-conv-form": (
        lambda: bionn.SchizoConv2d(8, 8, 3, usage=0.5, form="random"),
        ValueError,
        r"form must be one of \('diagonal', 'individual', 'kernel'\)",
    ),
    "mlinear-form": (
        lambda: bionn.mLinear(8, 8, form="kernel"),
        ValueError,
        r"mLinear: form must be one of \('2d', 'diagonal', 'gaussian', 'random', "
        r"'individual'\), got 'kernel'",
    ),
    "mconv-form": (
        lambda: bionn.mConv2d(8, 8, 3, form="gaussian"),
        ValueError,
        r"mConv2d: form must be one of \('2d', .*'kernel'.*\), got 'gaussian'",
    ),
    "mconvT-form": (
        lambda: bionn.mConvTranspose2d(8, 8, 3, form="Diagonal"),
        ValueError,
        r"mConvTranspose2d: form must be one of .* got 'Diagonal'",
    ),
    "szlinear-form": (
        lambda: bionn.SzLinear(8, 8, form="2d"),
        ValueError,
        r"SzLinear: form must be one of \('diagonal', 'gaussian', 'random'\)",
    ),
    "szconv-form": (
        lambda: bionn.SzConv2d(8, 8, 3, form="2d"),
        ValueError,
        r"SzConv2d: form must be one of \('diagonal', 'individual', 'kernel'\)",
    ),
    # usage / param_reduction out of range
    "usage-zero": (
        lambda: bionn.MouseLinear(8, 8, usage=0),
        ValueError,
        r"usage must be in \(0, 1\], got 0",
    ),
    "usage-above-one": (
        lambda: bionn.MouseConv2d(8, 8, 3, usage=1.5),
        ValueError,
        r"usage must be in \(0, 1\], got 1.5",
    ),
    "usage-nan": (
        lambda: bionn.MouseLinear(8, 8, usage=float("nan")),
        TypeError,
        "usage must be a number, got nan",
    ),
    "usage-string": (
        lambda: bionn.MouseLinear(8, 8, usage="0.5"),
        TypeError,
        "usage must be a number",
    ),
    "schizo-usage-negative": (
        lambda: bionn.SchizoConv2d(8, 8, 3, usage=-0.2),
        ValueError,
        r"usage must be in \(0, 1\]",
    ),
    "schizo-usage-missing": (
        lambda: bionn.SchizoLinear(8, 8),
        ValueError,
        r"SchizoLinear: usage= is required .*\(0, 1\]",
    ),
    "param-reduction-above": (
        lambda: bionn.mLinear(8, 8, param_reduction=1.5),
        ValueError,
        r"param_reduction must be in \[0, 1\], got 1.5",
    ),
    "param-reduction-below": (
        lambda: bionn.SzConv2d(8, 8, 3, param_reduction=-0.1),
        ValueError,
        r"param_reduction must be in \[0, 1\], got -0.1",
    ),
    "halfbandwidth-negative": (
        lambda: bionn.mLinear(8, 8, halfbandwidth=-1),
        ValueError,
        r"halfbandwidth must be >= 0",
    ),
    # usage / radius: exactly one
    "neither-usage-nor-radius": (
        lambda: bionn.MouseConv2d(8, 8, 3),
        ValueError,
        r"exactly one of usage= .* or radius=",
    ),
    "both-usage-and-radius": (
        lambda: bionn.MouseConvTranspose2d(8, 8, 3, usage=0.5, radius=0.5),
        ValueError,
        r"exactly one of usage= .* or radius=",
    ),
    # radius <= 0
    "radius-zero": (
        lambda: bionn.MouseLinear(8, 8, radius=0),
        ValueError,
        "radius must be a number > 0, got 0",
    ),
    "radius-negative": (
        lambda: bionn.MouseConv2d(8, 8, 3, radius=-1.0),
        ValueError,
        "radius must be a number > 0",
    ),
    "window2d-width-zero": (
        lambda: bionn.mConv2d(
            8, 8, 3, form="2d", input2d_width=4, output2d_width=4, window2d_width=0
        ),
        ValueError,
        "window2d_width must be > 0",
    ),
    # seed grid widths
    "input2d-width-zero": (
        lambda: bionn.mLinear(8, 8, form="2d", input2d_width=0),
        ValueError,
        "input2d_width must be >= 1, got 0",
    ),
    "output2d-width-negative": (
        lambda: bionn.mConv2d(8, 8, 3, form="2d", output2d_width=-1),
        ValueError,
        "output2d_width must be >= 1, got -1",
    ),
    "input2d-width-too-wide": (
        lambda: bionn.mLinear(8, 8, form="2d", input2d_width=9, output2d_width=4),
        ValueError,
        r"input2d_width\) must be <= 8 channels, got 9",
    ),
    "convT-output2d-width-too-wide": (
        lambda: bionn.mConvTranspose2d(16, 8, 3, form="2d", input2d_width=4, output2d_width=17),
        ValueError,
        r"output2d_width\) must be <= 16 channels, got 17",
    ),
    # clean API grids
    "grid-product": (
        lambda: bionn.MouseLinear(32, 32, in_grid=(4, 4), radius=0.5),
        ValueError,
        r"in_grid=\(4, 4\) holds 16 nodes .* 32; rows \* cols must equal it",
    ),
    "grid-zero": (
        lambda: bionn.MouseConv2d(32, 32, 3, out_grid=(0, 32), radius=0.5),
        ValueError,
        "out_grid rows must be >= 1, got 0",
    ),
    "grid-negative-cols": (
        lambda: bionn.MouseConv2d(32, 32, 3, in_grid=(4, -8), radius=0.5),
        ValueError,
        "in_grid cols must be >= 1, got -8",
    ),
    "grid-not-a-pair": (
        lambda: bionn.MouseLinear(32, 32, in_grid=(4, 4, 2), radius=0.5),
        ValueError,
        r"in_grid must be \(rows, cols\)",
    ),
    "grid-float": (
        lambda: bionn.MouseLinear(32, 32, in_grid=(4.0, 8), radius=0.5),
        TypeError,
        "in_grid rows must be an int",
    ),
    "convT-grid-by-data-flow": (
        lambda: bionn.MouseConvTranspose2d(32, 16, 3, out_grid=(4, 8), radius=0.5),
        ValueError,
        r"out_grid=\(4, 8\) holds 32 nodes .* 16",
    ),
    # channels
    "float-features": (
        lambda: bionn.MouseLinear(32.0, 16, radius=0.5),
        TypeError,
        "in_features must be an int, got float 32.0",
    ),
    "string-channels": (
        lambda: bionn.MouseConv2d(8, "8", 3, radius=0.5),
        TypeError,
        "out_channels must be an int, got str",
    ),
    "bool-features": (
        lambda: bionn.SchizoLinear(True, 8, usage=0.5),
        TypeError,
        "in_features must be an int, got bool",
    ),
    "zero-features": (lambda: bionn.mLinear(0, 8), ValueError, "in_features must be >= 1, got 0"),
    "float-channels-seed-conv": (
        lambda: bionn.mConv2d(8.5, 8, 3),
        TypeError,
        "in_channels must be an int, got float 8.5",
    ),
    "float-channels-convT": (
        lambda: bionn.mConvTranspose2d(8, 4.0, 3),
        TypeError,
        "out_channels must be an int",
    ),
    # groups
    "groups-in": (
        lambda: bionn.MouseConv2d(8, 12, 3, groups=3, radius=0.5),
        ValueError,
        "groups=3 must divide in_channels=8",
    ),
    "groups-out": (
        lambda: bionn.mConvTranspose2d(8, 12, 3, groups=8),
        ValueError,
        "groups=8 must divide out_channels=12",
    ),
    "groups-zero": (
        lambda: bionn.SchizoConv2d(8, 8, 3, groups=0, usage=0.5),
        ValueError,
        "groups must be >= 1, got 0",
    ),
    # seeds
    "seed-string": (
        lambda: bionn.SchizoLinear(8, 8, usage=0.5, form="random", seed="abc"),
        ValueError,
        r"seed must be an int >= 0 .* got 'abc'",
    ),
    "seed-negative": (
        lambda: bionn.SzConv2d(8, 8, 3, form="kernel", seed=-1),
        ValueError,
        "seed must be an int >= 0",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_argument_raises_a_clear_error(name: str) -> None:
    build, error, match = CASES[name]
    with pytest.raises(error, match=match):
        build()


def test_every_family_checks_its_form() -> None:
    names = {n.split("-form")[0] for n in CASES if n.endswith("-form")}
    assert names == {
        "schizo-linear",
        "schizo-conv",
        "mlinear",
        "mconv",
        "mconvT",
        "szlinear",
        "szconv",
    }


@pytest.mark.parametrize(
    ("build", "dead"),
    [
        (lambda: bionn.mLinear(100, 90, form="2d", input2d_width=10, output2d_width=8), 2),
        (lambda: bionn.mConv2d(64, 50, 3, form="2d", input2d_width=8, output2d_width=8), 2),
        # conv-transpose: y is the input channels, so output2d_width lays out in_channels
        (
            lambda: bionn.mConvTranspose2d(50, 64, 3, form="2d", input2d_width=8, output2d_width=8),
            2,
        ),
    ],
    ids=["linear", "conv", "conv-transpose"],
)
def test_seed_classes_warn_about_dead_channels(build: Callable, dead: int) -> None:
    with pytest.warns(UserWarning, match=f"the last {dead} are never connected"):
        layer = build()
    matrix = layer.window if layer.window.dim() == 2 else layer.window[..., 0, 0]
    assert not bool(matrix[-dead:].any()) and bool(matrix[:-dead].any(dim=1).all())


def test_exact_grids_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bionn.mLinear(64, 32, form="2d", input2d_width=8, output2d_width=8, window2d_width=0.5)
        bionn.mConv2d(64, 32, 3, form="diagonal")  # grids do not matter for 'diagonal'
        bionn.MouseLinear(100, 90, usage=0.4)  # default grids are exact: (10, 10), (9, 10)


def test_mismatching_state_dict_window_names_the_window() -> None:
    saved = bionn.MouseConv2d(16, 16, 3, radius=0.4).state_dict()
    layer = bionn.MouseConv2d(16, 16, 3, radius=0.7)
    before = layer.weight.detach().clone()
    with pytest.raises(ValueError, match=r"state_dict\['window'\] does not match .*form='2d'"):
        layer.load_state_dict(saved)
    assert torch.equal(layer.window, bionn.MouseConv2d(16, 16, 3, radius=0.7).window)
    assert torch.equal(layer.weight, before), "a refused state_dict must not be half-loaded"
