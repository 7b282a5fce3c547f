"""The table of universality classes and the joint test against it.

Tolerances are derived: planted estimates are drawn from each class with realistic
interval widths, and the number of draws in which the true class is kept is compared with
its exact acceptance probability by a binomial quantile.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from landaulab.analyze import ISING_2D, MEAN_FIELD, Estimate, UniversalityClass
from landaulab.analyze.classes import (
    CLASSES,
    ISING_3D,
    POTTS3_2D,
    POTTS4_2D,
    QUANTITIES,
    find_class,
)
from landaulab.analyze.universality import (
    LEVEL,
    Z95,
    UniversalityResult,
    class_value,
    finite_size_systematic,
    joint_test,
    joint_z,
    judge,
)
from landaulab.errors import DataError

#: Relative 95 % half-widths of a realistic finite-size-scaling measurement (β and U* from
#: m and the cumulant at T_c are usually the most precise; δ from a field scan the least).
HALF_WIDTH = {"beta": 0.10, "gamma": 0.08, "nu": 0.08, "delta": 0.12, "binder_crossing": 0.04}
PLANTED = tuple(HALF_WIDTH)


def expected_acceptance(k: int, n: int = 1_000_000) -> float:
    """P(max |z| ≤ 1.96 and Σ z² ≤ χ²_k,0.95) for k independent standard normals, computed
    here independently of the module (Monte Carlo, standard error ≤ 0.0005)."""
    z = np.random.default_rng(12345).standard_normal((n, k))
    box = np.max(np.abs(z), axis=1) <= stats.norm.ppf(0.975)
    ball = np.sum(z**2, axis=1) <= stats.chi2.ppf(0.95, k)
    return float(np.mean(box & ball))


def binomial_band(n: int, p: float, alpha: float) -> tuple[int, int]:
    """Two-sided (1 − alpha) range of Binomial(n, p)."""
    return int(stats.binom.ppf(alpha / 2, n, p)), int(stats.binom.isf(alpha / 2, n, p))


# ---------------------------------------------------------------------------- the table


def test_table_keeps_public_names_and_has_sources():
    assert MEAN_FIELD.beta == 0.5 and MEAN_FIELD.gamma == 1.0
    assert ISING_2D.beta == 0.125 and ISING_2D.gamma == 1.75
    assert UniversalityClass("x", 0.3, 1.2, 0.5).binder_crossing == 0.5
    names = [c.name for c in CLASSES]
    assert len(set(names)) == len(names)
    for cls in CLASSES:
        assert cls.citation, cls.name
        assert find_class(cls.name) is cls
        assert UniversalityClass.from_dict(json.loads(json.dumps(cls.to_dict()))) == cls
    with pytest.raises(KeyError, match="known"):
        find_class("5D Ising")


def _relation_tolerance(cls: UniversalityClass, terms: dict[str, float]) -> float:
    """Linear propagation of the table uncertainties through a relation (an upper bound
    on its error), times 3; exact classes get a rounding tolerance."""
    return 3.0 * sum(abs(d) * cls.uncertainty(q) for q, d in terms.items()) + 1e-12


@pytest.mark.parametrize("cls", [c for c in CLASSES if c.alpha is not None], ids=str)
def test_equilibrium_classes_obey_the_scaling_relations(cls):
    """Rushbrooke α + 2β + γ = 2, Widom γ = β(δ − 1), Fisher γ = ν(2 − η) and
    hyperscaling 2 − α = dν (Fisher 1967; for mean field at d = d_uc)."""
    a, b, g, d, n, e = cls.alpha, cls.beta, cls.gamma, cls.delta, cls.nu, cls.eta
    assert abs(a + 2 * b + g - 2) <= _relation_tolerance(cls, {"alpha": 1, "beta": 2, "gamma": 1})
    assert abs(g - b * (d - 1)) <= _relation_tolerance(cls, {"gamma": 1, "beta": d - 1, "delta": b})
    assert abs(g - n * (2 - e)) <= _relation_tolerance(cls, {"gamma": 1, "nu": 2 - e, "eta": n})
    dim = cls.dimension
    assert abs(2 - a - dim * n) <= _relation_tolerance(cls, {"alpha": 1, "nu": dim})


def test_binder_crossings_of_mean_field_and_tricritical_point():
    """U = 1 − ⟨m⁴⟩/(3⟨m²⟩²) for P(m) ∝ exp(−m⁴) and exp(−m⁶), integrated numerically."""

    def cumulant(power: int) -> float:
        moment = [
            integrate.quad(lambda m, k=k: m**k * math.exp(-(m**power)), 0, np.inf)[0]
            for k in (0, 2, 4)
        ]
        return 1.0 - moment[2] * moment[0] / (3.0 * moment[1] ** 2)

    assert MEAN_FIELD.binder_crossing == pytest.approx(cumulant(4), abs=1e-9)
    assert find_class("tricritical mean field").binder_crossing == pytest.approx(
        cumulant(6), abs=1e-9
    )
    assert MEAN_FIELD.binder_crossing == pytest.approx(0.2705, abs=1e-4)


def test_three_dimensional_ising_from_the_bootstrap():
    # ν = 1/(3 − 1.412625), η = 2·0.5181489 − 1 (Kos et al. 2016)
    assert ISING_3D.nu == pytest.approx(0.629971, abs=1e-6)
    assert ISING_3D.eta == pytest.approx(0.0362978, abs=1e-7)
    assert ISING_3D.beta == pytest.approx(0.326419, abs=1e-6)
    assert ISING_3D.gamma == pytest.approx(1.237075, abs=1e-6)


def test_size_column_conventions():
    # mean field with N as size: ν_N = d_uc·ν = 2 and corrections N^(−1/2)
    assert MEAN_FIELD.size_nu(True) == 2.0 and MEAN_FIELD.size_omega(True) == 0.5
    assert class_value(ISING_2D, "nu", size_is_volume=True) == 2.0
    assert class_value(ISING_2D, "nu") == 1.0
    assert find_class("deep linear network").size_nu(True) is None


# ----------------------------------------------------- coverage of the joint decision


def _planted(cls: UniversalityClass) -> list[str]:
    return [q for q in PLANTED if cls.value(q) is not None]


def test_true_class_is_kept_at_the_derived_rate():
    """Estimates drawn from each class (value ~ N(class value, σ² + σ_class²), interval
    value ± 1.96σ) keep the true class at the exact acceptance rate of the rule (0.95 for
    one quantity; the per-quantity condition makes it 0.95^k-like for k quantities), and the
    joint χ² test alone at 95 %; bands are binomial with a Bonferroni level of 0.001 overall."""
    n = 4000
    n_checks = 2 * len(CLASSES)
    rng = np.random.default_rng(7)
    rates = {k: expected_acceptance(k) for k in range(1, len(PLANTED) + 1)}
    assert rates[1] == pytest.approx(0.95, abs=0.002)
    for cls in CLASSES:
        names = _planted(cls)
        truth = np.array([cls.value(q) for q in names])
        sigma = np.array([HALF_WIDTH[q] * abs(cls.value(q)) / Z95 for q in names])
        extra = np.array([cls.uncertainty(q) for q in names])
        values = truth + np.hypot(sigma, extra) * rng.standard_normal((n, len(names)))
        z = joint_z(values, sigma, truth, extra)
        _, dof, p, within = joint_test(z)
        assert np.all(dof == len(names))
        kept = int(np.sum((p >= LEVEL) & within))
        low, high = binomial_band(n, rates[len(names)], 0.001 / n_checks)
        assert low <= kept <= high, (cls.name, kept / n, rates[len(names)])
        not_rejected = int(np.sum(p >= LEVEL))
        low, high = binomial_band(n, 0.95, 0.001 / n_checks)
        assert low <= not_rejected <= high, (cls.name, not_rejected / n)


def test_judge_follows_the_vectorised_rule():
    """``judge`` keeps the true class exactly when the vectorised rule does (the coverage
    test above checks the rule itself)."""
    rng = np.random.default_rng(3)
    for cls in (MEAN_FIELD, ISING_2D, POTTS3_2D, ISING_3D):
        names = _planted(cls)
        truth = np.array([cls.value(q) for q in names])
        sigma = np.array([HALF_WIDTH[q] * abs(cls.value(q)) / Z95 for q in names])
        extra = np.array([cls.uncertainty(q) for q in names])
        for _ in range(25):
            values = truth + sigma * rng.standard_normal(len(names))
            z = joint_z(values, sigma, truth, extra)
            _, _, p, within = joint_test(z)
            estimates = {
                q: Estimate(v, (v - Z95 * s, v + Z95 * s))
                for q, v, s in zip(names, values, sigma, strict=True)
            }
            result = judge(
                "second",
                estimates.get("beta"),
                estimates.get("gamma"),
                estimates.get("binder_crossing"),
                nu=estimates.get("nu"),
                delta=estimates.get("delta"),
            )
            kept = bool(p >= LEVEL and within)
            assert (cls.name in result.consistent_classes) == kept
            p_values = {t.universality_class: t.p_value for t in result.tests}
            ranked = [p_values[c] for c in result.consistent_classes]
            assert ranked == sorted(ranked, reverse=True)


# ------------------------------------------------------------------- named verdicts


def _around(value: float, half: float) -> Estimate:
    return Estimate(value, (value - half, value + half))


def test_three_state_potts_is_not_called_ising():
    """β = 1/9, γ = 13/9, ν = 5/6 with intervals that just exclude γ = 7/4 and ν = 1."""
    gamma = _around(13 / 9, 0.29)  # upper end 1.734 < 1.75
    nu = _around(5 / 6, 0.16)  # upper end 0.993 < 1
    beta = _around(1 / 9, 0.05)
    assert not gamma.contains(1.75) and not nu.contains(1.0)
    result = judge("second", beta, gamma, None, nu=nu)
    assert "2D Ising" not in result.consistent_classes
    assert "2D 3-state Potts" in result.consistent_classes
    assert not result.verdict.startswith("Consistent with 2D Ising")
    assert result.best != "2D Ising"
    ising = next(t for t in result.tests if t.universality_class == "2D Ising")
    assert not ising.within_intervals


def test_one_exponent_outside_its_interval_rejects_even_when_chi2_does_not():
    # β and ν exactly 2D Ising, γ 2.05σ off: χ²₃ = 4.2 (p = 0.24) but γ's own interval
    # excludes 7/4
    sigma = 0.1
    gamma = _around(1.75 - 2.05 * sigma, Z95 * sigma)
    result = judge(
        "second",
        _around(0.125, 0.02),
        gamma,
        None,
        nu=_around(1.0, 0.1),
        classes=(ISING_2D, POTTS3_2D),
    )
    ising = result.tests[0]
    assert ising.p_value > LEVEL and not ising.within_intervals
    assert "2D Ising" not in result.consistent_classes


def test_an_asymmetric_interval_is_used_as_it_is():
    # 1.15 is within 0.3 (the plain half-width) of 1.0 but above the upper end 1.1 of
    # [0.5, 1.1]: σ comes from the upper half, z = 0.15/(0.1/1.96) = 2.94
    cls = UniversalityClass("test class", 1.15, None, None)
    result = judge("second", Estimate(1.0, (0.5, 1.1)), None, None, classes=(cls,))
    (comparison,) = result.comparisons
    assert comparison.z == pytest.approx(-0.15 / (0.1 / Z95))
    assert not comparison.consistent
    assert result.consistent_classes == ()
    # 0.55 lies inside the long lower half: z = 0.45/(0.5/1.96) = 1.76
    below = judge(
        "second", Estimate(1.0, (0.5, 1.1)), None, None, classes=(replace(cls, beta=0.55),)
    )
    assert below.consistent_classes == ("test class",)


def test_wide_intervals_cannot_distinguish():
    result = judge("second", _around(0.3, 0.35), _around(1.4, 0.6), None)
    assert len(result.consistent_classes) >= 2
    assert result.best is None
    first, second = result.consistent_classes[:2]
    assert f"cannot distinguish {first} from {second}" in result.verdict


def test_four_state_potts_and_ising_share_delta_and_eta():
    # δ = 15 and η = 1/4 in both: indistinguishable from these alone
    result = judge("second", None, None, None, delta=_around(15.0, 1.0), eta=_around(0.25, 0.02))
    assert {"2D Ising", "2D 4-state Potts"} <= set(result.consistent_classes)
    assert result.best is None and "cannot distinguish" in result.verdict
    assert POTTS4_2D.delta == ISING_2D.delta


def test_far_from_every_class_is_none_of_the_known_classes():
    result = judge("second", _around(2.5, 0.1), _around(0.2, 0.05), None)
    assert result.consistent_classes == () and result.best is None
    assert "none of the known classes" in result.verdict
    assert not result.consistent_with_mean_field


def test_nearest_class_when_every_p_value_underflows():
    # β = 0.05 ± 0.001: every class is thousands of σ away (p = 0); the nearest by χ² is
    # 2D 4-state Potts (β = 1/12)
    result = judge("second", _around(0.05, 0.001), None, None)
    assert result.consistent_classes == ()
    assert "the nearest, 2D 4-state Potts" in result.verdict


def test_excluded_by_the_joint_test_alone():
    # β, γ, ν of 2D Ising each 1.9σ off: every one within its interval, χ²₃ = 10.8 > 7.81
    sigma = {"beta": 0.01, "gamma": 0.1, "nu": 0.05}
    moved = {q: ISING_2D.value(q) + 1.9 * s for q, s in sigma.items()}
    est = {q: _around(moved[q], Z95 * sigma[q]) for q in sigma}
    result = judge("second", est["beta"], est["gamma"], None, nu=est["nu"], classes=(ISING_2D,))
    (test,) = result.tests
    assert test.within_intervals and test.p_value < LEVEL
    assert test.chi2 == pytest.approx(3 * 1.9**2)
    assert "none of the known classes" in result.verdict
    assert "jointly they do not fit" in result.verdict


def test_first_order_and_other_orders_have_no_class():
    for order in ("first", "crossover", "none"):
        result = judge(order, _around(0.5, 0.05), None, None)
        assert result.consistent_classes == () and result.best is None
        assert "no universality class" in result.verdict
    with pytest.raises(DataError, match="order must be one of"):
        judge("third", None, None, None)


# ------------------------------------------------------------ finite-size systematic


def test_finite_size_systematic_formula():
    # mean field, N = 400 as size: s = ω_N·N^(−ω_N) = 0.5·400^(−1/2) = 0.025, ν_N = 2
    s = 0.025
    assert finite_size_systematic(MEAN_FIELD, "beta", 400, True) == pytest.approx(2 * s * 1.5)
    assert finite_size_systematic(MEAN_FIELD, "gamma", 400, True) == pytest.approx(2 * s * 2.0)
    assert finite_size_systematic(MEAN_FIELD, "nu", 400, True) == pytest.approx(4 * s)
    assert finite_size_systematic(MEAN_FIELD, "binder_crossing", 400, True) == pytest.approx(0.05)
    # logarithmic corrections (4-state Potts), L = 100: s = 1/ln²L
    assert finite_size_systematic(POTTS4_2D, "nu", 100, False) == pytest.approx(
        (2 / 3) ** 2 / math.log(100) ** 2
    )
    for hostile in (None, 0.0, -3.0, float("nan"), float("inf")):
        assert finite_size_systematic(ISING_2D, "beta", hostile, False) == 0.0
    # sizes far below the microscopic scale carry no information: an infinite term, and the
    # quantity is then not compared
    assert finite_size_systematic(MEAN_FIELD, "beta", 1e-200, False) == math.inf
    tiny = judge("second", _around(0.5, 0.05), None, None, smallest_size=1e-200)
    assert "mean field" not in {c.universality_class for c in tiny.comparisons}
    assert finite_size_systematic(find_class("deep linear network"), "beta", 10, False) == 0.0
    # the term shrinks with the size
    assert finite_size_systematic(ISING_3D, "gamma", 64, False) < finite_size_systematic(
        ISING_3D, "gamma", 8, False
    )


def test_systematic_term_only_widens():
    # Curie–Weiss-like finite-size estimates at N = 400, 1600 (β/ν and U* drift as N^(−1/2))
    beta = Estimate(0.38, (0.313, 0.488))
    binder = Estimate(0.366, (0.311, 0.407))
    bare = judge("second", beta, None, binder)
    widened = judge("second", beta, None, binder, smallest_size=400, size_is_volume=True)
    assert not bare.consistent_with_mean_field
    assert widened.consistent_with_mean_field
    for a, b in zip(bare.comparisons, widened.comparisons, strict=True):
        assert abs(b.z) <= abs(a.z) + 1e-12


# ------------------------------------------------------------------- hostile inputs

numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-3.0, 20.0),
    st.sampled_from([0.0, 1 / 9, 0.125, 0.5, 1.75, 1e308, -1e308, 5e-324, 1e-200]),
)


@st.composite
def hostile_estimates(draw):
    if draw(st.booleans()):
        return None
    value = draw(numbers)
    kind = draw(st.sampled_from(["none", "pair", "zero", "nan"]))
    if kind == "none":
        ci = None
    elif kind == "zero":
        ci = (value, value)
    elif kind == "nan":
        ci = (float("nan"), draw(numbers))
    else:
        ci = (draw(numbers), draw(numbers))
    return Estimate(value, ci)


@settings(max_examples=150, deadline=None)
@given(
    order=st.sampled_from(["second", "first", "crossover", "none"]),
    estimates=st.lists(hostile_estimates(), min_size=len(QUANTITIES), max_size=len(QUANTITIES)),
    smallest=numbers,
    volume=st.booleans(),
)
def test_hostile_inputs_never_crash_and_round_trip(order, estimates, smallest, volume):
    alpha, beta, gamma, delta, nu, eta, binder = estimates
    result = judge(
        order,
        beta,
        gamma,
        binder,
        nu=nu,
        delta=delta,
        alpha=alpha,
        eta=eta,
        smallest_size=smallest,
        size_is_volume=volume,
    )
    assert isinstance(result.verdict, str) and result.verdict
    payload = result.to_dict()
    text = json.dumps(payload, allow_nan=False)
    back = UniversalityResult.from_dict(json.loads(text))
    assert back.to_dict() == payload
    assert payload["consistent_classes"] == payload["consistent_with"]
    assert result.best is None or result.best == result.consistent_classes[0]
    assert set(result.consistent_classes) <= {c.name for c in CLASSES}
    if len(result.consistent_classes) > 1:
        assert result.best is None and "cannot distinguish" in result.verdict
