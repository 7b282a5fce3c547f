"""Random draws of planted systems, and the scorer, on stand-in results."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from landaulab.datasets.planted_landau import _numerical_transition
from landaulab.datasets.truth import FAMILIES, Planted, random_landau, resolve, score
from landaulab.estimate import Estimate


@pytest.mark.parametrize("family", ["field_scan", "landau", "deep_linear", "training_curves"])
def test_draws_are_deterministic_and_complete(family):
    a = FAMILIES[family](np.random.default_rng(7), quick=True)
    b = FAMILIES[family](np.random.default_rng(7), quick=True)
    assert a.frame.equals(b.frame) and a.description == b.description
    for column in ("order_parameter", "control", "size", "field", "volume", "time_col"):
        if column in a.options:
            assert a.options[column] in a.frame.columns
    assert a.intervals or a.runs is not None
    assert np.all(np.isfinite(a.frame[a.options["order_parameter"]]))


def test_landau_draws_plant_the_equal_depth_point():
    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(12):
        planted = FAMILIES["landau"](rng, quick=True)
        seen.add(planted.group)
        t_star = planted.intervals["critical_point"]
        controls = planted.frame[planted.options["control"]]
        assert controls.min() < t_star < controls.max()
    assert seen == {"landau second", "landau cubic", "landau sextic"}


def _planted(**changes) -> Planted:
    base = Planted(
        family="x",
        group="x",
        description="",
        frame=pd.DataFrame(),
        options={},
        intervals={"critical_point": 1.0, "exponents.beta": 0.5},
        order="second",
        universality=(("mean",),),
    )
    return Planted(**{**base.__dict__, **changes})


def test_score_reads_intervals_order_and_classes():
    result = SimpleNamespace(
        order="second",
        critical_point=Estimate(1.01, (0.98, 1.03)),
        exponents=SimpleNamespace(beta=Estimate(0.7, None)),
        universality=SimpleNamespace(
            consistent_classes=("mean field", "2D Ising"), best=SimpleNamespace(name="2D Ising")
        ),
    )
    s = score(_planted(), result)
    assert s.covered == {"critical_point": True, "exponents.beta": False}
    assert s.missing == ("exponents.beta",)
    assert s.errors["critical_point"] == pytest.approx(0.01)
    assert s.order_right is True
    assert s.class_consistent is True and s.class_best is False
    # a result that does not name classes: no class verdict
    bare = SimpleNamespace(order="first", universality=SimpleNamespace(verdict="..."))
    s = score(_planted(), bare)
    assert s.order_right is False and s.class_consistent is None and s.class_best is None
    assert s.covered == {"critical_point": False, "exponents.beta": False}


def test_score_counts_recalled_misplaced_and_false_main_transitions():
    runs = pd.DataFrame(
        {
            "midpoint": [10.0, 20.0, 30.0, np.nan, np.nan],
            "onset": [5.0, 15.0, 25.0, np.nan, np.nan],
            "end": [15.0, 25.0, 35.0, np.nan, np.nan],
            "width": [1.0, 1.0, 1.0, np.nan, np.nan],
        }
    )
    main = (
        SimpleNamespace(run=0, time=11.0),  # recalled, 1 width off
        SimpleNamespace(run=1, time=40.0),  # misplaced
        SimpleNamespace(run=4, time=3.0),  # false main in a null run
    )
    result = SimpleNamespace(transitions=SimpleNamespace(main=main, by_control=()))
    s = score(_planted(intervals={}, order=None, runs=runs), result)
    assert s.recalled == (1, 3) and s.misplaced == 1 and s.false_main == (1, 2)
    assert s.time_errors == pytest.approx((1.0,))
    assert resolve(result, "transitions.by_control.0.median") is None


def test_random_landau_transition_points_are_the_equal_depth_points():
    # the closed forms T* = T₀ + b²/(4ac) against bisection on the polynomial itself
    rng = np.random.default_rng(11)
    kinds = set()
    for _ in range(9):
        model, kind = random_landau(rng)
        kinds.add(kind)
        if kind == "second":
            assert model.order == "second" and model.transition_temperature == model.t0
            continue
        assert model.order == "first"
        assert model.transition_temperature == pytest.approx(_numerical_transition(model), abs=1e-3)
    assert kinds == {"second", "cubic", "sextic"}
