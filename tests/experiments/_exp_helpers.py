"""Helpers for the experiment tests: tiny run options, in-process and child CLI runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bionn.cli import main

# small enough for a few steps in well under a second each
TINY = {
    "gan": ["--image-size", "16", "--width", "8", "--disc-width", "8", "--batch-size", "8"],
    "ddim": [
        "--image-size",
        "16",
        "--width",
        "8",
        "--levels",
        "2",
        "--batch-size",
        "8",
        "--sampling-steps",
        "2",
    ],
    "classifier": ["--model", "mlp", "--batch-size", "16"],
}
COMMON = ["--limit", "64", "--n-samples", "4", "--no-progress", "--log-every", "1"]
REPO = Path(__file__).resolve().parents[2]


def train_args(kind: str, out: Path, *extra: str, steps: int = 3) -> list[str]:
    """``bionn train KIND`` arguments for a tiny run."""
    return ["train", kind, *TINY[kind], *COMMON, "--steps", str(steps), "--out", str(out), *extra]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``bionn ARGS`` in this process: (exit status, stdout, stderr)."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def subprocess_env() -> dict[str, str]:
    """Environment for child processes: one thread, this checkout importable."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    return env


def bionn_process(*args: str) -> subprocess.Popen[bytes]:
    """``python -m bionn.cli ARGS`` as a child process."""
    return subprocess.Popen(
        [sys.executable, "-m", "bionn.cli", *args],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
