"""The local executor: a pool of worker processes, one torch thread each.

The pool lives from the first map to :meth:`LocalExecutor.close`, so the rounds of a
refinement (and the sweeps of one executor) pay a worker's start — a Python process
importing torch, a few CPU seconds — once, not once per round.

Workers are started with ``spawn``: each imports the main module again. A plain script
that calls :func:`landaulab.sweep` outside ``if __name__ == "__main__":`` would so run
its sweep again in every worker; :func:`unguarded_main_script` detects that case and the
executor then trains in this process instead, saying so in one line.
"""

from __future__ import annotations

import ast
import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from landaulab.errors import ExecutionError
from landaulab.execute.base import (
    Executor,
    OutcomeCallback,
    WorkUnit,
    execute_unit,
    reject_options,
)
from landaulab.execute.runner import RunOptions

_PR_SET_PDEATHSIG = 1


def _initialise_worker(threads: int) -> None:
    """Die with the parent (Linux), leave Ctrl-C to the parent, use ``threads`` threads.

    The terminal sends Ctrl-C to the whole process group; the parent alone decides what
    to do with it (stop the workers, keep what is published), so workers ignore SIGINT.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: orphans finish their run and publish it atomically
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass


def _is_main_guard(test: ast.expr) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [isinstance(x, ast.Name) and x.id == "__name__" for x in sides]
    mains = [isinstance(x, ast.Constant) and x.value == "__main__" for x in sides]
    return (names[0] and mains[1]) or (names[1] and mains[0])


def unguarded_main_script() -> str | None:
    """The main script, if spawned workers would run the calling code in it again.

    ``spawn`` workers import the main module again (as ``__mp_main__``): a script run
    with ``python script.py`` whose top-level code is, right now, executing a line
    outside ``if __name__ == "__main__":`` would start the same work in every worker.
    Returns ``None`` when that cannot happen: ``python -m package``, an interactive
    session or notebook, a guarded call, or a script that cannot be read.
    """
    main = sys.modules.get("__main__")
    if main is None:
        return None
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", "").endswith("__main__"):
        return None  # ``python -m pkg``: spawn does not run pkg/__main__.py again
    path = getattr(main, "__file__", None)
    if not path or not str(path).endswith(".py"):
        return None
    frame = sys._getframe()
    line = None
    while frame is not None:
        if frame.f_globals is vars(main) and frame.f_code.co_name == "<module>":
            line = frame.f_lineno
            break
        frame = frame.f_back  # type: ignore[assignment]
    if line is None:
        return None  # not called from the script's top-level code
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            end = node.end_lineno or node.lineno
            if node.lineno <= line <= end:
                return None
    return str(path)


_warned: set[str] = set()


def default_workers() -> int:
    """The number of usable cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class LocalExecutor(Executor):
    """Train units in a pool of ``workers`` processes.

    Parameters
    ----------
    workers
        Worker processes (default: the number of cores).
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or default_workers())
        self._pool: ProcessPoolExecutor | None = None
        self._threads: int | None = None

    def _started(self, threads: int) -> ProcessPoolExecutor:
        """The pool, started on first use (again when the torch threads change)."""
        if self._pool is None or self._threads != threads:
            self.close()
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,  # started as units arrive, up to this many
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_initialise_worker,
                initargs=(threads,),
            )
            self._threads = threads
        return self._pool

    def _discard(self) -> None:
        """Stop the pool's workers at once and forget it (after an error or Ctrl-C)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            _stop_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Let the workers finish and exit."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    @classmethod
    def from_options(cls, workers: int | None = None, **options: Any) -> LocalExecutor:
        """A pool of ``workers`` processes (no other options)."""
        reject_options(cls.name, options)
        return cls(workers)

    @property
    def slots(self) -> int:
        """Worker processes."""
        return self.workers

    def map(
        self,
        store_path: str,
        units: Sequence[WorkUnit],
        options: RunOptions,
        on_outcome: OutcomeCallback,
    ) -> None:
        """Train every unit in the pool; Ctrl-C cancels queued units and stops workers.

        Called from a script's top-level code outside ``if __name__ == "__main__":``
        (which every spawned worker would run again), units train in this process,
        after one line on standard error saying why.
        """
        if not units:
            return
        script = unguarded_main_script()
        if script is not None:
            if script not in _warned:
                _warned.add(script)
                print(
                    f"landaulab: {Path(script).name} calls the sweep outside "
                    "'if __name__ == \"__main__\":', so worker processes would run the "
                    "script again; training in this process instead, one run at a time "
                    "(put the script's work under that guard to use the workers)",
                    file=sys.stderr,
                )
            for unit in units:
                for outcome in execute_unit(store_path, unit, options):
                    on_outcome(outcome)
            return
        pool = self._started(options.threads)
        pending: set[Future] = set()
        try:
            queue = list(units)
            # Keep at most two units per worker queued, so Ctrl-C leaves little to cancel.
            while queue or pending:
                while queue and len(pending) < 2 * self.workers:
                    pending.add(pool.submit(execute_unit, store_path, queue.pop(0), options))
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    for outcome in future.result():
                        on_outcome(outcome)
        except KeyboardInterrupt:
            for future in pending:
                future.cancel()
            self._discard()
            _clean_staging(store_path, units)
            raise
        except BrokenProcessPool:
            self._discard()
            raise ExecutionError(
                "a worker process died (killed or out of memory); finished runs are kept, "
                "re-run the same command to resume"
            ) from None
        except BaseException:
            self._discard()
            raise


def _clean_staging(store_path: str, units: Sequence[WorkUnit]) -> None:
    """Remove what stopped workers were writing (never read, but not left behind).

    Only runs no other process has claimed: a concurrent sweep's writes stand.
    """
    from landaulab.store.store import Store

    store = Store(store_path)
    for unit in units:
        for run in unit:
            claim = store.claim(run.run_id)
            if claim is not None:
                with claim:
                    store.clean_staging(run.run_id)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()
