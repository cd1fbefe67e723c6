"""mousify / schizofy model surgery, to_plain, freeze."""

from __future__ import annotations

import warnings

import pytest
import torch
import torchvision
from torch import nn

import bionn
from bionn.convert import replace_layers, unfreeze


def small_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1, bias=False, padding_mode="reflect"),
        nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1, output_padding=0, dilation=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def tiny_vit() -> nn.Module:
    return torchvision.models.VisionTransformer(
        image_size=32,
        patch_size=8,
        num_layers=2,
        num_heads=2,
        hidden_dim=64,
        mlp_dim=128,
        num_classes=10,
    )


def test_mousify_replaces_with_identical_hyper_parameters() -> None:
    model = small_cnn()
    old = {name: m for name, m in model.named_modules()}
    x = torch.randn(2, 3, 16, 16)
    shape = model(x).shape
    result = bionn.mousify(model, usage=0.35)
    assert [c.name for c in result.replaced] == ["2", "4", "8"]
    assert {c.name: c.note.split(" ")[0] for c in result.skipped} == {"0": "3", "10": "last"}
    assert isinstance(model[2], bionn.MouseConv2d)
    assert isinstance(model[4], bionn.MouseConvTranspose2d)
    assert isinstance(model[8], bionn.MouseLinear)
    for index in ("2", "4", "8"):
        new, before = model.get_submodule(index), old[index]
        assert new.extra_repr().startswith(before.extra_repr())
        assert new.plain_class() is type(before)
    assert model[2].padding_mode == "reflect" and model[2].bias is None
    assert model(x).shape == shape
    assert 0.3 < result.usage.windowed_total.usage < 0.4
    assert [r.name for r in result.usage.layers if r.form == "2d"] == ["2", "4", "8"]


def test_keep_weights_masks_the_old_weight() -> None:
    model = small_cnn()
    before = model[2].weight.detach().clone()
    bionn.mousify(model, keep_weights=True)
    window = model[2].window
    assert torch.equal(model[2].weight, before * window)
    assert torch.equal(model[2].masked_weight(), before * window)


def test_reinitialise_scales_like_a_new_layer() -> None:
    model = small_cnn()
    before = model[2].weight.detach().clone()
    bionn.mousify(model, keep_weights=False)
    assert not torch.equal(model[2].weight, before * model[2].window)
    assert int((model[2].weight != 0).sum()) <= int(model[2].expanded_window().sum())


def test_device_dtype_mode_and_requires_grad_kept() -> None:
    model = small_cnn().to(torch.float64).eval()
    model[2].weight.requires_grad_(False)
    bionn.mousify(model)
    assert model[2].weight.dtype == torch.float64 and model[8].window.dtype == torch.bool
    assert not model[2].training
    assert not model[2].weight.requires_grad and model[8].weight.requires_grad


def test_converted_resnet18_trains_and_masked_weights_stay_zero() -> None:
    torch.set_num_threads(1)
    model = torchvision.models.resnet18(weights=None, num_classes=10)
    x, y = torch.randn(4, 3, 32, 32), torch.randint(0, 10, (4,))
    shape = model(x).shape
    result = bionn.mousify(model)
    assert len(result.replaced) == 19
    assert {c.name for c in result.skipped} == {"conv1", "fc"}
    assert model(x).shape == shape
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    layer = model.layer3[0].conv2
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    assert torch.all(layer.weight.grad[~layer.expanded_window()] == 0)
    assert torch.all(layer.masked_weight()[~layer.expanded_window()] == 0)


def test_vit_mlps_convert_attention_projection_does_not() -> None:
    model = tiny_vit()
    x = torch.randn(2, 3, 32, 32)
    shape = model(x).shape
    result = bionn.mousify(model)
    names = [c.name for c in result.replaced]
    assert names == [f"encoder.layers.encoder_layer_{i}.mlp.{j}" for i in (0, 1) for j in (0, 3)]
    reasons = {c.name: c.note for c in result.skipped}
    assert (
        "nn.MultiheadAttention" in reasons["encoder.layers.encoder_layer_0.self_attention.out_proj"]
    )
    assert model(x).shape == shape


