"""Reading results back from their JSON form (the inverse of ``to_dict``).

JSON writes NaN and infinities as null (:func:`landaulab.serialize.to_json`); these
helpers read null back as NaN where a number or an array is expected, keep an estimate
whose value is missing (so that writing it again gives the same JSON), and rebuild
tables from their records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from landaulab.estimate import Estimate


def float_or_nan(value: Any) -> float:
    """``value`` as a float; null as NaN."""
    return float("nan") if value is None else float(value)


def array_from_list(values: Sequence[Any] | None) -> np.ndarray:
    """A float array from a JSON list (null entries as NaN; an empty array for null)."""
    return np.array([float_or_nan(v) for v in values or ()], dtype=float)


def estimate_from_dict(data: Mapping[str, Any] | None) -> Estimate | None:
    """An :class:`~landaulab.estimate.Estimate` from ``{"value", "ci"[, "method"]}``.

    None for null; an estimate without a value is kept as such (unlike
    :meth:`Estimate.from_dict`), so that its JSON is written back unchanged.
    """
    if data is None:
        return None
    ci = data.get("ci")
    return Estimate(data.get("value"), tuple(ci) if ci is not None else None, data.get("method"))


def table_from_records(
    records: Iterable[Mapping[str, Any]] | None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """A table from its records, with ``columns`` in order (all of them, even when there
    are no records); columns holding only numbers and nulls become float (null as NaN)."""
    table = pd.DataFrame(list(records or ()))
    if columns is not None:
        table = table.reindex(columns=list(columns))
    for name in table.columns:
        column = table[name]
        if column.dtype == object and column.map(_is_number_or_null).all():
            table[name] = column.astype(float)
    return table


def _is_number_or_null(value: Any) -> bool:
    return value is None or (
        isinstance(value, int | float | np.number) and not isinstance(value, bool)
    )


__all__ = ["array_from_list", "estimate_from_dict", "float_or_nan", "table_from_records"]
