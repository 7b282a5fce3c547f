r"""Variational optimisation / evolution strategies: a first-order jump in the search width.

Staines & Barber 2012 (arXiv:1212.4507): to minimise :math:`f(x)`, minimise its Gaussian
smoothing

.. math::

    U(\mu; \sigma) = E_{x\sim N(\mu, \sigma^2)}[f(x)] = E_{\varepsilon\sim N(0,1)}
    [f(\mu + \sigma\varepsilon)],

an upper bound on :math:`\min f`, by gradient descent on :math:`\mu` with the search width
:math:`\sigma` as the control parameter. The gradient is either computed by quadrature,
:math:`\partial_\mu U = E[f'(\mu+\sigma\varepsilon)]`, or estimated as in evolution
strategies from a population with antithetic pairs (Salimans, Ho, Chen, Sidor & Sutskever
2017, arXiv:1703.03864), :math:`\hat g = \frac{1}{2\sigma P}\sum_p [f(\mu+\sigma\varepsilon_p)
- f(\mu-\sigma\varepsilon_p)]\varepsilon_p`.

The built-in objective has a narrow deep well and a wide shallow one,
:math:`f(x) = -\sum_i d_i \exp(-(x - c_i)^2 / (2w_i^2))`. Smoothing widens each well to
:math:`w_i^2 + \sigma^2` and lowers its depth to :math:`d_i w_i/\sqrt{w_i^2+\sigma^2}`,
so the narrow well loses depth faster: the global minimiser :math:`\mu^*(\sigma)` jumps
from the narrow to the wide basin at a critical width :math:`\sigma_c` where the two local
minima of :math:`U` are equally deep (a first-order transition; both minima coexist around
:math:`\sigma_c`). :math:`\sigma_c` and the spinodal :math:`\sigma_s` where the narrow
local minimum disappears are computed here by quadrature (for Gaussian wells
:math:`U` also has the closed form used to check the quadrature). Annealing
:math:`\sigma` upward from the narrow basin keeps :math:`\mu` there until
:math:`\sigma_s > \sigma_c`; annealing downward from the wide basin never finds the narrow
one: hysteresis.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, model_validator
from scipy.optimize import brentq

from landaulab.errors import NotEstimableError
from landaulab.record.context import RunContext
from landaulab.tasks.registry import TaskParameters, register_task

TAIL = 8.5
"""Quadrature range in ε = (x − μ)/σ: the Gaussian mass beyond ±8.5 is below 2e-17."""


@dataclass(frozen=True)
class GaussianWells:
    """f(x) = −Σ_i depth_i·exp(−(x − center_i)²/(2·width_i²)).

    Parameters
    ----------
    centers, depths, widths
        One entry per well (depths and widths positive).
    """

    centers: tuple[float, ...]
    depths: tuple[float, ...]
    widths: tuple[float, ...]

    def _terms(self, x: np.ndarray | float, order: int) -> np.ndarray:
        """Σ_i d_i·w_i^(−order)·P_order(u_i)·exp(−u_i²/2), u_i = (x − c_i)/w_i.

        P_0 = −1, P_1 = u, P_2 = 1 − u², P_3 = u³ − 3u: the order-th derivative of f.
        """
        x = np.asarray(x, dtype=float)
        total = np.zeros_like(x)
        for c, d, w in zip(self.centers, self.depths, self.widths, strict=True):
            u = (x - c) / w
            g = np.exp(-0.5 * u * u)
            if order == 0:
                total -= d * g
            elif order == 1:
                total += (d / w) * u * g
            elif order == 2:
                total += (d / w**2) * (1.0 - u * u) * g
            else:
                total += (d / w**3) * (u * u - 3.0) * u * g
        return total

    def value(self, x: np.ndarray | float) -> np.ndarray:
        """f(x), elementwise."""
        return self._terms(x, 0)

    def derivative(self, x: np.ndarray | float) -> np.ndarray:
        """f'(x), elementwise."""
        return self._terms(x, 1)

    def second_derivative(self, x: np.ndarray | float) -> np.ndarray:
        """Second derivative of f, elementwise."""
        return self._terms(x, 2)

    def third_derivative(self, x: np.ndarray | float) -> np.ndarray:
        """Third derivative of f, elementwise."""
        return self._terms(x, 3)

    @property
    def finest_scale(self) -> float:
        """The narrowest well width: the quadrature resolves this length."""
        return float(min(self.widths))

    def smoothed_exact(self, mu: np.ndarray | float, sigma: float) -> np.ndarray:
        """Closed form U(μ; σ) = −Σ d_i w_i/s_i·exp(−(μ − c_i)²/(2s_i²)), s_i² = w_i² + σ²."""
        c, d, w = (np.asarray(v) for v in (self.centers, self.depths, self.widths))
        mu = np.asarray(mu, dtype=float)[..., None]
        s2 = w**2 + sigma**2
        return -np.sum(d * w / np.sqrt(s2) * np.exp(-((mu - c) ** 2) / (2 * s2)), axis=-1)


