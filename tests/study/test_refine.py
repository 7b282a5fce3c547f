"""Adaptive refinement: boundaries located to ± tolerance with far fewer runs than a grid.

The tasks here are analytic order parameters with per-step Gaussian noise, so the
crossing of every threshold is known exactly. The noise allowance of each check is
derived from the statistics: a point's ensemble mean has standard error
σ / sqrt(seeds · averaged steps); a point can only be put in the wrong phase within
``3·SE / slope`` of the true crossing, which is what the checks allow beyond the
located interval.
"""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landaulab.analyze.boundary import (
    ensemble,
    level_brackets,
    run_late_value,
    susceptibility_bracket,
)
from landaulab.cli import main
from landaulab.errors import DataError, LandaulabError, SpecError
from landaulab.record.context import RunContext
from landaulab.spec import parse_spec
from landaulab.store import Store
from landaulab.study.refine import (
    Axis,
    BoundaryPoint,
    RefinementReport,
    SampledPoint,
    refine,
)

MODULE = "tests.study.test_refine"
STEPS = 20
NOISE = 0.02
BURN_IN = 0.5  # drop the first half of the steps: 11 logged values per run


# ------------------------------------------------------------------ analytic tasks
def _noise(ctx: RunContext, *keys: float) -> np.random.Generator:
    salt = [round(abs(k) * 1e9) for k in keys]
    return np.random.default_rng([ctx.seed, *salt])


def crossover(ctx: RunContext) -> None:
    """m = 1 / (1 + exp((T − T_c(h)) / w)) + noise, with T_c(h) = T_c + slope·h."""
    p = ctx.params
    temperature, h = float(p["temperature"]), float(p.get("field", 0.0))
    critical = p["critical"] + p.get("boundary_slope", 0.0) * h
    m = 1.0 / (1.0 + math.exp((temperature - critical) / p["width"]))
    rng = _noise(ctx, temperature, h)
    for step in range(STEPS + 1):
        if ctx.due(step):
            ctx.log(step, m=m + p["noise"] * rng.standard_normal())


def landau(ctx: RunContext) -> None:
    """Mean-field order parameter m = sqrt(max(1 − T/T_c, 0)) + noise (β = 1/2)."""
    p = ctx.params
    temperature = float(p["temperature"])
    m = math.sqrt(max(1.0 - temperature / p["critical"], 0.0))
    rng = _noise(ctx, temperature)
    for step in range(STEPS + 1):
        if ctx.due(step):
            ctx.log(step, m=m + p["noise"] * rng.standard_normal())


def fluctuating(ctx: RunContext) -> None:
    """Seed-to-seed spread σ(T) peaking at T_c; the seed's draw z is the same at every T
    (common random numbers), so χ(T) ∝ σ(T)² exactly."""
    p = ctx.params
    temperature = float(p["temperature"])
    z = np.random.default_rng(ctx.seed).standard_normal()
    sigma = 0.02 + 0.3 * math.exp(-(((temperature - p["critical"]) / 0.05) ** 2))
    for step in range(STEPS + 1):
        if ctx.due(step):
            ctx.log(step, m=0.5 + sigma * z)


def _spec(task: str, seeds: int = 2, extra: str = "", controls: str = "") -> str:
    return f"""
name = "refine-test"
task = "{MODULE}:{task}"
seeds = {seeds}
[settings]
steps = {STEPS}
critical = 0.37
width = 0.01
noise = {NOISE}
{extra}
[controls]
{controls or "temperature = {start = 0.0, stop = 1.0, num = 5}"}
[record]
every = 1
"""


def _slack(slope: float, seeds: int = 2) -> float:
    """Distance from a crossing inside which a point can be put in the wrong phase."""
    averaged = STEPS // 2 + 1
    standard_error = NOISE / math.sqrt(seeds * averaged)
    return 3 * standard_error / slope


def _run(spec_text: str, store: Path, **kwargs: object):
    return refine(
        parse_spec(spec_text),
        store=store,
        order_parameter="m",
        executor="serial",
        burn_in=BURN_IN,
        progress=False,
        **kwargs,
    )


