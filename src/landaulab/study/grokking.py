"""The grokking study: a phase diagram of modular addition over weight decay × data.

Grokking — a network that fits its training data early and generalises long after —
read as a phase transition (Power et al. 2022, arXiv:2201.02177; Liu et al. 2022,
arXiv:2205.10343). The study

1. sweeps the built-in ``grokking`` spec (modular addition, weight decay × training
   fraction, two seeds) into ``folder/store`` — resumable like any sweep;
2. defines the order parameter *generalisation*, test accuracy above chance rescaled to
   [0, 1]: ``(test_accuracy − 1/p) / (1 − 1/p)``, 0 in the memorising phase;
3. classifies every run's learning phase (comprehension, grokking, memorisation,
   confusion) from its memorisation and generalisation steps;
4. ranks the recorded candidate order parameters by how sharply they mark the
   transition along the training fraction;
5. analyses the transition along the training fraction at the weight decay whose
   boundary lies inside the grid (:func:`landaulab.analyze.analyze`) and the
   trajectories (:func:`landaulab.dynamics.dynamics`);
6. reads how the grokking time grows towards the boundary: the time of each run's
   sudden rise of generalisation, fitted by the dynamics with Arrhenius, power and
   logarithmic laws (:func:`landaulab.dynamics.laws.compare_laws`). That one fit is what
   the summary, the grokking-time section and ``report.json`` all quote;
7. writes ``report.html`` and ``report.json`` into ``folder``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from landaulab.dynamics.laws import LawComparison
from landaulab.dynamics.result import DynamicsResult
from landaulab.errors import DataError, LandaulabError
from landaulab.execute.sweep import SweepReport, sweep
from landaulab.files import write_json_atomic
from landaulab.specs import builtin_spec_path
from landaulab.store.store import Store
from landaulab.study.phases import PHASES, classify_phases, late_values, rank_order_parameters

ORDER_PARAMETER = "generalisation"
CONTROL = "train_fraction"
OTHER = "weight_decay"
CANDIDATES = (
    ORDER_PARAMETER,
    "test_loss",
    "weight_norm",
    "fourier_concentration",
    "hessian_top",
)
LATE = 0.9  # the analysis ensemble: the last 10% of each run's logged steps


@dataclass
class GrokkingStudy:
    """Where the study wrote its outputs, and what it found."""

    folder: Path
    store: Path
    sweep: SweepReport | None
    phases: pd.DataFrame | None = None
    ranking: list[dict[str, Any]] = field(default_factory=list)
    weight_decay: float | None = None
    report_html: Path | None = None
    report_json: Path | None = None
    messages: list[str] = field(default_factory=list)


def add_generalisation(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the order parameter: test accuracy above chance, rescaled to [0, 1]."""
    if "test_accuracy" not in frame.columns or "p" not in frame.columns:
        raise DataError("the grokking study needs 'test_accuracy' and 'p' columns")
    chance = 1.0 / frame["p"].astype(float)
    out = frame.copy()
    out[ORDER_PARAMETER] = ((frame["test_accuracy"] - chance) / (1.0 - chance)).clip(0.0, 1.0)
    return out


