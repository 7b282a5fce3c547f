"""The catapult phase: GD on the uv model follows its exact map; phases at ηλ₀ = 2 and 4."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from landaulab.errors import Diverged
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.uv_model import _mlp_output, ntk_gram, uv_exact_map

EPS = float(np.finfo(np.float64).eps)


def _batch(task: str, lrs: list[float], steps: int, every: int = 1, **settings: object):
    info = get_task(task)
    params = info.resolve({"steps": steps, **settings})
    ctxs = [
        RunContext({**params, "lr": lr, "seed": seed}, Schedule(steps, every=every), device="cpu")
        for seed, lr in enumerate(lrs)
    ]
    info.batched(ctxs)
    return ctxs


def _amplification(fs: list[float], lams: list[float], eta: float, n: int) -> np.ndarray:
    """Cumulative product of the map's Jacobian norms: how far rounding can grow by step t."""
    growth = [1.0]
    for f, lam in zip(fs[:-1], lams[:-1], strict=True):
        jac = np.array(
            [
                [1 - eta * lam + 3 * eta**2 * f * f / n, -eta * f],
                [2 * eta * f / n * (eta * lam - 4), 1 + eta * f * f / n * eta],
            ]
        )
        growth.append(growth[-1] * max(1.0, np.linalg.norm(jac, 2)))
    return np.array(growth)


def test_gradient_descent_follows_the_exact_map_in_every_phase() -> None:
    n = 2000
    ctxs = _batch("uv_model", [0.5, 1.05, 1.5], steps=150)
    for ctx in ctxs:
        table = ctx.table()
        eta = table.lr_times_ntk[0] / table.ntk[0]
        assert table.lr_times_ntk[0] == pytest.approx(2 * ctx.params["lr"], rel=1e-12)
        fs, lams = uv_exact_map(table.output[0], table.ntk[0], eta, n, 150)
        # rounding (a few eps per step, relative to the scale of f and λ) grows at most by the
        # product of the map's Jacobian norms along the trajectory
        scale = 1.0 + np.abs(fs)
        tol = 100 * EPS * np.arange(1, 152) * _amplification(fs, lams, eta, n) * scale
        assert np.all(np.abs(table.output.to_numpy() - fs) <= tol)
        assert np.all(np.abs(table.ntk.to_numpy() - lams) <= tol)


def test_lazy_catapult_and_divergent_phases() -> None:
    lazy, catapult, divergent = _batch("uv_model", [0.5, 1.5, 2.2], steps=300)
    t = lazy.table()
    # lazy (ηλ0 = 1): the loss never rises (beyond rounding: f = u·v/√n carries an error
    # up to eps·Σ|u_i v_i|/√n ≤ eps·λ·√n/2) and the kernel stays put
    floor = 0.5 * (10 * EPS * t.ntk[0] * np.sqrt(2000) / 2) ** 2
    assert np.all(np.diff(t.loss) <= floor)
    # |Δλ| ≤ 4η f_t²/n per step and f_t² ≤ f0² r^(2t) with r = |1 − ηλ0| + η²f0²/n, so
    # |λ_T/λ0 − 1| ≤ 4η f0² / (n λ0 (1 − r²))
    eta, lam0, f0 = t.lr_times_ntk[0] / t.ntk[0], t.ntk[0], t.output[0]
    r = abs(1 - eta * lam0) + eta**2 * f0**2 / 2000
    assert abs(t.ntk_ratio.iloc[-1] - 1) <= 4 * eta * f0**2 / (2000 * lam0 * (1 - r**2))
    t = catapult.table()
    # catapult (ηλ0 = 3): the loss spikes, λ falls below 2/η, and the run converges
    assert t.max_loss.iloc[-1] > 10 * t.loss[0]
    assert t.lr_times_ntk.iloc[-1] < 2.0
    assert t.loss.iloc[-1] < 1e-12
    assert catapult.diverged is None and lazy.diverged is None
    # divergent (ηλ0 = 4.4)
    assert divergent.diverged is not None


