"""Order-parameter candidates measured during training.

Each observable is a small callback ``measure(model, batch, step) -> dict[str, float]``
with an optional :class:`~landaulab.record.schedule.Schedule`; an
:class:`ObservableSet` measures those due at a step and merges their columns.
Cheap observables run every step, expensive ones (curvature, Fisher/NTK spectra,
the local learning coefficient, SGD noise) on log-spaced steps by default.
"""

from landaulab.record.observables.base import (
    LearningRate,
    Observable,
    ObservableBase,
    ObservableError,
    learning_rate_at,
    seeded_generator,
)
from landaulab.record.observables.basic import (
    GradientNorm,
    Loss,
    ParameterNorm,
    UpdateToWeightRatio,
)
from landaulab.record.observables.curvature import (
    HessianSpectralDensity,
    HessianTopEigenvalues,
    HessianTrace,
    Sharpness,
)
from landaulab.record.observables.functional import (
    ParameterSpace,
    per_example_gradients,
    per_example_jacobians,
)
from landaulab.record.observables.hvp import (
    CurvatureOperator,
    EmpiricalFisherOperator,
    GaussNewtonOperator,
    HessianOperator,
    MatrixOperator,
    curvature_operator,
)
from landaulab.record.observables.information_geometry import (
    FisherSpectrum,
    NTKSpectrum,
    SpectrumSummary,
    empirical_fisher_gram,
    fisher_gram,
    ntk_gram,
    summarize_spectrum,
)
from landaulab.record.observables.lanczos import (
    EigenResult,
    SpectralDensity,
    rayleigh_refine,
    spectral_density,
    top_eigenvalues,
)
from landaulab.record.observables.llc import (
    LLCResult,
    LocalLearningCoefficient,
    estimate_llc,
    quadratic_llc,
    split_rhat,
)
from landaulab.record.observables.objective import Objective, as_objective
from landaulab.record.observables.representation import (
    FourierConcentration,
    FourierObservable,
    RankSummary,
    RepresentationRank,
    effective_rank,
    fourier_concentration,
)
from landaulab.record.observables.runner import LogSpacedSteps, ObservableSet
from landaulab.record.observables.sgd_noise import (
    GradientNoise,
    SGDNoiseTemperature,
    gradient_noise,
)
from landaulab.record.observables.symmetry import (
    UnitOverlaps,
    UnitSymmetry,
    Z2Symmetry,
    count_unit_clusters,
    matched_overlap,
    specialisation_index,
    unit_differentiation,
    unit_overlaps,
    z2_breaking_fraction,
)
from landaulab.record.observables.trace import TraceEstimate, hutch_plus_plus, hutchinson

__all__ = [
    "CurvatureOperator",
    "EigenResult",
    "EmpiricalFisherOperator",
    "FisherSpectrum",
    "FourierConcentration",
    "FourierObservable",
    "GaussNewtonOperator",
    "GradientNoise",
    "GradientNorm",
    "HessianOperator",
    "HessianSpectralDensity",
    "HessianTopEigenvalues",
    "HessianTrace",
    "LLCResult",
    "LearningRate",
    "LocalLearningCoefficient",
    "LogSpacedSteps",
    "Loss",
    "MatrixOperator",
    "NTKSpectrum",
    "Objective",
    "Observable",
    "ObservableBase",
    "ObservableError",
    "ObservableSet",
    "ParameterNorm",
    "ParameterSpace",
    "RankSummary",
    "RepresentationRank",
    "SGDNoiseTemperature",
    "Sharpness",
    "SpectralDensity",
    "SpectrumSummary",
    "TraceEstimate",
    "UnitOverlaps",
    "UnitSymmetry",
    "UpdateToWeightRatio",
    "Z2Symmetry",
    "as_objective",
    "count_unit_clusters",
    "curvature_operator",
    "effective_rank",
    "empirical_fisher_gram",
    "estimate_llc",
    "fisher_gram",
    "fourier_concentration",
    "gradient_noise",
    "hutch_plus_plus",
    "hutchinson",
    "learning_rate_at",
    "matched_overlap",
    "ntk_gram",
    "per_example_gradients",
    "per_example_jacobians",
    "quadratic_llc",
    "rayleigh_refine",
    "seeded_generator",
    "specialisation_index",
    "spectral_density",
    "split_rhat",
    "summarize_spectrum",
    "top_eigenvalues",
    "unit_differentiation",
    "unit_overlaps",
    "z2_breaking_fraction",
]
