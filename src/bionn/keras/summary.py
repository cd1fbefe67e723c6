"""A table of the windowed layers of a Keras model: form, usage, weights kept.

``model.summary()`` lists class names only; this adds what the window does, as the original
scripts printed after training (``get_reduced_ratio()`` per layer).

Example:
    >>> import keras, bionn.keras as mouse
    >>> model = keras.Sequential([keras.Input((64,)), mouse.mDense(32, form="diagonal")])
    >>> print(window_summary(model).splitlines()[0])
    layer             class          form       usage   weights     zeros

"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bionn.keras._windowed import WindowedKerasLayer

__all__ = ["window_summary"]


def _windowed_layers(layer: Any) -> Iterator[WindowedKerasLayer]:
    for child in getattr(layer, "layers", ()):
        if isinstance(child, WindowedKerasLayer):
            yield child
        else:
            yield from _windowed_layers(child)


def window_summary(model: Any) -> str:
    """One line per windowed layer (nested models included) and a total line.

    Args:
        model: A Keras model (or any layer with ``.layers``), built.

    Returns:
        The table as text; unbuilt layers show ``-`` for usage and counts.

    """
    lines = [f"{'layer':<17} {'class':<14} {'form':<10} {'usage':>5} {'weights':>9} {'zeros':>9}"]
    total_weights = total_zeros = 0
    for layer in _windowed_layers(model):
        if layer.usage is None:
            lines.append(
                f"{layer.name:<17} {type(layer).__name__:<14} {layer.form:<10} "
                f"{'-':>5} {'-':>9} {'-':>9}"
            )
            continue
        weights, zeros = layer.get_num_weights(), layer.get_num_zeros()
        total_weights += weights
        total_zeros += zeros
        lines.append(
            f"{layer.name:<17} {type(layer).__name__:<14} {layer.form:<10} "
            f"{layer.usage:>5.3f} {weights:>9} {zeros:>9}"
        )
    usage = 1.0 - total_zeros / total_weights if total_weights else 1.0
    lines.append(
        f"{'windowed total':<17} {'':<14} {'':<10} {usage:>5.3f} {total_weights:>9} "
        f"{total_zeros:>9}"
    )
    return "\n".join(lines)
