"""``bionn train`` for each kind on tiny data, ``bionn sample``, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from _exp_helpers import run_cli, train_args
from PIL import Image

from bionn.cli import main
from bionn.experiments import load_checkpoint, load_run, make_config, run_training, sample_images


def _records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("kind", ["gan", "ddim"])
def test_train_generative_files(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(
        capsys,
        *train_args(
            kind, out, "--variant", "mouse", "--sample-every", "2", "--checkpoint-every", "2"
        ),
    )
    assert code == 0, err
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "usage.txt",
        "checkpoints/last.pt",
        "samples/step_0000002.png",
        "samples/final.png",
    ):
        assert (out / name).is_file(), name
    assert "windowed total" in err  # the usage report is printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 3
    assert 0 < summary["usage"]["windowed"] < 1 and summary["images_per_s"] > 0
    assert summary["config"]["variant"] == "mouse" and summary["versions"]["torch"]
    assert [r["step"] for r in _records(out)] == [1, 2, 3]
    payload = torch.load(out / "checkpoints/last.pt", weights_only=True)
    assert {
        "model",
        "optimizer",
        "scaler",
        "ema",
        "step",
        "config",
        "rng_states",
        "version",
    } <= set(payload)
    assert (payload["ema"] is not None) == (kind == "ddim")
    with Image.open(out / "samples/final.png") as grid:
        assert grid.size[0] > 16


def test_train_classifier_curves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(
        capsys,
        "train",
        "classifier",
        "--model",
        "mlp",
        "--variant",
        "schizo",
        "--usage",
        "0.3",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--limit",
        "256",
        "--no-progress",
        "--out",
        str(out),
    )
    assert code == 0, err
    epochs = [r for r in _records(out) if "test_acc" in r]
    assert [r["epoch"] for r in epochs] == [0, 1]
    assert (out / "loss_curve.png").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert abs(summary["usage"]["windowed"] - 0.3) < 0.01
    assert summary["final_epoch"]["test_acc"] > 0.3  # digits are easy: learning happened


def test_train_on_mnist_and_image_folder(tmp_path: Path, data_root: Path) -> None:
    config = make_config(
        "classifier",
        model="lenet",
        variant="mouse",
        data="mnist",
        data_root=str(data_root),
        steps=2,
        limit=64,
        progress=False,
        out=str(tmp_path / "mnist"),
    )
    assert run_training(config).summary["config"]["channels"] == 1
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(10):
        Image.new("RGB", (24, 20), (20 * i, 0, 0)).save(folder / f"{i}.png")
    config = make_config(
        "gan",
        data=str(folder),
        image_size=16,
        width=8,
        disc_width=8,
        batch_size=4,
        steps=2,
        progress=False,
        n_samples=4,
        cache_dir=str(tmp_path / "cache"),
        out=str(tmp_path / "gan"),
    )
    result = run_training(config)
    assert result.status == "completed" and result.summary["config"]["channels"] == 3


def test_sample_cli_and_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert run_cli(capsys, *train_args("ddim", out))[0] == 0
    code, stdout, err = run_cli(
        capsys,
        "sample",
        "--checkpoint",
        str(out),
        "--n-samples",
        "5",
        "--sampling-steps",
        "2",
        "--grid",
        str(tmp_path / "grid.png"),
        "--out",
        str(tmp_path / "single"),
        "--device",
        "cpu",
    )
    assert code == 0, err
    assert (tmp_path / "grid.png").is_file()
    assert sorted(p.name for p in (tmp_path / "single").iterdir())[-1] == "000004.png"
    loaded, summary = load_run(out)
    assert summary["status"] == "completed" and loaded.step == 3
    images = sample_images(loaded.model, 3, steps=2, seed=1)
    assert images.dtype == torch.uint8 and images.shape == (3, 1, 16, 16)
    assert torch.equal(images, sample_images(loaded.model, 3, steps=2, seed=1))


def test_bf16_autocast_on_cpu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bf16"
    code, _, err = run_cli(
        capsys, *train_args("ddim", out, "--precision", "bf16", "--variant", "mouse")
    )
    assert code == 0, err
    assert json.loads((out / "summary.json").read_text())["final"]["loss"] > 0


def test_import_bionn_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bionn; heavy = [m for m in ('bionn.experiments', 'torchvision', "
        "'matplotlib', 'sklearn') if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_keras_mode_keeps_batchnorm_frozen(tmp_path: Path) -> None:
    config = make_config(
        "gan",
        image_size=16,
        width=8,
        disc_width=8,
        batch_size=8,
        steps=2,
        limit=32,
        progress=False,
        keras_mode=True,
        out=str(tmp_path / "k"),
    )
    run_training(config)
    model = load_checkpoint(tmp_path / "k").model
    bn = model.generator.stem[1]
    assert torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))


@pytest.mark.parametrize("lacks_bf16", [True, False])
def test_bf16_on_a_cpu_without_bf16_convolutions_warns(
    lacks_bf16: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bionn.experiments.train import runner

    monkeypatch.setattr(runner, "cpu_lacks_bf16", lambda device: lacks_bf16)
    config = make_config(
        "gan",
        image_size=16,
        width=8,
        disc_width=8,
        batch_size=8,
        steps=1,
        limit=16,
        progress=False,
        precision="bf16",
        device="cpu",
        out=str(tmp_path / "b"),
    )
    with caplog.at_level("WARNING", logger="bionn"):
        run_training(config)
    warned = [r.getMessage() for r in caplog.records if "no native bfloat16" in r.getMessage()]
    assert bool(warned) == lacks_bf16


def test_the_bf16_check_asks_onednn_on_cpus_only() -> None:
    from bionn.experiments.train.runner import cpu_lacks_bf16

    assert not cpu_lacks_bf16(torch.device("cuda"))
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert cpu_lacks_bf16(torch.device("cpu")) == (not native)


# -- bad input: clear message, exit status 2, nothing written ----------------------------------

BAD_TRAIN = [
    (["train", "gan", "--config", "{path}"], "--variant must be one of standard, mouse"),
    (["train", "gan", "--data", "imagenet"], "unknown data set 'imagenet'"),
    (["train", "gan", "--image-size", "30"], "does not fit the GAN"),
    (["train", "classifier", "--model", "vgg16", "--image-size", "28"], "multiple of 32"),
    (["train", "gan", "--variant", "mouse", "--usage", "1.5"], "--usage must be in (0, 1]"),
    (["train", "gan", "--variant", "mouse", "--usage", "-0.1"], "--usage must be in (0, 1]"),
    (["train", "ddim", "--data", "cifar10", "--data-root", "/nonexistent"], "pass --download"),
    (
        ["train", "gan", "--batch-size", "5000", "--image-size", "16", "--width", "8"],
        "fewer than --batch-size",
    ),
    (["train", "gan", "--precision", "fp16", "--device", "cpu"], "fp16 needs CUDA"),
    (
        ["train", "gan", "--device", "cuda:0"]
        if not torch.cuda.is_available()
        else ["train", "gan", "--device", "tpu"],
        "--device",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_TRAIN)
def test_bad_train_input(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    config_file = tmp_path / "c.json"
    config_file.write_text('{"variant": "schizo"}')
    args = [a.replace("{path}", str(config_file)) for a in args]
    code, _, err = run_cli(capsys, *args, "--out", str(out))
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "vae"], "invalid choice: 'vae'"),
        (["train", "gan", "--colour", "3"], "unrecognized arguments: --colour"),
        (["train", "gan", "--model", "stylegan"], "argument --model: invalid choice: 'stylegan'"),
        (["train", "gan", "--variant", "schizo"], "argument --variant: invalid choice: 'schizo'"),
        (["train", "gan", "--precision", "fp8"], "argument --precision: invalid choice"),
        (["train", "gan", "--progress", "false"], "unrecognized arguments: false"),
        (["train", "gan", "--ste", "3"], "unrecognized arguments: --ste"),  # no abbreviations
    ],
)
def test_unknown_kind_option_or_choice(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli(capsys, *train_args("gan", blocker / "run"))
    assert code == 2 and "cannot write" in err
    code, _, err = run_cli(
        capsys, "sample", "--checkpoint", str(tmp_path), "--grid", str(blocker / "grid.png")
    )
    assert code == 2 and "cannot write" in err


def test_existing_run_needs_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert run_cli(capsys, *train_args("gan", out))[0] == 0
    before = (out / "checkpoints/last.pt").read_bytes()
    code, _, err = run_cli(capsys, *train_args("gan", out))
    assert code == 2 and "pass --resume" in err
    code, _, err = run_cli(
        capsys, "train", "gan", "--out", str(out), "--resume", "--variant", "mouse"
    )
    assert code == 2 and "another configuration" in err and "variant" in err
    code, _, err = run_cli(capsys, "train", "ddim", "--out", str(out), "--resume")
    assert code == 2 and "is a 'gan' run" in err
    assert (out / "checkpoints/last.pt").read_bytes() == before


def test_bad_checkpoints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "absent.pt"
    code, _, err = run_cli(
        capsys, "sample", "--checkpoint", str(missing), "--grid", str(tmp_path / "g.png")
    )
    assert code == 2 and "does not exist" in err
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00garbage" * 10)
    code, _, err = run_cli(
        capsys, "sample", "--checkpoint", str(corrupt), "--grid", str(tmp_path / "g.png")
    )
    assert code == 2 and "corrupt" in err
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    code, _, err = run_cli(
        capsys, "sample", "--checkpoint", str(foreign), "--grid", str(tmp_path / "g.png")
    )
    assert code == 2 and "not a bionn experiment checkpoint" in err
    assert not (tmp_path / "g.png").exists()
    no_resume = tmp_path / "fresh"
    code, _, err = run_cli(capsys, *train_args("gan", no_resume), "--resume")
    assert code == 2 and "does not exist" in err and not no_resume.exists()


def test_checkpoint_of_other_kind_or_variant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "clf"
    assert run_cli(capsys, *train_args("classifier", out))[0] == 0
    code, _, err = run_cli(
        capsys, "sample", "--checkpoint", str(out), "--grid", str(tmp_path / "g.png")
    )
    assert code == 2 and "only GAN and DDIM" in err
    from bionn.experiments import CheckpointError

    with pytest.raises(CheckpointError, match="is a 'classifier' kind, not 'gan'"):
        load_checkpoint(out, kind="gan")
    with pytest.raises(CheckpointError, match="'standard' variant, not 'schizo'"):
        load_checkpoint(out, variant="schizo")


@pytest.mark.slow
def test_compile_on_cpu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "compiled"
    code, _, err = run_cli(capsys, *train_args("gan", out, "--compile", "--variant", "mouse"))
    assert code == 0, err
    payload = torch.load(out / "checkpoints/last.pt", weights_only=True)
    assert not any(key.startswith("_orig_mod") for key in payload["model"])  # uncompiled state
