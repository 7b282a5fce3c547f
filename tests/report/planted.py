"""Small stores with planted answers for the report tests.

* :func:`first_order_store`: samples of m from P(m) ∝ exp(−N·F(m; T)) with the planted
  first-order free energy F = (T − 1)m² − m⁴ + m⁶ (transition at T* = 1.25), published run
  by run into a store with parameters ``temperature``, ``N`` and ``seed``.
* :func:`grokking_store`: grokking-like trajectories over weight decay × training fraction:
  test accuracy jumps from chance to one at the planted time t* = 200 / (wd · (f − 0.25))
  (never when f ≤ 0.25), training accuracy rises early (memorisation), losses fall.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from landaulab.datasets import FIRST_ORDER, planted_landau
from landaulab.store import RunRecord, Store

FIRST_ORDER_TEMPERATURES = tuple(np.round(np.linspace(1.0, 1.5, 7), 4))
FIRST_ORDER_TRANSITION = 1.25
CHANCE = 1.0 / 59.0


def publish_frame(path: Path, frame: pd.DataFrame, parameters: list[str], task: str) -> Store:
    """Write every run of a tidy frame into a new store at ``path``."""
    store = Store(path, create=True)
    observables = [c for c in frame.columns if c not in ("run_id", "step", *parameters)]
    for index, (_, run) in enumerate(frame.groupby("run_id", sort=True)):
        params = {p: run[p].iloc[0].item() for p in parameters}
        record = RunRecord(run_id=f"run{index:04d}", task=task, params=params, status="done")
        store.publish(record, run[["step", *observables]].reset_index(drop=True))
    return store


def first_order_frame(seed: int = 3) -> pd.DataFrame:
    """The planted first-order ensemble (7 temperatures, N = 50 and 100, 6 runs of 80)."""
    frame = planted_landau(
        FIRST_ORDER_TEMPERATURES, [50, 100], model=FIRST_ORDER, n_runs=6, n_steps=80, seed=seed
    )
    frame["seed"] = frame["run_id"] % 6
    return frame


def first_order_store(path: Path) -> Store:
    """A store holding :func:`first_order_frame`."""
    return publish_frame(path, first_order_frame(), ["temperature", "N", "seed"], "planted_landau")


def grokking_time(weight_decay: float, train_fraction: float) -> float:
    """The planted grokking time (inf where the run never generalises)."""
    if train_fraction <= 0.25 or weight_decay <= 0:
        return float("inf")
    return 200.0 / (weight_decay * (train_fraction - 0.25))


def grokking_frame(seed: int = 0) -> pd.DataFrame:
    """Grokking-like runs: 5 weight decays × 4 training fractions × 2 seeds, 61 steps."""
    rng = np.random.default_rng(seed)
    steps = np.arange(0, 3001, 50)
    rows = []
    run = 0
    for weight_decay in (0.1, 0.3, 1.0, 3.0, 10.0):
        for train_fraction in (0.2, 0.3, 0.4, 0.6):
            for run_seed in (0, 1):
                t_star = grokking_time(weight_decay, train_fraction)
                with np.errstate(over="ignore"):
                    jump = 1.0 / (1.0 + np.exp(-(steps - t_star) / (0.08 * min(t_star, 1e9))))
                test = CHANCE + (1 - CHANCE) * jump + rng.normal(0, 0.01, steps.size)
                train = 1.0 / (1.0 + np.exp(-(steps - 150.0) / 30.0))
                rows.append(
                    pd.DataFrame(
                        {
                            "run_id": run,
                            "step": steps,
                            "weight_decay": weight_decay,
                            "train_fraction": train_fraction,
                            "seed": run_seed,
                            "test_accuracy": np.clip(test, 0, 1),
                            "train_accuracy": np.clip(
                                train + rng.normal(0, 0.002, steps.size), 0, 1
                            ),
                            "train_loss": np.exp(-steps / 400.0) + rng.normal(0, 0.01, steps.size),
                            "test_loss": 4.0 * (1 - jump) + rng.normal(0, 0.02, steps.size),
                        }
                    )
                )
                run += 1
    return pd.concat(rows, ignore_index=True)


def grokking_store(path: Path) -> Store:
    """A store holding :func:`grokking_frame`."""
    return publish_frame(
        path, grokking_frame(), ["weight_decay", "train_fraction", "seed"], "planted_grokking"
    )
