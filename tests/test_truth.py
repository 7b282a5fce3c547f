"""A small draw of the truth benchmark: planted systems drawn at random, analysed, scored.

``benchmarks/bench_truth.py`` measures coverage, verdicts and transition recall on many
draws; this is a handful per family, asserting only what so small a draw supports. A
correct 95 % interval misses the truth Binomial(n, 0.05) times in n independent draws, so
more misses than that distribution's 99 % quantile (``allowed_misses``) mean a broken
estimator; the same bound applies to the order verdict (goal: right on ≥ 95 % of draws),
to the recall of planted transitions (goal ≥ 95 %) and to false main transitions in null
runs (goal ≤ 5 %). The draws are seeded, so the test is deterministic; the bound is what
decides whether a figure is evidence of a defect. Where an estimator currently fails a
family, the case is marked ``xfail(strict=True)`` with the figure measured on this draw.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from scipy.stats import binom

from landaulab.analyze import analyze
from landaulab.datasets.truth import FAMILIES, Planted, Score, score
from landaulab.dynamics import dynamics

#: Draws per family (small: the suite's budget is about 30 s for all of them).
DRAWS = {"potts": 3, "field_scan": 4, "landau": 6, "deep_linear": 5, "training_curves": 8}
SEED = 2024


def allowed_misses(n: int, rate: float = 0.05, alpha: float = 0.01) -> int:
    """The (1 − alpha) quantile of Binomial(n, rate): more misses are evidence of a defect."""
    return int(binom.ppf(1.0 - alpha, n, rate))


def _analyse(planted: Planted, seed: int) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if planted.analysis == "dynamics":
            return dynamics(planted.frame, n_bootstrap=100, seed=seed, **planted.options)
        return analyze(planted.frame, n_bootstrap=100, seed=seed, **planted.options)


@functools.cache
def scores(family: str) -> tuple[Score, ...]:
    """The scores of this family's draws (computed once per test session)."""
    rng = np.random.default_rng([SEED, list(FAMILIES).index(family)])
    out = []
    for i in range(DRAWS[family]):
        planted = FAMILIES[family](rng, quick=True)
        out.append(score(planted, _analyse(planted, seed=i)))
    return tuple(out)


def _misses(family: str, quantity: str) -> tuple[int, int]:
    """(misses, draws): an absent estimate or interval counts as a miss."""
    relevant = [s for s in scores(family) if quantity in s.covered]
    return sum(not s.covered[quantity] for s in relevant), len(relevant)


def _check_coverage(family: str, quantity: str) -> None:
    misses, n = _misses(family, quantity)
    assert n > 0
    assert misses <= allowed_misses(n), f"{family} {quantity}: {misses} of {n} intervals miss"


def _check_order(family: str) -> None:
    verdicts = [s.order_right for s in scores(family) if s.order_right is not None]
    wrong = sum(not v for v in verdicts)
    assert wrong <= allowed_misses(len(verdicts)), f"{family}: {wrong} of {len(verdicts)} wrong"


COVERAGE_CASES = [
    ("potts", "critical_point"),
    ("potts", "exponents.nu"),
    ("potts", "exponents.beta_over_nu"),
    ("potts", "exponents.gamma_over_nu"),
    ("field_scan", "critical_point"),
    ("field_scan", "exponents.delta"),
    ("landau", "critical_point"),
    ("landau", "exponents.beta"),
    ("landau", "landau.quadratic_zero"),
    pytest.param(
        "landau",
        "landau.equal_depth",
        marks=pytest.mark.xfail(
            strict=True,
            reason="measured: 2 of the 3 first-order draws miss (one without an equal-depth "
            "point); bench_truth seed 0 gives it on 8/15 cubic and 13/15 sextic draws",
        ),
    ),
    ("deep_linear", "critical_point"),
    ("deep_linear", "exponents.beta"),
    ("training_curves", "transitions.by_control.0.median"),
]


@pytest.mark.parametrize(("family", "quantity"), COVERAGE_CASES)
def test_intervals_cover_the_planted_truth(family, quantity):
    _check_coverage(family, quantity)


@pytest.mark.parametrize("family", ["potts", "field_scan", "landau", "deep_linear"])
def test_order_verdicts(family):
    _check_order(family)


def test_planted_transitions_are_recalled():
    counts = [s.recalled for s in scores("training_curves") if s.recalled is not None]
    hits = sum(c[0] for c in counts)
    planted = sum(c[1] for c in counts)
    assert planted > 0
    assert planted - hits <= allowed_misses(planted), f"recall {hits}/{planted}"


def test_null_runs_have_no_main_transition():
    counts = [s.false_main for s in scores("training_curves") if s.false_main is not None]
    false = sum(c[0] for c in counts)
    runs = sum(c[1] for c in counts)
    assert runs > 0
    assert false <= allowed_misses(runs), f"false main transitions {false}/{runs}"


def test_the_scorer_detects_a_wrong_answer():
    # the same draw scored against a shifted truth must miss: the check can fail
    rng = np.random.default_rng([SEED, 99])
    planted = FAMILIES["landau"](rng, quick=True)
    result = _analyse(planted, seed=0)
    shifted = Planted(
        **{
            **planted.__dict__,
            "intervals": {k: v + 10.0 for k, v in planted.intervals.items()},
            "order": "second" if result.order == "first" else "first",
        }
    )
    wrong = score(shifted, result)
    assert not any(wrong.covered.values())
    assert wrong.order_right is False
