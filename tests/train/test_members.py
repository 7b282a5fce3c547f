"""Members bookkeeping, the batching policy, stacked modules and precision."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from landaulab.errors import Diverged, TaskError
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.train import Members, StackedModule, autocast, member_generator, run_single


def _ctxs(n: int, **params: object) -> list[RunContext]:
    return [
        RunContext({"seed": s, **params}, Schedule(total_steps=10, every=1), device="cpu")
        for s in range(n)
    ]


def test_log_routes_each_member_to_its_own_context_and_masks_non_finite() -> None:
    ctxs = _ctxs(3)
    members = Members(ctxs, dtype=torch.float64)
    members.log(0, loss=torch.tensor([1.0, 2.0, 3.0]), shared=7.0)
    members.log(1, loss=torch.tensor([1.5, math.inf, 3.5]), shared=7.0)
    members.log(2, loss=torch.tensor([2.0, 5.0, 4.0]), shared=7.0)
    assert ctxs[0].table().loss.tolist() == [1.0, 1.5, 2.0]
    assert ctxs[2].table().loss.tolist() == [3.0, 3.5, 4.0]
    assert ctxs[1].diverged is not None and ctxs[1].diverged.step == 1
    assert 2 not in ctxs[1].table().step.tolist()  # no rows after the divergence
    assert members.alive.tolist() == [True, False, True]
    assert ctxs[0].table().shared.tolist() == [7.0, 7.0, 7.0]


def test_check_records_the_first_non_finite_step_without_logging() -> None:
    ctxs = _ctxs(2)
    members = Members(ctxs)
    members.check(3, loss=torch.tensor([1.0, float("nan")]))
    assert members.any_alive()
    assert ctxs[1].diverged.step == 3 and ctxs[1].diverged.observable == "loss"
    assert ctxs[0].diverged is None
    members.check(4, loss=torch.tensor([1.0, 2.0]))  # a later finite value does not revive
    members.check(5, gradient=torch.tensor([float("inf"), 1.0]))
    members.check(6, loss=torch.tensor([float("nan"), float("nan")]))
    assert not members.any_alive()
    assert ctxs[0].diverged.step == 5 and ctxs[0].diverged.observable == "gradient"
    assert ctxs[1].diverged.step == 3  # the first divergence is kept


def test_run_single_raises_the_members_divergence() -> None:
    def batched(ctxs: list[RunContext]) -> None:
        Members(ctxs).log(0, loss=torch.tensor([float("nan")]))

    ctx = _ctxs(1)[0]
    with pytest.raises(Diverged):
        run_single(batched, ctx)


def test_member_values_shared_settings_and_generators() -> None:
    ctxs = _ctxs(2, lr=0.1, width=4)
    ctxs[1].params["lr"] = 0.2
    members = Members(ctxs, dtype=torch.float64)
    assert members.values("lr").tolist() == [0.1, 0.2]
    assert members.shared("width") == 4
    with pytest.raises(TaskError):
        members.shared("lr")
    with pytest.raises(TaskError):
        members.values("missing")
    a = members.stack(lambda _, g: torch.randn(3, generator=g))
    b = torch.randn(3, generator=member_generator(1))
    assert torch.equal(a[1], b)


def test_stacked_module_members_compute_what_the_modules_compute() -> None:
    modules = []
    for seed in range(3):
        torch.manual_seed(seed)
        modules.append(nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2)))
    stacked = StackedModule(modules)
    x = torch.randn(5, 4)
    out = stacked(x)
    for i, module in enumerate(modules):
        torch.testing.assert_close(out[i], module(x))
        torch.testing.assert_close(stacked.member(i)(x), module(x))
    per_member = torch.randn(3, 5, 4)
    out = stacked(per_member, member_inputs=True)
    torch.testing.assert_close(out[2], modules[2](per_member[2]))
    with pytest.raises(TaskError):
        StackedModule([nn.Linear(2, 2), nn.Linear(3, 2)])


def test_bf16_autocast_lowers_matmul_precision_only_when_asked() -> None:
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    with autocast("cpu", "fp32"):
        assert (a @ b).dtype == torch.float32
    with autocast("cpu", "bf16"):
        assert (a @ b).dtype == torch.bfloat16
    with pytest.raises(TaskError), autocast("cpu", "fp16"):  # type: ignore[arg-type]
        pass


def test_batched_path_equals_single_runs() -> None:
    task = get_task("uv_model")
    params = task.resolve({"width": 50, "steps": 30})

    def contexts() -> list[RunContext]:
        return [
            RunContext({**params, "seed": s, "lr": lr}, Schedule(30, every=3), device="cpu")
            for s, lr in enumerate([0.5, 1.5, 2.5])
        ]

    batched, sequential = contexts(), contexts()
    assert task.batched is not None
    task.batched(batched)  # as execute.runner.run_batch trains a work unit
    for ctx in sequential:  # as execute.runner.run_one trains a single run
        try:
            task.function(ctx)
        except Diverged as exc:
            ctx.diverged = exc  # type: ignore[attr-defined]
    for a, b in zip(batched, sequential, strict=True):
        assert (a.diverged is None) == (b.diverged is None)
        ta, tb = a.table(), b.table()
        # f = u·v/√n (n = 50) may round differently in a batch of 3 and of 1
        tol = np.finfo(float).eps * float(tb.ntk.max()) * 50**1.5 / 2
        for column in tb.columns:
            atol = {"output": tol, "loss": tol * float(tb.output.abs().max())}.get(column, 0)
            np.testing.assert_allclose(ta[column], tb[column], rtol=1e-12, atol=atol)
    assert batched[2].diverged is not None  # lr 2.5·(2/λ0): ηλ0 = 5 > 4


def test_gaussian_draws_are_each_members_own_stream() -> None:
    members = Members(_ctxs(3), dtype=torch.float64)
    draws = members.gaussian((2, 5), stream=4, dtype=torch.float64)
    assert draws.shape == (3, 2, 5) and draws.dtype == torch.float64
    same = members.stack(lambda _, g: torch.randn(2, 5, generator=g, dtype=torch.float64), 4)
    assert torch.equal(draws, same)
    assert not torch.equal(draws[0], draws[1])


def test_log_values_logs_a_mapping_as_log_does() -> None:
    a, b = _ctxs(2)
    a.log(3, loss=0.5, accuracy=1.0)
    b.log_values(3, {"loss": 0.5, "accuracy": 1.0})
    assert a.table().equals(b.table())
    with pytest.raises(Diverged):
        b.log_values(4, {"loss": math.nan})
    b.log_values(5, {"loss": math.inf}, check_finite=False)
    assert math.isinf(b.table().set_index("step").loss[5])
    assert a.diverged is None
