"""An analysis's checked settings and its laid-out table, held apart from the input.

:func:`prepare_analysis` is the first half of :func:`landaulab.analyze.analyze`: it checks
the settings, splits off a field scan and lays the table out (:mod:`.frame`). What it
returns holds no reference to the input table, so a caller that read the table from a
file can drop it before the analysis runs (a table of millions of rows is then never held
next to the analysis's own arrays).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from landaulab.analyze.field import split_field
from landaulab.analyze.frame import ColumnSpec, PreparedData, as_table, prepare
from landaulab.errors import DataError
from landaulab.late_time import BURN_IN


@dataclass(frozen=True, eq=False)
class PreparedAnalysis:
    """An analysis whose input has been validated and laid out (:func:`prepare_analysis`):
    it holds no reference to the input table, which can be released before the analysis
    runs (:func:`analyze_prepared`)."""

    prepared: PreparedData
    n_bootstrap: int
    seed: int
    scan: tuple[pd.DataFrame, str] | None


def prepare_analysis(
    frame: pd.DataFrame,
    *,
    order_parameter: str,
    control: str,
    size: str | None = None,
    volume: str | None = None,
    run_col: str = "run_id",
    step_col: str = "step",
    burn_in: float = BURN_IN,
    use_abs: bool = False,
    direction_col: str | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    energy: str | None = None,
    field: str | None = None,
    release: bool = False,
) -> PreparedAnalysis:
    """The first half of :func:`landaulab.analyze.analyze`: check the settings, validate
    and lay out the table; the parameters and errors are those of that function.

    With ``release`` the caller gives ``frame`` up: its columns are deleted once read
    (:func:`~landaulab.analyze.frame.prepare`), so a table read from a file is freed
    while the layout is built rather than after it."""
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer):
        raise DataError(f"n_bootstrap must be an integer >= 10; got {n_bootstrap!r}")
    if n_bootstrap < 10:
        raise DataError(f"n_bootstrap must be at least 10; got {n_bootstrap}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"seed must be a non-negative integer; got {seed!r}")
    columns = ColumnSpec(
        order_parameter=order_parameter,
        control=control,
        size=size,
        volume=volume,
        run=run_col,
        step=step_col,
        direction=direction_col,
        energy=energy,
    )
    # numerical RuntimeWarnings of empty or degenerate groups are expected and handled;
    # the named warnings (FitWarning, FewSamplesWarning) reach the caller
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        scan = None
        if field is not None:
            frame, field_rows = split_field(as_table(frame), field)
            scan = (field_rows, field)
        prepared = prepare(frame, columns, burn_in=burn_in, use_abs=use_abs, release=release)
    return PreparedAnalysis(prepared, int(n_bootstrap), int(seed), scan)
