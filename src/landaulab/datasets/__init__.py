"""Ground-truth generators: systems whose transitions are known exactly.

Each returns a tidy frame (``run_id``, ``step``, the control column ``temperature``, a size
column and the order parameter ``m``) ready for :func:`landaulab.analyze.analyze`.
"""

from landaulab.datasets.curie_weiss import curie_weiss
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
from landaulab.datasets.saxe import (
    deep_linear_gradient_descent,
    learning_time,
    mode_strength,
    saxe_staircase,
)

__all__ = [
    "FIRST_ORDER",
    "SECOND_ORDER",
    "DoubleWell",
    "Harmonic",
    "LandauQuartic",
    "PlantedLandau",
    "curie_weiss",
    "deep_linear_gradient_descent",
    "ising2d",
    "kramers_escape_rate",
    "learning_time",
    "mean_first_passage_time",
    "mode_strength",
    "ornstein_uhlenbeck",
    "planted_landau",
    "saxe_staircase",
    "simulate_langevin",
]
