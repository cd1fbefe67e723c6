"""Evaluate a finished training run: image distance for GAN / DDIM, accuracy for classifiers.

Shared by ``bionn compare`` and ``bionn sweep``. The result of each run is saved next to it as
``eval-<key>.json``, so a run is evaluated once per setting. Generators are scored with standard
FID, the papers' Inception protocol or the offline proxy (:mod:`bionn.metrics.evaluate`);
classifiers by their last epoch's test accuracy, with the train / test figures and an
over-fitting measure (how far the test loss rose above its minimum) alongside.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import torch

from bionn.data import GREY_DATASETS, ImageData, write_text

__all__ = ["EvalSettings", "apply_threshold", "evaluate_run", "read_records", "run_radius"]

# Runs above these are "not converged" and listed apart (the mouse paper: FID > 200). The proxy's
# features have unit spread; uniform-noise images score about 21 on digits and Fashion-MNIST,
# held-out real images about 0.06, so 10 marks a generator that is still mostly noise.
DEFAULT_THRESHOLDS = {"fid": 200.0, "paper": 200.0, "proxy": 10.0}


@dataclass(frozen=True)
class EvalSettings:
    """How generated images are scored.

    Attributes:
        metric: 'auto' (proxy for grey mnist / fashionmnist / digits, else 'fid'), 'fid',
            'paper' or 'proxy'.
        n_samples: Generated (and real) images per run; the papers used 51,200.
        kid_samples: KID subset size (0: no KID).
        inception_weights: Inception weights file for 'fid' (offline) and 'paper'.
        threshold: Distance above which a run counts as not converged (None: per metric).
        cache_dir: Real statistics and proxy classifier cache (None: the default one).
        device: Where sampling and features run.
        sample_seed: Seed of the evaluation latents.

    """

    metric: str = "auto"
    n_samples: int = 10_000
    kid_samples: int = 1000
    inception_weights: str | None = None
    threshold: float | None = None
    cache_dir: str | None = None
    device: str = "cpu"
    sample_seed: int = 12345

    def resolve(self, data: str, channels: int) -> str:
        """Return the concrete metric for a run on ``data`` with ``channels``."""
        if self.metric != "auto":
            return self.metric
        return "proxy" if data.lower() in GREY_DATASETS and channels == 1 else "fid"

    def key(self, metric: str) -> str:
        """Return a short stable key of everything that changes the score.

        The threshold only reads the score (:func:`apply_threshold`), so it is not part of it.
        """
        unchanged = {"cache_dir": None, "device": None, "threshold": None}
        text = json.dumps({**asdict(self), "metric": metric, **unchanged}, sort_keys=True)
        return f"{metric}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def read_records(run_dir: Path) -> list[dict[str, Any]]:
    """Return the lines of a run's ``metrics.jsonl`` (a torn last line dropped with a warning)."""
    from bionn.experiments.train.outputs import read_jsonl

    return read_jsonl(Path(run_dir) / "metrics.jsonl")


def run_radius(model: torch.nn.Module) -> float | None:
    """Mean radius of the mouse ('2d') layers of ``model`` (None if it has none)."""
    from bionn.layers import WindowedLayer

    radii = [
        m.window_spec.radius
        for m in model.modules()
        if isinstance(m, WindowedLayer) and m.form == "2d"
    ]
    return float(sum(radii) / len(radii)) if radii else None


def _classifier_scores(run_dir: Path) -> dict[str, Any]:
    epochs = [r for r in read_records(run_dir) if "test_loss" in r]
    if not epochs:
        raise ValueError(f"{run_dir} has no per-epoch test metrics to evaluate")
    last = epochs[-1]
    best_loss = min(r["test_loss"] for r in epochs)
    return {
        "metric": "test accuracy",
        "value": last["test_acc"],
        "higher_is_better": True,
        "train_acc": last["train_acc"],
        "test_acc": last["test_acc"],
        "train_loss": last["train_loss"],
        "test_loss": last["test_loss"],
        "min_test_loss": best_loss,
        "overfitting": last["test_loss"] - best_loss,
        "gap": last["train_acc"] - last["test_acc"],
        "converged": True,
    }


