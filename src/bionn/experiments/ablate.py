"""The schizophrenia paper's post-training removal analysis, as run by ``bionn ablate``.

Train a network (or load a trained one), remove the weights of one layer by each pattern at
many strengths, rescale what is kept by 1 / f, and evaluate on the test split without
retraining (Mizutani et al. 2022, Front. Neurorobot. 16:851471; EXPERIMENTS.md, "Post-training
removal analysis"). The defaults of :class:`AblateConfig` are the published protocol.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

import torch
from torch import nn
from tqdm.auto import tqdm

from bionn.ablation import ablate, channel_axes, classifier_evaluator, find_layer
from bionn.experiments.ablate_model import ANALYSED_LAYER, published_mlp, train_classifier
from bionn.experiments.ablate_report import write_report
from bionn.experiments.ablate_store import ResultStore
from bionn.experiments.study import EXIT_INTERRUPTED
from bionn.removal import PATTERNS, RANDOM_PROTOCOLS, default_strengths

__all__ = ["EXIT_INTERRUPTED", "AblateConfig", "run_ablation"]

PUBLISHED_PATTERNS = ("diagonal", "gaussian", "random", "centered", "striping")


@dataclass(frozen=True)
class AblateConfig:
    """Options of a removal analysis; the defaults are the published protocol."""

    data: str | None = None  # 'mnist' (default), 'fashionmnist', 'digits', ...; needs a test split
    data_root: str | None = None  # folder holding torchvision data sets ("data")
    download: bool = False  # let torchvision fetch the data set (needs network)
    epochs: int = 20  # the scripts' num_epoch
    repeats: int = 2  # trainings, each analysed (num_repeat)
    patterns: tuple[str, ...] = PUBLISHED_PATTERNS
    strengths: tuple[int, ...] | None = None  # None: range(n, 0, -int(n / 100)), band 0..99
    checkpoint: str | None = None  # a bionn run folder / checkpoint instead of training
    layer: str | None = None  # module name; default the published MLP's second hidden layer
    out: str = "runs/ablate"
    seed: int = 0  # repeat r trains with seed + r
    random_seed: int = 1  # seed of the 'random' pattern (the scripts' randomseed)
    random_protocol: str = "numpy"  # 'python': the scripts' random.randrange stream (slower)
    batch_size: int = 32
    lr: float = 1e-3  # Adam, Keras' default
    device: str = "auto"  # 'cpu', 'cuda', ...; auto: cuda when available
    progress: bool = True

    def __post_init__(self) -> None:
        """Check values; the messages name the option and what it accepts."""
        unknown = [p for p in self.patterns if p not in PATTERNS]
        if unknown or not self.patterns:
            raise ValueError(f"--patterns must be a comma list of {PATTERNS}, got {unknown}")
        for name in ("epochs", "repeats", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1")
        if self.random_protocol not in RANDOM_PROTOCOLS:
            raise ValueError(f"--random-protocol must be one of {RANDOM_PROTOCOLS}")
        if self.checkpoint and not self.layer:
            raise ValueError("--checkpoint needs --layer (a Linear / Conv2d module name)")


def _identity(config: AblateConfig, data: str) -> dict[str, object]:
    """The options that decide the numbers of a run: resuming must keep them."""
    keep = (
        "epochs",
        "checkpoint",
        "layer",
        "seed",
        "random_seed",
        "random_protocol",
        "batch_size",
        "lr",
    )
    return {"data": data, **{k: v for k, v in asdict(config).items() if k in keep}}


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _split(
    data: str,
    root: str,
    download: bool,
    train: bool,
    size: int,
    channels: int | None,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One split as float images in [0, 1] and labels, both on ``device``, loaded once."""
    from bionn.experiments.data import load_data

    split = load_data(
        data, size=size, channels=channels, train=train, data_root=root, download=download
    )
    if split is None:
        raise ValueError(f"--data {data!r} has no test split; use a torchvision data set")
    return split.images.to(device).float() / 255, split.labels.to(device)


def run_ablation(config: AblateConfig) -> dict[str, Path]:
    """Run (or resume) the analysis in ``config.out``; returns the report's paths."""
    device = _device(config.device)
    loaded = None
    if config.checkpoint:
        from bionn.experiments.checkpoint import load_checkpoint

        loaded = load_checkpoint(config.checkpoint, device, kind="classifier")
        run = loaded.config
        data, root = config.data or run.data, config.data_root or run.data_root
        size, channels = cast(int, run.image_size), run.channels  # a run's config is resolved
    else:
        data, root, size, channels = config.data or "mnist", config.data_root or "data", 28, None
    store = ResultStore(config.out, _identity(config, data))
    test = _split(data, root, config.download, False, size, channels, device)
    layer = config.layer or ANALYSED_LAYER
    repeats = 1 if loaded else config.repeats
    for repeat in range(repeats):
        if loaded:
            model = loaded.model
        else:
            torch.manual_seed(config.seed + repeat)
            model = published_mlp(inputs=test[0][0].numel()).to(device)
            if not store.load_model(repeat, model):
                images, labels = _split(data, root, config.download, True, size, channels, device)
                train_classifier(
                    model,
                    images,
                    labels,
                    epochs=config.epochs,
                    lr=config.lr,
                    batch_size=config.batch_size,
                    seed=config.seed + repeat,
                    progress=config.progress,
                    description=f"training repeat {repeat}",
                )
                store.save_model(repeat, model)
        _analyse(model.eval(), layer, repeat, config, store, _evaluator(model, layer, *test))
    title = f"# Removal analysis: layer {layer} of {config.checkpoint or 'the published MLP'}"
    return write_report(store.rows, store.out, f"{title}, {data}, {repeats} repeat(s)")


def _evaluator(model: nn.Module, layer: str, images: torch.Tensor, labels: torch.Tensor):
    """Test loss / accuracy; on a Sequential, only the modules from ``layer`` on are re-run.

    The modules before the analysed layer never change, so their output on the test set is
    computed once per trained network and the evaluation starts from it.
    """
    if not (isinstance(model, nn.Sequential) and layer.isdigit() and 0 < int(layer) < len(model)):
        return classifier_evaluator(images, labels)
    with torch.inference_mode():
        features = torch.cat([model[: int(layer)](chunk) for chunk in images.split(10_000)])
    tail = model[int(layer) :].train(model.training)  # a new Sequential holding the same modules
    evaluate_tail = classifier_evaluator(features, labels)
    return lambda _: evaluate_tail(tail)


def _analyse(
    model: torch.nn.Module,
    layer: str,
    repeat: int,
    config: AblateConfig,
    store: ResultStore,
    evaluate,
) -> None:
    """Every pattern and strength not yet in the store, for one trained network."""
    n_x, n_y = channel_axes(find_layer(model, layer))
    for pattern in config.patterns:
        strengths = list(config.strengths or default_strengths(pattern, n_x, n_y))
        pending = [s for s in strengths if (repeat, pattern, s) not in store.done]
        bar = tqdm(
            total=len(strengths),
            initial=len(strengths) - len(pending),
            unit="strength",
            desc=f"repeat {repeat} {pattern}",
            disable=not config.progress,
        )

        def record(result, pattern=pattern, bar=bar) -> None:
            store.append(
                {
                    "repeat": repeat,
                    "pattern": pattern,
                    "strength": result.strength,
                    "removed": result.removed,
                    **result.metrics,
                }
            )
            bar.update()

        ablate(
            model,
            layer,
            pattern,
            pending,
            evaluate,
            seed=config.random_seed,
            random_protocol=config.random_protocol,
            on_result=record,
        )
        bar.close()
