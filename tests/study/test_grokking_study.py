"""The grokking study's analysis on a store of planted learning curves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from landaulab.report.formatting import estimate, human
from landaulab.store import RunRecord, Store
from landaulab.study.grokking import (
    GrokkingStudy,
    add_generalisation,
    analyse_grokking,
    choose_weight_decay,
)
from landaulab.study.phases import classify_phases
from tests.report.htmlcheck import parse

P = 23


def _curve(steps: np.ndarray, t: float | None, rng: np.random.Generator) -> np.ndarray:
    if t is None:
        base = np.full(steps.shape, 1.0 / P)
    else:
        base = 1.0 / P + (1 - 1.0 / P) / (1.0 + np.exp(-(steps - t) / 40.0))
    return np.clip(base + 0.003 * rng.normal(size=steps.shape), 0.0, 1.0)


def _planted_store(path: Path) -> Store:
    """Grokking happens above a training fraction that falls with weight decay; the
    generalisation step grows as the fraction approaches that boundary."""
    store = Store(path, create=True)
    rng = np.random.default_rng(0)
    steps = np.arange(0, 3001, 50)
    for wd, boundary in ((0.3, 0.55), (1.0, 0.35), (3.0, 0.25)):
        for fraction in (0.2, 0.3, 0.4, 0.5, 0.6):
            for seed in (0, 1):
                t_gen = 150 + 60 / (fraction - boundary) if fraction > boundary else None
                if t_gen is not None and t_gen > 2900:
                    t_gen = None
                params = {
                    "p": P,
                    "weight_decay": wd,
                    "train_fraction": fraction,
                    "seed": seed,
                    "steps": 3000,
                }
                trajectory = pd.DataFrame(
                    {
                        "step": steps,
                        "train_accuracy": _curve(steps, 80.0, rng),
                        "test_accuracy": _curve(steps, t_gen, rng),
                        "test_loss": 3.0 - 2.5 * _curve(steps, t_gen, rng),
                        "weight_norm": 30.0 - 5.0 * _curve(steps, t_gen, rng),
                    }
                )
                run_id = f"wd{wd}-f{fraction}-s{seed}"
                store.publish(RunRecord(run_id, "modular_arithmetic", params, "done"), trajectory)
    return store


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> GrokkingStudy:
    """The study's analysis and report of the planted store (run once)."""
    folder = tmp_path_factory.mktemp("grokking-study")
    _planted_store(folder / "store")
    study = GrokkingStudy(folder=folder, store=folder / "store", sweep=None)
    return analyse_grokking(study, n_bootstrap=100)


def test_study_classifies_ranks_analyses_and_reports(study: GrokkingStudy) -> None:
    assert study.report_html is not None and study.report_html.exists()
    html = study.report_html.read_text()
    for section in ("phase-diagram", "phases", "order-parameter-ranking", "narrative"):
        assert f'id="{section}"' in html
    payload = json.loads(study.report_json.read_text())  # type: ignore[union-attr]
    assert payload["study"]["weight_decay"] in (0.3, 1.0, 3.0)
    assert sum(payload["study"]["phases"].values()) == 30
    assert payload["study"]["ranking"][0]["observable"] in {
        "generalisation",
        "test_loss",
        "weight_norm",
    }
    assert payload["analysis"]["transition"]["order"] in {"first", "second", "crossover", "none"}


def test_generalisation_is_zero_at_chance_and_one_at_perfect() -> None:
    frame = pd.DataFrame({"p": [10, 10, 10], "test_accuracy": [0.1, 1.0, 0.0]})
    assert add_generalisation(frame)["generalisation"].tolist() == [0.0, 1.0, 0.0]


def test_the_analysed_weight_decay_crosses_the_boundary(tmp_path: Path) -> None:
    frame = add_generalisation(_planted_store(tmp_path / "s").frame())
    runs = frame.groupby("run_id")[["weight_decay", "train_fraction", "seed", "p"]].first()
    phases = classify_phases(frame)
    wd = choose_weight_decay(phases, runs.reset_index())
    line = phases.merge(runs.reset_index(), on="run_id")
    line = line[line.weight_decay == wd]
    assert line.phase.isin(["grokking", "comprehension"]).any()
    assert line.phase.eq("memorisation").any()


def test_every_number_of_the_summary_is_the_one_of_its_section_and_the_json(
    study: GrokkingStudy,
) -> None:
    """One number, one source: the summary, the sections and report.json agree."""
    assert study.report_html is not None and study.report_json is not None
    page = parse(study.report_html.read_text(encoding="utf-8"))
    summary = page.section_text["narrative"]
    payload = json.loads(study.report_json.read_text())
    analysis, dynamics = payload["analysis"], payload["dynamics"]
    assert analysis is not None and dynamics is not None
    control = human(payload["control"])
    checked = 0

    # the order and the critical point: summary, susceptibility section, report.json
    order = analysis["transition"]["order"]
    if order in ("first", "second"):
        assert f"is {order} order" in summary
    critical = analysis["transition"]["critical_point"]
    if critical is not None:
        text = estimate(critical["value"], critical["ci"])
        assert f"{control} {text}" in summary
        assert f"Critical point: {control} {text}" in page.section_text["susceptibility"]
        checked += 1

    # exponents: summary, exponents section, report.json
    for name, value in (analysis["exponents"] or {}).items():
        if value is not None and value.get("value") is not None:
            text = estimate(value["value"], value.get("ci"))
            assert text in summary and text in page.section_text["exponents"], name
            checked += 1

    # how many runs show a transition: summary, trajectories section, report.json
    by_control = dynamics["transition_times"]["by_control"]
    found = sum(c["n_with_transition"] for c in by_control)
    total = sum(c["n_runs"] for c in by_control)
    counted = re.findall(r"found in (\d+) of (\d+) runs", summary)
    assert counted == [(str(found), str(total))]
    assert re.findall(r"found in (\d+) of (\d+) runs", page.section_text["trajectories"]) == (
        counted
    )
    checked += 1

    # the grokking-time law: one fit, quoted by the summary, its section and report.json
    laws = dynamics["transition_times"]["laws"]
    grokking = payload["study"]["grokking_time"]
    if laws is None:
        assert grokking is None and "grokking-time" not in page.section_text
    else:
        assert grokking["verdict"] == laws["verdict"] and grokking["best"] == laws["best"]
        assert grokking["fits"] == laws["fits"]
        verdict = laws["verdict"].rstrip(".")[1:]  # the sentence may be capitalised
        assert verdict in summary and verdict in page.section_text["grokking-time"]
        if laws["best"] is not None:
            # the law the summary's verdict says fits best is the one report.json calls best
            best = laws["best"].replace("_", " ").split()[0].lower()
            assert f"{best} law fits best" in verdict.lower()
        checked += 1
    assert checked >= 2
