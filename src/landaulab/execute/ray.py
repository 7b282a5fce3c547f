"""The Ray executor: work units as Ray tasks, on a local or remote Ray cluster.

Each work unit (one run, or a batch of ensemble members) becomes one Ray task that calls
:func:`~landaulab.execute.base.execute_unit` on the worker, so runs are claimed, trained
and published into the store exactly as by the local executor. The store must be on a
filesystem every node can reach (a shared path); the driver only collects outcomes.

Fault tolerance comes from two places:

- a worker process that dies mid-run (killed, out of memory, node lost) takes its
  claim with it (the OS releases the ``flock``), nothing of the run is visible, and Ray
  runs the task again, at most ``max_attempts`` times in all; a unit that still cannot
  finish is recorded as ``failed`` with the reason;
- a driver that dies leaves complete runs in the store and nothing else, so running
  the same sweep again resumes it.

Ray: Moritz, Nishihara, Wang, Tumanov, Liaw, Liang, Elibol, Yang, Paul, Jordan & Stoica
2018, "Ray: a distributed framework for emerging AI applications", arXiv:1712.05889.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# Usage-stats reporting is off unless the user asked for it (it must be set before import).
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import pandas as pd
import ray
import ray.exceptions

from landaulab.errors import ExecutionError, LandaulabError
from landaulab.execute.base import (
    Executor,
    OutcomeCallback,
    WorkUnit,
    execute_unit,
)
from landaulab.execute.runner import RunOptions, RunOutcome
from landaulab.store.store import RunRecord, Store

LOOPBACK = "127.0.0.1"
# Ray replaces a loopback node address by the machine's routable one unless this is off.
_CLUSTER_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def _train_unit(store_path: str, unit: list, options: RunOptions) -> list[RunOutcome]:
    """Body of the Ray task: train one work unit on a worker."""
    return execute_unit(store_path, unit, options)


_remote_train_unit = ray.remote(_train_unit)


class RayExecutor(Executor):
    """Train work units as Ray tasks.

    Parameters
    ----------
    workers
        CPUs of the local cluster started when ``address`` is ``None`` (default: the
        number of cores). With a remote cluster: at most this many units at once.
    address
        ``None`` starts a private local cluster bound to 127.0.0.1 (no dashboard, no
        usage statistics, its session files in a fresh temporary folder removed by
        :meth:`close`); ``"auto"`` joins the cluster running on this machine
        (``ray start --head``); ``"HOST:PORT"`` joins the cluster at that address.
    num_cpus_per_run
        CPUs Ray reserves for each task (one run, or one batch of members).
    num_gpus_per_run
        GPUs Ray reserves for each task (fractions share a GPU).
    max_attempts
        Attempts per task when its worker dies (Ray's ``max_retries`` is one less).
        A run whose worker died this many times is recorded as failed.
    max_in_flight
        Tasks submitted at once (default: twice the tasks the cluster can run at
        once); fewer in flight means less to cancel on Ctrl-C.
    runtime_env
        Ray runtime environment for the tasks (e.g. ``{"env_vars": {...}}``).
    init_kwargs
        Extra keyword arguments for ``ray.init``.

    Notes
    -----
    The cluster is started (or joined) on the first :meth:`map` and kept for later
    ones, so rounds of an adaptive refinement share it; :meth:`close` (or leaving a
    ``with`` block) shuts down a cluster this executor started.
    """

    name = "ray"

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        num_cpus_per_run: float = 1,
        num_gpus_per_run: float = 0,
        max_attempts: int = 3,
        max_in_flight: int | None = None,
        runtime_env: Mapping[str, Any] | None = None,
        init_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if workers is not None and workers < 1:
            raise LandaulabError(f"workers={workers}: give at least 1")
        if num_cpus_per_run < 0 or num_gpus_per_run < 0:
            raise LandaulabError("num_cpus_per_run and num_gpus_per_run must be >= 0")
        if num_cpus_per_run == 0 and num_gpus_per_run == 0:
            raise LandaulabError("each run needs some resource: num_cpus_per_run or gpus > 0")
        if max_attempts < 1:
            raise LandaulabError(f"max_attempts={max_attempts}: give at least 1")
        if max_in_flight is not None and max_in_flight < 1:
            raise LandaulabError(f"max_in_flight={max_in_flight}: give at least 1")
        if address is not None and not address.strip():
            raise LandaulabError("--address is empty: give auto or HOST:PORT")
        self.workers = workers
        self.address = address
        self.num_cpus_per_run = num_cpus_per_run
        self.num_gpus_per_run = num_gpus_per_run
        self.max_attempts = max_attempts
        self.max_in_flight = max_in_flight
        self.runtime_env = dict(runtime_env) if runtime_env else None
        self.init_kwargs = dict(init_kwargs or {})
        self._started_cluster = False
        self._temp_dir: str | None = None

    @classmethod
    def from_options(cls, workers: int | None = None, **options: Any) -> RayExecutor:
        """A Ray executor with ``workers`` and any of the keyword settings above."""
        return cls(workers=workers, **options)

    # ------------------------------------------------------------ cluster
    def connect(self) -> None:
        """Start or join the Ray cluster (a no-op when Ray is already initialised)."""
        if ray.is_initialized():
            return
        if self.address is None:
            self._start_local_cluster()
        else:
            try:
                ray.init(
                    address=self.address,
                    logging_level=logging.WARNING,
                    **self.init_kwargs,
                )
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise ExecutionError(
                    f"cannot join the Ray cluster at {self.address!r} ({_first_line(exc)}); "
                    "start one with 'ray start --head' or check --address"
                ) from None
        self._check_resources()

    def _start_local_cluster(self) -> None:
        from landaulab.execute.local import default_workers

        cpus = self.workers or default_workers()
        kwargs: dict[str, Any] = {
            "num_cpus": cpus,
            "num_gpus": None,
            "include_dashboard": False,
            "dashboard_host": LOOPBACK,
            "_node_ip_address": LOOPBACK,
            "log_to_driver": False,
            "logging_level": logging.ERROR,
            "configure_logging": True,
        }
        kwargs.update(self.init_kwargs)
        if "_temp_dir" not in kwargs:
            self._temp_dir = _private_temp_dir()
            kwargs["_temp_dir"] = self._temp_dir
        try:
            with _loopback_only():
                ray.init(**kwargs)
        except BaseException:
            self._remove_temp_dir()
            raise
        self._started_cluster = True

    def _check_resources(self) -> None:
        total = ray.cluster_resources()
        if self.num_gpus_per_run > 0 and total.get("GPU", 0) < self.num_gpus_per_run:
            if self._started_cluster:
                self.close()
                raise ExecutionError(
                    f"each run asks for {self.num_gpus_per_run} GPU but this machine has "
                    f"{total.get('GPU', 0):g}; use num_gpus_per_run=0 or join a GPU cluster"
                )
            warnings.warn(
                f"the Ray cluster has {total.get('GPU', 0):g} GPUs now; tasks asking for "
                f"{self.num_gpus_per_run} GPU wait until an autoscaler adds some",
                RuntimeWarning,
                stacklevel=2,
            )
        if total.get("CPU", 0) < self.num_cpus_per_run and self._started_cluster:
            cpus = total.get("CPU", 0)
            self.close()
            raise ExecutionError(
                f"each run asks for {self.num_cpus_per_run:g} CPUs but the local cluster "
                f"has {cpus:g}; lower num_cpus_per_run or raise workers"
            )

    def close(self) -> None:
        """Shut down the local cluster if this executor started it, and remove its
        session folder."""
        if self._started_cluster and ray.is_initialized():
            ray.shutdown()
        self._started_cluster = False
        self._remove_temp_dir()

    def _remove_temp_dir(self) -> None:
        if self._temp_dir is not None:
            _remove_tree(self._temp_dir)
            self._temp_dir = None

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def slots(self) -> int:
        """Tasks the cluster runs at once (its CPUs, GPUs per task)."""
        if ray.is_initialized():
            total = ray.cluster_resources()
            fits = []
            if self.num_cpus_per_run > 0:
                fits.append(total.get("CPU", 0) / self.num_cpus_per_run)
            if self.num_gpus_per_run > 0:
                fits.append(total.get("GPU", 0) / self.num_gpus_per_run)
            slots = max(1, int(min(fits)))
        else:
            from landaulab.execute.local import default_workers

            slots = max(1, int((self.workers or default_workers()) / max(self.num_cpus_per_run, 1)))
        if self.address is not None and self.workers is not None:
            slots = min(slots, self.workers)
        return slots

    # ----------------------------------------------------------------- map
    def map(
        self,
        store_path: str,
        units: Sequence[WorkUnit],
        options: RunOptions,
        on_outcome: OutcomeCallback,
    ) -> None:
        """Train every unit as a Ray task, reporting outcomes as tasks finish.

        Raises
        ------
        KeyboardInterrupt
            After cancelling the tasks in flight (their runs stay unpublished).
        """
        if not units:
            return
        self.connect()
        task = _remote_train_unit.options(
            num_cpus=self.num_cpus_per_run,
            num_gpus=self.num_gpus_per_run,
            max_retries=self.max_attempts - 1,
            retry_exceptions=False,
            **({"runtime_env": self.runtime_env} if self.runtime_env else {}),
        )
        limit = self.max_in_flight or 2 * self.slots
        queue = [list(unit) for unit in units]
        in_flight: dict[ray.ObjectRef, list] = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < limit:
                    unit = queue.pop(0)
                    in_flight[task.remote(store_path, unit, options)] = unit
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
                for ref in ready:
                    unit = in_flight.pop(ref)
                    for outcome in self._collect(ref, store_path, unit, options):
                        on_outcome(outcome)
        except BaseException:
            for ref in in_flight:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise

    def _collect(
        self, ref: ray.ObjectRef, store_path: str, unit: list, options: RunOptions
    ) -> list[RunOutcome]:
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            # An error of landaulab itself (training errors are recorded as failed runs).
            cause = exc.cause if isinstance(exc.cause, BaseException) else None
            if cause is not None:
                raise cause from None
            raise
        except ray.exceptions.RayError as exc:
            reason = _first_line(exc)
            return _record_lost(store_path, unit, options, self.max_attempts, reason)


def _record_lost(
    store_path: str, unit: list, options: RunOptions, attempts: int, reason: str
) -> list[RunOutcome]:
    """Record the runs of a unit whose worker died on every attempt as failed."""
    store = Store(store_path)
    outcomes: list[RunOutcome] = []
    why = f"worker died {attempts} time(s) (killed, out of memory or node lost): {reason}"
    for run in unit:
        claim = store.claim(run.run_id)
        if claim is None:
            outcomes.append(RunOutcome(run.run_id, "busy"))
            continue
        with claim:
            existing = store.get(run.run_id)
            if existing is not None:  # published before the worker died, or failed earlier
                outcomes.append(RunOutcome(run.run_id, existing.status))
                continue
            store.clean_staging(run.run_id)
            record = RunRecord(
                run_id=run.run_id,
                task=run.task,
                params=run.params,
                status="failed",
                reason=why,
                record=run.record,
                finished=time.time(),
                attempt=attempts,
            )
            empty = pd.DataFrame({"step": pd.Series([], dtype="int64")})
            store.publish(record, empty)
            outcomes.append(RunOutcome(run.run_id, "failed", why))
    return outcomes


def _private_temp_dir() -> str:
    """A fresh folder for a local cluster's session files, removed when it shuts down.

    Ray puts Unix sockets under it, whose paths are limited to 107 bytes, so it lies
    directly in the system temporary directory (``/tmp`` where that path is long). The
    end of the process removes it too, after shutting the cluster down (Ray's own exit
    hook, registered when Ray is imported, would run later and write into it again).
    """
    base = tempfile.gettempdir()
    if len(base) > 40 and os.path.isdir("/tmp"):
        base = "/tmp"
    path = tempfile.mkdtemp(prefix="ll-ray-", dir=base)
    atexit.register(_shut_down_and_remove, path)
    return path


def _shut_down_and_remove(path: str) -> None:
    if os.path.exists(path) and ray.is_initialized():
        ray.shutdown()
    _remove_tree(path)


def _remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def _loopback_only() -> Iterator[None]:
    """Let Ray keep a loopback node address while a local cluster starts.

    Ray swaps 127.0.0.1 for the machine's routable address unless clusters are
    switched off; the private processes of a local cluster then bind to loopback.
    """
    from ray._private import ray_constants

    saved_env = os.environ.get(_CLUSTER_SWITCH)
    saved_flag = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    os.environ[_CLUSTER_SWITCH] = "0"
    if saved_flag is not None:
        ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop(_CLUSTER_SWITCH, None)
        else:
            os.environ[_CLUSTER_SWITCH] = saved_env
        if saved_flag is not None:
            ray_constants.ENABLE_RAY_CLUSTER = saved_flag
