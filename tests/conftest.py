"""Shared fixtures: paths to ../shared (golden masks, offline data) and a deterministic seed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's ../shared folder (golden masks, offline MNIST / Fashion-MNIST)."""
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: tests need ../shared beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def data_root(shared_dir: Path) -> Path:
    """Root for torchvision's MNIST / FashionMNIST (raw layout, download=False)."""
    return shared_dir / "data"


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    torch.manual_seed(0)
