"""Simulated trajectories shared by the dynamics tests (module-scoped: simulated once)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landaulab.datasets.langevin import DoubleWell, simulate_langevin

#: Double well V = (m^2 - 1)^2 at noise D = 0.25: barrier / D = 4.
DOUBLE_WELL = DoubleWell(barrier=1.0, minimum=1.0)
DOUBLE_WELL_NOISE = 0.25


def double_well_runs(seed: int, runs: int = 20, steps: int = 10_000) -> pd.DataFrame:
    """Euler–Maruyama runs recorded every step (dt = 0.005), half starting in each well."""
    return simulate_langevin(
        DOUBLE_WELL,
        control=DOUBLE_WELL_NOISE,
        runs_per_control=runs,
        n_steps=steps,
        dt=0.005,
        diffusion=DOUBLE_WELL_NOISE,
        initial=np.repeat([-1.0, 1.0], runs // 2),
        seed=seed,
    )


@pytest.fixture(scope="session")
def double_well_frames() -> list[pd.DataFrame]:
    """Four independent double-well data sets."""
    return [double_well_runs(seed) for seed in range(4)]
