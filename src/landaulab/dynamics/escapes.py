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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import chi2

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
from landaulab.dynamics.kramers_moyal import KramersMoyal
from landaulab.dynamics.potential import EffectivePotential, first_passage_time
from landaulab.dynamics.trajectories import Trajectories
from landaulab.estimate import Estimate, finite

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
    rate
        ``count / exposure`` with its exact Poisson interval.
    predicted_time
        Mean first-passage time between the cores predicted from the drift and diffusion
        (``None`` when it cannot be predicted).
    """

    source: float
    target: float
    count: int
    exposure: float
    rate: Estimate
    predicted_time: Estimate | None = None

    @property
    def mean_time(self) -> float:
        """Observed mean escape time ``1 / rate``."""
        rate = value_of(self.rate)
        return 1.0 / rate if rate > 0 else float("inf")

    @property
    def mean_time_estimate(self) -> Estimate | None:
        """Observed mean escape time with the interval of ``1 / rate`` (open above when
        no escape was seen)."""
        low, high = bounds_of(self.rate)
        return estimate(
            self.mean_time, 1 / high if high > 0 else None, 1 / low if low > 0 else None
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "source": finite(self.source),
            "target": finite(self.target),
            "count": self.count,
            "exposure": finite(self.exposure),
            "rate": value_json(self.rate),
            "rate_ci": ci_list(self.rate),
            "mean_time": finite(self.mean_time),
            "mean_time_ci": ci_list(self.mean_time_estimate),
            "predicted_time": value_json(self.predicted_time),
            "predicted_time_ci": ci_list(self.predicted_time),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EscapeRate:
        """The inverse of :meth:`to_dict` (the mean time follows from the rate)."""
        rate = from_json(data.get("rate"), data.get("rate_ci"), "Poisson")
        return cls(
            source=number(data.get("source")),
            target=number(data.get("target")),
            count=int(data.get("count") or 0),
            exposure=number(data.get("exposure")),
            rate=rate if rate is not None else Estimate(None),
            predicted_time=from_json(data.get("predicted_time"), data.get("predicted_time_ci")),
        )

    def __str__(self) -> str:
        return (
            f"{self.source:.4g} -> {self.target:.4g}: {self.count} escapes, rate "
            f"{describe(self.rate)}; predicted mean time {describe(self.predicted_time)}"
        )


def core_intervals(
    potential: EffectivePotential, core_fraction: float = CORE_FRACTION
) -> list[tuple[float, float, float]]:
    """``(attractor, low edge, high edge)`` of each attractor's core."""
    attractors = sorted(a.location for a in potential.attractors)
    saddles = sorted(s.location for s in potential.saddles)
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
                else None
            )
            out.append(
                EscapeRate(
                    source=cores[i][0],
                    target=cores[j][0],
                    count=n,
                    exposure=total,
                    rate=Estimate(n / total, (float(lo), float(hi)), "Poisson"),
                    predicted_time=predicted,
                )
            )
    return tuple(out)
