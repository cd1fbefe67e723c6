"""``bionn ablate``: the schizophrenia paper's post-training removal analysis.

Train a network (or load a trained one), remove the weights of one layer by each pattern at
many strengths, rescale what is kept by 1 / f, and evaluate on the test split without
retraining (Mizutani et al. 2022, Front. Neurorobot. 16:851471; EXPERIMENTS.md, "Post-training
removal analysis"). By default the published protocol: the 4-layer MLP on MNIST, 20 epochs,
2 repeats, the five patterns, strengths range(n, 0, -int(n / 100)) on the 512 x 512 layer.

Examples:
    bionn ablate --data mnist --data-root ~/data --out runs/ablate
    bionn ablate --data digits --epochs 2 --repeats 1 --patterns diagonal,random
    bionn ablate --checkpoint runs/mlp-s0 --layer 1 --patterns diagonal,band --out runs/abl-mlp

Interrupted runs continue where they stopped when started again with the same --out.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from bionn.ablation import ablate, channel_axes, classifier_evaluator, find_layer
from bionn.experiments.ablate_model import ANALYSED_LAYER, published_mlp, train_classifier
from bionn.experiments.ablate_report import write_report
from bionn.experiments.ablate_store import ResultStore, StoreError
from bionn.removal import PATTERNS, RANDOM_PROTOCOLS, default_strengths

__all__ = ["AblateConfig", "add_arguments", "run", "run_ablation"]

EXIT_INTERRUPTED = 130
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
    keep = ("epochs", "checkpoint", "layer", "seed", "random_seed", "random_protocol",
            "batch_size", "lr")  # fmt: skip
    return {"data": data, **{k: v for k, v in asdict(config).items() if k in keep}}


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _split(data: str, root: str, download: bool, train: bool, size: int, channels: int | None,
           device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """One split as float images in [0, 1] and labels, both on ``device``, loaded once."""
    from bionn.experiments.data import load_data

    split = load_data(data, size=size, channels=channels, train=train, data_root=root,
                      download=download)  # fmt: skip
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
        size, channels = run.image_size, run.channels
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
                train_classifier(model, images, labels, epochs=config.epochs, lr=config.lr,
                                 batch_size=config.batch_size, seed=config.seed + repeat,
                                 progress=config.progress,
                                 description=f"training repeat {repeat}")  # fmt: skip
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
        features = torch.cat([model[:int(layer)](chunk) for chunk in images.split(10_000)])
    tail = model[int(layer):].train(model.training)  # a new Sequential holding the same modules
    evaluate_tail = classifier_evaluator(features, labels)
    return lambda _: evaluate_tail(tail)


def _analyse(model: torch.nn.Module, layer: str, repeat: int, config: AblateConfig,
             store: ResultStore, evaluate) -> None:  # fmt: skip
    """Every pattern and strength not yet in the store, for one trained network."""
    n_x, n_y = channel_axes(find_layer(model, layer))
    for pattern in config.patterns:
        strengths = list(config.strengths or default_strengths(pattern, n_x, n_y))
        pending = [s for s in strengths if (repeat, pattern, s) not in store.done]
        bar = tqdm(total=len(strengths), initial=len(strengths) - len(pending), unit="strength",
                   desc=f"repeat {repeat} {pattern}", disable=not config.progress)  # fmt: skip

        def record(result, pattern=pattern, bar=bar) -> None:
            store.append({"repeat": repeat, "pattern": pattern, "strength": result.strength,
                          "removed": result.removed, **result.metrics})  # fmt: skip
            bar.update()

        ablate(model, layer, pattern, pending, evaluate, seed=config.random_seed,
               random_protocol=config.random_protocol, on_result=record)  # fmt: skip
        bar.close()


def _strengths(text: str) -> tuple[int, ...]:
    """'512:0:-5' (a Python range) or '10,5,2'."""
    try:
        if ":" in text:
            return tuple(range(*(int(part) for part in text.split(":"))))
        return tuple(int(part) for part in text.split(","))
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"--strengths must be START:STOP:STEP or a comma list "
                                         f"of ints, got {text!r}") from None  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``bionn ablate`` (defaults: the published protocol)."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "Examples:" + __doc__.split("Examples:", 1)[1]
    add, d = parser.add_argument, AblateConfig()  # defaults come from the config class
    add("--data", help="data set: mnist (default), fashionmnist, digits, cifar10")
    add("--data-root", help="folder holding torchvision data sets (default: data)")
    add("--download", action="store_true", help="let torchvision download the data set")
    add("--epochs", type=int, default=d.epochs, help=f"training epochs (default: {d.epochs})")
    add("--repeats", type=int, default=d.repeats,
        help=f"trainings, each analysed (default: {d.repeats})")
    add("--patterns", type=lambda t: tuple(t.split(",")), default=d.patterns,
        help=f"comma list of {', '.join(PATTERNS)} (default: {','.join(d.patterns)})")
    add("--strengths", type=_strengths, help="START:STOP:STEP or a comma list (default: "
        "range(n, 0, -int(n / 100)), band 0..99 percent)")
    add("--checkpoint", help="bionn classifier run folder or checkpoint to analyse instead")
    add("--layer", help=f"module name of the analysed layer (default: {ANALYSED_LAYER}, "
        f"the published MLP's second hidden layer)")
    add("--out", default=d.out, help=f"run folder; reused to resume (default: {d.out})")
    add("--seed", type=int, default=d.seed, help=f"training seed of repeat 0 (default: {d.seed})")
    add("--random-seed", type=int, default=d.random_seed,
        help=f"seed of the 'random' pattern (default: {d.random_seed})")
    add("--random-protocol", default=d.random_protocol, choices=RANDOM_PROTOCOLS,
        help=f"'python': the scripts' random.randrange stream (default: {d.random_protocol})")
    add("--batch-size", type=int, default=d.batch_size,
        help=f"training batch (default: {d.batch_size})")
    add("--lr", type=float, default=d.lr, help=f"Adam learning rate (default: {d.lr})")
    add("--device", default=d.device, help="cpu, cuda, ... (default: cuda when available)")
    add("--no-progress", dest="progress", action="store_false", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """Run the analysis; 0 when done, 2 for bad input, 130 when interrupted (resumable)."""
    from bionn.experiments import USER_ERRORS

    names = [f for f in AblateConfig.__dataclass_fields__ if hasattr(args, f)]
    try:
        config = AblateConfig(**{name: getattr(args, name) for name in names})
        paths = run_ablation(config)
    except (*USER_ERRORS, StoreError, ValueError) as error:
        print(f"bionn ablate: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: finished strengths are kept in {args.out}/results.jsonl; run the "
              f"same command again to continue", file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
    print(f"report: {paths['markdown']}, {paths['json']}, {paths['plot']}")
    return 0
