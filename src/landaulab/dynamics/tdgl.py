"""Polynomial (time-dependent Ginzburg–Landau) fit of the drift.

Model A of Hohenberg & Halperin (1977, Rev. Mod. Phys. 49:435) in zero dimensions reads
``dm/dt = -Gamma dF/dm + noise``. With a Landau polynomial this is

    dm/dt = -(c_1 m + c_3 m^3 + ...) + sqrt(2 D) xi(t),

so the drift potential is ``V(m) = sum_p c_p m^(p+1) / (p+1)`` and, with additive noise
``D``, the stationary density is ``exp(-V/D)``: the *static* Landau free energy per unit
temperature is ``V/D``, which makes dynamical and ensemble (static) Landau coefficients
directly comparable. The coefficients are fitted by weighted least squares on the raw
increments, ``dm_i = f(m_i) dt_i + eps_i`` with ``Var eps_i ∝ dt_i`` (the maximum-
likelihood estimator of a diffusion drift, e.g. Sørensen 2004, Int. Stat. Rev. 72:337),
with bootstrap-over-runs standard errors and intervals.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from landaulab.dynamics._bootstrap import expanded_levels, resampling_weights
from landaulab.dynamics.estimates import ci_list, estimate, from_json, number, value_json
from landaulab.dynamics.trajectories import Increments, Trajectories
from landaulab.errors import FewSamplesWarning, FitWarning
from landaulab.estimate import Estimate, finite


@dataclass(frozen=True, eq=False)
class TDGLFit:
    """Fitted drift ``dm/dt = -(sum_p c_p m^p)``.

    Attributes
    ----------
    powers
        Powers ``p`` of m in the drift polynomial.
    coefficients
        ``c_p`` with expanded percentile intervals of a bootstrap over runs (analytic
        least-squares intervals when there are too few runs to resample); ``None`` for a
        coefficient that could not be estimated.
    standard_errors
        Bootstrap (or least-squares) standard errors of the coefficients.
    noise
        Residual diffusion ``D`` (mean of ``(dm - f dt)^2 / (2 dt)``).
    n_increments, n_units, resampling
        Data behind the fit.
    reason
        Why the fit could not be made (``None`` when it was).
    centre
        The drift is expanded in powers of ``m - centre``.
    """

    powers: tuple[int, ...]
    coefficients: tuple[Estimate | None, ...]
    standard_errors: np.ndarray
    noise: float
    n_increments: int
    n_units: int
    resampling: str
    confidence: float
    reason: str | None = None
    centre: float = 0.0

    @property
    def fitted(self) -> bool:
        """Whether coefficients were estimated."""
        return self.reason is None

    @property
    def values(self) -> np.ndarray:
        """The coefficients ``c_p`` as an array (NaN where unknown)."""
        return np.array([number(value_json(c)) for c in self.coefficients], dtype=float)

    def drift(self, m: np.ndarray | float) -> np.ndarray:
        """The fitted drift ``-(sum_p c_p m^p)``."""
        m = np.asarray(m, dtype=float) - self.centre
        return -sum(c * m**p for c, p in zip(self.values, self.powers, strict=True))

    def potential(self, m: np.ndarray | float) -> np.ndarray:
        """The drift potential ``V(m) = sum_p c_p m^(p+1) / (p+1)``."""
        m = np.asarray(m, dtype=float) - self.centre
        return sum(
            c * m ** (p + 1) / (p + 1) for c, p in zip(self.values, self.powers, strict=True)
        )

    def form(self) -> str:
        """The fitted equation as text."""
        x = "m" if self.centre == 0 else f"(m - {self.centre:.4g})"
        terms = " + ".join(
            "c0" if p == 0 else f"c{p} {x}" if p == 1 else f"c{p} {x}^{p}" for p in self.powers
        )
        return f"dm/dt = -({terms})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary: drift, potential and static-Landau coefficients."""
        noise_ok = np.isfinite(self.noise) and self.noise > 0
        values = self.values
        return {
            "form": self.form(),
            "coefficients": [
                {
                    "power": p,
                    "value": value_json(c),
                    "se": finite(se),
                    "ci": ci_list(c),
                }
                for p, c, se in zip(
                    self.powers, self.coefficients, self.standard_errors, strict=True
                )
            ],
            "potential_coefficients": [
                {"power": p + 1, "value": finite(c / (p + 1))}
                for p, c in zip(self.powers, values, strict=True)
            ],
            "static_landau_coefficients": [
                {
                    "power": p + 1,
                    "value": finite(c / ((p + 1) * self.noise)) if noise_ok else None,
                }
                for p, c in zip(self.powers, values, strict=True)
            ],
            "noise": finite(self.noise),
            "n_increments": self.n_increments,
            "n_units": self.n_units,
            "resampling": self.resampling,
            "confidence": self.confidence,
            "centre": self.centre,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TDGLFit:
        """The inverse of :meth:`to_dict`."""
        rows = [c for c in data.get("coefficients") or () if isinstance(c, Mapping)]
        return cls(
            powers=tuple(int(c["power"]) for c in rows),
            coefficients=tuple(from_json(c.get("value"), c.get("ci")) for c in rows),
            standard_errors=np.array([number(c.get("se")) for c in rows], dtype=float),
            noise=number(data.get("noise")),
            n_increments=int(data.get("n_increments") or 0),
            n_units=int(data.get("n_units") or 0),
            resampling=str(data.get("resampling", "none")),
            confidence=float(data.get("confidence") or 0.95),
            reason=data.get("reason"),
            centre=float(data.get("centre") or 0.0),
        )

    def __str__(self) -> str:
        if not self.fitted:
            return f"TDGLFit: not fitted ({self.reason})"
        terms = ", ".join(
            f"c{p} = {c:.4g} ± {se:.2g}"
            for p, c, se in zip(self.powers, self.values, self.standard_errors, strict=True)
        )
        return f"TDGLFit {self.form()}: {terms}; noise D = {self.noise:.4g}"


def _coefficients(
    values: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[Estimate | None, ...]:
    return tuple(estimate(v, lo, hi) for v, lo, hi in zip(values, low, high, strict=True))


def fit_tdgl(
    trajectories: Trajectories,
    *,
    powers: Sequence[int] = (1, 3),
    n_bootstrap: int = 200,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
    centre: float = 0.0,
    window: tuple[float, float] | None = None,
) -> TDGLFit:
    """Fit ``dm/dt = -(sum_p c_p m^p)`` to the increments of the trajectories.

    Parameters
    ----------
    trajectories
        Validated trajectories.
    powers
        Powers of m in the drift; ``(1, 3)`` is the symmetric Landau form
        ``-(a m + b m^3)``, ``(0, 1, 2, 3)`` a general quartic potential.
    n_bootstrap
        Bootstrap replicates over runs (blocks of a lone run).
    seed
        Seed or generator of the bootstrap.
    confidence
        Level of the percentile intervals.
    centre
        Expand the drift in powers of ``m - centre`` (e.g. about an attractor).
    window
        Use only increments starting at states inside ``[low, high]``.

    Returns
    -------
    TDGLFit
        Coefficients with uncertainties, or ``reason`` when the data cannot support it.
    """
    powers = tuple(sorted({int(p) for p in powers}))
    k = len(powers)
    nan = np.full(k, np.nan)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    inc = trajectories.increments(1)
    all_units, scheme = trajectories.resampling_units(inc)
    if window is not None:
        inside = (inc.state >= window[0]) & (inc.state <= window[1])
        all_units = all_units[inside]
        inc = Increments(
            *(a[inside] for a in (inc.state, inc.change, inc.duration, inc.run, inc.position))
        )

    def failed(reason: str, n_units: int = 0, scheme: str = "none") -> TDGLFit:
        return TDGLFit(
            powers, (None,) * k, nan, float("nan"), inc.size, n_units, scheme, confidence, reason
        )

    if k == 0 or min(powers) < 0:
        return failed("give non-negative powers")
    if inc.size < 3 * k + 2:
        return failed(f"only {inc.size} increments for {k} coefficients")
    shifted = inc.state - centre
    scale = float(np.sqrt(np.mean(shifted**2)))
    if not (np.isfinite(scale) and scale > 0) or np.unique(inc.state).size < k:
        return failed("the order parameter takes too few distinct values")
    features = np.stack([(shifted / scale) ** p for p in powers], axis=1)
    unit_ids, units = np.unique(all_units, return_inverse=True)
    n_units = unit_ids.size
    dt = inc.duration
    outer = (features[:, :, None] * features[:, None, :] * dt[:, None, None]).reshape(
        inc.size, k * k
    )
    gram = np.zeros((n_units, k * k))
    rhs = np.zeros((n_units, k))
    square = np.bincount(units, weights=inc.change**2 / dt, minlength=n_units)
    for j in range(k * k):
        gram[:, j] = np.bincount(units, weights=outer[:, j], minlength=n_units)
    for j in range(k):
        rhs[:, j] = np.bincount(units, weights=features[:, j] * inc.change, minlength=n_units)
    counts = np.bincount(units, minlength=n_units).astype(float)

    def solve(g: np.ndarray, r: np.ndarray) -> np.ndarray:
        g = g.reshape(-1, k, k)
        out = np.full((g.shape[0], k), np.nan)
        for i in range(g.shape[0]):
            try:
                if np.linalg.cond(g[i]) < 1e12:
                    out[i] = np.linalg.solve(g[i], r[i])
            except np.linalg.LinAlgError:
                continue
        return out

    beta = solve(gram.sum(0)[None], rhs.sum(0)[None])[0]
    if not np.all(np.isfinite(beta)):
        warnings.warn(
            f"TDGL fit with powers {powers} failed: the powers are collinear over the "
            f"observed range of m",
            FitWarning,
            2,
        )
        return failed("the powers are collinear over the observed range of m", n_units, scheme)
    g_total = gram.sum(0).reshape(k, k)
    residual = square.sum() - 2 * beta @ rhs.sum(0) + beta @ g_total @ beta
    noise = max(float(residual), 0.0) / (2 * counts.sum())
    unscale = np.array([scale**-p for p in powers])
    coefficients = -beta * unscale
    alpha = 1 - confidence
    if n_units >= 2 and n_bootstrap >= 2:
        weights = resampling_weights(rng, n_bootstrap, n_units)
        reps = -solve(weights @ gram, weights @ rhs) * unscale
        reps = reps[np.all(np.isfinite(reps), axis=1)]
    else:
        reps = np.zeros((0, k))
    if reps.shape[0] >= 2:
        se = reps.std(axis=0, ddof=1)
        lo, hi = np.quantile(reps, expanded_levels(alpha, n_units), axis=0)
    else:
        from scipy.stats import norm

        cov = 2 * noise * np.linalg.inv(g_total)
        se = np.sqrt(np.maximum(np.diag(cov), 0)) * np.abs(unscale)
        z = norm.ppf(1 - alpha / 2)
        lo, hi = coefficients - z * se, coefficients + z * se
        scheme = "least-squares covariance (too few runs to resample)"
        if n_bootstrap >= 2:
            warnings.warn(
                f"TDGL coefficients rest on {n_units} resampling unit(s): least-squares "
                f"intervals instead of a bootstrap",
                FewSamplesWarning,
                2,
            )
    return TDGLFit(
        powers=powers,
        coefficients=_coefficients(coefficients, lo, hi),
        standard_errors=se,
        noise=noise,
        n_increments=inc.size,
        n_units=n_units,
        resampling=scheme,
        confidence=confidence,
        centre=float(centre),
    )
