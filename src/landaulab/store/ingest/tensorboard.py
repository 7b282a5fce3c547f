"""Import TensorBoard event files (``events.out.tfevents.*``).

A *run* is a directory holding event files, named by its path below the imported folder
(TensorBoard's own convention). Scalars are read with TensorBoard's record reader, which
checks every record's CRC, so a truncated or corrupt file is refused instead of being
half read. Both scalar encodings are understood: ``simple_value`` (PyTorch's
``SummaryWriter``, TF1) and rank-0 tensors of the ``scalars`` plugin (TF2).

Hyperparameters come from the HParams plugin's ``session_start_info`` where present
(``SummaryWriter.add_hparams``, Lightning's ``TensorBoardLogger``), and from a
``hparams.yaml`` beside the event files (Lightning). Two companion layouts written by
PyTorch's ``SummaryWriter`` are folded into their parent run: the timestamped folder
``add_hparams`` creates (its hyperparameters join the parent; its summary scalars are
dropped) and the ``<tag>_<key>`` folders ``add_scalars`` creates (joined as columns
``<tag>_<key>``).

When a tag has several values at one step (a resumed run), the last one logged wins:
the files of a folder are read in the order they were started (first wall time).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    publish_runs,
    reader_options,
    relative_name,
    require_extra,
)

EXTRA = "tensorboard"
_PURPOSE = "reading TensorBoard event files"


@dataclass
class _Folder:
    """What one directory's event files hold."""

    path: Path
    files: list[Path]
    scalars: dict[str, dict[int, float]] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)
    has_session: bool = False


def _is_event_file(path: Path) -> bool:
    return path.is_file() and "tfevents" in path.name


def event_files(root: Path) -> list[Path]:
    """All event files under ``root`` (or ``root`` itself), sorted by path."""
    if root.is_file():
        if not _is_event_file(root):
            raise DataError(
                f"{root}: not a TensorBoard event file (expected a name containing 'tfevents')"
            )
        return [root]
    return sorted(p for p in root.rglob("*tfevents*") if _is_event_file(p))


def read_event_file(path: Path) -> tuple[float, _Folder]:
    """The scalars and hyperparameters of one event file, with its first wall time.

    Raises
    ------
    DataError
        If the file is truncated, corrupt, or not an event file.
    """
    require_extra("tensorboard", EXTRA, _PURPOSE)
    from google.protobuf.message import DecodeError
    from tensorboard.compat.proto import event_pb2
    from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow

    try:
        reader = pywrap_tensorflow.PyRecordReader_New(os.fsencode(path), 0, None, None)
    except (OSError, errors.OpError) as exc:
        raise DataError(f"{path}: cannot open event file ({exc})") from None
    folder = _Folder(path=path.parent, files=[path])
    count = 0
    first_wall_time = math.inf
    while True:
        try:
            reader.GetNext()
        except errors.OutOfRangeError:
            break
        except errors.DataLossError as exc:
            raise DataError(
                f"{path}: truncated or corrupt TensorBoard event file after {count} record(s) "
                f"({_first_line(exc)}); copy it again or delete it"
            ) from None
        except OSError as exc:
            raise DataError(f"{path}: cannot read event file ({exc})") from None
        try:
            event = event_pb2.Event.FromString(reader.record())
        except DecodeError as exc:
            raise DataError(
                f"{path}: record {count + 1} is not a TensorBoard event ({exc}); "
                "is this an event file?"
            ) from None
        count += 1
        first_wall_time = min(first_wall_time, float(event.wall_time))
        if event.HasField("summary"):
            _read_summary(event, folder, path)
    return first_wall_time, folder


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(text).splitlines()[0]


def _read_summary(event: Any, folder: _Folder, path: Path) -> None:
    from tensorboard.plugins.hparams import plugin_data_pb2
    from tensorboard.util import tensor_util

    step = int(event.step)
    for value in event.summary.value:
        plugin = value.metadata.plugin_data.plugin_name
        kind = value.WhichOneof("value")
        if plugin == "hparams":
            data = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
            if data.HasField("session_start_info"):
                folder.has_session = True
                for name, proto in data.session_start_info.hparams.items():
                    folder.hparams[name] = _hparam_value(proto)
            continue
        if kind == "simple_value":
            folder.scalars.setdefault(value.tag, {})[step] = float(value.simple_value)
        elif kind == "tensor" and plugin in ("scalars", ""):
            array = tensor_util.make_ndarray(value.tensor)
            if array.size == 1 and array.dtype.kind in "fiub":
                folder.scalars.setdefault(value.tag, {})[step] = float(array.reshape(-1)[0])


def _hparam_value(proto: Any) -> Any:
    """An hparams value; numbers are stored as doubles, so an integral one becomes an int.

    A seed logged as ``3`` then reads as ``3``, as from ``--pattern`` or ``--params``.
    """
    kind = proto.WhichOneof("kind")
    if kind == "number_value":
        number = float(proto.number_value)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "string_value":
        return str(proto.string_value)
    if kind == "bool_value":
        return bool(proto.bool_value)
    return None


