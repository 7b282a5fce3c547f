r"""Gaussian information bottleneck trained as a variational IB: dimensions switch on at β_i.

Chechik, Globerson, Tishby & Weiss 2005 (JMLR 6, 165): for jointly Gaussian :math:`(x, y)`
and encoder :math:`t = Ax + \xi`, :math:`\xi\sim N(0, I)`, the minimiser of
:math:`I(T;X) - \beta I(T;Y)` has rows :math:`a_i = \alpha_i v_i^\top` along the left
eigenvectors of :math:`\Sigma_{x|y}\Sigma_x^{-1}` (eigenvalues :math:`\lambda_1 \le
\lambda_2 \le \dots`, normalised :math:`v_i^\top\Sigma_x v_i = r_i`) with

.. math::

    \alpha_i^2 r_i = \frac{\beta(1-\lambda_i) - 1}{\lambda_i}\ \text{ for }
    \beta > \beta_i = \frac{1}{1-\lambda_i}, \qquad 0 \text{ otherwise}.

The eigenvalues of :math:`A\Sigma_xA^\top` are therefore
:math:`n_i = (1-\lambda_i)(\beta - \beta_i)/\lambda_i`: the per-dimension encoder norm
:math:`\sqrt{n_i}` (invariant under rotations of :math:`t`) is an order parameter that
switches on continuously at each :math:`\beta_i` with exponent 1/2.

**Variational IB** (Alemi, Fischer, Dillon & Murphy 2017, arXiv:1612.00410): minimise
:math:`E_x\,\mathrm{KL}(p(t|x)\,\|\,r(t)) + \beta\,E_{x,y,t}[-\log q(y|t)]` over the
encoder :math:`A`, a Gaussian marginal :math:`r(t) = N(0, \mathrm{diag}(e^{\rho}))` and a
linear Gaussian decoder :math:`q(y|t) = N(Bt, P^{-1})` with precision
:math:`P = UU^\top`. The first term bounds :math:`I(T;X)` from above and the second
:math:`H(Y|T)` from above; both are tight at the optimum because the true marginal and
conditional are Gaussian of these forms (the diagonal marginal also fixes the rotation
gauge of :math:`t`: tightness then requires :math:`A\Sigma_xA^\top` diagonal). The
objective equals :math:`I(T;X) - \beta I(T;Y) + \beta H(Y)` at the optimum, so gradient
training reproduces every critical :math:`\beta_i`. With sample covariances
:math:`S_x, S_{xy}, S_y`, :math:`K = AS_xA^\top + I`, :math:`C = S_{yx}A^\top` and
:math:`E = S_y - CB^\top - BC^\top + BKB^\top`,

.. math::

    \mathcal J = \tfrac12\Big[\sum_j K_{jj}e^{-\rho_j} - k + \sum_j\rho_j\Big]
      + \tfrac\beta2\big[n_y\log 2\pi - \log\det P + \mathrm{tr}(PE)\big].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.linalg
import torch
from pydantic import ConfigDict, Field, model_validator

from landaulab.record.context import RunContext
from landaulab.tasks.linear_vae import NumpyAdam
from landaulab.tasks.registry import TaskParameters, register_task
from landaulab.train.device import resolve_device


@dataclass(frozen=True)
class GaussianData:
    """A sample of jointly Gaussian (x, y) and its centred covariances (1/n)."""

    x: np.ndarray
    y: np.ndarray
    cov_x: np.ndarray
    cov_xy: np.ndarray
    cov_y: np.ndarray

    @property
    def cov_x_given_y(self) -> np.ndarray:
        """Σ_{x|y} = Σ_x − Σ_xy Σ_y⁻¹ Σ_yx."""
        return self.cov_x - self.cov_xy @ np.linalg.solve(self.cov_y, self.cov_xy.T)


def planted_ib_data(
    spectrum: tuple[float, ...] | list[float], sample_size: int, seed: int
) -> GaussianData:
    """Jointly Gaussian data whose Σ_{x|y}Σ_x⁻¹ has population eigenvalues ``spectrum``.

    x = M u, y = G u + η with u, η ~ N(0, I), G = diag(sqrt(1/λ_i − 1)) and M a random
    matrix with singular values in [0.5, 2]: Σ_{x|y}Σ_x⁻¹ = M (I + GᵀG)⁻¹ M⁻¹.
    """
    lam = np.asarray(spectrum, dtype=float)
    n = len(lam)
    rng = np.random.default_rng(seed)
    q1, _ = np.linalg.qr(rng.standard_normal((n, n)))
    q2, _ = np.linalg.qr(rng.standard_normal((n, n)))
    mixing = q1 @ np.diag(rng.uniform(0.5, 2.0, n)) @ q2
    gain = np.sqrt(1.0 / lam - 1.0)
    u = rng.standard_normal((sample_size, n))
    x = u @ mixing.T
    y = u * gain + rng.standard_normal((sample_size, n))
    x -= x.mean(axis=0)
    y -= y.mean(axis=0)
    m = float(sample_size)
    return GaussianData(x, y, x.T @ x / m, x.T @ y / m, y.T @ y / m)


def whitened(data: GaussianData) -> GaussianData:
    """The same sample with x and y whitened (S_x = S_y = I).

    The IB optimum is invariant under invertible linear maps of x and of y (mutual
    informations are), so whitening changes the encoder's coordinates but not the
    encoder norms, the informations or β_i; it makes gradient training well conditioned.
    """
    wx = np.linalg.inv(np.linalg.cholesky(data.cov_x))
    wy = np.linalg.inv(np.linalg.cholesky(data.cov_y))
    x, y = data.x @ wx.T, data.y @ wy.T
    m = float(len(x))
    return GaussianData(x, y, x.T @ x / m, x.T @ y / m, y.T @ y / m)


def ib_spectrum(cov_x: np.ndarray, cov_x_given_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues λ (ascending) and left eigenvectors of Σ_{x|y}Σ_x⁻¹.

    Solves Σ_{x|y} v = λ Σ_x v; the columns v satisfy vᵀΣ_x v = 1 (so r_i = 1).
    """
    values, vectors = scipy.linalg.eigh(cov_x_given_y, cov_x)
    return values, vectors


