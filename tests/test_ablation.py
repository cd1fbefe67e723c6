"""Post-training ablation of one torch layer: the weight seen by the evaluation, exact restore."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from bionn import SchizoLinear
from bionn.ablation import AblationResult, ablate, channel_axes, classifier_evaluator, find_layer
from bionn.removal import kept_fraction, removal_window


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(12, 10),
        nn.ReLU(),
        nn.Linear(10, 10, bias=False),
        nn.ReLU(),
        nn.Linear(10, 3),
    )


def _expected(
    trained: torch.Tensor,
    pattern: str,
    n_x: int,
    n_y: int,
    strength: int,
) -> torch.Tensor:
    window = removal_window(pattern, n_x, n_y, strength)
    kept = kept_fraction(window)
    mask = torch.from_numpy(window).to(trained.dtype)
    mask = mask.reshape(mask.shape + (1,) * (trained.dim() - 2))
    return trained * mask / kept if kept > 0 else trained * mask


def _recorder(weight: torch.Tensor, seen: list[torch.Tensor]):
    def evaluate(model: nn.Module) -> dict[str, float]:
        seen.append(weight.detach().clone())
        return {"sum": float(weight.detach().sum())}

    return evaluate


@pytest.mark.parametrize("pattern", ["diagonal", "gaussian", "random", "centered", "striping"])
def test_evaluation_sees_the_rescaled_pattern_and_the_weight_comes_back(pattern: str) -> None:
    model = _mlp()
    layer = model[3]
    trained, ptr = layer.weight.detach().clone(), layer.weight.data_ptr()
    seen: list[torch.Tensor] = []
    strengths = [10, 6, 3, 1]
    results = ablate(model, "3", pattern, strengths, _recorder(layer.weight, seen))
    for strength, weight, result in zip(strengths, seen, results, strict=True):
        assert torch.equal(weight, _expected(trained, pattern, 10, 10, strength))
        kept = kept_fraction(removal_window(pattern, 10, 10, strength))
        assert result == AblationResult(pattern, strength, 1.0 - kept, {"sum": float(weight.sum())})
    assert torch.equal(layer.weight, trained) and layer.weight.data_ptr() == ptr
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad


@pytest.mark.parametrize("failure", [RuntimeError("evaluation broke"), KeyboardInterrupt()])
def test_the_weight_is_restored_when_evaluation_fails(failure: BaseException) -> None:
    model = _mlp()
    trained = model[3].weight.detach().clone()
    calls = []

    def evaluate(_: nn.Module) -> dict[str, float]:
        calls.append(1)
        if len(calls) == 2:
            raise failure
        return {}

    with pytest.raises(type(failure)):
        ablate(model, "3", "diagonal", [5, 3, 1], evaluate)
    assert len(calls) == 2
    assert torch.equal(model[3].weight, trained)


def test_conv_patterns_act_on_channel_axes_over_every_kernel_position() -> None:
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(8, 12, 3, groups=2), nn.ReLU(), nn.ConvTranspose2d(12, 6, 3))
    for name, (n_x, n_y) in (("0", (4, 12)), ("2", (6, 12))):
        layer = model.get_submodule(name)
        assert channel_axes(layer) == (n_x, n_y)
        trained, seen = layer.weight.detach().clone(), []
        ablate(model, name, "diagonal", [3], _recorder(layer.weight, seen))
        assert torch.equal(seen[0], _expected(trained, "diagonal", n_x, n_y, 3))
        assert (seen[0][..., 1, 2] == 0).sum() == (~removal_window("diagonal", n_x, n_y, 3)).sum()
        assert torch.equal(layer.weight, trained)


def test_windowed_bionn_layer_outputs_follow_the_ablated_weight() -> None:
    torch.manual_seed(2)
    model = nn.Sequential(SchizoLinear(10, 10, usage=0.5), nn.ReLU()).eval()
    x = torch.randn(4, 10)
    before = model(x)  # fills the layer's eval cache with the trained effective weight
    outputs = []
    ablate(model, "0", "centered", [4], lambda m: outputs.append(m(x)) or {})
    layer = model[0]
    plain = F.linear(x, _expected(layer.weight, "centered", 10, 10, 4) * layer.window, layer.bias)
    assert torch.allclose(outputs[0], plain.relu())
    assert torch.equal(model(x), before)


def test_classifier_evaluator_matches_a_direct_computation_and_keeps_the_mode() -> None:
    model = _mlp().train()
    torch.manual_seed(3)
    inputs, labels = torch.rand(50, 12), torch.randint(0, 3, (50,))
    metrics = classifier_evaluator(inputs, labels, batch_size=7)(model)
    logits = model.eval()(inputs)
    assert metrics["loss"] == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-5)
    assert metrics["accuracy"] == (logits.argmax(1) == labels).sum().item() / 50
    model.train()
    classifier_evaluator(inputs, labels)(model)
    assert model.training


def test_bad_layer_names_and_types_raise_with_candidates() -> None:
    model = _mlp()
    with pytest.raises(ValueError, match=r"layer 'nope' is not in the model.*'1', '3', '5'"):
        find_layer(model, "nope")
    with pytest.raises(ValueError, match="layer '2' is a ReLU"):
        ablate(model, "2", "diagonal", [1], lambda m: {})
    with pytest.raises(ValueError, match="pattern must be one of"):
        ablate(model, "3", "ring", [1], lambda m: {})
    with pytest.raises(ValueError, match="one length"):
        classifier_evaluator(torch.zeros(3, 2), torch.zeros(2, dtype=torch.long))
