"""Read a CSV/TSV/Parquet table of runs in one streaming pass, a chunk of runs at a time.

DuckDB reads the file (in parallel, never all of it in memory) and hands over record
batches in file order; each batch is validated column by column (so every error names
its file, column, row and value), its rows are assigned to runs, and every *complete*
run (its last row seen) is turned into a :class:`Chunk` with numpy, many runs at a
time: repeated steps collapsed (they must agree), empty columns and rows dropped,
divergence, last values and the trajectory fingerprint found. A run that goes on into
the next batch waits for it. No pandas frame of the file and no per-run frame is built.

Runs are expected to be contiguous (each run's rows together, as loggers write them;
their steps may come in any order). If a run reappears after another, the pass finishes
validating the file and a second pass reads it ordered by run and step (DuckDB sorts,
spilling to disk if needed); the consumer is told to discard what it got from the
first pass (:data:`RESTART`).

Cells are read as pandas would read them, so that an import names its runs, sets their
parameters and fingerprints their trajectories exactly as before: pandas' spellings of
a missing value are missing; a run or parameter column is an integer, number, boolean
or text column when every cell of it is one (an integer column with an empty cell is a
number column); a run name is the text of that value. What the file's first rows say of
a column is checked on every row as it streams (a contradiction reads the file again
with the kind found over all rows), so a file is usually parsed once. The runs
themselves are made in :mod:`landaulab.store.ingest.chunks`.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from landaulab.errors import DataError
from landaulab.store.ingest.chunks import Chunk, Rows, build_chunk, constant, run_starts
from landaulab.store.ingest.common import merge_params, params_from_name
from landaulab.store.tidy import literal, quote

Layout = Literal["wide", "long"]
METRIC_COLUMNS = ("metric", "metric_name", "name", "tag", "key")
"""Long layout: the metric-name columns looked for, in order."""

BATCH_ROWS = 1 << 20
"""Rows per record batch read from DuckDB."""

_NA_VALUES = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
"""pandas' default spellings of a missing cell."""

_TRUE, _FALSE = ("True", "TRUE", "true"), ("False", "FALSE", "false")
_INTEGER = "[+-]?[0-9]+"


@dataclass(frozen=True)
class TableOptions:
    """How to read tables (see :func:`landaulab.store.ingest.tabular.read_table`)."""

    layout: Layout = "wide"
    run_col: str | None = None
    step_col: str = "step"
    metric_col: str | None = None
    value_col: str = "value"
    param_cols: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None


RESTART = object()
"""Yielded by :meth:`TableScan.chunks` when the file's runs are not contiguous: discard
what the file gave so far; its runs follow again, read in order."""


# --------------------------------------------------------------------------- columns
_INT_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")


def _kind_of_type(sql_type: str) -> str:
    """``int``, ``float``, ``bool``, ``text`` or ``other`` for a DuckDB type."""
    base = sql_type.upper()
    if base.removeprefix("U") in _INT_TYPES:
        return "int"
    if base in ("FLOAT", "DOUBLE", "REAL") or base.startswith("DECIMAL"):
        return "float"
    if base == "BOOLEAN":
        return "bool"
    if base == "VARCHAR":
        return "text"
    return "other"


def _first_row(path: Path, delimiter: str) -> list[str] | None:
    """The header of a CSV/TSV file (``None`` if it has no line)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
            assert isinstance(handle, io.TextIOBase)
            for row in csv.reader(handle, delimiter=delimiter):
                if row and any(cell.strip() for cell in row):
                    return row
    except (OSError, EOFError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read this table ({exc})") from None
    return None


class _Ungrouped(Exception):
    """A run's rows are not contiguous in file order."""


class _FactsBroken(Exception):
    """A row contradicts what the first rows said of a column's kind."""


def connect() -> Any:
    """A DuckDB connection for :class:`TableScan` (one serves every file of an import:
    opening one costs tens of milliseconds). A sort too large for memory spills to a
    temporary folder."""
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    spill = Path(tempfile.gettempdir()) / f"landaulab-duckdb-{os.getpid()}"
    connection.execute(f"SET temp_directory = {literal(str(spill))}")
    return connection


