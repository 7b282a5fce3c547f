"""Soft committee machine: closed-form averages, the overlap ODEs, and SGD following them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import erf

from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.committee import (
    gaussian_averages,
    generalisation_error,
    overlap_derivatives,
    plateau,
)

Z = 5.0  # |z| beyond 5 standard errors: two-sided p ≈ 6e-7 per comparison


def _g(x: np.ndarray) -> np.ndarray:
    return erf(x / math.sqrt(2.0))


def _dg(x: np.ndarray) -> np.ndarray:
    return math.sqrt(2.0 / math.pi) * np.exp(-0.5 * x * x)


def _covariance(rng: np.random.Generator, size: int) -> np.ndarray:
    a = rng.normal(size=(size, size))
    return a @ a.T / size + 0.2 * np.eye(size)


def _assert_mc(samples: np.ndarray, expected: np.ndarray) -> None:
    """Monte Carlo means agree with the closed form within Z standard errors."""
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / math.sqrt(samples.shape[0])
    assert np.all(np.abs(mean - expected) <= Z * se + 1e-12)


def test_gaussian_averages_match_monte_carlo() -> None:
    rng = np.random.default_rng(0)
    c = _covariance(rng, 4)
    u = rng.multivariate_normal(np.zeros(4), c, size=100_000)
    i3, i4 = gaussian_averages(c, 2)
    s3 = _dg(u[:, :2])[:, :, None, None] * u[:, None, :, None] * _g(u)[:, None, None, :]
    _assert_mc(s3.reshape(len(u), -1), i3.ravel())
    s4 = (
        _dg(u[:, :2])[:, :, None, None, None]
        * _dg(u[:, :2])[:, None, :, None, None]
        * _g(u)[:, None, None, :, None]
        * _g(u)[:, None, None, None, :]
    )
    _assert_mc(s4.reshape(len(u), -1), i4.ravel())


def test_generalisation_error_matches_monte_carlo() -> None:
    rng = np.random.default_rng(1)
    c = _covariance(rng, 5)  # K = 3 students, M = 2 teachers
    u = rng.multivariate_normal(np.zeros(5), c, size=200_000)
    squared = 0.5 * (_g(u[:, :3]).sum(1) - _g(u[:, 3:]).sum(1)) ** 2
    _assert_mc(squared[:, None], np.array([generalisation_error(c[:3, :3], c[:3, 3:], c[3:, 3:])]))


def test_ode_is_the_expected_sgd_increment() -> None:
    """dR/dt = η E[δ ν], dQ/dt = η E[δλ + λδ] + η² E[δδ] with δ_i = g'(λ_i)(y − φ)."""
    rng = np.random.default_rng(2)
    c = _covariance(rng, 4)
    q, r, t = c[:2, :2], c[:2, 2:], c[2:, 2:]
    lr, sigma = 0.7, 0.3
    fields = rng.multivariate_normal(np.zeros(4), c, size=400_000)
    lam, nu = fields[:, :2], fields[:, 2:]
    y = _g(nu).sum(1) + sigma * rng.normal(size=len(fields))
    delta = _dg(lam) * (y - _g(lam).sum(1))[:, None]
    dr_samples = lr * delta[:, :, None] * nu[:, None, :]
    dq_samples = lr * (delta[:, :, None] * lam[:, None, :] + lam[:, :, None] * delta[:, None, :])
    dq_samples = dq_samples + lr**2 * delta[:, :, None] * delta[:, None, :]
    dq, dr = overlap_derivatives(q, r, t, lr, sigma)
    _assert_mc(dr_samples.reshape(len(fields), -1), dr.ravel())
    _assert_mc(dq_samples.reshape(len(fields), -1), dq.ravel())


def test_symmetric_plateau_is_a_saddle_with_one_unstable_direction() -> None:
    fixed = plateau(2, 0.5)
    q = np.array([[fixed.q_diagonal, fixed.q_offdiagonal], [fixed.q_offdiagonal, fixed.q_diagonal]])
    dq, dr = overlap_derivatives(q, np.full((2, 2), fixed.r), np.eye(2), 0.5)
    assert np.abs(dq).max() < 1e-12 and np.abs(dr).max() < 1e-12
    assert fixed.unstable_rate > 0
    assert (
        0
        < fixed.generalisation_error
        < generalisation_error(0.2 * np.eye(2), np.zeros((2, 2)), np.eye(2))
    )
    assert fixed.to_dict()["unstable_rate"] == fixed.unstable_rate


