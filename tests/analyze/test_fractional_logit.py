"""The fractional logit (Papke & Wooldridge 1996) with Firth's penalty (Firth 1993),
fitted for many bootstrap replicates at once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landaulab.analyze.fractional_logit import fit_fractional_logit


def _expit(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def test_planted_bernoulli_curve_is_recovered_within_its_standard_errors() -> None:
    """Bernoulli draws from logit p = −2 + 4x: the estimate lies within 4 standard
    errors of the truth, the errors from the Fisher information at the truth."""
    a, b = -2.0, 4.0
    x = np.linspace(0.0, 1.0, 4000)
    p = _expit(a + b * x)
    info = np.array(
        [[np.sum(p * (1 - p)), np.sum(p * (1 - p) * x)], [0.0, np.sum(p * (1 - p) * x * x)]]
    )
    info[1, 0] = info[0, 1]
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    for seed in range(5):
        y = (np.random.default_rng(seed).random(x.size) < p).astype(float)
        fit = fit_fractional_logit(x, y)
        assert fit.converged[0]
        assert abs(fit.intercept[0] - a) < 4 * se[0]
        assert abs(fit.slope[0] - b) < 4 * se[1]


def test_fractions_on_the_curve_give_the_curve_back() -> None:
    """Responses equal to the mean curve itself (fractions, no noise): the quasi-
    likelihood's root is the curve; Firth's penalty moves it by O(1/n)."""
    x = np.linspace(-1.0, 1.0, 2001)
    y = _expit(0.3 + 5.0 * x)
    fit = fit_fractional_logit(x, y)
    assert fit.intercept[0] == pytest.approx(0.3, abs=0.01)
    assert fit.slope[0] == pytest.approx(5.0, rel=0.01)
    assert fit.crossing(0.5)[0] == pytest.approx(-0.06, abs=0.003)


def test_case_weights_equal_repeated_cases() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, 40)
    y = rng.uniform(0, 1, 40)
    counts = rng.integers(0, 4, size=(3, 40)).astype(float)
    together = fit_fractional_logit(x, y, counts)
    for k in range(3):
        idx = np.repeat(np.arange(40), counts[k].astype(int))
        alone = fit_fractional_logit(x[idx], y[idx])
        assert together.intercept[k] == pytest.approx(alone.intercept[0], abs=1e-7)
        assert together.slope[k] == pytest.approx(alone.slope[0], abs=1e-7)


def test_separated_responses_give_a_finite_crossing_inside_the_gap() -> None:
    """All zeros below 0.45, all ones above 0.47 (a sharp jump, few seeds): the
    unpenalised estimate diverges; Firth's stays finite, crossing in the gap."""
    x = np.repeat([0.40, 0.43, 0.45, 0.47, 0.50, 0.53], 4)
    y = (x > 0.46).astype(float)
    fit = fit_fractional_logit(x, y)
    assert fit.converged[0] and np.isfinite(fit.slope[0]) and fit.slope[0] > 0
    assert 0.45 < fit.crossing(0.5)[0] < 0.47


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="responses"):
        fit_fractional_logit(np.array([0.0, 1.0]), np.array([0.0, 2.0]))
    with pytest.raises(ValueError, match="finite"):
        fit_fractional_logit(np.array([0.0, np.nan]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="weights"):
        fit_fractional_logit(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.ones((2, 3)))
    with pytest.raises(ValueError, match="level"):
        fit_fractional_logit(np.array([0.0, 1.0]), np.array([0.0, 1.0])).crossing(1.0)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.floats(-1e3, 1e3, allow_nan=False),
            st.floats(0.0, 1.0, allow_nan=False),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_any_finite_input_gives_finite_coefficients(data: list[tuple[float, float, int]]) -> None:
    """Constant x, constant y, one case, zero weights, huge x: never an exception,
    never a NaN or infinite coefficient."""
    x = np.array([d[0] for d in data])
    y = np.array([d[1] for d in data])
    w = np.array([[float(d[2]) for d in data], [1.0] * len(data)])
    fit = fit_fractional_logit(x, y, w)
    assert np.isfinite(fit.intercept).all() and np.isfinite(fit.slope).all()
