"""Linear VAE with a KL weight: gradient ascent reproduces every collapse threshold.

Tolerances come from the residual gradient g logged at the end of training: near the
optimum θ*, θ − θ* ≈ H⁻¹g, so ‖θ − θ*‖ ≤ g/μ_min with μ_min the smallest eigenvalue of the
exact Hessian H at θ* (computed here by autograd at the closed-form optimum). A column
norm ‖w_i‖ is 1-Lipschitz in θ and KL_i is ‖∇KL_i‖-Lipschitz to first order, which turns
the parameter error into an error bar on each order parameter.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

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
from landaulab.tasks.linear_vae import (
    linear_vae_loss,
    linear_vae_loss_and_gradient,
    linear_vae_optimum,
    linear_vae_stationary_point,
    manifold_data,
    planted_gaussian_data,
    sample_covariance,
)

SPECTRUM = (4.0, 2.0, 1.0, 0.5, 0.25, 0.125)
SIGMA2 = 0.7
LATENT = 4
N = 5000
EPS = float(np.finfo(float).eps)
LR = 0.05  # a fixed step, below 2/μ_max for every setting used with it


def run(name: str, seed: int = 0, every: int = 500, **settings: object) -> pd.DataFrame:
    info = get_task(name)
    params = info.resolve(settings) | {"seed": seed}
    ctx = RunContext(params, Schedule(total_steps=params["steps"], every=every))
    info.function(ctx)
    return ctx.table()


def _flat(w: np.ndarray, v: np.ndarray, log_d: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.concatenate([w.ravel(), v.ravel(), log_d]), dtype=torch.float64)


def _split(theta: torch.Tensor, d: int, k: int) -> tuple[torch.Tensor, ...]:
    w = theta[: d * k].reshape(d, k)
    v = theta[d * k : 2 * d * k].reshape(k, d)
    return w, v, theta[2 * d * k :]


@dataclass(frozen=True)
class Curvature:
    """Local geometry of the objective at the exact optimum θ*."""

    mu_min: float  # smallest Hessian eigenvalue: the slowest linear convergence rate
    mu_max: float  # largest: gradient descent is stable for learning_rate < 2/mu_max
    kl_slope: float  # max_i ‖∇KL_i(θ*)‖
    kl_curvature: float  # max_i ‖∇²KL_i(θ*)‖

    def steps_for(self, learning_rate: float, reduction: float = 1e8) -> int:
        """Steps for the error to shrink by ``reduction`` at rate (1 − lr·μ_min) per step."""
        return math.ceil(math.log(reduction) / (learning_rate * self.mu_min))

    def parameter_error(self, grad_norm: float) -> float:
        """First-order bound ‖θ − θ*‖ ≤ ‖H⁻¹g‖ ≤ g/μ_min."""
        return grad_norm / self.mu_min

    def kl_error(self, grad_norm: float) -> float:
        """Taylor bound max‖∇KL‖·δ + ½max‖∇²KL‖·δ², plus float64 round-off in KL's sum."""
        delta = self.parameter_error(grad_norm)
        return self.kl_slope * delta + 0.5 * self.kl_curvature * delta**2 + 16 * EPS


def curvature(cov: np.ndarray, beta: float) -> Curvature:
    d = cov.shape[0]
    cov_t = torch.as_tensor(cov)
    theta = _flat(*linear_vae_stationary_point(cov, SIGMA2, beta, LATENT))

    def loss(theta: torch.Tensor) -> torch.Tensor:
        return linear_vae_loss(*_split(theta, d, LATENT), cov_t, SIGMA2, beta)

    def kl(theta: torch.Tensor) -> torch.Tensor:
        _, v, log_d = _split(theta, d, LATENT)
        mean_var = torch.einsum("kd,de,ke->k", v, cov_t, v)
        return 0.5 * (torch.exp(log_d) + mean_var - 1.0 - log_d)

    spectrum = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss, theta))
    assert spectrum[0] > 0, "the closed-form optimum must be a strict local minimum"
    slope = torch.linalg.vector_norm(torch.autograd.functional.jacobian(kl, theta), dim=1)
    bend = [
        torch.linalg.matrix_norm(
            torch.autograd.functional.hessian(lambda t, i=i: kl(t)[i], theta), ord=2
        )
        for i in range(LATENT)
    ]
    return Curvature(float(spectrum[0]), float(spectrum[-1]), float(slope.max()), float(max(bend)))


