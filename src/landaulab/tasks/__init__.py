"""Built-in training problems, one per module; importing this registers them all.

Use :func:`get_task` to look one up by name and :func:`list_tasks` to list them. Every
module in this package that calls :func:`register_task` at import time is a task.
"""

import importlib
import pkgutil

from landaulab.tasks.registry import TaskInfo, TaskParameters, get_task, list_tasks, register_task

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "registry" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["TaskInfo", "TaskParameters", "get_task", "list_tasks", "register_task"]
