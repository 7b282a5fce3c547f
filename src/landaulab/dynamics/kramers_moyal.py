"""Drift and diffusion of an order parameter from its increments (Kramers–Moyal coefficients).

For a Markov process ``dm = D1(m) dt + sqrt(2 D2(m)) dW`` the first two conditional
moments of an increment over a short time ``dt`` are ``E[dm | m] = D1 dt`` and
``E[(dm - D1 dt)^2 | m] = 2 D2 dt`` (Risken 1989, *The Fokker–Planck Equation*, ch. 3;
Friedrich et al. 2011, Phys. Rep. 506:87, arXiv:1105.1253). They are estimated by
local-linear kernel regression of the increments on the state (Lamouroux & Lehnertz 2009,
Phys. Lett. A 373:3507), weighting each increment by its own duration so that unevenly
spaced time stamps are handled exactly. For speed the increments are first binned
(linear binning, Fan & Marron 1994, J. Comput. Graph. Stat. 3:35); uncertainties come
from a bootstrap over runs (or contiguous blocks of a lone run).

For data that *are* a discrete-time map (one SGD step per sample) the one-sample moments
are exact. For a sampled continuous process the estimates carry an ``O(dt)`` bias;
``finite_time_correction=True`` removes it by Richardson extrapolation of the estimates
at lags 1 and 2 to zero lag (Friedrich et al. 2011, sec. 4.2).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from landaulab.dynamics._bootstrap import expanded_levels, nan_quantiles, resampling_weights
from landaulab.dynamics.estimates import array, describe, number
from landaulab.dynamics.trajectories import Increments, Trajectories
from landaulab.errors import FewSamplesWarning
from landaulab.estimate import finite
from landaulab.serialize import to_json

#: Number of fine bins used to pre-aggregate increments before kernel smoothing.
N_BINS = 512
#: Quantile range of the states covered by the evaluation grid.
GRID_QUANTILES = (0.001, 0.999)
#: A grid point needs increments from at least this many resampling units.
MIN_SUPPORTING_UNITS = 3
BANDWIDTH_RULE = (
    "undersmoothed Silverman rule h = 0.9 min(sd, IQR/1.34) n^(-1/4) over the n increment "
    "start states (at least two fine-bin widths)"
)


@dataclass(frozen=True, eq=False)
class KramersMoyal:
    """Kramers–Moyal drift ``D1(m)`` and diffusion ``D2(m)`` on a grid of states.

    Attributes
    ----------
    grid
        States m at which the coefficients are evaluated.
    drift, drift_low, drift_high, drift_se
        ``D1(m)`` (units of m per unit time), its confidence band and standard error.
    drift_slope
        ``dD1/dm`` from the local-linear fit (minus the local relaxation rate).
    diffusion, diffusion_low, diffusion_high, diffusion_se
        ``D2(m)`` (units of m^2 per unit time), band and standard error.
    effective_count
        Kish effective number of increments behind each grid point.
    bandwidth, bandwidth_rule
        Kernel bandwidth in units of m and how it was chosen.
    n_increments, n_units, resampling
        Number of increments, of bootstrap units, and the resampling scheme.
    time_step
        Median duration of one increment.
    finite_time_correction
        Whether lag-1/lag-2 Richardson extrapolation was applied.
    confidence
        Level of the confidence bands.
    reason
        Why nothing could be estimated (``None`` when estimates exist).
    """

    grid: np.ndarray
    drift: np.ndarray
    drift_low: np.ndarray
    drift_high: np.ndarray
    drift_se: np.ndarray
    drift_slope: np.ndarray
    diffusion: np.ndarray
    diffusion_low: np.ndarray
    diffusion_high: np.ndarray
    diffusion_se: np.ndarray
    effective_count: np.ndarray
    bandwidth: float
    bandwidth_rule: str
    n_increments: int
    n_units: int
    resampling: str
    time_step: float
    finite_time_correction: bool
    confidence: float
    reason: str | None = None
    boot_drift: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    boot_diffusion: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    boot_slope: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    @property
    def estimable(self) -> bool:
        """Whether any grid point carries an estimate."""
        return self.reason is None and bool(np.isfinite(self.drift).any())

    def valid(self) -> np.ndarray:
        """Mask of grid points with finite drift and diffusion."""
        return np.isfinite(self.drift) & np.isfinite(self.diffusion)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (``None`` where a value could not be estimated).

        The bootstrap replicates are not written; :meth:`from_dict` leaves them empty.
        """
        return {
            "grid": to_json(self.grid),
            "drift": to_json(self.drift),
            "drift_low": to_json(self.drift_low),
            "drift_high": to_json(self.drift_high),
            "drift_se": to_json(self.drift_se),
            "drift_slope": to_json(self.drift_slope),
            "diffusion": to_json(self.diffusion),
            "diffusion_low": to_json(self.diffusion_low),
            "diffusion_high": to_json(self.diffusion_high),
            "diffusion_se": to_json(self.diffusion_se),
            "effective_count": to_json(self.effective_count),
            "bandwidth": finite(self.bandwidth),
            "bandwidth_rule": self.bandwidth_rule,
            "n_increments": self.n_increments,
            "n_units": self.n_units,
            "resampling": self.resampling,
            "time_step": finite(self.time_step),
            "finite_time_correction": self.finite_time_correction,
            "confidence": self.confidence,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KramersMoyal:
        """The inverse of :meth:`to_dict` (without bootstrap replicates)."""
        grid = array(data.get("grid"))

        def column(key: str) -> np.ndarray:
            values = array(data.get(key)) if key in data else np.full(grid.size, np.nan)
            return values if values.size == grid.size else np.full(grid.size, np.nan)

        return cls(
            grid=grid,
            drift=column("drift"),
            drift_low=column("drift_low"),
            drift_high=column("drift_high"),
            drift_se=column("drift_se"),
            drift_slope=column("drift_slope"),
            diffusion=column("diffusion"),
            diffusion_low=column("diffusion_low"),
            diffusion_high=column("diffusion_high"),
            diffusion_se=column("diffusion_se"),
            effective_count=column("effective_count"),
            bandwidth=number(data.get("bandwidth")),
            bandwidth_rule=str(data.get("bandwidth_rule", "")),
            n_increments=int(data.get("n_increments") or 0),
            n_units=int(data.get("n_units") or 0),
            resampling=str(data.get("resampling", "none")),
            time_step=number(data.get("time_step")),
            finite_time_correction=bool(data.get("finite_time_correction", False)),
            confidence=float(data.get("confidence") or 0.95),
            reason=data.get("reason"),
        )

    def __str__(self) -> str:
        if not self.estimable:
            return f"KramersMoyal: not estimable ({self.reason})"
        ok = self.valid()
        return (
            f"KramersMoyal: {self.n_increments} increments, {ok.sum()} grid points in "
            f"[{self.grid[ok].min():.4g}, {self.grid[ok].max():.4g}], bandwidth "
            f"{describe(self.bandwidth)}, median diffusion "
            f"{describe(float(np.nanmedian(self.diffusion)))}, resampling {self.resampling}"
        )


def silverman_bandwidth(states: np.ndarray, exponent: float = -0.25) -> float:
    """Undersmoothed Silverman bandwidth ``0.9 min(sd, IQR/1.34) n^exponent``.

    Silverman's (1986, *Density Estimation*, eq. 3.31) rule uses ``n^(-1/5)``, which is
    optimal for the mean squared error; the default ``n^(-1/4)`` undersmooths so that the
    smoothing bias stays small compared with the bootstrap band and the band keeps its
    coverage (Hall 1992, Ann. Stat. 20:675).
    """
    states = np.asarray(states, dtype=float)
    if states.size < 2:
        return float("nan")
    sd = float(np.std(states, ddof=1))
    q75, q25 = np.percentile(states, [75, 25])
    spread = min(sd, (q75 - q25) / 1.34) if q75 > q25 else sd
    return 0.9 * spread * states.size**exponent


def _empty(grid: np.ndarray, reason: str, n: int, confidence: float, fix: bool) -> KramersMoyal:
    nan = np.full(grid.size, np.nan)
    return KramersMoyal(
        grid=grid,
        drift=nan,
        drift_low=nan,
        drift_high=nan,
        drift_se=nan,
        drift_slope=nan,
        diffusion=nan,
        diffusion_low=nan,
        diffusion_high=nan,
        diffusion_se=nan,
        effective_count=np.zeros(grid.size),
        bandwidth=float("nan"),
        bandwidth_rule=BANDWIDTH_RULE,
        n_increments=n,
        n_units=0,
        resampling="none",
        time_step=float("nan"),
        finite_time_correction=fix,
        confidence=confidence,
        reason=reason,
    )


#: Per-bin sums kept for every increment (dt, dm: duration and change; d: offset of the
#: start state from the bin centre, so that regressors are exact, not rounded to bins).
STATISTICS = (
    "1", "dt", "dt^2", "dm", "dm dt", "dm^2",
    "dt d", "dt d^2", "dm d", "dm dt d", "dt^2 d", "dt^2 d^2",
)  # fmt: skip
N_STATS = len(STATISTICS)


def _bin_statistics(
    inc: Increments, units: np.ndarray, n_units: int, low: float, width: float, n_bins: int
) -> np.ndarray:
    """Per-unit, per-bin sums of :data:`STATISTICS` with linear binning."""
    position = (inc.state - low) / width - 0.5
    left = np.floor(position).astype(int)
    frac = position - left
    dt, dm = inc.duration, inc.change
    out = np.zeros((n_units * n_bins, N_STATS))
    for shift, weight in ((0, 1.0 - frac), (1, frac)):
        bins = np.clip(left + shift, 0, n_bins - 1)
        d = inc.state - (low + (bins + 0.5) * width)
        columns = (
            np.ones_like(dt), dt, dt**2, dm, dm * dt, dm**2,
            dt * d, dt * d**2, dm * d, dm * dt * d, dt**2 * d, dt**2 * d**2,
        )  # fmt: skip
        index = bins + units * n_bins
        for k, column in enumerate(columns):
            out[:, k] += np.bincount(index, weights=weight * column, minlength=out.shape[0])
    return out.reshape(n_units, n_bins, N_STATS)


def _local_linear(
    stats: np.ndarray, kernels: tuple[np.ndarray, ...], h: float
) -> dict[str, np.ndarray]:
    """Local-linear drift, its slope and the drift-corrected diffusion from binned sums.

    ``stats`` has shape ``(..., n_bins, N_STATS)``; ``kernels`` are ``K, K v, K v^2, K^2``
    with ``v = (bin centre - grid point) / h``, each of shape ``(n_bins, n_grid)``. The
    regressor of an increment is ``u = v + d/h`` with ``d`` its offset from the bin centre.
    """
    k0, k1, k2, k0sq = kernels
    s = [stats[..., k] for k in range(N_STATS)]
    d1 = [s[6] / h, s[8] / h, s[9] / h, s[10] / h]  # dt d, dm d, dm dt d, dt^2 d
    t0 = s[1] @ k0
    t1 = s[1] @ k1 + d1[0] @ k0
    t2 = s[1] @ k2 + 2 * (d1[0] @ k1) + (s[7] / h**2) @ k0
    b0 = s[3] @ k0
    b1 = s[3] @ k1 + d1[1] @ k0
    dmdt, dmdt_u = s[4] @ k0, s[4] @ k1 + d1[2] @ k0
    dt2 = s[2] @ k0
    dt2_u = s[2] @ k1 + d1[3] @ k0
    dt2_uu = s[2] @ k2 + 2 * (d1[3] @ k1) + (s[11] / h**2) @ k0
    det = t0 * t2 - t1**2
    with np.errstate(divide="ignore", invalid="ignore"):
        degenerate = ~(det > 1e-10 * np.maximum(t0, 1e-300) ** 2)
        alpha = np.where(degenerate, np.nan, (t2 * b0 - t1 * b1) / det)
        beta = np.where(degenerate, np.nan, (t0 * b1 - t1 * b0) / det)
        q = (
            s[5] @ k0
            - 2 * alpha * dmdt
            - 2 * beta * dmdt_u
            + alpha**2 * dt2
            + 2 * alpha * beta * dt2_u
            + beta**2 * dt2_uu
        )
        diffusion = np.maximum(q, 0.0) / (2 * t0)
        weight = s[0] @ k0
        effective = weight**2 / (s[0] @ k0sq)
        mean_dt = t0 / weight
    return {
        "drift": alpha,
        "slope": beta,
        "diffusion": diffusion,
        "effective": np.nan_to_num(effective),
        "mean_dt": mean_dt,
    }


def _richardson(one: dict[str, np.ndarray], two: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Extrapolate lag-1 and lag-2 estimates linearly in the mean lag to zero lag."""
    h1, h2 = one["mean_dt"], two["mean_dt"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            key: (h2 * one[key] - h1 * two[key]) / (h2 - h1)
            for key in ("drift", "slope", "diffusion")
        }
    out["diffusion"] = np.maximum(out["diffusion"], 0.0)
    out["effective"] = one["effective"]
    out["mean_dt"] = h1
    return out


def kramers_moyal(
    trajectories: Trajectories,
    *,
    grid: np.ndarray | None = None,
    n_grid: int = 101,
    bandwidth: float | None = None,
    n_bootstrap: int = 200,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
    finite_time_correction: bool = False,
    min_count: float = 10.0,
) -> KramersMoyal:
    """Estimate the drift and diffusion of the order parameter on a grid of states.

    Parameters
    ----------
    trajectories
        Validated trajectories (see :func:`~landaulab.dynamics.prepare_trajectories`).
    grid
        States at which to evaluate; by default ``n_grid`` points spanning the 0.1%–99.9%
        quantiles of the observed states.
    n_grid
        Number of grid points when ``grid`` is not given.
    bandwidth
        Gaussian-kernel bandwidth in units of m; by default Silverman's rule (reported).
    n_bootstrap
        Bootstrap replicates over runs (or blocks of a lone run) for the bands.
    seed
        Seed (or generator) of the bootstrap.
    confidence
        Level of the (expanded percentile) confidence bands.
    finite_time_correction
        Extrapolate lag-1 and lag-2 estimates to zero lag (for sampled continuous
        processes; leave off for data that are one optimisation step per sample).
    min_count
        Grid points with fewer effective increments are left undetermined (NaN).

    Returns
    -------
    KramersMoyal
        Coefficients with bootstrap confidence bands; ``reason`` says why when nothing
        could be estimated.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    inc = trajectories.increments(1)
    fallback_grid = np.asarray(grid, dtype=float) if grid is not None else np.zeros(0)
    if inc.size < max(3, int(min_count)):
        reason = f"only {inc.size} increments (need at least {max(3, int(min_count))})"
        warnings.warn(f"drift and diffusion not estimated: {reason}", FewSamplesWarning, 2)
        return _empty(
            fallback_grid,
            reason,
            inc.size,
            confidence,
            finite_time_correction,
        )
    spread = float(np.ptp(inc.state))
    if not spread > 0:
        return _empty(
            fallback_grid,
            "the order parameter never changes",
            inc.size,
            confidence,
            finite_time_correction,
        )
    h = float(bandwidth) if bandwidth is not None else silverman_bandwidth(inc.state)
    if not (np.isfinite(h) and h > 0):
        h = spread / 20
    q_lo, q_hi = np.quantile(inc.state, GRID_QUANTILES)
    if grid is None:
        if not q_hi > q_lo:
            q_lo, q_hi = float(inc.state.min()), float(inc.state.max())
        grid = np.linspace(q_lo, q_hi, n_grid)
    grid = np.asarray(grid, dtype=float)
    low = min(float(np.quantile(inc.state, 0.0005)), float(grid.min())) - 4 * h
    high = max(float(np.quantile(inc.state, 0.9995)), float(grid.max())) + 4 * h
    width = (high - low) / N_BINS
    if bandwidth is None and h < 2 * width:
        h = 2 * width
        low = min(float(np.quantile(inc.state, 0.0005)), float(grid.min())) - 4 * h
        high = max(float(np.quantile(inc.state, 0.9995)), float(grid.max())) + 4 * h
        width = (high - low) / N_BINS
    centres = low + (np.arange(N_BINS) + 0.5) * width
    u = (centres[:, None] - grid[None, :]) / h
    k0 = np.exp(-0.5 * u**2)
    kernels = (k0, k0 * u, k0 * u**2, k0**2)

    units, scheme = trajectories.resampling_units(inc)
    unit_ids, units = np.unique(units, return_inverse=True)
    n_units = unit_ids.size

    def statistics(lag: int) -> np.ndarray:
        lagged = inc if lag == 1 else trajectories.increments(lag)
        lagged_units = units
        if lag != 1:
            raw, _ = trajectories.resampling_units(lagged)
            lagged_units = np.searchsorted(unit_ids, raw)
            lagged_units = np.clip(lagged_units, 0, n_units - 1)
        inside = (lagged.state >= low) & (lagged.state <= high)
        kept = Increments(
            *(
                a[inside]
                for a in (lagged.state, lagged.change, lagged.duration, lagged.run, lagged.position)
            )
        )
        return _bin_statistics(kept, lagged_units[inside], n_units, low, width, N_BINS)

    lags = [statistics(1)]
    if finite_time_correction:
        lags.append(statistics(2))

    def estimate(stat_list: list[np.ndarray]) -> dict[str, np.ndarray]:
        parts = [_local_linear(s, kernels, h) for s in stat_list]
        out = parts[0] if len(parts) == 1 else _richardson(parts[0], parts[1])
        out["slope"] = out["slope"] / h  # the regressor was (m - grid point) / h
        return out

    point = estimate([s.sum(axis=0) for s in lags])
    ok = point["effective"] >= min_count
    if n_units >= MIN_SUPPORTING_UNITS:
        # a grid point resting on one or two runs (blocks) has no meaningful bootstrap band
        per_unit = lags[0][..., 0] @ k0
        ok &= (per_unit >= 1.0).sum(axis=0) >= MIN_SUPPORTING_UNITS
    for key in ("drift", "slope", "diffusion"):
        point[key] = np.where(ok, point[key], np.nan)

    n_boot = int(n_bootstrap) if n_units >= 2 else 0
    if n_units < 2 and n_bootstrap >= 2:
        warnings.warn(
            f"drift and diffusion rest on {n_units} resampling unit: no confidence bands",
            FewSamplesWarning,
            2,
        )
    boot = {key: np.full((n_boot, grid.size), np.nan) for key in ("drift", "slope", "diffusion")}
    if n_boot:
        weights = resampling_weights(rng, n_boot, n_units)
        chunk = max(1, int(2e7 // max(1, N_BINS * N_STATS * n_units)))
        for start in range(0, n_boot, chunk):
            stop = min(n_boot, start + chunk)
            resampled = [
                (weights[start:stop] @ s.reshape(n_units, -1)).reshape(
                    stop - start, N_BINS, N_STATS
                )
                for s in lags
            ]
            rep = estimate(resampled)
            good = rep["effective"] >= min_count
            for key in boot:
                boot[key][start:stop] = np.where(good & ok, rep[key], np.nan)

    alpha = 1.0 - confidence

    def band(key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        values = boot[key]
        if values.shape[0] < 2:
            nan = np.full(grid.size, np.nan)
            return nan, nan, nan
        enough = np.sum(np.isfinite(values), axis=0) >= max(2, values.shape[0] // 2)
        lo, hi = nan_quantiles(values, expanded_levels(alpha, n_units))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            se = np.nanstd(values, axis=0, ddof=1)
        return (
            np.where(enough, lo, np.nan),
            np.where(enough, hi, np.nan),
            np.where(enough, se, np.nan),
        )

    d_lo, d_hi, d_se = band("drift")
    q_lo_band, q_hi_band, q_se = band("diffusion")
    return KramersMoyal(
        grid=grid,
        drift=point["drift"],
        drift_low=d_lo,
        drift_high=d_hi,
        drift_se=d_se,
        drift_slope=point["slope"],
        diffusion=point["diffusion"],
        diffusion_low=q_lo_band,
        diffusion_high=q_hi_band,
        diffusion_se=q_se,
        effective_count=point["effective"],
        bandwidth=h,
        bandwidth_rule=BANDWIDTH_RULE if bandwidth is None else "given by the caller",
        n_increments=inc.size,
        n_units=n_units,
        resampling=scheme,
        time_step=float(np.median(inc.duration)),
        finite_time_correction=finite_time_correction,
        confidence=confidence,
        reason=None if ok.any() else "no grid point has enough increments",
        boot_drift=boot["drift"],
        boot_diffusion=boot["diffusion"],
        boot_slope=boot["slope"],
    )