# ------------------------------------------------------------------------ 1D level
def test_crossover_located_to_tolerance_with_a_fraction_of_the_grid(tmp_path: Path) -> None:
    tolerance = 0.005
    report = _run(_spec("crossover"), tmp_path / "s", tolerance=tolerance, threshold=0.5)
    critical, slack = 0.37, _slack(slope=1 / (4 * 0.01))
    (boundary,) = report.boundaries
    assert boundary.resolved and boundary.half_width <= tolerance
    assert boundary.lower - slack <= critical <= boundary.upper + slack
    assert abs(boundary.estimate - critical) <= tolerance + slack
    assert boundary.ordered_side == "below"  # m ≈ 1 at low temperature
    # A uniform grid of the same resolution: the coarse spacing 0.25 halved until ≤ 2·tol.
    assert report.grid_runs == 2 * (4 * 32 + 1)
    assert report.runs == len(Store(tmp_path / "s").run_ids())
    assert report.runs <= report.grid_runs / 4
    assert report.rounds == 6  # coarse + five bisections: 0.25 / 2**5 ≤ 2·tol


def test_refined_bracket_is_the_uniform_grids_bracket(tmp_path: Path) -> None:
    # Every refinement point lies on the dyadic grid, so running that grid into the same
    # store reuses them, and the grid's own crossing must be the refined bracket.
    report = _run(_spec("crossover"), tmp_path / "s", tolerance=0.02, threshold=0.5)
    (boundary,) = report.boundaries
    assert report.grid_runs == 2 * 33
    grid = _spec("crossover", controls="temperature = {start = 0.0, stop = 1.0, num = 33}")
    from landaulab.execute import sweep

    outcome = sweep(parse_spec(grid), store=tmp_path / "s", executor="serial", progress=False)
    assert outcome.outcomes["skipped"] == report.runs  # all refinement runs were grid runs
    frame = Store(tmp_path / "s").frame()
    late = frame[frame["step"] >= STEPS // 2].groupby("temperature")["m"].mean()
    above = late.to_numpy() > 0.5
    change = int(np.flatnonzero(above[:-1] != above[1:])[0])
    assert late.index[change] == boundary.lower
    assert late.index[change + 1] == boundary.upper


def test_continuous_transition_half_height_and_onset(tmp_path: Path) -> None:
    critical, tolerance = 0.6, 0.005
    spec = _spec("landau", extra="", controls="temperature = {start = 0.0, stop = 1.0, num = 5}")
    spec = spec.replace("critical = 0.37", f"critical = {critical}")
    # By default the critical point: m vanishes at T_c, crossing a level just above the
    # disordered side's noise floor (≈ 3 standard deviations of a run's late mean).
    default = _run(spec, tmp_path / "s", tolerance=tolerance)
    (boundary,) = default.boundaries
    assert default.located == boundary.located == "vanishing_point"
    t = default.threshold
    assert t is not None and 0 < t < 10 * NOISE / math.sqrt(STEPS // 2 + 1)
    slack = _slack(1 / (2 * critical * t))
    assert boundary.lower - slack <= critical * (1 - t * t) <= boundary.upper + slack
    assert boundary.lower - slack <= critical <= boundary.upper + slack
    half = _run(spec, tmp_path / "s", tolerance=tolerance, level=0.5)
    assert half.located == "level"
    (boundary,) = half.boundaries
    # Half height of the coarse plateaus: m crosses t at T = T_c (1 − t²).
    t = half.threshold
    assert t is not None and 0.45 < t < 0.55
    expected = critical * (1 - t * t)
    slope = 1 / (2 * critical * t)
    assert boundary.lower - _slack(slope) <= expected <= boundary.upper + _slack(slope)
    # The onset: a threshold just above the disordered value puts the boundary at T_c.
    onset = _run(spec, tmp_path / "s", tolerance=tolerance, threshold=0.05)
    (boundary,) = onset.boundaries
    near = critical * (1 - 0.05**2)
    slack = _slack(1 / (2 * critical * 0.05))
    assert boundary.lower - slack <= near <= boundary.upper + slack
    assert abs(boundary.estimate - critical) <= tolerance + critical * 0.05**2 + slack


def test_first_seeds_decide_clear_points_and_the_rest_train_where_in_doubt(
    tmp_path: Path,
) -> None:
    tolerance = 0.005
    spec = _spec("crossover", seeds=4)
    some = _run(spec, tmp_path / "s", tolerance=tolerance, threshold=0.5, first_seeds=2)
    critical = 0.37
    (boundary,) = some.boundaries
    assert boundary.resolved and boundary.half_width <= tolerance
    slack = _slack(slope=1 / (4 * 0.01))
    assert boundary.lower - slack <= critical <= boundary.upper + slack
    # m is within 0.1 of a plateau (clear: 0.4 of the range from the threshold 0.5)
    # farther than w·ln 9 ≈ 0.022 from T_c; noise adds a few σ of one step's value
    near = 0.01 * math.log(9) + 4 * NOISE * 0.04
    for point in some.points:
        if abs(point.value - critical) > near + 0.01:
            assert point.members == 2, point
        if abs(point.value - critical) < 0.01 * math.log(9) - 0.01:
            assert point.members == 4, point
    assert any(p.members == 4 for p in some.points)
    assert some.runs == sum(p.members for p in some.points) < 4 * len(some.points)
    # a seed's run is the same run: a refinement with every seed trains only the others
    every = _run(spec, tmp_path / "s", tolerance=tolerance, threshold=0.5)
    assert every.trained == every.runs - _shared(some, every) > 0
    with pytest.raises(LandaulabError, match="first_seeds=0"):
        _run(spec, tmp_path / "s", threshold=0.5, first_seeds=0)
    with pytest.raises(LandaulabError, match="susceptibility"):
        _run(spec, tmp_path / "s", criterion="susceptibility", first_seeds=2)


def _shared(a: RefinementReport, b: RefinementReport) -> int:
    """Runs of ``a`` at points ``b`` also sampled."""
    at = {p.value for p in b.points}
    return sum(p.members for p in a.points if p.value in at)


def test_no_transition_in_range_is_said_plainly(tmp_path: Path) -> None:
    spec = _spec("crossover").replace("critical = 0.37", "critical = 3.0")
    report = _run(spec, tmp_path / "s", tolerance=0.01, threshold=0.5)
    assert report.boundaries == ()
    ((row, reason),) = report.no_boundary
    assert row == {} and "no transition found" in reason and "above 0.5" in reason
    assert report.rounds == 1 and report.runs == 10
    assert "no transition found" in str(report)


# ----------------------------------------------------------------------------- 2D
def test_two_controls_trace_the_boundary_line(tmp_path: Path) -> None:
    controls = (
        "temperature = {start = 0.0, stop = 1.0, num = 5}\n"
        "field = {start = 0.0, stop = 1.0, num = 3}"
    )
    spec = _spec("crossover", extra="boundary_slope = 0.4", controls=controls)
    tolerance = 0.005
    report = _run(spec, tmp_path / "s", tolerance=tolerance, threshold=0.5)
    assert report.along == "temperature" and report.across == "field"
    assert len(report.boundaries) == 3
    slack = _slack(slope=1 / (4 * 0.01))
    for boundary in report.boundaries:
        h = boundary.row["field"]
        critical = 0.37 + 0.4 * h
        assert boundary.lower - slack <= critical <= boundary.upper + slack, boundary
        assert boundary.half_width <= tolerance
    assert report.runs <= report.grid_runs / 3
    assert "field = 0.5: temperature = " in str(report)


def test_resumed_refinement_trains_nothing_twice_and_decides_the_same(tmp_path: Path) -> None:
    spec = _spec("crossover")
    partial = _run(spec, tmp_path / "a", tolerance=0.005, threshold=0.5, max_rounds=2)
    assert partial.rounds == 3 and not partial.resolved
    resumed = _run(spec, tmp_path / "a", tolerance=0.005, threshold=0.5)
    fresh = _run(spec, tmp_path / "b", tolerance=0.005, threshold=0.5)
    assert resumed.boundaries == fresh.boundaries
    assert resumed.trained == fresh.runs - partial.runs
    assert set(Store(tmp_path / "a").run_ids()) == set(Store(tmp_path / "b").run_ids())
    again = _run(spec, tmp_path / "a", tolerance=0.005, threshold=0.5)
    assert again.trained == 0 and again.boundaries == fresh.boundaries


# ------------------------------------------------------------------ susceptibility
def test_susceptibility_peak_located(tmp_path: Path) -> None:
    spec = _spec("fluctuating", seeds=6)
    report = _run(spec, tmp_path / "s", tolerance=0.005, criterion="susceptibility")
    (boundary,) = report.boundaries
    assert boundary.lower <= 0.37 <= boundary.upper
    assert boundary.half_width <= 0.005 and abs(boundary.estimate - 0.37) <= 0.005
    assert report.threshold is None and report.runs <= report.grid_runs / 4


# -------------------------------------------------------------------- bad requests
@pytest.mark.parametrize(
    ("controls", "kwargs", "error", "words"),
    [
        ("temperature = [0.1, 0.2]\nfield = [0.0, 1.0]\nwidth2 = [1, 2]", {}, SpecError, "two"),
        ("temperature = [0.5]", {}, SpecError, "one or two swept"),
        ('temperature = ["hot", "cold"]', {}, SpecError, "not numeric"),
        ("temperature = [0.1, 0.9]", {"tolerance": -1.0}, LandaulabError, "tolerance"),
        ("temperature = [0.1, 0.9]", {"points_per_round": 2}, LandaulabError, "2^k - 1"),
        ("temperature = [0.1, 0.9]", {"level": 1.5}, LandaulabError, "level"),
        ("temperature = [0.1, 0.9]", {"along": "field"}, LandaulabError, "not a swept"),
        ("temperature = [0.1, 0.9]", {"criterion": "susceptibility"}, SpecError, "two seeds"),
    ],
)
def test_bad_requests_are_refused_in_one_line(
    tmp_path: Path, controls: str, kwargs: dict, error: type, words: str
) -> None:
    seeds = 1 if kwargs.get("criterion") else 2
    with pytest.raises(error) as info:
        _run(_spec("crossover", seeds=seeds, controls=controls), tmp_path / "s", **kwargs)
    assert words in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "s").exists()  # refused before anything was written


def test_order_parameter_not_recorded(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"do not record 'q'.*they record: m"):
        refine(
            parse_spec(_spec("crossover")),
            store=tmp_path / "s",
            order_parameter="q",
            executor="serial",
            progress=False,
        )


def test_cli_refine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(_spec("crossover"))
    store = tmp_path / "s"
    args = ["sweep", str(spec), "--store", str(store), "--executor", "serial", "--quiet"]
    assert main([*args, "--refine", "m", "--tolerance", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "boundary along temperature where m crosses" in out and f"store: {store}" in out
    assert main([*args, "--refine", "accuracy"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "accuracy" in err and "\n" not in err


# -------------------------------------------------------------- pieces, hostile input
finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=32)


@settings(max_examples=150, deadline=None)
@given(
    means=st.lists(finite_or_not, min_size=0, max_size=30),
    threshold=st.floats(-10, 10),
    error=st.one_of(st.none(), st.floats(0, 5), st.just(math.nan)),
)
def test_level_brackets_bracket_a_crossing(
    means: list[float], threshold: float, error: float | None
) -> None:
    positions = [Fraction(i) for i in range(len(means))]
    values = [0.1 * i for i in range(len(means))]
    errors = [error] * len(means)
    brackets = level_brackets(positions, values, means, threshold, errors)
    for bracket in brackets:
        assert bracket.lower < bracket.upper
        lo, hi = int(bracket.lower), int(bracket.upper)
        assert math.isfinite(means[lo]) and math.isfinite(means[hi])
        assert (means[lo] > threshold) != (means[hi] > threshold) or len(bracket.pairs) > 1
        assert values[lo] <= bracket.estimate <= values[hi]
    finite = [m for m in means if math.isfinite(m)]
    crossings = sum((a > threshold) != (b > threshold) for a, b in itertools.pairwise(finite))
    assert sum(len(b.pairs) for b in brackets) == crossings


def test_noisy_flips_widen_one_boundary_instead_of_splitting_it() -> None:
    positions = [Fraction(i) for i in range(7)]
    values = [float(i) for i in range(7)]
    means = [1.0, 0.9, 0.49, 0.48, 0.53, 0.1, 0.0]  # 0.49, 0.48, 0.53: near 0.5
    quiet = level_brackets(positions, values, means, 0.5, [0.001] * 7)
    noisy = level_brackets(positions, values, means, 0.5, [0.05] * 7)
    # Decided points 0.49, 0.48 make a real pocket; the lone 0.53 is one noisy flip.
    assert [(b.lower, b.upper, len(b.pairs)) for b in quiet] == [(1, 2, 1), (3, 5, 2)]
    assert [(b.lower, b.upper, len(b.pairs)) for b in noisy] == [(1, 5, 3)]
    assert noisy[0].estimate == 3.0


@settings(max_examples=100, deadline=None)
@given(chis=st.lists(st.one_of(st.none(), finite_or_not), max_size=20))
def test_susceptibility_bracket_hostile(chis: list[float | None]) -> None:
    positions = [Fraction(i) for i in range(len(chis))]
    values = [float(i) for i in range(len(chis))]
    peak = susceptibility_bracket(positions, values, chis)
    if peak is not None:
        assert peak.lower < peak.upper
        assert values[int(peak.lower)] <= peak.estimate <= values[int(peak.upper)]


@settings(max_examples=100, deadline=None)
@given(values=st.lists(finite_or_not, max_size=20), burn_in=st.floats(0, 1))
def test_late_value_and_ensemble_hostile(values: list[float], burn_in: float) -> None:
    trajectory = pd.DataFrame({"step": np.arange(len(values)), "m": values})
    mean = run_late_value(trajectory, "m", burn_in)
    finite = [v for v in values if math.isfinite(v)]
    if values and math.isfinite(values[-1]):
        assert math.isfinite(mean)
    if not finite:
        assert math.isnan(mean)
    m, sem, chi = ensemble(values)
    assert (sem is None) == (len(finite) < 2) and (chi is None) == (len(finite) < 2)
    if finite:
        assert min(finite) - 1e-9 * abs(min(finite)) <= m or not math.isfinite(m)


def test_axis_positions_are_dyadic_grid_points() -> None:
    axis = Axis("lr", (1e-4, 1e-3, 1e-2), scale="log")
    assert axis.value(Fraction(1, 2)) == pytest.approx(math.sqrt(1e-4 * 1e-3), rel=1e-12)
    assert axis.value(Fraction(1)) == 1e-3
    steps = Axis("width", (8, 16, 64), integer=True)
    assert steps.value(Fraction(1, 2)) == 12 and isinstance(steps.value(Fraction(3, 2)), int)
    assert Axis("t", (0.0, 1.0)).grid_points(0.01) == 65


# ------------------------------------------------------------- burn-in, late time
def test_default_burn_in_keeps_the_former_late_fraction() -> None:
    import inspect

    from landaulab.study.refine import REFINE_BURN_IN

    default = inspect.signature(refine).parameters["burn_in"].default
    assert default == REFINE_BURN_IN == 1 - 0.1  # the former default late_fraction = 0.1


def test_late_fraction_is_a_deprecated_alias_of_burn_in(tmp_path: Path) -> None:
    spec = parse_spec(_spec("crossover"))
    kwargs = {"order_parameter": "m", "executor": "serial", "progress": False}
    kwargs |= {"tolerance": 0.02, "threshold": 0.5}
    new = refine(spec, store=tmp_path / "s", burn_in=0.5, **kwargs)
    with pytest.warns(DeprecationWarning, match="burn_in = 1 - late_fraction"):
        old = refine(spec, store=tmp_path / "s", late_fraction=0.5, **kwargs)
    assert old.boundaries == new.boundaries and old.points == new.points and old.trained == 0
    with pytest.warns(DeprecationWarning), pytest.raises(LandaulabError, match="not both"):
        refine(spec, store=tmp_path / "s", burn_in=0.5, late_fraction=0.5, **kwargs)
    with pytest.raises(LandaulabError, match="burn_in"):
        refine(spec, store=tmp_path / "t", burn_in=1.0, **kwargs)
    assert not (tmp_path / "t").exists()


def test_points_use_the_package_late_time(tmp_path: Path) -> None:
    from landaulab.late_time import late_means

    report = _run(_spec("crossover"), tmp_path / "s", tolerance=0.05, threshold=0.5)
    frame = Store(tmp_path / "s").frame()
    per_run = late_means(frame, ["m"], burn_in=BURN_IN).join(
        frame.groupby("run_id")["temperature"].first()
    )
    means = per_run.groupby("temperature")["m"].mean()
    for point in report.points:
        assert point.order_parameter == pytest.approx(means[point.value], rel=1e-12)


def test_cli_burn_in(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(_spec("crossover"))
    args = ["sweep", str(spec), "--store", str(tmp_path / "s"), "--executor", "serial"]
    assert main([*args, "--quiet", "--refine", "m", "--burn-in", "0.5"]) == 0
    assert "boundary along temperature" in capsys.readouterr().out
    assert main([*args, "--quiet", "--burn-in", "0.5"]) == 2
    assert "--burn-in is only for --refine" in capsys.readouterr().err


# ------------------------------------------------------------ the typed report
def test_boundary_location_is_an_estimate(tmp_path: Path) -> None:
    from landaulab.estimate import Estimate

    report = _run(_spec("crossover"), tmp_path / "s", tolerance=0.02, threshold=0.5)
    (boundary,) = report.boundaries
    location = boundary.location
    assert isinstance(location, Estimate) and location.method == "level_crossing"
    assert location.value == boundary.estimate
    assert location.ci == (boundary.lower, boundary.upper)
    assert location.error == pytest.approx(boundary.half_width)
    assert boundary.to_dict()["location"] == location.to_dict()


README_KEYS = {
    "store", "order_parameter", "along", "across", "criterion", "located", "threshold",
    "tolerance", "boundaries", "no_boundary", "runs", "trained", "rounds", "grid_runs", "run_ratio",
    "resolved", "failed", "points", "duration_s",
}  # fmt: skip


def _round_trips(report: RefinementReport) -> None:
    data = report.to_dict()
    again = RefinementReport.from_dict(data)
    assert again.to_dict() == data
    text = json.dumps(data, allow_nan=False)  # JSON-safe: no NaN or inf survives
    assert RefinementReport.from_dict(json.loads(text)).to_dict() == data


def test_real_report_round_trips(tmp_path: Path) -> None:
    controls = (
        "temperature = {start = 0.0, stop = 1.0, num = 5}\n"
        "field = {start = 0.0, stop = 1.0, num = 3}"
    )
    spec = _spec("crossover", extra="boundary_slope = 0.4", controls=controls)
    report = _run(spec, tmp_path / "s", tolerance=0.02, threshold=0.5)
    assert README_KEYS <= set(report.to_dict())
    assert set(report.to_dict()["boundaries"][0]) >= {
        "along", "estimate", "lower", "upper", "half_width", "row", "resolved", "ordered_side",
        "located",
    }  # fmt: skip
    _round_trips(report)
    again = RefinementReport.from_dict(report.to_dict())
    assert again.boundaries == report.boundaries and again.points == report.points
    peak = _run(_spec("fluctuating", seeds=4), tmp_path / "p", criterion="susceptibility")
    _round_trips(peak)
    empty = _run(_spec("crossover").replace("critical = 0.37", "critical = 3.0"), tmp_path / "e")
    _round_trips(empty)


def test_malformed_report_is_one_data_error() -> None:
    with pytest.raises(DataError, match="refinement report: missing key 'criterion'"):
        RefinementReport.from_dict({})
    data = {
        "store": "s", "order_parameter": "m", "along": "t", "criterion": "level",
        "tolerance": 0.1, "runs": 1, "trained": 1, "rounds": 1, "grid_runs": 2,
        "boundaries": [{"along": "t", "estimate": "x", "lower": 0, "upper": 1}],
    }  # fmt: skip
    with pytest.raises(DataError, match="boundary point"):
        RefinementReport.from_dict(data)


hostile = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
numbers = st.floats(allow_nan=True, allow_infinity=True)
labels = st.dictionaries(
    st.text(max_size=5),
    st.one_of(st.booleans(), st.integers(-5, 5), numbers, st.text(max_size=5)),
    max_size=2,
)
boundary_points = st.builds(
    BoundaryPoint,
    along=st.text(max_size=5),
    estimate=numbers,
    lower=numbers,
    upper=numbers,
    row=labels,
    resolved=st.booleans(),
    ordered_side=st.sampled_from([None, "below", "above"]),
)
sampled_points = st.builds(
    SampledPoint,
    row=labels,
    value=numbers,
    order_parameter=numbers,
    standard_error=hostile,
    members=st.integers(0, 10),
    susceptibility=hostile,
    round=st.integers(1, 30),
)
reports = st.builds(
    RefinementReport,
    store=st.text(max_size=8),
    order_parameter=st.text(max_size=8),
    along=st.text(max_size=5),
    across=st.one_of(st.none(), st.text(max_size=5)),
    criterion=st.sampled_from(["level", "susceptibility"]),
    threshold=hostile,
    tolerance=numbers,
    boundaries=st.lists(boundary_points, max_size=3).map(tuple),
    no_boundary=st.lists(st.tuples(labels, st.text(max_size=10)), max_size=2).map(tuple),
    runs=st.integers(0, 1000),
    trained=st.integers(0, 1000),
    rounds=st.integers(0, 30),
    grid_runs=st.integers(0, 1000),
    points=st.lists(sampled_points, max_size=4).map(tuple),
    failed=st.integers(0, 100),
    duration_s=numbers,
)


@settings(max_examples=200, deadline=None)
@given(report=reports)
def test_report_round_trips_on_hostile_values(report: RefinementReport) -> None:
    _round_trips(report)
    text = str(report)  # renders whatever it holds
    assert "runs in" in text


# ------------------------------------------------- what is located, on a known answer
def _deep_linear_spec(depth: int, signal: float) -> str:
    """A deep linear network with weight decay γ (Ziyin & Ueda 2022; KNOWN_ANSWERS.md):
    D = 1 vanishes continuously at γ_c = a; D = 2 jumps. The coarse grid holds neither
    answer, and γ_c = 0.73 is no dyadic point of it."""
    return f"""
name = "deep-linear-refine"
task = "deep_linear"
seeds = 2
[settings]
depth = {depth}
width = 2
signal = {signal}
steps = 3000
lr = 0.2
[controls]
weight_decay = {{start = 0.1, stop = 1.3, num = 5}}
[record]
every = 100
"""


def _refine_deep_linear(spec: str, store: Path, **kwargs: object) -> RefinementReport:
    return refine(
        parse_spec(spec),
        store=store,
        order_parameter="end_to_end",
        executor="serial",
        progress=False,
        **kwargs,
    )


def test_default_refinement_brackets_the_critical_point_of_a_deep_linear_network(
    tmp_path: Path,
) -> None:
    """D = 1: b* = max(a − γ, 0) vanishes at γ_c = a. The default locates the vanishing
    point; the half-height crossing (the former default) lies at γ = a/2 + γ_min/2, far
    from it. Gradient descent relaxes b at rate 2·lr·|γ − a| near γ_c, so after 3000 steps
    at lr 0.2 a run 0.01 past γ_c has b ≈ e⁻¹²·b₀, far below the level (1e-3 of the
    range): the apparent vanishing point lies within 0.01 of γ_c (critical slowing down
    sets the rest), inside a bracket of half-width ≤ 0.01."""
    from landaulab.tasks.deep_linear import critical_weight_decay

    signal = 0.73
    gamma_c = critical_weight_decay(signal, depth=1)
    assert gamma_c == pytest.approx(signal)
    spec = _deep_linear_spec(1, signal)
    report = _refine_deep_linear(spec, tmp_path / "s", tolerance=0.01)
    (boundary,) = report.boundaries
    assert report.located == boundary.located == "vanishing_point"
    assert boundary.lower <= gamma_c <= boundary.upper and boundary.resolved
    assert report.runs <= report.grid_runs / 5
    half = _refine_deep_linear(spec, tmp_path / "s", tolerance=0.01, locate="level")
    (missed,) = half.boundaries
    assert half.located == "level" and not missed.lower <= gamma_c <= missed.upper
    assert "vanishing point" in str(report)


def test_a_jump_is_reported_as_a_jump(tmp_path: Path) -> None:
    """D = 2 is first order: from a random start gradient descent holds the ordered branch
    up to its spinodal, where b jumps from a finite value to 0 (KNOWN_ANSWERS.md: the
    spinodal scales as a^(4/3), 0.47247 at a = 1)."""
    from landaulab.tasks.deep_linear import jump, spinodal_weight_decay

    signal = 0.73
    spinodal = spinodal_weight_decay(signal, depth=2)
    assert spinodal == pytest.approx(0.47247 * signal ** (4 / 3), rel=1e-4)
    report = _refine_deep_linear(_deep_linear_spec(2, signal), tmp_path / "s", tolerance=0.01)
    (boundary,) = report.boundaries
    assert report.located == boundary.located == "jump"
    assert boundary.lower <= spinodal <= boundary.upper
    assert jump(signal, depth=2) > 0


def test_cli_locate_threshold_and_level(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(_spec("crossover"))
    args = ["sweep", str(spec), "--store", str(tmp_path / "s"), "--executor", "serial", "--quiet"]
    out = tmp_path / "r.json"
    assert main([*args, "--refine", "m", "--threshold", "0.5", "--tolerance", "0.02"]) == 0
    assert "where m crosses 0.5" in capsys.readouterr().out
    assert main([*args, "--refine", "m", "--level", "0.5", "--locate", "level"]) == 0
    capsys.readouterr()
    assert main([*args, "--refine", "m", "--locate", "jump"]) == 0
    assert "(its jump)" in capsys.readouterr().out
    for bad in (["--locate", "middle"], ["--locate", "jump", "--threshold", "0.5"]):
        assert main([*args, "--refine", "m", *bad]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and "\n" not in err
    assert main([*args, "--threshold", "0.5"]) == 2
    assert "--threshold is only for --refine" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([[1.0, 1.0], [0.5, 0.5], [0.0, 0.0]], 1e-3),  # noiseless: the smallest rise
        ([[1.0], [0.2, 0.2], [0.01, -0.01], [0.0, 0.0]], 3 * np.std([0.01, -0.01, 0, 0], ddof=1)),
        ([[math.nan], [math.inf]], math.nan),
        ([[1.0, 1.0], [0.0, 1.0]], 0.75),  # noise beyond half height: capped there
    ],
)
def test_vanishing_threshold(points: list[list[float]], expected: float) -> None:
    from landaulab.analyze.boundary import vanishing_threshold

    got = vanishing_threshold(points)
    assert got == pytest.approx(expected, nan_ok=True)
