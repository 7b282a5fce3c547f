"""Through the sweep machinery: batched and sequential sweeps store the same runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landaulab.execute.sweep import sweep
from landaulab.store.store import Store
from landaulab.tasks.uv_model import UV_OBSERVABLES

UV_COLUMNS = set(UV_OBSERVABLES)

SPEC = """
task = "uv_model"
seeds = [0, 1]
[settings]
width = 100
steps = 60
[controls]
lr = [0.5, 1.5, 2.5]
[record]
every = 5
"""


def _runs(store: Path) -> dict[str, tuple[str, object]]:
    target = Store(store)
    return {r.run_id: (r.status, target.trajectory(r.run_id)) for r in target.records()}


def test_batched_sweep_stores_what_the_sequential_sweep_stores(tmp_path: Path) -> None:
    spec = tmp_path / "uv.toml"
    spec.write_text(SPEC)
    for mode in ("batch", "sequential"):
        sweep(spec, store=tmp_path / mode, executor="serial", batching=mode, progress=False)
    batched, sequential = _runs(tmp_path / "batch"), _runs(tmp_path / "sequential")
    assert batched.keys() == sequential.keys() and len(batched) == 6
    statuses = sorted(status for status, _ in batched.values())
    assert statuses == ["diverged", "diverged", "done", "done", "done", "done"]  # lr 2.5: ηλ0 = 5
    for run_id, (status, table) in batched.items():
        other = sequential[run_id][1]
        assert status == sequential[run_id][0]
        numeric = [c for c in table.columns if c in UV_COLUMNS]
        assert numeric and list(table.step) == list(other.step)
        # f = u·v/√n of n = 100 terms may round differently in a batch of 6 and of 1: up
        # to eps·λ·n^1.5/2 (and carried into the loss f²/2)
        tol = np.finfo(float).eps * float(other.ntk.max()) * 100**1.5 / 2
        for column in numeric:
            atol = {"output": tol, "loss": tol * float(other.output.abs().max())}.get(column, 0)
            np.testing.assert_allclose(table[column], other[column], rtol=1e-12, atol=atol)
