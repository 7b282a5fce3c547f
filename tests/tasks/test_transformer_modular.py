"""One-layer transformer on modular arithmetic: a smoke test of a few steps at small p."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from landaulab.errors import TaskError
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.transformer_modular import fourier_concentration


def _params() -> dict:
    return get_task("transformer_modular").resolve(
        {"p": 7, "d_model": 16, "heads": 2, "d_mlp": 32, "steps": 4, "train_fraction": 0.5}
    )


def test_a_few_steps_train_and_log_every_observable() -> None:
    info = get_task("transformer_modular")
    params = _params()
    ctxs = [RunContext({**params, "seed": s}, Schedule(4, every=1), device="cpu") for s in (0, 1)]
    info.batched(ctxs)
    table = ctxs[1].table()
    assert list(table.step) == [0, 1, 2, 3, 4]
    assert set(info.observables) <= set(table.columns)
    assert np.isfinite(table.drop(columns="step").to_numpy()).all()
    assert table.train_loss.iloc[-1] < table.train_loss.iloc[0]
    # the first step starts near chance: cross-entropy ≈ ln p
    assert abs(table.train_loss.iloc[0] - math.log(7)) < 1.0
    single = RunContext({**params, "seed": 1}, Schedule(4, every=1), device="cpu")
    info.function(single)
    np.testing.assert_allclose(single.table().to_numpy(), table.to_numpy(), rtol=1e-5, atol=1e-6)


def test_fourier_concentration_of_a_single_frequency_is_one() -> None:
    p = 11
    residues = torch.arange(p, dtype=torch.float64)
    embed = torch.stack([torch.cos(2 * math.pi * 3 * residues / p)] * 4, dim=1)[None]
    assert fourier_concentration(embed, p, 1).item() == pytest.approx(1.0)
    flat = torch.randn(1, p, 64, generator=torch.Generator().manual_seed(0))
    value = fourier_concentration(flat, p, 2).item()
    assert 2 / 5 <= value < 1.0  # at least the even share of the 5 nonzero frequencies


def test_heads_must_divide_the_width() -> None:
    with pytest.raises(TaskError):
        get_task("transformer_modular").resolve({"d_model": 30, "heads": 4})
