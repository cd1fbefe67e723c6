"""Meta-device construction, scalar inputs torch accepts, and absurd sizes refused at once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import torch
from torch import nn

import bionn

# every layer class and window form, random forms with a recorded seed
FACTORIES: dict[str, Callable[..., nn.Module]] = {
    "mouse-linear-usage": lambda **kw: bionn.MouseLinear(16, 16, usage=0.35, **kw),
    "schizo-linear-gaussian": lambda **kw: bionn.SchizoLinear(
        16, 12, usage=0.4, form="gaussian", **kw
    ),
    "schizo-linear-random": lambda **kw: bionn.SchizoLinear(16, 12, usage=0.4, form="random", **kw),
    "mlinear-2d": lambda **kw: bionn.mLinear(
        16, 12, form="2d", input2d_width=4, output2d_width=4, window2d_width=0.5, **kw
    ),
    "szlinear-diagonal": lambda **kw: bionn.SzLinear(16, 12, **kw),
    "mouse-conv": lambda **kw: bionn.MouseConv2d(8, 12, 3, usage=0.5, **kw),
    "schizo-conv-individual": lambda **kw: bionn.SchizoConv2d(
        8, 12, 3, usage=0.5, form="individual", **kw
    ),
    "szconv-kernel": lambda **kw: bionn.SzConv2d(8, 12, 3, form="kernel", **kw),
    "mconv-random": lambda **kw: bionn.mConv2d(8, 12, 3, form="random", **kw),
    "mouse-convT": lambda **kw: bionn.MouseConvTranspose2d(8, 12, 4, radius=0.5, **kw),
    "schizo-convT-kernel": lambda **kw: bionn.SchizoConvTranspose2d(
        8, 12, 3, usage=0.5, form="kernel", **kw
    ),
    "mconvT-individual": lambda **kw: bionn.mConvTranspose2d(8, 12, 3, form="individual", **kw),
}


def direct_and_meta(name: str, how: str) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(5)
    direct = FACTORIES[name]()
    torch.manual_seed(5)  # the same seed drawn for the random forms
    if how == "device-argument":
        meta = FACTORIES[name](device="meta")
    else:
        with torch.device("meta"):
            meta = FACTORIES[name]()
    return direct, meta


@pytest.mark.parametrize("how", ["device-argument", "device-context"])
@pytest.mark.parametrize("name", list(FACTORIES))
def test_meta_then_to_empty_rebuilds_the_window(name: str, how: str) -> None:
    direct, meta = direct_and_meta(name, how)
    assert meta.weight.is_meta and meta.window.is_meta
    assert meta.window_spec == direct.window_spec, "the recipe (and seed) is fixed at build"
    meta.to_empty(device="cpu")
    with torch.no_grad():
        meta.window.fill_(not direct.window.dtype == torch.bool)  # garbage, as after to_empty
    meta.reset_parameters()
    assert torch.equal(meta.window, direct.window)
    assert meta.usage == direct.usage
    if meta.is_binary and meta.scale_init:
        masked = ~meta.expanded_window()
        assert bool((meta.weight[masked] == 0).all()), "the weight is scaled and masked"
    x = torch.randn((2, 16) if isinstance(meta, nn.Linear) else (2, 8, 5, 5))
    meta.load_state_dict(direct.state_dict())
    torch.testing.assert_close(meta(x), direct(x))


@pytest.fixture
def poisoned_empty_memory() -> Iterator[None]:
    """``torch.empty`` fills its memory (NaN, max int, True): an unbuilt window cannot pass."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    yield
    torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def _normal_init(module: nn.Module) -> None:
    """A model's own init, as FSDP2 / large-model code run after ``to_empty``: no reset."""
    if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight)
        nn.init.zeros_(module.bias)


@pytest.mark.usefixtures("poisoned_empty_memory")
@pytest.mark.parametrize("name", list(FACTORIES))
def test_to_empty_builds_the_window_whatever_init_follows(name: str) -> None:
    direct, meta = direct_and_meta(name, "device-context")
    meta.to_empty(device="cpu")
    meta.apply(_normal_init)
    assert meta.window.device.type == "cpu" and torch.equal(meta.window, direct.window)
    assert meta.usage == direct.usage
    masked = meta.masked_weight()
    if meta.is_binary:
        assert bool((masked[~meta.expanded_window()] == 0).all()), "masked weights are zero"
    with torch.no_grad():
        direct.weight.copy_(meta.weight)
        direct.bias.copy_(meta.bias)
    x = torch.randn((2, 16) if isinstance(meta, nn.Linear) else (2, 8, 5, 5))
    torch.testing.assert_close(meta(x), direct(x))


@pytest.mark.usefixtures("poisoned_empty_memory")
def test_a_whole_model_to_empty_builds_every_window() -> None:
    def model() -> nn.Sequential:
        return nn.Sequential(
            bionn.MouseConv2d(8, 16, 3, padding=1, usage=0.35),
            nn.ReLU(),
            bionn.SchizoConv2d(16, 16, 3, usage=0.5, form="individual", seed=4),
            nn.Flatten(),
            bionn.SchizoLinear(16 * 9, 10, usage=0.3, form="gaussian"),
        )

    direct = model()
    with torch.device("meta"):
        meta = model()
    meta.to_empty(device="cpu").apply(_normal_init)
    for built, materialised in zip(direct[::2], meta[::2], strict=True):
        assert torch.equal(materialised.window, built.window), type(built).__name__
    direct.load_state_dict(meta.state_dict())  # the windows match, so this loads
    x = torch.randn(2, 8, 5, 5)
    torch.testing.assert_close(meta(x), direct(x))


