"""The store: atomic publication, tidy frames, DuckDB queries, claims."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from landaulab.errors import DataError, StoreError
from landaulab.store import RunRecord, Store, load_frame


def _record(run_id: str, status: str = "done", **params: object) -> RunRecord:
    return RunRecord(run_id=run_id, task="t", params={"seed": 0, **params}, status=status)  # type: ignore[arg-type]


def _trajectory(n: int = 3, scale: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame({"step": np.arange(n), "m": scale * np.arange(n, dtype=float)})


def test_publish_frame_and_query(tmp_path: Path) -> None:
    store = Store(tmp_path / "s", create=True)
    assert store.publish(_record("a", lr=0.1), _trajectory())
    assert store.publish(_record("b", lr=0.2), _trajectory(scale=2.0))
    assert store.publish(_record("c", status="failed", lr=0.3), _trajectory())
    frame = store.frame()
    assert set(frame["run_id"]) == {"a", "b"}  # failed runs left out by default
    assert list(frame.columns[:2]) == ["run_id", "step"]
    assert {"lr", "seed", "m", "status"} <= set(frame.columns)
    assert frame.loc[frame.run_id == "b", "m"].tolist() == [0.0, 2.0, 4.0]
    result = store.query("SELECT lr, max(m) AS top FROM runs GROUP BY lr ORDER BY lr")
    assert result["top"].tolist() == [2.0, 4.0, 2.0]
    info = store.query("SELECT status, count(*) AS n FROM run_info GROUP BY status ORDER BY status")
    assert dict(zip(info.status, info.n, strict=True)) == {"done": 2, "failed": 1}
    with pytest.raises(StoreError, match="query failed"):
        store.query("SELEC nonsense")


def test_published_run_is_never_overwritten_unless_replacing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s", create=True)
    assert store.publish(_record("a"), _trajectory())
    assert not store.publish(_record("a"), _trajectory(scale=5.0))
    assert store.trajectory("a")["m"].tolist() == [0.0, 1.0, 2.0]
    assert store.publish(_record("a", status="failed"), _trajectory(scale=5.0), replace=True)
    assert store.get("a").status == "failed"  # type: ignore[union-attr]
    assert not list((tmp_path / "s" / "staging").iterdir())


def test_store_refuses_foreign_directories(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("mine")
    with pytest.raises(StoreError, match="not a landaulab store"):
        Store(tmp_path / "x")
    with pytest.raises(StoreError, match="not empty"):
        Store(tmp_path / "x", create=True)
    with pytest.raises(StoreError, match="no such store"):
        Store(tmp_path / "missing")


def _hold_claim(path: str, run_id: str, ready: multiprocessing.Event) -> None:
    claim = Store(path).claim(run_id)
    assert claim is not None
    ready.set()
    time.sleep(60)  # killed by the test long before


def test_claims_exclude_other_processes_and_die_with_them(tmp_path: Path) -> None:
    store = Store(tmp_path / "s", create=True)
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_claim, args=(str(store.path), "r", ready))
    holder.start()
    try:
        assert ready.wait(60)
        assert store.claim("r") is None
        # A killed holder releases its claim. (Nothing else is shared with it after the
        # kill: a multiprocessing Condition whose waiter was killed can deadlock.)
        holder.kill()
        holder.join(30)
        claim = store.claim("r")
        assert claim is not None
        claim.release()
    finally:
        if holder.is_alive():
            holder.kill()
        holder.join(30)


def test_load_frame_reads_csv_parquet_and_stores(tmp_path: Path) -> None:
    frame = pd.DataFrame({"run_id": ["a", "a"], "step": [0, 1], "m": [0.5, 0.25]})
    frame.to_csv(tmp_path / "f.csv.gz", index=False)
    frame.to_parquet(tmp_path / "f.parquet")
    pd.testing.assert_frame_equal(load_frame(tmp_path / "f.csv.gz"), frame)
    pd.testing.assert_frame_equal(load_frame(tmp_path / "f.parquet"), frame)
    store = Store(tmp_path / "s", create=True)
    store.publish(_record("a"), _trajectory())
    assert len(load_frame(tmp_path / "s")) == 3
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    for bad in ("missing.csv", "bad.parquet", "f.xlsx"):
        if bad == "f.xlsx":
            (tmp_path / bad).write_text("x")
        with pytest.raises(DataError, match=bad.split(".")[0]):
            load_frame(tmp_path / bad)
