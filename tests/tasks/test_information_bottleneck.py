"""Gaussian information bottleneck: a gradient-trained VIB reproduces every β_i.

The exact optimum comes from the sample covariances (Chechik et al. 2005), so the only
error is the optimiser's: with residual gradient g, ‖θ − θ*‖ ≤ g/μ_min (first order),
μ_min the smallest eigenvalue of the exact Hessian at θ* (autograd at the closed-form
optimum). The encoder norms are the singular values of A·S_x^{1/2}, which move by at most
‖S_x^{1/2}‖·‖δA‖ (Weyl), and S_x = I after whitening.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from landaulab.errors import TaskError
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.information_bottleneck import (
    GaussianData,
    ib_spectrum,
    information_bottleneck_optimum,
    mutual_informations,
    planted_ib_data,
    vib_loss,
    vib_loss_and_gradient,
    vib_stationary_point,
    whitened,
)

SPECTRUM = (0.1, 0.25, 0.45, 0.65)
K = 4
N = 5000
EPS = float(np.finfo(float).eps)


def run(seed: int = 0, every: int = 500, **settings: object) -> pd.DataFrame:
    info = get_task("information_bottleneck")
    params = info.resolve(settings) | {"seed": seed}
    ctx = RunContext(params, Schedule(total_steps=params["steps"], every=every))
    info.function(ctx)
    return ctx.table()


def data() -> GaussianData:
    return whitened(planted_ib_data(SPECTRUM, N, 0))


def smallest_curvature(d: GaussianData, beta: float) -> float:
    """μ_min of the exact VIB objective at its optimum (free parameters only: U is
    lower triangular)."""
    point = vib_stationary_point(d, beta, K)
    shapes = [a.shape for a in point]
    flat = torch.as_tensor(np.concatenate([a.ravel() for a in point]))
    covs = [torch.as_tensor(m) for m in (d.cov_x, d.cov_xy, d.cov_y)]

    def loss(theta: torch.Tensor) -> torch.Tensor:
        parts, i = [], 0
        for shape in shapes:
            size = math.prod(shape)
            parts.append(theta[i : i + size].reshape(shape))
            i += size
        return vib_loss(*parts, *covs, beta)

    hessian = torch.autograd.functional.hessian(loss, flat, vectorize=True)
    free = np.concatenate(
        [np.ones(sum(a.size for a in point[:3]), bool), np.tril(np.ones(shapes[3], bool)).ravel()]
    )
    spectrum = torch.linalg.eigvalsh(hessian[free][:, free])
    assert spectrum[0] > 0, "the closed-form optimum must be a strict local minimum"
    return float(spectrum[0])


def test_closed_form_gradient_matches_autograd() -> None:
    d = planted_ib_data(SPECTRUM, 300, 2)
    rng = np.random.default_rng(1)
    point = [
        rng.standard_normal((3, 4)),
        rng.standard_normal(3),
        rng.standard_normal((4, 3)),
        np.tril(rng.standard_normal((4, 4))) + 3 * np.eye(4),
    ]
    loss, grads = vib_loss_and_gradient(*point, d, 2.5)
    tensors = [torch.tensor(a, requires_grad=True) for a in point]
    ref = vib_loss(*tensors, *(torch.as_tensor(m) for m in (d.cov_x, d.cov_xy, d.cov_y)), 2.5)
    ref.backward()
    assert loss == pytest.approx(float(ref.detach()), rel=1e-12)
    for g, t in zip(grads, tensors, strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("beta", [1.05, 1.6, 4.0])
def test_closed_form_optimum_is_stationary_and_matches_ib_curve(beta: float) -> None:
    d = planted_ib_data(SPECTRUM, N, 0)
    point = vib_stationary_point(d, beta, K)
    _, grads = vib_loss_and_gradient(*point, d, beta)
    assert max(float(np.abs(g).max()) for g in grads) < 1e-9
    lam, _ = ib_spectrum(d.cov_x, d.cov_x_given_y)
    exact = information_bottleneck_optimum(lam, beta, K)
    ix, iy = mutual_informations(point[0], d)
    assert ix == pytest.approx(exact.information_x, abs=1e-10)
    assert iy == pytest.approx(exact.information_y, abs=1e-10)


def test_whitening_leaves_the_ib_problem_unchanged() -> None:
    raw = planted_ib_data(SPECTRUM, N, 0)
    white = whitened(raw)
    lam_raw, _ = ib_spectrum(raw.cov_x, raw.cov_x_given_y)
    lam_white, _ = ib_spectrum(white.cov_x, white.cov_x_given_y)
    np.testing.assert_allclose(lam_white, lam_raw, rtol=1e-10)
    np.testing.assert_allclose(white.cov_x, np.eye(K), atol=1e-12)


def test_sample_eigenvalues_agree_with_planted_spectrum() -> None:
    """λ = 1 − ρ² for canonical correlations ρ; SE(r) = (1 − ρ²)/√n, so SE(λ) = 2ρλ/√n."""
    d = planted_ib_data(SPECTRUM, N, 0)
    lam, _ = ib_spectrum(d.cov_x, d.cov_x_given_y)
    planted = np.array(SPECTRUM)
    se = 2 * np.sqrt(1 - planted) * planted / math.sqrt(N)
    assert np.all(np.abs(lam - planted) / se < 4.0)


def _check_against_exact(d: GaussianData, lam: np.ndarray, beta: float, steps: int) -> float:
    last = run(beta=beta, spectrum=SPECTRUM, steps=steps).iloc[-1]
    exact = information_bottleneck_optimum(lam, beta, K)
    bound = float(last["grad_norm"]) / smallest_curvature(d, beta)
    assert bound < 1e-3, f"not converged at beta={beta:.4g}: |theta-theta*| <= {bound:.2g}"
    # Weyl with ‖S_x^{1/2}‖ = 1, plus round-off in the eigenvalues of AS_xAᵀ (whose
    # square roots amplify an absolute error ε·‖A‖² to sqrt(ε)·‖A‖ for a zero norm).
    round_off = math.sqrt(16 * EPS) * max(1.0, max(exact.encoder_norms))
    measured = [float(last[f"encoder_norm_{i + 1}"]) for i in range(K)]
    for m, e in zip(measured, exact.encoder_norms, strict=True):
        assert abs(m - e) <= bound + round_off
    # dI_X/d(norm_i) = norm_i/(1 + norm_i²) <= 1/2 for each of the K norms.
    assert abs(last["information_x"] - exact.information_x) <= K * (bound + round_off) / 2
    for i in range(K):
        assert last[f"ib_eigenvalue_{i + 1}"] == pytest.approx(lam[i], rel=1e-10)
    return measured[0]


def test_variational_ib_reproduces_every_critical_beta() -> None:
    """β below the first β_i, between every consecutive pair, and above the last."""
    d = data()
    lam, _ = ib_spectrum(d.cov_x, d.cov_x_given_y)
    critical = 1 / (1 - lam)
    betas = [critical[0] / 1.1]
    betas += [math.sqrt(a * b) for a, b in itertools.pairwise(critical)]
    betas += [critical[-1] * 1.2]
    for beta in betas:
        # Adam's progress slows as the encoder grows (larger β): more steps for the last.
        _check_against_exact(d, lam, beta, steps=1500 if beta < critical[-1] else 3000)


def test_first_dimension_switches_on_with_exponent_one_half() -> None:
    """encoder_norm_1 = sqrt((1 − λ_1)(β − β_1)/λ_1): log-log slope 1/2."""
    d = data()
    lam, _ = ib_spectrum(d.cov_x, d.cov_x_given_y)
    beta_c = 1 / (1 - lam[0])
    distances = beta_c * np.array([0.16, 0.08, 0.04])
    norms = [_check_against_exact(d, lam, beta_c + dist, steps=1500) for dist in distances]
    slope = np.polyfit(np.log(distances), np.log(norms), 1)[0]
    # Every norm is within 1e-3·(its own bound) of exact, so the slope is within the
    # propagated Σ|c_j|·δ_j/norm_j of 1/2 (c_j the least-squares weights).
    x = np.log(distances)
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    assert abs(slope - 0.5) <= float(np.sum(np.abs(c) * 1e-3 / np.array(norms)))


def test_sampled_vib_switches_on_the_same_dimensions() -> None:
    """Minibatch VIB at β between β_3 and β_4: three dimensions on, one off. A dimension
    counts as on when its norm exceeds half the smallest exact nonzero norm (0.75)."""
    d = data()
    lam, _ = ib_spectrum(d.cov_x, d.cov_x_given_y)
    beta = math.sqrt((1 / (1 - lam[2])) * (1 / (1 - lam[3])))
    exact = information_bottleneck_optimum(lam, beta, K)
    cut = 0.5 * min(v for v in exact.encoder_norms if v > 0)
    last = run(
        beta=beta, objective="sampled", steps=600, learning_rate=0.02, learning_rate_decay=0.05
    ).iloc[-1]
    on = sum(last[f"encoder_norm_{i + 1}"] > cut for i in range(K))
    assert on == exact.active_dimensions == 3


def test_deterministic_given_seed() -> None:
    a = run(seed=4, steps=200, every=50)
    b = run(seed=4, steps=200, every=50)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    "settings",
    [{"spectrum": (0.2, 1.0)}, {"spectrum": (0.0, 0.5)}, {"bottleneck_dim": 5}, {"beta": -1}],
)
def test_invalid_settings_raise_task_error(settings: dict[str, object]) -> None:
    with pytest.raises(TaskError):
        get_task("information_bottleneck").resolve(settings)


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text()))
def test_hostile_control_values_are_refused_or_accepted_cleanly(value: object) -> None:
    """Any value of a control resolves to finite, valid settings or raises TaskError."""
    info = get_task("information_bottleneck")
    for key in ("beta", "sample_size"):
        try:
            resolved = info.resolve({key: value})
        except TaskError:
            continue
        assert all(math.isfinite(v) for v in resolved.values() if isinstance(v, float)), resolved
