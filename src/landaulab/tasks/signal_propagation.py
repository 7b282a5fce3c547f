r"""Signal propagation through deep random networks: the order-to-chaos transition at init.

Poole, Lahiri, Raghu, Sohl-Dickstein & Ganguli 2016, "Exponential expressivity in deep
neural networks through transient chaos", arXiv:1606.05340; Schoenholz, Gilmer, Ganguli &
Sohl-Dickstein 2017, "Deep information propagation", arXiv:1611.01232.

A fully connected network of width N with weights :math:`W_{ij}\sim N(0, \sigma_w^2/N)`
(``weight_variance`` = σ_w²) and biases :math:`b_i\sim N(0, \sigma_b^2)`
(``bias_variance`` = σ_b²) propagates two inputs. As N → ∞ the squared length
:math:`q^l` of the pre-activations and the correlation :math:`c^l` between the two inputs
follow the mean-field maps (z, z₁, z₂ independent standard normals)

.. math::

    q^{l+1} = \sigma_w^2\,E[\phi(\sqrt{q^l}\,z)^2] + \sigma_b^2, \qquad
    c^{l+1} = \frac{\sigma_w^2\,E[\phi(u_1)\phi(u_2)] + \sigma_b^2}{q^{l+1}},

with :math:`u_1 = \sqrt{q^l} z_1`, :math:`u_2 = \sqrt{q^l}(c^l z_1 + \sqrt{1 - (c^l)^2}
z_2)`. Here they are evaluated by Gauss–Hermite quadrature with as many nodes as the
length q needs for 1e-14 (tanh; :func:`quadrature_points`; closed arc-cosine forms for
ReLU, Cho & Saul 2009). The fixed point c = 1 is stable when
:math:`\chi_1 = \sigma_w^2 E[\phi'(\sqrt{q^*} z)^2] < 1` (ordered phase: inputs become
indistinguishable) and unstable when χ₁ > 1 (chaotic phase: c* < 1). The order parameter
is the asymptotic decorrelation :math:`1 - c^*`. Correlations approach c* over the depth
scale :math:`\xi_c = -1/\ln(\sigma_w^2 E[\phi'(u_1)\phi'(u_2)])` at c*, which diverges on
the critical line χ₁ = 1 (tanh, σ_b² = 0.05: σ_w² = 1.7610, q* = 0.570; ReLU: σ_w² = 2,
σ_b² = 0).

The task draws finite networks (members may differ in seed and variances) and logs, per
layer (the trajectory's ``step`` is the layer index), the empirical q and c of the two
inputs next to the mean-field values.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import Literal

import numpy as np
import torch
from pydantic import ConfigDict, Field
from scipy.optimize import brentq

from landaulab.errors import TaskError
from landaulab.record.context import RunContext
from landaulab.tasks.registry import TaskParameters, register_task
from landaulab.train.members import Members, run_single

Activation = Literal["tanh", "relu"]
#: Gauss–Hermite node counts tried in turn (each about twice the last) until the
#: one-dimensional averages E[φ(√q z)²] and E[φ'(√q z)²] agree with the next count to
#: QUADRATURE_TOLERANCE: tanh has poles at ±iπ/2, i.e. at z = ±iπ/(2√q), so the nodes
#: needed grow with q.
QUADRATURE_LADDER = (161, 321, 641, 1281, 2561)
QUADRATURE_POINTS = QUADRATURE_LADDER[0]
QUADRATURE_TOLERANCE = 1e-14

OBSERVABLES = (
    "q",
    "q_mean_field",
    "correlation",
    "correlation_mean_field",
    "decorrelation",
    "chi1",
    "inverse_correlation_depth",
)


@lru_cache(maxsize=8)
def _nodes(points: int = QUADRATURE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite nodes and weights for E over a standard normal (scipy's rule stays
    finite beyond the ~450 nodes where numpy's overflows)."""
    from scipy.special import roots_hermitenorm

    z, w = roots_hermitenorm(points)
    return z, w / w.sum()


