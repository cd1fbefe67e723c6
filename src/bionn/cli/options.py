"""Command-line options generated from the config dataclasses, and the options commands share.

One field, one option: ``--dashed-name``, ``choices`` from its ``Literal`` type,
``--x / --no-x`` for booleans, grouped by the field's ``group``. Defaults stay unset in the
namespace, so a command knows which options the user gave (a resumed run keeps the others).
Names mean one thing in every command: ``--out`` is always the folder a command writes,
``--device`` is ``auto`` by default everywhere.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from bionn.experiments.config import (
    GROUPS,
    ConfigError,
    RunConfig,
    config_class,
    config_from_dict,
    field_type,
)

__all__ = [
    "add_config_arguments",
    "add_eval_arguments",
    "config_from_args",
    "eval_settings",
    "options_from_args",
]


def _default_text(f: dataclasses.Field) -> str:
    help_text = f.metadata.get("help", "")
    if "default" in help_text or f.default in ("", None):
        return help_text
    return f"{help_text} (default: {f.default})"


def add_config_arguments(
    parser: argparse.ArgumentParser, cls: type[RunConfig], exclude: tuple[str, ...] = ()
) -> None:
    """Add ``--config JSON`` and one option per field of ``cls`` (but ``exclude``), grouped."""
    groups = {name: parser.add_argument_group(f"{name} options") for name in GROUPS}
    groups["output"].add_argument(
        "--config", metavar="JSON", help="JSON file of options (options given here win)"
    )
    for f in dataclasses.fields(cls):
        if f.name in exclude:
            continue
        base, _ = field_type(cls, f.name)
        flag = "--" + f.name.replace("_", "-")
        group = groups[f.metadata["group"]]
        common: dict[str, Any] = {
            "dest": f.name,
            "default": argparse.SUPPRESS,
            "help": _default_text(f),
        }
        choices = cls.choices(f.name)
        if base is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, **common)
        elif choices:
            group.add_argument(flag, type=type(choices[0]), choices=choices, **common)
        else:
            group.add_argument(flag, type=base, metavar=f.name.upper(), **common)


def options_from_args(cls: type[RunConfig], args: argparse.Namespace) -> dict[str, Any]:
    """The options of ``--config`` then those given on the command line (they win)."""
    values: dict[str, Any] = {}
    config_file = getattr(args, "config", None)
    if config_file:
        try:
            loaded = json.loads(Path(config_file).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError(f"cannot read config file {config_file}: {error}") from error
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {config_file} must hold a JSON object")
        values.update({k: v for k, v in loaded.items() if k != "kind"})
    names = {f.name for f in dataclasses.fields(cls)}
    values.update({name: getattr(args, name) for name in names if name in vars(args)})
    return values


def config_from_args(kind: str, args: argparse.Namespace) -> tuple[RunConfig, set[str]]:
    """Return the config of ``kind`` from ``args``, and the names of the options given."""
    values = options_from_args(config_class(kind), args)
    return config_from_dict(kind, values), set(values)


def add_eval_arguments(parser: argparse.ArgumentParser, threshold: bool = True) -> None:
    """How generated images are scored: the options of ``fid``, ``compare`` and ``sweep``."""
    group = parser.add_argument_group("evaluation options")
    group.add_argument(
        "--metric",
        choices=("auto", "fid", "paper", "proxy"),
        default="auto",
        help="fid: standard FID (torch-fidelity Inception); paper: the papers' "
        "Keras-style InceptionV3 protocol (not comparable with FID); proxy: "
        "offline small-classifier distance for grey data sets; auto: proxy "
        "for grey mnist / fashionmnist / digits, else fid (default: auto)",
    )
    group.add_argument(
        "--eval-samples",
        type=int,
        default=10_000,
        metavar="N",
        help="images scored per set; the papers used 51,200 (default: 10000)",
    )
    group.add_argument(
        "--kid-samples",
        type=int,
        default=1000,
        metavar="N",
        help="KID subset size, 0: no KID (default: 1000)",
    )
    group.add_argument(
        "--inception-weights",
        default=None,
        metavar="PATH",
        help="Inception weights file, for machines without internet",
    )
    group.add_argument(
        "--metrics-cache",
        default=None,
        metavar="DIR",
        help="cache of real-image statistics and proxy classifiers "
        "(default ~/.cache/bionn/metrics)",
    )
    if threshold:
        group.add_argument(
            "--threshold",
            type=float,
            default=None,
            help="distance above which a run is 'not converged' (default: FID 200, proxy 10)",
        )


def check_eval_arguments(args: argparse.Namespace) -> None:
    """Raise ConfigError for evaluation counts out of range."""
    if args.eval_samples < 2:
        raise ConfigError(f"--eval-samples must be >= 2, got {args.eval_samples}")
    if args.kid_samples < 0:
        raise ConfigError(f"--kid-samples must be >= 0, got {args.kid_samples}")


def device_name(device: str) -> str:
    """``auto`` -> ``cuda`` when CUDA is present, else ``cpu``; other names unchanged."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def eval_settings(args: argparse.Namespace, device: str) -> Any:
    """Return the evaluation options of ``args`` as :class:`EvalSettings`."""
    from bionn.experiments.evaluation import EvalSettings

    check_eval_arguments(args)
    return EvalSettings(
        metric=args.metric,
        n_samples=args.eval_samples,
        kid_samples=args.kid_samples,
        inception_weights=args.inception_weights,
        threshold=args.threshold,
        cache_dir=args.metrics_cache,
        device=device_name(device),
    )


# set per run by compare / sweep, so not options of theirs
_PER_RUN = ("variant", "seed", "out")


def add_study_arguments(parser: argparse.ArgumentParser, kind: str, out_help: str) -> None:
    """The options of ``compare`` / ``sweep KIND``: train's, seeds, evaluation and ``--out``.

    Train's ``--variant``, ``--seed`` and ``--out`` are left out: the study sets them per run.
    """
    add_config_arguments(parser, config_class(kind), exclude=_PER_RUN)
    study = parser.add_argument_group("study options")
    study.add_argument(
        "--seeds",
        default="3",
        help="N (seeds 0..N-1) or a comma list such as 0,1,2; the papers ran ten (default: 3)",
    )
    study.add_argument("--out", required=True, metavar="DIR", help=out_help)
    study.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="runs trained at once, each in its own process with its share of "
        "the CPU threads; on a CPU, small models train fastest with one "
        "run per core (default: 1)",
    )
    add_eval_arguments(parser)


def study_options(args: argparse.Namespace) -> dict[str, Any]:
    """The training options given to ``compare`` / ``sweep`` (shared by every run)."""
    options = options_from_args(config_class(args.kind), args)
    per_run = sorted(set(options) & set(_PER_RUN) - {"out"})  # --out is the study's folder
    if per_run and getattr(args, "config", None):
        raise ConfigError(
            f"--config sets {', '.join(per_run)}, which compare and sweep set "
            "per run; remove it from the file"
        )
    return {k: v for k, v in options.items() if k not in _PER_RUN}
