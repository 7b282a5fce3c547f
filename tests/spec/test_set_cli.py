"""``landaulab sweep SPEC --set KEY=VALUE``: the overrides reach the planned runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from landaulab.cli import main
from landaulab.store import Store

SPEC = """
task = "deep_linear"
[settings]
steps = 3
width = 2
[controls]
weight_decay = [0.1]
[record]
every = 1
"""


def test_set_overrides_reach_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "dl.toml"
    spec.write_text(SPEC)
    store = tmp_path / "store"
    argv = ["sweep", str(spec), "--store", str(store), "--executor", "serial", "--quiet"]
    status = main([*argv, "--set", "settings.steps=2", "--set", "controls.weight_decay=[0.2,0.4]"])
    assert status == 0, capsys.readouterr().err
    records = Store(store).records()
    assert sorted(r.params["weight_decay"] for r in records) == [0.2, 0.4]
    assert {r.params["steps"] for r in records} == {2}
    capsys.readouterr()
    assert main([*argv, "--set", "settings.width=wide"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --set settings.width=wide: settings.width: expected an integer")
    assert len(Store(store).records()) == 2
