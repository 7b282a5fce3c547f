"""Benchmark: adaptive refinement of phase boundaries against a uniform grid.

1. **Deep linear network with weight decay**, one hidden layer (Ziyin & Ueda 2022,
   arXiv:2205.12510): the end-to-end map b* = max(a − γ, 0) vanishes continuously at
   γ_c = a = 1. Refinement locates γ_c to ± 0.005 from a 5-point coarse grid on
   [0.5, 1.5]. The phase test is b > 10⁻³: after 20,000 gradient steps b is ≥ 0.005
   wherever γ ≤ 0.995 and ≤ 10⁻⁶ wherever γ ≥ 1.005 (critical slowing down blurs only
   the few 10⁻³ around γ_c), and the threshold's own bias on γ_c is 10⁻³/|db/dγ| = 10⁻³.
   Goal: at most 1/4 of the runs of a uniform grid of the same resolution. With
   ``--grid`` (default on) the uniform grid is run too, into the same store, and its
   crossing is checked to be the refined bracket (equal boundary accuracy).
2. **Grokking on modular arithmetic** (Power et al. 2022, arXiv:2201.02177; Gromov 2023,
   arXiv:2301.02679), p = 23: the boundary between memorisation (test accuracy stays near
   chance) and grokking (test accuracy → 1 within the step budget) in the plane of weight
   decay × training fraction, traced along the training fraction for three weight decays
   to ± 0.01. Goal: at most 1/3 of a full grid's runs at equal boundary accuracy
   (``--grid-grokking`` also runs that grid for one row and compares).

The last line prints both ratios (runs used / runs of the equal-resolution grid).

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_refine.py [--workers 2] [--store DIR]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from landaulab.execute import sweep
from landaulab.late_time import late_means
from landaulab.spec import parse_spec
from landaulab.store import Store
from landaulab.study.refine import REFINE_BURN_IN, RefinementReport, refine

DEEP_LINEAR = """
name = "deep-linear-refine"
task = "deep_linear"
seeds = [0, 1]
[settings]
depth = 1
width = 4
signal = 1.0
lr = 0.05
steps = 20000
[controls]
weight_decay = {{ start = 0.5, stop = 1.5, num = {num} }}
[record]
every = 2000
"""

GROKKING = """
name = "grokking-refine"
task = "modular_arithmetic"
seeds = [0, 1]
[settings]
p = 23
width = 64
embedding_dim = 32
lr = 3e-3
steps = 1500
[controls]
weight_decay = {weight_decay}
train_fraction = {{ start = 0.2, stop = 0.8, num = {num} }}
[record]
every = 50
"""

DEEP_LINEAR_GOAL = 1 / 4
GROKKING_GOAL = 1 / 3


def grid_bracket(store: Path, run_ids: set[str], control: str, observable: str, threshold: float):
    """The crossing brackets of ``threshold`` on a uniform grid's late-time ensemble means."""
    frame = Store(store).frame()
    frame = frame[frame["run_id"].isin(run_ids)]
    # Each run's late-time value, with the refinement's own burn-in.
    per_run = late_means(frame, [observable], burn_in=REFINE_BURN_IN)
    controls = frame.groupby("run_id")[control].first()
    per_run = per_run.join(controls).reset_index()
    means = per_run.groupby(control)[observable].mean().sort_index()
    above = means.to_numpy() > threshold
    changes = np.flatnonzero(above[:-1] != above[1:])
    return [(float(means.index[j]), float(means.index[j + 1])) for j in changes]