def test_project_gan_converts_spectral_norm_convs_stay() -> None:
    from bionn.experiments.models import build

    gan = build("gan", "standard", image_size=28, channels=1, width=32)
    z = gan.latent(2)
    shape = gan.generator(z).shape
    result = bionn.mousify(gan.generator)
    assert [(c.name, c.after) for c in result.replaced] == [
        ("stem.0", "MouseLinear"),
        ("body.0", "MouseConvTranspose2d"),
    ]
    assert gan.generator(z).shape == shape
    result = bionn.mousify(gan.discriminator, skip_last=False, min_channels=1)
    assert [c.name for c in result.replaced] == ["body.8"]  # the Linear head, under these rules
    assert all("spectral_norm" in c.note for c in result.skipped)


@pytest.mark.slow
def test_vgg16_and_vit_b16_convert() -> None:
    torch.set_num_threads(1)
    vgg = torchvision.models.vgg16(weights=None)
    result = bionn.mousify(vgg, keep_weights=False)
    assert len(result.replaced) == 12 + 2  # convs but the RGB one, two of three classifier layers
    assert vgg(torch.randn(1, 3, 64, 64)).shape == (1, 1000)
    vit = torchvision.models.vit_b_16(weights=None)
    result = bionn.mousify(vit)
    assert len(result.replaced) == 24
    assert vit(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


def test_shared_module_replaced_by_one_module_everywhere() -> None:
    shared = nn.Linear(32, 32)
    model = nn.Sequential(nn.Linear(16, 32), shared, nn.ReLU(), shared, nn.Linear(32, 4))
    result = bionn.mousify(model)
    assert model[1] is model[3] and isinstance(model[1], bionn.MouseLinear)
    assert [c.name for c in result.replaced] == ["0", "1"]
    assert "also 3" in result.replaced[1].note
    assert model(torch.randn(2, 16)).shape == (2, 4)


def test_include_exclude_by_type_and_name() -> None:
    model = small_cnn()
    result = bionn.mousify(model, include=[nn.Linear])
    assert [c.name for c in result.replaced] == ["8"]
    model = small_cnn()
    result = bionn.mousify(model, include=["10", "2"], min_channels=8)  # named: classifier too
    assert [c.name for c in result.replaced] == ["2", "10"]
    model = small_cnn()
    result = bionn.mousify(model, exclude=[nn.ConvTranspose2d, "8"])
    assert [c.name for c in result.replaced] == ["2"]
    model = nn.Sequential(nn.Sequential(nn.Linear(32, 32)), nn.Linear(32, 32), nn.Linear(32, 2))
    assert [c.name for c in bionn.mousify(model, include="0").replaced] == ["0.0"]


def test_min_channels_and_skip_last() -> None:
    model = small_cnn()
    result = bionn.mousify(model, min_channels=3, skip_last=False)
    assert [c.name for c in result.replaced] == ["0", "2", "4", "8", "10"]
    assert result.skipped == []


def test_schizofy_forms_and_seeds() -> None:
    model = small_cnn()
    result = bionn.schizofy(model, usage=0.5, form="random", conv_form="kernel", seed=7)
    assert [c.after for c in result.replaced] == [
        "SchizoConv2d",
        "SchizoConvTranspose2d",
        "SchizoLinear",
    ]
    assert [model[i].window_spec.seed for i in (2, 4, 8)] == [7, 8, 9]
    assert [model[i].form for i in (2, 4, 8)] == ["kernel", "kernel", "random"]
    again = small_cnn()
    bionn.schizofy(again, usage=0.5, form="random", conv_form="kernel", seed=7)
    assert torch.equal(again[2].window, model[2].window)
    diagonal = small_cnn()
    bionn.schizofy(diagonal, usage=0.5)
    assert all(diagonal[i].form == "diagonal" for i in (2, 4, 8))


def test_schizofy_gaussian_needs_a_conv_form() -> None:
    model = small_cnn()
    with pytest.raises(ValueError, match="has no conv version; pass conv_form"):
        bionn.schizofy(model, form="gaussian")
    assert type(model[2]) is nn.Conv2d  # nothing changed
    bionn.schizofy(model, form="gaussian", exclude=[nn.Conv2d, nn.ConvTranspose2d])
    assert model[8].form == "gaussian"


def test_nothing_to_convert_warns_and_reports() -> None:
    model = nn.Sequential(nn.ReLU(), nn.Flatten())
    with pytest.warns(UserWarning, match="mousify: nothing converted"):
        result = bionn.mousify(model)
    assert result.replaced == [] and result.usage.total.weights == 0
    with pytest.warns(UserWarning, match="3 channels < min_channels"):
        bionn.mousify(nn.Sequential(nn.Conv2d(3, 8, 3), nn.Linear(8, 2)))
    bionn.mousify(model := small_cnn())
    with pytest.warns(UserWarning, match="already windowed"):
        bionn.mousify(model)


def test_unsupported_include_type_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="mousify cannot convert Conv1d.*nn.Linear, nn.Conv2d"):
        bionn.mousify(small_cnn(), include=[nn.Conv1d])
    with pytest.raises(TypeError, match="layer types and name patterns"):
        bionn.mousify(small_cnn(), include=[3])
    with pytest.raises(ValueError, match="include pattern 'fc' matches no convertible layer"):
        bionn.mousify(small_cnn(), include=["fc"])
    with pytest.raises(ValueError, match="min_channels must be an int >= 1"):
        bionn.mousify(small_cnn(), min_channels=0)
    model = small_cnn()
    with pytest.raises(ValueError, match="usage"):
        bionn.mousify(model, usage=1.5)
    assert type(model[2]) is nn.Conv2d


