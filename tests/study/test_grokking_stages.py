"""The grokking study's statistics on planted data, and its result's exact round trip."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landaulab.study.grokking_result import (
    Boundary,
    BudgetLaw,
    Candidate,
    ControlEnsemble,
    FreeEnergy,
    GrokkingStudyResult,
    LawSummary,
    MapRun,
    OrderVerdict,
    StageTiming,
)
from landaulab.study.grokking_stages import (
    FULL,
    QUICK,
    binder,
    boundary_fit,
    boundary_from_line,
    budget_law,
    budget_points,
    control_ensemble,
    crossing,
    free_energy,
    late_generalisation,
    order_verdict,
    rank_candidates,
    runs_table,
    value_at_budget,
    wilson,
)

# ----------------------------------------------------------------- round trip

floats = st.floats(-1e6, 1e6, allow_nan=False, width=64)
opt = st.none() | floats
interval = st.tuples(floats, floats)
names = st.text("abcdefgh_", min_size=1, max_size=8)

boundaries = st.builds(
    Boundary, st.integers(2, 200), st.integers(1, 10**5), floats, interval, names
)
ensembles = st.builds(
    ControlEnsemble,
    size=st.integers(2, 200),
    control=floats,
    values=st.lists(floats, max_size=5).map(tuple),
    histogram=st.lists(st.integers(0, 50), max_size=10).map(tuple),
    grokked=floats,
    grokked_ci=interval,
    low=st.integers(0, 50),
    middle=st.integers(0, 50),
    high=st.integers(0, 50),
    transit=st.integers(0, 50),
    binder=opt,
    binder_ci=st.none() | interval,
    chi=floats,
    chi_ci=st.none() | interval,
)
energies = st.builds(
    FreeEnergy,
    size=st.integers(2, 200),
    control=floats,
    volume=st.integers(1, 10**4),
    m=st.lists(floats, max_size=4).map(tuple),
    f=st.lists(floats, max_size=4).map(tuple),
    coefficients=st.lists(
        st.tuples(names, floats, floats, floats), max_size=3, unique_by=lambda t: t[0]
    ).map(tuple),
    double_well=st.booleans(),
    barrier=opt,
    barrier_ci=st.none() | interval,
)
laws = st.builds(
    LawSummary,
    law=names,
    formula=names,
    aicc=opt,
    weight=opt,
    parameters=st.lists(st.tuples(names, opt, opt, opt), max_size=3, unique_by=lambda t: t[0]).map(
        tuple
    ),
    divergence=st.none() | st.tuples(opt, opt, opt),
)
results = st.builds(
    GrokkingStudyResult,
    weight_decay=floats,
    steps=st.integers(1, 10**5),
    sizes=st.lists(st.integers(2, 200), max_size=3).map(tuple),
    phases=st.lists(st.tuples(names, st.integers(0, 99)), max_size=4, unique_by=lambda t: t[0]).map(
        tuple
    ),
    phase_map=st.lists(st.tuples(floats, floats, names), max_size=4).map(tuple),
    boundary=st.lists(boundaries, max_size=3).map(tuple),
    ensembles=st.lists(ensembles, max_size=3).map(tuple),
    free_energy=st.lists(energies, max_size=2).map(tuple),
    orders=st.lists(st.builds(OrderVerdict, st.integers(2, 99), names, names), max_size=2).map(
        tuple
    ),
    budget=st.lists(
        st.builds(
            BudgetLaw,
            st.integers(2, 99),
            st.lists(boundaries, max_size=3).map(tuple),
            st.lists(laws, max_size=2).map(tuple),
            st.none() | names,
            names,
        ),
        max_size=2,
    ).map(tuple),
    ranking=st.lists(
        st.builds(Candidate, names, opt, opt, opt, st.integers(0, 99)), max_size=3
    ).map(tuple),
    verdict=names,
    runs=st.lists(
        st.builds(
            MapRun, names, floats, floats, st.integers(0, 9), st.integers(2, 99), opt, opt, names
        ),
        max_size=2,
    ).map(tuple),
    timings=st.lists(
        st.builds(StageTiming, names, floats, floats, st.integers(0, 99)), max_size=3
    ).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(results)
def test_the_result_round_trips_exactly(result: GrokkingStudyResult) -> None:
    import json

    from landaulab.serialize import to_json

    # as report.json and study.json are written: sorted keys, NaN refused
    data = json.loads(json.dumps(to_json(result.to_dict()), sort_keys=True, allow_nan=False))
    assert GrokkingStudyResult.from_dict(data) == result


# ----------------------------------------------------------------- the boundary


def test_crossing_interpolates_between_the_bracketing_points() -> None:
    x = np.array([0.2, 0.3, 0.4])
    assert crossing(x, np.array([0.0, 0.25, 0.75])) == pytest.approx(0.35)
    assert crossing(x, np.array([0.0, 0.1, 0.2])) is None


def test_boundary_interval_covers_a_planted_logistic_boundary() -> None:
    """Seeds grok with probability logistic((f − 0.45)/0.01): the located boundary and
    its interval must contain 0.45 in most replicates (nominal 95%)."""
    fractions = np.round(np.arange(0.40, 0.501, 0.0125), 4)
    hits, trials = 0, 40
    for k in range(trials):
        rng = np.random.default_rng(k)
        rows = []
        for f in fractions:
            q = 1 / (1 + math.exp(-(f - 0.45) / 0.01))
            rows += [{"train_fraction": f, "m": float(rng.random() < q)} for _ in range(16)]
        located = boundary_from_line(pd.DataFrame(rows), "m", 200, rng)
        assert located is not None
        hits += located[1][0] <= 0.45 <= located[1][1]
    # below 80% would be a > 4-sigma miss of a 95% interval with 40 trials
    assert hits / trials >= 0.8


def test_fitted_boundary_covers_a_planted_boundary_from_uneven_seeds() -> None:
    """The same planted boundary sampled as a study samples it: 2 seeds on a coarse
    line, 16 at three fractions around the boundary. The logistic curve through every
    seed covers 0.45 at the nominal rate and is no wider than the crossing of the seed
    means on the same data (it uses the seeds the crossing ignores)."""
    coarse = np.round(np.arange(0.30, 0.61, 0.05), 3)
    ensemble = (0.42, 0.46, 0.50)
    hits, trials, narrower = 0, 40, 0
    for k in range(trials):
        rng = np.random.default_rng(100 + k)
        rows = []
        for f, n in [*((f, 2) for f in coarse), *((f, 16) for f in ensemble)]:
            q = 1 / (1 + math.exp(-(f - 0.45) / 0.02))
            rows += [{"train_fraction": f, "m": float(rng.random() < q)} for _ in range(n)]
        line = pd.DataFrame(rows)
        fitted = boundary_fit(line, "m", 200, rng)
        crossed = boundary_from_line(line, "m", 200, rng)
        assert fitted is not None and crossed is not None
        hits += fitted[1][0] <= 0.45 <= fitted[1][1]
        narrower += (fitted[1][1] - fitted[1][0]) <= (crossed[1][1] - crossed[1][0])
    # below 80% would be a > 4-sigma miss of a 95% interval with 40 trials
    assert hits / trials >= 0.8
    assert narrower / trials >= 0.5


def test_fitted_boundary_is_none_without_a_rise_inside_the_line() -> None:
    flat = pd.DataFrame({"train_fraction": [0.3, 0.4, 0.5] * 4, "m": [0.0] * 12})
    assert boundary_fit(flat, "m", 50, np.random.default_rng(0)) is None
    falling = pd.DataFrame({"train_fraction": [0.3, 0.4, 0.5] * 4, "m": [1.0, 0.5, 0.0] * 4})
    assert boundary_fit(falling, "m", 50, np.random.default_rng(0)) is None


def test_value_at_budget_keeps_a_stopped_run_where_it_stopped() -> None:
    frame = pd.DataFrame(
        {
            "run_id": ["a"] * 3 + ["b"] * 2,
            "step": [0, 50, 100, 0, 50],
            "generalisation": [0.0, 0.2, 0.4, 0.0, 1.0],
        }
    )
    # the late window at a budget is its last tenth: [90, 100] at 100; at 60 run a has
    # logged up to 50, so its window is [45, 50]
    assert value_at_budget(frame, 100).to_dict() == {"a": 0.4, "b": 1.0}
    assert value_at_budget(frame, 1000).to_dict() == {"a": 0.4, "b": 1.0}
    assert value_at_budget(frame, 60).to_dict() == {"a": 0.2, "b": 1.0}


# ----------------------------------------------------------------- the ensemble


def test_wilson_interval_matches_the_closed_form() -> None:
    lo, hi = wilson(8, 16)
    assert (lo, hi) == pytest.approx((0.2800, 0.7200), abs=1e-3)
    assert wilson(0, 16)[0] == 0.0


def test_binder_cumulant_of_two_peaks_and_of_a_gaussian() -> None:
    assert binder(np.array([0.0, 1.0] * 8)) == pytest.approx(2 / 3)
    gauss = np.random.default_rng(0).normal(size=20000)
    # standard error of the kurtosis of 20000 Gaussian draws is ~0.035 → U within ~0.03
    assert binder(gauss) == pytest.approx(0.0, abs=0.03)
    assert binder(np.ones(5)) is None


def test_coexistence_is_first_order_and_a_shifting_peak_continuous() -> None:
    rng = np.random.default_rng(0)
    split = [
        control_ensemble(31, f, np.array([1.0] * k + [0.0] * (16 - k)), 100, rng)
        for f, k in ((0.40, 1), (0.44, 8), (0.48, 15))
    ]
    energy = free_energy(31, 0.44, np.array(split[1].values), 200, rng)
    verdict = order_verdict(31, split, 0.44, energy)
    assert verdict.order == "first"
    assert "8 of 16" in verdict.evidence
    assert energy.double_well and energy.barrier is not None and energy.barrier > 0

    shifting = [
        control_ensemble(31, f, np.clip(rng.normal(mu, 0.05, 16), 0, 1), 100, rng)
        for f, mu in ((0.40, 0.3), (0.44, 0.5), (0.48, 0.7))
    ]
    assert order_verdict(31, shifting, 0.44, None).order == "continuous"
    single = free_energy(31, 0.44, np.array(shifting[1].values), 200, rng)
    assert not single.double_well


def test_one_held_phase_is_never_a_double_well() -> None:
    """All seeds in one peak: the fit may bend, but the second well is only the
    pseudo-count's floor (and the bootstrap is degenerate), so no double well."""
    rng = np.random.default_rng(0)
    for values in (np.zeros(16), np.ones(16), np.array([0.0] * 15 + [1.0])):
        energy = free_energy(31, 0.44, values, 100, rng)
        assert not energy.double_well, values


