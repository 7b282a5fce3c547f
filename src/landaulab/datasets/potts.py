"""q-state Potts model on an L×L periodic square lattice, Swendsen–Wang cluster dynamics.

H = −Σ_⟨ij⟩ δ(sᵢ, sⱼ) with sᵢ ∈ {0, …, q − 1} (J = k_B = 1). Each Swendsen–Wang update
(Swendsen & Wang 1987, Phys. Rev. Lett. 58, 86; the Fortuin–Kasteleyn representation,
Fortuin & Kasteleyn 1972, Physica 57, 536) activates a bond between equal neighbouring spins
with probability p = 1 − exp(−1/T), labels the resulting clusters and gives every cluster a
new state drawn uniformly from the q states. All replicas (temperatures × runs) of one size
are labelled together as one large graph by ``scipy.sparse.csgraph`` (union–find in C), so a
sweep is a handful of vectorised numpy operations.

Exact results: the transition is at T_c = 1/ln(1 + √q) for every q (self-duality; Potts
1952; Baxter 1973, J. Phys. C 6, L445), continuous for q ≤ 4 and first order for q > 4
(Baxter 1973). The order parameter is m = (q·max_s n_s/N − 1)/(q − 1), which is 0 in the
disordered phase and 1 in the ground state. Critical exponents (den Nijs 1979; Nienhuis
1982; Wu 1982, Rev. Mod. Phys. 54, 235, Table 2): q = 2 (Ising) β = 1/8, γ = 7/4, ν = 1;
q = 3 β = 1/9, γ = 13/9, ν = 5/6; q = 4 β = 1/12, γ = 7/6, ν = 2/3 (with logarithmic
corrections). For q = 2 the model is the Ising model at T_Ising = 2T.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from landaulab.datasets._clusters import swendsen_wang_clusters
from landaulab.datasets._tidy import as_count, as_positive_array, tidy_frame
from landaulab.errors import DataError

#: Exact critical exponents of the 2D q-state Potts model (q ≤ 4; Wu 1982, Table 2).
EXPONENTS: dict[int, dict[str, float]] = {
    2: {"beta": 1 / 8, "gamma": 7 / 4, "nu": 1.0},
    3: {"beta": 1 / 9, "gamma": 13 / 9, "nu": 5 / 6},
    4: {"beta": 1 / 12, "gamma": 7 / 6, "nu": 2 / 3},
}


def critical_temperature(q: int) -> float:
    """T_c = 1/ln(1 + √q) of the 2D q-state Potts model with J = 1 (Baxter 1973)."""
    q = as_count(q, "q", minimum=2)
    return float(1.0 / np.log1p(np.sqrt(q)))


def order_parameter(spins: np.ndarray, q: int) -> np.ndarray:
    """m = (q·max_s n_s/N − 1)/(q − 1) of each lattice in a batch of shape (R, L, L)."""
    replicas = spins.shape[0]
    flat = spins.reshape(replicas, -1).astype(np.int64)
    offset = (flat + q * np.arange(replicas)[:, None]).ravel()
    counts = np.bincount(offset, minlength=replicas * q).reshape(replicas, q)
    fraction = counts.max(axis=1) / flat.shape[1]
    return (q * fraction - 1.0) / (q - 1.0)


def energy_per_spin(spins: np.ndarray) -> np.ndarray:
    """−(number of equal neighbouring pairs)/N of each lattice in a batch (R, L, L)."""
    equal = (spins == np.roll(spins, -1, axis=2)).sum(axis=(1, 2)) + (
        spins == np.roll(spins, -1, axis=1)
    ).sum(axis=(1, 2))
    return -equal / float(spins.shape[1] * spins.shape[2])


def swendsen_wang_potts_sweep(
    spins: np.ndarray, bond_probability: np.ndarray, q: int, rng: np.random.Generator
) -> np.ndarray:
    """One Swendsen–Wang update of a batch of independent q-state Potts lattices.

    Parameters
    ----------
    spins
        Integer array of shape (R, L, L) with entries in 0 … q − 1 (R replicas, L ≥ 3).
    bond_probability
        Shape (R,): 1 − exp(−1/T) for each replica.
    q
        Number of states.
    rng
        Random generator.

    Returns
    -------
    numpy.ndarray
        The updated spins (a new array of the same dtype).
    """
    n_clusters, labels = swendsen_wang_clusters(spins, bond_probability, rng)
    colour = rng.integers(0, q, size=n_clusters).astype(spins.dtype)
    return colour[labels].reshape(spins.shape)


def potts2d(
    temperatures: Sequence[float],
    sizes: Sequence[int],
    *,
    q: int = 3,
    n_runs: int = 8,
    n_sweeps: int = 200,
    seed: int = 0,
    start: str = "random",
) -> pd.DataFrame:
    """Swendsen–Wang time series of the 2D q-state Potts order parameter and energy.

    Parameters
    ----------
    temperatures
        Temperatures T (the control parameter); T_c = 1/ln(1 + √q).
    sizes
        Linear sizes L ≥ 3 (the lattice has L² spins).
    q
        Number of states (≥ 2; the transition is continuous for q ≤ 4).
    n_runs
        Independent runs (Markov chains) per (T, L).
    n_sweeps
        Recorded sweeps per run (one row each, starting after the first sweep); drop the
        first ones as burn-in when analysing.
    seed
        Seed of the random generator; the same arguments give the same frame.
    start
        ``"random"`` (infinite temperature) or ``"ordered"`` (all spins in state 0).

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id``, ``step``, ``temperature``, ``L``, ``volume`` (= L²), ``q``,
        ``m`` (the Potts order parameter, in [0, 1]) and ``energy`` (per spin).
    """
    temps = as_positive_array(temperatures, "temperatures")
    lengths = as_positive_array(sizes, "sizes")
    if np.any(lengths != np.round(lengths)) or np.any(lengths < 3):
        raise DataError(f"sizes must be whole numbers >= 3; got {lengths.tolist()}")
    states = as_count(q, "q", minimum=2)
    if states > 127:
        raise DataError(f"q must be at most 127; got {states}")
    runs = as_count(n_runs, "n_runs")
    sweeps = as_count(n_sweeps, "n_sweeps")
    if start not in {"random", "ordered"}:
        raise DataError(f"start must be 'random' or 'ordered'; got {start!r}")
    rng = np.random.default_rng(seed)
    blocks = []
    for length in lengths.astype(int):
        replicas = temps.size * runs
        shape = (replicas, length, length)
        if start == "random":
            spins = rng.integers(0, states, size=shape).astype(np.int8)
        else:
            spins = np.zeros(shape, dtype=np.int8)
        bond_probability = np.repeat(-np.expm1(-1.0 / temps), runs)
        m = np.empty((replicas, sweeps))
        energy = np.empty((replicas, sweeps))
        for sweep in range(sweeps):
            spins = swendsen_wang_potts_sweep(spins, bond_probability, states, rng)
            m[:, sweep] = order_parameter(spins, states)
            energy[:, sweep] = energy_per_spin(spins)
        for i, t in enumerate(temps):
            rows = slice(i * runs, (i + 1) * runs)
            blocks.append(
                {
                    "runs": runs,
                    "temperature": t,
                    "L": int(length),
                    "volume": int(length) ** 2,
                    "q": states,
                    "m": m[rows],
                    "energy": energy[rows],
                }
            )
    return tidy_frame(blocks, sweeps)
