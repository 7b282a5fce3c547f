"""Phase classification and order-parameter ranking on curves with planted answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landaulab.errors import DataError
from landaulab.study.phases import (
    classify_phases,
    first_crossing,
    late_values,
    rank_order_parameters,
)


def _sigmoid_run(run_id: str, t_train: float | None, t_test: float | None) -> pd.DataFrame:
    steps = np.arange(0, 2001, 10)

    def curve(t: float | None) -> np.ndarray:
        if t is None:
            return np.full(steps.shape, 0.05)
        return 1.0 / (1.0 + np.exp(-(steps - t) / 20.0))

    return pd.DataFrame(
        {
            "run_id": run_id,
            "step": steps,
            "train_accuracy": curve(t_train),
            "test_accuracy": curve(t_test),
        }
    )


def test_planted_phases_are_recovered() -> None:
    frame = pd.concat(
        [
            _sigmoid_run("comprehension", 200, 260),
            _sigmoid_run("grokking", 200, 1200),
            _sigmoid_run("memorisation", 200, None),
            _sigmoid_run("confusion", None, None),
        ]
    ).sample(frac=1.0, random_state=0)  # order of rows must not matter
    phases = classify_phases(frame).set_index("run_id")
    for run_id in phases.index:
        assert phases.loc[run_id, "phase"] == run_id
    # a sigmoid centred at t with width 20 crosses 0.9 at t + 20·ln 9 ≈ t + 43.9
    expected = 1200 + 20 * np.log(9)
    assert phases.loc["grokking", "generalisation_step"] == pytest.approx(expected, abs=10)
    assert np.isnan(phases.loc["memorisation", "generalisation_step"])


def test_missing_column_is_a_data_error() -> None:
    with pytest.raises(DataError, match="test_accuracy"):
        classify_phases(pd.DataFrame({"run_id": ["a"], "step": [0], "train_accuracy": [1.0]}))


def test_first_crossing_is_nan_when_never_reached() -> None:
    frame = pd.DataFrame({"run_id": ["a", "a", "b"], "step": [0, 1, 0], "x": [0.1, 0.2, 0.9]})
    out = first_crossing(frame, "x", 0.5)
    assert np.isnan(out["a"]) and out["b"] == 0


def test_sharp_observable_outranks_smooth_one() -> None:
    rng = np.random.default_rng(0)
    rows = []
    controls = np.linspace(0.0, 1.0, 11)
    for other in (0.0, 1.0):
        for c in controls:
            for _seed in range(4):
                rows.append(
                    {
                        "control": c,
                        "other": other,
                        "step_like": float(c > 0.55) + 0.01 * rng.normal(),
                        "linear": c + 0.01 * rng.normal(),
                        "constant": 1.0,
                    }
                )
    final = pd.DataFrame(rows)
    ranked = rank_order_parameters(
        final, ["linear", "step_like", "constant", "absent"], "control", others=["other"]
    )
    assert [s.observable for s in ranked] == ["step_like", "linear"]
    assert ranked[0].sharpness > 0.9
    assert ranked[1].sharpness < 0.3  # linear change: each step is ~1/10 of the total
    assert ranked[0].location == pytest.approx(0.55)
    assert ranked[0].contrast > 10


def test_late_values_average_the_last_part_of_each_run() -> None:
    frame = pd.DataFrame(
        {
            "run_id": ["a"] * 4 + ["b"] * 2,
            "step": [3, 0, 1, 2, 0, 1],
            "m": [4.0, 1.0, 2.0, 3.0, 10.0, 20.0],
        }
    )
    late = late_values(frame, ["m", "missing"], burn_in=0.5)
    assert late.loc["a", "m"] == pytest.approx(3.5)
    assert late.loc["b", "m"] == pytest.approx(20.0)


def test_a_sharp_jump_within_the_noise_ranks_below_a_significant_one() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for c in np.linspace(0.0, 1.0, 6):
        for _seed in range(3):
            rows.append(
                {
                    "control": c,
                    # a single jump of 1 hidden in noise of standard deviation 5
                    "noisy_jump": float(c > 0.5) + 5.0 * rng.normal(),
                    "clean_ramp": c + 0.01 * rng.normal(),
                }
            )
    ranked = rank_order_parameters(pd.DataFrame(rows), ["noisy_jump", "clean_ramp"], "control")
    assert ranked[0].observable == "clean_ramp"
    assert ranked[1].contrast < 3.0