def test_chi_is_volume_times_seed_variance() -> None:
    values = np.array([0.0, 1.0, 0.0, 1.0])
    e = control_ensemble(10, 0.5, values, 50, np.random.default_rng(0))
    assert e.chi == pytest.approx(100 * values.var(ddof=1))
    assert (e.low, e.middle, e.high, e.grokked) == (2, 0, 2, 0.5)


# ----------------------------------------------------------------- the budget law


def _planted_line(rule: str, seed: int = 0) -> pd.DataFrame:
    """Trajectories whose grokking step at fraction f follows a power law diverging at
    0.3 (``rule="power"``) or an Arrhenius law (``"arrhenius"``), with 20% log-normal
    seed scatter, over 2½ decades of budget."""
    rng = np.random.default_rng(seed)
    rows = []
    steps = np.arange(0, 30001, 100)
    for f in np.round(np.arange(0.31, 0.80, 0.02), 3):
        for s in range(8):
            if rule == "power":
                t = 20 * (f - 0.3) ** -2.0
            else:
                t = 0.5 * math.exp(4.0 / f)
            t *= math.exp(0.2 * rng.normal())
            m = (steps >= t).astype(float)
            rows += [
                {"run_id": f"{f}-{s}", "step": int(k), "generalisation": v, "train_fraction": f}
                for k, v in zip(steps, m, strict=True)
            ]
    frame = pd.DataFrame(rows)
    frame["seed"] = frame.run_id.str.split("-").str[1].astype(int)
    frame["p"] = 31
    return frame


