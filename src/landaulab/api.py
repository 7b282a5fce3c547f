"""The Python face: load a source, choose the columns, analyse, and report.

``ll.analyze(...)``, ``ll.dynamics(...)`` and ``ll.report(...)`` call the functions of this
module (see :mod:`landaulab._callable`). :func:`findings` does the work a report needs
before it is written — it loads a store, a CSV/Parquet table, a frame or a saved JSON
file; chooses the order parameter, control, size and the slice crossing the transition
(:mod:`landaulab.analyze.roles`); runs :func:`~landaulab.analyze.analyze` and
:func:`~landaulab.dynamics.dynamics` on it; and gathers the per-run late-time table and a
sample of trajectories — and :func:`report` hands the resulting
:class:`~landaulab.report.findings.Findings` to the report, which only reads them.

A :class:`~landaulab.errors.LandaulabError` of the analysis or the dynamics (too little
data, say) becomes the reason that part is missing and the report shows the rest; any
other exception is a defect and propagates.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from landaulab.analyze.api import analyze
from landaulab.analyze.result import AnalysisResult
from landaulab.analyze.roles import Roles, Slice, choose_roles, choose_slice, fixed_slice
from landaulab.analyze.roles import late_values as run_late_values
from landaulab.dynamics.api import dynamics as _run_dynamics
from landaulab.dynamics.api import dynamics as dynamics
from landaulab.dynamics.result import DynamicsResult
from landaulab.errors import DataError, LandaulabError
from landaulab.late_time import BURN_IN
from landaulab.report.aggregate import time_grid
from landaulab.report.api import ReportResult
from landaulab.report.api import report as render_report
from landaulab.report.figures import MAX_TRAJECTORIES, spread_runs
from landaulab.report.findings import (
    ExtraSection,
    Findings,
    RoleChoice,
    SliceChoice,
    analysis_from_dict,
    check_extras,
    dynamics_from_dict,
)

#: Most samples per run kept in the trajectory sample of a report.
TRAJECTORY_POINTS = 400


# ---------------------------------------------------------------------- loading
def load(source: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, list[str] | None, str]:
    """The tidy frame of a source, its run parameters (when known) and a label for it.

    Parameters
    ----------
    source
        A store directory, a CSV/Parquet file of the tidy frame, or the frame itself.

    Raises
    ------
    DataError, StoreError
        The source cannot be read or holds no rows.
    """
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


def read_json(path: str | Path, what: str = "result") -> dict[str, Any]:
    """A JSON object from ``path``.

    Raises
    ------
    DataError
        The file is missing, unreadable or not an object.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no such {what} file") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the {what} JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: the {what} JSON must be an object")
    return data


