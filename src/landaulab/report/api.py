"""``report(findings, ...)``: the findings of a study → report.html, report.json and figures.

A report is a pure function of its :class:`~landaulab.report.findings.Findings`: the typed
analysis and dynamics results (or why each is missing), the roles of the columns, the runs
analysed and the descriptive per-run table. It computes nothing: every number a sentence,
table or figure shows is read from those results (through :mod:`landaulab.report.results`,
once). Making findings from a store or a table is the face's work
(:func:`landaulab.api.report`, which is what ``ll.report(source, ...)`` calls).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from landaulab.analyze.bootstrap import MIN_UNITS, TARGET_UNITS
from landaulab.design import bin_controls
from landaulab.files import write_bytes_atomic, write_json_atomic
from landaulab.report import figures as fig
from landaulab.report.aggregate import phase_grid
from landaulab.report.findings import ExtraSection, Findings
from landaulab.report.formatting import capital, human, plain
from landaulab.report.html import (
    GAPS_ID,
    FigureBlock,
    Section,
    details_html,
    exponent_table,
    gaps_html,
    page,
    table_html,
)
from landaulab.report.narrative import (
    METHOD_NAMES,
    Narrative,
    ReportContext,
    build_narrative,
    describe_estimate,
)
from landaulab.report.results import AnalysisView, DynamicsView, read_analysis, read_dynamics
from landaulab.serialize import to_json

REPORT_FORMAT = 1


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
        The results' JSON forms (``None`` when not available); the typed results are
        ``findings.analysis`` and ``findings.dynamics``.
    analysis_error, dynamics_error
        Why a result is missing, when it is.
    not_estimable
        Section id → sentence, for every section without a figure.
    findings
        Everything the report shows.
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
    findings: Findings | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (paths as strings)."""
        return to_json(  # type: ignore[no-any-return]
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
        return self.add_rendered(name, rendered, caption)

    def add_rendered(self, name: str, rendered: fig.Rendered, caption: str) -> FigureBlock:
        self.saved[name] = fig.save(rendered, self.directory, name)
        return FigureBlock(name=name, png=rendered.png, caption=caption)


def _blocks(*blocks: FigureBlock | None) -> tuple[FigureBlock, ...]:
    return tuple(b for b in blocks if b is not None)


# ---------------------------------------------------------------------- sections
@dataclass(frozen=True)
class _Inputs:
    findings: Findings
    analysis: AnalysisView
    dynamics: DynamicsView

    @property
    def roles(self) -> Any:
        return self.findings.roles

    @property
    def absolute(self) -> bool:
        return self.findings.absolute

    @property
    def step_col(self) -> str:
        return self.findings.step_col

    @property
    def run_col(self) -> str:
        return self.findings.run_col


def _labels(inputs: _Inputs) -> tuple[str, str]:
    op = human(inputs.roles.order_parameter)
    return human(inputs.roles.control), f"|{op}|" if inputs.absolute else op


def _irregular(inputs: _Inputs) -> bool:
    """Whether the control design is irregular: as the analysis or the dynamics saw it,
    or, without either, by the one rule of :mod:`landaulab.design` on the runs' controls."""
    kinds = {inputs.analysis.design, inputs.dynamics.design} - {None}
    if kinds:
        return "irregular" in kinds
    runs, control = inputs.findings.slice_runs, inputs.roles.control
    if control not in runs.columns:
        return False
    values = pd.to_numeric(runs[control], errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return bin_controls(values, min_per_value=MIN_UNITS, per_bin=TARGET_UNITS).irregular


def _phase_section(inputs: _Inputs, figures: _Figures) -> Section:
    roles = inputs.roles
    control_label, value_label = _labels(inputs)
    runs = inputs.findings.runs
    others = [p for p in roles.swept if p != roles.control and p in runs.columns]
    critical = inputs.analysis.critical_point
    paragraphs: list[str] = []
    figure: Figure | None
    scattered = _irregular(inputs)
    if others and roles.control in runs.columns:
        second = max(others, key=lambda p: (runs[p].nunique(), p == roles.size, p))
        grid = phase_grid(runs.dropna(subset=["value"]), roles.control, second)
        on_row = inputs.findings.slice.fixed.get(second)
        figure = fig.phase_diagram(
            grid,
            x_label=control_label,
            y_label=human(second),
            value_label=f"late-time {value_label}",
            critical=critical if on_row is not None or second == roles.size else None,
            critical_row=on_row,
            scattered=scattered,
        )
        caption = (
            f"Late-time {value_label} (mean over the late steps of each run, the window of "
            "the analysis, averaged over seeds"
            + (" and the other swept parameters" if len(others) > 1 else "")
            + f") over {control_label} × {human(second)}."
        )
        if critical is not None and on_row is not None:
            caption += (
                f" The dashed mark is the critical point found along {control_label} at "
                f"{human(second)} = {plain(on_row, 4)}."
            )
        paragraphs.append(
            f"Each {'point' if scattered else 'cell'} is one condition; the colour is the "
            f"late-time {value_label}. A phase boundary shows as a sharp change of colour."
        )
    else:
        grid = inputs.findings.time_map if inputs.findings.time_map is not None else pd.DataFrame()
        edges = np.asarray(inputs.findings.time_edges, dtype=float)
        figure = fig.phase_diagram(
            grid,
            x_label=control_label,
            y_label=f"training time ({human(inputs.step_col)})",
            value_label=f"mean {value_label}",
            critical=critical,
            time_edges=edges,
            scattered=scattered,
        )
        caption = (
            f"Mean {value_label} over runs, by {control_label} and training time: "
            "only one parameter is swept, so the diagram's second axis is time."
        )
    if scattered:
        caption += (
            f" The values of {control_label} are irregular (too few runs share one), so "
            "each condition is drawn as a point at its value."
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
    slice_runs = inputs.findings.slice_runs
    runs = pd.DataFrame(
        {
            name: pd.to_numeric(slice_runs[column], errors="coerce")
            if column in slice_runs.columns
            else pd.Series(np.nan, index=slice_runs.index, dtype=float)
            for name, column in (("control", roles.control), ("value", "value"))
        }
    ).dropna(subset=["value"])
    table, column = _order_table(inputs)
    analysis = inputs.analysis
    missing: list[str] = []
    gaps: list[tuple[str, str]] = []
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
        size = roles.size if roles.size in slice_runs.columns else None
        by_size = size is not None and slice_runs[size].nunique() > 1
        if by_size:
            runs = runs.assign(size=pd.to_numeric(slice_runs[size], errors="coerce"))
        figure = fig.order_parameter_runs(
            runs,
            control_label=control_label,
            value_label=value_label,
            critical=analysis.critical_point,
            size_name=human(size) if size else None,
        )
        caption = f"Late-time {value_label} of each run against {control_label}, and " + (
            f"their mean per {human(size)}." if by_size and size else "their mean."
        )
        gaps.append(
            (
                "ensemble statistics per control value",
                analysis.error or "no analysis result",
            )
        )
    block = figures.add("order_parameter", figure, caption)
    if block is None:
        missing.append(f"No finite late-time values of {value_label} to plot.")
    return Section(
        "order-parameter",
        "Order parameter",
        (),
        _blocks(block),
        tuple(missing),
        tuple(html_parts),
        tuple(gaps),
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
    gaps = (
        ()
        if block
        else (
            (
                "susceptibility and Binder cumulant",
                analysis.error or "the analysis gave no per-control table",
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
                    "detail": getattr(e, "detail", "") or "",
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
    paragraphs: tuple[str, ...] = ()
    critical = analysis.critical_point
    if critical is not None:
        method = METHOD_NAMES.get(critical.method or "", human(critical.method or ""))
        paragraphs = (
            f"Critical point: {control_label} {describe_estimate(critical)}"
            + (f", located by {method}." if method else "."),
        )
    return Section(
        "susceptibility",
        "Susceptibility and Binder cumulant",
        paragraphs,
        _blocks(block),
        (),
        tuple(html_parts),
        gaps,
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
    gaps: list[tuple[str, str]] = []
    if static is None:
        gaps.append(
            (
                "the static free energy F(m)",
                analysis.error or analysis.not_estimable.get("landau", "no free-energy curves"),
            )
        )
    if dynamic is None:
        gaps.append(
            (
                "the effective potential of the dynamics",
                dynamics.error or "no attractor in the dynamics result",
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
        (),
        tuple(html_parts),
        tuple(gaps),
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
    gaps: tuple[tuple[str, str], ...] = ()
    if block is None:
        if not inputs.roles.size:
            reason = "it needs runs at two or more sizes, and no size column was given"
        elif analysis.error:
            reason = analysis.error
        else:
            reason = analysis.not_estimable.get("collapse") or analysis.not_estimable.get(
                "nu", "the analysis gave no collapse"
            )
        gaps = (("data collapse", reason),)
    return Section("collapse", "Data collapse", (), _blocks(block), gaps=gaps)


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
    gaps: tuple[tuple[str, str], ...] = ()
    if not analysis.available:
        # nothing was measured: no table of empty rows
        gaps = (("critical exponents", analysis.error or "no analysis result"),)
        return Section("exponents", "Critical exponents", tuple(paragraphs), gaps=gaps)
    if all(v is None for v in analysis.exponents.values()):
        reason = analysis.not_estimable.get("beta")
        if reason:
            gaps = (("critical exponents", reason),)
        else:
            missing = ("Not enough data to estimate any critical exponent.",)
    table = exponent_table(analysis.exponents)
    note = (
        "<p>Exponent ratios are relative to the size column as given. ✓: the reference value "
        "lies inside the measured 95% confidence interval.</p>"
    )
    return Section(
        "exponents", "Critical exponents", tuple(paragraphs), (), missing, (table, note), gaps
    )


def _trajectory_section(inputs: _Inputs, figures: _Figures) -> Section:
    roles = inputs.roles
    control_label, value_label = _labels(inputs)
    dynamics = inputs.dynamics
    frame = inputs.findings.trajectories
    main = figures.add(
        "trajectories",
        fig.trajectories(
            frame,
            total_runs=inputs.findings.n_trajectory_runs,
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
    slice_runs = inputs.findings.slice_runs
    if inputs.run_col in slice_runs.columns and roles.control in slice_runs.columns:
        firsts = pd.Series(
            pd.to_numeric(slice_runs[roles.control], errors="coerce").to_numpy(dtype=float),
            index=slice_runs[inputs.run_col].astype(str),
        )
        run_controls = {str(k): float(v) for k, v in firsts.items() if np.isfinite(v)}
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
    gaps: list[tuple[str, str]] = []
    if main is None:
        missing.append(f"No trajectories of {value_label} to draw.")
    if not dynamics.available:
        gaps.append(("transition times", dynamics.error or "no dynamics result"))
    elif not dynamics.transition_times:
        missing.append("No sudden change in time was detected in any run.")
    paragraphs = []
    if dynamics.n_runs_checked:
        paragraphs.append(
            f"A sudden change in time was found in {dynamics.n_with_transition} of "
            f"{dynamics.n_runs_checked} runs."
        )
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
        tuple(gaps),
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


def _gathered(built_in: Sequence[Section]) -> list[Section]:
    """The built-in sections after the caller's: those that show something, without
    their gaps, then one section listing every gap and every section left empty."""
    shown = [replace(s, gaps=()) for s in built_in if s.shows]
    gaps = [(s.id, what, why) for s in built_in for what, why in s.gaps]
    empty = [(s.id, m) for s in built_in if not s.shows for m in s.missing]
    if not (gaps or empty):
        return shown
    gathered = Section(
        GAPS_ID,
        "Generic analysis: not shown",
        (
            "The sections above carry this report's answers. What the generic analysis "
            "sections would have shown is listed here, each with why it is not shown.",
        ),
        html=(gaps_html(gaps, empty, taken={s.id for s in shown}),),
    )
    return [*shown, gathered]


def _narrative_section(narrative: Narrative) -> Section:
    paragraphs = tuple(" ".join(p) for _, p in narrative.paragraphs)
    return Section("narrative", "Summary", paragraphs)


def _extra_sections(extras: Sequence[ExtraSection], figures: _Figures) -> list[Section]:
    out: list[Section] = []
    for item in extras:
        block = None
        if isinstance(item.figure, Figure):
            block = figures.add(item.id.replace("-", "_"), item.figure, item.caption or item.title)
        elif item.figure is not None:
            block = figures.add_rendered(
                item.id.replace("-", "_"), item.figure, item.caption or item.title
            )
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
def html_path(output: str | Path) -> Path:
    """``output`` with an ``.html`` suffix (added when it has another or none)."""
    path = Path(output)
    if path.suffix.lower() in (".html", ".htm"):
        return path
    return path.with_suffix(path.suffix + ".html") if path.suffix else path.with_suffix(".html")


def report(
    findings: Findings,
    *,
    output: str | Path = "report.html",
    figures_dir: str | Path | None = None,
    json_output: str | Path | None = None,
) -> ReportResult:
    """Write the HTML report, ``report.json`` and PNG + PDF figures of ``findings``.

    Parameters
    ----------
    findings
        Everything the report shows (:func:`landaulab.api.findings` makes them from data).
    output
        Path of the HTML file (``.html`` added when missing).
    figures_dir
        Folder for the figure files (default: ``<output stem>_figures`` beside the HTML).
    json_output
        Path of the JSON file (default: the output path with suffix ``.json``).

    Returns
    -------
    ReportResult
        Paths, narrative and results.
    """
    output = html_path(output)
    json_path = Path(json_output) if json_output is not None else output.with_suffix(".json")
    figure_path = (
        Path(figures_dir) if figures_dir is not None else (output.parent / f"{output.stem}_figures")
    )
    roles = findings.roles
    analysis_view = read_analysis(findings.analysis, findings.analysis_error)
    dynamics_view = read_dynamics(findings.dynamics, findings.dynamics_error)
    notes = [*findings.notes, *analysis_view.notes, *dynamics_view.notes]
    inputs = _Inputs(findings=findings, analysis=analysis_view, dynamics=dynamics_view)
    narrative = build_narrative(_context(findings), analysis_view, dynamics_view)
    figures = _Figures(figure_path)
    summary = _narrative_section(narrative)
    extras = _extra_sections(findings.extra_sections, figures)
    built_in = [
        _phase_section(inputs, figures),
        _order_section(inputs, figures),
        _susceptibility_section(inputs, figures),
        _free_energy_section(inputs, figures),
        _collapse_section(inputs, figures),
        _exponents_section(inputs),
        _trajectory_section(inputs, figures),
        _evidence_section(inputs, notes),
    ]
    not_estimable = {s.id: " ".join(s.sentences) for s in built_in if s.sentences}
    if findings.extras_first:
        sections = [summary, *extras, *_gathered(built_in)]
    else:
        sections = [summary, *built_in[:-1], *extras, built_in[-1]]
    op_label = human(roles.order_parameter)
    page_title = findings.title or f"Landau report: {op_label} against {human(roles.control)}"
    from landaulab.version import __version__

    subtitle = (
        f"Source: {findings.source}. Order parameter: {roles.order_parameter}; control: "
        f"{roles.control}" + (f"; size: {roles.size}" if roles.size else "") + "."
    )
    document = page(
        page_title,
        subtitle,
        sections,
        footer=f"Written by landaulab {__version__}. Figures as PNG and PDF in {figure_path}.",
    )
    write_bytes_atomic(output, document.encode("utf-8"))
    analysis_json = findings.analysis.to_dict() if findings.analysis is not None else None
    dynamics_json = findings.dynamics.to_dict() if findings.dynamics is not None else None
    payload = {
        "format": REPORT_FORMAT,
        "source": findings.source,
        "order_parameter": roles.order_parameter,
        "control": roles.control,
        "size": roles.size,
        "absolute": findings.absolute,
        "roles": {"automatic": list(roles.automatic), "reasons": list(roles.reasons)},
        "slice": dict(findings.slice.fixed) if findings.slice.fixed else None,
        "analysis": analysis_json,
        "analysis_error": findings.analysis_error,
        "dynamics": dynamics_json,
        "dynamics_error": findings.dynamics_error,
        "narrative": narrative.to_dict(),
        "not_estimable": not_estimable,
        "notes": notes,
        "figures": {k: {"png": str(p), "pdf": str(q)} for k, (p, q) in figures.saved.items()},
        "html": str(output),
        "findings": findings.to_dict(results=False),
    }
    write_json_atomic(json_path, to_json(payload))
    return ReportResult(
        html=output,
        json=json_path,
        figures_dir=figure_path,
        figures=dict(figures.saved),
        narrative=narrative,
        order_parameter=roles.order_parameter,
        control=roles.control,
        size=roles.size,
        analysis=to_json(analysis_json),
        dynamics=to_json(dynamics_json),
        analysis_error=findings.analysis_error,
        dynamics_error=findings.dynamics_error,
        not_estimable=not_estimable,
        findings=findings,
    )


def _context(findings: Findings) -> ReportContext:
    roles = findings.roles
    runs = findings.slice_runs
    controls = (
        pd.to_numeric(runs[roles.control], errors="coerce").to_numpy(dtype=float)
        if roles.control in runs.columns
        else np.zeros(0)
    )
    sizes: tuple[float, ...] = ()
    if roles.size and roles.size in runs.columns:
        values = pd.to_numeric(runs[roles.size], errors="coerce").to_numpy(dtype=float)
        sizes = tuple(float(v) for v in np.unique(values[np.isfinite(values)]))
    return ReportContext(
        order_parameter=roles.order_parameter,
        control=roles.control,
        size=roles.size,
        n_runs=len(runs),
        control_values=tuple(float(v) for v in np.unique(controls[np.isfinite(controls)])),
        sizes=sizes,
        role_reasons=roles.reasons,
        slice_sentence=findings.slice.sentence,
        absolute=findings.absolute,
        lead=findings.lead,
    )


__all__ = ["ReportResult", "html_path", "report"]
