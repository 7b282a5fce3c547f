"""Import Weights & Biases runs: offline/synced run folders and CSV exports.

Run folders (``wandb/offline-run-*`` or ``wandb/run-*``) hold the run's transaction log
``run-<id>.wandb``: W&B's protocol-buffer records (``wandb.proto.wandb_internal_pb2``)
framed in the LevelDB log format (a ``:W&B`` header, 32 KiB blocks, records with a CRC-32
of their type and data). The log is read record by record with every checksum verified:
a file corrupt before its end is refused. A log that ends inside a record is what a
killed run leaves behind; its complete records are imported, with status ``failed``
(there is no exit record), so they are never mixed with complete runs. From it come the
history rows (``wandb.log``), the config (``wandb.init(config=...)`` and later updates)
and the exit code. ``files/config.yaml`` is used when the log carries no config.

History keys starting with ``_`` (``_runtime``, ``_timestamp``) are W&B's own and are
left out; ``_step`` is the step unless another key is chosen. Non-numeric values
(media, tables, strings) are skipped. A run whose log has no exit record (killed before
``wandb.finish``) or a non-zero exit code is imported with status ``failed``. Folders of
a resumed run (same run id) are merged in folder order.

CSV exports of a chart (columns ``Step``, ``<run> - <metric>``, and optionally
``<run> - <metric>__MIN`` / ``__MAX``) are read too, one run per ``<run>`` prefix;
other CSV files (``run.history()`` saved with pandas) are read as a single wide table.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from landaulab.errors import DataError
from landaulab.store.ingest.common import (
    IngestedRun,
    IngestResult,
    compile_pattern,
    existing_path,
    integer_steps,
    make_run,
    merge_params,
    numeric_column,
    params_from_name,
    publish_runs,
    reader_options,
    require_extra,
)

EXTRA = "wandb"
_PURPOSE = "reading W&B run files"

_HEADER = b":W&B"
_HEADER_LEN = 7
_BLOCK = 32768
_RECORD_HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_TYPE_CRC = {t: zlib.crc32(bytes([t])) & 0xFFFFFFFF for t in (_FULL, _FIRST, _MIDDLE, _LAST)}
_EXPORT_COLUMN = re.compile(r"^(?P<run>.+?) - (?P<metric>.+?)(?P<bound>__MIN|__MAX)?$")


def read_log_records(path: Path) -> tuple[list[bytes], str | None]:
    """The records of a ``.wandb`` transaction log, checksums verified.

    Returns
    -------
    records, cut_off
        The complete records, and why the log ends early (``None`` if it ends cleanly).
        A killed run's log ends inside a record (or in the zero fill W&B writes ahead);
        its complete records are kept.

    Raises
    ------
    DataError
        For a file that is not a W&B log, or is corrupt before its end (a checksum
        mismatch followed by more data, bad block padding, a fragment without a start).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if len(raw) < _HEADER_LEN or raw[:4] != _HEADER:
        raise DataError(f"{path}: not a W&B run log (no ':W&B' header)")
    position = _HEADER_LEN
    pending: bytearray | None = None
    records: list[bytes] = []

    def cut_off(where: str) -> tuple[list[bytes], str]:
        return records, f"the log ends inside a record ({where}) after {len(records)} records"

    while position < len(raw):
        room = _BLOCK - position % _BLOCK
        if room < _RECORD_HEADER:
            if raw[position : position + room].strip(b"\x00"):
                raise DataError(f"{path}: corrupt W&B run log (bad block padding at {position})")
            position += room
            continue
        if len(raw) - position < _RECORD_HEADER:
            return cut_off("header")
        checksum, length, kind = struct.unpack_from("<IHB", raw, position)
        start = position
        position += _RECORD_HEADER
        if kind == 0 and checksum == 0 and length == 0:
            if raw[start:].strip(b"\x00"):
                position = start + room  # zero fill to the end of this block
                continue
            break  # zero fill to the end of the file
        data = raw[position : position + length]
        if len(data) < length:
            return cut_off("data")
        position += length
        if kind not in _TYPE_CRC or zlib.crc32(data, _TYPE_CRC[kind]) & 0xFFFFFFFF != checksum:
            if not raw[position:].strip(b"\x00"):
                return cut_off("checksum of the last record")
            raise DataError(
                f"{path}: corrupt W&B run log (checksum mismatch in record {len(records) + 1})"
            )
        if kind == _FULL:
            if pending is not None:
                raise DataError(
                    f"{path}: corrupt W&B run log (record {len(records) + 1} unfinished)"
                )
            records.append(bytes(data))
        elif kind == _FIRST:
            pending = bytearray(data)
        elif pending is None:
            raise DataError(f"{path}: corrupt W&B run log (record {len(records) + 1} has no start)")
        else:
            pending.extend(data)
            if kind == _LAST:
                records.append(bytes(pending))
                pending = None
    if pending is not None:
        return cut_off("fragment")
    return records, None


