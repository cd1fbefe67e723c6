import pytest
import torch

from bionn.metrics import FeatureStats, ImageDistance, cached, frechet_distance


def test_streaming_statistics_equal_one_shot() -> None:
    features = torch.randn(103, 6, dtype=torch.float64) * 3 + 5
    stats = FeatureStats()
    for chunk in features.split(17):
        stats.update(chunk)
    assert stats.n == 103
    torch.testing.assert_close(stats.mean, features.mean(0), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(stats.covariance, torch.cov(features.T), rtol=1e-10, atol=1e-10)


def test_stats_keep_only_first_features_and_round_trip(tmp_path) -> None:
    stats = FeatureStats(keep=5)
    stats.image_shape = (1, 8, 8)
    stats.update(torch.randn(3, 4))
    stats.update(torch.randn(4, 4))
    assert stats.features.shape == (5, 4)
    key = {"dataset": "x", "size": 8}
    stats.save(tmp_path / "s.pt", key)
    loaded = FeatureStats.load(tmp_path / "s.pt", key)
    assert loaded.n == 7 and loaded.image_shape == (1, 8, 8)
    torch.testing.assert_close(loaded.covariance, stats.covariance)
    with pytest.raises(ValueError, match="holds statistics"):
        FeatureStats.load(tmp_path / "s.pt", {"dataset": "y", "size": 8})


def test_cached_computes_once_per_key(tmp_path) -> None:
    calls = []

    def compute() -> FeatureStats:
        calls.append(1)
        stats = FeatureStats()
        stats.update(torch.randn(10, 3))
        return stats

    first = cached(tmp_path, {"dataset": "a", "size": 28}, compute)
    again = cached(tmp_path, {"dataset": "a", "size": 28}, compute)
    cached(tmp_path, {"dataset": "a", "size": 32}, compute)
    assert len(calls) == 2
    torch.testing.assert_close(first.mean, again.mean)


def _pixels(images: torch.Tensor) -> torch.Tensor:
    return images.flatten(1)


def test_image_distance_equals_functional_on_extracted_features() -> None:
    real, fake = torch.rand(40, 1, 2, 2), torch.rand(30, 1, 2, 2) * 0.5
    metric = ImageDistance(_pixels, name="FD-pixels", kid_samples=20, kid_subsets=3)
    for batch in real.split(7):
        metric.update(batch, real=True)
    metric.update(fake, real=False)
    result = metric.compute()
    r, f = real.flatten(1).double(), fake.flatten(1).double()
    expected = frechet_distance(r.mean(0), torch.cov(r.T), f.mean(0), torch.cov(f.T))
    assert result.value == pytest.approx(expected, rel=1e-9)
    assert result.name == "FD-pixels" and (result.n_real, result.n_fake) == (40, 30)
    assert result.kid_mean is not None and result.kid_mean > 0


def test_same_distribution_scores_lower_than_shifted() -> None:
    metric_same = ImageDistance(_pixels, kid_samples=0)
    metric_shift = ImageDistance(_pixels, kid_samples=0)
    real = torch.rand(500, 1, 2, 2)
    for metric, fake in (
        (metric_same, torch.rand(500, 1, 2, 2)),
        (metric_shift, torch.rand(500, 1, 2, 2) * 0.5),
    ):
        metric.update(real, real=True)
        metric.update(fake, real=False)
    assert metric_same.compute().value < metric_shift.compute().value
    assert metric_same.compute().kid_mean is None


def test_mismatched_channels_or_size_is_a_clear_error() -> None:
    metric = ImageDistance(_pixels, kid_samples=0)
    metric.update(torch.rand(4, 1, 8, 8), real=True)
    with pytest.raises(ValueError, match="real and generated images differ"):
        metric.update(torch.rand(4, 3, 8, 8), real=False)
    with pytest.raises(ValueError, match="real and generated images differ"):
        metric.update(torch.rand(4, 1, 16, 16), real=False)
    with pytest.raises(ValueError, match="changed within the real"):
        metric.update(torch.rand(4, 1, 9, 9), real=True)
    with pytest.raises(ValueError, match=r"\(n, c, h, w\)"):
        metric.update(torch.rand(4, 8, 8), real=True)


def test_too_few_samples_says_how_many_are_needed() -> None:
    metric = ImageDistance(_pixels, kid_samples=0)
    metric.update(torch.rand(10, 1, 4, 4), real=True)  # 16-d features need 17 samples
    metric.update(torch.rand(30, 1, 4, 4), real=False)
    with pytest.raises(ValueError, match="at least 17 are needed"):
        metric.compute()


def test_cached_real_stats_keep_the_shape_check(tmp_path) -> None:
    stats = FeatureStats()
    stats.image_shape = (1, 4, 4)
    stats.update(torch.rand(20, 16))
    metric = ImageDistance(_pixels, kid_samples=0)
    metric.set_real(stats)
    with pytest.raises(ValueError, match="differ"):
        metric.update(torch.rand(20, 3, 4, 4), real=False)


def test_images_key_names_the_exact_images() -> None:
    from bionn.metrics.evaluate import images_key

    images = torch.randint(0, 256, (5, 3, 4, 4), dtype=torch.uint8)
    assert images_key(images) == images_key(images.clone())
    edited = images.clone()
    edited[2, 1, 3, 3] ^= 1  # one bit of one pixel
    assert images_key(edited) != images_key(images)
    assert images_key(images[[1, 0, 2, 3, 4]]) != images_key(images)  # order matters for KID
