"""``bionn ablate``: a tiny published-protocol run, its report, resume, checkpoints, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from _exp_helpers import run_cli

from bionn.cli import main
from bionn.experiments import ablate as ablate_cli
from bionn.experiments.ablate_report import aggregate

TINY = [
    "--data",
    "digits",
    "--epochs",
    "1",
    "--repeats",
    "2",
    "--patterns",
    "diagonal,random",
    "--strengths",
    "512,300,100,5",
    "--no-progress",
]


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished tiny analysis, shared; tests that change it work on a copy."""
    out = tmp_path_factory.mktemp("ablate") / "abl"
    assert main(["ablate", *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture()
def finished(analysed: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(analysed, tmp_path / "abl"))


def test_published_protocol_writes_rows_and_a_report(finished: Path) -> None:
    rows = _rows(finished)
    keys = {(r["repeat"], r["pattern"], r["strength"]) for r in rows}
    assert len(rows) == len(keys) == 2 * 2 * 4
    first = next(r for r in rows if r["strength"] == 512 and r["pattern"] == "diagonal")
    assert first["removed"] == 0.0 and 0.5 < first["accuracy"] <= 1.0 and first["loss"] > 0
    assert {r["removed"] for r in rows if r["strength"] == 5 and r["pattern"] == "random"} == {
        (512 - 5) ** 2 / 512**2
    }
    report = (finished / "report.md").read_text()
    assert "| diagonal |" in report and "| random |" in report and "holds until" in report
    curves = json.loads((finished / "results.json").read_text())["curves"]
    assert [p["strength"] for p in curves["diagonal"]] == [512, 300, 100, 5]
    assert all(p["repeats"] == 2 for p in curves["random"])
    assert (finished / "ablation.png").stat().st_size > 10_000
    assert sorted(p.name for p in (finished / "models").iterdir()) == ["repeat-0.pt", "repeat-1.pt"]


def test_resume_recomputes_only_missing_strengths_and_tolerates_a_torn_line(
    finished: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    complete = _rows(finished)
    lines = (finished / "results.jsonl").read_text().splitlines(keepends=True)
    (finished / "results.jsonl").write_text("".join(lines[:5]) + lines[5][:17])  # torn write
    asked: list[tuple[str, list[int]]] = []
    real_ablate = ablate_cli.ablate

    def counting(model, layer, pattern, strengths, *args, **kwargs):
        asked.append((pattern, list(strengths)))
        return real_ablate(model, layer, pattern, strengths, *args, **kwargs)

    def no_training(*args, **kwargs):
        raise AssertionError("resuming must reuse the saved networks")

    monkeypatch.setattr(ablate_cli, "ablate", counting)
    monkeypatch.setattr(ablate_cli, "train_classifier", no_training)
    with pytest.warns(UserWarning, match="torn last line"):
        code, _, err = run_cli(capsys, "ablate", *TINY, "--out", str(finished))
    assert code == 0, err
    assert sum(len(s) for _, s in asked) == len(complete) - 5
    assert ("diagonal", []) in asked  # repeat 0's diagonal was complete
    resumed = _rows(finished)
    assert sorted(map(json.dumps, resumed)) == sorted(map(json.dumps, complete))


def test_resume_with_other_options_is_refused(
    finished: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*TINY, "--out", str(finished), "--epochs", "3"]
    code, _, err = run_cli(capsys, "ablate", *args)
    assert code == 2
    assert "epochs: 1 -> 3" in err and "another --out" in err


def test_an_interrupted_run_keeps_its_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_ablate = ablate_cli.ablate

    def interrupted(model, layer, pattern, strengths, evaluate, **kwargs):
        def stop_on_third(model):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            return evaluate(model)

        return real_ablate(model, layer, pattern, strengths, stop_on_third, **kwargs)

    calls: list[int] = []
    monkeypatch.setattr(ablate_cli, "ablate", interrupted)
    out = tmp_path / "abl"
    code, _, err = run_cli(capsys, "ablate", *TINY, "--out", str(out))
    assert code == 130 and "run the same command again" in err
    assert len(_rows(out)) == 2


def test_checkpoint_mode_analyses_a_trained_classifier(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "mlp"
    code, _, err = run_cli(
        capsys,
        "train",
        "classifier",
        "--model",
        "mlp",
        "--data",
        "digits",
        "--epochs",
        "1",
        "--width",
        "32",
        "--no-progress",
        "--out",
        str(run),
    )
    assert code == 0, err
    out = tmp_path / "abl"
    code, _, err = run_cli(
        capsys,
        "ablate",
        "--checkpoint",
        str(run),
        "--layer",
        "1",
        "--patterns",
        "band,centered",
        "--no-progress",
        "--out",
        str(out),
    )
    assert code == 0, err
    rows = _rows(out)
    assert len([r for r in rows if r["pattern"] == "band"]) == 100
    assert len([r for r in rows if r["pattern"] == "centered"]) == len(range(784, 0, -7))
    assert {r["repeat"] for r in rows} == {0}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--patterns", "diagonal,ring"], "--patterns must be a comma list"),
        (["--checkpoint", "somewhere"], "--checkpoint needs --layer"),
        (["--layer", "2"], "layer '2' is a ReLU"),
        (["--epochs", "0"], "--epochs must be >= 1"),
    ],
)
def test_bad_options_exit_2_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run_cli(capsys, "ablate", *TINY, *args, "--out", str(tmp_path / "x"))
    assert code == 2
    assert message in err


def test_bad_strengths_are_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli(capsys, "ablate", "--strengths", "a:b")
    assert "--strengths must be START:STOP:STEP" in capsys.readouterr().err


def test_aggregate_averages_repeats_and_keeps_the_band() -> None:
    rows = [
        {
            "repeat": r,
            "pattern": "diagonal",
            "strength": s,
            "removed": 1 - s / 10,
            "loss": float(r + s),
            "accuracy": 0.1 * (r + 1),
        }
        for r in range(3)
        for s in (10, 5)
    ]
    curve = aggregate(rows)["diagonal"]
    assert [p["strength"] for p in curve] == [10, 5]
    assert curve[1]["loss"] == pytest.approx(6.0)
    assert (curve[1]["accuracy_min"], curve[1]["accuracy_max"]) == (0.1, pytest.approx(0.3))
    assert curve[0]["repeats"] == 3
