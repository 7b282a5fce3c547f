"""What the watch page shows, read from the store alone.

:class:`StoreView` re-reads a store when its contents change (a cheap fingerprint of the
run and sweep files decides) and answers :meth:`StoreView.snapshot` for one observable:
the progress, the failed and diverged runs, the points of the phase diagram (finished runs
filled in, planned ones still open) and the trajectories of that observable. Nothing here
knows which executor wrote the store, so a sweep run by any executor, or an imported log,
looks the same.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from landaulab.analyze.roles import (
    ENERGY_MARKS,
    RESERVED,
    Roles,
    choose_roles,
    is_seed,
    late_values,
)
from landaulab.errors import DataError
from landaulab.late_time import BURN_IN
from landaulab.store.store import STATUSES, RunRecord, Store

#: Most runs whose trajectories the page draws (spread over the control).
MAX_TRAJECTORIES = 40
#: Most points drawn per trajectory.
TRAJECTORY_POINTS = 150
#: Most failed or diverged runs listed.
MAX_FAILURES = 50
#: The statuses of finished runs (their trajectories count).
FINISHED = ("done", "diverged")

Fingerprint = tuple[tuple[str, int], ...]


def fingerprint(store: Store) -> Fingerprint:
    """The published runs, batches and sweep plans with their modification times.

    Cheap (one directory listing and a ``stat`` per run or batch); it changes whenever a
    run or a batch is published or replaced, or a sweep is planned.
    """
    entries: list[tuple[str, int]] = []
    folders = (
        (store.runs_dir, "run.json"),
        (store.path / "batches", "runs.parquet"),
        (store.path / "sweeps", None),
    )
    for folder, name in folders:
        try:
            listing = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in listing:
            try:
                path = os.path.join(entry.path, name) if name else entry.path
                entries.append((f"{folder.name}/{entry.name}", os.stat(path).st_mtime_ns))
            except OSError:
                continue  # not yet (or no longer) complete
    return tuple(sorted(entries))


def finite(value: Any) -> float | None:
    """A JSON-safe float (``None`` for missing, NaN or infinite values)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return finite(value)
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(value)


def _numeric(values: Iterable[Any]) -> list[float]:
    out = []
    for value in values:
        if isinstance(value, bool):
            continue
        number = finite(value)
        if number is not None:
            out.append(number)
    return out


@dataclass
class _Contents:
    """One reading of the store."""

    records: list[RunRecord]
    planned: dict[str, dict[str, Any]]
    frame: pd.DataFrame
    parameters: list[str]
    observables: list[str]
    roles: Roles | None
    roles_note: str | None
    control: str | None
    other: str | None
    read_at: float
    late: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def finished(self) -> list[RunRecord]:
        return [r for r in self.records if r.status in FINISHED]


