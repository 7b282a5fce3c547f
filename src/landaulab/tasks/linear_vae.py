r"""Linear VAE (probabilistic PCA) with a weighted KL: posterior collapse as a transition.

Model (Tipping & Bishop 1999; Lucas, Tucker, Grosse & Norouzi 2019, arXiv:1911.02469;
posterior collapse as a phase transition, arXiv:2510.01621). Centred data
:math:`x\in\mathbb R^d` with sample covariance :math:`S = \sum_i \lambda_i u_i u_i^\top`
(:math:`\lambda_1 \ge \lambda_2 \ge \dots`), prior :math:`p(z) = N(0, I_k)`, decoder
:math:`p(x|z) = N(Wz, \sigma^2 I_d)` with a *fixed* decoder variance :math:`\sigma^2`, and
encoder :math:`q(z|x) = N(Vx, D)` with :math:`D` diagonal. The objective is the
β-weighted evidence lower bound, averaged over the data,

.. math::

    \mathcal L_\beta(W, V, D; \sigma^2) = E_x\big[E_q \log p(x|z)
        - \beta\,\mathrm{KL}(q(z|x)\,\|\,p(z))\big].

Both expectations are Gaussian integrals, so (up to an additive constant)

.. math::

    -\mathcal L_\beta = \tfrac{1}{2\sigma^2}\big[\mathrm{tr}((I-WV)S(I-WV)^\top)
        + \mathrm{tr}(WDW^\top)\big]
        + \tfrac{\beta}{2}\big[\mathrm{tr}D + \mathrm{tr}(VSV^\top) - k - \log\det D\big].

**Exact threshold with a KL weight (derivation).** Dividing by β,
:math:`\mathcal L_\beta(\theta;\sigma^2) = \beta\,\mathcal L_1(\theta;\beta\sigma^2) +
\text{const}`: the weighted objective is the ordinary ELBO with decoder variance
:math:`s = \beta\sigma^2`, so both have the same maximisers. For β = 1 with diagonal
:math:`D`, the ELBO's stationary points are those of the pPCA likelihood and its global
maximum is the pPCA solution with fixed noise (Lucas et al. 2019, Tipping & Bishop 1999),
with the rotation fixed to the identity by the diagonal :math:`D`. Hence at the optimum

* column :math:`i` of :math:`W` is :math:`w_i = u_i\sqrt{\lambda_i - \beta\sigma^2}` when
  :math:`\lambda_i > \beta\sigma^2` and :math:`w_i = 0` otherwise, so direction :math:`i`
  is active only while :math:`\beta < \beta_i = \lambda_i/\sigma^2` (equivalently
  :math:`\sigma^2 < \lambda_i/\beta`), and :math:`\|w_i\|^2 = \lambda_i - \sigma^2` at β = 1;
* stationarity in :math:`D` gives :math:`D_{ii}^{-1} = 1 + \|w_i\|^2/(\beta\sigma^2)`, i.e.
  :math:`D_{ii} = \beta\sigma^2/\lambda_i` (active) or 1 (collapsed);
* stationarity in :math:`V` gives :math:`V = (W^\top W + \beta\sigma^2 I)^{-1} W^\top`, so
  :math:`v_i = w_i/\lambda_i` (active) or 0 (collapsed), and the variance of the encoder
  mean over the data is :math:`v_i^\top S v_i = 1 - \beta\sigma^2/\lambda_i`;
* the KL of latent :math:`i` averaged over the data,
  :math:`\tfrac12[D_{ii} + v_i^\top S v_i - 1 - \log D_{ii}]`, equals
  :math:`\tfrac12\log(\lambda_i/(\beta\sigma^2))` above the threshold and 0 below it.

The order parameter :math:`\|w_i\| = \sigma(\beta_i - \beta)^{1/2}` vanishes continuously
with Landau exponent 1/2 (a second-order transition); the KL of the latent vanishes
linearly, :math:`\approx (\beta_i - \beta)/(2\beta_i)`.

Two tasks are registered: ``linear_vae`` (gradient ascent on the exact or on the sampled
ELBO; it reproduces every threshold) and ``nonlinear_vae`` (a small MLP VAE on data from a
curved low-dimensional manifold, trained on the sampled ELBO; no exact answer, but in
function space the all-collapsed state is unstable exactly when :math:`\beta\sigma^2 <
\lambda_{\max}` of the data covariance, the linear-VAE threshold of the top direction,
because the second-order expansion around it is the linear VAE's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from pydantic import ConfigDict, Field, model_validator

from landaulab.record.context import RunContext
from landaulab.tasks.registry import TaskParameters, register_task
from landaulab.train.device import resolve_device

ACTIVE_UNIT_THRESHOLD = 0.01
"""Burda, Grosse & Salakhutdinov 2016 (arXiv:1509.00519): latent u is active when
Var_x(E_q[z_u]) exceeds 0.01."""


# ---------------------------------------------------------------------------------------
# data and the exact answer
# ---------------------------------------------------------------------------------------


def planted_gaussian_data(
    spectrum: tuple[float, ...] | list[float], sample_size: int, seed: int
) -> np.ndarray:
    """Centred Gaussian samples whose population covariance has eigenvalues ``spectrum``.

    The eigenvectors are a random orthogonal basis drawn from ``seed``; the returned
    sample is centred exactly (its mean is subtracted).

    Returns
    -------
    numpy.ndarray
        Shape ``(sample_size, len(spectrum))``.
    """
    rng = np.random.default_rng(seed)
    d = len(spectrum)
    basis, _ = np.linalg.qr(rng.standard_normal((d, d)))
    x = rng.standard_normal((sample_size, d)) * np.sqrt(np.asarray(spectrum, dtype=float))
    x = x @ basis.T
    return x - x.mean(axis=0)


def sample_covariance(x: np.ndarray) -> np.ndarray:
    """The covariance of centred data with the maximum-likelihood normalisation 1/n."""
    return (x.T @ x) / x.shape[0]


def covariance_spectrum(covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors (columns) of a symmetric matrix."""
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    return values[order], vectors[:, order]


