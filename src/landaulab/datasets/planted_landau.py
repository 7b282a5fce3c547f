"""Planted Landau ensembles: samples of m from P(m) ∝ exp(−N·F(m; T)) with known F.

The free energy is the Landau polynomial

    F(m; T) = a·(T − T₀)·m² + c₃·m³ + c₄·m⁴ + c₆·m⁶ − h·m,

so the transition, its order, the jump and the exponents are known exactly
(Landau 1937; Landau & Lifshitz, "Statistical Physics", §§142–146). With c₃ = c₆ = h = 0 and
c₄ > 0 it is second order at T₀ with m* = √(a(T₀ − T)/(2c₄)) (β = 1/2). With c₄ = −b < 0 and
c₆ = c > 0 it is first order at a(T* − T₀) = b²/(4c), where |m| jumps from √(b/(2c)) to 0.
With c₃ = −b < 0, c₄ = c > 0 it is first order at a(T* − T₀) = b²/(4c) with jump b/(2c).

Sampling is exact up to the grid: the density is tabulated on a fine grid that covers every
state with N·(F − min F) < 60, and m is drawn by inverse-CDF sampling, uniform within cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from landaulab.datasets._tidy import as_count, as_positive_array, tidy_frame
from landaulab.errors import DataError

_GRID_POINTS = 20001
_LOG_RANGE = 60.0


@dataclass(frozen=True)
class PlantedLandau:
    """A Landau free energy F(m; T) = a(T − T₀)m² + c₃m³ + c₄m⁴ + c₆m⁶ − h·m.

    Parameters
    ----------
    a
        Slope of the quadratic coefficient, a₂(T) = a·(T − T₀); must be > 0.
    t0
        Temperature T₀ at which the quadratic coefficient vanishes.
    cubic, quartic, sextic
        The coefficients c₃, c₄, c₆. F must be bounded below: c₆ > 0, or c₆ = 0 and c₄ > 0.
    field
        External field h (a linear term −h·m).
    """

    a: float = 1.0
    t0: float = 1.0
    cubic: float = 0.0
    quartic: float = 1.0
    sextic: float = 0.0
    field: float = 0.0

    def __post_init__(self) -> None:
        if not self.a > 0:
            raise DataError(f"a must be positive (a₂ = a·(T − T₀)); got {self.a}")
        if not (self.sextic > 0 or (self.sextic == 0 and self.quartic > 0)):
            raise DataError("F must be bounded below: give sextic > 0, or sextic = 0, quartic > 0")

    def free_energy(self, m: np.ndarray | float, temperature: float) -> np.ndarray:
        """F(m; T) per degree of freedom."""
        m = np.asarray(m, dtype=float)
        return (
            self.a * (temperature - self.t0) * m**2
            + self.cubic * m**3
            + self.quartic * m**4
            + self.sextic * m**6
            - self.field * m
        )

    @property
    def order(self) -> str:
        """``"second"``, ``"first"`` or ``"crossover"`` (a field removes the transition)."""
        if self.field != 0:
            return "crossover"
        if self.cubic != 0 or self.quartic < 0:
            return "first"
        return "second"

    @property
    def transition_temperature(self) -> float | None:
        """T₀ for a second-order model, T* for a first-order one, None in a field."""
        if self.order == "crossover":
            return None
        if self.order == "second":
            return self.t0
        if self.cubic == 0:
            b, c = -self.quartic, self.sextic
        elif self.sextic == 0:
            b, c = abs(self.cubic), self.quartic
        else:
            return _numerical_transition(self)
        return self.t0 + b**2 / (4.0 * c * self.a)

    def m_star(self, temperature: float) -> float:
        """The global minimum m*(T) of F (the thermodynamic-limit order parameter, ≥ 0 side)."""
        grid = np.linspace(-3.0, 3.0, 600001)
        values = self.free_energy(grid, temperature)
        best = grid[np.argmin(values)]
        return float(abs(best)) if self.cubic == 0 and self.field == 0 else float(best)

    @property
    def jump(self) -> float:
        """|m*| just below T* at a first-order transition (0 for second order)."""
        t_star = self.transition_temperature
        if self.order != "first" or t_star is None:
            return 0.0
        if self.cubic == 0:
            return float(np.sqrt(-self.quartic / (2.0 * self.sextic)))
        return float(abs(self.cubic) / (2.0 * self.quartic))

    def sample(
        self,
        temperatures: Sequence[float],
        sizes: Sequence[float],
        *,
        n_runs: int = 10,
        n_steps: int = 100,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Draw independent samples of m at every (T, N); see :func:`planted_landau`."""
        return planted_landau(
            temperatures, sizes, model=self, n_runs=n_runs, n_steps=n_steps, seed=seed
        )


