"""Batches: many runs published in one rename, read alongside runs published on their own.

An import publishes its runs as one batch (``batches/<id>/``); every reader of the store
sees batch runs and per-run directories alike, a run id in both follows one rule (its
own directory wins, then the latest batch), a format-1 store stays readable, and an
import killed or failing half-way leaves no run of it visible.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from landaulab.errors import DataError, StoreError
from landaulab.store import RunRecord, Store
from landaulab.store.batches import BatchWriter, batch_ids
from landaulab.store.ingest import ingest_table, read_table
from landaulab.store.ingest.common import publish_runs
from landaulab.store.store import AmbiguousColumnError
from tests.ingest.conftest import store_snapshot

RUNS = 240
STEPS = 25


def _table(path: Path, runs: int = RUNS, seed: int = 0, shuffle: bool = False) -> Path:
    """A tidy table of ``runs`` runs: run, step, temperature (a parameter), m, loss."""
    rng = np.random.default_rng(seed)
    temperature = np.repeat(np.linspace(0.5, 1.5, 8), int(np.ceil(runs / 8)))[:runs]
    run = np.repeat(np.arange(runs), STEPS)
    frame = pd.DataFrame(
        {
            "run": [f"r{i:04d}" for i in run],
            "step": np.tile(np.arange(STEPS) * 10, runs),
            "temperature": np.repeat(temperature, STEPS),
            "m": np.repeat(np.maximum(1 - temperature, 0), STEPS)
            + 0.05 * rng.standard_normal(run.size),
            "loss": rng.random(run.size),
        }
    )
    frame.loc[frame.index % 7 == 3, "loss"] = np.nan  # not logged at some steps
    if shuffle:
        frame = frame.sample(frac=1.0, random_state=seed)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def _ingest(path: Path, store: Path, **options: object):
    return ingest_table(path, store, param_cols=["temperature"], **options)  # type: ignore[arg-type]


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame with plain (not categorical) columns, for comparisons."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(str)
    return out.reset_index(drop=True)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The same table imported as a batch and, through the per-run path, run by run."""
    root = tmp_path_factory.mktemp("stores")
    table = _table(root / "sweep.csv")
    _ingest(table, root / "batch")
    runs = read_table(table, param_cols=["temperature"])
    publish_runs(
        runs,
        root / "per-run",
        kind="csv",
        task="csv",
        options={"layout": "wide", "param_cols": ["temperature"], "value_col": "value"},
    )
    return table, root / "batch", root / "per-run"


def test_an_import_is_one_batch_with_the_per_run_ids(stores) -> None:
    _, batch, per_run = stores
    assert len(batch_ids(batch)) == 1 and not any((batch / "runs").iterdir())
    assert not any((per_run / "batches").iterdir())
    b, p = Store(batch), Store(per_run)
    assert b.run_ids() == p.run_ids() and len(b) == RUNS
    assert json.loads((batch / "landaulab-store.json").read_text()) == {"format": 2}
    assert json.loads((per_run / "landaulab-store.json").read_text()) == {"format": 1}


