"""Logistic regression of a fraction on one covariate, for many bootstrap replicates at once.

A response ``y`` in [0, 1] (a share of seeds, a rescaled accuracy) is modelled as
``E[y | x] = 1 / (1 + exp(−(a + b·x)))`` and fitted by the Bernoulli quasi-likelihood
(the fractional logit of Papke & Wooldridge 1996, J. Appl. Econometrics 11, 619): the
estimate is consistent for any response in [0, 1] whose mean follows the curve,
whatever its distribution around it. The score is Firth's bias-reduced one (Firth 1993,
Biometrika 80, 27), so the estimate stays finite where the responses are separated
(all zeros below some x, all ones above), as a sharp jump sampled by few seeds is.

Each replicate is a row of case weights (a bootstrap replicate's multiplicities), and
all replicates are solved together by Newton's method on their 2 × 2 systems.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FractionalLogit", "fit_fractional_logit"]


@dataclass(frozen=True)
class FractionalLogit:
    """Fitted curves ``logit E[y] = intercept + slope·x``, one per replicate.

    Attributes
    ----------
    intercept, slope
        One entry per replicate, in the units of ``x``.
    converged
        Whether each replicate's Newton iteration converged.
    """

    intercept: np.ndarray
    slope: np.ndarray
    converged: np.ndarray

    def crossing(self, level: float) -> np.ndarray:
        """Where each fitted curve equals ``level`` (NaN where the slope is zero)."""
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must lie strictly between 0 and 1, got {level}")
        target = np.log(level / (1.0 - level))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (target - self.intercept) / self.slope
        return np.where(self.slope != 0, out, np.nan)


def fit_fractional_logit(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-9,
    max_step: float = 5.0,
) -> FractionalLogit:
    """Fit the fractional logit with Firth's penalty for each row of ``weights``.

    Parameters
    ----------
    x
        Covariate, shape ``(n,)``, finite.
    y
        Responses in [0, 1], shape ``(n,)``.
    weights
        Case weights, shape ``(replicates, n)`` or ``(n,)``; ``None``: one replicate
        with unit weights.
    max_iter, tol
        Newton iterations at most, and the step size (in standardised units) below
        which a replicate has converged.
    max_step
        The largest step of a coefficient in one iteration (standardised units): keeps
        the first steps of a nearly separated replicate from overshooting.

    Returns
    -------
    FractionalLogit
        The intercept and slope per replicate, in the units of ``x``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError("x and y must be one-dimensional and of equal length")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite")
    if ((y < 0) | (y > 1)).any():
        raise ValueError("responses must lie in [0, 1]")
    w = np.ones((1, x.size)) if weights is None else np.atleast_2d(np.asarray(weights, float))
    if w.shape[1] != x.size or (w < 0).any():
        raise ValueError("weights must be non-negative, one column per case")
    # standardise x, so one step bound and tolerance fit every scale
    centre = float(x.mean()) if x.size else 0.0
    scale = float(x.std()) or 1.0
    u = (x - centre) / scale
    replicates = w.shape[0]
    a = np.zeros(replicates)
    b = np.zeros(replicates)
    converged = np.zeros(replicates, dtype=bool)
    for _ in range(max_iter):
        eta = a[:, None] + b[:, None] * u[None, :]
        p = 1.0 / (1.0 + np.exp(-eta))
        v = w * p * (1.0 - p)
        # Fisher information, per replicate: [[Σv, Σvu], [Σvu, Σvu²]]
        i00, i01, i11 = v.sum(1), (v * u).sum(1), (v * u * u).sum(1)
        det = i00 * i11 - i01 * i01
        ok = det > 1e-300
        det = np.where(ok, det, 1.0)
        # leverages h_i = v_i · (1, u_i) I⁻¹ (1, u_i)ᵀ (Firth's adjustment)
        h = v * (i11[:, None] - 2 * i01[:, None] * u[None, :] + i00[:, None] * u * u) / det[:, None]
        r = w * (y[None, :] - p) + h * (0.5 - p)
        s0, s1 = r.sum(1), (r * u).sum(1)
        da = (i11 * s0 - i01 * s1) / det
        db = (i00 * s1 - i01 * s0) / det
        da, db = np.where(ok, da, 0.0), np.where(ok, db, 0.0)
        step = np.maximum(np.abs(da), np.abs(db))
        shrink = np.minimum(1.0, max_step / np.maximum(step, 1e-300))
        a += shrink * da
        b += shrink * db
        converged = ok & (step < tol)
        if converged.all():
            break
    slope = b / scale
    return FractionalLogit(a - slope * centre, slope, converged)
