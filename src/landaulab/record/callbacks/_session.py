"""The part of a framework callback that drives a :class:`~landaulab.record.recorder.Recorder`.

A callback collects hyperparameters when training starts, then forwards scalar metrics
and observable measurements at each step; :class:`RecorderSession` owns the Recorder's
lifecycle (enter at start, exit with or without the training error at the end) so the
framework adapters stay small.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from landaulab.record.recorder import Recorder, Resume
from landaulab.store.ingest.common import flatten_params
from landaulab.store.store import Store


def scalar(value: Any) -> float | None:
    """``value`` as a float if it is a real number or a one-element tensor/array, else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    numel = getattr(value, "numel", None)
    if callable(numel):
        try:
            if numel() != 1 or value.is_complex():
                return None
            return float(value.detach().reshape(-1)[0].item())
        except (RuntimeError, TypeError, ValueError):
            return None
    size = getattr(value, "size", None)
    if isinstance(size, int) and size == 1 and hasattr(value, "item"):
        item = value.item()
        return float(item) if isinstance(item, int | float) else None
    return None


class RecorderSession:
    """One training run recorded through a framework's hooks.

    Parameters
    ----------
    store, observables, task, resume, overwrite, flush_every, if_complete
        As for :class:`~landaulab.record.recorder.Recorder` (a run already complete is
        skipped by default: :attr:`skipped` says so, and the callbacks stop training).
    params
        Parameters that override those read from the framework.
    metrics
        Names of metrics to keep (``None``: every scalar the framework reports).
    """

    def __init__(
        self,
        store: Store | str | os.PathLike[str],
        *,
        params: Mapping[str, Any] | None = None,
        observables: Iterable[Any] = (),
        task: str,
        resume: Resume = "restart",
        overwrite: bool = False,
        flush_every: int = 200,
        metrics: Iterable[str] | None = None,
        if_complete: Literal["skip", "error"] = "skip",
    ) -> None:
        self.store = store
        self.if_complete: Literal["skip", "error"] = if_complete
        self.overrides = dict(params or {})
        self.observables = list(observables)
        self.task = task
        self.resume: Resume = resume
        self.overwrite = overwrite
        self.flush_every = flush_every
        self.metrics = None if metrics is None else frozenset(metrics)
        self.recorder: Recorder | None = None
        self.params: dict[str, Any] = {}

    @property
    def skipped(self) -> bool:
        """Whether the run being recorded was complete before and is skipped."""
        return self.recorder is not None and self.recorder.skipped

    @property
    def active(self) -> bool:
        """Whether a run is being recorded."""
        return self.recorder is not None

    def start(self, params: Mapping[str, Any], total_steps: int | None = None) -> Recorder:
        """Open the run: framework ``params`` overridden by the user's."""
        if self.recorder is not None:
            self.abandon()
        self.params = flatten_params({**dict(params), **self.overrides})
        recorder = Recorder(
            self.store,
            params=self.params,
            observables=self.observables,
            task=self.task,
            resume=self.resume,
            overwrite=self.overwrite,
            flush_every=self.flush_every,
            total_steps=total_steps,
            if_complete=self.if_complete,
        )
        recorder.__enter__()
        self.recorder = recorder
        return recorder

    def log(self, step: int, values: Mapping[str, Any]) -> dict[str, float]:
        """Log the real-valued entries of ``values`` (filtered by ``metrics``) at ``step``."""
        if self.recorder is None:
            return {}
        kept: dict[str, float] = {}
        for name, value in values.items():
            if self.metrics is not None and name not in self.metrics:
                continue
            number = scalar(value)
            if number is not None:
                kept[str(name)] = number
        if kept:
            self.recorder.log(step, **kept)
        return kept

    def observe(self, step: int, model: Any, batch: Any = None) -> dict[str, float]:
        """Measure the observables due at ``step``."""
        if self.recorder is None or not self.observables:
            return {}
        return self.recorder.observe(step, model, batch)

    def finish(self, error: BaseException | None = None) -> None:
        """Publish the run: done, diverged, or failed with ``error``.

        A ``KeyboardInterrupt`` or ``SystemExit`` leaves it incomplete (resumable).
        """
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        if error is None:
            recorder.__exit__(None, None, None)
        else:
            recorder.__exit__(type(error), error, error.__traceback__)

    def abandon(self) -> None:
        """Stop recording without publishing: the rows stay journaled as incomplete."""
        self.finish(KeyboardInterrupt("recording abandoned"))
