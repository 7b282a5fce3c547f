"""``Recorder`` on users' own loops: crash safety, resume, divergence, overhead, round trip."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from landaulab.errors import StoreError
from landaulab.record.observables import ParameterNorm
from landaulab.record.recorder import Recorder
from landaulab.record.schedule import Schedule
from landaulab.store import Store
from landaulab.store.run_ids import run_id_of

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys, time
from pathlib import Path
from landaulab.record.recorder import Recorder

store, marker = sys.argv[1], Path(sys.argv[2])
with Recorder(store, params={"lr": 0.1, "seed": 7}, flush_every=10) as rec:
    for step in range(30):
        rec.log(step, loss=step**2, accuracy=step / 30)
    marker.write_text(rec.run_id)
    while True:
        time.sleep(0.1)
"""


def _killed_child(store: Path, marker: Path) -> str:
    """Start a recording process, wait until it journaled 30 steps, and SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(store), str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the recording process died early"
            assert time.monotonic() < deadline, "the recording process never got going"
            time.sleep(0.05)
        run_id = marker.read_text()
        with pytest.raises(StoreError, match="another process"):
            Recorder(store, params={"lr": 0.1, "seed": 7}).__enter__()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    return run_id


def test_killed_run_stays_incomplete_then_appends_or_restarts(tmp_path: Path) -> None:
    store = tmp_path / "store"
    run_id = _killed_child(store, tmp_path / "ready")
    assert run_id == run_id_of("user", {"lr": 0.1, "seed": 7}, {})
    assert Store(store).run_ids() == []
    journal = store / "incomplete" / run_id
    assert len(list(journal.glob("chunk-*.parquet"))) == 3
    shutil.copytree(store, tmp_path / "copy")

    with Recorder(store, params={"seed": 7, "lr": 0.1}, resume="append") as rec:
        assert rec.last_step == 29
        for step in range(rec.last_step + 1, 40):
            rec.log(step, loss=step**2, accuracy=step / 30)
    table = Store(store).trajectory(run_id)
    assert table["step"].tolist() == list(range(40))
    np.testing.assert_array_equal(table["loss"], np.arange(40.0) ** 2)
    assert Store(store).get(run_id).status == "done" and not journal.exists()

    with Recorder(tmp_path / "copy", params={"lr": 0.1, "seed": 7}, resume="restart") as rec:
        assert rec.last_step is None
        for step in range(5):
            rec.log(step, loss=-1.0)
    table = Store(tmp_path / "copy").trajectory(run_id)
    assert table["step"].tolist() == list(range(5)) and (table["loss"] == -1.0).all()
    assert "accuracy" not in table.columns


def test_non_finite_value_marks_diverged_and_logging_goes_on(tmp_path: Path) -> None:
    with Recorder(tmp_path / "store", params={"lr": 10.0}) as rec:
        for step in range(10):
            rec.log(step, loss=float("inf") if step == 7 else 1.0, other=float(step))
    record = Store(tmp_path / "store").get(rec.run_id)
    assert record.status == "diverged"
    assert record.diverged == {"step": 7, "observable": "loss"}
    frame = Store(tmp_path / "store").frame()
    assert frame["step"].tolist() == list(range(10))
    assert np.isinf(frame["loss"].iloc[7]) and frame["other"].iloc[9] == 9.0


def test_error_fails_the_run_and_ctrl_c_leaves_it_incomplete(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with pytest.raises(ValueError), Recorder(store, params={"seed": 1}) as rec:
        rec.log(0, loss=1.0)
        raise ValueError("bad batch")
    failed = Store(store).get(rec.run_id)
    assert failed.status == "failed" and "ValueError: bad batch" in failed.reason
    assert Store(store).frame()["run_id"].tolist() == []  # failed runs are left out

    with pytest.raises(KeyboardInterrupt), Recorder(store, params={"seed": 2}) as rec:
        rec.log(0, loss=1.0)
        raise KeyboardInterrupt
    assert rec.run_id not in Store(store)
    assert (store / "incomplete" / rec.run_id / "chunk-000000.parquet").exists()

    with Recorder(store, params={"seed": 1}) as again:  # a failed run may be recorded again
        again.log(0, loss=0.5)
    assert Store(store).get(again.run_id).status == "done"
    with (
        pytest.raises(StoreError, match="already in"),
        Recorder(store, params={"seed": 1}, if_complete="error"),
    ):
        pass
    with Recorder(store, params={"seed": 1}, overwrite=True) as third:
        third.log(0, loss=0.25)
    assert Store(store).trajectory(third.run_id)["loss"].tolist() == [0.25]


def _grokking_step_and_recorder_costs(
    tmp_path: Path, steps: int, calls: int
) -> tuple[float, float]:
    """Median wall time of a grokking-MLP training step, and mean time of rec.log +
    rec.observe when nothing is due (interleaved, so both see the same machine load)."""
    from landaulab.tasks.modular_arithmetic import (
        ModularArithmeticParameters,
        build,
        loss_function,
        make_optimizer,
    )

    params = ModularArithmeticParameters(p=97, embedding_dim=64, width=128)
    model, data = build(params, seed=0)
    optimizer = make_optimizer(params, model)
    batch = (data.train_inputs, data.train_labels)
    never = Schedule(total_steps=10**9, every=10**9)
    observables = [ParameterNorm(schedule=never), ParameterNorm(name="norm2", schedule=never)]
    step_times, record_times = [], []
    with Recorder(tmp_path / "store", params={"bench": 1}, observables=observables) as rec:
        for step in range(1, steps + 1):
            start = time.perf_counter()
            loss = loss_function(params.loss, model(batch[0]), batch[1])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            value = float(loss.detach())
            step_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            for k in range(calls):
                index = step * calls + k
                rec.log(index, train_loss=value)
                rec.observe(index, model, batch)
            record_times.append(time.perf_counter() - start)
    # journal flushes happen every few hundred calls: average over all calls, flushes included
    return float(np.median(step_times)), float(np.sum(record_times)) / (steps * calls)


def test_overhead_when_nothing_is_due_is_under_two_percent(tmp_path: Path) -> None:
    step, record = _grokking_step_and_recorder_costs(tmp_path, steps=6, calls=100)
    ratio = record / step
    assert ratio < 0.02, f"recorder {record * 1e6:.1f} µs per step vs training {step * 1e3:.2f} ms"


# ------------------------------------------------------------------- round trip
def train_deep_linear_user_loop(
    store: Path,
    weight_decays: list[float],
    seeds: list[int],
    *,
    steps: int = 1500,
    lr: float = 0.05,
    batch_size: int = 32,
    n: int = 2048,
    hidden: int = 4,
    every: int = 10,
) -> None:
    """A user's own loop: one-hidden-layer linear nets y ≈ w2·w1 x under weight decay.

    Loss E[(w2 w1 x − y)²] + γ(‖w1‖² + ‖w2‖²) by minibatch SGD, whitened inputs and
    a = E[xy] = 1 exactly; the ensemble of (γ, seed) runs is trained in one batched loop,
    each run recorded by its own Recorder (Ziyin & Ueda 2022, arXiv:2205.12510).
    """
    runs = [(gamma, seed) for gamma in weight_decays for seed in seeds]
    gamma = torch.tensor([g for g, _ in runs], dtype=torch.float64)
    data = torch.Generator().manual_seed(0)
    x = torch.randn(n, generator=data, dtype=torch.float64)
    x = x / x.pow(2).mean().sqrt()
    y = x + 0.5 * torch.randn(n, generator=data, dtype=torch.float64)
    y = y + (1.0 - (x * y).mean()) * x
    w1 = torch.stack([_init(hidden, 1000 + s) for _, s in runs]).requires_grad_()
    w2 = torch.stack([_init(hidden, 2000 + s) for _, s in runs]).requires_grad_()
    optimizer = torch.optim.SGD([w1, w2], lr=lr)
    sampler = torch.Generator().manual_seed(1)
    with contextlib.ExitStack() as stack:
        recorders = [
            stack.enter_context(
                Recorder(store, params={"weight_decay": g, "seed": s, "lr": lr}, task="deep_linear")
            )
            for g, s in runs
        ]
        for step in range(steps + 1):
            b = (w1 * w2).sum(1)
            if step % every == 0:
                for recorder, value in zip(recorders, b.tolist(), strict=True):
                    recorder.log(step, b=value)
            index = torch.randint(0, n, (len(runs), batch_size), generator=sampler)
            residual = b[:, None] * x[index] - y[index]
            penalty = w1.pow(2).sum(1) + w2.pow(2).sum(1)
            loss = residual.pow(2).mean(1) + gamma * penalty
            optimizer.zero_grad()
            loss.sum().backward()
            optimizer.step()


def _init(hidden: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return 0.3 * torch.randn(hidden, generator=generator, dtype=torch.float64)


WEIGHT_DECAYS = [0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]
SEEDS = [0, 1, 2, 3, 4, 5]


@pytest.fixture(scope="module")
def deep_linear_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("deep-linear") / "store"
    train_deep_linear_user_loop(store, WEIGHT_DECAYS, SEEDS)
    return store


def _late_means(store: Path) -> pd.DataFrame:
    """Per run, the time average of b over the second half; then mean and standard
    error across seeds at each weight decay."""
    frame = Store(store).frame()
    late = frame[frame["step"] >= frame["step"].max() / 2]
    per_run = late.groupby(["weight_decay", "run_id"])["b"].mean().reset_index()
    summary = per_run.groupby("weight_decay")["b"].agg(["mean", "std", "count"])
    summary["se"] = summary["std"] / np.sqrt(summary["count"])
    return summary


def test_round_trip_recovers_b_star_and_the_critical_point(deep_linear_store: Path) -> None:
    summary = _late_means(deep_linear_store)
    assert list(summary.index) == WEIGHT_DECAYS and (summary["count"] == len(SEEDS)).all()
    b_star = np.maximum(1.0 - summary.index.to_numpy(), 0.0)
    # Ordered side: the seed-to-seed spread sets the tolerance (4 standard errors).
    ordered = summary.index < 1.0
    z = (summary["mean"] - b_star)[ordered] / summary["se"][ordered]
    assert (np.abs(z) < 4).all(), z.to_dict()
    # Disordered side: b collapses to zero (an absorbing state of SGD with weight decay).
    assert (summary["mean"][summary.index > 1.0].abs() < 1e-6).all()
    # The critical point: where the line through the ordered side reaches b = 0, with its
    # standard error from the weighted least-squares fit.
    g = summary.index.to_numpy()[ordered]
    mean, se = summary["mean"].to_numpy()[ordered], summary["se"].to_numpy()[ordered]
    design = np.column_stack([np.ones_like(g), g]) / se[:, None]
    coefficients, *_ = np.linalg.lstsq(design, mean / se, rcond=None)
    covariance = np.linalg.inv(design.T @ design)
    intercept, slope = coefficients
    critical = -intercept / slope
    gradient = np.array([-1.0 / slope, intercept / slope**2])
    critical_se = float(np.sqrt(gradient @ covariance @ gradient))
    assert abs(slope + 1.0) < 4 * np.sqrt(covariance[1, 1])  # b vanishes linearly, slope −1
    assert abs(critical - 1.0) < 4 * critical_se, (critical, critical_se)


def test_analyze_places_the_critical_point_near_one(deep_linear_store: Path) -> None:
    pytest.importorskip("landaulab.analyze")
    from landaulab.analyze import analyze

    result = analyze(
        Store(deep_linear_store).frame(),
        order_parameter="b",
        control="weight_decay",
        n_bootstrap=200,
    )
    assert result.order == "second"
    assert result.critical_point is not None and result.critical_point.contains(1.0)
    # one hidden layer: b* = a − γ vanishes linearly (β = 1)
    assert result.exponents.beta is not None and result.exponents.beta.contains(1.0)


def test_round_trip_matches_the_built_in_deep_linear_task(deep_linear_store: Path) -> None:
    """The user-style loop and the built-in task (same γ grid, width, lr and number of
    steps, full-batch GD there) end at the same b, including the slow relaxation at γc."""
    deep_linear = pytest.importorskip("landaulab.tasks.deep_linear")
    from landaulab.record.context import RunContext

    contexts = [
        RunContext(
            {
                "depth": 1,
                "width": 4,
                "signal": 1.0,
                "weight_decay": gamma,
                "lr": 0.05,
                "init_scale": 1.0,
                "steps": 1500,
                "seed": 0,
            },
            Schedule(total_steps=1500, every=500),
        )
        for gamma in WEIGHT_DECAYS
    ]
    deep_linear.deep_linear_batched(contexts)
    built_in = np.array([ctx.table()["end_to_end"].iloc[-1] for ctx in contexts])
    summary = _late_means(deep_linear_store)
    z = (summary["mean"].to_numpy() - built_in) / summary["se"].to_numpy()
    ordered = np.asarray(WEIGHT_DECAYS) <= 1.0
    assert (np.abs(z[ordered]) < 4).all(), dict(zip(WEIGHT_DECAYS, z, strict=True))
    assert (np.abs(built_in[~ordered]) < 1e-6).all()
    for gamma, b in zip(WEIGHT_DECAYS, built_in, strict=True):
        if gamma != 1.0:  # at γc both relax only algebraically
            assert b == pytest.approx(deep_linear.global_minimum(1.0, gamma, 1), abs=1e-6)
