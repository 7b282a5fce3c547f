"""Ensemble statistics per (control, size): moments, susceptibility, Binder cumulant.

The ensemble at one (control T, size L) is every retained step of every run there. From the
moments ⟨m⟩, ⟨m²⟩, ⟨m⁴⟩ it gives

* the susceptibility χ = V·(⟨m²⟩ − ⟨m⟩²) with V the volume (with |m| this is the
  finite-size χ′ whose peak locates T_c; Binder 1981, Z. Phys. B 43, 119),
* the Binder cumulant U₄ = 1 − ⟨m⁴⟩/(3⟨m²⟩²) (Binder 1981, Phys. Rev. Lett. 47, 693),
* m_rms = √⟨m²⟩, which scales like |m| but also works for signed symmetric m.

Every quantity comes for the data and for all bootstrap replicates (resampling runs).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from landaulab.analyze.bootstrap import (
    MIN_UNITS,
    TARGET_UNITS,
    Resampling,
    resample_units,
    standard_error,
)
from landaulab.analyze.findings import Findings, warn
from landaulab.analyze.frame import PreparedData
from landaulab.errors import FewSamplesWarning


@dataclass(frozen=True, eq=False)
class Moments:
    """Raw moments of the (scaled) order parameter per group, data and replicates."""

    n: np.ndarray
    m1: np.ndarray
    m2: np.ndarray
    m4: np.ndarray

    def mean(self) -> np.ndarray:
        """⟨m⟩."""
        return self.m1

    def variance(self) -> np.ndarray:
        """⟨m²⟩ − ⟨m⟩² (clipped at zero)."""
        return np.maximum(self.m2 - self.m1**2, 0.0)

    def rms(self) -> np.ndarray:
        """√⟨m²⟩."""
        return np.sqrt(np.maximum(self.m2, 0.0))

    def binder(self) -> np.ndarray:
        """U₄ = 1 − ⟨m⁴⟩/(3⟨m²⟩²); NaN where ⟨m²⟩ = 0."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1.0 - self.m4 / (3.0 * self.m2**2)
        return np.where(self.m2 > 0, out, np.nan)


@dataclass(frozen=True, eq=False)
class Ensemble:
    """Groups (control, size), resampling units and their moments.

    Groups are sorted by size, then control. Controls are in the internal standardised
    units of :class:`~landaulab.analyze.frame.PreparedData`; the order parameter is scaled
    by ``prepared.scale`` and volumes by ``prepared.volume_scale``.
    """

    prepared: PreparedData
    group_control: np.ndarray
    group_size: np.ndarray
    group_volume: np.ndarray
    group_runs: np.ndarray
    group_units: np.ndarray
    row_group: np.ndarray
    row_unit: np.ndarray
    row_value: np.ndarray
    resampling: Resampling
    full: Moments
    boot: Moments
    blocked: bool

    @property
    def n_groups(self) -> int:
        """Number of (control, size) groups."""
        return int(self.group_control.size)

    @property
    def sizes(self) -> np.ndarray:
        """Distinct sizes, ascending."""
        return np.unique(self.group_size)

    @property
    def controls(self) -> np.ndarray:
        """Distinct (internal) control values, ascending."""
        return np.unique(self.group_control)

    def size_groups(self, size: float) -> np.ndarray:
        """Indices of the groups of one size, in increasing control."""
        return np.flatnonzero(self.group_size == size)

    def susceptibility(self, moments: Moments, index: np.ndarray | None = None) -> np.ndarray:
        """χ = V·Var(m) in internal units (multiply by scale²·volume_scale for user units)."""
        volume = self.group_volume if index is None else self.group_volume[index]
        variance = moments.variance() if index is None else moments.variance()[..., index]
        return volume * variance