@pytest.mark.parametrize("rule", ["power", "arrhenius"])
def test_budget_law_recovers_the_planted_law(rule: str) -> None:
    line = _planted_line(rule)
    budgets = [int(b) for b in np.round(np.geomspace(200, 30000, 12) / 100) * 100]
    points = budget_points(line, 31, budgets, 100, seed=1)
    assert len(points) >= 8
    law = budget_law(31, points, 100)
    assert law.best == rule, law.verdict
    if rule == "power":
        fit = next(f for f in law.fits if f.law == "power")
        assert fit.divergence is not None and fit.divergence[0] == pytest.approx(0.3, abs=0.03)


def test_ranking_locates_with_the_boundary_definition() -> None:
    line = _planted_line("power")
    line["train_accuracy"] = 1.0
    line["test_loss"] = 3.0 - 2.0 * line["generalisation"]
    ranked = rank_candidates(line, ("generalisation", "test_loss"))
    by = {c.observable: c for c in ranked}
    # test loss is an affine image of generalisation: same location, same sharpness
    assert by["test_loss"].location == pytest.approx(by["generalisation"].location)
    assert by["test_loss"].sharpness == pytest.approx(by["generalisation"].sharpness)
    assert by["generalisation"].lead == 0.0
    # the location is the located boundary's estimator: the curve through every run
    late = late_generalisation(line).rename("m").to_frame()
    late = late.join(runs_table(line).set_index("run_id")).reset_index()
    located = boundary_fit(late, "m", 20, np.random.default_rng(0))
    assert located is not None
    assert by["generalisation"].location == pytest.approx(located[0])


