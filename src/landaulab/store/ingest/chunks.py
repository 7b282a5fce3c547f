"""Rows of complete runs made into validated runs, many runs at a time (numpy).

:class:`~landaulab.store.ingest.scan.TableScan` hands over the rows of runs it has seen
whole (:class:`Rows`: each row's run, step, metric values and parameter cells, each
run's rows together); :func:`build_chunk` does, vectorised over all of them, what
:func:`~landaulab.store.ingest.common.run_from_table` does for one run: repeated steps
merged (they must agree), a long table turned wide, metric columns and rows without a
value dropped, the first infinite value found (the run diverged), and the trajectory
fingerprinted exactly as :meth:`~landaulab.store.ingest.common.IngestedRun.fingerprint`
would, so run ids do not depend on which path read a table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from landaulab.errors import DataError
from landaulab.serialize import to_json


@dataclass
class Rows:
    """Rows of a table with each row's run (``key``: runs numbered as they appear), its
    step, one float array per numeric column (NaN: empty), the parameter cells and, for a
    long table, each row's metric (its position in the sorted metric names)."""

    key: np.ndarray
    step: np.ndarray
    values: list[np.ndarray]
    params: list[pa.Array]
    metric: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.key.size)

    def take(self, rows: slice) -> Rows:
        return Rows(
            self.key[rows],
            self.step[rows],
            [v[rows] for v in self.values],
            [p[rows] for p in self.params],
            None if self.metric is None else self.metric[rows],
        )

    @staticmethod
    def join(first: Rows | None, second: Rows) -> Rows:
        if first is None or not len(first):
            return second
        return Rows(
            np.concatenate((first.key, second.key)),
            np.concatenate((first.step, second.step)),
            [np.concatenate(p) for p in zip(first.values, second.values, strict=True)],
            [pa.concat_arrays([a, b]) for a, b in zip(first.params, second.params, strict=True)],
            None
            if first.metric is None or second.metric is None
            else np.concatenate((first.metric, second.metric)),
        )

    def ordered(self) -> Rows:
        """The rows ordered by run and step (stably); ``self`` when they are."""
        key, step = self.key, self.step
        if key.size < 2 or not np.any((key[1:] == key[:-1]) & (step[1:] < step[:-1])):
            return self
        order = np.lexsort((step, key))
        return Rows(
            key[order],
            step[order],
            [v[order] for v in self.values],
            [p.take(pa.array(order)) for p in self.params],
            None if self.metric is None else self.metric[order],
        )


@dataclass
class Chunk:
    """Complete runs of one file, validated, with their rows run after run.

    Attributes
    ----------
    path
        The file.
    names, identities
        Each run's name and its identity within its source.
    params
        Each run's parameters (flat, JSON-safe).
    statuses, reasons, diverged
        ``done`` or ``diverged`` (an infinite value), why, and where.
    fingerprints
        Each run's trajectory fingerprint (as :meth:`IngestedRun.fingerprint`).
    columns
        Each run's trajectory columns: ``step`` and the metrics it logged.
    finals
        Each run's values at its last step (``step`` and its non-NaN metrics).
    counts
        Each run's number of rows.
    step, values
        The rows: steps and one float64 array per metric of the file (NaN: not logged).
    """

    path: Path
    names: list[str]
    identities: list[str]
    params: list[dict[str, Any]]
    statuses: list[str]
    reasons: list[str | None]
    diverged: list[dict[str, Any] | None]
    fingerprints: list[str]
    columns: list[tuple[str, ...]]
    finals: list[dict[str, Any]]
    counts: np.ndarray
    step: np.ndarray
    values: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.names)

    def trajectories(self) -> Iterator[pd.DataFrame]:
        """Each run's trajectory table (``step`` and the metrics it logged)."""
        start = 0
        for count, columns in zip(self.counts.tolist(), self.columns, strict=True):
            stop = start + count
            data: dict[str, Any] = {"step": self.step[start:stop]}
            data.update({c: self.values[c][start:stop] for c in columns[1:]})
            yield pd.DataFrame(data)
            start = stop


def run_starts(key: np.ndarray) -> np.ndarray:
    """Where each run's rows begin (rows grouped by run)."""
    if not key.size:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))