def _hparams_yaml(directory: Path) -> dict[str, Any]:
    """Lightning's ``hparams.yaml`` beside the event files, when readable."""
    path = directory / "hparams.yaml"
    if not path.is_file():
        return {}
    try:
        import yaml
    except ImportError:
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: unreadable hyperparameter file ({exc})") from None
    return dict(loaded) if isinstance(loaded, Mapping) else {}


def _companion_column(child: _Folder) -> str | None:
    """The column name if ``child`` is an ``add_scalars`` folder ``<tag>_<key>``."""
    if len(child.scalars) != 1 or child.has_session:
        return None
    (tag,) = child.scalars
    stem = tag.replace("/", "_") + "_"
    name = child.path.name
    if name.startswith(stem) and len(name) > len(stem):
        return f"{tag}_{name[len(stem) :]}"
    return None


def read_tensorboard(
    path: str | os.PathLike[str],
    *,
    params: Mapping[str, Any] | None = None,
    pattern: str | None = None,
) -> list[IngestedRun]:
    """Read every run below ``path`` (a log directory or one event file).

    Parameters
    ----------
    path
        A TensorBoard log directory (searched recursively) or a single event file.
    params
        Parameters given to every run (override the logged hyperparameters).
    pattern
        A regex with named groups matched against each run's folder path, e.g.
        ``r"wd=(?P<weight_decay>[\\d.e-]+)"``.

    Returns
    -------
    list of IngestedRun
        One per folder with scalars, sorted by name.

    Raises
    ------
    DataError
        Missing path, no event files, a truncated or corrupt file, no scalars, or a
        pattern that does not match a run.
    """
    root = existing_path(path, "a TensorBoard log directory or event file")
    compiled = compile_pattern(pattern)
    files = event_files(root)
    if not files:
        raise DataError(
            f"{root}: no TensorBoard event files (events.out.tfevents.*) in this folder or below it"
        )
    base = root.parent if root.is_file() else root
    parsed = sorted(
        ((read_event_file(file), file) for file in files),
        key=lambda item: (item[1].parent, item[0][0], item[1].name),
    )
    folders: dict[Path, _Folder] = {}
    for (_, data), file in parsed:  # in each folder, files in the order they were started
        folder = folders.setdefault(file.parent, _Folder(path=file.parent, files=[]))
        folder.files.append(file)
        folder.has_session = folder.has_session or data.has_session
        folder.hparams.update(data.hparams)
        for tag, values in data.scalars.items():
            folder.scalars.setdefault(tag, {}).update(values)
    for directory, folder in folders.items():
        folder.hparams = {**_hparams_yaml(directory), **folder.hparams}
    runs_by_dir = _fold_companions(folders, base)
    runs: list[IngestedRun] = []
    for directory, folder in sorted(runs_by_dir.items()):
        if not folder.scalars:
            continue
        name = relative_name(directory, base)
        if name == ".":
            name = directory.resolve().name or "run"
        run_params = merge_params(
            folder.hparams, params_from_name(compiled, name), dict(params or {})
        )
        runs.append(
            make_run(
                name=name,
                identity=name,
                source=str(directory),
                params=run_params,
                columns=folder.scalars,
                nan_diverges=True,
            )
        )
    if not runs:
        raise DataError(
            f"{root}: the event files hold no scalar summaries (only images, histograms, "
            "graphs or hyperparameters)"
        )
    return runs


def _fold_companions(folders: dict[Path, _Folder], base: Path) -> dict[Path, _Folder]:
    """Merge ``add_scalars`` and then ``add_hparams`` sub-folders into their parent run."""
    runs = dict(folders)
    deepest_first = sorted(folders, key=lambda p: (-len(p.parts), p))
    for directory in deepest_first:
        parent = runs.get(directory.parent)
        if parent is None or directory == base:
            continue
        column = _companion_column(runs[directory])
        if column is not None and column not in parent.scalars:
            parent.scalars[column] = next(iter(runs[directory].scalars.values()))
            del runs[directory]
    for directory in deepest_first:
        parent = runs.get(directory.parent)
        child = runs.get(directory)
        if parent is None or child is None or directory == base:
            continue
        if child.has_session and parent.scalars:
            parent.hparams = {**child.hparams, **parent.hparams}
            del runs[directory]
    return runs


def ingest_tensorboard(
    path: str | os.PathLike[str],
    store: Any,
    *,
    params: Mapping[str, Any] | None = None,
    pattern: str | None = None,
    task: str = "tensorboard",
    replace: bool = False,
) -> IngestResult:
    """Read TensorBoard logs and publish them into ``store`` (all or nothing).

    See :func:`read_tensorboard` for the arguments; ``store`` is a path or a
    :class:`~landaulab.store.Store`, ``task`` the label stored with each run.
    """
    runs = read_tensorboard(path, params=params, pattern=pattern)
    options = reader_options(read_tensorboard, params=params, pattern=pattern)
    return publish_runs(
        runs, store, kind="tensorboard", task=task, options=options, replace=replace
    )
