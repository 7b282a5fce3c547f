"""Early-warning indicators: rolling variance and lag-1 autocorrelation with Kendall trends."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import gaussian_filter1d

from landaulab.datasets.langevin import LandauQuartic, ornstein_uhlenbeck, simulate_langevin
from landaulab.dynamics import early_warning, rolling_indicators, summarize_early_warning


def test_rolling_indicators_equal_the_pandas_definitions() -> None:
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.standard_normal(300)) * 0.1 + rng.standard_normal(300)
    variance, autocorrelation = rolling_indicators(x, window=0.25, bandwidth=0.2)
    resid = pd.Series(x - gaussian_filter1d(x, 0.2 * 300, mode="reflect"))
    w = int(0.25 * 300)
    np.testing.assert_allclose(variance, resid.rolling(w).var().to_numpy(), rtol=1e-8, atol=1e-12)
    expected = resid.rolling(w).apply(lambda s: s.autocorr(lag=1), raw=False).to_numpy()
    np.testing.assert_allclose(autocorrelation, expected, rtol=1e-6, atol=1e-9)


def test_approaching_a_bifurcation_raises_both_indicators() -> None:
    # the Landau quartic with T ramped from 1.5 down to Tc = 0: the restoring rate a(T - Tc)
    # falls, so variance D / (a (T - Tc)) and memory exp(-a (T - Tc) dt) both grow
    df = simulate_langevin(
        LandauQuartic(), control=1.5, control_ramp_to=0.05, runs_per_control=20,
        n_steps=20_000, dt=0.01, diffusion=0.01, record_every=20, seed=3,
    )  # fmt: skip
    results = [
        early_warning(g["time"].to_numpy(), g["m"].to_numpy(), run=r)
        for r, g in df.groupby("run_id")
    ]
    summary = summarize_early_warning(results)
    assert summary.n_runs == 20
    assert summary.variance_rising >= 17 and summary.variance_p < 0.01
    assert summary.autocorrelation_rising >= 15 and summary.autocorrelation_p < 0.01


def test_a_stationary_process_gives_no_signal() -> None:
    df = ornstein_uhlenbeck(relaxation_time=2.0, runs_per_control=40, n_steps=1000, dt=0.2, seed=9)
    results = [
        early_warning(g["time"].to_numpy(), g["m"].to_numpy(), run=r)
        for r, g in df.groupby("run_id")
    ]
    summary = summarize_early_warning(results)
    # under the null the sign of each run's trend is a fair coin: the one-sided sign test
    # has a uniform p-value; P(p < 0.01) = 1%
    assert summary.variance_p > 0.01 and summary.autocorrelation_p > 0.01
    assert summary.variance_mean is not None and abs(summary.variance_mean.value) < 0.3


def test_too_few_samples_before_the_transition() -> None:
    t = np.arange(100.0)
    result = early_warning(t, np.sin(t), until=10.0)
    assert result.reason is not None and "samples before the transition" in result.reason
    assert result.to_dict()["variance_kendall_tau"] is None


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=0, max_size=80))
def test_indicators_never_crash_on_arbitrary_series(values: list[float]) -> None:
    x = np.asarray(values, dtype=float)
    result = early_warning(np.arange(x.size, dtype=float), x)
    payload = result.to_dict()
    for key in ("variance_kendall_tau", "autocorrelation_kendall_tau"):
        assert payload[key] is None or -1.0 <= payload[key] <= 1.0
