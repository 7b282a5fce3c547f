"""The tidy frame and the DuckDB views of a store, from its trajectory files.

A store's trajectories live in Parquet files of two kinds: one per run published on its
own (``runs/<run_id>/trajectory.parquet``) and a few per batch
(:mod:`landaulab.store.batches`). Both hold ``run_id``, ``step`` and one float column
per observable. This module joins them with one row per run (``run_id``, ``status``
and the flat parameters) in two ways:

- :func:`tidy_frame` builds the pandas frame. Each batch file is read whole (only the
  columns it has) and its rows are assigned to runs by position, so no run id is
  parsed per row; ``run_id`` and ``status`` are categorical (their text is stored once
  per run, not once per row); rows come out ordered by run and step by moving whole
  runs, as every file keeps the rows of a run together and (batches) in step order.
- :func:`register_views` lets DuckDB read the files directly: the views ``runs`` and
  ``trajectories`` join them with a registered table of the runs, so a query reads only
  the columns and rows it needs and no frame of every row is built.

Both apply the name-clash rule of :func:`resolve_clash`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

SETTING_SUFFIX = "_setting"
OBSERVED_SUFFIX = "_observed"
MERGED = ("\x00setting", "\x00observed")
"""Private suffixes of a setting and an observable of one name before the rule decides."""

RTOL = 1e-6
"""Relative tolerance within which a setting and a logged value are one quantity."""


def flat_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as frame columns: lists and mappings become JSON text."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, list | dict):
            out[key] = json.dumps(value, sort_keys=True)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class BatchPart:
    """The rows of one batch trajectory file that belong to the chosen runs.

    Attributes
    ----------
    path
        The trajectory file.
    codes
        For each chosen run in the file, its position in the run table.
    first, count
        Where its rows are in the file.
    run_ids
        Ids of the chosen runs when they are not all the file holds (``None``: all).
    """

    path: Path
    codes: np.ndarray
    first: np.ndarray
    count: np.ndarray
    run_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Sources:
    """Where the trajectories of the chosen runs are.

    Attributes
    ----------
    files
        Trajectory files of runs published on their own (one run each).
    parts
        Rows of batch trajectory files.
    """

    files: list[str] = field(default_factory=list)
    parts: list[BatchPart] = field(default_factory=list)


def resolve_clash(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    """The name-clash rule for a setting and an observable both called ``name``.

    The frame holds them under the private suffixes :data:`MERGED`. Where they agree on
    every row that has both (an unset setting, or a step that did not log the
    observable, agrees with anything; numbers agree to 1e-6 relative, as a float32 log
    of a setting does), they are one quantity and stay one column ``name``: the setting
    where set, else the logged value (a schedule). Otherwise neither overwrites the
    other: ``name_setting`` holds the setting, ``name_observed`` the logged values, no
    column is called ``name``, and the pair is returned for ``frame.attrs["renamed"]``.
    """
    setting, observed = frame.pop(name + MERGED[0]), frame.pop(name + MERGED[1])
    numeric = pd.to_numeric(setting, errors="coerce")
    present = setting.notna() & observed.notna()
    comparable = numeric.notna() | ~setting.notna()
    agree = bool(
        comparable.all()
        and np.isclose(
            numeric[present].to_numpy(dtype=float),
            observed[present].to_numpy(dtype=float),
            rtol=RTOL,
            atol=0.0,
        ).all()
    )
    if agree:
        frame[name] = numeric.where(setting.notna(), observed)
        return frame, []
    spellings = [f"{name}{SETTING_SUFFIX}", f"{name}{OBSERVED_SUFFIX}"]
    frame[spellings[0]] = setting
    frame[spellings[1]] = observed
    return frame, spellings


def empty_frame() -> pd.DataFrame:
    """The frame of a store without (chosen) runs."""
    empty = pd.DataFrame({"run_id": pd.Series(dtype=str), "step": pd.Series(dtype="int64")})
    empty.attrs["renamed"] = {}
    return empty


# ------------------------------------------------------------------------ the frame
@dataclass
class _Piece:
    """Rows of one source, ``step`` and observables (a table read, or a Parquet file read
    a column at a time), and its runs as blocks of rows (each run's rows together, in
    step order where ``stepped``)."""

    source: pa.Table | pq.ParquetFile
    codes: np.ndarray
    starts: np.ndarray
    counts: np.ndarray
    stepped: bool = True

    @property
    def names(self) -> list[str]:
        names = (
            self.source.schema_arrow.names
            if isinstance(self.source, pq.ParquetFile)
            else self.source.column_names
        )
        return [n for n in names if n != "run_id"]

    @property
    def rows(self) -> int:
        if isinstance(self.source, pq.ParquetFile):
            return int(self.source.metadata.num_rows)
        return int(self.source.num_rows)

    def column(self, name: str) -> np.ndarray:
        """One column as numpy (NaN where the piece lacks it); a table forgets it."""
        dtype = np.int64 if name == "step" else np.float64
        if name not in self.names:
            return np.full(self.rows, np.nan)
        if isinstance(self.source, pq.ParquetFile):
            values = self.source.read(columns=[name]).column(0)
        else:
            values = self.source.column(name)
            self.source = self.source.drop_columns([name])
        return np.asarray(values.to_numpy(), dtype=dtype)


def _read_files(files: Sequence[str], run_ids: pa.Array) -> _Piece:
    """Per-run trajectory files (each one run; its rows together)."""
    import duckdb

    connection = duckdb.connect()
    try:
        connection.execute("SET enable_progress_bar = false")
        table = connection.sql(
            "SELECT * FROM read_parquet(?, union_by_name = true)", params=[list(files)]
        ).to_arrow_table()
    finally:
        connection.close()
    rows = pc.index_in(table.column("run_id").cast(pa.string()), value_set=run_ids)
    codes = np.asarray(rows.to_numpy(zero_copy_only=False), dtype=np.float64)
    codes = np.where(np.isnan(codes), -1, codes).astype(np.int64)
    table = table.drop_columns(["run_id"])
    if not codes.size:
        empty = np.zeros(0, dtype=np.int64)
        return _Piece(table, empty, empty, empty)
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    counts = np.diff(np.append(starts, codes.size))
    step = np.asarray(table.column("step").to_numpy(), dtype=np.int64)
    falls = np.flatnonzero(step[1:] < step[:-1]) + 1  # steps going down, inside a run?
    stepped = bool(np.isin(falls, starts).all())
    keep = codes[starts] >= 0
    return _Piece(table, codes[starts][keep], starts[keep], counts[keep], stepped)


def _read_part(part: BatchPart) -> _Piece:
    """One batch trajectory file (its runs' rows together, in step order)."""
    return _Piece(pq.ParquetFile(part.path), part.codes, part.first, part.count)


def tidy_frame(info: pd.DataFrame, sources: Sources) -> pd.DataFrame:
    """The tidy frame of the chosen runs (see :meth:`landaulab.store.Store.frame`).

    Parameters
    ----------
    info
        One row per chosen run, sorted by ``run_id``: ``run_id``, ``status`` and the
        flat parameters.
    sources
        Where their trajectories are.
    """
    if info.empty:
        return empty_frame()
    run_ids = pa.array(info["run_id"].astype(str).tolist(), pa.string())
    pieces: list[_Piece] = []
    if sources.files:
        pieces.append(_read_files(sources.files, run_ids))
    pieces += [_read_part(part) for part in sources.parts]
    observables: list[str] = []
    for piece in pieces:
        observables += [c for c in piece.names if c not in ("step", *observables)]
    # the runs' blocks in run order, and the rows to take, in that order
    sizes = [piece.rows for piece in pieces]
    offsets = np.cumsum([0, *sizes])
    block_codes = np.concatenate([piece.codes for piece in pieces]).astype(np.int32)
    block_starts = np.concatenate([p.starts + o for p, o in zip(pieces, offsets, strict=False)])
    block_counts = np.concatenate([piece.counts for piece in pieces]).astype(np.int64)
    order = np.argsort(block_codes, kind="stable")
    block_codes, block_starts, block_counts = (
        block_codes[order],
        block_starts[order],
        block_counts[order],
    )
    total = int(block_counts.sum())
    shift = block_starts - np.concatenate(([0], np.cumsum(block_counts)[:-1]))
    rows = np.repeat(shift, block_counts)
    rows += np.arange(total, dtype=rows.dtype)
    codes = np.repeat(block_codes, block_counts)
    identity = total == int(offsets[-1]) and bool(np.all(rows[1:] > rows[:-1])) if total else True

    columns: dict[str, np.ndarray] = {}
    for name in ["step", *observables]:  # a column at a time: one copy in memory
        parts = [piece.column(name) for piece in pieces]
        whole = parts[0] if len(parts) == 1 else np.concatenate(parts)
        columns[name] = whole if identity else whole[rows]
        del parts, whole
    stepped = all(piece.stepped for piece in pieces)
    del pieces, rows
    step = columns.pop("step")
    values = columns
    if not stepped:  # a run file with steps out of order: sort its rows (stably)
        order = np.lexsort((step, codes))
        codes, step = codes[order], step[order]
        values = {k: v[order] for k, v in values.items()}
    return _assemble(info, codes, step, values)


def _categorical(values: pd.Series, codes: np.ndarray) -> pd.Categorical:
    """``values[codes]`` as a categorical over the distinct values (sorted)."""
    per_run = pd.Categorical(values.astype(str))
    return pd.Categorical.from_codes(per_run.codes[codes], categories=per_run.categories)


def _assemble(
    info: pd.DataFrame, codes: np.ndarray, step: np.ndarray, values: dict[str, np.ndarray]
) -> pd.DataFrame:
    params = [c for c in info.columns if c not in ("run_id", "status")]
    clashes = [name for name in values if name in params]
    run_id = pd.Categorical.from_codes(codes, categories=pd.Index(info["run_id"].astype(str)))
    status = _categorical(info["status"], codes)
    taken = {c: info[c].array.take(codes) for c in params}
    if not clashes:
        data: dict[str, Any] = {"run_id": run_id, "step": step, "status": status}
        data.update(taken)
        data.update(values)
        frame = pd.DataFrame(data, copy=False)
        frame.attrs["renamed"] = {}
        return frame
    data = {"run_id": run_id, "status": status}
    data.update({c + MERGED[0] if c in clashes else c: v for c, v in taken.items()})
    data["step"] = step
    data.update({c + MERGED[1] if c in clashes else c: v for c, v in values.items()})
    frame = pd.DataFrame(data, copy=False)
    renamed: dict[str, list[str]] = {}
    for name in clashes:
        frame, spellings = resolve_clash(frame, name)
        if spellings:
            renamed[name] = spellings
    first = ["run_id", "step"]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    frame.attrs["renamed"] = renamed
    return frame


# ------------------------------------------------------------------------ the views
INFO_TABLE = "landaulab_run_params"
"""The registered table of runs the ``runs`` view joins (run_id, status, parameters)."""


def quote(name: str) -> str:
    """A DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def _files_sql(files: Sequence[str | Path]) -> str:
    listed = ", ".join(literal(str(f)) for f in files)
    return f"SELECT * FROM read_parquet([{listed}], union_by_name = true)"


def trajectories_sql(connection: Any, sources: Sources) -> str | None:
    """SQL of every chosen run's trajectory rows (``None`` without any).

    Batch files are read by each query (only the columns and row groups it needs); those
    holding runs that are not chosen (replaced or shadowed ones) through a registered
    list of the chosen run ids. The files of runs published on their own (one small file
    each) are read once into a registered Arrow table.
    """
    selects = []
    if sources.files:  # many small files: read once (a query would open each one again)
        own = connection.sql(_files_sql(sources.files)).to_arrow_table()
        connection.register("landaulab_own_runs", own)
        selects.append("SELECT * FROM landaulab_own_runs")
    grouped: dict[tuple[str, ...] | None, list[Path]] = {}
    for part in sources.parts:
        grouped.setdefault(part.run_ids, []).append(part.path)
    for i, (run_ids, paths) in enumerate(grouped.items()):
        sql = _files_sql(paths)
        if run_ids is not None:
            name = f"landaulab_chosen_{i}"
            connection.register(name, pd.DataFrame({"run_id": list(run_ids)}))
            sql += f" WHERE run_id IN (SELECT run_id FROM {name})"
        selects.append(sql)
    if not selects:
        return None
    return " UNION ALL BY NAME ".join(f"({s})" for s in selects)


def _clash_columns(info: pd.DataFrame, name: str) -> pd.DataFrame:
    setting = info[name]
    numeric = pd.to_numeric(setting, errors="coerce")
    return pd.DataFrame(
        {
            f"has\x00{name}": setting.notna().to_numpy(),
            f"num\x00{name}": numeric.astype("float64").to_numpy(),
            f"cmp\x00{name}": (numeric.notna() | ~setting.notna()).to_numpy(),
        }
    )


def _agrees(connection: Any, name: str) -> bool:
    """Whether setting and observable ``name`` agree on every row (see :func:`resolve_clash`)."""
    has, num, cmp = (quote(f"{k}\x00{name}") for k in ("has", "num", "cmp"))
    o = f"t.{quote(name)}"
    row = (
        f"i.{cmp} AND (NOT i.{has} OR {o} IS NULL OR isnan({o}) OR "
        f"(isfinite({o}) AND abs(i.{num} - {o}) <= {RTOL!r} * abs({o})))"
    )
    result = connection.execute(
        f"SELECT coalesce(bool_and({row}), true) FROM trajectories t "
        f"JOIN {INFO_TABLE} i ON t.run_id = i.run_id"
    ).fetchall()
    return bool(result[0][0]) if result else True


def register_views(
    connection: Any, info: pd.DataFrame, run_info: pd.DataFrame, sources: Sources
) -> dict[str, list[str]]:
    """Create the views ``runs``, ``run_info`` and ``trajectories`` in ``connection``.

    ``trajectories`` is every chosen run's rows as stored (``run_id``, ``step``,
    observables); ``runs`` joins them with ``info`` (``run_id``, ``status``, flat
    parameters) under the name-clash rule; ``run_info`` is ``run_info``. DuckDB reads the
    Parquet files itself, so a query reads only the columns and rows it needs.

    Returns
    -------
    dict
        The names split by the name-clash rule, each with its two spellings.
    """
    connection.register("run_info", run_info)
    traj = trajectories_sql(connection, sources)
    if traj is None or info.empty:
        connection.register("runs", empty_frame())
        connection.execute("CREATE OR REPLACE TEMP VIEW trajectories AS SELECT * FROM runs")
        return {}
    connection.execute(f"CREATE OR REPLACE TEMP VIEW trajectories AS {traj}")
    columns = [row[0] for row in connection.execute("DESCRIBE trajectories").fetchall()]
    observables = [c for c in columns if c not in ("run_id", "step")]
    params = [c for c in info.columns if c not in ("run_id", "status")]
    clashes = [name for name in observables if name in params]
    joined = pd.concat(
        [info.reset_index(drop=True)] + [_clash_columns(info, n) for n in clashes], axis=1
    )
    connection.register(INFO_TABLE, joined)
    select = ["t.run_id", "t.step", "i.status"]
    select += [f"i.{quote(c)}" for c in params if c not in clashes]
    select += [f"t.{quote(c)}" for c in observables if c not in clashes]
    renamed: dict[str, list[str]] = {}
    for name in clashes:
        if _agrees(connection, name):
            has, num = quote(f"has\x00{name}"), quote(f"num\x00{name}")
            select.append(
                f"CASE WHEN i.{has} THEN i.{num} ELSE t.{quote(name)} END AS {quote(name)}"
            )
        else:
            spellings = [f"{name}{SETTING_SUFFIX}", f"{name}{OBSERVED_SUFFIX}"]
            select.append(f"i.{quote(name)} AS {quote(spellings[0])}")
            select.append(f"t.{quote(name)} AS {quote(spellings[1])}")
            renamed[name] = spellings
    connection.execute(
        f"CREATE OR REPLACE TEMP VIEW runs AS SELECT {', '.join(select)} "
        f"FROM trajectories t JOIN {INFO_TABLE} i ON t.run_id = i.run_id"
    )
    return renamed


__all__ = [
    "MERGED",
    "OBSERVED_SUFFIX",
    "SETTING_SUFFIX",
    "BatchPart",
    "Sources",
    "empty_frame",
    "flat_params",
    "register_views",
    "resolve_clash",
    "tidy_frame",
    "trajectories_sql",
]
