"""Training-step time of windowed Keras layers against the plain Keras layer, per backend.

One step is ``model.train_on_batch`` (forward, backward, plain SGD update) of a one-layer model,
so each backend runs its own compiled path (tf.function, jax.jit, torch eager). Each windowed
model and its plain twin have the same shape; their steps are timed in turns (median of
repeats) and printed as a ratio. Every installed backend (torch, tensorflow, jax) runs in its
own process, since Keras fixes the backend at import. Target: windowed / plain <= 1.05.

    .venv/bin/python benchmarks/bench_keras.py [--repeats 30] [--backends torch,jax]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from typing import Any

from timing import interleaved_medians, print_table


def _cases() -> list[tuple[str, tuple[int, ...], Any, Any]]:
    """(name, input shape with batch, plain layer, windowed layer): made in the worker."""
    import keras

    import bionn.keras as mouse

    same = {"padding": "same"}
    return [
        (
            "Dense 1024->1024, b256",
            (256, 1024),
            keras.layers.Dense(1024),
            mouse.MouseDense(1024, usage=0.35),
        ),
        (
            "Conv2D 64->64 3x3 @32x32, b16",
            (16, 32, 32, 64),
            keras.layers.Conv2D(64, 3, **same),
            mouse.mConv2D(
                64, 3, form="2d", input2d_width=8, output2d_width=8, window2d_width=0.5, **same
            ),
        ),
        # The seed's DCGAN layer: a large kernel (13 M weights) next to its 4x4 input.
        (
            "Conv2D 1024->512 5x5/2 @4x4, b16",
            (16, 4, 4, 1024),
            keras.layers.Conv2D(512, 5, strides=2, **same),
            mouse.mConv2D(
                512,
                5,
                strides=2,
                form="2d",
                input2d_width=32,
                output2d_width=32,
                window2d_width=0.5,
                **same,
            ),
        ),
        (
            "Conv2DTranspose 128->64 4x4/2 @16x16, b16",
            (16, 16, 16, 128),
            keras.layers.Conv2DTranspose(64, 4, strides=2, **same),
            mouse.SchizoConv2DTranspose(64, 4, strides=2, usage=0.5, **same),
        ),
    ]


def _worker(repeats: int) -> None:
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    for name, shape, plain, windowed in _cases():
        x = rng.standard_normal(shape).astype("float32")
        steps = {}
        for label, layer in (("plain", plain), ("windowed", windowed)):
            model = keras.Sequential([keras.Input(shape[1:]), layer])
            model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
            y = np.zeros((shape[0], *model.output_shape[1:]), "float32")
            steps[label] = lambda model=model, x=x, y=y: model.train_on_batch(x, y)
        times = interleaved_medians(steps, repeats, warmup=3)
        print(json.dumps({"shape": name, "layer": type(windowed).__name__, **times}), flush=True)


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
                plain, masked = result["plain"], result["windowed"]
                rows.append(
                    [
                        backend,
                        result["shape"],
                        result["layer"],
                        f"{plain * 1e3:.2f}",
                        f"{masked * 1e3:.2f}",
                        f"{masked / plain:.3f}",
                    ]
                )
    print(f"train_on_batch step, median of {args.repeats} (ms); target ratio <= 1.05")
    print_table(["backend", "shape", "windowed layer", "plain ms", "windowed ms", "ratio"], rows)


if __name__ == "__main__":
    main()
