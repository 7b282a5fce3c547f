"""Validation of the tidy input frame, burn-in and the ensemble layout.

A frame has one row per (run, step). This module checks the requested columns, drops rows
that cannot be used (non-finite values, repeated (run, step) rows), sorts each run segment by
step, applies the burn-in and rescales magnitudes so that later stages never overflow. All
work is vectorised over rows (numpy/pandas); nothing loops over rows in Python.

A *segment* is the part of a run at one (control, size, direction): normally a whole run,
but a run that sweeps the control parameter is split into one segment per control value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from landaulab.analyze.columns import missing_column
from landaulab.analyze.design import GRID, Design, adjust_within_bins, design_controls
from landaulab.errors import DataError
from landaulab.late_time import BURN_IN, check_burn_in, late_start


@dataclass(frozen=True)
class ColumnSpec:
    """Names of the columns an analysis uses.

    Parameters
    ----------
    order_parameter
        The order-parameter column m.
    control
        The control-parameter ("temperature") column.
    size
        The system-size column (None: a single size).
    volume
        The volume used in the susceptibility and the free energy (None: the size, or 1).
    run
        The run identifier.
    step
        The step (time) column.
    direction
        Marks warm-started up/down sweeps for hysteresis (two distinct values), or None.
    energy
        An energy or loss column (the analogue of latent heat), or None.
    """

    order_parameter: str
    control: str
    size: str | None = None
    volume: str | None = None
    run: str = "run_id"
    step: str = "step"
    direction: str | None = None
    energy: str | None = None


@dataclass(frozen=True, eq=False)
class PreparedData:
    """Cleaned samples sorted by segment and step, with the burn-in mask.

    Row arrays have one entry per usable row; segment arrays one entry per segment.
    The order parameter is divided by ``scale`` (its largest magnitude), the control is
    mapped to ``(control − control_offset) / control_scale`` and the volume is divided by
    ``volume_scale``, so every later computation works with numbers of order one.
    In an irregular control design (:mod:`.design`) ``segment_control`` is the mean
    control of each segment's bin; ``design`` says how the segments were grouped.
    """

    columns: ColumnSpec
    use_abs: bool
    burn_in: float
    row_segment: np.ndarray
    row_step: np.ndarray
    row_value: np.ndarray
    row_energy: np.ndarray | None
    energy_scale: float
    row_kept: np.ndarray
    segment_run: np.ndarray
    segment_control: np.ndarray
    segment_size: np.ndarray
    segment_volume: np.ndarray
    segment_direction: np.ndarray
    direction_labels: tuple[str, ...]
    scale: float
    control_offset: float
    control_scale: float
    volume_scale: float
    notes: tuple[str, ...]
    design: Design = GRID

    @property
    def n_segments(self) -> int:
        """Number of segments."""
        return int(self.segment_run.size)

    @property
    def n_runs(self) -> int:
        """Number of distinct runs."""
        return int(np.unique(self.segment_run).size)

    def to_control(self, t: np.ndarray | float) -> np.ndarray | float:
        """Map internal (standardised) control values back to the user's units."""
        return self.control_offset + self.control_scale * np.asarray(t, dtype=float)

    def control_distance(self, dt: np.ndarray | float) -> np.ndarray | float:
        """Map an internal control *difference* back to the user's units."""
        return self.control_scale * np.asarray(dt, dtype=float)


def _numeric(frame: pd.DataFrame, name: str, role: str) -> np.ndarray:
    """The column as float64 (non-numbers become NaN); DataError if nothing is numeric."""
    series = frame[name]
    if series.dtype == np.float64:
        # already float64 (NaN for missing): a read-only view, no copy of millions of rows
        values = series.to_numpy()
        if values.size and not np.isfinite(values).any() and series.notna().any():
            raise DataError(
                f"{role} column {name!r} has no finite numbers; choose a numeric column"
            )
        return values
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype(float)
    try:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        values = np.full(len(series), np.nan)
    if values.size and not np.any(np.isfinite(values)) and series.notna().any():
        raise DataError(f"{role} column {name!r} has no finite numbers; choose a numeric column")
    return values


def _require(frame: pd.DataFrame, name: str, option: str) -> None:
    if name not in frame.columns:
        raise DataError(missing_column(name, frame.columns, option, frame.attrs.get("renamed")))


