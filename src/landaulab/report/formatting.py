"""Numbers and names as a reader wants to see them: ``0.31 ± 0.02``, "weight decay".

Values with an uncertainty are rounded by the rule used in particle physics (Particle Data
Group, "Review of Particle Physics", Introduction §5.3): the uncertainty keeps two
significant digits when its leading digits are below 355, otherwise one, and the value is
rounded to the same decimal place.
"""

from __future__ import annotations

from typing import Any

from landaulab.analyze.roles import capital as capital
from landaulab.analyze.roles import human as human
from landaulab.estimate import finite as finite
from landaulab.estimate import interval as interval
from landaulab.estimate import plain as plain
from landaulab.estimate import with_error as with_error

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


def symbol(name: str) -> str:
    """The symbol of an exponent name (``"beta_over_nu"`` → ``"β/ν"``)."""
    return SYMBOLS.get(name, name)


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