class StoreView:
    """A store as the watch page sees it, re-read when it changes.

    Parameters
    ----------
    path
        The store directory.
    order_parameter, control
        Columns to use (chosen from the data, as the report does, when not given).
    burn_in
        Fraction of each run's step range dropped before its late-time value.

    Raises
    ------
    StoreError
        If ``path`` is not a store.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        order_parameter: str | None = None,
        control: str | None = None,
        burn_in: float = BURN_IN,
    ) -> None:
        self.store = Store(path)
        self.order_parameter = order_parameter
        self.control = control
        self.burn_in = burn_in
        self.version = 0
        self._lock = threading.Lock()
        self._fingerprint: Fingerprint | None = None
        self._contents: _Contents | None = None
        self.refresh()

    # ------------------------------------------------------------------ reading
    def refresh(self) -> bool:
        """Re-read the store if it changed; returns whether it did."""
        current = fingerprint(self.store)
        if current == self._fingerprint:
            return False
        contents = self._read()
        with self._lock:
            self._fingerprint = current
            self._contents = contents
            self.version += 1
        return True

    def bump(self) -> None:
        """Mark the page out of date (something besides the store changed)."""
        with self._lock:
            self.version += 1

    @property
    def finished_key(self) -> tuple[int, int]:
        """The number of finished runs and a hash of their ids (what the analysis caches by)."""
        contents = self._current()
        ids = tuple(sorted(r.run_id for r in contents.finished))
        return len(ids), hash(ids)

    def _current(self) -> _Contents:
        with self._lock:
            assert self._contents is not None  # set by __init__
            return self._contents

    def _read(self) -> _Contents:
        records = self.store.records()
        planned = self.store.planned_params()
        finished = [r for r in records if r.status in FINISHED]
        frame = self.store.frame(statuses=FINISHED) if finished else pd.DataFrame()
        params: dict[str, list[Any]] = {}
        for run_params in [r.params for r in records] + list(planned.values()):
            for key, value in run_params.items():
                params.setdefault(key, []).append(value)
        parameters = sorted(params)
        observables = sorted(
            str(c)
            for c in frame.columns
            if c not in RESERVED
            and c not in params
            and pd.api.types.is_numeric_dtype(frame[c])
            and not is_seed(str(c))
        )
        roles, note = None, None
        if len(finished) >= 2:
            try:
                roles = choose_roles(
                    frame,
                    order_parameter=self.order_parameter,
                    control=self.control,
                    parameters=[p for p in parameters if p in frame.columns],
                )
            except DataError as exc:
                note = str(exc)
        swept = sorted(
            (
                name
                for name, values in params.items()
                if not is_seed(name) and len(set(_numeric(values))) > 1
            ),
            key=lambda name: (-len(set(_numeric(params[name]))), name),
        )
        control = self.control or (roles.control if roles else None)
        if control is None and swept:
            control = swept[0]
        others = [s for s in swept if s != control and (roles is None or s != roles.size)]
        if roles is not None and roles.size in swept and roles.size != control and not others:
            others = [roles.size]
        return _Contents(
            records=records,
            planned=planned,
            frame=frame,
            parameters=parameters,
            observables=observables,
            roles=roles,
            roles_note=note,
            control=control,
            other=others[0] if others else None,
            read_at=time.time(),
        )

    # -------------------------------------------------------------- snapshots
    def default_observable(self) -> str | None:
        """The observable shown first: the order parameter, else the first that is not a
        loss or an energy, else the first."""
        contents = self._current()
        if self.order_parameter in contents.observables:
            return self.order_parameter
        if contents.roles is not None and contents.roles.order_parameter in contents.observables:
            return contents.roles.order_parameter
        plain = [o for o in contents.observables if not any(m in o.lower() for m in ENERGY_MARKS)]
        choices = plain or contents.observables
        return choices[0] if choices else None

    def snapshot(self, observable: str | None = None) -> dict[str, Any]:
        """Everything the page shows, for one observable (JSON-safe)."""
        with self._lock:
            contents, version = self._contents, self.version
        assert contents is not None
        if observable not in contents.observables:
            observable = self.default_observable()
        late = self._late(contents, observable) if observable else {}
        return {
            "version": version,
            "store": str(self.store.path),
            "read_at": contents.read_at,
            "progress": _progress(contents),
            "failures": _failures(contents),
            "observables": contents.observables,
            "observable": observable,
            "roles": _roles(contents),
            "phase": _phase(contents, late),
            "trajectories": _trajectories(contents, observable),
        }

    def _late(self, contents: _Contents, observable: str) -> dict[str, float]:
        cached = contents.late.get(observable)
        if cached is not None:
            return cached
        values = late_values(contents.frame, observable, burn_in=self.burn_in)
        out = {
            str(run): number
            for run, value in zip(values["run_id"], values["value"], strict=True)
            if (number := finite(value)) is not None
        }
        contents.late[observable] = out
        return out


def _progress(contents: _Contents) -> dict[str, Any]:
    counts: dict[str, int] = {s: 0 for s in STATUSES}
    for record in contents.records:
        counts[record.status] = counts.get(record.status, 0) + 1
    present = {r.run_id for r in contents.records}
    counts["pending"] = len(set(contents.planned) - present)
    total = sum(counts.values())
    finished = counts["done"] + counts["diverged"]
    return {
        **counts,
        "total": total,
        "finished": finished,
        "settled": finished + counts["failed"],
    }


def _failures(contents: _Contents) -> list[dict[str, Any]]:
    bad = [r for r in contents.records if r.status != "done"]
    bad.sort(key=lambda r: (r.status != "failed", -(r.finished or 0.0), r.run_id))
    return [
        {
            "run_id": r.run_id,
            "status": r.status,
            "reason": r.reason or "",
            "params": {k: _json_value(v) for k, v in r.params.items()},
        }
        for r in bad[:MAX_FAILURES]
    ]


def _roles(contents: _Contents) -> dict[str, Any]:
    roles = contents.roles
    return {
        "order_parameter": roles.order_parameter if roles else None,
        "control": contents.control,
        "other": contents.other,
        "size": roles.size if roles else None,
        "note": contents.roles_note,
    }


def _phase(contents: _Contents, late: dict[str, float]) -> dict[str, Any]:
    control, other = contents.control, contents.other
    points: list[dict[str, Any]] = []
    if control is None:
        return {"x": None, "y": other, "points": points}
    runs: dict[str, tuple[str, dict[str, Any]]] = {
        run_id: ("pending", params) for run_id, params in contents.planned.items()
    }
    runs.update({r.run_id: (r.status, r.params) for r in contents.records})
    for run_id, (status, params) in sorted(runs.items()):
        x = finite(params.get(control))
        if x is None:
            continue
        y = finite(params.get(other)) if other else None
        if other and y is None:
            continue
        points.append(
            {
                "run_id": run_id,
                "status": status,
                "x": x,
                "y": y,
                "value": late.get(run_id),
            }
        )
    return {"x": control, "y": other, "points": points}


def _spread(runs: list[tuple[float, str]], limit: int) -> list[str]:
    """At most ``limit`` runs, evenly spread over their sorted control values."""
    runs = sorted(runs)
    if len(runs) <= limit:
        return [r for _, r in runs]
    keep = np.unique(np.linspace(0, len(runs) - 1, limit).round().astype(int))
    return [runs[i][1] for i in keep]


def _trajectories(contents: _Contents, observable: str | None) -> dict[str, Any]:
    frame, control = contents.frame, contents.control
    if observable is None or frame.empty or observable not in frame.columns:
        return {"observable": observable, "control": control, "runs": [], "n_runs": 0}
    status = {r.run_id: r.status for r in contents.records}
    params = {r.run_id: r.params for r in contents.records}
    order = []
    for index, run_id in enumerate(sorted(frame["run_id"].unique())):
        x = finite(params.get(run_id, {}).get(control)) if control else None
        order.append((x if x is not None else float(index), str(run_id)))
    chosen = _spread(order, MAX_TRAJECTORIES)
    groups = dict(tuple(frame.groupby("run_id", sort=False)))
    out = []
    for run_id in chosen:
        part = groups[run_id].sort_values("step", kind="stable")
        if len(part) > TRAJECTORY_POINTS:
            keep = np.unique(np.linspace(0, len(part) - 1, TRAJECTORY_POINTS).round().astype(int))
            part = part.iloc[keep]
        out.append(
            {
                "run_id": run_id,
                "status": status.get(run_id, "done"),
                "control": finite(params.get(run_id, {}).get(control)) if control else None,
                "steps": [finite(s) for s in part["step"]],
                "values": [finite(v) for v in part[observable]],
            }
        )
    return {"observable": observable, "control": control, "runs": out, "n_runs": len(order)}
