"""Landau polynomials and free-energy fits."""

from __future__ import annotations

import numpy as np
import pytest

from landaulab.analyze import CUBIC, FIELD, QUADRATIC, QUARTIC, SEXTIC, SYMMETRIC
from landaulab.datasets import SECOND_ORDER, planted_landau

from .conftest import run_analysis, within_errors


def test_terms_compose_in_any_order():
    polynomial = SEXTIC + QUADRATIC + QUARTIC
    assert polynomial == SYMMETRIC
    assert polynomial.names == ("a2", "a4", "a6")
    assert polynomial.is_even
    general = FIELD + CUBIC + QUADRATIC
    assert general.powers.tolist() == [1.0, 2.0, 3.0]
    assert not general.is_even
    assert str(QUADRATIC + QUARTIC) == "a2·m^2 + a4·m^4"
    assert (QUADRATIC + QUARTIC + SEXTIC).truncated(2).names == ("a2", "a4")


def test_evaluate_matches_the_formula():
    m = np.linspace(-1, 1, 5)
    values = SYMMETRIC.evaluate(m, np.array([-1.0, 0.5, 2.0]))
    np.testing.assert_allclose(values, -(m**2) + 0.5 * m**4 + 2 * m**6)


def test_planted_coefficients_and_curves(second_order_single_size_result):
    table = second_order_single_size_result.landau.coefficients
    assert second_order_single_size_result.landau.terms == ("a2", "a4", "a6")
    # a₂ = T − 1 across the range: a straight line with slope 1 through the fits
    slope, intercept = np.polyfit(table["control"], table["a2"], 1, w=1 / table["a2_stderr"])
    assert slope == pytest.approx(1.0, abs=0.1)
    assert -intercept / slope == pytest.approx(1.0, abs=0.03)
    curve = second_order_single_size_result.landau.curves[0]
    assert {"control", "size", "m", "measured", "fit"} <= set(curve)
    assert len(curve["m"]) == len(curve["measured"]) == len(curve["fit"]) > 5


def test_predicted_minimum_tracks_the_measured_order_parameter(second_order_single_size_result):
    table = second_order_single_size_result.table
    ordered = table[table["control"] <= 0.8]
    expected = np.sqrt((1.0 - ordered["control"]) / 2.0)
    np.testing.assert_allclose(ordered["m_star"], expected, atol=0.02)
    disordered = table[table["control"] >= 1.2]
    assert np.all(disordered["m_star"] < 0.05)


def test_non_symmetric_order_parameter_gets_odd_terms():
    frame = planted_landau(np.linspace(0.6, 1.4, 9), [500], n_runs=10, n_steps=60, seed=3)
    frame["m"] = frame["m"].abs() + 0.2
    result = run_analysis(frame, use_abs=False, size=None, n_bootstrap=50)
    assert "a1" in result.landau.terms and "a3" in result.landau.terms


def test_equal_depth_locates_the_first_order_transition(first_order_result):
    estimate = first_order_result.landau.equal_depth
    assert estimate is not None and estimate.method == "equal_depth"
    assert within_errors(estimate, 1.25)
    assert estimate.ci[1] - estimate.ci[0] < 0.05


def test_second_order_model_sanity():
    assert SECOND_ORDER.free_energy(0.5, 0.5) == pytest.approx(-0.5 * 0.25 + 0.0625)
