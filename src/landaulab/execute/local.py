"""The local executor: a pool of worker processes, one torch thread each."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
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
    """Die with the parent (Linux), and use ``threads`` torch threads."""
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
        """Train every unit in the pool; Ctrl-C cancels queued units and stops workers."""
        if not units:
            return
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(units)),
            mp_context=context,
            initializer=_initialise_worker,
            initargs=(options.threads,),
        )
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
            _stop_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        except BrokenProcessPool:
            _stop_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            raise ExecutionError(
                "a worker process died (killed or out of memory); finished runs are kept, "
                "re-run the same command to resume"
            ) from None
        except BaseException:
            _stop_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()
