"""The Ray executor on a real local cluster: same results as the local executor, a worker
killed mid-run is retried and its run lands exactly once, a killed driver resumes.

Every cluster here is private to the test: bound to 127.0.0.1, no dashboard, usage
statistics off. Tests that start one are marked ``ray`` (excluded from the default
suite: a cluster takes 5-20 s to start on a busy 2-core machine); the rest run by default.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from landaulab.execute import sweep
from landaulab.record.context import RunContext
from landaulab.spec import load_spec, parse_spec, plan_sweep
from landaulab.store import Store
from tests.foundation.sweep_helpers import trajectories, write_spec

ROOT = Path(__file__).resolve().parents[2]
MODULE = "tests.execute.test_ray"


# ------------------------------------------------------------------ user tasks
def slow(ctx: RunContext) -> None:
    """Note this process's id, then log a known ramp slowly (so it can be killed mid-run)."""
    p = ctx.params
    with open(Path(p["pid_dir"]) / f"{p['x']}.pids", "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    for step in range(int(p["steps"]) + 1):
        if ctx.due(step):
            ctx.log(step, m=expected_m(p["x"], step, ctx.seed))
        time.sleep(float(p["pause"]))


def expected_m(x: float, step: int, seed: int) -> float:
    return float(x) + 0.001 * step + seed


def doomed(ctx: RunContext) -> None:
    """Kill the worker running it, on every attempt, when ``doomed`` is set."""
    if ctx.params.get("doomed"):
        os.kill(os.getpid(), signal.SIGKILL)
    slow(ctx)


def _slow_spec(folder: Path, task: str = "slow", xs: str = "[0, 1, 2, 3]") -> str:
    """Runs of 30 steps, 0.05 s each, noting their process ids in ``folder``."""
    return f"""
name = "slow"
task = "{MODULE}:{task}"
seeds = [0]
[settings]
steps = 30
pause = 0.05
pid_dir = "{folder}"
[controls]
x = {xs}
[record]
every = 1
"""


def _assert_each_run_once(store_path: Path, planned: set[str]) -> None:
    store = Store(store_path)
    assert set(store.run_ids()) == planned
    assert sorted(p.name for p in store.runs_dir.iterdir()) == sorted(planned)
    assert not list((store_path / "staging").iterdir())


# ------------------------------------------------------------ without a cluster
def test_missing_ray_is_one_line_with_the_install_command(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    store = tmp_path / "store"
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from landaulab.cli import main\n"
        f"raise SystemExit(main(['sweep', {str(spec)!r}, '--executor', 'ray', "
        f"'--store', {str(store)!r}, '--quiet']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == ["error: the Ray executor needs Ray: pip install 'landaulab[ray]'"]
    assert not store.exists()  # nothing was written


def test_a_unit_lost_on_every_attempt_is_recorded_as_failed(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from landaulab.execute.ray import _record_lost
    from landaulab.execute.runner import RunOptions

    spec = parse_spec(_slow_spec(tmp_path, xs="[0, 1]"))
    runs = plan_sweep(spec)
    only_second = spec.model_copy(update={"controls": {"x": [1]}})
    sweep(only_second, tmp_path / "s", "serial", progress=False)
    outcomes = _record_lost(str(tmp_path / "s"), runs, RunOptions(), 3, "WorkerCrashedError")
    assert [o.outcome for o in outcomes] == ["failed", "done"]  # the done run is kept
    lost = Store(tmp_path / "s").get(runs[0].run_id)
    assert lost is not None and lost.status == "failed" and lost.attempt == 3
    assert "worker died 3 time(s)" in (lost.reason or "")


def test_bad_executor_settings_are_refused() -> None:
    pytest.importorskip("ray")
    from landaulab.errors import LandaulabError
    from landaulab.execute.ray import RayExecutor

    for kwargs in ({"max_attempts": 0}, {"num_cpus_per_run": -1}, {"address": " "}):
        with pytest.raises(LandaulabError):
            RayExecutor(**kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------- on a cluster
@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("ray")
    from landaulab.execute.ray import RayExecutor

    executor = RayExecutor(workers=2)
    executor.connect()
    yield executor
    executor.close()


@pytest.mark.ray
def test_cluster_is_private_and_on_loopback(cluster) -> None:
    import ray

    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    assert all(node["NodeManagerAddress"] == "127.0.0.1" for node in ray.nodes())
    assert os.environ.get("RAY_USAGE_STATS_ENABLED") == "0"


def _session_folders() -> set[Path]:
    import tempfile

    bases = {Path(tempfile.gettempdir()), Path("/tmp")}
    return {p for base in bases for p in base.glob("ll-ray-*")}


_SESSION_SCRIPT = """
import json, os, sys
import psutil
import ray
from landaulab.execute.ray import RayExecutor

first = RayExecutor(workers=1)
first.connect()
temp = first._temp_dir
session = ray._private.worker._global_node.get_session_dir_path()
dashboards = [
    p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
    if any("dashboard.py" in part for part in p.info["cmdline"] or [])
    and any(session in part for part in p.info["cmdline"] or [])
]
include = ray._private.worker._global_node._ray_params.include_dashboard
first.close()
second = RayExecutor(workers=1)
second.connect()
print(json.dumps({
    "temp": temp, "session": session, "removed": not os.path.exists(temp),
    "dashboards": dashboards, "include_dashboard": include, "second": second._temp_dir,
}))
sys.stdout.flush()
# no close: the end of the process removes the second session folder
"""


@pytest.mark.ray
def test_session_folder_is_private_and_removed_and_no_dashboard_is_served(
    tmp_path: Path,
) -> None:
    """Ray's session files go to a fresh short folder in the temporary directory, which
    close() removes (and the end of the process, without close); ray.init gets
    include_dashboard=False, so the only dashboard process is Ray's headless API server
    (no web frontend), bound to loopback."""
    import json

    pytest.importorskip("ray")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _SESSION_SCRIPT],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(info["temp"]).name.startswith("ll-ray-") and len(info["temp"]) <= 40
    assert info["session"].startswith(info["temp"] + os.sep)
    assert info["removed"]
    assert not Path(info["second"]).exists()
    assert info["include_dashboard"] is False
    for command in info["dashboards"]:
        assert "--disable-frontend" in command
        assert f"--host={'127.0.0.1'}" in command


@pytest.mark.ray
def test_ray_sweep_equals_the_local_executor(tmp_path: Path, cluster) -> None:
    spec = write_spec(tmp_path)
    by_ray = sweep(spec, store=tmp_path / "ray", executor=cluster, progress=False)
    assert by_ray.outcomes.get("done") == 8 and by_ray.complete
    sweep(spec, store=tmp_path / "local", executor="local", workers=2, progress=False)
    a, b = trajectories(tmp_path / "ray"), trajectories(tmp_path / "local")
    assert a.keys() == b.keys() == {r.run_id for r in plan_sweep(load_spec(spec))}
    for run_id in a:
        pd.testing.assert_frame_equal(a[run_id], b[run_id])


@pytest.mark.ray
def test_batched_members_train_as_one_ray_task(tmp_path: Path, cluster) -> None:
    text = """
task = "deep_linear"
seeds = [0, 1, 2]
[settings]
depth = 1
steps = 300
[controls]
weight_decay = [0.5, 1.5]
[record]
every = 50
"""
    spec = write_spec(tmp_path, text, "dl.toml")
    sweep(spec, store=tmp_path / "ray", executor=cluster, batching="batch", progress=False)
    sweep(spec, store=tmp_path / "serial", executor="serial", batching="batch", progress=False)
    a, b = trajectories(tmp_path / "ray"), trajectories(tmp_path / "serial")
    assert a.keys() == b.keys() and len(a) == 6
    for run_id in a:
        pd.testing.assert_frame_equal(a[run_id], b[run_id])


@pytest.mark.ray
def test_worker_killed_mid_run_is_retried_and_published_once(tmp_path: Path, cluster) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    spec = parse_spec(_slow_spec(pids))
    planned = {r.run_id for r in plan_sweep(spec)}
    victim = pids / "2.pids"
    killed: list[int] = []

    def kill_when_running() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not victim.exists():
            time.sleep(0.02)
        time.sleep(0.3)  # well inside the 1.5 s run
        pid = int(victim.read_text().split()[0])
        if pid != os.getpid():
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    killer = threading.Thread(target=kill_when_running, daemon=True)
    killer.start()
    report = sweep(spec, store=tmp_path / "s", executor=cluster, progress=False)
    killer.join(timeout=5)
    assert killed, "the victim run never started"
    attempts = victim.read_text().split()
    assert len(attempts) == 2 and int(attempts[0]) == killed[0] != int(attempts[1])
    assert report.outcomes.get("done") == 4
    _assert_each_run_once(tmp_path / "s", planned)
    store = Store(tmp_path / "s")
    for record in store.records():
        trajectory = store.trajectory(record.run_id)
        x = record.params["x"]
        assert record.status == "done" and list(trajectory["step"]) == list(range(31))
        assert trajectory["m"].tolist() == [expected_m(x, s, 0) for s in range(31)]


@pytest.mark.ray
def test_worker_dying_on_every_attempt_ends_as_failed(tmp_path: Path, cluster) -> None:
    from landaulab.execute.ray import RayExecutor

    pids = tmp_path / "pids"
    pids.mkdir()
    text = _slow_spec(pids, task="doomed", xs="[0, 1]").replace(
        "[controls]", "[controls]\ndoomed = [false, true]"
    )
    spec = parse_spec(text)
    report = sweep(spec, tmp_path / "s", RayExecutor(max_attempts=2), progress=False)
    assert report.outcomes.get("done") == 2 and report.outcomes.get("failed") == 2
    failed = [r for r in Store(tmp_path / "s").records() if r.status == "failed"]
    assert {r.params["doomed"] for r in failed} == {True}
    assert all("worker died 2 time(s)" in (r.reason or "") for r in failed)
    _assert_each_run_once(tmp_path / "s", {r.run_id for r in plan_sweep(spec)})


@pytest.mark.ray
def test_driver_killed_then_rerun_resumes(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    pids = tmp_path / "pids"
    pids.mkdir()
    spec = tmp_path / "slow.toml"
    spec.write_text(_slow_spec(pids, xs="[0, 1, 2, 3, 4, 5]"))
    store = tmp_path / "s"
    command = [
        sys.executable, "-m", "landaulab", "sweep", str(spec), "--store", str(store),
        "--executor", "ray", "--workers", "2", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    sessions = _session_folders()
    driver = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 180
    while time.time() < deadline and driver.poll() is None:
        runs = store / "runs"
        if runs.exists() and len(list(runs.iterdir())) >= 2:
            break
        time.sleep(0.05)
    assert driver.poll() is None, driver.stderr.read() if driver.stderr else ""
    driver.kill()
    driver.wait(timeout=30)
    # A killed driver cannot remove its cluster's session folder; the test does.
    for left in _session_folders() - sessions:
        shutil.rmtree(left, ignore_errors=True)
    first = set(Store(store).run_ids())
    assert 2 <= len(first) < 6
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    # Runs finished before the kill (or by workers still finishing when it came) are kept.
    counts = dict(
        reversed(part.split()) for part in again.stdout.split(":")[1].split("(")[0].split(",")
    )
    assert int(counts["skipped"]) >= len(first)
    assert int(counts["skipped"]) + int(counts.get("done", 0)) == 6
    _assert_each_run_once(store, {r.run_id for r in plan_sweep(load_spec(spec))})


@pytest.mark.ray
def test_refinement_through_ray_matches_serial(tmp_path: Path, cluster) -> None:
    from landaulab.study.refine import refine
    from tests.study.test_refine import _spec

    spec = parse_spec(_spec("crossover"))
    kwargs = {"order_parameter": "m", "tolerance": 0.01, "threshold": 0.5, "progress": False}
    by_ray = refine(spec, store=tmp_path / "ray", executor=cluster, **kwargs)
    serial = refine(spec, store=tmp_path / "serial", executor="serial", **kwargs)
    assert by_ray.boundaries == serial.boundaries and by_ray.runs == serial.runs
    assert set(Store(tmp_path / "ray").run_ids()) == set(Store(tmp_path / "serial").run_ids())
