"""Rerunning a recording script: complete runs are skipped, unfinished ones continue."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from landaulab.record.recorder import Recorder
from landaulab.store import Store


def test_a_complete_run_is_skipped_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = tmp_path / "runs"
    with Recorder(store, params={"seed": 0}) as first:
        first.log(0, loss=1.0)
        first.log(1, loss=0.5)
    with (
        caplog.at_level(logging.WARNING, logger="landaulab"),
        Recorder(store, params={"seed": 0}) as again,
    ):
        assert again.skipped and again.stored is not None
        assert again.stored.status == "done"
        again.log(2, loss=99.0)  # ignored
    assert [r.getMessage() for r in caplog.records] == [
        f"run {first.run_id} (seed=0) is already in {store} (done); skipping it "
        "(overwrite=True records it again)"
    ]
    assert again.table()["loss"].tolist() == [1.0, 0.5]
    assert Store(store).trajectory(first.run_id)["loss"].tolist() == [1.0, 0.5]
    with Recorder(store, params={"seed": 0}, overwrite=True) as third:
        assert not third.skipped
        third.log(0, loss=0.1)
    assert Store(store).trajectory(first.run_id)["loss"].tolist() == [0.1]


SCRIPT = textwrap.dedent(
    """
    import sys
    import landaulab as ll

    crash_at = int(sys.argv[2])
    for seed in range(3):
        with ll.Recorder(sys.argv[1], params={"seed": seed}, resume="append") as rec:
            if rec.skipped:
                continue
            start = 0 if rec.last_step is None else rec.last_step + 1
            for step in range(start, 4):
                rec.log(step, loss=float(seed + step))
                rec.flush()
                if seed == crash_at and step == 1:
                    import os
                    os._exit(1)   # killed halfway: the run stays incomplete
    print("finished")
    """
)


def test_rerunning_a_crashed_script_skips_done_runs_and_continues(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    store = tmp_path / "runs"

    def run(crash_at: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script), str(store), str(crash_at)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    crashed = run(crash_at=1)
    assert crashed.returncode == 1
    assert len(Store(store)) == 1  # seed 0 done, seed 1 incomplete
    rerun = run(crash_at=-1)
    assert rerun.returncode == 0 and rerun.stdout.strip() == "finished", rerun.stderr
    lines = [line for line in rerun.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "already in" in lines[0] and "skipping it" in lines[0]
    assert "Traceback" not in rerun.stderr
    stored = Store(store)
    assert len(stored) == 3 and {r.status for r in stored.records()} == {"done"}
    for record in stored.records():
        seed = record.params["seed"]
        assert stored.trajectory(record.run_id)["loss"].tolist() == [
            float(seed + s) for s in range(4)
        ]


def test_a_callback_session_skips_a_complete_run(tmp_path: Path) -> None:
    from landaulab.record.callbacks._session import RecorderSession

    session = RecorderSession(tmp_path / "runs", task="framework")
    session.start({"lr": 0.1})
    session.log(0, {"loss": 1.0})
    session.finish()
    again = RecorderSession(tmp_path / "runs", task="framework")
    again.start({"lr": 0.1})
    assert again.skipped
    assert again.log(1, {"loss": 2.0}) == {"loss": 2.0}  # forwarded, and ignored
    again.finish()
    (record,) = Store(tmp_path / "runs").records()
    assert Store(tmp_path / "runs").trajectory(record.run_id)["loss"].tolist() == [1.0]
