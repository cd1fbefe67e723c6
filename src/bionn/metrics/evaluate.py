"""Glue shared by ``bionn fid`` and ``bionn compare``: pick an extractor, measure, cache reals.

Three metrics, each reported under its own name so numbers of different kinds never mix:

* ``fid``: standard FID (torch-fidelity's Inception), reported as ``FID``;
* ``paper``: the papers' Keras-style ImageNet InceptionV3 protocol, reported as
  ``FD-paper-inception`` (not comparable with standard FID);
* ``proxy``: the offline small-classifier distance, reported as ``FD-proxy(<dataset>)``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from bionn.data import ImageSet, as_image_set, progress_bar
from bionn.metrics.fid import DistanceResult, FeatureStats, ImageDistance, cached
from bionn.metrics.images import to_float

__all__ = [
    "METRICS",
    "check_sample_counts",
    "default_cache_dir",
    "images_key",
    "make_extractor",
    "measure",
    "measure_kid",
    "real_statistics",
    "required_samples",
]

METRICS = ("fid", "paper", "proxy")
PAPER_NAME = "FD-paper-inception"
INCEPTION_FEATURES = 2048  # pool3 of both Inception networks


def required_samples(metric: str) -> int:
    """Images per set that ``metric`` needs: its feature size + 1 (a full-rank covariance)."""
    if metric == "proxy":
        from bionn.metrics.proxy import FEATURES

        return FEATURES + 1
    if metric in METRICS:
        return INCEPTION_FEATURES + 1
    raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")


def check_sample_counts(metric: str, n_real: int, n_fake: int) -> None:
    """Raise before any feature is computed (or the proxy trained) if a set is too small.

    Raises:
        ValueError: Naming the set, its count and the count ``metric`` needs.

    """
    needed = required_samples(metric)
    for what, count in (("real", n_real), ("generated", n_fake)):
        if count < needed:
            raise ValueError(
                f"the {what} set has {count} images; --metric {metric} needs at least {needed} "
                f"per set for a full-rank covariance of its {needed - 1}-d features (FID is "
                f"usually measured on 10,000-50,000 images; the papers used 51,200)"
            )


def default_cache_dir() -> Path:
    """``$BIONN_CACHE/metrics``, by default ``~/.cache/bionn/metrics``."""
    return Path(os.environ.get("BIONN_CACHE", Path.home() / ".cache" / "bionn")) / "metrics"


def images_key(images: Tensor) -> dict[str, object]:
    """A statistics cache key naming exactly ``images``: their shape and the sha256 of their bytes.

    Any change to a folder (a file added, edited or re-ordered) changes the key, so statistics of a
    user's folder are cached as safely as those of a named data set.
    """
    data = images.detach().cpu().contiguous()
    digest = hashlib.sha256(data.view(torch.uint8).numpy().tobytes()).hexdigest()
    return {"images": f"{data.dtype}-{'x'.join(map(str, data.shape))}-{digest[:20]}"}


def make_extractor(
    metric: str,
    *,
    weights: str | Path | None = None,
    proxy_data: tuple[str, Tensor, Tensor] | None = None,
    cache_dir: Path | None = None,
    device: str = "cpu",
    progress: bool | None = None,
) -> tuple[Callable[[Tensor], Tensor], str]:
    """Build the feature extractor of ``metric`` and the name its results are reported under.

    Args:
        metric: One of :data:`METRICS`.
        weights: Inception weights file (``fid``: optional, ``paper``: required).
        proxy_data: ``(dataset name, uint8 train images, labels)`` for ``proxy``.
        cache_dir: Where the proxy classifier is cached.
        device: Device of the extractor.
        progress: Progress bar while the proxy trains (None: when stderr is a terminal).

    Raises:
        ValueError: For an unknown metric or a proxy without a grey labelled data set.

    """
    if metric == "fid":
        from bionn.metrics.inception import StandardInception

        inception_cache = (cache_dir or default_cache_dir()) / "inception"
        return StandardInception(weights, cache_dir=inception_cache).to(device), "FID"
    if metric == "paper":
        from bionn.metrics.inception import PaperInception

        return PaperInception(weights).to(device), PAPER_NAME
    if metric == "proxy":
        from bionn.metrics.proxy import load_or_train_proxy, proxy_name

        if proxy_data is None:
            raise ValueError(
                "the proxy metric needs a labelled grey data set (mnist, "
                "fashionmnist or digits) to train its classifier on"
            )
        name, images, labels = proxy_data
        if images.shape[1] != 1:
            raise ValueError(
                f"the proxy is for grey data sets; {name} has {images.shape[1]} "
                f"channels (use --metric fid)"
            )
        extractor = load_or_train_proxy(name, images, labels, cache_dir, progress=progress)
        return extractor.to(device), proxy_name(name)
    raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")


def _feed(
    metric: ImageDistance,
    images: Tensor | ImageSet,
    real: bool,
    batch_size: int,
    progress: bool | None,
) -> None:
    images = as_image_set(images)
    what = "real" if real else "generated"
    with progress_bar(
        desc=f"features of the {what} images", total=len(images), enabled=progress, unit="img"
    ) as bar:
        for batch in images.batches(batch_size):
            metric.update(to_float(batch), real=real)
            bar.update(len(batch))


def real_statistics(
    extractor: Callable[[Tensor], Tensor],
    images: Tensor | ImageSet,
    *,
    key: dict | None,
    cache_dir: Path | None,
    kid_samples: int = 1000,
    batch_size: int = 64,
    progress: bool | None = None,
) -> FeatureStats:
    """Feature statistics of real ``images``, cached under ``key`` (data set, size, extractor, n).

    ``images`` is a uint8 tensor or any :class:`~bionn.data.ImageSet` (a folder read batch by
    batch). ``key`` must name everything that changes the images (data set, split, size,
    channels); ``key`` None (e.g. a folder the user may change) turns the cache off.
    """

    def compute() -> FeatureStats:
        metric = ImageDistance(extractor, kid_samples=kid_samples)
        _feed(metric, images, True, batch_size, progress)
        return metric.real

    if key is None:
        return compute()
    full_key = {
        **key,
        "extractor": getattr(extractor, "name", type(extractor).__name__),
        "n": len(images),
        "kid": kid_samples,
    }
    return cached(cache_dir, full_key, compute)


@torch.no_grad()
def measure(
    extractor: Callable[[Tensor], Tensor],
    name: str,
    real: FeatureStats,
    fake: Tensor | ImageSet,
    *,
    kid_samples: int = 1000,
    kid_subsets: int = 100,
    batch_size: int = 64,
    progress: bool | None = None,
) -> DistanceResult:
    """Distance (and KID) between real statistics and generated images.

    ``fake`` is a uint8 or float tensor or any :class:`~bionn.data.ImageSet` (generated lazily
    or read from a folder batch by batch).
    """
    metric = ImageDistance(extractor, name=name, kid_samples=kid_samples, kid_subsets=kid_subsets)
    metric.set_real(real)
    _feed(metric, fake, False, batch_size, progress)
    return metric.compute()


@torch.no_grad()
def measure_kid(
    extractor: Callable[[Tensor], Tensor],
    real: FeatureStats,
    fake: Tensor | ImageSet,
    *,
    kid_samples: int,
    kid_subsets: int = 100,
    batch_size: int = 64,
    progress: bool | None = None,
) -> tuple[float, float]:
    """KID ``(mean, std)`` between real statistics (with kept features) and generated images.

    Unlike FID it needs no full-rank covariance, so a few hundred images give an unbiased
    estimate: what training curves use.
    """
    metric = ImageDistance(extractor, name="KID", kid_samples=kid_samples, kid_subsets=kid_subsets)
    metric.set_real(real)
    _feed(metric, fake, False, batch_size, progress)
    return metric.compute_kid()
