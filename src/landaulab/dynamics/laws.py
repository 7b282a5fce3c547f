"""Laws for how a time scale grows with a control parameter, and choosing among them.

Three forms are fitted to ``ln y`` (so that all share one error model and can be compared
by an information criterion):

* **Arrhenius / Kramers** ``y = A exp(dF / c)``: thermally activated escape over a barrier
  ``dF`` at temperature ``c`` (Kramers 1940, Physica 7:284; Hänggi, Talkner & Borkovec
  1990, Rev. Mod. Phys. 62:251). Diverges only as ``c -> 0``.
* **Power law** ``y = A |c - c0|^(-nu)``: critical slowing down or a saddle-node
  bottleneck near a critical point ``c0`` (Hohenberg & Halperin 1977, Rev. Mod. Phys.
  49:435; Strogatz 2015, *Nonlinear Dynamics and Chaos*, sec. 4.3). ``c0`` is profiled
  over a grid and refined; two-sided fits share ``nu`` with one amplitude per side.
* **Logarithmic** ``y = A + B ln c``: escape from an unstable fixed point seeded at
  ``c`` (plateau length ∝ ln(1/r0), Saad & Solla 1995, Phys. Rev. E 52:4225).

The best form has the lowest corrected Akaike criterion (Hurvich & Tsai 1989, Biometrika
76:297); Akaike weights say how clear the choice is (Burnham & Anderson 2002, sec. 2.9).
The one-sided power law's ``c0`` and ``nu`` get profile-likelihood intervals (the
bootstrap under-covers for these strongly nonlinear parameters); all other intervals are
bootstrap percentiles (stratified over replicate runs per control, or of residuals / of
the given log-errors when there are no replicates).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from landaulab.dynamics.estimates import (
    ci_list,
    describe,
    entry,
    estimate,
    from_entry,
    from_json,
    number,
    value_json,
)
from landaulab.errors import FewSamplesWarning, FitWarning
from landaulab.estimate import Estimate, finite
from landaulab.serialize import to_json

LAWS = ("arrhenius", "power", "logarithmic")
FORMULAS = {
    "arrhenius": "y = A exp(dF / c)",
    "power": "y = A |c - c0|^(-nu)",
    "logarithmic": "y = A + B ln(c)",
}
N_PARAMETERS = {"arrhenius": 2, "power": 3, "logarithmic": 2}


@dataclass(frozen=True)
class LawFit:
    """One fitted law.

    Attributes
    ----------
    law, formula
        Name and equation.
    parameters
        Best-fit parameters with bootstrap percentile (or profile-likelihood) intervals.
    aicc, weight
        Corrected Akaike criterion and Akaike weight among the laws compared.
    rss
        Weighted residual sum of squares of ``ln y``.
    divergence
        Control value where the law diverges (``c0``; 0 for Arrhenius and the
        logarithmic law when they diverge there), with an interval (``None`` if unknown).
    budget_control
        Control value at which the law reaches the budget, with an interval.
    note
        Plain remark (e.g. why the law is not applicable).
    """

    law: str
    formula: str
    parameters: dict[str, Estimate]
    aicc: float
    rss: float
    n_points: int
    weight: float = float("nan")
    divergence: Estimate | None = None
    budget_control: Estimate | None = None
    note: str = ""

    @property
    def fitted(self) -> bool:
        """Whether the law could be fitted."""
        return bool(self.parameters)

    @property
    def values(self) -> dict[str, float]:
        """The best-fit parameters as plain numbers (NaN where unknown)."""
        return {k: number(v.value) for k, v in self.parameters.items()}

    def predict(self, control: np.ndarray | float) -> np.ndarray:
        """The law's prediction ``y(c)``."""
        return _predict(self.law, self.values, np.asarray(control, dtype=float))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "law": self.law,
            "formula": self.formula,
            "parameters": {k: entry(v) for k, v in self.parameters.items()},
            "aicc": finite(self.aicc),
            "weight": finite(self.weight),
            "n_points": self.n_points,
            "divergence": value_json(self.divergence),
            "divergence_ci": ci_list(self.divergence),
            "budget_control": value_json(self.budget_control),
            "budget_control_ci": ci_list(self.budget_control),
            "note": self.note,
            "rss": finite(self.rss),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LawFit:
        """The inverse of :meth:`to_dict`."""
        parameters = {}
        for key, item in (data.get("parameters") or {}).items():
            found = from_entry(item)
            parameters[str(key)] = found if found is not None else Estimate(None)
        return cls(
            law=str(data.get("law")),
            formula=str(data.get("formula")),
            parameters=parameters,
            aicc=number(data.get("aicc")),
            rss=number(data.get("rss")),
            n_points=int(data.get("n_points") or 0),
            weight=number(data.get("weight")),
            divergence=from_json(data.get("divergence"), data.get("divergence_ci")),
            budget_control=from_json(data.get("budget_control"), data.get("budget_control_ci")),
            note=str(data.get("note", "")),
        )


