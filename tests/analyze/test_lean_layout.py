"""The memory-lean paths of the layout and of the steps that read every row give the
same numbers as the plain computations they replace (structural checks, no memory
measured)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landaulab.analyze import curves, distribution
from landaulab.analyze.ensemble import build_ensemble
from landaulab.analyze.frame import ColumnSpec, _one_value_per_run, _segment_codes, prepare
from landaulab.analyze.roles import _numeric_distinct
from landaulab.datasets import curie_weiss

LAYOUT = (
    "row_segment",
    "row_step",
    "row_value",
    "row_energy",
    "row_kept",
    "segment_run",
    "segment_control",
    "segment_size",
    "segment_volume",
    "segment_direction",
)


def _same_layout(left: object, right: object) -> None:
    for name in LAYOUT:
        a, b = getattr(left, name), getattr(right, name)
        if a is None or b is None:
            assert a is None and b is None, name
            continue
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    for name in ("scale", "control_offset", "control_scale", "volume_scale", "notes"):
        assert getattr(left, name) == getattr(right, name), name


def _runs(seed: int = 0) -> pd.DataFrame:
    frame = curie_weiss(np.linspace(0.8, 1.2, 5), [50, 100], n_runs=4, n_steps=30, seed=seed)
    frame["E"] = -(frame["m"] ** 2)
    frame["step"] = frame["step"].astype(np.int64)
    frame["N"] = frame["N"].astype(np.int64)
    return frame


COLUMNS = ColumnSpec(order_parameter="m", control="temperature", size="N", energy="E")


def _as_float(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(step=frame["step"].astype(float), N=frame["N"].astype(float))


@pytest.mark.parametrize("order", ["sorted", "blocks", "shuffled"])
def test_integer_step_and_size_columns_lay_out_as_their_floats(order: str) -> None:
    """Integer columns are kept as integers until copied into the layout: the layout is
    that of the same columns as floats, rows in any order."""
    frame = _runs()
    if order == "blocks":
        runs = frame["run_id"].unique()[::-1]
        frame = pd.concat([frame[frame["run_id"] == r] for r in runs], ignore_index=True)
    elif order == "shuffled":
        frame = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    _same_layout(prepare(frame, COLUMNS), prepare(_as_float(frame), COLUMNS))


def test_release_empties_the_frame_and_changes_nothing() -> None:
    frame = _runs()
    kept = prepare(frame, COLUMNS)
    assert list(frame.columns) == list(_runs().columns)  # the default leaves it alone
    released = prepare(frame, COLUMNS, release=True)
    assert len(frame.columns) == 0
    _same_layout(released, kept)


@pytest.mark.parametrize("holes", [0.0, 0.3])
def test_runs_of_one_value_are_coded_as_by_the_full_key(holes: float) -> None:
    """Runs holding one control and size each are coded by their run codes made dense,
    which are the codes of the (run, control, size) key; a run sweeping the control is
    not taken for one."""
    rng = np.random.default_rng(3)
    n_rows = 400
    run = np.sort(rng.integers(0, 40, n_rows))
    present = np.unique(run[rng.random(n_rows) >= holes])
    run = run[np.isin(run, present)]  # gaps in the codes where runs vanished
    control = rng.choice([0.5, 1.0, -0.0, 0.0], 40)[run]
    size = rng.choice([8, 16], 40)[run]
    n_runs = int(run.max()) + 1
    assert _one_value_per_run(run, n_runs, [control, size])
    full = _segment_codes(run, n_runs, control, size.astype(float), None)
    dense = np.searchsorted(np.unique(run), run)
    np.testing.assert_array_equal(full, dense)
    swept = control.copy()
    swept[np.flatnonzero(run[1:] == run[:-1])[0]] = 3.0  # one row of a run of several
    assert not _one_value_per_run(run, n_runs, [swept, size])


def test_a_run_sweeping_the_control_keeps_its_segments() -> None:
    frame = _runs()
    first = frame["run_id"] == frame["run_id"].iloc[0]
    late = first & (frame["step"] >= 15)
    frame.loc[late, "temperature"] = 1.3
    prepared = prepare(frame, COLUMNS)
    assert prepared.n_segments == frame["run_id"].nunique() + 1
    _same_layout(prepared, prepare(_as_float(frame), COLUMNS))


def _symmetric_reference(values: np.ndarray, use_abs: bool) -> bool:
    if use_abs:
        return True
    magnitude = np.abs(values)
    big = magnitude > 0.25 * magnitude.max() if magnitude.size else magnitude.astype(bool)
    if big.sum() < 10:
        return False
    negative = float(np.mean(values[big] < 0))
    return 0.3 <= negative <= 0.7


@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_symmetry_in_blocks_is_the_one_pass_rule(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distribution, "SYMMETRY_CHUNK", chunk)
    rng = np.random.default_rng(0)
    for trial in range(60):
        n = int(rng.integers(0, 60))
        values = rng.normal(rng.uniform(-1, 1), 1.0, n)
        if trial % 5 == 1 and n:
            values[rng.integers(0, n)] = np.nan
        if trial % 5 == 2 and n:
            values[rng.integers(0, n)] = -np.inf
        for use_abs in (False, True):
            assert distribution.is_symmetric(values, use_abs) == _symmetric_reference(
                values, use_abs
            )
        finite = values[np.isfinite(values)]
        assert distribution.is_symmetric(values, False, finite_only=True) == _symmetric_reference(
            finite, False
        )


def test_distinct_values_of_integer_columns_are_those_of_their_floats() -> None:
    frame = pd.DataFrame(
        {
            "i": np.array([3, 1, 3, 2**40, 1], dtype=np.int64),
            "u": np.array([1, 1, 2, 2, 9], dtype=np.uint8),
            "b": [True, False, True, True, True],
        }
    )
    for column in frame.columns:
        as_float = pd.to_numeric(frame[column]).to_numpy(dtype=float)
        assert _numeric_distinct(frame, column) == np.unique(as_float).size


def _settled_reference(prepared: object, ensemble: object) -> np.ndarray:
    """The per-row computation :func:`curves.settled` replaced."""
    kept = np.flatnonzero(prepared.row_kept)
    segment = prepared.row_segment[kept]
    starts = np.r_[0, np.flatnonzero(np.diff(segment)) + 1]
    counts = np.diff(np.r_[starts, segment.size])
    rank = np.arange(segment.size) - np.repeat(starts, counts)
    late = rank >= np.repeat(counts, counts) / 2.0
    values = ensemble.row_value
    unit, n_units = ensemble.row_unit, int(ensemble.row_unit.max()) + 1
    with np.errstate(all="ignore"):
        late_mean = np.bincount(unit, np.where(late, values, 0.0), n_units) / np.bincount(
            unit, late.astype(float), n_units
        )
        early_mean = np.bincount(unit, np.where(late, 0.0, values), n_units) / np.bincount(
            unit, (~late).astype(float), n_units
        )
        drift = late_mean - early_mean
        ok = np.isfinite(drift)
        unit_group = np.zeros(n_units, dtype=np.int64)
        unit_group[unit] = ensemble.row_group
        n = np.bincount(unit_group[ok], minlength=ensemble.n_groups).astype(float)
        mean = np.bincount(unit_group[ok], drift[ok], ensemble.n_groups) / n
        square = np.bincount(unit_group[ok], drift[ok] ** 2, ensemble.n_groups) / n
        se = np.sqrt(np.maximum(square - mean**2, 0.0) * n / (n - 1) / n)
        relative = np.abs(mean) > 0.01 * np.abs(ensemble.full.mean())
        significant = np.where(n >= 2, np.abs(mean) > 3.0 * se, True)
    return ~(relative & significant)


@pytest.mark.parametrize("n_runs", [1, 2, 6])
@pytest.mark.parametrize("chunk", [5, 64, 1 << 20])
def test_settled_in_blocks_of_segments_is_the_one_pass_rule(
    n_runs: int, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drifting and settled groups, whole runs or blocks of steps as units (fewer than
    four runs), blocks of rows smaller and larger than a segment."""
    monkeypatch.setattr(curves, "CHUNK", chunk)
    frame = curie_weiss(np.linspace(0.8, 1.2, 5), [50, 100], n_runs=n_runs, n_steps=37, seed=5)
    frame["m"] += np.where(frame["temperature"] < 1.0, 0.02 * frame["step"], 0.0)
    prepared = prepare(frame, COLUMNS.__class__("m", "temperature", size="N"), burn_in=0.3)
    ensemble = build_ensemble(prepared, 20, 0)
    np.testing.assert_array_equal(
        curves.settled(prepared, ensemble), _settled_reference(prepared, ensemble)
    )