@lru_cache(maxsize=256)
def quadrature_points(q: float) -> int:
    """Gauss–Hermite nodes for averages over N(0, q) of tanh and its derivative.

    The first count of :data:`QUADRATURE_LADDER` whose one-dimensional averages
    E[tanh(√q z)²] and E[sech⁴(√q z)] agree with the next count's to
    :data:`QUADRATURE_TOLERANCE` (the last count when none does). The two-dimensional
    averages of the correlation map use the same count: along each normal direction their
    integrands have poles no closer to the real axis.
    """
    scale = math.sqrt(max(q, 0.0))

    def averages(points: int) -> np.ndarray:
        z, w = _nodes(points)
        u = scale * z
        with np.errstate(over="ignore"):
            return np.array([w @ np.tanh(u) ** 2, w @ (1.0 / np.cosh(u) ** 4)])

    for coarse, fine in itertools.pairwise(QUADRATURE_LADDER):
        if np.max(np.abs(averages(coarse) - averages(fine))) <= QUADRATURE_TOLERANCE:
            return coarse
    return QUADRATURE_LADDER[-1]


def _phi(activation: str, x: np.ndarray) -> np.ndarray:
    if activation == "tanh":
        return np.tanh(x)
    if activation == "relu":
        return np.maximum(x, 0.0)
    raise TaskError(f"unknown activation {activation!r}; choose tanh or relu")


def _dphi(activation: str, x: np.ndarray) -> np.ndarray:
    if activation == "tanh":
        with np.errstate(over="ignore"):  # cosh overflows far out, where sech² is 0
            return 1.0 / np.cosh(x) ** 2
    if activation == "relu":
        return (x > 0).astype(np.float64)
    raise TaskError(f"unknown activation {activation!r}; choose tanh or relu")


def _pair_average(activation: str, q: float, c: float, derivative: bool) -> float:
    """E[f(u₁) f(u₂)] with f = φ (or φ'), for u's of variance q and correlation c."""
    c = float(np.clip(c, -1.0, 1.0))
    if activation == "relu":  # arc-cosine kernels (Cho & Saul 2009)
        angle = math.acos(c)
        if derivative:
            return (math.pi - angle) / (2.0 * math.pi)
        return q / (2.0 * math.pi) * (math.sqrt(max(1.0 - c * c, 0.0)) + (math.pi - angle) * c)
    z, w = _nodes(quadrature_points(q))
    u1 = math.sqrt(q) * z[:, None]
    u2 = math.sqrt(q) * (c * z[:, None] + math.sqrt(max(1.0 - c * c, 0.0)) * z[None, :])
    f = _dphi if derivative else _phi
    return float(np.einsum("i,j,ij->", w, w, f(activation, u1) * f(activation, u2)))


def q_map(q: float, weight_variance: float, bias_variance: float, activation: Activation) -> float:
    """One layer of the length map: σ_w² E[φ(√q z)²] + σ_b²."""
    return weight_variance * _pair_average(activation, q, 1.0, False) + bias_variance


def c_map(
    c: float, q: float, weight_variance: float, bias_variance: float, activation: Activation
) -> float:
    """One layer of the correlation map for two inputs of equal length q."""
    q_next = q_map(q, weight_variance, bias_variance, activation)
    if q_next <= 0.0:
        return 1.0
    return (weight_variance * _pair_average(activation, q, c, False) + bias_variance) / q_next


def fixed_point_q(weight_variance: float, bias_variance: float, activation: Activation) -> float:
    """q*, the fixed point of the length map (0 when only the trivial one exists).

    Raises
    ------
    TaskError
        If q grows without bound (ReLU with σ_w² > 2).
    """

    def gap(q: float) -> float:
        return q_map(q, weight_variance, bias_variance, activation) - q

    if activation == "relu":  # q_map is linear: q' = (σ_w²/2) q + σ_b²
        slope = weight_variance / 2.0
        if slope >= 1.0:
            if bias_variance == 0.0 and slope == 1.0:
                return 0.0  # every q is a fixed point; none is selected
            raise TaskError("the ReLU length map has no fixed point for weight_variance >= 2")
        return bias_variance / (1.0 - slope)
    upper = 1.0
    while gap(upper) > 0.0:
        upper *= 2.0
        if upper > 1e8:
            raise TaskError("the length map has no finite fixed point")
    if bias_variance == 0.0:
        tiny = 1e-12
        if gap(tiny) <= 0.0:
            return 0.0
        return brentq(gap, tiny, upper, xtol=1e-15, rtol=1e-14)
    return brentq(gap, 0.0, upper, xtol=1e-15, rtol=1e-14)


