r"""Toy model of superposition: k-gon critical points and Bayesian phase transitions.

Model (Elhage et al. 2022, "Toy Models of Superposition"): :math:`c` features compressed
into :math:`r = 2` hidden dimensions, :math:`f(x) = \mathrm{ReLU}(W^\top W x + b)` with
:math:`W \in \mathbb R^{2\times c}`. Data as in Chen, Lau, Mendel, Wei & Murfet 2023
(arXiv:2310.06301): each input has exactly one nonzero feature, chosen uniformly, with a
value uniform on :math:`[0, 1]`. The loss is the Gaussian negative log-likelihood
:math:`\tfrac12\|x - f(x)\|^2` (σ = 1) per example.

**Closed-form loss.** For input :math:`u\,e_i` output :math:`j` is
:math:`\mathrm{ReLU}(u\,G_{ji} + b_j)`, :math:`G = W^\top W`, so the population loss is
:math:`\frac{1}{2c}\sum_i \int_0^1 [(u - \mathrm{ReLU}(uG_{ii}+b_i))^2 + \sum_{j\ne i}
\mathrm{ReLU}(uG_{ji}+b_j)^2]\,du`, a sum of piecewise-polynomial integrals evaluated
exactly (:func:`population_loss`).

**k-gon critical points.** Columns :math:`1..k` at the vertices of a regular k-gon of
radius :math:`l` with a common bias :math:`b`, the other columns zero; :math:`\sigma_+` of
the unused features carry a common positive bias (they output their mean) and the rest
a negative one. The dihedral symmetry makes the minimiser of the loss within this family
a critical point of the full loss (symmetric criticality). For :math:`c = 6`:
the 5-gon (:math:`l = 1.1705, b = -0.2823`, loss 0.034372) and the 6-gon
(:math:`l = 1.3205, b = -0.6181`, loss 0.024096) are minima whose Hessian is
non-degenerate apart from exactly flat directions (the global rotation, and the unused
column and bias of the 5-gon), so their learning coefficients are half the Hessian rank,
:math:`\lambda_5 = 7` and :math:`\lambda_6 = 17/2` (:func:`kgon_critical_point` verifies the
flatness numerically).

**Bayesian free energy** (Watanabe 2009): near a critical point,
:math:`F_n \approx n L_n + \lambda \log n`; the posterior prefers the phase of lowest
:math:`F_n`, so a simpler (smaller λ) but worse (larger L) phase wins at small :math:`n`
and loses above :math:`n_c` solving :math:`n\,\Delta L = \Delta\lambda \log n`
(:func:`bayesian_critical_sample_size`; 5-gon → 6-gon at :math:`n_c \approx 1.0\times
10^3` for :math:`c = 6`). Replica-exchange SGLD on the posterior (``replicas`` > 1)
samples across the basins and shows the switch: mostly 5 active features at n = 500,
only 6 at n ≥ 1200. SGD trajectories pass from k-gon to k-gon (plateaus of the loss
at the critical values) and the local learning coefficient, estimated by
:func:`landaulab.record.observables.llc.estimate_llc` (Lau et al. 2023,
arXiv:2308.12108), rises at each passage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from pydantic import ConfigDict, Field, model_validator
from scipy.optimize import brentq, minimize
from torch import Tensor, nn

from landaulab.errors import NotEstimableError
from landaulab.record.context import RunContext
from landaulab.tasks.registry import TaskParameters, register_task
from landaulab.train.device import resolve_device

# ---------------------------------------------------------------------------------------
# model, data and the closed-form loss
# ---------------------------------------------------------------------------------------


class ToyModel(nn.Module):
    """f(x) = ReLU(WᵀW x + b) with W of shape (hidden, features)."""

    def __init__(self, weight: Tensor, bias: Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight.clone())
        self.bias = nn.Parameter(bias.clone())

    def forward(self, x: Tensor) -> Tensor:
        """Reconstruct a batch of inputs (rows)."""
        return torch.relu((x @ self.weight.T) @ self.weight + self.bias)


def sparse_feature_data(features: int, sample_size: int, seed: int) -> np.ndarray:
    """Inputs u·e_i (rows): i uniform over the features, u uniform on [0, 1]."""
    rng = np.random.default_rng(seed)
    x = np.zeros((sample_size, features))
    x[np.arange(sample_size), rng.integers(0, features, sample_size)] = rng.random(sample_size)
    return x


def _relu_integrals(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """∫₀¹ ReLU(au + b)² du and ∫₀¹ u·ReLU(au + b) du, elementwise and exact."""
    zero, one = torch.zeros_like(a), torch.ones_like(a)
    flat = a == 0
    safe = torch.where(flat, one, a)
    root = (-b / safe).clamp(0.0, 1.0)
    lo = torch.where(a > 0, root, zero)
    hi = torch.where(a < 0, root, one)
    lo = torch.where(flat, zero, lo)
    hi = torch.where(flat, torch.where(b > 0, one, zero), hi)

    def square(u: Tensor) -> Tensor:
        return a * a * u**3 / 3 + a * b * u**2 + b * b * u

    def moment(u: Tensor) -> Tensor:
        return a * u**3 / 3 + b * u**2 / 2

    return square(hi) - square(lo), moment(hi) - moment(lo)


def population_loss(weight: Tensor, bias: Tensor) -> Tensor:
    """The exact population loss E[½‖x − f(x)‖²] (see the module docstring)."""
    gram = weight.T @ weight  # gram[j, i]: output j for input feature i
    square, moment = _relu_integrals(gram, bias[:, None].expand_as(gram))
    per_feature = square.sum(dim=0) + 1.0 / 3.0 - 2.0 * torch.diagonal(moment)
    return 0.5 * per_feature.mean()


def _positive_interval(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sub-interval [lo, hi] of [0, 1] where a·u + b > 0 (empty: lo = hi)."""
    flat = a == 0
    root = np.clip(-b / np.where(flat, 1.0, a), 0.0, 1.0)
    lo = np.where(a > 0, root, 0.0)
    hi = np.where(a < 0, root, 1.0)
    lo = np.where(flat, 0.0, lo)
    hi = np.where(flat, np.where(b > 0, 1.0, 0.0), hi)
    return lo, hi


