"""Pictures of connection windows and of a model's weight usage, as PNG files.

:func:`plot_window` draws a layer's x-y connection matrix; for mouse-mimetic '2d' windows it
adds the two node planes with one output node and the inputs it connects to highlighted: the
cone picture of Saiga et al. 2025 (Sci. Rep. 15:25091), Fig. 4a. :func:`plot_usage` draws the
per-layer usage bars of :func:`bionn.usage_report`. Matplotlib is imported only when a function
runs (``import bionn`` never imports it), and figures are drawn without pyplot, so nothing
needs a display.

Example:
    >>> import bionn, tempfile
    >>> layer = bionn.MouseConv2d(64, 64, 3, usage=0.35)
    >>> figure = bionn.plot_window(layer, tempfile.mkdtemp() + "/window.png")

"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from bionn.layers import WindowedLayer
from bionn.report import usage_report

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from mpl_toolkits.mplot3d import Axes3D

__all__ = ["plot_usage", "plot_window"]

_FORM_COLOURS = {
    "2d": "tab:blue",
    "diagonal": "tab:orange",
    "gaussian": "tab:green",
    "random": "tab:red",
    "individual": "tab:purple",
    "kernel": "tab:brown",
}


def plot_window(
    layer: WindowedLayer, path: str | os.PathLike[str] | None = None, *, node: int | None = None
) -> Figure:
    """Draw ``layer``'s connection window; for '2d' windows also the cone of one output node.

    Args:
        layer: A windowed layer.
        path: Where to write the PNG; None only returns the figure.
        node: The output node of the cone picture (default the centre of the output plane).

    Returns:
        The matplotlib ``Figure``.

    Raises:
        TypeError: ``layer`` is not a windowed layer.
        ValueError: ``node`` is not an output node of the layer.

    """
    if not isinstance(layer, WindowedLayer):
        raise TypeError(
            f"plot_window needs a windowed layer (bionn.MouseConv2d ...), "
            f"got {type(layer).__name__}"
        )
    figure = _figure(width=11 if layer.form == "2d" else 5.5, height=5)
    columns = 2 if layer.form == "2d" else 1
    _draw_matrix(figure.add_subplot(1, columns, 1), layer)
    if layer.form == "2d":
        _draw_cone(figure.add_subplot(1, 2, 2, projection="3d"), layer, node)
    figure.tight_layout()
    return _save(figure, path)


def plot_usage(model: nn.Module, path: str | os.PathLike[str] | None = None) -> Figure:
    """Draw one bar per weight layer of ``model``: the fraction of its weights in use.

    Args:
        model: Any module; plain Linear / Conv layers show as 100 % (grey).
        path: Where to write the PNG; None only returns the figure.

    Returns:
        The matplotlib ``Figure``.

    """
    report = usage_report(model)
    rows = report.layers
    figure = _figure(width=7, height=1.2 + 0.28 * max(len(rows), 1))
    axes = figure.add_subplot(1, 1, 1)
    positions = np.arange(len(rows))
    colours = [_FORM_COLOURS.get(r.form, "0.7") for r in rows]
    axes.barh(positions, [100 * r.usage for r in rows], color=colours)
    axes.set_yticks(positions, [r.name for r in rows], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of weights in use")
    total = report.windowed_total
    if total.weights:
        axes.axvline(
            100 * total.usage,
            color="k",
            linestyle="--",
            linewidth=1,
            label=f"windowed layers: {100 * total.usage:.1f} %",
        )
        axes.legend(loc="lower right", fontsize=8)
    axes.set_title(f"{type(model).__name__}: {100 * report.total.usage:.1f} % of all weights used")
    figure.tight_layout()
    return _save(figure, path)


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure  # lazy: plotting is optional

    return Figure(figsize=(width, height), dpi=100)


def _save(figure: Figure, path: str | os.PathLike[str] | None) -> Figure:
    if path is not None:
        figure.savefig(os.fspath(path), format="png")  # Figure without pyplot: the Agg canvas
    return figure


def _axis_names(layer: WindowedLayer) -> tuple[str, str]:
    """Data-flow names of the window's x and y axes (docs/spec.md: ConvTranspose2d swaps them)."""
    if isinstance(layer, nn.ConvTranspose2d):
        return "output channels", "input channels"
    unit = "features" if isinstance(layer, nn.Linear) else "channels"
    return f"input {unit}", f"output {unit}"


