"""Load a tidy frame from a store directory, a CSV (optionally gzipped) or a Parquet file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from landaulab.design import is_seed
from landaulab.errors import DataError, StoreError
from landaulab.store.store import MARKER, Store


def load_frame(
    path: str | os.PathLike[str],
    needed: Sequence[str] | None = None,
    *,
    run_col: str = "run_id",
    all_parameters: bool = False,
) -> pd.DataFrame:
    """Read the tidy frame (one row per run and step) from ``path``.

    Parameters
    ----------
    path
        A landaulab store directory, a ``.csv`` / ``.csv.gz`` file, or a ``.parquet``
        file (or a directory of Parquet files).
    needed
        The columns an analysis uses (None: every column). From a CSV or Parquet file that
        has all of them and ``run_col``, only these are read, plus the run parameters that
        could select or slice runs: the other columns constant within every run that take
        several values across runs, except seeds, which never slice an analysis (with
        ``all_parameters``, every column constant within every run, seeds included). Which
        columns those are is decided by one DuckDB aggregate over the
        file, so a file of millions of rows is never held whole; the run column is read
        dictionary-encoded (a pandas categorical).
    run_col
        The run column (with ``needed``).
    all_parameters
        Keep the parameters that take one value too (a ``where`` predicate may name them).

    Raises
    ------
    DataError
        If the path does not exist, has an unknown format, or cannot be parsed.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if path.is_dir():
        if (path / MARKER).exists():
            try:
                return Store(path).frame()
            except StoreError as exc:
                raise DataError(str(exc)) from None
        if any(path.glob("*.parquet")):
            return _read(path, "parquet")
        raise DataError(f"{path}: a directory that is neither a landaulab store nor Parquet files")
    kind = _file_kind(path)
    if kind and needed is not None:
        columns = _lean_columns(path, kind, needed, run_col, all_parameters)
        if columns is not None:
            try:
                return _read(path, kind, columns, run_col)
            except DataError:  # a file the lean readers reject: the full read decides
                pass
    if kind:
        return _read(path, kind)
    raise DataError(f"{path}: unknown format; give a store directory, a .csv(.gz) or a .parquet")


#: Rows a batch when a CSV file is streamed from DuckDB into Arrow.
CSV_BATCH_ROWS = 1 << 20


def release_read_buffers() -> None:
    """Hand the memory of tables read through Arrow and since dropped back to the system
    (Arrow's allocator keeps freed blocks for reuse; a table of millions of rows read once
    should not stay resident for the rest of an analysis)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _read_parquet_columns(path: Path, columns: list[str], run_col: str) -> pd.DataFrame:
    """``columns`` of a Parquet file, the run column dictionary-encoded (through
    :func:`_to_pandas`: the file is held once, not three times)."""
    import pyarrow.parquet as pq

    return _to_pandas([pq.read_table(path, columns=columns, read_dictionary=[run_col])])


def _read_csv_columns(path: Path, columns: list[str], run_col: str) -> pd.DataFrame:
    """``columns`` of a CSV file, parsed by DuckDB and streamed into Arrow a batch of rows
    at a time, the run column dictionary-encoded batch by batch (the parsed text of the
    whole file is never held at once), then handed to pandas a column at a time."""
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    connection = duckdb.connect()
    try:
        connection.execute("SET enable_progress_bar = false")
        selected = ", ".join(_identifier(name) for name in columns)
        relation = connection.sql(f"SELECT {selected} FROM {_csv_source(path)}")
        if hasattr(relation, "to_arrow_reader"):  # DuckDB >= 1.4
            reader = relation.to_arrow_reader(CSV_BATCH_ROWS)
        else:
            reader = relation.record_batch(CSV_BATCH_ROWS)  # type: ignore[operator]
        schema = reader.schema
        index = schema.get_field_index(run_col)
        kind = schema.field(index).type
        encode = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        batches = []
        for batch in reader:
            # copied out of DuckDB's batch (freed only once all its columns are), the run
            # column dictionary-encoded
            arrays = [
                pc.dictionary_encode(array) if encode and i == index else pa.concat_arrays([array])
                for i, array in enumerate(batch.columns)
            ]
            batches.append(pa.RecordBatch.from_arrays(arrays, names=batch.schema.names))
            del batch, arrays
        del reader, relation
        if batches:
            table = pa.Table.from_batches(batches)
        else:
            table = schema.empty_table()
        del batches
    finally:
        connection.close()
    if encode:
        if table.num_rows == 0:
            table = table.set_column(index, run_col, pc.dictionary_encode(table.column(index)))
        table = table.unify_dictionaries()
    box = [table]
    del table
    return _to_pandas(box)


def _to_pandas(box: list[Any]) -> pd.DataFrame:
    """The Arrow table in ``box`` (taken out of it: the caller keeps no reference) as
    pandas, a column at a time, each Arrow buffer freed once converted and the freed
    memory handed back.

    Each column read in several chunks (row groups, streamed batches) is first made one
    contiguous array, its chunks freed before the next column is joined: pandas then takes
    it over without a copy, and at most one column is ever held twice."""
    table = box.pop()
    for index in range(table.num_columns):
        column = table.column(index)
        if column.num_chunks > 1:
            joined = column.combine_chunks()
            del column
            table = table.set_column(index, table.field(index), joined)
            del joined
            release_read_buffers()
        else:
            del column
    frame = table.to_pandas(self_destruct=True, split_blocks=True, use_threads=False)
    del table
    release_read_buffers()
    return frame


def _file_kind(path: Path) -> str:
    """``"parquet"``, ``"csv"`` (CSV or TSV, maybe gzipped) or ``""`` by the file's name."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")):
        return "csv"
    return ""