def _run(method: str, seeds: list[int], steps: int, every: int, **settings: object):
    info = get_task("committee")
    params = info.resolve({"steps": steps, "method": method, **settings})
    ctxs = [
        RunContext({**params, "seed": s}, Schedule(steps, every=every), device="cpu") for s in seeds
    ]
    info.batched(ctxs)
    return ctxs


def test_exact_symmetric_start_never_specialises_and_asymmetry_escapes_later_when_smaller() -> None:
    t = _run("ode", [0], 300_000, 5000, initial_asymmetry=0.0)[0].table()
    # symmetry is conserved: only rounding (~1e-16) breaks it, growing at most as exp(μt)
    mu = plateau(2, 0.5).unstable_rate
    eps = np.finfo(np.float64).eps
    assert np.all(np.abs(t.specialisation) <= 1e3 * eps * np.exp(mu * t.time))
    assert t.generalisation_error.iloc[-1] > 0.01  # still on the plateau at t = 600
    escape = []
    for r0 in (1e-3, 1e-4):
        t = _run("ode", [0], 300_000, 1000, initial_asymmetry=r0)[0].table()
        start = t.iloc[0]
        assert start.Q_1_1 == pytest.approx(0.2) and start.Q_1_2 == pytest.approx(0, abs=1e-12)
        assert start.R_1_1 == pytest.approx(r0) and start.R_1_2 == pytest.approx(0, abs=1e-12)
        below = t.time[(t.generalisation_error < 1e-4) & (t.time > 50)]
        escape.append(below.min())
        assert t.specialisation.iloc[-1] > 0.99  # R → a permutation matrix
    # the asymmetry grows as r0·exp(μt) on the plateau: each decade costs at least ln 10/μ
    assert escape[1] - escape[0] >= math.log(10) / plateau(2, 0.5).unstable_rate


def test_sgd_at_n500_follows_the_ode_from_the_same_start() -> None:
    seeds = list(range(6))
    sgd = _run("sgd", seeds, 12_000, 1500)
    ode = _run("ode", seeds, 12_000, 1500)
    columns = ["generalisation_error", "Q_1_1", "Q_1_2", "R_1_1", "R_2_1"]
    diffs = np.stack(
        [
            (a.table()[columns] - b.table()[columns]).to_numpy()
            for a, b in zip(sgd, ode, strict=True)
        ]
    )
    mean = diffs.mean(axis=0)[1:]  # step 0 is identical by construction
    se = diffs.std(axis=0, ddof=1)[1:] / math.sqrt(len(seeds))
    # fluctuations are O(1/√N) per run: compare the seed average with its standard error
    # (Student t, 5 degrees of freedom, two-sided p = 1e-4 per entry) plus the O(1/N)
    # finite-size bias of the drift
    threshold = stats.t.ppf(1 - 5e-5, len(seeds) - 1)
    assert np.all(np.abs(mean) <= threshold * se + 1.0 / 500)
    assert np.all(np.abs(diffs[:, 0]) < 1e-12)


def test_batched_member_equals_separate_run() -> None:
    batch = _run("sgd", [3, 4], 2000, 200, input_dim=60, lr=0.8)
    info = get_task("committee")
    ctx = RunContext(dict(batch[1].params), Schedule(2000, every=200), device="cpu")
    info.function(ctx)
    np.testing.assert_allclose(ctx.table().to_numpy(), batch[1].table().to_numpy(), rtol=1e-9)
    assert not np.allclose(batch[0].table().R_1_1, batch[1].table().R_1_1)


def test_label_noise_raises_the_error_floor() -> None:
    clean, noisy = (
        _run("ode", [0], 100_000, 10_000, initial_asymmetry=1e-2, label_noise=s)[0].table()
        for s in (0.0, 0.5)
    )
    assert noisy.generalisation_error.iloc[-1] > 10 * clean.generalisation_error.iloc[-1]
