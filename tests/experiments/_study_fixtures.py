"""Tiny training options and a fast proxy for the compare / sweep / report tests."""

from __future__ import annotations

import pytest

import bionn.metrics.proxy as proxy

# a 16-wide MLP on 300 embedded digits for 2 epochs: a run takes about a second
TINY_CLASSIFIER = {
    "data": "digits",
    "width": 16,
    "epochs": 2,
    "limit": 300,
    "batch_size": 64,
    "progress": False,
    "device": "cpu",
}
# a 28x28 DCGAN of width 8 for 3 steps: noise, but a complete run with samples
TINY_GAN = {
    "data": "digits",
    "image_size": 28,
    "width": 8,
    "disc_width": 8,
    "steps": 3,
    "batch_size": 16,
    "progress": False,
    "device": "cpu",
    "n_samples": 16,
}


@pytest.fixture
def fast_proxy(monkeypatch) -> None:
    original = proxy.train_proxy
    monkeypatch.setattr(
        proxy, "train_proxy", lambda x, y, **kwargs: original(x, y, steps=10, **kwargs)
    )
