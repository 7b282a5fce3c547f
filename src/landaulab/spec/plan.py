"""From a sweep spec to the planned runs, each with a stable id."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from landaulab.errors import SpecError, TaskError
from landaulab.spec.schema import SweepSpec
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
    from landaulab.tasks.registry import get_task

    try:
        task = get_task(spec.task)
    except TaskError as exc:
        raise SpecError(f"key 'task': {exc}") from None
    grids = spec.control_values()
    names = list(grids)
    record = spec.record.model_dump(mode="json")
    if task.observables and spec.record.observables:
        unknown = sorted(set(spec.record.observables) - set(task.observables))
        if unknown:
            raise SpecError(
                f"key 'record.observables': task {task.name!r} does not record {unknown[0]!r}; "
                f"it records: {', '.join(task.observables)}"
            )
    runs: list[PlannedRun] = []
    for combination in itertools.product(*(grids[n] for n in names)):
        controls = dict(zip(names, combination, strict=True))
        try:
            resolved = task.resolve({**spec.settings, **controls})
        except TaskError as exc:
            table = "controls" if any(f"{n!r}" in str(exc) for n in names) else "settings"
            raise SpecError(f"[{table}] {exc}") from None
        steps = resolved.get(task.steps_key)
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
            raise SpecError(
                f"key 'settings.{task.steps_key}': the number of training steps must be a "
                "non-negative integer (user tasks must set it)"
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