def test_every_reader_sees_batch_runs_as_run_directories(stores) -> None:
    _, batch, per_run = stores
    b, p = Store(batch), Store(per_run)
    run_id = p.run_ids()[17]
    assert run_id in b and "nope" not in b and b.get("nope") is None
    assert b.get(run_id) == p.get(run_id)
    assert b.records() == p.records()
    pd.testing.assert_frame_equal(b.trajectory(run_id), p.trajectory(run_id))
    assert b.status_counts() == p.status_counts()
    assert b.final_values() == p.final_values()
    pd.testing.assert_frame_equal(b.run_table(), p.run_table())
    frame = b.frame()
    assert isinstance(frame["run_id"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(_plain(frame), _plain(p.frame()))
    assert list(frame.columns) == ["run_id", "step", "status", "temperature", "m", "loss"]
    assert frame.attrs["renamed"] == {}


def test_query_reads_the_batch_files(stores) -> None:
    _, batch, per_run = stores
    sql = (
        "SELECT temperature, count(*) AS n, avg(m) AS m, count(loss) AS logged "
        "FROM runs GROUP BY temperature ORDER BY temperature"
    )
    pd.testing.assert_frame_equal(Store(batch).query(sql), Store(per_run).query(sql))
    got = Store(batch).query("SELECT count(*) AS n FROM trajectories WHERE step >= 100")
    assert int(got["n"][0]) == RUNS * (STEPS - 10)
    info = Store(batch).query("SELECT status, count(*) AS n FROM run_info GROUP BY status")
    assert info.to_dict("list") == {"status": ["done"], "n": [RUNS]}


def test_reimport_adds_nothing_and_writes_nothing(stores, tmp_path: Path) -> None:
    table, batch, per_run = stores
    for store in (batch, per_run):
        copy = tmp_path / store.name
        shutil.copytree(store, copy)
        before = store_snapshot(copy)
        again = _ingest(table, copy)
        assert again.added == () and len(again.skipped) == RUNS
        assert store_snapshot(copy) == before


def test_parquet_csv_shuffled_and_chunked_input_give_the_same_runs(
    stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows out of order make a second, ordered pass; runs across record batches are
    joined; the file format does not matter."""
    _, batch, _ = stores
    expected = _plain(Store(batch).frame())
    shuffled = _table(tmp_path / "sweep.csv", shuffle=True)  # same stem: same run ids
    from landaulab.store.ingest import scan

    monkeypatch.setattr(scan, "BATCH_ROWS", 97)
    result = _ingest(shuffled, tmp_path / "a")
    assert sorted(result.added) == Store(batch).run_ids()
    pd.testing.assert_frame_equal(_plain(Store(tmp_path / "a").frame()), expected)
    (tmp_path / "other").mkdir()
    parquet = _table(tmp_path / "other" / "sweep.parquet")
    _ingest(parquet, tmp_path / "b")
    assert Store(tmp_path / "b").run_ids() == Store(batch).run_ids()


def test_a_column_that_turns_out_text_after_the_first_rows(tmp_path: Path) -> None:
    """Column kinds are read from the first rows and checked on all: a text value late
    in an integer-looking column makes it text, as pandas would read it."""
    rows = [{"run": f"r{i}", "step": 0, "size": str(i), "m": 1.0} for i in range(12000)]
    rows[-1]["size"] = "big"
    path = tmp_path / "t.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    runs = {r.name: r for r in read_table(path, param_cols=["size"])}
    assert runs["r5"].params == {"size": "5"} and runs["r11999"].params == {"size": "big"}
    rows[-1]["size"] = ""
    pd.DataFrame(rows).to_csv(path, index=False)
    runs = {r.name: r for r in read_table(path, param_cols=["size"])}
    assert runs["r5"].params == {"size": 5.0} and runs["r11999"].params == {"size": None}


def test_a_failing_import_leaves_no_batch(
    stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, batch, _ = stores
    store = tmp_path / "s"
    shutil.copytree(batch, store)
    before = store_snapshot(store)
    other = _table(tmp_path / "new.csv", runs=50, seed=3)

    def fail(self: BatchWriter, runs: object, before_rename: object = None) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(BatchWriter, "commit", fail)
    with pytest.raises(OSError, match="disk full"):
        _ingest(other, store)
    assert store_snapshot(store) == before
    assert not any((store / "staging").iterdir())
    with pytest.raises(OSError):
        _ingest(other, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text(other.read_text() + "r9999,5,0.5,abc,0.1\n")
    with pytest.raises(DataError, match=r"bad\.csv: column 'm' is not numeric"):
        _ingest(bad, store)
    assert store_snapshot(store) == before


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from landaulab.store import batches
    from landaulab.store.ingest import ingest_table

    where = sys.argv[3]
    original = batches.BatchWriter.commit

    def commit(self, runs, before_rename=None):
        def last_moment():  # every file written and flushed, the marker raised
            before_rename()
            if where == "before":
                os.kill(os.getpid(), signal.SIGKILL)

        original(self, runs, last_moment)
        os.kill(os.getpid(), signal.SIGKILL)

    batches.BatchWriter.commit = commit
    ingest_table(sys.argv[1], sys.argv[2], param_cols=["temperature"])
    """
)


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_killed_import_shows_all_of_the_batch_or_none(stores, tmp_path: Path, where: str) -> None:
    """SIGKILL with every file written but not renamed: no run of the import is seen;
    just after the rename: all of them are."""
    _, batch, _ = stores
    store = tmp_path / "s"
    shutil.copytree(batch, store)
    other = _table(tmp_path / "new.csv", runs=60, seed=5)
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(script), str(other), str(store), where],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    reopened = Store(store)
    assert len(reopened) == RUNS + (60 if where == "after" else 0)
    assert reopened.frame()["run_id"].nunique() == len(reopened)
    if where == "before":  # its staging leftovers are never read
        assert any((store / "staging").iterdir())
        assert len(batch_ids(store)) == 1


def test_own_directory_wins_then_the_latest_batch(stores, tmp_path: Path) -> None:
    _, batch, _ = stores
    store_path = tmp_path / "s"
    shutil.copytree(batch, store_path)
    store = Store(store_path)
    first, second = store.run_ids()[:2]
    # a later batch holding one run again (as a second import racing the first might)
    (old,) = batch_ids(store_path)
    later = store_path / "batches" / f"{int(old.split('-')[0]) + 1:020d}-ffffffff"
    shutil.copytree(store_path / "batches" / old, later)
    runs = pq.read_table(later / "runs.parquet").to_pandas()
    runs.loc[runs["run_id"] == second, "status"] = "failed"
    runs.to_parquet(later / "runs.parquet", index=False)
    reread = Store(store_path)
    assert reread.get(second).status == "failed"  # type: ignore[union-attr]
    assert len(reread) == RUNS and reread.status_counts()["failed"] == 1
    assert second not in set(reread.frame()["run_id"].astype(str))
    # publishing a batch run on its own needs replace, and then wins
    record = reread.get(first)
    assert record is not None
    new = RunRecord(**{**record.__dict__, "status": "diverged", "reason": "by hand"})
    trajectory = pd.DataFrame({"step": [0, 1], "m": [5.0, 6.0]})
    assert not reread.publish(new, trajectory)
    assert reread.publish(new, trajectory, replace=True)
    assert reread.get(first).status == "diverged"  # type: ignore[union-attr]
    assert reread.trajectory(first)["m"].tolist() == [5.0, 6.0]
    assert len(reread) == RUNS and reread.run_ids().count(first) == 1
    frame = reread.frame()
    assert frame.loc[frame["run_id"] == first, "m"].tolist() == [5.0, 6.0]
    got = reread.query(f"SELECT m FROM runs WHERE run_id = '{first}' ORDER BY step")
    assert got["m"].tolist() == [5.0, 6.0]
    assert reread.query("SELECT count(DISTINCT run_id) AS n FROM runs")["n"][0] == RUNS


def test_removing_runs_rewrites_their_batch(stores, tmp_path: Path) -> None:
    _, batch, per_run = stores
    store_path = tmp_path / "s"
    shutil.copytree(batch, store_path)
    store = Store(store_path)
    ids = store.run_ids()
    gone = ids[::3]
    assert store.remove_runs(gone) == sorted(gone)
    assert store.run_ids() == [i for i in ids if i not in set(gone)]
    keep = ids[1]
    pd.testing.assert_frame_equal(store.trajectory(keep), Store(per_run).trajectory(keep))
    assert len(batch_ids(store_path)) == 1 and not any((store_path / "staging").iterdir())
    store.remove_runs(store.run_ids())
    assert len(store) == 0 and batch_ids(store_path) == []
    assert store.frame().empty


def test_replacing_an_import_read_with_other_options(stores, tmp_path: Path) -> None:
    table, batch, _ = stores
    store = tmp_path / "s"
    shutil.copytree(batch, store)
    with pytest.raises(DataError, match="imported before with other options"):
        ingest_table(table, store)
    result = ingest_table(table, store, replace=True)
    assert len(result.replaced) == RUNS and len(result.added) == RUNS
    assert Store(store).run_ids() == sorted(result.added)
    assert {r.params.get("temperature") for r in Store(store).records()} == {None}


def test_a_format_1_store_stays_readable_and_takes_a_batch(stores, tmp_path: Path) -> None:
    """A store as earlier versions wrote it: no batches folder, format 1."""
    _, _, per_run = stores
    old = tmp_path / "old"
    shutil.copytree(per_run, old)
    shutil.rmtree(old / "batches")
    store = Store(old)
    assert store.format == 1 and len(store) == RUNS
    assert len(store.frame()) == RUNS * STEPS
    other = _table(tmp_path / "new.csv", runs=30, seed=9)
    _ingest(other, old)
    reread = Store(old)
    assert reread.format == 2 and len(reread) == RUNS + 30
    assert reread.frame()["run_id"].nunique() == RUNS + 30
    (old / "landaulab-store.json").write_text('{"format": 3}')
    with pytest.raises(StoreError, match="format 3 is not supported"):
        Store(old)


def test_the_name_clash_rule_holds_for_batches(tmp_path: Path) -> None:
    """A setting given to every run (``--params``) and a logged column of one name."""
    path = _table(tmp_path / "t.csv", runs=40)
    ingest_table(path, tmp_path / "split", param_cols=["temperature"], params={"loss": 2.0})
    store = Store(tmp_path / "split")
    frame = store.frame()
    assert "loss" not in frame.columns
    assert frame.attrs["renamed"] == {"loss": ["loss_setting", "loss_observed"]}
    assert store.renamed_columns() == frame.attrs["renamed"]
    assert set(frame["loss_setting"]) == {2.0}
    with pytest.raises(AmbiguousColumnError, match=r"loss_setting.*loss_observed"):
        store.query("SELECT avg(loss) FROM runs")
    assert store.query("SELECT max(loss_setting) AS s FROM runs")["s"][0] == 2.0
    # a setting the log agrees with is one column
    frame = pd.read_csv(path)
    frame["lr"] = 0.1
    frame.to_csv(path, index=False)
    ingest_table(path, tmp_path / "one", param_cols=["temperature"], params={"lr": 0.1})
    store = Store(tmp_path / "one")
    assert store.frame().attrs["renamed"] == {} and set(store.frame()["lr"]) == {0.1}
    assert store.query("SELECT DISTINCT lr FROM runs")["lr"].tolist() == [0.1]
