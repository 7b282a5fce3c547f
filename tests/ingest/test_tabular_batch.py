"""The streaming table reader makes the runs the per-run reference would.

``ingest_table`` reads a table a chunk of runs at a time and publishes one batch;
``read_table`` gives the same runs as :class:`IngestedRun` objects for
``publish_runs``. Both must agree with each other and with
:func:`~landaulab.store.ingest.common.run_from_table` (the per-run reference) on every
run: trajectory, status, divergence, parameters and run id, whatever the table's
oddities (repeated rows, empty cells and columns, infinite values, steps out of order,
runs spread over several record batches).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from landaulab.store import Store
from landaulab.store.ingest import ingest_table, read_table, scan
from landaulab.store.ingest.common import publish_runs, run_from_table, run_id_for


def _messy(path: Path, runs: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for i in range(runs):
        steps = rng.permutation(np.arange(0, 40, 2))  # out of order within the run
        for step in steps:
            rows.append(
                {
                    "run": i,  # integer run names
                    "step": step,
                    "lr": [0.1, 0.01, 1e-3][i % 3],
                    "opt": "adam" if i % 2 else "sgd",
                    "loss": float(rng.random()),
                    "acc": np.nan if i % 5 == 0 else float(step) / 40,  # empty for some runs
                    "gap": np.nan if step % 4 else float(rng.random()),  # empty on some rows
                }
            )
    frame = pd.DataFrame(rows)
    frame.loc[(frame["run"] == 7) & (frame["step"] == 10), "loss"] = np.inf  # diverged
    frame.loc[(frame["run"] == 8) & (frame["step"] == 30), "acc"] = -np.inf
    repeated = frame[frame["run"] == 9].head(3).assign(loss=np.nan)  # agreeing repeats
    frame = pd.concat([frame, repeated], ignore_index=True)
    empty_rows = frame[frame["run"] == 11].head(2).assign(loss=np.nan, acc=np.nan, gap=np.nan)
    empty_rows["step"] = [100, 102]  # rows without any value: dropped
    frame = pd.concat([frame, empty_rows], ignore_index=True)
    frame.to_csv(path, index=False)
    return frame


@pytest.mark.parametrize("batch_rows", [1 << 20, 53])
def test_streamed_runs_match_the_per_run_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    monkeypatch.setattr(scan, "BATCH_ROWS", batch_rows)
    path = tmp_path / "messy.csv"
    _messy(path)
    options = {"param_cols": ["lr", "opt"]}
    runs = read_table(path, **options)  # type: ignore[arg-type]
    assert [r.name for r in runs] == sorted(str(i) for i in range(60))
    for run in runs:
        reference = run_from_table(
            name=run.name,
            identity=run.identity,
            source=run.source,
            params=run.params,
            table=run.trajectory,
        )
        pd.testing.assert_frame_equal(run.trajectory, reference.trajectory)
        assert (run.status, run.reason, run.diverged) == (
            reference.status,
            reference.reason,
            reference.diverged,
        )
        assert run.fingerprint() == reference.fingerprint()
    by_name = {r.name: r for r in runs}
    assert by_name["7"].diverged == {"step": 10, "observable": "loss"}
    assert by_name["8"].status == "diverged"
    assert "acc" not in by_name["5"].trajectory.columns
    assert by_name["3"].params == {"lr": 0.1, "opt": "adam"}
    assert 100 not in set(by_name["11"].trajectory["step"])
    result = ingest_table(path, tmp_path / "batch", **options)  # type: ignore[arg-type]
    how = {"layout": "wide", "param_cols": ["lr", "opt"], "value_col": "value"}
    publish_runs(runs, tmp_path / "per-run", kind="csv", task="csv", options=how)
    assert sorted(result.added) == sorted(run_id_for(r, "csv", "csv") for r in runs)
    batch, per_run = Store(tmp_path / "batch"), Store(tmp_path / "per-run")
    assert batch.records() == per_run.records()
    assert batch.final_values() == per_run.final_values()
    for run_id in batch.run_ids()[::7]:
        pd.testing.assert_frame_equal(batch.trajectory(run_id), per_run.trajectory(run_id))


def test_long_layout_streams_like_wide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "BATCH_ROWS", 71)
    wide = _messy(tmp_path / "wide.csv", runs=20)
    long = wide.melt(
        id_vars=["run", "step", "lr", "opt"],
        value_vars=["loss", "acc", "gap"],
        var_name="metric",
        value_name="value",
    )
    long.sample(frac=1.0, random_state=2).to_parquet(tmp_path / "long.parquet", index=False)
    from_wide = read_table(tmp_path / "wide.csv", param_cols=["lr", "opt"])
    from_long = read_table(tmp_path / "long.parquet", layout="long", param_cols=["lr", "opt"])
    assert [r.name for r in from_wide] == [r.name for r in from_long]
    for a, b in zip(from_wide, from_long, strict=True):
        assert a.params == b.params and a.status == b.status
        pd.testing.assert_frame_equal(a.trajectory, b.trajectory[a.trajectory.columns])
