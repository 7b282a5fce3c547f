"""Warm-started up/down sweeps of overdamped Langevin dynamics in a planted Landau F.

dm = −∂F/∂m dt + √(2 dt / N) ξ (stationary density ∝ exp(−N·F)), integrated by
Euler–Maruyama for all replicas at once. The up sweep starts in the ordered phase at the
lowest temperature, the down sweep disordered (m = 0) at the highest; each temperature is
a new run warm-started from the previous one's last state.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landaulab.datasets import PlantedLandau


def _force(model: PlantedLandau, m: np.ndarray, temperature: float) -> np.ndarray:
    return -(
        2 * model.a * (temperature - model.t0) * m
        + 3 * model.cubic * m**2
        + 4 * model.quartic * m**3
        + 6 * model.sextic * m**5
        - model.field
    )


def langevin_sweeps(
    model: PlantedLandau,
    temperatures: np.ndarray,
    *,
    size: float,
    replicas: int,
    steps: int,
    dt: float,
    record_every: int,
    seed: int,
) -> pd.DataFrame:
    """Tidy frame with columns run_id, step, temperature, N, direction, m."""
    rng = np.random.default_rng(seed)
    parts = []
    for direction in ("up", "down"):
        order = np.sort(temperatures) if direction == "up" else np.sort(temperatures)[::-1]
        m = np.full(replicas, model.m_star(order[0]) if direction == "up" else 0.0)
        for index, temperature in enumerate(order):
            recorded = []
            for step in range(steps):
                noise = rng.normal(size=replicas)
                m = m + _force(model, m, temperature) * dt + np.sqrt(2 * dt / size) * noise
                if step % record_every == 0:
                    recorded.append(m.copy())
            values = np.array(recorded).T  # (replicas, records)
            records = values.shape[1]
            parts.append(
                pd.DataFrame(
                    {
                        "run_id": np.repeat(
                            [f"{direction}-{r}-{index}" for r in range(replicas)], records
                        ),
                        "step": np.tile(np.arange(records) * record_every, replicas),
                        "temperature": temperature,
                        "N": size,
                        "direction": direction,
                        "m": values.ravel(),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)