def chi1(weight_variance: float, bias_variance: float, activation: Activation = "tanh") -> float:
    """χ₁ = σ_w² E[φ'(√q* z)²], the stretch of c near 1 per layer (1 on the critical line)."""
    if activation == "relu":  # E[step(u)²] = 1/2 whatever q
        return weight_variance / 2.0
    q = fixed_point_q(weight_variance, bias_variance, activation)
    return weight_variance * _pair_average(activation, q, 1.0, True)


def fixed_point_c(
    weight_variance: float, bias_variance: float, activation: Activation = "tanh"
) -> float:
    """c*, the stable fixed point of the correlation map (1 in the ordered phase)."""
    if chi1(weight_variance, bias_variance, activation) <= 1.0:
        return 1.0
    if activation == "relu":
        return 1.0  # q grows without bound and the map tends to the bias-free one, c* = 1
    q = fixed_point_q(weight_variance, bias_variance, activation)

    def gap(c: float) -> float:
        return c_map(c, q, weight_variance, bias_variance, activation) - c

    top = 1.0 - 1e-9
    if gap(top) >= 0.0:
        return 1.0
    bottom = -1.0 + 1e-9
    if gap(bottom) < 0.0:
        return -1.0
    return brentq(gap, bottom, top, xtol=1e-15, rtol=1e-14)


def inverse_correlation_depth(
    weight_variance: float, bias_variance: float, activation: Activation = "tanh"
) -> float:
    """1/ξ_c = −ln(σ_w² E[φ'(u₁)φ'(u₂)]) at c*: 0 on the critical line, > 0 off it
    (negative where perturbations of c grow, e.g. ReLU with σ_w² > 2)."""
    c = fixed_point_c(weight_variance, bias_variance, activation)
    if activation == "relu":
        rate = weight_variance * (math.pi - math.acos(min(c, 1.0))) / (2.0 * math.pi)
    else:
        q = fixed_point_q(weight_variance, bias_variance, activation)
        rate = weight_variance * _pair_average(activation, q, c, True)
    return math.inf if rate <= 0.0 else -math.log(rate)


def correlation_depth(
    weight_variance: float, bias_variance: float, activation: Activation = "tanh"
) -> float:
    """ξ_c = −1/ln(σ_w² E[φ'(u₁)φ'(u₂)]) at c*: the depth over which correlations settle
    (infinite on the critical line and where perturbations grow)."""
    inverse = inverse_correlation_depth(weight_variance, bias_variance, activation)
    return math.inf if inverse <= 0.0 else 1.0 / inverse


def critical_weight_variance(bias_variance: float, activation: Activation = "tanh") -> float:
    """σ_w² on the order-to-chaos line χ₁ = 1 at the given σ_b²."""
    if activation == "relu":
        if bias_variance != 0.0:
            raise TaskError("for ReLU the critical point is weight_variance=2, bias_variance=0")
        return 2.0
    if bias_variance == 0.0:
        return 1.0  # q* → 0 and χ₁ → σ_w² φ'(0)² = σ_w²
    return brentq(
        lambda s: chi1(s, bias_variance, activation) - 1.0, 1.0, 50.0, xtol=1e-14, rtol=1e-14
    )


def mean_field_trajectory(
    depth: int,
    weight_variance: float,
    bias_variance: float,
    activation: Activation,
    input_variance: float,
    input_correlation: float,
) -> tuple[np.ndarray, np.ndarray]:
    """q^l and c^l for l = 0..depth (l = 0: the first layer's pre-activations).

    The first layer is linear in the inputs: q⁰ = σ_w² q_in + σ_b²,
    c⁰ = (σ_w² q_in c_in + σ_b²)/q⁰.
    """
    q = np.empty(depth + 1)
    c = np.empty(depth + 1)
    q[0] = weight_variance * input_variance + bias_variance
    c[0] = (weight_variance * input_variance * input_correlation + bias_variance) / q[0]
    for layer in range(depth):
        c[layer + 1] = c_map(c[layer], q[layer], weight_variance, bias_variance, activation)
        q[layer + 1] = q_map(q[layer], weight_variance, bias_variance, activation)
    return q, c


