"""A newcomer's first sweeps: no silent traps.

An unavailable ``--device`` is refused before any run; failed runs make the sweep exit 1
with their reasons and the ``--retry-failed`` hint (also on a re-run that skips them);
``status`` shows why runs failed; a task beside the spec imports without ``PYTHONPATH``;
Ctrl-C exits 130 after saying what the store keeps, and the same command resumes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Runner, cli_env

Main = Callable[..., tuple[int, str, str]]

TASK = """
import time


def train(ctx):
    for step in range(int(ctx.params["steps"]) + 1):
        if ctx.params.get("fail") and step == 3:
            raise RuntimeError("simulated failure")
        if ctx.due(step):
            ctx.log(step, m=1.0 / (1.0 + step + ctx.seed))
    time.sleep(float(ctx.params.get("delay", 0)))
"""


def project(folder: Path, module: str, spec: str) -> Path:
    """A spec and its task module ``module`` side by side in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(TASK)
    path = folder / "spec.toml"
    path.write_text(textwrap.dedent(spec).replace("MODULE", module))
    return path


FAILING = """
    name = "first"
    task = "MODULE:train"
    seeds = [0, 1]
    [settings]
    steps = 20
    [controls]
    fail = [true, false]
"""


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="this machine has CUDA"
)  # fmt: skip
def test_cuda_without_cuda_is_refused_before_any_run(cli: Runner, tmp_path: Path) -> None:
    spec = project(tmp_path / "p", "task_cuda", FAILING)
    store = tmp_path / "store"
    done = cli("sweep", str(spec), "--store", str(store), "--device", "cuda", "--quiet")
    assert done.returncode == 2
    assert "CUDA is not available" in _one_error_line(done.stderr)
    assert not store.exists()


@pytest.mark.parametrize("device", ["gpu", "cuda:99", "tpu"])
def test_any_unusable_device_is_one_line_and_status_2(
    run_main: Main, tmp_path: Path, device: str
) -> None:
    spec = project(tmp_path / "p", "task_device", FAILING)
    status, _, stderr = run_main(
        "sweep", str(spec), "--store", str(tmp_path / "s"), "--device", device
    )
    assert status == 2
    assert "--device" in _one_error_line(stderr)
    assert not (tmp_path / "s").exists()


def test_failures_exit_1_with_reasons_and_the_retry_hint(
    run_main: Main, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = project(tmp_path / "project", "task_failing", FAILING)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the task imports from the spec's folder
    store = tmp_path / "store"
    argv = ["sweep", str(spec), "--store", str(store), "--executor", "serial", "--quiet"]
    for _attempt in range(2):  # the re-run skips the failed runs, and still says so
        status, stdout, stderr = run_main(*argv)
        assert status == 1, stderr
        assert "2 runs failed:" in stderr
        assert "2 × RuntimeError: simulated failure" in stderr
        assert "--retry-failed" in stderr and "Traceback" not in stderr
    assert "4 skipped" in stdout

    status, stdout, _ = run_main("status", str(store), "--json")
    assert status == 0
    payload = json.loads(stdout)
    assert payload["failures"] == [
        {
            "reason": "RuntimeError: simulated failure",
            "count": 2,
            "run_ids": sorted(r["run_id"] for r in payload["runs"] if r["status"] == "failed"),
        }
    ]
    for run in payload["runs"]:
        assert {"reason", "duration_s", "stopped_early", "final"} <= set(run)
        if run["status"] == "done":
            assert run["reason"] is None and run["final"]["step"] == 20
            assert run["final"]["m"] == pytest.approx(1 / (21 + run["params"]["seed"]))
        else:
            assert "simulated failure" in run["reason"]
    status, stdout, _ = run_main("status", str(store))
    assert (
        status == 0 and "RuntimeError: simulated failure" in stdout and "--retry-failed" in stdout
    )


def test_the_task_import_path_is_the_spec_folder_then_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from landaulab.execute.sweep import task_import_path

    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "specs" / "a.toml"
    before = list(sys.path)
    with task_import_path(spec) as added:
        assert sys.path[: len(added)] == added
        assert added == [str(spec.parent.resolve()), os.getcwd()]
    assert sys.path == before


SCRIPT = """
import landaulab as ll

report = ll.sweep("spec.toml", store="store", workers=2, progress=False)
print("REPORT", report)
"""


def test_a_plain_script_sweeps_without_a_main_guard(tmp_path: Path) -> None:
    spec = project(tmp_path, "task_script", FAILING.replace("[true, false]", "[false]"))
    (spec.parent / "script.py").write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, "script.py"], cwd=tmp_path, capture_output=True, text=True,
        env=cli_env(), timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "REPORT 2 runs planned: 2 done" in done.stdout
    notes = [line for line in done.stderr.splitlines() if "__main__" in line]
    assert len(notes) == 1 and "training in this process" in notes[0], done.stderr
    assert "worker process died" not in done.stderr


PROBE = """
from landaulab.execute.local import unguarded_main_script

def probe():
    return unguarded_main_script()

print("top", probe() is not None)
if __name__ == "__main__":
    print("guarded", probe() is not None)
"""


def test_only_unguarded_top_level_code_is_detected(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(PROBE)
    done = subprocess.run(
        [sys.executable, "probe.py"], cwd=tmp_path, capture_output=True, text=True,
        env=cli_env(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["top", "True", "guarded", "False"]