@pytest.mark.parametrize("chunk", [3, 1 << 20])
@pytest.mark.parametrize("symmetric", [False, True])
def test_histograms_in_blocks_are_those_of_one_pass(
    chunk: int, symmetric: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group ranges by unbuffered reductions and the bins a block at a time give the
    histograms of a pandas group-by and one pass over the samples."""
    frame = curie_weiss(np.linspace(0.8, 1.2, 5), [50, 100], n_runs=3, n_steps=40, seed=7)
    prepared = prepare(frame, ColumnSpec("m", "temperature", size="N"))
    ensemble = build_ensemble(prepared, 20, 0)
    monkeypatch.setattr(distribution, "BIN_CHUNK", chunk)
    histograms = distribution.build_histograms(ensemble, symmetric)
    values, group = ensemble.row_value, ensemble.row_group
    stats = pd.DataFrame({"g": group, "v": values}).groupby("g")["v"].agg(["min", "max"])
    low, high = distribution._group_range(values, group, ensemble.n_groups)
    np.testing.assert_array_equal(low, stats["min"].to_numpy())
    np.testing.assert_array_equal(high, stats["max"].to_numpy())
    n_bins = histograms.full.shape[1]
    position = values - histograms.lower[group]
    position /= histograms.width[group]
    bins = np.clip(np.floor(position), 0, n_bins - 1).astype(np.int64)
    n_units = ensemble.resampling.unit_group.size
    unit_counts = np.bincount(ensemble.row_unit * n_bins + bins, minlength=n_units * n_bins)
    full = np.bincount(group * n_bins + bins, minlength=ensemble.n_groups * n_bins)
    np.testing.assert_array_equal(histograms.unit_counts.ravel(), unit_counts)
    np.testing.assert_array_equal(histograms.full.ravel(), full)


def test_group_range_ignores_nan_and_marks_empty_groups() -> None:
    values = np.array([1.0, np.nan, -2.0, np.nan, np.inf])
    group = np.array([0, 0, 0, 1, 2])
    low, high = distribution._group_range(values, group, 4)
    np.testing.assert_array_equal(low, [-2.0, np.nan, np.inf, np.nan])
    np.testing.assert_array_equal(high, [1.0, np.nan, np.inf, np.nan])


@pytest.mark.parametrize("n_rows", [0, 1, 13])
def test_profiled_fits_in_blocks_of_rows_are_those_of_one_call(
    n_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from landaulab.analyze.locators import vanishing_point

    rng = np.random.default_rng(4)
    ts = np.linspace(-1.0, -0.1, 9)
    y = np.log(-ts)[None, :] + 0.1 * rng.standard_normal((n_rows, ts.size))
    y[rng.random(y.shape) < 0.2] = np.nan
    offsets = np.linspace(np.log(1e-3), np.log(0.5), 11)
    whole = vanishing_point._profile(offsets, ts, y, 1.0, 0.0)
    monkeypatch.setattr(vanishing_point, "PROFILE_BLOCK", 50)  # blocks of one row
    for one, blocked in zip(whole, vanishing_point._profile(offsets, ts, y, 1.0, 0.0), strict=True):
        np.testing.assert_array_equal(one, blocked)


@pytest.mark.parametrize("chunk", [1, 3, 1 << 20])
def test_counts_in_stretches_are_those_of_one_sum(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(curves, "CHUNK", chunk)
    rng = np.random.default_rng(9)
    mask = rng.random(50) < 0.6
    starts = np.r_[0, np.sort(rng.choice(np.arange(1, 50), 12, replace=False))]
    np.testing.assert_array_equal(
        curves._count_in_stretches(mask, starts), np.add.reduceat(mask, starts, dtype=np.int64)
    )


@pytest.mark.parametrize("runs", ["categorical", "text", "integers", "objects"])
@pytest.mark.parametrize("holes", [0.0, 0.2])
@pytest.mark.parametrize("absolute", [False, True])
def test_late_values_without_copying_rows_are_those_of_the_copy(
    runs: str, holes: float, absolute: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run codes instead of a copy of the rows: the same late means and first parameter
    values, for every kind of run column, holes in values, steps and parameters (first
    rows looked for in blocks of 10 rows)."""
    from landaulab.analyze import roles
    from landaulab.analyze.roles import _late_values_plain, late_values

    monkeypatch.setattr(roles, "FIRST_ROWS_CHUNK", 10)

    rng = np.random.default_rng(11)
    n_runs, n_steps = 17, 9
    run = np.repeat(np.arange(n_runs), n_steps)
    order = rng.permutation(run.size)
    frame = pd.DataFrame(
        {
            "run_id": run[order],
            "step": np.tile(np.arange(n_steps), n_runs)[order].astype(float),
            "m": rng.normal(0.0, 1.0, run.size),
            "T": rng.choice([0.5, 1.0, 1.5], n_runs)[run[order]],
            "L": rng.choice([8, 16], n_runs)[run[order]],
        }
    )
    if runs == "categorical":
        frame["run_id"] = pd.Categorical(
            [f"r{i}" for i in frame["run_id"]], categories=[f"r{i}" for i in range(n_runs)][::-1]
        )
    elif runs == "text":
        frame["run_id"] = pd.array([f"r{i}" for i in frame["run_id"]], dtype="str")
    elif runs == "objects":
        frame["run_id"] = frame["run_id"].astype(object)
    frame["whole_step"] = frame["step"].astype(np.int64)  # integer steps, no holes
    for name in ("m", "step", "T"):
        frame.loc[rng.random(len(frame)) < holes, name] = np.nan
    for parameters in ((), ("T", "L"), ("T", "m")):
        for step_col in ("step", "whole_step", "absent"):
            kwargs = {"parameters": parameters, "absolute": absolute, "step_col": step_col}
            pd.testing.assert_frame_equal(
                late_values(frame, "m", **kwargs),
                _late_values_plain(frame, "m", **kwargs),
                check_exact=True,
            )
    empty = frame.assign(m=np.nan)
    pd.testing.assert_frame_equal(
        late_values(empty, "m", parameters=("T",)),
        _late_values_plain(empty, "m", parameters=("T",)),
    )