class TableScan:
    """One table file, read as runs.

    Parameters
    ----------
    path
        The ``.csv`` / ``.tsv`` (optionally ``.gz``) or ``.parquet`` file.
    prefix
        The file's name for its runs (its stem, or its path below the folder).
    single_file
        Whether the file was given itself (run names are then the run column's values).
    options
        How to read it.
    connection
        The DuckDB connection to read it with (from :func:`connect`; by default one of
        its own, closed by :meth:`close`).
    """

    def __init__(
        self,
        path: Path,
        prefix: str,
        single_file: bool,
        options: TableOptions,
        connection: Any = None,
    ) -> None:
        self.path = path
        self.prefix = prefix
        self.single_file = single_file
        self.options = options
        self._owned = connection is None
        self.connection: Any = connect() if connection is None else connection
        self.source = self._source()
        self._describe()

    def close(self) -> None:
        """Close the DuckDB connection if it is the scan's own."""
        if self._owned:
            self.connection.close()

    # ---------------------------------------------------------------- the source
    @property
    def is_parquet(self) -> bool:
        return self.path.name.lower().endswith((".parquet", ".pq"))

    def _source(self) -> str:
        name = literal(str(self.path))
        if self.is_parquet:
            return f"read_parquet({name})"
        delimiter = "\t" if ".tsv" in self.path.name.lower() else ","
        header = _first_row(self.path, delimiter) if self.path.stat().st_size else None
        if header is None:
            raise DataError(f"{self.path}: the file is empty")
        seen: set[str] = set()
        for column in header:
            if column in seen:
                raise DataError(f"{self.path}: column {column!r} appears twice")
            seen.add(column)
        nulls = ", ".join(literal(v) for v in _NA_VALUES)
        return (
            f"read_csv({name}, header = true, delim = {literal(delimiter)}, "
            f"all_varchar = true, nullstr = [{nulls}])"
        )

    def _unreadable(self, exc: Exception) -> DataError:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return DataError(f"{self.path}: cannot read this table ({first})")

    def _describe(self) -> None:
        import duckdb

        try:
            described = self.connection.sql(f"DESCRIBE SELECT * FROM {self.source}").fetchall()
        except duckdb.Error as exc:
            raise self._unreadable(exc) from None
        self.columns = [str(row[0]) for row in described]
        self.types = {str(row[0]): _kind_of_type(str(row[1])) for row in described}
        duplicated = [c for c in self.columns if self.columns.count(c) > 1]
        if duplicated:
            raise DataError(f"{self.path}: column {duplicated[0]!r} appears twice")
        self._resolve_columns()

    def _require(self, column: str, option: str) -> None:
        if column not in self.columns:
            shown = ", ".join(self.columns[:12])
            raise DataError(
                f"{self.path}: no column {column!r} (columns: {shown}); choose {option}"
            )

    def _resolve_columns(self) -> None:
        o = self.options
        run_col = o.run_col
        if run_col is not None:
            self._require(run_col, "--run-col")
        elif "run" in self.columns:
            run_col = "run"
        self.run_col = run_col
        self._require(o.step_col, "--step-col")
        for column in o.param_cols:
            self._require(column, "--param-col")
        reserved = {o.step_col, *o.param_cols, *([run_col] if run_col else [])}
        self.metric_col: str | None = None
        if o.layout == "long":
            metric_col = o.metric_col
            if metric_col is None:
                metric_col = next((c for c in METRIC_COLUMNS if c in self.columns), None)
                if metric_col is None:
                    raise DataError(
                        f"{self.path}: long layout needs a metric-name column "
                        f"({', '.join(METRIC_COLUMNS)}); choose --metric-col"
                    )
            self._require(metric_col, "--metric-col")
            self._require(o.value_col, "--value-col")
            extra = [c for c in self.columns if c not in reserved | {metric_col, o.value_col}]
            if extra:
                raise DataError(
                    f"{self.path}: column {extra[0]!r} is not used by the long layout; "
                    "declare it with --param-col or drop it"
                )
            self.metric_col = metric_col
            self.numeric = [o.value_col]
        else:
            self.numeric = [c for c in self.columns if c not in reserved]
            if not self.numeric:
                raise DataError(
                    f"{self.path}: no metric columns besides {', '.join(sorted(reserved))}"
                )
        for column in (o.step_col, *self.numeric):
            if self.types[column] == "other":
                raise DataError(
                    f"{self.path}: column {column!r} is not numeric; "
                    "declare hyperparameter columns with --param-col or drop the column"
                )

    # ------------------------------------------------------------- column facts
    def _facts(self, exact: bool) -> None:
        """Decide what pandas would per column: the kind of the run and parameter columns
        (integer, number, boolean or text; an integer column with an empty cell is a
        number column) and the metric names of a long table.

        Each fact is first asked of the file's first rows; a text cell there settles that
        a column is not numeric. A fact the first rows cannot settle is, unless
        ``exact``, taken from them and checked on every row as the file streams
        (:attr:`checks`; a contradiction starts the file again with exact facts), so
        that a file is parsed once.
        """
        o = self.options
        # name: (aggregate over the rows, a row contradicting "True", answer that settles)
        asks: dict[str, tuple[str, str, bool]] = {}
        looked = list(dict.fromkeys(([self.run_col] if self.run_col else []) + list(o.param_cols)))
        for i, column in enumerate(looked):
            c, kind = quote(column), self.types[column]
            some = f"{c} IS NOT NULL"
            if kind == "text":
                truth = ", ".join(map(literal, _TRUE + _FALSE))
                number = f"TRY_CAST({c} AS DOUBLE)"
                integer = f"regexp_full_match(trim({c}), '{_INTEGER}')"
                whole = f"coalesce({number} = round({number}), false)"
                asks[f"int{i}"] = (f"bool_and({integer}) FILTER ({some})", f"NOT {integer}", False)
                asks[f"num{i}"] = (
                    f"bool_and({number} IS NOT NULL) FILTER ({some})",
                    f"{number} IS NULL",
                    False,
                )
                asks[f"bool{i}"] = (
                    f"bool_and({c} IN ({truth})) FILTER ({some})",
                    f"{c} NOT IN ({truth})",
                    False,
                )
                if column == self.run_col:
                    asks[f"whole{i}"] = (
                        f"bool_and({whole}) FILTER ({some})",
                        f"NOT {whole}",
                        False,
                    )
            elif kind == "float" and column == self.run_col:
                number = f"CAST({c} AS DOUBLE)"
                whole = f"{number} = round({number})"
                asks[f"whole{i}"] = (f"bool_and({whole}) FILTER ({some})", f"NOT ({whole})", False)
            if kind in ("text", "int"):
                asks[f"null{i}"] = (f"bool_or({c} IS NULL)", "", True)
        facts: dict[str, Any] = {}
        sample: dict[str, Any] = {}
        if asks:
            sample = self._ask(
                {k: v[0] for k, v in asks.items()}, f"(SELECT * FROM {self.source} LIMIT 10000)"
            )
            facts = {k: v for k, v in sample.items() if v is not None and v == asks[k][2]}
        rest = [k for k in asks if k not in facts]
        for i in range(len(looked)):  # needed only for a column that may be a number
            for fact, needs in (("null", "int"), ("whole", "num")):
                if facts.get(f"{needs}{i}") is False and f"{fact}{i}" in rest:
                    rest.remove(f"{fact}{i}")
                    facts[f"{fact}{i}"] = not asks[f"{fact}{i}"][2]
        self.checks: list[str] = []
        if not exact and all(sample.get(k) is not None for k in rest):
            for k in rest:  # assume what the first rows say; check every row
                facts[k] = sample[k]
                column = quote(looked[int(re.sub(r"\D", "", k))])
                contradiction = (
                    f"{column} IS NULL"
                    if k.startswith("null")
                    else (f"{column} IS NOT NULL AND {asks[k][1]}")
                )
                self.checks.append(contradiction)
            rest = []
        wanted = {k: asks[k][0] for k in rest}
        if self.metric_col is not None:
            wanted["metrics"] = f"list(DISTINCT CAST({quote(self.metric_col)} AS VARCHAR))"
        if wanted:
            facts.update(self._ask(wanted, self.source))
        self.kinds: dict[str, str] = {}
        self.whole: dict[str, bool] = {}
        for i, column in enumerate(looked):
            kind = self.types[column]
            null = bool(facts.get(f"null{i}"))
            if kind == "text":
                if facts[f"int{i}"]:
                    kind = "float" if null else "int"
                elif facts[f"num{i}"]:
                    kind = "float"
                elif facts[f"bool{i}"]:
                    kind = "bool"
            elif kind == "int" and null:
                kind = "float"
            self.kinds[column] = kind
            self.whole[column] = bool(facts.get(f"whole{i}", True))
        self.metrics: list[str] = (
            sorted(str(m) for m in facts["metrics"] or () if m is not None)
            if self.metric_col is not None
            else list(self.numeric)
        )
        if "step" in self.metrics and self.metric_col is not None:
            raise DataError(f"{self.path}: a metric is named 'step'; rename it")

    def _ask(self, asks: dict[str, str], source: str) -> dict[str, Any]:
        """One row of aggregates over ``source``, by name."""
        import duckdb

        select = ", ".join(f"{sql} AS {quote(name)}" for name, sql in asks.items())
        try:
            (row,) = self.connection.execute(f"SELECT {select} FROM {source}").fetchall()
        except duckdb.Error as exc:
            raise self._unreadable(exc) from None
        return dict(zip(asks, row, strict=True))

    # ------------------------------------------------------------- expressions
    def _number(self, column: str) -> tuple[str, str | None]:
        """SQL of a numeric column as DOUBLE and of its "not a number" flag."""
        c, kind = quote(column), self.types[column]
        if kind == "text":
            return (
                f"TRY_CAST({c} AS DOUBLE)",
                f"({c} IS NOT NULL AND TRY_CAST({c} AS DOUBLE) IS NULL)",
            )
        return f"CAST({c} AS DOUBLE)", None

    def _label(self) -> str:
        """SQL of the run name: the text of the value as pandas would read it."""
        assert self.run_col is not None
        c, kind, source = quote(self.run_col), self.kinds[self.run_col], self.types[self.run_col]
        if kind == "bool":
            truth = f"{c} IN ({', '.join(map(literal, _TRUE))})" if source == "text" else c
            return f"CASE WHEN {c} IS NULL THEN NULL WHEN {truth} THEN 'True' ELSE 'False' END"
        if kind == "int":
            return (
                f"CAST(TRY_CAST({c} AS BIGINT) AS VARCHAR)"
                if source == "text"
                else f"CAST({c} AS VARCHAR)"
            )
        if kind == "float":
            number = f"TRY_CAST({c} AS DOUBLE)"
            if self.whole[self.run_col]:
                return f"CAST(TRY_CAST({number} AS BIGINT) AS VARCHAR)"
            return f"CAST({number} AS VARCHAR)"
        return f"CAST({c} AS VARCHAR)"

    def _param(self, column: str) -> str:
        """SQL of a parameter column, typed as pandas would read it."""
        c, kind, source = quote(column), self.kinds[column], self.types[column]
        if source == "text":
            if kind == "int":
                return f"TRY_CAST({c} AS BIGINT)"
            if kind == "float":
                return f"TRY_CAST({c} AS DOUBLE)"
            if kind == "bool":
                truth = ", ".join(map(literal, _TRUE))
                return f"CASE WHEN {c} IS NULL THEN NULL ELSE {c} IN ({truth}) END"
            return c
        if kind == "float" and source == "int":
            return f"CAST({c} AS DOUBLE)"
        return c

    def _select(self, ordered: bool) -> str:
        o = self.options
        parts = [f"{self._label() if self.run_col else 'NULL::VARCHAR'} AS label"]
        step, step_bad = self._number(o.step_col)
        parts.append(f"{step} AS step")
        parts.append(f"{step_bad or 'false'} AS step_bad")
        if self.metric_col is not None:
            parts.append(f"CAST({quote(self.metric_col)} AS VARCHAR) AS metric")
        for i, column in enumerate(self.numeric):
            value, bad = self._number(column)
            parts.append(f"{value} AS v{i}")
            parts.append(f"{bad or 'false'} AS b{i}")
        for i, column in enumerate(o.param_cols):
            parts.append(f"{self._param(column)} AS p{i}")
        checks = " OR ".join(f"({check})" for check in self.checks) or "false"
        parts.append(f"{checks} AS facts_broken")
        sql = f"SELECT {', '.join(parts)} FROM {self.source}"
        if ordered:
            sql += " ORDER BY label, step"
        return sql

    def _batches(self, ordered: bool) -> Generator[pa.RecordBatch, None, None]:
        import duckdb

        try:
            reader = self.connection.sql(self._select(ordered)).to_arrow_reader(BATCH_ROWS)
        except duckdb.Error as exc:
            raise self._unreadable(exc) from None
        try:  # closed however the pass ends, so that the connection can read on
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (duckdb.Error, pa.ArrowException) as exc:
                    raise self._unreadable(exc) from None
                yield batch
        finally:
            reader.close()

    # -------------------------------------------------------------- validation
    def _raw(self, column: str, row: int) -> Any:
        """The cell of ``column`` in data row ``row`` (0-based), as read."""
        import duckdb

        connection = duckdb.connect()  # the scan's own is busy streaming
        try:
            found = connection.execute(
                f"SELECT {quote(column)} FROM {self.source} LIMIT 1 OFFSET {row}"
            ).fetchall()
        except duckdb.Error as exc:
            raise self._unreadable(exc) from None
        finally:
            connection.close()
        return found[0][0] if found else None

    def _validate(self, batch: pa.RecordBatch, offset: int) -> None:
        """Column errors of one batch, naming the first bad row of the file."""
        o = self.options
        step = batch.column("step")
        bad = np.asarray(batch.column("step_bad").to_numpy(zero_copy_only=False), dtype=bool)
        numbers = np.asarray(step.to_numpy(zero_copy_only=False), dtype=np.float64)
        wrong = bad | ~np.isfinite(numbers)
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raw = self._raw(o.step_col, offset + i) if bad[i] else float(numbers[i])
            shown = float("nan") if raw is None else raw
            raise DataError(
                f"{self.path}: column {o.step_col!r} has a missing or non-numeric value "
                f"{shown!r} (row {offset + i + 1}); steps must be integers"
            )
        fractional = numbers != np.round(numbers)
        if fractional.any():
            i = int(np.flatnonzero(fractional)[0])
            raise DataError(
                f"{self.path}: column {o.step_col!r} has a non-integer value {float(numbers[i])!r} "
                f"(row {offset + i + 1}); steps must be integers (choose another --step-col)"
            )
        if self.run_col is not None:
            missing = np.asarray(batch.column("label").is_null().to_numpy(zero_copy_only=False))
            if missing.any():
                row = offset + int(np.flatnonzero(missing)[0]) + 1
                raise DataError(
                    f"{self.path}: column {self.run_col!r} is empty in row {row}; "
                    "every row needs a run"
                )
        if self.metric_col is not None:
            missing = np.asarray(batch.column("metric").is_null().to_numpy(zero_copy_only=False))
            if missing.any():
                row = offset + int(np.flatnonzero(missing)[0]) + 1
                raise DataError(f"{self.path}: column {self.metric_col!r} is empty in row {row}")
        for i, column in enumerate(self.numeric):
            flags = np.asarray(batch.column(f"b{i}").to_numpy(zero_copy_only=False), dtype=bool)
            if flags.any():
                j = int(np.flatnonzero(flags)[0])
                raise DataError(
                    f"{self.path}: column {column!r} is not numeric "
                    f"(row {offset + j + 1}: {self._raw(column, offset + j)!r}); "
                    "declare hyperparameter columns with --param-col or drop the column"
                )

    # --------------------------------------------------------------- the runs
    def chunks(self) -> Iterator[Chunk | object]:
        """The file's runs, a chunk of complete runs at a time (see :data:`RESTART`)."""
        self._facts(exact=False)
        try:
            yield from self._passes()
        except _FactsBroken:
            yield RESTART
            self._facts(exact=True)
            yield from self._passes()

    def _passes(self) -> Iterator[Chunk | object]:
        self._labels: list[str] = []
        try:
            yield from self._pass(ordered=False)
            return
        except _Ungrouped:
            pass
        yield RESTART
        self._labels = []
        yield from self._pass(ordered=True)

    def _pass(self, ordered: bool) -> Iterator[Chunk]:
        index: dict[str | None, int] = {}
        batches = self._batches(ordered)
        try:
            yield from self._chunks_of(batches, ordered, index)
        finally:
            batches.close()

    def _chunks_of(
        self, batches: Iterator[pa.RecordBatch], ordered: bool, index: dict[str | None, int]
    ) -> Iterator[Chunk]:
        carry: Rows | None = None
        offset = 0
        ungrouped = False
        for batch in batches:
            if self.checks and pc.any(batch.column("facts_broken")).as_py():
                raise _FactsBroken
            if not ordered:
                self._validate(batch, offset)
            offset += batch.num_rows
            if ungrouped:
                continue
            try:
                rows = self._rows(batch, index, carry)
            except _Ungrouped:
                ungrouped = True
                continue
            rows = Rows.join(carry, rows)
            cut = int(np.searchsorted(rows.key, rows.key[-1], side="left"))
            carry = rows.take(slice(cut, None))
            if cut:
                yield self._chunk(rows.take(slice(0, cut)))
        if not offset:
            raise DataError(f"{self.path}: the table has no rows")
        if ungrouped:
            raise _Ungrouped
        if carry is not None and len(carry):
            yield self._chunk(carry)

    def _rows(
        self, batch: pa.RecordBatch, index: dict[str | None, int], carry: Rows | None
    ) -> Rows:
        """The batch's rows with their runs; raises :class:`_Ungrouped` if a run returns."""
        labels = batch.column("label")
        encoded = pc.dictionary_encode(labels) if self.run_col is not None else None
        if encoded is None:
            if not index:
                index[None] = len(self._labels)
                self._labels.append("")
            key = np.full(batch.num_rows, index[None], dtype=np.int64)
        else:
            open_key = int(carry.key[-1]) if carry is not None and len(carry) else -1
            names = encoded.dictionary.to_pylist()
            codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
            # order of first appearance of each label in this batch
            first_seen = np.full(len(names), codes.size, dtype=np.int64)
            np.minimum.at(first_seen, codes, np.arange(codes.size))
            mapping = np.empty(len(names), dtype=np.int64)
            for j in np.argsort(first_seen, kind="stable").tolist():
                name = names[j]
                if name in index:
                    if index[name] != open_key:
                        raise _Ungrouped
                    mapping[j] = index[name]
                else:
                    mapping[j] = index[name] = len(self._labels)
                    self._labels.append(str(name))
            key = mapping[codes]
            if key.size > 1 and bool(np.any(key[1:] < key[:-1])):
                raise _Ungrouped
        step = np.asarray(batch.column("step").to_numpy(zero_copy_only=False), dtype=np.float64)
        values = [
            np.asarray(batch.column(f"v{i}").to_numpy(zero_copy_only=False), dtype=np.float64)
            for i in range(len(self.numeric))
        ]
        params = [batch.column(f"p{i}") for i in range(len(self.options.param_cols))]
        metric = None
        if self.metric_col is not None:
            position = {name: i for i, name in enumerate(self.metrics)}
            names_encoded = pc.dictionary_encode(batch.column("metric"))
            lookup = np.array(
                [position[str(m)] for m in names_encoded.dictionary.to_pylist()], dtype=np.int64
            )
            metric = lookup[
                np.asarray(names_encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
            ]
        return Rows(key, step.astype(np.int64), values, params, metric)

    # -------------------------------------------------------------- a chunk
    def _chunk(self, rows: Rows) -> Chunk:
        """Turn the rows of complete runs into a :class:`Chunk` (vectorised over runs)."""
        rows = rows.ordered()
        starts = run_starts(rows.key)
        labels = [self._labels[k] for k in rows.key[starts].tolist()]
        return build_chunk(
            rows,
            path=self.path,
            metrics=self.metrics,
            labels=labels,
            names=[self._name(label) for label in labels],
            identities=[self._identity(label) for label in labels],
            params=self._params(rows, starts, labels),
            where=self._where,
        )

    def _params(self, rows: Rows, starts: np.ndarray, labels: list[str]) -> list[dict[str, Any]]:
        """Each run's parameters: its parameter columns (constant within it), the names
        matched by ``pattern``, then ``params``."""
        o = self.options
        per_column = [
            constant(column, starts, self.path, name, labels)
            for column, name in zip(rows.params, o.param_cols, strict=True)
        ]
        given = merge_params(o.params)
        out = []
        for i, label in enumerate(labels):
            # as merge_params(own, named, given): the column values are flat and JSON-safe
            merged = {
                name: values[i] for name, values in zip(o.param_cols, per_column, strict=True)
            }
            if o.pattern is not None:
                merged.update(merge_params(params_from_name(o.pattern, self._name(label))))
            merged.update(given)
            out.append(merged)
        return out

    def _identity(self, label: str) -> str:
        return f"{self.prefix}/{label}" if self.run_col else self.prefix

    def _where(self, label: str) -> str:
        return f"{self.path}" + (f" (run {label!r})" if self.run_col else "")

    def _name(self, label: str) -> str:
        if self.run_col is None:
            return self.prefix
        return label if self.single_file else f"{self.prefix}/{label}"


__all__ = ["METRIC_COLUMNS", "RESTART", "Chunk", "Layout", "TableOptions", "TableScan", "connect"]
