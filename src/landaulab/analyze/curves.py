"""Per-size curves over the control parameter, and which side of them is ordered.

Every decision of an analysis reads the ensemble one system size at a time: χ, the Binder
cumulant, m_rms, ⟨m⟩ and ⟨m²⟩ against the control, each with its bootstrap replicates.
:class:`SizeCurves` holds them for one size (controls in the internal units of
:class:`~landaulab.analyze.frame.PreparedData`); :func:`build_curves` makes them for every
size. The helpers below say where the ordered phase lies: the side with the larger m_rms
(:func:`ordered_below`), and the run of controls from that end where m is clearly ordered
and settled (:func:`ordered_run`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landaulab.analyze.bootstrap import standard_error
from landaulab.analyze.ensemble import Ensemble
from landaulab.analyze.frame import PreparedData


def gaussian_binder(z: float) -> float:
    """Binder cumulant of a Gaussian peak of |m| whose mean lies ``z`` standard deviations
    from zero: U = 1 − (1 + 6/z² + 3/z⁴) / (3 (1 + 1/z²)²) (2/3 for z → ∞).

    Binder is invariant under m → −m, so the same threshold serves signed and |m| data.
    """
    return 1.0 - (1.0 + 6.0 / z**2 + 3.0 / z**4) / (3.0 * (1.0 + 1.0 / z**2) ** 2)


#: Clearly ordered: P(m) a peak at least 4 standard deviations from zero (U > 0.59), so
#: that its Gaussian tail puts fewer than one in 10⁴ samples (a large ensemble) at zero.
ORDERED_BINDER = gaussian_binder(4.0)
#: Unambiguously ordered: at least 5 standard deviations from zero (U > 0.62); a
#: susceptibility peak there is not a critical fluctuation peak.
DEEPLY_ORDERED_BINDER = gaussian_binder(5.0)

#: Retained rows a time (about; blocks end between segments) in :func:`settled`.
CHUNK = 1 << 20


@dataclass(frozen=True, eq=False)
class SizeCurves:
    """Per-size arrays over the control (internal units): data and bootstrap replicates.

    Attributes
    ----------
    size, volume
        The system size and its mean volume.
    index
        The ensemble groups of this size, in increasing control.
    t
        Their controls (internal units).
    chi, binder, rms, mean, m2
        Susceptibility, Binder cumulant, √⟨m²⟩, ⟨m⟩ and ⟨m²⟩ per control; each
        ``<name>_boot`` holds the bootstrap replicates (replicate × control).
    variance
        Var(m) of the data (χ divides it by each group's volume).
    """

    size: float
    volume: float
    index: np.ndarray
    t: np.ndarray
    chi: np.ndarray
    chi_boot: np.ndarray
    binder: np.ndarray
    binder_boot: np.ndarray
    rms: np.ndarray
    rms_boot: np.ndarray
    mean: np.ndarray
    mean_boot: np.ndarray
    m2: np.ndarray
    m2_boot: np.ndarray
    variance: np.ndarray


def size_curves(ensemble: Ensemble, size: float) -> SizeCurves:
    """The curves of one size of ``ensemble``."""
    index = ensemble.size_groups(size)
    full, boot = ensemble.full, ensemble.boot
    return SizeCurves(
        size=float(size),
        volume=float(np.mean(ensemble.group_volume[index])),
        index=index,
        t=ensemble.group_control[index],
        chi=ensemble.susceptibility(full, index),
        chi_boot=ensemble.susceptibility(boot, index),
        binder=full.binder()[index],
        binder_boot=boot.binder()[:, index],
        rms=full.rms()[index],
        rms_boot=boot.rms()[:, index],
        mean=full.mean()[index],
        mean_boot=boot.mean()[:, index],
        m2=full.m2[index],
        m2_boot=boot.m2[:, index],
        variance=full.variance()[index],
    )


def build_curves(ensemble: Ensemble) -> dict[float, SizeCurves]:
    """The curves of every size, keyed by size in increasing order."""
    return {float(s): size_curves(ensemble, s) for s in ensemble.sizes}


def ordered_below(c: SizeCurves) -> bool:
    """Whether the ordered phase (larger m_rms) is at low control values."""
    ok = np.isfinite(c.rms)
    rms = c.rms[ok]
    if rms.size < 2:
        return True
    k = max(rms.size // 3, 1)
    return bool(np.mean(rms[:k]) >= np.mean(rms[-k:]))


def order_parameter_curve(
    c: SizeCurves, use_abs: bool, symmetric: bool
) -> tuple[np.ndarray, np.ndarray]:
    """⟨m⟩ (or m_rms for a signed symmetric m) of one size, with replicates."""
    if use_abs or not symmetric:
        return c.mean, c.mean_boot
    return c.rms, c.rms_boot


def settled(
    prepared: PreparedData, ensemble: Ensemble, *, z: float = 3.0, tolerance: float = 0.01
) -> np.ndarray:
    """Per group: whether ⟨m⟩ has stopped drifting within the retained steps.

    Each run's mean over the late half of its retained steps minus that over the early
    half; the group drifts when the mean of these differences exceeds ``z`` standard
    errors (over runs) and ``tolerance`` of |⟨m⟩| (slow convergence near a transition,
    critical slowing down). Groups with one run are judged by the relative drift alone.
    """
    # retained rows of each segment (every segment keeps its last row), from the segments'
    # stretches of rows: no per-row array of segments or ranks is built
    row_segment = prepared.row_segment
    if row_segment.size == 0:
        return np.ones(ensemble.n_groups, dtype=bool)
    seg_starts = np.r_[0, np.flatnonzero(row_segment[1:] != row_segment[:-1]) + 1]
    counts = _count_in_stretches(prepared.row_kept, seg_starts)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    # a retained row is late when its rank r in the segment's retained rows has
    # r >= count / 2, i.e. r >= ceil(count / 2)
    late_from = starts + (counts + 1) // 2
    values = ensemble.row_value
    unit = ensemble.row_unit
    n_units = int(unit.max()) + 1 if unit.size else 0
    if n_units == 0:
        return np.ones(ensemble.n_groups, dtype=bool)
    sums = np.zeros((4, n_units))  # late sum, late count, early sum, early count
    # blocks of whole segments (a unit never spans two blocks, so every unit's sums add
    # its rows in the same order as one pass over all rows: the same numbers)
    bounds = np.r_[starts, unit.size]
    for first, last in _stretch_blocks(starts, unit.size):
        low, high = int(bounds[first]), int(bounds[last])
        late = np.arange(low, high) >= np.repeat(late_from[first:last], counts[first:last])
        part, v = unit[low:high], values[low:high]
        sums[0] += np.bincount(part, np.where(late, v, 0.0), n_units)
        sums[1] += np.bincount(part, late.astype(float), n_units)
        sums[2] += np.bincount(part, np.where(late, 0.0, v), n_units)
        sums[3] += np.bincount(part, (~late).astype(float), n_units)
    with np.errstate(all="ignore"):
        late_mean = sums[0] / sums[1]
        early_mean = sums[2] / sums[3]
        drift = late_mean - early_mean
        ok = np.isfinite(drift)
        unit_group = np.zeros(n_units, dtype=np.int64)
        unit_group[unit] = ensemble.row_group
        n = np.bincount(unit_group[ok], minlength=ensemble.n_groups).astype(float)
        mean = np.bincount(unit_group[ok], drift[ok], ensemble.n_groups) / n
        square = np.bincount(unit_group[ok], drift[ok] ** 2, ensemble.n_groups) / n
        se = np.sqrt(np.maximum(square - mean**2, 0.0) * n / (n - 1) / n)
        level = np.abs(ensemble.full.mean())
        relative = np.abs(mean) > tolerance * level
        significant = np.where(n >= 2, np.abs(mean) > z * se, True)
    return ~(relative & significant)


def _stretch_blocks(starts: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Consecutive ranges ``first:last`` of the stretches that begin at ``starts`` (of
    ``size`` rows in all), each about :data:`CHUNK` rows and never splitting a stretch."""
    cuts = np.searchsorted(starts, np.arange(0, size, CHUNK), side="right") - 1
    cuts = np.unique(np.r_[cuts, starts.size])
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))


