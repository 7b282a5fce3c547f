"""The sweep specification: a TOML file validated with pydantic.

Example::

    task = "modular_arithmetic"          # a built-in name, or "package.module:function"
    seeds = [0, 1]                       # a list, or a count: seeds = 3 -> 0, 1, 2

    [settings]                           # fixed task settings
    p = 23
    steps = 3000

    [controls]                           # swept: every combination is one run per seed
    weight_decay = [0.0, 1.0]
    train_fraction = { start = 0.3, stop = 0.6, num = 4 }
    lr = { start = 1e-4, stop = 1e-2, num = 3, scale = "log" }

    [record]
    observables = ["train_accuracy", "test_accuracy"]   # default: all the task offers
    every = 50                           # or: schedule = "log", points = 60

A setting whose type admits ``None`` is unset with the string ``"none"``
(``search_width = "none"``); list-valued settings are TOML arrays
(``centers = [[3.0, 1.0], [-3.0, 1.0]]``). Every mistake is reported as one line,
``<source>: <dotted key>: <what is wrong>; <how to fix it>``, where the source is the file
or the ``--set KEY=VALUE`` override that holds the key.
"""

from __future__ import annotations

import datetime
import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from landaulab.errors import SpecError

Scalar = bool | int | float | str

TOP_KEYS = ("name", "description", "task", "seeds", "settings", "controls", "record")
RANGE_KEYS = ("start", "stop", "num", "scale")
RECORD_KEYS = ("observables", "schedule", "every", "points")


class SpecKeyError(SpecError):
    """A spec mistake at one key: ``<key>: <problem>; <fix>``.

    Attributes
    ----------
    key
        The dotted key (``controls.lr.num``, ``settings.centers[0][1]``).
    problem, fix
        What is wrong, and how to fix it.
    """

    def __init__(self, key: str, problem: str, fix: str) -> None:
        super().__init__(f"{key}: {problem}; {fix}")
        self.key = key
        self.problem = problem
        self.fix = fix


def _shown(value: Any) -> str:
    from landaulab.tasks.registry import toml_value

    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    text = toml_value(value) if value is not None else "nothing"
    return text if len(text) <= 40 else text[:37] + "..."


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime.date | datetime.time):
        return "a date/time"
    return type(value).__name__


def _unknown(key: str, name: str, known: Sequence[str], where: str) -> SpecKeyError:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else "known keys: " + ", ".join(known)
    return SpecKeyError(key, f"unknown key in {where}", f"remove it or fix its spelling ({hint})")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_value(key: str, value: Any, example: str) -> None:
    """A setting or control value: a TOML scalar or a (nested) list of them."""
    if isinstance(value, dict):
        raise SpecKeyError(
            key, "a table is not a value here", f"write the value itself, e.g. {example}"
        )
    if isinstance(value, datetime.date | datetime.time):
        raise SpecKeyError(
            key, f"dates and times are not values here (got {_shown(value)})", "quote it"
        )
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(f"{key}[{i}]", item, example)


def _check_top(data: Mapping[str, Any]) -> None:
    for name in data:
        if name not in TOP_KEYS:
            raise _unknown(name, name, TOP_KEYS, "a sweep spec")
    for name in ("name", "description"):
        if name in data and not isinstance(data[name], str):
            raise SpecKeyError(
                name, f"expected a string, got {_shown(data[name])}", f'write {name} = "text"'
            )
    if "task" not in data:
        raise SpecKeyError(
            "task",
            "missing",
            'add task = "NAME" (a built-in task, see `landaulab tasks`, or '
            '"package.module:function")',
        )
    task = data["task"]
    if not isinstance(task, str) or not task.strip():
        raise SpecKeyError(
            "task",
            f"expected the name of a task, got {_shown(task)}",
            'write task = "NAME" (a built-in task, see `landaulab tasks`, or '
            '"package.module:function")',
        )
    _check_seeds(data.get("seeds", [0]))
    for table in ("settings", "controls", "record"):
        if table in data and not isinstance(data[table], dict):
            raise SpecKeyError(
                table,
                f"expected a table, got {_type_name(data[table])}",
                f"write it as a [{table}] table of keys",
            )
    for name, value in data.get("settings", {}).items():
        _check_value(f"settings.{name}", value, f"{name} = 0.1")
    for name, value in data.get("controls", {}).items():
        _check_control(name, value)
    _check_record(data.get("record", {}))
    settings, controls = data.get("settings", {}), data.get("controls", {})
    for name in controls:
        if name in settings:
            raise SpecKeyError(
                f"controls.{name}",
                f"{name!r} is both a setting and a control",
                f"keep it in one table: remove settings.{name} to sweep it, or "
                f"controls.{name} to fix it",
            )
    for table, values in (("settings", settings), ("controls", controls)):
        if "seed" in values:
            raise SpecKeyError(
                f"{table}.seed",
                "the seed is not a setting",
                "remove it and list the seeds with the top-level key, e.g. seeds = [0, 1]",
            )


