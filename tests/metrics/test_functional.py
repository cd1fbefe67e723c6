import numpy as np
import pytest
import torch
from scipy import linalg, stats

from bionn.metrics import frechet_distance, kernel_distance, polynomial_mmd, welch_t_test


def _random_gaussian(rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray]:
    a = rng.normal(size=(d, d))
    return rng.normal(size=d), a @ a.T / d + 0.1 * np.eye(d)


def _scipy_fd(mu1, s1, mu2, s2) -> float:
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


@pytest.mark.parametrize("d", [2, 16, 64])
def test_frechet_distance_matches_scipy_sqrtm(d: int) -> None:
    rng = np.random.default_rng(d)
    (mu1, s1), (mu2, s2) = _random_gaussian(rng, d), _random_gaussian(rng, d)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(
        _scipy_fd(mu1, s1, mu2, s2), rel=1e-6
    )


def test_equal_covariances_give_squared_mean_distance() -> None:
    rng = np.random.default_rng(1)
    mu1, sigma = _random_gaussian(rng, 8)
    mu2 = rng.normal(size=8)
    expected = float(((mu1 - mu2) ** 2).sum())
    assert frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert frechet_distance(mu1, sigma, mu1, sigma) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_known_diagonal_gaussians() -> None:
    # N(0, diag(a)) vs N(0, diag(b)): sum (sqrt(a) - sqrt(b))^2
    a, b = torch.tensor([1.0, 4.0, 9.0]), torch.tensor([4.0, 1.0, 9.0])
    value = frechet_distance(torch.zeros(3), torch.diag(a), torch.zeros(3), torch.diag(b))
    assert value == pytest.approx(float(((a.sqrt() - b.sqrt()) ** 2).sum()), rel=1e-12)


def test_frechet_distance_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="covariances"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def _direct_mmd(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]

    def k(a, b):
        return (a @ b / d + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_polynomial_mmd_matches_direct_formula() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(12, 5)), rng.normal(0.5, 1.0, size=(9, 5))
    assert polynomial_mmd(x, y) == pytest.approx(_direct_mmd(x, y), rel=1e-10)


def test_kernel_distance_full_subsets_equal_mmd_and_reproducible() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(10, 4)), rng.normal(1.0, 1.0, size=(10, 4))
    mean, std = kernel_distance(x, y, subsets=5, subset_size=10)
    # subsets of the whole set are permutations: every one has the same value
    assert mean == pytest.approx(_direct_mmd(x, y), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)
    assert kernel_distance(x, y, subsets=4, subset_size=5) == kernel_distance(
        x, y, subsets=4, subset_size=5
    )


def test_kernel_distance_is_torch_fidelitys_and_the_fallback_agrees(monkeypatch) -> None:
    from torch_fidelity.metric_kid import kid_features_to_metric

    import bionn.metrics.functional as functional

    rng = np.random.default_rng(4)
    x = torch.from_numpy(rng.normal(size=(60, 8)))
    y = torch.from_numpy(rng.normal(0.3, 1.2, size=(50, 8)))
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return kid_features_to_metric(*args, **kwargs)

    monkeypatch.setattr(functional, "_torch_fidelity_kid", lambda: spy)
    ours = kernel_distance(x, y, subsets=20, subset_size=30, seed=7)
    theirs = kid_features_to_metric(
        x, y, kid_subsets=20, kid_subset_size=30, rng_seed=7, verbose=False
    )
    assert calls and ours == (
        theirs["kernel_inception_distance_mean"],
        theirs["kernel_inception_distance_std"],
    )
    monkeypatch.setattr(functional, "_torch_fidelity_kid", lambda: None)  # without the extra
    fallback = kernel_distance(x, y, subsets=20, subset_size=30, seed=7)
    assert fallback == pytest.approx(ours, rel=1e-10, abs=1e-14) and len(calls) == 1
    monkeypatch.undo()
    # torch-fidelity refuses subsets larger than a set; we cap them at the smaller set
    assert kernel_distance(x, y, subsets=3, subset_size=1000)[0] == pytest.approx(
        kid_features_to_metric(
            x, y, kid_subsets=3, kid_subset_size=50, rng_seed=2020, verbose=False
        )["kernel_inception_distance_mean"]
    )


def test_kernel_distance_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        kernel_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="one d"):
        kernel_distance(np.zeros((4, 3)), np.zeros((5, 2)))


def test_welch_t_test_matches_scipy() -> None:
    a, b = [10.0, 12.5, 11.0, 13.2], [14.0, 15.5, 13.9]
    assert welch_t_test(a, b) == pytest.approx(
        stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-12
    )
    assert np.isnan(welch_t_test([1.0], [2.0, 3.0]))
