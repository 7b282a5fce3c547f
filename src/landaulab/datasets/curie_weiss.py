"""Curie–Weiss (mean-field Ising) model, sampled exactly through its total magnetisation.

With N spins, coupling J = 1 and field h, the energy is H = −M²/(2N) − hM with
M = Σ sᵢ, so the distribution of M is known in closed form:

    P(M) ∝ C(N, (N + M)/2) · exp(M²/(2NT) + hM/T),   M = −N, −N + 2, …, N.

Drawing M from this distribution gives independent equilibrium samples with no Markov
chain at all. At h = 0 the model has a second-order transition at T_c = 1 with mean-field
exponents β = 1/2, γ = 1, δ = 3 and Binder crossing U* = 1 − Γ(1/4)²/(12 Γ(3/4)²) ≈ 0.2705
(Kac 1968; see also Brankov, Danchev & Tonchev 2000, "Theory of Critical Phenomena in
Finite-Size Systems"; finite-size scaling of the Binder cumulant: Binder 1981,
Z. Phys. B 43, 119). With h ≠ 0 there is no transition: m changes smoothly (a crossover).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import gammaln

from landaulab.datasets._tidy import as_count, as_positive_array, tidy_frame
from landaulab.errors import DataError

#: Critical temperature of the Curie–Weiss model (J = 1, h = 0).
CRITICAL_TEMPERATURE = 1.0
#: Binder cumulant at T_c for N → ∞: 1 − Γ(1/4)² / (12 Γ(3/4)²).
BINDER_CROSSING = float(1.0 - np.exp(2 * gammaln(0.25) - 2 * gammaln(0.75)) / 12.0)


def magnetisation_distribution(
    n_spins: int, temperature: float, field: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Exact distribution of the magnetisation per spin m = M/N.

    Parameters
    ----------
    n_spins
        Number of spins N.
    temperature
        Temperature T > 0 (J = k_B = 1).
    field
        External field h.

    Returns
    -------
    m, probability
        The N + 1 possible values of m and their probabilities (summing to one).
    """
    n = as_count(n_spins, "n_spins")
    t = float(as_positive_array(temperature, "temperature")[0])
    up = np.arange(n + 1, dtype=float)
    total = 2.0 * up - n
    log_weight = (
        gammaln(n + 1.0)
        - gammaln(up + 1.0)
        - gammaln(n - up + 1.0)
        + total**2 / (2.0 * n * t)
        + float(field) * total / t
    )
    log_weight -= log_weight.max()
    probability = np.exp(log_weight)
    probability /= probability.sum()
    return total / n, probability


def exact_moments(n_spins: int, temperature: float, field: float = 0.0) -> dict[str, float]:
    """Exact ensemble moments at one (N, T): ⟨m⟩, ⟨|m|⟩, ⟨m²⟩, ⟨m⁴⟩, susceptibility, Binder.

    The susceptibility is N·(⟨m²⟩ − ⟨|m|⟩²) (the finite-size form used with |m|) and the
    Binder cumulant is 1 − ⟨m⁴⟩/(3⟨m²⟩²).
    """
    m, p = magnetisation_distribution(n_spins, temperature, field)
    m1 = float(np.sum(p * m))
    mabs = float(np.sum(p * np.abs(m)))
    m2 = float(np.sum(p * m**2))
    m4 = float(np.sum(p * m**4))
    return {
        "mean": m1,
        "mean_abs": mabs,
        "m2": m2,
        "m4": m4,
        "susceptibility_abs": n_spins * (m2 - mabs**2),
        "binder": 1.0 - m4 / (3.0 * m2**2),
    }


def curie_weiss(
    temperatures: Sequence[float],
    sizes: Sequence[int],
    *,
    n_runs: int = 10,
    n_steps: int = 100,
    field: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Independent equilibrium samples of the Curie–Weiss magnetisation.

    Parameters
    ----------
    temperatures
        Temperatures T (the control parameter).
    sizes
        Numbers of spins N (the size; also the volume).
    n_runs
        Runs (independent chains of samples) per (T, N).
    n_steps
        Samples per run; every step is an independent exact draw.
    field
        External field h (0 for the phase transition, ≠ 0 for a smooth crossover).
    seed
        Seed of the random generator; the same arguments give the same frame.

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id``, ``step``, ``temperature``, ``N``, ``m`` (magnetisation per spin,
        signed) and ``energy`` (per spin, −m²/2 − h·m).
    """
    temps = as_positive_array(temperatures, "temperatures")
    ns = as_positive_array(sizes, "sizes")
    if np.any(ns != np.round(ns)):
        raise DataError(f"sizes must be whole numbers of spins; got {ns.tolist()}")
    runs = as_count(n_runs, "n_runs")
    steps = as_count(n_steps, "n_steps")
    rng = np.random.default_rng(seed)
    blocks = []
    for n in ns.astype(int):
        for t in temps:
            m_values, p = magnetisation_distribution(int(n), float(t), field)
            cdf = np.cumsum(p)
            draws = rng.random((runs, steps)) * cdf[-1]
            m = m_values[np.minimum(np.searchsorted(cdf, draws, side="right"), n)]
            blocks.append(
                {
                    "runs": runs,
                    "temperature": t,
                    "N": int(n),
                    "m": m,
                    "energy": -0.5 * m**2 - float(field) * m,
                }
            )
    return tidy_frame(blocks, steps)
