"""The ingest registry, and importing the same logs again: idempotent, or refused/replaced."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from landaulab.errors import DataError
from landaulab.store import Store
from landaulab.store.ingest import ingest_table
from landaulab.store.ingest.common import make_run
from landaulab.store.ingest.registry import SOURCES, get_source, register_source
from tests.ingest.conftest import run_cli, store_snapshot


def _table(path: Path) -> Path:
    rows = [
        {"run": run, "step": step, "wd": wd, "batch": 32, "loss": wd + 1 / (step + 1)}
        for run, wd in (("a", 0.1), ("b", 0.3))
        for step in range(0, 20, 5)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def read_toy(path: Any, *, params: Any = None, pattern: Any = None) -> list[Any]:
    """A toy reader: one run with a straight line."""
    return [
        make_run(
            name="toy",
            identity="toy",
            source=str(path),
            params=dict(params or {}),
            columns={"loss": {0: 1.0, 1: 0.5}},
        )
    ]


def test_a_new_source_is_one_registration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register_source("toy", f"{__name__}:read_toy", "a toy source")
    try:
        status, out, err = run_cli(
            ["ingest", "toy", str(tmp_path), "--store", str(tmp_path / "s"), "--params", "x=1"],
            capsys,
        )
        assert (status, err) == (0, ""), err
        assert "imported 1 toy run(s)" in out
        status, _, err = run_cli(
            ["ingest", "toy", str(tmp_path), "--store", str(tmp_path / "s"), "--layout", "long"],
            capsys,
        )
        assert status == 2 and err.strip() == "error: --layout applies to 'ingest csv' only"
    finally:
        SOURCES.pop("toy")


def test_the_cli_reads_its_choices_from_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(["ingest", "nope", "x"], capsys)
    assert status == 2
    assert err.strip() == (
        "error: unknown ingest source 'nope'; choose one of: " + ", ".join(SOURCES)
    )
    assert get_source("CSV").name == "csv"
    status, out, _ = run_cli(["ingest", "--help"], capsys)
    assert status == 0 and all(name in out for name in SOURCES)


def test_reimport_with_the_same_options_keeps_the_run_ids(tmp_path: Path) -> None:
    path = _table(tmp_path / "t.csv")
    first = ingest_table(path, tmp_path / "s", run_col="run", param_cols=["wd"])
    again = ingest_table(path, tmp_path / "s", run_col="run", param_cols=["wd"])
    assert len(first.added) == 2 and again.added == () and again.skipped == first.added
    assert Store(tmp_path / "s").run_ids() == sorted(first.added)


def test_reimport_with_other_options_is_refused_or_replaces(tmp_path: Path) -> None:
    path = _table(tmp_path / "t.csv")
    store = tmp_path / "s"
    first = ingest_table(path, store, run_col="run", param_cols=["wd"])
    before = store_snapshot(store)
    with pytest.raises(DataError, match=r"imported before with other options.*replace"):
        ingest_table(path, store, run_col="run", param_cols=["wd", "batch"])
    assert store_snapshot(store) == before
    replaced = ingest_table(path, store, run_col="run", param_cols=["wd", "batch"], replace=True)
    assert set(replaced.replaced) == set(first.added) and len(replaced.added) == 2
    assert replaced.notes == [
        "replaced 2 run(s) imported before from the same logs with other options"
    ]
    assert Store(store).run_ids() == sorted(replaced.added)
    assert {r.params["batch"] for r in Store(store).records()} == {32}


def test_reimport_in_a_real_process(tmp_path: Path, landaulab_cmd: list[str]) -> None:
    path = _table(tmp_path / "t.csv")
    store = tmp_path / "s"

    def ingest(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *landaulab_cmd,
                "ingest",
                "csv",
                str(path),
                "--store",
                str(store),
                "--run-col",
                "run",
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert ingest().returncode == 0
    before = store_snapshot(store)
    refused = ingest("--param-col", "wd")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith(f"error: {path.resolve().as_posix()}: ")
    assert "--replace" in refused.stderr and "Traceback" not in refused.stderr
    assert store_snapshot(store) == before
    replaced = ingest("--param-col", "wd", "--replace")
    assert replaced.returncode == 0
    assert replaced.stderr.strip() == (
        "replaced 2 run(s) imported before from the same logs with other options"
    )
    assert len(Store(store).run_ids()) == 2
