"""The narrative is written from the results: numbers, verdicts and plain 'not estimable'."""

from __future__ import annotations

from landaulab.report.narrative import ReportContext, build_narrative
from landaulab.report.results import read_analysis, read_dynamics

CONTEXT = ReportContext(
    order_parameter="test_accuracy",
    control="weight_decay",
    n_runs=40,
    control_values=(0.1, 0.3, 1.0, 3.0),
)


def _analysis(**overrides: object) -> dict:
    data = {
        "transition": {
            "order": "first",
            "critical_point": {"value": 0.31, "ci": [0.29, 0.33], "method": "susceptibility_peak"},
        },
        "exponents": {
            name: None for name in ("beta", "gamma", "nu", "beta_over_nu", "gamma_over_nu")
        },
        "landau": {
            "coefficients": [
                {"control": 0.1, "size": 1.0, "a2": {"value": -0.5, "stderr": 0.1}},
                {"control": 0.3, "size": 1.0, "a2": {"value": -0.1, "stderr": 0.1}},
                {"control": 1.0, "size": 1.0, "a2": {"value": 0.4, "stderr": 0.1}},
            ]
        },
        "universality": {
            "verdict": "A first-order transition has no critical exponents.",
            "consistent_with_mean_field": False,
        },
        "evidence": [
            "Test accuracy takes both signs.",
            "P(m) has 2 separate modes at control 0.3: coexisting phases.",
        ],
        "not_estimable": {"beta": "exponents are not defined at a first-order transition"},
    }
    data.update(overrides)
    return data


def test_the_headline_sentence_of_a_first_order_transition() -> None:
    text = str(build_narrative(CONTEXT, read_analysis(_analysis()), read_dynamics(None)))
    assert (
        "Weight decay plays the role of temperature; test accuracy is the order parameter" in text
    )
    assert (
        "The transition at weight decay 0.310 ± 0.020 (95% confidence interval [0.290, 0.330]), "
        "located by the peak of the susceptibility, is first order: P(m) has 2 separate modes"
    ) in text
    assert "Critical exponents are not defined at a first-order transition" in text
    assert "changes sign between weight decay 0.3 and 1" in text


def test_null_pieces_are_said_plainly() -> None:
    data = _analysis(transition={"order": "second", "critical_point": None})
    data["exponents"]["beta"] = {"value": 0.52, "ci": [0.46, 0.58]}
    data["not_estimable"] = {"gamma": "fewer than two disordered controls"}
    narrative = build_narrative(CONTEXT, read_analysis(data), read_dynamics(None))
    text = str(narrative)
    assert "The transition is second order" in text
    assert "Not enough data to estimate the critical point." in text
    assert "β = 0.52 ± 0.06" in text
    assert "Not enough data to estimate γ (fewer than two disordered controls)." in text
    assert "finite-size scaling needs runs at two or more sizes" in text  # ν, β/ν, γ/ν


def test_missing_analysis_and_failed_dynamics() -> None:
    narrative = build_narrative(
        CONTEXT,
        read_analysis(None, "column 'x' not found"),
        read_dynamics(None, "fewer than 8 samples per run"),
    )
    text = str(narrative)
    assert "The Landau analysis could not be run: column 'x' not found." in text
    assert "Not enough data to estimate the critical point" in text
    assert "The training dynamics could not be analysed: fewer than 8 samples per run." in text


def test_no_transition_and_crossover() -> None:
    none = _analysis(transition={"order": "none", "critical_point": None}, evidence=[])
    text = str(build_narrative(CONTEXT, read_analysis(none), read_dynamics(None)))
    assert "No transition was found in weight decay between 0.1 and 3." in text
    cross = _analysis(transition={"order": "crossover", "critical_point": None})
    text = str(build_narrative(CONTEXT, read_analysis(cross), read_dynamics(None)))
    assert "a crossover, not a phase transition" in text


def test_dynamics_sentences_come_from_the_dynamics_result() -> None:
    dynamics = {
        "attractors": [
            {"control": 0.3, "position": 0.02, "ci": [0.0, 0.04]},
            {"control": 0.3, "position": 0.97, "ci": [0.95, 0.99]},
            {"control": 1.0, "position": 0.98, "ci": [0.96, 1.0]},
        ],
        "relaxation_time": [
            {"control": 0.1, "value": 40.0, "ci": [30.0, 50.0]},
            {"control": 0.3, "value": 400.0, "ci": [300.0, 500.0]},
            {"control": 1.0, "value": 60.0, "ci": [50.0, 70.0]},
        ],
        "potential": [],
        "transition_times": {
            "runs": [
                {"run": "a", "control": 0.3, "time": 2000.0, "main": True},
                {"run": "b", "control": 1.0, "time": 500.0, "main": True},
            ],
            "by_control": [
                {
                    "control": 0.3,
                    "median": 2000.0,
                    "ci": [1800.0, 2200.0],
                    "n_runs": 10,
                    "n_with_transition": 4,
                },
                {
                    "control": 1.0,
                    "median": 500.0,
                    "ci": [450.0, 550.0],
                    "n_runs": 10,
                    "n_with_transition": 10,
                },
            ],
            "laws": {"verdict": "the arrhenius law fits best", "fits": []},
        },
        "plateaus": {"runs": []},
        "evidence": [],
    }
    text = str(build_narrative(CONTEXT, read_analysis(_analysis()), read_dynamics(dynamics)))
    assert "coexisting attractors (metastable states) at weight decay 0.3" in text
    assert "longest at weight decay 0.3: τ = 400 ± 100, next to the critical point" in text
    assert "found in 14 of 20 runs" in text
    assert "2000 ± 200 at weight decay 0.3 and 500 ± 50 at weight decay 1" in text
    assert "The arrhenius law fits best." in text
