"""The run store: one directory; runs published one at a time or in batches, atomically.

Layout (``format`` 1, or 2 once it holds a batch; documented in the README)::

    STORE/
      landaulab-store.json          {"format": 1} (2 once a batch was published)
      runs/<run_id>/run.json        parameters, status and provenance of one run
      runs/<run_id>/trajectory.parquet   run_id, step, one float column per observable
      batches/<batch_id>/           many runs published at once (an import):
                                    runs.parquet + trajectories-NNNNN.parquet
      sweeps/<name>-<hash>.json     the planned run ids and parameters of each sweep
      locks/<run_id>.lock           claims held while a run is being trained
      staging/                      runs and batches being written; never read

A run directory is first written completely under ``staging/`` and then renamed to
``runs/<run_id>``, so a reader sees a run whole or not at all, whatever is killed when.
A sweep publishes its runs this way, one at a time (claims, locks and resumption work
per run). An import of many runs publishes them as one batch, also written under
``staging/`` and renamed into ``batches/`` at once (see :mod:`landaulab.store.batches`,
which says why). Every reader sees both kinds alike; where one run id is in several
places, ``runs/<run_id>`` wins (it is how :meth:`Store.publish` with ``replace``
replaces a run), then the latest batch.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from landaulab.errors import DataError, StoreError
from landaulab.store.atomic import fsync_dir, write_json_atomic
from landaulab.store.batches import Batch, BatchWriter, batch_ids, rewrite_without
from landaulab.store.layout import (
    BATCH_FORMAT,
    BATCHES,
    FORMAT,
    MARKER,
    READABLE_FORMATS,
    STAGING,
    SUBDIRECTORIES,
)
from landaulab.store.tidy import (
    OBSERVED_SUFFIX,
    SETTING_SUFFIX,
    BatchPart,
    Sources,
    register_views,
    tidy_frame,
)
from landaulab.store.tidy import (
    flat_params as _flat_params,
)

Status = Literal["done", "diverged", "failed"]
STATUSES: tuple[Status, ...] = ("done", "diverged", "failed")


class AmbiguousColumnError(StoreError, DataError):
    """A column name held by both a setting and a disagreeing observable."""

    def __init__(self, name: str, spellings: list[str]) -> None:
        super().__init__(
            f"column {name!r} is both a setting and an observable with different values; "
            f"ask for {spellings[0]!r} (the setting) or {spellings[1]!r} (the logged values)"
        )
        self.name = name
        self.spellings = list(spellings)


@dataclass(frozen=True)
class RunRecord:
    """What the store knows of one run (the contents of ``run.json``)."""

    run_id: str
    task: str
    params: dict[str, Any]
    status: Status
    reason: str | None = None
    diverged: dict[str, Any] | None = None
    stopped_early: dict[str, Any] | None = None
    record: dict[str, Any] = field(default_factory=dict)
    duration_s: float | None = None
    finished: float | None = None
    attempt: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as stored."""
        return {
            "run_id": self.run_id,
            "task": self.task,
            "params": self.params,
            "status": self.status,
            "reason": self.reason,
            "diverged": self.diverged,
            "stopped_early": self.stopped_early,
            "record": self.record,
            "duration_s": self.duration_s,
            "finished": self.finished,
            "attempt": self.attempt,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Read a ``run.json`` payload; unknown keys are ignored (newer writers)."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


class RunClaim:
    """An exclusive, crash-released claim on one run id (an ``flock`` on its lock file)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        """Release the claim (also released by the OS if the process dies)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunClaim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _Entry(NamedTuple):
    """Where a run's record is: its own directory (``batch`` None), or a row of a batch."""

    run_id: str
    batch: Batch | None = None
    row: int = -1


@dataclass(frozen=True)
class _BatchLayer:
    """The published batches as read, which of them holds each run id (the latest), and
    those runs as entries sorted by run id."""

    ids: tuple[str, ...]
    batches: tuple[Batch, ...]
    owner: dict[str, tuple[int, int]]
    entries: list[_Entry]


class Store:
    """A directory of runs.

    Parameters
    ----------
    path
        The store directory.
    create
        Create it if missing (a sweep does; readers do not).

    Raises
    ------
    StoreError
        If the directory is missing (and ``create`` is false) or is not a store.
    """

    def __init__(self, path: str | os.PathLike[str], create: bool = False) -> None:
        self.path = Path(path)
        self._layer: _BatchLayer | None = None
        marker = self.path / MARKER
        if not marker.exists():
            if not create:
                if not self.path.exists():
                    raise StoreError(f"{self.path}: no such store (run a sweep into it first)")
                raise StoreError(f"{self.path}: not a landaulab store (no {MARKER})")
            if self.path.exists() and not self.path.is_dir():
                raise StoreError(f"{self.path}: exists and is not a directory")
            if self.path.exists() and any(not _being_created(p) for p in self.path.iterdir()):
                raise StoreError(
                    f"{self.path}: directory is not empty and not a landaulab store; "
                    "choose another --store"
                )
            for sub in SUBDIRECTORIES:
                (self.path / sub).mkdir(parents=True, exist_ok=True)
            write_json_atomic(marker, {"format": FORMAT})
        else:
            fmt = self.format
            if fmt not in READABLE_FORMATS:
                raise StoreError(
                    f"{self.path}: store format {fmt} is not supported (need one of "
                    f"{', '.join(map(str, READABLE_FORMATS))}; a newer landaulab wrote it)"
                )
            for sub in SUBDIRECTORIES:
                (self.path / sub).mkdir(exist_ok=True)

    @property
    def format(self) -> Any:
        """The ``format`` of the store's marker (1, or 2 once it holds a batch)."""
        marker = self.path / MARKER
        try:
            return json.loads(marker.read_text()).get("format")
        except (OSError, ValueError, AttributeError) as exc:
            raise StoreError(f"{marker}: unreadable store marker ({exc})") from None

    # ------------------------------------------------------------------ runs
    @property
    def runs_dir(self) -> Path:
        """Where runs published on their own live (``runs/<run_id>/``)."""
        return self.path / "runs"

    def _own_ids(self) -> set[str]:
        """Ids of the runs published on their own (each in ``runs/<run_id>/``)."""
        out = set()
        for entry in os.scandir(self.runs_dir):
            if entry.is_dir() and os.path.exists(os.path.join(entry.path, "run.json")):
                out.add(entry.name)
        return out

    def _batch_layer(self) -> _BatchLayer:
        """The published batches (read once each: a published batch never changes)."""
        for attempt in range(3):
            ids = tuple(batch_ids(self.path))
            if self._layer is not None and self._layer.ids == ids:
                return self._layer
            known = {b.batch_id: b for b in (self._layer.batches if self._layer else ())}
            try:
                batches = tuple(known.get(i) or Batch(self.path / BATCHES / i) for i in ids)
            except FileNotFoundError:
                if attempt == 2:
                    raise StoreError(f"{self.path}: batches keep changing; try again") from None
                continue  # a batch was replaced while we read: list them again
            except (OSError, pa.ArrowException) as exc:
                raise StoreError(f"{self.path}: unreadable batch ({exc})") from None
            owner: dict[str, tuple[int, int]] = {}
            for k, batch in enumerate(batches):
                owner.update(
                    zip(batch.run_ids, ((k, row) for row in range(len(batch))), strict=True)
                )
            entries = [_Entry(run_id, batches[k], row) for run_id, (k, row) in owner.items()]
            entries.sort()
            self._layer = _BatchLayer(ids, batches, owner, entries)
            return self._layer
        raise AssertionError("unreachable")

    def _entries(self) -> list[_Entry]:
        """Every published run once (the winning copy), sorted by run id."""
        own = self._own_ids()
        layer = self._batch_layer()
        if not own:
            return layer.entries
        entries = [_Entry(run_id) for run_id in own]
        entries += [e for e in layer.entries if e.run_id not in own]
        entries.sort(key=lambda e: e.run_id)
        return entries

    def run_ids(self) -> list[str]:
        """Ids of all published runs, sorted."""
        return sorted(self._own_ids() | set(self._batch_layer().owner))

    def __contains__(self, run_id: object) -> bool:
        if not isinstance(run_id, str):
            return False
        return (self.runs_dir / run_id / "run.json").exists() or run_id in self._batch_layer().owner

    def __len__(self) -> int:
        return len(self.run_ids())

    def _own_record(self, run_id: str) -> RunRecord | None:
        path = self.runs_dir / run_id / "run.json"
        try:
            return RunRecord.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path}: unreadable run record ({exc})") from None

    def get(self, run_id: str) -> RunRecord | None:
        """The record of one run, or ``None`` if it is not in the store."""
        record = self._own_record(run_id)
        if record is not None:
            return record
        layer = self._batch_layer()
        if run_id not in layer.owner:
            return None
        k, row = layer.owner[run_id]
        return RunRecord.from_dict(layer.batches[k].record(row))

    def records(self) -> list[RunRecord]:
        """Records of all published runs, sorted by run id."""
        entries = self._entries()
        out: list[RunRecord | None] = [None] * len(entries)
        rows: dict[int, tuple[Batch, list[int], list[int]]] = {}
        for position, entry in enumerate(entries):
            if entry.batch is None:
                out[position] = self._own_record(entry.run_id)
            else:
                _, slots, wanted = rows.setdefault(id(entry.batch), (entry.batch, [], []))
                slots.append(position)
                wanted.append(entry.row)
        for batch, slots, wanted in rows.values():
            for position, payload in zip(slots, batch.records(wanted), strict=True):
                out[position] = RunRecord(**payload)
        return [record for record in out if record is not None]

    def trajectory(self, run_id: str) -> pd.DataFrame:
        """The trajectory table of one run."""
        path = self.runs_dir / run_id / "trajectory.parquet"
        if path.exists():
            return pq.read_table(path).to_pandas()
        layer = self._batch_layer()
        if run_id not in layer.owner:
            raise StoreError(f"{self.path}: no run {run_id!r}")
        k, row = layer.owner[run_id]
        return layer.batches[k].trajectory(row).to_pandas()

    # ---------------------------------------------------------------- claims
    def claim(self, run_id: str, wait: bool = False) -> RunClaim | None:
        """Claim ``run_id`` for training; ``None`` if another process holds it.

        With ``wait``, block until the claim is free. Claims are released by the OS when
        the holder dies, so a killed sweep never blocks a resumed one.
        """
        path = self.path / "locks" / f"{run_id}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return RunClaim(path, fd)

    def claim_batches(self) -> RunClaim:
        """The store-wide claim held while a batch is written and published.

        Two imports into one store take turns (the second waits), so the second sees the
        runs of the first and skips them.
        """
        claim = self.claim(".batches", wait=True)
        assert claim is not None  # waiting always ends with the claim
        return claim

    # -------------------------------------------------------------- publish
    def publish(self, record: RunRecord, trajectory: pd.DataFrame, replace: bool = False) -> bool:
        """Write a run completely under ``staging/`` and rename it into ``runs/``.

        The caller should hold the run's claim. Returns ``False`` (writing nothing) if
        the run is already published (on its own or in a batch) and ``replace`` is false.
        ``replace`` swaps out an existing entry (used to retry a failed run); a reader
        meanwhile sees the old run, then briefly none, then the new one, never a partial
        one. A run in a batch is replaced by publishing it on its own (which wins).
        """
        target = self.runs_dir / record.run_id
        if not replace and (target.exists() or record.run_id in self._batch_layer().owner):
            return False
        stage = self.path / STAGING / f"{record.run_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        stage.mkdir(parents=True)
        try:
            table = _trajectory_table(record.run_id, trajectory)
            pq.write_table(table, stage / "trajectory.parquet")
            with open(stage / "run.json", "w", encoding="utf-8") as handle:
                json.dump(record.to_dict(), handle, indent=2, sort_keys=True, allow_nan=False)
                handle.flush()
                os.fsync(handle.fileno())
            fsync_dir(stage)
            if target.exists():
                trash = self.path / STAGING / f"old.{record.run_id}.{uuid.uuid4().hex[:8]}"
                os.rename(target, trash)
                os.rename(stage, target)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                try:
                    os.rename(stage, target)
                except OSError:
                    # Another writer published it first: theirs stands.
                    shutil.rmtree(stage, ignore_errors=True)
                    return False
            fsync_dir(self.runs_dir)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return True

    def new_batch(self) -> BatchWriter:
        """A writer for a batch of runs, staged under ``staging/`` (see
        :mod:`landaulab.store.batches`); publish it with :meth:`commit_batch`."""
        return BatchWriter(self.path)

    def commit_batch(self, writer: BatchWriter, runs: pa.Table) -> Path:
        """Publish a staged batch: one rename makes all its runs visible at once.

        The marker's ``format`` is raised to 2 first, so that an older landaulab, which
        would not see the batch, refuses the store rather than misreading it. The caller
        should hold :meth:`claim_batches`.
        """

        def raise_format() -> None:
            if self.format != BATCH_FORMAT:
                write_json_atomic(self.path / MARKER, {"format": BATCH_FORMAT})

        try:
            return writer.commit(runs, before_rename=raise_format)
        except BaseException:
            writer.abort()
            raise

    def remove_runs(self, run_ids: Iterable[str]) -> list[str]:
        """Take runs out of the store; returns the ids that were there.

        A run published on its own is renamed away and deleted; a batch holding some of
        them is replaced by a copy without them (published before the old one goes), so
        a reader never sees a partial run or loses the batch's other runs.
        """
        wanted = set(run_ids)
        removed = []
        for run_id in sorted(wanted):
            source = self.runs_dir / run_id
            trash = self.path / STAGING / f"removed.{run_id}.{uuid.uuid4().hex[:8]}"
            try:
                os.rename(source, trash)
            except OSError:
                continue
            removed.append(run_id)
            shutil.rmtree(trash, ignore_errors=True)
        for batch in self._batch_layer().batches:
            drop = wanted.intersection(batch.run_ids)
            if not drop:
                continue
            copy = rewrite_without(batch, drop, self.path)
            if copy is not None:
                assert copy.runs is not None
                self.commit_batch(copy, copy.runs)
            trash = self.path / STAGING / f"removed.{batch.batch_id}"
            os.rename(batch.path, trash)
            fsync_dir(self.path / BATCHES)
            shutil.rmtree(trash, ignore_errors=True)
            removed += sorted(drop)
        return sorted(set(removed))

    def clean_staging(self, run_id: str) -> None:
        """Remove leftovers of a killed writer of ``run_id`` (call while holding its claim)."""
        for leftover in (self.path / STAGING).glob(f"{run_id}.*"):
            shutil.rmtree(leftover, ignore_errors=True)

    # ---------------------------------------------------------------- sweeps
    def save_plan(self, name: str, params: dict[str, dict[str, Any]], spec: dict[str, Any]) -> Path:
        """Record a sweep's planned runs, ``{run_id: params}`` (so ``status`` can list
        pending ones with their parameters)."""
        import hashlib

        run_ids = list(params)
        digest = hashlib.sha256(",".join(sorted(run_ids)).encode()).hexdigest()[:10]
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "sweep"
        path = self.path / "sweeps" / f"{safe}-{digest}.json"
        if not path.exists():
            write_json_atomic(
                path,
                {
                    "name": name,
                    "run_ids": sorted(run_ids),
                    "params": params,
                    "spec": spec,
                    "created": time.time(),
                },
            )
        return path

    def planned_params(self) -> dict[str, dict[str, Any]]:
        """Parameters of every run any sweep into this store has planned, by run id."""
        planned: dict[str, dict[str, Any]] = {}
        for path in sorted((self.path / "sweeps").glob("*.json")):
            try:
                plan = json.loads(path.read_text())
                params = plan.get("params") or {}
                planned.update({run_id: params.get(run_id, {}) for run_id in plan["run_ids"]})
            except (OSError, ValueError, KeyError, AttributeError) as exc:
                raise StoreError(f"{path}: unreadable sweep plan ({exc})") from None
        return planned

    def planned_run_ids(self) -> set[str]:
        """All run ids any sweep into this store has planned."""
        return set(self.planned_params())

    # ---------------------------------------------------------------- status
    def _status(self, entry: _Entry) -> str | None:
        if entry.batch is not None:
            status: str = entry.batch.column("status")[entry.row]
            return status
        record = self._own_record(entry.run_id)
        return None if record is None else record.status

    def status_counts(self) -> dict[str, int]:
        """Counts of runs by status, with ``pending`` = planned but not yet in the store."""
        counts: dict[str, int] = {s: 0 for s in STATUSES}
        present = set()
        for entry in self._entries():
            status = self._status(entry)
            if status is None:
                continue
            counts[status] = counts.get(status, 0) + 1
            present.add(entry.run_id)
        counts["pending"] = len(self.planned_run_ids() - present)
        return counts

    def final_values(self) -> dict[str, dict[str, float]]:
        """Each published run's last logged values: run id → observable → value.

        The values logged at the run's largest step (``step`` among them; observables
        not finite there are left out); runs without a logged step are absent. A batch
        keeps them with its runs, so only runs published on their own are read here.
        """
        entries = self._entries()
        out: dict[str, dict[str, float]] = {}
        for entry in entries:
            if entry.batch is not None:
                final = entry.batch.final(entry.row)
                if final:
                    out[entry.run_id] = final
        files = [
            str(path)
            for entry in entries
            if entry.batch is None
            and (path := self.runs_dir / entry.run_id / "trajectory.parquet").exists()
        ]
        if not files:
            return dict(sorted(out.items()))
        import duckdb

        connection = duckdb.connect()
        try:
            table = connection.execute(
                "SELECT * FROM read_parquet(?, union_by_name = true) "
                "QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY step DESC) = 1",
                [files],
            ).fetchdf()
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: unreadable trajectories ({exc})") from None
        finally:
            connection.close()
        for row in table.to_dict("records"):
            values = {
                str(k): float(v)
                for k, v in row.items()
                if k not in ("run_id", "step") and isinstance(v, int | float) and v == v
            }
            out[str(row["run_id"])] = {"step": int(row["step"]), **values}
        return dict(sorted(out.items()))

    # ----------------------------------------------------------------- frames
    def _chosen(self, statuses: Iterable[str], extra: bool = False) -> tuple[pd.DataFrame, Sources]:
        """One row per chosen run (sorted by run id: ``run_id``, [``task``,] ``status``,
        [``reason``,] flat parameters) and where their trajectories are."""
        wanted = set(statuses)
        rows: list[dict[str, Any]] = []
        own: list[str] = []
        in_batches: dict[tuple[int, int], list[tuple[int, int]]] = {}
        batches: list[Batch] = []
        slots: dict[int, int] = {}
        for entry in self._entries():
            if entry.batch is None:
                record = self._own_record(entry.run_id)
                if record is None or record.status not in wanted:
                    continue
                status, params = record.status, record.params
                task, reason = record.task, record.reason
                own.append(str(self.runs_dir / entry.run_id / "trajectory.parquet"))
            else:
                batch, row = entry.batch, entry.row
                status = batch.column("status")[row]
                if status not in wanted:
                    continue
                params = json.loads(batch.column("params")[row])
                task, reason = batch.column("task")[row], batch.column("reason")[row]
                slot = slots.setdefault(id(batch), len(batches))
                if slot == len(batches):
                    batches.append(batch)
                part = int(batch.locations[0][row])
                in_batches.setdefault((slot, part), []).append((len(rows), row))
            info: dict[str, Any] = {"run_id": entry.run_id}
            if extra:
                info["task"] = task
            info["status"] = status
            if extra:
                info["reason"] = reason
            info.update(_flat_params(params))
            rows.append(info)
        parts = []
        for (slot, part), chosen in in_batches.items():
            batch = batches[slot]
            _, first, count = batch.locations
            picked = np.array([row for _, row in chosen], dtype=np.int64)
            in_part = int(np.count_nonzero(batch.locations[0] == part))
            parts.append(
                BatchPart(
                    path=batch.part_path(part),
                    codes=np.array([code for code, _ in chosen], dtype=np.int64),
                    first=first[picked],
                    count=count[picked],
                    run_ids=None
                    if len(chosen) == in_part
                    else tuple(batch.run_ids[row] for _, row in chosen),
                )
            )
        return pd.DataFrame(rows), Sources(files=own, parts=parts)

    def frame(self, statuses: Iterable[str] = ("done", "diverged")) -> pd.DataFrame:
        """The tidy frame: one row per (run, step); run_id, step, status, parameters,
        observables; ordered by run_id and step.

        ``run_id`` and ``status`` are categorical (each run's text once, not once per
        row). A setting and an observable of the same name never overwrite each other:
        where they agree on every step (a task logging its own control, or a schedule
        for an unset setting) they are one column; otherwise the frame holds
        ``<name>_setting`` and ``<name>_observed`` and no ``<name>``, and
        ``frame.attrs["renamed"]`` maps each such name to its two spellings (see
        :meth:`renamed_columns`).

        Parameters
        ----------
        statuses
            Which runs to include (failed runs are left out by default).
        """
        info, sources = self._chosen(statuses)
        try:
            return tidy_frame(info, sources)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"{self.path}: unreadable trajectories ({exc})") from None

    def renamed_columns(
        self, statuses: Iterable[str] = ("done", "diverged")
    ) -> dict[str, list[str]]:
        """Names held by both a setting and an observable that disagree, each mapped to
        its two spellings in :meth:`frame`: ``{"elbo": ["elbo_setting", "elbo_observed"]}``."""
        import duckdb

        connection = duckdb.connect()
        try:
            return self.register_views(connection, statuses=statuses)
        finally:
            connection.close()

    def run_table(self) -> pd.DataFrame:
        """One row per run: run_id, task, status, reason, and the parameters."""
        info, _ = self._chosen(STATUSES, extra=True)
        return info

    def register_views(
        self, connection: Any, statuses: Iterable[str] = STATUSES
    ) -> dict[str, list[str]]:
        """Create the views ``runs``, ``run_info`` and ``trajectories`` in a DuckDB
        connection, over the store's Parquet files (no frame of every row is built).

        ``trajectories``: ``run_id``, ``step`` and the observables of every chosen run,
        as stored. ``runs``: the tidy frame of :meth:`frame` (the chosen runs' rows joined
        with ``status`` and their parameters, under the same name-clash rule), in no
        particular order. ``run_info``: :meth:`run_table` (all runs). DuckDB reads only
        the columns and row groups a query needs, so reducing data in SQL before
        ``fetchdf()`` is cheap.

        Parameters
        ----------
        connection
            A ``duckdb`` connection; the views and a few registered tables (named
            ``landaulab_*``) are added to it.
        statuses
            Which runs ``runs`` and ``trajectories`` hold (default: all).

        Returns
        -------
        dict
            The names split by the name-clash rule, each with its two spellings.
        """
        connection.execute("SET enable_progress_bar = false")
        connection.execute("SET parquet_metadata_cache = true")  # footers read once
        info, sources = self._chosen(statuses)
        run_info = self.run_table()
        return register_views(connection, info, run_info, sources)

    def query(self, sql: str) -> pd.DataFrame:
        """Run DuckDB SQL over the views ``runs`` (the tidy frame, all statuses),
        ``run_info`` (one row per run) and ``trajectories`` (the rows as stored).

        DuckDB reads the store's Parquet files directly (see :meth:`register_views`);
        rows come in no particular order unless the SQL orders them. In ``runs`` a
        setting and an observable of the same name follow the rule of :meth:`frame`;
        asking for a name held as ``<name>_setting`` and ``<name>_observed`` raises an
        error naming both spellings.

        Raises
        ------
        StoreError
            If the SQL is invalid; an :class:`AmbiguousColumnError` (also a
            ``DataError``) if it names a column split by the name-clash rule.
        """
        import duckdb

        connection = duckdb.connect()
        renamed: dict[str, list[str]] = {}
        try:
            renamed = self.register_views(connection)
            return connection.execute(sql).fetchdf()
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            missing = re.search(r'column "?([^"\s]+)"? not found', message, re.IGNORECASE)
            if missing and missing.group(1) in renamed:
                raise AmbiguousColumnError(missing.group(1), renamed[missing.group(1)]) from None
            raise StoreError(f"query failed: {message}") from None
        finally:
            connection.close()


def _being_created(entry: Path) -> bool:
    """Whether ``entry`` is what a store being created holds before its marker is in place
    (its own folders, or the marker's temporary file): another process creating the same
    store at the same moment, not a foreign directory."""
    return entry.name in SUBDIRECTORIES or entry.name.startswith(f".{MARKER}.")


def _trajectory_table(run_id: str, trajectory: pd.DataFrame) -> pa.Table:
    if "step" not in trajectory.columns:
        raise StoreError("a trajectory needs a 'step' column")
    frame = trajectory.copy()
    frame["step"] = frame["step"].astype("int64")
    for column in frame.columns:
        if column != "step":
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame.insert(0, "run_id", run_id)
    return pa.Table.from_pandas(frame, preserve_index=False)


__all__ = [
    "FORMAT",
    "MARKER",
    "OBSERVED_SUFFIX",
    "SETTING_SUFFIX",
    "STATUSES",
    "AmbiguousColumnError",
    "RunClaim",
    "RunRecord",
    "Status",
    "Store",
]
