"""landaulab: Landau's theory of phase transitions for neural-network training dynamics.

The public API (imported lazily, so ``import landaulab`` stays light and analysis
works without torch):

- :class:`Store` — runs on disk; ``Store(path).frame()`` gives the tidy frame.
- :class:`Recorder` — record a plain PyTorch loop into a store.
- :func:`sweep` — run a sweep spec into a store (resumable).
- :func:`analyze` — Landau analysis of a tidy frame: transition, critical point,
  order, exponents, free energy, universality.
- :func:`dynamics` — drift, effective potential, relaxation, transition times.
- :func:`report` — an HTML report of a store or an analysis.

``analyze``, ``dynamics`` and ``report`` are subpackages that can be called: calling one
calls the function of the same name in :mod:`landaulab.api` (the rule is in
:mod:`landaulab._callable`), whatever the order of imports.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from landaulab._callable import FACES, RootModule
from landaulab.version import __version__ as __version__

sys.modules[__name__].__class__ = RootModule

_EXPORTS = {
    "Store": "landaulab.store.store",
    "load_frame": "landaulab.store.load",
    "Recorder": "landaulab.record.recorder",
    "sweep": "landaulab.execute.sweep",
    "load_spec": "landaulab.spec.schema",
    "analyze": "landaulab.analyze",
    "dynamics": "landaulab.dynamics",
    "report": "landaulab.report",
    "datasets": "landaulab.datasets",
    "LandaulabError": "landaulab.errors",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'landaulab' has no attribute {name!r}")
    if name == "datasets" or name in FACES:
        # a subpackage: importing it binds it here (as a callable module for the faces)
        return importlib.import_module(module)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)