def test_options_keep_their_defaults_and_unknown_keywords_name_the_function() -> None:
    default, explicit = small_cnn(), small_cnn()
    bionn.mousify(default)
    bionn.mousify(
        explicit, include=None, exclude=None, min_channels=16, skip_last=True, keep_weights=True
    )
    assert str(default) == str(explicit) and type(default[-1]) is nn.Linear
    model = small_cnn()
    with pytest.raises(
        TypeError,
        match=r"^mousify\(\) got an unexpected keyword argument "
        r"'skip_lsat'; it takes model, usage, include, exclude, min_channels, "
        r"skip_last, keep_weights$",
    ):
        bionn.mousify(model, skip_lsat=False)
    with pytest.raises(TypeError, match=r"^mousify\(\) got an unexpected keyword argument 'seed'"):
        bionn.mousify(model, seed=1)
    with pytest.raises(
        TypeError,
        match=r"^schizofy\(\) .* 'conv_forms'; it takes model, usage, "
        r"form, include, .*, keep_weights, conv_form, seed$",
    ):
        bionn.schizofy(model, conv_forms="kernel")
    with pytest.raises(TypeError, match="positional"):  # the options stay keyword-only
        bionn.mousify(model, 0.35, None)
    with pytest.raises(TypeError, match="positional"):
        bionn.schizofy(model, 0.5, "random", "kernel")
    assert type(model[2]) is nn.Conv2d  # nothing changed


def test_custom_policy() -> None:
    model = small_cnn()

    def replace(module: nn.Module, name: str) -> nn.Module:
        return bionn.MouseLinear(module.in_features, module.out_features, radius=0.5)

    result = replace_layers(model, {nn.Linear: replace}, skip_last=False, min_channels=1)
    assert [c.name for c in result.replaced] == ["8", "10"]
    assert type(model[2]) is nn.Conv2d


@pytest.mark.parametrize(
    "make",
    [
        lambda: bionn.MouseLinear(64, 32, usage=0.35),
        lambda: bionn.SchizoLinear(64, 32, usage=0.4, form="gaussian"),
        lambda: bionn.MouseConv2d(32, 64, 3, padding="same", padding_mode="reflect", usage=0.35),
        lambda: bionn.SchizoConv2d(32, 64, 3, groups=2, usage=0.5, form="individual", seed=1),
        lambda: bionn.MouseConvTranspose2d(
            32, 16, 4, stride=2, padding=1, output_padding=1, usage=0.35
        ),
    ],
)
def test_to_plain_and_freeze_give_the_same_output(make) -> None:
    layer = make()
    x = torch.randn(2, 64) if layer.plain_class() is nn.Linear else torch.randn(2, 32, 8, 8)
    expected = layer(x)
    plain = layer.to_plain()
    assert type(plain) is layer.plain_class()
    assert torch.equal(plain.weight, layer.masked_weight())
    assert torch.equal(plain(x), expected)
    assert plain.weight.requires_grad
    layer.freeze()
    assert layer.frozen and not layer.weight.requires_grad
    assert torch.allclose(layer(x), expected, atol=1e-6)
    assert layer.masked_weight() is layer.weight  # no multiply any more
    if layer.is_binary:
        layer.unfreeze()
        assert layer.weight.requires_grad and torch.allclose(layer(x), expected, atol=1e-6)
    else:
        with pytest.raises(ValueError, match="cannot be unfrozen"):
            layer.unfreeze()


