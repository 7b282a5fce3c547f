"""Publish the runs of table files as one batch, streaming, all or nothing.

:func:`publish_tables` reads each file with :class:`~landaulab.store.ingest.scan.TableScan`
(a chunk of complete runs at a time), names each run as
:func:`~landaulab.store.ingest.common.publish_runs` would (the same run ids: an import
into a store filled by the per-run path adds nothing new), skips the runs already in
the store, and writes the others into one batch under ``staging/``
(:mod:`landaulab.store.batches`). Only when every file has been read and checked is
the batch renamed into the store, so a bad cell in the last row of the last file, an
exception or a kill leaves the store as it was (a store created by the import is
removed again). Imports into one store take turns (:meth:`Store.claim_batches`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from landaulab.errors import DataError
from landaulab.store.batches import RUN_SCHEMA, dumps, trajectory_table
from landaulab.store.ingest.common import (
    IngestResult,
    earlier_readings,
    refuse_earlier,
    remove_new_store,
)
from landaulab.store.ingest.scan import RESTART, Chunk, TableOptions, TableScan, connect
from landaulab.store.layout import MARKER
from landaulab.store.run_ids import run_id_of
from landaulab.store.store import Store

BUFFER_ROWS = 1 << 22
"""Rows of one file kept in memory before they are written (then in a part of their own,
so that they can be taken back if the file's runs must be read again in order)."""


_FIELDS = tuple(RUN_SCHEMA.names)
_FINAL = json.JSONEncoder().encode  # an infinite last value is kept, as Infinity


@dataclass
class _Pending:
    """What one import has read so far: its run table (a list per column) and
    trajectory rows not yet written."""

    columns: dict[str, list[Any]] = field(default_factory=lambda: {f: [] for f in _FIELDS})
    tables: list[tuple[pa.Table, int, np.ndarray]] = field(default_factory=list)
    buffered: int = 0

    def __len__(self) -> int:
        return len(self.columns["run_id"])

    def truncate(self, rows: int) -> None:
        """Forget the runs from ``rows`` on."""
        for values in self.columns.values():
            del values[rows:]


class _Import:
    """One import: the store, the staged batch and the runs read so far."""

    def __init__(
        self, store: Store, *, kind: str, task: str, how: Mapping[str, Any], existing: set[str]
    ) -> None:
        self.store = store
        self.kind = kind
        self.task = task
        self.how = dict(how)
        self.how_json = json.dumps(self.how, sort_keys=True, allow_nan=False)
        self.existing = existing
        self.writer = store.new_batch()
        self.pending = _Pending()
        self.added: list[str] = []
        self.added_set: set[str] = set()
        self.skipped: list[str] = []
        self.names: dict[str, str] = {}
        self.identities: dict[str, str] = {}
        self.ids: set[str] = set()

    # ------------------------------------------------------------- per file
    def read(self, scan: TableScan) -> None:
        """Read every run of one file into the batch."""
        mark = _Mark.of(self)
        for item in scan.chunks():
            if item is RESTART:
                mark.restore(self)
                continue
            assert isinstance(item, Chunk)
            self._take(item, mark)
        self._flush(mark, final=True)

    def _record(self, chunk: Chunk) -> tuple[str, str]:
        """The JSON text of a run's ``record`` around its name (keys sorted, as
        ``json.dumps(record, sort_keys=True)`` writes it)."""
        head = (
            f'{{"options": {self.how_json}, '
            f'"origin": {json.dumps(chunk.path.resolve().as_posix())}, '
            f'"path": {json.dumps(str(chunk.path))}, "run": '
        )
        return head, f', "source": {json.dumps(self.kind)}}}'

    def _take(self, chunk: Chunk, mark: _Mark) -> None:
        source = str(chunk.path)
        keep = np.zeros(len(chunk), dtype=bool)
        for i in range(len(chunk)):
            identity, name = chunk.identities[i], chunk.names[i]
            if identity in self.identities:
                raise DataError(
                    f"{source}: run {name!r} appears twice "
                    f"(also in {self.identities[identity]}); give each run its own name"
                )
            self.identities[identity] = source
            run_id = run_id_of(
                self.task,
                chunk.params[i],
                {"source": self.kind, "run": identity, "fingerprint": chunk.fingerprints[i]},
            )
            self.names[run_id] = name
            self.ids.add(run_id)
            if run_id in self.existing or run_id in self.added_set:
                self.skipped.append(run_id)
                continue
            self.added.append(run_id)
            self.added_set.add(run_id)
            keep[i] = True
        kept = np.flatnonzero(keep).tolist()
        if not kept:
            return
        first = len(self.pending)
        self._describe(self.added[-len(kept) :], chunk, kept)
        counts = chunk.counts
        rows = np.repeat(keep, counts)
        local = np.repeat(np.arange(len(kept)), counts[keep])
        table = trajectory_table(
            self.pending.columns["run_id"][first:],
            local,
            chunk.step[rows],
            {name: column[rows] for name, column in chunk.values.items()},
        )
        offsets = np.concatenate(([0], np.cumsum(counts[keep])[:-1]))
        self.pending.tables.append((table, first, offsets))
        self.pending.buffered += table.num_rows
        if self.pending.buffered > BUFFER_ROWS:
            self._flush(mark, final=False)

    def _describe(self, run_ids: list[str], chunk: Chunk, kept: list[int]) -> None:
        """Add the kept runs of a chunk to the run table."""
        head, tail = self._record(chunk)
        columns: dict[tuple[str, ...], str] = {}
        out = self.pending.columns
        out["run_id"] += run_ids
        out["task"] += [self.task] * len(kept)
        out["status"] += [chunk.statuses[i] for i in kept]
        out["reason"] += [chunk.reasons[i] for i in kept]
        out["params"] += [dumps(chunk.params[i]) for i in kept]
        out["diverged"] += [dumps(chunk.diverged[i]) for i in kept]
        out["stopped_early"] += [None] * len(kept)
        out["record"] += [head + json.dumps(chunk.names[i]) + tail for i in kept]
        out["duration_s"] += [None] * len(kept)
        out["finished"] += [None] * len(kept)
        out["attempt"] += [1] * len(kept)
        out["columns"] += [
            columns.get(chunk.columns[i])
            or columns.setdefault(chunk.columns[i], json.dumps(list(chunk.columns[i])))
            for i in kept
        ]
        out["final"] += [_FINAL(chunk.finals[i]) for i in kept]
        out["part"] += [None] * len(kept)
        out["first_row"] += [None] * len(kept)
        out["n_rows"] += chunk.counts[kept].tolist()

    def _flush(self, mark: _Mark, final: bool) -> None:
        """Write the buffered rows (in a part of the file's own if it is large)."""
        if not final and mark.part is None:
            mark.part = self.writer.checkpoint()
        parts, firsts = self.pending.columns["part"], self.pending.columns["first_row"]
        for table, first_run, offsets in self.pending.tables:
            part, first = self.writer.write(table)
            for j, offset in enumerate(offsets.tolist()):
                parts[first_run + j] = part
                firsts[first_run + j] = first + offset
        self.pending.tables.clear()
        self.pending.buffered = 0

    # --------------------------------------------------------------- finish
    def runs(self) -> pa.Table:
        """The batch's run table."""
        return pa.table(
            {
                name: pa.array(values, RUN_SCHEMA.field(name).type)
                for name, values in self.pending.columns.items()
            }
        )


@dataclass
class _Mark:
    """Where an import stood when a file began (to start the file again)."""

    rows: int
    added: int
    skipped: int
    names: dict[str, str]
    identities: dict[str, str]
    ids: set[str]
    part: int | None = None

    @classmethod
    def of(cls, state: _Import) -> _Mark:
        return cls(
            len(state.pending),
            len(state.added),
            len(state.skipped),
            dict(state.names),
            dict(state.identities),
            set(state.ids),
        )

    def restore(self, state: _Import) -> None:
        """Forget what the file gave so far."""
        if self.part is not None:
            state.writer.rollback(self.part)
            self.part = None
        state.pending.tables.clear()
        state.pending.buffered = 0
        state.pending.truncate(self.rows)
        for run_id in state.added[self.added :]:
            state.added_set.discard(run_id)
        del state.added[self.added :]
        del state.skipped[self.skipped :]
        state.names = dict(self.names)
        state.identities = dict(self.identities)
        state.ids = set(self.ids)


def publish_tables(
    files: Sequence[tuple[Path, str]],
    single_file: bool,
    table_options: TableOptions,
    store: str | os.PathLike[str] | Store,
    *,
    kind: str,
    task: str,
    options: Mapping[str, Any] | None = None,
    replace: bool = False,
) -> IngestResult:
    """Read table files and publish their runs as one batch, all or nothing.

    The semantics are those of :func:`~landaulab.store.ingest.common.publish_runs`:
    the same run ids, runs already in the store skipped, and runs imported before from
    the same files with other options refused (or with ``replace`` taken out once the
    new runs are in).

    Parameters
    ----------
    files
        Each file with the name of its runs' prefix.
    single_file
        Whether one file was given (run names are then the run column's values).
    table_options
        How to read the files.
    store
        The store (created if missing; removed again if the import fails).
    kind, task, options
        The source kind, task label and reading options recorded with each run.
    replace
        Replace the runs of an earlier import of the same files with other options.

    Raises
    ------
    DataError
        For a bad file (one line naming it), or an earlier import with other options.
    StoreError
        If the store is not usable.
    """
    target = store.path if isinstance(store, Store) else Path(store)
    created = not (target / MARKER).exists()
    existed = target.exists()
    opened = store if isinstance(store, Store) else Store(target, create=True)
    how = {"task": task, **dict(options or {})}
    claim = opened.claim_batches()
    state: _Import | None = None
    connection = connect()
    try:
        state = _Import(opened, kind=kind, task=task, how=how, existing=set(opened.run_ids()))
        for path, prefix in files:
            state.read(TableScan(path, prefix, single_file, table_options, connection))
        origins = {path.resolve().as_posix() for path, _ in files}
        earlier = earlier_readings(opened, origins, kind, how, state.ids)
        if earlier and not replace:
            refuse_earlier(earlier)
        if state.added:
            opened.commit_batch(state.writer, state.runs())
        else:
            state.writer.abort()
        replaced = [record.run_id for record in earlier]
        opened.remove_runs(replaced)
    except BaseException:
        if state is not None:
            state.writer.abort()
        if created:
            remove_new_store(target, existed)
        raise
    finally:
        connection.close()
        claim.release()
    return IngestResult(
        store=str(target),
        source=kind,
        added=tuple(state.added),
        skipped=tuple(state.skipped),
        names=state.names,
        replaced=tuple(replaced),
    )


__all__ = ["BUFFER_ROWS", "publish_tables"]
