"""Stores that fill in run by run, for the watch tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from landaulab.store import RunRecord, Store

TEMPERATURES = (0.6, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4)
FIELDS = (0.0, 0.5)


def planned_store(path: Path) -> tuple[Store, dict[str, dict[str, Any]]]:
    """An empty store with a plan of 14 runs: 7 temperatures × 2 fields."""
    store = Store(path, create=True)
    plan = {
        f"run{index:02d}": {"temperature": t, "field": h, "seed": 0}
        for index, (t, h) in enumerate((t, h) for h in FIELDS for t in TEMPERATURES)
    }
    store.save_plan("planted", plan, {"task": "planted"})
    return store, plan


def trajectory(params: dict[str, Any], steps: int = 400, seed: int = 0) -> pd.DataFrame:
    """m relaxes to its ordered value below T = 1 (a clean transition), loss decays."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, steps, 2)
    target = np.sqrt(max(0.0, 1.0 - params["temperature"])) + 0.1 * params.get("field", 0.0)
    m = target * (1 - np.exp(-t / 50.0)) + rng.normal(0, 0.01, t.size)
    return pd.DataFrame({"step": t, "m": m, "loss": np.exp(-t / 100.0) + 0.01})


def publish(
    store: Store, run_id: str, params: dict[str, Any], status: str = "done", reason: str = ""
) -> None:
    """Publish one run of the plan."""
    record = RunRecord(
        run_id=run_id,
        task="planted",
        params=params,
        status=status,  # type: ignore[arg-type]
        reason=reason or None,
    )
    store.publish(record, trajectory(params, seed=int(run_id[3:])))
