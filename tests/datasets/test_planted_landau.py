"""Planted Landau ensembles: known transitions and exact sampling of exp(−N·F)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from landaulab.datasets import FIRST_ORDER, SECOND_ORDER, PlantedLandau, planted_landau
from landaulab.errors import DataError


def test_second_order_model_known_answers():
    assert SECOND_ORDER.order == "second"
    assert SECOND_ORDER.transition_temperature == 1.0
    assert SECOND_ORDER.m_star(0.5) == pytest.approx(np.sqrt(0.5 / 2), abs=1e-4)
    assert SECOND_ORDER.m_star(1.2) == pytest.approx(0.0, abs=1e-4)
    assert SECOND_ORDER.jump == 0.0


def test_first_order_sextic_model_known_answers():
    assert FIRST_ORDER.order == "first"
    assert FIRST_ORDER.transition_temperature == pytest.approx(1.25)
    assert FIRST_ORDER.jump == pytest.approx(1 / np.sqrt(2))
    # just below T*: ordered at |m| = 1/√2; just above: disordered
    assert FIRST_ORDER.m_star(1.2499) == pytest.approx(1 / np.sqrt(2), abs=2e-3)
    assert FIRST_ORDER.m_star(1.2501) == pytest.approx(0.0, abs=1e-4)


def test_first_order_cubic_model_matches_derived_formula():
    model = PlantedLandau(a=2.0, t0=0.5, cubic=-1.0, quartic=1.0)
    t_star = 0.5 + 1.0 / (4 * 1.0 * 2.0)
    assert model.transition_temperature == pytest.approx(t_star)
    assert model.jump == pytest.approx(0.5)
    assert model.m_star(t_star - 1e-4) == pytest.approx(0.5, abs=2e-3)


def test_unbounded_free_energy_is_rejected():
    with pytest.raises(DataError):
        PlantedLandau(quartic=-1.0, sextic=0.0)


@pytest.mark.parametrize("model", [SECOND_ORDER, FIRST_ORDER])
def test_sampled_second_moment_matches_numerical_integral(model):
    n, t = 60.0, 1.1
    weight = lambda m: np.exp(-n * model.free_energy(m, t))  # noqa: E731
    norm = quad(weight, -3, 3, points=[0.0])[0]
    m2_exact = quad(lambda m: m**2 * weight(m), -3, 3, points=[0.0])[0] / norm
    frame = planted_landau([t], [n], model=model, n_runs=10, n_steps=400, seed=5)
    m2 = frame["m"].to_numpy() ** 2
    assert abs(m2.mean() - m2_exact) < 4 * m2.std() / np.sqrt(m2.size)


def test_frame_layout_and_determinism():
    a = planted_landau([0.9, 1.1], [100], n_runs=3, n_steps=5, seed=1)
    b = SECOND_ORDER.sample([0.9, 1.1], [100], n_runs=3, n_steps=5, seed=1)
    assert a.equals(b)
    assert list(a.columns) == ["run_id", "step", "temperature", "N", "m", "energy"]
    assert a["run_id"].nunique() == 6
    np.testing.assert_allclose(a["energy"], SECOND_ORDER.free_energy(a["m"], a["temperature"]))
