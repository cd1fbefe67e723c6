import json

import pytest
from _study_fixtures import TINY_CLASSIFIER, TINY_GAN, fast_proxy  # noqa: F401
from scipy import stats

from bionn.cli import main
from bionn.experiments.compare import compare
from bionn.experiments.evaluation import EvalSettings
from bionn.experiments.study import StudyError, ensure_run, parse_seeds


def test_classifier_compare_report_and_reuse(tmp_path, monkeypatch) -> None:
    report = compare(
        "classifier",
        TINY_CLASSIFIER,
        [0, 1],
        EvalSettings(),
        tmp_path / "r",
        bio={"reduction": 0.8},
        log=lambda *a: None,
    )
    summary = json.loads((tmp_path / "r" / "report.json").read_text())
    groups = summary["groups"]
    assert set(groups) == {"standard", "schizo"}
    assert groups["standard"]["usage"]["windowed"] == 1.0
    assert groups["schizo"]["usage"]["windowed"] < 0.3
    assert groups["schizo"]["scores"]["n"] == 2 and len(summary["runs"]["schizo"]) == 2
    a, b = groups["standard"]["scores"]["values"], groups["schizo"]["scores"]["values"]
    assert summary["welch_p"] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    text = report.read_text()
    assert "| standard |" in text and "Welch t-test" in text and "overfitting" in text
    for figure in ("metric.png", "loss_curves.png"):
        assert (tmp_path / "r" / figure).stat().st_size > 0
    # second call: the finished runs are picked up, not retrained
    import bionn.experiments as experiments

    monkeypatch.setattr(experiments, "run_training", lambda *a, **k: pytest.fail("retrained"))
    compare(
        "classifier",
        TINY_CLASSIFIER,
        [0, 1],
        EvalSettings(),
        tmp_path / "r",
        bio={"reduction": 0.8},
        log=lambda *a: None,
    )


@pytest.mark.usefixtures("fast_proxy")
def test_gan_compare_with_proxy_lists_non_converged_apart(tmp_path) -> None:
    settings = EvalSettings(
        n_samples=80, kid_samples=20, threshold=0.0, cache_dir=str(tmp_path / "cache")
    )
    compare("gan", TINY_GAN, [0], settings, tmp_path / "r", log=lambda *a: None)
    summary = json.loads((tmp_path / "r" / "report.json").read_text())
    assert summary["metric"] == "FD-proxy(digits)" and not summary["higher_is_better"]
    mouse = summary["groups"]["mouse"]
    assert mouse["scores"]["n"] == 0 and mouse["not_converged"][0]["seed"] == 0  # all above 0
    assert 0.2 < mouse["usage"]["windowed"] < 0.9 and mouse["radius"] == pytest.approx(0.4)
    text = (tmp_path / "r" / "report.md").read_text()
    assert "**FD-proxy(digits)**" in text and "not FID" in text and "s0: " in text
    assert "**FID**" not in text and "FID mean" not in text
    assert (tmp_path / "r" / "samples.png").is_file()


def test_run_folder_of_another_configuration_is_refused(tmp_path) -> None:
    from bionn.experiments import make_config

    config = make_config("classifier", **TINY_CLASSIFIER, out=str(tmp_path / "run"))
    ensure_run(config)
    before = (tmp_path / "run" / "config.json").read_text()
    other = make_config("classifier", **{**TINY_CLASSIFIER, "width": 32}, out=str(tmp_path / "run"))
    with pytest.raises(StudyError, match="another configuration"):
        ensure_run(other)
    assert (tmp_path / "run" / "config.json").read_text() == before


def test_longer_run_resumes_and_early_crash_restarts(tmp_path) -> None:
    from bionn.experiments import make_config

    config = make_config("classifier", **TINY_CLASSIFIER, out=str(tmp_path / "run"))
    ensure_run(config)
    longer = make_config(
        "classifier", **{**TINY_CLASSIFIER, "epochs": 3}, out=str(tmp_path / "run")
    )
    ensure_run(longer)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs"] == pytest.approx(3)
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    (crashed / "config.json").write_text(json.dumps(config.to_dict()))
    ensure_run(make_config("classifier", **TINY_CLASSIFIER, out=str(crashed)))
    assert (crashed / "summary.json").is_file()


