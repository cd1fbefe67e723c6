"""What ``bionn fid REAL FAKE`` compares: each side as an image set of one common size.

A side is an image folder (read lazily, one file open at a time, any mix of sizes and
formats), a named grey data set (``mnist``, ``fashionmnist``, ``digits``) or a checkpoint of
``bionn train`` (file, run folder or ``model.safetensors``: images are generated batch by batch
while the features are computed). Both sides are brought to one size (``size``, else a
checkpoint's image size, else the generated folder's first image, else 28) and one channel
count (grey for the proxy, RGB for Inception). Counts are checked before anything slow starts
(sampling, proxy training, feature extraction).

Example:
    >>> from bionn.metrics.sources import distance_between
    >>> result = distance_between("digits", "my_samples/", metric="proxy")  # doctest: +SKIP

"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bionn.data import (
    GREY_DATASETS,
    FittedImages,
    ImageSet,
    TensorImages,
    open_folder,
)
from bionn.metrics.evaluate import (
    check_sample_counts,
    default_cache_dir,
    make_extractor,
    measure,
    real_statistics,
)
from bionn.metrics.fid import DistanceResult
from bionn.metrics.images import load_dataset

__all__ = ["SourceOptions", "distance_between", "is_checkpoint"]


@dataclass(frozen=True)
class SourceOptions:
    """How each side is read or generated.

    Attributes:
        n: Images per side (the first ``n`` files of a folder, sorted by path).
        data_root: torchvision data root of named data sets.
        split: 'train' or 'test' split of a named data set.
        seed: Seed of checkpoint sampling.
        sampling_steps: DDIM sampling steps of a checkpoint.
        batch_size: Images generated, decoded or scored at once.
        device: Where sampling and features run.

    """

    n: int = 10_000
    data_root: str = "data"
    split: str = "train"
    seed: int = 0
    sampling_steps: int = 20
    batch_size: int = 64
    device: str = "cpu"


def is_checkpoint(text: str) -> bool:
    """Whether ``text`` names a checkpoint file, a model file or a run folder."""
    path = Path(text)
    if path.is_file():
        return path.suffix in (".pt", ".pth", ".safetensors")
    return (path / "checkpoints").is_dir()


class _Sides:
    """Facts about both sides, gathered without decoding images or training anything."""

    def __init__(self, real: str, fake: str, device: str) -> None:
        self.texts = (real, fake)
        self.models: dict[str, Any] = {}
        for text in self.texts:
            if is_checkpoint(text):
                from bionn.experiments.checkpoint import load_checkpoint

                self.models[text] = load_checkpoint(text, device)
            elif text.lower() not in GREY_DATASETS and not Path(text).is_dir():
                raise ValueError(
                    f"{text!r} is neither an image folder, a checkpoint nor one of "
                    f"the data sets {', '.join(GREY_DATASETS)}"
                )

    def dataset(self) -> str | None:
        """The grey named data set among the sides (or a checkpoint's), for the proxy."""
        for text in self.texts:
            if text.lower() in GREY_DATASETS:
                return text.lower()
        for loaded in self.models.values():
            if loaded.config.data.lower() in GREY_DATASETS:
                return loaded.config.data.lower()
        return None

    def size(self) -> int:
        """A checkpoint's image size, else the first image of a folder (generated side first)."""
        if self.models:
            return int(next(iter(self.models.values())).config.image_size)
        for text in reversed(self.texts):
            if Path(text).is_dir():
                return open_folder(text).size
        return 28

    def open(
        self, text: str, size: int, channels: int, options: SourceOptions
    ) -> tuple[ImageSet, dict | None]:
        """The image set of one side and its statistics cache key (named data sets only)."""
        if text in self.models:
            from bionn.experiments.sampling import SampledImages

            samples = SampledImages(
                self.models[text].model, options.n, options.sampling_steps, options.seed
            )
            return FittedImages(samples, size, channels), None
        if Path(text).is_dir():
            return open_folder(text, size, channels, limit=options.n), None
        images, _ = load_dataset(text, options.data_root, train=options.split == "train", size=size)
        key = {"dataset": text.lower(), "split": options.split, "size": size, "channels": channels}
        return FittedImages(TensorImages(images[: options.n]), size, channels), key


def distance_between(
    real: str,
    fake: str,
    *,
    metric: str = "auto",
    size: int | None = None,
    proxy_dataset: str | None = None,
    options: SourceOptions | None = None,
    weights: str | None = None,
    cache_dir: Path | None = None,
    kid_samples: int = 1000,
    progress: bool | None = None,
) -> DistanceResult:
    """FID (or the paper / proxy distance) between two sides named as on the command line.

    Args:
        real: Real images: a folder, a named grey data set or a checkpoint.
        fake: Generated images: a folder, a checkpoint or a data set.
        metric: 'fid', 'paper', 'proxy' or 'auto' (proxy when a grey named data set is
            involved, else fid).
        size: Common image size (default: see the module docstring).
        proxy_dataset: Data set the proxy classifier trains on (default: the named one).
        options: How the sides are read or generated.
        weights: Inception weights file.
        cache_dir: Real statistics and proxy cache (default: :func:`default_cache_dir`).
        kid_samples: KID subset size (0: no KID).
        progress: Progress bars (None: when stderr is a terminal).

    Raises:
        ValueError: An unknown side, too few images on a side (raised before sampling, proxy
            training or feature extraction), an unreadable image (naming the file), missing
            weights or data.

    """
    options = options or SourceOptions()
    sides = _Sides(real, fake, options.device)
    dataset = proxy_dataset or sides.dataset()
    if metric == "auto":
        metric = "proxy" if dataset is not None else "fid"
    channels = 1 if metric == "proxy" else 3
    size = size or sides.size()
    real_set, key = sides.open(real, size, channels, options)
    fake_set, _ = sides.open(fake, size, channels, options)
    check_sample_counts(metric, len(real_set), len(fake_set))
    proxy_data = None
    if metric == "proxy" and dataset is not None:
        images, labels = load_dataset(dataset, options.data_root, train=True, size=size)
        proxy_data = (dataset, images, labels)
    cache_dir = cache_dir or default_cache_dir()
    extractor, name = make_extractor(
        metric,
        weights=weights,
        proxy_data=proxy_data,
        cache_dir=cache_dir,
        device=options.device,
        progress=progress,
    )
    stats = real_statistics(
        extractor,
        real_set,
        key=key,
        cache_dir=cache_dir,
        kid_samples=kid_samples,
        batch_size=options.batch_size,
        progress=progress,
    )
    return measure(
        extractor,
        name,
        stats,
        fake_set,
        kid_samples=kid_samples,
        batch_size=options.batch_size,
        progress=progress,
    )
