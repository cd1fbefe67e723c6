"""``make demo``: the main job in miniature, offline, on the embedded digits (< 10 min, 2 cores).

Runs ``bionn compare`` twice on scikit-learn's bundled digits (1,797 8x8 digits upscaled to
28x28; nothing is downloaded):

1. a small DCGAN (generator width 32, discriminator width 16), standard vs mouse (the generator's
   middle ConvT keeps about 35 % of its weights), three seeds each, 1,500 steps of batch 64 with
   Adam 2e-4 / beta1 0.5 (twice the paper's learning rate, to get far in few steps). Every 150
   steps the run scores itself on a fixed sample of 500 images (``--eval-every``), so the report
   shows the ``FD-proxy(digits)`` curves of both variants and where each flattened. The
   offline proxy distance is not FID.
2. the schizophrenia MLP, dense vs band matrix with 80 % of the weights removed, three seeds,
   15 epochs.

The runs are trained two at a time (``compare(..., jobs=2)``: one per core), then each
comparison is evaluated and reported. ``reports/demo/report.md`` holds both comparison reports
(:func:`~bionn.experiments.combined.write_combined`; the GAN's leads with the curves and the
sample grids of both variants); their folders (``reports/demo/gan``,
``reports/demo/classifier``) hold Markdown, JSON and figures. A second ``make demo`` reuses the
finished runs and only rewrites the reports.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path
from typing import Any

OUT = Path(os.environ.get("BIONN_DEMO_OUT", "reports/demo"))
SEEDS = [0, 1, 2]
GAN = {
    "data": "digits",
    "image_size": 28,
    "width": 32,
    "disc_width": 16,
    "steps": 1500,
    "batch_size": 64,
    "lr": 2e-4,
    "eval_every": 150,
    "curve_samples": 500,
    "device": "cpu",
    "sample_every": 0,
    "checkpoint_every": 0,
}
GAN_BIO: dict[str, Any] = {}  # the mouse variant's published radius 0.4
CLASSIFIER = {
    "data": "digits",
    "model": "mlp",
    "width": 256,
    "epochs": 15,
    "batch_size": 32,
    "eval_every": 40,
    "curve_samples": 300,
    "device": "cpu",
    "checkpoint_every": 0,
}
CLASSIFIER_BIO = {"reduction": 0.8}
COMMAND = "make demo (python -m bionn.demo)"


def main() -> int:
    """Train both comparisons, write the reports and print where they are."""
    from bionn.experiments.combined import write_combined
    from bionn.experiments.compare import compare
    from bionn.experiments.evaluation import EvalSettings

    started = time.perf_counter()
    print(
        f"bionn demo: DCGAN standard vs mouse and MLP dense vs schizo on digits, seeds {SEEDS}"
        f"; reports go to {OUT}/",
        flush=True,
    )
    jobs = max(1, min(2, os.cpu_count() or 1))  # one run per core
    with contextlib.redirect_stderr(io.StringIO()):
        gan = compare(
            "gan",
            GAN,
            SEEDS,
            EvalSettings(n_samples=1000, kid_samples=200),
            OUT / "gan",
            bio=GAN_BIO,
            command=COMMAND,
            jobs=jobs,
            log=lambda line: print("  gan", line, flush=True),
        )
        classifier = compare(
            "classifier",
            CLASSIFIER,
            SEEDS,
            EvalSettings(),
            OUT / "classifier",
            bio=CLASSIFIER_BIO,
            command=COMMAND,
            jobs=jobs,
            log=lambda line: print("  classifier", line, flush=True),
        )
    intro = (
        f"Trained and evaluated in {time.perf_counter() - started:.0f} s; what each part "
        "ran is in the first lines of its report. Each report leads with its curves "
        "(metric against step, where each flattened) and, for the GAN, the sample grids."
    )
    front = write_combined(
        [gan, classifier],
        OUT / "report.md",
        "bionn demo: DCGAN standard vs mouse, MLP dense vs schizo",
        intro,
    )
    for report in (gan, classifier):
        print()
        print(report.read_text())
    print(f"demo finished in {time.perf_counter() - started:.0f} s")
    print(f"report: {front.resolve()} (curves and sample grids first)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
