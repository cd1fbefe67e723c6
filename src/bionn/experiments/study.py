"""What ``bionn compare`` and ``bionn sweep`` share: options, run folders, and result statistics.

A study trains many runs of one configuration that differ only in variant, seed and usage.
:func:`ensure_run` makes that safe to repeat: a finished run is reused, an interrupted one
resumed from its checkpoint, and a folder holding a run of another configuration is an error,
never overwritten.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path
from typing import Any

from bionn.experiments.evaluation import EvalSettings

__all__ = ["StudyError", "add_study_arguments", "base_overrides", "bio_variant",
           "ensure_run", "eval_settings", "parse_seeds", "statistics"]  # fmt: skip

# files a run writes before its first checkpoint: safe to clear when restarting that run
_EARLY_FILES = {"config.json", "metrics.jsonl", "samples"}


class StudyError(ValueError):
    """A study folder or option that cannot be used; the message says why."""


def add_study_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by compare and sweep: model, data, training size, seeds, evaluation."""
    parser.add_argument("kind", choices=("gan", "ddim", "classifier"), help="what to train")
    parser.add_argument("--model", default=None, help="architecture (default: the kind's first)")
    parser.add_argument("--data", default="digits", help="digits, mnist, fashionmnist, cifar10 "
                                                         "or an image folder")  # fmt: skip
    parser.add_argument("--data-root", default="data", help="torchvision data root")
    parser.add_argument("--seeds", default="3",
                        help="N (seeds 0..N-1) or a comma list such as 0,1,2 (paper: ten runs)")
    for name, kind in (("image-size", int), ("width", int), ("epochs", int), ("steps", int),
                       ("batch-size", int), ("lr", float), ("limit", int)):  # fmt: skip
        parser.add_argument(f"--{name}", type=kind, default=None,
                            help=f"training {name.replace('-', ' ')} (default: published)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any other training option, e.g. --set disc_width=16 (repeatable)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--metric", choices=("auto", "fid", "paper", "proxy"), default="auto",
                        help="auto: the offline proxy for grey mnist / fashionmnist / digits, "
                             "else standard FID")  # fmt: skip
    parser.add_argument("--n-samples", type=int, default=10_000,
                        help="generated images per run for FID / proxy (paper: 51,200)")
    parser.add_argument("--kid-samples", type=int, default=1000, help="KID subset size (0: off)")
    parser.add_argument("--inception-weights", default=None, metavar="PATH",
                        help="Inception weights file (offline standard FID; paper protocol)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="distance above which a run is 'not converged' (FID: 200, "
                             "proxy: 10)")  # fmt: skip
    parser.add_argument("--cache-dir", default=None, help="metric cache folder")


def parse_seeds(text: str) -> list[int]:
    """``"3"`` -> [0, 1, 2]; ``"4,7"`` -> [4, 7]."""
    try:
        if "," in text:
            seeds = [int(part) for part in text.split(",") if part.strip()]
        else:
            seeds = list(range(int(text)))
    except ValueError as error:
        raise StudyError(f"--seeds must be a count or a comma list of ints, got {text!r}"
                         ) from error  # fmt: skip
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise StudyError(f"--seeds must give distinct seeds >= 0, got {text!r}")
    return seeds


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def base_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Training options common to every run of the study (no variant, seed or out)."""
    overrides: dict[str, Any] = {"data": args.data, "data_root": args.data_root,
                                 "device": args.device, "progress": False}  # fmt: skip
    if args.model:
        overrides["model"] = args.model
    for name in ("image_size", "width", "epochs", "steps", "batch_size", "lr", "limit"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    for item in args.set:
        key, sep, text = item.partition("=")
        if not sep:
            raise StudyError(f"--set expects KEY=VALUE, got {item!r}")
        overrides[key.strip().replace("-", "_")] = _value(text.strip())
    return overrides


def bio_variant(kind: str, model: str | None) -> str:
    """Return the bio-mimetic variant of ``model`` ('mouse' or 'schizo')."""
    from bionn.experiments.config import config_class

    cls = config_class(kind)
    name = model or cls().model
    variants = cls.MODELS.get(name, ("standard", "mouse"))
    return next(v for v in variants if v != "standard")


def eval_settings(args: argparse.Namespace) -> EvalSettings:
    """Return the evaluation options as :class:`EvalSettings`."""
    return EvalSettings(metric=args.metric, n_samples=args.n_samples,
                        kid_samples=args.kid_samples, inception_weights=args.inception_weights,
                        threshold=args.threshold, cache_dir=args.cache_dir,
                        device="cpu" if args.device == "auto" else args.device)  # fmt: skip


def ensure_run(config: Any) -> Path:
    """Train ``config`` into its ``out`` folder unless done; resume it if interrupted.

    A finished run asked for another number of steps or epochs is resumed to that length.

    Raises:
        StudyError: If the folder holds a run of another configuration.

    """
    from bionn.experiments import CheckpointError, run_training
    from bionn.experiments.train.resume import merge_resumed_config

    run_dir = config.run_dir()
    saved_path = run_dir / "config.json"
    if not saved_path.is_file():
        run_training(config)
        return run_dir
    saved = json.loads(saved_path.read_text())
    try:
        merge_resumed_config(saved, config, None)
    except CheckpointError as error:
        raise StudyError(f"{run_dir} holds a run of another configuration; nothing was "
                         f"overwritten. Use another output folder. ({error})") from error
    summary = run_dir / "summary.json"
    same_length = all(saved.get(k) == getattr(config, k) for k in ("steps", "epochs"))
    if (summary.is_file() and json.loads(summary.read_text()).get("status") == "completed"
            and same_length):  # fmt: skip
        return run_dir
    if (run_dir / "checkpoints").is_dir():
        run_training(config, resume=True)
        return run_dir
    if {p.name for p in run_dir.iterdir()} <= _EARLY_FILES:  # crashed before any checkpoint
        for path in run_dir.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        run_training(config)
        return run_dir
    raise StudyError(f"{run_dir} holds unexpected files and no checkpoint; move it away")


def statistics(values: list[float]) -> dict[str, Any]:
    """Mean, sample standard deviation (n - 1) and count; NaN where undefined."""
    n = len(values)
    mean = sum(values) / n if n else math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else math.nan
    return {"mean": mean, "sd": sd, "n": n, "values": list(values)}
