"""What the watch page shows, read from a store as it fills in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from landaulab.errors import StoreError
from landaulab.store import Store
from landaulab.watch.state import MAX_TRAJECTORIES, TRAJECTORY_POINTS, StoreView
from tests.watch.helpers import planned_store, publish


def test_an_empty_store_shows_nothing_yet(tmp_path: Path) -> None:
    Store(tmp_path / "s", create=True)
    snapshot = StoreView(tmp_path / "s").snapshot()
    assert snapshot["progress"]["total"] == 0
    assert snapshot["phase"]["points"] == []
    assert snapshot["trajectories"]["runs"] == []
    assert snapshot["observable"] is None
    json.dumps(snapshot, allow_nan=False)


def test_a_missing_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such store"):
        StoreView(tmp_path / "nowhere")


def test_the_phase_diagram_fills_in_as_runs_are_published(tmp_path: Path) -> None:
    store, plan = planned_store(tmp_path / "s")
    view = StoreView(store.path)
    first = view.snapshot()
    assert first["progress"] == {
        "done": 0,
        "diverged": 0,
        "failed": 0,
        "pending": 14,
        "total": 14,
        "finished": 0,
        "settled": 0,
    }
    # the plan alone gives the axes: temperature (most values) against field
    assert (first["phase"]["x"], first["phase"]["y"]) == ("temperature", "field")
    assert {p["status"] for p in first["phase"]["points"]} == {"pending"}
    assert not view.refresh(), "nothing changed, nothing re-read"

    ids = sorted(plan)
    for run_id in ids[:5]:
        publish(store, run_id, plan[run_id])
    publish(store, ids[5], plan[ids[5]], status="failed", reason="ValueError: boom")
    assert view.refresh()
    second = view.snapshot()
    assert second["version"] > first["version"]
    progress = second["progress"]
    assert (progress["done"], progress["failed"], progress["pending"]) == (5, 1, 8)
    statuses = [p["status"] for p in second["phase"]["points"]]
    assert statuses.count("done") == 5 and statuses.count("pending") == 8
    filled = [p for p in second["phase"]["points"] if p["status"] == "done"]
    assert all(p["value"] is not None for p in filled)
    assert second["failures"] == [
        {
            "run_id": ids[5],
            "status": "failed",
            "reason": "ValueError: boom",
            "params": plan[ids[5]],
        }
    ]
    # m is chosen over the loss; its trajectories are drawn for the finished runs
    assert second["observables"] == ["loss", "m"]
    assert second["observable"] == "m"
    assert second["roles"]["control"] == "temperature"
    assert len(second["trajectories"]["runs"]) == 5

    for run_id in ids[6:]:
        publish(store, run_id, plan[run_id])
    assert view.refresh()
    third = view.snapshot("loss")
    assert third["progress"]["finished"] == 13 and third["progress"]["pending"] == 0
    assert third["observable"] == "loss"
    assert third["trajectories"]["observable"] == "loss"
    json.dumps(third, allow_nan=False)


def test_an_unknown_observable_falls_back_to_the_default(tmp_path: Path) -> None:
    store, plan = planned_store(tmp_path / "s")
    for run_id in sorted(plan)[:3]:
        publish(store, run_id, plan[run_id])
    view = StoreView(store.path)
    assert view.snapshot("no such column")["observable"] == "m"


def test_without_a_second_swept_parameter_the_late_value_is_the_y_axis(tmp_path: Path) -> None:
    store = Store(tmp_path / "s", create=True)
    for index, t in enumerate((0.5, 0.9, 1.3)):
        publish(store, f"run{index:02d}", {"temperature": t, "seed": 0})
    snapshot = StoreView(store.path, order_parameter="m").snapshot()
    assert snapshot["phase"]["y"] is None
    values = {p["x"]: p["value"] for p in snapshot["phase"]["points"]}
    assert values[0.5] > 0.6 and abs(values[1.3]) < 0.05


def test_trajectories_are_thinned(tmp_path: Path) -> None:
    store = Store(tmp_path / "s", create=True)
    import pandas as pd

    from landaulab.store import RunRecord

    for index in range(MAX_TRAJECTORIES + 5):
        record = RunRecord(
            run_id=f"run{index:03d}", task="t", params={"lr": 0.01 * (index + 1)}, status="done"
        )
        steps = list(range(0, 2000, 5))
        store.publish(record, pd.DataFrame({"step": steps, "m": [index * 0.1] * len(steps)}))
    trajectories = StoreView(store.path).snapshot()["trajectories"]
    assert trajectories["n_runs"] == MAX_TRAJECTORIES + 5
    assert len(trajectories["runs"]) == MAX_TRAJECTORIES
    assert all(len(r["steps"]) <= TRAJECTORY_POINTS for r in trajectories["runs"])
    controls = [r["control"] for r in trajectories["runs"]]
    assert controls[0] == pytest.approx(0.01) and controls[-1] == pytest.approx(0.45)
