"""Times of sudden change in each run, and how they depend on the control parameter.

Two detectors, chosen by ``method``:

``"pelt"`` (default, :mod:`landaulab.dynamics.change_points`)
    PELT change points (``ruptures``; Killick, Fearnhead & Eckley 2012, arXiv:1101.1438;
    Truong, Oudre & Vayatis 2020, arXiv:1801.00718) with a penalty from the noise of the
    first differences, refined into logistic steps and tested against the (long-run) noise
    of the residuals. It reports every abrupt change with its onset, midpoint, end and
    size, including a change at the very start of the record (onset censored there) or
    cut by its end, and a slow sigmoid filling half the record; a slow drift gets none.
``"rate"``
    A *transition* is a peak of the smoothed rate of change of the order parameter (see
    :mod:`landaulab.dynamics.profile`) that

    * stands out from the rate's fluctuations (at least :data:`RATE_THRESHOLD` times the
      larger of the rate's robust scale outside sudden changes, found by iterative
      clipping, and the rate noise that white noise of the samples would cause),
    * is a separate event (its topographic prominence is at least half its height),
    * moves the order parameter between two levels that differ by at least
      :data:`JUMP_THRESHOLD` robust standard deviations of the samples around them (and
      by at least 1% of the run's range),
    * and is persistent: over :data:`PERSISTENCE` transition widths on either side (up to
      the neighbouring steps in the same direction, and not cut by the run's start or
      end) the median stays on its own side of the midpoint between the two levels.

    Peaks cannot lie on the record's first or last sample, and a sigmoid filling much of
    the record raises the rate's own noise floor: on planted curves this detector misses
    changes at the start and wide sigmoids (figures in ``docs/dynamics.md``); it is kept
    for comparison.

A transition's time is the moment of fastest change (the midpoint of a logistic step,
e.g. the ``u = s/2`` crossing of a deep-linear mode, Saxe, McClelland & Ganguli 2014,
arXiv:1312.6120). A transition is *eligible as main* when it is large against the run's
noise (``k_n`` noise standard deviations, ``k_n`` the Bonferroni bound of a 5 % false-alarm
rate over the run's samples) and against the observable's scale (at least
:data:`~landaulab.dynamics.change_points.MAIN_FRACTION` of its range across runs, or of a
stated scale such as 1 for accuracies): a 1 % drift is never main. The run's *main*
transition is its first eligible transition at least half as large as its largest eligible
one. Runs without one are censored at their duration. Across control values the main
transition times are fitted with Arrhenius, power and logarithmic laws
(:mod:`landaulab.dynamics.laws`) to say where the time would exceed a budget or diverge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.signal import find_peaks

from landaulab.dynamics._bootstrap import percentile_interval
from landaulab.dynamics.change_points import (
    MAIN_FRACTION,
    critical_value,
    find_changes,
    white_noise_sd,
)
from landaulab.dynamics.estimates import ci_list, describe, estimate, from_json, number, value_json
from landaulab.dynamics.laws import LawComparison, compare_laws
from landaulab.dynamics.profile import RunProfile, run_profile
from landaulab.dynamics.trajectories import Trajectories
from landaulab.errors import DataError
from landaulab.estimate import Estimate, finite
from landaulab.serialize import to_json

#: A transition's peak rate must exceed this many noise standard deviations of the rate.
RATE_THRESHOLD = 5.0
#: Its jump must exceed this many robust standard deviations of the nearby samples.
JUMP_THRESHOLD = 4.0
#: The new level must hold for this many transition widths.
PERSISTENCE = 2.0
#: Minimum prominence of a rate peak relative to its height.
RELATIVE_PROMINENCE = 0.5
#: The edges of a transition are where the rate falls below this fraction of its peak.
EDGE_FRACTION = 0.1
#: Detectors: ``"pelt"`` (:mod:`landaulab.dynamics.change_points`) and ``"rate"``.
METHODS = ("pelt", "rate")
#: The detector used unless another is asked for.
DEFAULT_METHOD = "pelt"

_LN9 = float(np.log(9.0))


@dataclass(frozen=True)
class Transition:
    """A sudden change in one run.

    Attributes
    ----------
    run, control
        Run label and its control value (``None`` without a control column).
    time
        Moment of fastest change.
    start, end
        Where the rate falls below 10% of its peak on either side.
    level_before, level_after
        Median order parameter just before and just after.
    peak_rate
        Largest rate of change (order parameter per unit time).
    censored_start, censored_end
        Whether the change began before the first sample (``start`` is then the first
        sample's time, an upper bound of the onset) or ends after the last.
    width
        Fitted 10–90 % width (NaN for the rate detector).
    noise
        The run's noise standard deviation the change was judged against.
    significance
        Size over the standard error of the level difference.
    main_eligible
        Whether the change is large enough against the noise and the observable's scale
        to be the run's main transition.
    """

    run: Any
    control: float | None
    time: float
    start: float
    end: float
    level_before: float
    level_after: float
    peak_rate: float
    censored_start: bool = False
    censored_end: bool = False
    width: float = float("nan")
    noise: float = float("nan")
    significance: float = float("nan")
    main_eligible: bool = True

    @property
    def jump(self) -> float:
        """``level_after - level_before``."""
        return self.level_after - self.level_before

    @property
    def direction(self) -> str:
        """``"rise"`` or ``"drop"``."""
        return "rise" if self.jump > 0 else "drop"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "run": to_json(self.run),
            "control": to_json(self.control),
            "time": finite(self.time),
            "start": finite(self.start),
            "end": finite(self.end),
            "level_before": finite(self.level_before),
            "level_after": finite(self.level_after),
            "jump": finite(self.jump),
            "direction": self.direction,
            "peak_rate": finite(self.peak_rate),
            "censored_start": bool(self.censored_start),
            "censored_end": bool(self.censored_end),
            "width": finite(self.width),
            "noise": finite(self.noise),
            "significance": finite(self.significance),
            "main_eligible": bool(self.main_eligible),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transition:
        """The inverse of :meth:`to_dict` (extra keys such as ``main`` are ignored)."""
        return cls(
            run=data.get("run"),
            control=finite(data.get("control")),
            time=number(data.get("time")),
            start=number(data.get("start")),
            end=number(data.get("end")),
            level_before=number(data.get("level_before")),
            level_after=number(data.get("level_after")),
            peak_rate=number(data.get("peak_rate")),
            censored_start=bool(data.get("censored_start", False)),
            censored_end=bool(data.get("censored_end", False)),
            width=number(data.get("width")),
            noise=number(data.get("noise")),
            significance=number(data.get("significance")),
            main_eligible=bool(data.get("main_eligible", True)),
        )


def _median(values: np.ndarray) -> float:
    """Median of a non-empty 1-D array (a lean ``np.median``)."""
    n = values.size
    k = n // 2
    if n % 2:
        return float(np.partition(values, k)[k])
    part = np.partition(values, (k - 1, k))
    return 0.5 * float(part[k - 1] + part[k])


def _robust_sd(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    return 1.4826 * _median(np.abs(values - _median(values)))


def _clipped_sd(values: np.ndarray, cut: float = RATE_THRESHOLD) -> float:
    """Robust scale of ``values`` after iteratively setting aside points beyond ``cut`` sd.

    Applied to the rate, this is the rate's fluctuation outside sudden changes: for a
    stationary process all of its wiggles, for a run of plateaus and steps the plateaus.
    """
    keep = np.ones(values.size, dtype=bool)
    scale = _robust_sd(values)
    for _ in range(8):
        if not scale > 0:
            break
        centre = _median(values[keep])
        new_keep = np.abs(values - centre) <= cut * scale
        if new_keep.sum() < max(0.1 * values.size, 3) or np.array_equal(new_keep, keep):
            break
        keep = new_keep
        previous, scale = scale, _robust_sd(values[keep])
        if scale > 0.99 * previous:
            break
    return scale


def _edges(rate: np.ndarray, peak: int, height: float) -> tuple[int, int]:
    below = rate < EDGE_FRACTION * height
    left = np.flatnonzero(below[:peak])
    right = np.flatnonzero(below[peak:])
    lo = int(left[-1]) if left.size else 0
    hi = peak + int(right[0]) if right.size else rate.size - 1
    return lo, hi


def _refine(time: np.ndarray, rate: np.ndarray, peak: int) -> float:
    """Parabolic interpolation of the peak time."""
    if 0 < peak < rate.size - 1:
        a, b, c = rate[peak - 1], rate[peak], rate[peak + 1]
        denom = a - 2 * b + c
        if denom < 0:
            shift = 0.5 * (a - c) / denom
            return float(time[peak] + np.clip(shift, -1, 1) * (time[1] - time[0]))
    return float(time[peak])


def _rate_transitions(
    profile: RunProfile, *, run: Any = None, control: float | None = None
) -> list[Transition]:
    """Sudden changes in one run as peaks of the smoothed rate (``method="rate"``)."""
    rate = profile.rate
    rate_noise = max(profile.rate_noise(), _clipped_sd(rate))
    scale = float(np.max(np.abs(rate))) if rate.size else 0.0
    if not scale > 0:
        return []
    floor = max(RATE_THRESHOLD * rate_noise, 1e-9 * scale)
    span = float(np.ptp(profile.smoothed))
    candidates = []
    for sign in (1.0, -1.0):
        signed = sign * rate
        peaks, props = find_peaks(signed, height=floor, prominence=0)
        for peak, height, prominence in zip(
            peaks, props["peak_heights"], props["prominences"], strict=True
        ):
            if prominence >= RELATIVE_PROMINENCE * height:
                candidates.append((int(peak), float(height), sign))
    candidates.sort()
    found: list[Transition] = []
    for peak, height, sign in candidates:
        signed = sign * rate
        # A staircase has neighbouring steps in the same direction: edges and level windows
        # stop at the valley between this peak and the nearest same-direction candidate.
        # Opposite-direction wiggles do not bound the windows, so that a fluctuation that
        # comes straight back is judged against the levels around it, not between wiggles.
        same = [c[0] for c in candidates if c[2] == sign]
        rank = same.index(peak)
        first = same[rank - 1] if rank > 0 else 0
        last = same[rank + 1] if rank + 1 < len(same) else rate.size - 1
        valley_left = first + int(np.argmin(signed[first : peak + 1]))
        valley_right = peak + int(np.argmin(signed[peak : last + 1]))
        lo, hi = _edges(signed, peak, height)
        lo, hi = max(lo, valley_left), min(hi, valley_right)
        t_start, t_end = float(profile.time[lo]), float(profile.time[hi])
        window = max(2 * (t_end - t_start), 0.05 * profile.duration)
        left = max(t_start - window, float(profile.time[valley_left if rank > 0 else 0]))
        right = min(
            t_end + window, float(profile.time[valley_right if rank + 1 < len(same) else -1])
        )
        before = profile.raw_between(left, t_start)
        after = profile.raw_between(t_end, right)
        if before.size < 3:
            before = profile.smoothed[max(lo - 1, 0) : lo + 1]
        if after.size < 3:
            after = profile.smoothed[hi : hi + 2]
        level_before, level_after = _median(before), _median(after)
        jump = level_after - level_before
        spread = np.hypot(_robust_sd(before), _robust_sd(after))
        if sign * jump <= 0 or abs(jump) < JUMP_THRESHOLD * spread or abs(jump) < 0.01 * span:
            continue
        # Persistence: over a longer stretch on each side (up to the neighbouring
        # same-direction candidates) the order parameter must stay nearer its own level
        # than the other one; a fluctuation that comes back fails this.
        reach = PERSISTENCE * max(t_end - t_start, 2 * profile.step)
        bound_left = float(profile.time[first]) if rank > 0 else float(profile.time[0])
        bound_right = float(profile.time[last]) if rank + 1 < len(same) else float(profile.time[-1])
        long_before = profile.raw_between(max(t_start - reach, bound_left), t_start)
        long_after = profile.raw_between(t_end, min(t_end + reach, bound_right))
        middle = 0.5 * (level_before + level_after)
        if long_before.size < 3 or long_after.size < 3:
            continue  # cut by the start or end of the run: persistence cannot be judged
        if (
            sign * (_median(long_before) - middle) >= 0
            or sign * (_median(long_after) - middle) <= 0
        ):
            continue
        found.append(
            Transition(
                run=run,
                control=control,
                time=_refine(profile.time, sign * rate, peak),
                start=t_start,
                end=t_end,
                level_before=level_before,
                level_after=level_after,
                peak_rate=float(sign * height),
            )
        )
    return sorted(found, key=lambda t: t.time)


def detect_transitions(
    profile: RunProfile,
    *,
    run: Any = None,
    control: float | None = None,
    method: str = DEFAULT_METHOD,
    scale: float | None = None,
) -> list[Transition]:
    """Abrupt changes in one run, sorted by time.

    Parameters
    ----------
    profile
        The run's profile (:func:`~landaulab.dynamics.profile.run_profile`); ``"pelt"``
        reads its raw samples, ``"rate"`` its smoothed rate.
    run, control
        Labels copied into the results.
    method
        ``"pelt"`` (default): PELT change points refined into logistic steps and tested
        against the noise of the residuals (:mod:`landaulab.dynamics.change_points`);
        ``"rate"``: peaks of the smoothed rate (the module docstring).
    scale
        The observable's scale for the main criterion (its range across runs, or a
        natural range such as 1 for accuracies); defaults to the run's own range.
    """
    if method not in METHODS:
        raise DataError(f"transition method must be one of {', '.join(METHODS)}, not {method!r}")
    if method == "rate":
        found = _rate_transitions(profile, run=run, control=control)
        span = float(scale) if scale is not None and scale > 0 else float(np.ptp(profile.raw_value))
        noise = white_noise_sd(profile.raw_value)
        k = critical_value(profile.raw_value.size)
        return [
            replace(
                t,
                noise=noise,
                main_eligible=bool(
                    abs(t.jump) >= MAIN_FRACTION * span and abs(t.jump) >= k * noise
                ),
            )
            for t in found
        ]
    changes = find_changes(profile.raw_time, profile.raw_value, scale=scale)
    return [
        Transition(
            run=run,
            control=control,
            time=c.midpoint,
            start=c.onset,
            end=c.end,
            level_before=c.level_before,
            level_after=c.level_after,
            peak_rate=c.size * 2.0 * _LN9 / (4.0 * c.width) if c.width > 0 else float("nan"),
            censored_start=c.censored_start,
            censored_end=c.censored_end,
            width=c.width,
            noise=c.noise,
            significance=c.significance,
            main_eligible=c.main_eligible,
        )
        for c in changes
    ]


def main_transition(transitions: list[Transition]) -> Transition | None:
    """The first main-eligible transition at least half as large as the run's largest
    main-eligible one (``None`` if there is none)."""
    eligible = [t for t in transitions if t.main_eligible]
    if not eligible:
        return None
    largest = max(abs(t.jump) for t in eligible)
    return next(t for t in eligible if abs(t.jump) >= 0.5 * largest)


@dataclass(frozen=True)
class ControlTransitionTimes:
    """Main transition times of the runs at one control value.

    Attributes
    ----------
    control
        The control value (``None`` without a control column).
    median
        Median main transition time over runs with a transition, with a bootstrap
        interval (``None`` when no run has one).
    n_runs, n_with_transition
        Runs at this control, and how many had a transition.
    censored_at
        Shortest duration of a run without a transition (its time exceeds this; NaN when
        every run has one).
    """

    control: float | None
    median: Estimate | None
    n_runs: int
    n_with_transition: int
    censored_at: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "control": to_json(self.control),
            "median": value_json(self.median),
            "ci": ci_list(self.median),
            "n_runs": self.n_runs,
            "n_with_transition": self.n_with_transition,
            "censored_at": finite(self.censored_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ControlTransitionTimes:
        """The inverse of :meth:`to_dict`."""
        return cls(
            control=finite(data.get("control")),
            median=from_json(data.get("median"), data.get("ci")),
            n_runs=int(data.get("n_runs") or 0),
            n_with_transition=int(data.get("n_with_transition") or 0),
            censored_at=number(data.get("censored_at")),
        )


@dataclass(frozen=True)
class TransitionTimes:
    """Transitions of every run, summaries per control value and the fitted laws.

    Attributes
    ----------
    transitions
        Every transition found, by run and time.
    main
        The main transition of each run that has one.
    by_control
        Per-control summaries.
    laws
        Law comparison of the main transition times against the control (``None`` without
        enough control values).
    budget
        Time budget used for the laws (the longest run's duration).
    notes
        Plain sentences about what could not be done.
    method
        The detector used (``"pelt"`` or ``"rate"``).
    scale
        The observable's scale a main transition is measured against.
    """

    transitions: tuple[Transition, ...]
    main: tuple[Transition, ...]
    by_control: tuple[ControlTransitionTimes, ...]
    laws: LawComparison | None
    budget: float
    notes: tuple[str, ...] = ()
    method: str = DEFAULT_METHOD
    scale: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (the ``transition_times`` key of the dynamics JSON)."""
        main_ids = {(to_json(t.run), t.time) for t in self.main}
        return {
            "runs": [
                {**t.to_dict(), "main": (to_json(t.run), t.time) in main_ids}
                for t in self.transitions
            ],
            "by_control": [c.to_dict() for c in self.by_control],
            "laws": self.laws.to_dict() if self.laws is not None else None,
            "budget": finite(self.budget),
            "notes": list(self.notes),
            "method": self.method,
            "scale": finite(self.scale),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TransitionTimes:
        """The inverse of :meth:`to_dict`."""
        runs = [r for r in data.get("runs") or () if isinstance(r, Mapping)]
        transitions = tuple(Transition.from_dict(r) for r in runs)
        laws = data.get("laws")
        return cls(
            transitions=transitions,
            main=tuple(t for t, r in zip(transitions, runs, strict=True) if r.get("main")),
            by_control=tuple(
                ControlTransitionTimes.from_dict(c) for c in data.get("by_control") or ()
            ),
            laws=LawComparison.from_dict(laws) if laws is not None else None,
            budget=number(data.get("budget")),
            notes=tuple(data.get("notes") or ()),
            method=str(data.get("method") or DEFAULT_METHOD),
            scale=number(data.get("scale")),
        )

    def __str__(self) -> str:
        lines = [f"TransitionTimes: {len(self.transitions)} transitions in {len(self.main)} runs"]
        for c in self.by_control:
            label = "all runs" if c.control is None else f"control {c.control:.4g}"
            lines.append(
                f"  {label}: median {describe(c.median)} ({c.n_with_transition}/{c.n_runs} runs)"
            )
        if self.laws is not None:
            lines.append(f"  {self.laws.verdict}")
        return "\n".join(lines)


def transition_times(
    trajectories: Trajectories,
    *,
    smoothing: float = 0.005,
    n_bootstrap: int = 200,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
    budget: float | None = None,
    profiles: list[RunProfile | None] | None = None,
    method: str = DEFAULT_METHOD,
    scale: float | None = None,
) -> TransitionTimes:
    """Detect transitions in every run and relate their times to the control.

    Parameters
    ----------
    trajectories
        Validated trajectories.
    smoothing
        Gaussian smoothing width as a fraction of each run's duration.
    n_bootstrap, seed, confidence
        Bootstrap settings for the per-control medians and the law fits.
    budget
        Time budget for the laws; defaults to the longest run's duration.
    profiles
        Precomputed run profiles (one per run) to reuse.
    method
        The detector, ``"pelt"`` or ``"rate"`` (:func:`detect_transitions`).
    scale
        The observable's scale for the main criterion (e.g. 1 for accuracies); defaults
        to its range across runs (0.5 % to 99.5 % quantiles of all samples).

    Returns
    -------
    TransitionTimes
        Transitions, per-control summaries and the law comparison.
    """
    if method not in METHODS:
        raise DataError(f"transition method must be one of {', '.join(METHODS)}, not {method!r}")
    if scale is not None and not (np.isfinite(scale) and scale > 0):
        raise DataError(f"scale must be a positive number, not {scale!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    values = np.asarray(trajectories.value, dtype=float)
    scale_value = (
        float(scale)
        if scale is not None
        else float(np.subtract(*np.quantile(values, [0.995, 0.005])))
        if values.size
        else float("nan")
    )
    if profiles is None:
        profiles = [
            run_profile(*trajectories.run(r), smoothing=smoothing)
            for r in range(trajectories.n_runs)
        ]
    controls = [
        None if trajectories.control_col is None else float(trajectories.controls[r])
        for r in range(trajectories.n_runs)
    ]
    everything: list[Transition] = []
    main: list[Transition | None] = []
    notes: list[str] = []
    too_short = 0
    for r, profile in enumerate(profiles):
        if profile is None:
            too_short += 1
            main.append(None)
            continue
        found = detect_transitions(
            profile,
            run=trajectories.run_ids[r],
            control=controls[r],
            method=method,
            scale=scale_value if scale_value > 0 else None,
        )
        everything.extend(found)
        main.append(main_transition(found))
    if too_short:
        notes.append(f"{too_short} run(s) are too short (< 8 samples) to look for transitions")
    durations = trajectories.durations()
    budget_value = float(budget) if budget is not None else float(durations.max(initial=0.0))
    alpha = 1 - confidence
    summaries = []
    for control, runs in trajectories.groups():
        times = np.array([main[r].time for r in runs if main[r] is not None])
        censored = [durations[r] for r in runs if main[r] is None and profiles[r] is not None]
        median = lo = hi = float("nan")
        if times.size:
            median = float(np.median(times))
            if times.size >= 3 and n_bootstrap >= 2:
                reps = np.median(
                    rng.choice(times, size=(n_bootstrap, times.size), replace=True), axis=1
                )
                lo, hi = percentile_interval(reps, alpha, times.size)
        summaries.append(
            ControlTransitionTimes(
                control=control,
                median=estimate(median, lo, hi),
                n_runs=int(runs.size),
                n_with_transition=int(times.size),
                censored_at=float(min(censored)) if censored else float("nan"),
            )
        )
    found_main = [t for t in main if t is not None]
    laws = None
    if trajectories.control_col is not None:
        c = np.array([t.control for t in found_main], dtype=float)
        starts = {
            trajectories.run_ids[r]: float(trajectories.time[trajectories.offsets[r]])
            for r in range(trajectories.n_runs)
        }
        y = np.array([t.time - starts[t.run] for t in found_main])
        if np.unique(c).size >= 3:
            laws = compare_laws(
                c, y, budget=budget_value, n_bootstrap=n_bootstrap, seed=rng, confidence=confidence
            )
        else:
            notes.append(
                f"main transitions at {np.unique(c).size} control value(s): need 3 or more "
                f"to fit how the transition time depends on the control"
            )
    if not everything:
        notes.append("no sudden change was found in any run")
    return TransitionTimes(
        transitions=tuple(everything),
        main=tuple(found_main),
        by_control=tuple(summaries),
        laws=laws,
        budget=budget_value,
        notes=tuple(notes),
        method=method,
        scale=scale_value,
    )