def _count_in_stretches(mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The number of True entries of ``mask`` in each stretch ``starts[i]:starts[i + 1]``
    (the last up to the end), summed a block of whole stretches at a time (a sum in int64
    of the whole mask would first convert every entry)."""
    counts = np.empty(starts.size, dtype=np.int64)
    bounds = np.r_[starts, mask.size]
    for first, last in _stretch_blocks(starts, mask.size):
        low, high = int(bounds[first]), int(bounds[last])
        counts[first:last] = np.add.reduceat(
            mask[low:high], starts[first:last] - low, dtype=np.int64
        )
    return counts


def ordered_run(
    c: SizeCurves,
    m: np.ndarray,
    m_boot: np.ndarray,
    below: bool,
    is_settled: np.ndarray,
    *,
    z: float = 3.0,
) -> np.ndarray:
    """The contiguous controls from the ordered end where m is clearly ordered and settled.

    Clearly ordered: Binder cumulant above :data:`ORDERED_BINDER` (P(m) a peak at least
    four standard deviations away from zero) and m above ``z`` bootstrap standard errors;
    settled: see :func:`settled` (``is_settled`` per control of ``c``). ``below`` says
    whether the ordered phase lies at low controls.
    """
    se = standard_error(m_boot)
    with np.errstate(all="ignore"):
        clear = is_settled & (c.binder > ORDERED_BINDER) & np.isfinite(m) & (m > 0) & ~(m <= z * se)
    order = np.arange(c.t.size) if below else np.arange(c.t.size)[::-1]
    run = np.zeros(c.t.size, dtype=bool)
    for i in order:
        if not clear[i]:
            break
        run[i] = True
    return run


__all__ = [
    "DEEPLY_ORDERED_BINDER",
    "ORDERED_BINDER",
    "SizeCurves",
    "build_curves",
    "gaussian_binder",
    "order_parameter_curve",
    "ordered_below",
    "ordered_run",
    "settled",
    "size_curves",
]
