"""``report(...)``: a store or a tidy frame → report.html, report.json and figure files.

The report reads result objects: the :func:`landaulab.analyze.analyze` result (statics) and
the :func:`landaulab.dynamics.dynamics` result (dynamics). Give them, or let the report
compute them on the chosen columns; if one cannot be computed (too little data, a missing
module), the report says so plainly and shows what it can.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from landaulab.errors import DataError, LandaulabError, LandaulabWarning
from landaulab.report import figures as fig
from landaulab.report.aggregate import late_values, phase_grid, time_grid
from landaulab.report.formatting import capital, human, plain
from landaulab.report.html import (
    SECTION_IDS,
    FigureBlock,
    Section,
    check_id,
    details_html,
    exponent_table,
    has_remote_reference,
    page,
    table_html,
)
from landaulab.report.narrative import Narrative, ReportContext, build_narrative
from landaulab.report.results import (
    AnalysisView,
    DynamicsView,
    as_dict,
    jsonable,
    read_analysis,
    read_dynamics,
)
from landaulab.analyze.roles import Roles, Slice, choose_roles, choose_slice, fixed_slice
from landaulab.store.atomic import write_bytes_atomic, write_json_atomic

REPORT_FORMAT = 1


class ReportWarning(LandaulabWarning):
    """A part of a report could not be computed because of an internal error upstream."""


@dataclass(frozen=True)
class ExtraSection:
    """A section added to a report by the caller (e.g. a study's phase regions).

    Parameters
    ----------
    id
        Stable id: lowercase letters, digits and hyphens, not one of the built-in ids.
    title
        The heading.
    paragraphs
        Plain-text paragraphs.
    figure
        A matplotlib figure (saved as ``<id>.png`` and ``<id>.pdf`` with the others).
    caption
        The figure's caption.
    table
        A table shown below the text.
    html
        A trusted HTML fragment appended at the end; it must not reference the network.
    """

    id: str
    title: str
    paragraphs: Sequence[str] = ()
    figure: Figure | None = None
    caption: str | None = None
    table: pd.DataFrame | None = None
    html: str | None = None


@dataclass(frozen=True)
class ReportResult:
    """Where a report was written and what it says.

    Attributes
    ----------
    html, json
        Paths of ``report.html`` and ``report.json``.
    figures_dir
        Folder of the figure files.
    figures
        Figure name → (PNG path, PDF path).
    narrative
        The plain-language summary.
    order_parameter, control, size
        The columns used.
    analysis, dynamics
        The results' JSON forms (``None`` when not available).
    analysis_error, dynamics_error
        Why a result is missing, when it is.
    not_estimable
        Section id → sentence, for every section without a figure.
    """

    html: Path
    json: Path
    figures_dir: Path
    figures: dict[str, tuple[Path, Path]]
    narrative: Narrative
    order_parameter: str
    control: str
    size: str | None
    analysis: dict[str, Any] | None = None
    dynamics: dict[str, Any] | None = None
    analysis_error: str | None = None
    dynamics_error: str | None = None
    not_estimable: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (paths as strings)."""
        return jsonable(
            {
                "html": str(self.html),
                "json": str(self.json),
                "figures_dir": str(self.figures_dir),
                "figures": {
                    k: {"png": str(p), "pdf": str(q)} for k, (p, q) in self.figures.items()
                },
                "narrative": self.narrative.to_dict(),
                "order_parameter": self.order_parameter,
                "control": self.control,
                "size": self.size,
                "analysis_error": self.analysis_error,
                "dynamics_error": self.dynamics_error,
                "not_estimable": self.not_estimable,
            }
        )

    def __str__(self) -> str:
        lines = [
            f"report: {self.html}",
            f"json:   {self.json}",
            f"figures: {self.figures_dir} ({len(self.figures)} figures, PNG and PDF)",
        ]
        return "\n".join(lines)


# ---------------------------------------------------------------------- loading
def _load(source: Any) -> tuple[pd.DataFrame, list[str] | None, str]:
    """The tidy frame, the run parameters (when known) and a label for the source."""
    if isinstance(source, pd.DataFrame):
        return source, None, "a table"
    from landaulab.store.load import load_frame
    from landaulab.store.store import MARKER, Store

    path = Path(source)
    if path.is_dir() and (path / MARKER).exists():
        store = Store(path)
        frame = store.frame()
        info = store.run_table()
        parameters = [c for c in info.columns if c not in ("run_id", "task", "status", "reason")]
        if frame.empty or len(frame.columns) <= 2:
            raise DataError(f"{path}: the store has no completed runs; run a sweep into it first")
        return frame, parameters, str(path)
    frame = load_frame(path)
    if frame.empty:
        raise DataError(f"{path}: the table has no rows; nothing to report")
    return frame, None, str(path)


def _run_result(
    function_path: str, frame: pd.DataFrame, **kwargs: Any
) -> tuple[Any, str | None, list[str]]:
    """Call analyze/dynamics; a user-facing error or a missing module becomes a reason."""
    module_name, name = function_path.rsplit(".", 1)
    try:
        import importlib

        function = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        return None, f"{function_path} is not available ({exc})", []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(frame, **kwargs)
        except LandaulabError as exc:
            return None, str(exc), []
        except Exception as exc:  # a defect upstream must not cost the rest of the report
            message = f"{function_path} failed with an internal error ({type(exc).__name__}: {exc})"
            warnings.warn(f"{message}; the report goes on without it", ReportWarning, stacklevel=3)
            return None, message, []
    notes = sorted({str(w.message) for w in caught if issubclass(w.category, UserWarning)})
    return result, None, notes


def _complete_columns(
    frame: pd.DataFrame, run_col: str, step_col: str
) -> tuple[pd.DataFrame, list[str]]:
    """Add a missing run or step column (as the analysis does) and say so."""
    notes: list[str] = []
    if run_col not in frame.columns:
        frame = frame.assign(**{run_col: np.arange(len(frame))})
        notes.append(f"No {run_col!r} column: every row is treated as an independent run.")
    if step_col not in frame.columns:
        frame = frame.assign(**{step_col: frame.groupby(run_col, sort=False).cumcount()})
        notes.append(f"No {step_col!r} column: rows are taken in table order within each run.")
    return frame, notes


# ---------------------------------------------------------------------- figures
@dataclass
class _Figures:
    directory: Path
    saved: dict[str, tuple[Path, Path]] = field(default_factory=dict)

    def add(self, name: str, figure: Figure | None, caption: str) -> FigureBlock | None:
        if figure is None:
            return None
        rendered = fig.render(figure)
        figure.clear()
        self.saved[name] = fig.save(rendered, self.directory, name)
        return FigureBlock(name=name, png=rendered.png, caption=caption)


def _blocks(*blocks: FigureBlock | None) -> tuple[FigureBlock, ...]:
    return tuple(b for b in blocks if b is not None)


# ---------------------------------------------------------------------- sections
@dataclass(frozen=True)
class _Inputs:
    frame: pd.DataFrame
    part: Slice
    roles: Roles
    absolute: bool
    analysis: AnalysisView
    dynamics: DynamicsView
    run_col: str
    step_col: str


def _labels(inputs: _Inputs) -> tuple[str, str]:
    op = human(inputs.roles.order_parameter)
    return human(inputs.roles.control), f"|{op}|" if inputs.absolute else op


def _phase_section(inputs: _Inputs, figures: _Figures) -> Section:
    roles = inputs.roles
    control_label, value_label = _labels(inputs)
    others = [p for p in roles.swept if p != roles.control]
    frame = inputs.frame
    critical = inputs.analysis.critical_point
    paragraphs: list[str] = []
    if others:
        second = max(others, key=lambda p: (frame[p].nunique(), p == roles.size, p))
        runs = late_values(
            frame,
            roles.order_parameter,
            run_col=inputs.run_col,
            step_col=inputs.step_col,
            parameters=(roles.control, second),
            absolute=inputs.absolute,
        )
        grid = phase_grid(runs, roles.control, second)
        on_row = inputs.part.fixed.get(second)
        figure = fig.phase_diagram(
            grid,
            x_label=control_label,
            y_label=human(second),
            value_label=f"late-time {value_label}",
            critical=critical if on_row is not None or second == roles.size else None,
            critical_row=on_row,
        )
        caption = (
            f"Late-time {value_label} (mean over the late half of each run, as in the analysis, averaged over seeds"
            + (" and the other swept parameters" if len(others) > 1 else "")
            + f") over {control_label} × {human(second)}."
        )
        if critical is not None and on_row is not None:
            caption += (
                f" The dashed mark is the critical point found along {control_label} at "
                f"{human(second)} = {plain(on_row, 4)}."
            )
        paragraphs.append(
            f"Each cell is one condition; the colour is the late-time {value_label}. "
            f"A phase boundary shows as a sharp change of colour."
        )
    else:
        grid, edges = time_grid(
            inputs.part.frame,
            roles.order_parameter,
            roles.control,
            step_col=inputs.step_col,
            absolute=inputs.absolute,
        )
        figure = fig.phase_diagram(
            grid,
            x_label=control_label,
            y_label=f"training time ({human(inputs.step_col)})",
            value_label=f"mean {value_label}",
            critical=critical,
            time_edges=edges,
        )
        caption = (
            f"Mean {value_label} over runs, by {control_label} and training time: "
            "only one parameter is swept, so the diagram's second axis is time."
        )
    block = figures.add("phase_diagram", figure, caption)
    missing = (
        ()
        if block
        else (f"No phase diagram: no finite values of {value_label} across {control_label}.",)
    )
    return Section("phase-diagram", "Phase diagram", tuple(paragraphs), _blocks(block), missing)


def _order_table(inputs: _Inputs) -> tuple[pd.DataFrame | None, str]:
    table = inputs.analysis.table
    if table is None:
        return None, "mean"
    column = "mean"
    if inputs.roles.symmetric and not inputs.absolute and "rms" in table.columns:
        column = "rms"
    return table, column


def _order_section(inputs: _Inputs, figures: _Figures) -> Section:
    roles = inputs.roles
    control_label, value_label = _labels(inputs)
    runs = late_values(
        inputs.part.frame,
        roles.order_parameter,
        run_col=inputs.run_col,
        step_col=inputs.step_col,
        parameters=(roles.control,),
        absolute=inputs.absolute,
    )
    runs = runs.rename(columns={roles.control: "control"})
    table, column = _order_table(inputs)
    analysis = inputs.analysis
    missing: list[str] = []
    html_parts: list[str] = []
    if table is not None and column in table.columns:
        figure = fig.order_parameter(
            table,
            control_label=control_label,
            value_label=f"⟨{value_label}⟩" if column == "mean" else f"√⟨{value_label}²⟩",
            size_name=roles.size,
            runs=runs,
            critical=analysis.critical_point,
            beta=analysis.exponents.get("beta"),
            column=column,
        )
        caption = (
            f"Ensemble {'mean' if column == 'mean' else 'root mean square'} of {value_label} "
            f"(± bootstrap standard error) against {control_label}; grey points are single runs."
        )
        if analysis.critical_point is not None:
            caption += " The dashed line and band are the critical point and its 95% CI."
        if analysis.exponents.get("beta") is not None and analysis.critical_point is not None:
            caption += " The red curve is A·|T − T_c|^β with β and T_c from the analysis."
        shown = [
            c
            for c in (
                "control",
                "size",
                "n_runs",
                "mean",
                "mean_stderr",
                "rms",
                "susceptibility",
                "binder",
            )
            if c in table.columns
        ]
        html_parts.append(details_html("Table of ensemble statistics", table_html(table[shown])))
    else:
        figure = fig.order_parameter_runs(
            runs,
            control_label=control_label,
            value_label=value_label,
            critical=analysis.critical_point,
        )
        caption = f"Late-time {value_label} of each run against {control_label}, and their mean."
        missing.append(
            "Not estimable: ensemble statistics per control value "
            + (f"({analysis.error})." if analysis.error else "(no analysis result).")
        )
    block = figures.add("order_parameter", figure, caption)
    if block is None:
        missing.append(f"No finite late-time values of {value_label} to plot.")
    return Section(
        "order-parameter", "Order parameter", (), _blocks(block), tuple(missing), tuple(html_parts)
    )


def _susceptibility_section(inputs: _Inputs, figures: _Figures) -> Section:
    control_label, _ = _labels(inputs)
    analysis = inputs.analysis
    table = analysis.table
    block = None
    if table is not None:
        figure = fig.susceptibility(
            table,
            control_label=control_label,
            size_name=inputs.roles.size,
            critical=analysis.critical_point,
            binder_crossing=analysis.binder_crossing,
        )
        block = figures.add(
            "susceptibility",
            figure,
            "Susceptibility χ = V·Var(m) and Binder cumulant U₄ = 1 − ⟨m⁴⟩/(3⟨m²⟩²) against "
            f"{control_label}. A peak of χ marks the transition; Binder curves of different "
            "sizes cross at the critical point (mean field U* ≈ 0.27, 2D Ising U* ≈ 0.61).",
        )
    missing = (
        ()
        if block
        else (
            "Not estimable: susceptibility and Binder cumulant "
            + (
                f"({analysis.error})."
                if analysis.error
                else "(the analysis gave no per-control table)."
            ),
        )
    )
    html_parts = []
    estimates = [e for e in (analysis.critical_point, *analysis.other_critical_points) if e]
    if estimates:
        rows = pd.DataFrame(
            [
                {
                    "method": human(e.method or "n/a"),
                    "detail": e.detail or "",
                    "value": e.value,
                    "ci low": e.low,
                    "ci high": e.high,
                }
                for e in estimates
            ]
        )
        html_parts.append(
            details_html(
                "Every estimate of the critical point (the first is the headline)", table_html(rows)
            )
        )
    return Section(
        "susceptibility",
        "Susceptibility and Binder cumulant",
        (),
        _blocks(block),
        missing,
        tuple(html_parts),
    )


def _free_energy_section(inputs: _Inputs, figures: _Figures) -> Section:
    control_label, value_label = _labels(inputs)
    analysis, dynamics = inputs.analysis, inputs.dynamics
    static = figures.add(
        "free_energy",
        fig.free_energy(
            analysis.free_energy,
            control_label=control_label,
            value_label=value_label,
            size_name=inputs.roles.size,
            critical=analysis.critical_point,
        ),
        "Landau free energy F(m) = −log P(m)/V from the ensemble (points) and its Landau "
        "polynomial fit (line) at several control values; triangles mark the minima. Two "
        "minima of similar depth mean coexisting phases (first order); one minimum moving "
        "continuously away from m = 0 means second order.",
    )
    dynamic = figures.add(
        "effective_potential",
        fig.effective_potential(
            dynamics.potentials,
            control_label=control_label,
            value_label=human(inputs.roles.order_parameter),
        ),
        "Effective potential of the training dynamics (from the drift dm/dt of the order "
        "parameter) at each control value; triangles mark its minima, the attractors.",
    )
    missing: list[str] = []
    if static is None:
        missing.append(
            "Not estimable: the static free energy F(m) "
            + (
                f"({analysis.error})."
                if analysis.error
                else f"({analysis.not_estimable.get('landau', 'no free-energy curves')})."
            )
        )
    if dynamic is None:
        missing.append(
            "Not estimable: the effective potential of the dynamics "
            + (
                f"({dynamics.error})."
                if dynamics.error
                else "(no potential in the dynamics result)."
            )
        )
    html_parts = []
    if analysis.coefficients:
        rows = pd.DataFrame(analysis.coefficients)[
            ["name", "control", "size", "value", "low", "high"]
        ]
        rows = rows.rename(columns={"low": "ci low", "high": "ci high"})
        html_parts.append(details_html("Fitted Landau coefficients", table_html(rows)))
    if dynamics.attractors:
        rows = pd.DataFrame(
            [
                {
                    "control": a.get("control"),
                    "position": a.get("position"),
                    "ci low": (a.get("ci") or [None, None])[0],
                    "ci high": (a.get("ci") or [None, None])[1],
                }
                for a in dynamics.attractors
            ]
        )
        html_parts.append(details_html("Attractors of the dynamics", table_html(rows)))
    return Section(
        "free-energy",
        "Free-energy landscapes",
        (),
        _blocks(static, dynamic),
        tuple(missing),
        tuple(html_parts),
    )


def _collapse_section(inputs: _Inputs, figures: _Figures) -> Section:
    control_label, value_label = _labels(inputs)
    analysis = inputs.analysis
    block = figures.add(
        "collapse",
        fig.collapse(
            analysis.collapse,
            control_label=control_label,
            value_label=value_label,
            size_name=inputs.roles.size,
            parameters=analysis.collapse_parameters,
        ),
        "Finite-size-scaling collapse: with the fitted T_c, ν and exponent ratio ρ, the data "
        "of every size fall on one curve when the critical scaling holds.",
    )
    missing: tuple[str, ...] = ()
    if block is None:
        if not inputs.roles.size:
            reason = "it needs runs at two or more sizes, and no size column was given"
        elif analysis.error:
            reason = analysis.error
        else:
            reason = analysis.not_estimable.get("collapse") or analysis.not_estimable.get(
                "nu", "the analysis gave no collapse"
            )
        missing = (f"Not estimable: data collapse ({reason}).",)
    return Section("collapse", "Data collapse", (), _blocks(block), missing)


def _exponents_section(inputs: _Inputs) -> Section:
    analysis = inputs.analysis
    paragraphs = []
    if analysis.verdict:
        paragraphs.append(analysis.verdict)
    known = any(v is not None for v in analysis.exponents.values())
    if analysis.consistent_with_mean_field is not None and known:
        paragraphs.append(
            "Consistent with mean field (Landau) theory: "
            + ("yes." if analysis.consistent_with_mean_field else "no.")
        )
    missing: tuple[str, ...] = ()
    if not analysis.available:
        missing = (
            "Not estimable: critical exponents "
            + (f"({analysis.error})." if analysis.error else "(no analysis result)."),
        )
    elif all(v is None for v in analysis.exponents.values()):
        reason = analysis.not_estimable.get("beta")
        missing = (
            f"Not estimable: critical exponents ({reason})."
            if reason
            else "Not enough data to estimate any critical exponent.",
        )
    table = exponent_table(analysis.exponents)
    note = (
        "<p>Exponent ratios are relative to the size column as given. ✓: the reference value "
        "lies inside the measured 95% confidence interval.</p>"
    )
    return Section("exponents", "Critical exponents", tuple(paragraphs), (), missing, (table, note))


def _trajectory_section(inputs: _Inputs, figures: _Figures) -> Section:
    roles = inputs.roles
    control_label, value_label = _labels(inputs)
    dynamics = inputs.dynamics
    frame = inputs.part.frame
    main = figures.add(
        "trajectories",
        fig.trajectories(
            frame,
            order_parameter=roles.order_parameter,
            control=roles.control,
            value_label=human(roles.order_parameter),
            control_label=control_label,
            times=dynamics.transition_times,
            run_col=inputs.run_col,
            step_col=inputs.step_col,
        ),
        f"{capital(human(roles.order_parameter))} during training, one line per run, coloured by "
        f"{control_label}; open circles mark the transition times detected in each run.",
    )
    run_controls: dict[str, float] = {}
    if inputs.run_col in frame.columns:
        firsts = frame.groupby(inputs.run_col, sort=False)[roles.control].first()
        run_controls = {
            str(k): float(v)
            for k, v in pd.to_numeric(firsts, errors="coerce").items()
            if np.isfinite(v)
        }
    timing = figures.add(
        "transition_times",
        fig.transition_times(
            dynamics.transition_times,
            run_controls,
            control_label=control_label,
            time_label=f"transition time ({human(inputs.step_col)})",
        ),
        f"Detected transition time of each run against {control_label}, with the median.",
    )
    missing: list[str] = []
    if main is None:
        missing.append(f"No trajectories of {value_label} to draw.")
    if not dynamics.available:
        missing.append(
            "Not estimable: transition times "
            + (f"({dynamics.error})." if dynamics.error else "(no dynamics result).")
        )
    elif not dynamics.transition_times:
        missing.append("No sudden change in time was detected in any run.")
    paragraphs = []
    if dynamics.law_verdict:
        paragraphs.append(capital(dynamics.law_verdict))
    html_parts = []
    if dynamics.relaxation:
        rows = pd.DataFrame(
            [
                {
                    "control": r.get("control"),
                    "relaxation time": r.get("value"),
                    "ci low": (r.get("ci") or [None, None])[0],
                    "ci high": (r.get("ci") or [None, None])[1],
                }
                for r in dynamics.relaxation
            ]
        )
        html_parts.append(details_html("Relaxation times", table_html(rows)))
    if dynamics.transition_times:
        rows = pd.DataFrame(
            [
                {
                    "run": t.run_id,
                    "control": t.control if t.control is not None else run_controls.get(t.run_id),
                    "time": t.time,
                    "ci low": t.low,
                    "ci high": t.high,
                }
                for t in dynamics.transition_times
            ]
        )
        html_parts.append(details_html("Transition times by run", table_html(rows)))
    return Section(
        "trajectories",
        "Trajectories and transition times",
        tuple(paragraphs),
        _blocks(main, timing),
        tuple(missing),
        tuple(html_parts),
    )


def _evidence_section(inputs: _Inputs, notes: Sequence[str]) -> Section:
    from landaulab.report.html import escape

    groups = (
        ("Statics: the Landau analysis", inputs.analysis.evidence),
        ("Dynamics", inputs.dynamics.evidence),
        ("Notes on the data", list(dict.fromkeys(notes))),
    )
    body = []
    for heading, items in groups:
        if items:
            entries = "".join(f"<li>{escape(capital(i))}</li>" for i in items)
            body.append(f'<h3>{escape(heading)}</h3><ul class="evidence">{entries}</ul>')
    missing: tuple[str, ...] = ()
    if not body:
        missing = ("No evidence was recorded: the analysis and dynamics results are missing.",)
    return Section("evidence", "Evidence", (), (), missing, tuple(body))


def _narrative_section(narrative: Narrative) -> Section:
    paragraphs = tuple(" ".join(p) for _, p in narrative.paragraphs)
    return Section("narrative", "Summary", paragraphs)


def _check_extras(extras: Sequence[Any] | None) -> list[ExtraSection]:
    """Validate extra sections before any work is done."""
    checked: list[ExtraSection] = []
    for item in extras or ():
        if isinstance(item, Mapping):
            try:
                item = ExtraSection(**item)
            except TypeError as exc:
                raise DataError(f"extra section: {exc}") from None
        if not isinstance(item, ExtraSection):
            raise DataError("extra sections must be ExtraSection objects or mappings")
        if not check_id(item.id) or item.id in SECTION_IDS:
            raise DataError(
                f"extra section id {item.id!r} must be lowercase letters, digits and hyphens "
                "and differ from the built-in section ids"
            )
        if item.html and has_remote_reference(item.html):
            raise DataError(f"extra section {item.id!r}: its HTML references the network")
        checked.append(item)
    ids = [item.id for item in checked]
    if len(set(ids)) != len(ids):
        raise DataError(f"extra section ids must be distinct; got {ids}")
    return checked


def _extra_sections(extras: Sequence[ExtraSection], figures: _Figures) -> list[Section]:
    out: list[Section] = []
    for item in extras:
        block = figures.add(item.id.replace("-", "_"), item.figure, item.caption or item.title)
        parts = []
        if item.table is not None:
            parts.append(table_html(item.table))
        if item.html:
            parts.append(item.html)
        paragraphs = (item.paragraphs,) if isinstance(item.paragraphs, str) else item.paragraphs
        out.append(
            Section(
                item.id,
                item.title,
                tuple(str(p) for p in paragraphs),
                _blocks(block),
                (),
                tuple(parts),
            )
        )
    return out


# ---------------------------------------------------------------------------- api
def report(
    source: str | Path | pd.DataFrame,
    *,
    order_parameter: str | None = None,
    control: str | None = None,
    size: str | None = None,
    output: str | Path = "report.html",
    figures_dir: str | Path | None = None,
    analysis: Any = None,
    dynamics: Any = None,
    extra_sections: Sequence[ExtraSection | Mapping[str, Any]] | None = None,
    json_output: str | Path | None = None,
    analysis_options: Mapping[str, Any] | None = None,
    dynamics_options: Mapping[str, Any] | None = None,
    title: str | None = None,
    where: Mapping[str, Any] | None = None,
    run_col: str = "run_id",
    step_col: str = "step",
) -> ReportResult:
    """Write an HTML report (with report.json and PNG + PDF figures) for a store or a frame.

    Parameters
    ----------
    source
        A store directory, a CSV/Parquet file of the tidy frame, or the frame itself.
    order_parameter, control, size
        Columns; those not given are chosen from the data (rules in
        :mod:`landaulab.report.roles`: the control is the swept parameter with the most
        distinct values, the order parameter the observable the swept parameters explain
        best), and the choice is stated in the report.
    output
        Path of the HTML file.
    figures_dir
        Folder for the figure files (default: ``<output stem>_figures`` beside the HTML).
    analysis, dynamics
        Results of :func:`landaulab.analyze.analyze` and :func:`landaulab.dynamics.dynamics`
        (objects or their ``to_dict()``). When not given they are computed on the chosen
        columns (on the slice crossing the transition when other parameters are swept).
    extra_sections
        Sections added after the built-in ones (:class:`ExtraSection` or mappings).
    json_output
        Path of the JSON file (default: the output path with suffix ``.json``).
    analysis_options, dynamics_options
        Keyword arguments passed on when the results are computed here (e.g.
        ``{"burn_in": 0.5, "n_bootstrap": 1000}``).
    title
        Page title (default: from the columns).
    where
        Fixed values of other swept parameters selecting the runs analysed along the
        control (e.g. ``{"train_fraction": 0.3}``); default: the slice crossing the
        transition when the results are computed here, every run when both are given.
    run_col, step_col
        The run and step columns.

    Returns
    -------
    ReportResult
        Paths, narrative and results.

    Raises
    ------
    DataError, StoreError
        The source cannot be read, a named column is missing, or nothing can serve as an
        order parameter or control.
    """
    extras = _check_extras(extra_sections)
    frame, parameters, source_label = _load(source)
    frame, notes = _complete_columns(frame, run_col, step_col)
    roles = choose_roles(
        frame,
        order_parameter=order_parameter,
        control=control,
        size=size,
        parameters=parameters,
        run_col=run_col,
        step_col=step_col,
    )
    output = Path(output)
    if output.suffix.lower() not in (".html", ".htm"):
        output = (
            output.with_suffix(output.suffix + ".html")
            if output.suffix
            else (output.with_suffix(".html"))
        )
    json_path = Path(json_output) if json_output is not None else output.with_suffix(".json")
    figure_path = (
        Path(figures_dir) if figures_dir is not None else (output.parent / f"{output.stem}_figures")
    )
    analysis_kwargs = dict(analysis_options or {})
    absolute = bool(analysis_kwargs.get("use_abs", roles.symmetric))
    if where:
        part = fixed_slice(frame, roles, where)
    elif analysis is None or dynamics is None:
        part = choose_slice(frame, roles, run_col=run_col, step_col=step_col)
    else:
        part = Slice(frame=frame, fixed={})
    used_slice = bool(where)

    analysis_error = None
    if analysis is None:
        analysis_kwargs.setdefault("use_abs", absolute)
        analysis_kwargs.setdefault("run_col", run_col)
        analysis_kwargs.setdefault("step_col", step_col)
        analysis, analysis_error, caught = _run_result(
            "landaulab.analyze.analyze",
            part.frame,
            order_parameter=roles.order_parameter,
            control=roles.control,
            size=roles.size,
            **analysis_kwargs,
        )
        notes += caught
        used_slice = True
    dynamics_error = None
    if dynamics is None:
        dynamics_kwargs = {
            "time_col": step_col,
            "control": roles.control,
            "run_col": run_col,
            **(dynamics_options or {}),
        }
        dynamics, dynamics_error, caught = _run_result(
            "landaulab.dynamics.dynamics",
            part.frame,
            order_parameter=roles.order_parameter,
            **dynamics_kwargs,
        )
        notes += caught
        used_slice = True
    analysis_view = read_analysis(analysis, analysis_error)
    dynamics_view = read_dynamics(dynamics, dynamics_error)
    notes += analysis_view.notes + dynamics_view.notes

    inputs = _Inputs(
        frame=frame,
        part=part,
        roles=roles,
        absolute=absolute,
        analysis=analysis_view,
        dynamics=dynamics_view,
        run_col=run_col,
        step_col=step_col,
    )
    narrative = build_narrative(_context(inputs, used_slice), analysis_view, dynamics_view)
    figures = _Figures(figure_path)
    sections = [
        _narrative_section(narrative),
        _phase_section(inputs, figures),
        _order_section(inputs, figures),
        _susceptibility_section(inputs, figures),
        _free_energy_section(inputs, figures),
        _collapse_section(inputs, figures),
        _exponents_section(inputs),
        _trajectory_section(inputs, figures),
    ]
    sections += _extra_sections(extras, figures)
    sections.append(_evidence_section(inputs, notes))
    op_label = human(roles.order_parameter)
    page_title = title or f"Landau report: {op_label} against {human(roles.control)}"
    from landaulab import __version__

    subtitle = (
        f"Source: {source_label}. Order parameter: {roles.order_parameter}; control: "
        f"{roles.control}" + (f"; size: {roles.size}" if roles.size else "") + "."
    )
    document = page(
        page_title,
        subtitle,
        sections,
        footer=f"Written by landaulab {__version__}. Figures as PNG and PDF in {figure_path}.",
    )
    not_estimable = {s.id: " ".join(s.missing) for s in sections if s.missing}
    write_bytes_atomic(output, document.encode("utf-8"))
    payload = {
        "format": REPORT_FORMAT,
        "source": source_label,
        "order_parameter": roles.order_parameter,
        "control": roles.control,
        "size": roles.size,
        "absolute": absolute,
        "roles": {"automatic": list(roles.automatic), "reasons": list(roles.reasons)},
        "slice": part.fixed if used_slice and part.fixed else None,
        "analysis": as_dict(analysis),
        "analysis_error": analysis_error,
        "dynamics": as_dict(dynamics),
        "dynamics_error": dynamics_error,
        "narrative": narrative.to_dict(),
        "not_estimable": not_estimable,
        "notes": notes,
        "figures": {k: {"png": str(p), "pdf": str(q)} for k, (p, q) in figures.saved.items()},
        "html": str(output),
    }
    write_json_atomic(json_path, jsonable(payload))
    return ReportResult(
        html=output,
        json=json_path,
        figures_dir=figure_path,
        figures=dict(figures.saved),
        narrative=narrative,
        order_parameter=roles.order_parameter,
        control=roles.control,
        size=roles.size,
        analysis=analysis_view.raw,
        dynamics=dynamics_view.raw,
        analysis_error=analysis_error,
        dynamics_error=dynamics_error,
        not_estimable=not_estimable,
    )


def _context(inputs: _Inputs, used_slice: bool) -> ReportContext:
    roles = inputs.roles
    frame = inputs.part.frame
    controls = pd.to_numeric(frame[roles.control], errors="coerce").to_numpy(dtype=float)
    sizes: tuple[float, ...] = ()
    if roles.size:
        values = pd.to_numeric(frame[roles.size], errors="coerce").to_numpy(dtype=float)
        sizes = tuple(float(v) for v in np.unique(values[np.isfinite(values)]))
    n_runs = int(frame[inputs.run_col].nunique()) if inputs.run_col in frame else len(frame)
    return ReportContext(
        order_parameter=roles.order_parameter,
        control=roles.control,
        size=roles.size,
        n_runs=n_runs,
        control_values=tuple(float(v) for v in np.unique(controls[np.isfinite(controls)])),
        sizes=sizes,
        role_reasons=roles.reasons,
        slice_sentence=inputs.part.sentence if used_slice else None,
        absolute=inputs.absolute,
    )


__all__ = ["ExtraSection", "ReportResult", "report"]
