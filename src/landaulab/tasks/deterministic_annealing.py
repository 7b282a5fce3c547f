r"""Deterministic annealing clustering: symmetry breaking and a cascade of splits.

Rose, Gurewitz & Fox 1990 (Phys. Rev. Lett. 65, 945); Rose 1998 (Proc. IEEE 86, 2210).
Codevectors :math:`y_j` with masses :math:`p_j` (the mass-constrained form of Rose 1998)
and soft associations

.. math::

    p(y_j|x) = \frac{p_j\,e^{-\|x - y_j\|^2/T}}{\sum_l p_l\,e^{-\|x - y_l\|^2/T}},

minimise the free energy :math:`F = D - T H = -T\,E_x \log \sum_j p_j
e^{-\|x-y_j\|^2/T}` at each temperature :math:`T` by the fixed-point iteration
:math:`y_j = E_x[p(y_j|x)\,x]/p_j`, :math:`p_j = E_x[p(y_j|x)]`.

**Critical temperatures (derived).** Put a group of codevectors at one point :math:`y`
carrying total association :math:`p(y|x)`, and perturb them by :math:`\delta_j` with
:math:`\sum_j p_j\delta_j = 0`. The second variation of :math:`F` is
:math:`\sum_j p_j\,\delta_j^\top [I - (2/T)\,C_{x|y}]\,\delta_j` with the
cluster-conditional covariance :math:`C_{x|y} = E[p(x|y)(x-y)(x-y)^\top]`, so the group
is stable exactly while :math:`T > 2\lambda_{\max}(C_{x|y})`. Above
:math:`T_c = 2\lambda_{\max}` of the data covariance every codevector sits at the data
mean (the symmetric phase); below it they split along the top principal axis (symmetry
breaking, continuous), and each cluster splits again when :math:`T` falls below
:math:`2\lambda_{\max}` of its own conditional covariance (the cascade). The fixed-point
map's growth factor on the splitting mode is :math:`2\lambda_{\max}(C_{x|y})/T`, so the
number of iterations to converge diverges at each split (critical slowing down).

Annealing follows Rose 1998: at every temperature each effective codevector is
duplicated with a small random perturbation (while fewer than ``codevectors`` exist),
the iteration is run to convergence, and copies that did not separate are merged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, model_validator
from scipy.special import logsumexp

from landaulab.record.context import RunContext
from landaulab.tasks.registry import TaskParameters, register_task

DEFAULT_CENTERS: tuple[tuple[float, ...], ...] = (
    (3.0, 1.0),
    (3.0, -1.0),
    (-3.0, 1.0),
    (-3.0, -1.0),
)


def gaussian_mixture_data(
    centers: tuple[tuple[float, ...], ...] | np.ndarray,
    cluster_std: float,
    sample_size: int,
    seed: int,
) -> np.ndarray:
    """Equal-weight isotropic Gaussian blobs (points assigned round-robin to centres)."""
    c = np.asarray(centers, dtype=float)
    rng = np.random.default_rng(seed)
    labels = np.arange(sample_size) % len(c)
    return c[labels] + cluster_std * rng.standard_normal((sample_size, c.shape[1]))


def first_critical_temperature(x: np.ndarray) -> float:
    """T_c = 2·λ_max of the (1/n-normalised) data covariance: the first split."""
    centred = x - x.mean(axis=0)
    return 2.0 * float(np.linalg.eigvalsh(centred.T @ centred / len(x))[-1])


@dataclass(frozen=True)
class AnnealingState:
    """Codevectors, their masses and the associations at one temperature."""

    codevectors: np.ndarray
    masses: np.ndarray
    temperature: float
    iterations: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "codevectors": self.codevectors.tolist(),
            "masses": self.masses.tolist(),
            "temperature": self.temperature,
            "iterations": self.iterations,
        }


def associations(
    x: np.ndarray, y: np.ndarray, masses: np.ndarray, temperature: float
) -> np.ndarray:
    """p(y_j|x) for every data point (rows) and codevector (columns)."""
    logits = np.log(masses)[None, :] - _sq_dist(x, y) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    w = np.exp(logits)
    return w / w.sum(axis=1, keepdims=True)


def _sq_dist(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=2)


def free_energy(x: np.ndarray, y: np.ndarray, masses: np.ndarray, temperature: float) -> float:
    """F = −T·E_x log Σ_j p_j exp(−‖x − y_j‖²/T)."""
    logits = np.log(masses)[None, :] - _sq_dist(x, y) / temperature
    return float(-temperature * np.mean(logsumexp(logits, axis=1)))


def fixed_point(
    x: np.ndarray,
    y: np.ndarray,
    masses: np.ndarray,
    temperature: float,
    max_iterations: int,
    tolerance: float,
) -> AnnealingState:
    """Iterate y_j = E[p(y_j|x) x]/p_j, p_j = E[p(y_j|x)] until max|Δy| < tolerance."""
    y = y.copy()
    masses = masses.copy()
    n = len(x)
    tiny = np.finfo(float).tiny
    # ‖x‖² is common to every codevector and cancels in the normalisation of p(y|x).
    for it in range(1, max_iterations + 1):
        logits = (2.0 * (x @ y.T) - np.sum(y * y, axis=1)) / temperature + np.log(masses)
        logits -= logits.max(axis=1, keepdims=True)
        post = np.exp(logits)
        post /= post.sum(axis=1, keepdims=True)
        total = post.sum(axis=0)
        masses = np.maximum(total / n, tiny)
        new_y = (post.T @ x) / np.maximum(total, tiny)[:, None]
        change = float(np.max(np.abs(new_y - y)))
        y = new_y
        if change < tolerance:
            return AnnealingState(y, masses, temperature, it)
    return AnnealingState(y, masses, temperature, max_iterations)


def group_codevectors(y: np.ndarray, radius: float) -> list[list[int]]:
    """Groups of codevectors closer than ``radius`` (single linkage)."""
    parent = list(range(len(y)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(y)):
        for j in range(i + 1, len(y)):
            if np.linalg.norm(y[i] - y[j]) < radius:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(y)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def merge_codevectors(
    y: np.ndarray, masses: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray]:
    """Merge codevectors closer than ``radius`` (mass-weighted position, summed mass)."""
    groups = group_codevectors(y, radius)
    new_y = np.array([np.average(y[g], axis=0, weights=masses[g]) for g in groups])
    new_m = np.array([masses[g].sum() for g in groups])
    return new_y, new_m


def cluster_critical_temperatures(
    x: np.ndarray, y: np.ndarray, masses: np.ndarray, temperature: float
) -> np.ndarray:
    """2·λ_max(C_{x|y_j}) for every codevector: where each cluster would split."""
    post = associations(x, y, masses, temperature)
    out = np.empty(len(y))
    for j in range(len(y)):
        weight = post[:, j] / max(post[:, j].sum(), np.finfo(float).tiny)
        diff = x - y[j]
        cov = (diff * weight[:, None]).T @ diff
        out[j] = 2.0 * float(np.linalg.eigvalsh(cov)[-1])
    return out


class DeterministicAnnealingParameters(TaskParameters):
    """Settings of the ``deterministic_annealing`` task.

    With ``temperature`` unset, a run anneals between ``temperature_high`` and
    ``temperature_low`` over ``steps`` geometrically spaced temperatures (``direction``
    "down" cools from the symmetric phase, "up" heats from a clustered start), logging
    one row per temperature. With ``temperature`` set, the run holds that temperature
    and each step is one fixed-point iteration (one run per temperature in a sweep).
    """

    model_config = ConfigDict(allow_inf_nan=False)

    temperature: float | None = Field(None, gt=0)
    temperature_high: float = Field(40.0, gt=0)
    temperature_low: float = Field(0.1, gt=0)
    direction: Literal["down", "up"] = "down"
    steps: int = Field(100, ge=1)
    codevectors: int = Field(4, ge=1)
    centers: tuple[tuple[float, ...], ...] = DEFAULT_CENTERS
    cluster_std: float = Field(0.4, ge=0)
    sample_size: int = Field(800, ge=2)
    data_seed: int = 0
    max_iterations: int = Field(2000, ge=1)
    tolerance: float = Field(1e-8, gt=0, description="convergence of max|Δy| (data units)")
    perturbation: float = Field(
        1e-4, gt=0, description="size of the duplicate perturbation, relative to data scale"
    )
    merge_radius: float = Field(
        1e-3, gt=0, description="codevectors closer than this (relative) count as one"
    )

    @model_validator(mode="after")
    def _check(self) -> DeterministicAnnealingParameters:
        if not self.centers or len({len(c) for c in self.centers}) != 1:
            raise ValueError("centers must be a non-empty list of points of equal dimension")
        if self.temperature_low >= self.temperature_high:
            raise ValueError("temperature_low must be below temperature_high")
        if self.perturbation >= self.merge_radius:
            raise ValueError(
                "perturbation must be smaller than merge_radius, or unsplit copies "
                "would count as separate clusters"
            )
        return self


OBSERVABLES = (
    "temperature",
    "centroid_spread",
    "distinct_centroids",
    "distortion",
    "entropy",
    "free_energy",
    "critical_temperature",
    "iterations",
)


def _measure(
    x: np.ndarray, y: np.ndarray, masses: np.ndarray, temperature: float, radius: float
) -> dict[str, float]:
    post = associations(x, y, masses, temperature)
    sq = _sq_dist(x, y)
    distortion = float(np.mean(np.sum(post * sq, axis=1)))
    entropy = float(-np.mean(np.sum(post * np.log(np.maximum(post, 1e-300)), axis=1)))
    mean = x.mean(axis=0)
    merged_y, merged_m = merge_codevectors(y, masses, radius)
    spread = math.sqrt(float(np.sum(masses * np.sum((y - mean) ** 2, axis=1))))
    return {
        "temperature": temperature,
        "centroid_spread": spread,
        "distinct_centroids": float(len(merged_y)),
        "distortion": distortion,
        "entropy": entropy,
        "free_energy": free_energy(x, y, masses, temperature),
        "critical_temperature": float(
            cluster_critical_temperatures(x, merged_y, merged_m, temperature).max()
        ),
    }


@register_task(
    "deterministic_annealing",
    parameters=DeterministicAnnealingParameters,
    observables=OBSERVABLES,
    summary="deterministic annealing clustering: codevectors split at T_c = 2*lambda_max",
    extra={
        "controls": ["temperature", "sample_size", "seed"],
        "order_parameters": ["centroid_spread", "distinct_centroids"],
        "known_answer": "first split at T_c = 2*lambda_max(data covariance); a cluster splits "
        "when T < 2*lambda_max(C_x|y)",
        "references": ["Rose, Gurewitz & Fox 1990", "Rose 1998"],
    },
)
def deterministic_annealing(ctx: RunContext) -> None:
    """Anneal (or hold) the temperature of mass-constrained deterministic annealing.

    Logs ``temperature``, ``centroid_spread`` (sqrt Σ_j p_j‖y_j − x̄‖², the order
    parameter), ``distinct_centroids``, ``distortion`` D, ``entropy`` H(Y|X),
    ``free_energy`` F, ``critical_temperature`` (max over clusters of 2λ_max(C_{x|y})) and
    ``iterations`` to convergence (which peaks at each split).
    """
    p = DeterministicAnnealingParameters(**{k: v for k, v in ctx.params.items() if k != "seed"})
    x = gaussian_mixture_data(p.centers, p.cluster_std, p.sample_size, p.data_seed)
    scale = math.sqrt(float(np.sum(x.var(axis=0))))
    radius = p.merge_radius * scale
    rng = np.random.default_rng(ctx.seed)
    d = x.shape[1]
    if p.temperature is not None:
        _hold(ctx, p, x, scale, radius, rng)
        return
    temps = np.geomspace(p.temperature_high, p.temperature_low, p.steps + 1)
    if p.direction == "up":
        temps = temps[::-1]
        y = _plus_plus_start(x, p.codevectors, rng)
        masses = np.full(len(y), 1.0 / len(y))
    else:
        y = x.mean(axis=0, keepdims=True)
        masses = np.ones(1)
    for step, temperature in enumerate(temps):
        t = float(temperature)
        if p.direction == "down" and len(y) < p.codevectors:
            y, masses = _duplicate(y, masses, p.codevectors, p.perturbation * scale, d, rng)
        state = fixed_point(x, y, masses, t, p.max_iterations, p.tolerance * scale)
        y, masses = merge_codevectors(state.codevectors, state.masses, radius)
        if ctx.due(step):
            values = _measure(x, y, masses, t, radius)
            ctx.log_values(step, {"iterations": float(state.iterations), **values})


def _duplicate(
    y: np.ndarray,
    masses: np.ndarray,
    limit: int,
    size: float,
    d: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Split each codevector (heaviest first) into two perturbed halves, up to ``limit``."""
    order = np.argsort(-masses, kind="stable")
    new_y, new_m = [], []
    spare = limit - len(y)
    for j in order:
        if spare > 0:
            direction = rng.standard_normal(d)
            direction *= size / np.linalg.norm(direction)
            new_y += [y[j] + direction, y[j] - direction]
            new_m += [masses[j] / 2, masses[j] / 2]
            spare -= 1
        else:
            new_y.append(y[j])
            new_m.append(masses[j])
    return np.array(new_y), np.array(new_m)


def _plus_plus_start(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) for the heating direction."""
    y = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        dist = np.min(_sq_dist(x, np.array(y)), axis=1)
        y.append(x[rng.choice(len(x), p=dist / dist.sum())])
    return np.array(y)


def _hold(
    ctx: RunContext,
    p: DeterministicAnnealingParameters,
    x: np.ndarray,
    scale: float,
    radius: float,
    rng: np.random.Generator,
) -> None:
    """Fixed temperature: every step is one fixed-point iteration from the perturbed mean."""
    assert p.temperature is not None
    t = float(p.temperature)
    d = x.shape[1]
    y = x.mean(axis=0) + p.perturbation * scale * rng.standard_normal((p.codevectors, d))
    masses = np.full(p.codevectors, 1.0 / p.codevectors)
    for step in range(p.steps + 1):
        if ctx.due(step):
            ctx.log_values(step, {"iterations": float(step), **_measure(x, y, masses, t, radius)})
        if step == p.steps:
            break
        state = fixed_point(x, y, masses, t, 1, 0.0)
        y, masses = state.codevectors, state.masses