def phase_map(phases: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """The most common phase per (weight decay, training fraction) cell."""
    joined = phases.merge(runs, on="run_id")
    return joined.groupby([OTHER, CONTROL])["phase"].agg(lambda s: s.value_counts().index[0])


def choose_weight_decay(phases: pd.DataFrame, runs: pd.DataFrame) -> float:
    """The weight decay whose line crosses the generalisation boundary with the most
    grokking runs (the slice the Landau analysis studies)."""
    joined = phases.merge(runs, on="run_id")
    joined["generalised"] = joined.phase.isin(["comprehension", "grokking"])
    best, best_score = None, (-1, -1)
    for wd, line in joined.groupby(OTHER):
        by_fraction = line.groupby(CONTROL)["generalised"].mean()
        crosses = int(by_fraction.min() < 0.5 < by_fraction.max() or 0 < by_fraction.mean() < 1)
        score = (crosses, int((line.phase == "grokking").sum()))
        if score > best_score:
            best, best_score = float(wd), score
    if best is None:
        raise DataError("no runs to choose a weight decay from")
    return best


def grokking_time_law(trajectories: DynamicsResult | None) -> LawComparison | None:
    """How the grokking time grows towards the boundary: the dynamics' law comparison of
    the main transition times (the sudden rise of generalisation) against the training
    fraction, or ``None`` without one.

    The study fits nothing itself, so the report's summary, its grokking-time section and
    ``report.json`` quote one fit.
    """
    if trajectories is None:
        return None
    return trajectories.transitions.laws


def run_grokking_study(
    folder: str | Path = "landaulab-demo",
    spec: str | Path | None = None,
    workers: int | None = None,
    progress: bool = True,
    n_bootstrap: int = 400,
) -> GrokkingStudy:
    """Run the whole grokking study; see the module docstring.

    Parameters
    ----------
    folder
        Output folder: ``store/``, ``report.html``, ``report.json``, ``figures/``.
    spec
        A sweep spec; default: the built-in ``grokking`` spec.
    workers
        Worker processes (default: number of cores).
    progress
        Show progress bars.
    n_bootstrap
        Bootstrap resamples for the analysis.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    store_path = folder / "store"
    report = sweep(
        spec or builtin_spec_path("grokking"), store=store_path, workers=workers, progress=progress
    )
    study = GrokkingStudy(folder=folder, store=store_path, sweep=report)
    study.messages += [str(report), f"store: {store_path}"]
    analyse_grokking(study, n_bootstrap=n_bootstrap)
    return study


def analyse_grokking(study: GrokkingStudy, n_bootstrap: int = 400) -> GrokkingStudy:
    """Phases, ranking, Landau analysis, grokking-time law and the report of a store."""
    from landaulab.analyze import analyze
    from landaulab.api import report
    from landaulab.dynamics import dynamics
    from landaulab.report import ExtraSection

    store = Store(study.store)
    frame = add_generalisation(store.frame())
    if frame.empty:
        raise DataError(f"{study.store}: no finished runs to analyse")
    runs = frame.groupby("run_id", sort=True)[[OTHER, CONTROL, "seed", "p"]].first().reset_index()
    phases = classify_phases(frame)
    study.phases = phases.merge(runs, on="run_id")
    cells = phase_map(phases, runs)
    wd = choose_weight_decay(phases, runs)
    study.weight_decay = wd

    late = late_values(frame, CANDIDATES, burn_in=LATE).reset_index().merge(runs, on="run_id")
    ranking = rank_order_parameters(late, CANDIDATES, CONTROL, others=[OTHER])
    study.ranking = [s.to_dict() for s in ranking]

    line = frame[frame[OTHER] == wd]
    analysis = analyze(
        line,
        order_parameter=ORDER_PARAMETER,
        control=CONTROL,
        burn_in=LATE,
        n_bootstrap=n_bootstrap,
    )
    try:
        trajectories = dynamics(
            line,
            order_parameter=ORDER_PARAMETER,
            control=CONTROL,
            n_bootstrap=min(n_bootstrap, 200),
        )
    except LandaulabError as exc:
        trajectories = None
        study.messages.append(f"dynamics not estimable: {exc}")
    law = grokking_time_law(trajectories)

    counts = study.phases.phase.value_counts().reindex(list(PHASES), fill_value=0)
    table = cells.unstack(CONTROL)
    extra = [
        ExtraSection(
            id="phases",
            title="Learning phases",
            paragraphs=(
                "Each run is classified as in Liu et al. 2022 (arXiv:2205.10343) by when its "
                "training and test accuracy pass 0.9: comprehension (both together), grokking "
                "(test much later), memorisation (test never, within the budget), confusion "
                "(not even the training set).",
                "Runs per phase: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".",
                f"The Landau analysis below follows the training fraction at weight decay {wd:g}, "
                "the line that crosses the generalisation boundary with the most grokking runs.",
            ),
            table=table.reset_index().rename(columns=str),
        ),
        ExtraSection(
            id="order-parameter-ranking",
            title="Which observable marks the transition",
            paragraphs=(
                "Candidates ranked by sharpness: the fraction of each observable's change "
                "along the training fraction that happens between two neighbouring values "
                "(1 = a single jump), and the contrast of that jump to the seed spread.",
            ),
            table=pd.DataFrame(study.ranking),
        ),
    ]
    if law is not None:
        extra.append(
            ExtraSection(
                id="grokking-time",
                title="How the grokking time grows towards the boundary",
                paragraphs=(
                    "The grokking time of a run is the time of its sudden rise of "
                    "generalisation (its main transition in the trajectories section); its "
                    f"growth towards the boundary along the training fraction at weight decay "
                    f"{wd:g} is fitted with Arrhenius, power and logarithmic laws.",
                    law.verdict,
                ),
                table=pd.DataFrame(
                    [
                        {k: v for k, v in f.to_dict().items() if not isinstance(v, dict | list)}
                        for f in law.fits
                    ]
                ),
            )
        )
    result = report(
        frame,
        order_parameter=ORDER_PARAMETER,
        control=CONTROL,
        output=study.folder / "report.html",
        figures_dir=study.folder / "figures",
        analysis=analysis,
        dynamics=trajectories,
        extra_sections=extra,
        where={OTHER: wd},
        title="Grokking as a phase transition: modular addition",
    )
    payload = json.loads(Path(result.json).read_text())
    payload["study"] = {
        "weight_decay": wd,
        "phases": {k: int(v) for k, v in counts.items()},
        "phase_map": [
            {OTHER: float(k[0]), CONTROL: float(k[1]), "phase": v} for k, v in cells.items()
        ],
        "ranking": study.ranking,
        "grokking_time": law.to_dict() | {"summary": str(law)} if law is not None else None,
        "runs": json.loads(study.phases.to_json(orient="records")),
    }
    write_json_atomic(Path(result.json), payload)
    study.report_html = Path(result.html)
    study.report_json = Path(result.json)
    study.messages += [
        "phases: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
        f"sharpest order parameter: {study.ranking[0]['observable']}"
        if study.ranking
        else "no order parameter changes along the training fraction",
        f"report: {study.report_html}",
        f"json: {study.report_json}",
    ]
    return study
