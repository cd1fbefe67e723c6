import json

import pytest
import torch
from PIL import Image

import bionn.metrics.proxy as proxy
from bionn.cli import main
from bionn.metrics.images import load_dataset


@pytest.fixture(autouse=True)
def _fast_proxy(monkeypatch) -> None:
    original = proxy.train_proxy
    monkeypatch.setattr(proxy, "train_proxy", lambda x, y: original(x, y, steps=20))


def _write(folder, images) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        array = image.permute(1, 2, 0).squeeze(-1).numpy()
        Image.fromarray(array).save(folder / f"{i:04d}.png")


def test_fid_proxy_folder_against_dataset_and_cache(tmp_path, capsys) -> None:
    images, _ = load_dataset("digits", train=False)
    _write(tmp_path / "gen", images[:120])
    args = ["fid", "digits", str(tmp_path / "gen"), "--metric", "proxy", "--n", "300",
            "--cache-dir", str(tmp_path / "cache"), "--kid-samples", "50",
            "--json", str(tmp_path / "r.json")]
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


def test_fid_mismatched_sets_and_bad_sources(tmp_path, capsys) -> None:
    _write(tmp_path / "rgb", torch.randint(0, 255, (70, 3, 28, 28), dtype=torch.uint8))
    _write(tmp_path / "small", torch.randint(0, 255, (70, 1, 16, 16), dtype=torch.uint8))
    base = ["--metric", "proxy", "--cache-dir", str(tmp_path / "cache")]
    assert main(["fid", "digits", str(tmp_path / "small"), *base]) == 2
    assert "real and generated images differ" in capsys.readouterr().err
    assert main(["fid", str(tmp_path / "small"), str(tmp_path / "rgb"), *base,
                 "--proxy-dataset", "digits"]) == 2
    assert "differ" in capsys.readouterr().err
    assert main(["fid", "imagenet", str(tmp_path / "rgb"), *base, "--proxy-dataset", "digits"]) == 2
    assert "neither an image folder" in capsys.readouterr().err
    assert main(["fid", str(tmp_path / "small"), str(tmp_path / "small"), *base]) == 2
    assert "needs a labelled grey data set" in capsys.readouterr().err


def test_fid_too_few_samples(tmp_path, capsys) -> None:
    images, _ = load_dataset("digits", train=False)
    _write(tmp_path / "gen", images[:30])
    assert main(["fid", "digits", str(tmp_path / "gen"), "--metric", "proxy",
                 "--cache-dir", str(tmp_path / "cache")]) == 2
    assert "at least 65 are needed" in capsys.readouterr().err


def test_fid_missing_weights_explains_download_and_flag(tmp_path, capsys, monkeypatch) -> None:
    import urllib.error

    from torch_fidelity import feature_extractor_inceptionv3 as tf_inception

    def offline(*args, **kwargs):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(tf_inception, "load_state_dict_from_url", offline)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    _write(tmp_path / "gen", torch.zeros(3, 1, 8, 8, dtype=torch.uint8))
    assert main(["fid", "digits", str(tmp_path / "gen")]) == 2
    err = capsys.readouterr().err
    assert "--inception-weights PATH" in err and "download" in err
    assert main(["fid", "digits", str(tmp_path / "gen"), "--metric", "paper"]) == 2
    assert "--inception-weights" in capsys.readouterr().err


def test_fid_samples_a_checkpoint(tmp_path, capsys) -> None:
    from bionn.experiments import make_config, run_training

    config = make_config("gan", data="digits", image_size=28, width=8, disc_width=8, steps=2,
                         batch_size=16, progress=False, n_samples=4, out=str(tmp_path / "run"))
    run_training(config)
    args = ["fid", "digits", str(tmp_path / "run"), "--metric", "proxy", "--n", "70",
            "--kid-samples", "0", "--cache-dir", str(tmp_path / "cache"),
            "--json", str(tmp_path / "r.json")]
    assert main(args) == 0
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["n_fake"] == 70 and result["name"] == "FD-proxy(digits)"
    assert main(["fid", "digits", str(tmp_path / "nope.pt"), "--metric", "proxy"]) == 2
