"""The example specs are the built-in ones, and they plan valid sweeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from landaulab.spec import load_spec, plan_sweep
from landaulab.specs import builtin_spec_names, builtin_spec_path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", builtin_spec_names())
def test_example_spec_matches_builtin_and_plans(name: str) -> None:
    assert (EXAMPLES / f"{name}.toml").read_text() == builtin_spec_path(name).read_text()
    runs = plan_sweep(load_spec(builtin_spec_path(name)))
    assert runs and len({r.run_id for r in runs}) == len(runs)


def test_grokking_spec_sweeps_weight_decay_and_data_with_two_seeds() -> None:
    spec = load_spec(builtin_spec_path("grokking"))
    assert set(spec.controls) == {"weight_decay", "train_fraction"}
    assert len(spec.seed_list()) >= 2
