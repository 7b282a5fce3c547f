"""The task registry: built-in problems by name, user functions by import path."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from landaulab.errors import TaskError
from landaulab.record.context import RunContext

TaskFunction = Callable[[RunContext], None]


class TaskParameters(BaseModel):
    """Base of every built-in task's parameter model: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class TaskInfo:
    """A registered task.

    Attributes
    ----------
    name
        The name used in sweep specs (``task = "modular_arithmetic"``).
    function
        ``function(ctx)`` trains one run.
    parameters
        Pydantic model of the task's settings with defaults (``None`` for user tasks:
        their settings are passed through unchecked).
    observables
        Observables the task can record (empty when unknown).
    summary
        One line for ``landaulab tasks``.
    steps_key
        The setting that holds the number of training steps (sizes the schedule).
    batched
        Optional ``batched(ctxs)`` training several members at once; the members differ
        only in the settings named by ``batch_keys``.
    batch_keys
        Settings that may differ between members of one batch.
    prefers_batching
        Whether batching pays for this task on the current hardware by default (the
        executor's ``batching="auto"`` follows it).
    extra
        Free-form task metadata (e.g. known answers).
    """

    name: str
    function: TaskFunction
    parameters: type[TaskParameters] | None = None
    observables: tuple[str, ...] = ()
    summary: str = ""
    steps_key: str = "steps"
    batched: Callable[[list[RunContext]], None] | None = None
    batch_keys: tuple[str, ...] = ("seed",)
    prefers_batching: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def resolve(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Fill defaults and validate ``settings`` (without ``seed``).

        Raises
        ------
        TaskError
            Naming the first invalid or unknown setting.
        """
        if self.parameters is None:
            return dict(settings)
        try:
            model = self.parameters(**settings)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err.get("loc", ())) or "?"
            if err.get("type") == "extra_forbidden":
                known = ", ".join(sorted(self.parameters.model_fields))
                raise TaskError(
                    f"task {self.name!r} has no setting {key!r}; known settings: {known}"
                ) from None
            raise TaskError(
                f"task {self.name!r} setting {key!r}: {err.get('msg', 'invalid')}"
            ) from None
        return model.model_dump(mode="json")


_REGISTRY: dict[str, TaskInfo] = {}


def register_task(
    name: str,
    parameters: type[TaskParameters] | None = None,
    observables: tuple[str, ...] = (),
    summary: str = "",
    steps_key: str = "steps",
    batched: Callable[[list[RunContext]], None] | None = None,
    batch_keys: tuple[str, ...] = ("seed",),
    prefers_batching: bool = False,
    extra: dict[str, Any] | None = None,
) -> Callable[[TaskFunction], TaskFunction]:
    """Decorator registering a built-in task under ``name``."""

    def decorate(function: TaskFunction) -> TaskFunction:
        _REGISTRY[name] = TaskInfo(
            name=name,
            function=function,
            parameters=parameters,
            observables=observables,
            summary=summary or (function.__doc__ or "").strip().splitlines()[0],
            steps_key=steps_key,
            batched=batched,
            batch_keys=batch_keys,
            prefers_batching=prefers_batching,
            extra=dict(extra or {}),
        )
        return function

    return decorate


def _load_builtins() -> None:
    importlib.import_module("landaulab.tasks")


def get_task(name: str) -> TaskInfo:
    """Look up a built-in task, or import ``package.module:function``.

    Raises
    ------
    TaskError
        If the name is unknown or the import fails.
    """
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise TaskError(
                f"task {name!r}: cannot import module {module_name!r} ({exc})"
            ) from None
        function = getattr(module, attr, None)
        if not callable(function):
            raise TaskError(f"task {name!r}: module {module_name!r} has no function {attr!r}")
        return TaskInfo(name=name, function=function, summary="user task")
    _load_builtins()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise TaskError(
            f"unknown task {name!r}; built-in tasks: {known}; "
            "or give a user function as 'package.module:function'"
        )
    return _REGISTRY[name]


def list_tasks() -> list[TaskInfo]:
    """All built-in tasks, sorted by name."""
    _load_builtins()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]
