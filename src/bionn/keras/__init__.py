"""Keras 3 layers with connection windows, for every Keras backend (``keras.ops`` only).

One windowed class per Keras layer type takes a window recipe (:mod:`bionn.recipes`):
``WindowedDense``, ``WindowedConv2D``, ``WindowedConv2DTranspose``. Named layers make the recipe
from their arguments: the clean ones (``MouseDense`` ... ``SchizoConv2DTranspose``) take
``usage=`` like the PyTorch ones; the seed's names (``mDense``, ``mConv2D``, ``mConv2DTranspose``,
``SzDense``, ``SzConv2D``, :mod:`bionn.keras.compat`) serve scripts written for the original
Keras files after ``import bionn.keras as mouse``. Windows are identical to those of the
PyTorch layers (Saiga et al. 2025, Sci. Rep. 15:25091; Mizutani et al. 2022, Front.
Neurorobot. 16:851471). Needs only ``bionn[keras]`` and a Keras backend (JAX, TensorFlow or
torch): PyTorch is not imported. ``window_summary(model)`` lists form and usage per layer;
``mousify`` / ``schizofy`` convert a model's layers (:mod:`bionn.keras.convert`).
"""

from bionn.keras._windowed import WindowedKerasLayer
from bionn.keras.compat import SzConv2D, SzDense, mConv2D, mConv2DTranspose, mDense
from bionn.keras.conv import MouseConv2D, SchizoConv2D, WindowedConv2D
from bionn.keras.conv_transpose import (
    MouseConv2DTranspose,
    SchizoConv2DTranspose,
    WindowedConv2DTranspose,
)
from bionn.keras.convert import KerasConversion, mousify, schizofy
from bionn.keras.dense import MouseDense, SchizoDense, WindowedDense
from bionn.keras.summary import window_summary

__all__ = [
    "KerasConversion",
    "MouseConv2D",
    "MouseConv2DTranspose",
    "MouseDense",
    "SchizoConv2D",
    "SchizoConv2DTranspose",
    "SchizoDense",
    "SzConv2D",
    "SzDense",
    "WindowedConv2D",
    "WindowedConv2DTranspose",
    "WindowedDense",
    "WindowedKerasLayer",
    "mConv2D",
    "mConv2DTranspose",
    "mDense",
    "mousify",
    "schizofy",
    "window_summary",
]
