"""The run store: one directory, one entry per run, published atomically.

Layout (``format`` 1; documented in the README)::

    STORE/
      landaulab-store.json          {"format": 1}
      runs/<run_id>/run.json        parameters, status and provenance of one run
      runs/<run_id>/trajectory.parquet   run_id, step, one float column per observable
      sweeps/<name>-<hash>.json     the planned run ids and parameters of each sweep
      locks/<run_id>.lock           claims held while a run is being trained
      staging/                      runs being written; never read

A run directory is first written completely under ``staging/`` and then renamed to
``runs/<run_id>``, so a reader sees a run whole or not at all, whatever is killed when.
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
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from landaulab.errors import DataError, StoreError
from landaulab.store.atomic import fsync_dir, write_json_atomic

FORMAT = 1
MARKER = "landaulab-store.json"
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
        marker = self.path / MARKER
        if not marker.exists():
            if not create:
                if not self.path.exists():
                    raise StoreError(f"{self.path}: no such store (run a sweep into it first)")
                raise StoreError(f"{self.path}: not a landaulab store (no {MARKER})")
            if self.path.exists() and not self.path.is_dir():
                raise StoreError(f"{self.path}: exists and is not a directory")
            if self.path.exists() and any(self.path.iterdir()):
                raise StoreError(
                    f"{self.path}: directory is not empty and not a landaulab store; "
                    "choose another --store"
                )
            for sub in ("runs", "sweeps", "locks", "staging"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
            write_json_atomic(marker, {"format": FORMAT})
        else:
            try:
                fmt = json.loads(marker.read_text()).get("format")
            except (OSError, ValueError, AttributeError) as exc:
                raise StoreError(f"{marker}: unreadable store marker ({exc})") from None
            if fmt != FORMAT:
                raise StoreError(
                    f"{self.path}: store format {fmt} is not supported (need {FORMAT})"
                )
            for sub in ("runs", "sweeps", "locks", "staging"):
                (self.path / sub).mkdir(exist_ok=True)

    # ------------------------------------------------------------------ runs
    @property
    def runs_dir(self) -> Path:
        """Where published runs live."""
        return self.path / "runs"

    def run_ids(self) -> list[str]:
        """Ids of all published runs, sorted."""
        return sorted(
            p.name for p in self.runs_dir.iterdir() if p.is_dir() and (p / "run.json").exists()
        )

    def __contains__(self, run_id: object) -> bool:
        return isinstance(run_id, str) and (self.runs_dir / run_id / "run.json").exists()

    def __len__(self) -> int:
        return len(self.run_ids())

    def get(self, run_id: str) -> RunRecord | None:
        """The record of one run, or ``None`` if it is not in the store."""
        path = self.runs_dir / run_id / "run.json"
        try:
            return RunRecord.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path}: unreadable run record ({exc})") from None

    def records(self) -> list[RunRecord]:
        """Records of all published runs."""
        out = []
        for run_id in self.run_ids():
            record = self.get(run_id)
            if record is not None:
                out.append(record)
        return out

    def trajectory(self, run_id: str) -> pd.DataFrame:
        """The trajectory table of one run."""
        path = self.runs_dir / run_id / "trajectory.parquet"
        if not path.exists():
            raise StoreError(f"{self.path}: no run {run_id!r}")
        return pq.read_table(path).to_pandas()

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

    # -------------------------------------------------------------- publish
    def publish(self, record: RunRecord, trajectory: pd.DataFrame, replace: bool = False) -> bool:
        """Write a run completely under ``staging/`` and rename it into ``runs/``.

        The caller should hold the run's claim. Returns ``False`` (writing nothing) if
        the run is already published and ``replace`` is false. ``replace`` swaps out an
        existing entry (used to retry a failed run); a reader meanwhile sees the old
        run, then briefly none, then the new one, never a partial one.
        """
        target = self.runs_dir / record.run_id
        if target.exists() and not replace:
            return False
        stage = self.path / "staging" / f"{record.run_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
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
                trash = self.path / "staging" / f"old.{record.run_id}.{uuid.uuid4().hex[:8]}"
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

    def clean_staging(self, run_id: str) -> None:
        """Remove leftovers of a killed writer of ``run_id`` (call while holding its claim)."""
        for leftover in (self.path / "staging").glob(f"{run_id}.*"):
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
    def status_counts(self) -> dict[str, int]:
        """Counts of runs by status, with ``pending`` = planned but not yet in the store."""
        counts: dict[str, int] = {s: 0 for s in STATUSES}
        present = set()
        for record in self.records():
            counts[record.status] = counts.get(record.status, 0) + 1
            present.add(record.run_id)
        counts["pending"] = len(self.planned_run_ids() - present)
        return counts

    def final_values(self) -> dict[str, dict[str, float]]:
        """Each published run's last logged values: run id → observable → value.

        The values logged at the run's largest step (``step`` among them; observables
        not finite there are left out); runs without a logged step are absent.
        """
        files = [
            str(path)
            for run_id in self.run_ids()
            if (path := self.runs_dir / run_id / "trajectory.parquet").exists()
        ]
        if not files:
            return {}
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
        out: dict[str, dict[str, float]] = {}
        for row in table.to_dict("records"):
            values = {
                str(k): float(v)
                for k, v in row.items()
                if k not in ("run_id", "step") and isinstance(v, int | float) and v == v
            }
            out[str(row["run_id"])] = {"step": int(row["step"]), **values}
        return out

    # ----------------------------------------------------------------- frames
    def frame(self, statuses: Iterable[str] = ("done", "diverged")) -> pd.DataFrame:
        """The tidy frame: one row per (run, step); run_id, step, status, parameters,
        observables.

        A setting and an observable of the same name never overwrite each other: where
        they agree on every step (a task logging its own control, or a schedule for an
        unset setting) they are one column; otherwise the frame holds
        ``<name>_setting`` and ``<name>_observed`` and no ``<name>``, and
        ``frame.attrs["renamed"]`` maps each such name to its two spellings (see
        :meth:`renamed_columns`).

        Parameters
        ----------
        statuses
            Which runs to include (failed runs are left out by default).
        """
        wanted = set(statuses)
        records = [r for r in self.records() if r.status in wanted]
        return _tidy_frame(self.runs_dir, records)

    def renamed_columns(
        self, statuses: Iterable[str] = ("done", "diverged")
    ) -> dict[str, list[str]]:
        """Names held by both a setting and an observable that disagree, each mapped to
        its two spellings in :meth:`frame`: ``{"elbo": ["elbo_setting", "elbo_observed"]}``."""
        renamed: dict[str, list[str]] = self.frame(statuses=statuses).attrs.get("renamed", {})
        return dict(renamed)

    def run_table(self) -> pd.DataFrame:
        """One row per run: run_id, task, status, reason, and the parameters."""
        rows = []
        for r in self.records():
            rows.append(
                {
                    "run_id": r.run_id,
                    "task": r.task,
                    "status": r.status,
                    "reason": r.reason,
                    **_flat_params(r.params),
                }
            )
        return pd.DataFrame(rows)

    def query(self, sql: str) -> pd.DataFrame:
        """Run DuckDB SQL over the views ``runs`` (the tidy frame, all statuses) and
        ``run_info`` (one row per run).

        In ``runs`` a setting and an observable of the same name follow the rule of
        :meth:`frame`; asking for a name held as ``<name>_setting`` and
        ``<name>_observed`` raises an error naming both spellings.

        Raises
        ------
        StoreError
            If the SQL is invalid; an :class:`AmbiguousColumnError` (also a
            ``DataError``) if it names a column split by the name-clash rule.
        """
        import duckdb

        runs = self.frame(statuses=STATUSES)
        run_info = self.run_table()
        connection = duckdb.connect()
        try:
            connection.register("runs", runs)
            connection.register("run_info", run_info)
            return connection.execute(sql).fetchdf()
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            missing = re.search(r'column "?([^"\s]+)"? not found', message, re.IGNORECASE)
            renamed = runs.attrs.get("renamed", {})
            if missing and missing.group(1) in renamed:
                raise AmbiguousColumnError(missing.group(1), renamed[missing.group(1)]) from None
            raise StoreError(f"query failed: {message}") from None
        finally:
            connection.close()


def _flat_params(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, list | dict):
            out[key] = json.dumps(value, sort_keys=True)
        else:
            out[key] = value
    return out


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


def _tidy_frame(runs_dir: Path, records: list[RunRecord]) -> pd.DataFrame:
    if not records:
        empty = pd.DataFrame({"run_id": pd.Series(dtype=str), "step": pd.Series(dtype="int64")})
        empty.attrs["renamed"] = {}
        return empty
    import duckdb

    files = [str(runs_dir / r.run_id / "trajectory.parquet") for r in records]
    connection = duckdb.connect()
    try:
        trajectories = connection.execute(
            "SELECT * FROM read_parquet(?, union_by_name = true)", [files]
        ).fetchdf()
    finally:
        connection.close()
    info = pd.DataFrame(
        [{"run_id": r.run_id, "status": r.status, **_flat_params(r.params)} for r in records]
    )
    frame = info.merge(
        trajectories, on="run_id", how="inner", validate="one_to_many", suffixes=_MERGED
    )
    observables = [c for c in trajectories.columns if c not in ("run_id", "step")]
    renamed: dict[str, list[str]] = {}
    for name in observables:
        if name not in info.columns or name in ("run_id", "status"):
            continue
        frame, spellings = _resolve_clash(frame, name)
        if spellings:
            renamed[name] = spellings
    first = ["run_id", "step"]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    frame = frame.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
    frame.attrs["renamed"] = renamed
    return frame


SETTING_SUFFIX = "_setting"
OBSERVED_SUFFIX = "_observed"
_MERGED = ("\x00setting", "\x00observed")


def _resolve_clash(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    """The name-clash rule for a setting and an observable both called ``name``.

    After the merge the frame holds them under the private suffixes ``_MERGED``.
    Where they agree on every row that has both (an unset setting, or a step that did
    not log the observable, agrees with anything; numbers agree to 1e-6 relative, as a
    float32 log of a setting does), they are one quantity and stay one column
    ``name``: the setting where set, else the logged value (a schedule). Otherwise
    neither overwrites the other: ``name_setting`` holds the setting,
    ``name_observed`` the logged values, no column is called ``name``, and the pair
    is returned for ``frame.attrs["renamed"]``.
    """
    import numpy as np

    setting, observed = frame.pop(name + _MERGED[0]), frame.pop(name + _MERGED[1])
    numeric = pd.to_numeric(setting, errors="coerce")
    present = setting.notna() & observed.notna()
    comparable = numeric.notna() | ~setting.notna()
    agree = bool(
        comparable.all()
        and np.isclose(
            numeric[present].to_numpy(dtype=float),
            observed[present].to_numpy(dtype=float),
            rtol=1e-6,
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
