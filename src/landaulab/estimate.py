"""One vocabulary for uncertain numbers: :class:`Estimate` and its rendering.

Every fitted quantity in landaulab (a critical point, an exponent, a transition time, a
relaxation time, a boundary) is an :class:`Estimate`: a value, a confidence interval and
the method that produced it. It renders as ``0.31 ± 0.02`` rounded by the rule of the
Particle Data Group ("Review of Particle Physics", Introduction §5.3): the uncertainty
keeps two significant digits when its three leading digits are below 355, otherwise one,
and the value is rounded to the same decimal place.

This module depends on numpy only, so every stage (analyze, dynamics, report, refinement,
ingest) shares it without importing another stage.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Confidence level of every interval unless a caller says otherwise.
CONFIDENCE = 0.95


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` (NaN, inf, None, booleans, non-numbers)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _decimals_for(error: float) -> int:
    """Decimal places that keep the PDG number of significant digits of ``error``."""
    mantissa, power = f"{error:.2e}".split("e")  # exact for subnormal and huge errors
    exponent = int(power)
    leading = float(mantissa) * 100  # three leading digits, 100 ≤ leading < 1000
    digits = 2 if leading < 355 else 1
    return digits - 1 - exponent


def plain(value: Any, digits: int = 3) -> str:
    """A number with ``digits`` significant digits (``"n/a"`` when not finite)."""
    number = finite(value)
    if number is None:
        return "n/a"
    if number == 0:
        return "0"
    if 1e-4 <= abs(number) < 1e6:
        decimals = digits - 1 - math.floor(math.log10(abs(number)))
        text = f"{round(number, decimals):.{max(decimals, 0)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    text = f"{number:.{digits}g}"
    if "e" in text:
        mantissa, power = text.split("e")
        return f"{mantissa}×10^{int(power)}"
    return text


def _fixed(value: float, decimals: int) -> str:
    if decimals <= 0:
        return f"{round(value, decimals):.0f}"
    return f"{value:.{decimals}f}"


def with_error(value: Any, error: Any) -> str:
    """``value ± error`` rounded by the PDG rule; the bare value when the error is unknown."""
    number = finite(value)
    spread = finite(error)
    if number is None:
        return "n/a"
    if spread is None or spread <= 0:
        return plain(number)
    decimals = _decimals_for(spread)
    if abs(number) >= 1e6 or spread >= 1e6 or (abs(number) < 1e-3 and number != 0) or decimals > 8:
        return f"{plain(number)} ± {plain(spread, 2)}"
    return f"{_fixed(number, decimals)} ± {_fixed(spread, decimals)}"


def interval(low: Any, high: Any, reference: Any = None) -> str:
    """``[low, high]`` rounded like ``reference ± (high − low)/2``; ``""`` when unknown."""
    lo, hi = finite(low), finite(high)
    if lo is None or hi is None:
        return ""
    half = 0.5 * abs(hi - lo)
    if half > 0 and max(abs(lo), abs(hi)) < 1e6:
        decimals = _decimals_for(half)
        if decimals <= 8:
            return f"[{_fixed(lo, decimals)}, {_fixed(hi, decimals)}]"
    return f"[{plain(lo)}, {plain(hi)}]"


def percentile_interval(
    replicates: np.ndarray, level: float = CONFIDENCE, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13), ignoring
    non-finite replicates.

    Returns arrays of lower and upper bounds (NaN where fewer than half of the replicates
    are finite).
    """
    values = np.asarray(replicates, dtype=float)
    ok = np.isfinite(values)
    clean = np.where(ok, values, np.nan)
    alpha = (1.0 - level) / 2.0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        lo = np.nanquantile(clean, alpha, axis=axis)
        hi = np.nanquantile(clean, 1.0 - alpha, axis=axis)
    enough = ok.mean(axis=axis) >= 0.5
    return np.where(enough, lo, np.nan), np.where(enough, hi, np.nan)


def _pair(ci: Any) -> tuple[float, float] | None:
    if isinstance(ci, list | tuple | np.ndarray) and len(ci) == 2:
        lo, hi = finite(ci[0]), finite(ci[1])
        if lo is not None and hi is not None:
            return (min(lo, hi), max(lo, hi))
    return None


