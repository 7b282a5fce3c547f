"""What a benchmark promises: its stated goals and the anchors it compares against.

A benchmark that misses a stated goal, or cannot import a library it is measured
against, must not exit 0: ``make bench`` would report success for a figure that is not
the one the benchmark states. Each benchmark records its goals in a :class:`Goals` and
ends with :meth:`Goals.finish`, which prints one line naming every missed goal and exits
with status 1; :func:`require_anchor` ends the run at once, with one line, when an anchor
is missing (install them with ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

MISSED = 1
"""Exit status of a benchmark that missed a goal or lacks an anchor."""


def _name() -> str:
    return Path(sys.argv[0]).stem or "benchmark"


def require_anchor(module: str, distribution: str, label: str) -> str:
    """Import the library a benchmark compares against, or end the run with one line.

    Parameters
    ----------
    module
        The module to import (``"pyhessian.hessian"``).
    distribution
        The package that provides it, as installed (``"pyhessian"``).
    label
        The name printed in the figures (``"PyHessian"``).

    Returns
    -------
    str
        ``"<label> <installed version>"``, for the figures.
    """
    try:
        importlib.import_module(module)
        version = importlib.metadata.version(distribution)
    except (ImportError, importlib.metadata.PackageNotFoundError) as error:
        print(
            f"{_name()}: FAILED: anchor {label} missing ({type(error).__name__}: {error}); "
            "install it with pip install -e '.[bench]'",
            flush=True,
        )
        sys.exit(MISSED)
    return f"{label} {version}"


@dataclass
class Goals:
    """The goals one benchmark run is judged by.

    Parameters
    ----------
    judged
        ``False`` for a smoke run (``--quick``) whose budgets are not the ones the goals
        are stated for: the figures are printed but not judged.
    """

    judged: bool = True
    missed: list[str] = field(default_factory=list)
    met: list[str] = field(default_factory=list)

    def at_least(self, label: str, value: float, goal: float, unit: str = "") -> bool:
        """Record the goal ``value >= goal`` (NaN misses it); whether it was met."""
        return self._record(label, value, goal, unit, value >= goal, ">=")

    def at_most(self, label: str, value: float, goal: float, unit: str = "") -> bool:
        """Record the goal ``value <= goal`` (NaN misses it); whether it was met."""
        return self._record(label, value, goal, unit, value <= goal, "<=")

    def _record(
        self, label: str, value: float, goal: float, unit: str, ok: bool, relation: str
    ) -> bool:
        ok = bool(ok) and not math.isnan(value)
        text = f"{label} {value:.3g}{unit} (goal {relation} {goal:g}{unit})"
        (self.met if ok else self.missed).append(text)
        return ok

    def finish(self) -> None:
        """Exit with status 1 and one line naming them if judged goals were missed.

        A run that met its goals (or was not judged) prints nothing more, so that its
        last line stays the benchmark's headline figure.
        """
        if self.judged and self.missed:
            print(f"{_name()}: FAILED: goal missed: {'; '.join(self.missed)}", flush=True)
            sys.exit(MISSED)
