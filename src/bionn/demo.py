"""``make demo``: the main job in miniature, offline, on the embedded digits (< 10 min, 2 cores).

Runs ``bionn compare`` twice on scikit-learn's bundled digits (1,797 8x8 digits upscaled to
28x28; nothing is downloaded):

1. a small DCGAN (generator width 32, discriminator width 16), standard vs mouse (the generator's
   middle ConvT keeps about 35 % of its weights), three seeds each, 1,000 steps of batch 64 with
   Adam 2e-4 / beta1 0.5 (twice the paper's learning rate, to get far in few steps). Every 100
   steps the run scores itself on a fixed sample of 500 images (``--eval-every``), so the report
   shows the ``FD-proxy(digits)`` curves of both variants and where each flattened. The
   offline proxy distance is not FID.
2. the schizophrenia MLP, dense vs band matrix with 80 % of the weights removed, three seeds,
   15 epochs.

The runs are trained two at a time (one per core), then each comparison is evaluated and
reported. ``reports/demo/report.md`` leads with the curves and the sample grids of both GAN
variants, then the two comparison reports (``reports/demo/gan``, ``reports/demo/classifier``:
Markdown, JSON, figures). A second ``make demo`` reuses the finished runs and only rewrites
the reports.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

OUT = Path(os.environ.get("BIONN_DEMO_OUT", "reports/demo"))
SEEDS = [0, 1, 2]
GAN = {"data": "digits", "image_size": 28, "width": 32, "disc_width": 16, "steps": 1000,
       "batch_size": 64, "lr": 2e-4, "eval_every": 100, "curve_samples": 500,
       "device": "cpu", "sample_every": 0, "checkpoint_every": 0}  # fmt: skip
GAN_BIO: dict[str, Any] = {}  # the mouse variant's published radius 0.4
CLASSIFIER = {"data": "digits", "model": "mlp", "width": 256, "epochs": 15, "batch_size": 32,
              "eval_every": 40, "curve_samples": 300, "device": "cpu",
              "checkpoint_every": 0}  # fmt: skip
CLASSIFIER_BIO = {"reduction": 0.8}
COMMAND = "make demo (python -m bionn.demo)"


def _run_configs(kind: str, overrides: dict[str, Any], bio: dict[str, Any]) -> list[Any]:
    """The configs ``compare`` trains, in its run folders (``<out>/runs/<variant>-s<seed>``)."""
    from bionn.experiments import make_config
    from bionn.experiments.study import bio_variant

    runs = OUT / kind / "runs"
    variants = {"standard": {}, bio_variant(kind, overrides.get("model")): bio}
    return [make_config(kind, **overrides, **extra, variant=variant, seed=seed, progress=False,
                        out=str(runs / f"{variant}-s{seed}"))
            for seed in SEEDS for variant, extra in variants.items()]  # fmt: skip


def _train(config: Any) -> str:
    """Train one run quietly in a worker process (one thread: two workers share two cores)."""
    from bionn.experiments.study import ensure_run

    torch.set_num_threads(1)
    with contextlib.redirect_stderr(io.StringIO()):  # the usage tables go to usage.txt
        ensure_run(config)
    return f"{config.kind} {config.variant} seed {config.seed}"


def _warm_metric_cache() -> None:
    """Train the digits proxy classifier here once, not in both workers at the same time."""
    from bionn.experiments import load_data
    from bionn.metrics.evaluate import default_cache_dir, make_extractor

    train = load_data("digits", size=GAN["image_size"], channels=1, train=True)
    make_extractor("proxy", proxy_data=("digits", train.images, train.labels),
                   cache_dir=default_cache_dir())  # fmt: skip


def _train_all(configs: list[Any]) -> None:
    workers = max(1, min(2, os.cpu_count() or 1))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for done in pool.map(_train, configs):
            print(f"  trained {done}", flush=True)


def _front_page(gan: Path, classifier: Path, seconds: float) -> Path:
    """``report.md`` of the demo: curves and sample grids first, then both reports."""
    lines = ["# bionn demo: DCGAN standard vs mouse, MLP dense vs schizo, on the digits", "",
             f"Trained and evaluated in {seconds:.0f} s; what each part ran is in the first "
             "lines of its report below.", ""]  # fmt: skip
    for name, title in (("metric_curves.png", "FD-proxy(digits) during training"),
                        ("samples.png", "Sample grids of both variants (seed 0)")):  # fmt: skip
        if (gan / name).is_file():
            shutil.copyfile(gan / name, OUT / f"gan_{name}")
            lines += [f"## {title}", "", f"![{title}](gan_{name})", ""]
    for report in (gan, classifier):
        text = (report / "report.md").read_text()
        lines += [text.replace("](", f"]({report.name}/"), ""]  # figures relative to OUT
    path = OUT / "report.md"
    path.write_text("\n".join(lines))
    return path


def main() -> int:
    """Train both comparisons, write the reports and print where they are."""
    from bionn.experiments.compare import compare
    from bionn.experiments.evaluation import EvalSettings

    torch.set_num_threads(1)  # small models gain nothing from intra-op threads on 2 cores
    started = time.perf_counter()
    print(f"bionn demo: DCGAN standard vs mouse and MLP dense vs schizo on digits, seeds {SEEDS}"
          f"; reports go to {OUT}/", flush=True)  # fmt: skip
    _warm_metric_cache()
    _train_all(_run_configs("gan", GAN, GAN_BIO) +
               _run_configs("classifier", CLASSIFIER, CLASSIFIER_BIO))  # fmt: skip
    with contextlib.redirect_stderr(io.StringIO()):
        gan = compare("gan", GAN, SEEDS, EvalSettings(n_samples=1000, kid_samples=200),
                      OUT / "gan", bio=GAN_BIO, command=COMMAND,
                      log=lambda line: print("  gan", line, flush=True))  # fmt: skip
        classifier = compare("classifier", CLASSIFIER, SEEDS, EvalSettings(), OUT / "classifier",
                             bio=CLASSIFIER_BIO, command=COMMAND,
                             log=lambda line: print("  classifier", line, flush=True))
    front = _front_page(gan.parent, classifier.parent, time.perf_counter() - started)
    for report in (gan, classifier):
        print()
        print(report.read_text())
    print(f"demo finished in {time.perf_counter() - started:.0f} s")
    print(f"report: {front.resolve()} (curves and sample grids first)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