@dataclass(frozen=True)
class LinearVAEOptimum:
    """The exact maximiser of the β-weighted linear-VAE ELBO (see the module docstring).

    Attributes
    ----------
    eigenvalues
        The top ``latent_dim`` data-covariance eigenvalues λ_i, descending.
    decoder_variance, beta
        σ² and the KL weight β.
    weight_norms
        ‖w_i‖ = sqrt(max(λ_i − βσ², 0)).
    kl
        KL of latent i averaged over the data: ½·log(λ_i/(βσ²)) or 0.
    encoder_variances
        Diagonal of D: βσ²/λ_i or 1.
    critical_betas
        β_i = λ_i/σ² at which direction i collapses.
    critical_decoder_variances
        σ²_i = λ_i/β at which direction i collapses.
    """

    eigenvalues: tuple[float, ...]
    decoder_variance: float
    beta: float
    weight_norms: tuple[float, ...]
    kl: tuple[float, ...]
    encoder_variances: tuple[float, ...]
    critical_betas: tuple[float, ...]
    critical_decoder_variances: tuple[float, ...]

    @property
    def active_latents(self) -> int:
        """Number of directions above threshold (λ_i > βσ²)."""
        return sum(1 for w in self.weight_norms if w > 0.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary of every field plus ``active_latents``."""
        out: dict[str, Any] = {
            k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()
        }
        out["active_latents"] = self.active_latents
        return out

    def __str__(self) -> str:
        rows = [
            f"linear VAE optimum at beta={self.beta:g}, decoder_variance={self.decoder_variance:g}"
            f" (beta*sigma^2={self.beta * self.decoder_variance:g})"
        ]
        for i, (lam, w, kl, bc) in enumerate(
            zip(self.eigenvalues, self.weight_norms, self.kl, self.critical_betas, strict=True),
            start=1,
        ):
            state = "active" if w > 0 else "collapsed"
            rows.append(
                f"  latent {i}: lambda={lam:.4g}  |w|={w:.4g}  KL={kl:.4g}  "
                f"beta_c={bc:.4g}  {state}"
            )
        return "\n".join(rows)


def linear_vae_optimum(
    eigenvalues: np.ndarray | list[float] | tuple[float, ...],
    decoder_variance: float,
    beta: float = 1.0,
    latent_dim: int | None = None,
) -> LinearVAEOptimum:
    """The exact optimum of the β-ELBO of a linear VAE with diagonal encoder covariance.

    Parameters
    ----------
    eigenvalues
        Data-covariance eigenvalues (any order; sorted descending here).
    decoder_variance
        σ² > 0.
    beta
        KL weight β > 0.
    latent_dim
        Number of latents k (default: all eigenvalues).
    """
    lam = np.sort(np.asarray(eigenvalues, dtype=float))[::-1]
    k = len(lam) if latent_dim is None else int(latent_dim)
    lam = lam[:k]
    s = float(beta) * float(decoder_variance)
    active = lam > s
    weight = np.where(active, np.sqrt(np.clip(lam - s, 0.0, None)), 0.0)
    kl = np.where(active, 0.5 * np.log(np.where(active, lam, 1.0) / s), 0.0)
    enc_var = np.where(active, s / np.where(active, lam, 1.0), 1.0)
    return LinearVAEOptimum(
        eigenvalues=tuple(float(v) for v in lam),
        decoder_variance=float(decoder_variance),
        beta=float(beta),
        weight_norms=tuple(float(v) for v in weight),
        kl=tuple(float(v) for v in kl),
        encoder_variances=tuple(float(v) for v in enc_var),
        critical_betas=tuple(float(v) for v in lam / float(decoder_variance)),
        critical_decoder_variances=tuple(float(v) for v in lam / float(beta)),
    )


def linear_vae_stationary_point(
    covariance: np.ndarray, decoder_variance: float, beta: float, latent_dim: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parameters ``(W, V, log_d)`` of the exact optimum (one representative).

    Signs and the order of latents are a discrete symmetry of the objective; this picks
    latent i ↔ the i-th largest eigenvalue and eigenvector signs as returned by ``eigh``.
    """
    values, vectors = covariance_spectrum(np.asarray(covariance, dtype=float))
    s = float(beta) * float(decoder_variance)
    lam = values[:latent_dim]
    u = vectors[:, :latent_dim]
    gain = np.sqrt(np.clip(lam - s, 0.0, None))
    decoder = u * gain
    encoder = (u * (gain / np.where(lam > s, lam, 1.0))).T
    log_d = np.where(lam > s, np.log(s / np.where(lam > s, lam, 1.0)), 0.0)
    return decoder, encoder, log_d


def linear_vae_loss(
    decoder: torch.Tensor,
    encoder: torch.Tensor,
    log_variance: torch.Tensor,
    covariance: torch.Tensor,
    decoder_variance: float,
    beta: float,
) -> torch.Tensor:
    """Negative β-ELBO per data point, exact in expectation (see the module docstring).

    Parameters
    ----------
    decoder
        W, shape ``(d, k)``.
    encoder
        V, shape ``(k, d)``.
    log_variance
        log of the diagonal of D, shape ``(k,)``.
    covariance
        Centred data covariance S, shape ``(d, d)``.
    decoder_variance, beta
        σ² and the KL weight β.
    """
    d = covariance.shape[0]
    k = encoder.shape[0]
    var = torch.exp(log_variance)
    wv = decoder @ encoder
    residual = torch.eye(d, dtype=covariance.dtype, device=covariance.device) - wv
    reconstruction = 0.5 * d * math.log(2 * math.pi * decoder_variance) + (
        torch.trace(residual @ covariance @ residual.T) + torch.sum(decoder**2 * var)
    ) / (2 * decoder_variance)
    kl = 0.5 * (
        torch.sum(var) + torch.trace(encoder @ covariance @ encoder.T) - k - torch.sum(log_variance)
    )
    return reconstruction + beta * kl


# ---------------------------------------------------------------------------------------
# the linear_vae task
# ---------------------------------------------------------------------------------------


class LinearVAEParameters(TaskParameters):
    """Settings of the ``linear_vae`` task.

    ``beta`` (KL weight) and ``decoder_variance`` (σ²) are the control parameters; a
    direction with data-covariance eigenvalue λ_i is active iff λ_i > β·σ².
    """

    model_config = ConfigDict(allow_inf_nan=False)

    beta: float = Field(1.0, gt=0, description="KL weight β")
    decoder_variance: float = Field(0.7, gt=0, description="fixed decoder variance σ²")
    spectrum: tuple[float, ...] = Field(
        (4.0, 2.0, 1.0, 0.5, 0.25, 0.125),
        min_length=1,
        description="population eigenvalues of the data covariance",
    )
    latent_dim: int = Field(4, ge=1)
    sample_size: int = Field(5000, ge=2, description="number of data points n")
    data_seed: int = Field(0, description="seed of the dataset (the run seed sets the init)")
    steps: int = Field(3000, ge=0)
    learning_rate: float | None = Field(
        None,
        gt=0,
        description="step size; default: for 'gd', STEP_SAFETY·2/μ_max with μ_max the largest "
        "eigenvalue of the loss Hessian at the exact optimum (see stable_learning_rate); "
        "for 'adam', 0.05",
    )
    optimizer: Literal["gd", "adam"] = "gd"
    elbo: Literal["analytic", "sampled"] = Field(
        "analytic",
        description="'analytic': exact expectation over the data and q (full batch); "
        "'sampled': minibatches and the reparameterisation trick",
    )
    batch_size: int = Field(256, ge=1)
    init_scale: float = Field(0.1, gt=0)

    @model_validator(mode="after")
    def _check(self) -> LinearVAEParameters:
        if any(not (math.isfinite(v) and v > 0) for v in self.spectrum):
            raise ValueError("spectrum must hold positive finite eigenvalues")
        if self.latent_dim > len(self.spectrum):
            raise ValueError(
                f"latent_dim ({self.latent_dim}) exceeds the data dimension "
                f"({len(self.spectrum)}); lower latent_dim or lengthen spectrum"
            )
        return self


#: The default gradient-descent step is this fraction of the stability limit 2/μ_max.
STEP_SAFETY = 0.8
#: Adam's default step (Adam's steps are bounded by the step size, whatever the curvature).
ADAM_STEP = 0.05


def loss_hessian_max(
    covariance: np.ndarray, decoder_variance: float, beta: float, latent_dim: int
) -> float:
    """μ_max: the largest eigenvalue of the loss Hessian at the exact optimum.

    The Hessian is built by central differences of the closed-form gradient
    (:func:`linear_vae_loss_and_gradient`) at :func:`linear_vae_stationary_point`; its
    error, O(h²) with h = 1e-5·scale, is far below the safety margin of the step.
    Gradient descent converges near the optimum only for steps below 2/μ_max; the
    V-block alone reaches λ_max·(‖w_1‖²/σ² + β) = λ_max²/σ² at β = 1.
    """
    w, v, log_d = linear_vae_stationary_point(covariance, decoder_variance, beta, latent_dim)
    shapes = [w.shape, v.shape, log_d.shape]
    theta = np.concatenate([w.ravel(), v.ravel(), log_d])
    h = 1e-5 * max(1.0, float(np.abs(theta).max()))

    def gradient(x: np.ndarray) -> np.ndarray:
        parts: list[np.ndarray] = []
        start = 0
        for shape in shapes:
            size = int(np.prod(shape))
            parts.append(x[start : start + size].reshape(shape))
            start += size
        w_x, v_x, log_d_x = parts
        _, grads = linear_vae_loss_and_gradient(
            w_x, v_x, log_d_x, covariance, decoder_variance, beta
        )
        return np.concatenate([g.ravel() for g in grads])

    n = theta.size
    hessian = np.empty((n, n))
    for i in range(n):
        step = np.zeros(n)
        step[i] = h
        hessian[:, i] = (gradient(theta + step) - gradient(theta - step)) / (2 * h)
    return float(np.linalg.eigvalsh(0.5 * (hessian + hessian.T))[-1])


def stable_learning_rate(
    covariance: np.ndarray, decoder_variance: float, beta: float, latent_dim: int
) -> float:
    """The default gradient-descent step: ``STEP_SAFETY · 2/μ_max`` (= 1.6/μ_max).

    A fixed step above 2/μ_max cannot converge to the optimum: it oscillates (a
    period-two cycle) or diverges. 80% of the limit leaves room for the curvature met on the
    way from a small initialisation and for the sample's eigenvalues.
    """
    mu_max = loss_hessian_max(covariance, decoder_variance, beta, latent_dim)
    return STEP_SAFETY * 2.0 / mu_max


def _linear_vae_observables(k: int) -> tuple[str, ...]:
    names = ["elbo", "kl_total", "active_latents", "grad_norm", "beta", "decoder_variance"]
    names += ["learning_rate"]
    for i in range(1, k + 1):
        names += [f"weight_norm_{i}", f"kl_{i}", f"encoder_variance_{i}", f"eigenvalue_{i}"]
    return tuple(names)


class NumpyAdam:
    """Adam (Kingma & Ba 2015, arXiv:1412.6980) updating a list of numpy arrays in place.

    ``lr`` may be changed between updates (for a learning-rate schedule).
    """

    def __init__(self, lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.t = 0
        self.m: list[np.ndarray] = []
        self.v: list[np.ndarray] = []

    def update(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One Adam step on ``params`` (in place) from ``grads``."""
        if not self.m:
            self.m = [np.zeros_like(g) for g in grads]
            self.v = [np.zeros_like(g) for g in grads]
        self.t += 1
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            m_hat = m / (1 - self.b1**self.t)
            v_hat = v / (1 - self.b2**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def linear_vae_loss_and_gradient(
    decoder: np.ndarray,
    encoder: np.ndarray,
    log_variance: np.ndarray,
    covariance: np.ndarray,
    decoder_variance: float,
    beta: float,
) -> tuple[float, list[np.ndarray]]:
    """:func:`linear_vae_loss` and its gradient in closed form (numpy, float64).

    With s = σ², d = exp(log_variance):
    ∂/∂W = [WVSVᵀ − SVᵀ + W·diag(d)]/s,
    ∂/∂V = Wᵀ(WV − I)S/s + βVS,
    ∂/∂log d_j = d_j‖w_j‖²/(2s) + β(d_j − 1)/2.

    Returns
    -------
    (loss, [dW, dV, dlog_d])
    """
    s2 = float(decoder_variance)
    dim = covariance.shape[0]
    k = encoder.shape[0]
    var = np.exp(log_variance)
    vs = encoder @ covariance
    wv = decoder @ encoder
    vsv = vs @ encoder.T
    col_sq = np.sum(decoder**2, axis=0)
    recon = 0.5 * dim * math.log(2 * math.pi * s2) + (
        np.trace(covariance)
        - 2 * np.trace(wv @ covariance)
        + np.trace(decoder @ vsv @ decoder.T)
        + float(col_sq @ var)
    ) / (2 * s2)
    kl = 0.5 * (float(var.sum()) + np.trace(vsv) - k - float(log_variance.sum()))
    grad_w = (decoder @ vsv - vs.T + decoder * var) / s2
    grad_v = (decoder.T @ (wv @ covariance - covariance)) / s2 + beta * vs
    grad_log_var = var * col_sq / (2 * s2) + 0.5 * beta * (var - 1.0)
    return float(recon + beta * kl), [grad_w, grad_v, grad_log_var]


@register_task(
    "linear_vae",
    parameters=LinearVAEParameters,
    observables=_linear_vae_observables(4),
    summary="linear VAE / pPCA with KL weight beta: latent i collapses at beta*sigma^2 = lambda_i",
    extra={
        "controls": ["beta", "decoder_variance", "sample_size", "seed"],
        "order_parameters": ["weight_norm_i", "kl_i"],
        "known_answer": "|w_i|^2 = max(lambda_i - beta*sigma^2, 0); "
        "KL_i = max(0.5*log(lambda_i/(beta*sigma^2)), 0); exponent 1/2",
        "references": ["Tipping & Bishop 1999", "arXiv:1911.02469", "arXiv:2510.01621"],
    },
)
def linear_vae(ctx: RunContext) -> None:
    """Linear VAE trained by gradient ascent on the β-ELBO; logs ‖w_i‖ and KL per latent.

    Per latent (sorted by decoder column norm, descending, so latent i pairs with the
    i-th largest eigenvalue): ``weight_norm_i`` = ‖w_i‖, ``kl_i``, ``encoder_variance_i``
    and ``eigenvalue_i`` (sample covariance). Also ``elbo`` (per data point),
    ``kl_total``, ``active_latents`` (Burda et al. 2016 criterion), ``grad_norm`` (of the
    exact objective), the controls ``beta`` and ``decoder_variance``, and the step used,
    ``learning_rate`` (chosen from the data when unset: :func:`stable_learning_rate`).

    With ``elbo="analytic"`` the exact objective involves only d×d matrices; it is
    evaluated in float64 numpy on the CPU whatever the device. ``elbo="sampled"`` trains
    with minibatches and the reparameterisation trick in torch on ``ctx.device``.
    """
    p = LinearVAEParameters(**{k: v for k, v in ctx.params.items() if k != "seed"})
    x_np = planted_gaussian_data(p.spectrum, p.sample_size, p.data_seed)
    cov = sample_covariance(x_np)
    eigenvalues, _ = covariance_spectrum(cov)
    d, k = x_np.shape[1], p.latent_dim
    rng = np.random.default_rng(ctx.seed)
    params = [
        p.init_scale * rng.standard_normal((d, k)),
        p.init_scale * rng.standard_normal((k, d)),
        np.zeros(k),
    ]
    if p.learning_rate is not None:
        step_size = p.learning_rate
    elif p.optimizer == "adam":
        step_size = ADAM_STEP
    else:
        step_size = stable_learning_rate(cov, p.decoder_variance, p.beta, k)
    p = p.model_copy(update={"learning_rate": step_size})
    if p.elbo == "sampled":
        _train_sampled(ctx, p, x_np, cov, eigenvalues, params, rng)
        return
    adam = NumpyAdam(step_size) if p.optimizer == "adam" else None
    for step in range(p.steps + 1):
        loss, grads = linear_vae_loss_and_gradient(
            params[0], params[1], params[2], cov, p.decoder_variance, p.beta
        )
        if ctx.due(step):
            _log_linear_vae(ctx, step, p, loss, params, grads, cov, eigenvalues)
        if step == p.steps:
            break
        if adam is not None:
            adam.update(params, grads)
        else:
            for q, g in zip(params, grads, strict=True):
                q -= step_size * g


def _train_sampled(
    ctx: RunContext,
    p: LinearVAEParameters,
    x_np: np.ndarray,
    cov: np.ndarray,
    eigenvalues: np.ndarray,
    init: list[np.ndarray],
    rng: np.random.Generator,
) -> None:
    """Minibatch training on the reparameterised β-ELBO (torch, on ``ctx.device``)."""
    device = resolve_device(ctx.device)
    dtype = torch.float64
    x = torch.as_tensor(x_np, dtype=dtype, device=device)
    d = x_np.shape[1]
    decoder, encoder, log_var = (
        torch.as_tensor(a.copy(), dtype=dtype, device=device).requires_grad_() for a in init
    )
    params = [decoder, encoder, log_var]
    gen = torch.Generator(device="cpu").manual_seed(int(rng.integers(2**62)))
    optimizer = (
        torch.optim.Adam(params, lr=p.learning_rate or ADAM_STEP)
        if p.optimizer == "adam"
        else torch.optim.SGD(params, lr=p.learning_rate or ADAM_STEP)
    )
    batch = min(p.batch_size, x_np.shape[0])
    for step in range(p.steps + 1):
        if ctx.due(step):
            current = [q.detach().cpu().numpy().copy() for q in params]
            loss, grads = linear_vae_loss_and_gradient(
                current[0], current[1], current[2], cov, p.decoder_variance, p.beta
            )
            _log_linear_vae(ctx, step, p, loss, current, grads, cov, eigenvalues)
        if step == p.steps:
            break
        idx = torch.randint(0, x.shape[0], (batch,), generator=gen).to(device)
        xb = x[idx]
        mean = xb @ encoder.T
        noise = torch.randn(mean.shape, generator=gen, dtype=dtype).to(device)
        z = mean + torch.exp(0.5 * log_var) * noise
        recon = 0.5 * d * math.log(2 * math.pi * p.decoder_variance) + torch.sum(
            (xb - z @ decoder.T) ** 2, dim=1
        ) / (2 * p.decoder_variance)
        kl = 0.5 * torch.sum(torch.exp(log_var) + mean**2 - 1.0 - log_var, dim=1)
        loss_t = torch.mean(recon + p.beta * kl)
        optimizer.zero_grad(set_to_none=True)
        loss_t.backward()
        optimizer.step()


def _log_linear_vae(
    ctx: RunContext,
    step: int,
    p: LinearVAEParameters,
    loss: float,
    params: list[np.ndarray],
    grads: list[np.ndarray],
    cov: np.ndarray,
    eigenvalues: np.ndarray,
) -> None:
    decoder, encoder, log_var = params
    norms = np.linalg.norm(decoder, axis=0)
    order = np.argsort(-norms, kind="stable")
    mean_var = np.einsum("kd,de,ke->k", encoder, cov, encoder)
    kl = 0.5 * (np.exp(log_var) + mean_var - 1.0 - log_var)
    values: dict[str, float] = {
        "elbo": -loss,
        "kl_total": float(kl.sum()),
        "active_latents": float(np.sum(mean_var > ACTIVE_UNIT_THRESHOLD)),
        "grad_norm": math.sqrt(sum(float(np.sum(g**2)) for g in grads)),
        "beta": p.beta,
        "decoder_variance": p.decoder_variance,
        "learning_rate": float(p.learning_rate or math.nan),
    }
    for rank, j in enumerate(order.tolist(), start=1):
        values[f"weight_norm_{rank}"] = float(norms[j])
        values[f"kl_{rank}"] = float(kl[j])
        values[f"encoder_variance_{rank}"] = float(np.exp(log_var[j]))
        values[f"eigenvalue_{rank}"] = float(eigenvalues[rank - 1])
    ctx.log_values(step, values)


# ---------------------------------------------------------------------------------------
# companion: a small nonlinear VAE on a curved manifold
# ---------------------------------------------------------------------------------------


def manifold_data(
    sample_size: int,
    data_dim: int,
    intrinsic_dim: int,
    noise_std: float,
    seed: int,
    hidden: int = 16,
) -> np.ndarray:
    """Centred data on a curved ``intrinsic_dim``-manifold in ``data_dim`` dimensions.

    z ~ N(0, I); x = tanh(z A + b) C + noise, with A, b, C drawn from ``seed`` and C
    scaled so that the noiseless part has unit total variance per dimension on average.
    """
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((intrinsic_dim, hidden))
    b = 0.5 * rng.standard_normal(hidden)
    c = rng.standard_normal((hidden, data_dim))
    z = rng.standard_normal((sample_size, intrinsic_dim))
    signal = np.tanh(z @ a + b) @ c
    signal -= signal.mean(axis=0)
    signal /= np.sqrt(np.mean(signal**2))
    x = signal + noise_std * rng.standard_normal((sample_size, data_dim))
    return x - x.mean(axis=0)


class NonlinearVAEParameters(TaskParameters):
    """Settings of the ``nonlinear_vae`` task (β and σ² are the control parameters)."""

    model_config = ConfigDict(allow_inf_nan=False)

    beta: float = Field(1.0, gt=0, description="KL weight β")
    decoder_variance: float = Field(0.05, gt=0, description="fixed decoder variance σ²")
    data_dim: int = Field(8, ge=1)
    intrinsic_dim: int = Field(2, ge=1)
    latent_dim: int = Field(4, ge=1)
    hidden: int = Field(64, ge=1)
    noise_std: float = Field(0.05, ge=0)
    sample_size: int = Field(4000, ge=2)
    data_seed: int = 0
    steps: int = Field(2000, ge=0)
    learning_rate: float = Field(3e-3, gt=0)
    batch_size: int = Field(128, ge=1)


class _MLPVAE(torch.nn.Module):
    def __init__(self, data_dim: int, latent_dim: int, hidden: int) -> None:
        super().__init__()
        self.encoder = torch.nn.Sequential(
            torch.nn.Linear(data_dim, hidden),
            torch.nn.Tanh(),
            torch.nn.Linear(hidden, 2 * latent_dim),
        )
        self.decoder = torch.nn.Sequential(
            torch.nn.Linear(latent_dim, hidden),
            torch.nn.Tanh(),
            torch.nn.Linear(hidden, data_dim),
        )
        self.latent_dim = latent_dim

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def terms(
        self, x: torch.Tensor, noise: torch.Tensor, decoder_variance: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-point reconstruction NLL, per-point-per-latent KL, encoder means."""
        mean, log_var = self.encode(x)
        z = mean + torch.exp(0.5 * log_var) * noise
        recon = 0.5 * x.shape[1] * math.log(2 * math.pi * decoder_variance) + torch.sum(
            (x - self.decoder(z)) ** 2, dim=1
        ) / (2 * decoder_variance)
        kl = 0.5 * (torch.exp(log_var) + mean**2 - 1.0 - log_var)
        return recon, kl, mean


def _nonlinear_vae_observables(k: int) -> tuple[str, ...]:
    names = ["elbo", "reconstruction", "kl_total", "active_latents", "beta", "decoder_variance"]
    return tuple(names + [f"kl_{i}" for i in range(1, k + 1)])


@register_task(
    "nonlinear_vae",
    parameters=NonlinearVAEParameters,
    observables=_nonlinear_vae_observables(4),
    summary="small MLP VAE on a curved manifold: KL per latent vs beta and decoder variance",
    extra={
        "controls": ["beta", "decoder_variance", "sample_size", "seed"],
        "order_parameters": ["kl_i", "active_latents"],
        "known_answer": "all latents collapse for beta*sigma^2 >= lambda_max(data covariance)",
        "references": ["arXiv:1911.02469", "arXiv:1509.00519"],
    },
)
def nonlinear_vae(ctx: RunContext) -> None:
    """MLP VAE trained with Adam on the sampled β-ELBO; logs the KL of each latent.

    ``kl_i`` are the per-latent KLs averaged over the data, sorted descending;
    ``active_latents`` counts latents with Var_x(E_q[z]) > 0.01 (Burda et al. 2016).
    """
    p = NonlinearVAEParameters(**{k: v for k, v in ctx.params.items() if k != "seed"})
    device = resolve_device(ctx.device)
    x_np = manifold_data(p.sample_size, p.data_dim, p.intrinsic_dim, p.noise_std, p.data_seed)
    x = torch.as_tensor(x_np, dtype=torch.float32, device=device)
    gen = torch.Generator(device="cpu").manual_seed(ctx.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(ctx.seed)
        model = _MLPVAE(p.data_dim, p.latent_dim, p.hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=p.learning_rate)
    eval_noise = torch.randn(x.shape[0], p.latent_dim, generator=gen).to(device)
    n = x.shape[0]
    for step in range(p.steps + 1):
        if ctx.due(step):
            with torch.no_grad():
                recon, kl, mean = model.terms(x, eval_noise, p.decoder_variance)
                kl_latent = torch.sort(kl.mean(dim=0), descending=True).values
                activity = mean.var(dim=0, unbiased=False)
                values = {
                    "elbo": -float((recon + p.beta * kl.sum(dim=1)).mean()),
                    "reconstruction": float(recon.mean()),
                    "kl_total": float(kl_latent.sum()),
                    "active_latents": float((activity > ACTIVE_UNIT_THRESHOLD).sum()),
                    "beta": p.beta,
                    "decoder_variance": p.decoder_variance,
                }
                for i, v in enumerate(kl_latent.tolist(), start=1):
                    values[f"kl_{i}"] = v
            ctx.log_values(step, values)
        if step == p.steps:
            break
        idx = torch.randint(0, n, (min(p.batch_size, n),), generator=gen).to(device)
        noise = torch.randn(len(idx), p.latent_dim, generator=gen).to(device)
        recon, kl, _ = model.terms(x[idx], noise, p.decoder_variance)
        loss = (recon + p.beta * kl.sum(dim=1)).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
