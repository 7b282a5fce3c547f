"""CSV/Parquet import: wide and long layouts, parameters, bad files, all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landaulab.errors import DataError
from landaulab.store import Store, load_frame
from landaulab.store.ingest import ingest_table, read_table
from landaulab.store.ingest.common import publish_runs
from tests.ingest.conftest import run_cli, store_snapshot

PARAM_COLS = ["weight_decay", "optimizer"]


def _sweep_frame(seed: int = 0) -> pd.DataFrame:
    """Three runs with known trajectories: loss = wd + 1/(step + 1), accuracy = step/10."""
    rows = []
    for run, wd in (("a", 0.1), ("b", 0.3), ("c", 1.0)):
        for step in range(0, 50, 5):
            rows.append(
                {
                    "run": run,
                    "step": step,
                    "weight_decay": wd,
                    "optimizer": "adamw",
                    "loss": wd + 1.0 / (step + 1),
                    "accuracy": step / 10,
                }
            )
    return pd.DataFrame(rows).sample(frac=1.0, random_state=seed)  # order must not matter


def test_wide_csv_round_trip_through_the_cli(tmp_path: Path, capsys) -> None:
    path = tmp_path / "sweep.csv"
    _sweep_frame().to_csv(path, index=False)
    store = tmp_path / "store"
    status, out, err = run_cli(
        [
            "ingest",
            "csv",
            str(path),
            "--store",
            str(store),
            "--param-col",
            "weight_decay",
            "--param-col",
            "optimizer",
            "--params",
            "seed=3",
        ],
        capsys,
    )
    assert (status, err) == (0, "")
    assert "imported 3" in out
    frame = Store(store).frame()
    assert sorted(frame["weight_decay"].unique()) == [0.1, 0.3, 1.0]
    assert set(frame["optimizer"]) == {"adamw"} and set(frame["seed"]) == {3}
    expected = frame["weight_decay"] + 1.0 / (frame["step"] + 1)
    np.testing.assert_array_equal(frame["loss"].to_numpy(), expected.to_numpy())
    np.testing.assert_array_equal(frame["accuracy"], frame["step"] / 10)
    assert (frame.groupby("run_id").size() == 10).all()
    assert set(Store(store).run_table()["status"]) == {"done"}


def test_long_layout_and_parquet_give_the_same_runs_as_wide(tmp_path: Path) -> None:
    wide = _sweep_frame()
    long = wide.melt(
        id_vars=["run", "step", "weight_decay", "optimizer"],
        value_vars=["loss", "accuracy"],
        var_name="metric",
        value_name="value",
    )
    long.to_parquet(tmp_path / "long.parquet", index=False)
    wide.to_csv(tmp_path / "wide.csv", index=False)
    from_wide = read_table(tmp_path / "wide.csv", param_cols=["weight_decay", "optimizer"])
    from_long = read_table(
        tmp_path / "long.parquet", layout="long", param_cols=["weight_decay", "optimizer"]
    )
    assert [r.name for r in from_wide] == [r.name for r in from_long] == ["a", "b", "c"]
    for a, b in zip(from_wide, from_long, strict=True):
        assert a.params == b.params
        pd.testing.assert_frame_equal(a.trajectory, b.trajectory[a.trajectory.columns])


def test_pattern_reads_parameters_from_folder_names(tmp_path: Path) -> None:
    for wd in (0.01, 0.1):
        for seed in (0, 1):
            folder = tmp_path / "logs" / f"wd={wd}_seed={seed}"
            folder.mkdir(parents=True)
            pd.DataFrame({"step": [0, 1, 2], "loss": [wd, wd * 2, wd * 3]}).to_csv(
                folder / "metrics.csv", index=False
            )
    runs = read_table(
        tmp_path / "logs",
        pattern=r"wd=(?P<weight_decay>[\d.e-]+)_seed=(?P<seed>\d+)",
        params={"lr": 0.001},
    )
    assert len(runs) == 4
    for run in runs:
        assert set(run.params) == {"weight_decay", "seed", "lr"}
        assert isinstance(run.params["seed"], int)
        np.testing.assert_allclose(
            run.trajectory["loss"], run.params["weight_decay"] * np.arange(1, 4)
        )
    with pytest.raises(DataError, match="does not match"):
        read_table(tmp_path / "logs", pattern=r"lr=(?P<lr>[\d.]+)")
    with pytest.raises(DataError, match="named groups"):
        read_table(tmp_path / "logs", pattern=r"wd=([\d.]+)")


def test_infinite_value_marks_diverged_and_empty_cells_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "run.csv"
    path.write_text("step,loss,val\n0,1.0,\n1,0.5,0.7\n2,inf,\n3,,0.2\n")
    (run,) = read_table(path)
    assert run.status == "diverged" and run.diverged == {"step": 2, "observable": "loss"}
    assert run.trajectory["step"].tolist() == [0, 1, 2, 3]
    assert np.isnan(run.trajectory["val"].iloc[0])
    result = ingest_table(path, tmp_path / "store")
    assert Store(tmp_path / "store").get(result.added[0]).status == "diverged"


def test_reimport_adds_nothing_and_changed_logs_are_new_runs(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    _sweep_frame().to_csv(path, index=False)
    first = ingest_table(path, tmp_path / "store", param_cols=PARAM_COLS)
    again = ingest_table(path, tmp_path / "store", param_cols=PARAM_COLS)
    assert len(first.added) == 3 and again.added == () and set(again.skipped) == set(first.added)
    changed = _sweep_frame()
    changed.loc[changed["run"] == "a", "loss"] += 1.0
    changed.to_csv(path, index=False)
    third = ingest_table(path, tmp_path / "store", param_cols=PARAM_COLS)
    assert len(third.added) == 1 and len(Store(tmp_path / "store")) == 4


BAD_FILES = {
    "missing step column": ("run,loss\na,1\n", "no column 'step'"),
    "non-numeric metric": ("step,loss\n0,1.0\n1,abc\n", "column 'loss' is not numeric"),
    "non-integer step": ("step,loss\n0,1.0\n0.5,2.0\n", "non-integer value"),
    "missing step value": ("step,loss\n0,1.0\n,2.0\n", "missing or non-numeric"),
    "conflicting rows": ("step,loss\n0,1.0\n0,2.0\n", "two values of 'loss'"),
    "no metric": ("step\n0\n1\n", "no metric columns"),
    "empty file": ("", "empty"),
    "header only": ("step,loss\n", "no rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_one_line_exit_2_and_store_unchanged(tmp_path: Path, capsys, case: str) -> None:
    store = tmp_path / "store"
    good = tmp_path / "good.csv"
    good.write_text("step,loss\n0,1.0\n1,0.5\n")
    assert run_cli(["ingest", "csv", str(good), "--store", str(store)], capsys)[0] == 0
    before = store_snapshot(store)
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "a_good.csv").write_text("step,loss\n0,3.0\n1,2.0\n")
    text, message = BAD_FILES[case]
    (folder / "b_bad.csv").write_text(text)
    status, out, err = run_cli(["ingest", "csv", str(folder), "--store", str(store)], capsys)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "b_bad.csv" in err and message in err
    assert store_snapshot(store) == before


def test_missing_path_empty_folder_and_unused_columns(tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    status, _, err = run_cli(
        ["ingest", "csv", str(tmp_path / "nope"), "--store", str(store)], capsys
    )
    assert status == 2 and "no such file or directory" in err
    (tmp_path / "empty").mkdir()
    status, _, err = run_cli(
        ["ingest", "csv", str(tmp_path / "empty"), "--store", str(store)], capsys
    )
    assert status == 2 and "no CSV or Parquet files" in err
    long = tmp_path / "long.csv"
    long.write_text("step,metric,value,extra\n0,loss,1.0,x\n")
    status, _, err = run_cli(
        ["ingest", "csv", str(long), "--layout", "long", "--store", str(store)], capsys
    )
    assert status == 2 and "'extra' is not used" in err
    varying = tmp_path / "varying.csv"
    varying.write_text("step,lr,loss\n0,0.1,1.0\n1,0.2,0.5\n")
    status, _, err = run_cli(
        ["ingest", "csv", str(varying), "--param-col", "lr", "--store", str(store)], capsys
    )
    assert status == 2 and "varies within run" in err
    status, _, err = run_cli(
        ["ingest", "tensorboard", str(varying), "--layout", "long", "--store", str(store)], capsys
    )
    assert status == 2 and "applies to 'ingest csv' only" in err
    assert not store.exists()


def test_failure_while_publishing_takes_out_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sweep.csv"
    _sweep_frame().to_csv(path, index=False)
    runs = read_table(path, param_cols=PARAM_COLS)
    store = Store(tmp_path / "store", create=True)
    before = store_snapshot(store.path)
    calls = {"n": 0}
    original = Store.publish

    def publish_then_fail(self: Store, record, trajectory, replace=False) -> bool:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return original(self, record, trajectory, replace=replace)

    monkeypatch.setattr(Store, "publish", publish_then_fail)
    with pytest.raises(OSError, match="disk full"):
        publish_runs(runs, store, kind="csv", task="csv")
    assert calls["n"] == 3
    assert len(Store(store.path)) == 0
    assert store_snapshot(store.path) == before
    monkeypatch.setattr(Store, "publish", original)
    with pytest.raises(OSError):
        monkeypatch.setattr(Store, "publish", publish_then_fail)
        calls["n"] = 0
        publish_runs(runs, tmp_path / "new-store", kind="csv", task="csv")
    assert not (tmp_path / "new-store").exists()


def test_imported_store_is_an_ordinary_store(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    _sweep_frame().to_csv(path, index=False)
    ingest_table(path, tmp_path / "store", param_cols=PARAM_COLS)
    frame = load_frame(tmp_path / "store")
    assert {"run_id", "step", "status", "weight_decay", "loss", "accuracy"} <= set(frame.columns)
    record = Store(tmp_path / "store").records()[0]
    assert record.task == "csv" and record.record["source"] == "csv"
    assert Store(tmp_path / "store").query("SELECT count(*) AS n FROM runs")["n"][0] == 30


cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-(10**6), 10**6),
    st.text(alphabet="ab1.-e ", max_size=4),
    st.none(),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.one_of(st.integers(0, 20), st.floats(-5, 5), st.none()), min_size=0, max_size=8
    ),
    values=st.lists(cells, min_size=0, max_size=8),
)
def test_hostile_tables_give_valid_runs_or_one_data_error(
    tmp_path_factory: pytest.TempPathFactory, steps: list, values: list
) -> None:
    n = min(len(steps), len(values))
    frame = pd.DataFrame({"step": steps[:n], "loss": values[:n]}, dtype=object)
    path = tmp_path_factory.mktemp("hostile") / "table.csv"
    frame.to_csv(path, index=False)
    try:
        runs = read_table(path)
    except DataError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    (run,) = runs
    table = run.trajectory
    assert table["step"].dtype == np.int64 and table["step"].is_unique
    assert table["step"].is_monotonic_increasing
    assert table["loss"].dtype == np.float64 and table["loss"].notna().all()
    finite = np.isfinite(table["loss"])
    assert (run.status == "diverged") == (not finite.all())
