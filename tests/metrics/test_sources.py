"""Image sets and the FID glue: lazy samples, early count checks, progress bars, cached reals."""

import os
import stat

import numpy as np
import pytest
import torch
from PIL import Image

import bionn.metrics.proxy as proxy
from bionn.data import FittedImages, TensorImages
from bionn.metrics.evaluate import check_sample_counts, required_samples
from bionn.metrics.images import load_dataset
from bionn.metrics.sources import SourceOptions, distance_between


@pytest.fixture(autouse=True)
def _fast_proxy(monkeypatch) -> None:
    original = proxy.train_proxy
    monkeypatch.setattr(
        proxy, "train_proxy", lambda x, y, **kwargs: original(x, y, steps=20, **kwargs)
    )


def test_required_samples_and_early_check() -> None:
    assert required_samples("proxy") == proxy.FEATURES + 1
    assert required_samples("fid") == required_samples("paper") == 2049
    check_sample_counts("proxy", 65, 65)
    with pytest.raises(ValueError, match="the real set has 64 images.*at least 65"):
        check_sample_counts("proxy", 64, 1000)
    with pytest.raises(ValueError, match="the generated set has 2048 images"):
        check_sample_counts("fid", 5000, 2048)
    with pytest.raises(ValueError, match="unknown metric"):
        required_samples("inception")


def test_fitted_images_resize_and_convert_per_batch() -> None:
    images = torch.randint(0, 255, (5, 3, 12, 12), dtype=torch.uint8)
    fitted = FittedImages(TensorImages(images), 6, 1)
    batches = list(fitted.batches(2))
    assert len(fitted) == 5 and [b.shape[0] for b in batches] == [2, 2, 1]
    assert all(b.shape[1:] == (1, 6, 6) and b.dtype == torch.uint8 for b in batches)


def test_sampled_images_match_sample_images_and_stream(tmp_path) -> None:
    from bionn.experiments import build
    from bionn.experiments.sampling import SampledImages, sample_images

    model = build("gan", "standard", image_size=16, width=8, disc_width=8, channels=1)
    whole = sample_images(model, 10, seed=3, batch_size=4)
    samples = SampledImages(model, 10, seed=3)
    assert len(samples) == 10
    assert torch.equal(torch.cat(list(samples.batches(4))), whole)
    with pytest.raises(TypeError, match="only GAN and DDIM"):
        SampledImages(torch.nn.Linear(2, 2), 4)


def _folder(path, images) -> None:
    path.mkdir(parents=True)
    for i, image in enumerate(images):
        Image.fromarray(image[0].numpy()).save(path / f"{i:04d}.png")


def test_progress_bars_while_training_the_proxy_and_extracting(tmp_path, capsys) -> None:
    images, _ = load_dataset("digits", train=False)
    _folder(tmp_path / "gen", images[:80])
    result = distance_between(
        "digits",
        str(tmp_path / "gen"),
        metric="proxy",
        options=SourceOptions(n=100),
        cache_dir=tmp_path / "cache",
        kid_samples=0,
        progress=True,
    )
    err = capsys.readouterr().err
    for what in (
        "training the proxy classifier",
        "features of the real images",
        "features of the generated images",
    ):
        assert what in err, what
    assert (result.n_real, result.n_fake) == (100, 80)
    for path in (tmp_path / "cache").iterdir():  # caches as readable as other outputs
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask(), path
    distance_between(
        "digits",
        str(tmp_path / "gen"),
        metric="proxy",
        options=SourceOptions(n=100),
        cache_dir=tmp_path / "cache",
        kid_samples=0,
        progress=False,
    )
    assert capsys.readouterr().err == ""


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_sampling_shows_progress(capsys) -> None:
    from bionn.experiments import build
    from bionn.experiments.sampling import sample_images

    model = build("gan", "standard", image_size=16, width=8, disc_width=8, channels=1)
    sample_images(model, 6, batch_size=2, progress=True)
    assert "sampling" in capsys.readouterr().err


def test_both_sides_resized_to_the_checkpoint_size(tmp_path) -> None:
    from bionn.experiments import make_config, run_training

    run_training(
        make_config(
            "gan",
            data="digits",
            image_size=16,
            width=8,
            disc_width=8,
            steps=1,
            batch_size=16,
            progress=False,
            n_samples=4,
            out=str(tmp_path / "run"),
        )
    )
    rng = np.random.default_rng(0)
    (tmp_path / "big").mkdir()
    for i in range(70):  # 40x56 photos against a 16x16 generator
        Image.fromarray(rng.integers(0, 255, (40, 56), dtype=np.uint8)).save(
            tmp_path / "big" / f"{i}.png"
        )
    for model_path in (tmp_path / "run", tmp_path / "run" / "model.safetensors"):
        result = distance_between(
            str(tmp_path / "big"),
            str(model_path),
            metric="proxy",
            proxy_dataset="digits",
            options=SourceOptions(n=70),
            cache_dir=tmp_path / "cache",
            kid_samples=0,
        )
        assert (result.n_real, result.n_fake) == (70, 70) and result.value > 0
