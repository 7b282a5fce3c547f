"""Hostile settings: refused with a TaskError, or trained to a finite or diverged end."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from landaulab.errors import Diverged, TaskError
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.train import make_optimizer, per_member

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=40, deadline=None)
@given(lr=floats, init_scale=floats)
@example(math.nan, 1.0)
@example(math.inf, 1.0)
@example(1e300, 1.0)
def test_uv_model_refuses_or_ends_cleanly(lr: float, init_scale: float) -> None:
    info = get_task("uv_model")
    try:
        params = info.resolve({"width": 8, "steps": 5, "lr": lr, "init_scale": init_scale})
    except TaskError:
        assert not (math.isfinite(lr) and lr > 0 and math.isfinite(init_scale) and init_scale > 0)
        return
    ctx = RunContext({**params, "seed": 0}, Schedule(5, every=1), device="cpu")
    try:
        info.function(ctx)
    except Diverged:
        return
    table = ctx.table().drop(columns="step")
    assert table.notna().all().all()


@settings(max_examples=40, deadline=None)
@given(value=floats)
@example(math.nan)
@example(math.inf)
@example(-0.0)
def test_per_member_hyperparameters_refuse_negative_or_non_finite(value: float) -> None:
    p = torch.zeros(2, 3, requires_grad=True)
    if not math.isfinite(value) or value < 0:
        with pytest.raises(TaskError):
            make_optimizer("sgd", [p], value)
        with pytest.raises(TaskError):
            make_optimizer("adamw", [p], 0.1, weight_decay=value)
    else:
        assert per_member(value, 2).tolist() == [value, value]
        make_optimizer("adam", [p], value, weight_decay=value)
