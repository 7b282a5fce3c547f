"""Recording a user's own PyTorch loop into a store.

::

    import landaulab as ll

    with ll.Recorder("runs", params={"lr": lr, "weight_decay": wd, "seed": seed}) as rec:
        for step in range(steps):
            loss = train_step()
            rec.log(step, train_loss=loss)
            rec.observe(step, model, batch)   # runs observables that are due

A run appears in the store only when the ``with`` block ends: as ``done``, as
``diverged`` (a logged value became NaN or infinite) or as ``failed`` (the block raised).
Until then its rows are journaled under ``STORE/incomplete/<run_id>/`` — a run cut off
part-way (killed, Ctrl-C) stays there, never mixed with complete runs, and the next
``Recorder`` with the same parameters restarts it or appends to it (``resume=``).

Rerunning a script is safe: a run already complete in the store (``done`` or
``diverged``) is skipped — one line on the ``landaulab`` logger, ``rec.skipped`` is true,
``rec.stored`` holds its record, ``rec.table()`` its stored rows, and logging does
nothing — so a sweep script that crashed part-way picks up where it stopped::

    for seed in range(5):
        with ll.Recorder("runs", params={"lr": lr, "seed": seed}) as rec:
            if rec.skipped:
                continue                     # recorded by an earlier run of the script
            train(rec)
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from landaulab.errors import StoreError
from landaulab.store.run_ids import run_id_of
from landaulab.store.store import RunClaim, RunRecord, Store

Resume = Literal["restart", "append"]

logger = logging.getLogger("landaulab")


class Recorder:
    """Record scalars and observables of one training run into a store.

    Parameters
    ----------
    store
        A :class:`~landaulab.store.Store` or the path of one (created if missing).
    params
        The run's parameters (control parameters, seed, settings): JSON-serialisable
        scalars. Their hash is the run id, so the same parameters mean the same run.
    observables
        Observables measured by :meth:`observe` when due (see
        :mod:`landaulab.record.observables`).
    task
        A label for the kind of training (stored with the run).
    resume
        What to do when an incomplete run with the same parameters exists:
        ``"restart"`` discards its rows, ``"append"`` continues after its last step.
    overwrite
        Record again a run with the same parameters that is already complete (default:
        skip it, see ``if_complete``).
    if_complete
        What to do when the run is already complete (``done`` or ``diverged``) and
        ``overwrite`` is false: ``"skip"`` (log one line, set :attr:`skipped`, ignore
        logging) or ``"error"`` (raise :class:`~landaulab.errors.StoreError`). A
        ``failed`` run is always recorded again.
    flush_every
        Journal buffered rows to disk after this many logged steps.
    total_steps
        The planned number of steps (sizes log-spaced observable schedules).
    """

    def __init__(
        self,
        store: Store | str | os.PathLike[str],
        params: Mapping[str, Any],
        observables: Iterable[Any] = (),
        task: str = "user",
        resume: Resume = "restart",
        overwrite: bool = False,
        flush_every: int = 200,
        total_steps: int | None = None,
        if_complete: Literal["skip", "error"] = "skip",
    ) -> None:
        if resume not in ("restart", "append"):
            raise StoreError(f"resume={resume!r}: choose 'restart' or 'append'")
        if if_complete not in ("skip", "error"):
            raise StoreError(f"if_complete={if_complete!r}: choose 'skip' or 'error'")
        self.if_complete = if_complete
        self.skipped = False
        self.stored: RunRecord | None = None
        self.store = store if isinstance(store, Store) else Store(store, create=True)
        self.params = dict(params)
        self.task = task
        self.resume = resume
        self.overwrite = overwrite
        self.flush_every = max(1, int(flush_every))
        try:
            self.run_id = run_id_of(task, self.params, {})
        except (TypeError, ValueError) as exc:
            raise StoreError(f"params must be JSON-serialisable finite scalars ({exc})") from None
        self._observables = list(observables)
        self._observable_set: Any = None
        if self._observables:
            from landaulab.record.observables import ObservableSet

            self._observable_set = ObservableSet(self._observables, total_steps=total_steps)
        self._rows: dict[int, dict[str, float]] = {}
        self._dirty: set[int] = set()
        self._chunks = 0
        self._claim: RunClaim | None = None
        self._started = 0.0
        self.diverged: dict[str, Any] | None = None
        self.last_step: int | None = None

    # ------------------------------------------------------------ lifecycle
    @property
    def journal(self) -> Path:
        """Where the rows of this run are journaled until it completes."""
        return self.store.path / "incomplete" / self.run_id

    def __enter__(self) -> Recorder:
        claim = self.store.claim(self.run_id)
        if claim is None:
            raise StoreError(f"run {self.run_id} is being recorded by another process")
        self._claim = claim
        existing = self.store.get(self.run_id)
        if existing is not None and existing.status != "failed" and not self.overwrite:
            if self.if_complete == "error":
                claim.release()
                self._claim = None
                raise StoreError(
                    f"run {self.run_id} with these params is already in {self.store.path} "
                    f"({existing.status}); pass overwrite=True to record it again"
                )
            self.skipped = True
            self.stored = existing
            logger.warning(
                "run %s (%s) is already in %s (%s); skipping it (overwrite=True records it again)",
                self.run_id,
                _brief(self.params),
                self.store.path,
                existing.status,
            )
            return self
        if self.journal.exists():
            if self.resume == "append":
                self._load_journal()
            else:
                shutil.rmtree(self.journal)
        self.journal.mkdir(parents=True, exist_ok=True)
        self._started = time.time()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        try:
            if self.skipped:
                return  # complete before this block: nothing to write
            if exc_type is not None and not issubclass(exc_type, Exception):
                self.flush()  # KeyboardInterrupt / SystemExit: leave it incomplete
                return
            if exc_type is not None:
                status, reason = "failed", f"{exc_type.__name__}: {exc}"
            elif self.diverged is not None:
                status = "diverged"
                where = self.diverged
                reason = f"{where['observable']} became non-finite at step {where['step']}"
            else:
                status, reason = "done", None
            record = RunRecord(
                run_id=self.run_id,
                task=self.task,
                params=self.params,
                status=status,  # type: ignore[arg-type]
                reason=reason,
                diverged=self.diverged,
                duration_s=round(time.time() - self._started, 3),
                finished=time.time(),
            )
            self.store.publish(record, self.table(), replace=True)
            shutil.rmtree(self.journal, ignore_errors=True)
        finally:
            if self._claim is not None:
                self._claim.release()
                self._claim = None

    # --------------------------------------------------------------- logging
    def log(self, step: int, **scalars: float) -> None:
        """Record scalar values at ``step`` (merged with anything else logged there).

        A NaN or infinite value is kept and marks the run as diverged (the first such
        step and name are recorded); logging goes on so the loop is never interrupted.
        """
        if self._claim is None:
            raise StoreError("Recorder.log called outside its 'with' block")
        if self.skipped:
            return
        step = int(step)
        row = self._rows.setdefault(step, {})
        self._dirty.add(step)
        for name, value in scalars.items():
            v = float(value)
            row[name] = v
            if self.diverged is None and not math.isfinite(v):
                self.diverged = {"step": step, "observable": name}
        self.last_step = step if self.last_step is None else max(self.last_step, step)
        if len(self._dirty) >= self.flush_every:
            self.flush()

    def observe(self, step: int, model: Any, batch: Any = None) -> dict[str, float]:
        """Measure the observables due at ``step`` and log them; returns what was measured."""
        if self._observable_set is None or self.skipped:
            return {}
        values = self._observable_set.measure_due(model, batch, step)
        if values:
            self.log(step, **values)
        return values

    def table(self) -> pd.DataFrame:
        """Everything logged so far (journal included) as a trajectory table.

        For a skipped run, the rows stored with it.
        """
        if self.skipped:
            return self.store.trajectory(self.run_id)
        rows = [{"step": s, **v} for s, v in sorted(self._rows.items())]
        if not rows:
            return pd.DataFrame({"step": pd.Series(dtype="int64")})
        return pd.DataFrame(rows)

    def flush(self) -> None:
        """Write the rows changed since the last flush to the journal (atomically).

        A row changed again after being journaled is written whole once more; replaying
        the chunks in order merges it back.
        """
        if not self._dirty or not self.journal.exists():
            return
        chunk = pd.DataFrame([{"step": s, **self._rows[s]} for s in sorted(self._dirty)])
        target = self.journal / f"chunk-{self._chunks:06d}.parquet"
        temporary = self.journal / f".{target.name}.tmp"
        chunk.to_parquet(temporary, index=False)
        os.replace(temporary, target)
        self._chunks += 1
        self._dirty.clear()

    def _load_journal(self) -> None:
        chunks = sorted(self.journal.glob("chunk-*.parquet"))
        for path in chunks:
            frame = pd.read_parquet(path)
            for row in frame.to_dict("records"):
                step = int(row.pop("step"))
                values = {k: float(v) for k, v in row.items() if not pd.isna(v)}
                self._rows.setdefault(step, {}).update(values)
        self._chunks = len(chunks)
        if self._rows:
            self.last_step = max(self._rows)


def _brief(params: Mapping[str, Any], limit: int = 80) -> str:
    """``lr=0.1, seed=3`` shortened to ``limit`` characters."""
    text = ", ".join(f"{k}={v}" for k, v in params.items())
    return text if len(text) <= limit else text[: limit - 3] + "..."
