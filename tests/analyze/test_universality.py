"""Universality verdicts, the Ginzburg window and comparing analyses."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from landaulab.analyze import MEAN_FIELD, Estimate, compare_analyses
from landaulab.analyze.universality import GINZBURG_FRACTION, ginzburg_window, judge


def test_mean_field_values_are_recognised():
    result = judge(
        "second",
        Estimate(0.5, (0.45, 0.55)),
        Estimate(1.0, (0.9, 1.1)),
        Estimate(0.28, (0.26, 0.30)),
    )
    assert result.consistent_with == ("mean field",)
    assert result.consistent_classes == ("mean field",)
    assert result.best == "mean field"
    assert result.consistent_with_mean_field
    assert result.verdict.startswith("Consistent with mean field")
    # tricritical mean field shares γ = 1 but not β = 1/4 (z = 5) nor U* = 1/3 (z = 5.3)
    assert "excluded" in result.verdict


def test_ising_values_are_recognised():
    result = judge(
        "second",
        Estimate(0.13, (0.11, 0.15)),
        Estimate(1.7, (1.5, 1.9)),
        Estimate(0.6, (0.58, 0.63)),
    )
    assert result.consistent_with == ("2D Ising",)
    assert result.best == "2D Ising"
    assert not result.consistent_with_mean_field


def test_imprecise_and_inconsistent_values():
    vague = judge("second", Estimate(0.3, (0.0, 0.7)), None, None)
    assert {"mean field", "2D Ising"} <= set(vague.consistent_with)
    assert vague.best is None
    assert "too imprecise" in vague.verdict and "cannot distinguish" in vague.verdict
    # β = 0.75 ± 0.05 (1.96σ): 0.584 (DP 2+1) is 6.5σ away, 1 (deep linear) 9.8σ
    neither = judge("second", Estimate(0.75, (0.7, 0.8)), None, None)
    assert neither.consistent_with == () and neither.best is None
    assert "none of the known classes" in neither.verdict
    nothing = judge("second", None, None, None)
    assert nothing.verdict.startswith("Not estimable")
    assert judge("first", None, None, None).consistent_with_mean_field is False


def test_deep_linear_beta_of_one_is_its_own_class():
    # one hidden layer with weight decay: b* = a − γ vanishes linearly, β = 1; the nearest
    # other β is directed percolation (2+1), 0.584, 8σ away
    result = judge("second", Estimate(1.0, (0.9, 1.1)), None, None)
    assert result.consistent_with == ("deep linear network",)
    assert result.best == "deep linear network"
    assert not result.consistent_with_mean_field


def test_ginzburg_window_mean_field_and_fluctuation_dominated():
    d = np.linspace(0.02, 0.4, 12)

    def to_user(x):
        return (1.0 - x, 1.0 + x)

    # exactly mean-field data: no window
    m = np.sqrt(2.0 * d)
    window = ginzburg_window(d, m, np.full(d.size, 1e-3), to_user)
    assert window.low is None
    # a power 1/8 (2D Ising) is not analytic in m²: mean field fails
    m = d**0.125
    window = ginzburg_window(d, m, np.full(d.size, 1e-3), to_user)
    assert window.low is not None and window.high - window.low > 0.1
    # mean field far from T_c, rounded near it (m² levels off at 0.2): the departure
    # exceeds GINZBURG_FRACTION where 0.2 > (1 + f)·2d, so the window reaches the last grid
    # point below d = 0.1 / (1 + f)
    m = np.sqrt(2.0 * np.maximum(d, 0.1))
    window = ginzburg_window(d, m, np.full(d.size, 1e-3), to_user)
    edge = 0.1 / (1.0 + GINZBURG_FRACTION)
    assert window.low is not None
    assert edge - (d[1] - d[0]) <= 1.0 - window.low <= edge
    # the same shape without any spread across runs: no fluctuations, no window
    window = ginzburg_window(d, m, np.full(d.size, 1e-3), to_user, spread=np.zeros(d.size))
    assert window.low is None and "no fluctuations" in window.sentence
    # a small but significant finite-size rounding (5 %) is not a Ginzburg window
    m = np.sqrt(2.0 * d * (1.0 + 0.05 * (d < 0.1)))
    window = ginzburg_window(d, m, np.full(d.size, 1e-3), to_user)
    assert window.low is None
    assert MEAN_FIELD.beta == 0.5


def test_compare_analyses(curie_weiss_result, ising_result, first_order_result):
    same = compare_analyses({"a": curie_weiss_result, "b": curie_weiss_result})
    assert same.shared and "share a universality class" in same.verdict
    different = compare_analyses({"cw": curie_weiss_result, "ising": ising_result})
    assert not different.shared
    assert "differ" in different.verdict
    mixed = compare_analyses({"cw": curie_weiss_result, "first": first_order_result})
    assert not mixed.shared and "second-order" in mixed.verdict
    assert compare_analyses({"only": curie_weiss_result}).shared is False
    assert different.to_dict()["differences"]
    assert different.to_dict()["pairs"][0]["first"] == "cw"


def test_compare_analyses_uses_the_joint_rule(curie_weiss_result):
    """A copy of an analysis with γ shifted by t combined standard deviations: shared for
    t = 1.5, told apart for t = 2.1 (γ outside 1.96σ although χ² over β, γ, U* is only
    4.4 < χ²₃,0.95 = 7.8)."""
    base = curie_weiss_result
    gamma = base.exponents.gamma
    sigma = (gamma.ci[1] - gamma.ci[0]) / (2 * 1.959964) * np.sqrt(2.0)

    def shifted(t):
        moved = Estimate(
            gamma.value + t * sigma, (gamma.ci[0] + t * sigma, gamma.ci[1] + t * sigma)
        )
        return replace(base, exponents=replace(base.exponents, gamma=moved))

    near = compare_analyses({"a": base, "b": shifted(1.5)})
    assert near.shared
    assert near.common_classes == base.universality.consistent_classes
    far = compare_analyses({"a": base, "b": shifted(2.1)})
    assert not far.shared and "differ in gamma by 2.1σ" in far.verdict
    (pair,) = far.pairs
    assert pair["p_value"] > 0.05 and not pair["within"]


def test_pipeline_verdicts_name_the_true_class(curie_weiss_result, ising_result):
    """The analyses of Curie–Weiss (N = 400, 1600) and 2D Ising (L = 8, 16) keep their own
    class once the finite-size systematic term of the smallest size is included."""
    cw = curie_weiss_result.universality
    assert "mean field" in cw.consistent_classes and cw.consistent_with_mean_field
    ising = ising_result.universality
    assert "2D Ising" in ising.consistent_classes
    assert not ising.consistent_with_mean_field
    assert all(c.systematic > 0 for c in ising.comparisons if c.universality_class == "2D Ising")
    assert {t.universality_class for t in ising.tests} >= {"mean field", "2D Ising"}
