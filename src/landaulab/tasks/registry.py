"""The task registry: built-in problems by name, user functions by import path.

Every setting of a built-in task is described by :class:`SettingInfo` (its type, allowed
values, default and description), which ``landaulab tasks NAME`` prints and which the
spec's error messages quote. A setting whose type admits ``None`` takes the string
``"none"`` for it (TOML has no null): ``search_width = "none"``.
"""

from __future__ import annotations

import difflib
import importlib
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from landaulab.errors import TaskError
from landaulab.record.context import RunContext

if typing.TYPE_CHECKING:
    from pydantic_core import ErrorDetails

#: How a spec writes ``None`` for a setting whose type admits it.
NONE_SPELLING = "none"

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

    def settings(self) -> list[SettingInfo]:
        """Every setting of the task with its type, allowed values and default."""
        if self.parameters is None:
            return []
        return [setting_info(name, info) for name, info in self.parameters.model_fields.items()]

    def resolve(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Fill defaults and validate ``settings`` (without ``seed``).

        The string ``"none"`` stands for ``None`` in a setting whose type admits it.

        Raises
        ------
        SettingError
            Naming the first invalid or unknown setting, what is wrong and the fix.
        """
        if self.parameters is None:
            return dict(settings)
        fields = self.parameters.model_fields
        values = {
            key: None if key in fields and _means_none(value, fields[key]) else value
            for key, value in settings.items()
        }
        for key, value in values.items():
            if isinstance(value, bool) and key in fields:
                info = setting_info(key, fields[key])
                if info.kind in ("integer", "number"):
                    raise SettingError(
                        self.name,
                        key,
                        f"expected {with_article(info.type_text())}, got {toml_value(value)}",
                        f"give {with_article(info.type_text())}",
                    )
        try:
            model = self.parameters(**values)
        except ValidationError as exc:
            raise self._setting_error(exc.errors()[0], values) from None
        return model.model_dump(mode="json")

    def _setting_error(self, err: ErrorDetails, values: Mapping[str, Any]) -> SettingError:
        assert self.parameters is not None
        fields = self.parameters.model_fields
        loc = [p for p in err.get("loc", ()) if isinstance(p, int) or p in fields or not p]
        name = str(loc[0]) if loc and isinstance(loc[0], str) and loc[0] in fields else ""
        key = name + "".join(f"[{p}]" for p in loc[1:] if isinstance(p, int)) if name else ""
        if err.get("type") == "extra_forbidden":
            unknown = str(err.get("loc", ("?",))[0])
            close = difflib.get_close_matches(unknown, list(fields), n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else "known settings: " + ", ".join(fields)
            )
            return SettingError(
                self.name,
                unknown,
                f"task {self.name!r} has no such setting",
                f"remove it or fix its spelling ({hint}); `landaulab tasks {self.name}` "
                "lists the settings",
            )
        info = setting_info(name, fields[name]) if name else None
        element = None
        depth = sum(isinstance(p, int) for p in loc[1:])
        if name and depth:
            annotation = fields[name].annotation
            for _ in range(depth):
                annotation = _element_type(annotation)
            kind, _, choices = _describe_type(annotation)
            element = SettingInfo(name=key, kind=kind, choices=choices)
        problem, fix = explain_error(err, element or info)
        return SettingError(self.name, key, problem, fix)


class SettingError(TaskError):
    """A task setting is unknown or invalid.

    Attributes
    ----------
    task
        The task's name.
    key
        The setting, with list positions for a nested value (``centers[0][1]``); empty
        when the error concerns several settings together.
    problem, fix
        What is wrong, and how to fix it.
    """

    def __init__(self, task: str, key: str, problem: str, fix: str) -> None:
        where = f"task {task!r} setting {key!r}" if key else f"task {task!r} settings"
        super().__init__(f"{where}: {problem}; {fix}")
        self.task = task
        self.key = key
        self.problem = problem
        self.fix = fix

    @property
    def setting(self) -> str:
        """The setting's name (without list positions)."""
        return self.key.split("[", 1)[0]


@dataclass(frozen=True)
class SettingInfo:
    """One setting of a built-in task.

    Attributes
    ----------
    name
        The key in ``[settings]`` / ``[controls]``.
    kind
        Its type in words (``"integer"``, ``"number"``, ``"list of numbers"``).
    bounds
        The range it must lie in (``">= 1"``, ``"> 0, < 1"``), or empty.
    choices
        The allowed values of a setting with a fixed set of values, else empty.
    nullable
        Whether it may be unset: spelled ``"none"`` in a spec.
    default
        Its default value (JSON form; ``None`` for unset).
    description
        What it means (may be empty).
    """

    name: str
    kind: str
    bounds: str = ""
    choices: tuple[Any, ...] = ()
    nullable: bool = False
    default: Any = None
    description: str = ""

    def type_text(self) -> str:
        """Type and allowed values in one phrase: ``number > 0, or "none"``."""
        if self.choices:
            text = "one of " + ", ".join(toml_value(c) for c in self.choices)
        else:
            text = self.kind + (f" {self.bounds}" if self.bounds else "")
        if self.nullable:
            text += f', or "{NONE_SPELLING}" (unset)'
        return text

    def example(self) -> str:
        """The default written as a TOML value."""
        return toml_value(self.default)


def toml_value(value: Any) -> str:
    """``value`` written as TOML (``None`` as ``"none"``, tuples as arrays)."""
    if value is None:
        return f'"{NONE_SPELLING}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        escaped = "".join(
            "\\\\"
            if c == "\\"
            else '\\"'
            if c == '"'
            else f"\\u{ord(c):04x}"
            if ord(c) < 0x20 or ord(c) == 0x7F
            else c
            for c in value
        )
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    return repr(value)