#: F = (T − 1)m² + m⁴: second order at T = 1, m* = √((1 − T)/2).
SECOND_ORDER = PlantedLandau(a=1.0, t0=1.0, quartic=1.0)
#: F = (T − 1)m² − m⁴ + m⁶: first order at T* = 1.25, |m| jumps from 1/√2 to 0.
FIRST_ORDER = PlantedLandau(a=1.0, t0=1.0, quartic=-1.0, sextic=1.0)


def _numerical_transition(model: PlantedLandau) -> float:
    """T* where the ordered and disordered minima have equal depth (bisection)."""
    grid = np.linspace(-3.0, 3.0, 60001)

    def ordered_wins(t: float) -> bool:
        values = model.free_energy(grid, t)
        return bool(abs(grid[np.argmin(values)]) > 1e-3)

    lo, hi = model.t0 - 10.0, model.t0 + 10.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ordered_wins(mid) else (lo, mid)
    return 0.5 * (lo + hi)


def _support(model: PlantedLandau, temperature: float, n: float) -> tuple[float, float]:
    """An interval outside which N·(F − min F) exceeds the tabulated log-range."""
    radius = 1.0
    for _ in range(60):
        grid = np.linspace(-radius, radius, 4001)
        excess = n * (
            model.free_energy(grid, temperature) - model.free_energy(grid, temperature).min()
        )
        if excess[0] > _LOG_RANGE and excess[-1] > _LOG_RANGE:
            inside = np.flatnonzero(excess <= _LOG_RANGE)
            step = grid[1] - grid[0]
            return grid[inside[0]] - 2 * step, grid[inside[-1]] + 2 * step
        radius *= 2.0
    raise DataError(f"the free energy is too flat to sample at T={temperature}, N={n}")


def planted_landau(
    temperatures: Sequence[float],
    sizes: Sequence[float],
    *,
    model: PlantedLandau = SECOND_ORDER,
    n_runs: int = 10,
    n_steps: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """Independent samples of m from P(m) ∝ exp(−N·F(m; T)).

    Parameters
    ----------
    temperatures
        Temperatures T (the control parameter).
    sizes
        Sizes N (the volume multiplying F).
    model
        The planted free energy (:data:`SECOND_ORDER`, :data:`FIRST_ORDER` or any
        :class:`PlantedLandau`).
    n_runs
        Runs per (T, N).
    n_steps
        Independent samples per run.
    seed
        Seed of the random generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id``, ``step``, ``temperature``, ``N``, ``m`` and ``energy``
        (F(m; T) of the sample).
    """
    temps = as_positive_array(temperatures, "temperatures")
    ns = as_positive_array(sizes, "sizes")
    runs = as_count(n_runs, "n_runs")
    steps = as_count(n_steps, "n_steps")
    rng = np.random.default_rng(seed)
    blocks = []
    for n in ns:
        for t in temps:
            lo, hi = _support(model, float(t), float(n))
            edges = np.linspace(lo, hi, _GRID_POINTS)
            centres = 0.5 * (edges[1:] + edges[:-1])
            log_p = -n * model.free_energy(centres, float(t))
            p = np.exp(log_p - log_p.max())
            cdf = np.concatenate([[0.0], np.cumsum(p)])
            draws = rng.random((runs, steps)) * cdf[-1]
            cell = np.clip(np.searchsorted(cdf, draws, side="right") - 1, 0, centres.size - 1)
            within = (draws - cdf[cell]) / p[cell]
            m = edges[cell] + within * (edges[1] - edges[0])
            blocks.append(
                {
                    "runs": runs,
                    "temperature": t,
                    "N": n,
                    "m": m,
                    "energy": model.free_energy(m, float(t)),
                }
            )
    return tidy_frame(blocks, steps)
