"""JSON-safe conversion helpers shared by the result objects of :mod:`landaulab.dynamics`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np


def json_float(value: Any) -> float | None:
    """A finite float, or ``None`` for NaN, infinity and ``None``."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def json_floats(values: Iterable[Any] | np.ndarray | None) -> list[float | None]:
    """A list of :func:`json_float` values."""
    if values is None:
        return []
    return [json_float(v) for v in np.asarray(values, dtype=float).ravel()]


def json_interval(low: Any, high: Any) -> list[float | None]:
    """A two-element ``[low, high]`` list with ``None`` where a bound is unknown."""
    return [json_float(low), json_float(high)]


def json_label(value: Any) -> Any:
    """A run id or control value as a plain JSON scalar (numpy scalars unwrapped)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return json_float(value)
    if isinstance(value, bool | int | str):
        return value
    return str(value)


def format_value(value: float | None, low: float | None = None, high: float | None = None) -> str:
    """``value [low, high]`` with 4 significant digits, or ``n/a``."""
    if value is None or not math.isfinite(value):
        return "n/a"
    text = f"{value:.4g}"
    if low is not None and high is not None and math.isfinite(low) and math.isfinite(high):
        text += f" [{low:.4g}, {high:.4g}]"
    return text


def nan_quantiles(values: np.ndarray, quantiles: Iterable[float]) -> np.ndarray:
    """Column-wise quantiles of a 2-D array ignoring NaN (linear interpolation).

    A fast equivalent of ``np.nanpercentile(values, 100 * q, axis=0)``; columns without a
    finite value give NaN. Returns an array of shape ``(len(quantiles), n_columns)``.
    """
    values = np.asarray(values, dtype=float)
    ordered = np.sort(values, axis=0)  # NaN sorts last
    count = np.sum(np.isfinite(values), axis=0)
    out = []
    cols = np.arange(values.shape[1])
    for q in quantiles:
        position = q * np.maximum(count - 1, 0)
        lo = np.floor(position).astype(int)
        hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
        frac = position - lo
        value = ordered[lo, cols] * (1 - frac) + ordered[hi, cols] * frac
        out.append(np.where(count > 0, value, np.nan))
    return np.array(out)
