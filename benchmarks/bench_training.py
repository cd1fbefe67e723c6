"""Training throughput (images/s) of the GAN and DDIM, standard vs mouse, on CPU at a small
size; and image-folder loading, decoding every epoch vs the uint8 tensor cache.

    python benchmarks/bench_training.py [--size 32] [--steps 4] [--rounds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bionn.experiments import build_model, load_data, make_config
from bionn.experiments.data import load_image_folder
from bionn.experiments.ddp import Dist
from bionn.experiments.train.base import Context
from bionn.experiments.train.ddim import DDIMTrainer
from bionn.experiments.train.gan import GANTrainer


def make_trainer(kind: str, variant: str, size: int, batch: int) -> tuple:
    options = {"gan": {"width": 32, "disc_width": 32}, "ddim": {"width": 32, "levels": 3}}[kind]
    config = make_config(
        kind, variant=variant, image_size=size, batch_size=batch, channels=1, **options
    )
    torch.manual_seed(0)
    data = load_data("digits", size=size, channels=1)
    model = build_model(config, channels=1, classes=10)
    trainer_class = GANTrainer if kind == "gan" else DDIMTrainer
    trainer = trainer_class(Context(config, Dist()), model, data, None)
    images = data.images[:batch].float() / 255
    labels = data.labels[:batch]
    trainer.train_step(images, labels)  # warm-up
    return trainer, images, labels


def best_rates(size: int, steps: int, batch: int, rounds: int) -> dict[str, float]:
    """Best images/s of alternating rounds: robust to other load on a shared machine."""
    setups = {
        f"{kind}_{variant}": make_trainer(kind, variant, size, batch)
        for kind in ("gan", "ddim")
        for variant in ("standard", "mouse")
    }
    best = dict.fromkeys(setups, 0.0)
    for _ in range(rounds):
        for name, (trainer, images, labels) in setups.items():
            start = time.perf_counter()
            for _ in range(steps):
                trainer.train_step(images, labels)
            best[name] = max(best[name], steps * batch / (time.perf_counter() - start))
    return best


def folder_rates(n_images: int, epochs: int, size: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        rng = np.random.default_rng(0)
        for i in range(n_images):
            pixels = rng.integers(0, 255, (160, 200, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:04d}.jpg", quality=90)
        start = time.perf_counter()
        for epoch in range(epochs):  # no cache: a fresh cache folder every epoch
            load_image_folder(folder, size, cache_dir=f"{tmp}/nocache{epoch}")
        decoding = n_images * epochs / (time.perf_counter() - start)
        load_image_folder(folder, size, cache_dir=f"{tmp}/cache")  # decode once, write cache
        start = time.perf_counter()
        for _ in range(epochs):
            load_image_folder(folder, size, cache_dir=f"{tmp}/cache")
        cached = n_images * epochs / (time.perf_counter() - start)
    return decoding, cached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results: dict[str, float] = {}
    print(f"CPU, {args.threads} thread(s), {args.size}x{args.size} grey, batch {args.batch}")
    for name, rate in best_rates(args.size, args.steps, args.batch, args.rounds).items():
        results[f"{name}_images_per_s"] = rate
        kind, variant = name.split("_")
        print(f"  {kind:4s} {variant:8s} {rate:8.1f} images/s (training, best of {args.rounds})")
    decoding, cached = folder_rates(args.images, 3, 64)
    results.update(folder_decode_images_per_s=decoding, folder_cached_images_per_s=cached)
    print(f"  image folder, {args.images} JPEGs 200x160 -> 64x64, 3 epochs:")
    print(f"    decoding every epoch {decoding:10.0f} images/s")
    print(f"    uint8 tensor cache   {cached:10.0f} images/s ({cached / decoding:.0f}x)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