@dataclass(frozen=True)
class InformationBottleneckOptimum:
    """The exact Gaussian-IB optimum at one β (Chechik et al. 2005).

    Attributes
    ----------
    eigenvalues
        λ_i of Σ_{x|y}Σ_x⁻¹, ascending (the first ``bottleneck_dim``).
    beta
        The trade-off β.
    critical_betas
        β_i = 1/(1 − λ_i).
    encoder_norms
        sqrt(n_i), n_i = max(β(1 − λ_i) − 1, 0)/λ_i: eigenvalues of AΣ_xAᵀ.
    information_x, information_y
        I(T;X) = ½Σ log(1 + n_i), I(T;Y) = I(T;X) − ½Σ log(1 + λ_i n_i) (nats).
    """

    eigenvalues: tuple[float, ...]
    beta: float
    critical_betas: tuple[float, ...]
    encoder_norms: tuple[float, ...]
    information_x: float
    information_y: float

    @property
    def active_dimensions(self) -> int:
        """Number of dimensions with β > β_i."""
        return sum(1 for v in self.encoder_norms if v > 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary of every field plus ``active_dimensions``."""
        out: dict[str, Any] = {
            k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()
        }
        out["active_dimensions"] = self.active_dimensions
        return out

    def __str__(self) -> str:
        rows = [
            f"Gaussian IB optimum at beta={self.beta:g}: I(T;X)={self.information_x:.4g} nats,"
            f" I(T;Y)={self.information_y:.4g} nats"
        ]
        for i, (lam, bc, norm) in enumerate(
            zip(self.eigenvalues, self.critical_betas, self.encoder_norms, strict=True), 1
        ):
            state = "on" if norm > 0 else "off"
            rows.append(f"  dim {i}: lambda={lam:.4g}  beta_c={bc:.4g}  norm={norm:.4g}  {state}")
        return "\n".join(rows)


def information_bottleneck_optimum(
    eigenvalues: np.ndarray | list[float] | tuple[float, ...],
    beta: float,
    bottleneck_dim: int | None = None,
) -> InformationBottleneckOptimum:
    """The exact optimum from the eigenvalues λ_i of Σ_{x|y}Σ_x⁻¹ (any order)."""
    lam = np.sort(np.asarray(eigenvalues, dtype=float))
    k = len(lam) if bottleneck_dim is None else int(bottleneck_dim)
    lam = lam[:k]
    n = np.clip(beta * (1.0 - lam) - 1.0, 0.0, None) / lam
    ix = 0.5 * float(np.sum(np.log1p(n)))
    iy = ix - 0.5 * float(np.sum(np.log1p(lam * n)))
    return InformationBottleneckOptimum(
        eigenvalues=tuple(float(v) for v in lam),
        beta=float(beta),
        critical_betas=tuple(float(v) for v in 1.0 / (1.0 - lam)),
        encoder_norms=tuple(float(v) for v in np.sqrt(n)),
        information_x=ix,
        information_y=iy,
    )


def vib_stationary_point(
    data: GaussianData, beta: float, bottleneck_dim: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parameters ``(A, rho, B, U)`` of the exact VIB optimum (one representative)."""
    lam, v = ib_spectrum(data.cov_x, data.cov_x_given_y)
    lam, v = lam[:bottleneck_dim], v[:, :bottleneck_dim]
    n = np.clip(beta * (1.0 - lam) - 1.0, 0.0, None) / lam
    encoder = (v * np.sqrt(n)).T
    k_mat = encoder @ data.cov_x @ encoder.T + np.eye(bottleneck_dim)
    c = data.cov_xy.T @ encoder.T
    decoder = c @ np.linalg.inv(k_mat)
    residual = data.cov_y - c @ np.linalg.solve(k_mat, c.T)
    precision_factor = np.linalg.cholesky(np.linalg.inv(residual))
    return encoder, np.log(np.diag(k_mat)), decoder, precision_factor


def vib_loss_and_gradient(
    encoder: np.ndarray,
    log_marginal: np.ndarray,
    decoder: np.ndarray,
    precision_factor: np.ndarray,
    data: GaussianData,
    beta: float,
) -> tuple[float, list[np.ndarray]]:
    """The exact VIB objective 𝒥 (module docstring) and its gradient (numpy).

    ∂𝒥/∂A = diag(e^{−ρ}) A S_x + β BᵀP(B A S_x − S_yx);
    ∂𝒥/∂ρ = ½(1 − diag(K) e^{−ρ}); ∂𝒥/∂B = βP(BK − C);
    ∂𝒥/∂U = β·tril(EU − diag(1/U_ii)).

    Returns
    -------
    (loss, [dA, dρ, dB, dU])
    """
    a, rho, b, u = encoder, log_marginal, decoder, precision_factor
    k = a.shape[0]
    n_y = b.shape[0]
    as_x = a @ data.cov_x
    k_mat = as_x @ a.T + np.eye(k)
    c = data.cov_xy.T @ a.T
    bk = b @ k_mat
    e_mat = data.cov_y - c @ b.T - b @ c.T + bk @ b.T
    p = u @ u.T
    inv_r = np.exp(-rho)
    diag_u = np.diag(u)
    kl = 0.5 * (float(np.diag(k_mat) @ inv_r) - k + float(rho.sum()))
    nll = 0.5 * (
        n_y * math.log(2 * math.pi)
        - 2 * float(np.sum(np.log(np.abs(diag_u))))
        + float(np.sum(p * e_mat))
    )
    pb = p @ b
    grad_a = inv_r[:, None] * as_x + beta * (pb.T @ (b @ as_x - data.cov_xy.T))
    grad_rho = 0.5 * (1.0 - np.diag(k_mat) * inv_r)
    grad_b = beta * (p @ (bk - c))
    grad_u = beta * np.tril(e_mat @ u - np.diag(1.0 / diag_u))
    return kl + beta * nll, [grad_a, grad_rho, grad_b, grad_u]


def vib_loss(
    encoder: torch.Tensor,
    log_marginal: torch.Tensor,
    decoder: torch.Tensor,
    precision_factor: torch.Tensor,
    cov_x: torch.Tensor,
    cov_xy: torch.Tensor,
    cov_y: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """The exact VIB objective 𝒥 in torch (for autograd, Hessians and devices)."""
    k = encoder.shape[0]
    n_y = decoder.shape[0]
    u = torch.tril(precision_factor)
    k_mat = encoder @ cov_x @ encoder.T + torch.eye(k, dtype=cov_x.dtype, device=cov_x.device)
    c = cov_xy.T @ encoder.T
    e_mat = cov_y - c @ decoder.T - decoder @ c.T + decoder @ k_mat @ decoder.T
    kl = 0.5 * (
        torch.sum(torch.diagonal(k_mat) * torch.exp(-log_marginal)) - k + log_marginal.sum()
    )
    nll = 0.5 * (
        n_y * math.log(2 * math.pi)
        - 2 * torch.sum(torch.log(torch.abs(torch.diagonal(u))))
        + torch.sum((u @ u.T) * e_mat)
    )
    return kl + beta * nll


def encoder_norms(encoder: np.ndarray, cov_x: np.ndarray) -> np.ndarray:
    """sqrt of the eigenvalues of AΣ_xAᵀ, descending (rotation-invariant)."""
    values = np.linalg.eigvalsh(encoder @ cov_x @ encoder.T)
    return np.sqrt(np.clip(values, 0.0, None))[::-1]


def mutual_informations(encoder: np.ndarray, data: GaussianData) -> tuple[float, float]:
    """Exact I(T;X) and I(T;Y) in nats for t = Ax + ξ on the sample covariances."""
    k = encoder.shape[0]
    _, ldx = np.linalg.slogdet(encoder @ data.cov_x @ encoder.T + np.eye(k))
    _, ldxy = np.linalg.slogdet(encoder @ data.cov_x_given_y @ encoder.T + np.eye(k))
    return 0.5 * ldx, 0.5 * (ldx - ldxy)


class InformationBottleneckParameters(TaskParameters):
    """Settings of the ``information_bottleneck`` task (``beta`` is the control)."""

    model_config = ConfigDict(allow_inf_nan=False)

    beta: float = Field(3.0, gt=0, description="IB trade-off β")
    spectrum: tuple[float, ...] = Field(
        (0.1, 0.25, 0.45, 0.65),
        min_length=1,
        description="population eigenvalues of Σ_{x|y}Σ_x⁻¹, each in (0, 1)",
    )
    bottleneck_dim: int = Field(4, ge=1)
    sample_size: int = Field(5000, ge=2)
    data_seed: int = 0
    steps: int = Field(2000, ge=0)
    learning_rate: float = Field(0.1, gt=0)
    learning_rate_decay: float = Field(
        1e-3,
        gt=0,
        le=1,
        description="the learning rate decays exponentially to this fraction over the run",
    )
    optimizer: Literal["gd", "adam"] = "adam"
    objective: Literal["analytic", "sampled"] = "analytic"
    whiten: bool = Field(True, description="train on whitened x and y (same optimum)")
    batch_size: int = Field(256, ge=1)
    init_scale: float = Field(0.1, gt=0)

    @model_validator(mode="after")
    def _check(self) -> InformationBottleneckParameters:
        if any(not (0.0 < v < 1.0) for v in self.spectrum):
            raise ValueError("spectrum eigenvalues of Σ_{x|y}Σ_x⁻¹ must lie strictly in (0, 1)")
        if self.bottleneck_dim > len(self.spectrum):
            raise ValueError(
                f"bottleneck_dim ({self.bottleneck_dim}) exceeds the input dimension "
                f"({len(self.spectrum)})"
            )
        return self


def _observables(k: int, n: int) -> tuple[str, ...]:
    names = ["vib_loss", "information_x", "information_y", "grad_norm", "beta"]
    names += [f"encoder_norm_{i}" for i in range(1, k + 1)]
    names += [f"ib_eigenvalue_{i}" for i in range(1, n + 1)]
    return tuple(names)


@register_task(
    "information_bottleneck",
    parameters=InformationBottleneckParameters,
    observables=_observables(4, 4),
    summary="Gaussian information bottleneck as a variational IB: dimension i on at beta_i",
    extra={
        "controls": ["beta", "sample_size", "seed"],
        "order_parameters": ["encoder_norm_i", "information_x"],
        "known_answer": "dimension i switches on at beta_i = 1/(1 - lambda_i), lambda_i "
        "eigenvalues of Sigma_x|y Sigma_x^-1; encoder_norm_i^2 = (beta(1-lambda_i)-1)/lambda_i",
        "references": ["Chechik, Globerson, Tishby & Weiss 2005", "arXiv:1612.00410"],
    },
)
def information_bottleneck(ctx: RunContext) -> None:
    """Variational IB with a linear Gaussian encoder, trained by gradient descent.

    Logs ``encoder_norm_i`` (sqrt eigenvalues of AΣ_xAᵀ, descending: dimension 1 is the
    first to switch on), ``information_x`` and ``information_y`` (exact, nats),
    ``vib_loss`` (the variational objective), ``grad_norm`` (of the exact objective),
    ``beta`` and ``ib_eigenvalue_i`` (sample eigenvalues of Σ_{x|y}Σ_x⁻¹, ascending).

    With ``objective="analytic"`` the objective is the exact expectation over the sample
    (closed-form, float64 numpy on the CPU); ``"sampled"`` trains on minibatches with
    the reparameterisation trick in torch on ``ctx.device``.
    """
    p = InformationBottleneckParameters(**{k: v for k, v in ctx.params.items() if k != "seed"})
    data = planted_ib_data(p.spectrum, p.sample_size, p.data_seed)
    if p.whiten:
        data = whitened(data)
    lam, _ = ib_spectrum(data.cov_x, data.cov_x_given_y)
    n_x, n_y, k = data.x.shape[1], data.y.shape[1], p.bottleneck_dim
    rng = np.random.default_rng(ctx.seed)
    params = [
        p.init_scale * rng.standard_normal((k, n_x)),
        np.zeros(k),
        p.init_scale * rng.standard_normal((n_y, k)),
        np.linalg.cholesky(np.linalg.inv(data.cov_y)),
    ]
    if p.objective == "sampled":
        _train_sampled(ctx, p, data, lam, params, rng)
        return
    adam = NumpyAdam(p.learning_rate) if p.optimizer == "adam" else None
    for step in range(p.steps + 1):
        loss, grads = vib_loss_and_gradient(
            params[0], params[1], params[2], params[3], data, p.beta
        )
        if ctx.due(step):
            _log(ctx, step, p, loss, params, grads, data, lam)
        if step == p.steps:
            break
        lr = _learning_rate(p, step)
        if adam is not None:
            adam.lr = lr
            adam.update(params, grads)
        else:
            for q, g in zip(params, grads, strict=True):
                q -= lr * g


def _learning_rate(p: InformationBottleneckParameters, step: int) -> float:
    """Exponential decay from ``learning_rate`` to ``learning_rate·learning_rate_decay``."""
    return p.learning_rate * p.learning_rate_decay ** (step / max(p.steps, 1))


def _train_sampled(
    ctx: RunContext,
    p: InformationBottleneckParameters,
    data: GaussianData,
    lam: np.ndarray,
    init: list[np.ndarray],
    rng: np.random.Generator,
) -> None:
    """Minibatch VIB with the reparameterisation trick (torch, on ``ctx.device``)."""
    device = resolve_device(ctx.device)
    dtype = torch.float64
    x = torch.as_tensor(data.x, dtype=dtype, device=device)
    y = torch.as_tensor(data.y, dtype=dtype, device=device)
    tensors = [torch.as_tensor(a.copy(), dtype=dtype, device=device) for a in init]
    for t in tensors:
        t.requires_grad_()
    a, rho, b, u_raw = tensors
    gen = torch.Generator(device="cpu").manual_seed(int(rng.integers(2**62)))
    optimizer = (
        torch.optim.Adam(tensors, lr=p.learning_rate)
        if p.optimizer == "adam"
        else torch.optim.SGD(tensors, lr=p.learning_rate)
    )
    batch = min(p.batch_size, x.shape[0])
    n_y = y.shape[1]
    for step in range(p.steps + 1):
        if ctx.due(step):
            current = [t.detach().cpu().numpy().copy() for t in tensors]
            current[3] = np.tril(current[3])
            loss, grads = vib_loss_and_gradient(
                current[0], current[1], current[2], current[3], data, p.beta
            )
            _log(ctx, step, p, loss, current, grads, data, lam)
        if step == p.steps:
            break
        idx = torch.randint(0, x.shape[0], (batch,), generator=gen).to(device)
        xb, yb = x[idx], y[idx]
        mean = xb @ a.T
        t_sample = mean + torch.randn(mean.shape, generator=gen, dtype=dtype).to(device)
        kl = 0.5 * (torch.sum((mean**2 + 1.0) * torch.exp(-rho), dim=1) - len(rho) + rho.sum())
        u = torch.tril(u_raw)
        resid = (yb - t_sample @ b.T) @ u
        nll = 0.5 * (
            n_y * math.log(2 * math.pi)
            - 2 * torch.sum(torch.log(torch.abs(torch.diagonal(u))))
            + torch.sum(resid**2, dim=1)
        )
        loss_t = torch.mean(kl + p.beta * nll)
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(p, step)
        optimizer.zero_grad(set_to_none=True)
        loss_t.backward()
        optimizer.step()


def _log(
    ctx: RunContext,
    step: int,
    p: InformationBottleneckParameters,
    loss: float,
    params: list[np.ndarray],
    grads: list[np.ndarray],
    data: GaussianData,
    lam: np.ndarray,
) -> None:
    encoder = params[0]
    ix, iy = mutual_informations(encoder, data)
    values: dict[str, float] = {
        "vib_loss": loss,
        "information_x": ix,
        "information_y": iy,
        "grad_norm": math.sqrt(sum(float(np.sum(g**2)) for g in grads)),
        "beta": p.beta,
    }
    for i, v in enumerate(encoder_norms(encoder, data.cov_x), start=1):
        values[f"encoder_norm_{i}"] = float(v)
    for i, v in enumerate(lam, start=1):
        values[f"ib_eigenvalue_{i}"] = float(v)
    ctx.log_values(step, values)
