"""Batched optimizers against torch.optim: each member equals its own separate run."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from landaulab.errors import TaskError
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.train import BatchedTrainer, Members, StackedModule, make_optimizer

STEPS = 40
LRS = [0.05, 0.02, 0.1]
DECAYS = [0.0, 0.1, 0.01]


def _model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).double()


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(123)
    x = torch.randn(16, 3, generator=g, dtype=torch.float64)
    y = torch.randn(16, 2, generator=g, dtype=torch.float64)
    return x, y


def _torch_optimizer(name: str, params, lr: float, wd: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, betas=(0.9, 0.98))
    return torch.optim.AdamW(params, lr=lr, weight_decay=wd, betas=(0.9, 0.98))


def _separate(name: str, seed: int, lr: float, wd: float) -> list[torch.Tensor]:
    x, y = _data()
    model = _model(seed)
    opt = _torch_optimizer(name, model.parameters(), lr, wd)
    for _ in range(STEPS):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


def _contexts(n: int) -> list[RunContext]:
    return [
        RunContext({"seed": s}, Schedule(total_steps=STEPS, every=10), device="cpu")
        for s in range(n)
    ]


def _batched(name: str) -> StackedModule:
    x, y = _data()
    stacked = StackedModule([_model(s) for s in range(len(LRS))])
    members = Members(_contexts(len(LRS)), dtype=torch.float64)
    kind = {"sgd": "sgd", "momentum": "sgd", "adam": "adam", "adamw": "adamw"}[name]
    opt = make_optimizer(
        kind,
        stacked.parameters(),
        LRS,
        DECAYS,
        momentum=0.9 if name == "momentum" else 0.0,
        betas=(0.9, 0.98),
    )
    trainer = BatchedTrainer(
        stacked.parameters(), lambda: ((stacked(x) - y) ** 2).mean(dim=(1, 2)), opt, members
    )
    for step in range(STEPS):
        trainer.step(step)
    return stacked


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "adamw"])
def test_each_member_equals_its_separate_torch_run(name: str) -> None:
    stacked = _batched(name)
    for s, (lr, wd) in enumerate(zip(LRS, DECAYS, strict=True)):
        reference = _separate(name, s, lr, wd)
        for got, want in zip(stacked.parameters(), reference, strict=True):
            # float64 throughout: only summation order differs (relative error ~1e-15 per op)
            torch.testing.assert_close(got[s], want, rtol=1e-10, atol=1e-12)


def test_members_do_not_interact_distinct_hyperparameters_matter() -> None:
    stacked = _batched("adamw")
    a, b = stacked.parameters()[0][0], stacked.parameters()[0][1]
    assert not torch.allclose(a, b)


def test_a_diverging_member_is_masked_and_recorded_while_others_match() -> None:
    x, y = _data()
    lrs = [0.05, 1e6, 0.02]  # the middle member blows up
    ctxs = _contexts(3)
    stacked = StackedModule([_model(s) for s in range(3)])
    members = Members(ctxs, dtype=torch.float64)
    opt = make_optimizer("sgd", stacked.parameters(), lrs, 0.0)
    trainer = BatchedTrainer(
        stacked.parameters(), lambda: ((stacked(x) - y) ** 2).mean(dim=(1, 2)) ** 4, opt, members
    )
    for step in range(STEPS):
        trainer.step(step)
    members.finish()
    assert not bool(members.alive[1])
    assert ctxs[1].diverged is not None and ctxs[1].diverged.observable == "loss"
    assert ctxs[0].diverged is None and ctxs[2].diverged is None
    frozen = [p[1].detach().clone() for p in stacked.parameters()]
    for step in range(STEPS, 2 * STEPS):
        trainer.step(step)
    for before, p in zip(frozen, stacked.parameters(), strict=True):
        # masked: never updated again
        torch.testing.assert_close(p[1].detach(), before, rtol=0, atol=0, equal_nan=True)
    for s in (0, 2):
        model = _model(s)
        opt_ref = torch.optim.SGD(model.parameters(), lr=lrs[s])
        for _ in range(2 * STEPS):
            opt_ref.zero_grad()
            (((model(x) - y) ** 2).mean() ** 4).backward()
            opt_ref.step()
        for got, want in zip(stacked.parameters(), model.parameters(), strict=True):
            torch.testing.assert_close(got[s], want.detach(), rtol=1e-10, atol=1e-12)


def test_frozen_members_keep_parameters_and_adam_state() -> None:
    p = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer("adam", [p], 0.1)
    opt.step([torch.ones(2, 3, dtype=torch.float64)], active=torch.tensor([True, False]))
    assert torch.equal(p[1].detach(), torch.ones(3, dtype=torch.float64))
    assert opt.steps.tolist() == [1.0, 0.0]
    assert float(opt.exp_avg_sq[0][1].abs().sum()) == 0.0


@pytest.mark.parametrize(
    "call",
    [
        lambda p: make_optimizer("lion", [p], 0.1),
        lambda p: make_optimizer("sgd", [p], [0.1, 0.2, 0.3]),
        lambda p: make_optimizer("sgd", [p], -0.1),
        lambda p: make_optimizer("sgd", [p], 0.1, momentum=1.5),
        lambda p: make_optimizer("adam", [p], 0.1, betas=(1.0, 0.9)),
    ],
)
def test_bad_optimizer_settings_are_refused(call) -> None:
    p = torch.zeros(2, 3, requires_grad=True)
    with pytest.raises(TaskError):
        call(p)
