"""Assemble the tidy frame (one row per run and step) that every generator returns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from landaulab.errors import DataError


def as_positive_array(values: Sequence[float] | float, name: str) -> np.ndarray:
    """Return ``values`` as a 1-D float array, checking that every entry is finite and > 0."""
    array = np.atleast_1d(np.asarray(values, dtype=float))
    if array.ndim != 1 or array.size == 0:
        raise DataError(f"{name} must be a non-empty list of numbers")
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise DataError(f"{name} must be finite and positive; got {array.tolist()}")
    return array


def as_count(value: int, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int, checking that it is at least ``minimum``."""
    if isinstance(value, bool) or int(value) != value or int(value) < minimum:
        raise DataError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def tidy_frame(
    blocks: list[dict[str, np.ndarray]],
    n_steps: int,
) -> pd.DataFrame:
    """Stack per-condition blocks into one tidy frame with ``run_id`` and ``step`` columns.

    Parameters
    ----------
    blocks
        One dict per condition; ``"runs"`` is the number of runs in the block, scalar entries
        are condition parameters (broadcast to every row), and 2-D arrays of shape
        ``(runs, n_steps)`` are observables.
    n_steps
        The number of recorded steps per run.
    """
    parts: list[pd.DataFrame] = []
    next_run = 0
    for block in blocks:
        runs = int(block["runs"])
        run_id = np.repeat(np.arange(next_run, next_run + runs, dtype=np.int64), n_steps)
        step = np.tile(np.arange(n_steps, dtype=np.int64), runs)
        columns: dict[str, np.ndarray] = {"run_id": run_id, "step": step}
        for key, value in block.items():
            if key == "runs":
                continue
            array = np.asarray(value)
            if array.ndim == 0:
                columns[key] = np.full(runs * n_steps, array.item())
            else:
                columns[key] = array.reshape(runs * n_steps)
        parts.append(pd.DataFrame(columns))
        next_run += runs
    return pd.concat(parts, ignore_index=True)
