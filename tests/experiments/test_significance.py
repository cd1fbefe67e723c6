"""Comparisons: Welch p, Hedges' g and the difference with bootstrap intervals, verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from bionn.experiments.significance import (
    MIN_SEEDS,
    bootstrap_interval,
    compare_groups,
    hedges_g,
)


def test_hedges_g_matches_the_formula():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 5.0, 4.0])
    pooled = math.sqrt((3 * a.var(ddof=1) + 2 * b.var(ddof=1)) / 5)
    expected = (1 - 3 / (4 * 7 - 9)) * (b.mean() - a.mean()) / pooled
    assert hedges_g(a, b) == pytest.approx(expected)
    assert hedges_g(b, a) == pytest.approx(-expected)
    assert math.isnan(hedges_g(np.array([1.0]), b))
    assert math.isnan(hedges_g(np.array([2.0, 2.0]), np.array([3.0, 3.0])))


def test_bootstrap_intervals_cover_the_estimate_and_are_reproducible():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 10), rng.normal(1, 1, 10)
    (lo, hi), (g_lo, g_hi) = bootstrap_interval(a, b)
    assert lo < b.mean() - a.mean() < hi
    assert g_lo < hedges_g(a, b) < g_hi
    assert bootstrap_interval(a, b) == ((lo, hi), (g_lo, g_hi))  # fixed seed
    # the interval of the difference is about the normal-theory one for n = 10
    se = math.sqrt(a.var(ddof=1) / 10 + b.var(ddof=1) / 10)
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.3)


def test_clear_difference_names_the_better_side_either_direction():
    low, high = [2.0, 2.1, 2.2], [3.0, 3.1, 3.3]
    distance = compare_groups("standard", low, "mouse", high, higher_is_better=False)
    assert distance.conclusive and distance.verdict == "standard better (lower)"
    assert distance.difference == pytest.approx(np.mean(high) - np.mean(low))
    assert distance.difference_ci[0] > 0
    assert distance.welch_p == pytest.approx(stats.ttest_ind(low, high, equal_var=False).pvalue)
    accuracy = compare_groups("dense", low, "schizo", high, higher_is_better=True)
    assert accuracy.verdict == "schizo better (higher)"


def test_interval_without_significance_is_no_clear_difference():
    # three runs per side: the bootstrap interval excludes 0 while Welch p is about 0.07
    c = compare_groups(
        "dense", [0.8815, 0.876, 0.877], "random", [0.874, 0.873, 0.8715], higher_is_better=True
    )
    assert c.difference_ci[1] < 0 and c.welch_p > 0.05
    assert c.verdict == "no clear difference (Welch p >= 0.05)"


def test_overlapping_groups_are_no_clear_difference():
    c = compare_groups("standard", [1.0, 2.0, 3.0, 2.5], "mouse", [1.5, 2.2, 2.9, 2.0])
    assert c.conclusive and c.difference_ci[0] < 0 < c.difference_ci[1]
    assert c.verdict.startswith("no clear difference")


@pytest.mark.parametrize(("n_a", "n_b"), [(2, 3), (3, 2), (0, 3), (1, 1)])
def test_fewer_than_three_converged_runs_per_side_is_inconclusive(n_a, n_b):
    a, b = [1.0, 1.1, 1.2][:n_a], [5.0, 5.1, 5.2][:n_b]  # however clear the gap
    c = compare_groups("standard", a, "mouse", b)
    assert not c.conclusive and MIN_SEEDS == 3
    assert c.verdict.startswith("inconclusive") and f"(mouse {n_b}, standard {n_a})" in c.verdict
    assert "inconclusive" in c.sentence()


@pytest.mark.parametrize(("n_a", "n_b"), [(1, 1), (1, 3), (3, 1)])
def test_no_interval_from_a_single_run(n_a, n_b):
    c = compare_groups("standard", [1.0, 1.1, 1.2][:n_a], "mouse", [5.0, 5.1, 5.2][:n_b])
    assert all(math.isnan(x) for x in (*c.difference_ci, *c.hedges_g_ci))
    assert "[95 % bootstrap CI -, -]" in c.sentence()


def test_sentence_and_dict_carry_every_figure():
    c = compare_groups("standard", [2.0, 2.1, 2.2], "mouse", [3.0, 3.1, 3.3])
    text = c.sentence()
    assert "Hedges' g" in text and "95 % bootstrap CI" in text and "Welch t-test p" in text
    assert set(c.to_dict()) >= {
        "difference",
        "difference_ci",
        "hedges_g",
        "hedges_g_ci",
        "welch_p",
        "conclusive",
        "verdict",
    }
