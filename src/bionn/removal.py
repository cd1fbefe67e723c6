"""Post-training removal patterns: which weights of a trained layer to drop, as NumPy windows.

The schizophrenia paper's removal analysis (Mizutani et al. 2022, Front. Neurorobot.
16:851471; its scripts ``MNIST_4layers*Nrm`` and ``CIFAR10_DiagNrmCNN``) trains a dense network,
multiplies one trained kernel by a pattern W at a strength ``id``, rescales it by 1 / f
(f = kept fraction = mean of W) and evaluates without retraining. This module builds W.

A window is oriented ``(n_y, n_x)`` like a PyTorch weight and like :mod:`bionn.windows`: x is
the layer's input axis (index ``ix``), y its output axis (``iy``); the papers' Keras kernel
``K[ix, iy]`` is its transpose. Binary patterns return bool arrays, 'gaussian' float64. The
definitions are for square kernels (``n = n_x = n_y``); on a rectangular kernel every pattern
reads its definition per axis (``n_x`` for ix, ``n_y`` for iy), and 'band' is the rectangular
band the paper used for its CIFAR-10 layer.

- diagonal: keep ``|iy - ix| < id``.
- gaussian: ``exp(-(ix - iy)^2 / (2 sigma^2))``, sigma = 2 id; all ones when ``id >= n``.
- random: zero ``(n_x - id)(n_y - id)`` distinct positions drawn uniformly from ``seed``.
- centered: keep ``|iy - n_y/2| <= id/2`` and ``|ix - n_x/2| <= id/2`` (a central block).
- striping: zero ``id`` wrapped diagonals ``iy = (ix + int(n_y / id * a)) mod n_y``.
- band: ``id`` in 0..100 percent; keep ``|rxy iy - ix| < hw sqrt(rxy^2 + 1)`` with
  rxy = (n_x - 1) / (n_y - 1), hw = n_x n_y / sqrt(n_x^2 + n_y^2) (1 - sqrt(id / 100)),
  with sqrt(id / 100) computed as the script does, ``math.sqrt(id * 0.01)``.

Example:
    >>> w = removal_window("diagonal", 512, 512, 100)
    >>> w.shape, round(kept_fraction(w), 4)
    ((512, 512), 0.3509)
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "AblationResult",
    "PATTERNS",
    "RANDOM_PROTOCOLS",
    "default_strengths",
    "kept_fraction",
    "removal_window",
    "sweep_removal",
]

PATTERNS = ("diagonal", "gaussian", "random", "centered", "striping", "band")
# 'numpy': one NumPy Generator draw (fast); 'python': the scripts' random.randrange stream.
RANDOM_PROTOCOLS = ("numpy", "python")


@dataclass(frozen=True)
class AblationResult:
    """One strength of one pattern, as the PyTorch and Keras ``ablate`` functions return it.

    Attributes:
        pattern: The removal pattern.
        strength: Its strength (the scripts' ``id``).
        removed: Fraction of the weights removed, 1 - f (for 'gaussian': 1 - mean of W).
        metrics: What the evaluation callable returned, as floats.

    """

    pattern: str
    strength: int
    removed: float
    metrics: dict[str, float] = field(default_factory=dict)


def default_strengths(pattern: str, n_x: int, n_y: int | None = None) -> list[int]:
    """The published strengths: ``range(n, 0, -int(n / 100))``, or 0..99 percent for 'band'.

    ``n`` is ``max(n_x, n_y)``; the step is at least 1 (the scripts' ``if im < 1: im = 1``).
    For n = 512 this is 512, 507, ..., 2 (103 strengths).
    """
    _check_pattern(pattern)
    if pattern == "band":
        return list(range(100))
    n = max(n_x, n_y or n_x)
    return list(range(n, 0, -max(1, int(n / 100))))


def kept_fraction(window: np.ndarray) -> float:
    """Return f = sum of the window / its size: the fraction of the weight a window keeps."""
    return float(np.sum(window, dtype=np.float64)) / window.size


def removal_window(
    pattern: str,
    n_x: int,
    n_y: int,
    strength: int,
    *,
    seed: int = 1,
    random_protocol: str = "numpy",
) -> np.ndarray:
    """The window of ``pattern`` at ``strength`` for a kernel of ``n_x`` inputs, ``n_y`` outputs.

    Args:
        pattern: One of :data:`PATTERNS`.
        n_x: Input size (x axis; the kernel's ``ix``).
        n_y: Output size (y axis; the kernel's ``iy``).
        strength: The scripts' ``id``: >= 0 (>= 1 for 'gaussian'; at most 100 for 'band').
        seed: Seed of 'random'.
        random_protocol: 'numpy' draws the positions with ``numpy.random.default_rng(seed)``;
            'python' replays the scripts' stream: ``random.Random(seed)``, then ``ix =
            randrange(n_x)``, ``iy = randrange(n_y)`` per draw, repeats skipped.

    Returns:
        ``(n_y, n_x)`` array: bool, or float64 for 'gaussian'.

    Raises:
        ValueError: Unknown pattern or protocol, or a size / strength out of range.

    """
    _check_pattern(pattern)
    for name, value in (("n_x", n_x), ("n_y", n_y), ("strength", strength)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if n_x < 1 or n_y < 1:
        raise ValueError(f"n_x and n_y must be >= 1, got {n_x} and {n_y}")
    lowest = 1 if pattern == "gaussian" else 0
    if strength < lowest or (pattern == "band" and strength > 100):
        allowed = "0..100 (percent)" if pattern == "band" else f">= {lowest}"
        raise ValueError(f"strength of pattern {pattern!r} must be {allowed}, got {strength}")
    if random_protocol not in RANDOM_PROTOCOLS:
        raise ValueError(
            f"random_protocol must be one of {RANDOM_PROTOCOLS}, got {random_protocol!r}"
        )
    iy = np.arange(n_y)[:, None]
    ix = np.arange(n_x)[None, :]
    # NumPy's stubs type a ufunc's result (np.abs) as Any: annotated names keep the returns typed
    if pattern == "diagonal":
        near: np.ndarray = np.abs(iy - ix) < strength
        return near
    if pattern == "gaussian":
        return _gaussian(n_x, n_y, strength)
    if pattern == "random":
        return _random(n_x, n_y, strength, seed, random_protocol)
    if pattern == "centered":
        rows = np.abs(iy - n_y / 2) <= strength / 2
        block: np.ndarray = rows & (np.abs(ix - n_x / 2) <= strength / 2)
        return block
    if pattern == "striping":
        return _striping(n_x, n_y, strength)
    return _band(n_x, n_y, strength)


def sweep_removal(
    pattern: str,
    n_x: int,
    n_y: int,
    strengths: Iterable[int],
    *,
    apply: Callable[[np.ndarray, float], None],
    restore: Callable[[], None],
    evaluate: Callable[[], Mapping[str, float]],
    seed: int = 1,
    random_protocol: str = "numpy",
    on_result: Callable[[AblationResult], None] | None = None,
) -> list[AblationResult]:
    """The framework-neutral loop of an ablation: window, apply, evaluate, always restore.

    ``apply(window, kept)`` puts ``trained * window / kept`` into the layer; ``restore()`` puts
    the trained weight back, also when ``evaluate`` raises or the run is interrupted.
    """
    results = []
    try:
        for strength in strengths:
            window = removal_window(
                pattern, n_x, n_y, int(strength), seed=seed, random_protocol=random_protocol
            )
            kept = kept_fraction(window)
            apply(window, kept)
            metrics = {key: float(value) for key, value in evaluate().items()}
            result = AblationResult(pattern, int(strength), 1.0 - kept, metrics)
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        restore()
    return results


def _check_pattern(pattern: str) -> None:
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}")


def _gaussian(n_x: int, n_y: int, strength: int) -> np.ndarray:
    if strength >= max(n_x, n_y):
        return np.ones((n_y, n_x))
    sigma = 2 * strength
    # math.exp on each distinct offset iy - ix, then gathered: the same floats as a loop
    offsets = range(-(n_x - 1), n_y)
    values = np.array([math.exp(-(d * d) / (2 * sigma * sigma)) for d in offsets])
    gathered: np.ndarray = values[np.arange(n_y)[:, None] - np.arange(n_x)[None, :] + n_x - 1]
    return gathered


def _random(n_x: int, n_y: int, strength: int, seed: int, protocol: str) -> np.ndarray:
    count = max(n_x - strength, 0) * max(n_y - strength, 0)
    keep = np.ones((n_y, n_x), dtype=bool)
    if protocol == "numpy":
        drawn = np.random.default_rng(seed).choice(n_x * n_y, size=count, replace=False)
        keep.reshape(-1)[drawn] = False
        return keep
    stream = random.Random(seed)
    draw, flat, zeroed = stream.randrange, keep.reshape(-1), 0
    while zeroed < count:  # rejection of repeats: the scripts' loop, kept literal
        ix = draw(n_x)
        iy = draw(n_y)
        if flat[iy * n_x + ix]:
            flat[iy * n_x + ix] = False
            zeroed += 1
    return keep


def _striping(n_x: int, n_y: int, strength: int) -> np.ndarray:
    keep = np.ones((n_y, n_x), dtype=bool)
    if strength == 0:
        return keep
    step = n_y / strength
    starts = (step * np.arange(strength)).astype(np.int64)  # int() of each float, as the loop
    ix = np.arange(n_x)
    keep[(ix[None, :] + starts[:, None]) % n_y, np.broadcast_to(ix, (strength, n_x))] = False
    return keep


def _band(n_x: int, n_y: int, strength: int) -> np.ndarray:
    if n_y < 2:
        raise ValueError(f"pattern 'band' needs n_y >= 2, got {n_y}")
    rxy = (n_x - 1) / (n_y - 1)
    half_width = (n_x * n_y / math.sqrt(n_x * n_x + n_y * n_y)) * (1.0 - math.sqrt(strength * 0.01))
    limit = half_width * math.sqrt(rxy * rxy + 1)
    band: np.ndarray = np.abs(rxy * np.arange(n_y)[:, None] - np.arange(n_x)[None, :]) < limit
    return band
