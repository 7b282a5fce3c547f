"""The order rules on planted inputs whose answer is known: the small-sample significance of
a Binder dip, the flow of the Binder cumulant with size at the two ends of the control range,
and the verdict built from them."""

from __future__ import annotations

import numpy as np
from scipy.stats import binom
from scipy.stats import t as student_t

from landaulab.analyze.curves import SizeCurves
from landaulab.analyze.order import (
    TransitionSignals,
    binder_dip_sentence,
    binder_end_trends,
    binder_reversal,
    classify,
    disordered_flow_sentence,
)

#: Groups of one analysis over which a dip is Bonferroni-corrected (12 controls × 2 sizes).
GROUPS = 24


def _binder(m2: np.ndarray, m4: np.ndarray, n: np.ndarray) -> np.ndarray:
    return 1.0 - (m4 / n) / (3.0 * (m2 / n) ** 2)


def test_a_gaussian_order_parameter_from_five_runs_shows_no_dip():
    # m Gaussian: the true cumulant is 0, so every dip is a false alarm. At the level of one
    # group of an analysis (0.01 / 24), 2000 groups allow at most the 99.9 % quantile of
    # Binomial(2000, 0.01 / 24) false dips. The normal quantile with the plug-in standard
    # error from five runs gives about 13 times that rate (11 expected here).
    rng = np.random.default_rng(11)
    n_groups, runs, steps, n_boot = 2000, 5, 50, 200
    level = 0.01 / GROUPS
    false = 0
    for _ in range(n_groups):
        m = rng.standard_normal((runs, steps))
        m2, m4 = (m**2).sum(1), (m**4).sum(1)
        binder = _binder(m2.sum(), m4.sum(), runs * steps)
        weights = rng.multinomial(runs, np.full(runs, 1.0 / runs), size=n_boot)
        replicates = _binder(weights @ m2, weights @ m4, weights.sum(1) * steps)
        se = np.std(replicates, ddof=1)
        sentence = binder_dip_sentence(
            np.array([binder]),
            np.array([se]),
            np.array([1.0]),
            np.array([100.0]),
            alpha=level,
            n_units=np.array([runs]),
        )
        false += sentence is not None
    assert false <= binom.ppf(0.999, n_groups, level)


def test_dip_threshold_is_the_student_quantile_of_the_runs():
    runs = np.full(GROUPS, 10)
    level = 1.0 - 0.01 / GROUPS
    critical = student_t.ppf(level, 9) * np.sqrt(10 / 9)
    se = np.full(GROUPS, 0.05)
    controls, sizes = np.linspace(0.9, 1.1, GROUPS), np.full(GROUPS, 100.0)
    below = np.zeros(GROUPS)
    below[5] = -0.999 * critical * 0.05
    assert binder_dip_sentence(below, se, controls, sizes, n_units=runs) is None
    below[5] = -1.001 * critical * 0.05
    assert binder_dip_sentence(below, se, controls, sizes, n_units=runs) is not None
    # without the number of runs the normal quantile (3.34 here) decides: 3.9σ is a dip
    below[5] = -3.9 * 0.05
    assert binder_dip_sentence(below, se, controls, sizes) is not None
    assert binder_dip_sentence(below, se, controls, sizes, n_units=runs) is None


def _curves(size: float, t: np.ndarray, binder: np.ndarray, sd: float, seed: int) -> SizeCurves:
    """Curves of one size with the given Binder cumulant and Gaussian replicates of ``sd``;
    m_rms falls with the control (ordered at low control)."""
    rng = np.random.default_rng(seed)
    boot = binder[None, :] + sd * rng.standard_normal((4000, t.size))
    rms = np.linspace(0.9, 0.3, t.size)
    zeros = np.zeros((4000, t.size))
    return SizeCurves(
        size=size,
        volume=size**2,
        index=np.arange(t.size),
        t=t,
        chi=np.ones(t.size),
        chi_boot=zeros + 1.0,
        binder=binder,
        binder_boot=boot,
        rms=rms,
        rms_boot=zeros + rms,
        mean=rms,
        mean_boot=zeros + rms,
        m2=rms**2,
        m2_boot=zeros + rms**2,
        variance=np.ones(t.size),
    )


def test_binder_end_trends_measure_the_flow_between_the_extreme_sizes():
    # three-state-Potts-like cumulants: 2/3 at the ordered end for every size, then falling
    # towards 1/3 on the disordered side, faster for the larger size; the middle size has no
    # say. Differences at the ends: ordered +0.006 per control, disordered 0.006 − 0.1·(t + 0.2)
    # per control, each with a standard error √2·0.004, so z = 2·0.006 / (2·0.004) = 1.5 at the
    # ordered end and ≈ 26 at the disordered end (4000 replicates: within 5 %).
    t = np.linspace(-1.0, 1.0, 10)
    small = 2 / 3 - 0.006 - 0.15 * np.clip(t + 0.2, 0, None)
    large = 2 / 3 - 0.25 * np.clip(t + 0.2, 0, None)
    middle = np.full(t.size, 0.9)  # would contradict both ends if it were used
    curves = {
        8.0: _curves(8.0, t, small, 0.004, 1),
        12.0: _curves(12.0, t, middle, 0.004, 2),
        16.0: _curves(16.0, t, large, 0.004, 3),
    }
    trends = binder_end_trends(curves)
    assert trends is not None
    z_ordered, z_disordered, lo, hi = trends
    assert (lo, hi) == (8.0, 16.0)
    assert abs(z_ordered - 1.5) < 0.05 * 1.5
    expected = (2 * 0.006 - 0.1 * ((t[-1] + 0.2) + (t[-2] + 0.2))) / (2 * 0.004)
    assert abs(z_disordered + expected) < 0.05 * abs(expected)
    # the ordered end is not significant: no reversal, but the flow to disorder is
    assert binder_reversal(curves) is None
    assert disordered_flow_sentence(curves) is not None


def test_a_crossover_flows_to_order_at_both_ends():
    # in a field m is ordered everywhere: the larger size has the larger cumulant at both
    # ends, so neither a reversal nor a flow to disorder is reported
    t = np.linspace(-1.0, 1.0, 10)
    small = 0.60 - 0.1 * (t + 1.0)
    large = small + 0.05
    curves = {8.0: _curves(8.0, t, small, 0.004, 4), 16.0: _curves(16.0, t, large, 0.004, 5)}
    z_ordered, z_disordered, _, _ = binder_end_trends(curves)
    assert z_ordered > 10 and z_disordered < -10
    assert binder_reversal(curves) is None
    assert disordered_flow_sentence(curves) is None


def _signals(**changes: object) -> TransitionSignals:
    base = {
        "n_controls": 10,
        "n_sizes": 2,
        "change_z": 30.0,
        "change_fraction": 0.6,
        "chi_volume_slope": (0.85, 0.71, 1.24),
        "disordered_binder": 0.37,
        "ordered_binder": 0.66,
    }
    return TransitionSignals(**{**base, **changes})


def test_growing_susceptibility_with_a_two_component_disordered_side_is_second_order():
    # the disordered cumulant of a two-component order parameter (three-state Potts) is 1/3,
    # above the scalar bound 0.3; its fall with size says that m fluctuates around zero
    flow = "At the disordered end the Binder cumulant falls with size."
    assert classify(_signals(disordered_flow=flow)).order == "second"
    assert classify(_signals()).order == "crossover"
    # a susceptibility that does not grow decides nothing, whatever the flow
    flat = _signals(disordered_flow=flow, chi_volume_slope=(0.05, -0.2, 0.3))
    assert classify(flat).order == "crossover"
