"""Fisher information, NTK and spectrum summaries against exact linear-model answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn

from landaulab.record.observables import (
    FisherSpectrum,
    NTKSpectrum,
    Objective,
    ObservableError,
    ParameterSpace,
    empirical_fisher_gram,
    fisher_gram,
    ntk_gram,
    per_example_gradients,
    per_example_jacobians,
    summarize_spectrum,
)

SCALES = torch.tensor([2.0, 1.0, 0.5, 0.25], dtype=torch.float64)


def _linear_regression(n: int, sigma: float = 1.0, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=generator, dtype=torch.float64) * SCALES
    w = torch.randn(1, 4, generator=generator, dtype=torch.float64)
    noise = sigma * torch.randn(n, 1, generator=generator, dtype=torch.float64)
    model = nn.Linear(4, 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(w)
    return model, (x, x @ w.T + noise), noise


def _top(gram: torch.Tensor, k: int) -> np.ndarray:
    return np.sort(np.linalg.eigvalsh(gram.numpy()))[::-1][:k]


def test_fisher_of_linear_regression_is_the_data_covariance():
    model, batch, _ = _linear_regression(200)
    x = batch[0]
    covariance = (x.T @ x / x.shape[0]).numpy()
    gram = fisher_gram(model, Objective.gaussian(), batch)
    np.testing.assert_allclose(
        _top(gram, 4), np.sort(np.linalg.eigvalsh(covariance))[::-1], rtol=1e-10
    )
    assert _top(gram, 5)[4] < 1e-10  # rank 4 in a 200-point Gram


def test_fisher_scales_with_the_noise_variance_of_the_likelihood():
    model, batch, _ = _linear_regression(50)
    unit = _top(fisher_gram(model, Objective.gaussian(1.0), batch), 4)
    wide = _top(fisher_gram(model, Objective.gaussian(2.0), batch), 4)
    np.testing.assert_allclose(wide, unit / 4.0, rtol=1e-10)


def test_empirical_fisher_at_the_truth_estimates_sigma_squared_times_covariance():
    sigma, n = 0.7, 1500
    model, batch, noise = _linear_regression(n, sigma, seed=1)
    x = batch[0]
    gram = empirical_fisher_gram(model, Objective.gaussian(sigma=1.0), batch)
    # per-example gradients are −εᵢ xᵢ, so the Gram is exact given the noise:
    expected_gram = (noise * x) @ (noise * x).T / n
    np.testing.assert_allclose(gram.numpy(), expected_gram.numpy(), atol=1e-12)
    # E[tr F̂ | X] = σ² tr(XᵀX/n), Var = 2σ⁴ Σ‖xᵢ‖⁴ / n² (Gaussian noise)
    trace = float(torch.trace(gram))
    norms = (x**2).sum(dim=1)
    expected = sigma**2 * float(norms.mean())
    standard_error = math.sqrt(2 * sigma**4 * float((norms**2).sum())) / n
    assert abs(trace - expected) <= 4 * standard_error


def test_ntk_of_a_linear_model_is_the_input_gram_matrix():
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(12, 4, generator=generator, dtype=torch.float64)
    model = nn.Linear(4, 2, bias=False).double()
    gram = ntk_gram(model, Objective.mean_squared_error(), (x, torch.zeros(12, 2)))
    expected = torch.kron(x @ x.T, torch.eye(2, dtype=torch.float64))
    np.testing.assert_allclose(gram.numpy(), expected.numpy(), atol=1e-12)


def test_ntk_of_an_mlp_matches_autograd_jacobians():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2)).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def outputs(theta: torch.Tensor) -> torch.Tensor:
        params, start = {}, 0
        for name, shape in zip(names, shapes, strict=True):
            size = math.prod(shape)
            params[name] = theta[start : start + size].reshape(shape)
            start += size
        return torch.func.functional_call(model, params, (x,)).reshape(-1)

    jacobian = torch.autograd.functional.jacobian(outputs, flat)
    gram = ntk_gram(model, Objective.mean_squared_error(), (x, torch.zeros(5, 2)))
    np.testing.assert_allclose(gram.numpy(), (jacobian @ jacobian.T).numpy(), atol=1e-12)


def test_fisher_spectrum_observable_counts_degenerate_directions():
    model, batch, _ = _linear_regression(20)
    x = batch[0]
    values = FisherSpectrum(Objective.gaussian(), kind="true").measure(model, batch, 0)
    eigen = np.linalg.eigvalsh((x.T @ x / 20).numpy())
    assert values["fisher_rank"] == 4
    assert values["fisher_near_zero"] == 16
    assert values["fisher_condition_number"] == pytest.approx(eigen.max() / eigen.min(), rel=1e-8)
    assert values["fisher_trace"] == pytest.approx(eigen.sum(), rel=1e-10)
    empirical = FisherSpectrum(Objective.gaussian()).measure(model, batch, 0)
    assert "empirical_fisher_effective_rank" in empirical
    ntk = NTKSpectrum(Objective.gaussian()).measure(model, batch, 0)
    assert ntk["ntk_top"] == pytest.approx(20 * eigen.max(), rel=1e-10)


def test_per_example_gradients_accept_dict_batches_and_match_a_loop():
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 3)).double()
    x = torch.randn(7, 3, dtype=torch.float64)
    y = torch.randint(0, 3, (7,))
    objective = Objective.cross_entropy()
    batch = {"inputs": x, "targets": y, "note": "ignored"}
    grads = per_example_gradients(ParameterSpace(model), objective, batch, chunk_size=3)
    for i in range(7):
        loss = objective.mean_loss(model, (x[i : i + 1], y[i : i + 1]))
        expected = torch.cat(
            [g.reshape(-1) for g in torch.autograd.grad(loss, list(model.parameters()))]
        )
        np.testing.assert_allclose(grads[i].numpy(), expected.numpy(), atol=1e-12)


class _ItemModel(nn.Module):
    """A model vmap cannot trace (it reads a Python number from a tensor)."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = float(x.abs().max().item()) + 1.0
        return self.linear(x) / scale


