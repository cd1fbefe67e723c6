"""The ``>>>`` examples in the docstrings of the PyTorch-side public API run and pass.

bionn.keras's examples run per Keras backend in tests/keras/test_keras_api.py.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

SKIPPED_PACKAGES = ("bionn.keras",)  # per backend, in tests/keras


def _module_names(package: str = "bionn") -> list[str]:
    # not pkgutil.walk_packages: it imports every package, bionn.keras (and so a Keras backend,
    # TensorFlow or JAX) included, and torchvision imported after those crashes in triton
    names = [package]
    path = importlib.import_module(package).__path__
    for info in pkgutil.iter_modules(path, prefix=f"{package}."):
        if info.name.startswith(SKIPPED_PACKAGES) or info.name == "bionn.__main__":
            continue
        names += _module_names(info.name) if info.ispkg else [info.name]
    return names


def _examples(name: str) -> int:
    module = importlib.import_module(name)
    return sum(len(test.examples) for test in doctest.DocTestFinder().find(module))


MODULES_WITH_EXAMPLES = [name for name in _module_names() if _examples(name)]


def test_the_public_api_has_examples() -> None:
    for name in ("bionn.layers.linear", "bionn.recipes", "bionn.convert"):
        assert name in MODULES_WITH_EXAMPLES


@pytest.mark.parametrize("name", MODULES_WITH_EXAMPLES)
def test_docstring_examples_pass(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
