"""Kill-and-resume equality, Ctrl-C checkpoints and DDP on two CPU processes (child processes)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from _exp_helpers import bionn_process, run_cli, subprocess_env, train_args

STEPS = 40
# a mouse DDIM: dropout, EMA, noise and data order all have to line up after the resume
RUN = [
    "--variant",
    "mouse",
    "--checkpoint-every",
    "5",
    "--sample-every",
    "0",
    "--log-every",
    "5",
    "--deterministic",
]


def _wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.is_file():
        if process.poll() is not None:
            raise AssertionError(f"run ended early: {process.communicate()[1].decode()[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.02)


def _finish(process: subprocess.Popen[bytes]) -> int:
    _, err = process.communicate(timeout=120)
    assert process.returncode in (0, 130), err.decode()[-2000:]
    return process.returncode


def _torchrun(out: Path, *args: str) -> list[str]:
    with socket.socket() as probe:  # a free port: other test runs may use the default one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(port),
        "-m",
        "bionn.cli",
        *args,
    ]


def _weights(run_dir: Path) -> dict[str, dict[str, torch.Tensor]]:
    payload = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    return {"model": payload["model"], "ema": payload["ema"], "step": payload["step"]}


def test_sigkill_then_resume_matches_uninterrupted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    victim = bionn_process(*train_args("ddim", killed, *RUN, steps=STEPS))
    _wait_for(killed / "checkpoints" / "last.pt", victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    first = torch.load(killed / "checkpoints" / "last.pt", weights_only=True)["step"]
    assert first < STEPS, "the run finished before it was killed"
    assert not list((killed / "checkpoints").glob("*.tmp"))  # no half-written file is used
    resumed = bionn_process("train", "ddim", "--out", str(killed), "--resume", "--no-progress")
    # the uninterrupted run, in this process meanwhile (one thread, like the children)
    assert run_cli(capsys, *train_args("ddim", reference, *RUN, steps=STEPS))[0] == 0
    assert _finish(resumed) == 0
    expected, got = _weights(reference), _weights(killed)
    assert got["step"] == expected["step"] == STEPS
    for part in ("model", "ema"):
        for key, tensor in expected[part].items():
            assert torch.equal(tensor, got[part][key]), f"{part}.{key} differs after resume"
    lines = (killed / "metrics.jsonl").read_text().splitlines()
    steps = [json.loads(line)["step"] for line in lines]
    assert steps == sorted(set(steps))  # the killed run's extra log lines were dropped


def test_ctrl_c_writes_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "run"
    process = bionn_process(
        *train_args("gan", out, "--checkpoint-every", "0", "--log-every", "1", steps=100000)
    )
    _wait_for(out / "metrics.jsonl", process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode()[-2000:]
    assert "--resume" in err.decode()
    payload = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert 0 < payload["step"] < 100000
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"


def test_ddp_two_cpu_processes(tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    command = _torchrun(
        out, *train_args("classifier", out, "--device", "cpu", "--checkpoint-every", "2", steps=4)
    )
    result = subprocess.run(command, env=subprocess_env(), capture_output=True, timeout=180)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 4
    payload = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert isinstance(payload["rng_states"], list) and len(payload["rng_states"]) == 2
    # rank 0 alone logs: one line per step
    assert len((out / "metrics.jsonl").read_text().splitlines()) >= 4


@pytest.mark.slow
def test_ddp_gan_and_ddim(tmp_path: Path) -> None:
    for kind in ("gan", "ddim"):
        out = tmp_path / kind
        command = _torchrun(
            out, *train_args(kind, out, "--device", "cpu", "--variant", "mouse", steps=3)
        )
        result = subprocess.run(command, env=subprocess_env(), capture_output=True, timeout=300)
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        assert json.loads((out / "summary.json").read_text())["world_size"] == 2
