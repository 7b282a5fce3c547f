"""Plateaus: long stretches where the order parameter stalls between sudden changes.

Between two consecutive transitions of a run (and before the first, after the last) the
plateau level is the median of the samples between the transitions' edges. The plateau is
the longest stretch of the smoothed run that stays within a band of that level; the band
is :data:`BAND_FRACTION` of the smaller neighbouring jump (at least three noise standard
deviations). Stretches shorter than :data:`MIN_LENGTH_FRACTION` of the run are ignored; a
plateau reaching the end of the run is *final* (its length is censored).

A plateau at a saddle that is left by the exponential growth of a small perturbation
``r0`` lasts ``(1/lambda) ln(1/r0) + const`` (Saad & Solla 1995, Phys. Rev. E 52:4225;
Biehl, Riegler & Wöhler 1996, J. Phys. A 29:4769); :func:`plateau_scaling` fits that law.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from landaulab.dynamics._bootstrap import percentile_interval
from landaulab.dynamics.estimates import ci_list, describe, estimate, from_json, number, value_json
from landaulab.dynamics.profile import RunProfile
from landaulab.dynamics.transition_times import Transition
from landaulab.estimate import Estimate, finite
from landaulab.serialize import to_json

#: Half-width of the plateau band as a fraction of the smaller neighbouring jump.
BAND_FRACTION = 0.1
#: Shortest plateau, as a fraction of the run's duration.
MIN_LENGTH_FRACTION = 0.02


@dataclass(frozen=True)
class Plateau:
    """A stretch where the order parameter stays near one level.

    Attributes
    ----------
    run, control
        Run label and control value.
    start, end, length
        Time span of the plateau.
    level
        Median order parameter on the plateau.
    band
        Half-width of the band used.
    initial, final
        Whether it starts at the run's start / reaches the run's end (then ``length`` is
        a lower bound).
    """

    run: Any
    control: float | None
    start: float
    end: float
    level: float
    band: float
    initial: bool
    final: bool

    @property
    def length(self) -> float:
        """``end - start``."""
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "run": to_json(self.run),
            "control": to_json(self.control),
            "start": finite(self.start),
            "end": finite(self.end),
            "length": finite(self.length),
            "level": finite(self.level),
            "band": finite(self.band),
            "initial": self.initial,
            "final": self.final,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plateau:
        """The inverse of :meth:`to_dict`."""
        return cls(
            run=data.get("run"),
            control=finite(data.get("control")),
            start=number(data.get("start")),
            end=number(data.get("end")),
            level=number(data.get("level")),
            band=number(data.get("band")),
            initial=bool(data.get("initial", False)),
            final=bool(data.get("final", False)),
        )


def _longest_true(mask: np.ndarray) -> tuple[int, int] | None:
    """``(first, last)`` indices of the longest run of True, or ``None``."""
    if not mask.any():
        return None
    padded = np.concatenate([[False], mask, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    starts, stops = edges[::2], edges[1::2]
    k = int(np.argmax(stops - starts))
    return int(starts[k]), int(stops[k] - 1)


def detect_plateaus(
    profile: RunProfile,
    transitions: Sequence[Transition],
    *,
    run: Any = None,
    control: float | None = None,
    band_fraction: float = BAND_FRACTION,
    min_length_fraction: float = MIN_LENGTH_FRACTION,
) -> list[Plateau]:
    """Plateaus of one run, between and around its transitions.

    Parameters
    ----------
    profile
        The run's smoothed profile.
    transitions
        The run's transitions (sorted by time); without any there are no plateaus.
    run, control
        Labels copied into the results.
    band_fraction, min_length_fraction
        See :data:`BAND_FRACTION` and :data:`MIN_LENGTH_FRACTION`.
    """
    if not transitions:
        return []
    time, smoothed = profile.time, profile.smoothed
    noise = profile.noise()
    t0, t1 = float(time[0]), float(time[-1])
    out: list[Plateau] = []
    bounds = [None, *transitions, None]
    for before, after in itertools.pairwise(bounds):
        seg_lo = t0 if before is None else before.time
        seg_hi = t1 if after is None else after.time
        core_lo = t0 if before is None else before.end
        core_hi = t1 if after is None else after.start
        if not core_hi > core_lo:
            continue
        samples = profile.raw_between(core_lo, core_hi)
        inside_core = (time >= core_lo) & (time <= core_hi)
        level = (
            float(np.median(samples))
            if samples.size >= 3
            else float(np.median(smoothed[inside_core]))
            if inside_core.any()
            else float("nan")
        )
        if not np.isfinite(level):
            continue
        jumps = [abs(t.jump) for t in (before, after) if t is not None]
        band = max(band_fraction * min(jumps), 3.0 * noise)
        segment = (time >= seg_lo) & (time <= seg_hi)
        near = segment & (np.abs(smoothed - level) <= band)
        found = _longest_true(near)
        if found is None:
            continue
        start, end = float(time[found[0]]), float(time[found[1]])
        if end - start < max(min_length_fraction * profile.duration, 2 * profile.step):
            continue
        out.append(
            Plateau(
                run=run,
                control=control,
                start=start,
                end=end,
                level=level,
                band=band,
                initial=bool(found[0] == 0),
                final=bool(found[1] == time.size - 1),
            )
        )
    return out


@dataclass(frozen=True)
class PlateauScaling:
    """Fit of plateau length against the control: ``length = A + B ln(1/c)``.

    Attributes
    ----------
    slope
        ``B`` (time per e-fold of ``1/c``) with its bootstrap interval (``None`` when not
        fitted).
    intercept
        ``A`` (NaN when not fitted).
    n_runs, n_controls
        Data behind the fit.
    reason
        Why no fit was made (``None`` when it was).
    """

    slope: Estimate | None
    intercept: float
    n_runs: int
    n_controls: int
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "form": "length = A + B ln(1/control)",
            "slope": value_json(self.slope),
            "ci": ci_list(self.slope),
            "intercept": finite(self.intercept),
            "n_runs": self.n_runs,
            "n_controls": self.n_controls,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlateauScaling:
        """The inverse of :meth:`to_dict`."""
        return cls(
            slope=from_json(data.get("slope"), data.get("ci")),
            intercept=number(data.get("intercept")),
            n_runs=int(data.get("n_runs") or 0),
            n_controls=int(data.get("n_controls") or 0),
            reason=data.get("reason"),
        )

    def __str__(self) -> str:
        if self.reason:
            return f"PlateauScaling: not fitted ({self.reason})"
        return (
            f"PlateauScaling: length = {self.intercept:.4g} + {describe(self.slope)} ln(1/control)"
        )


def plateau_scaling(
    lengths: Sequence[float] | np.ndarray,
    controls: Sequence[float] | np.ndarray,
    *,
    n_bootstrap: int = 200,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
) -> PlateauScaling:
    """Fit ``length = A + B ln(1/c)`` (e.g. ``c`` = initial asymmetry ``r0``) by least squares.

    Parameters
    ----------
    lengths, controls
        One plateau length and its control value per run (controls must be positive).
    n_bootstrap, seed, confidence
        Bootstrap over runs, its seed and the interval level.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    y = np.asarray(lengths, dtype=float)
    c = np.asarray(controls, dtype=float)
    ok = np.isfinite(y) & np.isfinite(c) & (c > 0)
    y, c = y[ok], c[ok]
    nan = float("nan")
    n_controls = int(np.unique(c).size)
    if n_controls < 2 or y.size < 3:
        return PlateauScaling(
            None, nan, int(y.size), n_controls,
            reason=f"plateaus at {n_controls} positive control value(s) (need 2, and 3 plateaus)",
        )  # fmt: skip
    x = np.log(1.0 / c)
    design = np.stack([np.ones_like(x), x], axis=1)
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    reps = []
    for _ in range(n_bootstrap):
        idx = rng.integers(0, y.size, y.size)
        if np.unique(x[idx]).size < 2:
            continue
        reps.append(np.linalg.lstsq(design[idx], y[idx], rcond=None)[0][1])
    lo = hi = nan
    if len(reps) >= 2:
        alpha = 1 - confidence
        lo, hi = percentile_interval(reps, alpha, y.size)
    return PlateauScaling(estimate(beta[1], lo, hi), float(beta[0]), int(y.size), n_controls)
