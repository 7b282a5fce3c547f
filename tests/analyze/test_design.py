"""Irregular and continuous control designs: recognised, binned, and located correctly.

The planted model is the one of a random-search sweep: every run at its own temperature,
m = max(1 − T, 0) plus white noise per step (second order, T_c = 1, β = 1). Single-seed
checks would depend on the seed; instead each design is analysed over several seeds and the
95 % intervals may miss the truth only as often as a binomial bound allows
(:func:`~tests.analyze.conftest.allowed_failures`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from landaulab.analyze import AnalysisResult, analyze
from landaulab.analyze import frame as frame_module
from landaulab.analyze.bootstrap import MIN_UNITS, TARGET_UNITS
from landaulab.analyze.design import GRID, adjust_within_bins, design_controls
from landaulab.analyze.frame import ColumnSpec, prepare
from landaulab.design import MAX_BINS, MIN_BINS, bin_controls, bin_count

from .conftest import allowed_failures

NOISE = 0.02
STEPS = 50
SEEDS = 10


def planted(temperatures: np.ndarray, seed: int, sizes: np.ndarray | None = None) -> pd.DataFrame:
    """One run per entry of ``temperatures``: m = max(1 − T, 0) + noise at every step."""
    rng = np.random.default_rng(seed)
    t = np.asarray(temperatures, dtype=float)
    n = t.size
    m = np.repeat(np.maximum(1.0 - t, 0.0), STEPS) + NOISE * rng.standard_normal(n * STEPS)
    frame = pd.DataFrame(
        {
            "run_id": np.repeat([f"run-{i:05d}" for i in range(n)], STEPS),
            "step": np.tile(np.arange(STEPS), n),
            "temperature": np.repeat(t, STEPS),
            "m": m,
        }
    )
    if sizes is not None:
        frame["N"] = np.repeat(np.asarray(sizes, dtype=float), STEPS)
    return frame


def random_search(rng: np.random.Generator) -> np.ndarray:
    """300 runs, each at its own temperature, uniform in [0.5, 1.5]."""
    return rng.uniform(0.5, 1.5, 300)


def refinement(rng: np.random.Generator) -> np.ndarray:
    """Three rounds of two seeds, each round ten times denser around T_c = 1."""
    del rng
    return np.r_[
        np.repeat(np.linspace(0.5, 1.5, 11), 2),
        np.repeat(np.linspace(0.9, 1.1, 21), 2),
        np.repeat(np.linspace(0.97, 1.03, 41), 2),
    ]


def sparse_grid(rng: np.random.Generator) -> np.ndarray:
    """100 evenly spaced temperatures with one to three seeds each."""
    return np.repeat(np.linspace(0.5, 1.5, 100), rng.integers(1, 4, 100))


def analyse(frame: pd.DataFrame, seed: int, **kwargs) -> AnalysisResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        options = {"n_bootstrap": 200, **kwargs}
        return analyze(frame, order_parameter="m", control="temperature", seed=seed, **options)


# ------------------------------------------------------------------------- the rule
def test_a_grid_with_enough_seeds_is_a_grid() -> None:
    controls = np.repeat(np.linspace(0.5, 1.5, 20), MIN_UNITS)
    binning = bin_controls(controls, min_per_value=MIN_UNITS, per_bin=TARGET_UNITS)
    assert binning.kind == "grid"
    np.testing.assert_array_equal(binning.control, np.unique(controls))
    np.testing.assert_array_equal(binning.control[binning.label], controls)


def test_a_few_lone_values_are_kept_as_they_are() -> None:
    """Twenty values of one run each: binning would leave fewer than MIN_BINS points."""
    controls = np.linspace(0.5, 1.5, 20)
    assert bin_count(controls.size, TARGET_UNITS) < MIN_BINS
    assert bin_controls(controls, min_per_value=MIN_UNITS, per_bin=TARGET_UNITS).kind == "grid"


@pytest.mark.parametrize("n", [64, 300, 2000, 40_000])
def test_random_controls_give_equal_count_bins_growing_like_sqrt_n(n: int) -> None:
    controls = np.random.default_rng(n).uniform(0.5, 1.5, n)
    binning = bin_controls(controls, min_per_value=MIN_UNITS, per_bin=TARGET_UNITS)
    assert binning.kind == "irregular"
    expected = min(round(np.sqrt(n)), n // TARGET_UNITS, MAX_BINS)
    assert binning.n_groups == expected
    assert binning.count.sum() == n
    assert binning.count.max() - binning.count.min() <= 1  # equal counts
    assert binning.count.min() >= TARGET_UNITS
    # bins are contiguous in control order and the bin control is the mean of its runs
    assert np.all(binning.high[:-1] < binning.low[1:])
    for j in range(binning.n_groups):
        inside = controls[binning.label == j]
        assert inside.min() == binning.low[j] and inside.max() == binning.high[j]
        assert binning.control[j] == pytest.approx(inside.mean())


def test_equal_values_stay_in_one_bin() -> None:
    controls = sparse_grid(np.random.default_rng(3))
    binning = bin_controls(controls, min_per_value=MIN_UNITS, per_bin=TARGET_UNITS)
    assert binning.kind == "irregular"
    for value in np.unique(controls):
        assert np.unique(binning.label[controls == value]).size == 1


def test_no_bin_spans_a_deliberately_sparse_region() -> None:
    """The coarse rounds of a refinement keep their values apart; the dense round is
    binned."""
    controls = refinement(np.random.default_rng(0))
    binning = bin_controls(controls, min_per_value=MIN_UNITS, per_bin=TARGET_UNITS)
    assert binning.kind == "irregular"
    coarse = [0.5, 0.6, 0.7, 0.8, 1.2, 1.3, 1.4, 1.5]
    for value in coarse:
        j = binning.label[np.isclose(controls, value)][0]
        assert binning.low[j] == binning.high[j] == pytest.approx(value)
    dense = (controls > 0.9) & (controls < 1.1)
    assert np.unique(binning.label[dense]).size < np.unique(controls[dense]).size


# ------------------------------------------------------------------- prepare's hook
def test_sizes_are_never_merged_and_the_bins_are_reported() -> None:
    rng = np.random.default_rng(1)
    t = rng.uniform(0.5, 1.5, 400)
    sizes = np.repeat([16.0, 64.0], 200)
    prepared = prepare(
        planted(t, 1, sizes), ColumnSpec(order_parameter="m", control="temperature", size="N")
    )
    design = prepared.design.to_dict()
    assert design["kind"] == "irregular"
    assert {b["size"] for b in design["bins"]} == {16.0, 64.0}
    for size in (16.0, 64.0):
        bins = [b for b in design["bins"] if b["size"] == size]
        assert sum(b["n_runs"] for b in bins) == 200
        controls = prepared.to_control(prepared.segment_control[prepared.segment_size == size])
        assert sorted(set(np.round(controls, 12))) == pytest.approx(
            sorted(b["control"] for b in bins)
        )
    assert any("Irregular control design" in note for note in prepared.notes)


def test_the_adjustment_moves_samples_along_the_slope_of_each_bin() -> None:
    """m = 2·T exactly: after the adjustment every sample of a bin sits at 2·T_bin."""
    t = np.random.default_rng(2).uniform(0.0, 1.0, 200)
    frame = pd.DataFrame(
        {
            "run_id": np.repeat(np.arange(200), 4),
            "step": np.tile(np.arange(4), 200),
            "T": np.repeat(t, 4),
            "m": np.repeat(2 * t, 4),
        }
    )
    prepared = prepare(frame, ColumnSpec(order_parameter="m", control="T"), burn_in=0.0)
    bin_t = prepared.to_control(prepared.segment_control)[prepared.row_segment]
    np.testing.assert_allclose(prepared.row_value * prepared.scale, 2 * bin_t, atol=1e-12)


def test_a_grid_is_left_exactly_as_it_is() -> None:
    controls = np.repeat(np.linspace(-1.0, 1.0, 11), 5)
    same, design = design_controls(controls, np.ones(controls.size), lambda t: t)
    assert same is controls and design is GRID
    values = np.arange(5.0)
    kept = np.ones(5, dtype=bool)
    assert adjust_within_bins(GRID, values, np.zeros(5, int), kept, controls, controls) is values


def test_grid_results_are_bit_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    """A grid of hundreds of seeds: the analysis with the design step equals the one
    without it."""
    frame = planted(np.repeat(np.linspace(0.5, 1.5, 11), 100), seed=5)
    with_design = analyse(frame, seed=0, n_bootstrap=100).to_dict()
    monkeypatch.setattr(frame_module, "design_controls", lambda c, s, f: (c, GRID))
    without = analyse(frame, seed=0, n_bootstrap=100).to_dict()
    assert with_design["inputs"]["design"]["kind"] == "grid"
    assert "bins" not in with_design["inputs"]["design"]
    assert with_design == without


# --------------------------------------------------------------- planted answers
@pytest.mark.parametrize(
    "design", [random_search, refinement, sparse_grid], ids=lambda f: f.__name__
)
def test_irregular_designs_find_the_planted_transition(design) -> None:
    """Second order, and the 95 % interval of T_c covers T_c = 1 in all but a binomially
    allowed number of seeds."""
    misses = wrong_order = 0
    for seed in range(SEEDS):
        rng = np.random.default_rng(100 + seed)
        result = analyse(planted(design(rng), seed=100 + seed), seed=seed)
        assert result.inputs["design"]["kind"] == "irregular"
        cp = result.critical_point
        misses += not (cp is not None and cp.ci is not None and cp.ci[0] <= 1.0 <= cp.ci[1])
        wrong_order += result.order != "second"
    assert misses <= allowed_failures(SEEDS)
    assert wrong_order <= allowed_failures(SEEDS)


def test_the_result_round_trips_with_its_design() -> None:
    result = analyse(planted(random_search(np.random.default_rng(7)), seed=7), seed=0)
    back = AnalysisResult.from_dict(result.to_dict())
    assert back.to_dict() == result.to_dict()
    design = back.inputs["design"]
    assert design["kind"] == "irregular" and design["rule"]
    assert {"low", "high", "control", "n_runs", "size"} <= set(design["bins"][0])
    assert any(s.startswith("Irregular control design") for s in result.evidence)
    # every bin holds enough runs to resample runs, never blocks of steps
    assert not any("blocks of steps" in s for s in result.evidence)
    assert min(b["n_runs"] for b in design["bins"]) >= TARGET_UNITS


def test_a_size_column_in_a_random_design_is_not_pooled_unseen() -> None:
    """Every run at its own temperature, and a size column nobody named: grouping by
    exact control values would never see L vary (one run per value); the design's bins
    do. A column that follows the control (β = 1/T) still does not count."""
    from landaulab.analyze.roles import varying_within

    rng = np.random.default_rng(5)
    t = rng.uniform(0.5, 1.5, 400)
    frame = planted(t, seed=5)
    per_run = frame.groupby("run_id", sort=True).ngroup().to_numpy()
    sizes = rng.choice([8.0, 16.0], t.size)
    frame["L"] = sizes[per_run]
    frame["beta"] = 1.0 / frame["temperature"]
    assert varying_within(frame, ["L", "beta"], ("temperature", None)) == ["L"]
    # on a grid the exact values group the runs, as before
    grid = planted(np.repeat(np.linspace(0.5, 1.5, 10), 8), seed=6)
    grid_runs = grid.groupby("run_id", sort=True).ngroup().to_numpy()
    grid["L"] = np.tile([8.0, 16.0], 40)[grid_runs]
    grid["double"] = 2.0 * grid["temperature"]
    assert varying_within(grid, ["L", "double"], ("temperature", None)) == ["L"]
    from landaulab.api import SliceWarning
    from landaulab.api import analyze as analyze_source

    with pytest.warns(SliceWarning, match="uses the runs at L = "):
        analyze_source(frame, order_parameter="m", control="temperature", n_bootstrap=50)