def _check_seeds(seeds: Any) -> None:
    fix = "write seeds = [0, 1, 2] (the seeds) or seeds = 3 (a count: 0, 1, 2)"
    if _is_int(seeds):
        if seeds < 1:
            raise SpecKeyError("seeds", f"a seed count must be >= 1, got {seeds}", fix)
        return
    if not isinstance(seeds, list):
        raise SpecKeyError(
            "seeds", f"expected a list of integers or a count, got {_shown(seeds)}", fix
        )
    if not seeds:
        raise SpecKeyError("seeds", "the list is empty", fix)
    for i, seed in enumerate(seeds):
        if not _is_int(seed):
            raise SpecKeyError(f"seeds[{i}]", f"expected an integer, got {_shown(seed)}", fix)
    repeated = [s for i, s in enumerate(seeds) if s in seeds[:i]]
    if repeated:
        raise SpecKeyError("seeds", f"seed {repeated[0]} is listed twice", "list each seed once")


def _check_control(name: str, value: Any) -> None:
    key = f"controls.{name}"
    fix = (
        f"write {name} = [0.1, 1.0] (the values) or "
        f"{name} = {{ start = 0.1, stop = 1.0, num = 5 }} (a range)"
    )
    if isinstance(value, dict):
        _check_range(key, value)
        return
    if not isinstance(value, list):
        raise SpecKeyError(key, f"expected a list of values or a range, got {_shown(value)}", fix)
    if not value:
        raise SpecKeyError(key, "the list of values is empty", fix)
    _check_value(key, value, f"{name} = [0.1, 1.0]")
    seen: list[str] = []
    for i, item in enumerate(value):
        if isinstance(item, float) and not math.isfinite(item):
            raise SpecKeyError(
                f"{key}[{i}]", f"{_shown(item)} is not a finite number", "give finite values"
            )
        text = repr(item)
        if text in seen:
            raise SpecKeyError(
                f"{key}[{i}]", f"the value {_shown(item)} is listed twice", "list each value once"
            )
        seen.append(text)


def _check_range(key: str, value: Mapping[str, Any]) -> None:
    example = '{ start = 0.1, stop = 1.0, num = 5 } (add scale = "log" for log spacing)'
    for name in value:
        if name not in RANGE_KEYS:
            raise _unknown(f"{key}.{name}", name, RANGE_KEYS, "a range")
    for name in ("start", "stop", "num"):
        if name not in value:
            raise SpecKeyError(f"{key}.{name}", "missing from the range", f"write {example}")
    for name in ("start", "stop"):
        bound = value[name]
        if not _is_number(bound):
            raise SpecKeyError(
                f"{key}.{name}", f"expected a number, got {_shown(bound)}", f"write {example}"
            )
        if not math.isfinite(bound):
            raise SpecKeyError(
                f"{key}.{name}", f"{_shown(bound)} is not a finite number", "give a finite number"
            )
    num = value["num"]
    if not _is_int(num):
        raise SpecKeyError(
            f"{key}.num",
            f"expected a whole number of values, got {_shown(num)}",
            "give an integer >= 1, e.g. num = 5",
        )
    if num < 1:
        raise SpecKeyError(
            f"{key}.num", f"must be >= 1, got {num}", "give the number of values, e.g. num = 5"
        )
    scale = value.get("scale", "linear")
    if scale not in ("linear", "log"):
        raise SpecKeyError(
            f"{key}.scale", f"{_shown(scale)} is not a scale", 'choose "linear" or "log"'
        )
    if scale == "log" and (value["start"] <= 0 or value["stop"] <= 0):
        raise SpecKeyError(
            key,
            "a log range needs start > 0 and stop > 0",
            'make both positive, or use scale = "linear"',
        )
    if num > 1 and value["start"] == value["stop"]:
        raise SpecKeyError(
            key, "start equals stop, so the range is one value", "use a list of one value"
        )