def _codes(values: np.ndarray | pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes (sorted by value where values are comparable; −1 for missing)."""
    try:
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    except TypeError:  # mixed types that cannot be ordered: compare them as text
        series = pd.Series(values, dtype=object)
        text = np.where(series.notna().to_numpy(), series.astype(str).to_numpy(), None)
        codes, uniques = pd.factorize(text, sort=True, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), len(uniques)


def _run_codes(series: pd.Series) -> np.ndarray:
    """:func:`_codes` of a run column; a categorical (dictionary-encoded) column is coded
    through its categories, without materialising one Python object per row."""
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return _codes(series.to_numpy())[0]
    codes = series.cat.codes.to_numpy()
    n_categories = len(series.cat.categories)
    rank = np.full(n_categories + 1, -1, dtype=np.int64)  # the last entry: missing (−1)
    used = np.bincount(codes[codes >= 0], minlength=n_categories) > 0
    rank[:n_categories][used], _ = _codes(np.asarray(series.cat.categories)[used])
    return rank[codes]  # a code of −1 reads the last entry


def _segment_blocks(segment: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Where every segment's rows form one stretch in non-decreasing step: the first row
    and the end of each segment's stretch, in segment order (codes are 0..k−1); else None."""
    change = np.flatnonzero(segment[1:] != segment[:-1]) + 1
    begin = np.r_[0, change]
    if begin.size != int(segment.max()) + 1:  # some segment is split into several stretches
        return None
    if not np.all((step[1:] >= step[:-1]) | (segment[1:] != segment[:-1])):
        return None
    end = np.r_[change, segment.size]
    order = np.argsort(segment[begin])
    return begin[order], end[order]


def _gather(
    values: np.ndarray, begin: np.ndarray, end: np.ndarray, dtype: Any = None
) -> np.ndarray:
    """The stretches ``values[begin[i]:end[i]]`` one after another (converted to ``dtype``
    as they are copied; None keeps the dtype of ``values``)."""
    out = np.empty(int(np.sum(end - begin)), dtype=values.dtype if dtype is None else dtype)
    at = 0
    for low, high in zip(begin.tolist(), end.tolist(), strict=True):
        out[at : at + high - low] = values[low:high]
        at += high - low
    return out


#: Rows a time in the checks of :func:`_one_value_per_run`.
CHECK_CHUNK = 1 << 20


def _release_arrow_memory() -> None:
    """Hand the blocks Arrow's allocator holds back to the system, where Arrow is loaded
    (columns converted from Arrow without a copy live in its memory pool, which keeps
    freed blocks for reuse)."""
    import sys

    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()


def _number_column(frame: pd.DataFrame, name: str, role: str) -> np.ndarray:
    """A numeric column as :func:`_numeric` reads it, except that integers with no missing
    value, all within ±2⁵³ (where float64 holds every integer exactly), are returned as
    they are (a view, no float copy): they compare, sort and code exactly as their float
    values do, and are converted where the layout copies them anyway."""
    series = frame[name]
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and len(series):
        values = series.to_numpy()
        if int(values.min()) >= -(2**53) and int(values.max()) <= 2**53:
            return values
    return _numeric(frame, name, role)


def _one_value_per_run(run_code: np.ndarray, n_runs: int, per_row: list[np.ndarray]) -> bool:
    """Whether every run (codes ``0..n_runs − 1``) holds a single value of each array of
    ``per_row`` (finite values; −0.0 and 0.0 count as one, as they code alike)."""
    for values in per_row:
        one = np.empty(n_runs, dtype=values.dtype)
        one[run_code] = values  # some value of each run: all must equal it
        for low in range(0, run_code.size, CHECK_CHUNK):
            high = low + CHECK_CHUNK
            if not np.array_equal(values[low:high], one[run_code[low:high]]):
                return False
    return True


def _segment_codes(
    run_code: np.ndarray,
    n_runs: int,
    control: np.ndarray,
    size: np.ndarray | None,
    direction_code: np.ndarray | None,
) -> np.ndarray:
    """Segment of every row: the dense rank of (run, control, size, direction).

    One mixed-radix key per row, in lexicographic order; a digit is made dense first only
    where the number could overflow int64."""
    control_code, n_control = _codes(control)
    size_code, n_size = _codes(size) if size is not None else (None, 1)
    key = run_code * n_control
    key += control_code
    del control_code
    if float(n_runs) * n_control * n_size * 2 >= 2.0**62:
        key, _ = _codes(key)
    if size_code is not None:
        key *= n_size
        key += size_code
        del size_code
    if direction_code is not None:
        key *= 2
        key += direction_code
    if key.size and bool(np.all(key[1:] >= key[:-1])):
        # rows already grouped in key order (runs logged one after another): the sorted
        # codes are the running count of key changes, without hashing every row
        segment = np.zeros(key.size, dtype=np.int64)
        np.cumsum(key[1:] != key[:-1], out=segment[1:])
        return segment
    return _codes(key)[0]


def _segment_attributes(
    at: np.ndarray,
    run_code: np.ndarray,
    control: np.ndarray,
    size: np.ndarray | None,
    volume: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Run, control, size and volume of every segment, read at its first row ``at``
    (controls, sizes and volumes as float64)."""
    return (
        run_code[at],
        np.asarray(control[at], dtype=np.float64),
        np.asarray(size[at], dtype=np.float64) if size is not None else None,
        np.asarray(volume[at], dtype=np.float64) if volume is not None else None,
    )


def _labelled_codes(values: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), tuple(str(u) for u in uniques)


def as_table(frame: Any) -> pd.DataFrame:
    """``frame`` as a pandas DataFrame (Arrow tables, DuckDB relations, Polars frames...)."""
    if not isinstance(frame, pd.DataFrame) and hasattr(frame, "to_pandas"):
        try:
            frame = frame.to_pandas()
        except Exception as error:  # any conversion failure is a data error
            raise DataError(f"cannot convert {type(frame).__name__} to a table: {error}") from None
    if not isinstance(frame, pd.DataFrame):
        try:
            frame = pd.DataFrame(frame)
        except (TypeError, ValueError):
            raise DataError(
                f"expected a table (pandas DataFrame); got {type(frame).__name__}"
            ) from None
    return frame


def prepare(
    frame: pd.DataFrame,
    columns: ColumnSpec,
    *,
    burn_in: float = BURN_IN,
    use_abs: bool = False,
    release: bool = False,
) -> PreparedData:
    """Validate ``frame`` and lay it out by segment, applying the burn-in.

    Parameters
    ----------
    frame
        Tidy frame, one row per (run, step): a pandas DataFrame, or anything with
        ``to_pandas()`` (an Arrow table, a Polars frame) or that pandas can read as a table.
    columns
        Which columns play which role.
    burn_in
        Fraction of each segment's step range dropped from the start (0 ≤ burn_in < 1):
        steps below ``first + burn_in·(last − first)`` are not part of the ensemble.
    use_abs
        Use |m| (for Z₂-symmetric order parameters).
    release
        The caller gives ``frame`` up: once the columns used are read, every column is
        deleted from it (the frame is left without columns), so a table read from a file
        is not held beside the layout. Only for a DataFrame no one else uses.

    Raises
    ------
    DataError
        Missing or non-numeric columns, bad settings, or no usable rows.
    """
    frame = as_table(frame)
    burn_in = check_burn_in(burn_in)
    notes: list[str] = []
    _require(frame, columns.order_parameter, "--order-parameter")
    _require(frame, columns.control, "--control")
    for name, option in (
        (columns.size, "--size"),
        (columns.volume, "--volume"),
        (columns.direction, "--direction-col"),
        (columns.energy, "--energy"),
    ):
        if name is not None:
            _require(frame, name, option)
    if len(frame) == 0:
        raise DataError("the table has no rows; nothing to analyse")

    n_rows = len(frame)
    value = _numeric(frame, columns.order_parameter, "order-parameter")
    control = _number_column(frame, columns.control, "control")
    size = _number_column(frame, columns.size, "size") if columns.size is not None else None
    volume = _number_column(frame, columns.volume, "volume") if columns.volume is not None else size
    energy = _numeric(frame, columns.energy, "energy") if columns.energy is not None else None

    if columns.run != "run_id":
        _require(frame, columns.run, "--run-col")
    if columns.step != "step":
        _require(frame, columns.step, "--step-col")
    if columns.run in frame.columns:
        run_code = _run_codes(frame[columns.run])
    else:
        run_code = np.arange(n_rows, dtype=np.int64)
        notes.append("No 'run_id' column: every row is treated as an independent run.")
    if columns.step in frame.columns:
        step = _number_column(frame, columns.step, "step")
    else:
        step = np.arange(n_rows, dtype=float)
        notes.append("No 'step' column: rows are taken in table order within each run.")
    direction_code: np.ndarray | None = None
    labels: tuple[str, ...] = ()
    if columns.direction is not None:
        raw = frame[columns.direction]
        present = raw.notna().to_numpy()
        as_text = np.asarray(np.where(present, raw.astype(str).to_numpy(), None), dtype=object)
        direction_code, labels = _labelled_codes(as_text)
        del raw, present, as_text
        n_directions = len(labels)
        if n_directions != 2:
            raise DataError(
                f"direction column {columns.direction!r} must hold exactly two values "
                f"(e.g. up/down); found {n_directions}"
            )
    if release:
        # every column this analysis reads is held above (a view where it needed no
        # conversion): the table's other columns, and the originals of converted ones,
        # are freed now instead of after the layout
        for name in list(frame.columns):
            del frame[name]
        _release_arrow_memory()

    # Row arrays are only built for the columns given (no arrays of ones for a missing
    # size or direction), filtered only where some row is dropped, and the per-segment
    # attributes are read at each segment's first row instead of permuting every column:
    # a few arrays of one number per row is all that is ever held at once.
    finite = np.isfinite(value) & (run_code >= 0)
    for extra in (control, step, size, volume):
        if extra is not None and extra.dtype.kind == "f":  # integers are always finite
            finite &= np.isfinite(extra)
    if direction_code is not None:
        finite &= direction_code >= 0
    dropped = int(n_rows - np.count_nonzero(finite))
    if dropped:
        notes.append(
            f"Dropped {dropped} of {n_rows} rows with missing or non-finite values "
            f"(order parameter, control, size, volume, step or run)."
        )
    if dropped == n_rows:
        raise DataError(
            f"no row has finite values of {columns.order_parameter!r} and {columns.control!r}"
            " (and size/volume/step); nothing to analyse"
        )

    def usable(x: np.ndarray) -> np.ndarray:
        return x[finite] if dropped else x

    if size is not None and np.any(usable(size) <= 0):
        raise DataError(f"size column {columns.size!r} must be positive")
    if volume is not None and np.any(usable(volume) <= 0):
        raise DataError(f"volume column {columns.volume or columns.size!r} must be positive")

    value, control, step, run_code = (usable(x) for x in (value, control, step, run_code))
    shared = volume is size  # the volume defaults to the size: filter it once
    size = usable(size) if size is not None else None
    volume = size if shared else usable(volume) if volume is not None else None
    if direction_code is not None:
        direction_code = usable(direction_code)
    if energy is not None:
        energy = usable(energy)
    own_value = bool(dropped)  # whether ``value`` is this function's own array
    if use_abs:
        value = np.abs(value)
        own_value = True

    n_runs = int(run_code.max()) + 1 if run_code.size else 1
    per_run = [x for x in (control, size, direction_code) if x is not None]
    if _one_value_per_run(run_code, n_runs, per_run):
        # every run is one segment: the segment codes are the run codes made dense (what
        # the key below gives, without coding the control and size of every row)
        present = np.bincount(run_code, minlength=n_runs) > 0
        if present.all():
            segment = run_code
        else:
            segment = (np.cumsum(present) - 1)[run_code]
        del present
    else:
        segment = _segment_codes(run_code, n_runs, control, size, direction_code)

    # rows in (segment, step) order: where each segment's rows are one stretch in step
    # order (runs logged one after another) whole stretches are moved, and nothing at all
    # where the stretches already follow the codes; otherwise rows are sorted one by one
    origin: np.ndarray | None = None  # row of the unsorted arrays at each sorted row
    first_rows: np.ndarray | None = None  # unsorted row of each segment's first row
    c_lo, c_hi = float(np.min(control)), float(np.max(control))
    volume_scale = float(np.max(volume)) if volume is not None else 1.0
    blocks = _segment_blocks(segment, step)
    if blocks is not None:
        first_rows, stop = blocks
        # the first row of a segment is never a repeat: its attributes are read now, and
        # the per-row control, size and run freed before the rows are moved
        per_segment = _segment_attributes(first_rows, run_code, control, size, volume)
        per_direction = direction_code[first_rows] if direction_code is not None else None
        del control, size, volume, direction_code, run_code
        if release:  # the table's control and size columns had no other use
            _release_arrow_memory()
        if np.any(first_rows[1:] < first_rows[:-1]):
            del segment  # the codes of the rows before they move (freed first)
            segment = np.repeat(np.arange(first_rows.size), stop - first_rows)
            step = _gather(step, first_rows, stop, dtype=np.float64)
            if release:  # nor its step column, now copied
                _release_arrow_memory()
            value = _gather(value, first_rows, stop)
            own_value = True
            if energy is not None:
                energy = _gather(energy, first_rows, stop)
        else:
            step = step.astype(np.float64, copy=False)
    else:
        origin = np.lexsort((step, segment))
        segment = segment[origin]
        step = step[origin].astype(np.float64, copy=False)
        value = value[origin]
        own_value = True
        if energy is not None:
            energy = energy[origin]
    if release:  # the table's step and m, once moved, were the last use of their memory
        _release_arrow_memory()

    repeated = np.zeros(segment.size, dtype=bool)
    repeated[1:] = (segment[1:] == segment[:-1]) & (step[1:] == step[:-1])
    if repeated.any():
        notes.append(
            f"Dropped {int(repeated.sum())} rows repeating a (run, step) already seen "
            "(kept the first)."
        )
        keep = ~repeated
        origin = np.flatnonzero(keep) if origin is None else origin[keep]
        segment, step, value = segment[keep], step[keep], value[keep]
        own_value = True
        if energy is not None:
            energy = energy[keep]
    del repeated

    starts = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]])
    counts = np.diff(np.r_[starts, segment.size])
    if first_rows is None:
        at_start = starts if origin is None else origin[starts]
        per_segment = _segment_attributes(at_start, run_code, control, size, volume)
        per_direction = direction_code[at_start] if direction_code is not None else None
        del run_code, control, size, volume, direction_code, at_start
    del origin
    segment_run, own_control, segment_size, segment_volume = per_segment
    first = step[starts]
    last = step[starts + counts - 1]
    threshold = late_start(first, last, burn_in)
    kept = step >= np.repeat(threshold - 1e-9 * np.abs(threshold), counts)
    kept[starts + counts - 1] = True

    # the largest |m| without an array of magnitudes (the same number: values are finite)
    scale = float(max(np.max(value), -np.min(value))) if value.size else 1.0
    if not np.isfinite(scale) or scale == 0.0:
        scale = 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        # in place where the array is this function's own (the same numbers)
        scaled = np.divide(value, scale, out=value if own_value else None)
    del value
    offset = 0.5 * c_lo + 0.5 * c_hi
    half = 0.5 * c_hi - 0.5 * c_lo
    if not np.isfinite(half) or half <= 0.0:
        half = 1.0 if abs(offset) < 1e-300 else abs(offset)
    n_segments = starts.size
    if segment_size is None:
        segment_size = np.ones(n_segments)
    segment_volume = (
        segment_volume / volume_scale if segment_volume is not None else np.ones(n_segments)
    )
    own_control = (own_control - offset) / half
    segment_control, design = design_controls(
        own_control, segment_size, lambda t: offset + half * np.asarray(t, dtype=float)
    )
    scaled = adjust_within_bins(design, scaled, segment, kept, own_control, segment_control)
    if design.sentence() is not None:
        notes.append(str(design.sentence()))
    segment_volume = np.where(segment_volume > 0, segment_volume, np.finfo(float).tiny)
    energy_rows = None
    energy_scale = 1.0
    if energy is not None:
        finite_energy = np.isfinite(energy)
        if finite_energy.any():
            energy_scale = float(np.max(np.abs(energy[finite_energy])))
        if not np.isfinite(energy_scale) or energy_scale == 0.0:
            energy_scale = 1.0
        energy_rows = np.where(finite_energy, energy, np.nan) / energy_scale

    return PreparedData(
        columns=columns,
        use_abs=bool(use_abs),
        burn_in=float(burn_in),
        row_segment=segment,
        row_step=step,
        row_value=scaled,
        row_energy=energy_rows,
        energy_scale=energy_scale,
        row_kept=kept,
        segment_run=segment_run,
        segment_control=segment_control,
        segment_size=segment_size,
        segment_volume=segment_volume,
        segment_direction=(
            per_direction if per_direction is not None else np.zeros(n_segments, dtype=np.int64)
        ),
        direction_labels=labels,
        scale=scale,
        control_offset=offset,
        control_scale=half,
        volume_scale=volume_scale,
        notes=tuple(notes),
        design=design,
    )


def analysis_inputs(
    prepared: PreparedData,
    *,
    field: str | None,
    n_bootstrap: int,
    seed: int,
    symmetric: bool,
    landau_polynomial: str,
) -> dict[str, Any]:
    """The settings of an analysis of ``prepared`` (``AnalysisResult.inputs``)."""
    columns = prepared.columns
    return {
        "order_parameter": columns.order_parameter,
        "control": columns.control,
        "size": columns.size,
        "volume": columns.volume,
        "run_col": columns.run,
        "step_col": columns.step,
        "direction_col": columns.direction,
        "energy": columns.energy,
        "field": field,
        "burn_in": prepared.burn_in,
        "use_abs": prepared.use_abs,
        "n_bootstrap": n_bootstrap,
        "seed": seed,
        "n_runs": prepared.n_runs,
        "n_rows": int(prepared.row_segment.size),
        "symmetric": bool(symmetric),
        "landau_polynomial": landau_polynomial,
        "design": prepared.design.to_dict(),
    }
