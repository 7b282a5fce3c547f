"""The Landau result of an analysis: the free-energy fits of every group, with the zero of
the quadratic coefficient and the equal-depth point located on them.

The fitting itself (polynomials, Poisson likelihood, bootstrap) is in
:mod:`landaulab.analyze.landau`; this module holds the result that reads the fit and the
located points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from landaulab.analyze.critical_point import CriticalPoint
from landaulab.analyze.ensemble import Ensemble
from landaulab.analyze.findings import Findings, warn
from landaulab.analyze.frame import PreparedData
from landaulab.analyze.landau import FreeEnergyFit
from landaulab.errors import FitWarning
from landaulab.serialize import to_json


def _critical_point_from_dict(data: Mapping[str, Any] | None) -> CriticalPoint | None:
    return CriticalPoint.from_dict(data)


@dataclass(frozen=True, eq=False)
class LandauResult:
    """Landau free-energy fits of every (control, size) group.

    Attributes
    ----------
    terms
        Coefficient names (``a2`` is the quadratic coefficient, ``a1`` a field term...).
    powers
        Their powers of m.
    coefficients
        Table: ``control``, ``size``, then ``<name>``, ``<name>_stderr``, ``<name>_ci_low``
        and ``<name>_ci_high`` per term (F per unit volume, m in the user's units), and
        ``m_star``.
    quadratic_zero
        Where the fitted a₂(T) changes sign (largest size), or None.
    equal_depth
        Where coexisting minima of the fitted F have equal depth, or None.
    curves
        Per group: ``control``, ``size``, ``m``, ``measured`` and ``fit`` F (shifted so the
        fitted minimum is zero).
    """

    terms: tuple[str, ...]
    powers: tuple[int, ...]
    coefficients: pd.DataFrame
    quadratic_zero: CriticalPoint | None
    equal_depth: CriticalPoint | None
    curves: tuple[dict[str, Any], ...] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary; ``coefficients`` is a list of per-group records."""
        records = []
        for row in self.coefficients.to_dict(orient="records"):
            entry = {"control": row["control"], "size": row["size"]}
            for name in self.terms:
                entry[name] = {
                    "value": row.get(name),
                    "stderr": row.get(f"{name}_stderr"),
                    "ci": [row.get(f"{name}_ci_low"), row.get(f"{name}_ci_high")],
                }
            entry["m_star"] = row.get("m_star")
            records.append(entry)
        return to_json(
            {
                "terms": list(self.terms),
                "powers": list(self.powers),
                "coefficients": records,
                "quadratic_zero": (
                    self.quadratic_zero.to_full_dict() if self.quadratic_zero else None
                ),
                "equal_depth": self.equal_depth.to_full_dict() if self.equal_depth else None,
                "curves": list(self.curves),
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LandauResult:
        """The inverse of :meth:`to_dict`: the coefficient table rebuilt from its records
        (null entries as NaN), the curves as lists."""
        terms = tuple(data.get("terms") or ())
        rows = []
        for entry in data.get("coefficients") or ():
            row: dict[str, Any] = {"control": entry.get("control"), "size": entry.get("size")}
            for name in terms:
                term = entry.get(name) or {}
                ci = term.get("ci") or [None, None]
                row[name] = term.get("value")
                row[f"{name}_stderr"] = term.get("stderr")
                row[f"{name}_ci_low"] = ci[0]
                row[f"{name}_ci_high"] = ci[1]
            row["m_star"] = entry.get("m_star")
            rows.append(row)
        columns = ["control", "size"]
        for name in terms:
            columns += [name, f"{name}_stderr", f"{name}_ci_low", f"{name}_ci_high"]
        columns.append("m_star")
        coefficients = pd.DataFrame(rows, columns=columns).astype(float)
        return cls(
            terms=terms,
            powers=tuple(int(p) for p in data.get("powers") or ()),
            coefficients=coefficients,
            quadratic_zero=_critical_point_from_dict(data.get("quadratic_zero")),
            equal_depth=_critical_point_from_dict(data.get("equal_depth")),
            curves=tuple(dict(c) for c in data.get("curves") or ()),
        )


@dataclass(frozen=True, eq=False, kw_only=True)
class LandauStep(Findings):
    """The Landau result of an analysis (and which groups could not be fitted)."""

    result: LandauResult


def landau_result(
    prepared: PreparedData,
    ensemble: Ensemble,
    fit: FreeEnergyFit,
    quadratic_zero: CriticalPoint | None,
    equal_depth: CriticalPoint | None,
) -> LandauStep:
    """The fits of every group in the user's units, with the located a₂ zero and
    equal-depth point. Groups with too few populated bins are left unfitted (NaN), said
    under ``not_estimable["landau"]`` and by a :class:`~landaulab.errors.FitWarning`."""
    controls = prepared.to_control(ensemble.group_control)
    columns: dict[str, Any] = {"control": controls, "size": ensemble.group_size}
    for j, name in enumerate(fit.polynomial.names):
        columns[name] = fit.coefficients[:, j]
        columns[f"{name}_stderr"] = fit.stderr[:, j]
        columns[f"{name}_ci_low"] = fit.lower[:, j]
        columns[f"{name}_ci_high"] = fit.upper[:, j]
    columns["m_star"] = fit.m_star
    coefficients = pd.DataFrame(columns)
    user_controls = np.asarray(controls, dtype=float)
    curves = tuple(
        {"control": float(user_controls[g]), "size": float(ensemble.group_size[g]), **fit.curves[g]}
        for g in range(ensemble.n_groups)
    )
    result = LandauResult(
        terms=fit.polynomial.names,
        powers=tuple(int(p) for p in fit.polynomial.powers),
        coefficients=coefficients,
        quadratic_zero=quadratic_zero,
        equal_depth=equal_depth,
        curves=curves,
    )
    not_estimable = {}
    unfitted = int(np.sum(~np.isfinite(fit.coefficients[:, 0])))
    if unfitted:
        reason = (
            f"{unfitted} of {ensemble.n_groups} (control, size) groups have too few populated "
            "histogram bins for a Landau fit"
        )
        not_estimable["landau"] = reason
        warn(f"Landau fits dropped: {reason}.", FitWarning)
    return LandauStep(result=result, not_estimable=not_estimable)