def test_freeze_model_and_loading_into_a_frozen_layer() -> None:
    model = small_cnn()
    bionn.mousify(model)
    x = torch.randn(2, 3, 16, 16)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model[8].weight.add_(1.0)  # unmasked entries are now non-zero
    model.load_state_dict(state)
    expected = model(x)
    assert bionn.freeze(model) == 3
    with torch.no_grad():
        model[8].weight.add_(1.0)
    model.load_state_dict({**state, "8.weight": state["8.weight"] + 1.0})
    assert torch.all(model[8].weight[~model[8].expanded_window()] == 0)  # re-masked on load
    model.load_state_dict(state)
    assert torch.allclose(model(x), expected, atol=1e-6)
    assert unfreeze(model) == 3 and not model[2].frozen


def test_plain_model_round_trip_through_to_plain() -> None:
    model = small_cnn()
    bionn.mousify(model)
    x = torch.randn(2, 3, 16, 16)
    expected = model(x)
    for index in (2, 4, 8):
        model[index] = model[index].to_plain()
    assert not any(isinstance(m, bionn.WindowedLayer) for m in model.modules())
    assert torch.allclose(model(x), expected, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bionn.mousify(model)  # converts again without complaint


def tied_mlp() -> nn.Sequential:
    model = nn.Sequential(
        nn.Linear(16, 32), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 32), nn.Linear(32, 4)
    )
    model[3].weight = model[1].weight
    return model


def test_tied_weight_converted_once_and_stays_tied() -> None:
    model = tied_mlp()
    tied = model[1].weight
    before = tied.detach().clone()
    result = bionn.mousify(model)
    assert [c.name for c in result.replaced] == ["0", "1", "3"]
    assert model[1].weight is model[3].weight is tied  # the same Parameter object
    assert model[1].window is model[3].window  # one window
    assert model[1].bias is not model[3].bias
    assert torch.equal(tied, before * model[1].window)
    assert "weight tied to '3'" in result.replaced[1].note
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(4, 16)).square().sum().backward()
    optimizer.step()
    assert model[1].weight is model[3].weight
    assert torch.all(model[3].masked_weight()[~model[3].expanded_window()] == 0)


def test_tied_random_windows_share_one_seed() -> None:
    torch.manual_seed(0)
    model = tied_mlp()
    bionn.schizofy(model, form="random")
    assert model[1].window is model[3].window
    assert model[1].window_spec.seed == model[3].window_spec.seed != model[0].window_spec.seed


def test_embedding_tied_head_left_plain_with_a_warning() -> None:
    class LanguageModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(100, 32)
            self.mlp = nn.Linear(32, 32)
            self.head = nn.Linear(32, 100, bias=False)
            self.head.weight = self.embed.weight

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.head(torch.relu(self.mlp(self.embed(tokens))))

    model = LanguageModel()
    table = model.embed.weight.detach().clone()
    with pytest.warns(
        UserWarning,
        match=r"left 'head' plain: weight tied to 'embed.weight' "
        r"\(Embedding uses it without a window\)",
    ):
        result = bionn.mousify(model, skip_last=False)
    assert [c.name for c in result.replaced] == ["mlp"]
    assert type(model.head) is nn.Linear and model.head.weight is model.embed.weight
    assert torch.equal(model.embed.weight, table)  # the embedding is untouched
    assert model(torch.tensor([[1, 2, 3]])).shape == (1, 3, 100)


def test_tie_to_a_layer_left_plain_keeps_both_plain() -> None:
    model = tied_mlp()
    with pytest.warns(
        UserWarning,
        match=r"left '1' plain: weight tied to '3.weight' "
        r"\(left plain: excluded\)",
    ):
        result = bionn.mousify(model, exclude="3")
    assert [c.name for c in result.replaced] == ["0"]
    assert type(model[1]) is nn.Linear and model[1].weight is model[3].weight