def test_closed_form_gradient_matches_autograd() -> None:
    rng = np.random.default_rng(3)
    cov = sample_covariance(planted_gaussian_data(SPECTRUM, 200, 1))
    w, v, ld = rng.standard_normal((6, 3)), rng.standard_normal((3, 6)), rng.standard_normal(3)
    loss, grads = linear_vae_loss_and_gradient(w, v, ld, cov, SIGMA2, 1.7)
    tensors = [torch.tensor(a, requires_grad=True) for a in (w, v, ld)]
    ref = linear_vae_loss(*tensors, torch.as_tensor(cov), SIGMA2, 1.7)
    ref.backward()
    assert loss == pytest.approx(float(ref.detach()), rel=1e-12)
    for g, t in zip(grads, tensors, strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("beta", [0.3, 2.2])
def test_closed_form_optimum_is_stationary(beta: float) -> None:
    cov = sample_covariance(planted_gaussian_data(SPECTRUM, N, 0))
    params = linear_vae_stationary_point(cov, SIGMA2, beta, LATENT)
    _, grads = linear_vae_loss_and_gradient(*params, cov, SIGMA2, beta)
    assert max(float(np.abs(g).max()) for g in grads) < 1e-10


def test_gradient_ascent_reproduces_every_threshold() -> None:
    """β between every pair of thresholds β_i = λ_i/σ², and beyond both ends."""
    cov = sample_covariance(planted_gaussian_data(SPECTRUM, N, 0))
    lam = np.sort(np.linalg.eigvalsh(cov))[::-1][:LATENT]
    critical = lam / SIGMA2
    betas = [critical[0] * 1.4]
    betas += [math.sqrt(a * b) for a, b in itertools.pairwise(critical)]
    betas += [critical[-1] / 1.4]
    for beta in betas:
        geometry = curvature(cov, beta)
        assert LR < 2 / geometry.mu_max
        table = run("linear_vae", beta=beta, learning_rate=LR, steps=geometry.steps_for(LR))
        last = table.iloc[-1]
        exact = linear_vae_optimum(lam, SIGMA2, beta, LATENT)
        bound = geometry.parameter_error(float(last["grad_norm"]))
        assert bound < 1e-3, f"not converged at beta={beta:.3g}: |theta-theta*| <= {bound:.2g}"
        assert int(last["active_latents"]) == exact.active_latents
        for i in range(LATENT):
            assert abs(last[f"weight_norm_{i + 1}"] - exact.weight_norms[i]) <= bound
            # kl_i is sorted by |w_i| and the exact answer by lambda_i: the same order at θ*.
            kl_tol = geometry.kl_error(float(last["grad_norm"]))
            assert abs(last[f"kl_{i + 1}"] - exact.kl[i]) <= kl_tol
            assert last[f"eigenvalue_{i + 1}"] == pytest.approx(lam[i], rel=1e-12)


def test_weight_norm_has_landau_exponent_one_half() -> None:
    """‖w_1‖ = σ·(β_1 − β)^(1/2): the log-log slope against β_1 − β is 1/2."""
    cov = sample_covariance(planted_gaussian_data(SPECTRUM, N, 0))
    lam1 = float(np.linalg.eigvalsh(cov)[-1])
    beta_c = lam1 / SIGMA2
    distances = beta_c * np.array([0.3, 0.15, 0.075])
    norms, bounds = [], []
    for dist in distances:
        beta = beta_c - dist
        geometry = curvature(cov, beta)
        last = run("linear_vae", beta=beta, learning_rate=LR, steps=geometry.steps_for(LR)).iloc[-1]
        norms.append(float(last["weight_norm_1"]))
        bounds.append(geometry.parameter_error(float(last["grad_norm"])))
    slope = np.polyfit(np.log(distances), np.log(norms), 1)[0]
    # Propagated error: |δ log w_j| <= bound_j/w_j, and the least-squares slope is
    # Σ c_j log w_j with c_j = (x_j − x̄)/Σ(x − x̄)², so it moves by at most Σ |c_j| δ_j.
    x = np.log(distances)
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    slope_tol = float(np.sum(np.abs(c) * np.array(bounds) / np.array(norms)))
    assert abs(slope - 0.5) <= slope_tol + 1e-9
    np.testing.assert_allclose(norms, np.sqrt(SIGMA2 * distances), atol=max(bounds))


def test_sample_eigenvalues_agree_with_planted_spectrum() -> None:
    """Standard error of a sample-covariance eigenvalue of Gaussian data: λ·sqrt(2/n)."""
    cov = sample_covariance(planted_gaussian_data(SPECTRUM, N, 0))
    lam = np.sort(np.linalg.eigvalsh(cov))[::-1]
    z = (lam - np.array(SPECTRUM)) / (np.array(SPECTRUM) * math.sqrt(2 / N))
    assert np.all(np.abs(z) < 4.0)


def test_sampled_elbo_finds_the_same_active_latents() -> None:
    """Minibatch training with the reparameterisation trick: 2 of 4 latents active at
    β = 2.2 (β·σ² = 1.54 lies between λ_3 ≈ 1 and λ_2 ≈ 2)."""
    last = run("linear_vae", beta=2.2, elbo="sampled", steps=1000, learning_rate=0.02)
    assert int(last.iloc[-1]["active_latents"]) == 2


def test_deterministic_given_seed() -> None:
    a = run("linear_vae", seed=5, steps=300, every=100)
    b = run("linear_vae", seed=5, steps=300, every=100)
    c = run("linear_vae", seed=6, steps=300, every=100)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


@pytest.mark.parametrize(
    "settings",
    [{"latent_dim": 7}, {"spectrum": (1.0, -2.0)}, {"beta": 0.0}, {"decoder_variance": -1.0}],
)
def test_invalid_settings_raise_task_error(settings: dict[str, object]) -> None:
    with pytest.raises(TaskError):
        get_task("linear_vae").resolve(settings)


def test_nonlinear_vae_collapses_beyond_top_eigenvalue() -> None:
    """All latents collapse once β·σ² exceeds λ_max; at half of it some stay active."""
    sigma2, n = 0.05, 2000
    x = manifold_data(n, 8, 2, 0.05, 0)
    lam_max = float(np.linalg.eigvalsh(sample_covariance(x))[-1])
    common = {"decoder_variance": sigma2, "sample_size": n, "steps": 500, "every": 500}
    collapsed = run("nonlinear_vae", beta=2.0 * lam_max / sigma2, **common).iloc[-1]
    active = run("nonlinear_vae", beta=0.5 * lam_max / sigma2, **common).iloc[-1]
    assert collapsed["active_latents"] == 0
    assert active["active_latents"] >= 1
    assert active["kl_total"] > 10 * collapsed["kl_total"]


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text()))
def test_hostile_control_values_are_refused_or_accepted_cleanly(value: object) -> None:
    """Any value of a control resolves to finite, valid settings or raises TaskError."""
    info = get_task("linear_vae")
    for key in ("beta", "decoder_variance", "sample_size"):
        try:
            resolved = info.resolve({key: value})
        except TaskError:
            continue
        assert all(math.isfinite(v) for v in resolved.values() if isinstance(v, float)), resolved


