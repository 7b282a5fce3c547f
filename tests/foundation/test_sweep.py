"""Sweeps: resume, divergence, retries, SIGKILL at a random moment, concurrent sweeps."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from landaulab.cli import main
from landaulab.execute import sweep
from landaulab.spec import load_spec, plan_sweep
from landaulab.store import Store

from .sweep_helpers import TINY, trajectories, write_spec


def test_serial_sweep_then_resume_skips_done_runs(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    first = sweep(spec, store=tmp_path / "s", executor="serial", progress=False)
    assert first.outcomes.get("done") == 8 and first.complete
    second = sweep(spec, store=tmp_path / "s", executor="serial", progress=False)
    assert second.outcomes == {"skipped": 8}
    planned = {r.run_id for r in plan_sweep(load_spec(spec))}
    assert set(Store(tmp_path / "s").run_ids()) == planned
    frame = Store(tmp_path / "s").frame()
    assert {"weight_decay", "train_fraction", "seed", "test_accuracy"} <= set(frame.columns)


def test_same_seed_same_trajectory_across_executors(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    sweep(spec, store=tmp_path / "a", executor="serial", progress=False)
    sweep(spec, store=tmp_path / "b", executor="local", workers=2, progress=False)
    a, b = trajectories(tmp_path / "a"), trajectories(tmp_path / "b")
    assert a.keys() == b.keys()
    for run_id in a:
        pd.testing.assert_frame_equal(a[run_id], b[run_id])


NAN_SPEC = """
task = "modular_arithmetic"
seeds = [0]
[settings]
p = 11
width = 16
embedding_dim = 8
optimizer = "sgd"
steps = 200
stop_accuracy = 1.0
[controls]
lr = [0.01, 1e6]
[record]
every = 5
"""


def test_nan_loss_is_recorded_as_diverged_and_the_others_finish(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, NAN_SPEC, "nan.toml")
    report = sweep(spec, store=tmp_path / "s", executor="local", workers=2, progress=False)
    assert report.outcomes == {"done": 1, "diverged": 1, "skipped": 0}
    store = Store(tmp_path / "s")
    by_lr = {r.params["lr"]: r for r in store.records()}
    assert by_lr[0.01].status == "done"
    bad = by_lr[1e6]
    assert bad.status == "diverged"
    assert bad.diverged is not None and bad.diverged["observable"] in {
        "train_loss",
        "test_loss",
        "weight_norm",
    }
    assert bad.diverged["step"] > 0
    assert len(store.trajectory(bad.run_id)) >= 1


FAIL_SPEC = """
task = "tests.foundation.user_tasks:flaky"
seeds = [0, 1]
[settings]
steps = 20
[controls]
fail = [true, false]
"""


def test_failed_runs_are_retried_only_with_retry_failed(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, FAIL_SPEC, "fail.toml")
    store = tmp_path / "s"
    report = sweep(spec, store=store, executor="serial", progress=False)
    assert report.outcomes == {"done": 2, "failed": 2, "skipped": 0}
    failed = [r for r in Store(store).records() if r.status == "failed"]
    assert all("RuntimeError" in (r.reason or "") for r in failed)
    again = sweep(spec, store=store, executor="serial", progress=False)
    assert again.outcomes == {"skipped": 4}
    retried = sweep(spec, store=store, executor="serial", progress=False, retry_failed=True)
    assert retried.outcomes == {"failed": 2, "skipped": 2}
    assert all(r.attempt == 1 for r in Store(store).records())
    assert len(Store(store)) == 4


def _spawn_sweep(spec: Path, store: Path, workers: int = 2) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "landaulab",
            "sweep",
            str(spec),
            "--store",
            str(store),
            "--workers",
            str(workers),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )


KILL_SPEC = TINY.replace("steps = 150", "steps = 400").replace(
    "seeds = [0, 1]", "seeds = [0, 1, 2]"
)


def test_sigkill_at_a_random_moment_then_resume_gives_each_run_once(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, KILL_SPEC)
    reference = tmp_path / "reference"
    sweep(spec, store=reference, executor="local", workers=2, progress=False)
    expected = trajectories(reference)
    rng = random.Random(int.from_bytes(os.urandom(4), "little"))
    killed = tmp_path / "killed"
    for _ in range(2):
        process = _spawn_sweep(spec, killed)
        time.sleep(rng.uniform(1.0, 8.0))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
    # nothing partial is visible after the kills
    if killed.exists():
        for run_dir in (killed / "runs").iterdir():
            assert (run_dir / "run.json").exists() and (run_dir / "trajectory.parquet").exists()
    resumed = _spawn_sweep(spec, killed)
    _out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err.decode()
    got = trajectories(killed)
    assert got.keys() == expected.keys()
    for run_id, table in expected.items():
        pd.testing.assert_frame_equal(got[run_id], table)
    status = subprocess.run(
        [sys.executable, "-m", "landaulab", "status", str(killed), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    payload = json.loads(status.stdout)
    assert payload["done"] == len(expected) and payload["pending"] == 0
    assert payload["failed"] == payload["diverged"] == 0


def test_two_concurrent_sweeps_on_one_store_do_not_corrupt_it(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    store = tmp_path / "shared"
    first = _spawn_sweep(spec, store, workers=1)
    second = _spawn_sweep(spec, store, workers=1)
    for process in (first, second):
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
    reference = tmp_path / "reference"
    sweep(spec, store=reference, executor="serial", progress=False)
    got, expected = trajectories(store), trajectories(reference)
    assert got.keys() == expected.keys()
    for run_id, table in expected.items():
        pd.testing.assert_frame_equal(got[run_id], table)
    assert not list((store / "staging").iterdir())


def test_status_json_counts_pending_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    store = tmp_path / "s"
    runs = plan_sweep(load_spec(spec))
    Store(store, create=True).save_plan(
        "tiny", {r.run_id: r.params for r in runs}, load_spec(spec).model_dump()
    )
    assert main(["status", str(store), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["pending"] == 8 and payload["done"] == 0
    assert {r["status"] for r in payload["runs"]} == {"pending"}
    assert all(r["params"]["p"] == 11 for r in payload["runs"])
    assert main(["status", str(tmp_path / "nowhere")]) == 2
