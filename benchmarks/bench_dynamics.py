"""Benchmark: ``dynamics`` on 1,000 Langevin runs x 1,000 steps (1 M rows), 200 resamples.

Runs follow the Landau quartic dm = -(a (T - Tc) m + b m^3) dt + sqrt(2 D) dW at five
temperatures (Euler–Maruyama, dt = 0.01, D = 0.01, Tc = 0), 200 runs each, written to
Parquet and read back as a user's logs would be. The timed part is loading plus
:func:`landaulab.dynamics.dynamics` with 200 bootstrap replicates over runs. It prints the
time against a goal of 60 s on 2 cores and the accuracy against the exact answers:
attractors at 0 above Tc and at +-sqrt((Tc - T) a / b) below, linear relaxation time
1 / (a (T - Tc)) above Tc. A missed time goal ends the script with status 1 and one line.

Run: ``OMP_NUM_THREADS=2 python benchmarks/bench_dynamics.py``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _goals import Goals
from landaulab.datasets.langevin import LandauQuartic, simulate_langevin
from landaulab.dynamics import dynamics

GOAL_SECONDS = 60.0
TEMPERATURES = (-0.5, -0.25, 0.5, 1.0, 2.0)


def main() -> None:
    """Simulate, write, load and analyse; print timings and accuracy."""
    start = time.perf_counter()
    frame = simulate_langevin(
        LandauQuartic(),
        control=TEMPERATURES,
        runs_per_control=200,
        n_steps=999,
        dt=0.01,
        diffusion=0.01,
        initial=np.tile(np.linspace(-1.0, 1.0, 200), len(TEMPERATURES)),
        seed=1,
    )
    simulated = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "runs.parquet"
        frame.to_parquet(path)
        del frame
        t0 = time.perf_counter()
        loaded = pd.read_parquet(path)
        result = dynamics(
            loaded, order_parameter="m", time_col="time", control="temperature", n_bootstrap=200
        )
        t1 = time.perf_counter()
    print(f"rows: {result.n_samples}, runs: {result.n_runs}")
    print(f"simulate: {simulated - start:.1f} s; load + dynamics: {t1 - t0:.1f} s")
    for cd in result.controls:
        temp = cd.control
        expected = [0.0] if temp > 0 else [-np.sqrt(-temp), np.sqrt(-temp)]
        found = [a.position for a in cd.potential.attractors]
        tau = cd.relaxation
        line = (
            f"T = {temp:+.2f}: attractors {np.round(found, 4).tolist()} "
            f"(exact {np.round(expected, 4).tolist()})"
        )
        if temp > 0:
            line += (
                f"; tau {tau.value:.3f} [{tau.low:.3f}, {tau.high:.3f}] (exact {1 / temp:.3f},"
                f" {tau.method})"
            )
        print(line)
    print(f"time / goal = {(t1 - t0) / GOAL_SECONDS:.2f}")
    goals = Goals()
    goals.at_most("load + dynamics", t1 - t0, GOAL_SECONDS, " s")
    goals.finish()


if __name__ == "__main__":
    main()
