"""The narrative is written from the views of the results: numbers, verdicts and plain
'not estimable'."""

from __future__ import annotations

from dataclasses import replace

from landaulab.estimate import Estimate
from landaulab.report.narrative import ReportContext, build_narrative
from landaulab.report.results import (
    AnalysisView,
    DynamicsView,
    TransitionTime,
    read_analysis,
    read_dynamics,
)

CONTEXT = ReportContext(
    order_parameter="test_accuracy",
    control="weight_decay",
    n_runs=40,
    control_values=(0.1, 0.3, 1.0, 3.0),
)


def _analysis(**overrides: object) -> AnalysisView:
    coefficients = [
        {"name": "a2", "value": v, "low": v - 0.196, "high": v + 0.196, "control": c, "size": 1.0}
        for c, v in ((0.1, -0.5), (0.3, -0.1), (1.0, 0.4))
    ]
    view = AnalysisView(
        available=True,
        order="first",
        critical_point=Estimate(0.31, (0.29, 0.33), "susceptibility_peak"),
        exponents={name: None for name in ("beta", "gamma", "nu", "beta_over_nu", "gamma_over_nu")},
        coefficients=coefficients,
        verdict="A first-order transition has no critical exponents.",
        consistent_with_mean_field=False,
        evidence=[
            "Test accuracy takes both signs.",
            "P(m) has 2 separate modes at control 0.3: coexisting phases.",
        ],
        not_estimable={"beta": "exponents are not defined at a first-order transition"},
    )
    return replace(view, **overrides)  # type: ignore[arg-type]


def test_the_headline_sentence_of_a_first_order_transition() -> None:
    text = str(build_narrative(CONTEXT, _analysis(), read_dynamics(None)))
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
    base = _analysis()
    data = _analysis(
        order="second",
        critical_point=None,
        exponents={**base.exponents, "beta": Estimate(0.52, (0.46, 0.58))},
        not_estimable={"gamma": "fewer than two disordered controls"},
    )
    narrative = build_narrative(CONTEXT, data, read_dynamics(None))
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
    assert "The Landau analysis of the table was not run: column 'x' not found." in text
    assert "order" not in text.split("not run:")[1].split("\n")[0]  # no claim beyond the reason
    assert "The analysis of the training dynamics was not run: fewer than 8 samples" in text
    # one reason for both (a study that measures the transition itself): said once
    same = "the study measures the transition with its own stages"
    both = str(build_narrative(CONTEXT, read_analysis(None, same), read_dynamics(None, same)))
    assert both.count(same) == 1
    assert "The Landau analysis of the table and of the training dynamics were not run" in both
    given = str(build_narrative(CONTEXT, read_analysis(None, None), read_dynamics(None)))
    assert "No Landau analysis was given, so this summary states no critical point" in given


def test_no_transition_and_crossover() -> None:
    none = _analysis(order="none", critical_point=None, evidence=[])
    text = str(build_narrative(CONTEXT, none, read_dynamics(None)))
    assert "No transition was found in weight decay between 0.1 and 3." in text
    cross = _analysis(order="crossover", critical_point=None)
    text = str(build_narrative(CONTEXT, cross, read_dynamics(None)))
    assert "a crossover, not a phase transition" in text


def test_dynamics_sentences_come_from_the_dynamics_result() -> None:
    dynamics = DynamicsView(
        available=True,
        attractors=[
            {"control": 0.3, "position": 0.02, "ci": (0.0, 0.04)},
            {"control": 0.3, "position": 0.97, "ci": (0.95, 0.99)},
            {"control": 1.0, "position": 0.98, "ci": (0.96, 1.0)},
        ],
        relaxation=[
            {"control": 0.1, "value": 40.0, "ci": (30.0, 50.0)},
            {"control": 0.3, "value": 400.0, "ci": (300.0, 500.0)},
            {"control": 1.0, "value": 60.0, "ci": (50.0, 70.0)},
        ],
        transition_times=[
            TransitionTime("a", 2000.0, control=0.3),
            TransitionTime("b", 500.0, control=1.0),
        ],
        transition_summary=[
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
        law_verdict="the arrhenius law fits best",
        looked_for_transitions=True,
    )
    text = str(build_narrative(CONTEXT, _analysis(), dynamics))
    assert "coexisting attractors (metastable states) at weight decay 0.3" in text
    assert "longest at weight decay 0.3: τ = 400 ± 100, next to the critical point" in text
    assert "found in 14 of 20 runs" in text
    assert "2000 ± 200 at weight decay 0.3 and 500 ± 50 at weight decay 1" in text
    assert "The arrhenius law fits best." in text
