import pytest
import torch

from bionn.metrics import ImageDistance
from bionn.metrics.images import load_dataset
from bionn.metrics.proxy import load_or_train_proxy, proxy_name, train_proxy


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def trained(digits):
    return train_proxy(*digits, steps=60)


def test_proxy_classifier_learns_digits(digits, trained) -> None:
    images, labels = digits
    model, accuracy, scale = trained
    assert accuracy > 0.6  # chance is 0.1
    assert scale > 0
    assert model.features(images[:3].float() / 255).shape == (3, 64)


def test_proxy_is_cached_and_named(digits, tmp_path, monkeypatch) -> None:
    import bionn.metrics.proxy as proxy

    images, labels = digits[0][:300], digits[1][:300]
    monkeypatch.setattr(proxy, "train_proxy", lambda x, y, **kw: train_proxy(x, y, steps=5, **kw))
    first = load_or_train_proxy("digits", images, labels, tmp_path)
    monkeypatch.setattr(proxy, "train_proxy", lambda x, y, **kw: pytest.fail("trained twice"))
    again = load_or_train_proxy("digits", images, labels, tmp_path)
    x = images[:4].float() / 255
    torch.testing.assert_close(first(x), again(x))
    assert proxy_name("digits") == "FD-proxy(digits)" and "FID" not in proxy_name("mnist")


def test_proxy_distance_ranks_real_below_noise(digits, trained) -> None:
    images, _ = digits
    model, _, _ = trained
    from bionn.metrics.proxy import ProxyFeatures

    metric_real = ImageDistance(ProxyFeatures(model, "digits", 1.0), kid_samples=0)
    metric_noise = ImageDistance(ProxyFeatures(model, "digits", 1.0), kid_samples=0)
    real = images.float() / 255
    for metric, fake in ((metric_real, real[700:1400]), (metric_noise, torch.rand(700, 1, 28, 28))):
        metric.update(real[:700], real=True)
        metric.update(fake, real=False)
    assert metric_real.compute().value < metric_noise.compute().value / 5


def test_proxy_rejects_colour_images(trained) -> None:
    model, _, _ = trained
    with pytest.raises(ValueError, match="grey"):
        model.features(torch.rand(2, 3, 28, 28))
