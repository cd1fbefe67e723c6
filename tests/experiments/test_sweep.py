import json

import pytest
from _study_fixtures import TINY_CLASSIFIER, TINY_GAN, fast_proxy  # noqa: F401

from bionn.cli import main
from bionn.experiments.evaluation import EvalSettings
from bionn.experiments.study import StudyError
from bionn.experiments.sweep import grid, parse_shard, sweep


def _quiet(*args) -> None:
    pass


def test_shards_split_the_grid_and_share_the_folder(tmp_path) -> None:
    out = tmp_path / "s"
    args = ("classifier", TINY_CLASSIFIER, "reduction", [0.0, 0.5], [0, 1], EvalSettings(), out)
    assert sweep(*args, shard=(0, 2), log=_quiet) == 2
    first = sorted(p.name for p in (out / "results").iterdir())
    assert first == ["reduction-0-s0.json", "reduction-0.5-s0.json"]  # points 0 and 2
    assert sweep(*args, shard=(1, 2), log=_quiet) == 2
    results = [json.loads(p.read_text()) for p in (out / "results").iterdir()]
    assert len(results) == 4
    by_value = {r["grid_value"]: r["variant"] for r in results}
    assert by_value == {0.0: "standard", 0.5: "schizo"}
    assert sweep(*args, log=_quiet) == 0  # everything finished: nothing to do


