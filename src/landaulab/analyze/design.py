"""The control design of an analysis: a grid is used as it is, an irregular design binned.

Every ensemble of the analysis is the runs at one (control, size). On a grid (several seeds
per control value) these are the runs at each value. A random search, an irregular grid
from adaptive refinement or a sparse grid (one to three seeds per value) has too few runs
per value to resample them; its run segments are grouped, per size and never across sizes,
into equal-count bins along the control by the one rule of :mod:`landaulab.design`
(equal-frequency binning, Dougherty, Kohavi & Sahami 1995; a regressogram, Tukey 1961;
``round(√n)`` bins of ``n`` segments, each holding at least
:data:`~landaulab.analyze.bootstrap.TARGET_UNITS` of them where the design allows, so the
bootstrap resamples runs). A bin's control is the mean of its segments' controls; every
later stage (ensemble, bootstrap, curves, locators) sees those controls.

Pooling runs at different controls would turn the change of ⟨m⟩ across a bin into
spurious fluctuations: a bin of width w on a slope dm/dT adds (dm/dT)²·w²/12 to Var(m),
and so to χ and the Binder cumulant. :func:`adjust_within_bins` removes it to first order
by local-linear regression adjustment (Beaumont, Zhang & Balding 2002, Genetics 162, 2025;
the covariate adjustment of an analysis of covariance): within each bin the segments'
late-time means are regressed on their controls (least squares weighted by late samples)
and every sample is moved along the fitted slope to the bin's control,
``m ← m − b·(T_segment − T_bin)``. The bin's mean becomes the regression's value at the bin's
control, and its fluctuations are those of the runs about the local trend.

A grid is left exactly as it is: :func:`design_controls` then returns the segment controls
unchanged and no sample is adjusted, so the results of a grid are bit-identical to an
analysis without this step.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from landaulab.analyze.bootstrap import MIN_UNITS, TARGET_UNITS
from landaulab.design import RULE, bin_controls, bins_to_dict

#: How samples of a bin are read at the bin's control (appended to the rule of the design).
ADJUSTMENT = (
    "; in a bin, samples moved along the slope of the runs' mean m against their controls "
    "to the bin's control (local-linear regression adjustment)"
)


@dataclass(frozen=True, eq=False)
class Design:
    """The design an analysis saw and how it grouped the runs.

    Attributes
    ----------
    kind
        ``"grid"`` or ``"irregular"`` (some size was binned).
    bins
        For an irregular design, one entry per bin of every binned size:
        ``{"low", "high", "control", "n_runs", "size"}`` in the user's units (``n_runs``
        counts run segments, i.e. runs unless a run sweeps the control).
    summaries
        One phrase per binned size (for the evidence).
    segment_bin
        Bin of every segment (numbered over all sizes; −1 for segments of a size left as
        a grid); empty for a grid.
    """

    kind: str
    bins: tuple[dict[str, Any], ...] = ()
    summaries: tuple[str, ...] = ()
    segment_bin: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def to_dict(self) -> dict[str, Any]:
        """``inputs.design``: ``{"kind", "rule"}``, plus ``"bins"`` when irregular."""
        out: dict[str, Any] = {"kind": self.kind, "rule": RULE + ADJUSTMENT}
        if self.kind == "irregular":
            out["bins"] = [dict(b) for b in self.bins]
        return out

    def sentence(self) -> str | None:
        """The evidence line of an irregular design (``None`` for a grid)."""
        if self.kind != "irregular":
            return None
        return (
            "Irregular control design (too few runs share a control value to resample "
            "them): runs grouped into equal-count bins along the control, each bin at the "
            "mean control of its runs, samples moved along the bin's fitted slope of m to "
            "that control (local-linear regression adjustment): " + "; ".join(self.summaries) + "."
        )


GRID = Design(kind="grid")


def design_controls(
    segment_control: np.ndarray,
    segment_size: np.ndarray,
    to_user: Any,
) -> tuple[np.ndarray, Design]:
    """The segment controls the analysis uses, and the :class:`Design` they came from.

    Parameters
    ----------
    segment_control
        Control of every segment (internal units).
    segment_size
        Size of every segment.
    to_user
        Maps internal controls to the user's units (for the bins' report).

    Returns
    -------
    controls, design
        ``segment_control`` itself for a grid; otherwise a copy where the segments of each
        binned size carry their bin's mean control.
    """
    controls = segment_control
    segment_bin = np.full(segment_control.size, -1, dtype=np.int64)
    bins: list[dict[str, Any]] = []
    summaries: list[str] = []
    sizes = np.unique(segment_size)
    for size in sizes:
        at = np.flatnonzero(segment_size == size)
        binning = bin_controls(segment_control[at], min_per_value=MIN_UNITS, per_bin=TARGET_UNITS)
        if not binning.irregular:
            continue
        if controls is segment_control:
            controls = segment_control.copy()
        controls[at] = binning.control[binning.label]
        segment_bin[at] = len(bins) + binning.label
        summaries.append(binning.summary() + (f" at size {size:.6g}" if sizes.size > 1 else ""))
        user = replace(
            binning,
            low=np.asarray(to_user(binning.low), dtype=float),
            high=np.asarray(to_user(binning.high), dtype=float),
            control=np.asarray(to_user(binning.control), dtype=float),
        )
        bins += bins_to_dict(user, float(size))
    if not bins:
        return segment_control, GRID
    design = Design(
        kind="irregular", bins=tuple(bins), summaries=tuple(summaries), segment_bin=segment_bin
    )
    return controls, design


def adjust_within_bins(
    design: Design,
    row_value: np.ndarray,
    row_segment: np.ndarray,
    row_kept: np.ndarray,
    raw_control: np.ndarray,
    bin_control: np.ndarray,
) -> np.ndarray:
    """``row_value`` moved along each bin's slope to the bin's control (see the module).

    Parameters
    ----------
    design
        From :func:`design_controls`; a grid returns ``row_value`` itself.
    row_value, row_segment, row_kept
        Samples, their segments and the burn-in mask (the slope is fitted to late samples).
    raw_control, bin_control
        Every segment's own control and its bin's control (internal units).
    """
    if design.kind != "irregular":
        return row_value
    segment_bin = design.segment_bin
    n_segments = segment_bin.size
    kept_segment = row_segment[row_kept]
    weight = np.bincount(kept_segment, minlength=n_segments).astype(float)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        total = np.bincount(kept_segment, weights=row_value[row_kept], minlength=n_segments)
        mean = np.where(weight > 0, total / weight, 0.0)
    del kept_segment
    binned = (segment_bin >= 0) & (weight > 0) & np.isfinite(mean)
    n_bins = int(segment_bin.max()) + 1
    b, w = segment_bin[binned], weight[binned]
    x, y = raw_control[binned], mean[binned]
    sum_w = np.bincount(b, weights=w, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_bar = np.bincount(b, weights=w * x, minlength=n_bins) / sum_w
        y_bar = np.bincount(b, weights=w * y, minlength=n_bins) / sum_w
        dx = x - x_bar[b]
        sxx = np.bincount(b, weights=w * dx**2, minlength=n_bins)
        sxy = np.bincount(b, weights=w * dx * (y - y_bar[b]), minlength=n_bins)
        slope = np.where(sxx > 0, sxy / sxx, 0.0)
    slope = np.where(np.isfinite(slope), slope, 0.0)
    shift = np.where(
        segment_bin >= 0, slope[np.maximum(segment_bin, 0)] * (raw_control - bin_control), 0.0
    )
    adjusted = shift[row_segment]  # one array per row: the shift, then the result
    np.subtract(row_value, adjusted, out=adjusted)
    return adjusted
