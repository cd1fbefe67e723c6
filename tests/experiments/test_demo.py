"""``make demo`` end to end at toy size: runs trained in worker processes, front page first."""

from __future__ import annotations

import pytest

import bionn.demo as demo


@pytest.mark.slow
def test_demo_front_page_leads_with_curves_and_grids(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "OUT", tmp_path / "demo")
    monkeypatch.setattr(demo, "SEEDS", [0])
    monkeypatch.setattr(
        demo,
        "GAN",
        {
            **demo.GAN,
            "width": 8,
            "disc_width": 8,
            "steps": 4,
            "batch_size": 16,
            "eval_every": 2,
            "curve_samples": 80,
            "n_samples": 16,
        },
    )
    monkeypatch.setattr(
        demo,
        "CLASSIFIER",
        {**demo.CLASSIFIER, "width": 16, "epochs": 1, "limit": 200, "eval_every": 4},
    )
    monkeypatch.setenv("BIONN_CACHE", str(tmp_path / "cache"))
    import bionn.metrics.proxy as proxy

    original = proxy.train_proxy  # a 10-step proxy: the numbers do not matter here
    monkeypatch.setattr(proxy, "train_proxy", lambda x, y, **k: original(x, y, steps=10, **k))
    assert demo.main() == 0
    front = (tmp_path / "demo" / "report.md").read_text()
    assert front.index("(report/gan/metric_curves.png)") < front.index("(report/gan/samples.png)")
    assert front.index("(report/gan/samples.png)") < front.index("| variant |")
    assert front.index("| variant |") < front.index("(report/classifier/metric_curves.png)")
    assert (tmp_path / "demo" / "report" / "gan" / "metric_curves.png").is_file()
    assert "inconclusive" in front  # one seed per variant
    assert "gan trained mouse seed 0" in capsys.readouterr().out
