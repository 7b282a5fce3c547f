"""The critical isotherm: δ from m(T_c, h) ∝ h^(1/δ) in a field scan.

At T_c the Landau free energy a₄m⁴ − h·m is minimised by m ∝ h^(1/3): δ = 3 in mean field;
the 2D Ising class has δ = 15. With β and γ, the Widom relation γ = β(δ − 1) (Widom 1965,
J. Chem. Phys. 43, 3898) is a consistency check of the exponents.

The field scan is the set of rows with a non-zero field (the field column names it: an
external field, a bias, label imbalance, anything that breaks the symmetry linearly). Per
run, the late-time mean of m (burn-in as in the rest of the analysis); per (control, field)
of the largest size, the mean over runs with a bootstrap over runs.

Where along the control to read the isotherm: δ is very sensitive to T_c (within
|T − T_c| ≲ m² the isotherm is critical, outside it bends; on a mean-field scan δ_eff
changes by a factor two within 1 % of T_c), so it is read at the located zero-field T_c:
⟨m⟩ is interpolated in the control between the scanned temperatures, each bootstrap
replicate at its own T_c, so that the uncertainty of T_c is propagated into δ. With one
control, that control is used when it lies inside the interval of T_c. 1/δ is the
least-squares slope of log⟨m⟩ against log h there. Where the scan covers three or more
controls, the control where log⟨m⟩ is straightest in log h (:func:`straightest_isotherm`)
and δ read there are a cross-check in the evidence.

Finite-size effects: at small h·N^(βδ/ν) a finite system responds linearly (m ∝ h), which
biases δ toward 1, and at large h the corrections to scaling grow; choose fields inside
the scaling window. Mean field (Curie–Weiss): at T_c, h = artanh(m) − m = m³/3 + m⁵/5 + …
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from landaulab.analyze.bootstrap import resample_units
from landaulab.analyze.critical_point import Headline
from landaulab.analyze.exponents import Exponents, widom_sentence
from landaulab.analyze.findings import Findings
from landaulab.analyze.frame import ColumnSpec, PreparedData, prepare
from landaulab.analyze.power_law import loglog_slope
from landaulab.analyze.records import array_from_list, estimate_from_dict
from landaulab.errors import DataError
from landaulab.estimate import Estimate
from landaulab.serialize import to_json

#: Runs needed per (control, field) for a bootstrap over runs.
MIN_RUNS = 2


@dataclass(frozen=True, eq=False)
class CriticalIsotherm:
    """⟨m⟩ against the field at T_c, and δ.

    Attributes
    ----------
    delta
        δ with its bootstrap interval, or None.
    fields
        The positive field values used (user units).
    m, m_stderr
        ⟨m⟩ at T_c per field and its standard error.
    sentence
        Where the isotherm was taken and what it gives.
    temperature
        The control of the isotherm (user units): the located zero-field T_c with the
        interval of its replicates.
    """

    delta: Estimate | None
    fields: np.ndarray
    m: np.ndarray
    m_stderr: np.ndarray
    sentence: str
    temperature: Estimate | None = None

    def to_dict(self) -> dict:
        """JSON-safe dictionary."""
        return to_json(
            {
                "delta": self.delta.to_dict() if self.delta is not None else None,
                "fields": [float(x) for x in self.fields],
                "m": [float(x) for x in self.m],
                "m_stderr": [float(x) for x in self.m_stderr],
                "sentence": self.sentence,
                "temperature": self.temperature.to_dict() if self.temperature else None,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CriticalIsotherm:
        """The inverse of :meth:`to_dict` (arrays from the lists; null entries as NaN)."""

        return cls(
            delta=estimate_from_dict(data.get("delta")),
            fields=array_from_list(data.get("fields")),
            m=array_from_list(data.get("m")),
            m_stderr=array_from_list(data.get("m_stderr")),
            sentence=data.get("sentence", ""),
            temperature=estimate_from_dict(data.get("temperature")),
        )


def split_field(frame: pd.DataFrame, field: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(zero-field rows, rows with a finite non-zero field); DataError without zero field."""
    if field not in frame.columns:
        available = ", ".join(map(str, list(frame.columns)[:20]))
        raise DataError(
            f"column {field!r} not found (available: {available}); pass --field with one of them"
        )
    h = pd.to_numeric(frame[field], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    zero = h == 0.0
    if not zero.any():
        raise DataError(
            f"field column {field!r} has no rows at field 0: the transition is located at "
            "zero field and the field scan is read at that T_c"
        )
    nonzero = np.isfinite(h) & ~zero
    return frame.loc[zero], frame.loc[nonzero]


def critical_isotherm(
    frame: pd.DataFrame,
    columns: ColumnSpec,
    field: str,
    tc: float,
    tc_replicates: np.ndarray,
    *,
    burn_in: float,
    n_bootstrap: int,
    seed: int,
) -> tuple[CriticalIsotherm | None, str | None]:
    """δ from the field rows ``frame`` at the critical point ``tc`` (user units).

    Returns the isotherm, or None and the reason it is not estimable.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_control, reason = _field_means(frame, columns, field, burn_in, n_bootstrap, seed)
        if per_control is None:
            return None, reason
        return isotherm_from_means(per_control, tc, tc_replicates)


Means = dict[float, dict[float, tuple[float, np.ndarray]]]


def _field_means(
    frame: pd.DataFrame,
    columns: ColumnSpec,
    field: str,
    burn_in: float,
    n_bootstrap: int,
    seed: int,
) -> tuple[Means | None, str | None]:
    """⟨m⟩ per (control, field) of the largest size, with replicates over runs."""
    if len(frame) == 0:
        return None, "the field column has no non-zero values"
    control = pd.to_numeric(frame[columns.control], errors="coerce").to_numpy(dtype=float)
    size = (
        pd.to_numeric(frame[columns.size], errors="coerce").to_numpy(dtype=float)
        if columns.size is not None
        else np.ones(len(frame))
    )
    ok = np.isfinite(control) & np.isfinite(size)
    if not ok.any():
        return None, "no field row has a finite control and size"
    largest = float(np.max(size[ok]))
    keep = ok & (size == largest)
    rng = np.random.default_rng(seed)
    per_control: Means = {}
    for t in np.unique(control[keep]):
        sub = frame.loc[keep & (control == t)]
        spec = ColumnSpec(
            order_parameter=columns.order_parameter,
            control=field,
            run=columns.run,
            step=columns.step,
        )
        try:
            prepared = prepare(sub, spec, burn_in=burn_in, use_abs=False)
        except DataError:
            continue
        rows = np.flatnonzero(prepared.row_kept)
        n_seg = prepared.n_segments
        with np.errstate(all="ignore"):
            run_mean = (
                np.bincount(prepared.row_segment[rows], prepared.row_value[rows], n_seg)
                / np.bincount(prepared.row_segment[rows], minlength=n_seg)
                * prepared.scale
            )
        h = np.asarray(prepared.to_control(prepared.segment_control), dtype=float)
        # undo the float noise of the standardisation (12 significant digits)
        h = np.array([float(f"{value:.12g}") for value in h])
        finite = np.isfinite(run_mean)
        values, group, counts = np.unique(h[finite], return_inverse=True, return_counts=True)
        usable = counts >= MIN_RUNS
        if not usable.any():
            continue
        # runs (units) resampled within each field value, as everywhere in the analysis
        units = usable[group]
        group = np.unique(group[units], return_inverse=True)[1]
        order = np.argsort(group, kind="stable")
        resampling = resample_units(group[order], int(usable.sum()), n_bootstrap, rng)
        sums, sums_boot = resampling.group_sum(run_mean[finite][units][order])
        size, size_boot = resampling.group_sum(np.ones(order.size))
        means, means_boot = sums / size, sums_boot / size_boot
        per_control[float(t)] = {
            float(value): (float(means[j]), means_boot[:, j].astype(float))
            for j, value in enumerate(values[usable])
        }
    if not per_control:
        return None, f"no (control, field) of the field scan has {MIN_RUNS} or more runs"
    return per_control, None


def isotherm_from_means(
    per_control: Means,
    tc: float,
    tc_replicates: np.ndarray,
) -> tuple[CriticalIsotherm | None, str | None]:
    """δ from ⟨m⟩ per control and field: ``per_control[T][h] = (mean, replicates)``.

    The isotherm is read at the located critical point ``tc`` (user units): ⟨m⟩ is
    interpolated linearly in the control between the scanned temperatures, replicate b at
    its own T_c (``tc_replicates[b]``), so the uncertainty of T_c enters the interval of δ;
    a replicate whose T_c lies outside the scan has no isotherm (no extrapolation). With
    one scanned control, that control is used when it lies inside the interval of T_c.
    Where the scan locates its own straightest isotherm (:func:`straightest_isotherm`), δ
    read there is a cross-check in the sentence. All replicate arrays have the same
    length B.
    """
    n_bootstrap = next(iter(next(iter(per_control.values())).values()))[1].size
    temperatures = np.array(sorted(per_control))
    reps = np.asarray(tc_replicates, dtype=float)[:n_bootstrap]
    if reps.size < n_bootstrap:
        reps = np.r_[reps, np.full(n_bootstrap - reps.size, tc)]
    reps = np.where(np.isfinite(reps), reps, tc)
    read = _read_isotherm(per_control, tc, reps)
    if isinstance(read, str):
        return None, read
    delta, fields_arr, m, stderr, n_used = read
    if temperatures.size >= 2:
        where = f"interpolated at the located T_c = {tc:.4g} between controls of the field scan"
    else:
        where = (
            f"at control {temperatures[0]:.4g} (the only one in the field scan; the located "
            f"T_c is {tc:.4g})"
        )
    sentence = (
        f"Critical isotherm {where}: ⟨m⟩ ∝ h^(1/δ) over h = {fields_arr[0]:.3g}–"
        f"{fields_arr[-1]:.3g} ({n_used} fields) gives δ = {delta} (mean field 3, 2D Ising 15)."
    )
    if delta.ci is None:
        sentence += (
            " No interval: most bootstrap replicates of T_c fall outside the field scan; "
            "scan controls on both sides of T_c."
        )
    straight = straightest_isotherm(per_control)
    if straight is not None:
        at, at_reps = straight
        check = _read_isotherm(per_control, at, np.where(np.isfinite(at_reps), at_reps, at))
        if not isinstance(check, str):
            located = Estimate.from_replicates(at, at_reps)
            sentence += (
                f" Cross-check: log⟨m⟩ is straightest in log h at T = {located}, where the "
                f"isotherm gives δ = {check[0]} (δ_eff changes fast near T_c, so δ is read at "
                "the located T_c)."
            )
    temperature = Estimate.from_replicates(tc, reps)
    isotherm = CriticalIsotherm(delta, fields_arr, m, stderr, sentence, temperature)
    return isotherm, None


def _read_isotherm(
    per_control: Means, tc: float, reps: np.ndarray
) -> tuple[Estimate, np.ndarray, np.ndarray, np.ndarray, int] | str:
    """δ of the isotherm at ``tc`` (replicate b at ``reps[b]``): (δ, fields, ⟨m⟩, standard
    errors, number of fields) or the reason it cannot be read."""
    n_bootstrap = reps.size
    temperatures = np.array(sorted(per_control))
    fields = sorted({h for groups in per_control.values() for h in groups})
    values, boots, used = [], [], []
    for h in fields:
        at = [t for t in temperatures if h in per_control[t]]
        sign = 1.0 if h > 0 else -1.0
        if len(at) >= 2:
            ts = np.array(at)
            if not ts[0] <= tc <= ts[-1]:
                continue
            m = np.array([per_control[t][h][0] for t in at]) * sign
            mb = np.stack([per_control[t][h][1] for t in at], axis=1) * sign
            value = float(np.interp(tc, ts, m))
            index = np.clip(np.searchsorted(ts, reps) - 1, 0, ts.size - 2)
            frac = (reps - ts[index]) / (ts[index + 1] - ts[index])
            rows = np.arange(n_bootstrap)
            boot = mb[rows, index] + frac * (mb[rows, index + 1] - mb[rows, index])
            # a replicate whose T_c lies outside the scan has no isotherm (no extrapolation)
            boot = np.where((reps >= ts[0]) & (reps <= ts[-1]), boot, np.nan)
        else:
            low, high = np.nanpercentile(reps, [2.5, 97.5]) if reps.size else (tc, tc)
            if not min(low, tc) <= at[0] <= max(high, tc):
                continue
            value = per_control[at[0]][h][0] * sign
            boot = per_control[at[0]][h][1] * sign
        values.append(value)
        boots.append(boot)
        used.append(abs(h))
    if not used:
        return (
            f"T_c = {tc:.4g} (with its interval) lies outside the controls of the field "
            f"scan ({temperatures[0]:.4g}–{temperatures[-1]:.4g})"
        )
    # one field per magnitude (positive and negative fields measure the same response)
    fields_arr = np.array(used)
    order = np.argsort(fields_arr, kind="stable")
    fields_arr = fields_arr[order]
    m = np.array(values)[order]
    boot = np.stack(boots, axis=1)[:, order]
    unique, first = np.unique(fields_arr, return_index=True)
    fields_arr, m, boot = unique, m[first], boot[:, first]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        stderr = np.nanstd(boot, axis=0, ddof=1)
    positive = m > 0
    if int(positive.sum()) < 2:
        return "fewer than two field values with ⟨m⟩ along the field at T_c"
    x = np.log(fields_arr[positive] / fields_arr[positive][0])
    slope, slope_boot = loglog_slope(x, m[positive], boot[:, positive])
    with np.errstate(all="ignore"):
        delta = Estimate.from_replicates(1.0 / slope, 1.0 / slope_boot)
    if delta is None or not slope > 0:
        return "⟨m⟩ does not grow with the field at T_c"
    return delta, fields_arr[positive], m[positive], stderr[positive], int(positive.sum())


def straightest_isotherm(per_control: Means) -> tuple[float, np.ndarray] | None:
    """The control where log⟨m⟩ is a straight line in log h, with bootstrap replicates.

    Off T_c the isotherms bend: above T_c a finite susceptibility makes m ∝ h at small h
    (slope 1 falling to 1/δ: concave), below it m → m₀ (slope 0 rising to 1/δ: convex).
    The curvature of a quadratic fit of log⟨m⟩ in log h therefore changes sign at T_c; its
    zero is interpolated linearly between neighbouring controls. Needs three controls and
    three positive fields measured at every one of them; None otherwise, or when the
    curvature does not change sign exactly once.
    """
    temperatures = np.array(sorted(per_control))
    if temperatures.size < 3:
        return None
    common = set.intersection(*(set(per_control[t]) for t in temperatures))
    fields = np.array(sorted(h for h in common if h > 0))
    if fields.size < 3:
        return None
    with np.errstate(all="ignore"):
        y = np.log([[per_control[t][h][0] for h in fields] for t in temperatures])
        boot = np.array([[per_control[t][h][1] for h in fields] for t in temperatures])
        yb = np.log(np.where(boot > 0, boot, np.nan)).transpose(2, 0, 1)  # (B, J, F)
    if not np.all(np.isfinite(y)):
        return None
    x = np.log(fields) - np.log(fields).mean()
    projector = np.linalg.pinv(np.column_stack([np.ones_like(x), x, x**2]))
    curvature = (y @ projector.T)[:, 2]
    curvature_b = (yb @ projector.T)[..., 2]
    sign = np.sign(curvature)
    changes = np.flatnonzero(sign[:-1] * sign[1:] < 0)
    if changes.size != 1:
        return None
    j = int(changes[0])
    direction = sign[j]

    t0, t1 = temperatures[j], temperatures[j + 1]
    value = float(t0 + curvature[j] / (curvature[j] - curvature[j + 1]) * (t1 - t0))
    with np.errstate(all="ignore"):
        sb = np.sign(curvature_b)
        crossing = (sb[:, :-1] == direction) & (sb[:, 1:] == -direction)
        distance = np.where(crossing, np.abs(np.arange(temperatures.size - 1) - j), np.inf)
        nearest = np.argmin(distance, axis=1)
        rows = np.arange(curvature_b.shape[0])
        k0, k1 = curvature_b[rows, nearest], curvature_b[rows, nearest + 1]
        ta, tb = temperatures[nearest], temperatures[nearest + 1]
        replicates = ta + k0 / (k0 - k1) * (tb - ta)
    replicates = np.where(np.isfinite(distance[rows, nearest]), replicates, np.nan)
    return value, replicates


@dataclass(frozen=True, eq=False, kw_only=True)
class FieldScanStep(Findings):
    """The critical isotherm of a field scan (or None, with the reason) and the exponents
    with δ from it."""

    isotherm: CriticalIsotherm | None = None
    exponents: Exponents | None = None


def measure_delta(
    scan: tuple[pd.DataFrame, str] | None,
    prepared: PreparedData,
    order: str,
    headline: Headline,
    exponents: Exponents,
    *,
    n_bootstrap: int,
    seed: int,
) -> FieldScanStep:
    """δ from the field rows ``scan`` = (rows, field column) at the headline T_c of a
    second-order transition; the Widom relation checks it against β and γ.

    The returned ``exponents`` are ``exponents`` with δ set (unchanged without one).
    """
    critical_point, located = headline.critical_point, headline.located
    if scan is None:
        return FieldScanStep(
            exponents=exponents, not_estimable={"delta": "no field column (field=..., --field COL)"}
        )
    if critical_point is None or located is None or order != "second":
        return FieldScanStep(
            exponents=exponents,
            not_estimable={"delta": "δ is measured on the critical isotherm of a second-order T_c"},
        )
    isotherm, reason = critical_isotherm(
        scan[0],
        prepared.columns,
        scan[1],
        float(critical_point.value or 0.0),
        np.asarray(prepared.to_control(located.replicates), dtype=float),
        burn_in=prepared.burn_in,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
    if isotherm is None:
        return FieldScanStep(
            exponents=exponents,
            not_estimable={"delta": reason or "the field scan gave no critical isotherm"},
        )
    with_delta = replace(exponents, delta=isotherm.delta)
    evidence = [isotherm.sentence]
    widom = widom_sentence(with_delta)
    if widom:
        evidence.append(widom)
    return FieldScanStep(isotherm=isotherm, exponents=with_delta, evidence=tuple(evidence))
