"""Ground-truth generators: systems whose transitions are known exactly.

Each returns a tidy frame (``run_id``, ``step``, the control column, a size column where
there is one and the order parameter ``m``) ready for :func:`landaulab.analyze.analyze` or
:func:`landaulab.dynamics.dynamics`. :mod:`landaulab.datasets.truth` draws whole systems at
random from these families, with their planted answers, for the truth benchmark.
"""

from landaulab.datasets.curie_weiss import curie_weiss
from landaulab.datasets.deep_linear_ensemble import deep_linear_ensemble, planted_product
from landaulab.datasets.field_scan import curie_weiss_field_scan, mean_field_magnetisation
from landaulab.datasets.ising2d import ising2d
from landaulab.datasets.langevin import (
    DoubleWell,
    Harmonic,
    LandauQuartic,
    kramers_escape_rate,
    mean_first_passage_time,
    ornstein_uhlenbeck,
    simulate_langevin,
)
from landaulab.datasets.planted_landau import (
    FIRST_ORDER,
    SECOND_ORDER,
    PlantedLandau,
    planted_landau,
)
from landaulab.datasets.potts import potts2d
from landaulab.datasets.saxe import (
    deep_linear_gradient_descent,
    learning_time,
    mode_strength,
    saxe_staircase,
)
from landaulab.datasets.training_curves import logistic_step, training_curves, transition_edges

__all__ = [
    "FIRST_ORDER",
    "SECOND_ORDER",
    "DoubleWell",
    "Harmonic",
    "LandauQuartic",
    "PlantedLandau",
    "curie_weiss",
    "curie_weiss_field_scan",
    "deep_linear_ensemble",
    "deep_linear_gradient_descent",
    "ising2d",
    "kramers_escape_rate",
    "learning_time",
    "logistic_step",
    "mean_field_magnetisation",
    "mean_first_passage_time",
    "mode_strength",
    "ornstein_uhlenbeck",
    "planted_landau",
    "planted_product",
    "potts2d",
    "saxe_staircase",
    "simulate_langevin",
    "training_curves",
    "transition_edges",
]
