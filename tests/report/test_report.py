"""End-to-end reports of stores with planted answers: sections, self-containment, files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from landaulab.api import report
from landaulab.errors import DataError, LandaulabError
from landaulab.report import ExtraSection, ReportResult
from landaulab.report.formatting import capital, estimate
from landaulab.report.html import SECTION_IDS
from tests.report.conftest import FAST
from tests.report.htmlcheck import PNG_MAGIC, decode_png, parse
from tests.report.planted import FIRST_ORDER_TEMPERATURES


def _check_self_contained(path: Path) -> None:
    page = parse(path.read_text(encoding="utf-8"))
    assert page.remote == []
    assert page.scripts == 0 and page.links == 0
    assert page.images, "no figure embedded"
    for src in page.images:
        assert decode_png(src).startswith(PNG_MAGIC)


def test_first_order_report_has_every_section_once(first_order_report: ReportResult) -> None:
    page = parse(first_order_report.html.read_text(encoding="utf-8"))
    assert page.section_ids == list(SECTION_IDS)
    for section in SECTION_IDS:
        assert page.section_text[section].strip(), f"section {section} is empty"


def test_first_order_report_is_self_contained(first_order_report: ReportResult) -> None:
    _check_self_contained(first_order_report.html)


def test_columns_are_chosen_by_the_documented_rules(first_order_report: ReportResult) -> None:
    # the energy column is an energy analogue, never the order parameter; N is named a size
    assert first_order_report.order_parameter == "m"
    assert first_order_report.control == "temperature"
    assert first_order_report.size == "N"


def test_narrative_states_the_critical_point_from_the_analysis(
    first_order_report: ReportResult,
) -> None:
    analysis = first_order_report.analysis
    assert analysis is not None, first_order_report.analysis_error
    critical = analysis["transition"]["critical_point"]
    assert critical is not None
    text = str(first_order_report.narrative)
    assert f"temperature {estimate(critical['value'], critical['ci'])}" in text
    order = analysis["transition"]["order"]
    assert f"is {order} order" in text
    page = parse(first_order_report.html.read_text(encoding="utf-8"))
    assert estimate(critical["value"], critical["ci"]) in page.section_text["narrative"]
    # the critical point is inside the sampled range (a planted transition at T* = 1.25)
    assert min(FIRST_ORDER_TEMPERATURES) < critical["value"] < max(FIRST_ORDER_TEMPERATURES)


def test_figure_files_are_png_and_pdf(first_order_report: ReportResult) -> None:
    figures = first_order_report.figures
    assert {"phase_diagram", "order_parameter", "susceptibility", "trajectories"} <= set(figures)
    for name, (png, pdf) in figures.items():
        assert png.parent == first_order_report.figures_dir
        assert png.read_bytes().startswith(PNG_MAGIC), name
        assert pdf.read_bytes().startswith(b"%PDF"), name
    assert first_order_report.figures_dir.name == "report_figures"


def test_report_json_is_strict_json_with_the_results(first_order_report: ReportResult) -> None:
    text = first_order_report.json.read_text(encoding="utf-8")
    payload = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert payload["order_parameter"] == "m"
    assert payload["narrative"]["text"] == str(first_order_report.narrative)
    assert payload["analysis"]["transition"]["order"] in ("first", "second", "crossover", "none")
    assert set(payload["figures"]) == set(first_order_report.figures)
    if payload["dynamics"] is None:
        assert payload["dynamics_error"]
    # nothing but the outputs was left behind (atomic writes leave no temporary files)
    leftovers = [p.name for p in first_order_report.html.parent.rglob("*.tmp")]
    assert leftovers == []


def test_missing_pieces_are_said_plainly(first_order_report: ReportResult) -> None:
    page = parse(first_order_report.html.read_text(encoding="utf-8"))
    for section, sentence in first_order_report.not_estimable.items():
        assert sentence.split(" (")[0] in page.section_text[section]
    analysis = first_order_report.analysis or {}
    if analysis.get("collapse") is None:
        assert "Not estimable: data collapse" in page.section_text["collapse"]


def test_grokking_report_picks_roles_and_the_crossing_slice(grokking_report: ReportResult) -> None:
    assert grokking_report.order_parameter == "test_accuracy"
    assert grokking_report.control == "weight_decay"
    assert grokking_report.size is None
    payload = json.loads(grokking_report.json.read_text(encoding="utf-8"))
    # at train_fraction 0.2 nothing generalises; the slice must be one crossing the boundary
    assert payload["slice"]["train_fraction"] in (0.3, 0.4)
    text = str(grokking_report.narrative)
    assert "Weight decay plays the role of temperature" in text
    assert "test accuracy is the order parameter" in text
    assert "phase_diagram" in grokking_report.figures
    _check_self_contained(grokking_report.html)


def _tiny_frame(values: np.ndarray, controls: np.ndarray) -> pd.DataFrame:
    runs = values.shape[0]
    steps = values.shape[1]
    return pd.DataFrame(
        {
            "run_id": np.repeat(np.arange(runs), steps),
            "step": np.tile(np.arange(steps), runs),
            "lr": np.repeat(controls, steps),
            "accuracy": values.ravel(),
        }
    )


@pytest.mark.parametrize("case", ["constant", "nan_heavy", "single_control"])
def test_hostile_tables_give_a_report_or_one_clear_error(tmp_path: Path, case: str) -> None:
    rng = np.random.default_rng(5)
    controls = np.repeat([0.1, 0.2, 0.3, 0.4], 3)
    values = rng.random((controls.size, 20))
    if case == "constant":
        values[:] = 0.5
    elif case == "nan_heavy":
        values[rng.random(values.shape) < 0.6] = np.nan
        values[0, :3] = np.inf
    elif case == "single_control":
        controls = np.full(controls.size, 0.1)
    frame = _tiny_frame(values, controls)
    try:
        result = report(frame, control="lr", output=tmp_path / "r.html", **FAST)
    except LandaulabError as exc:
        assert "\n" not in str(exc)
        return
    page = parse(result.html.read_text(encoding="utf-8"))
    assert page.section_ids == list(SECTION_IDS)
    json.loads(result.json.read_text(encoding="utf-8"))


def test_errors_name_the_problem(tmp_path: Path) -> None:
    frame = _tiny_frame(np.random.default_rng(1).random((3, 5)), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(DataError, match="'nope' not found"):
        report(frame, control="nope", output=tmp_path / "r.html")
    with pytest.raises(DataError, match="no swept parameter"):
        report(frame.assign(lr=0.1), output=tmp_path / "r.html")
    with pytest.raises(LandaulabError, match="no such"):
        report(tmp_path / "missing-store", output=tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_extra_sections_and_given_results(tmp_path: Path, first_order_report: ReportResult) -> None:
    figure = Figure()
    figure.add_subplot().plot([0, 1], [1, 0])
    extra = [
        ExtraSection(
            id="phases",
            title="Phase regions",
            paragraphs=("Four regions.",),
            figure=figure,
            caption="regions",
            table=pd.DataFrame({"region": ["grokking"], "runs": [3]}),
        ),
        {"id": "ranking", "title": "Order parameters", "html": "<p>ranked</p>"},
    ]
    store = first_order_report.html.parent.parent / "store"
    result = report(
        store,
        output=tmp_path / "custom.html",
        figures_dir=tmp_path / "figs",
        analysis=first_order_report.findings.analysis,
        dynamics=first_order_report.findings.dynamics,
        extra_sections=extra,
        dynamics_options=FAST["dynamics_options"],
    )
    page = parse(result.html.read_text(encoding="utf-8"))
    assert page.section_ids == [*SECTION_IDS[:-1], "phases", "ranking", "evidence"]
    assert "Four regions." in page.section_text["phases"]
    assert (tmp_path / "figs" / "phases.png").exists() and (
        tmp_path / "figs" / "phases.pdf"
    ).exists()
    assert result.json == tmp_path / "custom.json"
    # the given results are used as they are (no slice, no recomputation)
    assert str(result.narrative) == str(first_order_report.narrative)
    with pytest.raises(DataError, match="network"):
        report(
            store,
            output=tmp_path / "x.html",
            analysis=first_order_report.findings.analysis,
            dynamics=first_order_report.findings.dynamics,
            extra_sections=[{"id": "bad", "title": "x", "html": '<img src="https://a.b/c.png">'}],
        )
    with pytest.raises(DataError, match="built-in"):
        report(
            store,
            output=tmp_path / "x.html",
            analysis=first_order_report.findings.analysis,
            dynamics=first_order_report.findings.dynamics,
            extra_sections=[{"id": "evidence", "title": "x"}],
        )


def test_the_callers_sections_first_and_the_gaps_in_one_list(
    tmp_path: Path, first_order_report: ReportResult
) -> None:
    from dataclasses import replace

    from landaulab.report import report as render
    from landaulab.report.html import GAPS_ID

    assert first_order_report.findings is not None
    reason = "the study measures it its own way"
    found = replace(
        first_order_report.findings,
        analysis=None,
        analysis_error=reason,
        dynamics=None,
        dynamics_error=reason,
        extra_sections=(ExtraSection("answers", "Answers", ("The answer.",)),),
        extras_first=True,
    )
    result = render(found, output=tmp_path / "study.html")
    html = result.html.read_text(encoding="utf-8")
    page = parse(html)
    assert page.section_ids[:2] == ["narrative", "answers"]
    assert page.section_ids[-1] == GAPS_ID
    shown = page.section_ids[2:-1]
    assert shown and set(shown) < set(SECTION_IDS)  # those with a figure or text
    for section in page.section_ids[:-1]:
        assert "Not estimable" not in page.section_text[section], section
    gathered = page.section_text[GAPS_ID]
    assert gathered.count(capital(reason)) == 1  # the reason once, its items under it
    for item in ("susceptibility and Binder cumulant", "critical exponents", "data collapse"):
        assert item in gathered
    for section in SECTION_IDS:  # every built-in id still addressable
        assert html.count(f'id="{section}"') == 1, section
    # report.json says what is missing per section, as before
    generic = render(replace(found, extras_first=False), output=tmp_path / "generic.html")
    assert result.not_estimable == generic.not_estimable
    assert parse(generic.html.read_text(encoding="utf-8")).section_ids == [
        *SECTION_IDS[:-1],
        "answers",
        "evidence",
    ]


def test_cli_report_and_its_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from landaulab.cli import main

    rng = np.random.default_rng(2)
    controls = np.repeat([0.5, 1.0, 1.5, 2.0], 3)
    values = (controls[:, None] < 1.2) * 0.8 + rng.normal(0, 0.05, (controls.size, 16))
    table = tmp_path / "runs.csv"
    _tiny_frame(values, controls).to_csv(table, index=False)
    status = main(
        [
            "report",
            str(table),
            "-o",
            str(tmp_path / "cli.html"),
            "--json",
            str(tmp_path / "cli.json"),
        ]
    )
    out = capsys.readouterr()
    assert status == 0, out.err
    assert str(tmp_path / "cli.html") in out.out
    payload = json.loads((tmp_path / "cli.json").read_text())
    assert (payload["control"], payload["order_parameter"]) == ("lr", "accuracy")
    _check_self_contained(tmp_path / "cli.html")
    for argv, message in (
        (
            ["report", str(table), "--control", "nope", "-o", str(tmp_path / "bad.html")],
            "'nope' not found",
        ),
        (["report", str(tmp_path / "no-store"), "-o", str(tmp_path / "bad.html")], "no such"),
        (
            [
                "report",
                str(table),
                "--analysis",
                str(tmp_path / "none.json"),
                "-o",
                str(tmp_path / "bad.html"),
            ],
            "no such analysis file",
        ),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and message in err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad.html").exists()


def test_cli_entry_point_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "landaulab", "report", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "--order-parameter" in done.stdout
