"""Universality across analyses: do several architectures, widths or tasks share a class?

Each pair of analyses is compared on β, γ, δ and the Binder crossing U*: every available
difference gives z = (a − b)/√(σ_a² + σ_b²) with σ the half-width of each 95 % interval
divided by 1.96, and the pair is tested jointly exactly as a measurement is tested against a
class in :mod:`landaulab.analyze.universality` (χ² = Σ z² against χ²_k at 5 %, and every
|z| ≤ 1.96). ν is left out: its value depends on whether the size column is a length or a
volume, which may differ between analyses. The classes of the table that every analysis is
consistent with are reported beside the pairwise verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from landaulab.analyze.result import AnalysisResult
from landaulab.analyze.universality import LEVEL, _sigma, joint_test
from landaulab.serialize import to_json as clean

#: The quantities compared between analyses.
COMPARED = ("beta", "gamma", "delta", "binder_crossing")


@dataclass(frozen=True)
class UniversalityComparison:
    """Whether several analyses share a universality class.

    ``differences`` holds one entry per pair and quantity; ``pairs`` the joint test of
    each pair (``first``, ``second``, ``chi2``, ``dof``, ``p_value``, ``within``);
    ``common_classes`` the classes of the table every analysis is consistent with.
    """

    labels: tuple[str, ...]
    shared: bool
    verdict: str
    differences: tuple[dict, ...]
    pairs: tuple[dict, ...] = ()
    common_classes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-safe dictionary."""
        return clean(
            {
                "labels": list(self.labels),
                "shared": self.shared,
                "verdict": self.verdict,
                "differences": list(self.differences),
                "pairs": list(self.pairs),
                "common_classes": list(self.common_classes),
            }
        )

    def __str__(self) -> str:
        return self.verdict


def _quantity(result: AnalysisResult, name: str) -> Any:
    if name == "binder_crossing":
        return result.universality.binder_crossing
    return getattr(result.exponents, name, None)


def _pair(first: str, second: str, a: AnalysisResult, b: AnalysisResult) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in COMPARED:
        ea, eb = _quantity(a, name), _quantity(b, name)
        if ea is None or eb is None or ea.value is None or eb.value is None:
            continue
        sigma = float(np.hypot(_sigma(ea), _sigma(eb)))
        if not np.isfinite(sigma) or sigma == 0:
            continue
        difference = float(ea.value) - float(eb.value)
        if not np.isfinite(difference):
            continue
        rows.append(
            {
                "first": first,
                "second": second,
                "quantity": name,
                "difference": difference,
                "z": difference / sigma,
            }
        )
    return rows


def compare_analyses(results: Mapping[str, AnalysisResult]) -> UniversalityComparison:
    """Do several analyses (architectures, tasks) share a universality class?

    They share a class when at least one quantity was compared and no pair is told apart:
    for every pair the joint χ² test of its differences does not reject at 5 % and every
    difference is within 1.96 combined standard deviations.
    """
    labels = tuple(results)
    differences: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []
    for i, first in enumerate(labels):
        for second in labels[i + 1 :]:
            rows = _pair(first, second, results[first], results[second])
            differences.extend(rows)
            if rows:
                chi2, dof, p, within = joint_test(np.array([r["z"] for r in rows]))
                pairs.append(
                    {
                        "first": first,
                        "second": second,
                        "chi2": float(chi2),
                        "dof": int(dof),
                        "p_value": float(p),
                        "within": bool(within),
                    }
                )
    common: tuple[str, ...] = ()
    if labels:
        sets = [set(results[label].universality.consistent_classes) for label in labels]
        first_list = results[labels[0]].universality.consistent_classes
        common = tuple(name for name in first_list if all(name in s for s in sets))
    orders = {label: results[label].order for label in labels}
    diffs, pair_tests = tuple(differences), tuple(pairs)
    if len(labels) < 2:
        return UniversalityComparison(
            labels, False, "Need at least two analyses to compare.", diffs, pair_tests, common
        )
    if any(order != "second" for order in orders.values()):
        listed = ", ".join(f"{k}: {v}" for k, v in orders.items())
        return UniversalityComparison(
            labels,
            False,
            f"Not all analyses show a second-order transition ({listed}); universality "
            "classes compare continuous transitions only.",
            diffs,
            pair_tests,
            (),
        )
    if not differences:
        return UniversalityComparison(
            labels,
            False,
            "No exponent was measured in two analyses: cannot compare.",
            (),
            (),
            common,
        )
    classes = (
        f" Classes of the table consistent with all of them: {', '.join(common)}."
        if common
        else " No class of the table is consistent with all of them."
    )
    apart = [p for p in pairs if not (p["p_value"] >= LEVEL and p["within"])]
    if not apart:
        worst = max(differences, key=lambda d: abs(float(d["z"])))
        verdict = (
            f"{', '.join(labels)} share a universality class: no pair is told apart (joint "
            f"χ² test at 5 %, each exponent within 1.96σ; largest difference "
            f"{worst['quantity']}: {abs(float(worst['z'])):.1f}σ).{classes}"
        )
        return UniversalityComparison(labels, True, verdict, diffs, pair_tests, common)
    pair = min(apart, key=lambda p: p["p_value"])
    own = [d for d in differences if d["first"] == pair["first"] and d["second"] == pair["second"]]
    worst = max(own, key=lambda d: abs(float(d["z"])))
    verdict = (
        f"{pair['first']} and {pair['second']} differ in {worst['quantity']} by "
        f"{abs(float(worst['z'])):.1f}σ (joint p = {pair['p_value']:.2g}): not the same "
        f"universality class.{classes}"
    )
    return UniversalityComparison(labels, False, verdict, diffs, pair_tests, common)
