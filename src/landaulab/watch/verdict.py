"""The current analysis verdict, computed off the request path.

:class:`Verdicts` runs the Landau analysis of the store in a separate Python process
(``python -m landaulab.watch``, request on stdin, summary on stdout) with a time
budget, one at a time, and keeps the latest result. A process rather than a thread: the
analysis is CPU-bound Python, which a thread would run under the same interpreter lock as
the server, and a process past its budget can be stopped. Results are cached by the
store's state (the number of finished runs and their ids), so an unchanged store is never
analysed twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

#: Finished runs needed before the analysis is tried.
MIN_RUNS = 4
#: Bootstrap replicates of the live analysis (a preview; ``landaulab analyze`` does more).
N_BOOTSTRAP = 200
#: Default time budget of one analysis, in seconds.
BUDGET_S = 60.0

Runner = Callable[[Mapping[str, Any], float], dict[str, Any]]
Key = tuple[int, int]


def summarize(
    path: str,
    *,
    order_parameter: str | None = None,
    control: str | None = None,
    burn_in: float | None = None,
    n_bootstrap: int = N_BOOTSTRAP,
) -> dict[str, Any]:
    """The analysis of the store at ``path``, summed up for the page.

    The columns are chosen as the report chooses them (:mod:`landaulab.analyze.roles`),
    and the analysis uses the slice of other swept parameters that crosses the transition.

    Raises
    ------
    DataError, StoreError
        Too few runs, no usable column, or no store.
    """
    from landaulab.analyze import analyze
    from landaulab.analyze.roles import RESERVED, choose_roles, choose_slice
    from landaulab.late_time import BURN_IN
    from landaulab.store.store import Store

    store = Store(path)
    frame = store.frame()
    table = store.run_table()
    parameters = [c for c in table.columns if c not in RESERVED and c in frame.columns]
    roles = choose_roles(
        frame, order_parameter=order_parameter, control=control, parameters=parameters
    )
    part = choose_slice(frame, roles)
    result = analyze(
        part.frame,
        order_parameter=roles.order_parameter,
        control=roles.control,
        size=roles.size,
        use_abs=roles.symmetric,
        burn_in=BURN_IN if burn_in is None else burn_in,
        n_bootstrap=n_bootstrap,
    )
    point = result.critical_point
    return {
        "order": result.order,
        "critical_point": str(point) if point is not None else None,
        "critical_value": point.value if point is not None else None,
        "universality": result.universality.verdict,
        "evidence": list(result.evidence[:4]),
        "order_parameter": roles.order_parameter,
        "control": roles.control,
        "size": roles.size,
        "absolute": roles.symmetric,
        "slice": part.sentence,
        "n_runs": int(part.frame["run_id"].nunique()) if "run_id" in part.frame else 0,
        "n_bootstrap": n_bootstrap,
    }


class ProcessRunner:
    """Runs :func:`summarize` in a fresh Python process, stopped after its budget.

    Calling it returns ``{"summary": ...}``, ``{"error": one line}`` for data the analysis
    cannot use, or ``{"failed": one line}`` when the process crashed, ran out of time or
    was stopped; :meth:`stop` ends the process running now (when the server stops).
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._stopped = False

    def __call__(self, request: Mapping[str, Any], budget: float) -> dict[str, Any]:
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        env.setdefault("OMP_NUM_THREADS", "1")
        if self._stopped:
            return {"failed": "stopped"}
        process = subprocess.Popen(
            [sys.executable, "-m", "landaulab.watch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._process = process
        try:
            out, err = process.communicate(json.dumps(dict(request)), timeout=budget)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return {"failed": f"the analysis took longer than its budget of {budget:g} s"}
        finally:
            self._process = None
        lines = out.strip().splitlines()
        if process.returncode != 0 or not lines:
            last = (err.strip().splitlines() or ["no output"])[-1]
            return {"failed": f"the analysis stopped ({last})"}
        answer: dict[str, Any] = json.loads(lines[-1])
        return answer

    def stop(self) -> None:
        """End the running analysis, and start no other."""
        self._stopped = True
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()


def run_in_process(request: Mapping[str, Any], budget: float) -> dict[str, Any]:
    """One analysis in a fresh process (see :class:`ProcessRunner`)."""
    return ProcessRunner()(request, budget)


class Verdicts:
    """The latest analysis of a store, recomputed in the background when it changes.

    Parameters
    ----------
    request
        What to analyse: ``path`` and optionally ``order_parameter``, ``control``,
        ``burn_in`` (see :func:`summarize`).
    budget
        Seconds one analysis may take (0 switches the analysis off).
    on_change
        Called (from the worker thread) whenever the state changes.
    runner
        Runs one analysis (default: a :class:`ProcessRunner`); one with a ``stop()``
        method is stopped by :meth:`close`.
    min_runs
        Finished runs needed before an analysis is tried.
    """

    def __init__(
        self,
        request: Mapping[str, Any],
        *,
        budget: float = BUDGET_S,
        on_change: Callable[[], None] = lambda: None,
        runner: Runner | None = None,
        min_runs: int = MIN_RUNS,
    ) -> None:
        self.request = dict(request)
        self.budget = budget
        self.on_change = on_change
        self.runner: Runner = runner if runner is not None else ProcessRunner()
        self.min_runs = min_runs
        self._lock = threading.Lock()
        self._wanted: tuple[Key, int] | None = None
        self._analysed: Key | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._state: dict[str, Any] = {
            "state": "off" if budget <= 0 else "waiting",
            "runs": 0,
            "needed": min_runs,
            "message": ("the live analysis is off" if budget <= 0 else "waiting for finished runs"),
            "summary": None,
            "updating": False,
            "analysed_runs": None,
            "seconds": None,
        }

    def state(self) -> dict[str, Any]:
        """The current state (JSON-safe copy)."""
        with self._lock:
            return dict(self._state)

    def update(self, key: Key) -> None:
        """The store now holds ``key = (finished runs, hash of their ids)``; start an
        analysis in the background if that state was not analysed yet."""
        if self.budget <= 0:
            return
        runs = key[0]
        with self._lock:
            if self._closed:
                return
            self._state["runs"] = runs
            if runs < self.min_runs:
                self._state.update(
                    state="waiting",
                    message=f"{runs} of the {self.min_runs} finished runs the analysis needs",
                )
                changed = True
            else:
                changed = False
                self._wanted = (key, runs)
                if key != self._analysed and (self._thread is None or not self._thread.is_alive()):
                    self._thread = threading.Thread(
                        target=self._work, name="landaulab-watch-analysis", daemon=True
                    )
                    self._thread.start()
        if changed:
            self.on_change()

    def close(self) -> None:
        """Stop the running analysis (where the runner can) and start no further ones."""
        with self._lock:
            self._closed = True
        stop = getattr(self.runner, "stop", None)
        if callable(stop):
            stop()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the running analysis, if any (for tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _work(self) -> None:
        while True:
            with self._lock:
                if self._closed or self._wanted is None or self._wanted[0] == self._analysed:
                    return
                key, runs = self._wanted
                self._state["updating"] = True
                if self._state["summary"] is None:
                    self._state.update(state="running", message=f"analysing {runs} runs")
            self.on_change()
            start = time.monotonic()
            try:
                answer = self.runner(self.request, self.budget)
            except Exception as exc:  # a runner that breaks must not stop the page
                answer = {"failed": f"{type(exc).__name__}: {exc}"}
            seconds = round(time.monotonic() - start, 2)
            with self._lock:
                self._analysed = key
                self._state.update(updating=False, seconds=seconds)
                if "summary" in answer:
                    self._state.update(
                        state="ready",
                        summary=answer["summary"],
                        analysed_runs=runs,
                        message=f"analysis of {runs} finished runs",
                    )
                elif "error" in answer:
                    self._state.update(
                        state="insufficient",
                        summary=None,
                        analysed_runs=runs,
                        message=str(answer["error"]),
                    )
                else:
                    self._state.update(
                        state="failed",
                        analysed_runs=runs,
                        message=str(answer.get("failed", "the analysis failed")),
                    )
            self.on_change()


def analysis_main() -> int:
    """``python -m landaulab.watch``: one request (JSON) on stdin, one line out."""
    from landaulab.errors import LandaulabError

    request = json.loads(sys.stdin.read())
    options = {k: request.get(k) for k in ("order_parameter", "control", "burn_in")}
    try:
        summary = summarize(str(request["path"]), **options)
    except LandaulabError as exc:
        print(json.dumps({"error": str(exc).splitlines()[0]}))
        return 0
    from landaulab.serialize import to_json

    print(json.dumps({"summary": to_json(summary)}, allow_nan=False))
    return 0
