"""The PyTorch layers: forward equals the functional op on ``weight * window``, and everything
the parent layer supports (groups, dilation, padding modes, output_size, dtypes, memory format,
state_dict, copies, torch.compile) keeps working."""

from __future__ import annotations

import copy
import io
import pickle
import subprocess
import sys
from collections.abc import Callable

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import bionn
from bionn import WindowedLayer
from bionn.windows import window_2d, window_gaussian


def reference(layer: WindowedLayer, x: torch.Tensor, output_size=None) -> torch.Tensor:
    """The layer's output written with the functional API and an explicit masked weight."""
    weight = layer.weight * layer.window.to(layer.weight.dtype)
    if isinstance(layer, nn.Linear):
        return F.linear(x, weight, layer.bias)
    if isinstance(layer, nn.ConvTranspose2d):
        out_pad = layer.output_padding
        if output_size is not None:  # the padding that makes the requested size
            default = [
                (x.shape[2 + d] - 1) * layer.stride[d]
                - 2 * layer.padding[d]
                + layer.dilation[d] * (layer.kernel_size[d] - 1)
                + 1
                for d in range(2)
            ]
            out_pad = tuple(s - d for s, d in zip(output_size, default, strict=True))
        return F.conv_transpose2d(
            x,
            weight,
            layer.bias,
            layer.stride,
            layer.padding,
            out_pad,
            layer.groups,
            layer.dilation,
        )
    padding = layer.padding
    if layer.padding_mode != "zeros":
        ph, pw = layer.padding
        x = F.pad(x, (pw, pw, ph, ph), mode=layer.padding_mode)
        padding = 0
    return F.conv2d(x, weight, layer.bias, layer.stride, padding, layer.dilation, layer.groups)


# name -> (factory, input shape)
CASES: dict[str, tuple[Callable[..., nn.Module], tuple[int, ...]]] = {
    "mouse-linear": (lambda **kw: bionn.MouseLinear(24, 20, radius=0.5, **kw), (5, 24)),
    "mouse-linear-nobias": (
        lambda **kw: bionn.MouseLinear(24, 20, False, usage=0.4, **kw),
        (3, 7, 24),
    ),
    "schizo-linear-gaussian": (
        lambda **kw: bionn.SchizoLinear(24, 20, usage=0.4, form="gaussian", **kw),
        (5, 24),
    ),
    "schizo-linear-random": (
        lambda **kw: bionn.SchizoLinear(24, 20, usage=0.4, form="random", seed=3, **kw),
        (5, 24),
    ),
    "mlinear-2d": (
        lambda **kw: bionn.mLinear(
            16, 12, form="2d", input2d_width=4, output2d_width=4, window2d_width=0.5, **kw
        ),
        (4, 16),
    ),
    "mouse-conv": (
        lambda **kw: bionn.MouseConv2d(8, 12, 3, padding=1, radius=0.5, **kw),
        (2, 8, 7, 7),
    ),
    "mouse-conv-groups-dilation": (
        lambda **kw: bionn.MouseConv2d(8, 12, 3, stride=2, dilation=2, groups=2, radius=0.6, **kw),
        (2, 8, 11, 9),
    ),
    "mouse-conv-reflect": (
        lambda **kw: bionn.MouseConv2d(8, 8, 3, padding=2, padding_mode="reflect", usage=0.5, **kw),
        (2, 8, 6, 6),
    ),
    "mouse-conv-circular-nobias": (
        lambda **kw: bionn.MouseConv2d(
            8, 8, (3, 5), padding=(1, 2), padding_mode="circular", bias=False, radius=0.5, **kw
        ),
        (2, 8, 6, 6),
    ),
    "mouse-conv-same": (
        lambda **kw: bionn.MouseConv2d(8, 8, 4, padding="same", dilation=2, radius=0.5, **kw),
        (1, 8, 9, 9),
    ),
    "schizo-conv-kernel": (
        lambda **kw: bionn.SchizoConv2d(8, 12, 3, usage=0.5, form="kernel", seed=1, **kw),
        (2, 8, 5, 5),
    ),
    "schizo-conv-individual": (
        lambda **kw: bionn.SzConv2d(8, 12, 3, form="individual", param_reduction=0.6, seed=2, **kw),
        (2, 8, 5, 5),
    ),
    "mconv-diagonal": (lambda **kw: bionn.mConv2d(8, 12, 3, form="diagonal", **kw), (2, 8, 5, 5)),
    "mouse-convT": (
        lambda **kw: bionn.MouseConvTranspose2d(8, 12, 3, stride=2, padding=1, radius=0.5, **kw),
        (2, 8, 5, 5),
    ),
    "mouse-convT-groups": (
        lambda **kw: bionn.MouseConvTranspose2d(
            8,
            12,
            4,
            stride=2,
            padding=1,
            output_padding=1,
            groups=4,
            dilation=1,
            bias=False,
            usage=0.6,
            **kw,
        ),
        (2, 8, 5, 5),
    ),
    "schizo-convT-diagonal": (
        lambda **kw: bionn.SchizoConvTranspose2d(12, 8, 3, stride=2, padding=1, usage=0.5, **kw),
        (2, 12, 4, 4),
    ),
    "mconvT-2d": (
        lambda **kw: bionn.mConvTranspose2d(
            16,
            8,
            5,
            stride=2,
            padding=2,
            output_padding=1,
            form="2d",
            input2d_width=4,
            output2d_width=4,
            window2d_width=0.4,
            **kw,
        ),
        (2, 16, 4, 4),
    ),
}
NAMES = list(CASES)
CONV_NAMES = [n for n in NAMES if "conv" in n]