def _check_record(record: Mapping[str, Any]) -> None:
    for name in record:
        if name not in RECORD_KEYS:
            raise _unknown(f"record.{name}", name, RECORD_KEYS, "[record]")
    if "observables" in record:
        observables = record["observables"]
        fix = 'write observables = ["train_loss", "test_accuracy"], or omit it to record all'
        if not isinstance(observables, list):
            raise SpecKeyError(
                "record.observables",
                f"expected a list of names, got {_shown(observables)}",
                fix,
            )
        if not observables:
            raise SpecKeyError("record.observables", "the list is empty", fix)
        for i, name in enumerate(observables):
            if not isinstance(name, str) or not name:
                raise SpecKeyError(
                    f"record.observables[{i}]", f"expected a name, got {_shown(name)}", fix
                )
    schedule = record.get("schedule", "linear")
    if schedule not in ("linear", "log"):
        raise SpecKeyError(
            "record.schedule", f"{_shown(schedule)} is not a schedule", 'choose "linear" or "log"'
        )
    for name, example in (("every", "every = 50"), ("points", "points = 60")):
        if name not in record:
            continue
        value = record[name]
        if not _is_int(value):
            raise SpecKeyError(
                f"record.{name}", f"expected an integer, got {_shown(value)}", f"write {example}"
            )
        if value < 1:
            raise SpecKeyError(
                f"record.{name}", f"must be >= 1, got {value}", f"write e.g. {example}"
            )
    if schedule == "linear" and "points" in record:
        raise SpecKeyError(
            "record.points",
            'belongs to schedule = "log"',
            'use every = N for the linear schedule, or add schedule = "log"',
        )
    if schedule == "log" and "every" in record:
        raise SpecKeyError(
            "record.every",
            'belongs to schedule = "linear"',
            'use points = N for the log schedule, or remove schedule = "log"',
        )


class Range(BaseModel):
    """``num`` values from ``start`` to ``stop`` inclusive, linear or log-spaced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: float
    stop: float
    num: int = Field(ge=1)
    scale: Literal["linear", "log"] = "linear"

    @model_validator(mode="after")
    def _check(self) -> Range:
        if not (math.isfinite(self.start) and math.isfinite(self.stop)):
            raise ValueError("start and stop must be finite numbers")
        if self.scale == "log" and (self.start <= 0 or self.stop <= 0):
            raise ValueError("a log range needs start > 0 and stop > 0")
        if self.num > 1 and self.start == self.stop:
            raise ValueError("start equals stop: the range is empty; use a list of one value")
        return self

    def values(self) -> list[float]:
        """The grid of the range, rounded to 12 significant digits."""
        if self.scale == "log":
            grid = np.geomspace(self.start, self.stop, self.num)
        else:
            grid = np.linspace(self.start, self.stop, self.num)
        return [float(f"{v:.12g}") for v in grid]


class RecordSpec(BaseModel):
    """Which observables to record, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    observables: list[str] | None = None
    schedule: Literal["linear", "log"] = "linear"
    every: int | None = Field(default=None, ge=1)
    points: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> RecordSpec:
        if self.schedule == "linear" and self.points is not None:
            raise ValueError("'points' belongs to schedule = \"log\"; use 'every' for linear")
        if self.schedule == "log" and self.every is not None:
            raise ValueError("'every' belongs to schedule = \"linear\"; use 'points' for log")
        if self.observables is not None and not self.observables:
            raise ValueError("observables is empty; omit it to record everything")
        return self

    def schedule_kwargs(self) -> dict[str, int]:
        """Keyword arguments for :class:`~landaulab.record.schedule.Schedule`."""
        if self.schedule == "log":
            return {"points": self.points or 60}
        return {"every": self.every or 10}


