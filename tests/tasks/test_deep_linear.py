"""Deep linear network with weight decay: exact transitions, hysteresis (Ziyin & Ueda 2022)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from landaulab.errors import Diverged
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.deep_linear import (
    balanced_objective,
    critical_weight_decay,
    data_loss_gradient,
    end_to_end,
    global_minimum,
    jump,
    ordered_branch,
    spinodal_weight_decay,
)

# KNOWN_ANSWERS, a = 1; tolerance: half a unit in the last quoted digit
KNOWN = {2: (0.39685, 0.5, 0.47247), 3: (0.27217, 0.6667, 0.38490), 4: (0.21037, 0.7500, 0.34698)}


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_theory_matches_the_known_table(depth: int) -> None:
    gamma_c, b_jump, gamma_s = KNOWN[depth]
    assert critical_weight_decay(1.0, depth) == pytest.approx(gamma_c, abs=5e-6)
    assert jump(1.0, depth) == pytest.approx(b_jump, abs=5e-5)
    assert spinodal_weight_decay(1.0, depth) == pytest.approx(gamma_s, abs=5e-6)
    # at γc the ordered minimum has the jump's size and the same objective as b = 0
    exact = critical_weight_decay(1.0, depth)
    b = ordered_branch(1.0, exact, depth)
    assert b == pytest.approx(jump(1.0, depth), abs=1e-9)
    assert balanced_objective(b, 1.0, exact, depth) == pytest.approx(1.0, abs=1e-12)
    assert ordered_branch(1.0, spinodal_weight_decay(1.0, depth) * (1 + 1e-9), depth) is None


def test_second_order_at_one_hidden_layer() -> None:
    assert critical_weight_decay(2.0, 1) == 2.0
    for gamma in (0.1, 0.7, 1.3, 2.5):
        assert global_minimum(2.0, gamma, 1) == pytest.approx(max(2.0 - gamma, 0.0))


def test_ordered_branch_is_a_stationary_minimum() -> None:
    for depth in (1, 2, 3):
        for gamma in (0.05, 0.2, 0.3):
            b = ordered_branch(1.0, gamma, depth)
            h = 1e-6
            grad = (
                balanced_objective(b + h, 1.0, gamma, depth)
                - balanced_objective(b - h, 1.0, gamma, depth)
            ) / (2 * h)
            assert abs(grad) < 1e-7


def test_hand_gradient_equals_autograd() -> None:
    g = torch.Generator().manual_seed(0)
    for shapes in (
        [(3, 1, 1)],
        [(3, 4, 1), (3, 1, 4)],
        [(3, 4, 1), (3, 4, 4), (3, 4, 4), (3, 1, 4)],
    ):
        weights = [torch.randn(*s, generator=g, dtype=torch.float64) for s in shapes]
        signal = torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64)
        losses, grads = data_loss_gradient(weights, signal)
        params = [w.clone().requires_grad_(True) for w in weights]
        reference = (end_to_end(params) - signal) ** 2
        auto = torch.autograd.grad(reference.sum(), params)
        torch.testing.assert_close(losses, reference.detach(), rtol=1e-14, atol=0)
        for a, b in zip(grads, auto, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def _sweep(depth: int, high: float, points: int, per_value: int, directions: list[str]):
    """Sweep up and/or down; returns, per direction, the last logged row at each value
    (logged every per_value/5 steps, so after 4/5 of the value's steps)."""
    info = get_task("deep_linear_sweep")
    steps = (points + 1) * per_value
    params = info.resolve(
        {
            "depth": depth,
            "width": 2,
            "weight_decay_min": 0.1 if depth == 1 else 0.05,
            "weight_decay_max": high,
            "sweep_steps": points,
            "steps": steps,
            "initial_steps": 3000,
        }
    )
    ctxs = [
        RunContext(
            {**params, "direction": d, "seed": 0},
            Schedule(steps, every=per_value // 5),
            device="cpu",
        )
        for d in directions
    ]
    info.batched(ctxs)
    for ctx in ctxs:
        assert ctx.diverged is None
    ends = []
    for ctx in ctxs:
        table = ctx.table()
        last = table.groupby("weight_decay", sort=False).tail(1).reset_index(drop=True)
        assert len(last) == points + 1
        ends.append(last)
    return ctxs, ends


def test_one_hidden_layer_sweeps_agree_no_hysteresis() -> None:
    _, (up, down) = _sweep(1, 1.4, 13, 500, ["up", "down"])
    # the same control values in both directions, in opposite order
    np.testing.assert_array_equal(up.weight_decay.to_numpy(), down.weight_decay.to_numpy()[::-1])
    for t, margin in ((up, 0.1), (down, 0.35)):
        # convergence: deviations from b* shrink by exp(−4·lr·|b*|) per step for γ < a and
        # b ∝ w² by exp(−4·lr·(γ − a)) for γ > a; with lr = 0.1, 400 steps and |γ − a| ≥ 0.1
        # the leftover of a previous value (≤ 0.1) is below 0.1·e^(−16) ≈ 1e-8. Coming
        # down, b = 0 is unstable for γ < a and the kicks (1e-6) grow by e^(0.2(a − γ)) per
        # step: b is back on the branch within the value once a − γ ≥ 0.35.
        check = np.abs(t.weight_decay - 1.0) >= margin - 1e-9
        if t is down:
            check &= t.weight_decay < 1.0
        expected = np.maximum(1.0 - t.weight_decay, 0.0)
        np.testing.assert_allclose(t.end_to_end[check], expected[check], atol=1e-6)


def test_two_hidden_layers_first_order_with_hysteresis() -> None:
    _, (up, down) = _sweep(2, 0.6, 11, 300, ["up", "down"])
    gamma_s = spinodal_weight_decay(1.0, 2)
    below = up.weight_decay < gamma_s
    branch = np.array([ordered_branch(1.0, g, 2) for g in up.weight_decay[below]])
    # the up-sweep holds the ordered branch up to the spinodal (through γc = 0.397) ...
    np.testing.assert_allclose(up.end_to_end[below], branch, atol=1e-6)
    assert (up.weight_decay[below] > critical_weight_decay(1.0, 2)).any()
    assert np.all(up.gradient_norm[below] < 1e-8)
    # ... and falls to b = 0 past it: the jump is bracketed by the grid values around γs
    assert np.all(np.abs(up.end_to_end[~below]) < 1e-6)
    # coming down from b = 0 it never recovers: b = 0 is locally stable for every γ > 0
    assert np.all(np.abs(down.end_to_end) < 1e-6)


def test_sweep_frame_feeds_the_hysteresis_analysis() -> None:
    """The tidy frame of up and down sweeps has the control as a column and two directions."""
    ctxs, _ = _sweep(2, 0.6, 11, 300, ["up", "down"])
    frames = []
    for ctx in ctxs:
        table = ctx.table()
        for key, value in ctx.params.items():
            table[key] = value
        table["run_id"] = ctx.params["direction"]
        frames.append(table)
    frame = pd.concat(frames, ignore_index=True)
    assert set(frame.direction) == {"up", "down"}
    assert frame.groupby("direction").weight_decay.nunique().tolist() == [12, 12]
    assert not {"weight_decay"} & set(ctxs[0].params)  # the control is an observable here


def test_fixed_weight_decay_converges_to_a_local_minimum() -> None:
    info = get_task("deep_linear")
    params = info.resolve({"depth": 1, "width": 3, "weight_decay": 0.3, "steps": 3000, "lr": 0.1})
    ctxs = [
        RunContext({**params, "seed": s}, Schedule(3000, every=500), device="cpu") for s in range(3)
    ]
    info.batched(ctxs)
    for ctx in ctxs:
        t = ctx.table()
        assert t.end_to_end.iloc[-1] == pytest.approx(0.7, abs=1e-8)
        assert t.loss.iloc[-1] == pytest.approx(balanced_objective(0.7, 1.0, 0.3, 1), abs=1e-10)


def test_batched_member_equals_separate_run_and_divergence_is_masked() -> None:
    info = get_task("deep_linear")
    params = info.resolve({"depth": 2, "width": 2, "steps": 400})
    ctxs = [
        RunContext({**params, "seed": s, "lr": lr}, Schedule(400, every=20), device="cpu")
        for s, lr in ((0, 0.05), (1, 30.0), (2, 0.1))
    ]
    info.batched(ctxs)
    assert ctxs[1].diverged is not None
    for member in (0, 2):
        ctx = RunContext(dict(ctxs[member].params), Schedule(400, every=20), device="cpu")
        info.function(ctx)
        single, batched = ctx.table(), ctxs[member].table()
        for column in single.columns:
            # the gradient norm tends to 0: its rounding (eps times products of the three
            # weight layers, each bounded by the weight norm) is an absolute floor
            floor = 10 * np.finfo(float).eps * (1 + single.weight_norm.max()) ** 3
            atol = floor if column == "gradient_norm" else 0.0
            np.testing.assert_allclose(batched[column], single[column], rtol=1e-12, atol=atol)
    ctx = RunContext(dict(ctxs[1].params), Schedule(400, every=20), device="cpu")
    with pytest.raises(Diverged):
        info.function(ctx)
