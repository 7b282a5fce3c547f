"""Relaxation time of the order parameter and its divergence near a critical point.

The relaxation time ``tau`` is read from the autocorrelation of late-time fluctuations:
the pooled autocorrelation ``rho(k)`` of the mean-subtracted late part of each run is
fitted with ``exp(-k dt / tau)`` over its initial decay (down to ``rho = 0.2``). Because
each run's own mean is subtracted, ``rho`` is biased low by the variance of that mean,
``v = Var(mean)/Var(m) ≈ (2 tau / L)(1 - (tau/L)(1 - exp(-L/tau)))`` for a run of
duration ``L``; the fit uses the corrected model ``(exp(-k dt/tau) - v) / (1 - v)``
(Priestley 1981, *Spectral Analysis and Time Series*, sec. 5.3; Sokal 1997, "Monte
Carlo methods in statistical mechanics", Cargèse lectures). Intervals come from a
bootstrap over runs (or contiguous blocks of a lone run).

Near a continuous transition ``tau ~ |c - c0|^(-z nu)`` (critical slowing down,
Hohenberg & Halperin 1977, Rev. Mod. Phys. 49:435); :func:`critical_slowing_down` fits
that power law, two-sided with one amplitude per side when ``tau`` peaks inside the
sampled range (mean field: ``z nu = 1``, amplitude ratio 2).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from landaulab.dynamics._bootstrap import percentile_interval
from landaulab.dynamics.estimates import (
    bounds_of,
    ci_list,
    describe,
    estimate,
    from_json,
    number,
    value_json,
    value_of,
)
from landaulab.dynamics.laws import LawComparison, compare_laws
from landaulab.dynamics.potential import EffectivePotential
from landaulab.dynamics.tdgl import fit_tdgl
from landaulab.dynamics.trajectories import Trajectories
from landaulab.errors import DataError, FewSamplesWarning
from landaulab.estimate import Estimate, finite
from landaulab.late_time import BURN_IN, check_burn_in, late_mask


def burn_in_from_late_fraction(late_fraction: float, stacklevel: int = 2) -> float:
    """``1 - late_fraction`` for the deprecated ``late_fraction`` keyword, with a
    :class:`DeprecationWarning` (a fraction outside (0, 1] is a :class:`DataError`)."""
    warnings.warn(
        "late_fraction is deprecated: give burn_in = 1 - late_fraction (the fraction of each "
        "run dropped from its start, as in analyze)",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )
    if isinstance(late_fraction, bool) or not isinstance(late_fraction, int | float):
        raise DataError(f"late_fraction must lie in (0, 1]; got {late_fraction!r}")
    if not 0 < late_fraction <= 1:
        raise DataError(f"late_fraction must lie in (0, 1]; got {late_fraction!r}")
    return 1.0 - float(late_fraction)


#: The exponential is fitted to lags where the autocorrelation is above this value.
FIT_THRESHOLD = 0.2
#: Minimum samples of a resampling unit (a run's late part or a block of it).
MIN_UNIT_SAMPLES = 16


@dataclass(frozen=True)
class RelaxationTime:
    """Relaxation time of the order parameter at one control value.

    Attributes
    ----------
    tau
        ``tau`` (units of the time column) with its bootstrap interval (``None`` when not
        estimated).
    method
        ``"autocorrelation"`` or ``"drift slope at attractor"``.
    lag1_autocorrelation
        Pooled lag-1 autocorrelation of the late-time fluctuations.
    n_units, resampling
        Bootstrap units and scheme.
    time_step
        Sampling interval of the late-time series.
    note
        Plain remark (interpolation, resolution limits).
    reason
        Why ``tau`` could not be estimated (``None`` when it was).
    """

    tau: Estimate | None
    method: str
    lag1_autocorrelation: float = float("nan")
    n_units: int = 0
    resampling: str = "none"
    time_step: float = float("nan")
    note: str = ""
    reason: str | None = None

    @property
    def value(self) -> float | None:
        """``tau`` (``None`` when not estimated)."""
        return None if self.tau is None else self.tau.value

    @property
    def low(self) -> float | None:
        """Lower bound of the interval of ``tau`` (``None`` when unknown)."""
        return None if self.tau is None else self.tau.low

    @property
    def high(self) -> float | None:
        """Upper bound of the interval of ``tau`` (``None`` when unknown)."""
        return None if self.tau is None else self.tau.high

    @property
    def estimated(self) -> bool:
        """Whether ``tau`` was estimated."""
        return self.reason is None and self.value is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "value": value_json(self.tau),
            "ci": ci_list(self.tau),
            "method": self.method,
            "lag1_autocorrelation": finite(self.lag1_autocorrelation),
            "time_step": finite(self.time_step),
            "resampling": self.resampling,
            "n_units": self.n_units,
            "note": self.note,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RelaxationTime:
        """The inverse of :meth:`to_dict`."""
        method = str(data.get("method"))
        return cls(
            tau=from_json(data.get("value"), data.get("ci"), method),
            method=method,
            lag1_autocorrelation=number(data.get("lag1_autocorrelation")),
            n_units=int(data.get("n_units") or 0),
            resampling=str(data.get("resampling", "none")),
            time_step=number(data.get("time_step")),
            note=str(data.get("note", "")),
            reason=data.get("reason"),
        )

    def __str__(self) -> str:
        if not self.estimated:
            return f"RelaxationTime: not estimable ({self.reason})"
        return f"RelaxationTime {describe(self.tau)} ({self.method})"


def _not_estimable(reason: str, method: str = "autocorrelation") -> RelaxationTime:
    return RelaxationTime(None, method, reason=reason)


def _late_series(trajectories: Trajectories, burn_in: float) -> tuple[list[np.ndarray], float, str]:
    """Late part of each run (:mod:`landaulab.late_time`) on a regular time grid; returns
    series, step and a note."""
    pieces: list[tuple[np.ndarray, np.ndarray]] = []
    steps = []
    for r in range(trajectories.n_runs):
        t, m = trajectories.run(r)
        if t.size < 2:
            continue
        keep = late_mask(t, None, burn_in)
        t, m = t[keep], m[keep]
        if t.size >= 2:
            pieces.append((t, m))
            steps.append(np.diff(t))
    if not pieces:
        return [], float("nan"), ""
    all_steps = np.concatenate(steps)
    dt = float(np.median(all_steps))
    irregular = bool(np.any(np.abs(all_steps - dt) > 1e-6 * dt))
    series = []
    for t, m in pieces:
        if irregular:
            regular = np.arange(t[0], t[-1] + 0.5 * dt, dt)
            regular = regular[regular <= t[-1] + 1e-9 * dt]
            m = np.interp(regular, t, m)
        series.append(m)
    note = (
        f"time stamps are unevenly spaced: late-time series were interpolated to a step of {dt:.4g}"
        if irregular
        else ""
    )
    return series, dt, note


def _units(series: list[np.ndarray]) -> tuple[list[np.ndarray], str]:
    """Resampling units: whole runs, or contiguous blocks when there are few runs."""
    series = [s for s in series if s.size >= MIN_UNIT_SAMPLES]
    if len(series) >= 5:
        return series, "runs"
    blocks: list[np.ndarray] = []
    per_run = max(2, int(np.ceil(10 / max(len(series), 1))))
    for s in series:
        count = max(1, min(per_run, s.size // (4 * MIN_UNIT_SAMPLES)))
        blocks.extend(np.array_split(s, count))
    return blocks, f"blocks of the late part of {len(series)} run(s)"


def _autocovariance_sums(units: list[np.ndarray], max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: sums of ``y_i y_{i+k}`` (``k = 0..max_lag``) and their pair counts."""
    sums = np.zeros((len(units), max_lag + 1))
    counts = np.zeros((len(units), max_lag + 1))
    for i, y in enumerate(units):
        y = y - y.mean()
        n = y.size
        size = 1 << int(np.ceil(np.log2(2 * n)))
        spectrum = np.fft.rfft(y, size)
        acov = np.fft.irfft(spectrum * np.conj(spectrum), size)[: min(n, max_lag + 1)]
        sums[i, : acov.size] = acov
        counts[i, : acov.size] = n - np.arange(acov.size)
    return sums, counts


