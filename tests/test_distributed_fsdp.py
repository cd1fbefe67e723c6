"""FSDP2 (``fully_shard``) on two CPU processes (gloo): masks, windows and DCP checkpoints.

One ``torch.distributed.run`` launch of this file (its ``__main__`` part, the worker) trains a
small sharded model a few Adam steps, saves and reloads it with ``torch.distributed.checkpoint``,
and tries the other things users do with sharded models (a mismatched checkpoint, meta-device
init, ``freeze``); each rank saves what it saw and the tests below judge it, against a
single-process run of the same steps. FSDP2 shards ``weight`` and ``bias`` as DTensors; the
window must stay a plain, replicated buffer that no optimiser sees.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn

import bionn
from bionn.layers import WindowedLayer

WORLD = 2
STEPS = 3
LR = 1e-2
TIMEOUT_S = 300  # the whole launch; a busy 2-core machine needs most of it to import torch
REPO = Path(__file__).resolve().parents[1]


def build(weight_seed: int, schizo_seed: int = 7) -> nn.Sequential:
    """Mouse (scaled init: masked weights are 0) and random-form schizo (raw weights non-zero)."""
    torch.manual_seed(weight_seed)
    return nn.Sequential(
        bionn.MouseLinear(12, 10, usage=0.4),
        nn.ReLU(),
        bionn.SchizoLinear(10, 6, usage=0.5, form="random", seed=schizo_seed, scale_init=False),
    )


def batch() -> tuple[Tensor, Tensor]:
    generator = torch.Generator().manual_seed(123)
    return torch.randn(8, 12, generator=generator), torch.randn(8, 6, generator=generator)


def windowed(model: nn.Module) -> dict[str, WindowedLayer]:
    return {name: m for name, m in model.named_modules() if isinstance(m, WindowedLayer)}


def effective_output(state: dict[str, Tensor], x: Tensor) -> Tensor:
    """The model's output computed by hand from a (full) state dict: ``weight * window``."""
    hidden = nn.functional.linear(x, state["0.weight"] * state["0.window"], state["0.bias"])
    return nn.functional.linear(hidden.relu(), state["2.weight"] * state["2.window"],
                                state["2.bias"])  # fmt: skip


# -- the worker: runs in each of the two processes --------------------------------------------


