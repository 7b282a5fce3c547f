"""Benchmark: analyse 10,000 runs × 200 steps (2 M rows) with 1,000 bootstrap resamples.

The data are exact Curie–Weiss samples (5 sizes × 40 temperatures × 50 runs), written to
Parquet and read back through Arrow, as a user's logs would be. The timed part is loading
plus :func:`landaulab.analyze.analyze` (ensemble moments, 1,000 bootstrap replicates over
runs, Landau fits, critical points, order, exponents and the data collapse). The goal is
under 60 s on 2 cores; the last line prints the time and its ratio to that goal, and
the script exits with status 1 (and one line) when the goal is missed.

Run: ``OMP_NUM_THREADS=2 python benchmarks/bench_analyze.py``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _goals import Goals
from landaulab.analyze import analyze
from landaulab.datasets import curie_weiss

GOAL_SECONDS = 60.0


def main() -> None:
    """Generate, write, load and analyse the benchmark data; print timings."""
    start = time.perf_counter()
    frame = curie_weiss(
        np.linspace(0.8, 1.2, 40), [100, 200, 400, 800, 1600], n_runs=50, n_steps=200, seed=1
    )
    generated = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "runs.parquet"
        frame.to_parquet(path)
        del frame
        t0 = time.perf_counter()
        loaded = pd.read_parquet(path)
        t1 = time.perf_counter()
        result = analyze(
            loaded,
            order_parameter="m",
            control="temperature",
            size="N",
            use_abs=True,
            n_bootstrap=1000,
            seed=0,
        )
        t2 = time.perf_counter()
    print(f"rows: {len(loaded):,}  runs: {loaded['run_id'].nunique():,}")
    print(f"generate: {generated - start:.1f} s   load: {t1 - t0:.1f} s   analyze: {t2 - t1:.1f} s")
    print(result)
    total = t2 - t0
    print(
        f"load + analyze: {total:.1f} s = {total / GOAL_SECONDS:.2f} × "
        f"the {GOAL_SECONDS:.0f} s goal"
    )
    goals = Goals()
    goals.at_most("load + analyze", total, GOAL_SECONDS, " s")
    goals.finish()


if __name__ == "__main__":
    main()
