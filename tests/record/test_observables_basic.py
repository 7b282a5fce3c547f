"""Cheap observables, the objective, and the ObservableSet runner."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from landaulab.record.observables import (
    GradientNorm,
    HessianTrace,
    LogSpacedSteps,
    Loss,
    Objective,
    Observable,
    ObservableError,
    ObservableSet,
    ParameterNorm,
    SGDNoiseTemperature,
    UpdateToWeightRatio,
    gradient_noise,
)
from landaulab.record.schedule import Schedule


def _classifier(seed: int = 0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 3)).double()
    x = torch.randn(20, 3, dtype=torch.float64)
    y = torch.randint(0, 3, (20,))
    return model, (x, y)


def test_loss_and_accuracy_match_direct_computation():
    model, (x, y) = _classifier()
    model.eval()
    logits = model(x).detach()
    values = Loss(Objective.cross_entropy()).measure(model, (x, y), 0)
    assert values["loss"] == pytest.approx(float(nn.functional.cross_entropy(logits, y)), rel=1e-12)
    expected = float((logits.argmax(1) == y).double().mean())
    assert values["accuracy"] == pytest.approx(expected)
    test = Loss(Objective.cross_entropy(), name="test_loss", data=(x[:5], y[:5])).measure(
        model, None, 0
    )
    assert set(test) == {"test_loss", "test_accuracy"}


def test_mean_squared_error_and_one_hot_accuracy():
    model = nn.Linear(2, 2, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]], dtype=torch.float64)
    targets = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    values = Loss(Objective.mean_squared_error()).measure(model, (x, targets), 0)
    assert values["loss"] == pytest.approx(float(nn.functional.mse_loss(x, targets)))
    assert values["accuracy"] == pytest.approx(2 / 3)


def test_parameter_norms_total_and_per_layer():
    model, _ = _classifier()
    values = ParameterNorm().measure(model, None, 0)
    total = math.sqrt(sum(float(p.detach().pow(2).sum()) for p in model.parameters()))
    assert values["param_norm"] == pytest.approx(total, rel=1e-12)
    assert values["param_norm_0_weight"] == pytest.approx(
        float(model[0].weight.detach().norm()), rel=1e-12
    )
    assert len(values) == 1 + 4


def test_gradient_norm_matches_autograd_and_leaves_grad_alone():
    model, batch = _classifier()
    model.eval()
    objective = Objective.cross_entropy()
    loss = objective.mean_loss(model, batch)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    expected = math.sqrt(sum(float(g.pow(2).sum()) for g in grads))
    assert all(p.grad is None for p in model.parameters())
    assert GradientNorm(objective).measure(model, batch, 0)["grad_norm"] == pytest.approx(expected)
    assert all(p.grad is None for p in model.parameters())


def test_update_to_weight_ratio_between_measurements():
    model = nn.Linear(2, 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[3.0, 4.0]]))
    observable = UpdateToWeightRatio()
    assert observable.measure(model, None, 0) == {}
    with torch.no_grad():
        model.weight.add_(torch.tensor([[0.3, 0.4]]))
    assert observable.measure(model, None, 1)["update_to_weight_ratio"] == pytest.approx(0.1)


def _linear_regression(n: int, sigma: float, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=generator, dtype=torch.float64) * torch.tensor([1.0, 2.0, 0.5])
    w = torch.randn(1, 3, generator=generator, dtype=torch.float64)
    noise = sigma * torch.randn(n, 1, generator=generator, dtype=torch.float64)
    model = nn.Linear(3, 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(w)
    return model, (x, x @ w.T + noise), noise


def test_gradient_noise_is_the_per_example_gradient_covariance():
    model, batch, noise = _linear_regression(300, 0.5)
    x = batch[0]
    grads = -noise * x  # per-example gradients of ½(y − wᵀx)² at the truth
    covariance = np.cov(grads.numpy(), rowvar=False)
    result = gradient_noise(model, Objective.gaussian(), batch, chunk_size=64)
    assert result.covariance_trace == pytest.approx(float(np.trace(covariance)), rel=1e-10)
    assert result.mean_gradient_norm == pytest.approx(float(grads.mean(0).norm()), rel=1e-10)


def test_gradient_noise_estimates_sigma_squared_times_input_variance():
    sigma, n = 0.5, 4000
    model, batch, _ = _linear_regression(n, sigma, seed=1)
    x = batch[0]
    result = gradient_noise(model, Objective.gaussian(), batch, chunk_size=1000)
    norms = (x**2).sum(dim=1)
    expected = sigma**2 * float(norms.mean())
    standard_error = math.sqrt(2 * sigma**4 * float((norms**2).sum())) / n
    assert abs(result.covariance_trace - expected) <= 4 * standard_error + sigma**2 * 0.01


def test_sgd_noise_temperature_is_lr_times_trace_over_batch_size():
    model, batch, _ = _linear_regression(64, 1.0)
    trace = gradient_noise(model, Objective.gaussian(), batch).covariance_trace
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    values = SGDNoiseTemperature(Objective.gaussian(), optimizer).measure(model, batch, 0)
    assert values["sgd_noise_temperature"] == pytest.approx(0.05 * trace / 64, rel=1e-12)
    probe = SGDNoiseTemperature(Objective.gaussian(), 0.1, batch_size=8, data=batch)
    assert probe.measure(model, None, 0)["sgd_noise_temperature"] == pytest.approx(0.1 * trace / 8)
    with pytest.raises(ObservableError, match="batch_size"):
        SGDNoiseTemperature(Objective.gaussian(), 0.1, data=batch)


def test_per_example_quantities_need_per_example_losses():
    model, batch, _ = _linear_regression(10, 1.0)
    scalar = Objective.from_loss_fn(lambda m, b: ((m(b[0]) - b[1]) ** 2).mean())
    with pytest.raises(ObservableError, match="scalar"):
        gradient_noise(model, scalar, batch)
    assert Loss(scalar).measure(model, batch, 0)["loss"] >= 0


def test_objective_rejects_ambiguous_construction():
    with pytest.raises(ObservableError):
        Objective()
    with pytest.raises(ObservableError):
        Objective.gaussian(sigma=0.0)
    with pytest.raises(ObservableError, match="reduction"):
        Objective(loss=lambda out, y: ((out - y) ** 2).mean()).mean_loss(
            nn.Linear(1, 1), (torch.ones(2, 1), torch.ones(2, 1))
        )


def test_observable_set_schedules_cheap_and_expensive_observables():
    model, batch = _classifier()
    objective = Objective.cross_entropy()
    observables = ObservableSet(
        [
            Loss(objective),
            HessianTrace(objective, num_matvecs=6),
            ParameterNorm(per_layer=False, schedule=Schedule(total_steps=100, every=10)),
        ],
        total_steps=100,
        log_points=5,
    )
    expensive_steps = set(Schedule(total_steps=100, points=5).steps().tolist())
    for step in range(101):
        row = observables.measure_due(model, batch, step)
        assert "loss" in row
        assert ("hessian_trace" in row) == (step in expensive_steps)
        assert ("param_norm" in row) == (step % 10 == 0)
    assert isinstance(observables.observables[0], Observable)


def test_open_ended_log_schedule_matches_its_grid():
    steps = LogSpacedSteps(per_decade=5)
    grid = {0, 1} | {round(10 ** (j / 5)) for j in range(0, 31)}
    due = {s for s in range(0, 100_001) if steps.due(s)}
    assert due == {s for s in grid if s <= 100_000}


def test_observable_set_restores_mode_and_refuses_clashing_columns():
    model, batch = _classifier()
    model.train()
    objective = Objective.cross_entropy()
    observables = ObservableSet([Loss(objective)])
    first = observables.observe(0, model, batch)
    second = observables.observe(1, model, batch)
    assert first == second  # dropout off while measuring
    assert model.training
    clash = ObservableSet([Loss(objective), Loss(objective, name="other", accuracy=False)])
    clash.measure_all(model, batch, 0)  # different columns: fine
    with pytest.raises(ObservableError, match="unique"):
        ObservableSet([Loss(objective), Loss(objective)])
    dup = ObservableSet([Loss(objective, name="a_loss"), Loss(objective, name="a", accuracy=False)])

    class Rogue:
        name = "rogue"
        schedule = None

        def measure(self, model, batch, step):
            return {"loss": 1.0}

    with pytest.raises(ObservableError, match="both return"):
        ObservableSet([Loss(objective), Rogue()]).measure_due(model, batch, 0)
    assert dup.measure_due(model, batch, 0).keys() == {"a_loss", "a_accuracy", "a"}
    with pytest.raises(ObservableError, match="not an observable"):
        ObservableSet([object()])
