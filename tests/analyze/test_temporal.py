"""Transitions in time: logistic jumps per run and stages of a staircase."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landaulab.analyze.frame import ColumnSpec, prepare
from landaulab.analyze.temporal import detect_stages, fit_sigmoids, transitions_in_time


def _jumps(midpoints, width=40.0, noise=0.02, steps=400, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(steps, dtype=float)
    rows = []
    for run, mid in enumerate(midpoints):
        scale = width / (2 * np.log(9.0))
        m = 0.1 + 0.8 / (1 + np.exp(-(t - mid) / scale)) + noise * rng.normal(size=steps)
        rows.append(pd.DataFrame({"run_id": run, "step": t, "T": 1.0, "m": m}))
    return pd.concat(rows, ignore_index=True)


def test_logistic_fits_recover_midpoint_width_and_levels():
    midpoints = [100.0, 180.0, 260.0]
    frame = _jumps(midpoints)
    result = transitions_in_time(prepare(frame, ColumnSpec("m", "T")))
    runs = result.runs
    assert runs["has_jump"].all()
    np.testing.assert_allclose(runs["midpoint"], midpoints, atol=3.0)
    np.testing.assert_allclose(runs["width"], 40.0, rtol=0.15)
    np.testing.assert_allclose(runs["onset"], np.array(midpoints) - 20.0, atol=5.0)
    np.testing.assert_allclose(runs["before"], 0.1, atol=0.01)
    np.testing.assert_allclose(runs["after"], 0.9, atol=0.01)
    assert "jumps in time in 3 of 3 runs" in result.sentence()


def test_stationary_noise_has_no_jumps():
    rng = np.random.default_rng(1)
    times = np.tile(np.arange(200.0), (300, 1))
    fits = fit_sigmoids(times, rng.normal(size=times.shape))
    assert fits.has_jump.mean() < 0.01


def test_padding_and_short_runs_are_handled():
    times = np.array([[0, 1, 2, 3, np.nan], [0, 1, 2, 3, 4]], dtype=float)
    values = np.array([[0, 0, 1, 1, np.nan], [0, 0, 0, 1, 1]], dtype=float)
    fits = fit_sigmoids(times, values)
    assert not fits.has_jump.any()  # fewer than 8 points
    assert np.isnan(fits.before).all()


def test_staircase_stages_are_found():
    t = np.arange(300.0)
    rng = np.random.default_rng(2)
    m = np.where(t < 100, 0.0, np.where(t < 200, 1.0, 2.0)) + 0.05 * rng.normal(size=t.size)
    breaks = detect_stages(t, m)
    assert len(breaks) == 2
    assert breaks == pytest.approx([100.0, 200.0], abs=3)
    assert detect_stages(t, 0.05 * rng.normal(size=t.size)) == []


def test_groups_summarise_runs_and_stages_use_the_median_trajectory():
    frame = _jumps([150.0, 150.0, 150.0, 150.0], noise=0.01)
    result = transitions_in_time(prepare(frame, ColumnSpec("m", "T")))
    group = result.groups.iloc[0]
    assert group["jump_fraction"] == 1.0
    assert group["median_midpoint"] == pytest.approx(150.0, abs=3)
    assert len(group["stages"]) >= 1


def test_fits_in_blocks_equal_one_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs are independent fits: fitting them a block at a time (what bounds the memory
    of 10⁵ runs) gives exactly the fits of one batch."""
    import landaulab.analyze.temporal as temporal

    rng = np.random.default_rng(0)
    times = np.tile(np.arange(100.0), (300, 1))
    centres = rng.uniform(20, 80, (300, 1))
    values = 1 / (1 + np.exp(-(times - centres) / 3)) + 0.05 * rng.standard_normal(times.shape)
    values[::7, 60:] = np.nan  # ragged runs
    whole = fit_sigmoids(times, values)
    monkeypatch.setattr(temporal, "_BLOCK_CELLS", 3_000)  # blocks of 30 runs
    blocked = fit_sigmoids(times, values)
    for name in ("before", "after", "midpoint", "width", "residual", "has_jump"):
        np.testing.assert_array_equal(getattr(blocked, name), getattr(whole, name))
    assert whole.has_jump.mean() > 0.9
