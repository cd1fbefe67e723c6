"""Post-training removal analysis on Keras 3 models (``keras.ops`` only, every backend).

The Keras twin of :mod:`bionn.ablation` (Mizutani et al. 2022, Front. Neurorobot.
16:851471): multiply one trained kernel by a removal pattern (:mod:`bionn.removal`) at each
strength, rescale by 1 / f, evaluate, and put the trained kernel back. Keras kernels end in the
channel axes ``(..., x, y)`` (Dense ``(in, out)``, Conv2D ``(kh, kw, in / groups, out)``,
Conv2DTranspose ``(kh, kw, out, in)``, as the table of docs/spec.md), so the ``(y, x)`` window is
transposed and repeated over the kernel positions.

Example:
    >>> model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, name="hidden"),
    ...                           keras.layers.Dense(3, activation="softmax")])
    >>> x, y = np.random.rand(16, 6), np.random.randint(0, 3, 16)
    >>> results = ablate(model, "hidden", "diagonal", [6, 2], classifier_evaluator(x, y))
    >>> [round(r.removed, 3) for r in results]
    [0.0, 0.542]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

from bionn.removal import AblationResult, sweep_removal
from bionn.selection import find_layer_of_types

__all__ = ["ablate", "classifier_evaluator", "find_kernel"]

Evaluate = Callable[[keras.Model], Mapping[str, float]]
LAYER_TYPES = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)


def find_kernel(model: keras.Model, name: str) -> keras.Variable:
    """The kernel variable of the Dense / Conv2D / Conv2DTranspose layer ``name`` of ``model``.

    Raises:
        ValueError: No such layer, another type, or a kernel that is not a plain variable
            (LoRA or quantised layers); the message lists the candidates.

    """
    named_layers = ((layer.name, layer) for layer in model.layers)
    layer = find_layer_of_types(name, model.get_layer, ValueError, named_layers, LAYER_TYPES)
    kernel = layer.kernel
    if not isinstance(kernel, keras.Variable):
        raise ValueError(
            f"layer {name!r} has a derived kernel (LoRA or quantised); ablate the plain layer"
        )
    return kernel


def ablate(
    model: keras.Model,
    layer: str,
    pattern: str,
    strengths: Iterable[int],
    evaluate: Evaluate,
    *,
    seed: int = 1,
    random_protocol: str = "numpy",
    on_result: Callable[[AblationResult], None] | None = None,
) -> list[AblationResult]:
    """Remove weights of ``layer``'s kernel by ``pattern`` at each strength and evaluate.

    The kernel is restored exactly afterwards, also when ``evaluate`` raises or the run is
    interrupted. Arguments and results are those of :func:`bionn.ablation.ablate`, with Keras
    layer names.
    """
    kernel = find_kernel(model, layer)
    n_x, n_y = kernel.shape[-2], kernel.shape[-1]
    trained = ops.copy(ops.convert_to_tensor(kernel))  # a copy: assign may write in place

    def apply(window: np.ndarray, kept: float) -> None:
        mask = ops.cast(ops.convert_to_tensor(window.T), kernel.dtype)  # (x, y), broadcasts
        pruned = ops.multiply(trained, mask)
        kernel.assign(ops.divide(pruned, ops.cast(kept, kernel.dtype)) if kept > 0 else pruned)

    def restore() -> None:
        kernel.assign(trained)

    return sweep_removal(
        pattern,
        n_x,
        n_y,
        strengths,
        apply=apply,
        restore=restore,
        evaluate=lambda: evaluate(model),
        seed=seed,
        random_protocol=random_protocol,
        on_result=on_result,
    )


def classifier_evaluator(
    inputs: Any, labels: Any, *, batch_size: int = 10_000, from_logits: bool = False
) -> Evaluate:
    """An ``evaluate`` for Keras classifiers: mean sparse cross-entropy ('loss') and 'accuracy'.

    Args:
        inputs: Test inputs (array or tensor), converted to a tensor once.
        labels: Integer class labels.
        batch_size: Inputs per call of the model (``training=False``).
        from_logits: Whether the model outputs logits (the published MLP ends in softmax).

    """
    if len(inputs) != len(labels) or len(labels) == 0:
        raise ValueError(
            f"inputs and labels must be non-empty and of one length, got "
            f"{len(inputs)} and {len(labels)}"
        )
    images, targets = ops.convert_to_tensor(inputs), ops.convert_to_tensor(labels)
    count = len(labels)

    def evaluate(model: keras.Model) -> dict[str, float]:
        loss = correct = 0.0
        for start in range(0, count, batch_size):
            output = model(images[start : start + batch_size], training=False)
            target = targets[start : start + batch_size]
            losses = keras.losses.sparse_categorical_crossentropy(
                target, output, from_logits=from_logits
            )
            loss += float(ops.convert_to_numpy(ops.sum(losses)))
            hits = ops.equal(ops.argmax(output, axis=-1), ops.cast(target, "int32"))
            correct += float(ops.convert_to_numpy(ops.sum(ops.cast(hits, "float32"))))
        return {"loss": loss / count, "accuracy": correct / count}

    return evaluate
