"""The watch server's endpoints, through Starlette's test client (no browser needed)."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the 'watch' extra is not installed")
pytest.importorskip("sse_starlette", reason="the 'watch' extra is not installed")
pytest.importorskip("httpx", reason="Starlette's test client needs httpx")

from starlette.testclient import TestClient

from landaulab.cli import main
from landaulab.errors import LandaulabError
from landaulab.watch.server import (
    Watch,
    allowed_hosts_for,
    bind,
    create_app,
    is_loopback,
    url_of,
)
from landaulab.watch.verdict import ProcessRunner, Verdicts, analysis_main, run_in_process
from tests.watch.helpers import planned_store, publish


def _fake_runner(calls: list[Mapping[str, Any]]) -> Any:
    def runner(request: Mapping[str, Any], budget: float) -> dict[str, Any]:
        calls.append(request)
        return {"summary": {"order": "second", "n_bootstrap": 200}}

    return runner


def test_the_page_and_its_files_are_served_from_the_package(tmp_path: Path) -> None:
    store, _ = planned_store(tmp_path / "s")
    watch = Watch(store.path, analysis_budget=0)
    client = TestClient(create_app(watch))
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for element in ('id="progress"', 'id="phase"', 'id="trajectories"', 'id="verdict"'):
        assert element in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http-equiv", ""), "nothing loaded from elsewhere"
    script = client.get("/watch.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "EventSource" in script.text
    assert "http" not in script.text.replace("http://www.w3.org/2000/svg", "")
    assert client.get("/watch.css").headers["content-type"].startswith("text/css")
    assert client.get("/nothing").status_code == 404


def test_the_state_follows_the_store(tmp_path: Path) -> None:
    store, plan = planned_store(tmp_path / "s")
    calls: list[Mapping[str, Any]] = []
    watch = Watch(store.path, runner=_fake_runner(calls))
    client = TestClient(create_app(watch))
    state = client.get("/api/state").json()
    assert state["progress"]["pending"] == 14
    assert state["analysis"]["state"] == "waiting"
    ids = sorted(plan)
    for run_id in ids[:6]:
        publish(store, run_id, plan[run_id])
    assert watch.refresh()
    watch.verdicts.join(10)
    state = client.get("/api/state", params={"observable": "loss"}).json()
    assert state["progress"]["finished"] == 6
    assert state["observable"] == "loss"
    assert state["analysis"]["state"] == "ready"
    assert state["analysis"]["summary"]["order"] == "second"
    assert len(calls) == 1 and calls[0]["path"] == str(store.path.resolve())
    assert not watch.refresh()
    watch.verdicts.update(watch.view.finished_key)
    watch.verdicts.join(10)
    assert len(calls) == 1, "the same finished runs are analysed once"


def test_events_announce_each_new_version(tmp_path: Path) -> None:
    store, plan = planned_store(tmp_path / "s")
    watch = Watch(store.path, analysis_budget=0, interval=0.05)
    seen: list[int] = []

    def publish_later() -> None:
        time.sleep(0.5)
        run_id = sorted(plan)[0]
        publish(store, run_id, plan[run_id])

    threading.Thread(target=publish_later, daemon=True).start()
    with TestClient(create_app(watch)) as client:  # runs the lifespan: the store is polled
        with client.stream("GET", "/api/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            deadline = time.monotonic() + 20
            for line in response.iter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line[5:])["version"])
                if len(seen) == 2 or time.monotonic() > deadline:
                    break
    assert len(seen) == 2 and seen[1] > seen[0]


def test_a_foreign_host_header_is_refused(tmp_path: Path) -> None:
    store, _ = planned_store(tmp_path / "s")
    watch = Watch(store.path, analysis_budget=0)
    client = TestClient(create_app(watch, allowed_hosts=allowed_hosts_for("127.0.0.1")))
    assert client.get("/", headers={"host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400
    ipv6 = TestClient(create_app(watch, allowed_hosts=allowed_hosts_for("::1")))
    assert ipv6.get("/", headers={"host": "[::1]:8765"}).status_code == 200
    assert ipv6.get("/", headers={"host": "attacker.example"}).status_code == 400


def test_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert allowed_hosts_for("0.0.0.0") is None
    sock = bind("127.0.0.1", 0)
    try:
        url = url_of(sock)
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0/")
        taken = sock.getsockname()[1]
        with pytest.raises(LandaulabError, match="cannot listen"):
            bind("127.0.0.1", taken)
    finally:
        sock.close()


def test_verdicts_wait_for_enough_runs_and_report_errors() -> None:
    answers = iter([{"error": "too few control values"}, {"failed": "it broke"}])
    verdicts = Verdicts({"path": "x"}, runner=lambda request, budget: next(answers), min_runs=3)
    verdicts.update((2, 1))
    assert verdicts.state()["state"] == "waiting"
    verdicts.update((3, 2))
    verdicts.join(10)
    state = verdicts.state()
    assert (state["state"], state["message"]) == ("insufficient", "too few control values")
    verdicts.update((4, 3))
    verdicts.join(10)
    assert verdicts.state()["state"] == "failed"
    off = Verdicts({"path": "x"}, budget=0)
    off.update((10, 1))
    assert off.state()["state"] == "off"


def test_the_analysis_runs_in_a_process_within_its_budget(tmp_path: Path) -> None:
    store, plan = planned_store(tmp_path / "s")
    for run_id in sorted(plan)[:7]:  # the seven temperatures at zero field
        publish(store, run_id, plan[run_id])
    answer = run_in_process({"path": str(store.path), "order_parameter": "m"}, 120)
    summary = answer["summary"]
    assert summary["order_parameter"] == "m" and summary["control"] == "temperature"
    assert summary["order"] in ("first", "second", "crossover", "none")
    assert summary["n_runs"] == 7
    slow = run_in_process({"path": str(store.path)}, 0.01)
    assert "budget" in slow["failed"]


def test_stopping_ends_the_running_analysis(tmp_path: Path) -> None:
    store, _ = planned_store(tmp_path / "s")
    runner = ProcessRunner()
    answers: list[dict[str, Any]] = []
    worker = threading.Thread(target=lambda: answers.append(runner({"path": str(store.path)}, 60)))
    worker.start()
    deadline = time.monotonic() + 10
    while runner._process is None and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    runner.stop()
    worker.join(10)
    assert answers and "failed" in answers[0]
    assert time.monotonic() - started < 5
    assert runner({"path": str(store.path)}, 60) == {"failed": "stopped"}


def test_the_analysis_process_answers_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"path": str(tmp_path / "no")})))
    assert analysis_main() == 0
    answer = json.loads(capsys.readouterr().out)
    assert "no such store" in answer["error"]


def test_the_command_refuses_a_bad_store_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watch", str(tmp_path / "nowhere"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such store" in err


def test_the_command_refuses_a_taken_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, _ = planned_store(tmp_path / "s")
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        code = main(["watch", str(store.path), "--port", str(port), "--analysis-budget", "0"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot listen" in err


def test_a_failed_reading_is_reported_once_and_retried(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, _ = planned_store(tmp_path / "s")
    watch = Watch(store.path, analysis_budget=0, interval=0.01)
    calls: list[int] = []

    def refresh() -> bool:
        calls.append(1)
        if len(calls) <= 3:
            raise OSError("the disk hiccuped")
        return False

    watch.refresh = refresh  # type: ignore[method-assign]

    async def poll() -> None:
        task = asyncio.create_task(watch.run())
        while len(calls) < 5:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(asyncio.wait_for(poll(), timeout=20))
    assert capsys.readouterr().err.count("the disk hiccuped") == 1