def _xy_matrix(layer: WindowedLayer) -> np.ndarray:
    """Return the ``(n_y, n_x)`` window; per-weight forms: the share kept over the kernel."""
    window = layer.window.detach().to("cpu", torch.float64)
    if window.dim() > 2:
        window = window.flatten(2).mean(dim=2)
    return window.numpy()


def _draw_matrix(axes: Axes, layer: WindowedLayer) -> None:
    matrix = _xy_matrix(layer)
    x_name, y_name = _axis_names(layer)
    cmap = "viridis" if layer.form == "gaussian" else "Greys"
    image = axes.imshow(
        matrix,
        cmap=cmap,
        aspect="auto",
        interpolation="nearest",
        vmin=0,
        vmax=None if layer.form == "gaussian" else 1,
    )
    if layer.form == "gaussian" or not np.isin(matrix, (0.0, 1.0)).all():
        axes.figure.colorbar(image, ax=axes, fraction=0.046)
    axes.set_xlabel(f"x: {x_name} ({matrix.shape[1]})")
    axes.set_ylabel(f"y: {y_name} ({matrix.shape[0]})")
    axes.set_title(f"{type(layer).__name__}: form {layer.form!r}, usage {100 * layer.usage:.1f} %")


def _plane(count: int, width: int) -> np.ndarray:
    """``(u, v)`` of every node of a plane laid out ``width`` per row (docs/spec.md, section 2)."""
    index = np.arange(count)
    rows = max(count // width, 1)
    return np.stack([(index % width) / width, (index // width) / rows], axis=1)


def _draw_cone(axes: Axes3D, layer: WindowedLayer, node: int | None) -> None:
    matrix = _xy_matrix(layer) > 0
    spec = layer.window_spec
    x_nodes = _plane(matrix.shape[1], spec.x_width)
    y_nodes = _plane(matrix.shape[0], spec.y_width)
    # Data flow: inputs below, outputs above; ConvTranspose2d's outputs are the x axis.
    transposed = isinstance(layer, nn.ConvTranspose2d)
    inputs, outputs = (y_nodes, x_nodes) if transposed else (x_nodes, y_nodes)
    connections = matrix if transposed else matrix.T  # (inputs, outputs)
    out_width = spec.x_width if transposed else spec.y_width
    if node is None:
        node = (len(outputs) // out_width // 2) * out_width + out_width // 2
    if not 0 <= node < len(outputs):
        raise ValueError(f"node must be an output node in [0, {len(outputs)}), got {node}")
    linked = connections[:, node]
    axes.scatter(*inputs[~linked].T, 0, color="0.8", s=8, depthshade=False)
    axes.scatter(
        *inputs[linked].T,
        0,
        color="tab:blue",
        s=14,
        depthshade=False,
        label=f"{int(linked.sum())} connected inputs",
    )
    axes.scatter(*outputs.T, 1, color="0.8", s=8, depthshade=False)
    axes.scatter(
        *outputs[node], 1, color="tab:red", s=40, depthshade=False, label=f"output node {node}"
    )
    from mpl_toolkits.mplot3d.art3d import Line3DCollection  # one artist for all the lines

    top = (*outputs[node], 1.0)
    lines = [[(u, v, 0.0), top] for u, v in inputs[linked]]
    axes.add_collection3d(Line3DCollection(lines, colors="tab:blue", linewidths=0.4, alpha=0.4))
    axes.set_zticks([0, 1], ["input plane", "output plane"])
    axes.set_xlabel("u")
    axes.set_ylabel("v")
    axes.set_title(f"radius {spec.radius:.3g} of the plane's width")
    axes.legend(loc="upper left", fontsize=8)
