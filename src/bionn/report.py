"""Per-layer weight usage of a model, as the original code printed after training.

Example:
    >>> import torch, bionn
    >>> model = torch.nn.Sequential(bionn.MouseLinear(64, 64, radius=0.5), torch.nn.Linear(64, 10))
    >>> report = bionn.usage_report(model)
    >>> [row.name for row in report.rows]
    ['0', '1', 'windowed total', 'all layers']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from bionn.layers import WindowedLayer

__all__ = ["UsageReport", "UsageRow", "usage_report"]

_PLAIN_LAYERS = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)


@dataclass(frozen=True)
class UsageRow:
    """One layer (or a total): window size, active weights and effective-weight signs."""

    name: str
    layer: str
    form: str
    weights: int
    active: int
    usage: float
    positive: int
    negative: int
    zero: int


@dataclass(frozen=True)
class UsageReport:
    """Rows per layer, then the windowed-layer total and the all-layer total."""

    rows: list[UsageRow]

    @property
    def layers(self) -> list[UsageRow]:
        """The per-layer rows, without the totals."""
        return self.rows[:-2]

    @property
    def windowed_total(self) -> UsageRow:
        """The total over windowed layers."""
        return self.rows[-2]

    @property
    def total(self) -> UsageRow:
        """The total over every weight layer (plain layers count as fully used)."""
        return self.rows[-1]

    def to_dicts(self) -> list[dict[str, object]]:
        """The rows as plain dicts (for JSON)."""
        return [asdict(row) for row in self.rows]

    def __str__(self) -> str:
        header = ("layer", "class", "form", "weights", "active", "%usage", "+", "-", "0")
        lines = [
            (
                r.name,
                r.layer,
                r.form,
                f"{r.weights:,}",
                f"{r.active:,}",
                f"{100 * r.usage:.2f}",
                f"{r.positive:,}",
                f"{r.negative:,}",
                f"{r.zero:,}",
            )
            for r in self.rows
        ]
        columns = zip(header, *lines, strict=True)
        widths = [max(len(cell) for cell in column) for column in columns]
        text = [_format_line(header, widths), _format_line(tuple("-" * w for w in widths), widths)]
        text += [_format_line(line, widths) for line in lines]
        return "\n".join(text)


def _format_line(cells: tuple[str, ...], widths: list[int]) -> str:
    pairs = enumerate(zip(cells, widths, strict=True))
    parts = [cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in pairs]  # text left
    return "  ".join(parts).rstrip()


@torch.no_grad()
def usage_report(model: nn.Module, include_plain: bool = True) -> UsageReport:
    """Usage and effective-weight sign counts of every weight layer of ``model``.

    Args:
        model: Any module.
        include_plain: Also list plain Linear / Conv layers (usage 1.0); uninitialised lazy
            layers have no weights yet and are left out.

    Weights on the meta device have no values: their sign counts are 0.
    """
    rows = []
    for name, module in model.named_modules():
        if isinstance(module, WindowedLayer):
            rows.append(_layer_row(name, module, module.masked_weight(), module.form, module.usage))
        elif include_plain and isinstance(module, _PLAIN_LAYERS):
            if nn.parameter.is_lazy(module.weight):
                continue  # an uninitialised lazy layer has no weights yet
            rows.append(_layer_row(name, module, module.weight, "-", 1.0))
    windowed = [r for r in rows if r.form != "-"]
    totals = [_sum_rows("windowed total", windowed), _sum_rows("all layers", rows)]
    return UsageReport([*rows, *totals])


def _layer_row(
    name: str, module: nn.Module, weight: torch.Tensor, form: str, usage: float
) -> UsageRow:
    weights = weight.numel()
    if weight.is_meta:  # shapes without values (a model built on the meta device)
        return UsageRow(
            name or "(model)",
            type(module).__name__,
            form,
            weights,
            round(weights * usage),
            usage,
            0,
            0,
            0,
        )
    return UsageRow(
        name=name or "(model)",
        layer=type(module).__name__,
        form=form,
        weights=weights,
        active=round(weights * usage),
        usage=usage,
        positive=int(torch.count_nonzero(weight > 0)),  # count_nonzero: no int64 sum of bools
        negative=int(torch.count_nonzero(weight < 0)),
        zero=int(torch.count_nonzero(weight == 0)),
    )


def _sum_rows(name: str, rows: list[UsageRow]) -> UsageRow:
    weights = sum(r.weights for r in rows)
    active = sum(r.active for r in rows)
    return UsageRow(
        name=name,
        layer="",
        form="",
        weights=weights,
        active=active,
        usage=active / weights if weights else 1.0,
        positive=sum(r.positive for r in rows),
        negative=sum(r.negative for r in rows),
        zero=sum(r.zero for r in rows),
    )
