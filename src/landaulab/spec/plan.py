"""From a sweep spec to the planned runs, each with a stable id."""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass, field
from typing import Any

from landaulab.errors import TaskError
from landaulab.spec.schema import SpecKeyError, SweepSpec
from landaulab.store.run_ids import run_id_of


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep: its id, task, resolved parameters and recording plan."""

    run_id: str
    task: str
    params: dict[str, Any]
    record: dict[str, Any]
    total_steps: int
    controls: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (for the store's sweep plan)."""
        return {
            "run_id": self.run_id,
            "task": self.task,
            "params": self.params,
            "record": self.record,
            "total_steps": self.total_steps,
            "controls": self.controls,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlannedRun:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


def plan_sweep(spec: SweepSpec) -> list[PlannedRun]:
    """Expand the controls' grids × seeds into planned runs, validating every setting.

    Raises
    ------
    SpecError
        For an unknown task, an unknown or invalid setting or control, or a missing
        number of steps.
    """
    from landaulab.tasks.registry import SettingError, get_task, list_tasks

    try:
        task = get_task(spec.task)
    except TaskError as exc:
        if ":" in spec.task:
            error = SpecKeyError(
                "task",
                str(exc),
                "check the name and that the module is importable (on PYTHONPATH)",
            )
        else:
            names = [info.name for info in list_tasks()]
            close = difflib.get_close_matches(spec.task, names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            error = SpecKeyError(
                "task",
                f"no built-in task is called {spec.task!r}",
                f"{hint}choose one of {', '.join(names)} (see `landaulab tasks`), "
                "or give a user function as 'package.module:function'",
            )
        raise spec.key_error(error) from None
    grids = spec.control_values()
    names = list(grids)
    record = spec.record.model_dump(mode="json")
    if task.observables and spec.record.observables:
        for i, name in enumerate(spec.record.observables):
            if name not in task.observables:
                raise spec.key_error(
                    SpecKeyError(
                        f"record.observables[{i}]",
                        f"task {task.name!r} does not record {name!r}",
                        f"choose from: {', '.join(task.observables)}",
                    )
                )
    runs: list[PlannedRun] = []
    for combination in itertools.product(*(grids[n] for n in names)):
        controls = dict(zip(names, combination, strict=True))
        try:
            resolved = task.resolve({**spec.settings, **controls})
        except SettingError as exc:
            raise spec.key_error(_setting_key_error(exc, controls)) from None
        except TaskError as exc:
            raise spec.key_error(
                SpecKeyError("settings", str(exc), "change the settings it names")
            ) from None
        steps = resolved.get(task.steps_key)
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
            table = "controls" if task.steps_key in controls else "settings"
            raise spec.key_error(
                SpecKeyError(
                    f"{table}.{task.steps_key}",
                    f"the number of training steps must be a non-negative integer, got {steps!r}",
                    f"set it, e.g. {task.steps_key} = 1000 (user tasks must set it)",
                )
            )
        for seed in spec.seed_list():
            params = {**resolved, "seed": seed}
            runs.append(
                PlannedRun(
                    run_id=run_id_of(task.name, params, record),
                    task=task.name,
                    params=params,
                    record=record,
                    total_steps=steps,
                    controls=controls,
                )
            )
    return runs


def _setting_key_error(exc: Any, controls: dict[str, Any]) -> SpecKeyError:
    """A task's setting error as a spec key error (``settings.X`` or ``controls.X``)."""
    setting = exc.setting
    if not setting:
        swept = ", ".join(f"{k} = {v!r}" for k, v in controls.items())
        problem = exc.problem + (f" (with {swept})" if swept else "")
        return SpecKeyError("settings", problem, exc.fix)
    if setting in controls:
        return SpecKeyError(f"controls.{setting}", exc.problem, exc.fix)
    return SpecKeyError(f"settings.{exc.key}", exc.problem, exc.fix)