def population_loss_and_gradient(
    weight: np.ndarray, bias: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """:func:`population_loss` and its gradient in closed form (numpy).

    With S(a, b) = ∫ReLU(au+b)², M = ∫u·ReLU(au+b), N = ∫ReLU(au+b), P_k = ∫u^k·1[au+b>0]
    (all over [0, 1]): ∂S/∂a = 2M, ∂S/∂b = 2N, ∂M/∂a = P_2, ∂M/∂b = P_1. With
    A = ∂L/∂G, ∂L/∂W = W(A + Aᵀ).

    Returns
    -------
    (loss, dL/dW, dL/db)
    """
    c = weight.shape[1]
    gram = weight.T @ weight
    a, b = gram, np.broadcast_to(bias[:, None], gram.shape)
    lo, hi = _positive_interval(a, b)

    def span(power: int) -> np.ndarray:
        return (hi**power - lo**power) / power

    p1, p2, p3 = span(1), span(2), span(3)
    square = a * a * p3 + 2 * a * b * p2 + b * b * p1
    moment = a * p3 + b * p2
    level = a * p2 + b * p1
    diag = np.arange(c)
    loss = 0.5 * float(np.mean(square.sum(axis=0) + 1.0 / 3.0 - 2.0 * moment[diag, diag]))
    grad_gram = 2.0 * moment
    grad_gram[diag, diag] -= 2.0 * (p3[diag, diag])
    grad_gram /= 2 * c
    grad_bias = (2.0 * level.sum(axis=1) - 2.0 * p2[diag, diag]) / (2 * c)
    grad_weight = weight @ (grad_gram + grad_gram.T)
    return loss, grad_weight, grad_bias


def sample_loss_and_gradient(
    weight: np.ndarray, bias: np.ndarray, x: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean of ½‖x − f(x)‖² over the rows of x, and its gradient (numpy)."""
    losses, grad_weight, grad_bias = sample_loss_and_gradient_stacked(weight[None], bias[None], x)
    return float(losses[0]), grad_weight[0], grad_bias[0]


def sample_loss_and_gradient_stacked(
    weight: np.ndarray, bias: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`sample_loss_and_gradient` for R parameter sets at once.

    ``weight`` (R, 2, c) and ``bias`` (R, c); returns losses (R,) and gradients of the
    same shapes (batched matrix products, no loop over R). Diverging parameters give
    non-finite values (no warning); the caller checks.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        gram = np.matmul(np.transpose(weight, (0, 2, 1)), weight)
        pre = np.matmul(x, gram) + bias[:, None, :]
        resid = np.maximum(pre, 0.0) - x
        n = x.shape[0]
        loss = 0.5 * np.einsum("rnj,rnj->r", resid, resid) / n
        d_pre = resid * (pre > 0) / n
        grad_gram = np.matmul(x.T, d_pre)
        grad_weight = np.matmul(weight, grad_gram + np.transpose(grad_gram, (0, 2, 1)))
    return loss, grad_weight, d_pre.sum(axis=1)


# ---------------------------------------------------------------------------------------
# k-gon critical points and their learning coefficients
# ---------------------------------------------------------------------------------------


def kgon_parameters(
    k: int,
    features: int,
    radius: float,
    bias: float,
    positive_biases: int = 0,
    positive_bias: float = 0.0,
    negative_bias: float = -0.5,
) -> tuple[Tensor, Tensor]:
    """(W, b) of a regular k-gon: columns 0..k−1 at radius ``radius``, angles 2πi/k."""
    theta = 2 * math.pi * torch.arange(k, dtype=torch.float64) / k
    weight = torch.zeros(2, features, dtype=torch.float64)
    weight[0, :k] = radius * torch.cos(theta)
    weight[1, :k] = radius * torch.sin(theta)
    b = torch.full((features,), negative_bias, dtype=torch.float64)
    b[:k] = bias
    b[k : k + positive_biases] = positive_bias
    return weight, b


@dataclass(frozen=True)
class KGon:
    """A k-gon critical point of the population loss.

    Attributes
    ----------
    k, features, positive_biases
        Vertices, features c, unused features with a positive bias (σ₊).
    radius, bias, positive_bias
        l, the vertices' common bias, and the positive bias of σ₊ unused features.
    loss
        Population loss at the critical point.
    gradient_norm
        ‖∇L‖ there (≈ 0: it is a critical point).
    hessian_rank
        Number of Hessian eigenvalues above 1e-8·(largest).
    min_eigenvalue
        Smallest Hessian eigenvalue (negative: a saddle).
    smallest_curvature
        Smallest Hessian eigenvalue above the null cut (the slowest converging mode).
    learning_coefficient
        rank/2 when the Hessian is positive semidefinite and every null direction is
        exactly flat (checked numerically), else ``None``.
    """

    k: int
    features: int
    positive_biases: int
    radius: float
    bias: float
    positive_bias: float
    loss: float
    gradient_norm: float
    hessian_rank: int
    min_eigenvalue: float
    smallest_curvature: float
    learning_coefficient: float | None

    @property
    def label(self) -> str:
        """``"5-gon"`` or ``"4-gon+2"`` (σ₊ = 2)."""
        return f"{self.k}-gon" + (f"+{self.positive_biases}" if self.positive_biases else "")

    def parameters(self) -> tuple[Tensor, Tensor]:
        """(W, b) of this critical point."""
        return kgon_parameters(
            self.k, self.features, self.radius, self.bias, self.positive_biases, self.positive_bias
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (with ``label``)."""
        return {**self.__dict__, "label": self.label}

    def __str__(self) -> str:
        lam = "n/a" if self.learning_coefficient is None else f"{self.learning_coefficient:g}"
        return (
            f"{self.label}: radius {self.radius:.5g}, bias {self.bias:.5g}, loss "
            f"{self.loss:.6g}, learning coefficient {lam}"
        )


def _flat_parameters(weight: Tensor, bias: Tensor) -> Tensor:
    return torch.cat([weight.reshape(-1), bias])


def _loss_of_flat(theta: Tensor, features: int) -> Tensor:
    return population_loss(theta[: 2 * features].reshape(2, features), theta[2 * features :])


def kgon_critical_point(k: int, features: int = 6, positive_biases: int = 0) -> KGon:
    """Minimise the exact loss over the symmetric k-gon family; classify the point.

    The family (radius, vertex bias, positive bias) is the fixed-point set of the
    dihedral rotation combined with the cyclic permutation of the k used features (and
    permutations within the unused ones), so its constrained minimiser is a critical
    point of the full loss. The learning coefficient is half the Hessian rank when the
    loss is twice differentiable there (no ReLU argument with G_ji = b_j = 0), the
    Hessian is positive semidefinite and its null directions are exactly flat: the
    global rotation (checked along the orbit) and straight lines along the other null
    vectors (checked to round-off). Otherwise it is ``None``.

    Raises
    ------
    NotEstimableError
        If k or ``positive_biases`` do not fit in ``features`` (k >= 2).
    """
    if not 2 <= k <= features or not 0 <= positive_biases <= features - k:
        raise NotEstimableError(
            f"need 2 <= k <= features and 0 <= positive_biases <= features - k; got k={k}, "
            f"positive_biases={positive_biases}, features={features}"
        )

    def family(p: Tensor) -> Tensor:
        w, b = kgon_parameters(k, features, 1.0, 0.0, positive_biases, 0.0)
        b = b.clone()
        b[:k] = p[1]
        b[k : k + positive_biases] = p[2]
        return population_loss(w * p[0], b)

    def value_and_grad(p: np.ndarray) -> tuple[float, np.ndarray]:
        t = torch.tensor(p, dtype=torch.float64, requires_grad=True)
        loss = family(t)
        (grad,) = torch.autograd.grad(loss, t)
        return float(loss.detach()), grad.numpy()

    best = None
    for radius, bias in ((1.0, 0.0), (1.3, -0.5)):
        res = minimize(
            value_and_grad,
            np.array([radius, bias, 1.0 / (2 * features)]),
            jac=True,
            method="L-BFGS-B",
            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000},
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    radius, bias, positive = (float(v) for v in best.x)
    if positive_biases == 0:
        positive = 0.0
    weight, b = kgon_parameters(k, features, radius, bias, positive_biases, positive)
    hessian_info = _hessian_classification(weight, b)
    _, grad_w, grad_b = population_loss_and_gradient(weight.numpy(), b.numpy())
    return KGon(
        k=k,
        features=features,
        positive_biases=positive_biases,
        radius=radius,
        bias=bias,
        positive_bias=positive,
        loss=float(population_loss(weight, b)),
        gradient_norm=math.sqrt(float(np.sum(grad_w**2) + np.sum(grad_b**2))),
        hessian_rank=hessian_info[0],
        min_eigenvalue=hessian_info[1],
        smallest_curvature=hessian_info[2],
        learning_coefficient=hessian_info[3],
    )


def _hessian_classification(weight: Tensor, bias: Tensor) -> tuple[int, float, float, float | None]:
    """(rank, smallest eigenvalue, smallest eigenvalue above the null cut, rank/2 if every
    null direction is flat else None)."""
    features = weight.shape[1]
    theta = _flat_parameters(weight, bias)

    def loss(t: Tensor) -> Tensor:
        return _loss_of_flat(t, features)

    values, vectors = torch.linalg.eigh(torch.autograd.functional.hessian(loss, theta))
    cut = 1e-8 * float(values.abs().max())
    rank = int((values > cut).sum())
    positive = float(values[values > cut][0]) if rank else 0.0
    # ReLU(u·G_ji + b_j) with G_ji = b_j = 0 is a kink the Hessian sees one-sidedly
    gram = weight.T @ weight
    kink = bool(((gram.abs() < 1e-6) & (bias[:, None].abs() < 1e-6)).any())
    if float(values[0]) < -cut or kink:
        return rank, float(values[0]), positive, None
    base = float(loss(theta))
    tolerance = 64 * np.finfo(float).eps * max(1.0, abs(base))
    # the rotation orbit is exactly flat (WᵀW is invariant); check it, then remove its
    # tangent from the null space and check straight lines along the rest
    for angle in (-0.3, 0.3):
        rot = torch.tensor(
            [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]],
            dtype=torch.float64,
        )
        if abs(float(population_loss(rot @ weight, bias)) - base) > tolerance:
            return rank, float(values[0]), positive, None
    null = vectors[:, values <= cut]
    tangent = _flat_parameters(torch.stack([-weight[1], weight[0]]), torch.zeros_like(bias))
    if float(torch.linalg.vector_norm(tangent)) > 0:
        tangent = tangent / torch.linalg.vector_norm(tangent)
        null = null - torch.outer(tangent, tangent @ null)
    for j in range(null.shape[1]):
        direction = null[:, j]
        size = float(torch.linalg.vector_norm(direction))
        if size < 1e-6:
            continue
        for step in (-0.05, 0.05):
            moved = float(loss(theta + step * direction / size))
            if abs(moved - base) > tolerance:
                return rank, float(values[0]), positive, None
    return rank, float(values[0]), positive, rank / 2


def bayesian_critical_sample_size(
    loss_simple: float, lambda_simple: float, loss_complex: float, lambda_complex: float
) -> float:
    """n_c where F_n = n·L + λ·log n of a simple and a complex phase cross.

    The simple phase has the smaller λ and the larger loss; it has the lower free
    energy for n < n_c, the complex one above (the larger root of
    n·(L_s − L_c) = (λ_c − λ_s)·log n).

    Raises
    ------
    NotEstimableError
        If one phase is both simpler and better (no crossing).
    """
    d_loss = loss_simple - loss_complex
    d_lambda = lambda_complex - lambda_simple
    if not (d_loss > 0 and d_lambda > 0):
        raise NotEstimableError(
            "no Bayesian transition: one phase has both the lower loss and the smaller "
            "learning coefficient"
        )

    def gap(n: float) -> float:
        return n * d_loss - d_lambda * math.log(n)

    lo = max(d_lambda / d_loss, math.e)
    hi = lo
    while gap(hi) <= 0:
        hi *= 2
    return float(brentq(gap, lo, hi, xtol=1e-10, rtol=1e-14))


@dataclass(frozen=True)
class Polygon:
    """Which k-gon the weights form: k active columns and their deviation from regular."""

    k: int
    defect: float
    positive_biases: int

    def regular(self, tolerance: float) -> bool:
        """Whether the angular and radial defect is below ``tolerance``."""
        return self.k > 0 and self.defect <= tolerance


def detect_polygon(weight: np.ndarray, bias: np.ndarray, threshold: float = 0.5) -> Polygon:
    """Active columns (norm > ``threshold``·max norm), their regularity, and σ₊.

    The defect is the larger of the maximal relative deviation of the angular gaps from
    2π/k and the relative spread (max − min)/max of the active column norms; σ₊ counts
    inactive features with a positive bias.
    """
    weight, bias = np.asarray(weight, dtype=float), np.asarray(bias, dtype=float)
    norms = np.linalg.norm(weight, axis=0)
    top = float(norms.max())
    if top <= 1e-8:
        return Polygon(0, 0.0, int(np.sum(bias > 0)))
    active = norms > threshold * top
    k = int(active.sum())
    angles = np.sort(np.arctan2(weight[1, active], weight[0, active]))
    gaps = np.diff(np.concatenate([angles, angles[:1] + 2 * math.pi]))
    ideal = 2 * math.pi / k
    angular = float(np.abs(gaps - ideal).max()) / ideal
    radial = float(norms[active].max() - norms[active].min()) / top
    return Polygon(k, max(angular, radial), int(np.sum(bias[~active] > 0)))


# ---------------------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------------------


class SuperpositionParameters(TaskParameters):
    """Settings of the ``superposition`` task (``sample_size`` n is the control).

    ``mode="sgd"`` trains by SGD on the sample (or, with ``objective="population"``, by
    gradient descent on the exact loss) and can estimate the local learning coefficient
    at ``llc_points`` log-spaced steps. ``mode="posterior"`` samples the Bayesian
    posterior at inverse temperature 1 by SGLD: w ← w − (ε/2)(n∇L_n + w/s²) + N(0, ε)
    with prior N(0, s²), s = ``prior_std``, ε = ``learning_rate``. With ``replicas`` > 1
    it runs replica-exchange SGLD (Swendsen & Wang 1986, PRL 57, 2607; for Langevin
    dynamics Deng, Feng, Gao, Liang & Lin 2020, arXiv:2008.05367): R chains at
    likelihood temperatures β from 1 down to ``replica_min_scale``/n (geometric), the
    same SGLD step each, and every ``swap_every`` steps neighbouring chains exchange
    states with probability min(1, exp((β_r − β_s)(nL_n(w_r) − nL_n(w_s)))). Hot chains
    cross between k-gon basins, so the β = 1 chain (the one logged) samples the posterior
    across basins; ``swap_acceptance`` is logged.
    """

    model_config = ConfigDict(allow_inf_nan=False)

    features: int = Field(6, ge=3)
    sample_size: int = Field(1000, ge=2, description="training set size n")
    data_seed: int = 0
    mode: Literal["sgd", "posterior"] = "sgd"
    objective: Literal["sample", "population"] = "sample"
    steps: int = Field(5000, ge=0)
    learning_rate: float = Field(0.05, gt=0)
    batch_size: int = Field(100, ge=1)
    init_scale: float = Field(0.1, gt=0)
    initial_polygon: int = Field(
        0, ge=0, description="start at this k-gon critical point (0: random start)"
    )
    initial_positive_biases: int = Field(0, ge=0)
    prior_std: float = Field(10.0, gt=0)
    replicas: int = Field(
        1, ge=1, le=64, description="posterior mode: replica-exchange SGLD with this many"
    )
    replica_min_scale: float = Field(
        20.0, gt=0, description="n·β of the hottest replica (the ladder is geometric to 1)"
    )
    swap_every: int = Field(10, ge=1, description="steps between replica swap attempts")
    polygon_tolerance: float = Field(0.1, gt=0)
    llc_points: int = Field(0, ge=0, description="log-spaced steps at which to estimate LLC")
    llc_chains: int = Field(4, ge=1)
    llc_draws: int = Field(400, ge=1)
    llc_burnin: int = Field(100, ge=0)
    llc_step_size: float = Field(1e-4, gt=0)
    llc_localization: float = Field(100.0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> SuperpositionParameters:
        if self.mode == "posterior" and self.objective == "population":
            raise ValueError("posterior sampling needs objective='sample' (a finite n)")
        if self.replicas > 1 and self.mode != "posterior":
            raise ValueError("replicas > 1 needs mode='posterior'")
        if self.initial_polygon == 1 or self.initial_polygon > self.features:
            raise ValueError(f"initial_polygon must be 0 or between 2 and {self.features}")
        if self.initial_positive_biases and (
            not self.initial_polygon
            or self.initial_polygon + self.initial_positive_biases > self.features
        ):
            raise ValueError("initial_positive_biases needs initial_polygon + it <= features")
        return self


OBSERVABLES = (
    "loss",
    "population_loss",
    "grad_norm",
    "active_features",
    "polygon",
    "polygon_defect",
    "positive_biases",
    "llc",
    "llc_se",
    "free_energy",
    "swap_acceptance",
)


@register_task(
    "superposition",
    parameters=SuperpositionParameters,
    observables=OBSERVABLES,
    summary="toy model of superposition: SGD/SGLD between k-gon critical points, LLC",
    extra={
        "controls": ["sample_size", "seed"],
        "order_parameters": ["polygon", "population_loss", "llc"],
        "known_answer": "c=6: 5-gon loss 0.034372 lambda 7, 6-gon loss 0.024096 lambda 8.5; "
        "Bayesian 5-gon -> 6-gon switch at n_c ~ 1.0e3",
        "references": ["Elhage et al. 2022", "arXiv:2310.06301", "arXiv:2308.12108"],
    },
)
def superposition(ctx: RunContext) -> None:
    """Train or sample the toy model of superposition; log which k-gon it is at.

    Logs ``loss`` (sample NLL), ``population_loss`` (exact) and the norm of its gradient
    ``grad_norm`` (distance from a population critical point), ``active_features`` (k),
    ``polygon`` (k when the active columns form a regular k-gon within
    ``polygon_tolerance``, else 0), ``polygon_defect``, ``positive_biases`` (σ₊), and at
    the LLC steps ``llc``, ``llc_se`` and ``free_energy`` = n·L_n + llc·log n.

    The 2×c model is trained with closed-form gradients in float64 numpy; the LLC is
    estimated in torch on ``ctx.device``.
    """
    p = SuperpositionParameters(**{k: v for k, v in ctx.params.items() if k != "seed"})
    x = sparse_feature_data(p.features, p.sample_size, p.data_seed)
    rng = np.random.default_rng(ctx.seed)
    if p.initial_polygon:
        start = kgon_critical_point(p.initial_polygon, p.features, p.initial_positive_biases)
        weight, bias = (t.numpy().copy() for t in start.parameters())
    else:
        weight = p.init_scale * rng.standard_normal((2, p.features))
        bias = np.zeros(p.features)
    n = x.shape[0]
    llc_steps = _llc_steps(p.llc_points, p.steps)
    batch = min(p.batch_size, n)
    if p.mode == "posterior" and p.replicas > 1:
        _replica_exchange(ctx, p, x, rng, weight, bias, llc_steps)
        return
    for step in range(p.steps + 1):
        if ctx.due(step) or step in llc_steps:
            _log(ctx, step, p, weight, bias, x, step in llc_steps)
        if step == p.steps:
            break
        if p.objective == "population":
            _, g_w, g_b = population_loss_and_gradient(weight, bias)
        elif p.mode == "posterior":
            _, g_w, g_b = sample_loss_and_gradient(weight, bias, x)
        else:
            _, g_w, g_b = sample_loss_and_gradient(weight, bias, x[rng.integers(0, n, batch)])
        if p.mode == "posterior":
            eps, prior = p.learning_rate, p.prior_std**2
            weight = weight - 0.5 * eps * (n * g_w + weight / prior)
            weight += math.sqrt(eps) * rng.standard_normal(weight.shape)
            bias = bias - 0.5 * eps * (n * g_b + bias / prior)
            bias += math.sqrt(eps) * rng.standard_normal(bias.shape)
        else:
            weight = weight - p.learning_rate * g_w
            bias = bias - p.learning_rate * g_b


def _replica_exchange(
    ctx: RunContext,
    p: SuperpositionParameters,
    x: np.ndarray,
    rng: np.random.Generator,
    weight: np.ndarray,
    bias: np.ndarray,
    llc_steps: set[int],
) -> None:
    """Replica-exchange SGLD on the posterior (see :class:`SuperpositionParameters`)."""
    n, r = x.shape[0], p.replicas
    betas = np.geomspace(1.0, min(1.0, p.replica_min_scale / n), r)
    # every replica starts from the run's own start; the hot ones decorrelate first
    weights = np.repeat(weight[None], r, axis=0)
    biases = np.repeat(bias[None], r, axis=0)
    eps, prior = p.learning_rate, p.prior_std**2
    noise = math.sqrt(eps)
    accepted = attempted = 0
    for step in range(p.steps + 1):
        if ctx.due(step) or step in llc_steps:
            _log(ctx, step, p, weights[0], biases[0], x, step in llc_steps)
            if attempted:
                ctx.log(step, swap_acceptance=accepted / attempted)
        if step == p.steps:
            break
        losses, grad_w, grad_b = sample_loss_and_gradient_stacked(weights, biases, x)
        if not np.all(np.isfinite(losses)):  # a replica diverged: so does the run
            ctx.log(step, loss=float(losses[~np.isfinite(losses)][0]))  # raises Diverged
        if step % p.swap_every == 0:
            for i in range(step // p.swap_every % 2, r - 1, 2):  # alternate even/odd pairs
                log_ratio = (betas[i] - betas[i + 1]) * n * (losses[i] - losses[i + 1])
                attempted += 1
                if log_ratio >= 0 or rng.random() < math.exp(log_ratio):
                    accepted += 1
                    pair = [i + 1, i]
                    for array in (weights, biases, grad_w, grad_b):
                        array[[i, i + 1]] = array[pair]
        weights = weights - 0.5 * eps * (betas[:, None, None] * n * grad_w + weights / prior)
        weights += noise * rng.standard_normal(weights.shape)
        biases = biases - 0.5 * eps * (betas[:, None] * n * grad_b + biases / prior)
        biases += noise * rng.standard_normal(biases.shape)


def _llc_steps(points: int, steps: int) -> set[int]:
    """``points`` log-spaced steps ending at the last one (``points = 1``: the last only)."""
    if points == 0:
        return set()
    grid = np.geomspace(1, max(steps, 1), points + 1)[1:]
    return {int(s) for s in np.unique(np.round(grid).astype(int))} | {steps}


def _log(
    ctx: RunContext,
    step: int,
    p: SuperpositionParameters,
    weight: np.ndarray,
    bias: np.ndarray,
    x: np.ndarray,
    with_llc: bool,
) -> None:
    loss, _, _ = sample_loss_and_gradient(weight, bias, x)
    pop, g_w, g_b = population_loss_and_gradient(weight, bias)
    shape = detect_polygon(weight, bias)
    values: dict[str, float] = {
        "loss": loss,
        "population_loss": pop,
        "grad_norm": math.sqrt(float(np.sum(g_w**2) + np.sum(g_b**2))),
        "active_features": float(shape.k),
        "polygon": float(shape.k if shape.regular(p.polygon_tolerance) else 0),
        "polygon_defect": shape.defect,
        "positive_biases": float(shape.positive_biases),
    }
    if with_llc:
        from landaulab.record.observables.llc import estimate_llc
        from landaulab.record.observables.objective import Objective

        device = resolve_device(ctx.device)
        data = torch.as_tensor(x, device=device)
        model = ToyModel(torch.as_tensor(weight), torch.as_tensor(bias)).to(device)
        result = estimate_llc(
            model,
            Objective.gaussian(sigma=1.0),
            (data, data),
            num_chains=p.llc_chains,
            num_draws=p.llc_draws,
            num_burnin=p.llc_burnin,
            step_size=p.llc_step_size,
            localization=p.llc_localization,
            seed=ctx.seed * 1_000_003 + step,
        )
        if math.isfinite(result.llc_mean):
            n = x.shape[0]
            values["llc"] = result.llc_mean
            values["llc_se"] = result.llc_standard_error
            values["free_energy"] = n * loss + result.llc_mean * math.log(n)
    ctx.log_values(step, values)
