"""T_c from the collapse of the Binder cumulants of the largest sizes (second order)."""

from __future__ import annotations

import numpy as np

from landaulab.analyze.collapse import FSS_SIZES, fit_binder_collapse
from landaulab.analyze.critical_point import Candidate, Located, Location, LocatorContext


def locate_binder_collapse(context: LocatorContext) -> Location:
    """T_c from the collapse of the Binder cumulants of the largest sizes (a second-order
    transition with at least two sizes), started from the best earlier location."""
    if context.order != "second" or len(context.curves) < 2:
        return Location()
    start = next(
        (
            context.found[k].value
            for k in ("binder_crossing", "quadratic_coefficient_zero", "susceptibility_peak")
            if k in context.found
        ),
        float(np.median(context.largest.t)),
    )
    keys = context.sizes[-FSS_SIZES:]
    fit = fit_binder_collapse(context.curves, keys, start, context.n_bootstrap)
    if fit is None:
        return Location()
    located = Located(
        value=fit.critical_point,
        replicates=fit.replicates[:, 0],
        method="binder_collapse",
        detail="",
    )
    candidate = Candidate(located, tuple(keys), "sizes " + ", ".join(f"{k:.6g}" for k in keys))
    return Location(candidates=(candidate,), chosen=candidate)
