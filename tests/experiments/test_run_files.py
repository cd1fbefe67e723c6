"""Run files: permissions, atomic writes, stale temporaries, torn logs, milestones, safetensors,
TensorBoard."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest
import torch
from _exp_helpers import run_cli, train_args

from bionn.data import atomic_write, clear_stale_temporaries, save_torch
from bionn.experiments.checkpoint import load_checkpoint
from bionn.experiments.train.outputs import MetricsLog, read_jsonl
from bionn.experiments.train.resume import RunError


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_has_umask_permissions_and_leaves_nothing_on_failure(
    tmp_path: Path, umask_022
) -> None:
    path = save_torch({"x": torch.zeros(2)}, tmp_path / "sub" / "a.pt")
    assert _mode(path) == 0o644  # mkstemp would give 0600
    os.umask(0o077)
    assert _mode(save_torch({}, tmp_path / "private.pt")) == 0o600  # the umask is respected

    def fail(handle):
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, fail)
    assert torch.load(path, weights_only=True)["x"].shape == (2,)  # old contents intact
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.pt"]  # no temporary left


def test_clear_stale_temporaries(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "checkpoints").mkdir()
    stale = tmp_path / "checkpoints" / ".last.pt.123-abcd.tmp"
    stale.write_bytes(b"half")
    keep = [tmp_path / "checkpoints" / "last.pt", tmp_path / "notes.tmp"]  # not hidden: kept
    for path in keep:
        path.write_bytes(b"x")
    with caplog.at_level(logging.WARNING):
        assert clear_stale_temporaries(tmp_path) == [stale]
    assert not stale.exists() and all(p.exists() for p in keep)
    assert "stale temporary" in caplog.text


def test_run_outputs_readable_milestones_and_model_file(tmp_path: Path, capsys, umask_022) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(
        capsys, *train_args("gan", out, "--checkpoint-every", "1", "--keep", "2", steps=5)
    )
    assert code == 0, err
    checkpoints = out / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == [
        "last.pt",
        "step-000000004.pt",
        "step-000000005.pt",
    ]  # the newest 2 besides last.pt
    for path in [*checkpoints.iterdir(), out / "model.safetensors", out / "config.json"]:
        assert _mode(path) == 0o644, path
    assert torch.load(checkpoints / "step-000000004.pt", weights_only=True)["step"] == 4
    from_file = load_checkpoint(out / "model.safetensors")
    from_checkpoint = load_checkpoint(out)
    assert from_file.step == 5 and from_file.config == from_checkpoint.config
    for (name, a), b in zip(
        from_file.model.state_dict().items(),
        from_checkpoint.model.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(a, b), name


def test_ddim_model_file_holds_the_ema_weights(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, *train_args("ddim", out, steps=2))
    assert code == 0, err
    from safetensors.torch import load_file

    ema = torch.load(out / "checkpoints" / "last.pt", weights_only=True)["ema"]
    published = load_file(out / "model.safetensors")
    assert published.keys() == ema.keys()
    assert all(torch.equal(published[k], ema[k]) for k in ema)


def _tiny_run(tmp_path: Path, capsys, *extra: str, steps: int = 3) -> Path:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, *train_args("gan", out, *extra, steps=steps))
    assert code == 0, err
    return out


def test_resume_drops_a_torn_last_line_and_stale_temporaries(
    tmp_path: Path, capsys, caplog
) -> None:
    out = _tiny_run(tmp_path, capsys)
    log = out / "metrics.jsonl"
    with log.open("a") as handle:
        handle.write('{"step": 3, "loss_d": 0.6')  # a write cut short by SIGKILL
    stale = out / "checkpoints" / ".last.pt.999-dead.tmp"
    stale.write_bytes(b"half a checkpoint")
    with caplog.at_level(logging.WARNING):
        code, _, err = run_cli(capsys, *train_args("gan", out, "--resume", steps=5))
    assert code == 0, err
    assert "torn last line" in caplog.text and "stale temporary" in caplog.text
    assert not stale.exists()
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in records if "loss_d" in r] == [1, 2, 3, 4, 5]


def test_damage_before_the_last_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\nnot json\n{"step": 2}\n')
    with pytest.raises(RunError, match="line 2 is not JSON"):
        read_jsonl(path)
    with pytest.raises(RunError, match="line 2"):
        MetricsLog(path, True, resume_step=2)


def test_tensorboard_scalars_and_sample_grids(tmp_path: Path, capsys) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = _tiny_run(tmp_path, capsys, "--log", "tensorboard", "--sample-every", "2", steps=4)
    assert (out / "metrics.jsonl").is_file()  # the JSON log stays
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    tags = events.Tags()
    jsonl = read_jsonl(out / "metrics.jsonl")
    scalar = next(k for k in jsonl[-1] if k not in ("step", "epoch"))
    assert scalar in tags["scalars"]
    assert [e.step for e in events.Scalars(scalar)] == [r["step"] for r in jsonl if scalar in r]
    assert "samples" in tags["images"]
    assert [e.step for e in events.Images("samples")] == [2, 4, 4]  # step 2, 4 and the final grid
