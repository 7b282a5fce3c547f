"""``AnalysisResult.from_dict(r.to_dict())`` gives back the same result, typed.

Results of real analyses (fixtures and synthetic data drawn by hypothesis) and results
built from hostile values (NaN, infinities, None, empty tables) must survive the JSON
round trip exactly, and their JSON must be strict (no NaN).
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landaulab.analyze import (
    AnalysisResult,
    CollapseResult,
    CriticalPoint,
    Estimate,
    Exponents,
    LandauResult,
    UniversalityResult,
)
from landaulab.analyze.field import CriticalIsotherm
from landaulab.analyze.hysteresis import HysteresisResult
from landaulab.analyze.temporal import TemporalResult
from landaulab.analyze.universality import Comparison, GinzburgWindow
from landaulab.datasets import FIRST_ORDER, SECOND_ORDER, curie_weiss, planted_landau

from ._sweeps import langevin_sweeps
from .conftest import run_analysis

FIXTURES = (
    "curie_weiss_result",
    "first_order_result",
    "second_order_single_size_result",
    "crossover_result",
)


def assert_round_trip(result: AnalysisResult) -> AnalysisResult:
    """The round trip is exact, the JSON strict; returns the reconstructed result."""
    payload = result.to_dict()
    text = json.dumps(payload, allow_nan=False)
    back = AnalysisResult.from_dict(json.loads(text))
    assert back.to_dict() == payload
    assert AnalysisResult.from_dict(back.to_dict()).to_dict() == payload
    return back


def assert_same_typed_attributes(result: AnalysisResult, back: AnalysisResult) -> None:
    """What a report reads from the object is there, with the same type and value."""
    assert back.order == result.order
    assert back.critical_point == result.critical_point
    assert back.critical_point_estimates == result.critical_point_estimates
    assert all(isinstance(e, CriticalPoint) for e in back.critical_point_estimates)
    assert back.exponents == result.exponents
    assert isinstance(back.exponents, Exponents)
    assert isinstance(back.landau, LandauResult)
    assert back.landau.terms == result.landau.terms
    assert back.landau.quadratic_zero == result.landau.quadratic_zero
    assert back.landau.equal_depth == result.landau.equal_depth
    pd.testing.assert_frame_equal(
        back.landau.coefficients, result.landau.coefficients, check_dtype=False
    )
    assert len(back.landau.curves) == len(result.landau.curves)
    assert isinstance(back.universality, UniversalityResult)
    assert back.universality.verdict == result.universality.verdict
    assert back.universality.binder_crossing == result.universality.binder_crossing
    assert back.evidence == result.evidence
    assert isinstance(back.table, pd.DataFrame)
    pd.testing.assert_frame_equal(back.table, result.table, check_dtype=False)
    assert (back.collapse is None) == (result.collapse is None)
    if result.collapse is not None:
        assert isinstance(back.collapse, CollapseResult)
        assert back.collapse.nu == result.collapse.nu
    assert (back.hysteresis is None) == (result.hysteresis is None)
    assert (back.temporal is None) == (result.temporal is None)
    assert (back.critical_isotherm is None) == (result.critical_isotherm is None)
    assert dict(back.not_estimable) == dict(result.not_estimable)
    assert dict(back.inputs) == dict(result.inputs)
    assert str(back) == str(result)


@pytest.mark.parametrize("name", FIXTURES)
def test_analyses_round_trip(name, request):
    result = request.getfixturevalue(name)
    assert_same_typed_attributes(result, assert_round_trip(result))


def test_hysteresis_and_temporal_parts_round_trip():
    frame = langevin_sweeps(
        FIRST_ORDER,
        np.linspace(0.9, 1.5, 7),
        size=2000,
        replicas=4,
        steps=400,
        dt=0.005,
        record_every=20,
        seed=1,
    )
    with warnings.catch_warnings():  # a few sparse groups leave their Landau fit out
        warnings.simplefilter("ignore")
        result = run_analysis(frame, direction_col="direction", n_bootstrap=50)
    back = assert_round_trip(result)
    assert isinstance(back.hysteresis, HysteresisResult)
    assert back.hysteresis.verdict == result.hysteresis.verdict
    np.testing.assert_array_equal(back.hysteresis.significant, result.hysteresis.significant)
    np.testing.assert_allclose(back.hysteresis.gap, result.hysteresis.gap)
    if result.temporal is not None:
        assert isinstance(back.temporal, TemporalResult)
        assert back.temporal.sentence() == result.temporal.sentence()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(["curie_weiss", "planted"]),
    n_sizes=st.integers(1, 2),
    n_controls=st.integers(3, 9),
    n_runs=st.integers(2, 6),
    use_abs=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_round_trip_of_synthetic_analyses(model, n_sizes, n_controls, n_runs, use_abs, seed):
    sizes = [200, 800][:n_sizes]
    if model == "curie_weiss":
        frame = curie_weiss(
            np.linspace(0.8, 1.2, n_controls), sizes, n_runs=n_runs, n_steps=30, seed=seed
        )
    else:
        frame = planted_landau(
            np.linspace(0.7, 1.3, n_controls),
            sizes,
            model=SECOND_ORDER,
            n_runs=n_runs,
            n_steps=30,
            seed=seed,
        )
    with warnings.catch_warnings():  # sparse synthetic data may warn (FewSamplesWarning)
        warnings.simplefilter("ignore")
        result = run_analysis(frame, use_abs=use_abs, n_bootstrap=20, seed=seed % 7)
    assert_same_typed_attributes(result, assert_round_trip(result))


# hostile values -------------------------------------------------------------------------

numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 1e300, math.nan, math.inf, -math.inf]),
    st.integers(-(2**40), 2**40),
)
finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
text = st.text(max_size=20)
pairs = st.one_of(st.none(), st.tuples(numbers, numbers))


def _estimate(value, ci, method):
    return Estimate(value, ci, method)


estimates = st.one_of(st.none(), st.builds(_estimate, numbers, pairs, st.one_of(st.none(), text)))
critical_points = st.builds(
    CriticalPoint, value=numbers, ci=pairs, method=st.one_of(st.none(), text), detail=text
)
#: Listed estimates also carry their validity (a reason only when not valid).
listed_points = st.builds(
    lambda point, reason: CriticalPoint(
        point.value, point.ci, point.method, point.detail, reason is None, reason or ""
    ),
    critical_points,
    st.one_of(st.none(), text),
)
arrays = st.lists(numbers, max_size=5).map(
    lambda xs: np.array([np.nan if x is None else x for x in xs], dtype=float)
)
curves = st.lists(
    st.fixed_dictionaries({"size": numbers, "x": st.lists(numbers, max_size=4)}), max_size=3
)
TABLE_COLUMNS = ("control", "size", "n_runs", "mean", "binder", "m_star")


@st.composite
def tables(draw, columns=TABLE_COLUMNS):
    n = draw(st.integers(0, 4))
    data = {c: [draw(numbers) for _ in range(n)] for c in columns}
    table = pd.DataFrame(data, columns=list(columns))
    return table.astype(float)


@st.composite
def landau_results(draw):
    terms = tuple(draw(st.lists(st.sampled_from(["a1", "a2", "a3", "a4"]), unique=True)))
    columns = ["control", "size"]
    for name in terms:
        columns += [name, f"{name}_stderr", f"{name}_ci_low", f"{name}_ci_high"]
    columns.append("m_star")
    return LandauResult(
        terms=terms,
        powers=tuple(int(name[1]) for name in terms),
        coefficients=draw(tables(tuple(columns))),
        quadratic_zero=draw(st.one_of(st.none(), critical_points)),
        equal_depth=draw(st.one_of(st.none(), critical_points)),
        curves=tuple(draw(curves)),
    )


comparisons = st.builds(
    Comparison,
    universality_class=text,
    quantity=st.sampled_from(["beta", "gamma", "binder_crossing"]),
    measured=numbers.map(lambda x: np.nan if x is None else float(x)),
    expected=finite,
    z=numbers.map(lambda x: np.nan if x is None else float(x)),
)
universality_results = st.builds(
    UniversalityResult,
    verdict=text,
    consistent_with_mean_field=st.booleans(),
    consistent_with=st.lists(text, max_size=2).map(tuple),
    binder_crossing=estimates,
    comparisons=st.lists(comparisons, max_size=3).map(tuple),
    ginzburg=st.one_of(
        st.none(),
        st.builds(
            GinzburgWindow,
            low=st.one_of(st.none(), finite),
            high=st.one_of(st.none(), finite),
            sentence=text,
        ),
    ),
    hyperscaling_dimension=estimates,
)
collapse_results = st.builds(
    CollapseResult,
    observable=st.just("rms"),
    critical_point=estimates,
    nu=estimates,
    ratio=estimates,
    ratio_name=text,
    quality=numbers.map(lambda x: np.nan if x is None else float(x)),
    curves=curves.map(tuple),
)


@st.composite
def hysteresis_results(draw):
    n = draw(st.integers(0, 4))
    column = st.lists(numbers, min_size=n, max_size=n).map(
        lambda xs: np.array([np.nan if x is None else x for x in xs], dtype=float)
    )
    window = draw(st.one_of(st.none(), st.tuples(finite, finite)))
    late = draw(st.one_of(st.none(), st.tuples(finite, finite, finite)))
    return HysteresisResult(
        directions=(draw(text), draw(text)),
        size=draw(finite),
        controls=draw(column),
        gap=draw(column),
        gap_stderr=draw(column),
        significant=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
        window=window,
        late_to_early=late,
        verdict=draw(st.sampled_from(["hysteresis", "finite-time", "none"])),
        sentence=draw(text),
    )


@st.composite
def temporal_results(draw):
    n = draw(st.integers(0, 3))
    runs = pd.DataFrame(
        {
            "run": list(range(n)),
            "control": [draw(finite) for _ in range(n)],
            "size": [draw(finite) for _ in range(n)],
            "has_jump": [draw(st.booleans()) for _ in range(n)],
            "before": [draw(numbers) for _ in range(n)],
            "after": [draw(numbers) for _ in range(n)],
            "onset": [draw(numbers) for _ in range(n)],
            "midpoint": [draw(numbers) for _ in range(n)],
            "end": [draw(numbers) for _ in range(n)],
            "width": [draw(numbers) for _ in range(n)],
        }
    )
    for name in ("before", "after", "onset", "midpoint", "end", "width"):
        runs[name] = runs[name].astype(float)
    groups = pd.DataFrame(
        {
            "control": [draw(finite) for _ in range(n)],
            "size": [draw(finite) for _ in range(n)],
            "n_runs": [1] * n,
            "jump_fraction": [draw(numbers) for _ in range(n)],
            "stages": [draw(st.lists(finite, max_size=2)) for _ in range(n)],
        }
    )
    groups["jump_fraction"] = groups["jump_fraction"].astype(float)
    return TemporalResult(runs=runs, groups=groups)


isotherms = st.builds(
    CriticalIsotherm,
    delta=estimates,
    fields=arrays,
    m=arrays,
    m_stderr=arrays,
    sentence=text,
    temperature=estimates,
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-100, 100), finite, text),
    lambda children: st.lists(children, max_size=3),
    max_leaves=5,
)
results = st.builds(
    AnalysisResult,
    order=st.sampled_from(["first", "second", "crossover", "none"]),
    critical_point=st.one_of(st.none(), critical_points),
    critical_point_estimates=st.lists(listed_points, max_size=3).map(tuple),
    exponents=st.builds(
        Exponents,
        beta=estimates,
        gamma=estimates,
        nu=estimates,
        beta_over_nu=estimates,
        gamma_over_nu=estimates,
        method=text,
        delta=estimates,
    ),
    landau=landau_results(),
    universality=universality_results,
    evidence=st.lists(text, max_size=3).map(tuple),
    table=tables(),
    collapse=st.one_of(st.none(), collapse_results),
    hysteresis=st.one_of(st.none(), hysteresis_results()),
    temporal=st.one_of(st.none(), temporal_results()),
    critical_isotherm=st.one_of(st.none(), isotherms),
    not_estimable=st.dictionaries(text, text, max_size=3),
    inputs=st.dictionaries(text, json_values, max_size=4),
    jump=estimates,
    latent_heat=estimates,
)


@settings(max_examples=150, deadline=None)
@given(results)
def test_hostile_results_round_trip(result):
    back = assert_round_trip(result)
    assert isinstance(back.table, pd.DataFrame)
    assert list(back.table.columns) == list(result.table.columns)
    assert back.critical_point == result.critical_point or (
        back.critical_point is not None and back.critical_point.value is None
    )
