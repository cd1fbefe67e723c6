"""``--eval-every``: the metric on a fixed small sample, logged during training."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from torch.nn import functional as F

from bionn.experiments import build, make_config, run_training
from bionn.experiments.data import ImageData
from bionn.experiments.evaluation import read_records
from bionn.experiments.train.periodic_eval import eval_records, make_evaluator, sampling_model


def _pooled_features(images: torch.Tensor) -> torch.Tensor:
    """A weight-free stand-in for the proxy: 4x4 average-pooled pixels (16 features)."""
    return F.adaptive_avg_pool2d(images.float(), 4).flatten(1)


FAKE_EXTRACTOR = (_pooled_features, "FD-pooled")


@pytest.fixture
def pooled_extractor(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Runs score with :data:`FAKE_EXTRACTOR` instead of training the proxy classifier."""
    import bionn.metrics.evaluate as evaluate

    monkeypatch.setattr(evaluate, "make_extractor", lambda *a, **k: FAKE_EXTRACTOR)
    monkeypatch.setenv("BIONN_CACHE", str(tmp_path / "cache"))  # keep the user's cache clean


def _images(n: int, seed: int = 0) -> ImageData:
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 16, 16), generator=generator, dtype=torch.uint8)
    return ImageData(images, torch.arange(n) % 10, 10, "random")


def _tiny_gan(**extra: object) -> object:
    return make_config(
        "gan",
        data="digits",
        image_size=16,
        width=8,
        disc_width=8,
        batch_size=8,
        limit=64,
        progress=False,
        device="cpu",
        checkpoint_every=0,
        sample_every=0,
        log_every=1,
        **extra,
    )


def test_gan_run_logs_points_on_schedule_and_trains_as_without(tmp_path, pooled_extractor):
    common = {"steps": 5, "seed": 3}
    plain = run_training(_tiny_gan(out=str(tmp_path / "plain"), **common))
    scored = run_training(
        _tiny_gan(out=str(tmp_path / "scored"), eval_every=2, curve_samples=24, **common)
    )
    points = eval_records(read_records(scored.run_dir))
    assert [p["step"] for p in points] == [2, 4, 5]  # every 2 steps and the last one
    assert all(p["eval_metric"] == "FD-pooled" and p["eval_n"] == 24 for p in points)
    assert all(p["eval_value"] > 0 and not p["eval_higher_is_better"] for p in points)
    assert not eval_records(read_records(plain.run_dir))
    # scoring draws its own noise: the training is exactly the same
    a = torch.load(plain.checkpoint, weights_only=True)["model"]
    b = torch.load(scored.checkpoint, weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_inception_curves_score_kid_on_the_fixed_sample(tmp_path):
    from bionn.metrics.functional import kernel_distance

    generator = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (40, 3, 16, 16), generator=generator, dtype=torch.uint8)
    train = ImageData(images, torch.zeros(40, dtype=torch.long), 1, "folder")
    config = _tiny_gan(out=str(tmp_path / "run"))
    model = build("gan", "standard", image_size=16, width=8, disc_width=8, channels=3, classes=1)
    evaluator = make_evaluator(
        config,
        train,
        None,
        torch.device("cpu"),
        n=24,
        cache_dir=tmp_path,
        extractor=(_pooled_features, "FID"),
    )
    record = evaluator(model)
    assert record["eval_metric"] == "KID" and record["eval_n"] == 24
    # the value is KID between the fixed real subset and the fixed-noise samples
    from bionn.experiments.sampling import sample_images
    from bionn.experiments.train.periodic_eval import EVAL_SEED, _fixed_subset
    from bionn.metrics.images import to_float

    real = _pooled_features(images[_fixed_subset(40, 24)].float() / 255)
    fake = _pooled_features(
        to_float(sample_images(model, 24, seed=EVAL_SEED, steps=20, batch_size=250))
    )
    expected, _ = kernel_distance(real, fake, subset_size=24)
    assert record["eval_value"] == pytest.approx(expected, rel=1e-5)


def test_classifier_points_are_test_accuracy(tmp_path):
    config = make_config(
        "classifier",
        model="mlp",
        data="digits",
        width=16,
        batch_size=16,
        steps=6,
        limit=64,
        eval_every=3,
        curve_samples=50,
        progress=False,
        device="cpu",
        checkpoint_every=0,
        out=str(tmp_path / "run"),
    )
    result = run_training(config)
    points = eval_records(read_records(result.run_dir))
    assert [p["step"] for p in points] == [3, 6]
    assert all(p["eval_metric"] == "test accuracy" and p["eval_higher_is_better"] for p in points)
    assert all(0 <= p["eval_value"] <= 1 and p["eval_loss"] > 0 for p in points)
    json.dumps(points)  # plain JSON values


def test_fixed_sample_same_model_same_score_and_mode_restored():
    config = _tiny_gan()
    model = build("gan", "standard", image_size=16, width=8, disc_width=8, channels=1, classes=10)
    evaluator = make_evaluator(
        config, _images(40), None, torch.device("cpu"), 30, extractor=FAKE_EXTRACTOR
    )
    model.train()
    rng_before = torch.get_rng_state()
    first, second = evaluator(model), evaluator(model)
    assert model.training  # put back in training mode
    assert torch.equal(torch.get_rng_state(), rng_before)  # the global noise stream untouched
    assert first["eval_value"] == second["eval_value"]  # fixed latents, fixed reals
    with torch.no_grad():
        for p in model.generator.parameters():
            p.add_(0.5)
    assert evaluator(model)["eval_value"] != first["eval_value"]


def test_bad_evaluator_input():
    classifier = make_config("classifier", model="mlp", data="digits")
    with pytest.raises(ValueError, match="test split"):
        make_evaluator(classifier, _images(10), None, torch.device("cpu"), 10)
    with pytest.raises(ValueError, match="at least 2"):
        make_evaluator(classifier, _images(10), _images(10), torch.device("cpu"), 1)


def test_ddim_is_scored_through_its_ema_copy():
    trainer = SimpleNamespace(model="network", ema=None)
    assert sampling_model(trainer) == "network"
    trainer.ema = SimpleNamespace(module="ema copy")
    assert sampling_model(trainer) == "ema copy"
