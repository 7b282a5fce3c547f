"""Let a subpackage be called like its main function (``ll.analyze(frame, ...)``).

``landaulab.analyze`` is both a subpackage and the function users call. Importing the
subpackage binds the module to ``landaulab.analyze``; making that module callable keeps
``ll.analyze(...)`` working however it was first imported.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any


def make_callable(module_name: str, function: Callable[..., Any]) -> None:
    """Make the module ``module_name`` call ``function`` when called."""
    module = sys.modules[module_name]

    class CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return function(*args, **kwargs)

    CallableModule.__call__.__doc__ = function.__doc__
    module.__class__ = CallableModule
