"""The observable protocol: a named measurement of a model on a batch at a step.

An observable is any object with a ``name``, an optional ``schedule`` and
``measure(model, batch, step) -> dict[str, float]``. The returned keys are the
columns of the run's table (one float per key). A measurement never changes the
model's parameters or their ``.grad`` and never draws from the global random number
generators, so recording does not perturb training.
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import torch
from torch import nn

from landaulab.errors import LandaulabError
from landaulab.record.schedule import Schedule

Cost = Literal["cheap", "expensive"]
LearningRate = float | torch.optim.Optimizer | Callable[[int], float]


class ObservableError(LandaulabError):
    """An observable cannot be measured as asked (bad setting, unusable model or batch)."""


@runtime_checkable
class Observable(Protocol):
    """What :class:`~landaulab.record.observables.ObservableSet` calls.

    Attributes
    ----------
    name
        Short identifier; also the prefix of the returned keys.
    schedule
        When to measure; ``None`` uses the set's default for the observable's ``cost``
        (``"cheap"``: every step, ``"expensive"``: log-spaced steps).
    """

    name: str
    schedule: Schedule | None

    def measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        """Measure at ``step``; return ``{column: value}``."""
        ...


class ObservableBase(ABC):
    """Convenience base class: name, schedule, a fixed probe batch and private seeding.

    Parameters
    ----------
    name
        Prefix of the returned keys (each subclass has a default).
    schedule
        When to measure (``None``: every step if cheap, log-spaced if expensive).
    data
        A fixed probe batch measured instead of the training batch passed to
        :meth:`measure` (e.g. a held-out test batch, or the full training set for the
        local learning coefficient). Moved to the model's device on use.
    seed
        Seed of the observable's own random number generator (probe vectors, SGLD
        noise); combined with the step so that each measurement is reproducible.
    """

    cost: ClassVar[Cost] = "cheap"
    default_name: ClassVar[str] = "observable"

    def __init__(
        self,
        *,
        name: str | None = None,
        schedule: Schedule | None = None,
        data: Any = None,
        seed: int = 0,
    ) -> None:
        self.name = self.default_name if name is None else str(name)
        if not self.name:
            raise ObservableError("an observable name must be a non-empty string")
        if schedule is not None and not isinstance(schedule, Schedule):
            raise ObservableError(
                f"schedule must be a landaulab Schedule, got {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.data = data
        self.seed = int(seed)

    def measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        """Measure on ``self.data`` if given, else on ``batch``; values as floats."""
        device = model_device(model)
        if self.data is not None:
            cached = self.__dict__.get("_data_on_device")
            if cached is None or cached[0] != device:
                cached = (device, batch_to(self.data, device))
                self._data_on_device = cached
            data = cached[1]
        else:
            data = None if batch is None else batch_to(batch, device)
        values = self._measure(model, data, int(step))
        return {str(key): float(value) for key, value in values.items()}

    @abstractmethod
    def _measure(self, model: nn.Module, batch: Any, step: int) -> Mapping[str, float]:
        """Compute the measurement; ``batch`` is already on the model's device."""

    def generator(self, step: int) -> torch.Generator:
        """A CPU generator seeded from ``(seed, name, step)``, independent of global RNG."""
        return seeded_generator(self.seed, self.name, step)

    def key(self, suffix: str) -> str:
        """Column name ``<name>_<suffix>``."""
        return f"{self.name}_{suffix}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def seeded_generator(seed: int, *labels: object) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded deterministically from a seed and labels."""
    text = "|".join(str(label) for label in (seed, *labels))
    generator = torch.Generator()
    generator.manual_seed(zlib.crc32(text.encode()) + (int(seed) << 32) % (2**62))
    return generator


def rademacher(
    dim: int, count: int, generator: torch.Generator, device: torch.device | None = None
) -> torch.Tensor:
    """``(dim, count)`` float64 matrix of independent ±1 entries (drawn on the CPU)."""
    signs = torch.randint(0, 2, (dim, count), generator=generator).to(torch.float64)
    return (2.0 * signs - 1.0).to(device if device is not None else "cpu")


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU when it has none)."""
    for tensor in model.parameters():
        return tensor.device
    for buffer in model.buffers():
        return buffer.device
    return torch.device("cpu")


def learning_rate_at(source: LearningRate, step: int) -> tuple[float, float]:
    """Learning rate and heavy-ball momentum at ``step``.

    ``source`` is a float, a ``step -> lr`` function, or an optimizer (its first
    parameter group's ``lr``; the momentum is read for ``torch.optim.SGD`` only).
    """
    if isinstance(source, torch.optim.Optimizer):
        group = source.param_groups[0]
        momentum = group.get("momentum", 0.0) if isinstance(source, torch.optim.SGD) else 0.0
        return float(group["lr"]), float(momentum or 0.0)
    if callable(source):
        return float(source(step)), 0.0
    if isinstance(source, int | float):
        return float(source), 0.0
    raise ObservableError(
        f"learning_rate must be a number, a step -> lr function or an optimizer, "
        f"got {type(source).__name__}"
    )


def tree_map(function: Callable[[Any], Any], tree: Any) -> Any:
    """Apply ``function`` to every leaf of a nested tuple/list/dict, keeping its shape."""
    if isinstance(tree, tuple | list):
        return type(tree)(tree_map(function, item) for item in tree)
    if isinstance(tree, Mapping):
        return {key: tree_map(function, item) for key, item in tree.items()}
    return function(tree)


def batch_to(batch: Any, device: torch.device, dtype: torch.dtype | None = None) -> Any:
    """Move the tensors of a (nested) batch to ``device``; cast floating tensors to
    ``dtype`` when given."""

    def move(t: Any) -> Any:
        if not isinstance(t, torch.Tensor):
            return t
        if dtype is not None and t.dtype.is_floating_point:
            return t.to(device=device, dtype=dtype)
        return t.to(device=device)

    return tree_map(move, batch)
