"""Deep-linear learning dynamics: a staircase of plateaus with exactly known times.

Saxe, McClelland & Ganguli (2014, "Exact solutions to the nonlinear dynamics of learning
in deep linear neural networks", arXiv:1312.6120) show that a one-hidden-layer linear
network trained by gradient flow on whitened inputs, from a small balanced initialisation
aligned with the singular vectors of the input–output correlation, learns each mode of
strength ``s`` independently along the logistic curve

    u(t) = s e^(2st/tau) / (e^(2st/tau) - 1 + s/u0),

so the time to go from ``u0`` to ``uf`` is ``t = (tau / 2s) ln[uf (s - u0) / (u0 (s - uf))]``
and the half-way point ``u = s/2`` is reached at ``(tau / 2s) ln((s - u0)/u0)``. Modes of
strengths 3, 2, 1 give a staircase of plateaus — a sequence of sigmoidal crossovers, not a
phase transition. :func:`saxe_staircase` tabulates the exact solution;
:func:`deep_linear_gradient_descent` runs actual gradient descent in numpy (decoupled
initialisation reproduces the formula up to the ``O(learning rate)`` discretisation;
random small initialisation gives realistic trajectories).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from landaulab.datasets._tidy import as_count, as_positive_array
from landaulab.errors import DataError


def mode_strength(
    time: np.ndarray | float, strength: float, initial: float, tau: float = 1.0
) -> np.ndarray:
    """Exact strength ``u(t)`` of a mode of singular value ``strength`` learned from ``initial``."""
    t = np.asarray(time, dtype=float)
    with np.errstate(over="ignore"):
        return strength / (1.0 + (strength / initial - 1.0) * np.exp(-2.0 * strength * t / tau))


def learning_time(strength: float, initial: float, final: float, tau: float = 1.0) -> float:
    """Time for a mode to grow from ``initial`` to ``final`` (``0 < initial, final < strength``)."""
    if not (0 < initial < strength and 0 < final < strength):
        raise DataError("need 0 < initial, final < strength")
    return float(
        tau / (2 * strength) * np.log(final * (strength - initial) / (initial * (strength - final)))
    )


def saxe_staircase(
    strengths: Sequence[float] = (3.0, 2.0, 1.0),
    *,
    initial: float | Sequence[float] = 1e-9,
    tau: float = 1.0,
    t_max: float | None = None,
    n_points: int = 2000,
    noise: float = 0.0,
    seed: int = 0,
    control_name: str = "initial_strength",
    order_parameter: str = "m",
) -> pd.DataFrame:
    """Exact deep-linear learning trajectories, one run per initial strength.

    Parameters
    ----------
    strengths
        Singular values ``s`` of the modes.
    initial
        Initial strength ``u0`` of every mode: one value, or one per run.
    tau
        Time constant (inverse learning rate).
    t_max
        Duration; by default 1.5 times the time the weakest mode takes to reach 99%.
    n_points
        Samples per run, evenly spaced in time.
    noise
        Standard deviation of Gaussian observation noise added to every column.
    seed
        Seed of that noise.
    control_name, order_parameter
        Names of the initial-strength column and of the order parameter (the total learned
        strength ``sum_k u_k``).

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id``, ``step``, ``time``, the control column, the order parameter,
        ``loss`` (``0.5 sum_k (s_k - u_k)^2``) and ``u_1 ...`` per mode.
    """
    s = as_positive_array(strengths, "strengths")
    u0 = as_positive_array(initial, "initial")
    if np.any(u0[:, None] >= s[None, :]):
        raise DataError("every initial strength must be below every mode strength")
    n_points = as_count(n_points, "n_points", minimum=2)
    if t_max is None:
        t_max = 1.5 * max(learning_time(float(k), float(u0.min()), 0.99 * float(k), tau) for k in s)
    time = np.linspace(0.0, float(t_max), n_points)
    rng = np.random.default_rng(seed)
    frames = []
    for run, start in enumerate(u0):
        modes = np.stack([mode_strength(time, float(k), float(start), tau) for k in s])
        if noise > 0:
            modes = modes + noise * rng.standard_normal(modes.shape)
        columns = {
            "run_id": np.full(n_points, run, dtype=np.int64),
            "step": np.arange(n_points, dtype=np.int64),
            "time": time,
            control_name: np.full(n_points, start),
            order_parameter: modes.sum(axis=0),
            "loss": 0.5 * np.sum((s[:, None] - modes) ** 2, axis=0),
        }
        columns.update({f"u_{k + 1}": modes[k] for k in range(s.size)})
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True)


def deep_linear_gradient_descent(
    strengths: Sequence[float] = (3.0, 2.0, 1.0),
    *,
    runs: int = 1,
    initial: float = 1e-6,
    decoupled: bool = True,
    extra_dimensions: int = 2,
    learning_rate: float = 1e-3,
    n_steps: int = 10_000,
    record_every: int = 10,
    seed: int = 0,
    order_parameter: str = "m",
) -> pd.DataFrame:
    """Gradient descent on a one-hidden-layer linear network with whitened inputs.

    The loss is ``0.5 ||Sigma_yx - W2 W1||_F^2`` with ``Sigma_yx = U diag(s) V^T`` (random
    orthogonal ``U``, ``V``), the population loss for whitened inputs up to a constant.
    Time is ``step * learning_rate`` in units of ``tau``.

    Parameters
    ----------
    strengths
        Singular values of the teacher map.
    runs
        Number of runs (different random seeds).
    initial
        With ``decoupled=True`` every mode starts at ``u0 = initial`` with balanced
        layers aligned with the teacher's singular vectors (the exact-solution setting);
        otherwise weights are Gaussian with variance ``initial / width``.
    decoupled
        Aligned, balanced initialisation (see above) or a random one.
    extra_dimensions
        Input, hidden and output widths are ``len(strengths) + extra_dimensions``.
    learning_rate, n_steps, record_every
        Gradient-descent settings.
    seed
        Seed of the random orthogonal bases and weights.
    order_parameter
        Name of the total-strength column ``sum_k u_k`` (``u_k = a_k^T W2 W1 b_k``).
    """
    s = as_positive_array(strengths, "strengths")
    runs = as_count(runs, "runs")
    n_steps = as_count(n_steps, "n_steps")
    record_every = as_count(record_every, "record_every")
    if not (0 < learning_rate and learning_rate * s.max() < 0.5):
        raise DataError("learning_rate must be positive and below 0.5 / max(strengths)")
    k = s.size
    width = k + int(extra_dimensions)
    rng = np.random.default_rng(seed)
    recorded = np.arange(0, n_steps + 1, record_every)
    frames = []
    for run in range(runs):
        u_basis, _ = np.linalg.qr(rng.standard_normal((width, width)))
        v_basis, _ = np.linalg.qr(rng.standard_normal((width, width)))
        r_basis, _ = np.linalg.qr(rng.standard_normal((width, width)))
        teacher = u_basis[:, :k] @ np.diag(s) @ v_basis[:, :k].T
        if decoupled:
            amp = np.sqrt(initial)
            w1 = amp * r_basis[:, :k] @ v_basis[:, :k].T
            w2 = amp * u_basis[:, :k] @ r_basis[:, :k].T
        else:
            w1 = rng.standard_normal((width, width)) * np.sqrt(initial / width)
            w2 = rng.standard_normal((width, width)) * np.sqrt(initial / width)
        modes = np.empty((recorded.size, k))
        losses = np.empty(recorded.size)
        slot = 0
        for step in range(n_steps + 1):
            product = w2 @ w1
            if slot < recorded.size and step == recorded[slot]:
                modes[slot] = np.einsum("ik,ij,jk->k", u_basis[:, :k], product, v_basis[:, :k])
                losses[slot] = 0.5 * np.sum((teacher - product) ** 2)
                slot += 1
            if step == n_steps:
                break
            error = teacher - product
            w1, w2 = w1 + learning_rate * w2.T @ error, w2 + learning_rate * error @ w1.T
        if not np.all(np.isfinite(modes)):
            raise DataError("gradient descent diverged; lower the learning rate")
        columns = {
            "run_id": np.full(recorded.size, run, dtype=np.int64),
            "step": recorded.astype(np.int64),
            "time": recorded * learning_rate,
            order_parameter: modes.sum(axis=1),
            "loss": losses,
        }
        columns.update({f"u_{j + 1}": modes[:, j] for j in range(k)})
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True)