def make(name: str, **kwargs) -> tuple[nn.Module, torch.Tensor]:
    factory, shape = CASES[name]
    layer = factory(**kwargs)
    dtype = kwargs.get("dtype", torch.float32)
    return layer, torch.randn(shape, dtype=dtype)


def plain_twin(layer: nn.Module) -> nn.Module:
    """A plain torch layer of the same configuration."""
    if isinstance(layer, nn.Linear):
        return nn.Linear(layer.in_features, layer.out_features, layer.bias is not None)
    cls = nn.ConvTranspose2d if isinstance(layer, nn.ConvTranspose2d) else nn.Conv2d
    kwargs = dict(
        stride=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
        groups=layer.groups,
        bias=layer.bias is not None,
        padding_mode=layer.padding_mode,
    )
    if cls is nn.ConvTranspose2d:
        kwargs["output_padding"] = layer.output_padding
    return cls(layer.in_channels, layer.out_channels, layer.kernel_size, **kwargs)


# -- forward ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_forward_equals_functional_with_masked_weight(name: str) -> None:
    layer, x = make(name)
    torch.testing.assert_close(layer(x), reference(layer, x), rtol=0, atol=0)
    weight = layer.weight
    per_pair = (*weight.shape[:2], *(1,) * (weight.dim() - 2))  # stored once per channel pair
    drawn_per_weight = layer.form in ("random", "individual")
    assert layer.window.shape == (weight.shape if drawn_per_weight else per_pair)
    assert layer.expanded_window().shape == weight.shape


@pytest.mark.parametrize("name", NAMES)
def test_forward_equals_plain_layer_with_masked_weight(name: str) -> None:
    layer, x = make(name)
    plain = plain_twin(layer)
    plain.load_state_dict(
        {**layer.state_dict(), "weight": layer.masked_weight().detach()}, strict=False
    )
    torch.testing.assert_close(layer(x), plain(x))


def test_all_ones_window_equals_the_plain_layer() -> None:
    layer = bionn.MouseConv2d(8, 8, 3, padding=1, radius=2.0, scale_init=False)
    assert layer.usage == 1.0 and bool(layer.window.all())
    plain = nn.Conv2d(8, 8, 3, padding=1)
    plain.load_state_dict(layer.state_dict(), strict=False)
    x = torch.randn(2, 8, 6, 6)
    torch.testing.assert_close(layer(x), plain(x), rtol=0, atol=0)


@pytest.mark.parametrize("output_size", [(9, 9), (10, 10), (10, 9)])
def test_conv_transpose_output_size(output_size: tuple[int, int]) -> None:
    layer = bionn.MouseConvTranspose2d(8, 12, 3, stride=2, padding=1, radius=0.5)
    x = torch.randn(2, 8, 5, 5)
    out = layer(x, output_size=output_size)
    assert out.shape[-2:] == output_size
    torch.testing.assert_close(out, reference(layer, x, output_size), rtol=0, atol=0)


def test_conv_transpose_rejects_non_zero_padding_mode() -> None:
    with pytest.raises(ValueError, match="zeros.* padding mode"):
        bionn.MouseConvTranspose2d(8, 8, 3, padding_mode="reflect", radius=0.5)