_BOUND_WORDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _describe_type(annotation: Any) -> tuple[str, bool, tuple[Any, ...]]:
    """(kind in words, nullable, literal choices) of a type annotation."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        if len(args) == 1:
            kind, _, choices = _describe_type(args[0])
            return kind, nullable, choices
        kinds = [_describe_type(a)[0] for a in args]
        return " or ".join(kinds), nullable, ()
    if origin is Literal:
        return "one of", False, get_args(annotation)
    if origin in (tuple, list, typing.Sequence) or annotation in (tuple, list):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        inner = _describe_type(args[0])[0] if args else "value"
        return f"list of {_plural(inner)}", False, ()
    words = {bool: "true or false", int: "integer", float: "number", str: "string"}
    return words.get(annotation, getattr(annotation, "__name__", str(annotation))), False, ()


def _element_type(annotation: Any) -> Any:
    """The type of the items of a list-like annotation (``Any`` when unknown)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _element_type(args[0]) if len(args) == 1 else Any
    args = [a for a in get_args(annotation) if a is not Ellipsis]
    return args[0] if args else Any


def with_article(text: str) -> str:
    """``"integer >= 1"`` → ``"an integer >= 1"`` (phrases starting "one of" unchanged)."""
    if text.startswith(("one of", "true or false")):
        return text
    return ("an " if text[:1] in "aeiou" else "a ") + text


def _plural(kind: str) -> str:
    if kind.startswith("list of "):
        return "lists of " + kind.removeprefix("list of ")
    if kind == "true or false":
        return "booleans"
    return kind + "s"


def setting_info(name: str, info: FieldInfo) -> SettingInfo:
    """Describe one field of a task's parameter model."""
    kind, nullable, choices = _describe_type(info.annotation)
    bounds = []
    for meta in info.metadata:
        for attribute, word in _BOUND_WORDS.items():
            limit = getattr(meta, attribute, None)
            if limit is not None:
                bounds.append(f"{word} {limit}")
        min_length = getattr(meta, "min_length", None)
        if min_length:
            bounds.append(f"of at least {min_length} item{'s' if min_length != 1 else ''}")
    default = info.get_default(call_default_factory=True)
    if isinstance(default, tuple):
        default = _json_list(default)
    return SettingInfo(
        name=name,
        kind=kind,
        bounds=", ".join(bounds),
        choices=tuple(choices),
        nullable=nullable,
        default=default,
        description=info.description or "",
    )


def _json_list(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_json_list(v) for v in value]
    return value


def _means_none(value: Any, info: FieldInfo) -> bool:
    """Whether ``value`` is the spelling of None for a field that admits None."""
    if not (isinstance(value, str) and value.strip().lower() == NONE_SPELLING):
        return False
    _kind, nullable, choices = _describe_type(info.annotation)
    return nullable and value not in choices


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple | str | bool | int | float) or value is None:
        text = toml_value(value) if value is not None else "nothing"
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def explain_error(err: ErrorDetails, info: SettingInfo | None) -> tuple[str, str]:
    """(what is wrong, how to fix it) for one pydantic error of a setting."""
    kind = err.get("type", "")
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    got = _shown(err.get("input"))
    wanted = with_article(info.type_text()) if info is not None else "a valid value"
    give = f"give {wanted}"
    for attribute, word in _BOUND_WORDS.items():
        if attribute in ctx and kind.startswith(("greater", "less")):
            limit = ctx[attribute]
            return f"must be {word} {limit}, got {got}", f"use a value {word} {limit}"
    if kind == "literal_error":
        allowed = ", ".join(toml_value(c) for c in (info.choices if info else ())) or str(
            ctx.get("expected", "")
        )
        return f"{got} is not an allowed value", f"choose one of {allowed}"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return f"needs at least {least} item(s), got {ctx.get('actual_length', 0)}", give
    if kind == "too_long":
        most = ctx.get("max_length", 0)
        return f"takes at most {most} item(s), got {ctx.get('actual_length', '?')}", give
    if kind in ("finite_number",):
        return f"must be a finite number, got {got}", give
    if kind in ("value_error", "assertion_error"):
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        message = message.removeprefix("Assertion failed, ")
        if info is None:
            return message, "change the settings it names"
        return message, give
    if kind.endswith(("_type", "_parsing", "_from_float")) or kind in ("missing",):
        return f"expected {wanted}, got {got}", give
    message = str(err.get("msg", "invalid"))
    return f"{message[:1].lower()}{message[1:]} (got {got})", give


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
