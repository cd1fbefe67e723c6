"""Time the paper's original Keras scripts (TensorFlow backend) on generated images.

The original code is not part of bionn: copy these three files of
https://github.com/mizutanilab/biomimetic-nn (folder ``mouse/``) into one folder and pass it:

- ``DCGAN_AFHQcat_240805b_git.py`` (the paper's DCGAN),
- ``DDIM_AFHQcat_240901d_git.py`` (the paper's DDIM),
- ``mouselayers_keras3_3.py`` (their mouse layers; imported as ``mouselayers``).

Each run executes a script's own code up to its ``fit`` call, with these changes only: the data
paths point at a folder of generated 64x64 images, ``EPOCHS=1``, ``gdown`` and ``fid`` are stubs
(they are only used for downloads and the final FID), the standard DCGAN uses
``layers.Conv2DTranspose`` where the script has ``mouse.mConv2DTranspose`` (the script's own
commented-out alternative), the standard DDIM sets ``WND2D=1.4`` (the script's switch to plain
convs), and the mouse layers' float64 NumPy windows become float32 (``--float64`` keeps them:
then every masked kernel, and the convolution, runs in float64). Then ``fit`` runs
warm-up + timed steps with a callback that times every step; the result is the median step
after the warm-up, as ``bench_paper_models.py`` measures bionn. Peak memory: the growth of the
process's peak RSS over its RSS after importing TensorFlow.

    python benchmarks/original_side.py --scripts ~/original                # 4 runs, fp32
    python benchmarks/bench_paper_models.py --original ~/original          # side by side
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

SCRIPTS = {"gan": "DCGAN_AFHQcat_240805b_git.py", "ddim": "DDIM_AFHQcat_240901d_git.py"}
LAYERS = "mouselayers_keras3_3.py"
BATCH = {"gan": 32, "ddim": 64}
FIT_CALL = {"gan": "\ngan.fit(", "ddim": "\nmodel.fit("}
MOUSE_CONVT = re.compile(
    r"mouse\.mConv2DTranspose\((\d+), form='2d', input2d_width=\d+, "
    r"output2d_width=\d+, window2d_width=wnd, "
)


def rss_mb() -> float:
    """This process's resident memory now, in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def write_images(folder: Path, n: int, seed: int = 0) -> None:
    """``n`` smooth random 64x64 RGB PNGs in ``folder`` (a flat folder, like AFHQ's cat/)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(n):
        coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(coarse).resize((64, 64), Image.BILINEAR).save(folder / f"{index:05d}.png")


def patched_source(kind: str, variant: str, scripts: Path, images: Path) -> str:
    """The script's code up to its ``fit`` call, pointed at ``images``."""
    source = (scripts / SCRIPTS[kind]).read_text()
    end = source.rfind(FIT_CALL[kind])
    if end < 0:
        raise SystemExit(f"{SCRIPTS[kind]}: no {FIT_CALL[kind].strip()!r} call found")
    source = re.sub(r"\"/opt/dlami/nvme/[^\"]*\"", repr(str(images)), source[:end])
    if kind == "gan" and variant == "standard":
        source, count = MOUSE_CONVT.subn(r"layers.Conv2DTranspose(\1, ", source)
        if count != 3:
            raise SystemExit(f"{SCRIPTS[kind]}: expected 3 mouse ConvT layers, found {count}")
    return source


def _install_modules(scripts: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("mouselayers", scripts / LAYERS)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {scripts / LAYERS}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mouselayers"] = module
    spec.loader.exec_module(module)
    for stub in ("gdown", "fid"):  # download helper and final FID: not part of a step
        sys.modules.setdefault(stub, types.ModuleType(stub))


def _windows_to_float32(model: Any) -> int:
    import numpy as np

    count = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        window = getattr(layer, "wnd", None)
        if isinstance(window, np.ndarray) and window.dtype == np.float64:
            layer.wnd = window.astype(np.float32)
            count += 1
    return count


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one original script's training steps in this process; return images/s, peak MB."""
    kind, variant = job["kind"], job["variant"]
    os.environ.update(
        KERAS_BACKEND="tensorflow",
        EPOCHS="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        WND2D="1.4" if kind == "ddim" and variant == "standard" else "0.4",
    )
    import keras
    import tensorflow as tf

    if job.get("threads"):
        tf.config.threading.set_intra_op_parallelism_threads(job["threads"])
        tf.config.threading.set_inter_op_parallelism_threads(1)
    scripts = Path(job["scripts"])
    _install_modules(scripts)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        write_images(folder, job["images"])
        source = patched_source(kind, variant, scripts, folder)
        baseline = rss_mb()
        namespace: dict[str, Any] = {"__name__": "original_script"}
        exec(compile(source, SCRIPTS[kind], "exec"), namespace)  # noqa: S102
        model = namespace["gan" if kind == "gan" else "model"]
        data = namespace["dataset" if kind == "gan" else "train_dataset"]
        if not job["float64"]:
            _windows_to_float32(model)
        times: list[float] = []

        class StepTimer(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
                self.start = time.perf_counter()

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                times.append(time.perf_counter() - self.start)

        model.fit(
            data.repeat(),
            epochs=1,
            steps_per_epoch=job["warmup"] + job["steps"],
            callbacks=[StepTimer()],
            verbose=0,
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - baseline
    median = statistics.median(times[job["warmup"] :])
    return {
        **job,
        "mode": "original",
        "batch": BATCH[kind],
        "images_per_s": BATCH[kind] / median,
        "seconds": median,
        "peak_mb": peak,
        "tensorflow": tf.__version__,
    }


def run_in_child(job: dict[str, Any]) -> dict[str, Any]:
    """:func:`run_job` in a fresh process (its own peak memory); errors come back as a field."""
    command = [sys.executable, __file__, "--job", json.dumps(job)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        return {**job, "mode": "original", "batch": BATCH[job["kind"]], "error": lines[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def original_job(kind: str, variant: str, args: argparse.Namespace) -> dict[str, Any]:
    """The job description of one original run."""
    return {
        "kind": kind,
        "variant": variant,
        "scripts": str(Path(args.original).resolve()),
        "steps": args.steps,
        "warmup": args.warmup,
        "images": args.images,
        "float64": args.float64,
        "threads": args.threads,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared with ``bench_paper_models.py --original``."""
    parser.add_argument("--images", type=int, default=512, help="generated training images")
    parser.add_argument(
        "--float64", action="store_true", help="keep the original's float64 NumPy windows"
    )


def main() -> None:
    """Time the original scripts (both variants) and print images/s and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", dest="original", help="folder with the three original files")
    parser.add_argument("--models", type=lambda s: s.split(","), default=["gan", "ddim"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: default)")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    add_arguments(parser)
    args = parser.parse_args()
    if args.job:
        print(json.dumps(run_job(json.loads(args.job))))
        return
    if not args.original:
        parser.error("--scripts is required")
    results = []
    for kind in args.models:
        for variant in ("standard", "mouse"):
            result = run_in_child(original_job(kind, variant, args))
            results.append(result)
            print(
                f"  original {kind} {variant}: "
                f"{result.get('images_per_s', float('nan')):.2f} images/s, "
                f"peak {result.get('peak_mb', float('nan')):.0f} MB {result.get('error', '')}",
                flush=True,
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
