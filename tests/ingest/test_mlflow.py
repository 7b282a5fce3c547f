"""MLflow import, on tracking folders and databases written by MLflow's own client."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from landaulab.store import Store
from landaulab.store.ingest import read_mlflow
from tests.ingest.conftest import run_cli, store_snapshot

WEIGHT_DECAYS = (0.0, 0.5, 2.0)


def accuracy_of(wd: float, step: int) -> float:
    return step / (step + 1.0 + wd)


def log_sweep(uri: str) -> None:
    """Three finished runs, one failed run, one deleted run, written with MLflow."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("weight-decay")
    for seed, wd in enumerate(WEIGHT_DECAYS):
        with mlflow.start_run(run_name=f"wd-{wd}"):
            mlflow.log_params({"weight_decay": wd, "seed": seed, "optimizer": "sgd"})
            for step in range(0, 30, 3):
                mlflow.log_metric("train/accuracy", accuracy_of(wd, step), step=step)
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    with pytest.raises(RuntimeError), mlflow.start_run(run_name="crashed"):
        mlflow.log_metric("loss", 3.0, step=0)
        raise RuntimeError("out of memory")
    with mlflow.start_run(run_name="deleted") as run:
        mlflow.log_metric("loss", 1.0, step=0)
    mlflow.delete_run(run.info.run_id)


@pytest.fixture(scope="module")
def mlruns(tmp_path_factory: pytest.TempPathFactory, offline_home: Path) -> Path:
    pytest.importorskip("mlflow")
    root = tmp_path_factory.mktemp("mlflow") / "mlruns"
    log_sweep(f"file:{root}")
    return root


def test_file_store_round_trip(mlruns: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    status, out, err = run_cli(["ingest", "mlflow", str(mlruns), "--store", str(store)], capsys)
    assert (status, err) == (0, ""), err
    assert "imported 4" in out
    table = Store(store).run_table().set_index("weight_decay", drop=False)
    assert sorted(table["status"]) == ["done", "done", "done", "failed"]
    failed = table[table["status"] == "failed"].iloc[0]
    assert "FAILED" in failed["reason"]
    frame = Store(store).frame()
    assert sorted(frame["weight_decay"].unique()) == list(WEIGHT_DECAYS)
    assert frame["seed"].dtype.kind == "i" and set(frame["optimizer"]) == {"sgd"}
    expected = [
        accuracy_of(w, s) for w, s in zip(frame["weight_decay"], frame["step"], strict=True)
    ]
    np.testing.assert_array_equal(frame["train/accuracy"].to_numpy(), np.asarray(expected))
    assert (frame.groupby("run_id").size() == 10).all()
    names = {r.record["run"] for r in Store(store).records()}
    assert names == {
        "weight-decay/wd-0.0",
        "weight-decay/wd-0.5",
        "weight-decay/wd-2.0",
        "weight-decay/crashed",
    }


def test_one_experiment_or_run_folder_and_pattern(mlruns: Path) -> None:
    (experiment,) = [p for p in mlruns.iterdir() if p.is_dir() and p.name not in ("0", ".trash")]
    runs = read_mlflow(experiment, pattern=r"wd-(?P<wd_from_name>[\d.]+)|crashed")
    assert len(runs) == 4
    assert {r.params.get("wd_from_name") for r in runs} == {None, 0.0, 0.5, 2.0}
    one = next(r for r in runs if r.name.endswith("wd-0.5"))
    run_folder = experiment / one.identity
    (again,) = read_mlflow(run_folder)
    assert again.params == {k: v for k, v in one.params.items() if k != "wd_from_name"}


def test_malformed_metric_file_is_refused(mlruns: Path, tmp_path: Path, capsys) -> None:
    import shutil

    copy = tmp_path / "mlruns"
    shutil.copytree(mlruns, copy)
    # a finished run's metric file (the deleted run, which ingest skips, has one too)
    metric = next(
        path
        for path in sorted(copy.rglob("metrics/loss"))
        if (path.parent.parent / "tags" / "mlflow.runName").read_text().startswith("wd-")
    )
    with open(metric, "a", encoding="utf-8") as handle:
        handle.write("1700000000000 not-a-number 99\n")
    store = tmp_path / "store"
    Store(store, create=True)
    before = store_snapshot(store)
    status, out, err = run_cli(["ingest", "mlflow", str(copy), "--store", str(store)], capsys)
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert str(metric) in err and "expected 'timestamp value step'" in err
    assert store_snapshot(store) == before


def test_folder_without_runs(tmp_path: Path, capsys) -> None:
    (tmp_path / "mlruns").mkdir()
    status, _, err = run_cli(
        ["ingest", "mlflow", str(tmp_path / "mlruns"), "--store", str(tmp_path / "s")], capsys
    )
    assert status == 2 and "no MLflow runs" in err


@pytest.mark.slow
def test_sqlite_database_gives_the_same_trajectories(
    mlruns: Path, tmp_path: Path, offline_home: Path
) -> None:
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("alembic")
    database = tmp_path / "mlflow.db"
    log_sweep(f"sqlite:///{database}")
    from_db = read_mlflow(database)
    from_files = read_mlflow(mlruns)
    assert [r.name for r in from_db] == [r.name for r in from_files]
    for a, b in zip(from_db, from_files, strict=True):
        assert a.params == b.params and a.status == b.status
        np.testing.assert_array_equal(a.trajectory.to_numpy(), b.trajectory.to_numpy())
