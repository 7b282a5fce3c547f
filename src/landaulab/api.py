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

from landaulab.analyze.api import analyze as _run_analysis
from landaulab.analyze.api import analyze_prepared
from landaulab.analyze.inputs import prepare_analysis
from landaulab.analyze.result import AnalysisResult
from landaulab.analyze.roles import (
    Roles,
    Slice,
    analysis_slice,
    choose_roles,
    choose_slice,
    fixed_slice,
    missing_column,
    select_runs,
    slicing_roles,
)
from landaulab.analyze.roles import late_values as run_late_values
from landaulab.dynamics.api import dynamics as _run_dynamics
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

#: A run selection: a DuckDB predicate on run parameters, or parameter → value.
Where = str | Mapping[str, Any]


class SliceWarning(UserWarning):
    """Which runs an analysis used, when not every run: the ``--where`` selection, or the
    slice taken because other swept parameters vary within a control group."""


# ---------------------------------------------------------------------- loading
def load(
    source: str | Path | pd.DataFrame,
    needed: Sequence[str] | None = None,
    *,
    run_col: str = "run_id",
    all_parameters: bool = False,
) -> tuple[pd.DataFrame, list[str] | None, str]:
    """The tidy frame of a source, its run parameters (when known) and a label for it.

    Parameters
    ----------
    source
        A store directory, a CSV/Parquet file of the tidy frame, or the frame itself.
    needed, run_col, all_parameters
        From a CSV/Parquet file, read only the ``needed`` columns and the run parameters
        (:func:`landaulab.store.load.load_frame`); None reads every column.

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
    frame = load_frame(path, needed, run_col=run_col, all_parameters=all_parameters)
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


# ------------------------------------------------------------------ analyze, dynamics
def _check_file_columns(source: str | Path, named: Mapping[str, str | None]) -> None:
    """A column named by an option but absent from a CSV/Parquet file's header is the
    one-line error before any row is read (a file of millions of rows is not parsed to
    say that a name is misspelled)."""
    from landaulab.store.load import file_columns

    columns = file_columns(source)
    if columns is None:
        return
    for option, name in named.items():
        if name is not None and name not in columns:
            raise DataError(missing_column(name, columns, option))


def _selected(
    source: str | Path | pd.DataFrame,
    *,
    order_parameter: str,
    control: str | None,
    size: str | None,
    where: Where | None,
    exclude: Sequence[str | None],
    absolute: bool | None,
    run_col: str,
    step_col: str,
    named: Mapping[str, str | None] | None = None,
) -> Slice:
    """The runs of ``source`` an analysis along ``control`` uses (one rule for the three
    faces: :func:`landaulab.analyze.roles.analysis_slice`); the sentence saying which runs
    is issued as a :class:`SliceWarning`."""
    needed = [order_parameter, control, size, step_col, *exclude, *(named or {}).values()]
    if not isinstance(source, pd.DataFrame):
        _check_file_columns(
            source,
            {
                "--order-parameter": order_parameter,
                "--control": control,
                "--size": size,
                **(named or {}),
            },
        )
    frame, parameters, _ = load(
        source,
        [name for name in needed if name is not None],
        run_col=run_col,
        all_parameters=where is not None,
    )
    for option, name in (named or {}).items():
        if name is not None and name not in frame.columns:
            raise DataError(missing_column(name, frame.columns, option, frame.attrs.get("renamed")))
    if run_col not in frame.columns or step_col not in frame.columns:
        frame, _ = complete_columns(frame, run_col, step_col)
    part = analysis_slice(
        frame,
        order_parameter=order_parameter,
        control=control,
        size=size,
        parameters=parameters,
        where=where,
        exclude=exclude,
        absolute=absolute,
        run_col=run_col,
        step_col=step_col,
    )
    if part.sentence:
        warnings.warn(part.sentence, SliceWarning, stacklevel=3)
    return part


def analyze(
    frame: pd.DataFrame | str | Path,
    *,
    order_parameter: str,
    control: str,
    size: str | None = None,
    where: Where | None = None,
    volume: str | None = None,
    run_col: str = "run_id",
    step_col: str = "step",
    burn_in: float = BURN_IN,
    use_abs: bool = False,
    direction_col: str | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    energy: str | None = None,
    field: str | None = None,
) -> AnalysisResult:
    """The Landau analysis (:func:`landaulab.analyze.api.analyze`) of the runs of a frame,
    table file or store, never pooled across other swept parameters.

    ``where`` selects runs: a DuckDB predicate on run parameters (``"weight_decay = 1"``)
    or a mapping of parameter → value. When other swept parameters (not the control, the
    size, seeds, ``volume``, ``direction_col``, ``energy`` or ``field``) still vary within
    a control group, the analysis uses the slice crossing the transition, as the report
    does (:func:`landaulab.analyze.roles.analysis_slice`), and says so in a
    :class:`SliceWarning`; ``result.inputs`` then holds ``where`` and ``slice`` (the values
    the other parameters are held at). Other parameters: see the analysis.

    Raises
    ------
    DataError
        A named column is missing, the control takes one value, or ``where`` is invalid
        or matches no run (and every error of the analysis).
    """
    part = _selected(
        frame,
        order_parameter=order_parameter,
        control=control,
        size=size,
        where=where,
        exclude=(volume, direction_col, energy, field),
        absolute=use_abs,
        run_col=run_col,
        step_col=step_col,
        named={
            "--volume": volume,
            "--direction-col": direction_col,
            "--energy": energy,
            "--field": field,
        },
    )
    fixed = part.fixed
    prepared = prepare_analysis(
        part.frame,
        order_parameter=order_parameter,
        control=control,
        size=size,
        volume=volume,
        run_col=run_col,
        step_col=step_col,
        burn_in=burn_in,
        use_abs=use_abs,
        direction_col=direction_col,
        n_bootstrap=n_bootstrap,
        seed=seed,
        energy=energy,
        field=field,
        # a table this function read from a file is its own: freed while laid out
        release=not isinstance(frame, pd.DataFrame),
    )
    del part
    if not isinstance(frame, pd.DataFrame):
        from landaulab.store.load import release_read_buffers

        release_read_buffers()
    result = analyze_prepared(prepared)
    if where is None and not fixed:
        return result
    from dataclasses import replace

    inputs = dict(result.inputs)
    if where is not None:
        inputs["where"] = where if isinstance(where, str) else dict(where)
    if fixed:
        inputs["slice"] = dict(fixed)
    return replace(result, inputs=inputs)


def dynamics(
    frame: pd.DataFrame | str | Path,
    *,
    order_parameter: str,
    time_col: str = "step",
    control: str | None = None,
    where: Where | None = None,
    run_col: str = "run_id",
    n_bootstrap: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    finite_time_correction: bool = False,
    tdgl_powers: Sequence[int] | None = None,
    smoothing: float = 0.005,
    burn_in: float = BURN_IN,
    late_fraction: float | None = None,
) -> DynamicsResult:
    """The dynamical analysis (:func:`landaulab.dynamics.api.dynamics`) of the runs of a
    frame, table file or store, with the run selection rule of :func:`analyze`.

    ``where`` selects runs as in :func:`analyze`; with a ``control``, other swept
    parameters varying within a control group give the slice crossing the transition
    (said in a :class:`SliceWarning`); without one, a warning names the parameters whose
    values are pooled.
    """
    part = _selected(
        frame,
        order_parameter=order_parameter,
        control=control,
        size=None,
        where=where,
        exclude=(),
        absolute=None,
        run_col=run_col,
        step_col=time_col,
        named={"--time-col": time_col},
    )
    return _run_dynamics(
        part.frame,
        order_parameter=order_parameter,
        time_col=time_col,
        control=control,
        run_col=run_col,
        n_bootstrap=n_bootstrap,
        seed=seed,
        confidence=confidence,
        finite_time_correction=finite_time_correction,
        tdgl_powers=tdgl_powers,
        smoothing=smoothing,
        burn_in=burn_in,
        late_fraction=late_fraction,
    )


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
    where: Where | None = None,
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
    selected: tuple[pd.DataFrame, str] | None = None
    chosen: Roles | None = None
    if isinstance(where, str):
        selected = select_runs(frame, where, parameters=parameters, run_col=run_col)
        if order_parameter is None or control is None:
            # the columns are chosen among the selected runs (the control must vary there)
            chosen = choose_roles(
                selected[0],
                order_parameter=order_parameter,
                control=control,
                size=size,
                parameters=parameters,
                run_col=run_col,
                step_col=step_col,
            )
            order_parameter, control = chosen.order_parameter, chosen.control
            size = size if size is not None else chosen.size
    roles = choose_roles(
        frame,
        order_parameter=order_parameter,
        control=control,
        size=size,
        parameters=parameters,
        run_col=run_col,
        step_col=step_col,
    )
    if chosen is not None:
        from dataclasses import replace

        roles = replace(
            roles, automatic=chosen.automatic, reasons=chosen.reasons, scores=chosen.scores
        )
    analysis_result = _as_analysis(analysis)
    dynamics_result = _as_dynamics(dynamics)
    analysis_kwargs = dict(analysis_options or {})
    absolute = bool(analysis_kwargs.get("use_abs", roles.symmetric))
    if selected is not None:
        part = _where_slice(frame, selected, roles, run_col=run_col, step_col=step_col)
    elif isinstance(where, Mapping) and where:
        part = fixed_slice(frame, roles, where)
    elif analysis_result is None or dynamics_result is None:
        part = choose_slice(
            frame, slicing_roles(frame, roles, (), run_col), run_col=run_col, step_col=step_col
        )
    else:
        part = Slice(frame=frame, fixed={})
    used_slice = bool(where)
    analysis_error = None
    if analysis_result is None:
        analysis_kwargs.setdefault("use_abs", absolute)
        analysis_kwargs.setdefault("run_col", run_col)
        analysis_kwargs.setdefault("step_col", step_col)
        analysis_result, analysis_error, caught = _call(
            _run_analysis,
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


def _where_slice(
    frame: pd.DataFrame,
    selected: tuple[pd.DataFrame, str],
    roles: Roles,
    *,
    run_col: str,
    step_col: str,
) -> Slice:
    """The runs a ``where`` predicate selects, sliced further as :func:`choose_slice` does
    when other swept parameters still vary within a control group."""
    rows, text = selected
    sliced = slicing_roles(rows, roles, (), run_col)
    part = choose_slice(rows, sliced, run_col=run_col, step_col=step_col)
    n_all, n_rows = frame[run_col].nunique(), rows[run_col].nunique()
    varying = {k: v for k, v in part.fixed.items() if rows[k].nunique(dropna=True) > 1}
    sentence = f"The analysis along {roles.control} uses the {n_rows} of {n_all} runs where {text}"
    if varying:
        at = ", ".join(f"{k} = {v}" for k, v in varying.items())
        sentence += f", at {at}, where {roles.order_parameter} changes most along {roles.control}"
    sentence += "; the phase diagram shows every run."
    return Slice(frame=part.frame if varying else rows, fixed=varying, sentence=sentence)


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
    where: Where | None = None,
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
        The runs analysed along the control: a DuckDB predicate on run parameters
        (``"weight_decay = 1"``; further sliced as by default when other swept
        parameters still vary within it) or fixed values of other swept parameters
        (``{"train_fraction": 0.3}``); default: the slice crossing the transition when
        the results are computed here, every run when both are given.
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
    "SliceWarning",
    "Where",
    "analyze",
    "dynamics",
    "findings",
    "is_analysis_json",
    "is_report_json",
    "load",
    "read_json",
    "report",
]
