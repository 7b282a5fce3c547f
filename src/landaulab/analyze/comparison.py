"""Universality across analyses: do several architectures, widths or tasks share a class?

Pairs of analyses are compared on β, γ and the Binder crossing U* with the statistical
errors of both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from landaulab.analyze.result import AnalysisResult
from landaulab.analyze.universality import _sigma
from landaulab.serialize import to_json as clean


@dataclass(frozen=True)
class UniversalityComparison:
    """Whether several analyses share a universality class."""

    labels: tuple[str, ...]
    shared: bool
    verdict: str
    differences: tuple[dict, ...]

    def to_dict(self) -> dict:
        """JSON-safe dictionary."""
        return clean(
            {
                "labels": list(self.labels),
                "shared": self.shared,
                "verdict": self.verdict,
                "differences": list(self.differences),
            }
        )

    def __str__(self) -> str:
        return self.verdict


def compare_analyses(results: Mapping[str, AnalysisResult]) -> UniversalityComparison:
    """Do several analyses (architectures, tasks) share a universality class?

    Pairs of analyses are compared on β, γ and U* (z-scores of the differences with the
    statistical errors of both); they share a class when every available difference is
    below two standard deviations and at least one quantity was compared.
    """
    labels = tuple(results)
    differences: list[dict[str, Any]] = []
    for i, first in enumerate(labels):
        for second in labels[i + 1 :]:
            a, b = results[first], results[second]
            pairs = (
                ("beta", a.exponents.beta, b.exponents.beta),
                ("gamma", a.exponents.gamma, b.exponents.gamma),
                ("binder_crossing", a.universality.binder_crossing, b.universality.binder_crossing),
            )
            for name, ea, eb in pairs:
                if ea is None or eb is None or ea.value is None or eb.value is None:
                    continue
                sigma = float(np.hypot(_sigma(ea), _sigma(eb)))
                if not np.isfinite(sigma) or sigma == 0:
                    continue
                differences.append(
                    {
                        "first": first,
                        "second": second,
                        "quantity": name,
                        "difference": float(ea.value) - float(eb.value),
                        "z": (float(ea.value) - float(eb.value)) / sigma,
                    }
                )
    orders = {label: results[label].order for label in labels}
    if len(labels) < 2:
        return UniversalityComparison(
            labels, False, "Need at least two analyses to compare.", tuple(differences)
        )
    if any(order != "second" for order in orders.values()):
        listed = ", ".join(f"{k}: {v}" for k, v in orders.items())
        return UniversalityComparison(
            labels,
            False,
            f"Not all analyses show a second-order transition ({listed}); universality "
            "classes compare continuous transitions only.",
            tuple(differences),
        )
    if not differences:
        return UniversalityComparison(
            labels, False, "No exponent was measured in two analyses: cannot compare.", ()
        )
    worst = max(differences, key=lambda d: abs(float(d["z"])))
    if abs(float(worst["z"])) < 2.0:
        verdict = (
            f"{', '.join(labels)} share a universality class: every exponent agrees within "
            f"2σ (largest difference {worst['quantity']}: {abs(float(worst['z'])):.1f}σ)."
        )
        return UniversalityComparison(labels, True, verdict, tuple(differences))
    verdict = (
        f"{worst['first']} and {worst['second']} differ in {worst['quantity']} by "
        f"{abs(float(worst['z'])):.1f}σ: not the same universality class."
    )
    return UniversalityComparison(labels, False, verdict, tuple(differences))
