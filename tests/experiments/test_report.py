import json

import numpy as np
import pytest

from bionn.cli import main
from bionn.experiments.report import write_compare_report, write_sweep_report
from bionn.experiments.results import RunScores, UsageTotals, summarise


def _result(
    tmp_path,
    value,
    seed,
    metric_value,
    *,
    kind="gan",
    variant="mouse",
    usage=None,
    converged=True,
    records=None,
    samples=False,
):
    run = tmp_path / "s" / "runs" / f"p-{value}-s{seed}"
    run.mkdir(parents=True)
    if samples:
        from PIL import Image

        (run / "samples").mkdir()
        Image.new("L", (8, 8), color=int(200 * value)).save(run / "samples" / "final.png")
    if records:
        (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    result = {
        "metric": "FID" if kind == "gan" else "test accuracy",
        "value": metric_value,
        "higher_is_better": kind != "gan",
        "converged": converged,
        "run": str(run),
        "kind": kind,
        "variant": variant,
        "seed": seed,
        "usage": usage if usage is not None else value,
        "usage_total": 0.9,
        "radius": None if variant == "standard" else 0.2 + value,
        "reduction": None,
        "parameters": 1000,
        "weights": 800,
        "active_weights": 800 * value,
        "time_s": 1.0,
        "kid_mean": 0.01,
        "kid_std": 0.001,
        "grid_value": value,
    }
    if kind == "classifier":
        last = records[-1]
        result.update({k: last[k] for k in ("train_acc", "test_acc", "train_loss", "test_loss")})
        result.update(
            {
                "overfitting": last["test_loss"] - min(r["test_loss"] for r in records),
                "gap": last["train_acc"] - last["test_acc"],
            }
        )
    results = tmp_path / "s" / "results"
    results.mkdir(exist_ok=True)
    (results / f"p-{value}-s{seed}.json").write_text(json.dumps(result))


def _spec(tmp_path, kind, param, values, seeds) -> None:
    spec = {
        "kind": kind,
        "param": param,
        "values": values,
        "seeds": seeds,
        "base": {"data": "digits"},
        "evaluation": {},
    }
    (tmp_path / "s").mkdir(exist_ok=True)
    (tmp_path / "s" / "sweep.json").write_text(json.dumps(spec))


def test_partial_gan_sweep_report(tmp_path) -> None:
    _spec(tmp_path, "gan", "usage", [0.35, 1.0], [0, 1, 2])
    _result(tmp_path, 0.35, 0, 40.0)
    _result(tmp_path, 0.35, 1, 44.0)
    _result(tmp_path, 0.35, 2, 250.0, converged=False)
    _result(tmp_path, 1.0, 0, 50.0, variant="standard")
    path = write_sweep_report(tmp_path / "s")
    text = path.read_text()
    assert "4 of 6 runs finished" in text
    row = next(line for line in text.splitlines() if line.startswith("| 0.35 |"))
    assert "| 42 |" in row and f"| {np.std([40, 44], ddof=1):.4g} |" in row
    assert "s2: 250" in row  # listed apart, not in the mean
    assert "| 1 (standard) |" in text
    assert (path.parent / "metric_vs_usage.png").stat().st_size > 0
    summary = json.loads((path.parent / "report.json").read_text())
    assert summary["finished"] == 4 and summary["expected"] == 6


def test_gan_sweep_report_shows_each_values_samples(tmp_path) -> None:
    _spec(tmp_path, "gan", "usage", [0.35, 1.0], [0, 1])
    for seed in (0, 1):
        _result(tmp_path, 0.35, seed, 40.0 + seed, samples=True)
        _result(tmp_path, 1.0, seed, 50.0 + seed, variant="standard", samples=True)
    text = write_sweep_report(tmp_path / "s").read_text()
    assert "![sample grids](samples.png)" in text
    assert text.index("(samples.png)") < text.index("| usage |")  # before the table
    assert (tmp_path / "s" / "report" / "samples.png").stat().st_size > 0
    (tmp_path / "s" / "runs" / "p-1.0-s0" / "samples" / "final.png").unlink()
    assert "samples.png" not in write_sweep_report(tmp_path / "s").read_text()


def test_classifier_sweep_report_has_overfitting_curves(tmp_path) -> None:
    _spec(tmp_path, "classifier", "reduction", [0.0, 0.9], [0])
    rising = [
        {
            "epoch": e,
            "step": e,
            "train_loss": 1 / (e + 1),
            "train_acc": 0.9 + e / 100,
            "test_loss": 0.5 + abs(e - 1) / 10,
            "test_acc": 0.9,
        }
        for e in range(4)
    ]
    flat = [{**r, "test_loss": 0.5 - r["epoch"] / 100} for r in rising]
    _result(tmp_path, 0.0, 0, 0.9, kind="classifier", variant="standard", usage=1.0, records=rising)
    _result(tmp_path, 0.9, 0, 0.9, kind="classifier", variant="schizo", usage=0.1, records=flat)
    path = write_sweep_report(tmp_path / "s")
    text = path.read_text()
    assert "overfitting" in text and (path.parent / "classifier_sweep.png").is_file()
    summary = json.loads((path.parent / "report.json").read_text())
    over = {k: g["extras"]["overfitting"]["mean"] for k, g in summary["groups"].items()}
    assert over["0 (standard)"] == pytest.approx(0.2) and over["0.9"] == pytest.approx(0.0)


def _scores(value: float, seed: int, variant: str = "mouse", **extra) -> RunScores:
    return RunScores(
        run="r",
        kind="gan",
        variant=variant,
        seed=seed,
        metric="FID",
        value=value,
        higher_is_better=False,
        converged=value < 100,
        usage=UsageTotals(windowed=0.4, total=0.5, weights=10, active=4),
        parameters=1,
        time_s=1.0,
        radius=0.4,
        **extra,
    )


def test_summarise_statistics() -> None:
    runs = [_scores(v, i) for i, v in enumerate([10.0, 12.0, 17.0, 300.0])]
    s = summarise(runs)
    assert s.scores.mean == pytest.approx(13.0)
    assert s.scores.sd == pytest.approx(np.std([10, 12, 17], ddof=1))
    assert s.scores.n == 3 and [r.seed for r in s.not_converged] == [3]
    assert s.usage == UsageTotals(windowed=0.4, total=0.5, weights=10, active=4)


def test_run_scores_read_evaluation_dicts_and_round_trip() -> None:
    flat = {
        "metric": "FID",
        "value": 40.0,
        "higher_is_better": False,
        "converged": True,
        "run": "r",
        "kind": "gan",
        "variant": "mouse",
        "seed": 1,
        "usage": 0.35,
        "usage_total": 0.4,
        "weights": 100,
        "active_weights": 35,
        "radius": 0.4,
        "reduction": None,
        "parameters": 120,
        "time_s": 2.0,
        "kid_mean": 0.01,
        "kid_std": 0.002,
        "n_fake": 70,
    }
    scores = RunScores.from_dict(flat)
    assert scores.usage == UsageTotals(windowed=0.35, total=0.4, weights=100, active=35)
    assert scores.extras == {"n_fake": 70} and scores.kid_mean == 0.01
    assert RunScores.from_dict(json.loads(json.dumps(scores.to_dict()))) == scores
    summary = {
        "usage": {
            "windowed": 0.3,
            "total": 0.5,
            "layers": [{"weights": 10, "active": 3}, {"weights": 20, "active": 10}],
        }
    }
    assert UsageTotals.from_summary(summary) == UsageTotals(0.3, 0.5, 20, 10)


def test_report_reads_compare_folders(tmp_path, capsys) -> None:
    runs = {
        "standard": [_scores(50.0, 0, "standard"), _scores(52.0, 1, "standard")],
        "mouse": [_scores(40.0, 0), _scores(44.0, 1)],
    }
    meta = {"title": "gan dcgan on digits: standard vs mouse", "command": "bionn compare gan"}
    write_compare_report(tmp_path / "demo" / "gan", meta, runs)
    first = (tmp_path / "demo" / "gan" / "report.md").read_text()
    (tmp_path / "demo" / "gan" / "report.md").unlink()
    assert main(["report", str(tmp_path / "demo" / "gan")]) == 0
    assert (tmp_path / "demo" / "gan" / "report.md").read_text() == first
    assert "| mouse |" in capsys.readouterr().out
    # a folder of several studies (make demo's reports/demo) gets each one rewritten
    _spec(tmp_path / "demo", "gan", "usage", [0.5], [0])
    _result(tmp_path / "demo", 0.5, 0, 30.0)
    assert main(["report", str(tmp_path / "demo"), "--out", str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out
    assert out.count("report written to") == 2
    assert (tmp_path / "again" / "gan" / "report.md").read_text() == first
    assert (tmp_path / "again" / "s" / "report.md").is_file()


def test_report_combines_several_folders_into_one_page(tmp_path, capsys) -> None:
    runs = {"standard": [_scores(50.0, 0, "standard")], "mouse": [_scores(40.0, 0)]}
    write_compare_report(tmp_path / "gan", {"title": "GAN", "command": "bionn compare gan"}, runs)
    _spec(tmp_path, "gan", "usage", [0.5], [0])
    _result(tmp_path, 0.5, 0, 30.0)
    (tmp_path / "intro.md").write_text("Measured on a 2-core CPU.\n")
    page = tmp_path / "docs" / "results.md"
    assert (
        main(
            [
                "report",
                str(tmp_path / "gan"),
                str(tmp_path / "s"),
                "--combined",
                str(page),
                "--title",
                "Results",
                "--intro",
                str(tmp_path / "intro.md"),
            ]
        )
        == 0
    )
    assert f"combined page written to {page}" in capsys.readouterr().out
    text = page.read_text()
    assert text.startswith("# Results\n\nMeasured on a 2-core CPU.")
    assert text.index("## GAN") < text.index("## Sweep of usage")  # the order given
    assert "Command: `bionn compare gan`" in text
    assert "(results/gan/metric.png)" in text and "(results/s/metric_vs_usage.png)" in text
    for figure in ("gan/metric.png", "s/metric_vs_usage.png"):
        assert (tmp_path / "docs" / "results" / figure).stat().st_size > 0
    assert (
        main(
            [
                "report",
                str(tmp_path / "gan"),
                "--combined",
                str(page),
                "--intro",
                str(tmp_path / "missing.md"),
            ]
        )
        == 2
    )
    assert "missing.md" in capsys.readouterr().err


def test_report_cli_errors(tmp_path, capsys) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "neither a compare folder" in capsys.readouterr().err
    _spec(tmp_path, "gan", "usage", [0.5], [0])
    assert main(["report", str(tmp_path / "s")]) == 2
    assert "no finished runs" in capsys.readouterr().err
    _result(tmp_path, 0.5, 0, 30.0)
    assert main(["report", str(tmp_path / "s"), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "report.md").is_file()
