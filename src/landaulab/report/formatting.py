"""Numbers and names as a reader wants to see them: ``0.31 ± 0.02``, "weight decay".

Values with an uncertainty are rounded by the rule used in particle physics (Particle Data
Group, "Review of Particle Physics", Introduction §5.3): the uncertainty keeps two
significant digits when its leading digits are below 355, otherwise one, and the value is
rounded to the same decimal place.
"""

from __future__ import annotations

import math
from typing import Any

#: Greek or symbolic names of the quantities a report mentions.
SYMBOLS = {
    "beta": "β",
    "gamma": "γ",
    "nu": "ν",
    "delta": "δ",
    "eta": "η",
    "alpha": "α",
    "beta_over_nu": "β/ν",
    "gamma_over_nu": "γ/ν",
    "z_nu": "zν",
}


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` (NaN, inf, None and non-numbers)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def human(name: str) -> str:
    """A column name as words: ``"weight_decay"`` → ``"weight decay"``."""
    text = str(name).replace("_", " ").replace("-", " ").strip()
    return " ".join(text.split()) or str(name)


def capital(text: str) -> str:
    """Capitalise the first word of a sentence unless it is a short symbol (``m``, ``N``)."""
    first = text.split(" ", 1)[0] if text else ""
    if len(first) >= 3 and first.isalpha() and first.islower():
        return text[:1].upper() + text[1:]
    return text


def symbol(name: str) -> str:
    """The symbol of an exponent name (``"beta_over_nu"`` → ``"β/ν"``)."""
    return SYMBOLS.get(name, name)


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


def estimate(value: Any, ci: Any = None) -> str:
    """An estimate as ``0.31 ± 0.02`` (half-width of its confidence interval) or ``n/a``."""
    number = finite(value)
    if number is None:
        return "n/a"
    lo, hi = _pair(ci)
    if lo is None or hi is None:
        return plain(number)
    return with_error(number, 0.5 * abs(hi - lo))


def _pair(ci: Any) -> tuple[float | None, float | None]:
    if isinstance(ci, list | tuple) and len(ci) == 2:
        return finite(ci[0]), finite(ci[1])
    return None, None
