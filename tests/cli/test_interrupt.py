"""Ctrl-C during a sweep: exit 130 after saying what the store keeps; the same command
resumes; nothing half-written is left in the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from landaulab.store import Store
from tests.cli.conftest import cli_env
from tests.cli.test_first_sweep import project


def test_ctrl_c_exits_130_keeps_finished_runs_and_resumes(tmp_path: Path) -> None:
    spec = project(
        tmp_path / "p",
        "task_slow",
        """
        name = "slow"
        task = "MODULE:train"
        seeds = [0, 1, 2, 3]
        [settings]
        steps = 20
        delay = 1.0
        """,
    )
    store = tmp_path / "store"
    argv = [sys.executable, "-m", "landaulab", "sweep", str(spec), "--store", str(store)]
    argv += ["--workers", "1", "--quiet"]
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli_env(), start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 120
        while time.time() < deadline and process.poll() is None:
            if (store / "runs").exists() and any((store / "runs").glob("*/run.json")):
                break
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        os.killpg(process.pid, signal.SIGINT)  # as the terminal does: the whole group
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), stderr
    kept = Store(store).records()
    assert 1 <= len(kept) < 4 and all(r.status == "done" for r in kept)
    assert f"{len(kept)} runs are in" in lines[0] and f"{4 - len(kept)} pending" in lines[0]
    assert "re-run the same command to resume" in lines[0]
    assert not any((store / "staging").iterdir())
    assert Store(store).status_counts()["pending"] == 4 - len(kept)

    resumed = subprocess.run(
        [*argv[:-3], "--executor", "serial", "--quiet"], capture_output=True, text=True,
        env=cli_env(), timeout=120,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(kept)} skipped" in resumed.stdout
    assert Store(store).status_counts() == {"done": 4, "diverged": 0, "failed": 0, "pending": 0}
