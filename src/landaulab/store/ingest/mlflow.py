"""Import MLflow runs from a local tracking folder (``mlruns/``) or database (``mlflow.db``).

The file store is read directly from its documented layout, so MLflow itself need not
be installed::

    mlruns/<experiment_id>/meta.yaml               name, lifecycle_stage
    mlruns/<experiment_id>/<run_id>/meta.yaml      run_name, status, lifecycle_stage
    mlruns/<experiment_id>/<run_id>/metrics/<key>  lines "timestamp value step"
    mlruns/<experiment_id>/<run_id>/params/<key>   the value as text

Metric and parameter keys containing ``/`` are nested folders. A SQLite tracking
database (MLflow's default backend since 3.x) is read with the standard library from its
``experiments``, ``runs``, ``metrics`` and ``params`` tables.

Parameter values are text in MLflow and are turned back into numbers and booleans where
they spell one. Deleted runs and experiments are skipped. Runs that ``FAILED`` or were
``KILLED`` are imported with status ``failed``, as are runs still marked ``RUNNING``
(a crashed process never closes its run). When a metric has several values at one
step, the last logged wins. A logged NaN or infinity marks the run as diverged.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from landaulab.errors import DataError
from landaulab.store.ingest.common import (
    IngestedRun,
    IngestResult,
    compile_pattern,
    existing_path,
    make_run,
    merge_params,
    params_from_name,
    parse_value,
    publish_runs,
    reader_options,
)

_STATUS = {"1": "RUNNING", "2": "SCHEDULED", "3": "FINISHED", "4": "FAILED", "5": "KILLED"}
_SKIP_DIRECTORIES = {".trash", "models", ".git"}


def read_meta(path: Path) -> dict[str, str]:
    """Read a flat ``meta.yaml`` (``key: value`` lines) without needing PyYAML.

    Raises
    ------
    DataError
        If the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line[0] in " \t-#":
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote = value[0]
            value = value[1:-1]
            value = value.replace("''", "'") if quote == "'" else value.replace('\\"', '"')
        out[key.strip()] = value
    return out


def _is_run_dir(path: Path) -> bool:
    if not (path / "meta.yaml").is_file():
        return False
    meta = read_meta(path / "meta.yaml")
    return "run_id" in meta or "run_uuid" in meta


def _is_experiment_dir(path: Path) -> bool:
    if not (path / "meta.yaml").is_file():
        return False
    meta = read_meta(path / "meta.yaml")
    return "experiment_id" in meta and "run_id" not in meta and "run_uuid" not in meta


def run_dirs(root: Path) -> list[Path]:
    """The run folders of a tracking folder, an experiment folder or one run folder."""
    if _is_run_dir(root):
        return [root]
    if _is_experiment_dir(root):
        experiments = [root]
    else:
        base = root / "mlruns" if (root / "mlruns").is_dir() else root
        experiments = sorted(
            p for p in base.iterdir() if p.name not in _SKIP_DIRECTORIES and _is_experiment_dir(p)
        )
    found: list[Path] = []
    for experiment in experiments:
        if read_meta(experiment / "meta.yaml").get("lifecycle_stage") == "deleted":
            continue
        found.extend(sorted(p for p in experiment.iterdir() if p.is_dir() and _is_run_dir(p)))
    return found


def _keyed_files(folder: Path) -> dict[str, Path]:
    """``{key: file}`` for a metrics/ or params/ folder (nested keys joined by ``/``)."""
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def _read_metric(path: Path) -> dict[int, float]:
    values: dict[int, float] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    for number, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) not in (2, 3):
            raise DataError(f"{path}:{number}: expected 'timestamp value step', got {line[:60]!r}")
        try:
            value = float(parts[1])
            step = int(parts[2]) if len(parts) == 3 else 0
        except ValueError:
            raise DataError(
                f"{path}:{number}: expected 'timestamp value step' with numbers, got {line[:60]!r}"
            ) from None
        values[step] = value
    return values


def _status_of(code: str) -> tuple[str, str | None]:
    status = _STATUS.get(code, code.upper())
    if status == "FINISHED":
        return "done", None
    if status in ("RUNNING", "SCHEDULED"):
        return "failed", f"MLflow run never finished (status {status})"
    return "failed", f"MLflow status {status}"


def _read_run_dir(path: Path, experiments: dict[str, str]) -> tuple[str, str, dict, dict, str]:
    meta = read_meta(path / "meta.yaml")
    run_id = meta.get("run_id") or meta.get("run_uuid") or path.name
    experiment_id = meta.get("experiment_id", path.parent.name)
    if experiment_id not in experiments:
        experiment_meta = path.parent / "meta.yaml"
        experiments[experiment_id] = (
            read_meta(experiment_meta).get("name", experiment_id)
            if experiment_meta.is_file()
            else experiment_id
        )
    run_name = meta.get("run_name") or ""
    tag = path / "tags" / "mlflow.runName"
    if not run_name and tag.is_file():
        run_name = tag.read_text(encoding="utf-8").strip()
    name = f"{experiments[experiment_id]}/{run_name or run_id}"
    params = {
        key: parse_value(file.read_text(encoding="utf-8"))
        for key, file in _keyed_files(path / "params").items()
    }
    metrics = {key: _read_metric(file) for key, file in _keyed_files(path / "metrics").items()}
    return run_id, name, params, metrics, meta.get("status", "")