class SweepSpec(BaseModel):
    """A whole sweep: task, fixed settings, swept controls, seeds, recording.

    Settings and control values are TOML values: scalars or (nested) lists of them;
    the task checks them when the sweep is planned.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "sweep"
    description: str = ""
    task: str
    seeds: list[int] | int = Field(default_factory=lambda: [0])
    settings: dict[str, Any] = Field(default_factory=dict)
    controls: dict[str, list[Any] | Range] = Field(default_factory=dict)
    record: RecordSpec = Field(default_factory=lambda: RecordSpec())

    _source: str = PrivateAttr(default="<spec>")
    _overrides: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _check_raw(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            raw = {
                k: v.model_dump(exclude_unset=True) if isinstance(v, BaseModel) else v
                for k, v in data.items()
            }
            if isinstance(raw.get("controls"), Mapping):
                raw["controls"] = {
                    k: v.model_dump(exclude_unset=True) if isinstance(v, BaseModel) else v
                    for k, v in raw["controls"].items()
                }
            _check_top(_plain(raw))
        return data

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: list[int] | int) -> list[int] | int:
        if isinstance(value, int):
            if value < 1:
                raise ValueError("a seed count must be >= 1")
        elif not value:
            raise ValueError("seeds is empty; give at least one seed")
        elif len(set(value)) != len(value):
            raise ValueError("seeds has duplicates")
        return value

    def seed_list(self) -> list[int]:
        """The seeds as a list."""
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)

    def control_values(self) -> dict[str, list[Any]]:
        """Each control's grid of values."""
        grids: dict[str, list[Any]] = {}
        for name, grid in self.controls.items():
            grids[name] = list(grid.values()) if isinstance(grid, Range) else list(grid)
        return grids

    @property
    def source(self) -> str:
        """Where the spec came from (its file, or ``<spec>``), for messages."""
        return self._source

    @property
    def overrides(self) -> dict[str, str]:
        """The ``--set`` overrides applied to the spec: dotted key → ``KEY=VALUE`` text."""
        return dict(self._overrides)

    def source_of(self, key: str) -> str:
        """Where ``key`` (dotted) was given: the ``--set KEY=VALUE`` naming it, or the file."""
        for override, text in self._overrides.items():
            if _related(key, override):
                return f"--set {text}"
        return self._source

    def key_error(self, error: SpecKeyError) -> SpecError:
        """``error`` prefixed with the source of its key (one line)."""
        return SpecError(f"{self.source_of(error.key)}: {error}")


