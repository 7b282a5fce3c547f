"""Benchmark: ``landaulab analyze`` on planted-answer logs of 2 M and 20 M rows, grid and
irregular designs, measured as a user runs it (one process per analysis).

The data have a planted continuous transition: every run has its own control T and logs
``m = max(1 − T, 0) + 0.05·ε`` for 200 steps (ε standard normal), so T_c = 1 and β = 1.
Two designs of the same size are written to Parquet (streamed, in chunks of runs):

* **grid**: 20 values of T in [0.5, 1.5], the runs spread evenly over them;
* **irregular**: T uniform in [0.5, 1.5], one run per value (a random-search sweep).

Each file is analysed by ``landaulab analyze FILE --order-parameter m --control
temperature --bootstrap 1000`` in a fresh process; its wall time and its own peak resident
memory (``VmHWM``, see ``_child.py``) are read from that process alone. The floor is
a plain DuckDB group-by of the same per-run late-window means (the reduction every
analysis needs at least), timed in this process on the same file.

Goals (2 cores): 20 M rows in ≤ 60 s and ≤ 2 GB peak, any design; an irregular design
within 2× the time of the grid of the same size; the critical point's interval covers
T_c = 1. A missed goal prints one line and exits 1.

Run: ``OMP_NUM_THREADS=2 python benchmarks/bench_analyze.py`` (``--runs 10000`` for the
2 M-row cases only).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from _child import run_cli
from _goals import Goals

STEPS = 200
NOISE = 0.05
GOAL_SECONDS = 60.0
GOAL_BYTES = 2e9  # decimal gigabytes: the stricter reading of 2 GB
IRREGULAR_RATIO = 2.0
CHUNK_RUNS = 5000


def write_planted(path: Path, n_runs: int, design: str, seed: int = 0) -> None:
    """Write ``n_runs`` × 200 planted-answer rows to ``path`` (streamed in chunks)."""
    rng = np.random.default_rng(seed)
    if design == "grid":
        grid = np.linspace(0.5, 1.5, 20)
        controls = grid[np.arange(n_runs) % grid.size]
    else:
        controls = rng.uniform(0.5, 1.5, n_runs)
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, n_runs, CHUNK_RUNS):
            part = controls[start : start + CHUNK_RUNS]
            runs = np.repeat(np.arange(start, start + part.size), STEPS)
            values = np.repeat(np.maximum(1.0 - part, 0.0), STEPS)
            values = values + NOISE * rng.standard_normal(values.size)
            table = pa.table(
                {
                    "run_id": pa.array(np.char.add("run-", runs.astype(str))),
                    "step": np.tile(np.arange(STEPS, dtype=np.int64), part.size),
                    "temperature": np.repeat(part, STEPS),
                    "m": values,
                }
            )
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def analyse_in_child(path: Path, out: Path) -> tuple[float, int, int]:
    """Run ``landaulab analyze`` on ``path`` in a child; (seconds, peak bytes, exit status)."""
    done = run_cli(
        "analyze",
        str(path),
        "--order-parameter",
        "m",
        "--control",
        "temperature",
        "--bootstrap",
        "1000",
        "--json",
        str(out),
    )
    if done.returncode != 0:
        print(f"  analyze failed: {done.last_error}")
    return done.seconds, int(done.peak_mib * 1024**2), done.returncode


def duckdb_floor(path: Path) -> float:
    """Seconds for DuckDB to compute every run's late-window mean of m (the floor)."""
    import duckdb

    connection = duckdb.connect()
    try:
        start = time.perf_counter()
        connection.execute(
            f"""
            WITH source AS (SELECT * FROM read_parquet('{path}')),
            span AS (
                SELECT run_id, min(step) + 0.5 * (max(step) - min(step)) AS late
                FROM source GROUP BY run_id
            )
            SELECT s.run_id, avg(s.m) AS mean
            FROM source s JOIN span USING (run_id)
            WHERE s.step >= span.late
            GROUP BY s.run_id
            """
        ).fetchnumpy()
        return time.perf_counter() - start
    finally:
        connection.close()


def main() -> None:
    """Write, analyse and time every (size, design) case; check the goals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="run counts to measure (× 200 steps each)",
    )
    args = parser.parse_args()
    goals = Goals()
    with tempfile.TemporaryDirectory() as tmp:
        for n_runs in args.runs:
            walls: dict[str, float] = {}
            for design in ("grid", "irregular"):
                path = Path(tmp) / f"{design}-{n_runs}.parquet"
                write_planted(path, n_runs, design)
                rows = n_runs * STEPS
                floor = duckdb_floor(path)
                out = Path(tmp) / f"{design}-{n_runs}.json"
                wall, peak, status = analyse_in_child(path, out)
                walls[design] = wall
                label = f"{rows / 1e6:g} M rows, {design}"
                if status != 0:
                    print(f"{label}: analyze exited with status {status}")
                    goals.at_most(f"{label}: exit status", status, 0, "")
                    path.unlink()
                    continue
                result = json.loads(out.read_text())
                point = (result.get("transition") or {}).get("critical_point") or {}
                ci = point.get("ci") or [float("nan"), float("nan")]
                print(
                    f"{label}: {wall:.1f} s ({rows / wall / 1e6:.2f} M rows/s), peak "
                    f"{peak / 1e9:.2f} GB ({peak / 1024**3:.2f} GiB), {wall / floor:.1f}× "
                    f"the DuckDB group-by floor ({floor:.2f} s); T_c = {point.get('value')} {ci} "
                    f"({point.get('method')})"
                )
                goals.at_least(
                    f"{label}: T_c interval covers 1",
                    float(ci[0] <= 1.0 <= ci[1]) if None not in ci else 0.0,
                    1.0,
                    "",
                )
                if rows >= 20_000_000:
                    goals.at_most(f"{label}: wall", wall, GOAL_SECONDS, " s")
                    goals.at_most(f"{label}: peak memory", peak / 1e9, GOAL_BYTES / 1e9, " GB")
                path.unlink()
            if len(walls) == 2:
                ratio = walls["irregular"] / walls["grid"]
                print(f"{n_runs * STEPS / 1e6:g} M rows: irregular / grid time = {ratio:.2f}")
                goals.at_most(
                    f"{n_runs * STEPS / 1e6:g} M rows: irregular / grid",
                    ratio,
                    IRREGULAR_RATIO,
                    "×",
                )
    goals.finish()


if __name__ == "__main__":
    main()