@dataclass(frozen=True)
class Estimate:
    """A value with a confidence interval and the method that produced it.

    Attributes
    ----------
    value
        The estimate from the data (``None`` when not estimable).
    ci
        ``(lower, upper)`` of the 95 % interval, or ``None`` when unknown.
    method
        How it was obtained (``"vanishing_point"``, ``"bootstrap"``, ...), or ``None``.
    """

    value: float | None
    ci: tuple[float, float] | None = None
    method: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", finite(self.value))
        object.__setattr__(self, "ci", _pair(self.ci))

    @classmethod
    def from_replicates(
        cls,
        value: Any,
        replicates: Any,
        level: float = CONFIDENCE,
        method: str | None = None,
    ) -> Estimate | None:
        """The value with the percentile interval of its bootstrap ``replicates``.

        ``None`` when the value is not finite; no interval when fewer than half of the
        replicates are finite. The interval always contains the value.
        """
        v = finite(value)
        if v is None:
            return None
        reps = np.asarray(replicates, dtype=float).ravel()
        if reps.size == 0:
            return cls(v, None, method)
        lo, hi = percentile_interval(reps, level)
        low, high = finite(float(lo)), finite(float(hi))
        if low is None or high is None:
            return cls(v, None, method)
        return cls(v, (min(low, v), max(high, v)), method)

    @classmethod
    def from_bounds(
        cls, value: Any, low: Any = None, high: Any = None, method: str | None = None
    ) -> Estimate | None:
        """An estimate from separate bounds (``None`` when the value is not finite)."""
        v = finite(value)
        if v is None:
            return None
        lo, hi = finite(low), finite(high)
        return cls(v, (lo, hi) if lo is not None and hi is not None else None, method)

    @property
    def low(self) -> float | None:
        """Lower bound of the interval, or ``None``."""
        return self.ci[0] if self.ci else None

    @property
    def high(self) -> float | None:
        """Upper bound of the interval, or ``None``."""
        return self.ci[1] if self.ci else None

    @property
    def error(self) -> float | None:
        """Half the width of the interval, or ``None``."""
        return 0.5 * (self.ci[1] - self.ci[0]) if self.ci else None

    @property
    def known(self) -> bool:
        """Whether there is a value."""
        return self.value is not None

    def contains(self, truth: float) -> bool:
        """Whether ``truth`` lies inside the interval (False without one)."""
        return self.ci is not None and self.ci[0] <= truth <= self.ci[1]

    def overlaps(self, other: Estimate) -> bool:
        """Whether the two intervals share a point (False when either is missing)."""
        if self.ci is None or other.ci is None:
            return False
        return self.ci[0] <= other.ci[1] and other.ci[0] <= self.ci[1]

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "ci": [lo, hi] or None}`` plus ``"method"`` when one is set."""
        out: dict[str, Any] = {
            "value": self.value,
            "ci": [self.ci[0], self.ci[1]] if self.ci else None,
        }
        if self.method is not None:
            out["method"] = self.method
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Estimate | None:
        """The inverse of :meth:`to_dict` (``None`` for ``None`` or a missing value)."""
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise TypeError(f"an estimate is a mapping with 'value' and 'ci'; got {data!r}")
        if finite(data.get("value")) is None:
            return None
        ci = data.get("ci")
        return cls(data["value"], tuple(ci) if ci is not None else None, data.get("method"))

    def text(self) -> str:
        """``0.31 ± 0.02`` (PDG rounding of the half-width), the bare value, or ``n/a``."""
        if self.value is None:
            return "n/a"
        return with_error(self.value, self.error)

    def interval_text(self) -> str:
        """``[0.29, 0.33]`` rounded like the value, or ``""`` without an interval."""
        if self.ci is None:
            return ""
        return interval(self.ci[0], self.ci[1], self.value)

    def __str__(self) -> str:
        """``value [lo, hi]`` with four significant digits (``text()`` gives ``±``)."""
        if self.value is None:
            return "n/a"
        if self.ci is None:
            return f"{self.value:.4g}"
        return f"{self.value:.4g} [{self.ci[0]:.4g}, {self.ci[1]:.4g}]"

    def _repr_html_(self) -> str:
        method = f" <small>({html.escape(self.method)})</small>" if self.method else ""
        rendered = self.text() + (f" {self.interval_text()}" if self.ci else "")
        return f"<span>{html.escape(rendered)}</span>{method}"


__all__ = [
    "CONFIDENCE",
    "Estimate",
    "finite",
    "interval",
    "percentile_interval",
    "plain",
    "with_error",
]
