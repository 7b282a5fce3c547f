"""What every step of an analysis returns besides its values: evidence and gaps.

Each decision (locating T_c, classifying the order, exponents, collapse, universality, δ)
returns a frozen result deriving from :class:`Findings`: its values, the sentences of
evidence it produced and the quantities it could not estimate (name → reason). The
pipeline concatenates them in step order; no step appends to another's lists.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class Findings:
    """Evidence sentences and not-estimable reasons of one step.

    Attributes
    ----------
    evidence
        Sentences supporting the step's verdict, in the order found.
    not_estimable
        Quantity → reason, for what the step could not estimate.
    """

    evidence: tuple[str, ...] = ()
    not_estimable: Mapping[str, str] = field(default_factory=dict)


def gather(steps: Iterable[Findings]) -> Findings:
    """The findings of ``steps`` concatenated in order.

    A later reason for the same quantity replaces the earlier one and keeps its place;
    repeated sentences are kept once, where they first appear.
    """
    evidence: list[str] = []
    not_estimable: dict[str, str] = {}
    for step in steps:
        evidence.extend(step.evidence)
        not_estimable.update(step.not_estimable)
    return Findings(evidence=tuple(dict.fromkeys(evidence)), not_estimable=not_estimable)


def warn(message: str, category: type[Warning]) -> None:
    """:func:`warnings.warn` attributed to the first caller outside the analysis package
    (the line that called :func:`~landaulab.analyze.analyze`), wherever the step is."""
    level, frame = 2, sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(
        ("landaulab.analyze", "landaulab._callable")
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


__all__ = ["Findings", "gather", "warn"]
