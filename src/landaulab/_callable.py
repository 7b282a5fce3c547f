"""The rule that makes ``landaulab.analyze``, ``landaulab.dynamics`` and ``landaulab.report``
callable modules.

Each of these names is a subpackage (its modules are the stages of the work) and also
what users call: ``ll.analyze(frame, ...)``. One rule serves every import order:

- the root package ``landaulab`` is a :class:`RootModule`; when the import system binds
  one of the subpackages in :data:`FACES` as an attribute of the root (which it does
  right after the subpackage's ``__init__`` has run, whichever import brought it in),
  the subpackage becomes a :class:`FaceModule`;
- calling a :class:`FaceModule` calls the face function of the same name in
  :mod:`landaulab.api`, looked up when called (so the subpackages never import the face);
- ``inspect.signature`` of the module is the face function's signature.

So ``ll.analyze(frame, ...)``, ``import landaulab.dynamics as dyn; dyn(frame, ...)`` and
``from landaulab.analyze import analyze`` all work, whatever was imported first.
"""

from __future__ import annotations

import importlib
import inspect
import types
from collections.abc import Callable
from typing import Any

#: Subpackages that are also callable: each calls ``landaulab.api.<name>``.
FACES = ("analyze", "dynamics", "report")


def face_function(name: str) -> Callable[..., Any]:
    """The face function ``landaulab.api.<name>`` (imported on first use)."""
    return getattr(importlib.import_module("landaulab.api"), name)  # type: ignore[no-any-return]


class FaceModule(types.ModuleType):
    """A subpackage that, when called, calls its face function in :mod:`landaulab.api`."""

    @property
    def _face_name(self) -> str:
        return self.__name__.rpartition(".")[2]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return face_function(self._face_name)(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        """The signature of the face function."""
        return inspect.signature(face_function(self._face_name))


class RootModule(types.ModuleType):
    """The root package: binding a subpackage of :data:`FACES` makes it a FaceModule."""

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name in FACES
            and isinstance(value, types.ModuleType)
            and value.__name__ == f"{self.__name__}.{name}"
            and not isinstance(value, FaceModule)
        ):
            value.__class__ = FaceModule
        super().__setattr__(name, value)