@pytest.mark.parametrize("name", CONV_NAMES)
def test_channels_last(name: str) -> None:
    layer, x = make(name)
    expected = layer(x)
    layer = layer.to(memory_format=torch.channels_last)
    out = layer(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize(
    "name",
    ["mouse-linear", "schizo-linear-gaussian", "mouse-conv", "mouse-convT", "schizo-conv-kernel"],
)
def test_half_precision(name: str, dtype: torch.dtype) -> None:
    layer, x = make(name)
    expected = layer(x)
    window_dtype = layer.window.dtype
    layer = layer.half() if dtype is torch.float16 else layer.to(dtype)
    # a binary window stays bool; the gaussian window follows the weight's dtype
    assert layer.window.dtype == (torch.bool if window_dtype == torch.bool else dtype)
    out = layer(x.to(dtype))
    assert out.dtype == dtype
    torch.testing.assert_close(out.float(), expected, rtol=0.05, atol=0.05)
    torch.testing.assert_close(out, reference(layer, x.to(dtype)))


@pytest.mark.parametrize(
    "name",
    [
        "mouse-linear",
        "schizo-linear-gaussian",
        "mouse-conv",
        "mouse-convT",
        "schizo-conv-individual",
    ],
)
def test_factory_kwargs(name: str) -> None:
    layer, x = make(name, device="cpu", dtype=torch.float64)
    assert layer.weight.dtype == torch.float64 and layer.weight.device.type == "cpu"
    assert layer.window.device.type == "cpu"
    assert layer.window.dtype in (torch.bool, torch.float64)
    out = layer(x)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, reference(layer, x), rtol=0, atol=0)


def test_gaussian_window_keeps_float64_precision() -> None:
    layer = bionn.SchizoLinear(64, 32, usage=0.4, form="gaussian", dtype=torch.float64)
    expected, _ = window_gaussian(64, 32, 0.6)
    torch.testing.assert_close(layer.window, torch.from_numpy(expected), rtol=1e-12, atol=0)


def test_window_axes_with_groups() -> None:
    # docs/spec.md: x is in_channels // groups (Conv2d), out_channels // groups (ConvTranspose2d)
    expected = torch.from_numpy(window_2d(4, 12, x_width=2, y_width=4, radius=0.6))
    conv = bionn.MouseConv2d(16, 12, 3, groups=4, radius=0.6)
    up = bionn.MouseConvTranspose2d(12, 16, 3, groups=4, radius=0.6)
    for layer in (conv, up):
        assert layer.window.shape == (*layer.weight.shape[:2], 1, 1)
        assert torch.equal(layer.expanded_window()[..., 1, 2], expected)


# -- parameters and buffers ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_parameters_equal_the_plain_layer(name: str) -> None:
    layer, _ = make(name)
    count = sum(p.numel() for p in layer.parameters())
    assert count == sum(p.numel() for p in plain_twin(layer).parameters())
    names = [n for n, _ in plain_twin(layer).named_parameters()]
    assert [n for n, _ in layer.named_parameters()] == names
    assert all(p is not layer.window for p in layer.parameters())
    assert dict(layer.named_buffers())["window"] is layer.window
    assert not layer.window.requires_grad


@pytest.mark.parametrize("name", NAMES)
def test_repr_shows_form_and_usage(name: str) -> None:
    layer, _ = make(name)
    text = repr(layer)
    assert f"form={layer.form!r}" in text and f"usage={layer.usage:.4f}" in text


def test_seed_counting_methods(capsys: pytest.CaptureFixture[str]) -> None:
    n_x, n_y, p = 64, 32, 0.6
    computed = n_x * n_y / (n_x**2 + n_y**2) ** 0.5 * (1 - p**0.5)  # docs/spec.md 'diagonal'
    diagonal = bionn.mConv2d(n_x, n_y, 3, param_reduction=p, print_param_usage=True)
    assert capsys.readouterr().out == f"param %usage: {100.0 * diagonal.usage}\n"
    ones = int(diagonal.expanded_window().count_nonzero())
    assert diagonal.get_num_weights() == n_y * n_x * 9
    assert diagonal.get_num_zeros() == n_y * n_x * 9 - ones
    assert diagonal.get_reduced_ratio() == pytest.approx(1 - ones / (n_y * n_x * 9), abs=1e-15)
    assert diagonal.get_halfbandwidth() == pytest.approx(computed, rel=1e-15)
    gaussian = bionn.SzLinear(n_x, n_y, param_reduction=p, form="gaussian")
    assert gaussian.get_halfbandwidth() == pytest.approx(1.5 * computed, rel=1e-15)
    assert gaussian.get_num_zeros() == round(n_x * n_y * (1 - gaussian.usage))
    given = bionn.mLinear(n_x, n_y, halfbandwidth=5.0, form="diagonal")
    assert given.get_halfbandwidth() == 5.0
    assert (
        bionn.mLinear(
            n_x, n_y, form="2d", input2d_width=8, output2d_width=8, window2d_width=0.5
        ).get_halfbandwidth()
        == 0.0
    )


