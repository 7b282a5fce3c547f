"""Hysteresis is judged by whether the gap between the sweeps shrinks with time, not by how
often the runs were logged.

Deep linear network with two hidden layers (Ziyin & Ueda 2022; KNOWN_ANSWERS.md): the
up-sweep in γ holds the ordered branch up to the spinodal 0.47247, the down-sweep stays
at b = 0 (a local minimum for every γ > 0), and gradient descent converges on each branch
at every value well inside the window. The gap is permanent: hysteresis at every logging
interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landaulab.analyze.api import analyze
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.deep_linear import critical_weight_decay, spinodal_weight_decay

PER_VALUE = 600
POINTS = 11


@pytest.fixture(scope="module")
def sweeps() -> dict[int, pd.DataFrame]:
    """Up and down sweeps, one run each, logged every 300 steps and every 30 steps."""
    info = get_task("deep_linear_sweep")
    steps = (POINTS + 1) * PER_VALUE
    params = info.resolve(
        {
            "depth": 2,
            "width": 2,
            "weight_decay_min": 0.05,
            "weight_decay_max": 0.6,
            "sweep_steps": POINTS,
            "steps": steps,
            "initial_steps": 3000,
        }
    )
    frames = {}
    for every in (300, 30):
        ctxs = [
            RunContext(
                {**params, "direction": d, "seed": 0}, Schedule(steps, every=every), device="cpu"
            )
            for d in ("up", "down")
        ]
        info.batched(ctxs)  # type: ignore[misc]
        parts = []
        for ctx in ctxs:
            table = ctx.table()
            table["direction"] = ctx.params["direction"]
            table["run_id"] = ctx.params["direction"]
            parts.append(table)
        frames[every] = pd.concat(parts, ignore_index=True)
    return frames


@pytest.mark.parametrize("every", [300, 30])
def test_a_gap_that_does_not_close_is_hysteresis_at_any_logging(sweeps, every: int) -> None:
    frame = sweeps[every]
    result = analyze(
        frame,
        order_parameter="end_to_end",
        control="weight_decay",
        direction_col="direction",
        n_bootstrap=100,
    )
    hysteresis = result.hysteresis
    assert hysteresis is not None
    assert hysteresis.verdict == "hysteresis", hysteresis.sentence
    assert "critical slowing down" not in hysteresis.sentence
    low, high = hysteresis.window
    # the window lies between the smallest swept γ and the spinodal; it covers γ_c
    assert 0.05 <= low <= critical_weight_decay(1.0, 2) <= high <= spinodal_weight_decay(1.0, 2)
    if hysteresis.late_to_early is not None and np.isfinite(hysteresis.late_to_early[0]):
        assert hysteresis.late_to_early[2] >= 0.9  # the interval does not say it shrinks
