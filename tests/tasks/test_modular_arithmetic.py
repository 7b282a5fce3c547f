"""The grokking task: memorise first, generalise much later; deterministic per seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landaulab.errors import Diverged
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.modular_arithmetic import modular_table, split_table


def _run(seed: int = 0, **settings: object) -> tuple[pd.DataFrame, RunContext]:
    task = get_task("modular_arithmetic")
    params = task.resolve(
        {
            "p": 31,
            "width": 64,
            "embedding_dim": 32,
            "lr": 3e-3,
            "train_fraction": 0.5,
            "steps": 3000,
            **settings,
        }
    )
    ctx = RunContext(
        {**params, "seed": seed}, Schedule(total_steps=params["steps"], every=25), device="cpu"
    )
    task.function(ctx)
    return ctx.table(), ctx


def test_small_modular_addition_groks() -> None:
    table, ctx = _run()
    memorised = table.loc[table.train_accuracy >= 0.99, "step"].min()
    generalised = table.loc[table.test_accuracy >= 0.95, "step"].min()
    assert memorised <= 300
    # grokking: generalisation comes long after memorisation, not with it
    assert generalised >= 3 * memorised
    at_memorisation = table.loc[table.step == memorised, "test_accuracy"].item()
    assert at_memorisation < 0.2
    assert ctx.stopped_early is not None and ctx.stopped_early["step"] < 3000


def test_same_seed_same_trajectory_and_seeds_differ() -> None:
    a, _ = _run(seed=3, steps=100)
    b, _ = _run(seed=3, steps=100)
    c, _ = _run(seed=4, steps=100)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.train_loss, c.train_loss)


@pytest.mark.parametrize("operation", ["+", "-", "*", "/"])
def test_modular_table_is_the_operation(operation: str) -> None:
    p = 7
    pairs, labels = modular_table(p, operation)
    for (x, y), z in zip(pairs.tolist(), labels.tolist(), strict=True):
        if operation == "+":
            assert z == (x + y) % p
        elif operation == "-":
            assert z == (x - y) % p
        elif operation == "*":
            assert z == (x * y) % p
        else:
            assert y != 0 and (z * y) % p == x
    split = split_table(p, operation, 0.4, seed=0)
    total = len(split.train_labels) + len(split.test_labels)
    assert total == len(labels)
    assert len(split.train_labels) == round(0.4 * total)


def test_huge_learning_rate_diverges() -> None:
    with pytest.raises(Diverged):
        _run(optimizer="sgd", lr=1e6, steps=200, stop_accuracy=None)


def test_generalisation_is_logged_as_accuracy_above_chance() -> None:
    """The demo's order parameter is in the store: (test accuracy − 1/p)/(1 − 1/p) in [0, 1]."""
    table, _ = _run(steps=200)
    chance = 1.0 / 31
    expected = ((table.test_accuracy - chance) / (1.0 - chance)).clip(0.0, 1.0)
    assert np.allclose(table.generalisation, expected, atol=1e-12)
    assert table.generalisation.min() >= 0.0 and table.generalisation.max() <= 1.0
