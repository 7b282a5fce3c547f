"""Which column plays which role: the order parameter, the control, the size, the slice.

When a report is asked for without naming the columns, they are chosen from the data by
these rules (each choice is stated in the report's narrative):

* **Parameters and observables.** For a store, parameters are the run parameters
  (``Store.run_table()``); for a plain frame, columns constant within every run (with one
  row per run: columns whose values repeat, at most half as many distinct values as
  rows). Every other numeric column except ``run_id``, ``step`` and ``status`` is an
  observable.
* **Swept parameters** take more than one numeric value across runs; seeds (``seed`` or
  ``*_seed``) never count.
* **Size**: a swept parameter named ``N``, ``L``, ``size``, ``width``, ``n_spins``,
  ``system_size``, ``n_params`` or ``num_params``, when another swept parameter remains
  to be the control.
* **Control**: the swept parameter (other than the size) with the most distinct values;
  ties go to the one along which the order parameter varies most (its correlation ratio,
  below).
* **Order parameter**: among observables whose name does not mark a loss or an energy
  (those are the analogue of the energy, not an order parameter, and are chosen only when
  nothing else exists), the one whose late-time value is best explained by the swept
  parameters: the largest correlation ratio η² = between-condition variance / total
  variance of the per-run late-time values (of |m| too, for an order parameter taking
  both signs symmetrically); ties go to the first name alphabetically.
* **Slice**: when parameters other than the control and size are swept too (e.g. the
  training fraction beside weight decay), the analysis uses the runs at the value of those
  parameters where the mean order parameter spans the widest range along the control,
  i.e. the slice that crosses the transition. The whole frame is still shown in the phase
  diagram and the trajectories.

Late-time values are means over each run's late steps as defined once in
:mod:`landaulab.late_time` (the last ``1 − BURN_IN`` of its logged step range), the same
window the analysis uses; whether an observable is Z₂ symmetric is decided by
:func:`landaulab.analyze.distribution.is_symmetric`, the analysis' own rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from landaulab.analyze.columns import CLOSEST as CLOSEST
from landaulab.analyze.columns import edit_distance as edit_distance
from landaulab.analyze.columns import missing_column
from landaulab.analyze.distribution import is_symmetric as _is_symmetric
from landaulab.design import bin_controls
from landaulab.design import is_seed as is_seed
from landaulab.errors import DataError
from landaulab.estimate import plain
from landaulab.late_time import BURN_IN, check_burn_in, late_mask, late_start

#: Columns that are never parameters or observables.
RESERVED = frozenset({"run_id", "step", "status", "task", "reason"})
#: Names of swept parameters taken as the system size.
SIZE_NAMES = frozenset(
    {"n", "l", "size", "width", "n_spins", "system_size", "n_params", "num_params"}
)
#: Name fragments marking an energy-like observable (not an order-parameter candidate).
ENERGY_MARKS = ("loss", "energy")


def human(name: str) -> str:
    """A column name as words: ``"weight_decay"`` → ``"weight decay"``."""
    text = str(name).replace("_", " ").replace("-", " ").strip()
    return " ".join(text.split()) or str(name)


def capital(text: str) -> str:
    """Capitalise the first word of a sentence unless it is a short symbol (``m``, ``N``)."""
    first = text.split(" ", 1)[0] if text else ""
    if len(first) >= 3 and first.isalpha() and first.islower():
        return text[:1].upper() + text[1:]
    return text


#: Rows a time when :func:`late_values` looks for each run's first rows.
FIRST_ROWS_CHUNK = 1 << 20


def late_values(
    frame: pd.DataFrame,
    column: str,
    *,
    run_col: str = "run_id",
    step_col: str = "step",
    burn_in: float = BURN_IN,
    parameters: tuple[str, ...] = (),
    absolute: bool = False,
) -> pd.DataFrame:
    """The late-time value of ``column`` in every run, with the run's parameters.

    The late-time value is the mean over the run's late steps (the first ``burn_in`` of
    its step range dropped, :func:`landaulab.late_time.late_mask`; non-finite values left
    out); with ``absolute`` the mean of |value|, for an order parameter taking both signs.
    Runs without one finite value are dropped.

    The rows are never copied whole: the run of every row is read from its codes (a
    categorical or hashed run column), the late rows are chosen with them, and only the
    late values and the parameters' finite rows are gathered for the group-bys (the same
    group-bys, so the same numbers, as copying the table first).

    Returns
    -------
    pandas.DataFrame
        Columns ``run_col``, the ``parameters`` (first value in the run) and ``value``.
    """
    burn_in = check_burn_in(burn_in)
    plain = (
        run_col not in frame
        or run_col in (column, step_col)
        or column == "_step"
        or bool({"value", "_step"} & {*parameters, step_col, run_col})
    )
    codes = None if plain else _run_codes_or_none(frame[run_col])
    if codes is None or (codes.size and codes.min() < 0):
        # unusual names or run ids, or a missing run id: the copying path (which says
        # what it does with them) gives the numbers
        return _late_values_plain(
            frame,
            column,
            run_col=run_col,
            step_col=step_col,
            burn_in=burn_in,
            parameters=parameters,
            absolute=absolute,
        )
    runs = frame[run_col]
    value = pd.to_numeric(frame[column], errors="coerce").astype(float).to_numpy()
    if absolute:
        value = np.abs(value)
    if step_col in frame:
        step = _exact_integers(frame[step_col])
        if step is None:
            step = pd.to_numeric(frame[step_col], errors="coerce").astype(float).to_numpy()
    else:
        step = np.arange(len(frame), dtype=float)
    # integer steps (exact as floats) are compared as they are, without a float copy
    ok = np.isfinite(value) if step.dtype.kind in "iu" else np.isfinite(value) & np.isfinite(step)
    everything = bool(ok.all())
    if not ok.any():
        return pd.DataFrame(columns=[run_col, *parameters, "value"])
    ok_codes = codes if everything else codes[ok]
    # the late window of every run (late_mask over the finite rows, by run codes)
    ok_step = step if everything else step[ok]
    n = int(ok_codes.max()) + 1
    first = np.full(n, np.inf)
    last = np.full(n, -np.inf)
    np.minimum.at(first, ok_codes, ok_step)
    np.maximum.at(last, ok_codes, ok_step)
    late_ok = ok_step >= late_start(first, last, burn_in)[ok_codes]
    del ok_step, first, last, step
    if everything:
        late = late_ok
    else:
        late = ok.copy()
        late[ok] = late_ok
    del late_ok
    keys = _values_of(runs)
    summary = (
        pd.Series(value[late]).groupby(keys[late], sort=True).mean().rename("value")
    ).rename_axis(run_col)
    del value, late
    params = [p for p in parameters if p in frame.columns and p != run_col]
    if params:
        # a run's first value of a parameter is read at its first finite row where the
        # parameter is present (or its first finite row when it is nowhere): the same
        # group-by over those few rows gives what it gives over all of them
        first_ok = _first_rows(codes, ok, n)
        columns = []
        for name in params:
            values = _values_of(frame[name])
            present = ok & ~np.asarray(pd.isna(values), dtype=bool)
            rows = np.union1d(first_ok, _first_rows(codes, present, n))
            columns.append(
                pd.Series(values[rows]).groupby(keys[rows], sort=True).first().rename(name)
            )
        info = pd.concat(columns, axis=1).rename_axis(run_col)
        summary = info.join(summary)
    return summary.reset_index()


def _first_rows(codes: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """The first row where ``mask`` holds, of every code ``0..n − 1`` that has one (in row
    order), found a block of rows at a time."""
    first = np.full(n, mask.size, dtype=np.int64)
    for low in range(0, mask.size, FIRST_ROWS_CHUNK):
        part = np.flatnonzero(mask[low : low + FIRST_ROWS_CHUNK])
        np.minimum.at(first, codes[low + part], low + part)
    return np.sort(first[first < mask.size])


def _exact_integers(series: pd.Series) -> np.ndarray | None:
    """The column's own integers when it holds NumPy integers all within ±2⁵³ (each is
    then its float value exactly); else None."""
    if not (isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu") or not len(series):
        return None
    values = series.to_numpy()
    if int(values.min()) < -(2**53) or int(values.max()) > 2**53:
        return None
    return values


def _values_of(series: pd.Series) -> Any:
    """The values of a column without a copy: its NumPy array, or its extension array
    (categorical, Arrow text)."""
    return series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array


def _run_codes_or_none(runs: pd.Series) -> np.ndarray | None:
    """Codes of a run column that group its rows as its values do (−1: missing), without
    one Python object per row: a categorical's codes, or the hashed codes of numbers or
    text; None for other columns (mixed objects)."""
    dtype = runs.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return runs.cat.codes.to_numpy()
    if (isinstance(dtype, np.dtype) and dtype.kind in "iuf") or isinstance(dtype, pd.StringDtype):
        return np.asarray(pd.factorize(runs, use_na_sentinel=True)[0], dtype=np.int64)
    return None


def _late_values_plain(
    frame: pd.DataFrame,
    column: str,
    *,
    run_col: str = "run_id",
    step_col: str = "step",
    burn_in: float = BURN_IN,
    parameters: tuple[str, ...] = (),
    absolute: bool = False,
) -> pd.DataFrame:
    """:func:`late_values` by copying the rows (any column names and run ids)."""
    burn_in = check_burn_in(burn_in)
    keep = [c for c in dict.fromkeys([run_col, step_col, column, *parameters]) if c in frame]
    data = frame[keep].copy()
    data["value"] = pd.to_numeric(data[column], errors="coerce").astype(float)
    if absolute:
        data["value"] = data["value"].abs()
    if step_col in data:
        step = pd.to_numeric(data[step_col], errors="coerce").astype(float)
    else:
        step = pd.Series(np.arange(len(data), dtype=float), index=data.index)
    data["_step"] = step.to_numpy()
    data = data[np.isfinite(data["value"].to_numpy()) & np.isfinite(data["_step"].to_numpy())]
    if data.empty:
        return pd.DataFrame(columns=[run_col, *parameters, "value"])
    runs = data[run_col].to_numpy() if run_col in data else None
    late = data[late_mask(data["_step"].to_numpy(dtype=float), runs, burn_in)]
    summary = late.groupby(run_col, sort=True)["value"].mean().rename("value")
    params = [p for p in parameters if p in data.columns and p != run_col]
    if params:
        info = data.groupby(run_col, sort=True)[params].first()
        summary = info.join(summary)
    return summary.reset_index()


@dataclass(frozen=True)
class Roles:
    """The columns of a report and why they were chosen."""

    order_parameter: str
    control: str
    size: str | None
    parameters: tuple[str, ...]
    observables: tuple[str, ...]
    swept: tuple[str, ...]
    automatic: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    symmetric: bool = False
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def others(self) -> tuple[str, ...]:
        """Swept parameters that are neither the control nor the size."""
        return tuple(p for p in self.swept if p not in (self.control, self.size))


@dataclass(frozen=True)
class Slice:
    """The runs an analysis uses: all of them, or those at fixed values of other controls.

    Attributes
    ----------
    frame
        The rows of those runs.
    fixed
        Parameter → the value it is held at (empty: every run).
    sentence
        Why these runs, for the report (``None`` for every run).
    """

    frame: pd.DataFrame
    fixed: dict[str, Any]
    sentence: str | None = None


def split_columns(
    frame: pd.DataFrame, parameters: Sequence[str] | None = None, run_col: str = "run_id"
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Parameters and numeric observables of a tidy frame (see the module rules)."""
    columns = [c for c in frame.columns if c not in RESERVED and c != run_col]
    if parameters is None:
        single_rows = run_col not in frame.columns or not frame[run_col].duplicated().any()
        if len(frame) and single_rows:
            # one row per run: a parameter repeats its values across rows, an observable not
            distinct = frame[columns].nunique(dropna=True)
            parameters = [c for c in columns if int(distinct.get(c, 0)) <= len(frame) // 2]
        elif len(frame):
            parameters = constant_per_group(frame, run_col, columns)
        else:
            parameters = []
    params = tuple(c for c in columns if c in set(parameters))
    observables = tuple(
        c
        for c in columns
        if c not in params and pd.api.types.is_numeric_dtype(frame[c]) and not is_seed(c)
    )
    return params, observables


def constant_per_group(frame: pd.DataFrame, key: str, columns: Sequence[str]) -> list[str]:
    """The ``columns`` holding at most one distinct value (missing values ignored) within
    every group of ``key``.

    Numeric columns are judged by their group minimum and maximum (two vectorised
    reductions, much cheaper than counting distinct values on millions of rows); other
    columns by their distinct count.
    """
    if not columns:
        return []
    grouped = frame.groupby(key, sort=False)
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
    others = [c for c in columns if c not in set(numeric)]
    constant: set[str] = set()
    if numeric:
        low = grouped[numeric].min()
        high = grouped[numeric].max()
        differs = ((low != high) & low.notna() & high.notna()).any()
        constant.update(c for c in numeric if not bool(differs[c]))
    if others:
        varying = grouped[others].nunique(dropna=True).max()
        constant.update(c for c in others if int(varying.get(c, 0)) <= 1)
    return [c for c in columns if c in constant]


def _numeric_distinct(frame: pd.DataFrame, column: str) -> int:
    """Number of distinct finite numeric values of a column (hashing first, so a parameter
    column of millions of rows costs memory in its distinct values, not in its rows)."""
    series = frame[column]
    if series.dtype == np.float64 or (
        isinstance(series.dtype, np.dtype) and series.dtype.kind in "iub"
    ):
        # float64, or integers with no missing value: hashed as they are, converted to
        # float only once distinct (the same distinct floats, without a float copy)
        values = series.to_numpy()
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    uniques = np.asarray(pd.unique(values), dtype=float)
    return int(np.unique(uniques[np.isfinite(uniques)]).size)


def correlation_ratio(values: np.ndarray, groups: pd.DataFrame) -> float:
    """η² = between-group variance / total variance of ``values`` (0 when undefined)."""
    ok = np.isfinite(values)
    if ok.sum() < 2 or groups.shape[1] == 0:
        return 0.0
    values = values[ok]
    keys = groups[ok].groupby(list(groups.columns), dropna=False, sort=False).ngroup().to_numpy()
    with np.errstate(all="ignore"):
        total = float(np.var(values))
        if not (np.isfinite(total) and total > 0):
            return 0.0
        means = pd.Series(values).groupby(keys).transform("mean").to_numpy()
        ratio = float(np.var(means) / total)
    return float(np.clip(ratio, 0.0, 1.0)) if np.isfinite(ratio) else 0.0


def is_symmetric(values: np.ndarray) -> bool:
    """Whether a signed observable takes both signs with similar weight (Z₂ symmetric).

    The analysis' rule (:func:`landaulab.analyze.distribution.is_symmetric`) applied to
    the finite values.
    """
    return _is_symmetric(np.asarray(values, dtype=float), use_abs=False, finite_only=True)


def choose_roles(
    frame: pd.DataFrame,
    *,
    order_parameter: str | None = None,
    control: str | None = None,
    size: str | None = None,
    parameters: Sequence[str] | None = None,
    run_col: str = "run_id",
    step_col: str = "step",
) -> Roles:
    """Choose the order parameter, control and size columns by the module rules.

    Parameters
    ----------
    frame
        The tidy frame.
    order_parameter, control, size
        Columns given by the user (kept as given; only the missing ones are chosen).
    parameters
        The run parameters, when known (from a store); otherwise inferred.

    Raises
    ------
    DataError
        If a named column is missing, or nothing can serve as order parameter or control.
    """
    for name, option in (
        (order_parameter, "--order-parameter"),
        (control, "--control"),
        (size, "--size"),
    ):
        if name is not None and name not in frame.columns:
            raise DataError(missing_column(name, frame.columns, option, frame.attrs.get("renamed")))
    params, observables = split_columns(frame, parameters, run_col)
    swept = tuple(p for p in params if not is_seed(p) and _numeric_distinct(frame, p) > 1)
    automatic: list[str] = []
    reasons: list[str] = []

    if size is None and control is None:
        named = [p for p in swept if p.lower() in SIZE_NAMES]
        if named and len(swept) > 1:
            size = max(named, key=lambda p: (_numeric_distinct(frame, p), p))
            automatic.append("size")
            reasons.append(f"The system size is {human(size)} (its name says so).")
    elif size is None and control is not None:
        named = [p for p in swept if p.lower() in SIZE_NAMES and p != control]
        if named:
            size = max(named, key=lambda p: (_numeric_distinct(frame, p), p))
            automatic.append("size")
            reasons.append(f"The system size is {human(size)} (its name says so).")

    conditions = [p for p in swept if p != size] + ([size] if size else [])
    runs = None
    scores: dict[str, float] = {}
    symmetric = False
    if order_parameter is None:
        candidates = [o for o in observables if o not in (control, size)]
        preferred = [o for o in candidates if not any(m in o.lower() for m in ENERGY_MARKS)]
        candidates = preferred or candidates
        if not candidates:
            raise DataError(
                "no numeric observable to use as order parameter; pass --order-parameter COL"
            )
        for name in candidates:
            values = late_values(
                frame, name, run_col=run_col, step_col=step_col, parameters=tuple(conditions)
            )
            if values.empty:
                scores[name] = -1.0
                continue
            groups = values[[c for c in conditions if c in values.columns]]
            score = correlation_ratio(values["value"].to_numpy(dtype=float), groups)
            raw = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            if is_symmetric(raw):
                magnitude = late_values(
                    frame,
                    name,
                    run_col=run_col,
                    step_col=step_col,
                    parameters=tuple(conditions),
                    absolute=True,
                )
                groups = magnitude[[c for c in conditions if c in magnitude.columns]]
                score = max(
                    score, correlation_ratio(magnitude["value"].to_numpy(dtype=float), groups)
                )
            scores[name] = score
        order_parameter = sorted(candidates, key=lambda n: (-scores[n], n))[0]
        automatic.append("order_parameter")
        if len(candidates) > 1:
            reasons.append(
                f"The order parameter is {human(order_parameter)}: of the candidate "
                f"observables its late-time value depends most on the swept parameters "
                f"(correlation ratio η² = {plain(scores[order_parameter], 2)})."
            )
        else:
            reasons.append(f"The order parameter is {human(order_parameter)}, the only candidate.")

    raw = pd.to_numeric(frame[order_parameter], errors="coerce").to_numpy(dtype=float)
    symmetric = is_symmetric(raw)

    if control is None:
        candidates = [p for p in swept if p not in (size, order_parameter)]
        if not candidates:
            raise DataError(
                "no swept parameter to use as control (none takes two or more values); "
                "pass --control COL"
            )
        runs = late_values(
            frame,
            order_parameter,
            run_col=run_col,
            step_col=step_col,
            parameters=tuple(candidates),
            absolute=symmetric,
        )
        target = runs["value"].to_numpy(dtype=float)

        def rank(p: str) -> tuple[int, float, str]:
            ratio = correlation_ratio(target, runs[[p]]) if p in runs else 0.0
            return (_numeric_distinct(frame, p), ratio, p)

        control = max(candidates, key=rank)
        automatic.append("control")
        ties = [
            p
            for p in candidates
            if _numeric_distinct(frame, p) == _numeric_distinct(frame, control) and p != control
        ]
        reason = (
            f"The control parameter is {human(control)}: it is the swept parameter "
            f"with the most distinct values ({_numeric_distinct(frame, control)})"
        )
        if ties:
            reason += (
                f", and {human(order_parameter)} varies more along it than along "
                + ", ".join(human(t) for t in ties)
            )
        reasons.append(reason + ".")
    elif _numeric_distinct(frame, control) == 0:
        raise DataError(f"control column {control!r} has no numeric values; choose another")
    elif _numeric_distinct(frame, control) == 1:
        value = pd.to_numeric(frame[control], errors="coerce").dropna().iloc[0]
        varying = [p for p in swept if p not in (control, size)]
        hint = f"; swept here: {', '.join(varying)}" if varying else ""
        raise DataError(
            f"control column {control!r} takes one value ({plain(_scalar(value), 4)}) in "
            f"these runs: a control must vary{hint}"
        )

    return Roles(
        order_parameter=order_parameter,
        control=control,
        size=size,
        parameters=params,
        observables=observables,
        swept=swept,
        automatic=tuple(automatic),
        reasons=tuple(capital(r) for r in reasons),
        symmetric=symmetric,
        scores=scores,
    )


def fixed_slice(frame: pd.DataFrame, roles: Roles, where: Mapping[str, Any]) -> Slice:
    """The runs at the given values of other parameters (``where``, chosen by the user).

    Raises
    ------
    DataError
        If a column is missing or no run has the given values.
    """
    mask = np.ones(len(frame), dtype=bool)
    for name, value in where.items():
        if name not in frame.columns:
            raise DataError(f"slice column {name!r} not found; choose one of the parameters")
        mask &= (frame[name] == value).to_numpy()
    if not mask.any():
        wanted = ", ".join(f"{k} = {v!r}" for k, v in where.items())
        raise DataError(f"no run has {wanted}; choose values present in the runs")
    text = ", ".join(f"{human(k)} = {_shown(v)}" for k, v in where.items())
    sentence = (
        f"The analysis along {human(roles.control)} uses the runs at {text}; the phase "
        "diagram shows every run."
    )
    return Slice(frame=frame[mask].reset_index(drop=True), fixed=dict(where), sentence=sentence)


def choose_slice(
    frame: pd.DataFrame, roles: Roles, *, run_col: str = "run_id", step_col: str = "step"
) -> Slice:
    """The runs to analyse: the slice of other swept parameters crossing the transition.

    Only parameters that vary within a (control, size) group count: one that follows the
    size or the control (a volume L², an inverse temperature) separates no runs.
    """
    others = varying_within(
        frame, [o for o in roles.others if o in frame.columns], (roles.control, roles.size), run_col
    )
    if not others:
        return Slice(frame=frame, fixed={})
    runs = late_values(
        frame,
        roles.order_parameter,
        run_col=run_col,
        step_col=step_col,
        parameters=(roles.control, *others),
        absolute=roles.symmetric,
    )
    if runs.empty:
        return Slice(frame=frame, fixed={})
    best: tuple[float, int, tuple[Any, ...]] | None = None
    for key, part in runs.groupby(others, sort=True, dropna=True):
        key = key if isinstance(key, tuple) else (key,)
        means = part.groupby(roles.control)["value"].mean()
        if means.size < 2:
            continue
        spread = float(means.max() - means.min())
        candidate = (spread, len(part), key)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        return Slice(frame=frame, fixed={})
    fixed = {name: _scalar(value) for name, value in zip(others, best[2], strict=True)}
    mask = np.ones(len(frame), dtype=bool)
    for name, value in fixed.items():
        mask &= (frame[name] == value).to_numpy()
    where = ", ".join(f"{human(k)} = {_shown(v)}" for k, v in fixed.items())
    sentence = (
        f"The analysis along {human(roles.control)} uses the runs at {where}, where "
        f"{human(roles.order_parameter)} changes most across {human(roles.control)}; the "
        "phase diagram and the trajectories show every run."
    )
    return Slice(frame=frame[mask].reset_index(drop=True), fixed=fixed, sentence=sentence)


def varying_within(
    frame: pd.DataFrame,
    columns: Sequence[str],
    by: Sequence[str | None],
    run_col: str = "run_id",
) -> list[str]:
    """The ``columns`` taking two or more values among the runs of some ``by`` group.

    The first of ``by`` is the control. Where nearly every run has its own control value
    (a random search, a refinement: the irregular designs of :mod:`landaulab.design`),
    runs are grouped by the design's equal-count bins of the control instead of by
    exact value (with one run per value nothing would ever vary within a group, and a
    size column would be pooled unseen); a column that is a monotone function of the
    control over the runs (an inverse temperature) follows it and does not count.
    """
    keys = [c for c in dict.fromkeys(by) if c and c in frame.columns]
    columns = [c for c in columns if c in frame.columns and c not in keys]
    if not columns:
        return []
    wanted = list(dict.fromkeys([*keys, *columns]))
    if run_col in frame.columns:
        table = frame.groupby(run_col, sort=False)[wanted].first()
    else:
        table = frame[wanted]
    control = by[0] if by and by[0] in keys else None
    if control is not None:
        table, columns = _binned_control(table, control, columns)
    if not keys:
        return [c for c in columns if table[c].nunique(dropna=True) > 1]
    counts = table.groupby(keys, dropna=False)[columns].nunique(dropna=True).max()
    return [c for c in columns if int(counts.get(c, 0)) > 1]


def _binned_control(
    table: pd.DataFrame, control: str, columns: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """``table`` (one row per run) with its control replaced by the design's bins where
    the design is irregular, and ``columns`` without those that follow the control."""
    values = table[control]
    if not pd.api.types.is_numeric_dtype(values) or values.isna().any():
        return table, columns
    x = values.to_numpy(dtype=float)
    if not np.isfinite(x).all():
        return table, columns
    binning = bin_controls(x, min_per_value=2, per_bin=4)
    if not binning.irregular:
        return table, columns
    order = np.argsort(x, kind="stable")
    kept = [c for c in columns if not _monotone(table[c].to_numpy()[order])]
    return table.assign(**{control: binning.label}), kept


def _monotone(values: np.ndarray) -> bool:
    """Whether numeric ``values`` never rise or never fall (NaN-free)."""
    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return False
    if v.size < 2 or not np.isfinite(v).all():
        return False
    step = np.diff(v)
    return bool((step >= 0).all() or (step <= 0).all())


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ------------------------------------------------------------------ selecting runs
def run_parameters(
    frame: pd.DataFrame, parameters: Sequence[str] | None = None, run_col: str = "run_id"
) -> pd.DataFrame:
    """One row per run: the run column and the parameters (first value in the run)."""
    params, _ = split_columns(frame, parameters, run_col)
    columns = [c for c in (*params, "status", "task") if c in frame.columns and c != run_col]
    columns = list(dict.fromkeys(columns))
    if run_col not in frame.columns:
        return frame[columns].reset_index(drop=True)
    return frame.groupby(run_col, sort=True)[columns].first().reset_index()


def select_runs(
    frame: pd.DataFrame,
    where: str | Mapping[str, Any],
    *,
    parameters: Sequence[str] | None = None,
    run_col: str = "run_id",
) -> tuple[pd.DataFrame, str]:
    """The rows of the runs matching ``where``, and ``where`` in words.

    Parameters
    ----------
    where
        A DuckDB predicate on the run parameters (``"weight_decay = 1"``,
        ``"train_fraction > 0.3 AND weight_decay IN (0.3, 1)"``), evaluated with DuckDB
        over a table of one row per run; or a mapping of parameter → value (equality).
    parameters
        The run parameters, when known (from a store); otherwise inferred.

    Raises
    ------
    DataError
        The predicate is empty or invalid, names a column that is not a run parameter,
        or no run matches.
    """
    if isinstance(where, Mapping):
        mask = np.ones(len(frame), dtype=bool)
        for name, value in where.items():
            if name not in frame.columns:
                raise DataError(
                    missing_column(str(name), frame.columns, "--where", frame.attrs.get("renamed"))
                )
            mask &= (frame[name] == value).to_numpy()
        text = " AND ".join(f"{k} = {v!r}" for k, v in where.items())
        if not mask.any():
            raise DataError(f"no run has {text}; choose values present in the runs")
        return frame[mask].reset_index(drop=True), text
    text = " ".join(str(where).split())
    if not text:
        raise DataError("--where: the predicate is empty; give one such as 'weight_decay = 1'")
    import duckdb

    table = run_parameters(frame, parameters, run_col)
    key = run_col if run_col in table.columns else None
    if key is None:
        table = table.assign(_row=np.arange(len(table)))
    connection = duckdb.connect()
    try:
        connection.register("runs", table)
        column = key or "_row"
        chosen = connection.execute(f'SELECT "{column}" FROM runs WHERE ({text})').fetchdf()[column]
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        names = ", ".join(str(c) for c in table.columns if c not in (run_col, "_row"))
        raise DataError(f"--where {text!r}: {first} (run parameters: {names})") from None
    finally:
        connection.close()
    if key is None:
        mask = np.zeros(len(frame), dtype=bool)
        mask[chosen.to_numpy(dtype=int)] = True
    else:
        mask = frame[run_col].isin(set(chosen)).to_numpy()
    if not mask.any():
        raise DataError(f"no run has {text}; choose values present in the runs")
    return frame[mask].reset_index(drop=True), text


def _values(frame: pd.DataFrame, column: str) -> str:
    raw = frame[column].dropna().unique()
    numbers = pd.to_numeric(pd.Series(raw), errors="coerce")
    if len(raw) and numbers.notna().all():
        shown = [plain(_scalar(v), 4) for v in sorted(numbers)]
    else:
        shown = sorted(str(v) for v in raw)
    return ", ".join(shown[:8]) + (", …" if len(shown) > 8 else "")


def slicing_roles(
    frame: pd.DataFrame,
    roles: Roles,
    exclude: Sequence[str | None] = (),
    run_col: str = "run_id",
) -> Roles:
    """``roles`` with ``swept`` = the control, the size and the parameters that vary within
    a (control, size) group, numeric or not (an optimizer name, a sweep direction), except
    seeds and ``exclude``: the parameters :func:`choose_slice` holds fixed."""
    from dataclasses import replace

    skip = {c for c in exclude if c} | {roles.control, roles.size}
    candidates = [
        p for p in roles.parameters if p not in skip and not is_seed(p) and p in frame.columns
    ]
    others = varying_within(frame, candidates, (roles.control, roles.size), run_col)
    kept = [p for p in (roles.control, roles.size) if p]
    return replace(roles, swept=tuple(dict.fromkeys([*kept, *others])))


def analysis_slice(
    frame: pd.DataFrame,
    *,
    order_parameter: str,
    control: str | None,
    size: str | None = None,
    parameters: Sequence[str] | None = None,
    where: str | Mapping[str, Any] | None = None,
    exclude: Sequence[str | None] = (),
    absolute: bool | None = None,
    run_col: str = "run_id",
    step_col: str = "step",
) -> Slice:
    """The runs an analysis along ``control`` uses: one rule for analyze, dynamics, report.

    ``where`` (a DuckDB predicate on run parameters, or a mapping of values) selects runs
    first. When other swept parameters (not the control, the size, seeds or ``exclude``)
    still vary within a control group, the runs are not pooled across them: the analysis
    uses the slice that crosses the transition (:func:`choose_slice`, as the report
    does), and the slice's ``sentence`` says so, naming the varying columns. Without a
    control every run is one group; the sentence then names the parameters pooled.

    Raises
    ------
    DataError
        A named column is missing, the control takes one value, or ``where`` is invalid
        or matches no run.
    """
    for name, option in (
        (order_parameter, "--order-parameter"),
        (control, "--control"),
        (size, "--size"),
    ):
        if name is not None and name not in frame.columns:
            raise DataError(missing_column(name, frame.columns, option, frame.attrs.get("renamed")))
    selected, notes = frame, []
    if where is not None and not (isinstance(where, Mapping) and not where):
        selected, text = select_runs(frame, where, parameters=parameters, run_col=run_col)
        n_all = frame[run_col].nunique() if run_col in frame.columns else len(frame)
        n_sel = selected[run_col].nunique() if run_col in selected.columns else len(selected)
        notes.append(f"{n_sel} of {n_all} runs have {text}.")
    skip = {c for c in exclude if c}
    if control is None:
        params, _ = split_columns(selected, parameters, run_col)
        pooled = [
            p
            for p in params
            if not is_seed(p) and p not in skip and _numeric_distinct(selected, p) > 1
        ]
        if pooled:
            listed = "; ".join(f"{p} ({_values(selected, p)})" for p in pooled)
            notes.append(
                f"No control given: the runs pool every value of {listed}; pass --control "
                "or --where to separate them."
            )
        return Slice(frame=selected, fixed={}, sentence=" ".join(notes) or None)
    roles = choose_roles(
        selected,
        order_parameter=order_parameter,
        control=control,
        size=size,
        parameters=parameters,
        run_col=run_col,
        step_col=step_col,
    )
    from dataclasses import replace

    roles = replace(
        roles, size=size, symmetric=roles.symmetric if absolute is None else bool(absolute)
    )
    roles = slicing_roles(selected, roles, tuple(skip), run_col)
    others = list(roles.others)
    if others:
        values = {o: _values(selected, o) for o in others}
        part = choose_slice(selected, roles, run_col=run_col, step_col=step_col)
        varying = "; ".join(f"{o} ({values[o]})" for o in others)
        if part.fixed:
            at = ", ".join(f"{k} = {_shown(v)}" for k, v in part.fixed.items())
            notes.append(
                f"{varying} also vary within each {control} group: the analysis uses the "
                f"runs at {at}, where {order_parameter} changes most along {control} "
                "(as the report does); pass --where to choose others."
            )
        else:
            notes.append(
                f"{varying} also vary within each {control} group and no slice of them "
                f"spans two {control} values: the runs are pooled; pass --where to choose."
            )
        return Slice(frame=part.frame, fixed=part.fixed, sentence=" ".join(notes))
    return Slice(frame=selected, fixed={}, sentence=" ".join(notes) or None)


def _shown(value: Any) -> str:
    """A parameter value for a sentence: a number as :func:`plain` writes it, else as is."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return plain(value, 4)
