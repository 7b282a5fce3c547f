"""Order of the transition, with the evidence behind it, on systems with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landaulab.datasets import FIRST_ORDER, SECOND_ORDER

from ._sweeps import langevin_sweeps
from .conftest import run_analysis, within_errors


def test_curie_weiss_is_second_order_with_a_binder_based_critical_point(curie_weiss_result):
    result = curie_weiss_result
    assert result.order == "second"
    assert result.critical_point.method in {"binder_collapse", "binder_crossing"}
    assert within_errors(result.critical_point, 1.0)
    methods = {e.method for e in result.critical_point_estimates}
    assert {"susceptibility_peak", "quadratic_coefficient_zero", "binder_collapse"} <= methods


def test_first_order_planted_landau(first_order_result):
    result = first_order_result
    assert result.order == "first"
    assert result.critical_point.method == "equal_depth"
    assert within_errors(result.critical_point, FIRST_ORDER.transition_temperature)
    text = " ".join(result.evidence)
    assert "coexisting phases" in text
    assert "Binder cumulant dips" in text
    assert result.exponents.beta is None
    assert "first-order" in result.not_estimable["beta"]


def test_single_size_second_order(second_order_single_size_result):
    result = second_order_single_size_result
    assert result.order == "second"
    assert result.critical_point.method == "quadratic_coefficient_zero"
    assert within_errors(result.exponents.beta, 0.5)
    assert within_errors(result.exponents.gamma, 1.0)
    assert result.exponents.nu is None
    assert "two sizes" in result.not_estimable["nu"]


def test_field_gives_a_crossover(crossover_result):
    assert crossover_result.order == "crossover"
    assert crossover_result.critical_point is None
    assert not crossover_result.universality.consistent_with_mean_field
    assert "crossover" in crossover_result.universality.verdict


def _noise_frame(value: float = 0.0, spread: float = 1.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    runs, steps, temps = 8, 40, np.linspace(0.5, 1.5, 6)
    n = runs * steps * temps.size
    return pd.DataFrame(
        {
            "run_id": np.repeat(np.arange(runs * temps.size), steps),
            "step": np.tile(np.arange(steps), runs * temps.size),
            "temperature": np.repeat(temps, runs * steps),
            "m": value + spread * rng.normal(size=n),
        }
    )


def test_pure_noise_has_no_transition():
    result = run_analysis(_noise_frame(value=3.0), size=None, use_abs=False, n_bootstrap=100)
    assert result.order == "none"
    assert result.critical_point is None
    assert any("No transition found" in e for e in result.evidence)


def test_constant_order_parameter_has_no_transition():
    result = run_analysis(_noise_frame(spread=0.0, value=0.5), size=None, n_bootstrap=50)
    assert result.order == "none"


def test_too_few_controls_is_said_plainly():
    frame = _noise_frame()
    frame = frame[frame["temperature"] < 0.8]
    result = run_analysis(frame, size=None, n_bootstrap=50)
    assert result.order == "none"
    assert any(e.startswith("Not enough data") for e in result.evidence)


@pytest.fixture(scope="module")
def first_order_sweeps():
    return langevin_sweeps(
        FIRST_ORDER,
        np.linspace(0.9, 1.5, 13),
        size=2000,
        replicas=8,
        steps=2000,
        dt=0.005,
        record_every=20,
        seed=1,
    )


def test_hysteresis_of_a_first_order_transition(first_order_sweeps):
    result = run_analysis(first_order_sweeps, direction_col="direction", n_bootstrap=100)
    assert result.order == "first"
    hysteresis = result.hysteresis
    assert hysteresis.verdict == "hysteresis"
    # the metastable branches span T₀ = 1 (disordered spinodal) to 4/3 (ordered spinodal)
    low, high = hysteresis.window
    assert 0.95 <= low <= 1.1 and 1.25 <= high <= 1.4
    assert any(e.startswith("Hysteresis") for e in result.evidence)


def test_critical_slowing_is_not_mistaken_for_hysteresis():
    # a fast sweep through a second-order transition: near T_c the relaxation time
    # 1/(2|T − 1|) exceeds the time spent at each temperature
    frame = langevin_sweeps(
        SECOND_ORDER,
        np.linspace(0.7, 1.3, 13),
        size=2000,
        replicas=8,
        steps=300,
        dt=0.005,
        record_every=20,
        seed=2,
    )
    result = run_analysis(frame, direction_col="direction", n_bootstrap=100)
    assert result.hysteresis.verdict == "finite-time"
    assert result.order == "second"
    assert any("critical slowing down" in e for e in result.evidence)


def test_ising_is_second_order_and_not_mean_field(ising_result):
    result = ising_result
    assert result.order == "second"
    assert within_errors(result.critical_point, 2.269185)
    # 2D Ising: β = 1/8, far from the mean-field 1/2
    assert result.exponents.beta is not None and result.exponents.beta.ci[1] < 0.3
    assert not result.universality.consistent_with_mean_field


def test_energy_jump_is_reported_as_latent_heat():
    frame = _noise_frame(value=0.0, spread=0.05)
    temperature = frame["temperature"].to_numpy()
    ordered = temperature < 1.0
    frame["m"] = np.where(ordered, 0.8, 0.0) + frame["m"]
    frame["loss"] = np.where(ordered, -1.0, 0.0) + 0.01 * temperature
    result = run_analysis(frame, size=None, energy="loss", n_bootstrap=50)
    sentence = next(e for e in result.evidence if "latent-heat" in e)
    assert "jumps by 1" in sentence and "between 0.9 and 1.1" in sentence


def test_signed_symmetric_order_parameter_gets_a_hint(curie_weiss_frame):
    result = run_analysis(curie_weiss_frame, use_abs=False, n_bootstrap=50)
    assert result.inputs["symmetric"]
    assert any("use_abs=True" in e for e in result.evidence)
    assert result.order == "second"
