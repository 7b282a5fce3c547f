"""Truth benchmark: analyses of randomly drawn systems with planted answers.

Every draw is a whole system chosen at random — its parameters, control grid, sizes, runs
and noise — from the families of :mod:`landaulab.datasets.truth`: the 2D q-state Potts model
(q = 2, 3, 4, Swendsen–Wang; T_c = 1/ln(1 + √q)), Curie–Weiss field scans (T_c = 1, δ = 3),
planted Landau polynomials with random coefficients (second order at T₀; first order at the
equal-depth point of a cubic or a negative quartic with a sextic), gradient-descent seed
ensembles of a two-layer linear network with weight decay (γ_c = a, β = 1) and synthetic
training curves (logistic steps at planted times, and null runs of noise and slow drift).
Each is analysed with :func:`landaulab.analyze.analyze` or
:func:`landaulab.dynamics.dynamics` exactly as a user would, and scored against the truth.

Printed per group of draws and quantity: the coverage of the 95 % intervals (the fraction
containing the truth among the draws that gave an interval, with its binomial standard
error), how many draws gave one, and the median absolute error; per group the accuracy of
the order verdict and, where the result names universality classes
(``universality.consistent_classes`` / ``best``), how often the planted class is among them;
for training curves the recall of planted transitions (a main transition inside the planted
[onset, end]), the main transitions placed outside it, and the false main transitions in
null runs.

Goals (judged unless ``--quick``):

* coverage ≥ 90 % of nominal, i.e. ≥ 85.5 % for the 95 % intervals, for every reported
  interval (each group and quantity);
* order verdict right on ≥ 95 % of the draws of every group;
* transition-time recall ≥ 95 %;
* false main transitions in null runs ≤ 5 %.

The script exits with status 1 and one line naming every missed goal. Misses are the
point of the measurement; they are printed, never hidden.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_truth.py --draws 40 --seed 0``
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from collections import defaultdict
from typing import Any

import numpy as np

from _goals import Goals
from landaulab.analyze import analyze
from landaulab.datasets.truth import FAMILIES, Planted, Score, score
from landaulab.dynamics import dynamics

#: Nominal level of every interval and the coverage goal (90 % of nominal).
NOMINAL = 0.95
COVERAGE_GOAL = 0.9 * NOMINAL
ORDER_GOAL = 0.95
RECALL_GOAL = 0.95
FALSE_MAIN_GOAL = 0.05


def run(planted: Planted, seed: int, n_bootstrap: int) -> Any:
    """Analyse one draw as a user would (named warnings silenced; they change nothing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if planted.analysis == "dynamics":
            return dynamics(planted.frame, n_bootstrap=n_bootstrap, seed=seed, **planted.options)
        return analyze(planted.frame, n_bootstrap=n_bootstrap, seed=seed, **planted.options)


def _rate(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    return p, math.sqrt(p * (1 - p) / n)


def _fmt(k: int, n: int) -> str:
    p, se = _rate(k, n)
    return "n/a" if n == 0 else f"{p:6.1%} ± {se:4.1%} ({k}/{n})"


def _shown(estimate: tuple[Any, Any, Any], truth: float) -> str:
    value, low, high = estimate
    if value is None:
        return f"(none; truth {truth:.4g})"
    interval = f" [{low:.4g}, {high:.4g}]" if low is not None else " [no interval]"
    return f"({value:.4g}{interval}; truth {truth:.4g})"


def report(scores: dict[str, list[Score]], goals: Goals) -> None:
    """Print the figures per group and quantity and record the goals."""
    print("\n== intervals (95 % nominal): coverage among given | given | median |error|")
    for group in sorted(scores):
        quantities = sorted({q for s in scores[group] for q in s.covered})
        for quantity in quantities:
            given = [
                s for s in scores[group] if quantity in s.covered and quantity not in s.missing
            ]
            total = sum(1 for s in scores[group] if quantity in s.covered)
            hits = sum(s.covered[quantity] for s in given)
            errors = [s.errors[quantity] for s in scores[group] if quantity in s.errors]
            median = float(np.median(errors)) if errors else float("nan")
            print(
                f"  {group:22s} {quantity:34s} {_fmt(hits, len(given)):24s} "
                f"given {len(given)}/{total}   median |err| {median:.3g}"
            )
            if given:
                goals.at_least(f"coverage {group} {quantity}", hits / len(given), COVERAGE_GOAL)
    print("\n== order verdict: right | universality: planted class consistent | best")
    for group in sorted(scores):
        orders = [s.order_right for s in scores[group] if s.order_right is not None]
        if not orders:
            continue
        right = sum(orders)
        consistent = [s.class_consistent for s in scores[group] if s.class_consistent is not None]
        best = [s.class_best for s in scores[group] if s.class_best is not None]
        universality = (
            f"consistent {_fmt(sum(consistent), len(consistent))}"
            if consistent
            else "classes not named by the result"
        )
        if best:
            universality += f", best {_fmt(sum(best), len(best))}"
        print(f"  {group:22s} order {_fmt(right, len(orders)):24s} {universality}")
        goals.at_least(f"order right {group}", right / len(orders), ORDER_GOAL)
    steps = [s for group in scores for s in scores[group] if s.recalled is not None]
    nulls = [s for group in scores for s in scores[group] if s.false_main is not None]
    if steps or nulls:
        print("\n== transition times (dynamics)")
    if steps:
        hits = sum(s.recalled[0] for s in steps if s.recalled)
        planted = sum(s.recalled[1] for s in steps if s.recalled)
        misplaced = sum(s.misplaced or 0 for s in steps)
        errors = [e for s in steps for e in s.time_errors]
        print(f"  recall (main transition in planted [onset, end])   {_fmt(hits, planted)}")
        print(f"  main transition outside [onset, end]                {_fmt(misplaced, planted)}")
        if errors:
            print(f"  median |time − midpoint| / width of recalled runs   {np.median(errors):.3g}")
        goals.at_least(
            "transition recall", hits / planted if planted else float("nan"), RECALL_GOAL
        )
    if nulls:
        false = sum(s.false_main[0] for s in nulls if s.false_main)
        runs = sum(s.false_main[1] for s in nulls if s.false_main)
        print(f"  false main transitions in null runs                 {_fmt(false, runs)}")
        goals.at_most("false main rate", false / runs if runs else float("nan"), FALSE_MAIN_GOAL)


def main() -> None:
    """Draw, analyse, score and report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the draws")
    parser.add_argument("--draws", type=int, default=40, help="draws per family")
    parser.add_argument("--quick", action="store_true", help="3 small draws per family, not judged")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates")
    parser.add_argument(
        "--families", default=",".join(FAMILIES), help="comma-separated families to draw"
    )
    parser.add_argument("--verbose", action="store_true", help="one line per draw")
    args = parser.parse_args()
    draws = 3 if args.quick else args.draws
    families = [f for f in args.families.split(",") if f]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {sorted(FAMILIES)}")
    streams = np.random.SeedSequence(args.seed).spawn(len(FAMILIES))
    scores: dict[str, list[Score]] = defaultdict(list)
    start = time.perf_counter()
    for name, stream in zip(FAMILIES, streams, strict=True):
        if name not in families:
            continue
        rng = np.random.default_rng(stream)
        t0 = time.perf_counter()
        for i in range(draws):
            planted = FAMILIES[name](rng, quick=args.quick)
            result = run(planted, seed=i, n_bootstrap=args.bootstrap)
            scored = score(planted, result)
            scores[planted.group].append(scored)
            if args.verbose:
                covered = " ".join(
                    f"{q}={'in' if covered else 'OUT'} "
                    f"{_shown(scored.estimates[q], planted.intervals[q])}"
                    for q, covered in scored.covered.items()
                )
                print(
                    f"  [{planted.group}] {planted.description} | order "
                    f"{getattr(result, 'order', '-')} | {covered}",
                    flush=True,
                )
        print(f"{name}: {draws} draws in {time.perf_counter() - t0:.0f} s", flush=True)
    goals = Goals(judged=not args.quick)
    report(scores, goals)
    print(
        f"\nbench_truth: seed {args.seed}, {draws} draws per family, "
        f"{len(goals.missed)} of {len(goals.missed) + len(goals.met)} goals missed, "
        f"{time.perf_counter() - start:.0f} s"
    )
    goals.finish()


if __name__ == "__main__":
    main()
