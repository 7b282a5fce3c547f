"""Hysteresis between warm-started up and down sweeps of the control parameter.

At a first-order transition each branch stays in its metastable phase beyond the
transition point, so ⟨m⟩ of the up and down sweeps differ over a window of controls, and
the difference does not shrink with time (Binder 1987, Rep. Prog. Phys. 50, 783): each
branch fluctuates quickly about a local minimum of F. Near a second-order transition the
branches also differ when the sweep is faster than the relaxation time, which diverges
there (critical slowing down, Hohenberg & Halperin 1977, Rev. Mod. Phys. 49, 435) — but
then the runs are still drifting and the gap closes with time. One check tells them
apart: the gap in the late versus the early half of each run's retained steps at every
control where the gap is significant, with a bootstrap interval. A gap that shrinks
significantly (the ratio's interval lies below 0.95) is a finite-time effect; a gap that
does not shrink is hysteresis, however sparsely the runs were logged (with a single
logged point per control the ratio cannot be measured and the gap stands). The relaxation
time of each run (from its lag-1 autocorrelation, τ = (1 + φ)/(1 − φ) samples) is reported
in the sentence but decides nothing: measured in logged samples it depends on how often
the runs were logged, not on the dynamics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from landaulab.analyze.bootstrap import percentile_interval, resample_units, standard_error
from landaulab.analyze.frame import PreparedData
from landaulab.analyze.records import array_from_list, float_or_nan
from landaulab.serialize import to_json

#: The gap closes with time when the upper end of the interval of its late/early ratio lies
#: below this: it shrinks, significantly, by more than 5% between the two halves of the
#: retained steps (a converging deterministic run changes it by round-off only).
SHRINKING = 0.95
#: Gaps below this fraction of the largest |⟨m⟩| are round-off, not a difference between
#: branches (deterministic runs on the same branch agree to ~1e-16).
ROUND_OFF = 1e-8


@dataclass(frozen=True, eq=False)
class HysteresisResult:
    """Up/down sweep comparison at the largest size.

    Attributes
    ----------
    directions
        The two direction labels (gap = first − second).
    size
        The size compared.
    controls, gap, gap_stderr
        Per control (user units): ⟨m⟩ difference between directions and its error.
    significant
        Controls where the gap is significant (Bonferroni over controls, 1 %).
    window
        (low, high) controls spanned by significant gaps, or None.
    late_to_early
        Ratio of the gap in the late half of the retained steps to the early half, with a
        bootstrap interval; well below 1 means the branches are still converging.
    verdict
        ``"hysteresis"``, ``"finite-time"`` or ``"none"``.
    sentence
        One sentence of evidence.
    """

    directions: tuple[str, str]
    size: float
    controls: np.ndarray
    gap: np.ndarray
    gap_stderr: np.ndarray
    significant: np.ndarray
    window: tuple[float, float] | None
    late_to_early: tuple[float, float, float] | None
    verdict: str
    sentence: str

    def to_dict(self) -> dict:
        """JSON-safe dictionary."""
        return to_json(
            {
                "directions": list(self.directions),
                "size": self.size,
                "verdict": self.verdict,
                "sentence": self.sentence,
                "window": list(self.window) if self.window else None,
                "width": (self.window[1] - self.window[0]) if self.window else None,
                "late_to_early": (
                    {"value": self.late_to_early[0], "ci": list(self.late_to_early[1:])}
                    if self.late_to_early
                    else None
                ),
                "controls": self.controls,
                "gap": self.gap,
                "gap_stderr": self.gap_stderr,
                "significant": self.significant,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HysteresisResult:
        """The inverse of :meth:`to_dict` (arrays from the lists; null entries as NaN)."""

        window = data.get("window")
        late = data.get("late_to_early")
        late_ci = (late.get("ci") or [None, None]) if late else [None, None]
        return cls(
            directions=(str(data["directions"][0]), str(data["directions"][1])),
            size=float_or_nan(data.get("size")),
            controls=array_from_list(data.get("controls")),
            gap=array_from_list(data.get("gap")),
            gap_stderr=array_from_list(data.get("gap_stderr")),
            significant=np.array(data.get("significant") or [], dtype=bool),
            window=(float_or_nan(window[0]), float_or_nan(window[1])) if window else None,
            late_to_early=(
                (
                    float_or_nan(late.get("value")),
                    float_or_nan(late_ci[0]),
                    float_or_nan(late_ci[1]),
                )
                if late
                else None
            ),
            verdict=data["verdict"],
            sentence=data.get("sentence", ""),
        )


def detect_hysteresis(
    prepared: PreparedData, n_bootstrap: int, seed: int, *, alpha: float = 0.01
) -> HysteresisResult | None:
    """Compare up and down sweeps at the largest size (None without a direction column)."""
    if prepared.columns.direction is None or len(prepared.direction_labels) != 2:
        return None
    size = float(np.max(prepared.segment_size))
    seg_ok = prepared.segment_size == size
    kept = prepared.row_kept & seg_ok[prepared.row_segment]
    seg = prepared.row_segment[kept]
    values = prepared.row_value[kept]
    if seg.size == 0:
        return None
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    counts = np.diff(np.r_[starts, seg.size])
    rank = np.arange(seg.size) - np.repeat(starts, counts)
    late = rank >= np.repeat(counts, counts) / 2.0
    segments, seg_index = np.unique(seg, return_inverse=True)
    n_seg = segments.size
    total = np.bincount(seg_index, weights=values, minlength=n_seg)
    n_all = np.bincount(seg_index, minlength=n_seg).astype(float)
    early_sum = np.bincount(seg_index, weights=np.where(late, 0.0, values), minlength=n_seg)
    early_n = np.bincount(seg_index, weights=(~late).astype(float), minlength=n_seg)
    late_sum = total - early_sum
    late_n = n_all - early_n
    # relaxation time of each segment from its lag-1 autocorrelation (AR(1): τ = (1+φ)/(1−φ)
    # samples); a drift toward the other branch also shows up as φ → 1
    deviation = values - (total / np.maximum(n_all, 1))[seg_index]
    same = np.r_[seg_index[1:] == seg_index[:-1], False]
    lagged = np.bincount(
        seg_index[same], weights=deviation[same] * deviation[1:][same[:-1]], minlength=n_seg
    )
    variance = np.bincount(seg_index, weights=deviation**2, minlength=n_seg)
    with np.errstate(all="ignore"):
        phi = np.clip(np.where(variance > 0, lagged / variance, 0.0), -0.99, 0.999)
        tau_fraction = np.minimum((1 + phi) / (1 - phi), n_all) / np.maximum(n_all, 1)

    control_code, controls = pd.factorize(prepared.segment_control[segments], sort=True)
    direction = prepared.segment_direction[segments]
    group = np.asarray(control_code, dtype=np.int64) * 2 + direction
    n_groups = 2 * len(controls)
    order = np.argsort(group, kind="stable")
    present = np.bincount(group, minlength=n_groups) > 0
    # resample only present groups: map to compact indices
    compact = np.cumsum(present) - 1
    unit_group = compact[group[order]]
    rng = np.random.default_rng(seed + 7919)
    resampling = resample_units(unit_group, int(present.sum()), n_bootstrap, rng)

    def group_means(s: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fs, bs = resampling.group_sum(s[order])
        fn, bn = resampling.group_sum(n[order])
        full = np.full(n_groups, np.nan)
        boot = np.full((n_bootstrap, n_groups), np.nan)
        with np.errstate(all="ignore"):
            full[present] = fs / fn
            boot[:, present] = bs / bn
        return full.reshape(-1, 2), boot.reshape(n_bootstrap, -1, 2)

    tau_group = np.bincount(group, weights=tau_fraction, minlength=n_groups) / np.maximum(
        np.bincount(group, minlength=n_groups), 1
    )
    slow = np.nanmax(tau_group.reshape(-1, 2), axis=1)
    mean, mean_boot = group_means(total, n_all)
    early, early_boot = group_means(early_sum, early_n)
    late_mean, late_boot = group_means(late_sum, late_n)
    gap = mean[:, 0] - mean[:, 1]
    gap_boot = mean_boot[..., 0] - mean_boot[..., 1]
    se = standard_error(gap_boot)
    both = np.isfinite(gap) & np.isfinite(se) & (se > 0)
    labels = (prepared.direction_labels[0], prepared.direction_labels[1])
    user_controls = np.asarray(prepared.to_control(np.asarray(controls, dtype=float)))
    scale = prepared.scale
    if both.sum() == 0:
        return HysteresisResult(
            labels,
            size,
            user_controls,
            gap * scale,
            se * scale,
            np.zeros_like(both),
            None,
            None,
            "none",
            "Up and down sweeps never share a control value: hysteresis cannot be assessed.",
        )
    critical = norm.ppf(1.0 - alpha / (2 * max(int(both.sum()), 1)))
    # gaps at round-off level (deterministic runs on the same branch) are no gap
    resolution = ROUND_OFF * float(np.nanmax(np.abs(mean))) if np.isfinite(mean).any() else 0.0
    with np.errstate(all="ignore"):
        significant = (
            both & (np.abs(gap) / np.where(both, se, 1.0) > critical) & (np.abs(gap) > resolution)
        )
    if not significant.any():
        return HysteresisResult(
            labels,
            size,
            user_controls,
            gap * scale,
            se * scale,
            significant,
            None,
            None,
            "none",
            f"Up and down sweeps agree within errors at every control (size {size:.4g}): "
            "no hysteresis.",
        )
    # the time trend, only where both halves were logged (a control with one retained
    # point per run has no early and late half)
    timed = significant & np.isfinite(early[:, 0] - early[:, 1])
    timed &= np.isfinite(late_mean[:, 0] - late_mean[:, 1])
    sign = np.sign(gap[timed])
    early_gap = (early[:, 0] - early[:, 1])[timed] * sign
    late_gap = (late_mean[:, 0] - late_mean[:, 1])[timed] * sign
    early_gap_boot = (early_boot[..., 0] - early_boot[..., 1])[:, timed] * sign
    late_gap_boot = (late_boot[..., 0] - late_boot[..., 1])[:, timed] * sign
    ratio, lo, hi = float("nan"), float("nan"), float("nan")
    if timed.any():
        with np.errstate(all="ignore"):
            ratio = float(np.sum(late_gap) / np.sum(early_gap))
            ratio_boot = np.nansum(late_gap_boot, axis=1) / np.nansum(early_gap_boot, axis=1)
        lo, hi = (float(v) for v in percentile_interval(ratio_boot))
    window = (float(user_controls[significant].min()), float(user_controls[significant].max()))
    shrinking = bool(np.isfinite(hi) and hi < SHRINKING)
    measured = bool(np.isfinite(ratio))
    relaxing = shrinking
    shown = f"{window[0]:.4g}" if window[0] == window[1] else f"{window[0]:.4g}–{window[1]:.4g}"
    if relaxing:
        return HysteresisResult(
            labels,
            size,
            user_controls,
            gap * scale,
            se * scale,
            significant,
            window,
            (ratio, float(lo), float(hi)),
            "finite-time",
            f"Up and down sweeps differ at control {shown}, but the gap closes with time "
            f"(gap late/early {ratio:.2f} [{lo:.2f}, {hi:.2f}]; relaxation time ≥ "
            f"{np.min(slow[significant]):.0%} of the retained steps): critical slowing "
            "down, not hysteresis.",
        )
    return HysteresisResult(
        labels,
        size,
        user_controls,
        gap * scale,
        se * scale,
        significant,
        window,
        (ratio, float(lo), float(hi)),
        "hysteresis",
        f"Hysteresis: up and down sweeps differ by up to "
        f"{np.max(np.abs(gap[significant])) * scale:.3g} "
        f"over control {shown} (size {size:.4g}) and the gap does not shrink with time "
        + (
            f"(late/early {ratio:.2f} [{lo:.2f}, {hi:.2f}])."
            if measured
            else "(one logged point per control: the gap cannot be split in time)."
        ),
    )
