"""Streaming feature statistics and the stateful FID / KID metric with an injectable extractor.

The metric follows torchmetrics' ``FrechetInceptionDistance``: images go through a feature
extractor batch by batch, only float64 running sums (and a bounded sample of features for KID)
are kept, and :func:`~bionn.metrics.functional.frechet_distance` does the rest. Any callable
``images -> (n, d) features`` works as the extractor, so tests use a tiny random network and
users pick Inception (:mod:`bionn.metrics.inception`) or the proxy classifier
(:mod:`bionn.metrics.proxy`). Real-image statistics can be saved and reloaded (:func:`cached`).

Example:
    >>> import torch
    >>> metric = ImageDistance(lambda images: images.flatten(1), name="FD-pixels", kid_samples=0)
    >>> metric.update(torch.rand(20, 1, 4, 4), real=True)
    >>> metric.update(torch.rand(20, 1, 4, 4), real=False)
    >>> result = metric.compute()
    >>> result.name, result.value > 0
    ('FD-pixels', True)

"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

import torch
from torch import Tensor

from bionn.data.files import save_torch
from bionn.metrics.functional import frechet_distance, kernel_distance

__all__ = ["DistanceResult", "FeatureStats", "ImageDistance", "cached"]

KID_KEEP = 4


class FeatureStats:
    """Running float64 sums of features: mean and covariance equal the one-shot values.

    Args:
        keep: How many feature rows to keep (the first ones seen) for KID; 0 keeps none.

    """

    def __init__(self, keep: int = 0) -> None:
        self.keep = keep
        self.n = 0
        self.total: Tensor | None = None
        self.outer: Tensor | None = None
        self.kept: list[Tensor] = []
        self.image_shape: tuple[int, ...] | None = None

    def update(self, features: Tensor) -> None:
        """Add a batch of features of shape ``(n, d)``."""
        features = features.detach().to("cpu", torch.float64).flatten(1)
        if self.total is None or self.outer is None:  # both or neither: set together here
            self.total = torch.zeros(features.shape[1], dtype=torch.float64)
            self.outer = torch.zeros(features.shape[1], features.shape[1], dtype=torch.float64)
        elif features.shape[1] != self.total.shape[0]:
            raise ValueError(
                f"feature size changed from {self.total.shape[0]} to {features.shape[1]}"
            )
        self.n += features.shape[0]
        self.total += features.sum(0)
        self.outer += features.T @ features
        missing = self.keep - sum(len(k) for k in self.kept)
        if missing > 0:
            self.kept.append(features[:missing].float())

    @property
    def dim(self) -> int:
        """Feature size (0 before the first update)."""
        return 0 if self.total is None else self.total.shape[0]

    @property
    def mean(self) -> Tensor:
        """The mean feature, float64."""
        self._require(1)
        return cast(Tensor, self.total) / self.n  # set by the first update

    @property
    def covariance(self) -> Tensor:
        """The unbiased (n - 1) sample covariance, float64."""
        self._require(2)
        mean = self.mean
        outer = cast(Tensor, self.outer)  # set by the first update
        return (outer - self.n * torch.outer(mean, mean)) / (self.n - 1)

    @property
    def features(self) -> Tensor:
        """The kept feature rows (for KID), float32."""
        return torch.cat(self.kept) if self.kept else torch.zeros(0, self.dim)

    def _require(self, n: int) -> None:
        if self.n < n:
            raise ValueError(f"need at least {n} samples for these statistics; got {self.n}")

    def check_enough(self, what: str) -> None:
        """Raise a clear error if the covariance would be singular (fewer than d + 1 samples)."""
        if self.n < self.dim + 1:
            raise ValueError(
                f"{what}: {self.n} samples are too few for a stable covariance of "
                f"{self.dim}-dimensional features; at least {self.dim + 1} are needed (FID is "
                f"usually measured on 10,000-50,000 samples; the papers used 51,200)"
            )

    def save(self, path: Path, key: dict[str, object]) -> None:
        """Write the sums, kept features and ``key`` to ``path`` atomically."""
        state = {
            "key": json.dumps(key, sort_keys=True),
            "n": self.n,
            "total": self.total,
            "outer": self.outer,
            "kept": self.features,
            "keep": self.keep,
            "image_shape": list(self.image_shape or ()),
        }
        save_torch(state, path)

    @classmethod
    def load(cls, path: Path, key: dict[str, object] | None = None) -> FeatureStats:
        """Read statistics written by :meth:`save`; ``key`` must match if given."""
        state = torch.load(path, weights_only=True)
        if key is not None and state["key"] != json.dumps(key, sort_keys=True):
            raise ValueError(f"{path} holds statistics for {state['key']}, not {key}")
        stats = cls(keep=int(state["keep"]))
        stats.n, stats.total, stats.outer = int(state["n"]), state["total"], state["outer"]
        stats.kept = [state["kept"]] if len(state["kept"]) else []
        stats.image_shape = tuple(state["image_shape"]) or None
        return stats


def cached(
    cache_dir: Path | None, key: dict[str, object], compute: Callable[[], FeatureStats]
) -> FeatureStats:
    """Statistics from ``cache_dir`` if a file for ``key`` exists, else ``compute()`` and save.

    The file name carries the readable key parts and a hash of the whole key, so statistics of
    another data set, image size, extractor or sample count are never reused.
    """
    if cache_dir is None:
        return compute()
    text = json.dumps(key, sort_keys=True)
    label = "-".join(str(v) for v in key.values())
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)[:80]
    path = Path(cache_dir) / f"stats-{safe}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.pt"
    if path.exists():
        return FeatureStats.load(path, key)
    stats = compute()
    stats.save(path, key)
    return stats


@dataclass(frozen=True)
class DistanceResult:
    """What :meth:`ImageDistance.compute` returns (``kid_*`` are None when KID is off)."""

    name: str
    value: float
    kid_mean: float | None
    kid_std: float | None
    n_real: int
    n_fake: int

    def to_dict(self) -> dict[str, object]:
        """As a plain dict (for JSON)."""
        return asdict(self)


class ImageDistance:
    """FID-style distance between real and generated images through any feature extractor.

    Args:
        extractor: Callable mapping float images in [0, 1], shape ``(n, c, h, w)``, to
            features ``(n, d)``.
        name: Name the result is reported under ("FID", "FD-proxy(mnist)", ...).
        kid_samples: KID subset size (0 turns KID off); up to ``KID_KEEP * kid_samples``
            features per set are kept, so the random subsets differ.
        kid_subsets: Random subsets for KID.

    """

    def __init__(
        self,
        extractor: Callable[[Tensor], Tensor],
        name: str = "FID",
        kid_samples: int = 1000,
        kid_subsets: int = 100,
    ) -> None:
        self.extractor = extractor
        self.name = name
        self.kid_samples = kid_samples
        self.kid_subsets = kid_subsets
        self.real = FeatureStats(keep=KID_KEEP * kid_samples)
        self.fake = FeatureStats(keep=KID_KEEP * kid_samples)

    @torch.no_grad()
    def update(self, images: Tensor, real: bool) -> None:
        """Add a batch of images (float in [0, 1], ``(n, c, h, w)``) to the real or fake set."""
        stats = self.real if real else self.fake
        if images.dim() != 4:
            raise ValueError(f"images must be (n, c, h, w); got shape {tuple(images.shape)}")
        shape = tuple(images.shape[1:])
        if stats.image_shape not in (None, shape):
            raise ValueError(
                f"image shape changed within the {'real' if real else 'generated'} "
                f"set: {stats.image_shape} then {shape}"
            )
        other = (self.fake if real else self.real).image_shape
        self._check_shapes(*((shape, other) if real else (other, shape)))
        stats.update(self.extractor(images))
        stats.image_shape = shape

    def set_real(self, stats: FeatureStats) -> None:
        """Use precomputed (e.g. cached) real-image statistics."""
        self._check_shapes(stats.image_shape, self.fake.image_shape)
        self.real = stats

    @staticmethod
    def _check_shapes(real: tuple[int, ...] | None, fake: tuple[int, ...] | None) -> None:
        if real is not None and fake is not None and real != fake:
            raise ValueError(
                f"real and generated images differ: real (channels, height, width) = {real}, "
                f"generated = {fake}; resize or convert one set so both match"
            )

    def compute_kid(self) -> tuple[float, float]:
        """KID alone, ``(mean, std)``: no covariance, so any sets of at least 2 images work."""
        if self.kid_samples <= 0:
            raise ValueError(f"{self.name}: KID is off (kid_samples=0)")
        return kernel_distance(
            self.real.features,
            self.fake.features,
            subsets=self.kid_subsets,
            subset_size=self.kid_samples,
        )

    def compute(self) -> DistanceResult:
        """Return the distance (and KID when enabled) of everything added so far."""
        self.real.check_enough(f"{self.name} real set")
        self.fake.check_enough(f"{self.name} generated set")
        value = frechet_distance(
            self.real.mean, self.real.covariance, self.fake.mean, self.fake.covariance
        )
        kid_mean = kid_std = None
        if self.kid_samples > 0:
            kid_mean, kid_std = kernel_distance(
                self.real.features,
                self.fake.features,
                subsets=self.kid_subsets,
                subset_size=self.kid_samples,
            )
        return DistanceResult(self.name, value, kid_mean, kid_std, self.real.n, self.fake.n)
