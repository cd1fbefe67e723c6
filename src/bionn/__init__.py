"""bionn: bio-mimetic neural-network layers with fixed connection windows.

Mouse-mimetic layers (Saiga et al. 2025, Sci. Rep. 15:25091) connect channels laid on 2-D grids
within a radius; schizophrenia-mimicking layers (Mizutani et al. 2022, Front. Neurorobot.
16:851471) keep a band, a soft band or a random subset of the weights. ``import bionn as mouse``
also serves scripts written for the original PyTorch file (``mLinear``, ``mConv2d`` ...).

The PyTorch names load on first use (PEP 562), so ``import bionn.keras`` and
``import bionn.recipes`` work without torch installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bionn import recipes, windows
from bionn.windows import WindowSpec

if TYPE_CHECKING:
    from bionn.compact import load_compact, save_compact
    from bionn.convert import freeze, mousify, schizofy, unfreeze
    from bionn.layers import (
        MouseConv2d,
        MouseConvTranspose2d,
        MouseLinear,
        SchizoConv2d,
        SchizoConvTranspose2d,
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

__version__ = "0.1.0"

# public name -> the module that defines it (imported on first access: these need torch)
_LAZY = {
    **dict.fromkeys(("load_compact", "save_compact"), "bionn.compact"),
    **dict.fromkeys(("freeze", "mousify", "schizofy", "unfreeze"), "bionn.convert"),
    **dict.fromkeys(
        (
            "MouseConv2d",
            "MouseConvTranspose2d",
            "MouseLinear",
            "SchizoConv2d",
            "SchizoConvTranspose2d",
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
        ),
        "bionn.layers",
    ),
    **dict.fromkeys(("UsageReport", "UsageRow", "usage_report"), "bionn.report"),
    **dict.fromkeys(("plot_usage", "plot_window"), "bionn.viz"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bionn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later reads skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "MouseConv2d",
    "MouseConvTranspose2d",
    "MouseLinear",
    "SchizoConv2d",
    "SchizoConvTranspose2d",
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
    "recipes",
    "save_compact",
    "schizofy",
    "unfreeze",
    "usage_report",
    "windows",
]
