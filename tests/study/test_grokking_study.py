"""The grokking study's analysis and report on a store of planted learning curves, and
(marked slow) the quick study end to end."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from landaulab.spec.plan import plan_sweep
from landaulab.spec.schema import load_spec
from landaulab.specs import builtin_spec_path
from landaulab.store import RunRecord, Store
from landaulab.study.grokking import GrokkingStudy, analyse_grokking
from landaulab.study.grokking_result import Boundary, GrokkingStudyResult
from landaulab.study.grokking_stages import QUICK, add_generalisation
from tests.report.htmlcheck import parse

CONFIG = replace(QUICK, n_bootstrap=60)
CRITICAL = {19: 0.45, 23: 0.40}


def _grokking_time(p: int, f: float, z: float) -> float:
    """t = 60/(f − f_c)·e^{0.3 z}: log-normal seed scatter around a divergence at f_c."""
    fc = CRITICAL.get(p, 0.45)
    return 60.0 / (f - fc) * math.exp(0.3 * z) if f > fc else math.inf


def _generalisation(t: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The logged steps and generalisation of a run that jumps at ``t`` (100 steps
    wide) and stops 150 steps after it."""
    grid = np.arange(0, steps + 1, 50)
    if t + 150 < steps:
        grid = grid[grid <= t + 150]
    gen = expit((grid - t) / 25.0) if math.isfinite(t) else 0.0 * grid
    return grid, gen


def _trajectory(p: int, f: float, seed: int, steps: int, rng: np.random.Generator) -> pd.DataFrame:
    """Memorise by step 100; generalise at t = 60/(f − f_c) (log-normal seed scatter),
    a jump 100 steps wide; stop 150 steps after generalising."""
    grid, gen = _generalisation(_grokking_time(p, f, rng.normal()), steps)
    chance = 1.0 / p
    test = chance + (1 - chance) * gen + 0.002 * rng.normal(size=grid.size)
    return pd.DataFrame(
        {
            "step": grid,
            "train_accuracy": np.clip(grid / 100.0, 0, 1),
            "test_accuracy": np.clip(test, 0, 1),
            "test_loss": 3.0 - 2.5 * gen,
            "weight_norm": 30.0 - 5.0 * gen,
        }
    )


def _planted(folder: Path) -> GrokkingStudy:
    store = Store(folder / "store", create=True)
    rng = np.random.default_rng(0)
    for run in plan_sweep(load_spec(builtin_spec_path(CONFIG.map_spec))):
        params = dict(run.params)
        if params["weight_decay"] == CONFIG.weight_decay:
            continue  # the line's own runs stand for the map's there
        frame = _trajectory(23, params["train_fraction"] * params["weight_decay"], 0, 2000, rng)
        store.publish(RunRecord(run.run_id, "modular_arithmetic", params, "done"), frame)
    study = GrokkingStudy(folder=folder, store=folder / "store", config=CONFIG)
    for p, fc in CRITICAL.items():
        centre = round(fc + 60.0 / 2000, 3)  # the median seed generalises at the budget
        study.boundaries[p] = Boundary(p, 2000, centre, (centre - 0.01, centre + 0.01), "planted")
        study.controls[p] = (round(centre - 0.05, 3), round(centre, 3), round(centre + 0.05, 3))
        line = {round(f, 2) for f in np.arange(0.42, 0.80, 0.03)} - set(study.controls[p])
        for f in sorted({*study.controls[p], *line}):
            seeds = CONFIG.ensemble_seeds if f in study.controls[p] else 4
            for seed in range(seeds):
                params = {"p": p, "weight_decay": 1.0, "train_fraction": f, "steps": 2000}
                frame = _trajectory(p, f, seed, 2000, rng)
                run_id = f"p{p}-f{f}-s{seed}"
                record = RunRecord(run_id, "modular_arithmetic", params | {"seed": seed}, "done")
                store.publish(record, frame)
    return study


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> GrokkingStudy:
    """The study's analysis and report of the planted store (run once)."""
    return analyse_grokking(_planted(tmp_path_factory.mktemp("grokking-study")))


def test_the_report_has_every_stage_and_reads_the_typed_result(study: GrokkingStudy) -> None:
    assert study.result is not None and study.report_html is not None
    html = study.report_html.read_text(encoding="utf-8")
    for section in (
        "what-we-find",
        "boundary",
        "coexistence",
        "static-free-energy",
        "budget-law",
        "order-parameter-ranking",
    ):
        assert f'id="{section}"' in html, section
    payload = json.loads(study.report_json.read_text())  # type: ignore[union-attr]
    # report.json carries the result itself, exactly
    assert GrokkingStudyResult.from_dict(payload["study"]) == study.result
    assert json.loads((study.folder / "study.json").read_text()) == payload["study"]


