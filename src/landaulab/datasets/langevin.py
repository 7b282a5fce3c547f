"""Overdamped Langevin dynamics in known potentials: ground truth for ``landaulab.dynamics``.

The order parameter follows Ginzburg–Landau "model A" dynamics (Hohenberg & Halperin 1977,
Rev. Mod. Phys. 49:435) in zero dimensions,

    dm = -V'(m; T) dt + sqrt(2 D) dW,

integrated by the Euler–Maruyama scheme (Kloeden & Platen 1992, *Numerical Solution of
Stochastic Differential Equations*, sec. 10.2), vectorised over runs. With a constant
diffusion ``D`` the stationary density is ``exp(-V/D)``, the drift is ``-V'`` and the
effective potential is ``V/D``. Known answers provided alongside:

* :func:`ornstein_uhlenbeck` samples the linear case exactly (no discretisation error),
  with relaxation time ``tau``: ``<m(t) m(0)> = var * exp(-t/tau)``;
* :func:`mean_first_passage_time` evaluates the exact 1-D first-passage integral
  (Gardiner 2009, *Stochastic Methods*, sec. 5.5);
* :func:`kramers_escape_rate` is Kramers' (1940, Physica 7:284) high-barrier rate
  ``sqrt(V''(a) |V''(s)|) / (2 pi) * exp(-(V(s) - V(a)) / D)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from landaulab.datasets._tidy import as_count
from landaulab.errors import DataError


class Potential(Protocol):
    """A potential ``V(m; T)`` with its derivative, vectorised over ``m`` and ``T``."""

    def value(self, m: np.ndarray, control: np.ndarray | float) -> np.ndarray:
        """``V(m; T)``."""
        ...

    def gradient(self, m: np.ndarray, control: np.ndarray | float) -> np.ndarray:
        """``dV/dm``."""
        ...


@dataclass(frozen=True)
class DoubleWell:
    """Symmetric double well ``V(m) = barrier * ((m / minimum)^2 - 1)^2``.

    Minima at ``+-minimum``, saddle at 0 with height ``barrier``; the control is unused
    (pass the temperature through ``diffusion=None`` in :func:`simulate_langevin`).
    """

    barrier: float = 1.0
    minimum: float = 1.0

    def value(self, m: np.ndarray, control: np.ndarray | float = 0.0) -> np.ndarray:
        """``V(m)``."""
        x = np.asarray(m, dtype=float) / self.minimum
        return self.barrier * (x**2 - 1.0) ** 2

    def gradient(self, m: np.ndarray, control: np.ndarray | float = 0.0) -> np.ndarray:
        """``dV/dm = 4 barrier x (x^2 - 1) / minimum``."""
        x = np.asarray(m, dtype=float) / self.minimum
        return 4.0 * self.barrier * x * (x**2 - 1.0) / self.minimum


@dataclass(frozen=True)
class LandauQuartic:
    """Landau potential ``V(m; T) = a (T - Tc) m^2 / 2 + b m^4 / 4``.

    The drift is ``-(a (T - Tc) m + b m^3)``: the time-dependent Ginzburg–Landau form. The
    stable states are ``m = 0`` above ``Tc`` and ``+-sqrt(a (Tc - T) / b)`` below; the linear
    relaxation time is ``1 / (a (T - Tc))`` above and ``1 / (2 a (Tc - T))`` below
    (mean-field critical slowing down, ``z nu = 1``).
    """

    a: float = 1.0
    b: float = 1.0
    critical_point: float = 0.0

    def value(self, m: np.ndarray, control: np.ndarray | float) -> np.ndarray:
        """``V(m; T)``."""
        m = np.asarray(m, dtype=float)
        r = self.a * (np.asarray(control, dtype=float) - self.critical_point)
        return 0.5 * r * m**2 + 0.25 * self.b * m**4

    def gradient(self, m: np.ndarray, control: np.ndarray | float) -> np.ndarray:
        """``dV/dm = a (T - Tc) m + b m^3``."""
        m = np.asarray(m, dtype=float)
        r = self.a * (np.asarray(control, dtype=float) - self.critical_point)
        return r * m + self.b * m**3


@dataclass(frozen=True)
class Harmonic:
    """Harmonic potential ``V(m) = stiffness (m - centre)^2 / 2`` (Ornstein–Uhlenbeck)."""

    stiffness: float = 1.0
    centre: float = 0.0

    def value(self, m: np.ndarray, control: np.ndarray | float = 0.0) -> np.ndarray:
        """``V(m)``."""
        return 0.5 * self.stiffness * (np.asarray(m, dtype=float) - self.centre) ** 2

    def gradient(self, m: np.ndarray, control: np.ndarray | float = 0.0) -> np.ndarray:
        """``dV/dm``."""
        return self.stiffness * (np.asarray(m, dtype=float) - self.centre)


def _per_run(values: float | Sequence[float] | np.ndarray, n_runs: int, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim == 0:
        array = np.full(n_runs, float(array))
    if array.shape != (n_runs,):
        raise DataError(
            f"{name} must be a number or one number per run ({n_runs}); got {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} must be finite")
    return array


def simulate_langevin(
    potential: Potential,
    *,
    control: float | Sequence[float] = 0.0,
    runs_per_control: int = 10,
    n_steps: int = 1000,
    dt: float = 0.01,
    diffusion: float | None = 0.1,
    initial: float | Sequence[float] = 0.0,
    record_every: int = 1,
    control_ramp_to: float | None = None,
    seed: int = 0,
    control_name: str = "temperature",
    order_parameter: str = "m",
) -> pd.DataFrame:
    """Simulate ``dm = -V'(m; T) dt + sqrt(2 D) dW`` by Euler–Maruyama for many runs at once.

    Parameters
    ----------
    potential
        The potential (e.g. :class:`DoubleWell`, :class:`LandauQuartic`, :class:`Harmonic`).
    control
        One control value or a list; each gets ``runs_per_control`` runs.
    runs_per_control
        Runs per control value.
    n_steps
        Integration steps per run.
    dt
        Integration time step.
    diffusion
        Noise strength ``D`` (the temperature of the stationary density ``exp(-V/D)``);
        ``None`` uses each run's control value as ``D``.
    initial
        Initial value of m: a number, or one number per run.
    record_every
        Keep every ``record_every``-th step (step 0 and the last kept step included).
    control_ramp_to
        If given, the control moves linearly from its value to this one over the run (the
        recorded control column then varies within runs).
    seed
        Seed of the noise.
    control_name, order_parameter
        Names of the control and order-parameter columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id``, ``step``, ``time`` (= step * dt), the control column and the
        order parameter; one row per run and recorded step.
    """
    runs_per_control = as_count(runs_per_control, "runs_per_control")
    n_steps = as_count(n_steps, "n_steps")
    record_every = as_count(record_every, "record_every")
    if not (np.isfinite(dt) and dt > 0):
        raise DataError(f"dt must be positive; got {dt}")
    controls = np.repeat(np.atleast_1d(np.asarray(control, dtype=float)), runs_per_control)
    n_runs = controls.size
    start = _per_run(initial, n_runs, "initial")
    if diffusion is None:
        noise = controls.copy()
    else:
        noise = np.full(n_runs, float(diffusion))
    if np.any(noise < 0) or not np.all(np.isfinite(noise)):
        raise DataError("the diffusion (noise strength) must be finite and >= 0")
    rng = np.random.default_rng(seed)
    recorded = np.arange(0, n_steps + 1, record_every)
    out = np.empty((recorded.size, n_runs))
    ramp = None if control_ramp_to is None else (float(control_ramp_to) - controls) / n_steps
    kick = np.sqrt(2.0 * noise * dt)
    m = start.copy()
    out[0] = m
    slot = 1
    chunk = 4096
    for first in range(0, n_steps, chunk):
        count = min(chunk, n_steps - first)
        shocks = rng.standard_normal((count, n_runs)) * kick
        for j in range(count):
            step = first + j
            now = controls if ramp is None else controls + ramp * step
            if diffusion is None and ramp is not None:
                shocks[j] *= np.sqrt(np.maximum(now, 0) / np.maximum(noise, 1e-300))
            m = m - potential.gradient(m, now) * dt + shocks[j]
            if slot < recorded.size and step + 1 == recorded[slot]:
                out[slot] = m
                slot += 1
    if not np.all(np.isfinite(out)):
        raise DataError("the simulation diverged; lower dt or the initial value")
    steps = np.tile(recorded, n_runs)
    control_rows = (
        np.repeat(controls, recorded.size)
        if ramp is None
        else (controls[:, None] + ramp[:, None] * recorded[None, :]).ravel()
    )
    return pd.DataFrame(
        {
            "run_id": np.repeat(np.arange(n_runs, dtype=np.int64), recorded.size),
            "step": steps.astype(np.int64),
            "time": steps * dt,
            control_name: control_rows,
            order_parameter: out.T.ravel(),
        }
    )


def ornstein_uhlenbeck(
    *,
    relaxation_time: float | Sequence[float] = 1.0,
    variance: float = 1.0,
    runs_per_control: int = 10,
    n_steps: int = 1000,
    dt: float = 0.1,
    control: float | Sequence[float] | None = None,
    seed: int = 0,
    control_name: str = "temperature",
    order_parameter: str = "m",
) -> pd.DataFrame:
    """Exactly sampled Ornstein–Uhlenbeck trajectories with known relaxation time.

    ``m(t + dt) = m(t) exp(-dt/tau) + sqrt(var (1 - exp(-2 dt/tau))) xi`` starting from the
    stationary distribution, so ``<m(t) m(0)> = var exp(-t/tau)`` holds exactly
    (Uhlenbeck & Ornstein 1930, Phys. Rev. 36:823). The drift is ``-m/tau`` and the
    diffusion ``var/tau``.

    Parameters
    ----------
    relaxation_time
        ``tau``: one value, or one per control value.
    variance
        Stationary variance.
    runs_per_control
        Runs per relaxation time.
    n_steps
        Recorded steps per run (``n_steps + 1`` samples including step 0).
    dt
        Sampling interval.
    control
        Control value of each relaxation time (defaults to ``tau`` itself).
    seed
        Seed of the noise.
    control_name, order_parameter
        Names of the control and order-parameter columns.
    """
    taus = np.atleast_1d(np.asarray(relaxation_time, dtype=float))
    if not np.all(np.isfinite(taus)) or np.any(taus <= 0):
        raise DataError("relaxation_time must be finite and positive")
    if not (np.isfinite(variance) and variance > 0):
        raise DataError("variance must be positive")
    runs_per_control = as_count(runs_per_control, "runs_per_control")
    n_steps = as_count(n_steps, "n_steps")
    labels = taus if control is None else np.atleast_1d(np.asarray(control, dtype=float))
    if labels.shape != taus.shape:
        raise DataError("give one control value per relaxation time")
    rng = np.random.default_rng(seed)
    frames = []
    run = 0
    for tau, label in zip(taus, labels, strict=True):
        rho = np.exp(-dt / tau)
        shocks = rng.standard_normal((runs_per_control, n_steps + 1))
        shocks[:, 1:] *= np.sqrt(variance * (1.0 - rho**2))
        shocks[:, 0] *= np.sqrt(variance)
        path = lfilter([1.0], [1.0, -rho], shocks, axis=1)
        steps = np.arange(n_steps + 1)
        frames.append(
            pd.DataFrame(
                {
                    "run_id": np.repeat(np.arange(run, run + runs_per_control), n_steps + 1),
                    "step": np.tile(steps, runs_per_control),
                    "time": np.tile(steps * dt, runs_per_control),
                    control_name: label,
                    order_parameter: path.ravel(),
                }
            )
        )
        run += runs_per_control
    return pd.concat(frames, ignore_index=True)


def _reflecting_lower(
    potential: Potential, control: float, diffusion: float, start: float
) -> float:
    """A point left of ``start`` beyond which ``exp(-V/D)`` is negligible (< e^-40)."""
    reference = float(potential.value(np.array([start]), control)[0])
    step = 0.1 * max(1.0, abs(start))
    point = start
    for _ in range(10_000):
        point -= step
        if float(potential.value(np.array([point]), control)[0]) - reference > 40 * diffusion:
            return point
        step *= 1.1
    raise DataError("the potential does not confine m from below; give lower= explicitly")


def mean_first_passage_time(
    potential: Potential,
    *,
    start: float,
    end: float,
    diffusion: float,
    control: float = 0.0,
    lower: float | None = None,
    n_points: int = 200_001,
) -> float:
    """Exact mean time for ``dm = -V' dt + sqrt(2D) dW`` to first reach ``end`` from ``start``.

    ``T = (1/D) int_start^end dy exp(V(y)/D) int_lower^y exp(-V(z)/D) dz`` for
    ``start < end`` with a reflecting boundary at ``lower`` (by default far enough that
    it does not matter); the mirror formula is used for ``start > end``.
    """
    if not diffusion > 0:
        raise DataError("diffusion must be positive")
    if start == end:
        return 0.0
    if start > end:

        @dataclass(frozen=True)
        class _Mirror:
            inner: Potential

            def value(self, m: np.ndarray, c: np.ndarray | float) -> np.ndarray:
                return self.inner.value(-np.asarray(m), c)

            def gradient(self, m: np.ndarray, c: np.ndarray | float) -> np.ndarray:
                return -self.inner.gradient(-np.asarray(m), c)

        return mean_first_passage_time(
            _Mirror(potential),
            start=-start,
            end=-end,
            diffusion=diffusion,
            control=control,
            lower=None if lower is None else -lower,
            n_points=n_points,
        )
    low = _reflecting_lower(potential, control, diffusion, start) if lower is None else lower
    z = np.linspace(low, end, n_points)
    v = potential.value(z, control) / diffusion
    shift = float(v.min())
    inner = np.exp(-(v - shift))
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (inner[1:] + inner[:-1]) * np.diff(z))])
    outer = np.exp(v - shift) * cumulative
    mask = z >= start
    zs, fs = z[mask], outer[mask]
    return float(np.trapezoid(fs, zs) / diffusion)


def kramers_escape_rate(
    potential: Potential,
    *,
    minimum: float,
    saddle: float,
    diffusion: float,
    control: float = 0.0,
) -> float:
    """Kramers' high-barrier escape rate from the well at ``minimum`` over ``saddle``."""
    eps = 1e-4 * max(1.0, abs(minimum), abs(saddle))

    def curvature(x: float) -> float:
        g = potential.gradient(np.array([x - eps, x + eps]), control)
        return float((g[1] - g[0]) / (2 * eps))

    height = float(
        potential.value(np.array([saddle]), control)[0]
        - potential.value(np.array([minimum]), control)[0]
    )
    prefactor = np.sqrt(curvature(minimum) * abs(curvature(saddle))) / (2 * np.pi)
    return float(prefactor * np.exp(-height / diffusion))
