"""analyze, dynamics and report never pool runs across other swept parameters silently.

One rule for the three: when a parameter other than the control (and size) varies within a
control group, the slice crossing the transition is analysed, as the report does, and a
note names the varying columns; ``--where`` (a DuckDB predicate on run parameters) chooses
the runs; a bad predicate is one line and exit status 2.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from landaulab.errors import DataError
from tests.cli.conftest import Runner, two_decays

Main = Callable[..., tuple[int, str, str]]

ANALYZE = ["--order-parameter", "m", "--control", "train_fraction", "--bootstrap", "20"]


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_analyze_slices_other_swept_parameters_and_says_so(cli: Runner, runs_csv: Path) -> None:
    done = cli("analyze", str(runs_csv), *ANALYZE)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "weight_decay (0.3, 1)" in notes[0], done.stderr
    assert "weight_decay = 1" in notes[0]
    assert "21 runs" in done.stdout  # one weight decay, not both pooled (42)


def test_where_chooses_the_runs(cli: Runner, runs_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    done = cli(
        "analyze", str(runs_csv), *ANALYZE, "--where", "weight_decay = 0.3", "--json", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "21 of 42 runs have weight_decay = 0.3" in done.stderr
    assert "21 runs" in done.stdout
    import json

    inputs = json.loads(out.read_text())["inputs"]
    assert inputs["where"] == "weight_decay = 0.3"


@pytest.mark.parametrize(
    ("command", "where", "needle"),
    [
        ("analyze", "no_such = 1", "no_such"),
        ("analyze", "weight_decay = 7", "no run has"),
        ("dynamics", "weight_decay ==== 1", "--where"),
        ("report", "nope > 1", "nope"),
    ],
)
def test_a_bad_predicate_is_one_line_and_status_2(
    run_main: Main, runs_csv: Path, tmp_path: Path, command: str, where: str, needle: str
) -> None:
    args = {
        "analyze": ANALYZE,
        "dynamics": ["--order-parameter", "m", "--bootstrap", "5"],
        "report": ["-o", str(tmp_path / "r.html")],
    }[command]
    status, _, stderr = run_main(command, str(runs_csv), *args, "--where", where)
    assert status == 2
    assert needle in _one_error_line(stderr)


def test_a_bad_predicate_in_a_subprocess(cli: Runner, runs_csv: Path) -> None:
    done = cli("analyze", str(runs_csv), *ANALYZE, "--where", "weight_decay =")
    assert done.returncode == 2
    assert "--where 'weight_decay ='" in _one_error_line(done.stderr)


def test_a_constant_control_is_refused(run_main: Main, runs_csv: Path) -> None:
    status, _, stderr = run_main(
        "analyze", str(runs_csv), "--order-parameter", "m", "--control", "weight_decay",
        "--where", "weight_decay = 1",
    )  # fmt: skip
    assert status == 2
    line = _one_error_line(stderr)
    assert "'weight_decay' takes one value" in line and "train_fraction" in line


def test_the_unknown_column_message_lists_every_column_closest_first(
    run_main: Main, tmp_path: Path
) -> None:
    frame = two_decays(n_seeds=1)
    for i in range(25):
        frame[f"setting_{i:02d}"] = 1.0
    frame = frame[[c for c in frame.columns if c not in ("m", "loss")] + ["m", "loss"]]
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    status, _, stderr = run_main(
        "analyze", str(path), "--order-parameter", "los", "--control", "train_fraction"
    )
    assert status == 2
    line = _one_error_line(stderr)
    listed = line.split("closest first: ", 1)[1]
    assert listed.startswith("loss")
    for column in frame.columns:
        assert column in listed


def test_the_python_face_takes_a_predicate_or_a_mapping() -> None:
    import landaulab as ll
    from landaulab.api import SliceWarning

    frame = two_decays(n_seeds=2)
    options = {"order_parameter": "m", "control": "train_fraction", "n_bootstrap": 10}
    with pytest.warns(SliceWarning, match="weight_decay = 1"):
        sliced = ll.analyze(frame, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_text = ll.analyze(frame, where="weight_decay = 1", **options)
        by_map = ll.analyze(frame, where={"weight_decay": 1.0}, **options)
    assert sliced.inputs["slice"] == {"weight_decay": 1.0}
    assert by_text.to_dict()["table"] == by_map.to_dict()["table"] == sliced.to_dict()["table"]
    with pytest.raises(DataError, match="--where"):
        ll.analyze(frame, where="weight_decay <", **options)


def test_report_and_analyze_use_the_same_runs() -> None:
    from landaulab.api import findings

    frame = two_decays(n_seeds=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = findings(
            frame, order_parameter="m", control="train_fraction",
            analysis_options={"n_bootstrap": 10}, dynamics_options={"n_bootstrap": 5},
        )  # fmt: skip
        import landaulab as ll

        alone = ll.analyze(frame, order_parameter="m", control="train_fraction", n_bootstrap=10)
    assert found.slice.fixed == alone.inputs["slice"] == {"weight_decay": 1.0}
    assert found.analysis is not None
    assert found.analysis.to_dict()["table"] == alone.to_dict()["table"]
    assert found.analysis.to_dict()["transition"] == alone.to_dict()["transition"]


def test_every_named_column_gets_the_full_message(run_main: Main, runs_csv: Path) -> None:
    status, _, stderr = run_main(
        "analyze", str(runs_csv), *ANALYZE, "--energy", "los"
    )  # fmt: skip
    assert status == 2
    line = _one_error_line(stderr)
    assert "closest first: loss" in line and "--energy" in line


def test_a_named_setting_is_sliced_and_a_size_follower_is_not() -> None:
    import landaulab as ll
    from landaulab.api import SliceWarning

    frame = two_decays(n_seeds=2)
    frame["optimizer"] = frame["weight_decay"].map({0.3: "sgd", 1.0: "adam"})
    frame = frame.drop(columns="weight_decay")
    options = {"order_parameter": "m", "control": "train_fraction", "n_bootstrap": 10}
    with pytest.warns(SliceWarning, match=r"optimizer \(adam, sgd\).*optimizer = adam"):
        result = ll.analyze(frame, **options)
    assert result.inputs["slice"] == {"optimizer": "adam"}

    sizes = two_decays(n_seeds=2).rename(columns={"weight_decay": "width"})
    sizes["volume"] = sizes["width"] * 100  # follows the size: separates no runs
    with warnings.catch_warnings():
        warnings.simplefilter("error", SliceWarning)
        result = ll.analyze(sizes, size="width", **options)
    assert "slice" not in result.inputs