def _duckdb_source(path: Path, kind: str) -> str:
    """The DuckDB table function reading the file ``path`` of ``kind``."""
    return f"read_parquet({_quoted(str(path))})" if kind == "parquet" else _csv_source(path)


def _csv_source(path: Path) -> str:
    return f"read_csv({_quoted(str(path))}, delim = {_quoted(_separator(path))}, header = true)"


def _separator(path: Path) -> str:
    return "\t" if ".tsv" in path.name.lower() else ","


def file_columns(path: str | os.PathLike[str]) -> list[str] | None:
    """The column names of a CSV or Parquet file, from its header or schema alone (DuckDB
    reads no rows); ``None`` for a store, a directory, another format, or a file DuckDB
    cannot describe (the full read then decides what is wrong)."""
    import duckdb

    path = Path(path)
    kind = _file_kind(path)
    if not (kind and path.is_file()):
        return None
    source = _duckdb_source(path, kind)
    connection = duckdb.connect()
    try:
        connection.execute("SET enable_progress_bar = false")
        described = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        return [str(row[0]) for row in described]
    except duckdb.Error:
        return None
    finally:
        connection.close()


def _lean_columns(
    path: Path, kind: str, needed: Sequence[str], run_col: str, all_parameters: bool
) -> list[str] | None:
    """The columns to read for an analysis (see :func:`load_frame`), or None to read all
    (the file lacks a needed column or the run column, or DuckDB cannot read it)."""
    import duckdb

    source = _duckdb_source(path, kind)
    connection = duckdb.connect()
    try:
        connection.execute("SET enable_progress_bar = false")
        described = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        types = {str(row[0]): str(row[1]).upper() for row in described}
        wanted = list(dict.fromkeys([run_col, *needed]))
        if any(name not in types for name in wanted):
            return None
        others = [
            name
            for name in types
            if name not in set(wanted) and (all_parameters or not is_seed(name))
        ]
        if not others:
            return wanted
        parts = []
        for i, name in enumerate(others):
            value = _identifier(name)
            if types[name] in ("DOUBLE", "FLOAT", "REAL"):
                value = f"CASE WHEN isnan({value}) THEN NULL ELSE {value} END"
            parts.append(f"min({value}) AS lo{i}, max({value}) AS hi{i}")
        checks = ", ".join(
            f"bool_and(lo{i} IS NOT DISTINCT FROM hi{i}), min(lo{i}) < max(hi{i})"
            for i in range(len(others))
        )
        row = connection.execute(
            f"SELECT {checks} FROM (SELECT {', '.join(parts)} FROM {source} "
            f"GROUP BY {_identifier(run_col)})"
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        connection.close()
    if row is None:
        return None
    keep = [
        name
        for i, name in enumerate(others)
        if bool(row[2 * i]) and (all_parameters or bool(row[2 * i + 1]))
    ]
    return wanted + keep


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read(
    path: Path, kind: str, columns: list[str] | None = None, run_col: str | None = None
) -> pd.DataFrame:
    try:
        if kind == "parquet" and columns is not None:
            frame = _read_parquet_columns(path, columns, str(run_col))
        elif kind == "parquet":
            frame = pd.read_parquet(path)
        elif columns is not None:
            frame = _read_csv_columns(path, columns, str(run_col))
        else:
            frame = pd.read_csv(path, sep=_separator(path), compression="infer", low_memory=False)
    except (OSError, ValueError, EOFError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: cannot read {kind} ({first})") from None
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: cannot read {kind} ({type(exc).__name__}: {first})") from None
    if frame.empty and len(frame.columns) == 0:
        raise DataError(f"{path}: the file has no columns")
    return frame
