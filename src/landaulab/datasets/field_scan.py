"""Field scans of the Curie–Weiss model: m(T, h) with the mean-field critical isotherm, δ = 3.

The Curie–Weiss magnetisation in a field is sampled exactly through P(M) ∝ C(N, (N + M)/2)·
exp(M²/(2NT) + hM/T) (see :mod:`landaulab.datasets.curie_weiss`; Kac 1968). In the
thermodynamic limit m solves m = tanh((m + h)/T) (Weiss 1907; Stanley 1971, "Introduction to
Phase Transitions and Critical Phenomena", §6), so at T_c = 1 the critical isotherm is
h = artanh(m) − m = m³/3 + m⁵/5 + … and δ = 3; β = 1/2, γ = 1 and the Widom relation
γ = β(δ − 1) hold. A finite system responds linearly (m ∝ h) while h·N^(3/4) ≲ 1 (the
finite-size scaling of the mean-field isotherm, m ~ N^(−1/4) f(h·N^(3/4))), so a scan whose
smallest field satisfies h·N^(3/4) ≫ 1 and whose largest keeps m small measures δ ≈ 3.

:func:`curie_weiss_field_scan` returns one tidy frame with rows at field 0 (which carry the
transition) and rows at h ≠ 0 (the field scan), the layout ``analyze(..., field=...)`` reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from landaulab.datasets._tidy import as_count, as_positive_array
from landaulab.datasets.curie_weiss import curie_weiss
from landaulab.errors import DataError

#: The mean-field critical-isotherm exponent.
DELTA = 3.0


def mean_field_magnetisation(temperature: float, field: float) -> float:
    """The thermodynamic-limit m ≥ 0 of the Curie–Weiss model at (T, h ≥ 0).

    The largest root of m = tanh((m + h)/T) (the stable one for h > 0; the ordered branch
    for h = 0 and T < 1, 0 for h = 0 and T ≥ 1).
    """
    t = float(as_positive_array(temperature, "temperature")[0])
    h = float(field)
    if h < 0:
        raise DataError(f"field must be >= 0 (the model is symmetric); got {h}")

    def excess(m: float) -> float:
        return float(np.tanh((m + h) / t) - m)

    if h == 0 and t >= 1.0:
        return 0.0
    low = 1e-300 if h == 0 else 0.0
    if excess(low) <= 0:
        return 0.0
    return float(brentq(excess, low, 1.0, xtol=1e-15, rtol=1e-15))


def critical_isotherm_field(m: np.ndarray | float) -> np.ndarray:
    """h = artanh(m) − m: the field that gives magnetisation m at T_c = 1 (N → ∞)."""
    values = np.asarray(m, dtype=float)
    return np.arctanh(values) - values


def curie_weiss_field_scan(
    temperatures: Sequence[float],
    fields: Sequence[float],
    sizes: Sequence[int],
    *,
    n_runs: int = 10,
    n_steps: int = 50,
    noise: float = 0.0,
    scan_size: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Exact Curie–Weiss samples at field 0 and at every field of the scan.

    Parameters
    ----------
    temperatures
        Temperatures T of the grid (zero field and scan alike).
    fields
        Non-zero fields h of the scan (positive; the zero-field rows are always added).
    sizes
        Numbers of spins N at zero field (the transition is located from these).
    n_runs, n_steps
        Runs per (T, h, N) and independent exact samples per run.
    noise
        Standard deviation of Gaussian measurement noise added to every sample of m.
    scan_size
        N of the field scan (default: the largest of ``sizes``).
    seed
        Seed of the random generator; the same arguments give the same frame.

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id``, ``step``, ``temperature``, ``N``, ``m``, ``energy`` and
        ``field``.
    """
    temps = as_positive_array(temperatures, "temperatures")
    hs = as_positive_array(fields, "fields")
    ns = as_positive_array(sizes, "sizes")
    runs = as_count(n_runs, "n_runs")
    steps = as_count(n_steps, "n_steps")
    if noise < 0 or not np.isfinite(noise):
        raise DataError(f"noise must be finite and >= 0; got {noise}")
    n_scan = int(ns.max() if scan_size is None else as_count(scan_size, "scan_size"))
    seeds = [int(s) for s in np.random.default_rng(seed).integers(0, 2**62, size=hs.size + 2)]
    sizes_int = [int(n) for n in ns]
    parts = [curie_weiss(temps.tolist(), sizes_int, n_runs=runs, n_steps=steps, seed=seeds[0])]
    parts[0]["field"] = 0.0
    for h, child in zip(hs, seeds[1:-1], strict=True):
        part = curie_weiss(
            temps.tolist(), [n_scan], n_runs=runs, n_steps=steps, field=float(h), seed=child
        )
        part["field"] = float(h)
        parts.append(part)
    offset = 0
    for part in parts:
        part["run_id"] += offset
        offset = int(part["run_id"].max()) + 1
    frame = pd.concat(parts, ignore_index=True)
    if noise > 0:
        rng = np.random.default_rng(seeds[-1])
        frame["m"] = frame["m"] + noise * rng.standard_normal(len(frame))
    return frame
