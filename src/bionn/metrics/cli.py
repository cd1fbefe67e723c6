"""``bionn fid REAL FAKE``: FID / KID / proxy distance between two image sets.

Each side is an image folder, a named data set (``mnist``, ``fashionmnist``, ``digits``) or a
checkpoint of ``bionn train`` (file or run folder), from which ``--n`` images are sampled.
Statistics of named data sets are cached, keyed by data set, split, size, extractor and count.

Example:
    bionn fid mnist runs/gan-mouse --metric proxy --data-root data --n 5000

"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from torch import Tensor

from bionn.metrics.evaluate import (
    METRICS,
    default_cache_dir,
    make_extractor,
    measure,
    real_statistics,
)
from bionn.metrics.images import GREY_DATASETS, load_dataset, load_folder

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bionn fid`` options to ``parser``."""
    parser.add_argument("real", help="real images: a folder, a data set name or a checkpoint")
    parser.add_argument("fake", help="generated images: a folder, a checkpoint or a data set")
    parser.add_argument("--metric", choices=METRICS, default="fid",
                        help="fid: standard FID (torch-fidelity Inception); paper: the papers' "
                             "Keras-style InceptionV3 protocol (not comparable with FID); "
                             "proxy: offline small-classifier distance for grey data sets")
    parser.add_argument("--inception-weights", default=None, metavar="PATH",
                        help="Inception weights file, for machines without internet")
    parser.add_argument("--proxy-dataset", default=None,
                        help="data set the proxy classifier is trained on (default: the named "
                             "data set among REAL / FAKE)")
    parser.add_argument("--data-root", default="data", help="torchvision data root")
    parser.add_argument("--split", choices=("train", "test"), default="train",
                        help="split of a named data set")
    parser.add_argument("--size", type=int, default=None,
                        help="resize named data sets to SIZE x SIZE (default: a checkpoint's "
                             "image size, else 28)")
    parser.add_argument("--n", type=int, default=10_000,
                        help="images per set (the papers used 51,200); a set with fewer uses all")
    parser.add_argument("--kid-samples", type=int, default=1000,
                        help="KID subset size (0: no KID)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0, help="seed of checkpoint sampling")
    parser.add_argument("--steps", type=int, default=20, help="DDIM sampling steps")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cache-dir", default=None,
                        help="statistics / proxy cache (default ~/.cache/bionn/metrics)")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the result here")


def _is_checkpoint(text: str) -> bool:
    path = Path(text)
    return path.is_file() and path.suffix in (".pt", ".pth") or (path / "checkpoints").is_dir()


def _sample(text: str, args: argparse.Namespace) -> tuple[Tensor, str, int]:
    """Images from a checkpoint, and its data set name and image size."""
    from bionn.experiments.checkpoint import load_checkpoint
    from bionn.experiments.sampling import sample_images

    loaded = load_checkpoint(text, args.device)
    images = sample_images(loaded.model, args.n, steps=args.steps, seed=args.seed,
                           batch_size=args.batch_size)  # fmt: skip
    return images, loaded.config.data, images.shape[-1]


def _load(text: str, args: argparse.Namespace, size: int | None) -> tuple[Tensor, dict | None]:
    """Images of one side and the cache key (named data sets only)."""
    if _is_checkpoint(text):
        return _sample(text, args)[0], None
    if Path(text).is_dir():
        return load_folder(text, limit=args.n), None
    if text.lower() in GREY_DATASETS:
        images, _ = load_dataset(text, args.data_root, train=args.split == "train", size=size)
        key = {"dataset": text.lower(), "split": args.split, "size": images.shape[-1]}
        return images[:args.n], key
    raise ValueError(f"{text!r} is neither an image folder, a checkpoint nor one of the data sets "
                     f"{', '.join(GREY_DATASETS)}")  # fmt: skip


def _infer(args: argparse.Namespace) -> tuple[int | None, str | None]:
    """Image size and proxy data set implied by the arguments or a checkpoint's config."""
    size, dataset = args.size, args.proxy_dataset
    for text in (args.real, args.fake):
        if text.lower() in GREY_DATASETS:
            dataset = dataset or text.lower()
        elif _is_checkpoint(text) and (size is None or dataset is None):
            from bionn.experiments.checkpoint import load_checkpoint

            config = load_checkpoint(text).config
            size = size or config.image_size
            dataset = dataset or (config.data if config.data in GREY_DATASETS else None)
    return size, dataset


def run(args: argparse.Namespace) -> int:
    """Measure and print the distance; 0 on success, 2 with a message on bad input."""
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    try:
        size, dataset = _infer(args)
        proxy_data = None
        if args.metric == "proxy" and dataset is not None:
            images, labels = load_dataset(dataset, args.data_root, train=True, size=size)
            proxy_data = (dataset, images, labels)
        extractor, name = make_extractor(args.metric, weights=args.inception_weights,
                                         proxy_data=proxy_data, cache_dir=cache_dir,
                                         device=args.device)  # fmt: skip
        real, key = _load(args.real, args, size)
        fake, _ = _load(args.fake, args, size)
        if real.shape[1:] != fake.shape[1:]:
            raise ValueError(f"real and generated images differ: real (channels, height, width) "
                             f"= {tuple(real.shape[1:])}, generated = {tuple(fake.shape[1:])}; "
                             f"pass --size or convert one set")  # fmt: skip
        stats = real_statistics(extractor, real, key=key, cache_dir=cache_dir,
                                kid_samples=args.kid_samples, batch_size=args.batch_size)
        result = measure(extractor, name, stats, fake, kid_samples=args.kid_samples,
                         batch_size=args.batch_size)  # fmt: skip
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"bionn fid: {error}", file=sys.stderr)
        return 2
    kid = "" if result.kid_mean is None else f"  KID {result.kid_mean:.5f} +- {result.kid_std:.5f}"
    print(f"{result.name} {result.value:.4f}{kid}  (real {result.n_real}, generated "
          f"{result.n_fake})")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2))
    return 0
