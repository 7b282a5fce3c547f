"""Malformed specs of every shape: one line naming the source, the key, the problem, the fix."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landaulab.errors import SpecError
from landaulab.spec import parse_spec, plan_sweep
from landaulab.tasks.registry import toml_value

BASE: dict[str, Any] = {
    "task": "modular_arithmetic",
    "seeds": [0, 1],
    "settings": {"p": 7, "steps": 10},
    "controls": {
        "weight_decay": [0.0, 1.0],
        "lr": {"start": 1e-3, "stop": 1e-1, "num": 3, "scale": "log"},
    },
    "record": {"every": 5},
}
PYDANTIC_INTERNALS = ("union[", "list[", "function-", "Input should", "dict[", "literal[")
LINE = re.compile(r"^(?P<key>[\w.\[\]-]+): (?P<problem>.+); (?P<fix>.+)$")


def to_toml(data: dict[str, Any]) -> str:
    """A spec dict as TOML: scalars first, then one [table] per nested dict."""
    lines = [f"{k} = {toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"


def copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [copy(v) for v in data]
    return data


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


names = st.from_regex(r"[a-z][a-z_]{1,8}", fullmatch=True)
# text a task's numeric setting cannot read as a number (pydantic reads "7" as 7)
words = st.text(max_size=4).filter(lambda t: not _numeric(t))
not_a_number = st.one_of(words.filter(bool), st.booleans(), st.just([1, 2]))
not_an_int = st.one_of(not_a_number, st.floats(0.5, 9.5).filter(lambda x: x != int(x)))


@st.composite
def malformed(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A spec with one mistake, and the dotted key the message must name."""
    spec = copy(BASE)
    kind = draw(
        st.sampled_from(
            [
                "unknown_top",
                "unknown_setting",
                "unknown_range_key",
                "unknown_record_key",
                "setting_type",
                "setting_range",
                "setting_table",
                "range_num",
                "range_num_type",
                "range_missing",
                "range_bound_type",
                "range_equal",
                "range_log",
                "range_scale",
                "empty_seeds",
                "seed_type",
                "duplicate_seed",
                "empty_control",
                "control_scalar",
                "control_element",
                "empty_observables",
                "record_every",
                "record_schedule",
                "task_type",
                "nested_centers",
            ]
        )
    )
    if kind == "unknown_top":
        name = draw(names.filter(lambda n: n not in BASE and n not in ("name", "description")))
        spec[name] = 1
        return spec, name
    if kind == "unknown_setting":
        name = draw(names.filter(lambda n: n not in {"p", "lr", "steps", "width", "loss"}))
        spec["settings"][name + "_x"] = 3
        return spec, f"settings.{name}_x"
    if kind == "unknown_range_key":
        name = draw(names.filter(lambda n: n not in ("start", "stop", "num", "scale")))
        spec["controls"]["lr"][name] = 2
        return spec, f"controls.lr.{name}"
    if kind == "unknown_record_key":
        name = draw(names.filter(lambda n: n not in ("observables", "schedule", "every", "points")))
        spec["record"][name] = 2
        return spec, f"record.{name}"
    if kind == "setting_type":
        key = draw(st.sampled_from(["p", "width", "steps"]))
        spec["settings"][key] = draw(not_an_int)
        return spec, f"settings.{key}"
    if kind == "setting_range":
        key, value = draw(
            st.sampled_from([("p", 1), ("train_fraction", 1.5), ("momentum", -1.0), ("beta1", 1.0)])
        )
        spec["settings"][key] = value
        return spec, f"settings.{key}"
    if kind == "setting_table":
        spec["settings"]["p"] = {"value": 7}
        return spec, "settings.p"
    if kind == "range_num":
        spec["controls"]["lr"]["num"] = draw(st.integers(-5, 0))
        return spec, "controls.lr.num"
    if kind == "range_num_type":
        spec["controls"]["lr"]["num"] = draw(not_an_int)
        return spec, "controls.lr.num"
    if kind == "range_missing":
        key = draw(st.sampled_from(["start", "stop", "num"]))
        del spec["controls"]["lr"][key]
        return spec, f"controls.lr.{key}"
    if kind == "range_bound_type":
        key = draw(st.sampled_from(["start", "stop"]))
        spec["controls"]["lr"][key] = draw(st.one_of(st.text(max_size=3), st.booleans()))
        return spec, f"controls.lr.{key}"
    if kind == "range_equal":
        spec["controls"]["lr"].update(start=0.1, stop=0.1)
        return spec, "controls.lr"
    if kind == "range_log":
        spec["controls"]["lr"]["start"] = draw(st.floats(-5, 0))
        return spec, "controls.lr"
    if kind == "range_scale":
        spec["controls"]["lr"]["scale"] = draw(names.filter(lambda n: n not in ("linear", "log")))
        return spec, "controls.lr.scale"
    if kind == "empty_seeds":
        spec["seeds"] = []
        return spec, "seeds"
    if kind == "seed_type":
        spec["seeds"] = [0, draw(st.one_of(st.text(max_size=3), st.floats(0.5, 2.5)))]
        return spec, "seeds[1]"
    if kind == "duplicate_seed":
        spec["seeds"] = [3, 3]
        return spec, "seeds"
    if kind == "empty_control":
        spec["controls"]["weight_decay"] = []
        return spec, "controls.weight_decay"
    if kind == "control_scalar":
        spec["controls"]["weight_decay"] = draw(st.one_of(st.floats(0, 1), st.text(max_size=3)))
        return spec, "controls.weight_decay"
    if kind == "control_element":
        spec["controls"]["weight_decay"] = [0.0, draw(st.one_of(words, st.just(-1)))]
        return spec, "controls.weight_decay"
    if kind == "empty_observables":
        spec["record"]["observables"] = []
        return spec, "record.observables"
    if kind == "record_every":
        spec["record"]["every"] = draw(st.one_of(st.integers(-3, 0), not_an_int))
        return spec, "record.every"
    if kind == "record_schedule":
        spec["record"] = {"schedule": draw(names.filter(lambda n: n not in ("linear", "log")))}
        return spec, "record.schedule"
    if kind == "task_type":
        spec["task"] = draw(st.one_of(st.integers(), st.just(""), st.just([1])))
        return spec, "task"
    # a mistake deep in a nested list setting
    centers = [[3.0, 1.0], [-3.0, 1.0]]
    i, j = draw(st.integers(0, 1)), draw(st.integers(0, 1))
    centers[i][j] = draw(st.one_of(words, st.just([1.0])))  # type: ignore[call-overload]
    spec = {"task": "deterministic_annealing", "settings": {"centers": centers, "steps": 3}}
    return spec, f"settings.centers[{i}][{j}]"