def deep_linear(store: Path, check_grid: bool) -> RefinementReport:
    """Locate γ_c of the one-hidden-layer deep linear network to ± 0.005."""
    spec = parse_spec(DEEP_LINEAR.format(num=5))
    started = time.perf_counter()
    report = refine(
        spec,
        store=store,
        order_parameter="end_to_end",
        tolerance=0.005,
        threshold=1e-3,
        executor="serial",
        progress=False,
    )
    elapsed = time.perf_counter() - started
    (boundary,) = report.boundaries
    print("deep linear network, one hidden layer (γ_c = a = 1):")
    print(f"  {report}".replace("\n", "\n  "))
    error = boundary.estimate - 1.0
    inside = boundary.lower <= 1.0 <= boundary.upper
    print(
        f"  γ_c = {boundary.estimate:.4f} ± {boundary.half_width:.4f} "
        f"(truth 1: error {error:+.4f}, inside the interval: {inside}); {elapsed:.0f} s"
    )
    if check_grid:
        points = (report.grid_runs // len(spec.seed_list())) - 1
        grid = parse_spec(DEEP_LINEAR.format(num=points + 1))
        started = time.perf_counter()
        outcome = sweep(grid, store=store, executor="serial", batching="batch", progress=False)
        ids = {r.run_id for r in _plan(grid)}
        brackets = grid_bracket(store, ids, "weight_decay", "end_to_end", 1e-3)
        same = brackets == [(boundary.lower, boundary.upper)]
        print(
            f"  uniform grid: {len(ids)} runs ({outcome.outcomes.get('skipped', 0)} shared with "
            f"the refinement), crossing in {brackets}: same bracket: {same}; "
            f"{time.perf_counter() - started:.0f} s"
        )
    return report


def grokking(store: Path, workers: int, check_grid: bool) -> RefinementReport:
    """Trace the memorisation/grokking boundary along the training fraction."""
    spec = parse_spec(GROKKING.format(weight_decay="[0.3, 1.0, 3.0]", num=5))
    started = time.perf_counter()
    report = refine(
        spec,
        store=store,
        order_parameter="test_accuracy",
        tolerance=0.01,
        along="train_fraction",
        threshold=0.5,
        executor="local",
        workers=workers,
        progress=False,
    )
    elapsed = time.perf_counter() - started
    print("grokking, modular addition p = 23 (weight decay × training fraction):")
    print(f"  {report}".replace("\n", "\n  "))
    print(f"  {elapsed:.0f} s")
    if check_grid:
        row = 1.0
        points = report.grid_runs // (len(spec.seed_list()) * 3)
        grid = parse_spec(GROKKING.format(weight_decay=f"[{row}]", num=points))
        outcome = sweep(grid, store=store, executor="local", workers=workers, progress=False)
        ids = {r.run_id for r in _plan(grid)}
        brackets = grid_bracket(store, ids, "train_fraction", "test_accuracy", 0.5)
        refined = [(b.lower, b.upper) for b in report.boundaries if b.row["weight_decay"] == row]
        print(
            f"  uniform grid at weight_decay = {row}: {len(ids)} runs "
            f"({outcome.outcomes.get('skipped', 0)} shared), crossings {brackets}; "
            f"refined {refined}: same: {brackets == refined}"
        )
    return report


def _plan(spec):
    from landaulab.spec import plan_sweep

    return plan_sweep(spec)


def main() -> None:
    """Run both refinements and print the run ratios (last line: the headline)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", type=Path, default=None, help="keep the stores here")
    parser.add_argument("--no-grid", action="store_true", help="skip the deep-linear grid")
    parser.add_argument(
        "--grid-grokking", action="store_true", help="also run one grokking row's full grid"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.store or Path(tmp)
        linear = deep_linear(root / "deep-linear", check_grid=not args.no_grid)
        grok = grokking(root / "grokking", args.workers, check_grid=args.grid_grokking)
    (boundary,) = linear.boundaries
    ok_linear = linear.run_ratio <= DEEP_LINEAR_GOAL and abs(boundary.estimate - 1) <= 0.005
    ok_grok = grok.run_ratio <= GROKKING_GOAL and grok.resolved
    print(
        f"deep linear γ_c = {boundary.estimate:.4f} ± {boundary.half_width:.4f} with "
        f"{linear.runs}/{linear.grid_runs} runs = {linear.run_ratio:.3f} of the grid "
        f"(goal ≤ {DEEP_LINEAR_GOAL:.2f}: {'met' if ok_linear else 'MISSED'}); "
        f"grokking boundary ({len(grok.boundaries)} rows, ± {grok.tolerance}) with "
        f"{grok.runs}/{grok.grid_runs} runs = {grok.run_ratio:.3f} of the grid "
        f"(goal ≤ {GROKKING_GOAL:.2f}: {'met' if ok_grok else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