def test_default_step_follows_the_curvature_and_converges() -> None:
    """At σ² = 0.52 with top eigenvalue ≈ 5 the loss Hessian's μ_max ≈ λ_max²/σ² ≈ 49, so a
    fixed step 0.05 > 2/μ_max ≈ 0.040 cannot converge: gradient descent falls into a
    period-two cycle with its gradient norm stuck near 3. The default step,
    STEP_SAFETY·2/μ_max, converges: μ_max is computed here independently by autograd."""
    from landaulab.tasks.linear_vae import STEP_SAFETY

    spectrum, sigma2 = (5.0, 2.0, 1.0, 0.5, 0.25, 0.125), 0.52
    cov = sample_covariance(planted_gaussian_data(spectrum, N, 0))
    d = cov.shape[0]
    theta = _flat(*linear_vae_stationary_point(cov, sigma2, 1.0, LATENT))
    cov_t = torch.as_tensor(cov)
    hessian = torch.autograd.functional.hessian(
        lambda t: linear_vae_loss(*_split(t, d, LATENT), cov_t, sigma2, 1.0), theta
    )
    mu_max = float(torch.linalg.eigvalsh(hessian)[-1])
    assert 0.05 > 2 / mu_max
    common = {"spectrum": spectrum, "decoder_variance": sigma2, "steps": 3000}
    stuck = run("linear_vae", learning_rate=0.05, **common)["grad_norm"].iloc[-3:]
    assert stuck.min() > 1.0
    table = run("linear_vae", **common)
    step = table["learning_rate"].iloc[-1]
    assert step == pytest.approx(STEP_SAFETY * 2 / mu_max, rel=1e-4)
    grad = table["grad_norm"].to_numpy()
    assert grad[-1] < 1e-3 and grad[-1] < grad[-2] < grad[-3]
    adam = run("linear_vae", optimizer="adam", steps=10)
    assert adam["learning_rate"].iloc[-1] == 0.05
