"""Landau analysis of tidy tables of runs: transitions, free energy, order, exponents.

``analyze(frame, order_parameter=..., control=..., size=...)`` returns an
:class:`AnalysisResult`; the modules of this package are its stages (see
:mod:`landaulab.analyze.api`).
"""

from landaulab.analyze.api import analyze
from landaulab.analyze.comparison import UniversalityComparison, compare_analyses
from landaulab.analyze.critical_point import Location, Locator, LocatorContext
from landaulab.analyze.curves import SizeCurves
from landaulab.analyze.landau import (
    CUBIC,
    FIELD,
    GENERAL,
    QUADRATIC,
    QUARTIC,
    SEXTIC,
    SYMMETRIC,
    LandauPolynomial,
    LandauTerm,
)
from landaulab.analyze.locators import LOCATORS
from landaulab.analyze.result import (
    AnalysisResult,
    CollapseResult,
    CriticalIsotherm,
    CriticalPoint,
    Estimate,
    Exponents,
    HysteresisResult,
    LandauResult,
    TemporalResult,
)
from landaulab.analyze.universality import (
    ISING_2D,
    MEAN_FIELD,
    UniversalityClass,
    UniversalityResult,
)

__all__ = [
    "CUBIC",
    "FIELD",
    "GENERAL",
    "ISING_2D",
    "LOCATORS",
    "MEAN_FIELD",
    "QUADRATIC",
    "QUARTIC",
    "SEXTIC",
    "SYMMETRIC",
    "AnalysisResult",
    "CollapseResult",
    "CriticalIsotherm",
    "CriticalPoint",
    "Estimate",
    "Exponents",
    "HysteresisResult",
    "LandauPolynomial",
    "LandauResult",
    "LandauTerm",
    "Location",
    "Locator",
    "LocatorContext",
    "SizeCurves",
    "TemporalResult",
    "UniversalityClass",
    "UniversalityComparison",
    "UniversalityResult",
    "analyze",
    "compare_analyses",
]