def test_known_numbers_lie_in_the_range_spanned_by_the_initial_output() -> None:
    """n = 2000: ηλ0 = 2.1 peaks near 5.1 and ends near 1.89; ηλ0 = 3 peaks near 365 and
    ends near 0.19. Both depend on the initial output f0 ~ N(0, 1): they must lie within the
    range the exact map gives over |f0| ≤ 2.5 (λ0 = 2)."""
    for lr_ntk, peak, end in ((2.1, 5.1, 1.89), (3.0, 365.0, 0.19)):
        peaks, ends = [], []
        for f0 in np.linspace(0.01, 2.5, 200):
            fs, lams = uv_exact_map(f0, 2.0, lr_ntk / 2.0, 2000, 2000)
            peaks.append(max(f * f / 2 for f in fs))
            ends.append(lr_ntk / 2.0 * lams[-1])
        assert min(peaks) <= peak <= max(peaks)
        assert min(ends) <= end <= max(ends)


def test_batched_member_equals_separate_run_and_divergence_does_not_poison() -> None:
    ctxs = _batch("uv_model", [1.5, 2.5, 0.7], steps=80, every=4, width=300)
    assert ctxs[1].diverged is not None and ctxs[0].diverged is None
    info = get_task("uv_model")
    params = info.resolve({"steps": 80, "width": 300})
    for seed, lr in ((0, 1.5), (2, 0.7)):
        ctx = RunContext({**params, "lr": lr, "seed": seed}, Schedule(80, every=4), device="cpu")
        info.function(ctx)
        single, member = ctx.table(), ctxs[seed].table()
        # a dot product of n terms may round differently in a batch of 3 and of 1: up to
        # n·eps·Σ|u_i v_i|/√n ≤ eps·λ·n^1.5/2 in f, carried into the loss f²/2
        tol_f = EPS * single.ntk.max() * 300**1.5 / 2
        np.testing.assert_allclose(member.output, single.output, rtol=1e-12, atol=tol_f)
        np.testing.assert_allclose(
            member.loss, single.loss, rtol=1e-12, atol=tol_f * single.output.abs().max()
        )
        for column in ("ntk", "lr_times_ntk", "ntk_ratio", "max_loss", "step"):
            np.testing.assert_allclose(member[column], single[column], rtol=1e-12)
    ctx = RunContext({**params, "lr": 2.5, "seed": 1}, Schedule(80, every=4), device="cpu")
    with pytest.raises(Diverged):
        info.function(ctx)


def test_empirical_ntk_equals_the_jacobian_gram_matrix() -> None:
    g = torch.Generator().manual_seed(0)
    inputs = torch.randn(2, 6, 5, generator=g, dtype=torch.float64)
    for depth in (1, 3):
        shapes = [(2, 16, 5)] + [(2, 16, 16)] * (depth - 1) + [(2, 16)]
        weights = [torch.randn(*s, generator=g, dtype=torch.float64) for s in shapes]
        kernel = ntk_gram(weights, inputs)
        params = [w.clone().requires_grad_(True) for w in weights]
        outputs = _mlp_output(params, inputs)
        rows = []
        for i in range(6):  # members are independent: one backward gives every member's row
            grads = torch.autograd.grad(outputs[:, i].sum(), params, retain_graph=True)
            rows.append(torch.cat([gr.flatten(1) for gr in grads], dim=1))
        jac = torch.stack(rows, dim=1)  # [S, m, P]
        torch.testing.assert_close(kernel, jac @ jac.transpose(1, 2) / 6, rtol=1e-12, atol=1e-14)


def test_relu_mlp_phases_in_units_of_the_lazy_edge() -> None:
    lazy, catapult, divergent = _batch(
        "catapult_mlp", [0.5, 1.5, 8.0], steps=200, every=5, width=256, samples=16
    )
    t = lazy.table()
    assert np.all(np.diff(t.loss) <= 1e-15)  # ηλ0 = 1: monotone decrease
    t = catapult.table()
    assert t.max_loss.iloc[-1] > t.loss[0]  # ηλ0 = 3 > 2: the loss rises first
    assert t.lr_times_ntk.iloc[-1] < 2.0  # a converged run sits below the edge
    assert t.loss.iloc[-1] < 1e-3 * t.loss[0]
    assert divergent.diverged is not None  # ηλ0 = 16
    assert math.isclose(t.lr_times_ntk[0], 3.0, rel_tol=1e-12)