def check_line(message: str, source: str, key: str) -> None:
    assert "\n" not in message, message
    for internal in PYDANTIC_INTERNALS:
        assert internal not in message, message
    assert message.startswith(f"{source}: "), message
    match = LINE.match(message.removeprefix(f"{source}: "))
    assert match, message
    assert match["key"] == key, message


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=malformed())
def test_every_malformed_spec_names_its_key_and_the_fix(case: tuple[dict[str, Any], str]) -> None:
    spec, key = case
    with pytest.raises(SpecError) as raised:
        plan_sweep(parse_spec(to_toml(spec), source="sweep.toml"))
    check_line(str(raised.value), "sweep.toml", key)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=malformed())
def test_the_same_mistake_given_with_set_names_the_override(
    case: tuple[dict[str, Any], str],
) -> None:
    spec, key = case
    top = key.split(".")[0].split("[")[0]
    if top not in spec or top == "task":
        return  # an unknown top-level key or a task given by --set: covered elsewhere
    base = copy(BASE) if spec.get("task") == BASE["task"] else {"task": spec["task"]}
    base.pop(top, None)
    override = f"{top}={toml_value(spec[top])}"
    with pytest.raises(SpecError) as raised:
        plan_sweep(parse_spec(to_toml(base), source="sweep.toml", overrides=[override]))
    check_line(str(raised.value), f"--set {override}", key)


