"""``bionn.usage_report``: per-layer rows and totals equal direct counts of the model's weights."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from torch import nn

import bionn


@pytest.fixture
def model() -> nn.Module:
    layers = nn.Sequential(
        bionn.MouseLinear(64, 64, radius=0.5),
        nn.ReLU(),
        bionn.SchizoLinear(64, 32, usage=0.3, form="gaussian"),
        nn.Sequential(bionn.MouseConv2d(4, 8, 3, radius=0.6), nn.Conv2d(8, 4, 1)),
        bionn.SchizoConv2d(4, 4, 3, usage=0.5, form="kernel", seed=0),
        nn.Linear(32, 10, bias=False),
    )
    with torch.no_grad():  # an exact zero among the kept weights must count as zero too
        layers[0].weight[layers[0].window.nonzero()[0].tolist()] = 0.0
    return layers


def direct_row(module: nn.Module) -> dict[str, object]:
    """What a row must say, counted straight from the module."""
    windowed = isinstance(module, bionn.WindowedLayer)
    effective = (module.weight * module.window) if windowed else module.weight
    if windowed and module.window.dtype == torch.bool:
        active = int(module.expanded_window().count_nonzero())
    else:
        active = round(module.weight.numel() * (module.usage if windowed else 1.0))
    return {
        "layer": type(module).__name__,
        "form": module.form if windowed else "-",
        "weights": module.weight.numel(),
        "active": active,
        "usage": module.usage if windowed else 1.0,
        "positive": int((effective > 0).sum()),
        "negative": int((effective < 0).sum()),
        "zero": int((effective == 0).sum()),
    }


def test_rows_equal_direct_counts(model: nn.Module) -> None:
    report = bionn.usage_report(model)
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert [r.name for r in report.layers] == [n for n, _ in layers]
    for row, (_, module) in zip(report.layers, layers, strict=True):
        expected = direct_row(module)
        got = {k: getattr(row, k) for k in expected}
        assert got == expected
        assert row.positive + row.negative + row.zero == row.weights
    assert report.layers[0].zero > report.layers[0].weights - report.layers[0].active


def test_totals(model: nn.Module) -> None:
    report = bionn.usage_report(model)
    windowed = [r for r in report.layers if r.form != "-"]
    for total, rows in ((report.windowed_total, windowed), (report.total, report.layers)):
        for field in ("weights", "active", "positive", "negative", "zero"):
            assert getattr(total, field) == sum(getattr(r, field) for r in rows)
        assert total.usage == total.active / total.weights
    assert report.rows[-2:] == [report.windowed_total, report.total]
    assert report.total.weights == sum(
        m.weight.numel() for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))
    )


def test_without_plain_layers(model: nn.Module) -> None:
    report = bionn.usage_report(model, include_plain=False)
    assert all(r.form != "-" for r in report.layers) and len(report.layers) == 4
    assert report.total == dataclasses.replace(report.windowed_total, name="all layers")


def test_report_after_training_counts_masked_weights_as_zero() -> None:
    layer = bionn.MouseLinear(32, 32, usage=0.4, scale_init=False)  # raw weight non-zero
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        layer(torch.randn(4, 32)).square().sum().backward()
        optimizer.step()
    row = bionn.usage_report(layer).layers[0]
    assert row.name == "(model)"
    assert row.zero == row.weights - row.active
    assert row.positive + row.negative == row.active


def test_str_table(model: nn.Module) -> None:
    report = bionn.usage_report(model)
    lines = str(report).splitlines()
    assert lines[0].split() == [
        "layer",
        "class",
        "form",
        "weights",
        "active",
        "%usage",
        "+",
        "-",
        "0",
    ]
    assert set(lines[1]) <= {"-", " "}
    assert len(lines) == 2 + len(report.rows)
    first = report.layers[0]
    assert lines[2].split()[:6] == [
        first.name,
        "MouseLinear",
        "2d",
        f"{first.weights:,}",
        f"{first.active:,}",
        f"{100 * first.usage:.2f}",
    ]
    assert lines[-1].startswith("all layers")


def test_to_dicts_is_json_ready(model: nn.Module) -> None:
    report = bionn.usage_report(model)
    dicts = report.to_dicts()
    assert json.loads(json.dumps(dicts)) == dicts
    assert [d["name"] for d in dicts] == [r.name for r in report.rows]
    assert set(dicts[0]) == {
        "name",
        "layer",
        "form",
        "weights",
        "active",
        "usage",
        "positive",
        "negative",
        "zero",
    }


def test_empty_model() -> None:
    report = bionn.usage_report(nn.ReLU())
    assert report.layers == [] and report.total.weights == 0 and report.total.usage == 1.0