def _generator_scores(loaded: Any, settings: EvalSettings, metric: str) -> dict[str, Any]:
    from bionn.experiments import load_data
    from bionn.experiments.sampling import SampledImages
    from bionn.metrics.evaluate import (
        default_cache_dir,
        images_key,
        make_extractor,
        measure,
        real_statistics,
    )

    config = loaded.config
    cache_dir = Path(settings.cache_dir) if settings.cache_dir else default_cache_dir()
    split = load_data(
        config.data,
        size=config.image_size,
        channels=config.channels,
        train=True,
        data_root=config.data_root,
        cache_dir=config.cache_dir,
    )
    train = cast(ImageData, split)  # only an image folder's test split can be missing
    proxy_data = (config.data.lower(), train.images, train.labels) if metric == "proxy" else None
    extractor, name = make_extractor(
        metric,
        weights=settings.inception_weights,
        proxy_data=proxy_data,
        cache_dir=cache_dir,
        device=settings.device,
    )
    # a fixed random subset of the training images: the same reals for every run
    order = torch.randperm(len(train.images), generator=torch.Generator().manual_seed(0))
    real = train.images[order[: settings.n_samples]]
    stats = real_statistics(
        extractor, real, key=images_key(real), cache_dir=cache_dir, kid_samples=settings.kid_samples
    )
    fake = SampledImages(
        loaded.model,
        settings.n_samples,
        seed=settings.sample_seed,
        steps=getattr(config, "sampling_steps", 20),
    )  # DDIM: the run's steps
    result = measure(extractor, name, stats, fake, kid_samples=settings.kid_samples)
    scores = {
        "metric": name,
        "value": result.value,
        "higher_is_better": False,
        "kid_mean": result.kid_mean,
        "kid_std": result.kid_std,
        "n_real": result.n_real,
        "n_fake": result.n_fake,
    }
    if metric == "proxy":
        scores["proxy_accuracy"] = extractor.accuracy  # type: ignore[attr-defined]  # ProxyFeatures
    return scores


def evaluate_run(run_dir: Path | str, settings: EvalSettings) -> dict[str, Any]:
    """Score the finished run in ``run_dir`` (cached in ``eval-<key>.json`` beside it).

    Returns:
        The scores (``metric``, ``value``, ``converged``, ...) plus the run's ``variant``,
        ``seed``, ``usage`` (windowed layers), ``usage_total``, ``radius``, ``reduction``,
        ``parameters`` and ``time_s`` from its summary.

    Raises:
        ValueError: If the run is not finished.

    """
    from bionn.experiments import load_run

    run_dir = Path(run_dir)
    loaded, summary = load_run(run_dir, settings.device)
    if summary.get("status") != "completed":
        raise ValueError(f"run {run_dir} is not finished (status {summary.get('status')!r})")
    config = loaded.config
    metric = settings.resolve(config.data, config.channels or 1)
    key = settings.key(metric if config.kind != "classifier" else "acc")
    path = run_dir / f"eval-{key}-step{loaded.step}.json"  # a resumed run is scored again
    if path.is_file():
        return apply_threshold(json.loads(path.read_text()), settings, metric)
    if config.kind == "classifier":
        scores = _classifier_scores(run_dir)
    else:
        scores = _generator_scores(loaded, settings, metric)
    scores.update(
        {
            "run": str(run_dir),
            "kind": config.kind,
            "variant": config.variant,
            "seed": config.seed,
            "usage": summary["usage"]["windowed"],
            "usage_total": summary["usage"]["total"],
            "radius": run_radius(loaded.model),
            "reduction": 0.0
            if config.variant == "standard"
            else getattr(config, "reduction", None),
            "parameters": summary["parameters"],
            "time_s": summary["time_s"],
            "weights": summary["usage"]["layers"][-1]["weights"],
            "active_weights": summary["usage"]["layers"][-1]["active"],
        }
    )
    write_text(path, json.dumps(scores, indent=2))
    return apply_threshold(scores, settings, metric)


def apply_threshold(scores: dict[str, Any], settings: EvalSettings, metric: str) -> dict[str, Any]:
    """``scores`` with ``threshold`` and ``converged`` by ``settings`` (classifiers: always).

    Applied whenever a score is read, so a study reported with another ``--threshold`` reuses
    its runs' scores instead of computing them again.
    """
    if scores.get("higher_is_better", False):  # accuracy: every run counts
        return {**scores, "converged": True}
    default = DEFAULT_THRESHOLDS.get(metric, DEFAULT_THRESHOLDS["fid"])
    threshold = settings.threshold if settings.threshold is not None else default
    return {**scores, "threshold": threshold, "converged": bool(scores["value"] <= threshold)}
