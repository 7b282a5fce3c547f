"""``landaulab dynamics``: summary on stdout, atomic JSON, one-line errors with status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from landaulab.cli import main
from landaulab.datasets.saxe import saxe_staircase


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dyn") / "runs.csv.gz"
    saxe_staircase((3.0, 1.0), initial=[1e-6, 1e-7, 1e-8], n_points=500).to_csv(path, index=False)
    return path


def test_summary_and_json(csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "nested" / "dynamics.json"
    status = main(
        [
            "dynamics", str(csv_file), "--order-parameter", "m", "--time-col", "time",
            "--control", "initial_strength", "--json", str(out), "--bootstrap", "20", "--seed", "3",
        ]
    )  # fmt: skip
    assert status == 0
    printed = capsys.readouterr().out
    assert "Evidence:" in printed and str(out) in printed
    payload = json.loads(out.read_text())
    assert {
        "attractors",
        "relaxation_time",
        "potential",
        "transition_times",
        "plateaus",
        "evidence",
    } <= set(payload)
    assert payload["settings"]["n_bootstrap"] == 20
    assert not list(out.parent.glob("*.tmp"))


def test_missing_column_is_one_line_and_status_2(
    csv_file: Path, capsys: pytest.CaptureFixture
) -> None:
    status = main(["dynamics", str(csv_file), "--order-parameter", "nope"])
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "nope" in err and "\n" not in err


def test_unreadable_file_is_status_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"not parquet")
    assert main(["dynamics", str(bad), "--order-parameter", "m"]) == 2
    assert main(["dynamics", str(tmp_path / "absent.csv"), "--order-parameter", "m"]) == 2
    assert "Traceback" not in capsys.readouterr().err