@dataclass
class _WandbRun:
    """What one run's log holds."""

    identity: str
    name: str
    source: str
    rows: list[dict[str, float]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None
    cut_off: str | None = None


def _item_key(item: Any) -> str:
    return item.key if item.key else ".".join(item.nested_key)


def _item_value(item: Any) -> Any:
    oneofs = item.DESCRIPTOR.oneofs_by_name
    kind = item.WhichOneof("value") if "value" in oneofs else None
    if kind is None:
        text = getattr(item, "value_json", "")
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None
    if kind == "none":
        return None
    if kind == "json":
        try:
            return json.loads(item.json)
        except ValueError:
            return None
    return getattr(item, kind)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity", "nan", "inf", "-inf"):
        return float(value.replace("Infinity", "inf"))
    return None


def _config_value(value: Any) -> Any:
    """W&B config entries are ``{"value": ..., "desc": ...}`` in config.yaml."""
    if isinstance(value, Mapping) and "value" in value and set(value) <= {"value", "desc"}:
        return value["value"]
    return value


def read_run_log(path: Path) -> _WandbRun:
    """Parse one ``run-<id>.wandb`` file."""
    module = require_extra("wandb.proto.wandb_internal_pb2", EXTRA, _PURPOSE)
    from google.protobuf.message import DecodeError

    folder = path.parent
    run = _WandbRun(identity=path.stem.removeprefix("run-"), name=folder.name, source=str(path))
    records, run.cut_off = read_log_records(path)
    for data in records:
        record = module.Record()
        try:
            record.ParseFromString(data)
        except DecodeError as exc:
            raise DataError(f"{path}: a record is not a W&B record ({exc})") from None
        kind = record.WhichOneof("record_type")
        if kind == "history":
            row = {_item_key(item): _item_value(item) for item in record.history.item}
            run.rows.append(row)
        elif kind == "run":
            if record.run.run_id:
                run.identity = record.run.run_id
            if record.run.display_name:
                run.name = record.run.display_name
            _update_config(run.config, record.run.config)
        elif kind == "config":
            _update_config(run.config, record.config)
        elif kind == "exit":
            run.exit_code = int(record.exit.exit_code)
    if not run.config:
        run.config = _config_yaml(folder / "files" / "config.yaml")
    return run


def _update_config(config: dict[str, Any], proto: Any) -> None:
    for item in proto.update:
        key = _item_key(item)
        if key.startswith("_"):
            continue
        config[key] = _config_value(_item_value(item))
    for item in proto.remove:
        config.pop(_item_key(item), None)


def _config_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        import yaml
    except ImportError:
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: unreadable W&B config ({exc})") from None
    if not isinstance(loaded, Mapping):
        return {}
    return {
        str(k): _config_value(v)
        for k, v in loaded.items()
        if not str(k).startswith("_") and k != "wandb_version"
    }


def run_logs(root: Path) -> list[Path]:
    """The ``.wandb`` logs under ``root`` (symbolic links such as ``latest-run`` skipped)."""
    if root.is_file():
        return [root]
    found: list[Path] = []
    for directory, subdirectories, files in os.walk(root, followlinks=False):
        subdirectories[:] = sorted(
            d for d in subdirectories if not os.path.islink(os.path.join(directory, d))
        )
        found.extend(Path(directory) / f for f in sorted(files) if f.endswith(".wandb"))
    return sorted(found)


def read_wandb(
    path: str | os.PathLike[str],
    *,
    params: Mapping[str, Any] | None = None,
    pattern: str | None = None,
    step_key: str | None = None,
) -> list[IngestedRun]:
    """Read W&B runs from a run folder, a folder of runs, a ``.wandb`` file or a CSV export.

    Parameters
    ----------
    path
        A ``wandb/`` folder, one run folder, one ``run-<id>.wandb`` file, or a CSV export.
    params
        Parameters given to every run (override the W&B config).
    pattern
        A regex with named groups matched against each run's name.
    step_key
        The history key used as the step (default ``_step``; for a CSV export ``Step``).

    Raises
    ------
    DataError
        Missing path, no runs, a truncated or corrupt log, a run without numeric history.
    """
    root = existing_path(path, "a W&B run folder, .wandb file or CSV export")
    compiled = compile_pattern(pattern)
    if root.is_file() and root.suffix.lower() in (".csv", ".gz"):
        return read_wandb_export(root, params=params, pattern=pattern, step_col=step_key)
    if root.is_file() and root.suffix != ".wandb":
        raise DataError(f"{root}: not a W&B run log (.wandb) or CSV export")
    logs = run_logs(root)
    if not logs:
        raise DataError(
            f"{root}: no W&B run logs (run-<id>.wandb) in this folder or below it; "
            "point at a wandb/ folder, a run folder or a CSV export"
        )
    merged: dict[str, _WandbRun] = {}
    for log in sorted(logs, key=lambda p: (p.parent.name, p.name)):
        run = read_run_log(log)
        previous = merged.get(run.identity)
        if previous is None:
            merged[run.identity] = run
        else:
            previous.rows.extend(run.rows)
            previous.config.update(run.config)
            previous.exit_code = run.exit_code
            previous.cut_off = run.cut_off
            previous.source = f"{previous.source}, {run.source}"
    key = step_key or "_step"
    out: list[IngestedRun] = []
    logged = [run for run in merged.values() if run.rows]
    if not logged:
        raise DataError(f"{root}: the W&B runs here logged no history (wandb.log)")
    for run in sorted(logged, key=lambda r: (r.name, r.identity)):
        columns = _history_columns(run, key)
        if run.exit_code is None:
            status, reason = "failed", "the W&B log has no exit record (cut off before finish)"
            if run.cut_off:
                reason += f"; {run.cut_off}"
        elif run.exit_code != 0:
            status, reason = "failed", f"W&B exit code {run.exit_code}"
        else:
            status, reason = "done", None
        out.append(
            make_run(
                name=run.name,
                identity=run.identity,
                source=run.source,
                params=merge_params(
                    run.config, params_from_name(compiled, run.name), dict(params or {})
                ),
                columns=columns,
                status=status,  # type: ignore[arg-type]
                reason=reason,
                nan_diverges=True,
                extra={"wandb_run_id": run.identity},
            )
        )
    return out


def _history_columns(run: _WandbRun, key: str) -> dict[str, dict[int, float]]:
    columns: dict[str, dict[int, float]] = {}
    with_step = 0
    for row in run.rows:
        raw_step = row.get(key)
        step = _number(raw_step)
        if step is None or not math.isfinite(step):
            continue
        if step != round(step):
            raise DataError(
                f"{run.source}: history key {key!r} has a non-integer value {raw_step!r}; "
                "choose another --step-col"
            )
        with_step += 1
        for name, value in row.items():
            if name == key or name.startswith("_"):
                continue
            number = _number(value)
            if number is not None:
                columns.setdefault(name, {})[int(step)] = number
    if not with_step:
        keys = sorted({k for row in run.rows for k in row})
        raise DataError(
            f"{run.source}: no history row has the step key {key!r}"
            + (f" (keys: {', '.join(keys[:12])})" if keys else " (the run logged no history)")
        )
    return columns


def read_wandb_export(
    path: Path,
    *,
    params: Mapping[str, Any] | None = None,
    pattern: str | None = None,
    step_col: str | None = None,
) -> list[IngestedRun]:
    """Read a W&B chart CSV export (``Step``, ``<run> - <metric>`` columns).

    Without ``<run> - <metric>`` columns the file is read as one wide table (a saved
    ``run.history()``), with ``_step`` as the default step column.
    """
    from landaulab.store.ingest.tabular import read_frame, read_table

    frame = read_frame(path)
    shaped = {c: _EXPORT_COLUMN.match(str(c)) for c in frame.columns}
    if not any(m is not None for c, m in shaped.items() if c != step_col):
        return read_table(
            path, layout="wide", step_col=step_col or "_step", params=params, pattern=pattern
        )
    step_name = step_col or next(
        (c for c in ("Step", "step", "_step") if c in frame.columns), "Step"
    )
    if step_name not in frame.columns:
        raise DataError(
            f"{path}: no step column {step_name!r} in this W&B export "
            f"(columns: {', '.join(map(str, frame.columns[:8]))}); choose --step-col"
        )
    compiled = compile_pattern(pattern)
    steps = integer_steps(frame[step_name], str(path), step_name)
    per_run: dict[str, dict[str, dict[int, float]]] = {}
    for column, match in shaped.items():
        if column == step_name:
            continue
        if match is None:
            raise DataError(
                f"{path}: column {column!r} is neither the step nor '<run> - <metric>'; "
                "drop it or choose --step-col"
            )
        if match.group("bound"):
            continue
        values = numeric_column(frame[column], str(path), str(column))
        keep = ~np.isnan(values)
        per_run.setdefault(match.group("run"), {})[match.group("metric")] = {
            int(s): float(v) for s, v in zip(steps[keep], values[keep], strict=True)
        }
    runs = []
    for name in sorted(per_run):
        runs.append(
            make_run(
                name=name,
                identity=name,
                source=str(path),
                params=merge_params(params_from_name(compiled, name), dict(params or {})),
                columns=per_run[name],
                nan_diverges=False,
            )
        )
    return runs


def ingest_wandb(
    path: str | os.PathLike[str],
    store: Any,
    *,
    params: Mapping[str, Any] | None = None,
    pattern: str | None = None,
    step_key: str | None = None,
    task: str = "wandb",
    replace: bool = False,
) -> IngestResult:
    """Read W&B runs (see :func:`read_wandb`) and publish them into ``store``."""
    runs = read_wandb(path, params=params, pattern=pattern, step_key=step_key)
    options = reader_options(read_wandb, params=params, pattern=pattern, step_key=step_key)
    return publish_runs(runs, store, kind="wandb", task=task, options=options, replace=replace)
