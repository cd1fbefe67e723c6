"""Glue shared by ``bionn fid`` and ``bionn compare``: pick an extractor, measure, cache reals.

Three metrics, each reported under its own name so numbers of different kinds never mix:

* ``fid``: standard FID (torch-fidelity's Inception), reported as ``FID``;
* ``paper``: the papers' Keras-style ImageNet InceptionV3 protocol, reported as
  ``FD-paper-inception`` (not comparable with standard FID);
* ``proxy``: the offline small-classifier distance, reported as ``FD-proxy(<dataset>)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from bionn.metrics.fid import DistanceResult, FeatureStats, ImageDistance, cached
from bionn.metrics.images import to_float

__all__ = ["METRICS", "default_cache_dir", "make_extractor", "measure", "real_statistics"]

METRICS = ("fid", "paper", "proxy")
PAPER_NAME = "FD-paper-inception"


def default_cache_dir() -> Path:
    """``$BIONN_CACHE/metrics``, by default ``~/.cache/bionn/metrics``."""
    return Path(os.environ.get("BIONN_CACHE", Path.home() / ".cache" / "bionn")) / "metrics"


def make_extractor(metric: str, *, weights: str | Path | None = None,
                   proxy_data: tuple[str, Tensor, Tensor] | None = None,
                   cache_dir: Path | None = None,
                   device: str = "cpu") -> tuple[Callable[[Tensor], Tensor], str]:  # fmt: skip
    """Build the feature extractor of ``metric`` and the name its results are reported under.

    Args:
        metric: One of :data:`METRICS`.
        weights: Inception weights file (``fid``: optional, ``paper``: required).
        proxy_data: ``(dataset name, uint8 train images, labels)`` for ``proxy``.
        cache_dir: Where the proxy classifier is cached.
        device: Device of the extractor.

    Raises:
        ValueError: For an unknown metric or a proxy without a grey labelled data set.

    """
    if metric == "fid":
        from bionn.metrics.inception import StandardInception

        return StandardInception(weights).to(device), "FID"
    if metric == "paper":
        from bionn.metrics.inception import PaperInception

        return PaperInception(weights).to(device), PAPER_NAME
    if metric == "proxy":
        from bionn.metrics.proxy import load_or_train_proxy, proxy_name

        if proxy_data is None:
            raise ValueError("the proxy metric needs a labelled grey data set (mnist, "
                             "fashionmnist or digits) to train its classifier on")  # fmt: skip
        name, images, labels = proxy_data
        if images.shape[1] != 1:
            raise ValueError(f"the proxy is for grey data sets; {name} has {images.shape[1]} "
                             f"channels (use --metric fid)")  # fmt: skip
        return load_or_train_proxy(name, images, labels, cache_dir).to(device), proxy_name(name)
    raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")


def _feed(metric: ImageDistance, images: Tensor, real: bool, batch_size: int) -> None:
    for batch in images.split(batch_size):
        metric.update(to_float(batch), real=real)


def real_statistics(extractor: Callable[[Tensor], Tensor], images: Tensor, *, key: dict | None,
                    cache_dir: Path | None, kid_samples: int = 1000,
                    batch_size: int = 64) -> FeatureStats:  # fmt: skip
    """Features statistics of real ``images``, cached under ``key`` (data set, size, extractor, n).

    ``key`` None (e.g. a folder the user may change) turns the cache off.
    """
    def compute() -> FeatureStats:
        metric = ImageDistance(extractor, kid_samples=kid_samples)
        _feed(metric, images, True, batch_size)
        return metric.real

    if key is None:
        return compute()
    full_key = {**key, "extractor": getattr(extractor, "name", type(extractor).__name__),
                "n": len(images), "shape": list(images.shape[1:]), "kid": kid_samples}  # fmt: skip
    return cached(cache_dir, full_key, compute)


@torch.no_grad()
def measure(extractor: Callable[[Tensor], Tensor], name: str, real: FeatureStats,
            fake: Tensor, *, kid_samples: int = 1000, kid_subsets: int = 100,
            batch_size: int = 64) -> DistanceResult:  # fmt: skip
    """Distance (and KID) between real statistics and generated uint8 or float ``fake`` images."""
    metric = ImageDistance(extractor, name=name, kid_samples=kid_samples, kid_subsets=kid_subsets)
    metric.set_real(real)
    _feed(metric, fake, False, batch_size)
    return metric.compute()
