"""The executors by name: one table behind ``make_executor`` and ``--executor``.

Each entry names the class (imported only when it is asked for, so an executor whose
dependency is missing costs nothing until used) and what to install when the import
fails. Adding an executor is one module with an :class:`~landaulab.execute.base.Executor`
subclass and one line in :data:`EXECUTORS`.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from landaulab.errors import LandaulabError
from landaulab.execute.base import Executor


@dataclass(frozen=True)
class ExecutorEntry:
    """Where an executor's class lives, and what its import needs.

    Attributes
    ----------
    target
        ``"module:Class"`` of the :class:`Executor` subclass.
    missing
        The one-line error when the module cannot be imported (``None``: re-raise).
    """

    target: str
    missing: str | None = None

    def load(self) -> type[Executor]:
        """The executor class (imports its module)."""
        module, _, name = self.target.partition(":")
        try:
            loaded = importlib.import_module(module)
        except ImportError:
            if self.missing is None:
                raise
            raise LandaulabError(self.missing) from None
        cls = getattr(loaded, name)
        if not (isinstance(cls, type) and issubclass(cls, Executor)):
            raise TypeError(f"{self.target} is not an Executor subclass")
        return cls


#: Executor name → where its class lives (in the order the command line lists them).
EXECUTORS: dict[str, ExecutorEntry] = {
    "serial": ExecutorEntry("landaulab.execute.serial:SerialExecutor"),
    "local": ExecutorEntry("landaulab.execute.local:LocalExecutor"),
    "ray": ExecutorEntry(
        "landaulab.execute.ray:RayExecutor",
        missing="the Ray executor needs Ray: pip install 'landaulab[ray]'",
    ),
}


def executor_names() -> list[str]:
    """The registered executor names, in the registry's order."""
    return list(EXECUTORS)


def executor_choices() -> str:
    """The names as a phrase for help texts and errors: ``"serial, local, ray"``."""
    return ", ".join(EXECUTORS)


def make_executor(name: str, workers: int | None = None, **options: Any) -> Executor:
    """An executor by name (``serial``, ``local``, ``ray``, ...).

    Parameters
    ----------
    name
        A key of :data:`EXECUTORS`.
    workers
        Worker processes (local), or CPUs of a local Ray cluster; ignored by ``serial``.
    **options
        Settings of that executor (e.g. ``address`` for Ray).

    Raises
    ------
    LandaulabError
        For an unknown name, an executor whose dependency is missing, or an option the
        executor does not take.
    """
    entry = EXECUTORS.get(name)
    if entry is None:
        raise LandaulabError(f"unknown executor {name!r}; choose from {executor_choices()}")
    return entry.load().from_options(workers, **options)


@contextlib.contextmanager
def opened_executor(
    executor: Executor | str, workers: int | None = None, **options: Any
) -> Iterator[Executor]:
    """The executor to run with, closed on the way out if it was made here.

    A name makes a new executor, closed when the block ends (also on errors and Ctrl-C);
    an instance is used as given and left open: its creator closes it.
    """
    if not isinstance(executor, str):
        yield executor
        return
    with make_executor(executor, workers, **options) as engine:
        yield engine


__all__ = [
    "EXECUTORS",
    "ExecutorEntry",
    "executor_choices",
    "executor_names",
    "make_executor",
    "opened_executor",
]
