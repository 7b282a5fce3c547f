"""One JSON cleaner for every result: numpy unwrapped, NaN/inf as ``null``.

Results (analysis, dynamics, refinement, study, report) write JSON through
:func:`to_json`; ingested run parameters through :func:`to_json` with
``nonfinite="string"`` (a parameter ``inf`` stays ``"inf"``, not ``null``).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np


def to_json(value: Any, *, nonfinite: Literal["null", "string"] = "null") -> Any:
    """``value`` made JSON-safe.

    Mappings → dicts with string keys, tuples/lists/arrays → lists, numpy scalars →
    Python numbers, booleans kept, non-finite floats → ``None`` (or their text with
    ``nonfinite="string"``), objects with ``to_dict()`` → that dict, enums → their value,
    ``pandas.NA``/``NaT`` → ``None``, anything else → ``str(value)``.
    """

    def clean(item: Any) -> Any:
        if item is None or isinstance(item, str):
            return item
        if isinstance(item, bool | np.bool_):
            return bool(item)
        if isinstance(item, enum.Enum):
            return clean(item.value)
        if isinstance(item, np.generic):
            item = item.item()
        if isinstance(item, bool):
            return item
        if isinstance(item, int):
            return int(item)
        if isinstance(item, float):
            if math.isfinite(item):
                return item
            return None if nonfinite == "null" else str(item)
        if isinstance(item, Mapping):
            return {str(k): clean(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [clean(v) for v in item]
        if isinstance(item, np.ndarray):
            return [clean(v) for v in item.tolist()]
        to_dict = getattr(item, "to_dict", None)
        if callable(to_dict) and (dataclasses.is_dataclass(item) or hasattr(item, "from_dict")):
            return clean(to_dict())
        try:
            import pandas as pd

            if item is pd.NA or item is pd.NaT:
                return None
        except ImportError:  # pragma: no cover - pandas is a dependency
            pass
        return str(item)

    return clean(value)


__all__ = ["to_json"]
