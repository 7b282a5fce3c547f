"""The distribution P(m) of the order parameter per (control, size), and its modes.

Histograms are accumulated per resampling unit, so the histogram of any bootstrap
replicate is one weighted sum (a matrix product). When m takes values on a lattice (e.g.
m = M/N for N spins) the bins are aligned with the lattice so that every bin holds the same
number of lattice points; otherwise the estimate of −log P(m) would show a saw-tooth.

Modes are counted with a dip criterion: two neighbouring maxima are separate modes when
the minimum between them is both deep (below ``depth`` times the lower maximum) and
significant (lower by ``z`` bootstrap standard errors) — a histogram version of the dip
idea of Hartigan & Hartigan 1985 (Ann. Stat. 13, 70), with errors from resampling runs.
A symmetric order parameter with three modes (−m*, 0, +m*), or |m| with two (0, m*),
shows coexisting phases: the mark of a first-order transition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landaulab.analyze.bootstrap import Resampling
from landaulab.analyze.ensemble import Ensemble
from landaulab.analyze.findings import Findings


@dataclass(frozen=True, eq=False)
class Histograms:
    """Per-group histograms of the scaled order parameter u = m / scale.

    Attributes
    ----------
    lower, width
        Arrays (G,): left edge of the first bin and the bin width of each group.
    unit_counts
        Array (U, n_bins): counts of each resampling unit.
    full
        Array (G, n_bins): counts of each group.
    symmetric
        Whether P(m) is treated as symmetric under m → −m (|m| data or a signed symmetric
        order parameter).
    """

    lower: np.ndarray
    width: np.ndarray
    unit_counts: np.ndarray
    full: np.ndarray
    symmetric: bool
    absolute: bool = False

    def effective_width(self, group: int) -> np.ndarray:
        """Width of each bin that lies in the support (|m| data have none below zero)."""
        widths = np.full(self.n_bins, self.width[group])
        if self.absolute:
            left = self.lower[group] + self.width[group] * np.arange(self.n_bins)
            widths -= np.clip(-left, 0.0, self.width[group])
        return np.maximum(widths, 1e-300)

    @property
    def n_bins(self) -> int:
        """Number of bins per group."""
        return int(self.full.shape[1])

    def centres(self, group: int) -> np.ndarray:
        """Bin centres of one group (scaled units)."""
        return self.lower[group] + self.width[group] * (np.arange(self.n_bins) + 0.5)

    def replicates(
        self, group: int, resampling: Resampling, limit: int | None = None
    ) -> np.ndarray:
        """Histogram of one group in the bootstrap replicates, shape (B, n_bins).

        ``limit`` keeps only the first replicates.
        """
        start = resampling.group_starts[group]
        stop = (
            resampling.group_starts[group + 1]
            if group + 1 < resampling.group_starts.size
            else resampling.unit_group.size
        )
        weights = resampling.weights[:limit, start:stop].astype(float)
        return weights @ self.unit_counts[start:stop]


#: Samples a time when :func:`build_histograms` bins them.
BIN_CHUNK = 1 << 20

#: Rows a time in the passes of :func:`is_symmetric` (its temporaries stay a few MB).
SYMMETRY_CHUNK = 1 << 20


def is_symmetric(values: np.ndarray, use_abs: bool, *, finite_only: bool = False) -> bool:
    """Whether a signed order parameter looks Z₂-symmetric (both signs, similar weight).

    Of the samples larger in magnitude than a quarter of the largest, between 30 % and
    70 % must be negative (and at least 10 such samples). A non-finite sample makes the
    largest magnitude non-finite, so the answer is no, unless ``finite_only`` (the rule is
    then applied to the finite samples). Two passes over blocks of
    :data:`SYMMETRY_CHUNK` samples: no temporary array of the size of ``values``.
    """
    if use_abs:
        return True
    values = np.asarray(values)
    if values.size == 0:
        return False
    chunks = range(0, values.size, SYMMETRY_CHUNK)

    def magnitudes(low: int) -> tuple[np.ndarray, np.ndarray]:
        part = values[low : low + SYMMETRY_CHUNK]
        if finite_only:
            part = part[np.isfinite(part)]
        return part, np.abs(part)

    top: float | None = None
    for low in chunks:
        _, magnitude = magnitudes(low)
        if magnitude.size == 0:
            continue
        largest = magnitude.max()
        if np.isnan(largest):  # NaN propagates, as through one max over every sample
            top = float("nan")
            break
        top = float(largest) if top is None else max(top, float(largest))
    if top is None:
        return False
    threshold = 0.25 * top
    n_big = n_negative = 0
    for low in chunks:
        part, magnitude = magnitudes(low)
        big = magnitude > threshold
        n_big += int(np.count_nonzero(big))
        n_negative += int(np.count_nonzero(part[big] < 0))
    if n_big < 10:
        return False
    negative = n_negative / n_big
    return 0.3 <= negative <= 0.7


def build_histograms(ensemble: Ensemble, symmetric: bool) -> Histograms:
    """Histogram the retained samples of every group (per unit), aligning lattice data."""
    values = ensemble.row_value
    group = ensemble.row_group
    n_groups = ensemble.n_groups
    median_n = float(np.median(ensemble.full.n)) if n_groups else 1.0
    n_bins = int(np.clip(round(2.0 * median_n ** (1.0 / 3.0)), 12, 60))
    vmin, vmax = _group_range(values, group, n_groups)
    if ensemble.prepared.use_abs:
        lo, hi = np.zeros(n_groups), vmax
    elif symmetric:
        reach = np.maximum(np.abs(vmin), np.abs(vmax))
        lo, hi = -reach, reach
    else:
        lo, hi = vmin, vmax
    spacing = _lattice_spacing(values, group, n_groups)
    span = hi - lo
    lattice = np.isfinite(spacing) & (
        span <= 4 * n_bins * np.where(np.isfinite(spacing), spacing, 0)
    )
    safe = np.where(lattice, spacing, 1.0)
    multiple = np.maximum(np.ceil((vmax - vmin + safe) / (n_bins * safe) - 1e-9), 1.0)
    width = np.where(lattice, multiple * safe, np.where(span > 0, span / n_bins * (1 + 1e-9), 1.0))
    lower = np.where(lattice, vmin - 0.5 * safe, lo)
    # the bin of every sample, a block of samples at a time (n_bins <= 60: one byte each)
    bins = np.empty(values.size, dtype=np.uint8)
    for low in range(0, values.size, BIN_CHUNK):
        part = group[low : low + BIN_CHUNK]
        position = values[low : low + BIN_CHUNK] - lower[part]
        position /= width[part]
        np.floor(position, out=position)
        np.clip(position, 0, n_bins - 1, out=position)
        bins[low : low + BIN_CHUNK] = position
    n_units = ensemble.resampling.unit_group.size
    key = ensemble.row_unit * n_bins
    key += bins
    unit_counts = np.bincount(key, minlength=n_units * n_bins).reshape(n_units, n_bins)
    np.multiply(group, n_bins, out=key)
    key += bins
    del bins
    full = np.bincount(key, minlength=n_groups * n_bins).reshape(n_groups, n_bins)
    del key
    return Histograms(
        lower=lower,
        width=width,
        unit_counts=unit_counts.astype(float),
        full=full.astype(float),
        symmetric=symmetric,
        absolute=ensemble.prepared.use_abs,
    )


def _group_range(
    values: np.ndarray, group: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value of each group, NaN ignored (NaN for a group without a
    number), by unbuffered reductions over the rows: no copy of them."""
    low = np.full(n_groups, np.inf)
    high = np.full(n_groups, -np.inf)
    np.fmin.at(low, group, values)
    np.fmax.at(high, group, values)
    empty = (low == np.inf) & (high == -np.inf)
    low[empty] = np.nan
    high[empty] = np.nan
    return low, high


