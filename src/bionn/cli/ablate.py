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

from bionn.cli import error_exit
from bionn.cli.train import interrupted_exit
from bionn.experiments.ablate import AblateConfig, run_ablation
from bionn.experiments.ablate_model import ANALYSED_LAYER
from bionn.experiments.ablate_store import StoreError
from bionn.removal import PATTERNS, RANDOM_PROTOCOLS

__all__ = ["add_arguments", "run"]


def _strengths(text: str) -> tuple[int, ...]:
    """'512:0:-5' (a Python range) or '10,5,2'."""
    try:
        if ":" in text:
            return tuple(range(*(int(part) for part in text.split(":"))))
        return tuple(int(part) for part in text.split(","))
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"--strengths must be START:STOP:STEP or a comma list of ints, got {text!r}"
        ) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``bionn ablate`` (defaults: the published protocol)."""
    add, d = parser.add_argument, AblateConfig()  # defaults come from the config class
    add("--data", help="data set: mnist (default), fashionmnist, digits, cifar10")
    add(
        "--data-root",
        default="data",
        help="folder holding torchvision data sets, also for --checkpoint (default: data)",
    )
    add("--download", action="store_true", help="let torchvision download the data set")
    add("--epochs", type=int, default=d.epochs, help=f"training epochs (default: {d.epochs})")
    add(
        "--repeats",
        type=int,
        default=d.repeats,
        help=f"trainings, each analysed (default: {d.repeats})",
    )
    add(
        "--patterns",
        type=lambda t: tuple(t.split(",")),
        default=d.patterns,
        help=f"comma list of {', '.join(PATTERNS)} (default: {','.join(d.patterns)})",
    )
    add(
        "--strengths",
        type=_strengths,
        help="START:STOP:STEP or a comma list (default: "
        "range(n, 0, -int(n / 100)), band 0..99 percent)",
    )
    add("--checkpoint", help="bionn classifier run folder or checkpoint to analyse instead")
    add(
        "--layer",
        help=f"module name of the analysed layer (default: {ANALYSED_LAYER}, "
        f"the published MLP's second hidden layer)",
    )
    add("--out", default=d.out, help=f"run folder; reused to resume (default: {d.out})")
    add("--seed", type=int, default=d.seed, help=f"training seed of repeat 0 (default: {d.seed})")
    add(
        "--random-seed",
        type=int,
        default=d.random_seed,
        help=f"seed of the 'random' pattern (default: {d.random_seed})",
    )
    add(
        "--random-protocol",
        default=d.random_protocol,
        choices=RANDOM_PROTOCOLS,
        help=f"'python': the scripts' random.randrange stream (default: {d.random_protocol})",
    )
    add(
        "--batch-size",
        type=int,
        default=d.batch_size,
        help=f"training batch (default: {d.batch_size})",
    )
    add("--lr", type=float, default=d.lr, help=f"Adam learning rate (default: {d.lr})")
    add("--device", default=d.device, help="cpu, cuda, ... (default: cuda when available)")
    add(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=d.progress,
        help="show progress bars",
    )


def run(args: argparse.Namespace) -> int:
    """Run the analysis; 0 when done, 2 for bad input, 130 when interrupted (resumable)."""
    from bionn.experiments import USER_ERRORS

    names = [f for f in AblateConfig.__dataclass_fields__ if hasattr(args, f)]
    try:
        config = AblateConfig(**{name: getattr(args, name) for name in names})
        paths = run_ablation(config)
    except (*USER_ERRORS, StoreError, ValueError) as error:
        return error_exit("ablate", error)
    except KeyboardInterrupt:
        return interrupted_exit(
            f"finished strengths are kept in {args.out}/results.jsonl; run "
            "the same command again to continue"
        )
    print(f"report: {paths['markdown']}, {paths['json']}, {paths['plot']}")
    return 0
