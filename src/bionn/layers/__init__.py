"""PyTorch layers with connection windows.

One windowed class per torch layer type, named constructors over it (mouse, schizophrenia) and
the seed's names (:mod:`bionn.layers.compat`).
"""

from bionn.layers._windowed import MouseLayer, SchizoLayer, WindowedLayer, plain_arguments
from bionn.layers.compat import SzConv2d, SzLinear, mConv2d, mConvTranspose2d, mLinear
from bionn.layers.conv import MouseConv2d, SchizoConv2d, WindowedConv2d
from bionn.layers.conv_transpose import (
    MouseConvTranspose2d,
    SchizoConvTranspose2d,
    WindowedConvTranspose2d,
)
from bionn.layers.linear import MouseLinear, SchizoLinear, WindowedLinear

__all__ = [
    "MouseConv2d",
    "MouseConvTranspose2d",
    "MouseLayer",
    "MouseLinear",
    "SchizoConv2d",
    "SchizoConvTranspose2d",
    "SchizoLayer",
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
    "plain_arguments",
]