def test_sweep_keeps_finished_scores_and_resumes_after_a_crash(tmp_path, monkeypatch) -> None:
    out = tmp_path / "s"
    args = ("classifier", TINY_CLASSIFIER, "reduction", [0.0, 0.8], [0], EvalSettings(), out)
    import bionn.experiments.study as study_module

    calls = []
    real_ensure = study_module.ensure_run

    def crash_on_second(config):
        calls.append(config.out)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_ensure(config)

    monkeypatch.setattr(study_module, "ensure_run", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        sweep(*args, log=_quiet)
    [first_model] = out.rglob("model.safetensors")  # the first point trained and scored
    assert [p.name for p in (out / "results").iterdir()] == ["reduction-0-s0.json"]
    trained_at = first_model.stat().st_mtime_ns
    monkeypatch.setattr(study_module, "ensure_run", real_ensure)
    assert sweep(*args, log=_quiet) == 1  # only the point that crashed
    assert first_model.stat().st_mtime_ns == trained_at  # reused, not retrained
    assert len(list((out / "results").iterdir())) == 2


def test_points_train_seed_by_seed(tmp_path, monkeypatch) -> None:
    import bionn.experiments.study as study_module

    order = []
    real_ensure = study_module.ensure_run

    def record(config):
        order.append((config.variant, config.seed))
        return real_ensure(config)

    monkeypatch.setattr(study_module, "ensure_run", record)
    sweep(
        "classifier",
        TINY_CLASSIFIER,
        "reduction",
        [0.0, 0.5],
        [0, 1],
        EvalSettings(),
        tmp_path / "s",
        log=_quiet,
    )
    # every value once, then each again
    assert order == [("standard", 0), ("schizo", 0), ("standard", 1), ("schizo", 1)]


def test_folder_of_another_configuration_is_refused(tmp_path) -> None:
    out = tmp_path / "s"
    sweep("classifier", TINY_CLASSIFIER, "reduction", [0.5], [0], EvalSettings(), out, log=_quiet)
    before = (out / "sweep.json").read_text()
    results_before = sorted(p.read_text() for p in (out / "results").iterdir())
    with pytest.raises(StudyError, match=r"another configuration \(differs in values\)"):
        sweep("classifier", TINY_CLASSIFIER, "reduction", [0.7], [0], EvalSettings(), out)
    with pytest.raises(StudyError, match="base"):
        sweep(
            "classifier",
            {**TINY_CLASSIFIER, "width": 8},
            "reduction",
            [0.5],
            [0],
            EvalSettings(),
            out,
        )
    assert (out / "sweep.json").read_text() == before
    assert sorted(p.read_text() for p in (out / "results").iterdir()) == results_before
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(StudyError, match="not empty"):
        sweep(
            "classifier",
            TINY_CLASSIFIER,
            "reduction",
            [0.5],
            [0],
            EvalSettings(),
            tmp_path / "busy",
        )


@pytest.mark.usefixtures("fast_proxy")
def test_gan_usage_sweep_reports_radius(tmp_path) -> None:
    settings = EvalSettings(n_samples=70, kid_samples=0, cache_dir=str(tmp_path / "cache"))
    sweep("gan", TINY_GAN, "usage", [0.5, 1.0], [0], settings, tmp_path / "s", log=_quiet)
    results = {
        json.loads(p.read_text())["grid_value"]: json.loads(p.read_text())
        for p in (tmp_path / "s" / "results").iterdir()
    }
    assert results[1.0]["variant"] == "standard" and results[1.0]["radius"] is None
    assert results[0.5]["variant"] == "mouse" and results[0.5]["radius"] > 0
    assert results[0.5]["usage"]["windowed"] == pytest.approx(0.5, abs=0.1)


def test_grid_and_shard_parsing() -> None:
    assert grid([1.0, 2.0], [0, 1]) == [(1.0, 0), (1.0, 1), (2.0, 0), (2.0, 1)]
    assert parse_shard("1/3") == (1, 3)
    for bad in ("3/3", "a/b", "1", "-1/2"):
        with pytest.raises(StudyError, match="--shard"):
            parse_shard(bad)


@pytest.mark.parametrize(
    ("kind", "param", "values", "message"),
    [
        (
            "gan",
            "usage",
            "1.5,0.35",
            "--values: 1.5 is not a valid usage: --usage must be in (0, 1]",
        ),
        (
            "gan",
            "usage",
            "20,35,50",
            "--values: 20 is not a valid usage: --usage must be in (0, 1] "
            "(a fraction of the weights: 0.35 keeps 35 %)",
        ),
        ("gan", "radius", "0.4,-1", "--values: -1 is not a valid radius: --radius must be > 0"),
        (
            "classifier",
            "reduction",
            "0.5,1",
            "--values: 1 is not a valid reduction: --reduction must be in [0, 1)",
        ),
        ("gan", "reduction", "0.5", "--param reduction does not apply to the mouse variant"),
        ("classifier", "radius", "0.5", "--param radius does not apply to the schizo variant"),
        ("gan", "usage", "0.5,0.5", "--values repeats a value"),
    ],
)
def test_sweep_checks_every_value_before_any_run(
    kind, param, values, message, tmp_path, capsys, monkeypatch
) -> None:
    import bionn.experiments.study as study_module

    monkeypatch.setattr(study_module, "ensure_run", lambda config: pytest.fail("trained"))
    out = tmp_path / "s"
    assert main(["sweep", kind, "--param", param, "--values", values, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()  # nothing written


def test_swept_option_cannot_also_be_fixed(tmp_path) -> None:
    with pytest.raises(StudyError, match="--usage is the swept option"):
        sweep(
            "gan", {**TINY_GAN, "usage": 0.3}, "usage", [0.5], [0], EvalSettings(), tmp_path / "s"
        )
    assert not (tmp_path / "s").exists()


def test_sweep_takes_trains_options(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["sweep", "gan", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--disc-width",
        "--keras-mode, --no-keras-mode",
        "--precision {fp32,bf16,fp16}",
        "--values",
        "--shard",
        "--eval-samples",
        "Example:",
    ):
        assert option in text
    assert "--set" not in text and "--variant" not in text and "--seed " not in text


def test_sweep_cli(tmp_path, capsys) -> None:
    base = [
        "sweep",
        "classifier",
        "--data",
        "digits",
        "--width",
        "16",
        "--epochs",
        "1",
        "--limit",
        "200",
        "--seeds",
        "1",
        "--param",
        "reduction",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "s"),
    ]
    assert main([*base, "--values", "0,x"]) == 2
    assert "--values" in capsys.readouterr().err
    assert main([*base, "--values", "0,0.5", "--shard", "2/2"]) == 2
    assert "--shard" in capsys.readouterr().err
    assert main([*base, "--values", "0,0.5", "--jobs", "2"]) == 0
    captured = capsys.readouterr()
    assert "2 point(s) run by this shard" in captured.out and "0 (standard)" in captured.out
    assert "sweep reduction" in captured.err and "4/4" in captured.err  # trained, scored
    # the report lists the command lines that made the folder, each once
    assert main([*base, "--values", "0,0.5", "--jobs", "2"]) == 0
    commands = (tmp_path / "s" / "commands.txt").read_text().splitlines()
    assert len(commands) == 1 and commands[0].startswith("bionn sweep classifier --data digits")
    assert commands[0] in (tmp_path / "s" / "report" / "report.md").read_text()


def test_interrupted_sweep_cli_points_to_the_scored_points(tmp_path, capsys, monkeypatch) -> None:
    import bionn.experiments.study as study_module

    real_ensure = study_module.ensure_run
    calls = []

    def interrupt_second(config):
        calls.append(config)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_ensure(config)

    monkeypatch.setattr(study_module, "ensure_run", interrupt_second)
    out = tmp_path / "s"
    assert (
        main(
            [
                "sweep",
                "classifier",
                "--data",
                "digits",
                "--width",
                "16",
                "--epochs",
                "1",
                "--limit",
                "200",
                "--seeds",
                "1",
                "--param",
                "reduction",
                "--values",
                "0,0.5",
                "--device",
                "cpu",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
        == 130
    )
    err = capsys.readouterr().err
    assert f"the same command resumes in {out}" in err
    assert f"`bionn report {out}` reports the 1 point(s) scored" in err
    assert main(["report", str(out)]) == 0
    assert "1 of 2 runs finished" in (out / "report" / "report.md").read_text()
