"""Post-training removal analysis on any PyTorch model: drop weights of one layer, evaluate.

The analysis of Mizutani et al. 2022 (Front. Neurorobot. 16:851471) that motivated the band
window: take a trained model, multiply one layer's weight by a removal pattern (see
:mod:`bionn.removal`) at each strength, rescale what is kept by 1 / f (f = kept fraction; not
when f = 0), evaluate without retraining, and put the trained weight back.

The pattern acts on the layer's two channel axes as the library's windows do (docs/spec.md): Linear
``(out, in)``, Conv2d ``(out, in / groups)`` and ConvTranspose2d ``(in, out / groups)`` weights,
repeated over every kernel position. Windowed bionn layers qualify too (they subclass these).

Example:
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> evaluate = classifier_evaluator(torch.rand(32, 16), torch.randint(0, 3, (32,)))
    >>> results = ablate(model, "1", "diagonal", [16, 4, 1], evaluate)
    >>> [round(r.removed, 3) for r in results]
    [0.0, 0.609, 0.938]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bionn.removal import AblationResult, sweep_removal
from bionn.selection import find_layer_of_types

__all__ = ["AblationResult", "ablate", "channel_axes", "classifier_evaluator", "find_layer"]

Evaluate = Callable[[nn.Module], Mapping[str, float]]
LAYER_TYPES = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def find_layer(model: nn.Module, name: str) -> nn.Linear | nn.Conv2d | nn.ConvTranspose2d:
    """The sub-module ``name`` of ``model``; a Linear, Conv2d or ConvTranspose2d.

    Raises:
        ValueError: No such sub-module, or one of another type; the message lists candidates.

    """
    return find_layer_of_types(
        name, model.get_submodule, AttributeError, model.named_modules(), LAYER_TYPES
    )


def channel_axes(layer: nn.Module) -> tuple[int, int]:
    """``(n_x, n_y)`` of ``layer``'s weight: the axes a removal pattern acts on (docs/spec.md)."""
    if isinstance(layer, nn.Linear):
        return layer.in_features, layer.out_features
    if isinstance(layer, nn.ConvTranspose2d):
        return layer.out_channels // layer.groups, layer.in_channels
    if isinstance(layer, nn.Conv2d):
        return layer.in_channels // layer.groups, layer.out_channels
    raise ValueError(f"{type(layer).__name__} is not a Linear, Conv2d or ConvTranspose2d")


def ablate(
    model: nn.Module,
    layer: str,
    pattern: str,
    strengths: Iterable[int],
    evaluate: Evaluate,
    *,
    seed: int = 1,
    random_protocol: str = "numpy",
    on_result: Callable[[AblationResult], None] | None = None,
) -> list[AblationResult]:
    """Remove weights of ``layer`` by ``pattern`` at each strength and evaluate the model.

    The layer's weight is restored bit for bit afterwards, also when ``evaluate`` raises or the
    run is interrupted (KeyboardInterrupt). Nothing is rebuilt between strengths: the weight is
    overwritten in place, so optimisers and caches keep pointing at the same parameter.

    Args:
        model: Any module holding the trained layer.
        layer: Its name in ``model.named_modules()`` (e.g. ``"2"`` or ``"features.3"``).
        pattern: One of :data:`bionn.removal.PATTERNS`.
        strengths: The strengths to evaluate, in order.
        evaluate: ``evaluate(model) -> {metric: value}``, e.g. :func:`classifier_evaluator`.
        seed: Seed of the 'random' pattern.
        random_protocol: 'numpy' or 'python' (see :func:`bionn.removal.removal_window`).
        on_result: Called with each result as soon as it is known (progress, saving).

    Returns:
        One :class:`AblationResult` per strength.

    """
    module = find_layer(model, layer)
    weight = module.weight
    trained = weight.detach().clone()

    @torch.no_grad()
    def apply(window: np.ndarray, kept: float) -> None:
        weight.copy_(_removed(trained, torch.from_numpy(window), kept))

    @torch.no_grad()
    def restore() -> None:
        weight.copy_(trained)

    return sweep_removal(
        pattern,
        *channel_axes(module),
        strengths,
        apply=apply,
        restore=restore,
        evaluate=lambda: evaluate(model),
        seed=seed,
        random_protocol=random_protocol,
        on_result=on_result,
    )


def _removed(trained: Tensor, window: Tensor, kept: float) -> Tensor:
    """``trained * window / kept`` (the scripts' ``K * W / f``), window over kernel positions."""
    window = window.to(trained.device, trained.dtype)
    pruned = trained * window.reshape(window.shape + (1,) * (trained.dim() - 2))
    return pruned / kept if kept > 0 else pruned


def classifier_evaluator(
    inputs: Tensor,
    labels: Tensor,
    *,
    batch_size: int = 10_000,
    transform: Callable[[Tensor], Tensor] | None = None,
) -> Evaluate:
    """An ``evaluate`` for classifiers: mean cross-entropy ('loss') and 'accuracy' on a test set.

    The test set stays one tensor on the model's device; each call runs it in large batches
    under ``inference_mode``, in eval mode (the model's mode is restored afterwards).

    Args:
        inputs: Test inputs (any dtype ``transform`` accepts).
        labels: int64 class labels.
        batch_size: Inputs per forward pass.
        transform: Applied to each batch before the model (e.g. uint8 -> float / 255).

    """
    if len(inputs) != len(labels) or len(labels) == 0:
        raise ValueError(
            f"inputs and labels must be non-empty and of one length, got "
            f"{len(inputs)} and {len(labels)}"
        )

    def evaluate(model: nn.Module) -> dict[str, float]:
        device = next(model.parameters()).device
        images, targets = inputs.to(device), labels.to(device)
        was_training = model.training
        model.eval()
        loss = correct = 0.0
        try:
            with torch.inference_mode():
                for start in range(0, len(targets), batch_size):
                    batch = images[start : start + batch_size]
                    logits = model(transform(batch) if transform else batch).float()
                    target = targets[start : start + batch_size]
                    loss += F.cross_entropy(logits, target, reduction="sum").item()
                    correct += (logits.argmax(1) == target).sum().item()
        finally:
            model.train(was_training)
        return {"loss": loss / len(targets), "accuracy": correct / len(targets)}

    return evaluate
