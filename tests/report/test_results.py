"""Views of results: every piece a report shows is read from the typed result's fields."""

from __future__ import annotations

import numpy as np
import pytest

from landaulab.analyze import AnalysisResult, analyze
from landaulab.dynamics import DynamicsResult, dynamics
from landaulab.report.results import read_analysis, read_dynamics
from tests.report.planted import first_order_frame, grokking_frame


@pytest.fixture(scope="module")
def analysis_result() -> AnalysisResult:
    frame = first_order_frame()
    return analyze(
        frame, order_parameter="m", control="temperature", size="N", use_abs=True, n_bootstrap=50
    )


@pytest.fixture(scope="module")
def dynamics_result() -> DynamicsResult:
    frame = grokking_frame()
    line = frame[frame["weight_decay"] == frame["weight_decay"].max()]
    return dynamics(line, order_parameter="test_accuracy", control="train_fraction", n_bootstrap=20)


def test_the_analysis_is_read_whole(analysis_result: AnalysisResult) -> None:
    view = read_analysis(analysis_result)
    data = analysis_result.to_dict()
    assert view.available and view.order == data["transition"]["order"]
    critical = data["transition"]["critical_point"]
    if critical is None:
        assert view.critical_point is None
    else:
        assert view.critical_point is not None
        assert view.critical_point.value == critical["value"]
        assert [view.critical_point.low, view.critical_point.high] == critical["ci"]
        assert view.critical_point.method == critical["method"]
    assert view.table is not None and len(view.table) == len(data["table"])
    assert {"control", "size", "mean", "susceptibility", "binder"} <= set(view.table.columns)
    # one free-energy curve per (control, size) group that could be fitted
    fitted = [c for c in data["landau"]["curves"] if c.get("m")]
    assert len(view.free_energy) == len(fitted)
    assert {(c.control, c.size) for c in view.free_energy} == {
        (c["control"], c["size"]) for c in fitted
    }
    names = set(data["landau"]["terms"])
    assert {row["name"] for row in view.coefficients} <= names
    assert view.evidence == data["evidence"]
    assert set(view.exponents) >= {"beta", "gamma", "nu", "beta_over_nu", "gamma_over_nu"}
    assert view.not_estimable == data["not_estimable"]


def test_the_dynamics_is_read_whole(dynamics_result: DynamicsResult) -> None:
    view = read_dynamics(dynamics_result)
    transitions = dynamics_result.transitions
    assert view.available and view.looked_for_transitions
    # the attractors mark the minima of the potential at their control value
    for curve in view.potentials:
        assert curve.minima == tuple(
            a["position"] for a in view.attractors if a["control"] == curve.control
        )
    assert len(view.transition_times) == len(transitions.transitions)
    assert sum(t.main for t in view.transition_times) == len(transitions.main)
    # one count of runs with a transition, the same as the dynamics' own
    assert view.n_with_transition == len(transitions.main)
    assert view.n_runs_checked == sum(c.n_runs for c in transitions.by_control)
    if transitions.laws is not None:
        assert view.law_verdict == transitions.laws.verdict
    assert view.evidence == list(dynamics_result.evidence)
    assert all(np.isfinite(r["value"]) for r in view.relaxation)


def test_missing_results_carry_their_reason() -> None:
    analysis = read_analysis(None, "too few runs")
    dynamics_view = read_dynamics(None, "too short")
    assert not analysis.available and analysis.error == "too few runs"
    assert not dynamics_view.available and dynamics_view.error == "too short"
    assert dynamics_view.n_with_transition == 0
