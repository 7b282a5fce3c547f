"""Import runs from CSV or Parquet tables, in wide or long layout.

Wide layout: one row per (run, step), one column per metric::

    run,step,train_loss,test_accuracy
    a,0,2.30,0.10

Long layout: one row per (run, step, metric)::

    run,step,metric,value
    a,0,train_loss,2.30

The run column is optional (without it a file is one run, named after the file). A path
may be one file or a folder of files (``.csv``, ``.tsv``, gzipped or not, ``.parquet``),
each run then named by the file's path below the folder (plus the run column's value).
Hyperparameters come from columns declared with ``param_cols`` (constant within a run),
from the run names by a regex with named groups, or from ``params`` given for all runs.

Empty cells are "not logged at this step"; ±inf marks a run as diverged. Every cell of a
metric column must be a number or empty, and rows that repeat a (run, step) must agree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from landaulab.errors import DataError
from landaulab.serialize import to_json
from landaulab.store.ingest.common import (
    IngestedRun,
    IngestResult,
    check_unique_names,
    compile_pattern,
    existing_path,
    integer_steps,
    merge_params,
    numeric_column,
    params_from_name,
    publish_runs,
    reader_options,
    relative_name,
    run_from_table,
)

Layout = Literal["wide", "long"]
_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet", ".pq")
_METRIC_COLUMNS = ("metric", "metric_name", "name", "tag", "key")


def _is_table(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(_SUFFIXES)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def table_files(root: Path) -> list[Path]:
    """The tables to read: ``root`` itself or every table file below it, sorted."""
    if root.is_file():
        if not _is_table(root):
            raise DataError(
                f"{root}: unknown table format; give a .csv, .tsv (optionally .gz) or .parquet"
            )
        return [root]
    return sorted(p for p in root.rglob("*") if _is_table(p))


def read_frame(path: Path) -> pd.DataFrame:
    """Read one CSV/TSV/Parquet file.

    Raises
    ------
    DataError
        If the file cannot be parsed or has no rows.
    """
    lowered = path.name.lower()
    try:
        if lowered.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(path)
        else:
            separator = "\t" if ".tsv" in lowered else ","
            frame = pd.read_csv(path, sep=separator, compression="infer", low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except Exception as exc:  # parsers raise many types; each becomes one line
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: cannot read this table ({first})") from None
    if frame.empty:
        raise DataError(f"{path}: the table has no rows")
    frame.columns = [str(c) for c in frame.columns]
    duplicated = [c for c in frame.columns if list(frame.columns).count(c) > 1]
    if duplicated:
        raise DataError(f"{path}: column {duplicated[0]!r} appears twice")
    return frame


def _require_column(frame: pd.DataFrame, column: str, path: Path, option: str) -> None:
    if column not in frame.columns:
        shown = ", ".join(list(frame.columns)[:12])
        raise DataError(f"{path}: no column {column!r} (columns: {shown}); choose {option}")


def _run_labels(values: pd.Series, path: Path, column: str) -> np.ndarray:
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 1
        raise DataError(f"{path}: column {column!r} is empty in row {row}; every row needs a run")
    if pd.api.types.is_float_dtype(values) and (values == values.round()).all():
        values = values.astype("int64")
    return values.astype(str).to_numpy()


def read_table(
    path: str | os.PathLike[str],
    *,
    layout: Layout = "wide",
    run_col: str | None = None,
    step_col: str | None = None,
    metric_col: str | None = None,
    value_col: str = "value",
    param_cols: Sequence[str] = (),
    params: Mapping[str, Any] | None = None,
    pattern: str | None = None,
) -> list[IngestedRun]:
    """Read runs from one table or a folder of tables.

    Parameters
    ----------
    path
        A ``.csv`` / ``.tsv`` (optionally ``.gz``) / ``.parquet`` file or a folder of them.
    layout
        ``"wide"`` (a column per metric) or ``"long"`` (metric name and value columns).
    run_col
        The column naming the run; default ``"run"`` when present, else one run per file.
    step_col
        The step column (default ``"step"``).
    metric_col, value_col
        Long layout: the metric-name column (default: the first of ``metric``,
        ``metric_name``, ``name``, ``tag``, ``key`` present) and the value column.
    param_cols
        Columns holding hyperparameters (constant within each run).
    params
        Parameters given to every run (override everything else).
    pattern
        A regex with named groups matched against each run's name (file path below the
        folder, plus ``/<run>`` when there is a run column).

    Raises
    ------
    DataError
        Missing path or files, unreadable tables, missing or non-numeric columns,
        non-integer steps, conflicting repeated rows, varying parameter columns, or a
        pattern that does not match a run.
    """
    if layout not in ("wide", "long"):
        raise DataError(f"--layout {layout!r}: choose 'wide' or 'long'")
    root = existing_path(path, "a CSV or Parquet file, or a folder of them")
    compiled = compile_pattern(pattern)
    files = table_files(root)
    if not files:
        raise DataError(f"{root}: no CSV or Parquet files in this folder or below it")
    runs: list[IngestedRun] = []
    for file in files:
        frame = read_frame(file)
        prefix = _stem(file) if root.is_file() else _stem_path(file, root)
        runs.extend(
            _runs_of_frame(
                frame,
                file,
                prefix=prefix,
                single_file=root.is_file(),
                layout=layout,
                run_col=run_col,
                step_col=step_col or "step",
                metric_col=metric_col,
                value_col=value_col,
                param_cols=tuple(param_cols),
                params=dict(params or {}),
                compiled=compiled,
            )
        )
    check_unique_names(runs)
    return runs


def _stem_path(file: Path, root: Path) -> str:
    relative = relative_name(file.parent, root)
    return _stem(file) if relative == "." else f"{relative}/{_stem(file)}"


def _runs_of_frame(
    frame: pd.DataFrame,
    path: Path,
    *,
    prefix: str,
    single_file: bool,
    layout: Layout,
    run_col: str | None,
    step_col: str,
    metric_col: str | None,
    value_col: str,
    param_cols: tuple[str, ...],
    params: dict[str, Any],
    compiled: Any,
) -> list[IngestedRun]:
    if run_col is not None:
        _require_column(frame, run_col, path, "--run-col")
    elif "run" in frame.columns:
        run_col = "run"
    _require_column(frame, step_col, path, "--step-col")
    for column in param_cols:
        _require_column(frame, column, path, "--param-col")
    reserved = {step_col, *param_cols, *([run_col] if run_col else [])}
    if layout == "long":
        if metric_col is None:
            metric_col = next((c for c in _METRIC_COLUMNS if c in frame.columns), None)
            if metric_col is None:
                raise DataError(
                    f"{path}: long layout needs a metric-name column "
                    f"({', '.join(_METRIC_COLUMNS)}); choose --metric-col"
                )
        _require_column(frame, metric_col, path, "--metric-col")
        _require_column(frame, value_col, path, "--value-col")
        extra = [c for c in frame.columns if c not in reserved | {metric_col, value_col}]
        if extra:
            raise DataError(
                f"{path}: column {extra[0]!r} is not used by the long layout; "
                "declare it with --param-col or drop it"
            )
    metric_columns = [c for c in frame.columns if c not in reserved]
    if layout == "wide" and not metric_columns:
        raise DataError(f"{path}: no metric columns besides {', '.join(sorted(reserved))}")
    steps = integer_steps(frame[step_col], str(path), step_col)
    labels = (
        _run_labels(frame[run_col], path, run_col)
        if run_col is not None
        else np.full(len(frame), "", dtype=object)
    )
    if layout == "wide":
        values = {c: numeric_column(frame[c], str(path), c) for c in metric_columns}
    else:
        names = frame[metric_col].astype(str).to_numpy()
        if frame[metric_col].isna().any():
            row = int(np.flatnonzero(frame[metric_col].isna().to_numpy())[0]) + 1
            raise DataError(f"{path}: column {metric_col!r} is empty in row {row}")
        numbers = numeric_column(frame[value_col], str(path), value_col)
    runs: list[IngestedRun] = []
    for label in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == label)
        if run_col is None:
            name = prefix
        elif single_file:
            name = str(label)
        else:
            name = f"{prefix}/{label}"
        where = f"{path}" + (f" (run {label!r})" if run_col else "")
        run_params = _param_columns(frame, rows, param_cols, path, label)
        if layout == "wide":
            table = _wide_table(steps[rows], {c: v[rows] for c, v in values.items()}, where)
        else:
            table = _long_table(steps[rows], names[rows], numbers[rows], where)
        runs.append(
            run_from_table(
                name=name,
                identity=f"{prefix}/{label}" if run_col else prefix,
                source=str(path),
                params=merge_params(run_params, params_from_name(compiled, name), params),
                table=table,
            )
        )
    return runs


def _param_columns(
    frame: pd.DataFrame, rows: np.ndarray, columns: tuple[str, ...], path: Path, label: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in columns:
        values = frame[column].iloc[rows]
        distinct = values.dropna().unique()
        if len(distinct) > 1:
            raise DataError(
                f"{path}: parameter column {column!r} varies within run {label!r} "
                f"({distinct[0]!r}, {distinct[1]!r}); a hyperparameter must be constant per run"
            )
        out[column] = to_json(distinct[0], nonfinite="string") if len(distinct) else None
    return out


def _wide_table(steps: np.ndarray, values: dict[str, np.ndarray], where: str) -> pd.DataFrame:
    data: dict[str, Any] = {"step": np.unique(steps)}
    for column, column_values in values.items():
        data[column] = _collapse(steps, column_values, data["step"], where, column)
    return pd.DataFrame(data)


def _long_table(
    steps: np.ndarray, names: np.ndarray, numbers: np.ndarray, where: str
) -> pd.DataFrame:
    unique = np.unique(steps)
    data: dict[str, Any] = {"step": unique}
    for metric in sorted(set(names.tolist())):
        mask = names == metric
        if metric == "step":
            raise DataError(f"{where}: a metric is named 'step'; rename it")
        data[metric] = _collapse(steps[mask], numbers[mask], unique, where, metric)
    return pd.DataFrame(data)


def _collapse(
    steps: np.ndarray, values: np.ndarray, unique: np.ndarray, where: str, column: str
) -> np.ndarray:
    """One value per step; rows repeating a step must agree (empty cells ignored)."""
    keep = ~np.isnan(values)
    steps, values = steps[keep], values[keep]
    out = np.full(unique.size, np.nan)
    if not steps.size:
        return out
    order = np.argsort(steps, kind="stable")
    steps, values = steps[order], values[order]
    repeated = np.flatnonzero(np.diff(steps) == 0)
    conflict = repeated[values[repeated] != values[repeated + 1]]
    if conflict.size:
        i = conflict[0]
        raise DataError(
            f"{where}: step {int(steps[i])} has two values of {column!r} "
            f"({values[i]!r} and {values[i + 1]!r}); is a run column missing (--run-col)?"
        )
    out[np.searchsorted(unique, steps)] = values
    return out


def ingest_table(
    path: str | os.PathLike[str],
    store: Any,
    *,
    layout: Layout = "wide",
    run_col: str | None = None,
    step_col: str | None = None,
    metric_col: str | None = None,
    value_col: str = "value",
    param_cols: Sequence[str] = (),
    params: Mapping[str, Any] | None = None,
    pattern: str | None = None,
    task: str = "csv",
    replace: bool = False,
) -> IngestResult:
    """Read tables (see :func:`read_table`) and publish the runs into ``store``."""
    runs = read_table(
        path,
        layout=layout,
        run_col=run_col,
        step_col=step_col,
        metric_col=metric_col,
        value_col=value_col,
        param_cols=param_cols,
        params=params,
        pattern=pattern,
    )
    options = reader_options(
        read_table,
        layout=layout,
        run_col=run_col,
        step_col=step_col,
        metric_col=metric_col,
        value_col=value_col,
        param_cols=param_cols,
        params=params,
        pattern=pattern,
    )
    return publish_runs(runs, store, kind="csv", task=task, options=options, replace=replace)
