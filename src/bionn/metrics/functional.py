"""Pure functions behind FID and KID: Frechet distance of Gaussians and the unbiased KID MMD.

Frechet distance (Heusel et al. 2017, "GANs trained by a two time-scale update rule converge to a
local Nash equilibrium"): ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``. The trace of the
matrix square root is the sum of the square roots of the eigenvalues of ``S1 S2`` (as torchmetrics
computes it), which avoids ``scipy.linalg.sqrtm``'s slow, occasionally complex iteration.

Kernel Inception Distance (Binkowski et al. 2018, "Demystifying MMD GANs"): the unbiased squared
MMD with the cubic polynomial kernel ``k(x, y) = (x.y / d + 1)^3``, averaged over random subsets;
:func:`kernel_distance` calls torch-fidelity's ``kid_features_to_metric`` when it is installed.

Example:
    >>> import torch
    >>> mu, sigma = torch.zeros(3), torch.eye(3)
    >>> round(frechet_distance(mu, sigma, mu + 1, sigma), 6)
    3.0

"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = ["frechet_distance", "kernel_distance", "polynomial_mmd", "welch_t_test"]

ArrayLike = Tensor | np.ndarray


def _f64(value: ArrayLike) -> Tensor:
    return torch.as_tensor(
        np.asarray(value) if not isinstance(value, Tensor) else value, dtype=torch.float64
    ).cpu()


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Frechet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2), in float64.

    Args:
        mu1: Mean of the first set, shape ``(d,)``.
        sigma1: Covariance of the first set, shape ``(d, d)``.
        mu2: Mean of the second set, shape ``(d,)``.
        sigma2: Covariance of the second set, shape ``(d, d)``.

    Returns:
        The squared Frechet distance (what the literature calls FID when the features are
        Inception pool features).

    Raises:
        ValueError: If the shapes do not agree.

    """
    mu1, mu2, sigma1, sigma2 = _f64(mu1), _f64(mu2), _f64(sigma1), _f64(sigma2)
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"frechet_distance needs means of shape (d,) and covariances (d, d); got "
            f"{tuple(mu1.shape)}, {tuple(sigma1.shape)}, {tuple(mu2.shape)}, {tuple(sigma2.shape)}"
        )
    mean_term = (mu1 - mu2).square().sum()
    # S1 S2 is similar to the PSD matrix S1^(1/2) S2 S1^(1/2): its eigenvalues are real and
    # non-negative up to rounding, so the tiny imaginary / negative parts are noise.
    eigenvalues = torch.linalg.eigvals(sigma1 @ sigma2).real.clamp(min=0)
    trace_term = sigma1.trace() + sigma2.trace() - 2 * eigenvalues.sqrt().sum()
    return float(mean_term + trace_term)


def polynomial_mmd(x: ArrayLike, y: ArrayLike, degree: int = 3, coef0: float = 1.0) -> float:
    """Unbiased squared MMD of two feature sets under ``k(a, b) = (a.b / d + coef0) ** degree``.

    Args:
        x: Features of the first set, shape ``(m, d)``, m >= 2.
        y: Features of the second set, shape ``(n, d)``, n >= 2.
        degree: Polynomial degree (3 in KID).
        coef0: Constant term (1 in KID).

    Returns:
        The unbiased estimate (may be slightly negative when the sets match).

    """
    x, y = _f64(x), _f64(y)
    m, n, d = x.shape[0], y.shape[0], x.shape[1]
    k_xx = (x @ x.T / d + coef0) ** degree
    k_yy = (y @ y.T / d + coef0) ** degree
    k_xy = (x @ y.T / d + coef0) ** degree
    # Unbiased: drop the diagonals k(x_i, x_i) of the within-set terms.
    xx = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    yy = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return float(xx + yy - 2 * k_xy.mean())


def _torch_fidelity_kid() -> Callable[..., dict[str, float]] | None:
    try:
        from torch_fidelity.metric_kid import kid_features_to_metric
    except ImportError:
        return None
    kid: Callable[..., dict[str, float]] = kid_features_to_metric  # torch-fidelity is untyped
    return kid


def kernel_distance(
    x: ArrayLike, y: ArrayLike, subsets: int = 100, subset_size: int = 1000, seed: int = 2020
) -> tuple[float, float]:
    """KID: mean and standard deviation of the unbiased polynomial MMD over random subsets.

    With torch-fidelity installed (the ``fid`` extra) this is torch-fidelity's own
    ``kid_features_to_metric`` (cubic kernel, gamma 1 / d, coef0 1); without it, the same
    computation here: the subsets are drawn alike (``numpy.random.RandomState(seed).choice``
    without replacement, first set then second, per subset), each scored by
    :func:`polynomial_mmd`, and the standard deviation is numpy's (``ddof=0``), so both paths
    agree to rounding (tested). One difference from calling torch-fidelity directly: the subset
    size is capped at the smaller set's size, where torch-fidelity refuses.

    Args:
        x: Features of the first set, shape ``(m, d)``.
        y: Features of the second set, shape ``(n, d)``.
        subsets: Number of random subsets (100 in the KID paper and torch-fidelity).
        subset_size: Samples per subset; capped at the smaller set's size.
        seed: Seed of the subset draw (torch-fidelity's default, 2020).

    Returns:
        ``(mean, std)`` over the subsets.

    Raises:
        ValueError: If either set has fewer than 2 samples or the feature sizes differ.

    """
    x, y = _f64(x), _f64(y)
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(
            f"KID needs (n, d) feature sets of one d; got {tuple(x.shape)}, {tuple(y.shape)}"
        )
    size = min(subset_size, x.shape[0], y.shape[0])
    if size < 2:
        raise ValueError(
            f"KID needs at least 2 samples in each set; got {x.shape[0]} and {y.shape[0]}"
        )
    fidelity = _torch_fidelity_kid()
    if fidelity is not None:
        out = fidelity(
            x, y, kid_subsets=subsets, kid_subset_size=size, rng_seed=seed, verbose=False
        )
        return out["kernel_inception_distance_mean"], out["kernel_inception_distance_std"]
    rng = np.random.RandomState(seed)
    values = np.array(
        [
            polynomial_mmd(
                x[rng.choice(x.shape[0], size, replace=False)],
                y[rng.choice(y.shape[0], size, replace=False)],
            )
            for _ in range(subsets)
        ]
    )
    return float(values.mean()), float(values.std())


def welch_t_test(a: ArrayLike | Sequence[float], b: ArrayLike | Sequence[float]) -> float:
    """Two-sided p-value of Welch's t-test (unequal variances), NaN with < 2 values per side.

    Args:
        a: Values of the first group.
        b: Values of the second group.

    Returns:
        The p-value of ``scipy.stats.ttest_ind(a, b, equal_var=False)``.

    """
    from scipy import stats  # imported here: scipy is an optional dependency

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size < 2 or b.size < 2:
        return float("nan")
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)
