"""Training-step time of ``bionn.keras.mConv2D`` against ``keras.layers.Conv2D``, per backend.

One step is ``model.train_on_batch`` (forward, backward, plain SGD update) of a one-layer model,
so each backend runs its own compiled path (tf.function, jax.jit, torch eager). The two models
have the same shape; their steps are timed in turns (median of repeats). Every installed backend
(torch, tensorflow, jax) runs in its own process, since Keras fixes the backend at import.
Target: mConv2D / Conv2D <= 1.05.

    .venv/bin/python benchmarks/bench_keras.py [--repeats 30] [--backends torch,jax]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from timing import interleaved_medians, print_table

# (name, batch, height/width, in channels, filters, kernel, strides): a mid-size conv, and the
# seed's DCGAN layer, whose kernel (13 M weights) is large next to its 4x4 input.
SHAPES = [
    ("64->64 3x3 @32x32, b16", 16, 32, 64, 64, 3, 1),
    ("1024->512 5x5/2 @4x4, b16", 16, 4, 1024, 512, 5, 2),
]


def _step(model: Any, x: Any, y: Any) -> Callable[[], object]:
    return lambda: model.train_on_batch(x, y)


def _worker(repeats: int) -> None:
    import keras
    import numpy as np

    import bionn.keras as mouse

    rng = np.random.default_rng(0)
    for name, batch, size, channels, filters, kernel, strides in SHAPES:
        conv_args = {"kernel_size": kernel, "strides": strides, "padding": "same"}
        x = rng.standard_normal((batch, size, size, channels)).astype("float32")
        models = {}
        for label, layer in (
            ("Conv2D", keras.layers.Conv2D(filters, **conv_args)),
            ("mConv2D", mouse.mConv2D(filters, form="2d", input2d_width=32 if channels > 64 else 8,
                                      output2d_width=32 if filters > 64 else 8,
                                      window2d_width=0.5, **conv_args)),
        ):  # fmt: skip
            model = keras.Sequential([keras.Input(x.shape[1:]), layer])
            model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
            y = np.zeros((batch, *model.output_shape[1:]), "float32")
            models[label] = _step(model, x, y)
        times = interleaved_medians(models, repeats, warmup=3)
        print(json.dumps({"shape": name, **times}), flush=True)


def _installed_backends() -> list[str]:
    return [b for b in ("torch", "tensorflow", "jax") if importlib.util.find_spec(b) is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--backends", default=",".join(_installed_backends()))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.repeats)
        return
    rows = []
    for backend in args.backends.split(","):
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
        command = [sys.executable, __file__, "--worker", "--repeats", str(args.repeats)]
        out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("{"):
                result = json.loads(line)
                plain, masked = result["Conv2D"], result["mConv2D"]
                rows.append([backend, result["shape"], f"{plain * 1e3:.2f}", f"{masked * 1e3:.2f}",
                             f"{masked / plain:.3f}"])  # fmt: skip
    print(f"train_on_batch step, median of {args.repeats} (ms); target ratio <= 1.05")
    print_table(["backend", "shape", "Conv2D", "mConv2D", "ratio"], rows)


if __name__ == "__main__":
    main()
