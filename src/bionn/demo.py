"""``make demo``: the main job in miniature, offline, on the embedded digits (a few minutes on CPU).

Runs ``bionn compare`` twice on scikit-learn's bundled digits (upscaled to 28x28, no download):

1. a small DCGAN, standard vs mouse (35 % of the generator's ConvT weights), three seeds each,
   scored by the offline proxy distance ``FD-proxy(digits)``, which is not FID;
2. the schizophrenia MLP, dense vs band matrix with 80 % of the weights removed, three seeds.

Each writes a report folder (Markdown, JSON, figures) under ``reports/demo`` and prints it. A
second ``make demo`` picks up the finished runs and only rewrites the reports. The sizes are
far below the papers': the point is the pipeline, not the numbers.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path

import torch

OUT = Path(os.environ.get("BIONN_DEMO_OUT", "reports/demo"))
SEEDS = [0, 1, 2]
GAN = {"data": "digits", "image_size": 28, "width": 32, "disc_width": 16, "steps": 300,
       "batch_size": 32, "progress": False, "device": "cpu", "sample_every": 0,
       "checkpoint_every": 0}  # fmt: skip
CLASSIFIER = {"data": "digits", "model": "mlp", "width": 256, "epochs": 15, "batch_size": 32,
              "progress": False, "device": "cpu", "checkpoint_every": 0}  # fmt: skip


def main() -> int:
    """Run both comparisons and print where the reports are."""
    from bionn.experiments.compare import compare
    from bionn.experiments.evaluation import EvalSettings

    # Small models gain nothing from intra-op threads on a shared 2-core machine; they lose a lot.
    torch.set_num_threads(1)
    started = time.perf_counter()
    print(f"bionn demo: DCGAN standard vs mouse and MLP dense vs schizo on digits, seeds {SEEDS}"
          f"; reports go to {OUT}/", flush=True)  # fmt: skip
    # each run's usage table goes to its folder (usage.txt); keep the terminal to the results
    with contextlib.redirect_stderr(io.StringIO()):
        gan = compare("gan", GAN, SEEDS, EvalSettings(n_samples=1000, kid_samples=200),
                      OUT / "gan", command="make demo (bionn.demo)",
                      log=lambda line: print("  gan", line, flush=True))  # fmt: skip
        classifier = compare("classifier", CLASSIFIER, SEEDS, EvalSettings(), OUT / "classifier",
                             bio={"reduction": 0.8}, command="make demo (bionn.demo)",
                             log=lambda line: print("  classifier", line, flush=True))
    for report in (gan, classifier):
        print()
        print(report.read_text())
    print(f"demo finished in {time.perf_counter() - started:.0f} s")
    print(f"reports: {gan.parent.resolve()} and {classifier.parent.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