def build_chunk(
    rows: Rows,
    *,
    path: Path,
    metrics: list[str],
    labels: list[str],
    names: list[str],
    identities: list[str],
    params: list[dict[str, Any]],
    where: Callable[[str], str],
) -> Chunk:
    """Validated runs from the rows of complete runs, ordered by run and step.

    Parameters
    ----------
    rows
        The rows (see :meth:`Rows.ordered`).
    path
        The file they come from.
    metrics
        The metric names: of the numeric columns (wide) or all of them, sorted (long).
    labels, names, identities, params
        Each run's value in the run column, name, identity and parameters.
    where
        Where a run's rows are, for messages (the file and the run).

    Raises
    ------
    DataError
        For a step with two different values of a metric, or a run without any value.
    """
    key, step, matrix = _collapse(rows, metrics, labels, where)
    starts = run_starts(key)
    logged = np.column_stack([~np.isnan(column) for column in matrix])
    present = np.logical_or.reduceat(logged, starts, axis=0)
    empty = ~present.any(axis=1)
    if empty.any():
        name = names[int(np.flatnonzero(empty)[0])]
        raise DataError(f"{path}: run {name!r} has no scalar values to import")
    keep = logged.any(axis=1)
    if not keep.all():
        key, step = key[keep], step[keep]
        matrix = [column[keep] for column in matrix]
        starts = run_starts(key)
    counts = np.diff(np.append(starts, key.size))
    statuses, reasons, diverged = _divergence(step, matrix, starts, metrics)
    named: dict[bytes, tuple[str, ...]] = {}
    columns = []
    for row in present:
        signature = row.tobytes()
        if signature not in named:
            named[signature] = ("step", *(metrics[j] for j in np.flatnonzero(row)))
        columns.append(named[signature])
    return Chunk(
        path=path,
        names=names,
        identities=identities,
        params=params,
        statuses=statuses,
        reasons=reasons,
        diverged=diverged,
        fingerprints=_fingerprints(step, matrix, starts, counts, present, columns),
        columns=columns,
        finals=_finals(step, matrix, starts, counts, metrics),
        counts=counts,
        step=step,
        values=dict(zip(metrics, matrix, strict=True)),
    )


