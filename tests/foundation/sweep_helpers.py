"""Shared helpers for sweep tests: tiny specs and store fingerprints."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from landaulab.store import Store

TINY = """
name = "tiny"
task = "modular_arithmetic"
seeds = [0, 1]
[settings]
p = 11
width = 16
embedding_dim = 8
steps = 150
stop_accuracy = 1.0
[controls]
weight_decay = [0.1, 1.0]
train_fraction = [0.5, 0.7]
[record]
every = 10
"""


def write_spec(folder: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def trajectories(store_path: Path) -> dict[str, pd.DataFrame]:
    store = Store(store_path)
    return {r.run_id: store.trajectory(r.run_id) for r in store.records()}