@dataclass(frozen=True)
class LawComparison:
    """Several laws fitted to the same ``(control, time)`` data, best first.

    Attributes
    ----------
    fits
        Fitted laws sorted by AICc (unfittable ones last).
    budget
        The time budget used for ``budget_control`` (``NaN`` if none).
    verdict
        One sentence naming the best law and how clearly it wins.
    """

    fits: tuple[LawFit, ...]
    budget: float
    verdict: str
    n_points: int
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> LawFit | None:
        """The law with the lowest AICc (``None`` if none could be fitted or compared).

        With a single law, that law; with several laws but too few points for AICc, none.
        """
        if not self.fits or not self.fits[0].fitted:
            return None
        if len(self.fits) > 1 and not math.isfinite(self.fits[0].aicc):
            return None
        return self.fits[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        out = {
            "best": self.best.law if self.best else None,
            "verdict": self.verdict,
            "budget": finite(self.budget),
            "n_points": self.n_points,
            "fits": [f.to_dict() for f in self.fits],
            "reason": self.reason,
        }
        if self.extra:
            out["extra"] = to_json(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LawComparison:
        """The inverse of :meth:`to_dict`."""
        return cls(
            fits=tuple(LawFit.from_dict(f) for f in data.get("fits") or ()),
            budget=number(data.get("budget")),
            verdict=str(data.get("verdict", "")),
            n_points=int(data.get("n_points") or 0),
            reason=data.get("reason"),
            extra=dict(data.get("extra") or {}),
        )

    def __str__(self) -> str:
        lines = [f"LawComparison: {self.verdict}"]
        for f in self.fits:
            if f.fitted:
                pars = ", ".join(f"{k} = {describe(v)}" for k, v in f.parameters.items())
                lines.append(f"  {f.law}: AICc {f.aicc:.2f}, weight {f.weight:.2f}; {pars}")
            else:
                lines.append(f"  {f.law}: not fitted ({f.note})")
        return "\n".join(lines)


def _predict(law: str, p: dict[str, float], c: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        if law == "arrhenius":
            return p["A"] * np.exp(p["dF"] / c)
        if law == "power":
            single = p.get("A", math.nan)
            above, below = p.get("A_above", single), p.get("A_below", single)
            amp = np.where(c >= p["c0"], above, below)
            result: np.ndarray = amp * np.abs(c - p["c0"]) ** (-p["nu"])
            return result
        return p["A"] + p["B"] * np.log(c)


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted least squares ``y ~ x @ beta``; returns ``beta`` and the weighted RSS."""
    sw = np.sqrt(w)
    beta, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
    resid = (y - x @ beta) * sw
    return beta, float(resid @ resid)


def fit_arrhenius(c: np.ndarray, logy: np.ndarray, w: np.ndarray) -> tuple[dict[str, float], float]:
    """``ln y = ln A + dF / c``; returns parameters and weighted RSS (NaN if c <= 0)."""
    if np.any(c <= 0):
        return {}, float("nan")
    beta, rss = _wls(np.stack([np.ones_like(c), 1.0 / c], axis=1), logy, w)
    return {"A": _safe_exp(beta[0]), "dF": float(beta[1])}, rss


def fit_logarithmic(
    c: np.ndarray, logy: np.ndarray, w: np.ndarray
) -> tuple[dict[str, float], float]:
    """``ln y = ln(A + B ln c)``; returns parameters and weighted RSS (NaN if c <= 0)."""
    if np.any(c <= 0):
        return {}, float("nan")
    y = np.exp(logy)
    lc = np.log(c)
    start, _ = _wls(np.stack([np.ones_like(c), lc], axis=1), y, w)
    sw = np.sqrt(w)

    def residual(theta: np.ndarray) -> np.ndarray:
        pred = theta[0] + theta[1] * lc
        bad = pred <= 0
        out = (np.log(np.where(bad, 1e-300, pred)) - logy) * sw
        return np.where(bad, 1e3 + np.abs(pred), out)

    def jacobian(theta: np.ndarray) -> np.ndarray:
        pred = theta[0] + theta[1] * lc
        inv = np.where(pred > 0, 1.0 / np.where(pred > 0, pred, 1.0), 0.0) * sw
        return np.stack([inv, inv * lc], axis=1)

    if np.any(start[0] + start[1] * lc <= 0):
        start = np.array([float(y.min()) * 0.5, 0.0])
    theta = _levenberg_marquardt(residual, jacobian, start)
    if theta is None or np.any(theta[0] + theta[1] * lc <= 0):
        return {}, float("nan")
    r = residual(theta)
    return {"A": float(theta[0]), "B": float(theta[1])}, float(r @ r)


def _levenberg_marquardt(
    residual: Callable[[np.ndarray], np.ndarray],
    jacobian: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    iterations: int = 100,
) -> np.ndarray | None:
    """Minimise ``|residual|^2`` by Levenberg–Marquardt (Marquardt 1963) from ``start``."""
    theta = np.asarray(start, dtype=float)
    r = residual(theta)
    cost = float(r @ r)
    damping = 1e-3
    for _ in range(iterations):
        jac = jacobian(theta)
        normal = jac.T @ jac
        gradient = jac.T @ r
        try:
            step = np.linalg.solve(normal + damping * np.diag(np.diag(normal) + 1e-12), -gradient)
        except np.linalg.LinAlgError:
            return None
        trial = theta + step
        r_trial = residual(trial)
        trial_cost = float(r_trial @ r_trial)
        if trial_cost < cost:
            converged = abs(cost - trial_cost) <= 1e-12 * max(cost, 1e-300) or np.all(
                np.abs(step) <= 1e-10 * (np.abs(theta) + 1e-12)
            )
            theta, r, cost = trial, r_trial, trial_cost
            damping = max(damping / 3, 1e-12)
            if converged:
                break
        else:
            damping *= 5
            if damping > 1e12:
                break
    return theta if np.all(np.isfinite(theta)) else None


def _power_profile(
    c: np.ndarray, logy: np.ndarray, w: np.ndarray, c0: float | np.ndarray, two_sided: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form weighted fit of ``ln y = a - nu ln|c - c0|`` for each candidate ``c0``.

    Returns ``(beta, rss)`` with ``beta`` of shape ``(J, 3)`` = (intercept below, intercept
    above, nu) and ``rss`` of shape ``(J,)``; one-sided fits share one intercept.
    """
    c0 = np.atleast_1d(np.asarray(c0, dtype=float))
    if not two_sided:
        return _power_profile_one_sided(c, logy, w, c0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.abs(c[None, :] - c0[:, None])
        x = -np.log(d)
        groups = (c[None, :] > c0[:, None]) if two_sided else np.zeros_like(d, dtype=bool)
        beta = np.full((c0.size, 3), np.nan)
        means_x = np.zeros_like(d)
        means_y = np.zeros_like(d)
        for flag in (False, True):
            member = (groups == flag) * w[None, :]
            total = member.sum(axis=1, keepdims=True)
            mx = (member * x).sum(axis=1, keepdims=True) / total
            my = (member * logy[None, :]).sum(axis=1, keepdims=True) / total
            means_x = np.where(groups == flag, mx, means_x)
            means_y = np.where(groups == flag, my, means_y)
        dx = x - means_x
        dy = logy[None, :] - means_y
        nu = (w * dx * dy).sum(axis=1) / (w * dx * dx).sum(axis=1)
        resid = dy - nu[:, None] * dx
        rss = (w * resid**2).sum(axis=1)
        intercept = means_y - nu[:, None] * means_x
        below = np.where(~groups, intercept, np.nan)
        above = np.where(groups, intercept, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            beta[:, 0] = np.nanmean(below, axis=1)
            beta[:, 1] = np.nanmean(above, axis=1) if two_sided else beta[:, 0]
        beta[:, 2] = nu
    bad = ~np.isfinite(rss) | np.any(d <= 0, axis=1)
    rss = np.where(bad, np.inf, rss)
    return beta, rss


def _power_profile_one_sided(
    c: np.ndarray, logy: np.ndarray, w: np.ndarray, c0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted simple regression of ``ln y`` on ``-ln|c - c0|`` for each ``c0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.abs(c[None, :] - c0[:, None])
        x = -np.log(d)
        total = w.sum()
        mx = (x @ w) / total
        my = float(logy @ w) / total
        dx = x - mx[:, None]
        dy = logy - my
        sxx = (dx * dx) @ w
        nu = (dx @ (w * dy)) / sxx
        rss = float((w * dy * dy).sum()) - nu**2 * sxx
        intercept = my - nu * mx
    beta = np.stack([intercept, intercept, nu], axis=1)
    bad = ~np.isfinite(rss) | np.any(d <= 0, axis=1)
    return beta, np.where(bad, np.inf, np.maximum(rss, 0.0))


def fit_power(
    c: np.ndarray, logy: np.ndarray, w: np.ndarray, side: str = "auto"
) -> tuple[dict[str, float], float, str]:
    """``ln y = ln A - nu ln|c - c0|`` with ``c0`` profiled; returns parameters, RSS, note.

    ``side`` is ``"below"`` (``c0`` below all data), ``"above"``, ``"both"`` (``c0``
    inside the data range, one amplitude per side) or ``"auto"`` (below or above, by the
    trend of the data).
    """
    order = np.argsort(c)
    cs = c[order]
    span = float(cs[-1] - cs[0])
    if not span > 0 or np.unique(c).size < 3:
        return {}, float("nan"), "needs at least three distinct control values"
    if side == "auto":
        trend = np.corrcoef(c, logy)[0, 1] if np.std(logy) > 0 else 0.0
        side = "above" if trend > 0 else "below"
    two_sided = side == "both"
    if two_sided:
        levels = np.unique(c)
        if levels.size < 4:
            return {}, float("nan"), "a two-sided fit needs at least four control values"
        candidates = np.concatenate(
            [np.linspace(lo, hi, 22)[1:-1] for lo, hi in itertools.pairwise(levels)]
        )
        # keep at least two points on each side
        ok = np.array([(np.sum(c < x) >= 2) and (np.sum(c > x) >= 2) for x in candidates])
        candidates = candidates[ok]
        if candidates.size == 0:
            return {}, float("nan"), "too few points on each side of the peak"
        to_c0 = lambda s: float(s)  # noqa: E731
        grid = candidates
    else:
        edge = cs[0] if side == "below" else cs[-1]
        sign = -1.0 if side == "below" else 1.0
        grid = np.log(np.geomspace(1e-4 * span, 1e3 * span, 120))
        to_c0 = lambda s: float(edge + sign * np.exp(s))  # noqa: E731
    rss = _power_profile(c, logy, w, np.array([to_c0(s) for s in grid]), two_sided)[1]
    best = int(np.argmin(rss))
    if not np.isfinite(rss[best]):
        return {}, float("nan"), "no finite fit"
    s_best = float(grid[best])
    zoom = grid
    for _ in range(3):  # zoom in on the best grid cell
        k = int(np.argmin(np.abs(zoom - s_best)))
        lo, hi = zoom[max(k - 1, 0)], zoom[min(k + 1, zoom.size - 1)]
        if not hi > lo:
            break
        zoom = np.linspace(lo, hi, 15)
        values = _power_profile(c, logy, w, np.array([to_c0(x) for x in zoom]), two_sided)[1]
        if np.min(values) <= rss[best]:
            s_best = float(zoom[int(np.argmin(values))])
    c0 = to_c0(s_best)
    betas, values = _power_profile(c, logy, w, c0, two_sided)
    beta, value = betas[0], float(values[0])
    note = ""
    beta = np.array([_safe_exp(beta[0]), _safe_exp(beta[1]), beta[2]])
    if not two_sided and best >= grid.size - 2:
        note = "no divergence near the data (c0 runs off to the edge of the search range)"
    if two_sided:
        params = {
            "A_below": float(beta[0]),
            "A_above": float(beta[1]),
            "nu": float(beta[2]),
            "c0": c0,
        }
    else:
        params = {"A": float(beta[0]), "nu": float(beta[2]), "c0": c0}
    return params, value, note


def _safe_exp(x: float) -> float:
    return math.exp(x) if x < 700 else float("inf")


def _power_profile_intervals(
    c: np.ndarray,
    logy: np.ndarray,
    w: np.ndarray,
    params: dict[str, float],
    side: str,
    confidence: float,
    error_scale: float | None = None,
) -> tuple[float, float, float, float]:
    """Profile-likelihood (Wilks) intervals of ``c0`` and ``nu`` of a one-sided power law.

    With Gaussian errors of ``ln y`` the profile deviance is ``n ln(RSS / RSS_min)``; the
    interval holds the values where it stays below the chi-square quantile with one degree
    of freedom (Venzon & Moolgavkar 1988, Appl. Stat. 37:87). With known errors
    (``error_scale`` = mean of ``1/se^2`` behind the normalised weights ``w``) the deviance
    is the rise of the chi-square, divided by the reduced chi-square when the fit is worse
    than the errors allow. A bound that runs into the edge of the search range (no
    divergence excluded on that side) is NaN.
    """
    from scipy.stats import chi2

    limit = chi2.ppf(confidence, 1)
    n = c.size
    span = float(np.ptp(c))
    edge = float(c.min()) if side == "below" else float(c.max())
    sign = -1.0 if side == "below" else 1.0
    distance = np.geomspace(1e-5 * span, 1e3 * span, 1500)
    c0_grid = edge + sign * distance
    _, rss = _power_profile(c, logy, w, c0_grid, False)
    best = float(np.min(rss))
    if not (np.isfinite(best) and best > 0):
        return (float("nan"),) * 4

    def deviance(values: np.ndarray) -> np.ndarray:
        if error_scale is None:
            return n * np.log(values / best)
        inflation = max(1.0, best * error_scale / max(n - 3, 1))
        return (values - best) * error_scale / inflation

    accepted = deviance(rss) <= limit
    c0_lo = c0_hi = float("nan")
    if accepted.any():
        idx = np.flatnonzero(accepted)
        near, far = idx.min(), idx.max()  # distance grid is increasing
        near_value = float(c0_grid[near]) if near > 0 else float(edge)
        far_value = float(c0_grid[far]) if far < distance.size - 1 else float("nan")
        c0_lo, c0_hi = (far_value, near_value) if side == "below" else (near_value, far_value)
    # nu: minimise the RSS over c0 for each fixed nu (coarse grid, then refine each edge)
    with np.errstate(divide="ignore", invalid="ignore"):
        relevant = c0_grid[deviance(rss) <= limit + 20]
        relevant = relevant[:: max(1, relevant.size // 300)]
        x = -np.log(np.abs(c[None, :] - relevant[:, None]))  # (J, n)
    wn = w / w.sum()

    def nu_profile(nus: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            resid = logy[None, None, :] - nus[:, None, None] * x[None, :, :]  # (K, J, n)
            centred = resid - (resid * wn).sum(axis=-1, keepdims=True)
            return np.nanmin((w * centred**2).sum(axis=-1), axis=1)

    nu_hat = params["nu"]
    half = 5 * max(abs(nu_hat), 0.5)
    nus = np.linspace(nu_hat - half, nu_hat + half, 201)
    ok = deviance(nu_profile(nus)) <= limit
    nu_lo = nu_hi = float("nan")
    if ok.any():
        idx = np.flatnonzero(ok)
        if idx.min() > 0:
            fine = np.linspace(nus[idx.min() - 1], nus[idx.min()], 41)
            nu_lo = float(fine[np.argmax(deviance(nu_profile(fine)) <= limit)])
        if idx.max() < nus.size - 1:
            fine = np.linspace(nus[idx.max()], nus[idx.max() + 1], 41)
            inside = np.flatnonzero(deviance(nu_profile(fine)) <= limit)
            nu_hi = float(fine[inside.max()]) if inside.size else float(nus[idx.max()])
    return c0_lo, c0_hi, nu_lo, nu_hi


def _aicc(rss: float, n: int, k: int) -> float:
    """Corrected AIC of a Gaussian model with ``k`` parameters plus the noise variance."""
    kk = k + 1
    if not (np.isfinite(rss) and n - kk - 1 > 0):
        return float("nan")
    rss = max(rss, 1e-300 * n)
    return n * math.log(rss / n) + 2 * kk + 2 * kk * (kk + 1) / (n - kk - 1)


def _divergence(law: str, p: dict[str, float]) -> float:
    if law == "power":
        return p["c0"] if p.get("nu", 0) > 0 else float("nan")
    if law == "arrhenius":
        return 0.0 if p.get("dF", 0) > 0 else float("nan")
    if law == "logarithmic":
        return 0.0 if p.get("B", 0) < 0 else float("nan")
    return float("nan")


def _budget_control(law: str, p: dict[str, float], budget: float, c: np.ndarray) -> float:
    """Control value at which the law reaches ``budget`` on the side of the data."""
    if not (np.isfinite(budget) and budget > 0) or not p:
        return float("nan")
    with np.errstate(all="ignore"):
        if law == "arrhenius":
            if p["dF"] > 0 and budget > p["A"]:
                return float(p["dF"] / math.log(budget / p["A"]))
            return float("nan")
        if law == "logarithmic":
            if p["B"] == 0:
                return float("nan")
            return float(np.exp((budget - p["A"]) / p["B"]))
        if law == "power" and p["nu"] > 0:
            c0 = p["c0"]
            if "A_above" in p:
                amp = p["A_above"] if np.median(c) >= c0 else p["A_below"]
            else:
                amp = p["A"]
            distance = (amp / budget) ** (1.0 / p["nu"])
            side = 1.0 if np.median(c) >= c0 else -1.0
            return float(c0 + side * distance)
    return float("nan")


def _fit_one(
    law: str, c: np.ndarray, logy: np.ndarray, w: np.ndarray, side: str
) -> tuple[dict[str, float], float, str]:
    if law == "arrhenius":
        p, rss = fit_arrhenius(c, logy, w)
        return p, rss, "" if p else "needs positive control values (a temperature)"
    if law == "logarithmic":
        p, rss = fit_logarithmic(c, logy, w)
        return p, rss, "" if p else "needs positive control values and a positive A + B ln c"
    return fit_power(c, logy, w, side)


def _fit_failed(law: str, c: np.ndarray, note: str) -> bool:
    """Whether a law that returned no parameters failed on data it applies to."""
    if law == "logarithmic":
        return bool(np.all(c > 0))
    if law == "power":
        return note == "no finite fit"
    return False


def compare_laws(
    controls: Sequence[float] | np.ndarray,
    times: Sequence[float] | np.ndarray,
    *,
    log_errors: Sequence[float] | np.ndarray | None = None,
    laws: Sequence[str] = LAWS,
    power_side: str = "auto",
    budget: float | None = None,
    n_bootstrap: int = 200,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
) -> LawComparison:
    """Fit time-scale laws to ``(control, time)`` pairs and rank them by AICc.

    Parameters
    ----------
    controls, times
        One pair per run (replicates at one control are welcome) or per control value.
    log_errors
        Standard errors of ``ln time`` (e.g. from confidence intervals); they weight the
        fit and drive a parametric bootstrap. Without them the bootstrap resamples runs
        within each control value (or residuals when there are no replicates).
    laws
        Which of ``"arrhenius"``, ``"power"``, ``"logarithmic"`` to fit.
    power_side
        Where the power law's ``c0`` may lie: ``"auto"``, ``"below"``, ``"above"``, ``"both"``.
    budget
        A time budget: each law reports the control value at which it reaches it.
    n_bootstrap, seed, confidence
        Bootstrap replicates, seed and interval level.

    Returns
    -------
    LawComparison
        Fits sorted by AICc with Akaike weights, intervals and a verdict sentence.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    c = np.asarray(controls, dtype=float)
    y = np.asarray(times, dtype=float)
    se = None if log_errors is None else np.asarray(log_errors, dtype=float)
    keep = np.isfinite(c) & np.isfinite(y) & (y > 0)
    if se is not None:
        keep &= np.isfinite(se) & (se > 0)
        se = se[keep]
    c, y = c[keep], y[keep]
    n = c.size
    budget_value = float(budget) if budget is not None else float("nan")
    unknown = [law for law in laws if law not in LAWS]
    if unknown:
        raise ValueError(f"unknown laws {unknown}; choose from {LAWS}")
    if n < 4 or np.unique(c).size < 3:
        reason = (
            f"{n} usable points at {np.unique(c).size} control values "
            f"(need 4 points at 3 or more values)"
        )
        warnings.warn(f"no time-scale law fitted: {reason}", FewSamplesWarning, 2)
        return LawComparison((), budget_value, f"no law fitted: {reason}", n, reason)
    logy = np.log(y)
    w = np.ones(n) if se is None else 1.0 / se**2
    error_scale = None if se is None else float(w.mean())
    w = w / w.mean()
    side = power_side
    if side == "auto":
        trend = np.corrcoef(c, logy)[0, 1] if np.std(logy) > 0 else 0.0
        side = "above" if trend > 0 else "below"

    fits: list[LawFit] = []
    points: dict[str, dict[str, float]] = {}
    for law in laws:
        p, rss, note = _fit_one(law, c, logy, w, side)
        k = N_PARAMETERS[law] + (1 if law == "power" and side == "both" else 0)
        aicc = _aicc(rss, n, k) if p else float("nan")
        if p and not np.isfinite(aicc):
            note = note or f"AICc undefined: too few points ({n}) for {k} parameters"
            if len(laws) > 1:  # a single law needs no AICc to be chosen
                warnings.warn(f"{law} law: {note}", FewSamplesWarning, 2)
        if not p and _fit_failed(law, c, note):
            warnings.warn(f"the {law} law could not be fitted ({note})", FitWarning, 2)
        points[law] = p
        fits.append(
            LawFit(
                law=law,
                formula=FORMULAS[law]
                if not (law == "power" and side == "both")
                else "y = A± |c - c0|^(-nu)",
                parameters={k: Estimate(v) for k, v in p.items()},
                aicc=aicc,
                rss=rss,
                n_points=n,
                divergence=estimate(_divergence(law, p)) if p else None,
                budget_control=estimate(_budget_control(law, p, budget_value, c)) if p else None,
                note=note,
            )
        )

    resampler = _resampler(c, logy, se, rng)
    alpha = 1 - confidence
    out: list[LawFit] = []
    for fit in fits:
        if not fit.parameters:
            out.append(fit)
            continue
        point = points[fit.law]
        reps: dict[str, list[float]] = {k: [] for k in point}
        divs, buds = [], []
        predicted = np.log(np.maximum(_predict(fit.law, point, c), 1e-300))
        for _ in range(n_bootstrap if n_bootstrap >= 2 else 0):
            cb, lb, wb = resampler(predicted)
            p, _, _ = _fit_one(fit.law, cb, lb, wb, side)
            if not p:
                continue
            for key in reps:
                reps[key].append(p.get(key, np.nan))
            divs.append(_divergence(fit.law, p))
            buds.append(_budget_control(fit.law, p, budget_value, cb))

        def interval(values: list[float]) -> tuple[float, float]:
            arr = np.asarray(values, dtype=float)
            arr = arr[np.isfinite(arr)]
            if arr.size < max(2, n_bootstrap // 4):
                return float("nan"), float("nan")
            lo, hi = np.percentile(arr, [100 * alpha / 2, 100 * (1 - alpha / 2)])
            return float(lo), float(hi)

        lows, highs = {}, {}
        for key, values in reps.items():
            lows[key], highs[key] = interval(values)
        d_lo, d_hi = interval(divs)
        b_lo, b_hi = interval(buds)
        if fit.law == "power" and side != "both":
            profiled = _power_profile_intervals(c, logy, w, point, side, confidence, error_scale)
            lows["c0"], highs["c0"], lows["nu"], highs["nu"] = profiled
            if point["nu"] > 0:
                d_lo, d_hi = lows["c0"], highs["c0"]
        parameters = {}
        for key, value in point.items():
            found = estimate(value, lows[key], highs[key])
            parameters[key] = found if found is not None else Estimate(None)
        out.append(
            replace(
                fit,
                parameters=parameters,
                divergence=estimate(value_json(fit.divergence), d_lo, d_hi),
                budget_control=estimate(value_json(fit.budget_control), b_lo, b_hi),
            )
        )

    finite = [f for f in out if f.fitted and math.isfinite(f.aicc)]
    if finite:
        best_aicc = min(f.aicc for f in finite)
        raw = {f.law: math.exp(-0.5 * (f.aicc - best_aicc)) for f in finite}
        total = sum(raw.values())
        out = [replace(f, weight=raw[f.law] / total) if f.law in raw else f for f in out]
    out.sort(key=lambda f: (not f.fitted, f.aicc if math.isfinite(f.aicc) else math.inf))
    verdict = _verdict(out)
    return LawComparison(tuple(out), budget_value, verdict, n)


def _resampler(
    c: np.ndarray, logy: np.ndarray, se: np.ndarray | None, rng: np.random.Generator
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A function drawing one bootstrap data set given a law's fitted ``ln y``."""
    n = c.size
    if se is not None:
        w = 1.0 / se**2
        w = w / w.mean()
        return lambda _pred: (c, logy + se * rng.standard_normal(n), w)
    levels, inverse = np.unique(c, return_inverse=True)
    members = [np.flatnonzero(inverse == i) for i in range(levels.size)]
    replicated = all(m.size >= 2 for m in members)
    ones = np.ones(n)
    if replicated:

        def stratified(_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            idx = np.concatenate([rng.choice(m, size=m.size, replace=True) for m in members])
            return c[idx], logy[idx], ones

        return stratified

    def residual(pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        resid = logy - pred
        return c, pred + rng.choice(resid, size=n, replace=True), ones

    return residual


def _verdict(fits: list[LawFit]) -> str:
    finite = [f for f in fits if f.fitted]
    if not finite:
        return "no law could be fitted"
    best = finite[0]
    if len(finite) == 1:
        return f"only the {best.law} law could be fitted"
    if not (math.isfinite(best.aicc) and math.isfinite(finite[1].aicc)):
        return f"too few points ({best.n_points}) to compare the laws by AICc"
    second = finite[1]
    gap = second.aicc - best.aicc
    if gap < 2:
        return (
            f"{best.law} and {second.law} laws fit about equally well (ΔAICc = {gap:.1f}); "
            f"the data do not decide between them"
        )
    strength = "clearly" if gap > 10 else "moderately"
    return f"the {best.law} law fits best, {strength} (ΔAICc = {gap:.1f} to {second.law})"