def is_report_json(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` is a ``report.json`` holding its findings."""
    return isinstance(data.get("findings"), Mapping) and "narrative" in data


def is_analysis_json(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` is the JSON form of an analysis result (``analyze --json``)."""
    return isinstance(data.get("transition"), Mapping) and "table" in data


def _as_analysis(value: AnalysisResult | Mapping[str, Any] | None) -> AnalysisResult | None:
    if value is None or isinstance(value, AnalysisResult):
        return value
    if isinstance(value, Mapping):
        return analysis_from_dict(value)
    raise DataError("analysis must be an AnalysisResult or its to_dict() form")


def _as_dynamics(value: DynamicsResult | Mapping[str, Any] | None) -> DynamicsResult | None:
    if value is None or isinstance(value, DynamicsResult):
        return value
    if isinstance(value, Mapping):
        return dynamics_from_dict(value)
    raise DataError("dynamics must be a DynamicsResult or its to_dict() form")


def complete_columns(
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


def _call(
    function: Callable[..., Any], frame: pd.DataFrame, **kwargs: Any
) -> tuple[Any, str | None, list[str]]:
    """``function(frame, **kwargs)``; a user-facing error becomes the reason it is missing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(frame, **kwargs)
        except LandaulabError as exc:
            return None, str(exc), []
    notes = sorted({str(w.message) for w in caught if issubclass(w.category, UserWarning)})
    return result, None, notes


# ---------------------------------------------------------------------- findings
def _run_table(
    frame: pd.DataFrame,
    roles: Roles,
    part: Slice,
    *,
    absolute: bool,
    burn_in: float,
    run_col: str,
    step_col: str,
) -> pd.DataFrame:
    """One row per run: swept parameters, late-time ``value`` (NaN if none), ``in_slice``."""
    parameters = tuple(
        dict.fromkeys(p for p in (roles.control, roles.size, *roles.swept) if p and p in frame)
    )
    info = frame.groupby(run_col, sort=True)[list(parameters)].first().reset_index()
    late = run_late_values(
        frame,
        roles.order_parameter,
        run_col=run_col,
        step_col=step_col,
        burn_in=burn_in,
        absolute=absolute,
    )
    table = info.merge(late[[run_col, "value"]], on=run_col, how="left")
    table["value"] = pd.to_numeric(table["value"], errors="coerce").astype(float)
    in_slice = set(part.frame[run_col].unique()) if run_col in part.frame else set()
    table["in_slice"] = table[run_col].isin(in_slice)
    return table


def _trajectory_sample(
    frame: pd.DataFrame, roles: Roles, *, run_col: str, step_col: str
) -> tuple[pd.DataFrame, int]:
    """Up to :data:`~landaulab.report.figures.MAX_TRAJECTORIES` runs spread over the control,
    each thinned to at most :data:`TRAJECTORY_POINTS` samples; and how many runs there are."""
    columns = list(dict.fromkeys([run_col, step_col, roles.control, roles.order_parameter]))
    if not set(columns) <= set(frame.columns) or frame.empty:
        return pd.DataFrame(columns=columns), 0
    data = frame[columns].copy()
    value = pd.to_numeric(data[roles.order_parameter], errors="coerce")
    step = pd.to_numeric(data[step_col], errors="coerce")
    data = data[value.notna().to_numpy() & step.notna().to_numpy()]
    if data.empty:
        return pd.DataFrame(columns=columns), 0
    run_control = pd.to_numeric(
        data.groupby(run_col, sort=True)[roles.control].first(), errors="coerce"
    )
    chosen = spread_runs(run_control, MAX_TRAJECTORIES)
    parts = []
    for run in chosen:
        part = data[data[run_col] == run].sort_values(step_col, kind="stable")
        if len(part) > TRAJECTORY_POINTS:
            keep = np.unique(np.linspace(0, len(part) - 1, TRAJECTORY_POINTS).round().astype(int))
            part = part.iloc[keep]
        parts.append(part)
    sample = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return sample, len(run_control)


def findings(
    source: str | Path | pd.DataFrame,
    *,
    order_parameter: str | None = None,
    control: str | None = None,
    size: str | None = None,
    analysis: AnalysisResult | Mapping[str, Any] | None = None,
    dynamics: DynamicsResult | Mapping[str, Any] | None = None,
    extra_sections: Sequence[ExtraSection | Mapping[str, Any]] | None = None,
    analysis_options: Mapping[str, Any] | None = None,
    dynamics_options: Mapping[str, Any] | None = None,
    title: str | None = None,
    where: Mapping[str, Any] | None = None,
    run_col: str = "run_id",
    step_col: str = "step",
) -> Findings:
    """Everything a report of ``source`` shows (see :func:`report` for the parameters).

    A saved ``report.json`` gives back its findings (with ``extra_sections`` and ``title``
    replaced when given); a saved analysis JSON gives findings of that analysis alone.

    Raises
    ------
    DataError, StoreError
        The source cannot be read, a named column is missing, or nothing can serve as an
        order parameter or control.
    """
    extras = check_extras(extra_sections)
    if not isinstance(source, pd.DataFrame) and Path(source).suffix.lower() == ".json":
        return _saved_findings(
            Path(source), extras, title, order_parameter, control, size, dynamics
        )
    frame, parameters, source_label = load(source)
    frame, notes = complete_columns(frame, run_col, step_col)
    roles = choose_roles(
        frame,
        order_parameter=order_parameter,
        control=control,
        size=size,
        parameters=parameters,
        run_col=run_col,
        step_col=step_col,
    )
    analysis_result = _as_analysis(analysis)
    dynamics_result = _as_dynamics(dynamics)
    analysis_kwargs = dict(analysis_options or {})
    absolute = bool(analysis_kwargs.get("use_abs", roles.symmetric))
    if where:
        part = fixed_slice(frame, roles, where)
    elif analysis_result is None or dynamics_result is None:
        part = choose_slice(frame, roles, run_col=run_col, step_col=step_col)
    else:
        part = Slice(frame=frame, fixed={})
    used_slice = bool(where)
    analysis_error = None
    if analysis_result is None:
        analysis_kwargs.setdefault("use_abs", absolute)
        analysis_kwargs.setdefault("run_col", run_col)
        analysis_kwargs.setdefault("step_col", step_col)
        analysis_result, analysis_error, caught = _call(
            analyze,
            part.frame,
            order_parameter=roles.order_parameter,
            control=roles.control,
            size=roles.size,
            **analysis_kwargs,
        )
        notes += caught
        used_slice = True
    dynamics_error = None
    if dynamics_result is None:
        dynamics_kwargs = {
            "time_col": step_col,
            "control": roles.control,
            "run_col": run_col,
            **(dynamics_options or {}),
        }
        dynamics_result, dynamics_error, caught = _call(
            _run_dynamics,
            part.frame,
            order_parameter=roles.order_parameter,
            **dynamics_kwargs,
        )
        notes += caught
        used_slice = True
    if not used_slice:
        part = Slice(frame=frame, fixed={})
    burn_in = BURN_IN
    if analysis_result is not None:
        burn_in = float(analysis_result.inputs.get("burn_in", BURN_IN))
    elif "burn_in" in analysis_kwargs:
        burn_in = float(analysis_kwargs["burn_in"])
    runs = _run_table(
        frame, roles, part, absolute=absolute, burn_in=burn_in, run_col=run_col, step_col=step_col
    )
    time_map, edges = None, np.zeros(0)
    if not [p for p in roles.swept if p != roles.control]:
        time_map, edges = time_grid(
            part.frame, roles.order_parameter, roles.control, step_col=step_col, absolute=absolute
        )
    sample, n_runs = _trajectory_sample(part.frame, roles, run_col=run_col, step_col=step_col)
    return Findings(
        source=source_label,
        roles=RoleChoice(
            order_parameter=roles.order_parameter,
            control=roles.control,
            size=roles.size,
            swept=roles.swept,
            automatic=roles.automatic,
            reasons=roles.reasons,
            symmetric=roles.symmetric,
        ),
        slice=SliceChoice(fixed=dict(part.fixed), sentence=part.sentence),
        absolute=absolute,
        analysis=analysis_result,
        analysis_error=analysis_error,
        dynamics=dynamics_result,
        dynamics_error=dynamics_error,
        runs=runs,
        time_map=time_map,
        time_edges=tuple(float(e) for e in edges),
        trajectories=sample,
        n_trajectory_runs=n_runs,
        extra_sections=tuple(extras),
        notes=tuple(notes),
        title=title,
        run_col=run_col,
        step_col=step_col,
    )


def _saved_findings(
    path: Path,
    extras: list[ExtraSection],
    title: str | None,
    order_parameter: str | None,
    control: str | None,
    size: str | None,
    dynamics: DynamicsResult | Mapping[str, Any] | None,
) -> Findings:
    """Findings of a saved ``report.json`` or analysis JSON."""
    data = read_json(path, "report")
    if is_report_json(data):
        saved = Findings.from_dict(
            data["findings"], analysis=data.get("analysis"), dynamics=data.get("dynamics")
        )
        changes: dict[str, Any] = {}
        if extras:
            changes["extra_sections"] = tuple(extras)
        if title is not None:
            changes["title"] = title
        return _replace(saved, **changes)
    if is_analysis_json(data):
        result = analysis_from_dict(data)
        assert result is not None
        inputs = result.inputs
        op = order_parameter or inputs.get("order_parameter")
        ctrl = control or inputs.get("control")
        if not op or not ctrl:
            raise DataError(f"{path}: the analysis does not name its order parameter and control")
        return Findings(
            source=str(path),
            roles=RoleChoice(
                order_parameter=str(op),
                control=str(ctrl),
                size=size or inputs.get("size"),
                symmetric=bool(inputs.get("use_abs", False)),
            ),
            absolute=bool(inputs.get("use_abs", False)),
            analysis=result,
            dynamics=_as_dynamics(dynamics),
            dynamics_error=None if dynamics is not None else "no dynamics result was given",
            extra_sections=tuple(extras),
            title=title,
            notes=("The report was written from a saved analysis, without the runs.",),
        )
    raise DataError(
        f"{path}: not a report.json or an analysis JSON (`landaulab analyze --json`); "
        "give a store or a table of runs"
    )


def _replace(findings: Findings, **changes: Any) -> Findings:
    from dataclasses import replace

    return replace(findings, **changes) if changes else findings


# ---------------------------------------------------------------------------- report
def report(
    source: str | Path | pd.DataFrame,
    *,
    order_parameter: str | None = None,
    control: str | None = None,
    size: str | None = None,
    output: str | Path = "report.html",
    figures_dir: str | Path | None = None,
    analysis: AnalysisResult | Mapping[str, Any] | None = None,
    dynamics: DynamicsResult | Mapping[str, Any] | None = None,
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
        A store directory, a CSV/Parquet file of the tidy frame, the frame itself, or a
        saved ``report.json`` (rendered again) or analysis JSON (``analyze --json``).
    order_parameter, control, size
        Columns; those not given are chosen from the data (rules in
        :mod:`landaulab.analyze.roles`: the control is the swept parameter with the most
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
    found = findings(
        source,
        order_parameter=order_parameter,
        control=control,
        size=size,
        analysis=analysis,
        dynamics=dynamics,
        extra_sections=extra_sections,
        analysis_options=analysis_options,
        dynamics_options=dynamics_options,
        title=title,
        where=where,
        run_col=run_col,
        step_col=step_col,
    )
    return render_report(found, output=output, figures_dir=figures_dir, json_output=json_output)


__all__ = [
    "analyze",
    "dynamics",
    "findings",
    "is_analysis_json",
    "is_report_json",
    "load",
    "read_json",
    "report",
]
