"""bionn: bio-mimetic neural-network layers with fixed connection windows.

Mouse-mimetic layers (Saiga et al. 2025, Sci. Rep. 15:25091) connect channels laid on 2-D grids
within a radius; schizophrenia-mimicking layers (Mizutani et al. 2022, Front. Neurorobot.
16:851471) keep a band, a soft band or a random subset of the weights. ``import bionn as mouse``
also serves scripts written for the original PyTorch file (``mLinear``, ``mConv2d`` ...).
"""

from bionn import windows
from bionn.compact import load_compact, save_compact
from bionn.convert import freeze, mousify, schizofy, unfreeze
from bionn.layers import (
    MouseConv2d,
    MouseConvTranspose2d,
    MouseLinear,
    SchizoConv2d,
    SchizoLinear,
    SzConv2d,
    SzLinear,
    WindowedConv2d,
    WindowedConvTranspose2d,
    WindowedLayer,
    WindowedLinear,
    mConv2d,
    mConvTranspose2d,
    mLinear,
)
from bionn.report import UsageReport, UsageRow, usage_report
from bionn.viz import plot_usage, plot_window
from bionn.windows import WindowSpec

__version__ = "0.1.0"

__all__ = [
    "MouseConv2d",
    "MouseConvTranspose2d",
    "MouseLinear",
    "SchizoConv2d",
    "SchizoLinear",
    "SzConv2d",
    "SzLinear",
    "UsageReport",
    "UsageRow",
    "WindowSpec",
    "WindowedConv2d",
    "WindowedConvTranspose2d",
    "WindowedLayer",
    "WindowedLinear",
    "freeze",
    "load_compact",
    "mConv2d",
    "mConvTranspose2d",
    "mLinear",
    "mousify",
    "plot_usage",
    "plot_window",
    "save_compact",
    "schizofy",
    "unfreeze",
    "usage_report",
    "windows",
]