def read_mlflow(
    path: str | os.PathLike[str],
    *,
    params: Mapping[str, Any] | None = None,
    pattern: str | None = None,
) -> list[IngestedRun]:
    """Read the runs of a local MLflow tracking folder or SQLite database.

    Parameters
    ----------
    path
        ``mlruns/`` (or the folder containing it), one experiment folder, one run folder,
        or a SQLite tracking database (``mlflow.db``).
    params
        Parameters given to every run (override the logged params).
    pattern
        A regex with named groups matched against each run's ``experiment/run_name``.

    Raises
    ------
    DataError
        Missing path, no runs, unreadable metric files, or a pattern that does not match.
    """
    root = existing_path(path, "an MLflow tracking folder (mlruns/) or mlflow.db")
    compiled = compile_pattern(pattern)
    if root.is_file():
        found = _read_sqlite(root)
    else:
        directories = run_dirs(root)
        experiments: dict[str, str] = {}
        found = []
        for directory in directories:
            meta = read_meta(directory / "meta.yaml")
            if meta.get("lifecycle_stage") == "deleted":
                continue
            run_id, name, run_params, metrics, status = _read_run_dir(directory, experiments)
            found.append((run_id, name, run_params, metrics, status, str(directory)))
    if not found:
        raise DataError(
            f"{root}: no MLflow runs here; point at mlruns/, an experiment or run folder, "
            "or an mlflow.db file"
        )
    found = [entry for entry in found if entry[3]]  # runs that logged no metric are skipped
    if not found:
        raise DataError(f"{root}: the MLflow runs here logged no metrics")
    runs: list[IngestedRun] = []
    for run_id, name, run_params, metrics, status_code, source in found:
        status, reason = _status_of(str(status_code))
        runs.append(
            make_run(
                name=name,
                identity=run_id,
                source=source,
                params=merge_params(
                    run_params, params_from_name(compiled, name), dict(params or {})
                ),
                columns=metrics,
                status=status,  # type: ignore[arg-type]
                reason=reason,
                nan_diverges=True,
                extra={"mlflow_run_id": run_id},
            )
        )
    return sorted(runs, key=lambda r: (r.name, r.identity))


def _read_sqlite(path: Path) -> list[tuple[str, str, dict, dict, str, str]]:
    """Runs of an MLflow SQLite tracking database (read only)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"{path}: cannot open as an MLflow database ({exc})") from None
    try:
        experiments = dict(
            connection.execute(
                "SELECT experiment_id, name FROM experiments WHERE lifecycle_stage != 'deleted'"
            ).fetchall()
        )
        runs = connection.execute(
            "SELECT run_uuid, name, status, experiment_id FROM runs "
            "WHERE lifecycle_stage != 'deleted' ORDER BY start_time, run_uuid"
        ).fetchall()
        metric_rows = connection.execute(
            "SELECT run_uuid, key, value, step, is_nan FROM metrics "
            "ORDER BY run_uuid, key, step, timestamp, rowid"
        ).fetchall()
        param_rows = connection.execute("SELECT run_uuid, key, value FROM params").fetchall()
    except sqlite3.Error as exc:
        raise DataError(
            f"{path}: not an MLflow tracking database ({exc}); give mlruns/ or mlflow.db"
        ) from None
    finally:
        connection.close()
    metrics: dict[str, dict[str, dict[int, float]]] = {}
    for run_id, key, value, step, is_nan in metric_rows:
        number = math.nan if is_nan else float(value)
        metrics.setdefault(run_id, {}).setdefault(key, {})[int(step)] = number
    run_params: dict[str, dict[str, Any]] = {}
    for run_id, key, value in param_rows:
        run_params.setdefault(run_id, {})[key] = parse_value(str(value))
    out = []
    for run_id, run_name, status, experiment_id in runs:
        if experiment_id not in experiments:
            continue
        name = f"{experiments[experiment_id]}/{run_name or run_id}"
        out.append(
            (
                run_id,
                name,
                run_params.get(run_id, {}),
                metrics.get(run_id, {}),
                str(status),
                str(path),
            )
        )
    return out


def ingest_mlflow(
    path: str | os.PathLike[str],
    store: Any,
    *,
    params: Mapping[str, Any] | None = None,
    pattern: str | None = None,
    task: str = "mlflow",
    replace: bool = False,
) -> IngestResult:
    """Read MLflow runs (see :func:`read_mlflow`) and publish them into ``store``."""
    runs = read_mlflow(path, params=params, pattern=pattern)
    options = reader_options(read_mlflow, params=params, pattern=pattern)
    return publish_runs(runs, store, kind="mlflow", task=task, options=options, replace=replace)