def _worker(out: Path) -> None:
    import torch.distributed as dist
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        get_model_state_dict,
        set_model_state_dict,
    )
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import DTensor

    dist.init_process_group("gloo", timeout=timedelta(seconds=120))
    rank = dist.get_rank()
    mesh = init_device_mesh("cpu", (WORLD,))
    seen: dict[str, Any] = {}

    def shard(model: nn.Module) -> nn.Module:
        for layer in windowed(model).values():
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        return model

    def full(model: nn.Module) -> dict[str, Tensor]:  # a collective: every rank calls it
        return {name: (t.full_tensor() if isinstance(t, DTensor) else t).detach().clone()
                for name, t in model.state_dict().items()}  # fmt: skip

    def attempt(key: str, action: Any) -> None:
        try:
            action()
            seen[key] = None
        except Exception as error:  # recorded for the test, which shows it
            seen[key] = f"{type(error).__name__}: {error}"
            seen[key + "_traceback"] = traceback.format_exc()[-3000:]

    try:
        # (a) training
        model = build(0)
        seen["windows_before"] = {n: b.clone() for n, b in model.named_buffers()}
        shard(model)
        seen["parameter_types"] = {n: type(p).__name__ for n, p in model.named_parameters()}
        seen["buffer_types"] = {n: type(b).__name__ for n, b in model.named_buffers()}
        seen["buffer_requires_grad"] = any(b.requires_grad for b in model.buffers())
        optimizer = torch.optim.Adam(model.parameters(), lr=LR)
        in_optimizer = [p for group in optimizer.param_groups for p in group["params"]]
        buffers = list(model.buffers())
        seen["optimizer_holds_a_buffer"] = any(p is b for p in in_optimizer for b in buffers)
        seen["optimizer_numel"] = sum(p.numel() for p in in_optimizer)
        x, y = batch()
        mine = slice(rank * 4, rank * 4 + 4)  # each rank its half: the mean gradient is the same
        masked_grad = 0.0
        for _ in range(STEPS):
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x[mine]), y[mine]).backward()
            for layer in windowed(model).values():
                grad = layer.weight.grad.full_tensor()
                masked_grad = max(masked_grad, float(grad[~layer.expanded_window()].abs().max()))
            optimizer.step()
        seen["masked_grad_max"] = masked_grad
        seen["trained"] = full(model)
        seen["windows_after"] = {n: b.clone() for n, b in model.named_buffers()}
        with torch.no_grad():
            seen["output"] = model(x)  # the sharded forward, full batch on every rank

        # (b) distributed checkpoint round trip into a model with other weights
        checkpoint = str(out / "checkpoint")
        dcp.save(get_model_state_dict(model), checkpoint_id=checkpoint)
        fresh = shard(build(1))
        seen["fresh_before"] = full(fresh)
        state = get_model_state_dict(fresh)
        dcp.load(state, checkpoint_id=checkpoint)
        set_model_state_dict(fresh, state)
        seen["restored"] = full(fresh)
        with torch.no_grad():
            seen["restored_output"] = fresh(x)
        seen["full_state_dict"] = get_model_state_dict(
            model, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )

        # (c) the same checkpoint into a model whose schizo window differs (seed 8, not 7)
        other = shard(build(1, schizo_seed=8))

        def load_other() -> None:
            other_state = get_model_state_dict(other)
            dcp.load(other_state, checkpoint_id=checkpoint)
            set_model_state_dict(other, other_state)

        attempt("mismatch_error", load_other)
        seen["mismatch_window_after"] = other[2].window.clone()

        # (d) meta-device init: to_empty, then the layers' own reset_parameters
        with torch.device("meta"):
            lazy = build(0)
        shard(lazy)
        lazy.to_empty(device="cpu")
        seen["meta_windows"] = {n: b.clone() for n, b in lazy.named_buffers()}

        def reset() -> None:
            for layer in windowed(lazy).values():
                layer.reset_parameters()

        attempt("reset_error", reset)
        seen["reset_state"] = full(lazy)

        # (e) the effective weight and freeze on the sharded model
        def masked_weight() -> None:
            seen["masked_weights"] = {name: layer.masked_weight().full_tensor()
                                      for name, layer in windowed(model).items()}  # fmt: skip

        attempt("masked_weight_error", masked_weight)

        def freeze() -> None:
            bionn.freeze(model)
            with torch.no_grad():
                seen["frozen_output"] = model(x)

        attempt("freeze_error", freeze)
    finally:
        torch.save(seen, out / f"rank{rank}.pt")
        dist.destroy_process_group()


# -- the tests ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """What each of the two ranks saw (one launch for every test of this file)."""
    out = tmp_path_factory.mktemp("fsdp")
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(WORLD),
               "--master-addr", "127.0.0.1", "--master-port", str(_free_port()),
               str(Path(__file__).resolve()), str(out)]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
    try:
        output, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the launcher and its two workers
        output, _ = process.communicate()
        pytest.fail(f"FSDP launch ran past {TIMEOUT_S} s:\n{output.decode()[-4000:]}")
    assert process.returncode == 0, output.decode()[-6000:]
    return [torch.load(out / f"rank{rank}.pt", weights_only=True) for rank in range(WORLD)]