def test_base_spec_is_valid() -> None:
    assert len(plan_sweep(parse_spec(to_toml(BASE)))) == 2 * 2 * 3


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("settings.steps=abc", "settings.steps"),
        ("controls.weight_decay=[0.1,-1]", "controls.weight_decay"),
        ("controls.lr.num=0", "controls.lr.num"),
        ("record.every=0", "record.every"),
        ("seeds=[1,1]", "seeds"),
    ],
)
def test_set_mistakes_name_the_override(override: str, key: str) -> None:
    with pytest.raises(SpecError) as raised:
        plan_sweep(parse_spec(to_toml(BASE), source="sweep.toml", overrides=[override]))
    check_line(str(raised.value), f"--set {override}", key)


def test_set_overrides_settings_and_controls() -> None:
    spec = parse_spec(
        to_toml(BASE),
        overrides=["settings.steps=500", "controls.weight_decay=[0.1,1]", "settings.lr=0.01"],
    )
    runs = plan_sweep(spec)
    assert {r.params["steps"] for r in runs} == {500}
    assert {r.params["weight_decay"] for r in runs} == {0.1, 1}
    assert {r.params["lr"] for r in runs} == {0.01}  # the swept lr became a fixed setting
    assert "lr" not in spec.controls
    plain = plan_sweep(parse_spec(to_toml(BASE)))
    same = plan_sweep(parse_spec(to_toml(BASE), overrides=["settings.p=7"]))
    assert [r.run_id for r in plain] == [r.run_id for r in same]


@pytest.mark.parametrize("bad", ["settings", "=3", "settings..x=1", "settings.steps=[1,"])
def test_malformed_set_is_one_line(bad: str) -> None:
    with pytest.raises(SpecError) as raised:
        parse_spec(to_toml(BASE), overrides=[bad])
    message = str(raised.value)
    assert message.startswith(f"--set {bad}: ") and "\n" not in message


def _cli(cmd: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120)


def test_cli_spec_mistakes_are_one_line_exit_2(tmp_path: Any, landaulab_cmd: list[str]) -> None:
    spec = copy(BASE)
    spec["controls"]["lr"] = {"start": 0.1, "stop": 1.0, "nm": 3}
    path = tmp_path / "typo.toml"
    path.write_text(to_toml(spec))
    store = tmp_path / "store"
    result = _cli(landaulab_cmd, "sweep", str(path), "--store", str(store), "--quiet")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {path}: controls.lr.nm: unknown key")
    assert "did you mean 'num'?" in result.stderr
    result = _cli(
        landaulab_cmd,
        "sweep",
        str(tmp_path / "typo.toml"),
        "--store",
        str(store),
        "--set",
        "controls.lr={start=0.1,stop=1,num=0}",
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "error: --set controls.lr={start=0.1,stop=1,num=0}: controls.lr.num: must be >= 1"
    )
    assert not store.exists()


def test_a_spec_built_in_python_is_checked_the_same_way() -> None:
    from landaulab.spec import Range, SweepSpec

    spec = SweepSpec(
        task="modular_arithmetic",
        seeds=(0, 1),
        settings={"p": 7, "steps": 5},
        controls={"lr": Range(start=0.1, stop=1, num=2), "weight_decay": (0.1, 0.2)},
    )
    assert len(plan_sweep(spec)) == 8
    with pytest.raises(SpecError, match=r"^controls\.lr\.num: must be >= 1, got 0; "):
        SweepSpec(task="modular_arithmetic", controls={"lr": {"start": 0.1, "stop": 1, "num": 0}})
