"""Every setting `landaulab tasks NAME` lists can be set from a spec and from --set."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landaulab.errors import SpecError
from landaulab.spec import parse_spec, plan_sweep
from landaulab.tasks import list_tasks
from landaulab.tasks.registry import SettingInfo, TaskInfo, toml_value

TASKS = list_tasks()
SETTINGS = [(task, s) for task in TASKS for s in task.settings()]


def _spec(task: TaskInfo, lines: list[str], table: str = "settings") -> str:
    return f'task = "{task.name}"\n[{table}]\n' + "\n".join(lines) + "\n"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-12)
    return bool(a == b)


def test_every_task_has_described_settings() -> None:
    assert SETTINGS
    for task, setting in SETTINGS:
        assert setting.type_text(), (task.name, setting.name)


@pytest.mark.parametrize(
    ("task", "setting"), SETTINGS, ids=[f"{t.name}.{s.name}" for t, s in SETTINGS]
)
def test_each_setting_takes_its_listed_default(task: TaskInfo, setting: SettingInfo) -> None:
    """The default as `tasks NAME` prints it, written in a spec, in --set and as a control."""
    written = f"{setting.name} = {setting.example()}"
    default = plan_sweep(parse_spec(_spec(task, [])))[0].params[setting.name]
    for text, overrides in (
        (_spec(task, [written]), []),
        (_spec(task, []), [f"settings.{setting.name}={setting.example()}"]),
        (_spec(task, [f"{setting.name} = [{setting.example()}]"], "controls"), []),
    ):
        params = plan_sweep(parse_spec(text, overrides=overrides))[0].params
        assert _same(params[setting.name], default), (text, overrides)


def _values(setting: SettingInfo, bounds: dict[str, float]) -> st.SearchStrategy[Any]:
    if setting.choices:
        return st.sampled_from(setting.choices)
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    if setting.kind == "integer":
        lo = int(low if low is not None else -5) + (1 if "gt" in bounds else 0)
        return st.integers(lo, max(lo, min(int(high) if high is not None else lo + 50, lo + 50)))
    if setting.kind == "number":
        lo = float(low) if low is not None else -10.0
        hi = float(high) if high is not None else lo + 10.0
        return st.floats(
            lo, hi, exclude_min="gt" in bounds, exclude_max="lt" in bounds, allow_nan=False
        )
    if setting.kind == "true or false":
        return st.booleans()
    if setting.kind == "list of numbers":
        return st.lists(st.floats(0.01, 0.99), min_size=1, max_size=6)
    if setting.kind == "list of lists of numbers":
        dim = st.shared(st.integers(1, 3), key="dim")
        return dim.flatmap(
            lambda d: st.lists(st.lists(st.floats(-5, 5), min_size=d, max_size=d), min_size=1)
        )
    return st.just(setting.default)


def _bounds(task: TaskInfo, name: str) -> dict[str, float]:
    assert task.parameters is not None
    out: dict[str, float] = {}
    for meta in task.parameters.model_fields[name].metadata:
        for attribute in ("gt", "ge", "lt", "le"):
            if getattr(meta, attribute, None) is not None:
                out[attribute] = getattr(meta, attribute)
    return out


@st.composite
def assignments(draw: st.DrawFn) -> tuple[TaskInfo, SettingInfo, Any]:
    task, setting = draw(st.sampled_from(SETTINGS))
    values = _values(setting, _bounds(task, setting.name))
    if setting.nullable:
        values = st.one_of(st.none(), values)
    return task, setting, draw(values)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=assignments(), use_set=st.booleans())
def test_any_allowed_value_of_any_setting_is_planned(
    case: tuple[TaskInfo, SettingInfo, Any], use_set: bool
) -> None:
    task, setting, value = case
    written = toml_value(value)
    if use_set:
        text, overrides = _spec(task, []), [f"settings.{setting.name}={written}"]
    else:
        text, overrides = _spec(task, [f"{setting.name} = {written}"]), []
    try:
        params = plan_sweep(parse_spec(text, overrides=overrides))[0].params
    except SpecError as exc:
        # only a rule tying several settings together may refuse an allowed value
        message = str(exc)
        assert "\n" not in message
        assert ": settings: " in message, message
        return
    expected = [list(v) for v in value] if setting.kind.startswith("list of lists") else value
    assert _same(params[setting.name], expected) or (value is None and params[setting.name] is None)


def test_none_unsets_a_setting_that_admits_it() -> None:
    spec = 'task = "evolution_strategies"\n[settings]\nsearch_width = "none"\n'
    assert plan_sweep(parse_spec(spec))[0].params["search_width"] is None
    spec = 'task = "deterministic_annealing"\n[settings]\ncenters = [[1.0, 2.0], [3.0, 4.0]]\n'
    assert plan_sweep(parse_spec(spec))[0].params["centers"] == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(SpecError, match=r"settings\.steps: expected an integer"):
        plan_sweep(parse_spec('task = "deep_linear"\n[settings]\nsteps = "none"\n'))


def test_tasks_lists_without_torch_and_shows_types(landaulab_cmd: list[str]) -> None:
    code = (
        "import sys; from landaulab.cli import main; main(['tasks']); "
        "print('torch' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr.strip() == "False"
    assert len(result.stdout.splitlines()) == len(TASKS)
    result = subprocess.run(
        [*landaulab_cmd, "tasks", "deterministic_annealing"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "centers = [[3.0, 1.0], [3.0, -1.0], [-3.0, 1.0], [-3.0, -1.0]]" in result.stdout
    assert "list of lists of numbers" in result.stdout
    assert 'temperature = "none"' in result.stdout and 'or "none" (unset)' in result.stdout
    assert 'one of "down", "up"' in result.stdout
