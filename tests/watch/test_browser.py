"""The watch page in real headless Chromium, while a sweep fills the store.

Runs in the default suite when a Chromium binary (Debian: ``apt-get install chromium``; or
``LANDAULAB_CHROMIUM``) and the ``playwright`` package are present, and is skipped with
the reason otherwise. Playwright drives the given binary (``executable_path``); it never
downloads a browser. Chromium runs with background networking, component updates and
sync off; the page is served on loopback.

The test opens the page on an empty store, starts a small sweep of the uv model into it,
and watches the page change: the progress moves, the phase diagram gains points, the
diverged runs are listed, the trajectories follow the chosen observable, and the analysis
verdict appears once enough runs are in.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from landaulab.store import Store

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
LANDAULAB = (sys.executable, "-m", "landaulab")
SERIAL = ("--executor", "serial", "--batching", "sequential", "--quiet")

# Five runs of under a second each converge (lr below the catapult's divergence edge 2 in
# units of 2/λ0), one diverges at once.
SPEC = """
name = "watch-uv"
task = "uv_model"
seeds = [0]
[settings]
width = 200
steps = 6000
[controls]
lr = [0.4, 0.8, 1.2, 1.6, 1.9, 2.4]
[record]
every = 100
"""


def _chromium() -> str | None:
    override = os.environ.get("LANDAULAB_CHROMIUM")
    if override:
        return override if Path(override).exists() or shutil.which(override) else None
    return next((path for name in _CANDIDATES if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = _chromium()
    if binary is None:
        pytest.skip(
            "no Chromium binary found (install Debian's 'chromium' package, or set "
            "LANDAULAB_CHROMIUM to a Chromium/Chrome executable)"
        )
    pytest.importorskip(
        "playwright.sync_api", reason="the 'playwright' package (in the 'test' extra) is missing"
    )
    pytest.importorskip("uvicorn", reason="the 'watch' extra is not installed")
    return binary


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    env["OMP_NUM_THREADS"] = "1"
    return env


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``landaulab watch`` on an empty store, on a free loopback port: (url, store)."""
    store = Store(tmp_path / "store", create=True).path
    process = subprocess.Popen(
        [*LANDAULAB, "watch", str(store), "--port", "0", "--interval", "0.3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        line = _first_line(process, 60)
        match = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert match, f"no address printed: {line!r}"
        yield match.group(1), store
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("landaulab watch did not stop on SIGINT")


def _number(page: Any, selector: str, attribute: str) -> int:
    return int(page.get_attribute(selector, attribute) or 0)


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` (through Playwright's own queries: the page's content security
    policy forbids evaluating strings, and stays on)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"the page did not show {what} within {timeout:g} s")
        time.sleep(0.2)


def test_the_page_changes_while_a_sweep_runs(
    chromium: str, served: tuple[str, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    url, store = served
    spec = tmp_path / "uv.toml"
    spec.write_text(SPEC)
    sweep = None
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=chromium,
            headless=True,
            args=_FLAGS,
            viewport={"width": 1200, "height": 1000},
        )
        try:
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("requestfailed", lambda request: problems.append(request.url))
            page.goto(url)
            page.wait_for_selector('#progress[data-total="0"]', timeout=20_000)
            page.wait_for_selector('#live[data-live="yes"]', timeout=20_000)
            assert "No runs" in page.inner_text("#progress")

            sweep = subprocess.Popen(
                [*LANDAULAB, "sweep", str(spec), "--store", str(store), *SERIAL],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(),
            )
            # the plan appears: six runs pending, the phase diagram drawn with open points
            _wait(lambda: _number(page, "#progress", "data-total") == 6, 30, "the plan")
            _wait(lambda: _number(page, "#progress", "data-finished") > 0, 30, "a finished run")
            first = _number(page, "#phase", "data-filled")
            assert _number(page, "#phase", "data-points") == 6
            assert first < 6, "the sweep finished before the page saw it fill in"
            _wait(lambda: _number(page, "#phase", "data-filled") > first, 30, "more points")
            _wait(lambda: _number(page, "#progress", "data-finished") == 6, 40, "all runs")
            assert sweep.wait(timeout=30) == 0, sweep.stderr.read() if sweep.stderr else ""
            assert "6 of 6 runs finished" in page.inner_text("#progress")
            assert "diverged" in page.inner_text("#failures")
            assert page.locator("#phase circle.pt-done").count() == 5
            assert _number(page, "#trajectories", "data-runs") == 6
            assert page.locator("#trajectories path.traj").count() >= 5

            # another observable redraws the trajectories
            page.select_option("#observable", "loss")
            _wait(lambda: "loss" in (page.text_content("#trajectories") or ""), 20, "the loss axis")
            # the verdict of the analysis, computed in the background
            page.wait_for_selector(
                '#verdict[data-state="ready"], #verdict[data-state="insufficient"]',
                timeout=60_000,
            )
            assert (
                "transition" in page.inner_text("#verdict")
                or page.get_attribute("#verdict", "data-state") == "insufficient"
            )
            assert not problems, problems
        finally:
            context.close()
            if sweep is not None and sweep.poll() is None:
                sweep.kill()
                sweep.wait()
