"""The grokking study: where the generalisation boundary is, how sharp, of which order,
and how it moves with size and with the training budget.

Grokking — a network that fits its training data early and generalises long after —
read as a phase transition (Power et al. 2022, arXiv:2201.02177; Liu et al. 2022,
arXiv:2205.10343; Rubin, Seroussi & Ringel 2023, arXiv:2310.03789). The order
parameter is *generalisation*, test accuracy above chance rescaled to [0, 1]:
``(test_accuracy − 1/p) / (1 − 1/p)``, 0 in the memorising phase.

The study runs in stages (:mod:`landaulab.study.grokking_stages`), each sweeping into
one store, so an interrupted study resumes where it stopped:

1. **map** — the coarse phase diagram, weight decay × training fraction;
2. **locate** — adaptive refinement of the boundary along the training fraction at
   the study's weight decay, to ± 0.02, for two sizes (the modulus p); for the size the
   map covers, its row at that weight decay is the coarse round (refinement starts in
   the map's bracket, with seeds the map has not trained);
3. **resolve** — 16 seeds at the boundary and on both sides of it, per size: P(m),
   the static free energy F(m) = −ln P(m)/N and its Landau fit, the Binder cumulant
   and χ, and the order verdict from coexistence; the boundary itself is then the
   logistic curve through every seed on the line at the full budget, and where its
   interval is still wider than ± 0.01 more seeds are trained at it (**sharpen**);
4. **budget** — the boundary read again at shorter budgets from the same
   trajectories, fitted with a power law (convergence to a critical fraction) and
   Arrhenius (no critical fraction);
5. **rank** — the candidate order parameters located with the boundary's definition;
6. **report** — ``report.html`` and ``report.json`` read the typed result
   (:class:`~landaulab.study.grokking_result.GrokkingStudyResult`) and recompute nothing.
"""

from __future__ import annotations

import itertools
import json
import resource
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from landaulab.errors import DataError
from landaulab.files import write_json_atomic
from landaulab.spec.schema import SweepSpec
from landaulab.specs import builtin_spec_path
from landaulab.store.store import Store
from landaulab.study.grokking_result import (
    Boundary,
    BudgetLaw,
    ControlEnsemble,
    FreeEnergy,
    GrokkingStudyResult,
    MapRun,
    OrderVerdict,
    StageTiming,
)
from landaulab.study.grokking_stages import (
    CANDIDATES,
    CONTROL,
    FULL,
    HIGH,
    LATE,
    ORDER_PARAMETER,
    OTHER,
    QUICK,
    SIZE,
    StudyConfig,
    add_generalisation,
    boundary_accuracy,
    budget_law,
    budget_points,
    control_ensemble,
    decided,
    free_energy,
    late_generalisation,
    map_bracket,
    order_verdict,
    rank_candidates,
    rising,
    runs_table,
    sharpen_step,
)
from landaulab.study.phases import PHASES, classify_phases

if TYPE_CHECKING:
    from landaulab.study.refine import RefinementReport

__all__ = [
    "CANDIDATES",
    "CONTROL",
    "ORDER_PARAMETER",
    "OTHER",
    "GrokkingStudy",
    "add_generalisation",
    "analyse_grokking",
    "run_grokking_study",
]


@dataclass
class GrokkingStudy:
    """Where the study wrote its outputs, and its result."""

    folder: Path
    store: Path
    config: StudyConfig = FULL
    result: GrokkingStudyResult | None = None
    report_html: Path | None = None
    report_json: Path | None = None
    messages: list[str] = field(default_factory=list)
    boundaries: dict[int, Boundary] = field(default_factory=dict)
    controls: dict[int, tuple[float, ...]] = field(default_factory=dict)
    timings: list[StageTiming] = field(default_factory=list)


