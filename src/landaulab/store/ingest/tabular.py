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

Files are read by DuckDB and streamed, a chunk of complete runs at a time
(:mod:`landaulab.store.ingest.scan`); :func:`ingest_table` writes the runs into one
batch of the store as they come (:mod:`landaulab.store.ingest.batch`), so 10⁵ runs
import in about a minute without a frame of the whole file in memory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from landaulab.errors import DataError
from landaulab.store.ingest.batch import publish_tables
from landaulab.store.ingest.common import (
    IngestedRun,
    IngestResult,
    check_unique_names,
    compile_pattern,
    existing_path,
    reader_options,
    relative_name,
)
from landaulab.store.ingest.scan import RESTART, Chunk, Layout, TableOptions, TableScan, connect

_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet", ".pq")


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


def _files(root: Path) -> tuple[list[tuple[Path, str]], bool]:
    """The tables below ``root`` with the prefix of their runs' names."""
    files = table_files(root)
    if not files:
        raise DataError(f"{root}: no CSV or Parquet files in this folder or below it")
    single = root.is_file()
    return [(f, _stem(f) if single else _stem_path(f, root)) for f in files], single


def _options(
    layout: str,
    run_col: str | None,
    step_col: str | None,
    metric_col: str | None,
    value_col: str,
    param_cols: Sequence[str],
    params: Mapping[str, Any] | None,
    pattern: str | None,
) -> TableOptions:
    if layout not in ("wide", "long"):
        raise DataError(f"--layout {layout!r}: choose 'wide' or 'long'")
    return TableOptions(
        layout="long" if layout == "long" else "wide",
        run_col=run_col,
        step_col=step_col or "step",
        metric_col=metric_col,
        value_col=value_col,
        param_cols=tuple(param_cols),
        params=dict(params or {}),
        pattern=compile_pattern(pattern),
    )


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
    options = _options(
        layout, run_col, step_col, metric_col, value_col, param_cols, params, pattern
    )
    root = existing_path(path, "a CSV or Parquet file, or a folder of them")
    files, single = _files(root)
    runs: list[IngestedRun] = []
    connection = connect()
    try:
        for file, prefix in files:
            mine: list[IngestedRun] = []
            for chunk in TableScan(file, prefix, single, options, connection).chunks():
                if chunk is RESTART:
                    mine.clear()
                    continue
                assert isinstance(chunk, Chunk)
                mine.extend(_ingested(chunk))
            runs.extend(mine)
    finally:
        connection.close()
    check_unique_names(runs)
    return runs


def _ingested(chunk: Chunk) -> list[IngestedRun]:
    """The runs of a chunk as :class:`IngestedRun` objects."""
    return [
        IngestedRun(
            name=chunk.names[i],
            identity=chunk.identities[i],
            source=str(chunk.path),
            params=chunk.params[i],
            trajectory=table,
            status="diverged" if chunk.statuses[i] == "diverged" else "done",
            reason=chunk.reasons[i],
            diverged=chunk.diverged[i],
        )
        for i, table in enumerate(chunk.trajectories())
    ]


def _stem_path(file: Path, root: Path) -> str:
    relative = relative_name(file.parent, root)
    return _stem(file) if relative == "." else f"{relative}/{_stem(file)}"


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
    """Read tables (see :func:`read_table`) and publish their runs into ``store`` as one
    batch (:mod:`landaulab.store.batches`), all or nothing.

    The files are streamed (see :mod:`landaulab.store.ingest.scan`): 10⁵ runs of 200
    steps take about a minute, in bounded memory. Run ids, skipping and ``replace`` are
    those of :func:`~landaulab.store.ingest.common.publish_runs`.
    """
    table_options = _options(
        layout, run_col, step_col, metric_col, value_col, param_cols, params, pattern
    )
    root = existing_path(path, "a CSV or Parquet file, or a folder of them")
    files, single = _files(root)
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
    return publish_tables(
        files, single, table_options, store, kind="csv", task=task, options=options, replace=replace
    )
