"""``bionn fid REAL FAKE``: FID / KID / proxy distance between two image sets.

Each side is an image folder, a named data set (``mnist``, ``fashionmnist``, ``digits``) or a
checkpoint of ``bionn train`` (file or run folder), from which ``--eval-samples`` images are
sampled.
Statistics of named data sets are cached, keyed by data set, split, size, extractor and count.

Examples:
    bionn fid ~/data/afhq/cat samples/ --inception-weights pt_inception.pth
    bionn fid mnist runs/gan-mouse --metric proxy --data-root data --eval-samples 5000

"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bionn.cli import error_exit
from bionn.cli.options import add_eval_arguments, check_eval_arguments, device_name
from bionn.metrics.evaluate import default_cache_dir
from bionn.metrics.sources import SourceOptions, distance_between

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bionn fid`` options to ``parser``."""
    parser.add_argument("real", help="real images: a folder, a data set name or a checkpoint")
    parser.add_argument("fake", help="generated images: a folder, a checkpoint or a data set")
    add_eval_arguments(parser, threshold=False)
    parser.add_argument(
        "--proxy-dataset",
        default=None,
        help="data set the proxy classifier is trained on (default: the named "
        "data set among REAL / FAKE)",
    )
    parser.add_argument("--data-root", default="data", help="torchvision data root")
    parser.add_argument(
        "--split", choices=("train", "test"), default="train", help="split of a named data set"
    )
    parser.add_argument(
        "--size",
        type=int,
        default=None,
        help="resize both sides to SIZE x SIZE (shorter side, centre crop) "
        "(default: a checkpoint's image size, else the generated folder's "
        "first image, else 28)",
    )
    parser.add_argument(
        "--sample-batch",
        type=int,
        default=64,
        metavar="N",
        help="images generated or scored per forward pass (default: 64)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of checkpoint sampling (default: 0)"
    )
    parser.add_argument(
        "--sampling-steps",
        type=int,
        default=20,
        metavar="N",
        help="DDIM sampling steps of a checkpoint (default: 20)",
    )
    parser.add_argument(
        "--device",
        default="auto",
        help="auto (CUDA if present), cpu, cuda or cuda:N (default: auto)",
    )
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the result here")


def run(args: argparse.Namespace) -> int:
    """Measure and print the distance; 0 on success, 2 with a message on bad input."""
    cache_dir = Path(args.metrics_cache) if args.metrics_cache else default_cache_dir()
    try:
        check_eval_arguments(args)
        options = SourceOptions(
            n=args.eval_samples,
            data_root=args.data_root,
            split=args.split,
            seed=args.seed,
            sampling_steps=args.sampling_steps,
            batch_size=args.sample_batch,
            device=device_name(args.device),
        )
        result = distance_between(
            args.real,
            args.fake,
            metric=args.metric,
            size=args.size,
            proxy_dataset=args.proxy_dataset,
            options=options,
            weights=args.inception_weights,
            cache_dir=cache_dir,
            kid_samples=args.kid_samples,
        )
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        return error_exit("fid", error)
    kid = "" if result.kid_mean is None else f"  KID {result.kid_mean:.5f} +- {result.kid_std:.5f}"
    print(
        f"{result.name} {result.value:.4f}{kid}  (real {result.n_real}, generated {result.n_fake})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2))
    return 0