def test_report_json_contract(study: GrokkingStudy) -> None:
    payload = json.loads(study.report_json.read_text())  # type: ignore[union-attr]
    found = payload["study"]
    for entry in found["boundary"]:
        assert set(entry) >= {"size", "budget", "value", "ci"}
        assert entry["ci"][0] <= entry["value"] <= entry["ci"][1]
    ensemble = found["boundary_ensemble"]
    assert ensemble["sizes"] == [19, 23]
    assert ensemble["n_runs"] == 2 * 3 * CONFIG.ensemble_seeds
    assert ensemble["controls"] == sorted({c for cs in study.controls.values() for c in cs})
    assert isinstance(found["verdict"], str) and found["verdict"].endswith(".")
    # the located boundary is the full-budget entry, one per size
    full = [b for b in found["boundary"] if b["budget"] == CONFIG.steps]
    assert sorted(b["size"] for b in full) == [19, 23]


def test_planted_coexistence_reads_as_first_order(study: GrokkingStudy) -> None:
    """Planted seeds either jump to m = 1 or stay at 0: the ensembles must show it."""
    assert study.result is not None
    for e in study.result.ensembles:
        assert e.n == CONFIG.ensemble_seeds
        assert e.middle - e.transit <= 2, e
    orders = {o.size: o.order for o in study.result.orders}
    assert set(orders.values()) <= {"first", "undecided"}
    assert "first" in orders.values()


def test_the_boundary_moves_to_smaller_fractions_with_the_budget(study: GrokkingStudy) -> None:
    """Planted grokking time 60/(f − f_c): the boundary at budget t is f_c + 60/t."""
    assert study.result is not None
    for law in study.result.budget:
        points = sorted(law.points, key=lambda p: p.budget)
        assert len(points) >= 5
        values = [p.value for p in points]
        assert values[0] > values[-1]
        fc = CRITICAL[law.size]
        for p in points:
            # where the seed-median crosses ½: f_c + 60/t, within the interval's reach
            assert p.ci[0] - 0.05 <= fc + 60.0 / p.budget <= p.ci[1] + 0.05, p


def _true_boundary(p: int, budget: int) -> float:
    """Where the planted model's mean late generalisation at ``budget`` crosses ½: the
    seed average as an integral over the log-normal scatter (Gauss–Hermite, 80 nodes),
    each seed's value read by the study's own rule (:func:`value_at_budget`)."""
    from scipy.optimize import brentq

    from landaulab.study.grokking_stages import value_at_budget

    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()

    def mean_late(f: float) -> float:
        frames = []
        for k, z in enumerate(nodes):
            grid, gen = _generalisation(_grokking_time(p, f, z), budget)
            frames.append(pd.DataFrame({"run_id": k, "step": grid, "generalisation": gen}))
        late = value_at_budget(pd.concat(frames), budget).sort_index()
        return float(weights @ late.to_numpy())

    fc = CRITICAL[p]
    return float(brentq(lambda f: mean_late(f) - 0.5, fc + 1e-3, 0.95, xtol=1e-5))


def test_the_located_boundary_covers_the_planted_one(study: GrokkingStudy) -> None:
    """The full-budget boundary is the curve through every seed on the line; its 95%
    interval holds the planted model's crossing (each size's is one draw of a 95%
    interval; both holding has probability ≈ 0.9 for a correct interval)."""
    assert study.result is not None
    for size in study.result.sizes:
        located = study.result.boundary_at(size)
        assert located is not None and located.method == "logistic_fit"
        truth = _true_boundary(size, CONFIG.steps)
        assert located.ci[0] <= truth <= located.ci[1], (size, truth, located)


def test_sharpening_decides_on_the_interval_the_report_prints(study: GrokkingStudy) -> None:
    """The sharpening stage reads the boundary alone; the analysis reads it with every
    budget: the same interval to the digit, so a boundary reported wider than the goal
    was never judged narrow enough to stop."""
    from landaulab.study.grokking import line_boundary

    assert study.result is not None
    for size in study.result.sizes:
        assert line_boundary(study, size) == study.result.boundary_at(size)