def test_compare_cli_bad_input(tmp_path, capsys) -> None:
    base = ["compare", "classifier", "--out", str(tmp_path / "r")]
    assert main([*base, "--seeds", "a,b"]) == 2
    assert "--seeds" in capsys.readouterr().err
    assert main([*base, "--lr", "-1"]) == 2
    assert "--lr must be > 0" in capsys.readouterr().err
    assert main([*base, "--eval-samples", "1"]) == 2
    assert "--eval-samples must be >= 2" in capsys.readouterr().err
    assert main([*base, "--jobs", "0"]) == 2
    assert "--jobs must be an int >= 1" in capsys.readouterr().err
    for argv in (["--model", "nope"], ["--set", "width=3"], ["--variant", "schizo"]):
        with pytest.raises(SystemExit):
            main([*base, *argv])
    assert "invalid choice: 'nope'" in capsys.readouterr().err
    assert main([*base, "--data", str(tmp_path / "missing")]) == 2
    assert "unknown data set" in capsys.readouterr().err
    with pytest.raises(StudyError):
        parse_seeds("1,1")


def test_compare_cli_end_to_end_with_overall_progress(tmp_path, capsys, caplog) -> None:
    args = [
        "compare",
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
        "--reduction",
        "0.5",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "r"),
    ]
    with caplog.at_level("INFO", logger="bionn"):
        assert main(args) == 0
    captured = capsys.readouterr()
    assert "standard vs schizo" in captured.out and "report written to" in captured.out
    assert "compare classifier" in captured.err and "2/2" in captured.err  # trained and scored
    assert "classifier standard" not in captured.err  # the runs' own bars stay off
    lines = [r.getMessage() for r in caplog.records if r.name == "bionn.experiments.compare"]
    assert any(line.startswith("schizo seed 0: test accuracy") for line in lines)
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["bio_options"] == {"reduction": 0.5}  # bio options go to the bio runs only
    assert report["runs"]["standard"][0]["reduction"] == 0.0
    assert "so far" not in report["description"]  # every run scored


def test_a_compare_stopped_early_reports_its_scored_runs(tmp_path, monkeypatch) -> None:
    import bionn.experiments.compare as compare_module
    from bionn.experiments.evaluation import EvalSettings
    from bionn.experiments.report import rewrite_report

    real_train_runs = compare_module.train_runs

    def stopped_after_two(configs, jobs, done):  # the clock runs out after seed 0's pair
        real_train_runs(configs[:2], jobs, done)
        raise KeyboardInterrupt

    monkeypatch.setattr(compare_module, "train_runs", stopped_after_two)
    overrides = {
        "model": "mlp",
        "data": "digits",
        "width": 16,
        "epochs": 1,
        "limit": 200,
        "device": "cpu",
        "progress": False,
    }
    with pytest.raises(KeyboardInterrupt):
        compare_module.compare(
            "classifier", overrides, [0, 1], EvalSettings(), tmp_path / "r", bio={"reduction": 0.5}
        )
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert [len(report["runs"][v]) for v in ("standard", "schizo")] == [1, 1]
    assert "(2 of 4 runs trained and scored so far)" in report["description"]
    assert "2 of 4 runs" in rewrite_report(tmp_path / "r")[0].read_text()


@pytest.mark.usefixtures("fast_proxy")
def test_ddim_compare(tmp_path) -> None:
    tiny_ddim = {
        "data": "digits",
        "image_size": 16,
        "width": 8,
        "levels": 3,
        "block_depth": 1,
        "steps": 2,
        "batch_size": 16,
        "progress": False,
        "n_samples": 4,
        "repetitions": 1,
        "sampling_steps": 2,
    }
    settings = EvalSettings(n_samples=70, kid_samples=0, cache_dir=str(tmp_path / "cache"))
    compare("ddim", tiny_ddim, [0], settings, tmp_path / "r", log=lambda *a: None)
    summary = json.loads((tmp_path / "r" / "report.json").read_text())
    assert summary["groups"]["mouse"]["usage"]["windowed"] < 1.0
    assert summary["runs"]["mouse"][0]["extras"]["n_fake"] == 70
    assert (tmp_path / "r" / "loss_curves.png").is_file()


def test_runs_trained_in_parallel_give_the_results_of_runs_trained_in_turn(tmp_path) -> None:
    results = {}
    for jobs in (1, 2):
        compare(
            "classifier",
            TINY_CLASSIFIER,
            [0, 1],
            EvalSettings(),
            tmp_path / f"j{jobs}",
            bio={"reduction": 0.8},
            log=lambda *a: None,
            jobs=jobs,
        )
        runs = json.loads((tmp_path / f"j{jobs}" / "report.json").read_text())["runs"]
        results[jobs] = {v: [r["value"] for r in rs] for v, rs in runs.items()}
    assert results[2] == results[1]  # each run is seeded by its config, wherever it trains


