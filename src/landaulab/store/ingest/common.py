"""What every importer shares: validated runs, parameters, all-or-nothing publishing.

An importer reads foreign logs into :class:`IngestedRun` objects — a name, parameters
and a validated trajectory table — and only when *every* input has been read and
checked does :func:`publish_runs` write them into the store. If anything fails while
publishing, the runs already written by this call are taken out again (and a store
created by this call is removed), so a failed import leaves the store as it was.

Run ids are stable: the hash of the task label, the parameters, the source kind, the
run's identity within its source and a fingerprint of its trajectory. Importing the same
logs twice therefore adds nothing the second time; a changed log is a new run.

Each imported run also keeps where it came from (the resolved file or folder, its
``origin``) and how it was read (the reader's ``options`` and the task label). Importing
the same logs again with *other* options would read them differently, so it is refused
(one line naming the source and ``--replace``), or with ``replace=True`` the runs read
before are replaced by the new reading.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import math
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from landaulab.errors import DataError, LandaulabError, StoreError
from landaulab.serialize import to_json
from landaulab.store.run_ids import run_id_of
from landaulab.store.store import MARKER, RunClaim, RunRecord, Status, Store

#: Characters a parameter key may not contain (they would break column names).
_SEPARATOR = "."


class MissingExtraError(LandaulabError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def require_extra(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming ``landaulab[extra]``.

    Parameters
    ----------
    module
        The module to import (e.g. ``"tensorboard"``).
    extra
        The landaulab extra that installs it (e.g. ``"tensorboard"``).
    purpose
        What needs it, for the message (e.g. ``"reading TensorBoard event files"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{purpose} needs the '{module}' package ({exc}); "
            f"install it with: pip install 'landaulab[{extra}]'"
        ) from None


# --------------------------------------------------------------------------- params
def parse_value(text: str) -> Any:
    """A command-line or folder-name value as int, float, bool, None or string.

    ``"3"`` → 3, ``"0.1"`` / ``"1e-3"`` → float, ``"true"`` / ``"false"`` → bool,
    ``"none"`` / ``"null"`` → None; anything else stays a string. Non-finite numbers
    (``"nan"``, ``"inf"``) stay strings, since parameters must be finite.
    """
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        number = float(stripped)
    except ValueError:
        return stripped
    return number if math.isfinite(number) else stripped


def parse_assignments(assignments: Iterable[str]) -> dict[str, Any]:
    """Parse ``KEY=VAL`` strings (several may share one string, separated by spaces).

    Raises
    ------
    DataError
        For an item without ``=`` or with an empty key.
    """
    out: dict[str, Any] = {}
    for item in assignments:
        for part in str(item).split():
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise DataError(f"--params {part!r}: expected KEY=VALUE, e.g. weight_decay=0.1")
            out[key.strip()] = parse_value(value)
    return out


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings into ``"outer.inner"`` keys with JSON-safe values.

    Lists keep their place (as JSON lists); everything else becomes a scalar.
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if value:
                out.update(flatten_params(value, prefix=f"{name}{_SEPARATOR}"))
            continue
        out[name] = to_json(value, nonfinite="string")
    return out


def compile_pattern(pattern: str | None) -> re.Pattern[str] | None:
    """Compile a ``--pattern`` regex, which must have named groups.

    Raises
    ------
    DataError
        For an invalid regex or one without named groups.
    """
    if pattern is None:
        return None
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise DataError(
            f"--pattern {pattern!r} is not a valid regular expression ({exc})"
        ) from None
    if not compiled.groupindex:
        raise DataError(
            f"--pattern {pattern!r} has no named groups; "
            r"write e.g. 'wd=(?P<weight_decay>[\d.e-]+)'"
        )
    return compiled


def params_from_name(pattern: re.Pattern[str] | None, name: str) -> dict[str, Any]:
    """Parameters read from a run's name (its folder path) by the named groups of ``pattern``.

    Raises
    ------
    DataError
        If the pattern does not match the name.
    """
    if pattern is None:
        return {}
    match = pattern.search(name)
    if match is None:
        raise DataError(
            f"{name}: --pattern {pattern.pattern!r} does not match this run's name; "
            "every run must match it"
        )
    return {k: parse_value(v) for k, v in match.groupdict().items() if v is not None}


def merge_params(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Later layers win: tool config, then folder pattern, then ``--params``."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(flatten_params(layer))
    return merged


# ----------------------------------------------------------------------- trajectories
def integer_steps(values: Any, where: str, column: str = "step") -> np.ndarray:
    """Steps as int64, refusing missing, non-finite and non-integer values.

    Raises
    ------
    DataError
        Naming ``where`` (a file), the column and the first bad value.
    """
    series = pd.Series(values)
    numeric = pd.to_numeric(series, errors="coerce")
    bad = numeric.isna() | ~np.isfinite(numeric.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{where}: column {column!r} has a missing or non-numeric value "
            f"{series.iloc[i]!r} (row {i + 1}); steps must be integers"
        )
    floats = numeric.to_numpy(dtype=float)
    fractional = floats != np.round(floats)
    if fractional.any():
        i = int(np.flatnonzero(fractional)[0])
        raise DataError(
            f"{where}: column {column!r} has a non-integer value {floats[i]!r} (row {i + 1}); "
            "steps must be integers (choose another --step-col)"
        )
    return floats.astype(np.int64)


def numeric_column(values: Any, where: str, column: str) -> np.ndarray:
    """A metric column as float64; missing cells are NaN, text is refused.

    Raises
    ------
    DataError
        If a non-empty cell is not a number, naming the file, column, row and value.
    """
    series = pd.Series(values)
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64").to_numpy()
    numeric = pd.to_numeric(series, errors="coerce")
    bad = numeric.isna() & series.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{where}: column {column!r} is not numeric (row {i + 1}: {series.iloc[i]!r}); "
            "declare hyperparameter columns with --param-col or drop the column"
        )
    return numeric.to_numpy(dtype="float64", na_value=np.nan)


def first_non_finite(table: pd.DataFrame) -> dict[str, Any] | None:
    """The first (step, observable) whose value is infinite, or None."""
    first: tuple[int, str] | None = None
    for column in table.columns:
        if column == "step":
            continue
        values = table[column].to_numpy(dtype=float)
        hits = np.flatnonzero(np.isinf(values))
        if hits.size:
            step = int(table["step"].iloc[hits[0]])
            if first is None or step < first[0]:
                first = (step, str(column))
    if first is None:
        return None
    return {"step": first[0], "observable": first[1]}


@dataclass(frozen=True, eq=False)
class IngestedRun:
    """One foreign run, read and validated, ready to publish.

    Attributes
    ----------
    name
        How the run is called in its source (folder path, run name, run-column value).
    identity
        What makes it unique within its source (folder path, W&B or MLflow run id).
    source
        The file or folder it was read from (used in messages).
    params
        Hyperparameters (flat, JSON-safe).
    trajectory
        A ``step`` column (int64, unique, increasing) and one float64 column per metric.
    status, reason, diverged
        As in :class:`~landaulab.store.RunRecord`.
    """

    name: str
    identity: str
    source: str
    params: dict[str, Any]
    trajectory: pd.DataFrame
    status: Status = "done"
    reason: str | None = None
    diverged: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def metrics(self) -> list[str]:
        """The metric columns of the trajectory."""
        return [c for c in self.trajectory.columns if c != "step"]

    def fingerprint(self) -> str:
        """A content hash of the trajectory (column names, steps and values)."""
        digest = hashlib.sha256()
        digest.update(json.dumps(list(map(str, self.trajectory.columns))).encode())
        hashed = pd.util.hash_pandas_object(self.trajectory, index=False).to_numpy()
        digest.update(hashed.tobytes())
        return digest.hexdigest()[:16]


def make_run(
    *,
    name: str,
    identity: str,
    source: str,
    params: Mapping[str, Any],
    columns: Mapping[str, Mapping[int, float]],
    status: Status = "done",
    reason: str | None = None,
    nan_diverges: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> IngestedRun:
    """Build a validated run from ``{metric: {step: value}}``.

    Parameters
    ----------
    nan_diverges
        Whether a logged NaN marks the run as diverged (event logs, where every value
        was logged) or means "not logged at this step" (tables). Infinite values always
        mark it as diverged.

    Raises
    ------
    DataError
        If there is no metric or no step, or a metric is named ``step``.
    """
    metrics = {str(k): v for k, v in columns.items() if len(v)}
    if not metrics:
        raise DataError(f"{source}: run {name!r} has no scalar values to import")
    if "step" in metrics:
        raise DataError(f"{source}: run {name!r} has a metric named 'step'; rename it")
    steps = np.asarray(sorted({int(s) for values in metrics.values() for s in values}))
    data: dict[str, Any] = {"step": steps.astype(np.int64)}
    diverged: dict[str, Any] | None = None
    for metric in sorted(metrics):
        logged = metrics[metric]
        where = np.searchsorted(
            steps, np.fromiter(logged.keys(), dtype=np.int64, count=len(logged))
        )
        values = np.fromiter(logged.values(), dtype=float, count=len(logged))
        column = np.full(steps.size, np.nan)
        column[where] = values
        data[metric] = column
        if nan_diverges:
            bad = where[~np.isfinite(values)]
            if bad.size and (diverged is None or steps[bad.min()] < diverged["step"]):
                diverged = {"step": int(steps[bad.min()]), "observable": metric}
    return run_from_table(
        name=name,
        identity=identity,
        source=source,
        params=params,
        table=pd.DataFrame(data),
        status=status,
        reason=reason,
        diverged=diverged,
        extra=extra,
        drop_empty=False,
    )


def run_from_table(
    *,
    name: str,
    identity: str,
    source: str,
    params: Mapping[str, Any],
    table: pd.DataFrame,
    status: Status = "done",
    reason: str | None = None,
    diverged: dict[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    drop_empty: bool = True,
) -> IngestedRun:
    """Build a validated run from a table with unique integer ``step`` values.

    With ``drop_empty`` (tables, where an empty cell means "not logged"), metric columns
    and rows without any value are dropped. A value of ±inf (or the ``diverged`` given)
    marks the run as diverged.

    Raises
    ------
    DataError
        If no metric column has a value.
    """
    metrics = [
        c for c in table.columns if c != "step" and (not drop_empty or table[c].notna().any())
    ]
    if not metrics:
        raise DataError(f"{source}: run {name!r} has no scalar values to import")
    clean = table[["step", *metrics]].copy()
    clean["step"] = clean["step"].astype("int64")
    for column in metrics:
        clean[column] = clean[column].astype("float64")
    if drop_empty:
        clean = clean.dropna(subset=metrics, how="all")
    clean = clean.sort_values("step", kind="stable").reset_index(drop=True)
    if clean["step"].duplicated().any():
        raise DataError(f"{source}: run {name!r} has repeated steps")
    if diverged is None:
        diverged = first_non_finite(clean)
    if diverged is not None and status == "done":
        status = "diverged"
        reason = f"{diverged['observable']} became non-finite at step {diverged['step']}"
    return IngestedRun(
        name=name,
        identity=identity,
        source=source,
        params=flatten_params(params),
        trajectory=clean,
        status=status,
        reason=reason,
        diverged=diverged,
        extra=dict(extra or {}),
    )


def check_unique_names(runs: Sequence[IngestedRun]) -> None:
    """Refuse two runs with the same identity (the second would shadow the first)."""
    seen: dict[str, IngestedRun] = {}
    for run in runs:
        if run.identity in seen:
            raise DataError(
                f"{run.source}: run {run.name!r} appears twice "
                f"(also in {seen[run.identity].source}); give each run its own name"
            )
        seen[run.identity] = run


# ------------------------------------------------------------------------ publishing
@dataclass(frozen=True)
class IngestResult:
    """What an import did.

    Attributes
    ----------
    store
        The store directory.
    source
        The kind of logs (``tensorboard``, ``wandb``, ``mlflow``, ``csv``).
    added
        Run ids written by this import.
    skipped
        Run ids already in the store (the same logs imported before).
    names
        Each run id's name in its source.
    replaced
        Run ids taken out because the same logs were imported before with other options
        (only with ``replace=True``).
    """

    store: str
    source: str
    added: tuple[str, ...]
    skipped: tuple[str, ...]
    names: dict[str, str]
    replaced: tuple[str, ...] = ()

    @property
    def notes(self) -> list[str]:
        """One line per thing the user should know (runs replaced)."""
        if not self.replaced:
            return []
        return [
            f"replaced {len(self.replaced)} run(s) imported before from the same logs with "
            "other options"
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "store": self.store,
            "source": self.source,
            "added": list(self.added),
            "skipped": list(self.skipped),
            "names": dict(self.names),
            "replaced": list(self.replaced),
        }

    def __str__(self) -> str:
        text = f"imported {len(self.added)} {self.source} run(s) into {self.store}"
        if self.skipped:
            text += f" ({len(self.skipped)} already there)"
        return text


def run_id_for(run: IngestedRun, task: str, kind: str) -> str:
    """The stable run id of an imported run."""
    return run_id_of(
        task,
        run.params,
        {"source": kind, "run": run.identity, "fingerprint": run.fingerprint()},
    )


def reader_options(reader: Callable[..., Any], **given: Any) -> dict[str, Any]:
    """How ``reader`` reads: every keyword of its signature, given or default, JSON-safe.

    Two imports of the same logs with equal options read them the same way.
    """
    options: dict[str, Any] = {}
    for name, parameter in inspect.signature(reader).parameters.items():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        value = given.get(name, parameter.default)
        if value is inspect.Parameter.empty:
            value = None
        if isinstance(value, tuple | list):
            value = list(value)
        elif isinstance(value, Mapping):
            value = flatten_params(value)
        if value in (None, [], {}):
            continue
        options[name] = to_json(value, nonfinite="string")
    return options


def origin_of(run: IngestedRun) -> str:
    """The resolved file or folder a run was read from."""
    return Path(run.source).resolve().as_posix()


def earlier_readings(
    store: Store, origins: set[str], kind: str, how: Mapping[str, Any], ids: set[str]
) -> list[RunRecord]:
    """Runs imported before from the same logs (``origins``) with other options.

    Runs whose id is in ``ids`` (this import's) are not a different reading.
    """
    earlier = []
    for record in store.records():
        made = record.record
        if made.get("source") != kind or record.run_id in ids:
            continue
        if made.get("origin") in origins and made.get("options") != how:
            earlier.append(record)
    return earlier


def refuse_earlier(earlier: Sequence[RunRecord]) -> None:
    """Refuse an import of logs imported before with other options (one line).

    Raises
    ------
    DataError
        Always, naming the logs, one such run and ``--replace``.
    """
    first = earlier[0].record
    raise DataError(
        f"{first.get('origin')}: these logs were imported before with other options "
        f"({len(earlier)} run(s), e.g. {earlier[0].run_id}); import them with the same "
        "options, or pass --replace (replace=True) to replace those runs"
    )


def publish_runs(
    runs: Sequence[IngestedRun],
    store: str | os.PathLike[str] | Store,
    *,
    kind: str,
    task: str,
    options: Mapping[str, Any] | None = None,
    replace: bool = False,
) -> IngestResult:
    """Publish validated runs into a store, all or nothing.

    ``options`` (from :func:`reader_options`) say how the logs were read. Runs imported
    before from the same files or folders with other options (or another ``task``) are
    a different reading of the same logs: refused, or with ``replace`` taken out once the
    new runs are in.

    Parameters
    ----------
    runs
        Runs from one of the readers (already fully validated).
    store
        The store (created if missing).
    kind
        The source kind (recorded with each run and part of its id).
    task
        The task label stored with each run.
    options
        How the runs were read (recorded with each run).
    replace
        Replace the runs of an earlier import of the same logs with other options.

    Raises
    ------
    DataError
        If ``runs`` is empty, or the same logs were imported before with other options
        and ``replace`` is false.
    StoreError
        If another process is recording one of the runs, or the store is not usable;
        runs written by this call before the failure are taken out again.
    """
    if not runs:
        raise DataError("nothing to import: no runs were found")
    check_unique_names(runs)
    ids = [run_id_for(run, task, kind) for run in runs]
    how = {"task": task, **dict(options or {})}
    target = store.path if isinstance(store, Store) else Path(store)
    created = not (target / MARKER).exists()
    existed = target.exists()
    origins = {origin_of(run) for run in runs}
    if not created and not isinstance(store, Store):
        earlier = earlier_readings(Store(target), origins, kind, how, set(ids))
    elif isinstance(store, Store):
        earlier = earlier_readings(store, origins, kind, how, set(ids))
    else:
        earlier = []
    if earlier and not replace:
        refuse_earlier(earlier)
    opened = store if isinstance(store, Store) else Store(target, create=True)
    claims: list[RunClaim] = []
    added: list[str] = []
    skipped: list[str] = []
    try:
        for run_id in dict.fromkeys(ids):
            claim = opened.claim(run_id)
            if claim is None:
                raise StoreError(f"run {run_id} is being written by another process; try again")
            claims.append(claim)
        for run, run_id in zip(runs, ids, strict=True):
            if run_id in opened or run_id in added:
                skipped.append(run_id)
                continue
            record = RunRecord(
                run_id=run_id,
                task=task,
                params=run.params,
                status=run.status,
                reason=run.reason,
                diverged=run.diverged,
                record={
                    "source": kind,
                    "run": run.name,
                    "path": run.source,
                    "origin": origin_of(run),
                    "options": how,
                    **run.extra,
                },
            )
            if opened.publish(record, run.trajectory, replace=False):
                added.append(run_id)
            else:
                skipped.append(run_id)
    except BaseException:
        opened.remove_runs(added)
        if created:
            remove_new_store(target, existed)
        raise
    finally:
        for claim in claims:
            claim.release()
    replaced = [record.run_id for record in earlier]
    opened.remove_runs(replaced)
    return IngestResult(
        store=str(target),
        source=kind,
        added=tuple(added),
        skipped=tuple(skipped),
        names={run_id: run.name for run, run_id in zip(runs, ids, strict=True)},
        replaced=tuple(replaced),
    )


def remove_new_store(path: Path, existed: bool) -> None:
    """Undo the creation of a store by a failed import."""
    if not existed:
        shutil.rmtree(path, ignore_errors=True)
        return
    for child in path.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def existing_path(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a Path, refusing one that does not exist.

    Raises
    ------
    DataError
        Naming the path and what was expected there.
    """
    resolved = Path(path)
    if not resolved.exists():
        raise DataError(f"{resolved}: no such file or directory (expected {what})")
    return resolved


def relative_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with ``/`` separators (``"."`` for the root itself)."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return path.as_posix()
    text = relative.as_posix()
    return text if text else "."
