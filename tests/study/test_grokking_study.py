"""The grokking study's analysis on a store of planted learning curves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from landaulab.store import RunRecord, Store
from landaulab.study.grokking import (
    GrokkingStudy,
    add_generalisation,
    analyse_grokking,
    choose_weight_decay,
)
from landaulab.study.phases import classify_phases

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


def test_study_classifies_ranks_analyses_and_reports(tmp_path: Path) -> None:
    _planted_store(tmp_path / "store")
    study = GrokkingStudy(folder=tmp_path, store=tmp_path / "store", sweep=None)
    analyse_grokking(study, n_bootstrap=100)
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