def _lattice_spacing(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Smallest positive gap between distinct values of each group (inf if continuous).

    The values of one group at a time are sorted (rows are gathered by a stable sort of the
    group codes), so the work memory is one group's values, not several copies of all rows.
    """
    counts = np.bincount(group, minlength=n_groups)
    order = np.argsort(group, kind="stable")
    bounds = np.r_[0, np.cumsum(counts)]
    smallest = np.full(n_groups, np.nan)
    distinct = np.zeros(n_groups)
    for g in range(n_groups):
        if counts[g] < 2:
            continue
        v = np.sort(values[order[bounds[g] : bounds[g + 1]]])
        gap = np.diff(v)
        positive = gap > 1e-12 * np.maximum(np.abs(v[1:]), 1e-300)
        distinct[g] = np.count_nonzero(positive)
        if distinct[g]:
            smallest[g] = gap[positive].min()
    # A lattice: the data repeat values (far fewer distinct values than samples).
    discrete = distinct + 1 < 0.5 * counts
    return np.where(discrete & np.isfinite(smallest), smallest, np.inf)


@dataclass(frozen=True)
class Modes:
    """Significant modes of P(m) in one group.

    Attributes
    ----------
    locations
        Locations of the modes (scaled units), ascending.
    dip_ratio
        The deepest dip between neighbouring modes relative to the lower mode (1 if unimodal).
    """

    locations: tuple[float, ...]
    dip_ratio: float

    @property
    def count(self) -> int:
        """Number of significant modes."""
        return len(self.locations)


def find_modes(
    counts: np.ndarray,
    replicate_counts: np.ndarray,
    centres: np.ndarray,
    *,
    depth: float = 0.7,
    z: float = 4.0,
) -> Modes:
    """Significant modes of one histogram, with errors from its bootstrap replicates.

    Parameters
    ----------
    counts
        Histogram counts (n_bins,).
    replicate_counts
        Histograms of the bootstrap replicates (B, n_bins).
    centres
        Bin centres.
    depth
        A dip must fall below ``depth`` × the lower neighbouring maximum.
    z
        ...and be lower than it by ``z`` bootstrap standard errors.
    """
    kernel = np.array([0.25, 0.5, 0.25])
    smooth = np.convolve(counts, kernel, mode="same")
    reps = 0.5 * replicate_counts
    reps[:, 1:] += 0.25 * replicate_counts[:, :-1]
    reps[:, :-1] += 0.25 * replicate_counts[:, 1:]
    se = np.std(reps, axis=0, ddof=1) if reps.shape[0] > 1 else np.sqrt(smooth)
    se = np.maximum(se, np.sqrt(np.maximum(smooth, 1.0)) * 0.5)
    if smooth.max() <= 0:
        return Modes(locations=(), dip_ratio=1.0)
    padded = np.r_[-np.inf, smooth, -np.inf]
    peaks = list(np.flatnonzero((padded[1:-1] > padded[:-2]) & (padded[1:-1] >= padded[2:])))
    merged = True
    best_ratio = 1.0
    while merged and len(peaks) > 1:
        merged = False
        weakest: tuple[float, int] | None = None
        for k in range(len(peaks) - 1):
            a, b = peaks[k], peaks[k + 1]
            valley = a + int(np.argmin(smooth[a : b + 1]))
            low = a if smooth[a] <= smooth[b] else b
            drop = smooth[low] - smooth[valley]
            significance = drop / np.hypot(se[low], se[valley])
            ratio = smooth[valley] / smooth[low] if smooth[low] > 0 else 1.0
            if ratio >= depth or significance < z:
                score = significance if ratio < depth else -1.0
                if weakest is None or score < weakest[0]:
                    weakest = (score, k)
        if weakest is not None:
            k = weakest[1]
            a, b = peaks[k], peaks[k + 1]
            peaks.pop(k if smooth[a] < smooth[b] else k + 1)
            merged = True
    for k in range(len(peaks) - 1):
        a, b = peaks[k], peaks[k + 1]
        low = min(smooth[a], smooth[b])
        if low > 0:
            best_ratio = min(best_ratio, float(smooth[a : b + 1].min() / low))
    return Modes(locations=tuple(float(centres[p]) for p in peaks), dip_ratio=best_ratio)


def symmetry_findings(symmetric: bool, use_abs: bool) -> Findings:
    """A hint when a signed m is Z₂-symmetric: its χ peak is that of |m| (``use_abs``)."""
    if not symmetric or use_abs:
        return Findings()
    return Findings(
        evidence=(
            "m takes both signs with similar weight (Z₂-symmetric); pass use_abs=True "
            "(--abs) for the susceptibility peak of |m|.",
        )
    )