def single_process_training() -> nn.Sequential:
    """The same steps without FSDP: full batch, one process."""
    model = build(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    x, y = batch()
    for _ in range(STEPS):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    return model


def test_windows_are_plain_buffers_no_optimiser_sees(ranks: list[dict[str, Any]]) -> None:
    reference = build(0)
    for seen in ranks:
        assert seen["parameter_types"] == dict.fromkeys(
            ["0.weight", "0.bias", "2.weight", "2.bias"], "DTensor"
        )
        assert seen["buffer_types"] == {"0.window": "Tensor", "2.window": "Tensor"}
        assert not seen["buffer_requires_grad"] and not seen["optimizer_holds_a_buffer"]
        assert seen["optimizer_numel"] == sum(p.numel() for p in reference.parameters())
        for name, window in reference.named_buffers():
            assert window.dtype == torch.bool
            # unchanged by sharding and training, equal on both ranks, the recipe's window
            for stage in ("windows_before", "windows_after", "meta_windows"):
                assert torch.equal(seen[stage][name], window), (stage, name)


def test_training_keeps_masked_entries_zero(ranks: list[dict[str, Any]]) -> None:
    reference = single_process_training()
    initial = build(0)
    x, _ = batch()
    for seen in ranks:
        assert seen["masked_grad_max"] == 0.0
        trained = seen["trained"]
        for name, layer in windowed(reference).items():
            weight, masked = trained[f"{name}.weight"], ~layer.expanded_window()
            assert bool(masked.any())
            assert bool((weight * layer.window)[masked].eq(0).all())  # the effective weight
            # no gradient, no update: masked raw weights keep their initial value (0 for mouse)
            start = initial.get_parameter(f"{name}.weight")
            assert torch.equal(weight[masked], start[masked])
            assert not torch.equal(weight[~masked], start[~masked])  # the kept ones trained
        # the sharded steps are the single-process ones (mean over the two halves of the batch)
        for key, tensor in reference.state_dict().items():
            torch.testing.assert_close(trained[key], tensor, rtol=1e-5, atol=1e-6)
        # and the sharded forward applied the windows
        torch.testing.assert_close(seen["output"], effective_output(trained, x))
    # the mouse layer's init was scaled (masked weights 0): they are still exactly 0
    assert bool((ranks[0]["trained"]["0.weight"][~reference[0].expanded_window()] == 0).all())


def test_distributed_checkpoint_round_trip_is_exact(ranks: list[dict[str, Any]]) -> None:
    for seen in ranks:
        trained, fresh, restored = seen["trained"], seen["fresh_before"], seen["restored"]
        assert set(restored) == set(trained) == {"0.weight", "0.bias", "0.window", "2.weight",
                                                 "2.bias", "2.window"}  # fmt: skip
        assert not torch.equal(fresh["0.weight"], trained["0.weight"])  # the load did something
        for key, tensor in trained.items():
            assert torch.equal(restored[key], tensor), key
            assert restored[key].dtype == tensor.dtype, key
        assert torch.equal(seen["restored_output"], seen["output"])
    # the gathered full state dict (rank 0) loads strictly into a plain, unsharded model
    full = ranks[0]["full_state_dict"]
    assert ranks[1]["full_state_dict"] == {}
    model = build(5)
    model.load_state_dict(full, strict=True)
    x, _ = batch()
    with torch.no_grad():
        torch.testing.assert_close(model(x), ranks[0]["output"])
        bionn.freeze(model)
        torch.testing.assert_close(model(x), ranks[0]["output"])


def test_checkpoint_with_another_window_is_refused(ranks: list[dict[str, Any]]) -> None:
    expected_window = build(1, schizo_seed=8)[2].window
    for seen in ranks:
        assert seen["mismatch_error"] is not None and "does not match" in seen["mismatch_error"]
        assert torch.equal(seen["mismatch_window_after"], expected_window)


def test_reset_parameters_after_meta_init(ranks: list[dict[str, Any]]) -> None:
    for seen in ranks:
        assert seen["reset_error"] is None, seen["reset_error"]
        state = seen["reset_state"]
        masked = ~build(0)[0].expanded_window()
        assert bool((state["0.weight"][masked] == 0).all())  # scale_init: masked weights are 0
        assert bool((state["0.weight"][~masked] != 0).all())


def test_masked_weight_and_freeze_on_the_sharded_model(ranks: list[dict[str, Any]]) -> None:
    for seen in ranks:
        assert seen["masked_weight_error"] is None, seen["masked_weight_error"]
        trained = seen["trained"]
        for name in ("0", "2"):
            expected = trained[f"{name}.weight"] * trained[f"{name}.window"]
            assert torch.equal(seen["masked_weights"][name], expected)
        assert seen["freeze_error"] is None, seen["freeze_error"]
        torch.testing.assert_close(seen["frozen_output"], seen["output"])


if __name__ == "__main__":  # under torch.distributed.run: python -m torch.distributed.run ... OUT
    _worker(Path(sys.argv[1]))
