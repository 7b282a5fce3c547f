"""Order-to-chaos transition at initialisation: mean-field maps and finite networks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks import signal_propagation as sp

# KNOWN_ANSWERS (tanh): critical σ_w² per σ_b²; tolerance half a unit of the last digit
CRITICAL = {0.01: (1.4242, 5e-5), 0.05: (1.7610, 5e-5), 0.1: (1.9861, 5e-5), 0.3: (2.5051, 5e-5)}
# correlation depth at σ_b² = 0.05
DEPTHS = {
    1.2: (5.9, 0.05),
    1.5: (15.8, 0.05),
    1.7: (74.9, 0.05),
    1.8: (125.8, 0.05),
    2.0: (25.2, 0.05),
    3.0: (9.05, 0.005),
}


@pytest.mark.parametrize("bias_variance", sorted(CRITICAL))
def test_critical_line_of_tanh(bias_variance: float) -> None:
    value, tol = CRITICAL[bias_variance]
    critical = sp.critical_weight_variance(bias_variance)
    assert critical == pytest.approx(value, abs=tol)
    assert sp.chi1(critical, bias_variance) == pytest.approx(1.0, abs=1e-10)
    if bias_variance == 0.05:
        assert sp.fixed_point_q(critical, 0.05, "tanh") == pytest.approx(0.570, abs=5e-4)


def test_correlation_depth_table_and_divergence_at_the_critical_line() -> None:
    for weight_variance, (value, tol) in DEPTHS.items():
        assert sp.correlation_depth(weight_variance, 0.05) == pytest.approx(value, abs=tol)
    critical = sp.critical_weight_variance(0.05)
    # mean field: ξ_c ∝ |σ_w² − σ_c²|⁻¹ on the ordered side
    near = [sp.correlation_depth(critical - d, 0.05) * d for d in (1e-3, 1e-4)]
    assert near[0] == pytest.approx(near[1], rel=0.02)
    assert sp.fixed_point_c(critical - 0.1, 0.05) == 1.0
    assert sp.fixed_point_c(critical + 0.1, 0.05) < 1.0


def test_quadrature_has_converged() -> None:
    reference = sp._pair_average("tanh", 0.57, 0.4, True)
    z, w = np.polynomial.hermite_e.hermegauss(321)
    w = w / w.sum()
    u1 = math.sqrt(0.57) * z[:, None]
    u2 = math.sqrt(0.57) * (0.4 * z[:, None] + math.sqrt(1 - 0.16) * z[None, :])
    fine = float(np.einsum("i,j,ij->", w, w, (1 / np.cosh(u1) ** 2) * (1 / np.cosh(u2) ** 2)))
    assert reference == pytest.approx(fine, abs=1e-12)


@pytest.mark.parametrize(("weight_variance", "bias_variance"), [(3.43, 0.2), (1.761, 0.05)])
def test_fixed_point_q_to_1e_12_against_adaptive_quadrature(
    weight_variance: float, bias_variance: float
) -> None:
    """q* against an independent rule: scipy's adaptive quadrature of the length map over
    the normal density (to 1e-15), solved by the same root finder. At σ_w² = 3.43,
    σ_b² = 0.2 (q* ≈ 1.98) a fixed 161-node rule is off by 1.8e-10."""
    from scipy import integrate, optimize

    def q_map(q: float) -> float:
        def integrand(z: float) -> float:
            return math.tanh(math.sqrt(q) * z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

        value, _ = integrate.quad(integrand, -40, 40, points=[0.0], epsabs=1e-15, limit=400)
        return weight_variance * value + bias_variance

    exact = optimize.brentq(lambda q: q_map(q) - q, 1e-3, 50, xtol=1e-15, rtol=1e-15)
    got = sp.fixed_point_q(weight_variance, bias_variance, "tanh")
    assert abs(got - exact) < 1e-12
    # the chosen node count is the first whose averages agree with the next count's
    points = sp.quadrature_points(got)
    assert points in sp.QUADRATURE_LADDER
    if weight_variance == 3.43:
        assert points > sp.QUADRATURE_POINTS


def test_relu_closed_forms_and_critical_point() -> None:
    rng = np.random.default_rng(0)
    q, c = 1.3, 0.35
    z1, z2 = rng.normal(size=(2, 400_000))
    u1, u2 = math.sqrt(q) * z1, math.sqrt(q) * (c * z1 + math.sqrt(1 - c * c) * z2)
    for derivative, samples in (
        (False, np.maximum(u1, 0) * np.maximum(u2, 0)),
        (True, (u1 > 0) * (u2 > 0) * 1.0),
    ):
        se = samples.std(ddof=1) / math.sqrt(len(samples))
        assert abs(samples.mean() - sp._pair_average("relu", q, c, derivative)) < 5 * se
    assert sp.chi1(2.0, 0.0, "relu") == 1.0
    assert sp.critical_weight_variance(0.0, "relu") == 2.0
    assert sp.fixed_point_q(1.0, 0.1, "relu") == pytest.approx(0.2)


def test_tanh_without_bias_is_ordered_below_one() -> None:
    assert sp.fixed_point_q(0.8, 0.0, "tanh") == 0.0
    assert sp.chi1(0.8, 0.0) == pytest.approx(0.8)
    assert sp.critical_weight_variance(0.0) == 1.0


def _networks(
    weight_variance: float,
    bias_variance: float,
    activation: str,
    seeds: int,
    width: int = 500,
    depth: int = 8,
):
    info = get_task("signal_propagation")
    params = info.resolve(
        {
            "width": width,
            "depth": depth,
            "activation": activation,
            "weight_variance": weight_variance,
            "bias_variance": bias_variance,
        }
    )
    ctxs = [
        RunContext({**params, "seed": s}, Schedule(depth, every=1), device="cpu")
        for s in range(seeds)
    ]
    info.batched(ctxs)
    return [ctx.table() for ctx in ctxs]


@pytest.mark.parametrize(
    ("weight_variance", "bias_variance", "activation"),
    [(1.2, 0.05, "tanh"), (3.0, 0.05, "tanh"), (2.0, 0.0, "relu")],
)
def test_width_500_networks_agree_with_mean_field(
    weight_variance, bias_variance, activation
) -> None:
    _assert_agreement(_networks(weight_variance, bias_variance, activation, seeds=10))
    tables = _networks(weight_variance, bias_variance, activation, seeds=1, width=32, depth=1)
    assert tables[0].chi1.iloc[0] == pytest.approx(
        sp.chi1(weight_variance, bias_variance, activation)
    )


@pytest.mark.slow
@pytest.mark.parametrize("weight_variance", [1.2, sp.critical_weight_variance(0.05), 3.0])
def test_width_1000_depth_30_networks_agree_with_mean_field(weight_variance: float) -> None:
    _assert_agreement(_networks(weight_variance, 0.05, "tanh", seeds=10, width=1000, depth=30))


def _assert_agreement(tables: list) -> None:
    for empirical, reference in (("q", "q_mean_field"), ("correlation", "correlation_mean_field")):
        values = np.stack([t[empirical].to_numpy() for t in tables])
        expected = tables[0][reference].to_numpy()
        se = values.std(axis=0, ddof=1) / math.sqrt(len(tables))
        # seed average within its standard error (Student t, 9 dof, two-sided p = 1e-4 per
        # layer), plus the O(1/N) finite-width bias of the maps
        threshold = stats.t.ppf(1 - 5e-5, len(tables) - 1)
        bias = 2.0 * np.abs(expected) / 500
        assert np.all(np.abs(values.mean(axis=0) - expected) <= threshold * se + bias)


def test_batched_member_equals_separate_run() -> None:
    info = get_task("signal_propagation")
    params = info.resolve({"width": 64, "depth": 5})
    ctxs = [
        RunContext({**params, "seed": s, "weight_variance": w}, Schedule(5, every=1), device="cpu")
        for s, w in ((0, 1.2), (1, 3.0))
    ]
    info.batched(ctxs)
    ctx = RunContext(dict(ctxs[1].params), Schedule(5, every=1), device="cpu")
    info.function(ctx)
    np.testing.assert_allclose(ctx.table().to_numpy(), ctxs[1].table().to_numpy(), rtol=1e-12)
    assert ctxs[1].table().decorrelation.iloc[-1] > ctxs[0].table().decorrelation.iloc[-1]
