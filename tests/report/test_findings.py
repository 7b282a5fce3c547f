"""Findings round-trip exactly through their JSON form, and a saved report renders again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from landaulab.dynamics import DynamicsResult
from landaulab.report import ExtraSection, Findings, ReportResult, RoleChoice, SliceChoice
from landaulab.report.figures import Rendered

names = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
sentences = st.text(max_size=20)
numbers = st.floats(allow_nan=True, allow_infinity=False, width=32)


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    columns = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    n = draw(st.integers(0, 5))
    data = {c: draw(st.lists(numbers, min_size=n, max_size=n)) for c in columns}
    return pd.DataFrame(data, columns=columns)


@st.composite
def findings(draw: st.DrawFn) -> Findings:
    extras = tuple(
        ExtraSection(
            id=f"extra-{i}",
            title=draw(sentences),
            paragraphs=tuple(draw(st.lists(sentences, max_size=2))),
            figure=draw(st.none() | st.builds(Rendered, png=st.binary(), pdf=st.binary())),
            caption=draw(st.none() | sentences),
            table=draw(st.none() | tables()),
            html=draw(st.none() | st.just("<p>x</p>")),
        )
        for i in range(draw(st.integers(0, 2)))
    )
    controls = draw(st.lists(numbers, min_size=0, max_size=3))
    time_map = draw(
        st.none()
        | st.just(pd.DataFrame(np.full((2, len(controls)), 0.5), columns=controls, dtype=float))
    )
    return Findings(
        source=draw(sentences),
        roles=RoleChoice(
            order_parameter=draw(names),
            control=draw(names),
            size=draw(st.none() | names),
            swept=tuple(draw(st.lists(names, max_size=3))),
            automatic=tuple(draw(st.lists(st.sampled_from(["order_parameter", "control"])))),
            reasons=tuple(draw(st.lists(sentences, max_size=2))),
            symmetric=draw(st.booleans()),
        ),
        slice=SliceChoice(
            fixed=draw(st.dictionaries(names, st.floats(-5, 5) | names, max_size=2)),
            sentence=draw(st.none() | sentences),
        ),
        absolute=draw(st.booleans()),
        analysis_error=draw(st.none() | sentences),
        dynamics_error=draw(st.none() | sentences),
        runs=draw(tables()),
        time_map=time_map,
        time_edges=tuple(draw(st.lists(st.floats(0, 100), max_size=3))),
        trajectories=draw(tables()),
        n_trajectory_runs=draw(st.integers(0, 100)),
        extra_sections=extras,
        notes=tuple(draw(st.lists(sentences, max_size=2))),
        lead=tuple(draw(st.lists(sentences, max_size=2))),
        extras_first=draw(st.booleans()),
        title=draw(st.none() | sentences),
    )


@settings(max_examples=60, deadline=None)
@given(findings())
def test_findings_round_trip_exactly(found: Findings) -> None:
    data = found.to_dict()
    text = json.dumps(data, allow_nan=False)
    again = Findings.from_dict(json.loads(text))
    assert again.to_dict() == data
    assert Findings.from_dict(again.to_dict()).to_dict() == data


def test_a_saved_report_renders_the_same_report(
    first_order_report: ReportResult, tmp_path: Path
) -> None:
    from landaulab.api import report

    assert first_order_report.findings is not None
    again = report(first_order_report.json, output=tmp_path / "again.html")
    assert str(again.narrative) == str(first_order_report.narrative)
    assert again.not_estimable == first_order_report.not_estimable
    assert set(again.figures) == set(first_order_report.figures)
    first = json.loads(first_order_report.json.read_text())
    second = json.loads(again.json.read_text())
    for key in ("analysis", "dynamics", "narrative", "roles", "slice", "notes"):
        assert second[key] == first[key], key
    # an `analyze --json` file gives the report of that analysis
    analysis_file = tmp_path / "analysis.json"
    analysis_file.write_text(json.dumps(first["analysis"]))
    alone = report(analysis_file, output=tmp_path / "alone.html")
    assert alone.analysis == first["analysis"]


def test_report_json_holds_the_findings(first_order_report: ReportResult) -> None:
    payload = json.loads(first_order_report.json.read_text())
    assert first_order_report.findings is not None
    assert payload["findings"] == json.loads(
        json.dumps(first_order_report.findings.to_dict(results=False))
    )
    saved = payload["findings"]
    assert saved["roles"]["order_parameter"] == payload["order_parameter"]
    assert saved["runs"]["columns"][-2:] == ["value", "in_slice"]


def test_findings_with_a_dynamics_result_round_trip(first_order_report: ReportResult) -> None:
    from dataclasses import replace

    assert first_order_report.findings is not None
    found = replace(first_order_report.findings, analysis=None, analysis_error="left out")
    assert found.dynamics is not None
    data = json.loads(json.dumps(found.to_dict(), allow_nan=False))
    again = Findings.from_dict(data)
    assert isinstance(again.dynamics, DynamicsResult)
    assert again.to_dict() == data


def test_a_saved_report_without_analysis_renders_again(
    first_order_report: ReportResult, tmp_path: Path
) -> None:
    from dataclasses import replace

    from landaulab.api import report as face
    from landaulab.report import report as render

    assert first_order_report.findings is not None
    found = replace(
        first_order_report.findings,
        analysis=None,
        analysis_error="too few runs",
        extra_sections=(ExtraSection("kept", "Kept", ("A paragraph.",)),),
    )
    first = render(found, output=tmp_path / "first.html")
    again = face(first.json, output=tmp_path / "again.html")
    assert str(again.narrative) == str(first.narrative)
    assert again.not_estimable == first.not_estimable
    assert set(again.figures) == set(first.figures)
    saved = json.loads(first.json.read_text())
    resaved = json.loads(again.json.read_text())
    for key in ("dynamics", "narrative", "findings", "slice", "notes", "not_estimable"):
        assert resaved[key] == saved[key], key
    assert "A paragraph." in again.html.read_text(encoding="utf-8")
    for name, (png, _) in first.figures.items():  # the same figures, byte for byte
        assert again.figures[name][0].read_bytes() == png.read_bytes(), name
