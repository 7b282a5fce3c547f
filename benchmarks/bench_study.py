"""Benchmark: CPU time of the grokking study's boundary against the plain approach.

The study locates the generalisation boundary to ± 0.01 in training fraction for two
sizes and puts 16 seeds at it and on both sides of it, and more at the fitted
boundary while its interval is wider than ± 0.01 (the *locate*, *resolve* and
*sharpen* stages of :mod:`landaulab.study.grokking`). The plain approach a researcher would
script is a uniform grid of training fractions at that resolution (spacing 0.02, so
that the crossing's bracket is ± 0.01) over the study's range, every seed (16), the
full budget (no early stopping), one run after another.

Training that grid takes hours on a laptop, so its cost is measured, not run: one
full-budget run without early stopping is timed (CPU seconds of this process,
``time.process_time``, one thread) per size at the two ends of the range, and the
grid's cost is the sum of the linear interpolation over its fractions. The study's
cost is measured the same way, run by run: every run the two stages use (read from
the demo's store, the map's runs on the line included) costs its size's per-step CPU
time times the steps it trained. The ratio splits exactly into the three parts that
make it (their shares are the parts' logarithms over the ratio's):

* **refinement + ensemble design** — the points sampled (refinement from the map's
  bracket for the map's size, from the coarse grid for the other) and the ensembles
  at the boundary, every sampled point with all its locate seeds, against the grid;
* **first seeds where clear** — a locate point whose first two seeds sit in the same
  peak of P(m) trains no more seeds (the seeds it skips are costed at its own runs'
  full-budget cost);
* **early stopping** — a run that generalised stops once its test accuracy has stayed
  above 99% for three evaluations, so it trains fewer steps than the budget.

Both sides are costed by their training steps (and the evaluations every 50 steps):
what a run logs besides, the store and the start of worker processes are left out of
both; the demo's own measured CPU per stage, which includes them, is printed beside.
Per size, the ratio is printed too: the map's row serves the size the map covers.

Batching seed members into one model pays on a GPU only (on a CPU each full-batch step
is compute-bound, :mod:`landaulab.train.policy`), and worker processes shorten the wall
time but not the CPU time; both are reported as 0 shares of the CPU ratio. The stage
timings the demo measured (wall and CPU, its worker processes included) are printed
beside the estimate.

Goal: the study needs ≥ 8× less CPU time than the plain approach.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_study.py [--demo landaulab-demo]
[--sizes 23,31]`` (runs the study first, with those sizes, when the folder has no
``study.json``; another pair of sizes is a second setup to check the ratio on).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _goals import Goals
from landaulab.spec.plan import plan_sweep
from landaulab.spec.schema import load_spec
from landaulab.specs import builtin_spec_path
from landaulab.store import Store
from landaulab.study.grokking_stages import CONTROL, FULL, OTHER, SIZE, StudyConfig

GOAL = 8.0


def time_full_run(config: StudyConfig, size: int, fraction: float) -> float:
    """CPU seconds of one full-budget run without early stopping (seed 0), in-process."""
    import torch

    from landaulab.record.context import RunContext  # noqa: F401  (the task's contract)
    from landaulab.tasks.modular_arithmetic import (
        ModularArithmeticParameters,
        build,
        evaluate,
        loss_function,
        make_optimizer,
    )

    torch.set_num_threads(1)
    params = ModularArithmeticParameters(
        **(
            dict(config.settings)
            | {
                "p": size,
                "weight_decay": config.weight_decay,
                "steps": config.steps,
                "train_fraction": fraction,
                "stop_accuracy": None,
            }
        )
    )
    model, data = build(params, 0)
    optimizer = make_optimizer(params, model)
    start = time.process_time()
    for step in range(params.steps + 1):
        if step % config.every == 0:
            evaluate(model, params.loss, data.train_inputs, data.train_labels)
            evaluate(model, params.loss, data.test_inputs, data.test_labels)
        if step == params.steps:
            break
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(params.loss, model(data.train_inputs), data.train_labels)
        loss.backward()
        optimizer.step()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=Path("landaulab-demo"))
    parser.add_argument(
        "--sizes", default=None, help="the study's sizes, e.g. 23,29 (default: the demo's)"
    )
    args = parser.parse_args()
    config = FULL
    if args.sizes:
        config = replace(config, sizes=tuple(int(s) for s in args.sizes.split(",")))
    if not (args.demo / "study.json").exists():
        from landaulab.study.grokking import run_grokking_study

        print(f"no study in {args.demo}: running the study (sizes {list(config.sizes)}) first")
        run_grokking_study(args.demo, progress=False, config=config)
    study = json.loads((args.demo / "study.json").read_text())
    config = replace(config, sizes=tuple(int(s) for s in study["sizes"]))

    frame = Store(args.demo / "store").frame()
    last = frame.groupby("run_id")["step"].max()
    runs = frame.groupby("run_id")[[OTHER, CONTROL, SIZE, "seed"]].first().join(last)
    runs = runs[np.isclose(runs[OTHER].astype(float), config.weight_decay)]
    runs = runs[runs[SIZE].isin(config.sizes)]
    mapped = {r.run_id for r in plan_sweep(load_spec(builtin_spec_path(config.map_spec)))}
    # locate points: the study's own points (not the map's) without an ensemble there;
    # each lacks the locate seeds its first seeds made unnecessary
    own = runs[~runs.index.isin(mapped)]
    counts = own.groupby([SIZE, CONTROL]).size()
    skipped = (config.locate_seeds - counts[counts < config.ensemble_seeds]).clip(lower=0)

    lo, hi = min(config.coarse), max(config.coarse)
    grid = np.round(np.arange(lo, hi + 1e-9, 2 * config.tolerance), 6)
    print(
        f"plain approach: {len(grid)} fractions {lo:g}..{hi:g} (spacing "
        f"{2 * config.tolerance:g}) × {config.ensemble_seeds} seeds × sizes "
        f"{list(config.sizes)} × {config.steps} steps, no early stopping, sequential"
    )
    study_cpu = grid_cpu = 0.0
    per_size: dict[int, tuple[float, float]] = {}  # size → (grid CPU, study CPU)
    study_full = 0.0  # the study's runs, had each trained the full budget
    topped_full = 0.0  # … and had every locate point trained all its locate seeds
    for size in config.sizes:
        t_lo, t_hi = (time_full_run(config, size, f) for f in (lo, hi))
        print(
            f"  p = {size}: one full run costs {t_lo:.2f} s CPU at f = {lo:g}, "
            f"{t_hi:.2f} s at {hi:g}"
        )

        def cost(f: np.ndarray | float, t_lo: float = t_lo, t_hi: float = t_hi) -> np.ndarray:
            return t_lo + (np.asarray(f, dtype=float) - lo) * (t_hi - t_lo) / (hi - lo)

        size_grid = float(cost(grid).sum()) * config.ensemble_seeds
        grid_cpu += size_grid
        mine = runs[runs[SIZE] == size]
        full = cost(mine[CONTROL].to_numpy(dtype=float))
        size_study = float((full * mine["step"].to_numpy() / config.steps).sum())
        per_size[size] = (size_grid, size_study)
        study_full += float(full.sum())
        study_cpu += size_study
        lacking = skipped[skipped.index.get_level_values(0) == size]
        fractions = lacking.index.get_level_values(1).to_numpy(dtype=float)
        topped_full += float((cost(fractions) * lacking.to_numpy()).sum())
    topped_full += study_full
    n_grid = len(grid) * config.ensemble_seeds * len(config.sizes)
    n_study = len(runs)
    ratio = grid_cpu / study_cpu
    parts = {
        "refinement + ensemble design": grid_cpu / topped_full,
        "first seeds where clear": topped_full / study_full,
        "early stopping": study_full / study_cpu,
    }
    log_total = math.log(ratio)
    print(
        f"study (locate + resolve + sharpen, map runs on the line included): {n_study} runs "
        f"({len(runs[runs.index.isin(mapped)])} of the map), {study_cpu:.0f} s CPU; "
        f"{int(skipped.sum())} locate runs skipped where the first seeds were clear"
    )
    print(f"plain approach: {n_grid} runs, {grid_cpu:.0f} s CPU")
    print(
        f"shares of the {ratio:.2f}× ratio: "
        + ", ".join(
            f"{name} {part:.2f}× ({math.log(part) / log_total:.0%})" for name, part in parts.items()
        )
        + ", batched members 1× (0%, CPU), worker processes 1× (0%: wall only)"
    )
    for size in config.sizes:
        b = next(b for b in study["boundary"] if b["size"] == size and b["budget"] == config.steps)
        on_map = bool(runs[(runs[SIZE] == size) & runs.index.isin(mapped)].shape[0])
        g, c = per_size[size]
        print(
            f"  p = {size}: boundary {b['value']:.4f} [{b['ci'][0]:.4f}, {b['ci'][1]:.4f}]; "
            f"{len(runs[runs[SIZE] == size])} runs, {c:.0f} s CPU, ratio {g / c:.2f}× "
            + ("(the map covers this size)" if on_map else "(the map does not cover it)")
        )
    timings = study.get("timings", [])
    if timings:
        print("stage timings measured by the demo (wall s / CPU s / runs trained):")
        for t in timings:
            print(f"  {t['stage']:<22} {t['wall_s']:8.1f} {t['cpu_s']:8.1f} {t['runs']:5d}")
        measured = sum(
            t["cpu_s"] for t in timings if t["stage"].startswith(("locate", "resolve", "sharpen"))
        )
        print(
            f"  locate + resolve + sharpen measured {measured:.0f} s CPU in all (logging, "
            "store and worker start-up included, which the model leaves out on both sides)"
        )
    goals = Goals()
    goals.at_least("CPU time, plain approach / study", ratio, GOAL, "×")
    goals.finish()


if __name__ == "__main__":
    main()