def test_tied_layers_whose_windows_would_differ_stay_plain() -> None:
    model = tied_mlp()

    def by_name(module: nn.Module, name: str) -> nn.Module:  # a window per name: cannot tie
        radius = 0.3 if name == "1" else 0.6
        return bionn.MouseLinear(module.in_features, module.out_features, radius=radius)

    with pytest.warns(UserWarning, match="weight tied across '1', '3', whose windows would differ"):
        result = replace_layers(model, {nn.Linear: by_name})
    assert [c.name for c in result.replaced] == ["0"]
    assert type(model[1]) is nn.Linear and model[1].weight is model[3].weight


def test_bias_tied_to_another_module_stays_tied() -> None:
    model = nn.Sequential(nn.Linear(32, 32), nn.LayerNorm(32), nn.Linear(32, 4))
    model[1].bias = model[0].bias
    bionn.mousify(model)
    assert isinstance(model[0], bionn.MouseLinear) and model[0].bias is model[1].bias


def test_uninitialised_lazy_layer_skipped_with_a_reason() -> None:
    model = nn.Sequential(nn.LazyLinear(32), nn.ReLU(), nn.Linear(32, 32), nn.Linear(32, 4))
    report = bionn.usage_report(model)  # no crash: the lazy layer has no weights yet
    assert [r.name for r in report.layers] == ["2", "3"]
    result = bionn.mousify(model)
    assert [c.name for c in result.replaced] == ["2"]
    assert "uninitialised lazy layer (LazyLinear)" in result.skipped[0].note
    model(torch.randn(2, 20))  # the first forward makes it an nn.Linear
    assert [c.name for c in bionn.mousify(model, min_channels=8).replaced] == ["0"]


def test_scripted_modules_get_an_accurate_reason() -> None:
    scripted = torch.jit.script(small_cnn())
    with pytest.warns(UserWarning, match="nothing converted .compiled by torch.jit"):
        result = bionn.mousify(scripted)
    assert [(c.name, c.before) for c in result.skipped] == [("(model)", "Sequential (TorchScript)")]
    model = nn.Sequential(nn.Linear(32, 32), torch.jit.script(small_cnn()), nn.Linear(10, 2))
    result = bionn.mousify(model)
    assert [c.name for c in result.replaced] == ["0"]
    assert [c.name for c in result.skipped] == ["2", "1"]
    assert "convert the eager model, then script it" in result.skipped[1].note


def test_model_built_on_meta_converts_and_rebuilds_windows_after_to_empty() -> None:
    torch.manual_seed(0)
    reference = small_cnn()
    bionn.schizofy(reference, form="random", conv_form="kernel", seed=3)
    with torch.device("meta"):
        model = small_cnn()
    result = bionn.schizofy(model, form="random", conv_form="kernel", seed=3)
    assert [c.name for c in result.replaced] == ["2", "4", "8"]
    assert model[2].weight.is_meta and model[2].window.is_meta
    model.to_empty(device="cpu")
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    for index in (2, 4, 8):
        assert torch.equal(model[index].window, reference[index].window)
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 10)


def coverage_benchmark():
    """benchmarks/bench_convert_coverage.py as a module: the slow test runs a subset of it."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "bench_convert_coverage.py"
    spec = importlib.util.spec_from_file_location("bench_convert_coverage", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "resnet18",
        "lraspp_mobilenet_v3_large",
        "fasterrcnn_mobilenet_v3_large_320_fpn",
        "raft_small",
        "swin_t",
        "timm/convnext_atto",
        "timm/vit_tiny_patch16_224",
    ],
)
def test_coverage_subset_converts_forwards_and_round_trips(name: str, tmp_path) -> None:
    torch.set_num_threads(1)
    bench = coverage_benchmark()
    if name.startswith("timm/"):
        pytest.importorskip("timm")
        cases = bench.timm_cases([name.removeprefix("timm/")])
    else:
        cases = bench.torchvision_cases([name])
    for converter in bench.CONVERTERS:
        result = bench.try_case(cases[0], converter, str(tmp_path))
        assert result.error == ""
        assert result.replaced > 0 and result.forward_equal and result.exact
        assert result.ratio < 0.8  # the windowed layers hold most weights
        assert all(note for _, note in result.skipped)  # every layer left plain says why