def _plain(value: Any) -> Any:
    """Tuples and ranges as lists, recursively (specs built in Python may use them)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | range):
        return [_plain(v) for v in value]
    return value


def _related(key: str, override: str) -> bool:
    """Whether a mistake at ``key`` lies in (or contains) what ``override`` set."""
    for a, b in ((key, override), (override, key)):
        if a == b or a.startswith((b + ".", b + "[")):
            return True
    return False


def _first_error_key(exc: ValidationError, data: Any) -> tuple[str, str]:
    """The dotted key (the part of its location found in ``data``) and message of the
    first error; pydantic's names of union members and validators are left out."""
    err = exc.errors()[0]
    parts: list[str] = []
    node = data
    for part in err.get("loc", ()):
        if isinstance(node, Mapping) and isinstance(part, str) and part in node:
            parts.append(("." if parts else "") + part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            parts.append(f"[{part}]")
            node = node[part]
        elif isinstance(part, str) and err.get("type") in ("extra_forbidden", "missing"):
            parts.append(("." if parts else "") + part)
            break
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return "".join(parts) or "spec", message


def _validate(data: dict[str, Any], source: str, overrides: Mapping[str, str]) -> SweepSpec:
    try:
        spec = SweepSpec(**data)
    except SpecKeyError as exc:
        raise _with_source(exc, source, overrides) from None
    except ValidationError as exc:
        key, message = _first_error_key(exc, data)
        error = SpecKeyError(key, message[:1].lower() + message[1:], "correct this value")
        raise _with_source(error, source, overrides) from None
    spec._source = source
    spec._overrides = dict(overrides)
    return spec


def _with_source(error: SpecKeyError, source: str, overrides: Mapping[str, str]) -> SpecError:
    for override, text in overrides.items():
        if _related(error.key, override):
            return SpecError(f"--set {text}: {error}")
    return SpecError(f"{source}: {error}")


# ------------------------------------------------------------------ --set overrides
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BARE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/+-]*")


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"settings.steps=500"`` → ``(["settings", "steps"], 500)``.

    The value is read as a TOML value (``0.1``, ``true``, ``[0.1, 1]``, ``"text"``,
    ``{ start = 0.1, stop = 1, num = 5 }``); a bare word that is not one
    (``modular_arithmetic``, ``none``) is a string.

    Raises
    ------
    SpecError
        For a missing ``=``, a malformed key, or a value that is not TOML.
    """
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key:
        raise SpecError(
            f"--set {text}: expected KEY=VALUE with a dotted key; "
            "write e.g. --set settings.steps=500 or --set controls.lr=[0.01,0.1]"
        )
    parts = key.split(".")
    if not all(_BARE_KEY.fullmatch(p) for p in parts):
        raise SpecError(
            f"--set {text}: {key!r} is not a dotted key; "
            "write TABLE.NAME with letters, digits, '_' or '-', e.g. settings.steps"
        )
    try:
        parsed = tomllib.loads(f"value = {value}")["value"]
    except tomllib.TOMLDecodeError:
        if not _BARE_WORD.fullmatch(value):
            raise SpecError(
                f"--set {text}: {key}: {value!r} is not a TOML value; write a number (0.1), "
                'a list ([0.1, 1]), true/false, or a quoted string ("text")'
            ) from None
        parsed = value
    return parts, parsed


def apply_overrides(
    data: dict[str, Any], overrides: Iterable[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``data`` with each ``KEY=VALUE`` override set (later ones win).

    Setting ``settings.NAME`` takes ``NAME`` out of ``[controls]`` and vice versa, so an
    override can fix a swept control or sweep a fixed setting.

    Returns
    -------
    The new data and, for messages, each overridden dotted key → its ``KEY=VALUE`` text.
    """
    out = _deep_copy(data)
    applied: dict[str, str] = {}
    for text in overrides:
        parts, value = parse_override(text)
        node = out
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                raise SpecError(
                    f"--set {text}: {where}: is {_type_name(child)}, not a table; "
                    f"set {where} itself, e.g. --set {where}=..."
                )
            node = child
        node[parts[-1]] = value
        if len(parts) == 2 and parts[0] in ("settings", "controls"):
            other = "controls" if parts[0] == "settings" else "settings"
            table = out.get(other)
            if isinstance(table, dict) and parts[1] in table:
                if f"{other}.{parts[1]}" not in applied:
                    del table[parts[1]]
        applied[".".join(parts)] = text.strip()
    return out, applied


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


# ------------------------------------------------------------------------ reading
def parse_spec(text: str, source: str = "<spec>", overrides: Iterable[str] = ()) -> SweepSpec:
    """Parse and validate a sweep spec from TOML text, with optional ``--set`` overrides.

    Raises
    ------
    SpecError
        One line: the source (file or ``--set KEY=VALUE``), the dotted key, what is
        wrong and the fix.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(
            f"{source}: not valid TOML ({exc}); fix the syntax there "
            "(strings need quotes, tables [brackets])"
        ) from None
    data, applied = apply_overrides(data, overrides)
    return _validate(data, source, applied)


def load_spec(path: str | Path, overrides: Iterable[str] = ()) -> SweepSpec:
    """Read and validate a sweep spec file (the file stem is the default name).

    A name without a suffix that is not a file (``"quick"``, ``"grokking"``) is one of
    the specs shipped with the package. ``overrides`` are ``KEY=VALUE`` texts applied
    on top of the file (``settings.steps=500``), as by ``landaulab sweep --set``.
    """
    path = Path(path)
    if not path.exists() and not path.suffix:
        from landaulab.specs import builtin_spec_path

        path = builtin_spec_path(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read spec ({exc})") from None
    overrides = list(overrides)
    spec = parse_spec(text, source=str(path), overrides=overrides)
    if spec.name == "sweep" and "name" not in tomllib.loads(text):
        if not any(o.partition("=")[0].strip() == "name" for o in overrides):
            spec = spec.model_copy(update={"name": path.stem})
    return spec
