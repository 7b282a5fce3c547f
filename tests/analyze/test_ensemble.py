"""Ensemble moments and bootstrap errors against exact Curie–Weiss answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import t as t_distribution

from landaulab.analyze.bootstrap import percentile_interval, resample_units
from landaulab.analyze.ensemble import build_ensemble, ensemble_table
from landaulab.analyze.frame import ColumnSpec, prepare
from landaulab.datasets.curie_weiss import exact_moments

from .conftest import allowed_failures


def test_table_matches_exact_moments_within_bootstrap_errors(curie_weiss_frame):
    prepared = prepare(curie_weiss_frame, ColumnSpec("m", "temperature", "N"), use_abs=True)
    table = ensemble_table(build_ensemble(prepared, 200, 0))
    z = []
    for row in table.itertuples():
        exact = exact_moments(int(row.size), row.control)
        z.append((row.mean - exact["mean_abs"]) / row.mean_stderr)
        z.append((row.susceptibility - exact["susceptibility_abs"]) / row.susceptibility_stderr)
        z.append((row.binder - exact["binder"]) / row.binder_stderr)
    z = np.abs(np.array(z))
    # errors estimated from 20 runs: z follows Student's t with 19 degrees of freedom
    misses = int(np.sum(z > t_distribution.ppf(0.975, 19)))
    # mean, χ and U of one group share data, so count groups rather than quantities
    assert misses <= 3 * allowed_failures(len(z) // 3)


def test_bootstrap_standard_error_of_a_mean_matches_the_formula():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "run_id": np.repeat(np.arange(50), 20),
            "step": np.tile(np.arange(20), 50),
            "T": 1.0,
            "m": rng.normal(size=1000),
        }
    )
    prepared = prepare(frame, ColumnSpec("m", "T"), burn_in=0.0)
    table = ensemble_table(build_ensemble(prepared, 2000, 0))
    se = float(table["mean_stderr"].iloc[0])
    expected = frame["m"].std() / np.sqrt(1000)
    # the bootstrap SE of a mean has relative error ~1/sqrt(2·50) from the 50 runs
    assert abs(se / expected - 1) < 3 / np.sqrt(2 * 50)


def test_few_runs_are_resampled_by_blocks():
    frame = pd.DataFrame({"run_id": 0, "step": np.arange(100), "T": 1.0, "m": np.arange(100.0)})
    ensemble = build_ensemble(prepare(frame, ColumnSpec("m", "T"), burn_in=0.0), 50, 0)
    assert ensemble.blocked
    assert ensemble.group_units[0] == 8


def test_resampling_weights_preserve_group_sizes_and_are_seeded():
    groups = np.array([0, 0, 0, 1, 1])
    a = resample_units(groups, 2, 100, np.random.default_rng(3))
    b = resample_units(groups, 2, 100, np.random.default_rng(3))
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.weights[:, :3].sum(axis=1), 3)
    np.testing.assert_array_equal(a.weights[:, 3:].sum(axis=1), 2)


def test_percentile_interval_ignores_non_finite_replicates():
    values = np.r_[np.linspace(0, 1, 101), [np.nan, np.inf]]
    lo, hi = percentile_interval(values)
    assert 0.02 < lo < 0.03 and 0.97 < hi < 0.98
    lo, hi = percentile_interval(np.full(10, np.nan))
    assert np.isnan(lo) and np.isnan(hi)
