"""Multi-process training through PyTorch's own engine (``torchrun`` + DistributedDataParallel).

Under ``torchrun --nproc-per-node N`` the environment carries ``WORLD_SIZE`` / ``RANK`` /
``LOCAL_RANK``; :func:`setup` then joins the process group (NCCL on CUDA, gloo on CPU) and picks
the local GPU. Rank 0 alone logs, samples and writes checkpoints; every rank reads its own shard
of each epoch's permutation (:func:`epoch_indices`, a ``DistributedSampler``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from bionn.experiments.config import ConfigError

__all__ = ["Dist", "cleanup", "epoch_indices", "resolve_device", "setup", "wrap"]


@dataclass(frozen=True)
class Dist:
    """Return this process's place: ``rank`` of ``world`` processes, on ``device``."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        """Whether this process logs and writes files."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        """Whether a process group is in use."""
        return self.world > 1


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """'auto' -> CUDA when available, else CPU; 'cuda' -> the local GPU. Errors if absent."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name}: CUDA is not available on this machine")
        if name == "cuda":
            return torch.device("cuda", local_rank)
    return torch.device(name)


def setup(device: str) -> Dist:
    """Join the process group when launched by torchrun; otherwise a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device, local_rank)
    if world <= 1:
        return Dist(device=resolved)
    if not dist.is_initialized():
        backend = "nccl" if resolved.type == "cuda" else "gloo"
        if resolved.type == "cuda":
            torch.cuda.set_device(resolved)
        dist.init_process_group(backend=backend)
    return Dist(dist.get_rank(), dist.get_world_size(), resolved)


def cleanup(place: Dist) -> None:
    """Leave the process group (after a final barrier)."""
    if place.active and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def wrap(module: nn.Module, place: Dist) -> nn.Module:
    """Return ``module`` in DistributedDataParallel when several processes train, else as is."""
    if not place.active:
        return module
    ids = [place.device.index] if place.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def any_rank(flag: bool, place: Dist) -> bool:
    """Whether ``flag`` is set on any rank (e.g. a Ctrl-C seen by one process)."""
    if not place.active:
        return flag
    value = torch.tensor([int(flag)], device=place.device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


class _Length:
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n


def epoch_indices(n: int, epoch: int, seed: int, place: Dist, drop_last: bool) -> torch.Tensor:
    """Return this rank's sample order for ``epoch``: a function of (seed, epoch) only."""
    sampler: DistributedSampler[int] = DistributedSampler(
        _Length(n),  # type: ignore[arg-type]  # not a Dataset: the sampler only takes its len()
        num_replicas=place.world,
        rank=place.rank,
        shuffle=True,
        seed=seed,
        drop_last=drop_last,
    )
    sampler.set_epoch(epoch)
    return torch.tensor(list(iter(sampler)), dtype=torch.long)