# -- initial scaling ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in NAMES if "gaussian" not in n])
def test_binary_forms_scale_the_initial_weight(name: str) -> None:
    factory, _ = CASES[name]
    torch.manual_seed(5)
    scaled = factory()
    torch.manual_seed(5)
    unscaled = factory(scale_init=False)
    ones = int(scaled.window.count_nonzero())
    expected = unscaled.weight * scaled.window * (scaled.window.numel() / ones)
    torch.testing.assert_close(scaled.weight, expected, rtol=1e-6, atol=0)
    assert bool((scaled.weight[~scaled.expanded_window()] == 0).all())


def test_reset_parameters_rescales() -> None:
    layer = bionn.MouseLinear(32, 32, radius=0.4)
    layer.reset_parameters()
    assert bool((layer.weight[~layer.expanded_window()] == 0).all())
    bound = 1 / 32**0.5 / layer.usage  # kaiming-uniform bound of nn.Linear times 1 / usage
    largest = float(layer.weight.detach().abs().max())
    assert 1 / 32**0.5 < largest <= bound * (1 + 1e-6)


def test_gaussian_is_not_scaled() -> None:
    torch.manual_seed(5)
    layer = bionn.SchizoLinear(24, 20, usage=0.4, form="gaussian")
    torch.manual_seed(5)
    plain = nn.Linear(24, 20)
    torch.testing.assert_close(layer.weight, plain.weight, rtol=0, atol=0)


# -- random forms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "factory",
    [
        lambda seed=None: bionn.SchizoLinear(40, 30, usage=0.5, form="random", seed=seed),
        lambda seed=None: bionn.SchizoConv2d(16, 12, 3, usage=0.5, form="individual", seed=seed),
        lambda seed=None: bionn.SchizoConv2d(16, 12, 3, usage=0.5, form="kernel", seed=seed),
        lambda seed=None: bionn.mConv2d(16, 12, 3, form="kernel", param_reduction=0.7, seed=seed),
        lambda seed=None: bionn.mConvTranspose2d(16, 12, 3, form="individual", seed=seed),
    ],
    ids=["random", "individual", "kernel", "mconv-kernel", "mconvT-individual"],
)
def test_random_forms_are_reproducible_from_the_recorded_seed(factory: Callable) -> None:
    torch.manual_seed(11)
    first = factory()
    torch.manual_seed(11)
    again = factory()
    assert first.window_spec.seed == again.window_spec.seed
    assert torch.equal(first.window, again.window)
    rebuilt = factory(seed=first.window_spec.seed)  # from the recorded seed alone
    assert torch.equal(first.window, rebuilt.window)
    torch.manual_seed(12)
    assert not torch.equal(first.window, factory().window)
    assert f"seed={first.window_spec.seed}" in repr(first)


@pytest.mark.parametrize("cls", [bionn.SchizoConv2d, bionn.SzConv2d, bionn.mConv2d])
def test_kernel_form_drops_whole_kernels(cls: type) -> None:
    kwargs = {"usage": 0.4} if cls is bionn.SchizoConv2d else {"param_reduction": 0.6}
    layer = cls(32, 24, (3, 2), form="kernel", seed=4, **kwargs)
    window = layer.window
    per_pair = window.flatten(2)
    assert bool((per_pair.all(-1) | ~per_pair.any(-1)).all()), "a kernel is kept or dropped whole"
    assert layer.usage == pytest.approx(0.4, abs=0.06)
    individual = cls(32, 24, (3, 2), form="individual", seed=4, **kwargs).window.flatten(2)
    assert bool((individual.any(-1) & ~individual.all(-1)).any())


# -- state_dict, copies -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_weights_only(name: str) -> None:
    layer, x = make(name)
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    assert "window" in state
    torch.manual_seed(123)
    fresh, _ = make(name)
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh(x), layer(x), rtol=0, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_plain_state_dict_loads(name: str) -> None:
    layer, x = make(name)
    plain = plain_twin(layer)
    window = layer.window.clone()
    layer.load_state_dict(plain.state_dict())  # strict: no window key needed
    assert torch.equal(layer.window, window)
    assert torch.equal(layer.weight, plain.weight)
    torch.testing.assert_close(layer(x), reference(layer, x), rtol=0, atol=0)


