"""Metric tests run single-threaded: the machine's two cores are shared with other jobs."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    torch.set_num_threads(1)
