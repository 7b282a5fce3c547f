"""Curvature: Lanczos, trace estimators and HVP operators against known Hessians."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from observables_helpers import QuadraticModel, quadratic_loss, symmetric_with_spectrum
from scipy import stats
from torch import nn

from landaulab.record.observables import (
    EmpiricalFisherOperator,
    GaussNewtonOperator,
    HessianOperator,
    HessianSpectralDensity,
    HessianTopEigenvalues,
    HessianTrace,
    MatrixOperator,
    Objective,
    ObservableError,
    Sharpness,
    hutch_plus_plus,
    hutchinson,
    spectral_density,
    top_eigenvalues,
)

DIM = 20
SPECTRUM = np.array([9.0, 7.5, 6.0, 4.0, -3.0, *np.linspace(-1.0, 1.5, DIM - 5)])


@pytest.fixture
def quadratic() -> tuple[QuadraticModel, np.ndarray]:
    matrix = symmetric_with_spectrum(SPECTRUM, seed=1)
    return QuadraticModel(matrix, np.ones(DIM), seed=2), matrix


def test_hessian_operator_reproduces_the_quadratic_form(quadratic):
    model, matrix = quadratic
    operator = HessianOperator(model, Objective.from_loss_fn(quadratic_loss), None)
    identity = torch.eye(DIM, dtype=torch.float64)
    dense = operator.matmat(identity).numpy()
    np.testing.assert_allclose(dense, matrix, atol=1e-12)
    assert operator.num_matvecs == DIM
    theta = model.theta().detach().numpy()
    np.testing.assert_allclose(operator.gradient.numpy(), matrix @ theta + 1.0, atol=1e-12)


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        ("largest", np.sort(SPECTRUM)[::-1][:3]),
        ("smallest", np.sort(SPECTRUM)[:2]),
        ("magnitude", SPECTRUM[np.argsort(-np.abs(SPECTRUM))][:3]),
    ],
)
def test_lanczos_finds_exact_eigenvalues(quadratic, which, expected):
    model, _ = quadratic
    operator = HessianOperator(model, Objective.from_loss_fn(quadratic_loss), None)
    result = top_eigenvalues(operator, len(expected), which=which, tol=1e-10)
    assert result.converged
    np.testing.assert_allclose(result.eigenvalues, expected, rtol=1e-9, atol=1e-9)
    assert result.num_matvecs <= DIM + 1
    assert np.all(result.error_bounds <= 1e-9 * np.abs(result.eigenvalues) + 1e-12)


def test_lanczos_error_bound_is_honest_before_convergence():
    rng = np.random.default_rng(3)
    spectrum = np.concatenate([[10.0, 9.9], rng.uniform(0, 9, 298)])
    operator = MatrixOperator(torch.as_tensor(symmetric_with_spectrum(spectrum, seed=4)))
    result = top_eigenvalues(operator, 1, tol=1e-14, max_iterations=8)
    assert not result.converged
    error = abs(result.eigenvalues[0] - 10.0)
    assert error <= result.residuals[0] + 1e-12  # |λ − θ| ≤ ‖r‖ always holds


def test_block_lanczos_resolves_a_degenerate_top_eigenvalue():
    spectrum = np.array([5.0, 5.0, 5.0, 3.0] + [0.5] * 40 + list(np.linspace(-1, 1, 56)))
    operator = MatrixOperator(torch.as_tensor(symmetric_with_spectrum(spectrum, seed=5)))
    result = top_eigenvalues(operator, 4, block_size=4, tol=1e-10)
    np.testing.assert_allclose(result.eigenvalues, [5.0, 5.0, 5.0, 3.0], rtol=1e-8)


def test_lanczos_eigenvectors_are_eigenvectors(quadratic):
    _, matrix = quadratic
    operator = MatrixOperator(torch.as_tensor(matrix))
    loose = top_eigenvalues(operator, 2, tol=1e-3, return_eigenvectors=True)
    vectors = loose.eigenvectors.numpy()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=0), 1.0, atol=1e-12)
    residuals = np.linalg.norm(matrix @ vectors - vectors * loose.eigenvalues, axis=0)
    np.testing.assert_allclose(residuals, loose.residuals, rtol=1e-6, atol=1e-12)
    tight = top_eigenvalues(operator, 2, tol=1e-13, return_eigenvectors=True)
    vectors = tight.eigenvectors.numpy()
    np.testing.assert_allclose(matrix @ vectors, vectors * tight.eigenvalues, atol=1e-7)


def test_lanczos_rejects_bad_settings(quadratic):
    _, matrix = quadratic
    operator = MatrixOperator(torch.as_tensor(matrix))
    with pytest.raises(ObservableError):
        top_eigenvalues(operator, 0)
    with pytest.raises(ObservableError):
        top_eigenvalues(operator, DIM + 1)
    with pytest.raises(ObservableError):
        top_eigenvalues(operator, 1, tol=0.0)


def _dense_rademacher_variance(matrix: np.ndarray) -> float:
    off = matrix - np.diag(np.diag(matrix))
    return 2.0 * float(np.sum(off**2))


def test_hutchinson_standard_error_is_calibrated():
    """Across seeds, (estimate − trace)/SE behaves like a t variable; the SE matches theory."""
    matrix = symmetric_with_spectrum(SPECTRUM, seed=6)
    operator = MatrixOperator(torch.as_tensor(matrix))
    probes = 40
    z, ses = [], []
    for seed in range(60):
        estimate = hutchinson(operator, probes, seed=seed)
        z.append((estimate.value - np.trace(matrix)) / estimate.standard_error)
        ses.append(estimate.standard_error)
    # coverage of the nominal 95% t-interval over 60 seeds: binomial 99.9% lower bound
    inside = np.mean(np.abs(z) <= stats.t.ppf(0.975, probes - 1))
    assert inside >= stats.binom.ppf(0.001, 60, 0.95) / 60
    expected_se = math.sqrt(_dense_rademacher_variance(matrix) / probes)
    assert np.mean(ses) == pytest.approx(expected_se, rel=0.15)


@pytest.mark.parametrize("range_finder", ["sketch", "krylov"])
def test_hutch_plus_plus_is_exact_when_the_sketch_captures_the_range(range_finder):
    rng = np.random.default_rng(7)
    basis, _ = np.linalg.qr(rng.normal(size=(200, 5)))
    matrix = basis @ np.diag([50.0, 20.0, 10.0, -5.0, 2.0]) @ basis.T
    # rank 5: the sketch A·S (8 columns) spans the range, and so does the Krylov
    # space span{s, As, …, A⁷s} (five distinct eigenvalues)
    estimate = hutch_plus_plus(
        MatrixOperator(torch.as_tensor(matrix)), 24, sketch_size=8, range_finder=range_finder
    )
    assert estimate.value == pytest.approx(77.0, abs=1e-9)
    assert estimate.standard_error < 1e-9
    assert estimate.num_matvecs == 24
    assert estimate.num_probes == (8 if range_finder == "sketch" else 16)


@pytest.mark.parametrize("range_finder", ["sketch", "krylov"])
def test_hutch_plus_plus_is_unbiased_with_a_calibrated_error(range_finder):
    rng = np.random.default_rng(8)
    spectrum = np.concatenate([[40.0, 30.0, 20.0], rng.uniform(-0.5, 1.0, 147)])
    matrix = symmetric_with_spectrum(spectrum, seed=9)
    operator = MatrixOperator(torch.as_tensor(matrix))
    z = []
    for seed in range(40):
        estimate = hutch_plus_plus(operator, 30, seed=seed, range_finder=range_finder)
        z.append((estimate.value - spectrum.sum()) / estimate.standard_error)
    inside = np.mean(np.abs(z) <= stats.t.ppf(0.975, estimate.num_probes - 1))
    assert inside >= stats.binom.ppf(0.001, 40, 0.95) / 40
    assert abs(np.mean(z)) <= 4.0 / math.sqrt(40)  # mean of ~unit-variance z-scores


def _outliers_and_bulk(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    spectrum = np.concatenate([rng.uniform(5.0, 10.0, 30), rng.uniform(-0.5, 0.5, 470)])
    return spectrum, symmetric_with_spectrum(spectrum, seed=seed + 1)


def test_krylov_hutch_plus_plus_deflates_the_outliers_at_half_the_cost():
    """30 outliers over a bulk: a 60-vector Krylov basis removes them (60 products).

    With the outliers deflated, each probe of the remainder has variance ≈ 2‖bulk‖²_F;
    the sample variance of m probes scatters by ≈ √(2/(m − 1)), so 4 of those bound it.
    The sketch spends 120 products on the same subspace and keeps 60 probes, so its
    variance of the mean is about twice the Krylov one's.
    """
    spectrum, matrix = _outliers_and_bulk(12)
    operator = MatrixOperator(torch.as_tensor(matrix))
    bulk = 2.0 * float(np.sum(spectrum[30:] ** 2))
    krylov, sketch = [], []
    for seed in range(5):
        k = hutch_plus_plus(operator, 180, sketch_size=60, range_finder="krylov", seed=seed)
        s = hutch_plus_plus(operator, 180, sketch_size=60, range_finder="sketch", seed=seed)
        assert (k.num_matvecs, k.num_probes, s.num_probes) == (180, 120, 60)
        per_probe = k.standard_error**2 * k.num_probes
        assert per_probe <= bulk * (1.0 + 4.0 * math.sqrt(2.0 / (k.num_probes - 1)))
        krylov.append(k.standard_error**2)
        sketch.append(s.standard_error**2)
    # expected ratio 1/2; the mean of five variance estimates scatters by ≈ 10 %
    assert np.mean(krylov) < 0.75 * np.mean(sketch)


def test_hutch_plus_plus_rejects_bad_settings():
    operator = MatrixOperator(torch.eye(50, dtype=torch.float64))
    with pytest.raises(ObservableError):
        hutch_plus_plus(operator, 30, range_finder="power")
    with pytest.raises(ObservableError):
        hutch_plus_plus(operator, 30, sketch_size=29, range_finder="krylov")
    with pytest.raises(ObservableError):
        hutch_plus_plus(operator, 30, sketch_size=3, block_size=4, range_finder="krylov")


def test_hutchinson_stops_at_a_target_standard_error():
    matrix = symmetric_with_spectrum(SPECTRUM, seed=10)
    estimate = hutchinson(MatrixOperator(torch.as_tensor(matrix)), 10, target_standard_error=0.5)
    assert estimate.standard_error <= 0.5
    assert estimate.num_matvecs >= 10


def test_spectral_density_quadrature_is_normalised_and_traces_correctly():
    matrix = symmetric_with_spectrum(SPECTRUM, seed=11)
    density = spectral_density(
        MatrixOperator(torch.as_tensor(matrix)), num_iterations=DIM, num_probes=3
    )
    np.testing.assert_allclose(density.weights.sum(axis=1), 1.0, atol=1e-12)
    # With m = dim the quadrature is exact for each probe: vᵀAv/‖v‖² = Σ τ θ.
    grid = np.linspace(-20, 25, 4001)
    assert np.trapezoid(density.density(grid, 0.3), grid) == pytest.approx(1.0, abs=1e-6)
    nodes = np.sort(density.nodes[0])
    np.testing.assert_allclose(nodes, np.sort(SPECTRUM), atol=1e-8)
    assert density.fraction_below(0.0) == pytest.approx(
        float(np.mean(density.weights * (density.nodes < 0)) * DIM), abs=1e-12
    )


def test_spectral_density_trace_is_unbiased():
    matrix = symmetric_with_spectrum(SPECTRUM, seed=12)
    operator = MatrixOperator(torch.as_tensor(matrix))
    traces = [
        spectral_density(operator, num_iterations=8, num_probes=1, seed=s).trace for s in range(80)
    ]
    se = np.std(traces, ddof=1) / math.sqrt(len(traces))
    assert abs(np.mean(traces) - SPECTRUM.sum()) <= 4 * se


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(3, 5)
        self.out = nn.Linear(5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.hidden(x)))


def _mlp_problem(seed: int = 0):
    torch.manual_seed(seed)
    model = TwoLayer().double()
    x = torch.randn(16, 3, dtype=torch.float64)
    y = torch.randint(0, 2, (16,))
    return model, (x, y)


def _dense_hessian(model: nn.Module, loss_of_flat) -> np.ndarray:
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    return torch.autograd.functional.hessian(loss_of_flat, flat).numpy()


def _flat_loss(model: nn.Module, objective: Objective, batch):
    shapes = [p.shape for p in model.parameters()]
    names = [n for n, _ in model.named_parameters()]

    def loss(flat: torch.Tensor) -> torch.Tensor:
        params, start = {}, 0
        for name, shape in zip(names, shapes, strict=True):
            size = math.prod(shape)
            params[name] = flat[start : start + size].reshape(shape)
            start += size
        return objective.mean_loss(lambda x: torch.func.functional_call(model, params, (x,)), batch)

    return loss


def test_hessian_vector_products_match_the_dense_hessian_of_an_mlp():
    model, batch = _mlp_problem()
    objective = Objective.cross_entropy(forward=lambda m, x: m(x))
    dense = _dense_hessian(model, _flat_loss(model, objective, batch))
    operator = HessianOperator(model, objective, batch)
    np.testing.assert_allclose(
        operator.matmat(torch.eye(operator.dim, dtype=torch.float64)).numpy(), dense, atol=1e-10
    )


def test_gauss_newton_matches_explicit_jacobian_form():
    model, batch = _mlp_problem(1)
    objective = Objective.cross_entropy()
    x = batch[0]
    params = dict(model.named_parameters())
    flat = torch.cat([p.detach().reshape(-1) for p in params.values()])

    def outputs(flat_params: torch.Tensor) -> torch.Tensor:
        split, start = {}, 0
        for name, p in params.items():
            split[name] = flat_params[start : start + p.numel()].reshape(p.shape)
            start += p.numel()
        return torch.func.functional_call(model, split, (x,))

    jacobian = torch.autograd.functional.jacobian(outputs, flat)  # (n, c, dim)
    probabilities = torch.softmax(outputs(flat), dim=1)
    expected = torch.zeros(flat.numel(), flat.numel(), dtype=torch.float64)
    for i in range(x.shape[0]):
        p = probabilities[i]
        h = torch.diag(p) - torch.outer(p, p)
        expected += jacobian[i].T @ h @ jacobian[i]
    expected /= x.shape[0]
    operator = GaussNewtonOperator(model, objective, batch)
    dense = operator.matmat(torch.eye(operator.dim, dtype=torch.float64))
    np.testing.assert_allclose(dense.numpy(), expected.numpy(), atol=1e-10)


def test_gauss_newton_equals_hessian_for_a_linear_model():
    torch.manual_seed(2)
    model = nn.Linear(4, 3).double()
    batch = (torch.randn(30, 4, dtype=torch.float64), torch.randn(30, 3, dtype=torch.float64))
    objective = Objective.mean_squared_error()
    eye = torch.eye(15, dtype=torch.float64)
    hessian = HessianOperator(model, objective, batch).matmat(eye)
    gauss_newton = GaussNewtonOperator(model, objective, batch).matmat(eye)
    np.testing.assert_allclose(gauss_newton.numpy(), hessian.numpy(), atol=1e-12)


def test_empirical_fisher_operator_is_the_mean_outer_product_of_gradients():
    model, batch = _mlp_problem(3)
    objective = Objective.cross_entropy()
    x, y = batch
    rows = []
    for i in range(x.shape[0]):
        loss = objective.mean_loss(model, (x[i : i + 1], y[i : i + 1]))
        grads = torch.autograd.grad(loss, list(model.parameters()))
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    g = torch.stack(rows)
    operator = EmpiricalFisherOperator(model, objective, batch)
    dense = operator.matmat(torch.eye(operator.dim, dtype=torch.float64))
    np.testing.assert_allclose(dense.numpy(), (g.T @ g / len(rows)).numpy(), atol=1e-12)


def test_float32_model_with_float64_products_reaches_float64_accuracy():
    model, batch = _mlp_problem(4)
    objective = Objective.cross_entropy()
    reference = top_eigenvalues(HessianOperator(model, objective, batch), 1, tol=1e-12)
    single = model.float()
    batch32 = (batch[0].float(), batch[1])
    result = top_eigenvalues(
        HessianOperator(single, objective, batch32, dtype=torch.float64), 1, tol=1e-12
    )
    # the parameters themselves were rounded to float32: compare at that precision
    assert result.eigenvalues[0] == pytest.approx(reference.eigenvalues[0], rel=1e-5)


def test_curvature_observables_report_named_columns(quadratic):
    model, _ = quadratic
    loss = quadratic_loss
    top = HessianTopEigenvalues(loss, k=2, tol=1e-10).measure(model, None, 3)
    np.testing.assert_allclose(
        [top["hessian_eigenvalue_1"], top["hessian_eigenvalue_2"]], [9.0, 7.5], rtol=1e-9
    )
    trace = HessianTrace(loss, num_matvecs=30).measure(model, None, 3)
    assert set(trace) == {"hessian_trace", "hessian_trace_se"}
    assert abs(trace["hessian_trace"] - SPECTRUM.sum()) <= 5 * trace["hessian_trace_se"]
    spectrum = HessianSpectralDensity(loss, num_iterations=DIM, num_probes=2).measure(
        model, None, 3
    )
    assert 0.0 < spectrum["hessian_spectrum_negative_fraction"] < 1.0


def test_sharpness_edge_of_stability_ratio(quadratic):
    model, _ = quadratic
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    values = Sharpness(quadratic_loss, optimizer, tol=1e-10).measure(model, None, 0)
    assert values["sharpness"] == pytest.approx(9.0, rel=1e-9)
    assert values["sharpness_edge_ratio"] == pytest.approx(9.0 * 0.1 / 3.0, rel=1e-9)
    plain = Sharpness(quadratic_loss, lambda step: 2.0 / 9.0, tol=1e-10).measure(model, None, 0)
    assert plain["sharpness_edge_ratio"] == pytest.approx(1.0, rel=1e-9)


def test_measurements_leave_parameters_and_gradients_untouched(quadratic):
    model, _ = quadratic
    model.loss().backward()
    before = [p.detach().clone() for p in model.parameters()]
    grads = [p.grad.clone() for p in model.parameters()]
    state = torch.get_rng_state()
    HessianTopEigenvalues(quadratic_loss, k=2).measure(model, None, 0)
    HessianTrace(quadratic_loss).measure(model, None, 0)
    for p, b, g in zip(model.parameters(), before, grads, strict=True):
        assert torch.equal(p.detach(), b)
        assert torch.equal(p.grad, g)
    assert torch.equal(torch.get_rng_state(), state)


def test_same_seed_and_step_give_identical_measurements(quadratic):
    model, _ = quadratic
    first = HessianTrace(quadratic_loss, seed=5).measure(model, None, 7)
    second = HessianTrace(quadratic_loss, seed=5).measure(model, None, 7)
    other = HessianTrace(quadratic_loss, seed=6).measure(model, None, 7)
    assert first == second
    assert first != other


def test_float64_refinement_of_float32_lanczos():
    model, batch = _mlp_problem(6)
    model = model.float()
    batch = (batch[0].float(), batch[1])
    objective = Objective.cross_entropy()
    exact = top_eigenvalues(
        HessianOperator(model, objective, batch, dtype=torch.float64), 2, tol=1e-13
    ).eigenvalues
    refined = top_eigenvalues(
        HessianOperator(model, objective, batch),
        2,
        tol=1e-6,
        refine=HessianOperator(model, objective, batch, dtype=torch.float64),
    )
    errors = np.abs(refined.eigenvalues - exact)
    assert np.all(errors <= np.maximum(refined.error_bounds, 1e-12) * 1.01)  # honest bounds
    assert np.all(errors <= 1e-6 * np.abs(exact))
    assert refined.eigenvectors is None
    values = HessianTopEigenvalues(objective, 1, tol=1e-6, refine_dtype=torch.float64).measure(
        model, batch, 0
    )
    assert values["hessian_eigenvalue_1"] == pytest.approx(exact[0], rel=1e-6)


def test_loss_dtype_needs_an_outputs_split_and_the_hessian():
    model = nn.Linear(3, 2)
    batch = (torch.randn(8, 3), torch.randint(0, 2, (8,)))
    by_loss_fn = Objective.from_loss_fn(
        lambda m, b: nn.functional.cross_entropy(m(b[0]), b[1], reduction="none")
    )
    with pytest.raises(ObservableError, match="outputs"):
        HessianOperator(model, by_loss_fn, batch, loss_dtype=torch.float64)
    with pytest.raises(ObservableError, match="Hessian only"):
        HessianTrace(Objective.cross_entropy(), matrix="gauss_newton", loss_dtype=torch.float64)
