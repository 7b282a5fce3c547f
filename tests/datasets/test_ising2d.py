"""2D Ising by Swendsen–Wang: checked against exact enumeration of a 4×4 lattice."""

from __future__ import annotations

import numpy as np
import pytest

from landaulab.datasets import ising2d
from landaulab.datasets.ising2d import CRITICAL_TEMPERATURE, swendsen_wang_sweep
from landaulab.errors import DataError


def _exact_4x4(temperature: float) -> dict[str, float]:
    states = ((np.arange(2**16)[:, None] >> np.arange(16)) & 1) * 2 - 1
    spins = states.reshape(-1, 4, 4)
    energy = -(spins * np.roll(spins, -1, 2) + spins * np.roll(spins, -1, 1)).sum(axis=(1, 2))
    m = spins.mean(axis=(1, 2))
    w = np.exp(-(energy - energy.min()) / temperature)
    w /= w.sum()
    return {"abs_m": float(w @ np.abs(m)), "energy": float(w @ energy) / 16}


def test_onsager_critical_temperature():
    assert CRITICAL_TEMPERATURE == pytest.approx(2.269185, abs=1e-6)


@pytest.mark.parametrize("temperature", [1.8, 2.3, 3.5])
def test_swendsen_wang_samples_the_boltzmann_distribution(temperature):
    rng = np.random.default_rng(0)
    replicas = 400
    spins = np.where(rng.random((replicas, 4, 4)) < 0.5, -1, 1).astype(np.int8)
    p = np.full(replicas, -np.expm1(-2.0 / temperature))
    for _ in range(20):
        spins = swendsen_wang_sweep(spins, p, rng)
    sweeps = []
    for _ in range(60):
        spins = swendsen_wang_sweep(spins, p, rng)
        s = spins.astype(float)
        e = -(s * np.roll(s, -1, 2) + s * np.roll(s, -1, 1)).sum(axis=(1, 2)) / 16
        sweeps.append((np.abs(s.mean(axis=(1, 2))).mean(), e.mean()))
    # replicas are independent chains: each sweep's replica average is one estimate;
    # errors from the spread over replicas at a single sweep (conservative: ×√(sweeps))
    values = np.array(sweeps)
    exact = _exact_4x4(temperature)
    s = spins.astype(float)
    se_m = np.abs(s.mean(axis=(1, 2))).std() / np.sqrt(replicas)
    assert abs(values[:, 0].mean() - exact["abs_m"]) < 4 * se_m
    e_last = -(s * np.roll(s, -1, 2) + s * np.roll(s, -1, 1)).sum(axis=(1, 2)) / 16
    assert abs(values[:, 1].mean() - exact["energy"]) < 4 * e_last.std() / np.sqrt(replicas)


def test_frame_layout_ordering_and_determinism():
    a = ising2d([1.5, 3.5], [6], n_runs=2, n_sweeps=30, seed=2)
    b = ising2d([1.5, 3.5], [6], n_runs=2, n_sweeps=30, seed=2)
    assert a.equals(b)
    assert list(a.columns) == ["run_id", "step", "temperature", "L", "volume", "m", "energy"]
    assert (a["volume"] == 36).all()
    late = a[a["step"] >= 15]
    cold = late[late["temperature"] == 1.5]["m"].abs().mean()
    hot = late[late["temperature"] == 3.5]["m"].abs().mean()
    assert cold > 0.9 > 0.5 > hot


def test_invalid_arguments():
    with pytest.raises(DataError):
        ising2d([2.0], [1])
    with pytest.raises(DataError):
        ising2d([2.0], [4], start="sideways")
