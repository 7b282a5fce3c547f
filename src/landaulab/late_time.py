"""What "late time" means, once for the whole package.

The late-time part of a run — the stationary ensemble that statics average over, the part
whose value a phase diagram shows, the window a refinement reads — is the part of its
*logged step range* after a burn-in: steps ``s ≥ first + burn_in · (last − first)``,
where ``first`` and ``last`` are the run's first and last logged steps. It is a fraction
of the step range, not of the rows, so uneven logging does not move it, and it always
holds the last logged step.

``burn_in`` is the one named parameter (``--burn-in`` on the command line); its default
:data:`BURN_IN` drops the first half of each run, the usual choice for stationary SGD
averages. A study that wants only the end of a budget says so with a larger burn-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from landaulab.errors import DataError

#: Default fraction of each run's logged step range dropped before "late time".
BURN_IN = 0.5


def check_burn_in(burn_in: Any) -> float:
    """``burn_in`` as a float in [0, 1), or a :class:`DataError` naming the fix."""
    if isinstance(burn_in, bool) or not isinstance(burn_in, int | float | np.floating):
        raise DataError(f"burn_in must be a fraction in [0, 1); got {burn_in!r}")
    value = float(burn_in)
    if not 0.0 <= value < 1.0:
        raise DataError(f"burn_in must be a fraction in [0, 1); got {burn_in!r}")
    return value


def late_start(first: Any, last: Any, burn_in: float = BURN_IN) -> Any:
    """The first late step: ``first + burn_in · (last − first)`` (scalars or arrays)."""
    return first + burn_in * (last - first)


def late_mask(
    steps: np.ndarray, runs: np.ndarray | None = None, burn_in: float = BURN_IN
) -> np.ndarray:
    """Which rows are late, per run (``runs`` gives each row's run; one run when None).

    Non-finite steps are never late.
    """
    steps = np.asarray(steps, dtype=float)
    ok = np.isfinite(steps)
    if runs is None:
        if not ok.any():
            return ok
        first, last = np.min(steps[ok]), np.max(steps[ok])
        return ok & (steps >= late_start(first, last, burn_in))
    _, codes = np.unique(np.asarray(runs), return_inverse=True)
    codes = codes.ravel()
    n = int(codes.max()) + 1 if codes.size else 0
    first = np.full(n, np.inf)
    last = np.full(n, -np.inf)
    np.minimum.at(first, codes[ok], steps[ok])
    np.maximum.at(last, codes[ok], steps[ok])
    start = late_start(first, last, burn_in)
    return ok & (steps >= start[codes])


def late_mean(steps: Sequence[float], values: Sequence[float], burn_in: float = BURN_IN) -> float:
    """Mean of the finite ``values`` of one run over its late steps (NaN when none)."""
    steps_array = np.asarray(steps, dtype=float)
    values_array = np.asarray(values, dtype=float)
    window = values_array[late_mask(steps_array, None, burn_in)]
    window = window[np.isfinite(window)]
    return float(window.mean()) if window.size else float("nan")


def late_means(
    frame: Any,
    columns: Sequence[str],
    *,
    burn_in: float = BURN_IN,
    run_col: str = "run_id",
    step_col: str = "step",
) -> Any:
    """Per run, the mean of each of ``columns`` over its late steps (a pandas frame
    indexed by run; non-finite values left out; columns not in the frame skipped)."""
    import pandas as pd

    present = [c for c in columns if c in frame.columns]
    if step_col in frame.columns:
        steps = pd.to_numeric(frame[step_col], errors="coerce").to_numpy(dtype=float)
    else:
        steps = frame.groupby(run_col, sort=False).cumcount().to_numpy(dtype=float)
    mask = late_mask(steps, frame[run_col].to_numpy(), burn_in)
    late = frame.loc[mask, [run_col, *present]]
    values = late[present].apply(pd.to_numeric, errors="coerce")
    values = values.where(np.isfinite(values.to_numpy(dtype=float)))
    values[run_col] = late[run_col].to_numpy()
    return values.groupby(run_col, sort=True)[present].mean()


__all__ = ["BURN_IN", "check_burn_in", "late_mask", "late_mean", "late_means", "late_start"]