def test_runs_are_scored_beside_the_workers_with_their_thread_count(tmp_path, monkeypatch) -> None:
    import os

    import torch

    from bionn.experiments import make_config
    from bionn.experiments.study import train_runs

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    configs = [
        make_config(
            "classifier", **TINY_CLASSIFIER, variant="standard", seed=s, out=str(tmp_path / f"s{s}")
        )
        for s in (0, 1)
    ]
    before, seen = torch.get_num_threads(), []
    train_runs(configs, 2, lambda config: seen.append(torch.get_num_threads()))
    assert seen == [2, 2]  # 4 cores / 2 jobs, as each worker has
    assert torch.get_num_threads() == before  # restored afterwards


@pytest.mark.usefixtures("fast_proxy")
def test_parallel_studies_build_the_evaluation_cache_once_before_training(
    tmp_path, monkeypatch
) -> None:
    from bionn.experiments import make_config
    from bionn.experiments.train.runner import warm_evaluation_cache

    monkeypatch.setenv("BIONN_CACHE", str(tmp_path / "cache"))
    config = make_config(
        "gan", **TINY_GAN, eval_every=2, curve_samples=20, out=str(tmp_path / "run")
    )
    warm_evaluation_cache(config)
    cached = sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert any("proxy" in name for name in cached) and len(cached) >= 2  # classifier + stats
    assert not (tmp_path / "run").exists()  # nothing trained
    warm_evaluation_cache(make_config("classifier", **TINY_CLASSIFIER, eval_every=2))
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()) == cached


def test_an_interrupted_run_stops_the_study_and_the_same_command_resumes(
    tmp_path, capsys, monkeypatch
) -> None:
    """Ctrl-C / SIGTERM inside a run: no later run starts, nothing is scored, exit 130."""
    import signal

    import bionn.experiments.train.runner as runner

    steps = []
    real_loop = runner._Run._loop

    def interrupt_first_run(self, trainer, step, log):  # SIGINT arrives during the first run
        steps.append(self.config.out)
        if len(steps) == 1:
            signal.raise_signal(signal.SIGINT)
        return real_loop(self, trainer, step, log)

    monkeypatch.setattr(runner._Run, "_loop", interrupt_first_run)
    out = tmp_path / "c"
    argv = [
        "compare",
        "classifier",
        "--width",
        "16",
        "--epochs",
        "1",
        "--limit",
        "64",
        "--batch-size",
        "16",
        "--seeds",
        "1",
        "--no-progress",
        "--out",
        str(out),
    ]
    assert main(argv) == 130
    assert "the same command resumes" in capsys.readouterr().err
    assert len(steps) == 1 and not (out / "report.md").exists()  # no second run, no scores
    assert list((out / "runs" / "standard-s0" / "checkpoints").iterdir())
    assert main(argv) == 0  # resumed from that checkpoint, then the second run
    assert (out / "report.md").is_file()


def test_a_worker_starts_no_run_after_an_interruption(monkeypatch, tmp_path) -> None:
    import os

    import bionn.experiments.study as study

    def interrupted(config):
        raise KeyboardInterrupt

    monkeypatch.setattr(study, "ensure_run", interrupted)
    monkeypatch.setattr(study, "_stopping", False)
    monkeypatch.setattr(study, "_study", os.getppid())
    with pytest.raises(KeyboardInterrupt):
        study._train_quietly(None)
    monkeypatch.setattr(study, "ensure_run", lambda config: pytest.fail("a queued run started"))
    with pytest.raises(KeyboardInterrupt):
        study._train_quietly(None)


@pytest.mark.usefixtures("fast_proxy")
def test_another_threshold_reuses_the_scores(tmp_path, monkeypatch) -> None:
    import bionn.experiments.evaluation as evaluation
    from bionn.experiments import make_config, run_training

    run = run_training(make_config("gan", **TINY_GAN, out=str(tmp_path / "run"))).run_dir
    first = evaluation.evaluate_run(run, EvalSettings(n_samples=100, kid_samples=0))

    def no_second_scoring(*args, **kwargs):
        raise AssertionError("scored again")

    monkeypatch.setattr(evaluation, "_generator_scores", no_second_scoring)
    below = evaluation.evaluate_run(
        run, EvalSettings(n_samples=100, kid_samples=0, threshold=first["value"] / 2)
    )
    above = evaluation.evaluate_run(
        run, EvalSettings(n_samples=100, kid_samples=0, threshold=first["value"] * 2)
    )
    assert below["value"] == above["value"] == first["value"]
    assert not below["converged"] and above["converged"]
    assert above["threshold"] == first["value"] * 2