def _collapse(
    rows: Rows, metrics: list[str], labels: list[str], where: Callable[[str], str]
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """One row per (run, step): repeated steps merged (they must agree), a long table
    turned wide (a column per metric)."""
    key, step = rows.key, rows.step
    new = np.ones(key.size, dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | (step[1:] != step[:-1])
    group = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    run_of = np.cumsum(np.concatenate(([True], key[1:] != key[:-1]))) - 1

    def conflict(row: int, metric: str, lo: float, hi: float) -> DataError:
        return DataError(
            f"{where(labels[run_of[row]])}: step {int(step[row])} has two values of "
            f"{metric!r} ({lo!r} and {hi!r}); is a run column missing (--run-col)?"
        )

    if rows.metric is None:
        if first.size == key.size:
            return key, step, rows.values
        matrix = []
        for j, column in enumerate(rows.values):
            merged, disagree = _merge(column, first)
            if disagree.any():
                g = int(np.flatnonzero(disagree)[0])
                raise conflict(int(first[g]), metrics[j], *_pair(column, first, g))
            matrix.append(merged)
        return key[first], step[first], matrix
    # long: one cell per (run, step, metric)
    cell = np.lexsort((rows.metric, group))
    g_sorted, m_sorted = group[cell], rows.metric[cell]
    pair_new = np.ones(cell.size, dtype=bool)
    pair_new[1:] = (g_sorted[1:] != g_sorted[:-1]) | (m_sorted[1:] != m_sorted[:-1])
    pair_first = np.flatnonzero(pair_new)
    value = rows.values[0][cell]
    merged, disagree = _merge(value, pair_first)
    if disagree.any():
        p = int(np.flatnonzero(disagree)[0])
        metric = metrics[int(m_sorted[pair_first[p]])]
        raise conflict(int(cell[pair_first[p]]), metric, *_pair(value, pair_first, p))
    matrix = [np.full(first.size, np.nan) for _ in metrics]
    targets, which = g_sorted[pair_first], m_sorted[pair_first]
    for j in range(len(metrics)):
        mine = which == j
        matrix[j][targets[mine]] = merged[mine]
    return key[first], step[first], matrix


def _merge(values: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group (starting at ``first``): the value its non-NaN cells share, and
    whether they disagree."""
    lo = np.fmin.reduceat(values, first)
    hi = np.fmax.reduceat(values, first)
    return lo, (lo != hi) & ~np.isnan(lo)


def _pair(values: np.ndarray, first: np.ndarray, group: int) -> tuple[float, float]:
    """Two disagreeing values of a group, in row order."""
    stop = first[group + 1] if group + 1 < first.size else values.size
    cells = [float(v) for v in values[first[group] : stop] if v == v]
    other = next(v for v in cells[1:] if v != cells[0])
    return cells[0], other


def _divergence(
    step: np.ndarray, matrix: list[np.ndarray], starts: np.ndarray, metrics: list[str]
) -> tuple[list[str], list[str | None], list[dict[str, Any] | None]]:
    """Each run's first infinite value (earliest step, then column order), as
    :func:`~landaulab.store.ingest.common.first_non_finite` finds it."""
    n = step.size
    best_row = np.full(starts.size, n, dtype=np.int64)
    best_col = np.full(starts.size, -1, dtype=np.int64)
    for j, column in enumerate(matrix):
        hits = np.isinf(column)
        if not hits.any():
            continue
        first = np.minimum.reduceat(np.where(hits, np.arange(n), n), starts)
        better = first < best_row
        best_row = np.where(better, first, best_row)
        best_col = np.where(better, j, best_col)
    statuses: list[str] = []
    reasons: list[str | None] = []
    diverged: list[dict[str, Any] | None] = []
    for row, col in zip(best_row.tolist(), best_col.tolist(), strict=True):
        if col < 0:
            statuses.append("done")
            reasons.append(None)
            diverged.append(None)
            continue
        at = {"step": int(step[row]), "observable": metrics[col]}
        statuses.append("diverged")
        reasons.append(f"{at['observable']} became non-finite at step {at['step']}")
        diverged.append(at)
    return statuses, reasons, diverged


def _finals(
    step: np.ndarray,
    matrix: list[np.ndarray],
    starts: np.ndarray,
    counts: np.ndarray,
    metrics: list[str],
) -> list[dict[str, Any]]:
    """Each run's values at its last step (NaN left out)."""
    last = starts + counts - 1
    columns = [column[last].tolist() for column in matrix]
    out = []
    for s, *values in zip(step[last].tolist(), *columns, strict=True):
        final: dict[str, Any] = {"step": s}
        final.update((n, v) for n, v in zip(metrics, values, strict=True) if v == v)
        out.append(final)
    return out


def constant(
    column: pa.Array, starts: np.ndarray, path: Path, name: str, labels: list[str]
) -> list[Any]:
    """Each run's value of a parameter column (``None`` if empty in the run), JSON-safe.

    Raises
    ------
    DataError
        If it varies within a run.
    """
    if pa.types.is_floating(column.type):  # NaN is missing, as in pandas
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
    encoded = pc.dictionary_encode(column)
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    values = encoded.dictionary.to_pylist()
    present = codes >= 0
    lo = np.minimum.reduceat(np.where(present, codes, np.iinfo(np.int64).max), starts)
    hi = np.maximum.reduceat(np.where(present, codes, -1), starts)
    varying = (hi >= 0) & (lo != hi)
    if varying.any():
        i = int(np.flatnonzero(varying)[0])
        stop = starts[i + 1] if i + 1 < starts.size else codes.size
        seen = list(dict.fromkeys(c for c in codes[starts[i] : stop].tolist() if c >= 0))
        raise DataError(
            f"{path}: parameter column {name!r} varies within run {labels[i]!r} "
            f"({values[seen[0]]!r}, {values[seen[1]]!r}); "
            "a hyperparameter must be constant per run"
        )
    return [None if h < 0 else to_json(values[h], nonfinite="string") for h in hi.tolist()]


def _fingerprints(
    step: np.ndarray,
    matrix: list[np.ndarray],
    starts: np.ndarray,
    counts: np.ndarray,
    present: np.ndarray,
    columns: Sequence[tuple[str, ...]],
) -> list[str]:
    """Each run's :meth:`IngestedRun.fingerprint`, hashing the rows of many runs at once
    (a row's hash depends on that row alone, for runs with the same columns)."""
    out: list[str] = [""] * starts.size
    signatures: dict[bytes, list[int]] = {}
    for i, row in enumerate(present):
        signatures.setdefault(row.tobytes(), []).append(i)
    for runs in signatures.values():
        chosen = np.flatnonzero(present[runs[0]])
        if len(runs) == starts.size:
            rows: np.ndarray | slice = slice(None)
            offsets = starts
        else:
            picked = np.asarray(runs)
            rows = np.concatenate([np.arange(starts[i], starts[i] + counts[i]) for i in runs])
            offsets = np.concatenate(([0], np.cumsum(counts[picked])[:-1]))
        data = {"step": step[rows]}
        data.update({str(j): matrix[j][rows] for j in chosen.tolist()})
        hashed = pd.util.hash_pandas_object(pd.DataFrame(data), index=False).to_numpy()
        header = json.dumps(list(columns[runs[0]])).encode()
        for i, begin in zip(runs, offsets.tolist(), strict=True):
            digest = hashlib.sha256(header)
            digest.update(hashed[begin : begin + counts[i]].tobytes())
            out[i] = digest.hexdigest()[:16]
    return out


__all__ = ["Chunk", "Rows", "build_chunk", "constant", "run_starts"]
