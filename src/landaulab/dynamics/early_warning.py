"""Early-warning indicators of an approaching transition: rising variance and memory.

As a stable state loses stability its recovery rate falls, so fluctuations grow and become
slower: the variance and the lag-1 autocorrelation of the detrended order parameter rise
before the transition (Scheffer et al. 2009, Nature 461:53; Dakos et al. 2012, PLoS ONE
7:e41010). Following ewstools (Bury 2023, J. Open Source Softw. 8:5038) each run is
detrended with a Gaussian kernel of width ``bandwidth`` (fraction of the series), the
indicators are computed in a rolling window of ``window`` (fraction of the series), and
their trend is Kendall's tau against time. The rolling indicators are autocorrelated, so
a single run's tau has no simple p-value; across independent runs the sign of tau is,
and a one-sided binomial sign test says whether the indicators rise in more runs than
chance would give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.stats import binomtest, kendalltau

from landaulab.dynamics.estimates import number, value_json, value_of
from landaulab.estimate import Estimate, finite
from landaulab.serialize import to_json

#: How the trends are measured.
TREND_METHOD = "Kendall tau against time"
#: How the trends are pooled over runs.
MEAN_METHOD = "mean Kendall tau over runs"

#: Fewest samples before the transition for indicators to be computed.
MIN_SAMPLES = 20


@dataclass(frozen=True)
class EarlyWarning:
    """Trend of the early-warning indicators in one run.

    Attributes
    ----------
    run, control
        Run label and control value.
    variance_trend, autocorrelation_trend
        Kendall's tau of the rolling variance and rolling lag-1 autocorrelation against
        time (``None`` when not computable).
    n_samples
        Samples used (those before the transition, or the whole run).
    until
        Time up to which the indicators were computed.
    reason
        Why nothing was computed (``None`` otherwise).
    """

    run: Any
    control: float | None
    variance_trend: Estimate | None
    autocorrelation_trend: Estimate | None
    n_samples: int
    until: float
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "run": to_json(self.run),
            "control": to_json(self.control),
            "variance_kendall_tau": value_json(self.variance_trend),
            "autocorrelation_kendall_tau": value_json(self.autocorrelation_trend),
            "n_samples": self.n_samples,
            "until": finite(self.until),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EarlyWarning:
        """The inverse of :meth:`to_dict`."""
        return cls(
            run=data.get("run"),
            control=finite(data.get("control")),
            variance_trend=_trend(data.get("variance_kendall_tau")),
            autocorrelation_trend=_trend(data.get("autocorrelation_kendall_tau")),
            n_samples=int(data.get("n_samples") or 0),
            until=number(data.get("until")),
            reason=data.get("reason"),
        )


def _trend(value: Any, method: str = TREND_METHOD) -> Estimate | None:
    """A trend statistic as an estimate without an interval (``None`` when unknown)."""
    return None if finite(value) is None else Estimate(value, None, method)


def rolling_indicators(
    values: np.ndarray, *, window: float = 0.25, bandwidth: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """Rolling variance and lag-1 autocorrelation of the Gaussian-detrended series.

    Parameters
    ----------
    values
        Evenly spaced samples (the index is the time axis).
    window
        Rolling-window length as a fraction of the series (ewstools' ``rolling_window``).
    bandwidth
        Gaussian detrending width (standard deviation) as a fraction of the series.

    Returns
    -------
    variance, autocorrelation
        Arrays of the series' length; entry ``i`` uses the window ending at ``i`` (NaN
        before the first full window).
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    resid = x - gaussian_filter1d(x, max(bandwidth * n, 1e-9), mode="reflect")
    w = max(int(window * n), 3)
    variance = np.full(n, np.nan)
    autocorrelation = np.full(n, np.nan)
    if n < w:
        return variance, autocorrelation

    def window_sum(a: np.ndarray, length: int) -> np.ndarray:
        c = np.concatenate([[0.0], np.cumsum(a)])
        return c[length:] - c[:-length]

    s1 = window_sum(resid, w)
    s2 = window_sum(resid**2, w)
    variance[w - 1 :] = (s2 - s1**2 / w) / (w - 1)
    a, b = resid[:-1], resid[1:]
    m = w - 1  # pairs inside a window of w samples
    sa, sb = window_sum(a, m), window_sum(b, m)
    saa, sbb, sab = window_sum(a * a, m), window_sum(b * b, m), window_sum(a * b, m)
    cov = sab - sa * sb / m
    var_a = saa - sa**2 / m
    var_b = sbb - sb**2 / m
    with np.errstate(divide="ignore", invalid="ignore"):
        autocorrelation[w - 1 :] = cov / np.sqrt(var_a * var_b)
    return variance, autocorrelation