def test_moving_a_built_layer_keeps_its_window() -> None:
    layer = bionn.SchizoLinear(16, 12, usage=0.4, form="random")
    with torch.no_grad():
        layer.window[0, 0] = not layer.window[0, 0]  # not rebuilt: only meta windows are
    changed = layer.window.clone()
    assert torch.equal(layer.to(torch.float64).window, changed)


def test_meta_layer_loads_a_state_dict_with_assign() -> None:
    direct = bionn.MouseLinear(16, 16, usage=0.35)
    meta = bionn.MouseLinear(16, 16, usage=0.35, device="meta")
    meta.load_state_dict(direct.state_dict(), assign=True)
    assert torch.equal(meta.window, direct.window)
    wrong = bionn.MouseLinear(16, 16, usage=0.6).state_dict()
    with pytest.raises(ValueError, match="does not match this layer's window"):
        bionn.MouseLinear(16, 16, usage=0.35, device="meta").load_state_dict(wrong, assign=True)


# -- scalar inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "integer", [np.int64(16), np.int32(16), torch.tensor(16)], ids=["np.int64", "np.int32", "0-d"]
)
@pytest.mark.parametrize(
    "real",
    [np.float32(0.35), np.float64(0.35), torch.tensor(0.35)],
    ids=["np.float32", "np.float64", "0-d"],
)
def test_numpy_and_tensor_scalars_are_accepted(integer: object, real: object) -> None:
    expected = bionn.MouseLinear(16, 16, usage=0.35, in_grid=(4, 4))
    layer = bionn.MouseLinear(integer, integer, usage=real, in_grid=(integer // 4, 4))
    assert torch.equal(layer.window, expected.window) and layer.usage == expected.usage
    conv = bionn.MouseConv2d(integer, integer, 3, groups=np.int64(2), radius=real)
    assert conv.weight.shape == (16, 8, 3, 3)
    assert bionn.SchizoLinear(integer, 8, usage=real).usage == pytest.approx(0.35, abs=0.05)
    assert bionn.mLinear(integer, 8, param_reduction=real).in_features == 16


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: bionn.MouseLinear(np.bool_(True), 8, radius=0.5), "in_features must be an int"),
        (
            lambda: bionn.MouseLinear(torch.tensor(16.0), 8, radius=0.5),
            "in_features must be an int, got Tensor",
        ),
        (lambda: bionn.MouseLinear(16, 8, usage=True), "usage must be a number, got True"),
        (lambda: bionn.MouseLinear(16, 8, usage=torch.tensor(True)), "usage must be a number"),
        (
            lambda: bionn.MouseLinear(16, 16, in_grid=(np.float64(4), 4), radius=0.5),
            "in_grid rows must be an int",
        ),
        (
            lambda: bionn.MouseLinear(16, 16, in_grid=16, radius=0.5),
            r"in_grid must be \(rows, cols\), a pair of ints, got 16",
        ),
        (lambda: bionn.MouseConv2d(16, 16, 3.0, radius=0.5), "kernel_size must be an int"),
        (
            lambda: bionn.mLinear(16, 16, param_reduction=np.bool_(False)),
            "param_reduction must be a number",
        ),
    ],
    ids=[
        "np-bool-channels",
        "float-tensor-channels",
        "bool-usage",
        "bool-tensor-usage",
        "float-grid",
        "int-grid",
        "float-kernel",
        "np-bool-reduction",
    ],
)
def test_bool_and_non_integral_scalars_are_refused(build: Callable, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        build()


# -- absurd sizes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "size"),
    [
        (lambda: bionn.MouseConv2d(10**5, 10**5, 3, usage=0.35), "90,000,000,000 entries"),
        (lambda: bionn.MouseLinear(10**6, 10**6, usage=0.35), "1,000,000,000,000 entries"),
        (lambda: bionn.SchizoLinear(10**6, 10**6, usage=0.5, form="gaussian"), "entries"),
        (lambda: bionn.mConv2d(10**5, 10**5, 3, form="individual"), "90,000,000,000 entries"),
    ],
    ids=["mouse-conv", "mouse-linear", "gaussian", "seed-conv-random"],
)
def test_absurd_sizes_fail_at_once_naming_the_size(build: Callable, size: str) -> None:
    start = time.perf_counter()
    with pytest.raises(MemoryError, match=f"{size} needs about .* GiB"):
        build()
    assert time.perf_counter() - start < 1.0


def test_usage_solve_does_not_scale_with_the_window() -> None:
    # a window this size takes seconds to build; solving its radius must not build it
    start = time.perf_counter()
    radius, achieved = bionn.windows.radius_for_usage(8192, 8192, 128, 128, 0.35)
    assert time.perf_counter() - start < 2.0
    assert achieved == pytest.approx(0.35, abs=0.005) and 0.3 < radius < 0.5


def test_recipes_and_keras_import_without_torch() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('torch is not installed')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import bionn, bionn.recipes, bionn.seed_defaults, bionn.selection, bionn.layer_arguments\n"
        "w = bionn.recipes.build_window(bionn.recipes.mouse(usage=0.35), 64, 64)\n"
        "print(w.values.shape, 'torch' in sys.modules, 'keras' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "(64, 64) False False"
