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
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from landaulab.errors import SpecError

Scalar = bool | int | float | str


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
    """A whole sweep: task, fixed settings, swept controls, seeds, recording."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "sweep"
    description: str = ""
    task: str
    seeds: list[int] | int = Field(default_factory=lambda: [0])
    settings: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    controls: dict[str, list[Scalar] | Range] = Field(default_factory=dict)
    record: RecordSpec = Field(default_factory=lambda: RecordSpec())

    @field_validator("task")
    @classmethod
    def _task_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("task is empty; name a built-in task or 'package.module:function'")
        return value

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

    @field_validator("controls")
    @classmethod
    def _controls(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, values in value.items():
            if isinstance(values, list):
                if not values:
                    raise ValueError(f"control {key!r} has an empty list of values")
                if len(set(map(repr, values))) != len(values):
                    raise ValueError(f"control {key!r} repeats a value")
                for v in values:
                    if isinstance(v, float) and not math.isfinite(v):
                        raise ValueError(f"control {key!r} has a non-finite value {v}")
        return value

    @model_validator(mode="after")
    def _disjoint(self) -> SweepSpec:
        both = sorted(set(self.settings) & set(self.controls))
        if both:
            raise ValueError(f"{both[0]!r} is both a setting and a control; keep it in one table")
        if "seed" in self.settings or "seed" in self.controls:
            raise ValueError("set seeds with the top-level 'seeds' key, not as a setting")
        return self

    def seed_list(self) -> list[int]:
        """The seeds as a list."""
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)

    def control_values(self) -> dict[str, list[Scalar]]:
        """Each control's grid of values."""
        grids: dict[str, list[Scalar]] = {}
        for name, grid in self.controls.items():
            grids[name] = list(grid.values()) if isinstance(grid, Range) else list(grid)
        return grids


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()) if not str(p).startswith("function-"))
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return f"unknown key {loc!r}; remove it or check its spelling"
    if kind == "missing":
        return f"missing key {loc!r}; add it"
    where = f"key {loc!r}: " if loc else ""
    return f"{where}{msg}"


def parse_spec(text: str, source: str = "<spec>") -> SweepSpec:
    """Parse and validate a sweep spec from TOML text.

    Raises
    ------
    SpecError
        One line naming the source, the offending key and the fix.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source}: not valid TOML ({exc})") from None
    try:
        return SweepSpec(**data)
    except ValidationError as exc:
        raise SpecError(f"{source}: {_describe(exc)}") from None
    except TypeError as exc:
        raise SpecError(f"{source}: {exc}") from None


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec file (the file stem is the default name).

    A name without a suffix that is not a file (``"quick"``, ``"grokking"``) is one of
    the specs shipped with the package.
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
    spec = parse_spec(text, source=str(path))
    if "name" not in tomllib.loads(text):
        spec = spec.model_copy(update={"name": path.stem})
    return spec