def early_warning(
    time: np.ndarray,
    values: np.ndarray,
    *,
    until: float | None = None,
    window: float = 0.25,
    bandwidth: float = 0.2,
    run: Any = None,
    control: float | None = None,
) -> EarlyWarning:
    """Kendall trends of the early-warning indicators of one run.

    Parameters
    ----------
    time, values
        Sorted samples of the run (treated as evenly spaced).
    until
        Only samples before this time are used (e.g. the start of the transition).
    window, bandwidth
        See :func:`rolling_indicators`.
    run, control
        Labels copied into the result.
    """
    time = np.asarray(time, dtype=float)
    values = np.asarray(values, dtype=float)
    if until is not None:
        keep = time < until
        time, values = time[keep], values[keep]
    end = float(time[-1]) if time.size else float("nan")
    nan = float("nan")
    if values.size < MIN_SAMPLES:
        return EarlyWarning(
            run, control, None, None, int(values.size), end,
            f"{values.size} samples before the transition (need {MIN_SAMPLES})",
        )  # fmt: skip
    variance, autocorrelation = rolling_indicators(values, window=window, bandwidth=bandwidth)
    trends = []
    for indicator in (variance, autocorrelation):
        ok = np.isfinite(indicator)
        if ok.sum() < 3 or np.ptp(indicator[ok]) == 0:
            trends.append(nan)
            continue
        trends.append(float(kendalltau(time[ok], indicator[ok]).statistic))
    reason = None if np.isfinite(trends).any() else "the detrended series does not fluctuate"
    return EarlyWarning(
        run, control, _trend(trends[0]), _trend(trends[1]), int(values.size), end, reason
    )


@dataclass(frozen=True)
class EarlyWarningSummary:
    """Early-warning trends pooled over the runs at one control value.

    Attributes
    ----------
    control
        The control value (``None`` without a control column).
    n_runs
        Runs with computable indicators.
    variance_mean, autocorrelation_mean
        Mean Kendall tau over runs (``None`` without a computable trend).
    variance_rising, autocorrelation_rising
        Runs with a positive tau.
    variance_p, autocorrelation_p
        One-sided binomial sign-test p-values for "rises in more runs than chance".
    runs
        Per-run results.
    """

    control: float | None
    n_runs: int
    variance_mean: Estimate | None
    autocorrelation_mean: Estimate | None
    variance_rising: int
    autocorrelation_rising: int
    variance_p: float
    autocorrelation_p: float
    runs: tuple[EarlyWarning, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "control": to_json(self.control),
            "n_runs": self.n_runs,
            "variance": {
                "mean_kendall_tau": value_json(self.variance_mean),
                "runs_rising": self.variance_rising,
                "sign_test_p": finite(self.variance_p),
            },
            "autocorrelation": {
                "mean_kendall_tau": value_json(self.autocorrelation_mean),
                "runs_rising": self.autocorrelation_rising,
                "sign_test_p": finite(self.autocorrelation_p),
            },
            "runs": [r.to_dict() for r in self.runs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EarlyWarningSummary:
        """The inverse of :meth:`to_dict`."""
        variance = data.get("variance") or {}
        autocorrelation = data.get("autocorrelation") or {}
        return cls(
            control=finite(data.get("control")),
            n_runs=int(data.get("n_runs") or 0),
            variance_mean=_trend(variance.get("mean_kendall_tau"), MEAN_METHOD),
            autocorrelation_mean=_trend(autocorrelation.get("mean_kendall_tau"), MEAN_METHOD),
            variance_rising=int(variance.get("runs_rising") or 0),
            autocorrelation_rising=int(autocorrelation.get("runs_rising") or 0),
            variance_p=number(variance.get("sign_test_p")),
            autocorrelation_p=number(autocorrelation.get("sign_test_p")),
            runs=tuple(EarlyWarning.from_dict(r) for r in data.get("runs") or ()),
        )


def summarize_early_warning(
    results: Sequence[EarlyWarning], control: float | None = None
) -> EarlyWarningSummary:
    """Pool per-run trends: mean Kendall tau and a sign test across runs."""
    stats = []
    for attr in ("variance_trend", "autocorrelation_trend"):
        taus = np.array([value_of(getattr(r, attr)) for r in results], dtype=float)
        taus = taus[np.isfinite(taus)]
        rising = int((taus > 0).sum())
        if taus.size:
            p = float(binomtest(rising, int(taus.size), 0.5, alternative="greater").pvalue)
            mean = float(taus.mean())
        else:
            p = mean = float("nan")
        stats.append((mean, rising, p, taus.size))
    return EarlyWarningSummary(
        control=control,
        n_runs=int(max(stats[0][3], stats[1][3])),
        variance_mean=_trend(stats[0][0], MEAN_METHOD),
        autocorrelation_mean=_trend(stats[1][0], MEAN_METHOD),
        variance_rising=stats[0][1],
        autocorrelation_rising=stats[1][1],
        variance_p=stats[0][2],
        autocorrelation_p=stats[1][2],
        runs=tuple(results),
    )
