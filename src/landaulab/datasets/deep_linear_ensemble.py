"""Seed ensembles of a two-layer scalar linear network with weight decay: β = 1 at γ_c = a.

The network f(x) = w₂w₁x is trained by gradient descent on the population loss with whitened
input and target correlation a = E[xy] plus weight decay γ,

    L(w₁, w₂) = (w₂w₁)² − 2a·w₂w₁ + γ(w₁² + w₂²)   (up to a constant).

With balanced layers (|w₁| = |w₂|, which gradient flow conserves from a balanced start and
approaches otherwise) the end-to-end product b = w₂w₁ minimises b² − 2ab + 2γ|b|, so
b* = max(a − γ, 0): a second-order transition at γ_c = a with the order parameter vanishing
linearly, exponent 1 (Ziyin & Ueda 2022, "Exact phase transitions in deep learning",
arXiv:2205.12510, the case of one hidden layer; KNOWN_ANSWERS "deep linear network with
weight decay", D = 1). Gradient descent from a small random initialisation converges at the
rate |a − γ|, so controls near γ_c are still converging after a finite budget (critical
slowing down), as in real training.

:func:`deep_linear_ensemble` runs that gradient descent for every (γ, seed) at once
(vectorised numpy) and records b with optional Gaussian measurement noise (an evaluation on
a finite batch).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from landaulab.datasets._tidy import as_count, as_positive_array, tidy_frame
from landaulab.errors import DataError

#: The exponent of b* ∝ (γ_c − γ)^β below γ_c.
BETA = 1.0


def planted_product(weight_decay: np.ndarray | float, strength: float = 1.0) -> np.ndarray:
    """b*(γ) = max(a − γ, 0), the converged end-to-end product."""
    return np.maximum(float(strength) - np.asarray(weight_decay, dtype=float), 0.0)


def deep_linear_ensemble(
    weight_decays: Sequence[float],
    *,
    strength: float = 1.0,
    n_seeds: int = 8,
    n_steps: int = 4000,
    record_every: int = 20,
    learning_rate: float = 0.05,
    init_scale: float = 0.1,
    noise: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Gradient-descent trajectories of b = w₂w₁ for every weight decay γ and seed.

    Parameters
    ----------
    weight_decays
        Weight decays γ (the control parameter); the transition is at γ_c = ``strength``.
    strength
        The input–output correlation a > 0.
    n_seeds
        Runs per γ (independent Gaussian initialisations w ~ N(0, init_scale²)).
    n_steps, record_every
        Gradient-descent steps and the recording interval (the first record is step 0).
    learning_rate
        Step size; must be below 0.25 / (a + γ_max) for stability.
    init_scale
        Standard deviation of the initial weights.
    noise
        Standard deviation of Gaussian measurement noise added to every recorded b.
    seed
        Seed of the initialisation and the noise; the same arguments give the same frame.

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id``, ``step``, ``weight_decay``, ``m`` (the recorded product b) and
        ``loss`` (the noiseless L).
    """
    gammas = as_positive_array(weight_decays, "weight_decays")
    a = float(as_positive_array(strength, "strength")[0])
    seeds = as_count(n_seeds, "n_seeds")
    steps = as_count(n_steps, "n_steps")
    every = as_count(record_every, "record_every")
    if not 0 < learning_rate < 0.25 / (a + float(gammas.max())):
        raise DataError("learning_rate must be positive and below 0.25 / (strength + max γ)")
    if not init_scale > 0 or noise < 0:
        raise DataError("init_scale must be > 0 and noise >= 0")
    rng = np.random.default_rng(seed)
    gamma = np.repeat(gammas, seeds)
    w1 = init_scale * rng.standard_normal(gamma.size)
    w2 = init_scale * rng.standard_normal(gamma.size)
    recorded = np.arange(0, steps + 1, every)
    products = np.empty((gamma.size, recorded.size))
    losses = np.empty((gamma.size, recorded.size))
    slot = 0
    for step in range(steps + 1):
        b = w1 * w2
        if step == recorded[slot]:
            products[:, slot] = b
            losses[:, slot] = b**2 - 2 * a * b + gamma * (w1**2 + w2**2)
            slot += 1
            if slot == recorded.size:
                break
        error = b - a
        w1, w2 = (
            w1 - learning_rate * (2 * error * w2 + 2 * gamma * w1),
            w2 - learning_rate * (2 * error * w1 + 2 * gamma * w2),
        )
    if noise > 0:
        products = products + noise * rng.standard_normal(products.shape)
    blocks = []
    for i, g in enumerate(gammas):
        rows = slice(i * seeds, (i + 1) * seeds)
        blocks.append({"runs": seeds, "weight_decay": g, "m": products[rows], "loss": losses[rows]})
    frame = tidy_frame(blocks, recorded.size)
    frame["step"] = recorded[frame["step"].to_numpy()]
    return frame