def quadrature_nodes(sigma: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoid nodes ε and weights for E_{ε~N(0,1)}[g(ε)] on [−8.5, 8.5].

    For an entire integrand made of Gaussians of width s (in ε) the trapezoid rule with
    spacing h errs by about exp(−2π²s²/h²). The spacing is a quarter of the narrowest
    width present, the kernel's (1) or the objective's finest length seen in ε
    (scale/σ), so that error is below exp(−2π²·16) ≈ 1e-137: the quadrature is exact to
    round-off.
    """
    step = min(0.25, scale / (4.0 * sigma)) if sigma > 0 else 0.25
    count = 2 * math.ceil(TAIL / step) + 1
    eps = np.linspace(-TAIL, TAIL, count)
    weights = np.exp(-0.5 * eps**2) * (eps[1] - eps[0]) / math.sqrt(2 * math.pi)
    return eps, weights


def smoothed(
    fun: Callable[[np.ndarray], np.ndarray],
    mu: np.ndarray | float,
    sigma: float,
    scale: float,
) -> np.ndarray:
    """E_{ε~N(0,1)}[fun(μ + σε)] by quadrature (``fun(μ)`` when σ = 0)."""
    mu = np.asarray(mu, dtype=float)
    if sigma == 0:
        return fun(mu)
    eps, weights = quadrature_nodes(sigma, scale)
    return np.sum(fun(mu[..., None] + sigma * eps) * weights, axis=-1)


@dataclass(frozen=True)
class LocalMinimum:
    """A local minimum of U(·; σ)."""

    mean: float
    value: float


def local_minima(wells: GaussianWells, sigma: float) -> list[LocalMinimum]:
    """All local minima of U(·; σ), by quadrature.

    U' is tabulated on a grid ten points per smoothed width sqrt(w_min² + σ²); each
    sign change from − to + is refined to the root of U' by Brent's method.
    """
    c = np.asarray(wells.centers)
    scale = wells.finest_scale
    reach = 6 * (max(wells.widths) + sigma)
    spacing = math.sqrt(scale**2 + sigma**2) / 10
    mus = np.arange(c.min() - reach, c.max() + reach + spacing, spacing)
    slope = smoothed(wells.derivative, mus, sigma, scale)

    def derivative(m: float) -> float:
        return float(smoothed(wells.derivative, m, sigma, scale))

    out = []
    for i in np.flatnonzero((slope[:-1] < 0) & (slope[1:] >= 0)):
        lo, hi = float(mus[i]), float(mus[i + 1])
        root = hi if slope[i + 1] == 0 else brentq(derivative, lo, hi, xtol=1e-13, rtol=1e-14)
        out.append(LocalMinimum(float(root), float(smoothed(wells.value, root, sigma, scale))))
    return out


def basin_minima(
    wells: GaussianWells, sigma: float, first: float, second: float
) -> tuple[LocalMinimum | None, LocalMinimum | None]:
    """The local minima of U(·; σ) nearest the two well centres ``first`` and ``second``.

    When both centres share one nearest minimum (one basin has disappeared), it is
    attributed to the centre it is closer to and the other entry is ``None``.
    """
    minima = local_minima(wells, sigma)
    if not minima:
        return None, None
    a = min(minima, key=lambda m: abs(m.mean - first))
    b = min(minima, key=lambda m: abs(m.mean - second))
    if a is b:
        return (a, None) if abs(a.mean - first) <= abs(a.mean - second) else (None, b)
    return a, b


@dataclass(frozen=True)
class SearchWidthTransition:
    """The first-order transition of the smoothed objective in the search width.

    Attributes
    ----------
    critical_width
        σ_c where the narrow- and wide-basin minima of U are equally deep.
    spinodal_width
        σ_s where the narrow-basin minimum disappears (annealing upward jumps here).
    mean_before, mean_after
        The two coexisting minima at σ_c: μ* just below and just above σ_c (the jump).
    value_at_critical
        U at either minimum at σ_c.
    """

    critical_width: float
    spinodal_width: float
    mean_before: float
    mean_after: float
    value_at_critical: float

    @property
    def jump(self) -> float:
        """Size of the jump of μ* at σ_c."""
        return abs(self.mean_after - self.mean_before)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (with ``jump``)."""
        return {**self.__dict__, "jump": self.jump}

    def __str__(self) -> str:
        return (
            f"first-order transition at sigma_c = {self.critical_width:.6g}: mu* jumps "
            f"{self.mean_before:.4g} -> {self.mean_after:.4g} (jump {self.jump:.4g}); "
            f"narrow-basin spinodal sigma_s = {self.spinodal_width:.6g}"
        )


def search_width_transition(
    wells: GaussianWells,
    narrow: int = 0,
    wide: int = 1,
    sigma_max: float = 5.0,
    tolerance: float = 1e-10,
) -> SearchWidthTransition:
    """σ_c and σ_s of the two-basin transition, by quadrature and root finding.

    σ_s is bracketed by bisection on the existence of the narrow-basin minimum, then
    solved from U'(μ; σ) = U''(μ; σ) = 0 (the saddle-node) by Newton's method; σ_c by
    Brent's method on the difference of the two minima's values.

    Raises
    ------
    NotEstimableError
        If the narrow well is not the deeper minimum at small σ, or its basin survives
        up to ``sigma_max`` (no transition).
    """
    cn, cw = wells.centers[narrow], wells.centers[wide]
    scale = wells.finest_scale
    lo = 1e-6 * scale
    n_lo, w_lo = basin_minima(wells, lo, cn, cw)
    if n_lo is None or w_lo is None or n_lo.value >= w_lo.value:
        raise NotEstimableError(
            "the narrow well is not the deeper local minimum at small search width; "
            "make it deeper than the wide well"
        )

    def narrow_exists(sigma: float) -> bool:
        return basin_minima(wells, sigma, cn, cw)[0] is not None

    hi = scale
    while narrow_exists(hi):
        hi *= 2
        if hi > sigma_max:
            raise NotEstimableError(
                f"the narrow-basin minimum survives up to sigma_max={sigma_max}; no jump"
            )
    a, b = hi / 2, hi
    while b - a > 1e-4 * b:
        mid = 0.5 * (a + b)
        a, b = (mid, b) if narrow_exists(mid) else (a, mid)
    last = basin_minima(wells, a, cn, cw)[0]
    assert last is not None
    spinodal = _saddle_node(wells, last.mean, a, tolerance)

    def gap(sigma: float) -> float:
        n, w = basin_minima(wells, sigma, cn, cw)
        assert n is not None and w is not None
        return n.value - w.value

    if gap(a) <= 0:
        raise NotEstimableError("the narrow basin stays the deeper one up to its spinodal")
    critical = brentq(gap, lo, a, xtol=tolerance, rtol=4 * np.finfo(float).eps)
    before, after = basin_minima(wells, critical, cn, cw)
    assert before is not None and after is not None
    return SearchWidthTransition(
        critical_width=float(critical),
        spinodal_width=float(spinodal),
        mean_before=before.mean,
        mean_after=after.mean,
        value_at_critical=float(smoothed(wells.value, before.mean, critical, scale)),
    )


def _saddle_node(wells: GaussianWells, mu0: float, sigma0: float, tolerance: float) -> float:
    """Solve U'(μ; σ) = U''(μ; σ) = 0 by Newton's method from (μ0, σ0); returns σ.

    Derivatives in σ use ∂/∂σ E[h(μ + σε)] = E[h'(μ + σε)·ε].
    """
    scale = wells.finest_scale
    mu, sigma = mu0, sigma0
    for _ in range(50):
        eps, weights = quadrature_nodes(sigma, scale)
        x = mu + sigma * eps
        f2 = wells.second_derivative(x) * weights
        f3 = wells.third_derivative(x) * weights
        g1 = float(np.sum(wells.derivative(x) * weights))
        g2 = float(np.sum(f2))
        jac = np.array(
            [[g2, float(np.sum(f2 * eps))], [float(np.sum(f3)), float(np.sum(f3 * eps))]]
        )
        d_mu, d_sigma = np.linalg.solve(jac, [g1, g2])
        mu, sigma = mu - float(d_mu), sigma - float(d_sigma)
        if abs(d_sigma) < tolerance * max(1.0, abs(sigma)):
            break
    return sigma


class EvolutionStrategiesParameters(TaskParameters):
    """Settings of the ``evolution_strategies`` task.

    With ``search_width`` set, σ is held fixed and each step is one gradient update. With
    ``search_width`` unset, σ is annealed geometrically between ``search_width_low`` and
    ``search_width_high`` (``direction`` "up" or "down") over ``steps`` levels, each
    warm-started from the previous one and trained for ``iterations_per_width`` updates;
    one row is logged per level.
    """

    model_config = ConfigDict(allow_inf_nan=False)

    search_width: float | None = Field(0.3, ge=0, description="σ of a fixed-width run")
    search_width_low: float = Field(0.05, gt=0)
    search_width_high: float = Field(1.0, gt=0)
    direction: Literal["up", "down"] = "up"
    iterations_per_width: int = Field(2000, ge=1)
    steps: int = Field(3000, ge=0)
    initial_mean: float = 0.0
    learning_rate: float = Field(0.01, gt=0)
    gradient: Literal["quadrature", "antithetic"] = "quadrature"
    population: int = Field(64, ge=2, description="samples per antithetic estimate (even)")
    narrow_center: float = 0.0
    narrow_depth: float = Field(1.0, gt=0)
    narrow_width: float = Field(0.1, gt=0)
    wide_center: float = 2.0
    wide_depth: float = Field(0.6, gt=0)
    wide_width: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> EvolutionStrategiesParameters:
        if self.search_width_low >= self.search_width_high:
            raise ValueError("search_width_low must be below search_width_high")
        if self.population % 2:
            raise ValueError("population must be even (antithetic pairs)")
        return self

    def wells(self) -> GaussianWells:
        """The objective as :class:`GaussianWells` (narrow first)."""
        return GaussianWells(
            centers=(self.narrow_center, self.wide_center),
            depths=(self.narrow_depth, self.wide_depth),
            widths=(self.narrow_width, self.wide_width),
        )


OBSERVABLES = ("mean", "search_width", "smoothed_objective", "objective", "gradient")


@register_task(
    "evolution_strategies",
    parameters=EvolutionStrategiesParameters,
    observables=OBSERVABLES,
    summary="variational optimisation E_N(mu,sigma^2)[f]: first-order jump of mu* in sigma",
    extra={
        "controls": ["search_width", "seed"],
        "order_parameters": ["mean"],
        "known_answer": "mu* jumps from the narrow to the wide basin at sigma_c "
        "(search_width_transition); annealing up jumps at the spinodal sigma_s > sigma_c",
        "references": ["arXiv:1212.4507", "arXiv:1703.03864"],
    },
)
def evolution_strategies(ctx: RunContext) -> None:
    """Gradient descent on the Gaussian-smoothed objective U(μ; σ).

    Logs ``mean`` μ (the order parameter), ``search_width`` σ, ``smoothed_objective``
    U(μ; σ) and its exact ``gradient`` ∂U/∂μ (quadrature), and ``objective`` f(μ).
    """
    p = EvolutionStrategiesParameters(**{k: v for k, v in ctx.params.items() if k != "seed"})
    wells = p.wells()
    rng = np.random.default_rng(ctx.seed)
    mu = float(p.initial_mean)
    if p.search_width is not None:
        gradient = _gradient_estimator(p, wells, float(p.search_width), rng)
        for step in range(p.steps + 1):
            if ctx.due(step):
                _log(ctx, step, wells, mu, float(p.search_width))
            if step == p.steps:
                break
            mu -= p.learning_rate * gradient(mu)
        return
    widths = np.geomspace(p.search_width_low, p.search_width_high, p.steps + 1)
    if p.direction == "down":
        widths = widths[::-1]
    for step, sigma in enumerate(widths):
        gradient = _gradient_estimator(p, wells, float(sigma), rng)
        for _ in range(p.iterations_per_width):
            mu -= p.learning_rate * gradient(mu)
        if ctx.due(step):
            _log(ctx, step, wells, mu, float(sigma))


def _gradient_estimator(
    p: EvolutionStrategiesParameters,
    wells: GaussianWells,
    sigma: float,
    rng: np.random.Generator,
) -> Callable[[float], float]:
    """∂U/∂μ at fixed σ: by quadrature, or the antithetic evolution-strategies estimate."""
    if p.gradient == "quadrature" or sigma == 0:
        if sigma == 0:
            return lambda mu: float(wells.derivative(mu))
        eps, weights = quadrature_nodes(sigma, wells.finest_scale)
        shifts = sigma * eps
        return lambda mu: float(np.dot(wells.derivative(mu + shifts), weights))
    pairs = p.population // 2

    def antithetic(mu: float) -> float:
        eps = rng.standard_normal(pairs)
        diff = wells.value(mu + sigma * eps) - wells.value(mu - sigma * eps)
        return float(np.dot(diff, eps)) / (2 * sigma * pairs)

    return antithetic


def _log(ctx: RunContext, step: int, wells: GaussianWells, mu: float, sigma: float) -> None:
    scale = wells.finest_scale
    ctx.log(
        step,
        mean=mu,
        search_width=sigma,
        smoothed_objective=float(smoothed(wells.value, mu, sigma, scale)),
        objective=float(wells.value(mu)),
        gradient=float(smoothed(wells.derivative, mu, sigma, scale)),
    )
