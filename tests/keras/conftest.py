"""Keras tests run once per backend: ``KERAS_BACKEND=torch|tensorflow|jax pytest -m keras``.

Without ``KERAS_BACKEND`` they use the torch backend (the test environment has torch anyway:
the PyTorch layers are the parity oracle), so a plain ``pytest`` run needs no other backend.
``make test-keras-without-torch`` checks the library itself in a venv without torch.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keras imports TensorFlow if present

import keras  # noqa: E402  (after the backend is chosen)


@pytest.fixture(autouse=True)
def _keras_seed() -> None:
    keras.utils.set_random_seed(0)


_KERAS_TESTS = os.path.dirname(__file__)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Keras' torch backend calls np.array(tensor), which NumPy 2 flags on torch's __array__.
    ignore = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
    for item in items:
        if str(item.path).startswith(_KERAS_TESTS):
            item.add_marker(ignore)