def build_ensemble(prepared: PreparedData, n_bootstrap: int, seed: int) -> Ensemble:
    """Group the retained rows by (control, size), define resampling units, compute moments.

    Parameters
    ----------
    prepared
        Output of :func:`~landaulab.analyze.frame.prepare`.
    n_bootstrap
        Number of bootstrap replicates.
    seed
        Seed of the resampling.
    """
    kept = prepared.row_kept
    row_segment = prepared.row_segment[kept]
    values = prepared.row_value[kept]

    seg_control = prepared.segment_control
    seg_size = prepared.segment_size
    size_code, _ = pd.factorize(seg_size, sort=True)
    control_code, control_values = pd.factorize(seg_control, sort=True)
    segment_group, group_keys = pd.factorize(
        np.asarray(size_code, dtype=np.int64) * len(control_values) + control_code, sort=True
    )
    segment_group = np.asarray(segment_group, dtype=np.int64)
    n_groups = len(group_keys)
    segments_per_group = np.bincount(segment_group, minlength=n_groups)
    runs_per_group = pd.Series(prepared.segment_run).groupby(segment_group).nunique().to_numpy()

    # Resampling units: whole segments, or contiguous blocks of steps in sparse groups.
    blocks = np.where(
        segments_per_group < MIN_UNITS,
        np.ceil(TARGET_UNITS / np.maximum(segments_per_group, 1)).astype(np.int64),
        1,
    )
    if np.all(blocks == 1):
        # every unit is a whole segment, and every segment keeps its last row: the unit
        # of a row is its segment (what the general rule below gives, without its arrays)
        row_unit = row_segment
        unit_segment = np.arange(prepared.n_segments, dtype=np.int64)
    else:
        row_unit, unit_segment = _block_units(row_segment, blocks[segment_group])
    unit_group = segment_group[unit_segment]
    order = np.argsort(unit_group, kind="stable")
    relabel = np.empty_like(order)
    relabel[order] = np.arange(order.size)
    row_unit = relabel[row_unit]
    unit_group = unit_group[order]
    row_group = unit_group[row_unit]

    rng = np.random.default_rng(seed)
    resampling = resample_units(unit_group, n_groups, n_bootstrap, rng)
    n_units = unit_group.size
    with np.errstate(over="ignore", invalid="ignore"):
        sums = {
            "n": np.bincount(row_unit, minlength=n_units).astype(float),
            "m1": np.bincount(row_unit, weights=values, minlength=n_units),
            "m2": np.bincount(row_unit, weights=values**2, minlength=n_units),
            "m4": np.bincount(row_unit, weights=values**4, minlength=n_units),
        }
    full_sums: dict[str, np.ndarray] = {}
    boot_sums: dict[str, np.ndarray] = {}
    for key, unit_values in sums.items():
        full_sums[key], boot_sums[key] = resampling.group_sum(unit_values)
    full = _moments(full_sums)
    boot = _moments(boot_sums)

    first_segment = np.r_[0, np.cumsum(segments_per_group)[:-1]]
    seg_order = np.argsort(segment_group, kind="stable")
    rep = seg_order[first_segment]
    return Ensemble(
        prepared=prepared,
        group_control=seg_control[rep],
        group_size=seg_size[rep],
        group_volume=(pd.Series(prepared.segment_volume).groupby(segment_group).mean().to_numpy()),
        group_runs=runs_per_group.astype(np.int64),
        group_units=np.bincount(unit_group, minlength=n_groups),
        row_group=row_group,
        row_unit=row_unit,
        row_value=values,
        resampling=resampling,
        full=full,
        boot=boot,
        blocked=bool(np.any(blocks > 1)),
    )


def _block_units(
    row_segment: np.ndarray, segment_blocks: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Resampling unit of every retained row, and the segment of every unit, where segment
    ``s`` is cut into ``segment_blocks[s]`` contiguous blocks of (nearly) equal length."""
    seg_starts = np.flatnonzero(np.r_[True, row_segment[1:] != row_segment[:-1]])
    seg_counts = np.diff(np.r_[seg_starts, row_segment.size])
    rank = np.arange(row_segment.size) - np.repeat(seg_starts, seg_counts)
    n_in_segment = np.repeat(seg_counts, seg_counts)
    nblk = segment_blocks[row_segment]
    block = (rank * nblk) // np.maximum(n_in_segment, 1)
    most = int(segment_blocks.max())
    unit_key = row_segment * most + block
    row_unit, unit_keys = pd.factorize(unit_key, sort=True)
    unit_segment = np.asarray(unit_keys, dtype=np.int64) // most
    return np.asarray(row_unit, dtype=np.int64), unit_segment


def _moments(sums: dict[str, np.ndarray]) -> Moments:
    n = sums["n"]
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return Moments(n=n, m1=sums["m1"] / n, m2=sums["m2"] / n, m4=sums["m4"] / n)


def ensemble_table(ensemble: Ensemble) -> pd.DataFrame:
    """Per-(control, size) table in the user's units, with bootstrap standard errors.

    Columns: ``control``, ``size``, ``volume``, ``n_runs``, ``n_samples``, ``mean``,
    ``mean_stderr``, ``rms``, ``susceptibility``, ``susceptibility_stderr``, ``binder``,
    ``binder_stderr``.
    """
    prepared = ensemble.prepared
    scale = prepared.scale
    chi_unit = np.float64(scale) ** 2 * prepared.volume_scale
    full, boot = ensemble.full, ensemble.boot
    with np.errstate(over="ignore", invalid="ignore"):
        chi = ensemble.susceptibility(full) * chi_unit
        chi_boot = ensemble.susceptibility(boot) * chi_unit
        return pd.DataFrame(
            {
                "control": prepared.to_control(ensemble.group_control),
                "size": ensemble.group_size,
                "volume": ensemble.group_volume * prepared.volume_scale,
                "n_runs": ensemble.group_runs,
                "n_samples": full.n.astype(np.int64),
                "mean": full.mean() * scale,
                "mean_stderr": standard_error(boot.mean()) * scale,
                "rms": full.rms() * scale,
                "rms_stderr": standard_error(boot.rms()) * scale,
                "susceptibility": chi,
                "susceptibility_stderr": standard_error(chi_boot),
                "binder": full.binder(),
                "binder_stderr": standard_error(boot.binder()),
            }
        )


def resampling_findings(ensemble: Ensemble) -> Findings:
    """Evidence (and a :class:`~landaulab.errors.FewSamplesWarning`) when some group has
    fewer than :data:`MIN_UNITS` runs and the bootstrap resampled blocks of steps
    there instead of runs."""
    if not ensemble.blocked:
        return Findings()
    sentence = (
        f"Fewer than {MIN_UNITS} runs at some (control, size): contiguous blocks of "
        "steps were resampled instead of runs there (assumes blocks longer than the "
        "autocorrelation time)."
    )
    warn(sentence, FewSamplesWarning)
    return Findings(evidence=(sentence,))