def test_per_example_gradients_fall_back_to_a_loop_when_vmap_fails():
    model = _ItemModel()
    x = torch.randn(4, 2, dtype=torch.float64)
    y = torch.randn(4, 1, dtype=torch.float64)
    objective = Objective.mean_squared_error()
    with pytest.warns(RuntimeWarning, match="fall back"):
        grads = per_example_gradients(ParameterSpace(model), objective, (x, y))
    loss = objective.mean_loss(model, (x[:1], y[:1]))
    expected = torch.cat(
        [g.reshape(-1) for g in torch.autograd.grad(loss, list(model.parameters()))]
    )
    np.testing.assert_allclose(grads[0].numpy(), expected.numpy(), atol=1e-12)


def test_per_example_jacobians_keep_output_shapes():
    model = nn.Linear(3, 1, bias=False).double()
    x = torch.randn(6, 3, dtype=torch.float64)
    jacobians, outputs = per_example_jacobians(ParameterSpace(model), Objective.gaussian(), (x, x))
    assert jacobians.shape == (6, 1, 3)
    assert outputs.shape == (6, 1)
    np.testing.assert_allclose(jacobians[:, 0, :].numpy(), x.numpy())


def test_summarize_spectrum_known_values():
    summary = summarize_spectrum([4.0, 4.0, 0.0, 1e-12])
    assert summary.top == 4.0
    assert summary.numerical_rank == 2
    assert summary.near_zero == 2
    assert summary.effective_rank == pytest.approx(2.0)
    assert summary.participation_ratio == pytest.approx(2.0)
    assert summary.condition_number == pytest.approx(1.0)
    assert "rank 2" in str(summary)
    assert summary.to_dict()["near_zero"] == 2


@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(0, 1e6, allow_nan=False)))
@settings(max_examples=60, deadline=None)
def test_summarize_spectrum_bounds(values):
    summary = summarize_spectrum(values)
    size = len(values)
    assert 0 <= summary.numerical_rank <= size
    assert summary.numerical_rank + summary.near_zero == size
    if summary.top > 0:
        assert 1.0 - 1e-9 <= summary.effective_rank <= size + 1e-9
        assert 1.0 - 1e-9 <= summary.participation_ratio <= size + 1e-9
        assert summary.condition_number >= 1.0
    assert summarize_spectrum(values[::-1]).to_dict() == summary.to_dict()


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [float("inf")]])
def test_summarize_spectrum_rejects_hostile_input(bad):
    with pytest.raises(ObservableError):
        summarize_spectrum(bad)


def test_fisher_needs_outputs_and_a_probe_batch():
    model, batch, _ = _linear_regression(10)
    loss_only = Objective.from_loss_fn(lambda m, b: ((m(b[0]) - b[1]) ** 2).sum(dim=1))
    with pytest.raises(ObservableError, match="outputs"):
        fisher_gram(model, loss_only, batch)
    with pytest.raises(ObservableError, match="probe"):
        FisherSpectrum(Objective.gaussian()).measure(model, None, 0)
