"""Houdayer–Hartmann data collapse on data with a planted scaling form."""

from __future__ import annotations

import numpy as np
import pytest

from landaulab.analyze.collapse import (
    CollapseData,
    collapse_quality,
    collapse_quality_batch,
    fit_collapse,
    nelder_mead_batch,
)


def _planted(tc=0.3, nu=1.5, ratio=0.4, noise=0.01, seed=0, replicates=0):
    """y = L^(−ρ)·f((T − T_c)·L^(1/ν)) with f = 1/(1 + e^x) + 0.5, plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    sizes = np.array([10.0, 20.0, 40.0])
    t = np.tile(np.linspace(-0.5, 1.0, 16), 3)
    index = np.repeat(np.arange(3), 16)
    size = sizes[index]
    clean = size ** (-ratio) * (1 / (1 + np.exp((t - tc) * size ** (1 / nu))) + 0.5)
    dy = noise * clean
    y = clean + dy * rng.normal(size=clean.size)
    boot = clean + dy * rng.normal(size=(replicates, clean.size))
    return CollapseData(t=t, y=y, dy=dy, size_index=index, sizes=sizes), boot


def test_quality_is_smallest_at_the_planted_parameters():
    # errors (1 %) larger than the straight-line interpolation error of the master curve:
    # S ≈ 1 (a χ² per point) at the truth
    data, _ = _planted(noise=0.01)
    best = collapse_quality(data, 0.3, 1.5, 0.4)
    assert best < 2.0
    for wrong in [(0.4, 1.5, 0.4), (0.3, 2.5, 0.4), (0.3, 1.5, 0.6)]:
        assert collapse_quality(data, *wrong) > 5 * best


def test_batch_quality_matches_single_evaluations():
    data, _ = _planted()
    tc, nu, ratio = np.array([0.2, 0.3]), np.array([1.0, 1.5]), np.array([0.3, 0.4])
    batch = collapse_quality_batch(data, tc, nu, ratio, np.repeat(data.y[None], 2, axis=0))
    singles = [collapse_quality(data, *p) for p in zip(tc, nu, ratio, strict=True)]
    np.testing.assert_allclose(batch, singles)


def test_fit_recovers_planted_parameters_within_bootstrap_intervals():
    data, boot = _planted(replicates=100, seed=4)
    fit = fit_collapse(data, start_critical_point=0.0, start_ratio=0.2, replicate_y=boot)
    assert fit is not None
    for column, truth in enumerate([0.3, 1.5, 0.4]):
        lo, hi = np.percentile(fit.replicates[:, column], [2.5, 97.5])
        assert lo <= truth <= hi
    assert fit.quality < 3.0


def test_single_size_cannot_collapse():
    data, _ = _planted()
    single = CollapseData(data.t[:16], data.y[:16], data.dy[:16], data.size_index[:16], data.sizes)
    assert fit_collapse(single, start_critical_point=0.0) is None


def test_batched_nelder_mead_minimises_independent_quadratics():
    centres = np.array([[1.0, -2.0], [0.5, 3.0], [-4.0, 0.0]])

    def objective(points, problems):
        return np.sum((points - centres[problems]) ** 2, axis=1)

    simplex = np.repeat(np.array([[[0, 0], [1, 0], [0, 1]]], dtype=float), 3, axis=0)
    points, values = nelder_mead_batch(objective, simplex, iterations=300, tolerance=1e-12)
    np.testing.assert_allclose(points, centres, atol=1e-4)
    assert values == pytest.approx(0.0, abs=1e-7)
