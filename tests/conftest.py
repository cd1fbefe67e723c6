"""Shared fixtures: the offline data sets in ../shared, and a deterministic seed.

Everything else the tests need is in the repository (the golden masks: ``tests/data/golden``,
read by :func:`test_spec_oracle.golden_masks`). Only the offline MNIST / Fashion-MNIST copies
come from the project's shared folder, ``../shared`` beside the checkout unless the environment
variable ``BIONN_SHARED`` names another one. Without it the tests that need those data skip;
``BIONN_SHARED=/nonexistent pytest ...`` checks that a bare clone passes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BIONN_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared folder; tests that need it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(
            f"needs the project's shared folder (offline data sets): {SHARED} is missing "
            "(set BIONN_SHARED to its path)"
        )
    return SHARED


@pytest.fixture(scope="session")
def data_root(shared_dir: Path) -> Path:
    """Root for torchvision's MNIST / FashionMNIST (raw layout, download=False)."""
    root = shared_dir / "data"
    if not root.is_dir():  # the shared folder is there but broken: say so, never skip
        pytest.fail(f"{root} is missing from the shared folder {shared_dir}")
    return root


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    torch.manual_seed(0)
