"""Importing 10⁵ runs × 200 steps (2·10⁷ rows) from one Parquet and one CSV file, and
reading the store back.

The table has a planted answer: 20 temperatures T in [0.5, 1.5], 5 000 runs each, and
an order parameter m = max(1 − T, 0) plus noise of 0.05, so the query's mean m per
temperature must come back within 0.01 of it. Each import runs ``landaulab ingest csv``
in a fresh process (wall time and peak memory); then ``landaulab status --json``, and
``Store.records()``, ``run_table()``, ``query()`` and ``frame()`` are timed on the store
imported from Parquet.

Goals (2 CPU cores): each import within 2 minutes; status, records, run_table and query
within seconds; the frame of 2·10⁷ rows within a minute.

Run: ``python benchmarks/bench_ingest.py [--runs N] [--quick]``; the script exits with
status 1 (and one line) when it misses a goal. ``--quick`` (2 000 runs) is a smoke run
whose figures are not judged.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import _child as child
from _goals import Goals

STEPS = 200
TEMPERATURES = 20
GOAL_INGEST_S = 120.0
GOAL_STATUS_S = 30.0
GOAL_READ_S = 15.0
GOAL_FRAME_S = 60.0
TOLERANCE = 0.01
"""How far the query's mean m per temperature may be from max(1 − T, 0)."""


def write_table(n_runs: int, path: Path) -> None:
    """The planted table: run_id, step, temperature, m (written 5 000 runs at a time)."""
    rng = np.random.default_rng(0)
    per = int(np.ceil(n_runs / TEMPERATURES))
    temperature = np.repeat(np.linspace(0.5, 1.5, TEMPERATURES), per)[:n_runs]
    writer = None
    for start in range(0, n_runs, 5000):
        t = temperature[start : start + 5000]
        k = len(t)
        run = np.repeat(np.arange(start, start + k), STEPS)
        table = pa.table(
            {
                "run_id": pa.array([f"run-{i:06d}" for i in run]),
                "step": np.tile(np.arange(STEPS), k),
                "temperature": np.repeat(t, STEPS),
                "m": np.repeat(np.maximum(1 - t, 0), STEPS) + 0.05 * rng.standard_normal(k * STEPS),
            }
        )
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def to_csv(parquet: Path, csv: Path) -> None:
    """The same table as CSV."""
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    connection.execute(f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{csv}' (HEADER)")
    connection.close()


def run_cli(*args: str) -> tuple[float, float, str]:
    """Run ``landaulab ARGS`` in a fresh process: seconds, peak MiB, stdout."""
    done = child.run_cli(*args)
    if done.returncode != 0 or done.seconds != done.seconds:
        print(f"bench_ingest: FAILED: landaulab {' '.join(args)}: {done.last_error}", flush=True)
        sys.exit(1)
    return done.seconds, done.peak_mib, done.stdout


READ = """
import json, sys, time
from landaulab.store import Store

store = Store(sys.argv[1])
sql = (
    "SELECT temperature, avg(m) AS m, count(DISTINCT run_id) AS runs "
    "FROM runs GROUP BY 1 ORDER BY 1"
)
readers = {
    "records": store.records,
    "run_table": store.run_table,
    "query": lambda: store.query(sql),
    "frame": store.frame,
}
out = {}
for name, reader in readers.items():
    start = time.perf_counter()
    result = reader()
    out[name] = time.perf_counter() - start
    if name == "query":
        out["answer"] = result.to_dict("list")
    elif name == "frame":
        out["frame_rows"] = len(result)
        out["frame_mib"] = float(result.memory_usage(deep=True).sum()) / 2**20
    del result
print(json.dumps(out))
"""


def read_back(store: Path) -> dict[str, object]:
    """Time the store's readers in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", READ, str(store)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        print(f"bench_ingest: FAILED: reading the store: {tail[0]}", flush=True)
        sys.exit(1)
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    """Print the import and read figures; judge them against the goals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the table")
    parser.add_argument("--quick", action="store_true", help="2 000 runs, not judged")
    args = parser.parse_args()
    n_runs = 2000 if args.quick else args.runs
    goals = Goals(judged=not args.quick and n_runs >= 100_000)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        parquet, csv = root / "runs.parquet", root / "runs.csv"
        start = time.perf_counter()
        write_table(n_runs, parquet)
        to_csv(parquet, csv)
        print(
            f"table: {n_runs} runs × {STEPS} steps ({time.perf_counter() - start:.1f} s to write)"
        )
        options = ("--run-col", "run_id", "--param-col", "temperature")
        for source in (parquet, csv):
            store = root / f"store-{source.suffix[1:]}"
            seconds, peak, out = run_cli(
                "ingest", "csv", str(source), "--store", str(store), *options
            )
            print(
                f"ingest {source.suffix[1:]}: {seconds:.1f} s, peak {peak:.0f} MiB ({out.strip()})"
            )
            goals.at_most(f"ingest from {source.suffix[1:]}", seconds, GOAL_INGEST_S, " s")
        store = root / "store-parquet"
        seconds, peak, out = run_cli("status", str(store), "--json")
        counts = json.loads(out)
        print(f"status --json: {seconds:.1f} s, peak {peak:.0f} MiB ({counts['done']} done)")
        goals.at_most("status", seconds, GOAL_STATUS_S, " s")
        figures = read_back(store)
        for name in ("records", "run_table", "query"):
            print(f"{name}: {figures[name]:.2f} s")
            goals.at_most(name, float(figures[name]), GOAL_READ_S, " s")  # type: ignore[arg-type]
        print(
            f"frame: {figures['frame']:.2f} s, {figures['frame_rows']} rows, "
            f"{figures['frame_mib']:.0f} MiB"
        )
        goals.at_most("frame", float(figures["frame"]), GOAL_FRAME_S, " s")  # type: ignore[arg-type]
        answer = figures["answer"]
        assert isinstance(answer, dict)
        error = max(
            abs(m - max(1 - t, 0)) for t, m in zip(answer["temperature"], answer["m"], strict=True)
        )
        found = sum(answer["runs"])
        print(f"planted answer: max |mean m - max(1 - T, 0)| = {error:.4f}; {found} runs")
        if error > TOLERANCE or found != n_runs or counts["done"] != n_runs:
            print(
                f"bench_ingest: FAILED: wrong answer (error {error:.4f}, {found} runs in query, "
                f"{counts['done']} in status, {n_runs} imported)",
                flush=True,
            )
            sys.exit(1)
    goals.finish()


if __name__ == "__main__":
    main()