def test_map_bracket_is_the_first_rise_through_the_level() -> None:
    from landaulab.study.grokking_stages import boundary_accuracy, map_bracket

    level = boundary_accuracy(31)
    assert level == pytest.approx((1 + 1 / 31) / 2)
    row = pd.DataFrame(
        {"train_fraction": [0.2, 0.2, 0.4, 0.4, 0.5, 0.5, 0.6], "acc": [0, 0, 0.1, 0.9, 1, 1, 1]}
    )
    assert map_bracket(row, "acc", level) == (0.4, 0.5)  # 0.4's mean is 0.5 < level
    assert map_bracket(row.assign(acc=0.0), "acc", level) is None


def test_the_locate_stage_starts_from_the_maps_row() -> None:
    from landaulab.study.grokking import _MapLine

    grid = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    line = _MapLine(size=31, seeds=(0, 1), bracket=(0.4, 0.5))
    assert line.coarse(31, grid) == (0.4, 0.5)  # the map's row has the rest
    assert line.coarse(23, grid) == (0.4, 0.5, 0.6, 0.7, 0.8)
    assert line.other_seeds(4) == (2, 3, 4, 5)
    assert _MapLine(31, (0, 1), None).coarse(23, grid) == grid
    # fewer than two grid points from the bracket up: the whole grid
    assert _MapLine(31, (0, 1), (0.7, 0.8)).coarse(23, (0.2, 0.5, 0.7)) == (0.2, 0.5, 0.7)


def test_configurations_meet_the_study_targets() -> None:
    assert FULL.tolerance <= 0.01 and FULL.ensemble_seeds >= 16 and len(FULL.offsets) >= 3
    assert len(FULL.sizes) >= 2 and len([b for b in FULL.budgets() if b < FULL.steps]) >= 8
    assert QUICK.steps <= FULL.steps


def test_sharpening_stops_at_the_goal_or_the_cap() -> None:
    from landaulab.study.grokking_result import Boundary
    from landaulab.study.grokking_stages import FULL, sharpen_step

    wide = Boundary(23, FULL.steps, 0.4844, (0.4744, 0.4961), "logistic_fit")
    narrow = Boundary(23, FULL.steps, 0.4313, (0.4246, 0.4388), "logistic_fit")
    assert sharpen_step(narrow, FULL, 0) is None  # width 0.0142 ≤ 2·0.01
    assert sharpen_step(None, FULL, 0) is None
    centre, seeds = sharpen_step(wide, FULL, 0) or (None, ())
    assert centre == 0.484
    # seeds past the ensemble's, a batch at a time, never beyond the cap
    assert seeds == tuple(range(FULL.ensemble_seeds, FULL.ensemble_seeds + FULL.sharpen_batch))
    _, second = sharpen_step(wide, FULL, FULL.sharpen_batch) or (None, ())
    assert second[0] == FULL.ensemble_seeds + FULL.sharpen_batch
    assert sharpen_step(wide, FULL, FULL.sharpen_seeds) is None
