"""Batches: many runs published in one atomic rename.

Publishing a run on its own (``runs/<run_id>/``: a ``run.json`` and a
``trajectory.parquet``, renamed into place) costs a directory, two files and a rename
per run, and reading a store then costs a file open per run: fine for a sweep, which
trains and publishes one run at a time and whose claims, locks and resumption rely on
it, but minutes for an import of 10⁵ runs. An import therefore publishes a *batch*::

    batches/<batch_id>/runs.parquet              one row per run: its run.json fields
    batches/<batch_id>/trajectories-00000.parquet  run_id, step, one float column per
                                                 observable, the rows of each run
                                                 together and in step order

``runs.parquet`` holds ``run_id``, ``task``, ``status``, ``reason``, ``duration_s``,
``finished``, ``attempt`` and, as JSON text, ``params``, ``diverged``,
``stopped_early`` and ``record`` (exactly what ``run.json`` holds), plus where each
run's rows are (``part``, ``first_row``, ``n_rows``), its trajectory columns
(``columns``, JSON) and its values at its last step (``final``, JSON). A trajectory
file is started anew whenever the observables change (a folder of differently shaped
tables), so each part has one schema; ``run_id`` is dictionary-encoded.

The whole directory is written under ``staging/`` and renamed into ``batches/`` in one
``rename``: a reader sees all of a batch or none of it, whatever is killed when. A
published batch is never changed; taking runs out of it publishes a new batch without
them and then removes the old one (a reader meanwhile sees the remaining runs in both,
with the same content, never a partial one).

Batch ids sort in the order batches were published (nanosecond clock, then a random
tag). When a run id is in several places, ``runs/<run_id>/`` wins over any batch (it is
how :meth:`~landaulab.store.Store.publish` replaces a run), and a later batch wins over
an earlier one.

Why this shape: the run table is one small file (10⁵ runs read in well under a second
instead of 10⁵ JSON files); trajectories stay Parquet with the columns of a per-run
``trajectory.parquet``, so DuckDB reads both kinds in one query, only the columns and
row groups it needs, and the tidy frame is assembled by moving whole runs (their rows
are together, in step order) without parsing a run id per row. A directory renamed at
once gives all-or-nothing publishing with the same mechanism as a run, without a
database file that readers and writers would have to lock; and since a published batch
never changes, a reader may keep what it read of it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from landaulab.files import fsync_dir
from landaulab.store.layout import BATCHES, STAGING

RUNS_FILE = "runs.parquet"
"""The run table of a batch."""

PART_PREFIX = "trajectories-"
"""Trajectory files of a batch: ``trajectories-00000.parquet``, ``-00001``, …"""

JSON_FIELDS = ("params", "diverged", "stopped_early", "record")
"""Fields of ``run.json`` kept as JSON text in ``runs.parquet``."""

RUN_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("task", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("params", pa.string()),
        ("diverged", pa.string()),
        ("stopped_early", pa.string()),
        ("record", pa.string()),
        ("duration_s", pa.float64()),
        ("finished", pa.float64()),
        ("attempt", pa.int64()),
        ("columns", pa.string()),
        ("final", pa.string()),
        ("part", pa.int32()),
        ("first_row", pa.int64()),
        ("n_rows", pa.int64()),
    ]
)
"""The columns of ``runs.parquet``."""

RUN_ID_TYPE = pa.dictionary(pa.int32(), pa.string())
"""How ``run_id`` is stored in a trajectory file."""


def new_batch_id() -> str:
    """A batch id that sorts after every batch published before it."""
    return f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"


def batch_ids(root: Path) -> list[str]:
    """Ids of the published batches of the store at ``root``, oldest first."""
    try:
        entries = list(os.scandir(root / BATCHES))
    except FileNotFoundError:
        return []
    return sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))


_ENCODE = json.JSONEncoder(sort_keys=True, allow_nan=False).encode


def dumps(value: Any) -> str | None:
    """JSON text of a field (``None`` stays null), as ``run.json`` would hold it."""
    if value is None:
        return None
    return _ENCODE(value)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def trajectory_table(
    run_ids: Sequence[str], runs: np.ndarray, step: np.ndarray, values: dict[str, np.ndarray]
) -> pa.Table:
    """Rows of a trajectory file.

    Parameters
    ----------
    run_ids
        The run ids the rows refer to (the dictionary of ``run_id``).
    runs
        For each row, the position of its run in ``run_ids``.
    step
        The steps (int64).
    values
        One float64 array per observable; NaN is stored as null (not logged).
    """
    run_id = pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(runs, dtype=np.int32)), pa.array(list(run_ids), pa.string())
    )
    columns: dict[str, pa.Array] = {
        "run_id": run_id,
        "step": pa.array(np.asarray(step, dtype=np.int64)),
    }
    for name, column in values.items():
        columns[name] = pa.array(np.asarray(column, dtype=np.float64), from_pandas=True)
    return pa.table(columns)


class BatchWriter:
    """Writes one batch under ``staging/`` and publishes it with one rename.

    Parameters
    ----------
    root
        The store directory.

    Examples
    --------
    >>> writer = BatchWriter(store.path)  # doctest: +SKIP
    >>> part, first = writer.write(trajectory_table(ids, runs, step, values))
    >>> writer.commit(runs)  # one row per run, the columns of RUN_SCHEMA
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.batch_id = new_batch_id()
        self.stage = root / STAGING / f"batch.{self.batch_id}.{os.getpid()}"
        self.stage.mkdir(parents=True)
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._part = -1
        self._rows = 0
        self.runs: pa.Table | None = None
        """The run table to commit with, where the writer was prepared by someone else."""

    @property
    def target(self) -> Path:
        """Where the batch appears once published."""
        return self.root / BATCHES / self.batch_id

    def write(self, table: pa.Table) -> tuple[int, int]:
        """Append trajectory rows (from :func:`trajectory_table`).

        Returns
        -------
        tuple of int
            The part the rows went to and the position of their first row in it. A new
            part starts when the table's columns differ from the current part's.
        """
        if self._writer is None or self._schema is None or not table.schema.equals(self._schema):
            self._close_part()
            self._part += 1
            self._schema = table.schema
            self._rows = 0
            self._writer = pq.ParquetWriter(
                self.stage / f"{PART_PREFIX}{self._part:05d}.parquet",
                table.schema,
                compression="zstd",
                use_dictionary=["run_id", "step"],  # not the floats: costly, and no gain
            )
        self._writer.write_table(table, row_group_size=1 << 20)
        first = self._rows
        self._rows += table.num_rows
        return self._part, first

    def checkpoint(self) -> int:
        """Make the next rows start a new part; returns its number (for :meth:`rollback`)."""
        self._close_part()
        self._schema = None
        return self._part + 1

    def rollback(self, part: int) -> None:
        """Delete the parts from ``part`` on (written since :meth:`checkpoint` gave it)."""
        self._close_part()
        for number in range(part, self._part + 1):
            (self.stage / f"{PART_PREFIX}{number:05d}.parquet").unlink(missing_ok=True)
        self._part = part - 1
        self._schema = None

    def _close_part(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def commit(self, runs: pa.Table, before_rename: Callable[[], None] | None = None) -> Path:
        """Write the run table and rename the batch into ``batches/``.

        Parameters
        ----------
        runs
            One row per run, with the columns of :data:`RUN_SCHEMA`.
        before_rename
            Called once every file is written and flushed, just before the rename
            (the store raises its format marker there).

        Returns
        -------
        Path
            The published batch directory.
        """
        self._close_part()
        pq.write_table(runs.select(RUN_SCHEMA.names).cast(RUN_SCHEMA), self.stage / RUNS_FILE)
        for path in self.stage.iterdir():
            _fsync_file(path)
        fsync_dir(self.stage)
        if before_rename is not None:
            before_rename()
        (self.root / BATCHES).mkdir(exist_ok=True)
        os.rename(self.stage, self.target)
        fsync_dir(self.root / BATCHES)
        return self.target

    def abort(self) -> None:
        """Remove everything written (safe to call more than once)."""
        try:
            self._close_part()
        except Exception:  # a half-written part is removed below anyway
            self._writer = None
        shutil.rmtree(self.stage, ignore_errors=True)


class _Lists(dict[str, list[Any]]):
    """The columns of a run table as lists, each converted when first asked for."""

    def __init__(self, table: pa.Table) -> None:
        super().__init__()
        self.table = table

    def __missing__(self, name: str) -> list[Any]:
        values: list[Any] = self.table.column(name).to_pylist()
        self[name] = values
        return values


class Batch:
    """A published batch, read: its run table and where each run's rows are.

    Parameters
    ----------
    path
        The batch directory (``batches/<batch_id>``).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.batch_id = path.name
        self.runs = pq.read_table(path / RUNS_FILE)
        self.run_ids: list[str] = self.runs.column("run_id").to_pylist()
        self.position = {run_id: i for i, run_id in enumerate(self.run_ids)}

    def __len__(self) -> int:
        return len(self.run_ids)

    def part_path(self, part: int) -> Path:
        """The trajectory file ``part``."""
        return self.path / f"{PART_PREFIX}{part:05d}.parquet"

    @cached_property
    def _lists(self) -> _Lists:
        return _Lists(self.runs)

    def column(self, name: str) -> list[Any]:
        """One column of the run table as a list (converted once, when first asked)."""
        return self._lists[name]

    @cached_property
    def locations(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``part``, ``first_row`` and ``n_rows`` of every run, as arrays."""
        return (
            self.runs.column("part").to_numpy().astype(np.int64),
            self.runs.column("first_row").to_numpy().astype(np.int64),
            self.runs.column("n_rows").to_numpy().astype(np.int64),
        )

    def decoded(self, name: str) -> list[Any]:
        """A JSON column of the run table, decoded (once; equal texts decoded once)."""
        if name not in self._decoded:
            memo: dict[str, Any] = {}
            out: list[Any] = []
            for text in self._lists[name]:
                if text is None:
                    out.append(None)
                elif text in memo:
                    out.append(memo[text])
                else:
                    out.append(memo.setdefault(text, json.loads(text)))
            self._decoded[name] = out
        return self._decoded[name]

    @cached_property
    def _decoded(self) -> dict[str, list[Any]]:
        return {}

    def record(self, row: int) -> dict[str, Any]:
        """The ``run.json`` payload of the run in row ``row`` (fresh top-level dicts;
        nested values are shared with the batch's decoded columns)."""
        lists = self._lists
        payload: dict[str, Any] = {
            name: lists[name][row]
            for name in ("run_id", "task", "status", "reason", "duration_s", "finished", "attempt")
        }
        for name in JSON_FIELDS:
            value = self.decoded(name)[row]
            payload[name] = dict(value) if isinstance(value, dict) else value
        if payload["record"] is None:
            payload["record"] = {}
        return payload

    def records(self, rows: Sequence[int]) -> list[dict[str, Any]]:
        """The ``run.json`` payloads of many runs (as :meth:`record`, faster)."""
        lists = self._lists
        plain = [lists[n] for n in ("run_id", "task", "status", "reason", "duration_s", "finished")]
        run_id, task, status, reason, duration, finished = plain
        attempt = lists["attempt"]
        params, diverged, stopped, record = (self.decoded(n) for n in JSON_FIELDS)
        return [
            {
                "run_id": run_id[i],
                "task": task[i],
                "status": status[i],
                "reason": reason[i],
                "duration_s": duration[i],
                "finished": finished[i],
                "attempt": attempt[i],
                "params": dict(params[i]) if params[i] is not None else {},
                "diverged": None if diverged[i] is None else dict(diverged[i]),
                "stopped_early": None if stopped[i] is None else dict(stopped[i]),
                "record": {} if record[i] is None else dict(record[i]),
            }
            for i in rows
        ]

    def final(self, row: int) -> dict[str, float]:
        """The values of run ``row`` at its last logged step (``{}`` without steps)."""
        value = self.decoded("final")[row]
        return {} if value is None else dict(value)

    def trajectory(self, row: int) -> pa.Table:
        """The trajectory of run ``row``: ``run_id`` (plain text), ``step`` and its columns."""
        parts, firsts, counts = self.locations
        columns = json.loads(self._lists["columns"][row])
        file = pq.ParquetFile(self.part_path(int(parts[row])))
        first, count = int(firsts[row]), int(counts[row])
        pieces = []
        start = 0
        for group in range(file.metadata.num_row_groups):
            size = file.metadata.row_group(group).num_rows
            lo, hi = max(first, start), min(first + count, start + size)
            if lo < hi:
                table = file.read_row_group(group, columns=["run_id", *columns])
                pieces.append(table.slice(lo - start, hi - lo))
            start += size
        table = pa.concat_tables(pieces) if pieces else None
        if table is None:
            return pa.table({"run_id": pa.array([], pa.string()), "step": pa.array([], pa.int64())})
        run_id = table.column("run_id").cast(pa.string())
        return table.set_column(0, "run_id", run_id)


def rewrite_without(batch: Batch, drop: set[str], root: Path) -> BatchWriter | None:
    """Write (not yet publish) a copy of ``batch`` without the runs in ``drop``.

    Returns
    -------
    BatchWriter or None
        The staged copy, to :meth:`~BatchWriter.commit` with its run table
        (``writer.runs``), or ``None`` when no run would remain.
    """
    keep = [i for i, run_id in enumerate(batch.run_ids) if run_id not in drop]
    if not keep:
        return None
    parts, firsts, counts = batch.locations
    writer = BatchWriter(root)
    new_part = np.zeros(len(batch), dtype=np.int32)
    new_first = np.zeros(len(batch), dtype=np.int64)
    try:
        for part in sorted({int(parts[i]) for i in keep}):
            chosen = sorted((i for i in keep if parts[i] == part), key=lambda i: firsts[i])
            table = pq.read_table(batch.part_path(part))
            pieces = [table.slice(int(firsts[i]), int(counts[i])) for i in chosen]
            joined = pa.concat_tables(pieces).combine_chunks()
            run_id = joined.column("run_id").cast(pa.string()).dictionary_encode()
            joined = joined.set_column(0, "run_id", run_id.cast(RUN_ID_TYPE))
            written, first = writer.write(joined)
            offset = first
            for i in chosen:
                new_part[i], new_first[i] = written, offset
                offset += int(counts[i])
        taken = batch.runs.take(pa.array(keep))
        taken = taken.set_column(
            taken.schema.get_field_index("part"), "part", pa.array(new_part[keep], pa.int32())
        )
        taken = taken.set_column(
            taken.schema.get_field_index("first_row"),
            "first_row",
            pa.array(new_first[keep], pa.int64()),
        )
    except BaseException:
        writer.abort()
        raise
    writer.runs = taken
    return writer


__all__ = [
    "JSON_FIELDS",
    "PART_PREFIX",
    "RUNS_FILE",
    "RUN_ID_TYPE",
    "RUN_SCHEMA",
    "Batch",
    "BatchWriter",
    "batch_ids",
    "dumps",
    "new_batch_id",
    "rewrite_without",
    "trajectory_table",
]