def test_every_number_of_the_summary_is_the_one_of_its_section(study: GrokkingStudy) -> None:
    assert study.result is not None and study.report_html is not None
    page = parse(study.report_html.read_text(encoding="utf-8"))
    summary = page.section_text["what-we-find"]
    assert study.result.verdict.rstrip(".") in summary
    # the page's opening summary leads with the same verdict, read from the result
    assert study.result.verdict.rstrip(".") in page.section_text["narrative"]
    for size in study.result.sizes:
        b = study.result.boundary_at(size)
        assert b is not None
        text = f"{b.value:.3f}"
        assert text in summary and text in page.section_text["boundary"]
    for law in study.result.budget:
        assert law.verdict in summary and law.verdict in page.section_text["budget-law"]
    for order in study.result.orders:
        assert order.evidence in page.section_text["coexistence"]


def test_the_study_comes_first_and_the_generic_gaps_are_one_list(study: GrokkingStudy) -> None:
    from landaulab.report.html import GAPS_ID, SECTION_IDS
    from landaulab.study.grokking import STUDY_NOTE

    assert study.report_html is not None
    html = study.report_html.read_text(encoding="utf-8")
    page = parse(html)
    ids = page.section_ids
    assert ids[:3] == ["narrative", "what-we-find", "boundary"]
    first_generic = min(ids.index(i) for i in ids if i in SECTION_IDS and i != "narrative")
    assert ids.index("stages") < first_generic  # every study section before the generic
    assert ids[-1] == GAPS_ID
    for section in ids[:-1]:
        assert "Not estimable" not in page.section_text[section], section
    gathered = page.section_text[GAPS_ID]
    assert gathered.count(STUDY_NOTE[1:60]) == 1
    assert "below" not in STUDY_NOTE  # it is read at the top and at the bottom
    for section in SECTION_IDS:
        assert html.count(f'id="{section}"') == 1, section
    # no effective potential without the dynamics' attractors; F(m) claims a double
    # well only where the result says it is resolved
    assert study.result is not None
    assert "effective_potential" not in html
    energy = page.section_text["static-free-energy"]
    for size in study.result.sizes:
        located = study.result.boundary_at(size)
        assert located is not None
        fe = min(
            (f for f in study.result.free_energy if f.size == size),
            key=lambda f: abs(f.control - located.value),
        )
        said = energy.split(f"At the boundary of p = {size} (training fraction {fe.control:g})")
        assert len(said) == 2
        claim = said[1].split("\n")[0]
        assert (": a resolved double well" in claim) == fe.double_well
        assert (": no resolved double well" in claim) == (not fe.double_well)


def test_generalisation_is_zero_at_chance_and_one_at_perfect() -> None:
    frame = pd.DataFrame({"p": [10, 10, 10], "test_accuracy": [0.1, 1.0, 0.0]})
    assert add_generalisation(frame)["generalisation"].tolist() == [0.0, 1.0, 0.0]


@pytest.mark.slow
def test_quick_demo_end_to_end(tmp_path: Path) -> None:
    """``landaulab demo --quick`` trains, locates, resolves and reports (≈ 2 minutes)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "landaulab", "demo", "--quick", "--quiet", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    payload = json.loads((out / "report.json").read_text())
    assert len(payload["study"]["boundary"]) >= 2
    assert payload["study"]["boundary_ensemble"]["n_runs"] == 2 * 3 * QUICK.ensemble_seeds


def test_a_resumed_study_keeps_the_cost_of_the_runs_it_found() -> None:
    from landaulab.study.grokking import ANALYSIS_STAGE, merge_timings
    from landaulab.study.grokking_result import StageTiming

    first = [
        StageTiming("map", 100.0, 190.0, 70),
        StageTiming("sharpen p=23", 28.0, 53.0, 16),
        StageTiming(ANALYSIS_STAGE, 4.0, 4.0, 0),
    ]
    # interrupted during the map, resumed: the map trains its last runs, no sharpening
    resumed = [StageTiming("map", 10.0, 19.0, 5), StageTiming(ANALYSIS_STAGE, 3.0, 3.0, 0)]
    merged = merge_timings(first, resumed)
    assert [t.stage for t in merged] == ["map", "sharpen p=23", ANALYSIS_STAGE]
    assert merged[0] == StageTiming("map", 110.0, 209.0, 75)
    assert merged[1] == first[1]
    assert merged[2] == resumed[1]  # the analysis is this session's
    assert merge_timings([], resumed) == resumed