def _pooled_rho(sums: np.ndarray, counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    num = weights @ sums
    den = weights @ counts
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = num / den
        return cov / cov[0]


def _mean_bias(tau: np.ndarray, lengths: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Expected ``Var(run mean) / Var(m)`` for an exponential autocorrelation, per ``tau``."""
    x = np.asarray(tau, dtype=float)[..., None] / lengths
    v = 2 * x * (1 - x * (1 - np.exp(-1 / x)))
    w = weights * lengths
    return np.sum(w * v, axis=-1) / np.sum(w)


def _fit_tau(
    rho: np.ndarray,
    dt: float,
    lengths: np.ndarray,
    weights: np.ndarray,
    around: float | None = None,
) -> float:
    """Fit ``(exp(-k dt/tau) - v(tau)) / (1 - v(tau))`` to the initial decay of ``rho``.

    ``around`` (a previous estimate) narrows the search to a factor of ``e^2`` about it.
    """
    if not (rho.size > 1 and np.isfinite(rho[1]) and rho[1] > 0):
        return float("nan")
    below = np.flatnonzero(~(rho[1:] > FIT_THRESHOLD))
    last = int(below[0]) + 1 if below.size else rho.size - 1
    last = max(last, 2) if rho.size > 2 else 1
    lags = np.arange(1, min(last, rho.size - 1) + 1)
    target = rho[lags]
    unique, inverse = np.unique(lengths, return_inverse=True)
    pooled = np.bincount(inverse, weights=weights, minlength=unique.size)
    longest = float(unique.max())

    def loss(log_tau: np.ndarray) -> np.ndarray:
        tau = np.exp(np.atleast_1d(log_tau))
        v = np.minimum(_mean_bias(tau, unique, pooled), 0.9)[:, None]
        model = (np.exp(-lags[None, :] * dt / tau[:, None]) - v) / (1 - v)
        return np.sum((model - target[None, :]) ** 2, axis=1)

    if around is not None and np.isfinite(around) and around > 0:
        grid = np.linspace(np.log(around) - 2.0, np.log(around) + 2.0, 25)
    else:
        grid = np.linspace(np.log(0.05 * dt), np.log(2.0 * longest), 60)
    for _ in range(3):  # zoom in on the best grid cell
        values = loss(grid)
        best = int(np.argmin(values))
        lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
        grid = np.linspace(lo, hi, 15)
    tau = float(np.exp(grid[int(np.argmin(loss(grid)))]))
    return tau if tau < longest else float("nan")


def relaxation_time(
    trajectories: Trajectories,
    *,
    burn_in: float = BURN_IN,
    n_bootstrap: int = 200,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
    late_fraction: float | None = None,
) -> RelaxationTime:
    """Relaxation time from the autocorrelation of late-time fluctuations.

    Parameters
    ----------
    trajectories
        Validated trajectories at one control value.
    burn_in
        Fraction of each run's time range dropped from its start; the rest is treated as
        stationary (see :mod:`landaulab.late_time`).
    n_bootstrap, seed, confidence
        Bootstrap over runs (blocks of a lone run), its seed and the interval level.
    late_fraction
        Deprecated: the final fraction of each run, ``1 - burn_in``.

    Returns
    -------
    RelaxationTime
        ``tau`` with an interval, or a ``reason`` saying why it cannot be estimated.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if late_fraction is not None:
        burn_in = burn_in_from_late_fraction(late_fraction, stacklevel=3)
    try:
        burn_in = check_burn_in(burn_in)
    except DataError as exc:
        return _not_estimable(str(exc))
    series, dt, note = _late_series(trajectories, burn_in)
    units, scheme = _units(series)
    if len(units) < 1 or not np.isfinite(dt):
        return _not_estimable(
            f"no run has {MIN_UNIT_SAMPLES} or more late-time samples; record longer runs"
        )
    spread = np.array([np.std(u) for u in units])
    if not np.any(spread > 0):
        return _not_estimable("the late-time order parameter does not fluctuate")
    lengths = np.array([u.size * dt for u in units])
    max_lag = int(min(max(u.size for u in units) - 1, 4096))
    sums, counts = _autocovariance_sums(units, max_lag)
    ones = np.ones(len(units))
    rho = _pooled_rho(sums, counts, ones)
    lag1 = float(rho[1]) if rho.size > 1 else float("nan")
    tau = _fit_tau(rho, dt, lengths, ones)
    if not np.isfinite(tau):
        reason = (
            "the late-time autocorrelation does not decay within the runs (runs too short "
            "or still drifting)"
            if np.isfinite(lag1) and lag1 > 0
            else "fluctuations are uncorrelated from one sample to the next (tau below the "
            "sampling interval)"
        )
        return RelaxationTime(None, "autocorrelation", lag1, len(units), scheme, dt, note, reason)
    if tau < dt:
        note = (note + "; " if note else "") + "tau is below the sampling interval (coarse)"
    low = high = float("nan")
    if len(units) < 2 and n_bootstrap >= 2:
        warnings.warn(
            f"relaxation time rests on {len(units)} resampling unit: no interval",
            FewSamplesWarning,
            2,
        )
    if len(units) >= 2 and n_bootstrap >= 2:
        draws = rng.integers(0, len(units), size=(n_bootstrap, len(units)))
        reps = []
        for row in draws:
            weights = np.bincount(row, minlength=len(units)).astype(float)
            reps.append(
                _fit_tau(_pooled_rho(sums, counts, weights), dt, lengths, weights, around=tau)
            )
        reps_arr = np.asarray(reps)
        reps_arr = reps_arr[np.isfinite(reps_arr)]
        if reps_arr.size >= 2:
            alpha = 1 - confidence
            low, high = percentile_interval(reps_arr, alpha, len(units))
    return RelaxationTime(
        tau=estimate(tau, low, high, "autocorrelation"),
        method="autocorrelation",
        lag1_autocorrelation=lag1,
        n_units=len(units),
        resampling=scheme,
        time_step=dt,
        note=note,
    )


@dataclass(frozen=True)
class SlowingDown:
    """Critical slowing down: ``tau ~ |c - c0|^(-z nu)``.

    Attributes
    ----------
    critical_point
        ``c0`` with its interval (``None`` when not fitted).
    exponent
        ``z nu`` with its interval (``None`` when not fitted).
    side
        ``"both"`` (peak inside the data), ``"below"`` or ``"above"`` (``c0`` beyond the data).
    comparison
        The full power-law fit (and alternatives).
    reason
        Why the fit was not made (``None`` when it was).
    """

    critical_point: Estimate | None
    exponent: Estimate | None
    side: str
    n_points: int
    comparison: LawComparison | None = None
    reason: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "note": self.note,
            "critical_point": value_json(self.critical_point),
            "critical_point_ci": ci_list(self.critical_point),
            "exponent_z_nu": value_json(self.exponent),
            "exponent_ci": ci_list(self.exponent),
            "side": self.side,
            "n_points": self.n_points,
            "reason": self.reason,
            "comparison": self.comparison.to_dict() if self.comparison is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlowingDown:
        """The inverse of :meth:`to_dict`."""
        comparison = data.get("comparison")
        return cls(
            critical_point=from_json(data.get("critical_point"), data.get("critical_point_ci")),
            exponent=from_json(data.get("exponent_z_nu"), data.get("exponent_ci")),
            side=str(data.get("side")),
            n_points=int(data.get("n_points") or 0),
            comparison=LawComparison.from_dict(comparison) if comparison is not None else None,
            reason=data.get("reason"),
            note=str(data.get("note", "")),
        )

    def __str__(self) -> str:
        if self.reason:
            return f"SlowingDown: not fitted ({self.reason})"
        return (
            f"SlowingDown: tau ~ |c - c0|^(-z nu), c0 = "
            f"{describe(self.critical_point)}, z nu = {describe(self.exponent)}"
        )


def critical_slowing_down(
    controls: Sequence[float] | np.ndarray,
    taus: Sequence[float] | np.ndarray,
    lows: Sequence[float] | np.ndarray,
    highs: Sequence[float] | np.ndarray,
    *,
    n_bootstrap: int = 200,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
) -> SlowingDown:
    """Fit ``tau = A |c - c0|^(-z nu)`` to relaxation times measured at several controls.

    Parameters
    ----------
    controls, taus, lows, highs
        Control values, relaxation times and their interval bounds (the interval widths,
        in log space, weight the fit and drive a parametric bootstrap).
    n_bootstrap, seed, confidence
        Bootstrap replicates, seed and interval level.
    """
    c = np.asarray(controls, dtype=float)
    tau = np.asarray(taus, dtype=float)
    lo = np.asarray(lows, dtype=float)
    hi = np.asarray(highs, dtype=float)
    ok = np.isfinite(c) & np.isfinite(tau) & (tau > 0)
    if ok.sum() < 4:
        warnings.warn(
            f"critical slowing down not fitted: relaxation times at {int(ok.sum())} control "
            f"values (need 4 or more)",
            FewSamplesWarning,
            2,
        )
        return SlowingDown(
            None, None, "none", int(ok.sum()),
            reason=f"relaxation times at {int(ok.sum())} control values (need 4 or more)",
        )  # fmt: skip
    c, tau, lo, hi = c[ok], tau[ok], lo[ok], hi[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_se = (np.log(hi) - np.log(lo)) / (2 * 1.959964)
    fallback = np.nanmedian(log_se) if np.isfinite(log_se).any() else 0.1
    log_se = np.where(np.isfinite(log_se) & (log_se > 0), log_se, fallback if fallback > 0 else 0.1)
    order = np.argsort(c)
    c, tau, log_se = c[order], tau[order], log_se[order]
    peak = int(np.argmax(tau))
    if 2 <= peak <= c.size - 3 and c.size >= 5:
        side = "both"
    else:
        # keep the longer side of the peak (the peak included): c0 lies beyond the peak
        keep = slice(peak, None) if peak < c.size / 2 else slice(0, peak + 1)
        c, tau, log_se = c[keep], tau[keep], log_se[keep]
        side = "below" if keep.start == peak else "above"
        if c.size < 4:
            return SlowingDown(
                None, None, side, int(c.size),
                reason=f"only {c.size} relaxation times on the side of the peak (need 4)",
            )  # fmt: skip
    comparison = compare_laws(
        c, tau, log_errors=log_se, laws=("power",), power_side=side,
        n_bootstrap=n_bootstrap, seed=seed, confidence=confidence,
    )  # fmt: skip
    fit = comparison.best
    if fit is None:
        reason = comparison.reason or (comparison.fits[0].note if comparison.fits else "no fit")
        return SlowingDown(None, None, side, c.size, comparison, reason)
    if fit.note.startswith("no divergence"):
        return SlowingDown(None, None, side, c.size, comparison, fit.note)
    return SlowingDown(
        critical_point=fit.parameters["c0"],
        exponent=fit.parameters["nu"],
        side=side,
        n_points=c.size,
        comparison=comparison,
        note=fit.note,
    )


def relaxation_from_drift(
    trajectories: Trajectories,
    potential: EffectivePotential,
    *,
    n_bootstrap: int = 200,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
) -> RelaxationTime:
    """Linear relaxation time ``-1 / D1'(m*)`` at the best-sampled attractor.

    ``D1'(m*)`` is the linear coefficient of a cubic polynomial fitted to the increments
    that start in the attractor's basin, within the central 90% of the states there
    (:func:`~landaulab.dynamics.tdgl.fit_tdgl` about ``m*``); the interval comes from a
    bootstrap over runs. This is the time scale of the return after a small perturbation:
    the relaxation time of a deterministic flow, and for an Ornstein–Uhlenbeck process the
    autocorrelation time.
    """
    method = "drift slope at attractor"
    if not potential.attractors:
        return _not_estimable("no attractor was found", method)
    inc = trajectories.increments(1)
    saddles = sorted(s.location for s in potential.saddles)
    best: tuple[int, float, tuple[float, float]] | None = None
    for a in potential.attractors:
        left = max([s for s in saddles if s < a.location], default=-np.inf)
        right = min([s for s in saddles if s > a.location], default=np.inf)
        basin = inc.state[(inc.state > left) & (inc.state < right)]
        if basin.size and (best is None or basin.size > best[0]):
            lo, hi = np.quantile(basin, [0.05, 0.95])
            best = (basin.size, a.location, (float(lo), float(hi)))
    if best is None:
        return _not_estimable("no increments start near an attractor", method)
    _, position, window = best
    fit = fit_tdgl(
        trajectories, powers=(0, 1, 2, 3), n_bootstrap=n_bootstrap, seed=seed,
        confidence=confidence, centre=position, window=window,
    )  # fmt: skip
    if not fit.fitted:
        return _not_estimable(
            f"the drift near the attractor could not be fitted ({fit.reason})", method
        )
    linear = fit.coefficients[1]
    rate = value_of(linear)
    rate_low, rate_high = bounds_of(linear)
    if not rate > 0:
        return _not_estimable("the drift does not decrease through the attractor", method)
    return RelaxationTime(
        tau=estimate(
            1.0 / rate,
            1.0 / rate_high if rate_high > 0 else float("nan"),
            1.0 / rate_low if rate_low > 0 else float("inf"),
            method,
        ),
        method=method,
        n_units=fit.n_units,
        resampling=fit.resampling,
        time_step=float(np.median(inc.duration)) if inc.size else float("nan"),
        note=f"linear relaxation at the attractor m = {position:.4g}",
    )
