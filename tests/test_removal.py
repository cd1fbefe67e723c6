"""Removal patterns against their definitions: straight loops over K[ix, iy] (EXPERIMENTS.md)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from bionn.removal import PATTERNS, default_strengths, kept_fraction, removal_window

SIZES = [(7, 7), (16, 16), (33, 33), (12, 5), (5, 12)]


def _loop_oracle(pattern: str, nx: int, ny: int, strength: int) -> np.ndarray:
    """The published definition, one weight at a time, in Keras orientation K[ix, iy]."""
    w = np.zeros((nx, ny))
    for ix in range(nx):
        for iy in range(ny):
            if pattern == "diagonal":
                w[ix, iy] = 1 if abs(iy - ix) < strength else 0
            elif pattern == "gaussian":
                sigma = 2 * strength
                w[ix, iy] = (
                    1.0 if strength >= max(nx, ny) else math.exp(-((ix - iy) ** 2) / (2 * sigma**2))
                )
            elif pattern == "centered":
                outside = abs(iy - ny / 2) > strength / 2 or abs(ix - nx / 2) > strength / 2
                w[ix, iy] = 0 if outside else 1
            elif pattern == "band":
                rxy = (nx - 1) / (ny - 1)
                hw = nx * ny / math.sqrt(nx * nx + ny * ny) * (1 - math.sqrt(strength * 0.01))
                w[ix, iy] = 0 if abs(rxy * iy - ix) >= hw * math.sqrt(rxy * rxy + 1) else 1
    if pattern == "striping":
        w[:] = 1
        if strength > 0:
            fstep = ny / strength
            for a in range(strength):
                y0 = int(fstep * a)
                for ix in range(nx):
                    w[ix, (ix + y0) % ny] = 0
    if pattern == "random":
        w[:] = 1
        stream, zeroed = random.Random(1), 0
        while zeroed < max(nx - strength, 0) * max(ny - strength, 0):
            ix, iy = stream.randrange(nx), stream.randrange(ny)
            if w[ix, iy] != 0:
                w[ix, iy] = 0
                zeroed += 1
    return w


def _strengths(pattern: str, nx: int, ny: int) -> list[int]:
    if pattern == "band":
        return [0, 1, 37, 50, 99, 100]
    n = max(nx, ny)
    picked = {1, 2, 3, min(nx, ny) - 1, n // 2, n - 1, n, n + 2}
    return sorted(s for s in picked if s >= (1 if pattern == "gaussian" else 0))


@pytest.mark.parametrize(("nx", "ny"), SIZES)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_matches_its_definition(pattern: str, nx: int, ny: int) -> None:
    options = {"random_protocol": "python"} if pattern == "random" else {}
    for strength in _strengths(pattern, nx, ny):
        got = removal_window(pattern, nx, ny, strength, seed=1, **options)
        assert got.shape == (ny, nx)
        assert got.dtype == (np.float64 if pattern == "gaussian" else np.bool_)
        expected = _loop_oracle(pattern, nx, ny, strength)
        np.testing.assert_array_equal(
            got.T.astype(np.float64), expected, err_msg=f"{pattern} {nx}x{ny} id={strength}"
        )


def test_published_size_matches_the_loops_for_a_few_strengths() -> None:
    for pattern, strength in (
        ("diagonal", 37),
        ("centered", 257),
        ("striping", 102),
        ("gaussian", 7),
        ("band", 42),
    ):
        got = removal_window(pattern, 512, 512, strength)
        np.testing.assert_array_equal(
            got.T.astype(np.float64), _loop_oracle(pattern, 512, 512, strength)
        )


def test_striping_fraction_is_the_published_formula() -> None:
    n = 64
    for strength in default_strengths("striping", n):
        window = removal_window("striping", n, n, strength)
        assert kept_fraction(window) == pytest.approx(1 - strength * n / n**2, abs=1e-12)


@pytest.mark.parametrize("protocol", ["numpy", "python"])
def test_random_removes_exactly_the_count_and_is_reproducible(protocol: str) -> None:
    for strength in (0, 3, 10, 20, 25):
        window = removal_window("random", 20, 20, strength, seed=5, random_protocol=protocol)
        assert (~window).sum() == max(20 - strength, 0) ** 2
        again = removal_window("random", 20, 20, strength, seed=5, random_protocol=protocol)
        np.testing.assert_array_equal(window, again)
    other = removal_window("random", 20, 20, 10, seed=6, random_protocol=protocol)
    assert not np.array_equal(
        other, removal_window("random", 20, 20, 10, seed=5, random_protocol=protocol)
    )


def test_default_strengths_are_the_published_list() -> None:
    strengths = default_strengths("diagonal", 512)
    assert strengths == list(range(512, 0, -5))
    assert len(strengths) == 103 and strengths[-1] == 2
    assert default_strengths("band", 512) == list(range(100))
    assert default_strengths("centered", 50) == list(range(50, 0, -1))  # step at least 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ring", 4, 4, 1), "pattern must be one of"),
        (("diagonal", 0, 4, 1), "n_x and n_y must be >= 1"),
        (("diagonal", 4, 4, -1), "strength of pattern 'diagonal' must be >= 0"),
        (("gaussian", 4, 4, 0), "strength of pattern 'gaussian' must be >= 1"),
        (("band", 4, 4, 101), "0..100"),
        (("band", 4, 1, 5), "needs n_y >= 2"),
    ],
)
def test_bad_arguments_raise_naming_them(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        removal_window(*args)


def test_bad_protocol_and_types_raise() -> None:
    with pytest.raises(ValueError, match="random_protocol must be one of"):
        removal_window("random", 4, 4, 1, random_protocol="torch")
    with pytest.raises(TypeError, match="strength must be an int"):
        removal_window("diagonal", 4, 4, 1.5)  # type: ignore[arg-type]