class SignalPropagationParameters(TaskParameters):
    """Settings of the signal-propagation task (Poole et al. 2016)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    width: int = Field(1000, ge=2)
    depth: int = Field(30, ge=1, description="hidden layers")
    activation: Activation = "tanh"
    weight_variance: float = Field(1.7610, gt=0.0, description="σ_w² (init_scale²)")
    bias_variance: float = Field(0.05, ge=0.0, description="σ_b²")
    input_variance: float = Field(1.0, gt=0.0, description="‖x‖²/N of both inputs")
    input_correlation: float = Field(0.5, ge=-1.0, le=1.0, description="c of the inputs")


def signal_propagation_batched(ctxs: list[RunContext]) -> None:
    """Propagate two inputs through S random networks at once (members may differ in seed,
    weight_variance and bias_variance)."""
    members = Members(ctxs, dtype=torch.float64)
    n, depth = int(members.shared("width")), int(members.shared("depth"))
    activation = str(members.shared("activation"))
    q_in = float(members.shared("input_variance"))
    c_in = float(members.shared("input_correlation"))
    sw = members.values("weight_variance").reshape(-1, 1, 1)
    sb = members.values("bias_variance").reshape(-1, 1, 1)
    phi = torch.tanh if activation == "tanh" else torch.relu
    references = []
    for ctx in ctxs:
        w2, b2 = float(ctx.params["weight_variance"]), float(ctx.params["bias_variance"])
        q_ref, c_ref = mean_field_trajectory(depth, w2, b2, activation, q_in, c_in)  # type: ignore[arg-type]
        constants = (
            chi1(w2, b2, activation),  # type: ignore[arg-type]
            inverse_correlation_depth(w2, b2, activation),  # type: ignore[arg-type]
        )
        references.append((q_ref, c_ref, constants))
    # two inputs of squared length q_in·N and correlation c_in (exactly)
    inputs = members.stack(
        lambda _, g: torch.linalg.qr(torch.randn(n, 2, generator=g, dtype=torch.float64)).Q,
        stream=0,
    )  # [S, N, 2] orthonormal columns
    e1, e2 = inputs[..., 0], inputs[..., 1]
    x1 = e1 * math.sqrt(q_in * n)
    x2 = (c_in * e1 + math.sqrt(max(1.0 - c_in * c_in, 0.0)) * e2) * math.sqrt(q_in * n)
    h = torch.stack([x1, x2], dim=-1)  # [S, N, 2]
    generators = members.generators(stream=1)
    for layer in range(depth + 1):
        weights = torch.stack(
            [torch.randn(n, n, generator=g, dtype=torch.float64) for g in generators]
        ).to(members.device)
        biases = torch.stack(
            [torch.randn(n, 1, generator=g, dtype=torch.float64) for g in generators]
        ).to(members.device)
        source = h if layer == 0 else phi(h)
        h = torch.sqrt(sw / n) * torch.bmm(weights, source) + torch.sqrt(sb) * biases
        if members.due(layer):
            lengths = (h * h).mean(dim=1)  # [S, 2]
            q_emp = lengths.mean(dim=1)
            c_emp = (h[..., 0] * h[..., 1]).mean(dim=1) / torch.sqrt(lengths[:, 0] * lengths[:, 1])
            members.log(
                layer,
                q=q_emp,
                q_mean_field=np.array([r[0][layer] for r in references]),
                correlation=c_emp,
                correlation_mean_field=np.array([r[1][layer] for r in references]),
                decorrelation=1.0 - c_emp,
                chi1=np.array([r[2][0] for r in references]),
                inverse_correlation_depth=np.array([r[2][1] for r in references]),
            )
    members.finish()


@register_task(
    "signal_propagation",
    parameters=SignalPropagationParameters,
    observables=OBSERVABLES,
    summary="order-to-chaos transition of deep random nets at init (Poole 2016, 1606.05340)",
    steps_key="depth",
    batched=signal_propagation_batched,
    batch_keys=("seed", "weight_variance", "bias_variance"),
    prefers_batching=True,
    extra={"order_parameter": "decorrelation", "control": "weight_variance"},
)
def signal_propagation(ctx: RunContext) -> None:
    """Two inputs through one random deep network; q and c per layer vs mean field."""
    run_single(signal_propagation_batched, ctx)
