"""What a sweep's control design is, once for the whole package: a grid, or irregular.

A *grid* repeats its control values: several runs (seeds) share each value, and the runs at
one value are an ensemble whose statistics are resampled over runs. An *irregular* design
(random search, adaptive refinement, a sparse grid of one to three seeds per value) has
controls that are unique or nearly so per run; grouping runs by exact value would give one
ensemble per run, with no runs to resample and as many groups as runs.

The rule, for the units (runs, or run segments) of one system size with control values
``x``: let ``n`` be their number, ``k`` the number of distinct values and ``r`` the median
number of units per distinct value.

* The design is a **grid**, and is used as it is, when ``r ≥ min_per_value`` (the fewest
  units the caller's bootstrap resamples: most values have enough runs), or when binning
  would not help: fewer than :data:`MIN_BINS` bins, or no fewer bins than values.
* Otherwise it is **irregular**, and the units are grouped into about ``b`` bins of equal
  count in control order (equal-frequency, i.e. quantile, binning; Dougherty, Kohavi &
  Sahami 1995, "Supervised and unsupervised discretization of continuous features",
  ICML), a regressogram of the observables against the control (Tukey 1961, "Curves as
  parameters, and touch estimation", Proc. 4th Berkeley Symp. 1, 681). The number of bins
  follows the square-root choice ``b = round(√n)`` (both the number of bins and the units
  per bin grow like √n: resolution and precision improve together), capped so that a bin
  holds at least ``per_bin`` units (``b ≤ n // per_bin``, enough for a bootstrap over
  runs) and at most :data:`MAX_BINS` bins.
* No bin spans a gap between neighbouring values wider than an equal-width bin,
  ``w = (max x − min x) / b``: the values are first cut into stretches at such gaps
  (single linkage at height ``w``; Gower & Ross 1969, Appl. Stat. 18, 54), and a stretch of
  ``m`` units gets ``max(1, round(m·b/n))`` equal-count bins. A sparse region that a design
  left on purpose (the coarse rounds of an adaptive refinement) keeps its values apart
  instead of being pooled across its wide spacing.

Units with the same control value always fall into the same bin (a bin's edges lie
between distinct values). A bin's control is the mean of its units' controls, so a
statistic that is linear in the control near the bin is read at the right place; the
spread of the control within a bin adds ``(dm/dT)²·Var(T)`` to a bin's variance of ``m``,
which the caller removes (statics: a local-linear adjustment, :mod:`landaulab.analyze.design`)
or which the square-root rule keeps of order ``1/n`` of the control range squared.

Statics (:mod:`landaulab.analyze.design`) apply the rule per size, never merging sizes;
dynamics (:meth:`landaulab.dynamics.trajectories.Trajectories.groups`) apply it to the
runs' controls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Fewest bins an irregular design is grouped into; with fewer, the values are kept.
MIN_BINS = 8
#: Most bins per size (bounds the cost of very large random searches).
MAX_BINS = 100

#: The rule in one sentence (``inputs.design.rule`` of an analysis).
RULE = (
    "grid when the median number of runs per distinct control value reaches the "
    "bootstrap's minimum; otherwise equal-count bins in control order per size, "
    f"round(sqrt(n)) bins of n runs (at least {MIN_BINS}, at most {MAX_BINS}, "
    "each holding enough runs to resample), never across a gap between control values "
    "wider than an equal-width bin; a bin's control the mean of its runs' controls"
)


@dataclass(frozen=True, eq=False)
class Binning:
    """How the units of one size are grouped along the control.

    Attributes
    ----------
    kind
        ``"grid"`` (one group per distinct value) or ``"irregular"`` (equal-count bins).
    label
        Array (n,): the group of every unit, groups numbered in increasing control.
    control
        Array (G,): each group's control (the distinct value, or the mean of the bin).
    low, high
        Arrays (G,): the smallest and largest control in each group.
    count
        Array (G,): units per group.
    n_values
        Distinct control values among the units.
    """

    kind: str
    label: np.ndarray
    control: np.ndarray
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray
    n_values: int

    @property
    def irregular(self) -> bool:
        """Whether the units were binned."""
        return self.kind == "irregular"

    @property
    def n_groups(self) -> int:
        """Number of groups G."""
        return int(self.control.size)

    def summary(self) -> str:
        """``"2000 control values into 45 bins of 44–45 runs"`` (of an irregular design)."""
        low, high = int(self.count.min()), int(self.count.max())
        runs = f"{low}" if low == high else f"{low}–{high}"
        return f"{self.n_values} control values into {self.n_groups} bins of {runs} runs"


def bin_count(n: int, per_bin: int) -> int:
    """Bins of an irregular design of ``n`` units: ``round(√n)``, at most ``n // per_bin``
    and :data:`MAX_BINS`."""
    return int(min(round(float(np.sqrt(max(n, 0)))), n // max(per_bin, 1), MAX_BINS))


def bin_controls(controls: Any, *, min_per_value: int, per_bin: int) -> Binning:
    """Recognise the design of ``controls`` (one per unit) and group the units.

    Parameters
    ----------
    controls
        The control value of every unit (finite).
    min_per_value
        The fewest units per group the caller's bootstrap resamples as whole runs.
    per_bin
        The fewest units an irregular design's bin should hold.

    Returns
    -------
    Binning
        For a grid, one group per distinct value (exactly ``numpy.unique``); for an
        irregular design, the equal-count bins of the module's rule.
    """
    x = np.asarray(controls, dtype=float).ravel()
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    n, k = x.size, values.size
    b = bin_count(n, per_bin)
    if k == 0 or np.median(counts) >= min_per_value or b < MIN_BINS or b >= k:
        return Binning(
            kind="grid",
            label=inverse,
            control=values,
            low=values,
            high=values,
            count=counts,
            n_values=k,
        )
    # stretches: runs of distinct values without a gap wider than an equal-width bin
    width = float(values[-1] - values[0]) / b
    stretch = np.r_[0, np.cumsum(np.diff(values) > width)]
    in_stretch = np.bincount(stretch, weights=counts).astype(np.int64)
    first_value = np.r_[0, np.flatnonzero(np.diff(stretch)) + 1]
    before = np.cumsum(counts) - counts  # units below each value
    rank = before - before[first_value][stretch]  # units below it within its stretch
    n_bins = np.maximum(np.rint(in_stretch * b / n).astype(np.int64), 1)
    offset = np.cumsum(n_bins) - n_bins
    value_bin = offset[stretch] + np.minimum(
        (rank * n_bins[stretch]) // in_stretch[stretch], n_bins[stretch] - 1
    )
    value_bin = np.unique(value_bin, return_inverse=True)[1].ravel()
    label = value_bin[inverse]
    count = np.bincount(label)
    with np.errstate(invalid="ignore", divide="ignore"):
        control = np.bincount(label, weights=x) / count
    first = np.r_[0, np.flatnonzero(np.diff(value_bin)) + 1]
    last = np.r_[first[1:] - 1, k - 1]
    return Binning(
        kind="irregular",
        label=label,
        control=control,
        low=values[first],
        high=values[last],
        count=count,
        n_values=k,
    )


def bins_to_dict(binning: Binning, size: float | None = None) -> list[dict[str, Any]]:
    """The bins as ``[{"low", "high", "control", "n_runs"(, "size")}, ...]`` (JSON-safe)."""
    out = []
    for j in range(binning.n_groups):
        entry: dict[str, Any] = {
            "low": float(binning.low[j]),
            "high": float(binning.high[j]),
            "control": float(binning.control[j]),
            "n_runs": int(binning.count[j]),
        }
        if size is not None:
            entry["size"] = float(size)
        out.append(entry)
    return out


def is_seed(name: str) -> bool:
    """Whether a column of a sweep holds a random seed (``seed`` or ``*_seed``): the seeds
    repeat a design point; they are never a control, a size or a slice of the runs."""
    lowered = str(name).lower()
    return lowered == "seed" or lowered.endswith("_seed")
