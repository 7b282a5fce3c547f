"""``landaulab analyze``: summary, JSON contract and one-line errors (exit status 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from landaulab.cli import main
from landaulab.datasets import curie_weiss

from .test_result import check_contract


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory):
    frame = curie_weiss(np.linspace(0.9, 1.1, 7), [200, 800], n_runs=10, n_steps=60, seed=1)
    path = tmp_path_factory.mktemp("cli") / "runs.csv.gz"
    frame.to_csv(path, index=False)
    return path


def test_analyze_prints_summary_and_writes_json(csv_path, tmp_path, capsys):
    out = tmp_path / "result.json"
    status = main(
        [
            "analyze",
            str(csv_path),
            "--order-parameter",
            "m",
            "--control",
            "temperature",
            "--size",
            "N",
            "--abs",
            "--bootstrap",
            "50",
            "--json",
            str(out),
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "Landau analysis of 'm'" in printed and "transition" in printed
    payload = json.loads(out.read_text())
    check_contract(payload)
    assert payload["inputs"]["use_abs"] is True
    assert not list(tmp_path.glob("*.tmp"))


def test_parquet_input_and_same_answer_for_same_seed(csv_path, tmp_path, capsys):
    import pandas as pd

    parquet = tmp_path / "runs.parquet"
    pd.read_csv(csv_path).to_parquet(parquet)
    outputs = []
    for source, name in ((csv_path, "a.json"), (parquet, "b.json")):
        main(
            [
                "analyze",
                str(source),
                "--order-parameter",
                "m",
                "--control",
                "temperature",
                "--size",
                "N",
                "--abs",
                "--bootstrap",
                "20",
                "--seed",
                "3",
                "--json",
                str(tmp_path / name),
            ]
        )
        outputs.append(json.loads((tmp_path / name).read_text()))
    capsys.readouterr()
    assert outputs[0]["transition"] == outputs[1]["transition"]


@pytest.mark.parametrize(
    "extra",
    [
        ["--order-parameter", "nope", "--control", "temperature"],
        ["--order-parameter", "m", "--control", "temperature", "--bootstrap", "1"],
        ["--order-parameter", "m", "--control", "temperature", "--burn-in", "1.5"],
        ["--order-parameter", "m", "--control", "temperature", "--field", "nope"],
    ],
)
def test_user_errors_are_one_line_with_status_2(csv_path, extra, capsys):
    assert main(["analyze", str(csv_path), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


def test_missing_or_garbage_files_are_user_errors(tmp_path, capsys):
    status = main(
        ["analyze", str(tmp_path / "missing.csv"), "--order-parameter", "m", "--control", "T"]
    )
    assert status == 2
    assert "no such file" in capsys.readouterr().err
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x00\x01not,a\ncsv")
    assert main(["analyze", str(garbage), "--order-parameter", "m", "--control", "T"]) == 2
    assert "\n" not in capsys.readouterr().err.strip()


def test_field_scan_gives_delta_on_the_command_line(tmp_path, capsys):
    from landaulab.datasets import SECOND_ORDER

    from .test_field import PLANTED_FIELDS, planted_scan

    path = tmp_path / "scan.parquet"
    planted_scan(SECOND_ORDER, 0).to_parquet(path)
    out = tmp_path / "result.json"
    args = ["analyze", str(path), "--order-parameter", "m", "--control", "temperature"]
    args += ["--size", "N", "--abs", "--field", "h", "--bootstrap", "50", "--json", str(out)]
    assert main(args) == 0
    assert "δ = " in capsys.readouterr().out
    payload = json.loads(out.read_text())
    check_contract(payload)
    assert payload["exponents"]["delta"]["ci"][0] < 3.0 < payload["exponents"]["delta"]["ci"][1]
    assert payload["critical_isotherm"]["fields"] == pytest.approx(list(PLANTED_FIELDS))