class _Clock:
    """Wall and CPU time of a stage (this process and its finished worker processes)."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = self._cpu()

    @staticmethod
    def _cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def stop(self, stage: str, runs: int) -> StageTiming:
        return StageTiming(stage, time.perf_counter() - self.wall, self._cpu() - self.cpu, runs)


def run_grokking_study(
    folder: str | Path = "landaulab-demo",
    quick: bool = False,
    workers: int | None = None,
    progress: bool = True,
    config: StudyConfig | None = None,
) -> GrokkingStudy:
    """Run every stage of the study into ``folder`` (see the module docstring).

    Parameters
    ----------
    folder
        Output folder: ``store/``, ``study.json``, ``report.html``, ``report.json``,
        ``figures/``.
    quick
        The small configuration (:data:`~landaulab.study.grokking_stages.QUICK`, about
        two minutes) instead of the full one.
    workers
        Worker processes (default: number of cores).
    progress
        Show progress bars.
    config
        An explicit configuration (overrides ``quick``).
    """
    from landaulab.execute.sweep import sweep

    config = config or (QUICK if quick else FULL)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    study = GrokkingStudy(folder=folder, store=folder / "store", config=config)
    previous = _previous_timings(folder)

    clock = _Clock()
    mapped = sweep(
        builtin_spec_path(config.map_spec), store=study.store, workers=workers, progress=progress
    )
    study.timings.append(clock.stop("map", mapped.outcomes.get("done", 0)))
    study.messages.append(f"map: {mapped}")

    mapped_line = _map_line(study)
    for size in config.sizes:
        clock = _Clock()
        coarse, seeds = config.coarse, tuple(range(config.locate_seeds))
        if mapped_line is not None:
            coarse = mapped_line.coarse(size, config.coarse)
            if mapped_line.size == size:
                seeds = mapped_line.other_seeds(config.locate_seeds)
        trained = 0
        while True:
            spec = config.line_spec(size, coarse, seeds, f"locate-p{size}")
            refined = _locate(spec, study, size, workers, progress)
            trained += refined.trained
            located = [b for b in refined.boundaries if b.ordered_side == "above"]
            if located or coarse == config.coarse:
                break
            study.messages.append(
                f"locate p={size}: no crossing on the coarse grid from the map "
                f"({', '.join(f'{c:g}' for c in coarse)}); refining from the full coarse grid"
            )
            coarse = config.coarse
        study.timings.append(clock.stop(f"locate p={size}", trained))
        if not located:
            reasons = "; ".join(why for _, why in refined.no_boundary) or "no crossing"
            raise DataError(f"p = {size}: no generalisation boundary on the line ({reasons})")
        point = located[0]
        study.boundaries[size] = Boundary(
            size, config.steps, point.estimate, (point.lower, point.upper), "refinement_bracket"
        )
        study.messages.append(
            f"locate p={size}: boundary {point.estimate:.3f} [{point.lower:.4f}, "
            f"{point.upper:.4f}] ({refined.runs} runs, {refined.rounds} rounds, coarse "
            f"grid {', '.join(f'{c:g}' for c in coarse)}, seeds {', '.join(map(str, seeds))})"
        )

    for size in config.sizes:
        clock = _Clock()
        bracket = study.boundaries[size]
        # the ensemble's centre is the end of the refinement's bracket nearest its
        # estimate: a sampled fraction within the tolerance, whose seeds the ensemble
        # then reuses (the final boundary comes from the curve through every seed)
        centre = min(bracket.ci, key=lambda end: abs(end - bracket.value))
        controls = tuple(
            sorted({round(min(0.95, max(0.05, centre + o)), 3) for o in config.offsets})
        )
        study.controls[size] = controls
        spec = config.line_spec(size, controls, config.ensemble_seeds, f"resolve-p{size}")
        resolved = sweep(spec, store=study.store, workers=workers, progress=progress)
        study.timings.append(clock.stop(f"resolve p={size}", resolved.outcomes.get("done", 0)))
        study.messages.append(f"resolve p={size}: {resolved}")
        _sharpen(study, size, workers, progress)

    clock = _Clock()
    analyse_grokking(study)
    study.timings.append(clock.stop(ANALYSIS_STAGE, 0))
    if study.result is not None:
        study.result = _with_timings(study.result, merge_timings(previous, study.timings))
        _write(study)
    return study


def line_boundary(study: GrokkingStudy, size: int) -> Boundary | None:
    """The boundary of ``size`` at the full budget from every run on the study's line in
    its store (:func:`~landaulab.study.grokking_stages.budget_points`); ``None`` where
    the line has no crossing."""
    config = study.config
    frame = add_generalisation(Store(study.store).frame())
    on_line = np.isclose(frame[OTHER].astype(float), config.weight_decay) & (frame[SIZE] == size)
    points = budget_points(frame[on_line], size, [config.steps], config.n_bootstrap)
    return points[0] if points else None


def _sharpen(study: GrokkingStudy, size: int, workers: int | None, progress: bool) -> None:
    """Train more seeds at the fitted boundary of ``size``, ``sharpen_batch`` at a time
    and at most ``sharpen_seeds``, while its interval is wider than ``2·tolerance``
    (sequential design: each batch goes where the curve is least certain, its
    crossing). Each decision is read from the store as it stands, with a fixed
    bootstrap seed: a resumed study counts the runs already there and trains none
    twice."""
    from landaulab.execute.sweep import sweep

    config = study.config
    clock, extra, trained = _Clock(), 0, 0
    while True:
        fitted = line_boundary(study, size)
        step = sharpen_step(fitted, config, extra)
        if fitted is None or step is None:
            break
        centre, seeds = step
        spec = config.line_spec(size, (centre,), seeds, f"sharpen-p{size}")
        done = sweep(spec, store=study.store, workers=workers, progress=progress)
        trained += done.outcomes.get("done", 0)
        study.messages.append(
            f"sharpen p={size}: boundary {fitted.value:.3f} [{fitted.ci[0]:.4f}, "
            f"{fitted.ci[1]:.4f}] wider than {2 * config.tolerance:g}; {len(seeds)} seeds at "
            f"{centre:g}: {done}"
        )
        extra += len(seeds)
    if extra:
        study.timings.append(clock.stop(f"sharpen p={size}", trained))


def _locate(
    spec: SweepSpec, study: GrokkingStudy, size: int, workers: int | None, progress: bool
) -> RefinementReport:
    """Refine the boundary on one line (the locate stage of one size)."""
    from landaulab.study.refine import refine

    config = study.config
    return refine(
        spec,
        store=study.store,
        order_parameter="test_accuracy",
        tolerance=config.locate_tolerance or config.tolerance,
        along=CONTROL,
        # the boundary of the study: where the seed-averaged generalisation crosses one
        # half, i.e. the test accuracy crosses half way from chance to 1 (grokking is a
        # jump, not a vanishing order parameter)
        locate="level",
        threshold=boundary_accuracy(size),
        # a point's first seeds decide it when each sits in one peak of P(m)
        # (generalisation below LOW or above HIGH), all in the same one
        first_seeds=config.locate_first_seeds,
        clear_margin=boundary_accuracy(size, HIGH) - boundary_accuracy(size),
        workers=workers,
        progress=progress,
    )


@dataclass(frozen=True)
class _MapLine:
    """The map's row at the study's weight decay: its size, seeds and bracket."""

    size: int
    seeds: tuple[int, ...]
    bracket: tuple[float, float] | None

    def coarse(self, size: int, grid: tuple[float, ...]) -> tuple[float, ...]:
        """Where the locate stage of ``size`` starts: for the map's size its bracket (its
        row has the rest); for another size the grid from the bracket's lower end up (the
        budget law reads the boundary at shorter budgets there, at larger fractions).
        The whole grid without a bracket; the study falls back to it without a crossing."""
        if self.bracket is None:
            return grid
        if size == self.size:
            return self.bracket
        above = tuple(c for c in grid if c >= self.bracket[0])
        return above if len(above) >= 2 else grid

    def other_seeds(self, count: int) -> tuple[int, ...]:
        """The first ``count`` seeds the map has not trained."""
        free = (s for s in itertools.count() if s not in self.seeds)
        return tuple(itertools.islice(free, count))


def _map_line(study: GrokkingStudy) -> _MapLine | None:
    """Where the map's row at the study's weight decay puts the boundary (``None``
    when the map has no such row)."""
    from landaulab.late_time import late_means
    from landaulab.spec.schema import load_spec

    config = study.config
    spec = load_spec(builtin_spec_path(config.map_spec))
    size = spec.settings.get(SIZE)
    decays = spec.control_values().get(OTHER, [spec.settings.get(OTHER)])
    if not isinstance(size, int) or not any(
        isinstance(d, int | float) and np.isclose(float(d), config.weight_decay) for d in decays
    ):
        return None
    frame = Store(study.store).frame()
    frame = frame[frame.run_id.isin(_map_runs(config))]
    frame = frame[np.isclose(frame[OTHER].astype(float), config.weight_decay)]
    if frame.empty:
        return _MapLine(size, tuple(spec.seed_list()), None)
    late = late_means(frame, ["test_accuracy"], burn_in=LATE).join(
        runs_table(frame).set_index("run_id")[[CONTROL]]
    )
    bracket = map_bracket(late, "test_accuracy", boundary_accuracy(size))
    return _MapLine(size, tuple(spec.seed_list()), bracket)


def _previous_timings(folder: Path) -> list[StageTiming]:
    """The stage costs a finished earlier study wrote to ``folder/study.json`` (none
    where it is absent or unreadable)."""
    try:
        data = json.loads((folder / "study.json").read_text(encoding="utf-8"))
        return [StageTiming.from_dict(t) for t in data.get("timings", [])]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def merge_timings(previous: list[StageTiming], current: list[StageTiming]) -> list[StageTiming]:
    """Each stage's cost over every session that built the store: a resumed study adds
    what it trained now to what the earlier one recorded (a stage it found done costs
    it almost nothing), so the table keeps the cost of the runs, not of reading them.
    The analysis is the current one's; stages only the earlier study ran keep their
    place before it."""
    before = {t.stage: t for t in previous if t.stage != ANALYSIS_STAGE}
    out = []
    for t in current:
        old = before.pop(t.stage, None)
        if old is not None:
            t = StageTiming(t.stage, old.wall_s + t.wall_s, old.cpu_s + t.cpu_s, old.runs + t.runs)
        out.append(t)
    tail = [t for t in out if t.stage == ANALYSIS_STAGE]
    return [t for t in out if t.stage != ANALYSIS_STAGE] + list(before.values()) + tail


def _with_timings(result: GrokkingStudyResult, timings: list[StageTiming]) -> GrokkingStudyResult:
    from dataclasses import replace

    return replace(result, timings=tuple(timings))


def _write(study: GrokkingStudy) -> None:
    assert study.result is not None
    write_json_atomic(study.folder / "study.json", study.result.to_dict())
    if study.report_json is not None and study.report_json.exists():
        payload = json.loads(study.report_json.read_text())
        payload["study"] = study.result.to_dict()
        write_json_atomic(study.report_json, payload)


def _map_runs(config: StudyConfig) -> set[str]:
    from landaulab.spec.plan import plan_sweep
    from landaulab.spec.schema import load_spec

    return {r.run_id for r in plan_sweep(load_spec(builtin_spec_path(config.map_spec)))}


def analyse_grokking(study: GrokkingStudy) -> GrokkingStudy:
    """Every statistic of the study from its store, then the report."""
    config = study.config
    rng = np.random.default_rng(0)
    frame = add_generalisation(Store(study.store).frame())
    if frame.empty:
        raise DataError(f"{study.store}: no finished runs to analyse")
    runs = runs_table(frame)

    # 1. the map
    on_map = runs[runs.run_id.isin(_map_runs(config))]
    phases = classify_phases(frame[frame.run_id.isin(on_map.run_id)]).merge(on_map, on="run_id")
    counts = phases.phase.value_counts().reindex(list(PHASES), fill_value=0)
    cells = phases.groupby([OTHER, CONTROL])["phase"].agg(lambda s: s.value_counts().index[0])

    late = late_generalisation(frame).rename("m")
    runs = runs.join(late, on="run_id").join(rising(frame).rename("rising"), on="run_id")
    on_line = runs[np.isclose(runs[OTHER].astype(float), config.weight_decay)]

    ensembles: list[ControlEnsemble] = []
    energies: list[FreeEnergy] = []
    orders: list[OrderVerdict] = []
    budget: list[BudgetLaw] = []
    boundary: list[Boundary] = []
    boundary_energies: list[FreeEnergy] = []
    located_at: dict[int, Boundary] = {}
    for size in config.sizes:
        line_runs = on_line[on_line[SIZE] == size]
        line = frame[frame.run_id.isin(line_runs.run_id)]
        points = budget_points(line, size, config.budgets(), config.n_bootstrap)
        # the boundary at the full budget: the curve through every seed on the line
        # (refinement, ensembles, sharpening); the refinement's own bracket, read from
        # its first seeds, only where the line has no crossing at all
        located = next((p for p in points if p.budget == config.steps), None)
        located = located or study.boundaries.get(size)
        if located is None:
            raise DataError(f"p = {size}: the boundary was not located")
        located_at[size] = located
        size_ensembles = []
        for control in study.controls.get(size, ()):
            members = line_runs[np.isclose(line_runs[CONTROL].astype(float), control)]
            members = members[members.seed < config.ensemble_seeds]
            if members.empty:
                continue
            members = members.sort_values("seed")
            values = members["m"].to_numpy(dtype=float)
            moving = members["rising"].fillna(False).to_numpy(dtype=bool)
            size_ensembles.append(
                control_ensemble(size, control, values, config.n_bootstrap, rng, moving)
            )
            energies.append(free_energy(size, control, values, config.n_bootstrap, rng))
        ensembles += size_ensembles
        at = min(size_ensembles, key=lambda e: abs(e.control - located.value), default=None)
        energy = next(
            (f for f in energies if at is not None and f.size == size and f.control == at.control),
            None,
        )
        orders.append(order_verdict(size, size_ensembles, located.value, energy))
        if energy is not None:
            boundary_energies.append(energy)
        boundary += [located, *(p for p in points if p.budget < config.steps)]
        budget.append(budget_law(size, points, config.n_bootstrap))

    largest = max(config.sizes)
    line = frame[frame.run_id.isin(on_line[on_line[SIZE] == largest].run_id)]
    # generalisation's location is the located boundary itself (one number, one source)
    ranking = [
        replace(c, location=located_at[largest].value) if c.observable == ORDER_PARAMETER else c
        for c in rank_candidates(line)
    ]
    result = GrokkingStudyResult(
        weight_decay=config.weight_decay,
        steps=config.steps,
        sizes=tuple(config.sizes),
        phases=tuple((k, int(v)) for k, v in counts.items()),
        phase_map=tuple((float(k[0]), float(k[1]), str(v)) for k, v in cells.items()),
        boundary=tuple(boundary),
        ensembles=tuple(ensembles),
        free_energy=tuple(energies),
        orders=tuple(orders),
        budget=tuple(budget),
        ranking=tuple(ranking),
        verdict=_verdict(config, located_at, orders, budget, boundary_energies),
        timings=tuple(study.timings),
        runs=tuple(
            MapRun(
                str(r.run_id),
                float(r.weight_decay),
                float(r.train_fraction),
                int(r.seed),
                int(r.p),
                None if pd.isna(r.memorisation_step) else float(r.memorisation_step),
                None if pd.isna(r.generalisation_step) else float(r.generalisation_step),
                str(r.phase),
            )
            for r in phases.itertuples(index=False)
        ),
    )
    study.result = result
    _report(study, frame, on_line)
    _write(study)
    study.messages += [
        result.verdict,
        f"report: {study.report_html}",
        f"json: {study.report_json}",
    ]
    return study


def _verdict(
    config: StudyConfig,
    boundaries: dict[int, Boundary],
    orders: list[OrderVerdict],
    budget: list[BudgetLaw],
    energies: list[FreeEnergy],
) -> str:
    where = " and ".join(
        f"{b.value:.3f} [{b.ci[0]:.3f}, {b.ci[1]:.3f}] for p = {s}"
        for s, b in sorted(boundaries.items())
    )
    kinds = {o.order for o in orders}
    if kinds == {"first"}:
        order = (
            "ungrokked seeds coexist there with grokked ones or ones caught in their jump, "
            "the signature of a first-order transition"
        )
        if not all(f.double_well for f in energies):
            order += " (the free energy's double well is not resolved with these seeds)"
    elif kinds == {"continuous"}:
        order = "one peak of P(m) shifts through it, a continuous change"
    else:
        order = "its order is " + ", ".join(f"{o.order} for p = {o.size}" for o in orders)
    parts = []
    for law in budget:
        if not decided(law):
            parts.append(f"the budget law is undecided for p = {law.size}")
        elif law.best == "power":
            fit = next(f for f in law.fits if f.law == "power")
            div = fit.divergence
            fc = f" {div[0]:.3f}" if div is not None and div[0] is not None else ""
            parts.append(
                f"it converges with the budget to a critical fraction{fc} for "
                f"p = {law.size} (power law)"
            )
        else:
            parts.append(f"it keeps moving with the budget for p = {law.size} ({law.best} law)")
    moves = "; ".join(parts)
    return (
        f"At weight decay {config.weight_decay:g} and {config.steps} steps the "
        f"generalisation boundary lies at training fraction {where}; {order}; {moves}."
    )


ANALYSIS_STAGE = "analyse and report"

STUDY_NOTE = (
    "the grokking study measures the transition with its own stages (the located "
    "boundary, the seed ensembles at it with their susceptibility and Binder cumulant, "
    "the static free energy and the budget law), reported in its own sections, not with "
    "the generic Landau and dynamics pipelines"
)


def _report(study: GrokkingStudy, frame: pd.DataFrame, on_line: pd.DataFrame) -> None:
    """Write the report from the typed result: the study's sections first, then the
    generic sections of its runs (the generic Landau and dynamics pipelines are not run,
    so no second estimate of the boundary can disagree with the study's; what they would
    have shown is listed once, collapsed)."""
    from landaulab.report import Findings, RoleChoice, report
    from landaulab.study.grokking_report import sections

    assert study.result is not None
    runs = on_line.rename(columns={"m": "value"}).drop(columns=["rising"], errors="ignore")
    runs = runs.assign(in_slice=True).reset_index(drop=True)
    found = Findings(
        source=str(study.store),
        roles=RoleChoice(
            order_parameter=ORDER_PARAMETER,
            control=CONTROL,
            size=SIZE,
            swept=(OTHER, CONTROL, SIZE),
        ),
        analysis=None,
        analysis_error=STUDY_NOTE,
        dynamics=None,
        dynamics_error=STUDY_NOTE,
        runs=runs,
        extra_sections=tuple(sections(study.result, study.config)),
        extras_first=True,
        lead=(study.result.verdict,),
        title="Grokking as a phase transition: modular addition",
    )
    result = report(
        found, output=study.folder / "report.html", figures_dir=study.folder / "figures"
    )
    study.report_html = Path(result.html)
    study.report_json = Path(result.json)
