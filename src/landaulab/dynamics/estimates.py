"""Uncertain numbers of the dynamics results: :class:`~landaulab.estimate.Estimate` and
the one-sided bounds that profile likelihoods and Poisson counts give.

Every fitted quantity in a dynamics result is an :class:`~landaulab.estimate.Estimate`
(value, confidence interval, method), or ``None`` when nothing is known about it. Some
intervals are bounded on one side only: a profile-likelihood interval of a critical point
that runs into the edge of the search range (the data exclude a divergence on one side
only), or the mean escape time when no escape was seen. Those are a
:class:`OneSidedEstimate`, whose JSON interval is ``[bound, null]`` or ``[null, bound]``.

The helpers here translate between estimates and the JSON of the dynamics contract
(``"value"`` plus ``"ci": [lo, hi]`` with ``null`` for an unknown bound).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from landaulab.estimate import Estimate, finite


@dataclass(frozen=True)
class OneSidedEstimate(Estimate):
    """An estimate whose confidence interval is bounded on one side only.

    Attributes
    ----------
    bound
        The known bound of the interval.
    side
        ``"lower"`` (the interval is ``[bound, ∞)``) or ``"upper"`` (``(-∞, bound]``).
    """

    bound: float | None = None
    side: Literal["lower", "upper"] = "lower"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "ci", None)
        object.__setattr__(self, "bound", finite(self.bound))
        if self.side not in ("lower", "upper"):
            raise ValueError(f"side must be 'lower' or 'upper'; got {self.side!r}")

    @property
    def low(self) -> float | None:
        """The bound when it is a lower bound, else ``None``."""
        return self.bound if self.side == "lower" else None

    @property
    def high(self) -> float | None:
        """The bound when it is an upper bound, else ``None``."""
        return self.bound if self.side == "upper" else None

    def contains(self, truth: float) -> bool:
        """Whether ``truth`` lies on the open side of the bound."""
        if self.bound is None:
            return False
        return truth >= self.bound if self.side == "lower" else truth <= self.bound

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "ci": None, "bound", "side"}`` plus ``"method"`` when one is set."""
        return {**super().to_dict(), "bound": self.bound, "side": self.side}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> OneSidedEstimate | None:
        """The inverse of :meth:`to_dict` (``None`` when neither value nor bound is known)."""
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise TypeError(f"an estimate is a mapping with 'value' and 'bound'; got {data!r}")
        if finite(data.get("value")) is None and finite(data.get("bound")) is None:
            return None
        method, bound = data.get("method"), data.get("bound")
        if data.get("side") == "upper":
            return cls(data.get("value"), None, method, bound, "upper")
        return cls(data.get("value"), None, method, bound, "lower")

    def interval_text(self) -> str:
        """``≥ 0.6`` or ``≤ 0.6``."""
        if self.bound is None:
            return ""
        return f"{'≥' if self.side == 'lower' else '≤'} {self.bound:.4g}"


def estimate(
    value: Any, low: Any = None, high: Any = None, method: str | None = None
) -> Estimate | None:
    """An estimate from a value and interval bounds (NaN, inf or ``None`` where unknown).

    ``None`` when neither the value nor a bound is known; a :class:`OneSidedEstimate` when
    exactly one bound is known. The value may be unknown while the interval is known (a
    bootstrap that finds a quantity the point fit does not).
    """
    v, lo, hi = finite(value), finite(low), finite(high)
    if v is None and lo is None and hi is None:
        return None
    if lo is not None and hi is not None:
        return Estimate(v, (lo, hi), method)
    if lo is not None:
        return OneSidedEstimate(v, None, method, bound=lo, side="lower")
    if hi is not None:
        return OneSidedEstimate(v, None, method, bound=hi, side="upper")
    return Estimate(v, None, method)


def value_of(item: Estimate | None) -> float:
    """The value of ``item`` as a float for arithmetic (NaN when unknown)."""
    if item is None or item.value is None:
        return math.nan
    return item.value


def bounds_of(item: Estimate | None) -> tuple[float, float]:
    """``(low, high)`` of ``item`` as floats for arithmetic (NaN where unknown)."""
    if item is None:
        return math.nan, math.nan
    low, high = item.low, item.high
    return (math.nan if low is None else low), (math.nan if high is None else high)


def ci_list(item: Estimate | None) -> list[float | None]:
    """The ``[low, high]`` JSON interval of ``item`` (``null`` where a bound is unknown)."""
    if item is None:
        return [None, None]
    return [item.low, item.high]


def from_json(value: Any, ci: Sequence[Any] | None, method: str | None = None) -> Estimate | None:
    """The inverse of ``finite(e.value)`` and :func:`ci_list`."""
    low, high = (ci[0], ci[1]) if isinstance(ci, Sequence) and len(ci) == 2 else (None, None)
    return estimate(value, low, high, method)


def entry(item: Estimate | None) -> dict[str, Any]:
    """``{"value", "ci": [lo, hi]}`` of ``item`` (the dynamics JSON of a parameter)."""
    return {"value": value_json(item), "ci": ci_list(item)}


def from_entry(data: Mapping[str, Any] | None, method: str | None = None) -> Estimate | None:
    """The inverse of :func:`entry`."""
    if not isinstance(data, Mapping):
        return None
    return from_json(data.get("value"), data.get("ci"), method)


def value_json(item: Estimate | None) -> float | None:
    """The value of ``item`` for JSON (``null`` when unknown)."""
    return None if item is None else item.value


def describe(item: Estimate | float | None) -> str:
    """``value [low, high]`` with four significant digits, the bare value, or ``n/a``."""
    if item is None:
        return "n/a"
    if not isinstance(item, Estimate):
        item = Estimate(item)
    return str(Estimate(item.value, item.ci))


def number(value: Any) -> float:
    """A JSON number back as a float (``null`` → NaN)."""
    number_ = finite(value)
    return math.nan if number_ is None else number_


def array(values: Any) -> np.ndarray:
    """A JSON list of numbers back as a float array (``null`` → NaN)."""
    if values is None:
        return np.zeros(0)
    return np.array([number(v) for v in values], dtype=float)


__all__ = [
    "OneSidedEstimate",
    "array",
    "bounds_of",
    "ci_list",
    "describe",
    "entry",
    "estimate",
    "from_entry",
    "from_json",
    "number",
    "value_json",
    "value_of",
]
