"""Sweep specs: valid specs plan stable runs; malformed ones give one line and exit 2."""

from __future__ import annotations

import hashlib
import subprocess
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landaulab.cli import main
from landaulab.errors import SpecError
from landaulab.spec import load_spec, parse_spec, plan_sweep
from landaulab.specs import builtin_spec_path
from landaulab.store.run_ids import run_id_of

GOOD = textwrap.dedent(
    """
    task = "modular_arithmetic"
    seeds = 2
    [settings]
    p = 7
    steps = 10
    [controls]
    weight_decay = [0.0, 1.0]
    lr = { start = 1e-3, stop = 1e-1, num = 3, scale = "log" }
    [record]
    every = 5
    """
)


def test_good_spec_plans_the_full_grid_with_stable_ids() -> None:
    spec = parse_spec(GOOD)
    runs = plan_sweep(spec)
    assert len(runs) == 2 * 3 * 2
    assert len({r.run_id for r in runs}) == len(runs)
    assert [r.run_id for r in plan_sweep(parse_spec(GOOD))] == [r.run_id for r in runs]
    lrs = sorted({r.params["lr"] for r in runs})
    assert lrs == pytest.approx([1e-3, 1e-2, 1e-1])
    # defaults are resolved into the parameters (and so into the id)
    assert all(r.params["width"] == 128 and r.params["p"] == 7 for r in runs)


def test_run_id_ignores_key_order() -> None:
    swapped = GOOD.replace("[settings]\np = 7\nsteps = 10", "[settings]\nsteps = 10\np = 7")
    assert swapped != GOOD
    a, b = parse_spec(GOOD), parse_spec(swapped)
    assert [r.run_id for r in plan_sweep(a)] == [r.run_id for r in plan_sweep(b)]


MA = 'task = "modular_arithmetic"\n'
BAD_SPECS = {
    "unparsable": MA + "[settings\np = 7",
    "unknown_top_key": MA + 'colour = "red"',
    "missing_task": "seeds = [0]",
    "empty_task": 'task = ""',
    "unknown_task": 'task = "no_such_task"',
    "bad_import_task": 'task = "no_such_module_xyz:train"',
    "unknown_setting": MA + "[settings]\nwidht = 3",
    "wrong_type_setting": MA + '[settings]\np = "seven"',
    "out_of_range_setting": MA + "[settings]\ntrain_fraction = 1.5",
    "empty_list_control": MA + "[controls]\nlr = []",
    "empty_range": MA + "[controls]\nlr = {start = 0.1, stop = 0.1, num = 3}",
    "zero_num_range": MA + "[controls]\nlr = {start = 0.1, stop = 1, num = 0}",
    "log_range_nonpositive": (
        MA + '[controls]\nlr = {start = 0, stop = 1, num = 3, scale = "log"}'
    ),
    "unknown_range_key": (MA + "[controls]\nlr = {start = 0.1, stop = 1, num = 3, step = 2}"),
    "unknown_control": MA + "[controls]\nlearning_rate = [0.1]",
    "setting_and_control": (MA + "[settings]\nlr = 0.1\n[controls]\nlr = [0.1, 0.2]"),
    "seed_as_setting": MA + "[settings]\nseed = 3",
    "empty_seeds": MA + "seeds = []",
    "negative_seed_count": MA + "seeds = -1",
    "duplicate_seeds": MA + "seeds = [1, 1]",
    "bad_every": MA + "[record]\nevery = 0",
    "unknown_observable": MA + '[record]\nobservables = ["magnetisation"]',
    "points_with_linear": MA + "[record]\npoints = 10",
    "bad_schedule": MA + '[record]\nschedule = "cubic"',
    "nan_control": MA + "[controls]\nlr = [nan]",
    "division_needs_prime": MA + '[settings]\np = 8\noperation = "/"',
}


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("name", sorted(BAD_SPECS))
def test_bad_spec_is_one_line_exit_2_and_store_unchanged(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / f"{name}.toml"
    spec.write_text(BAD_SPECS[name])
    store = tmp_path / "store"
    store.mkdir()
    (store / "keep.txt").write_text("precious")
    before = _snapshot(store)
    status = main(["sweep", str(spec), "--store", str(store), "--quiet", "--executor", "serial"])
    captured = capsys.readouterr()
    assert status == 2
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in captured.err + captured.out
    assert _snapshot(store) == before


def test_bad_spec_messages_name_the_key() -> None:
    with pytest.raises(SpecError, match="widht"):
        plan_sweep(parse_spec(BAD_SPECS["unknown_setting"]))
    with pytest.raises(SpecError, match="colour"):
        parse_spec(BAD_SPECS["unknown_top_key"])
    with pytest.raises(SpecError, match="lr"):
        parse_spec(BAD_SPECS["empty_list_control"])


def test_missing_spec_file_in_a_real_process(tmp_path: Path, landaulab_cmd: list[str]) -> None:
    result = subprocess.run(
        [*landaulab_cmd, "sweep", str(tmp_path / "nope.toml"), "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no such spec file" in result.stderr
    assert not (tmp_path / "s").exists()


def test_spec_name_defaults_to_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "my_sweep.toml"
    path.write_text(GOOD)
    assert load_spec(path).name == "my_sweep"


toml_values = st.recursive(
    st.one_of(
        st.integers(-5, 5),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=5),
        st.booleans(),
    ),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=5,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    top=st.dictionaries(
        st.sampled_from(["task", "seeds", "name", "bogus", "description"]), toml_values, max_size=4
    ),
    controls=st.dictionaries(
        st.sampled_from(["lr", "weight_decay", "p", "steps", "nope"]), toml_values, max_size=3
    ),
)
def test_hostile_specs_raise_only_spec_errors(top: dict, controls: dict) -> None:
    lines = []
    for key, value in top.items():
        lines.append(f"{key} = {_toml(value)}")
    lines.append("[controls]")
    for key, value in controls.items():
        lines.append(f"{key} = {_toml(value)}")
    text = "\n".join(lines)
    try:
        plan_sweep(parse_spec(text))
    except SpecError as exc:
        assert "\n" not in str(exc)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return "[" + ", ".join(_toml(v) for v in value) + "]"  # type: ignore[union-attr]


# the ids the built-in specs plan: a digest of each spec's ids in planning order. A change
# here renames every stored run of that spec, so that resuming a sweep retrains it all.
BUILTIN_IDS = {
    "grokking": (70, "0e2611cb6e91c2e6", "7e0fde05392f7bc2"),
    "grokking_quick": (9, "f25328b142193e2f", "e93694ff399a9205"),
    "quick": (4, "aa5eccb46d86095c", "e543bb6adb1d2e3e"),
}


@pytest.mark.parametrize("name", sorted(BUILTIN_IDS))
def test_builtin_specs_plan_the_same_run_ids(name: str) -> None:
    ids = [run.run_id for run in plan_sweep(load_spec(builtin_spec_path(name)))]
    digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:16]
    assert (len(ids), ids[0], digest) == BUILTIN_IDS[name]
    run = plan_sweep(load_spec(builtin_spec_path(name)))[0]
    assert run_id_of(run.task, run.params, run.record) == run.run_id
