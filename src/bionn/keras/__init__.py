"""Keras 3 layers with connection windows, for every Keras backend (``keras.ops`` only).

``import bionn.keras as mouse`` serves scripts written for the original Keras files
(``mouse.mDense``, ``mouse.mConv2D``, ``mouse.mConv2DTranspose``; ``SzDense`` and ``SzConv2D``
of ``schizo.py``); the clean layers (``MouseDense`` ... ``SchizoConv2D``) take ``usage=`` like
the PyTorch ones. Windows are identical to those of the PyTorch layers (Saiga et al. 2025,
Sci. Rep. 15:25091; Mizutani et al. 2022, Front. Neurorobot. 16:851471). Needs the optional extra
``bionn[keras]``; ``KERAS_BACKEND=torch`` uses the torch that bionn already depends on, and
``bionn[keras-backends]`` adds TensorFlow (Keras' default) and JAX. ``window_summary(model)``
lists form and usage per layer.
"""

from bionn.keras._windowed import WindowedKerasLayer
from bionn.keras.conv import MouseConv2D, SchizoConv2D, SzConv2D, mConv2D
from bionn.keras.conv_transpose import MouseConv2DTranspose, mConv2DTranspose
from bionn.keras.convert import KerasConversion, mousify, schizofy
from bionn.keras.dense import MouseDense, SchizoDense, SzDense, mDense
from bionn.keras.summary import window_summary

__all__ = [
    "KerasConversion",
    "MouseConv2D",
    "MouseConv2DTranspose",
    "MouseDense",
    "SchizoConv2D",
    "SchizoDense",
    "SzConv2D",
    "SzDense",
    "WindowedKerasLayer",
    "mConv2D",
    "mConv2DTranspose",
    "mDense",
    "mousify",
    "schizofy",
    "window_summary",
]
