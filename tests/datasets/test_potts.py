"""2D q-state Potts by Swendsen–Wang: energy distributions against exact enumeration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from landaulab.datasets import potts2d
from landaulab.datasets.ising2d import CRITICAL_TEMPERATURE as ISING_TC
from landaulab.datasets.potts import (
    critical_temperature,
    energy_per_spin,
    order_parameter,
    swendsen_wang_potts_sweep,
)
from landaulab.errors import DataError

LENGTH = 3


def _exact_energy_distribution(q: int, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """Bond counts −E = 0 … 2L² and their Boltzmann probabilities on the 3×3 torus."""
    sites = LENGTH * LENGTH
    states = (np.arange(q**sites)[:, None] // q ** np.arange(sites)) % q
    spins = states.reshape(-1, LENGTH, LENGTH)
    equal = -np.rint(energy_per_spin(spins) * sites).astype(int)
    levels = np.arange(2 * sites + 1)
    degeneracy = np.bincount(equal, minlength=levels.size)
    weight = degeneracy * np.exp((levels - levels.max()) / temperature)
    return levels, weight / weight.sum()


def _sampled_bonds(q: int, temperature: float, replicas: int, seed: int) -> np.ndarray:
    """−E of independent replicas after 30 sweeps from random starts (one sample each)."""
    rng = np.random.default_rng(seed)
    spins = rng.integers(0, q, size=(replicas, LENGTH, LENGTH)).astype(np.int8)
    p = np.full(replicas, -np.expm1(-1.0 / temperature))
    for _ in range(30):
        spins = swendsen_wang_potts_sweep(spins, p, q, rng)
    return -np.rint(energy_per_spin(spins) * LENGTH * LENGTH).astype(int)


def _chi_square_p(observed_levels: np.ndarray, probability: np.ndarray) -> float:
    """Pearson's χ² p-value, pooling levels with fewer than 5 expected counts into one."""
    n = observed_levels.size
    observed = np.bincount(observed_levels, minlength=probability.size)
    expected = n * probability
    rare = expected < 5
    obs = np.append(observed[~rare], observed[rare].sum())
    exp = np.append(expected[~rare], expected[rare].sum())
    keep = exp > 0
    statistic = float(np.sum((obs[keep] - exp[keep]) ** 2 / exp[keep]))
    return float(chi2.sf(statistic, keep.sum() - 1))


def test_critical_temperatures():
    assert critical_temperature(2) == pytest.approx(0.5 * ISING_TC, rel=1e-12)
    assert critical_temperature(3) == pytest.approx(0.994972861, rel=1e-8)
    assert critical_temperature(4) == pytest.approx(1.0 / np.log(3.0), rel=1e-12)


@pytest.mark.parametrize(("q", "temperature"), [(2, 1.0), (3, 0.9)])
def test_swendsen_wang_samples_the_exact_energy_distribution(q, temperature):
    # independent replicas: a χ² test at the 0.1 % level (fixed seed, so no flakes); the
    # same samples are rejected against the distribution 15 % warmer, so the test has power
    _, exact = _exact_energy_distribution(q, temperature)
    samples = _sampled_bonds(q, temperature, replicas=4000, seed=q)
    assert _chi_square_p(samples, exact) > 1e-3
    _, warmer = _exact_energy_distribution(q, 1.15 * temperature)
    assert _chi_square_p(samples, warmer) < 1e-3


def test_order_parameter_and_energy_of_simple_states():
    ground = np.zeros((1, 4, 4), dtype=np.int8)
    assert order_parameter(ground, 3)[0] == pytest.approx(1.0)
    assert energy_per_spin(ground)[0] == pytest.approx(-2.0)
    striped = (np.arange(4)[None, None, :] % 2 * np.ones((1, 4, 1))).astype(np.int8)
    # two states equally filled out of q = 4: max fraction 1/2 → m = (4/2 − 1)/3
    assert order_parameter(striped, 4)[0] == pytest.approx(1.0 / 3.0)
    assert energy_per_spin(striped)[0] == pytest.approx(-1.0)


def test_frame_layout_phases_and_determinism():
    tc = critical_temperature(3)
    a = potts2d([0.7 * tc, 1.5 * tc], [8], q=3, n_runs=2, n_sweeps=40, seed=4)
    b = potts2d([0.7 * tc, 1.5 * tc], [8], q=3, n_runs=2, n_sweeps=40, seed=4)
    assert a.equals(b)
    assert list(a.columns) == [
        "run_id", "step", "temperature", "L", "volume", "q", "m", "energy"
    ]  # fmt: skip
    late = a[a["step"] >= 20]
    cold = late[late["temperature"] < tc]["m"].mean()
    hot = late[late["temperature"] > tc]["m"].mean()
    assert cold > 0.9 and hot < 0.3
    assert a["m"].between(0, 1).all()


def test_bad_arguments_are_data_errors():
    with pytest.raises(DataError):
        potts2d([1.0], [2])
    with pytest.raises(DataError):
        potts2d([1.0], [4], q=1)
    with pytest.raises(DataError):
        potts2d([1.0], [4], start="cold")
