"""The JSON contract of an analysis and its readable summary."""

from __future__ import annotations

import json

import numpy as np
import pytest

from landaulab.analyze import AnalysisResult, CriticalPoint, Estimate, analyze
from landaulab.analyze.result import EXPONENT_NAMES, clean

ORDERS = {"first", "second", "crossover", "none"}


def check_contract(payload: dict) -> None:
    """Assert the public JSON keys and their types (shared with the hostile-input tests)."""
    text = json.dumps(payload, allow_nan=False)
    assert json.loads(text) == payload
    transition = payload["transition"]
    assert transition["order"] in ORDERS
    point = transition["critical_point"]
    if point is not None:
        assert set(point) == {"value", "ci", "method"}
        assert isinstance(point["value"], float)
    assert set(payload["exponents"]) == set(EXPONENT_NAMES)
    for value in payload["exponents"].values():
        assert value is None or set(value) == {"value", "ci"}
    assert isinstance(payload["landau"]["coefficients"], list)
    assert isinstance(payload["universality"]["verdict"], str)
    assert isinstance(payload["universality"]["consistent_with_mean_field"], bool)
    assert all(isinstance(s, str) for s in payload["evidence"])


def test_second_order_payload(curie_weiss_result):
    payload = curie_weiss_result.to_dict()
    check_contract(payload)
    assert payload["transition"]["order"] == "second"
    assert payload["transition"]["critical_point"]["ci"][0] < 1.0 + 0.05
    assert payload["exponents"]["beta"]["ci"][0] < payload["exponents"]["beta"]["ci"][1]
    coefficient = payload["landau"]["coefficients"][0]
    assert {"control", "size", "a2", "a4", "a6"} <= set(coefficient)
    assert set(coefficient["a2"]) == {"value", "stderr", "ci"}
    assert payload["universality"]["consistent_with_mean_field"] is True
    assert len(payload["table"]) == 22
    assert {"control", "size", "mean", "susceptibility", "binder", "n_runs"} <= set(
        payload["table"][0]
    )
    assert payload["collapse"]["curves"][0]["x"]


def test_first_order_payload(first_order_result):
    payload = first_order_result.to_dict()
    check_contract(payload)
    assert payload["transition"]["critical_point"]["method"] == "equal_depth"
    assert all(v is None for v in payload["exponents"].values())
    assert payload["universality"]["consistent_with_mean_field"] is False


def test_summary_is_readable(curie_weiss_result, first_order_result):
    text = str(curie_weiss_result)
    assert "second order" in text and "β =" in text and "evidence:" in text
    assert "first order" in str(first_order_result)
    assert "not estimable" in str(first_order_result)


def test_estimates_render_and_serialise():
    estimate = Estimate.from_replicates(1.0, np.linspace(0.5, 1.5, 1001))
    assert estimate.ci == pytest.approx((0.525, 1.475))
    assert str(estimate) == "1 [0.525, 1.475]"
    point = CriticalPoint(value=2.0, ci=(1.9, 2.1), method="binder_crossing", detail="sizes")
    assert point.to_dict() == {"value": 2.0, "ci": [1.9, 2.1], "method": "binder_crossing"}
    assert Estimate.from_replicates(float("nan"), np.ones(3)) is None
    assert clean({"a": np.float64("inf"), "b": (np.int64(1), np.bool_(True))}) == {
        "a": None,
        "b": [1, True],
    }


def test_same_seed_same_result(curie_weiss_frame):
    kwargs = {"order_parameter": "m", "control": "temperature", "size": "N", "use_abs": True}
    a = analyze(curie_weiss_frame, n_bootstrap=30, seed=5, **kwargs)
    b = analyze(
        curie_weiss_frame.sample(frac=1.0, random_state=1), n_bootstrap=30, seed=5, **kwargs
    )
    assert isinstance(a, AnalysisResult)
    assert a.to_dict() == b.to_dict()
