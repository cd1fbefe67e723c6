"""PyTorch layers with connection windows."""

from bionn.layers._windowed import WindowedLayer
from bionn.layers.conv import MouseConv2d, SchizoConv2d, SzConv2d, WindowedConv2d, mConv2d
from bionn.layers.conv_transpose import (
    MouseConvTranspose2d,
    WindowedConvTranspose2d,
    mConvTranspose2d,
)
from bionn.layers.linear import MouseLinear, SchizoLinear, SzLinear, WindowedLinear, mLinear

__all__ = [
    "MouseConv2d",
    "MouseConvTranspose2d",
    "MouseLinear",
    "SchizoConv2d",
    "SchizoLinear",
    "SzConv2d",
    "SzLinear",
    "WindowedConv2d",
    "WindowedConvTranspose2d",
    "WindowedLayer",
    "WindowedLinear",
    "mConv2d",
    "mConvTranspose2d",
    "mLinear",
]
