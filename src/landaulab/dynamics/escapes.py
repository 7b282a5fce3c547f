"""Escapes between attractors: counted rates with Poisson intervals, and their prediction.

Each run is reduced to the sequence of attractor *cores* it visits (a core reaches a
fraction ``core_fraction`` of the way from its attractor to each neighbouring saddle);
between visits a run is credited to the last core it was in ("milestoning", Faradjian &
Elber 2004, J. Chem. Phys. 120:10880). A change of core is one escape. The escape rate
from attractor ``i`` to ``j`` is the number of escapes divided by the time credited to
``i``; its interval is the exact Poisson (Garwood 1936, Biometrika 28:437) interval of the
count. The prediction is the exact mean first-passage time between the same core edges
computed from the estimated drift and diffusion (:func:`~landaulab.dynamics.potential.
first_passage_time`), which at high barriers is Kramers' (1940, Physica 7:284) rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import chi2

from landaulab.dynamics._serialize import format_value, json_float, json_interval
from landaulab.dynamics.kramers_moyal import KramersMoyal
from landaulab.dynamics.potential import EffectivePotential, first_passage_time
from landaulab.dynamics.trajectories import Trajectories

#: Default size of a core as a fraction of the distance from attractor to saddle.
CORE_FRACTION = 0.5


@dataclass(frozen=True)
class EscapeRate:
    """Escapes from one attractor to a neighbouring one.

    Attributes
    ----------
    source, target
        Attractor positions.
    count
        Escapes observed.
    exposure
        Time credited to the source attractor.
    rate, low, high
        ``count / exposure`` with its exact Poisson interval.
    predicted_time, predicted_low, predicted_high
        Mean first-passage time between the cores predicted from the drift and diffusion.
    """

    source: float
    target: float
    count: int
    exposure: float
    rate: float
    low: float
    high: float
    predicted_time: float = float("nan")
    predicted_low: float = float("nan")
    predicted_high: float = float("nan")

    @property
    def mean_time(self) -> float:
        """Observed mean escape time ``1 / rate``."""
        return 1.0 / self.rate if self.rate > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "source": json_float(self.source),
            "target": json_float(self.target),
            "count": self.count,
            "exposure": json_float(self.exposure),
            "rate": json_float(self.rate),
            "rate_ci": json_interval(self.low, self.high),
            "mean_time": json_float(self.mean_time),
            "mean_time_ci": json_interval(
                1 / self.high if self.high > 0 else None, 1 / self.low if self.low > 0 else None
            ),
            "predicted_time": json_float(self.predicted_time),
            "predicted_time_ci": json_interval(self.predicted_low, self.predicted_high),
        }

    def __str__(self) -> str:
        return (
            f"{self.source:.4g} -> {self.target:.4g}: {self.count} escapes, rate "
            f"{format_value(self.rate, self.low, self.high)}; predicted mean time "
            f"{format_value(self.predicted_time, self.predicted_low, self.predicted_high)}"
        )


def core_intervals(
    potential: EffectivePotential, core_fraction: float = CORE_FRACTION
) -> list[tuple[float, float, float]]:
    """``(attractor, low edge, high edge)`` of each attractor's core."""
    attractors = sorted(a.position for a in potential.attractors)
    saddles = sorted(s.position for s in potential.saddles)
    cores = []
    for a in attractors:
        left = [s for s in saddles if s < a]
        right = [s for s in saddles if s > a]
        lo = a - core_fraction * (a - left[-1]) if left else -np.inf
        hi = a + core_fraction * (right[0] - a) if right else np.inf
        cores.append((a, lo, hi))
    return cores


def escape_rates(
    trajectories: Trajectories,
    potential: EffectivePotential,
    km: KramersMoyal | None = None,
    *,
    core_fraction: float = CORE_FRACTION,
    confidence: float = 0.95,
) -> tuple[EscapeRate, ...]:
    """Count escapes between neighbouring attractors and compare with the prediction.

    Parameters
    ----------
    trajectories
        Runs at one control value.
    potential
        Its effective potential (at least two attractors are needed).
    km
        The drift and diffusion, for the predicted first-passage times.
    core_fraction
        Core size as a fraction of the attractor–saddle distance.
    confidence
        Level of the Poisson intervals.

    Returns
    -------
    tuple of EscapeRate
        One entry per ordered pair of neighbouring attractors (empty with fewer than two).
    """
    cores = core_intervals(potential, core_fraction)
    if len(cores) < 2:
        return ()
    k = len(cores)
    counts = np.zeros((k, k), dtype=int)
    exposure = np.zeros(k)
    for r in range(trajectories.n_runs):
        t, m = trajectories.run(r)
        if t.size < 2:
            continue
        label = np.full(t.size, -1)
        for i, (_, lo, hi) in enumerate(cores):
            label[(m >= lo) & (m <= hi)] = i
        seen = np.flatnonzero(label >= 0)
        if seen.size == 0:
            continue
        idx = np.maximum.accumulate(np.where(label >= 0, np.arange(t.size), -1))
        state = np.where(idx >= 0, label[np.maximum(idx, 0)], -1)
        dt = np.diff(t)
        credited = state[:-1]
        ok = credited >= 0
        exposure += np.bincount(credited[ok], weights=dt[ok], minlength=k)
        changes = np.flatnonzero((state[1:] != state[:-1]) & (state[:-1] >= 0))
        np.add.at(counts, (state[changes], state[changes + 1]), 1)
    alpha = 1 - confidence
    out = []
    for i in range(k):
        for j in (i - 1, i + 1):
            if not 0 <= j < k:
                continue
            n = int(counts[i, j])
            total = float(exposure[i])
            if total <= 0:
                continue
            lo = chi2.ppf(alpha / 2, 2 * n) / (2 * total) if n > 0 else 0.0
            hi = chi2.ppf(1 - alpha / 2, 2 * n + 2) / (2 * total)
            start = cores[i][2] if j > i else cores[i][1]
            end = cores[j][1] if j > i else cores[j][2]
            predicted = (
                first_passage_time(km, start, end, confidence=confidence)
                if km is not None and potential.kind == "fokker_planck"
                else (float("nan"),) * 3
            )
            out.append(
                EscapeRate(
                    source=cores[i][0],
                    target=cores[j][0],
                    count=n,
                    exposure=total,
                    rate=n / total,
                    low=float(lo),
                    high=float(hi),
                    predicted_time=predicted[0],
                    predicted_low=predicted[1],
                    predicted_high=predicted[2],
                )
            )
    return tuple(out)