@pytest.mark.parametrize(
    "factory",
    [
        lambda: bionn.MouseConv2d(8, 8, 3, radius=0.5),
        lambda: bionn.SchizoConvTranspose2d(8, 8, 3, usage=0.5),
    ],
    ids=["2d", "diagonal"],
)
def test_state_dict_with_a_full_size_window_loads(factory: Callable) -> None:
    # checkpoints saved before windows were stored per channel pair hold the weight's shape
    layer = factory()
    state = {**layer.state_dict(), "window": layer.expanded_window().clone()}
    fresh = factory()
    fresh.load_state_dict(state)
    assert fresh.window.shape == (8, 8, 1, 1) and torch.equal(fresh.window, layer.window)
    assert torch.equal(fresh.weight, layer.weight)
    with torch.device("meta"):
        on_meta = factory()
    on_meta.load_state_dict(state, assign=True)  # takes the loaded tensors themselves
    assert on_meta.window.shape == (8, 8, 1, 1) and torch.equal(on_meta.window, layer.window)
    other = bionn.MouseConv2d(8, 8, 3, radius=0.3)
    with pytest.raises(ValueError, match=r"state_dict\['window'\] does not match"):
        other.load_state_dict({**other.state_dict(), "window": layer.expanded_window().clone()})


@pytest.mark.parametrize(
    ("saved", "loading"),
    [
        (
            lambda: bionn.MouseLinear(32, 32, radius=0.4),
            lambda: bionn.MouseLinear(32, 32, radius=0.6),
        ),
        (
            lambda: bionn.SchizoConv2d(8, 8, 3, usage=0.5, form="kernel", seed=1),
            lambda: bionn.SchizoConv2d(8, 8, 3, usage=0.5, form="kernel", seed=2),
        ),
        (
            lambda: bionn.SchizoLinear(32, 16, usage=0.3, form="gaussian"),
            lambda: bionn.SchizoLinear(32, 16, usage=0.6, form="gaussian"),
        ),
    ],
    ids=["radius", "seed", "gaussian"],
)
def test_mismatching_window_in_state_dict_raises(saved: Callable, loading: Callable) -> None:
    state = saved().state_dict()
    layer = loading()
    with pytest.raises(ValueError, match=r"state_dict\['window'\] does not match"):
        layer.load_state_dict(state)
    wrapped = nn.Sequential(loading())
    with pytest.raises(ValueError, match=r"state_dict\['0.window'\]"):
        wrapped.load_state_dict({f"0.{k}": v for k, v in state.items()})


@pytest.mark.parametrize("name", NAMES)
def test_deepcopy_and_pickle(name: str) -> None:
    layer, x = make(name)
    layer.eval()
    with torch.no_grad():
        expected = layer(x)  # fills the eval cache, which must not travel
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert type(clone) is type(layer)
        assert torch.equal(clone.window, layer.window) and clone.window_spec == layer.window_spec
        assert clone.usage == layer.usage
        with torch.no_grad():
            torch.testing.assert_close(clone(x), expected, rtol=0, atol=0)
        with torch.no_grad():
            clone.weight.add_(1.0)
            torch.testing.assert_close(clone(x), reference(clone, x))
        assert not torch.equal(clone.weight, layer.weight), "copies must not share the weight"


@pytest.mark.slow
def test_torch_compile_equals_eager() -> None:
    layer = bionn.MouseConv2d(8, 8, 3, padding=1, radius=0.5)
    x = torch.randn(2, 8, 6, 6, requires_grad=True)
    compiled = torch.compile(layer, fullgraph=True)  # no graph break either
    out = compiled(x)
    torch.testing.assert_close(out, layer(x))
    out.sum().backward()
    assert bool((layer.weight.grad[~layer.expanded_window()] == 0).all())


@pytest.mark.parametrize(
    "wrap",
    [
        nn.utils.spectral_norm,
        nn.utils.parametrizations.spectral_norm,
        nn.utils.parametrizations.weight_norm,
    ],
    ids=["spectral_norm", "parametrizations.spectral_norm", "parametrizations.weight_norm"],
)
def test_weight_reparametrisations(wrap: Callable) -> None:
    layer = wrap(bionn.MouseConv2d(8, 8, 3, padding=1, radius=0.5))
    x = torch.randn(2, 8, 6, 6)
    layer(x).sum().backward()  # trains through the wrapper
    layer.eval()
    with torch.no_grad():
        out = layer(x)  # ``weight`` is computed by the wrapper, not a parameter
        torch.testing.assert_close(out, reference(layer, x))
        assert bool((layer.masked_weight()[~layer.expanded_window()] == 0).all())


# -- import hygiene -----------------------------------------------------------------------------


def test_import_bionn_stays_light() -> None:
    code = (
        "import sys, bionn\n"
        "heavy = [m for m in ('torchvision', 'keras', 'matplotlib', 'bionn.experiments',"
        " 'bionn.metrics', 'tensorflow', 'jax') if m in sys.modules]\n"
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
