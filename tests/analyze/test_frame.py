"""Validation, burn-in and layout of the input frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landaulab.analyze.frame import ColumnSpec, prepare
from landaulab.errors import DataError

SPEC = ColumnSpec(order_parameter="m", control="T", size="L")


def _frame(n_runs: int = 3, n_steps: int = 10) -> pd.DataFrame:
    rows = [
        {"run_id": f"r{r}", "step": s, "T": 1.0 + r % 2, "L": 8, "m": float(s)}
        for r in range(n_runs)
        for s in range(n_steps)
    ]
    return pd.DataFrame(rows)


def test_burn_in_drops_the_first_fraction_of_each_run_by_step():
    prepared = prepare(_frame(), SPEC, burn_in=0.5)
    kept_steps = prepared.row_step[prepared.row_kept]
    # steps 0..9: threshold 4.5, so steps 5..9 stay in every run
    assert sorted(set(kept_steps.tolist())) == [5.0, 6.0, 7.0, 8.0, 9.0]
    assert prepared.row_kept.sum() == 15


def test_zero_burn_in_keeps_everything_and_last_step_always_kept():
    assert prepare(_frame(), SPEC, burn_in=0.0).row_kept.all()
    single = _frame(n_runs=2, n_steps=1)
    assert prepare(single, SPEC, burn_in=0.9).row_kept.all()


def test_unsorted_and_duplicated_rows_give_the_same_layout():
    frame = _frame()
    shuffled = frame.sample(frac=1.0, random_state=0)
    doubled = pd.concat([frame, frame.iloc[:7]])
    a = prepare(frame, SPEC)
    b = prepare(shuffled, SPEC)
    c = prepare(doubled, SPEC)
    np.testing.assert_array_equal(a.row_value, b.row_value)
    np.testing.assert_array_equal(a.row_value, c.row_value)
    assert any("repeating a (run, step)" in note for note in c.notes)


def test_non_finite_rows_are_dropped_with_a_note():
    frame = _frame()
    frame.loc[0, "m"] = np.nan
    frame.loc[1, "T"] = np.inf
    prepared = prepare(frame, SPEC)
    assert prepared.row_segment.size == len(frame) - 2
    assert any("Dropped 2" in note for note in prepared.notes)


def test_magnitudes_are_rescaled_and_abs_applied():
    frame = _frame()
    frame["m"] = -1e300 * (frame["step"] + 1)
    prepared = prepare(frame, SPEC, use_abs=True)
    assert prepared.scale == pytest.approx(1e301)
    assert np.all(prepared.row_value > 0) and prepared.row_value.max() == pytest.approx(1.0)


def test_control_is_standardised_and_mapped_back():
    prepared = prepare(_frame(), SPEC)
    assert prepared.segment_control.min() == pytest.approx(-1.0)
    assert prepared.segment_control.max() == pytest.approx(1.0)
    assert prepared.to_control(prepared.segment_control).tolist() == pytest.approx([1.0, 2.0, 1.0])


def test_a_run_sweeping_the_control_is_split_into_segments():
    frame = pd.DataFrame({"run_id": 0, "step": range(6), "T": [1, 1, 1, 2, 2, 2], "m": 1.0})
    prepared = prepare(frame, ColumnSpec("m", "T"))
    assert prepared.n_segments == 2 and prepared.n_runs == 1


def test_missing_run_and_step_columns_fall_back_with_notes():
    frame = pd.DataFrame({"T": [1.0, 2.0, 3.0], "m": [0.1, 0.2, 0.3]})
    prepared = prepare(frame, ColumnSpec("m", "T"))
    assert prepared.n_runs == 3
    assert any("every row" in note for note in prepared.notes)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (ColumnSpec("nope", "T"), "column 'nope' not found"),
        (ColumnSpec("m", "T", size="width"), "column 'width' not found"),
        (ColumnSpec("m", "T", run="seed"), "column 'seed' not found"),
        (ColumnSpec("m", "label"), "no finite numbers"),
    ],
)
def test_bad_columns_raise_one_line_data_errors(spec, match):
    frame = _frame()
    frame["label"] = "x"
    with pytest.raises(DataError, match=match) as info:
        prepare(frame, spec)
    assert "\n" not in str(info.value)


def test_bad_settings_and_empty_input():
    with pytest.raises(DataError, match="burn_in"):
        prepare(_frame(), SPEC, burn_in=1.0)
    with pytest.raises(DataError, match="no rows"):
        prepare(_frame().iloc[:0], SPEC)
    frame = _frame()
    frame["m"] = np.nan
    with pytest.raises(DataError):
        prepare(frame, SPEC)
    frame = _frame()
    frame["L"] = -1
    with pytest.raises(DataError, match="positive"):
        prepare(frame, SPEC)


def test_direction_column_needs_two_values():
    frame = _frame()
    frame["sweep"] = "up"
    with pytest.raises(DataError, match="exactly two"):
        prepare(frame, ColumnSpec("m", "T", direction="sweep"))
    frame["sweep"] = np.where(frame["run_id"] == "r0", "down", "up")
    prepared = prepare(frame, ColumnSpec("m", "T", direction="sweep"))
    assert prepared.direction_labels == ("down", "up")


def test_runs_in_any_order_are_laid_out_alike() -> None:
    """Rows grouped by run in another order than the run ids (moved stretch by stretch),
    shuffled rows (sorted row by row) and sorted rows give the same layout."""
    from landaulab.datasets import curie_weiss

    frame = curie_weiss(np.linspace(0.8, 1.2, 5), [50, 100], n_runs=4, n_steps=30, seed=2)
    frame["E"] = -(frame["m"] ** 2)
    runs = frame["run_id"].unique()
    blocks = pd.concat([frame[frame["run_id"] == r] for r in runs[::-1]], ignore_index=True)
    shuffled = frame.sample(frac=1.0, random_state=0)
    columns = ColumnSpec(order_parameter="m", control="temperature", size="N", energy="E")
    reference = prepare(frame, columns)
    for other in (blocks, shuffled):
        laid_out = prepare(other, columns)
        for name in (
            "row_segment",
            "row_step",
            "row_value",
            "row_energy",
            "row_kept",
            "segment_run",
            "segment_control",
            "segment_size",
            "segment_volume",
        ):
            np.testing.assert_array_equal(getattr(laid_out, name), getattr(reference, name))
