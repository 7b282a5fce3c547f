"""Load a tidy frame from a store directory, a CSV (optionally gzipped) or a Parquet file."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from landaulab.errors import DataError, StoreError
from landaulab.store.store import MARKER, Store


def load_frame(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the tidy frame (one row per run and step) from ``path``.

    Parameters
    ----------
    path
        A landaulab store directory, a ``.csv`` / ``.csv.gz`` file, or a ``.parquet``
        file (or a directory of Parquet files).

    Raises
    ------
    DataError
        If the path does not exist, has an unknown format, or cannot be parsed.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if path.is_dir():
        if (path / MARKER).exists():
            try:
                return Store(path).frame()
            except StoreError as exc:
                raise DataError(str(exc)) from None
        if any(path.glob("*.parquet")):
            return _read(path, "parquet")
        raise DataError(f"{path}: a directory that is neither a landaulab store nor Parquet files")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return _read(path, "parquet")
    if name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")):
        return _read(path, "csv")
    raise DataError(f"{path}: unknown format; give a store directory, a .csv(.gz) or a .parquet")


def _read(path: Path, kind: str) -> pd.DataFrame:
    try:
        if kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            sep = "\t" if ".tsv" in path.name.lower() else ","
            frame = pd.read_csv(path, sep=sep, compression="infer", low_memory=False)
    except (OSError, ValueError, EOFError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: cannot read {kind} ({first})") from None
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: cannot read {kind} ({type(exc).__name__}: {first})") from None
    if frame.empty and len(frame.columns) == 0:
        raise DataError(f"{path}: the file has no columns")
    return frame
