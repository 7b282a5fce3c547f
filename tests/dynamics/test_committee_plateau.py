"""The symmetric plateau of the soft committee machine (Saad & Solla 1995), detected.

Uses the overlap ODEs of :mod:`landaulab.tasks.committee` (K = M = 2, eta = 0.5,
Q0 = 0.2 I, R0 = r0 I, T = I): the run stalls on the symmetric saddle, whose error and
unstable rate mu that module computes exactly, and leaves it after a time growing as
ln(1/r0) / mu.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

committee = pytest.importorskip("landaulab.tasks.committee")

from landaulab.dynamics import dynamics  # noqa: E402


@pytest.fixture(scope="module")
def trajectories() -> pd.DataFrame:
    times = np.linspace(0.0, 600.0, 1201)
    eye = np.eye(2)
    frames = []
    for run, r0 in enumerate([1e-4, 1e-5, 1e-6]):
        q, r = committee.integrate_overlaps(
            0.2 * eye, r0 * eye, eye, 0.5, times, rtol=1e-8, atol=1e-10
        )
        error = [
            committee.generalisation_error(0.5 * (a + a.T), b, eye)
            for a, b in zip(q, r, strict=True)
        ]
        frames.append(pd.DataFrame({"run_id": run, "time": times, "r0": r0, "error": error}))
    return pd.concat(frames, ignore_index=True)


def test_plateau_level_length_and_scaling(trajectories: pd.DataFrame) -> None:
    saddle = committee.plateau(2, 0.5)
    result = dynamics(
        trajectories, order_parameter="error", time_col="time", control="r0", n_bootstrap=40
    )
    stalls = [p for p in result.plateaus if not p.final]
    assert len(stalls) == 3
    for p in stalls:
        # the ODE passes close to (not through) the saddle: level within 1% of its error
        assert p.level == pytest.approx(saddle.generalisation_error, rel=0.01)
    # escape times 268, 343, 417 (known answers) are the ends of the plateaus
    ends = sorted(p.end for p in stalls)
    assert ends == pytest.approx([268.0, 343.0, 417.0], abs=3.0)
    scaling = result.plateau_scaling
    assert scaling is not None and scaling.reason is None
    # length ~ ln(1/r0) / mu; finite-r0 corrections keep the slope within 5% of 1/mu
    assert scaling.slope is not None
    assert scaling.slope.value == pytest.approx(1 / saddle.unstable_rate, rel=0.05)
    assert scaling.slope.value == pytest.approx(32.0, rel=0.05)
    assert any("Plateau length grows" in s for s in result.evidence)
