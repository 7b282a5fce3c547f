"""Read-only views of analysis and dynamics results, tolerant of missing pieces.

A report reads the JSON form of the results (``AnalysisResult.to_dict()`` and
``DynamicsResult.to_dict()``, or the same dictionaries loaded from ``--json`` files). The
keys of the public contract are read by name (``transition.order``,
``transition.critical_point``, ``exponents.*``, ``landau.coefficients``,
``universality.*``, ``evidence``; ``attractors``, ``relaxation_time``, ``potential``,
``transition_times``, ``plateaus``, ``evidence``). Tables and curves that are not part of
the contract (per-control moments, free-energy curves, collapse curves) are found by the
columns they hold, wherever they sit in the dictionary. Anything absent, null or malformed
becomes ``None`` or an empty list: the report then says plainly what could not be
estimated instead of failing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from landaulab.report.formatting import finite

EXPONENTS = ("beta", "gamma", "nu", "beta_over_nu", "gamma_over_nu", "delta")


@dataclass(frozen=True)
class Estimate:
    """A value with an optional confidence interval and the method that produced it."""

    value: float
    low: float | None = None
    high: float | None = None
    method: str | None = None
    detail: str | None = None

    @property
    def ci(self) -> list[float | None]:
        """``[low, high]``."""
        return [self.low, self.high]

    @property
    def half_width(self) -> float | None:
        """Half the width of the interval, or ``None``."""
        if self.low is None or self.high is None:
            return None
        return 0.5 * abs(self.high - self.low)


@dataclass(frozen=True)
class Curve:
    """One labelled curve: x and y arrays (and optional fit, error and markers)."""

    x: np.ndarray
    y: np.ndarray
    control: float | None = None
    size: float | None = None
    fit: np.ndarray | None = None
    error: np.ndarray | None = None
    minima: tuple[float, ...] = ()


@dataclass(frozen=True)
class AnalysisView:
    """What a report needs from an analysis result (every piece may be missing)."""

    raw: dict[str, Any] | None
    error: str | None = None
    order: str | None = None
    critical_point: Estimate | None = None
    exponents: dict[str, Estimate | None] = field(default_factory=dict)
    coefficients: list[dict[str, Any]] = field(default_factory=list)
    verdict: str | None = None
    consistent_with_mean_field: bool | None = None
    evidence: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None
    free_energy: list[Curve] = field(default_factory=list)
    collapse: list[Curve] = field(default_factory=list)
    collapse_parameters: dict[str, Estimate] = field(default_factory=dict)
    binder_crossing: Estimate | None = None
    other_critical_points: list[Estimate] = field(default_factory=list)
    not_estimable: dict[str, str] = field(default_factory=dict)
    ginzburg: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        """Whether an analysis result was given."""
        return self.raw is not None


@dataclass(frozen=True)
class TransitionTime:
    """One detected transition in one run."""

    run_id: str
    time: float
    control: float | None = None
    low: float | None = None
    high: float | None = None
    label: str | None = None
    main: bool = True


@dataclass(frozen=True)
class DynamicsView:
    """What a report needs from a dynamics result (every piece may be missing)."""

    raw: dict[str, Any] | None
    error: str | None = None
    attractors: list[dict[str, Any]] = field(default_factory=list)
    relaxation: list[dict[str, Any]] = field(default_factory=list)
    potentials: list[Curve] = field(default_factory=list)
    transition_times: list[TransitionTime] = field(default_factory=list)
    plateaus: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    law_verdict: str | None = None
    transition_summary: list[dict[str, Any]] = field(default_factory=list)
    slowing_down: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        """Whether a dynamics result was given."""
        return self.raw is not None


# --------------------------------------------------------------------------- helpers
def as_dict(result: Any) -> dict[str, Any] | None:
    """The JSON form of a result object (its ``to_dict()``), a mapping, or ``None``."""
    if result is None:
        return None
    if isinstance(result, Mapping):
        return dict(result)
    to_dict = getattr(result, "to_dict", None)
    if callable(to_dict):
        data = to_dict()
        return dict(data) if isinstance(data, Mapping) else None
    return None


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping) or key not in data:
            return None
        data = data[key]
    return data


def _estimate(data: Any, method: str | None = None) -> Estimate | None:
    """``{"value", "ci": [lo, hi], "method"}`` (or a bare number) as an :class:`Estimate`."""
    if isinstance(data, Mapping):
        value = finite(data.get("value"))
        if value is None:
            return None
        ci = data.get("ci")
        low = high = None
        if isinstance(ci, Sequence) and not isinstance(ci, str) and len(ci) == 2:
            low, high = finite(ci[0]), finite(ci[1])
        if low is None and high is None:
            low, high = finite(data.get("low")), finite(data.get("high"))
        if low is None and high is None and finite(data.get("stderr")) is not None:
            error = 1.96 * float(data["stderr"])
            low, high = value - error, value + error
        name = data.get("method")
        detail = data.get("detail")
        return Estimate(
            value,
            low,
            high,
            str(name) if name is not None else method,
            str(detail) if isinstance(detail, str) and detail else None,
        )
    value = finite(data)
    return Estimate(value, method=method) if value is not None else None


def _sentences(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data] if data.strip() else []
    if isinstance(data, Sequence):
        return [str(s) for s in data if isinstance(s, str) and s.strip()]
    return []


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | np.generic)


def _walk(data: Any, depth: int = 0) -> Iterator[Any]:
    """Every mapping and list inside ``data`` (depth-first, bounded depth)."""
    if depth > 8:
        return
    yield data
    if isinstance(data, Mapping):
        for value in data.values():
            if isinstance(value, Mapping | list | tuple):
                yield from _walk(value, depth + 1)
    elif isinstance(data, list | tuple):
        for value in data:
            if isinstance(value, Mapping | list | tuple):
                yield from _walk(value, depth + 1)


def _as_table(data: Any) -> pd.DataFrame | None:
    """A list of flat records, or a mapping of equal-length scalar lists, as a frame."""
    if isinstance(data, list | tuple) and data and all(isinstance(r, Mapping) for r in data):
        if all(all(_is_scalar(v) for v in r.values()) for r in data):
            return pd.DataFrame([dict(r) for r in data])
        return None
    if isinstance(data, Mapping) and len(data) >= 2:
        lists = [
            v
            for v in data.values()
            if isinstance(v, list | tuple) and all(_is_scalar(x) for x in v)
        ]
        lengths = {len(v) for v in lists}
        if len(lists) == len(data) and len(lengths) == 1 and lengths.pop() > 0:
            return pd.DataFrame({k: list(v) for k, v in data.items()})
    return None


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        converted = pd.to_numeric(out[column], errors="coerce")
        if converted.notna().any() or out[column].isna().all():
            out[column] = converted
    return out


def find_table(
    data: Any, required: Sequence[str], any_of: Sequence[str] = ()
) -> pd.DataFrame | None:
    """The first table inside ``data`` holding all ``required`` columns and one of ``any_of``."""
    for node in _walk(data):
        table = _as_table(node)
        if table is None:
            continue
        columns = set(map(str, table.columns))
        if set(required) <= columns and (not any_of or columns & set(any_of)):
            return _numeric(table)
    return None


def _array(data: Any) -> np.ndarray | None:
    if not isinstance(data, list | tuple | np.ndarray) or len(data) == 0:
        return None
    try:
        values = np.array([np.nan if v is None else v for v in data], dtype=float)
    except (TypeError, ValueError):
        return None
    return values if values.ndim == 1 else None


def _curve_records(data: Any, x_keys: Sequence[str], y_keys: Sequence[str]) -> list[dict[str, Any]]:
    """Mappings inside ``data`` that hold an array under one of ``x_keys`` and ``y_keys``."""
    found = []
    for node in _walk(data):
        if not isinstance(node, Mapping):
            continue
        x_key = next((k for k in x_keys if _array(node.get(k)) is not None), None)
        y_key = next((k for k in y_keys if _array(node.get(k)) is not None), None)
        if x_key is not None and y_key is not None:
            found.append({"node": node, "x": x_key, "y": y_key})
    return found


def _float_tuple(values: Any) -> tuple[float, ...]:
    if isinstance(values, Mapping):
        values = [values]
    if not isinstance(values, Sequence) or isinstance(values, str):
        return ()
    out = []
    for item in values:
        number = finite(item.get("position") if isinstance(item, Mapping) else item)
        if number is not None:
            out.append(number)
    return tuple(out)


# -------------------------------------------------------------------------- analysis
def read_analysis(result: Any, error: str | None = None) -> AnalysisView:
    """An :class:`AnalysisView` of an analysis result (object or its ``to_dict()``)."""
    data = as_dict(result)
    if data is None:
        return AnalysisView(raw=None, error=error)
    transition = _get(data, "transition") or {}
    order = _get(transition, "order")
    order = str(order) if isinstance(order, str) else None
    critical = _estimate(_get(transition, "critical_point"))
    exponents: dict[str, Estimate | None] = {}
    source = _get(data, "exponents") or {}
    for name in EXPONENTS:
        if name in EXPONENTS[:5] or (isinstance(source, Mapping) and name in source):
            exponents[name] = _estimate(_get(source, name))
    others = []
    for key in ("critical_points", "estimates"):
        candidates = _get(transition, key)
        if isinstance(candidates, Sequence) and not isinstance(candidates, str):
            for item in candidates:
                estimate = _estimate(item)
                if estimate is not None:
                    others.append(estimate)
    universality = _get(data, "universality") or {}
    verdict = _get(universality, "verdict")
    mean_field = _get(universality, "consistent_with_mean_field")
    binder = _estimate(_get(universality, "binder_crossing"), method="binder_crossing")
    evidence = _sentences(_get(data, "evidence"))
    reasons = _get(data, "not_estimable")
    not_estimable = (
        {str(k): str(v) for k, v in reasons.items() if v is not None}
        if isinstance(reasons, Mapping)
        else {}
    )
    ginzburg = _get(universality, "ginzburg_window", "sentence")
    return AnalysisView(
        raw=data,
        error=error,
        order=order,
        critical_point=critical,
        exponents=exponents,
        coefficients=_coefficients(_get(data, "landau", "coefficients")),
        verdict=verdict if isinstance(verdict, str) else None,
        consistent_with_mean_field=mean_field if isinstance(mean_field, bool) else None,
        evidence=evidence,
        table=_ensemble_table(data),
        free_energy=_free_energy_curves(data),
        collapse=_collapse_curves(data),
        collapse_parameters=_collapse_parameters(data),
        binder_crossing=binder,
        other_critical_points=others,
        not_estimable=not_estimable,
        ginzburg=ginzburg if isinstance(ginzburg, str) else None,
        notes=_sentences(_get(data, "notes")),
    )


def _coefficients(data: Any) -> list[dict[str, Any]]:
    """Landau coefficients as rows ``{"name", "value", "low", "high", "control", "size"}``."""
    rows: list[dict[str, Any]] = []
    if isinstance(data, Mapping):
        for name, item in data.items():
            estimate = _estimate(item)
            if estimate is not None:
                rows.append(
                    {
                        "name": str(name),
                        "value": estimate.value,
                        "low": estimate.low,
                        "high": estimate.high,
                        "control": None,
                        "size": None,
                    }
                )
            elif isinstance(item, Sequence) and not isinstance(item, str):
                for entry in item:
                    estimate = _estimate(entry)
                    if estimate is not None and isinstance(entry, Mapping):
                        rows.append(
                            {
                                "name": str(name),
                                "value": estimate.value,
                                "low": estimate.low,
                                "high": estimate.high,
                                "control": finite(entry.get("control")),
                                "size": finite(entry.get("size")),
                            }
                        )
    elif isinstance(data, Sequence) and not isinstance(data, str):
        for entry in data:
            if not isinstance(entry, Mapping):
                continue
            control, size = finite(entry.get("control")), finite(entry.get("size"))
            name = entry.get("name") or entry.get("term")
            estimate = _estimate(entry)
            if name is not None and estimate is not None:
                rows.append(
                    {
                        "name": str(name),
                        "value": estimate.value,
                        "low": estimate.low,
                        "high": estimate.high,
                        "control": control,
                        "size": size,
                    }
                )
                continue
            for key, item in entry.items():
                if key in ("control", "size", "volume", "name"):
                    continue
                estimate = _estimate(item)
                if estimate is not None and (isinstance(item, Mapping) or key.startswith("a")):
                    rows.append(
                        {
                            "name": str(key),
                            "value": estimate.value,
                            "low": estimate.low,
                            "high": estimate.high,
                            "control": control,
                            "size": size,
                        }
                    )
    return rows


def _ensemble_table(data: Mapping[str, Any]) -> pd.DataFrame | None:
    table = find_table(data, ["control"], any_of=["mean", "susceptibility", "binder"])
    if table is None:
        return None
    if "size" not in table.columns:
        table["size"] = np.nan
    table = table[np.isfinite(table["control"].to_numpy(dtype=float))]
    return table.sort_values(["size", "control"], kind="stable").reset_index(drop=True)


def _free_energy_curves(data: Mapping[str, Any]) -> list[Curve]:
    curves: list[Curve] = []
    landau = _get(data, "landau")
    search = landau if landau is not None else data
    global_minima: dict[tuple[float | None, float | None], float] = {}
    records = _get(landau, "coefficients")
    if isinstance(records, list):
        for record in records:
            if isinstance(record, Mapping) and finite(record.get("m_star")) is not None:
                key = (finite(record.get("control")), finite(record.get("size")))
                global_minima[key] = float(record["m_star"])
    for found in _curve_records(
        search, ("m", "order_parameter", "grid"), ("measured", "free_energy", "F", "values")
    ):
        node = found["node"]
        x = _array(node[found["x"]])
        y = _array(node[found["y"]])
        if x is None or y is None or x.size != y.size:
            continue
        fit = _array(node.get("fit"))
        if fit is not None and fit.size != x.size:
            fit = None
        minima = _float_tuple(node.get("minima") or node.get("minimum") or node.get("m_star"))
        key = (finite(node.get("control")), finite(node.get("size")))
        if not minima and key in global_minima:
            minima = (global_minima[key],)
        curves.append(
            Curve(
                x=x,
                y=y,
                control=finite(node.get("control")),
                size=finite(node.get("size")),
                fit=fit,
                minima=minima,
            )
        )
    return curves


def _collapse_curves(data: Mapping[str, Any]) -> list[Curve]:
    section = _get(data, "collapse")
    if section is None:
        return []
    curves: list[Curve] = []
    for found in _curve_records(section, ("x", "scaled_control"), ("y", "scaled_value")):
        node = found["node"]
        x, y = _array(node[found["x"]]), _array(node[found["y"]])
        if x is None or y is None or x.size != y.size:
            continue
        error = _array(node.get("dy") if "dy" in node else node.get("error"))
        curves.append(
            Curve(
                x=x,
                y=y,
                size=finite(node.get("size")),
                error=error if error is not None and error.size == x.size else None,
            )
        )
    if curves:
        return curves
    table = find_table(section, ["x", "y"])
    if table is None:
        return []
    if "size" not in table.columns:
        table["size"] = np.nan
    for size, part in table.groupby("size", dropna=False, sort=True):
        error = part["dy"].to_numpy(dtype=float) if "dy" in part.columns else None
        curves.append(
            Curve(
                x=part["x"].to_numpy(dtype=float),
                y=part["y"].to_numpy(dtype=float),
                size=finite(size),
                error=error,
            )
        )
    return curves


def _collapse_parameters(data: Mapping[str, Any]) -> dict[str, Estimate]:
    section = _get(data, "collapse")
    out: dict[str, Estimate] = {}
    if not isinstance(section, Mapping):
        return out
    for key, value in section.items():
        if isinstance(value, Mapping) and "value" in value:
            estimate = _estimate(value)
            if estimate is not None:
                name = value.get("name") if key == "ratio" else None
                out[str(name) if isinstance(name, str) and name else str(key)] = estimate
        elif key in ("quality", "critical_point", "nu", "ratio") and finite(value) is not None:
            out[str(key)] = Estimate(float(value))
    return out


# -------------------------------------------------------------------------- dynamics
def read_dynamics(result: Any, error: str | None = None) -> DynamicsView:
    """A :class:`DynamicsView` of a dynamics result (object or its ``to_dict()``)."""
    data = as_dict(result)
    if data is None:
        return DynamicsView(raw=None, error=error)
    attractors = _records(_get(data, "attractors"))
    potentials = []
    for curve in _potentials(_get(data, "potential")):
        if not curve.minima:
            minima = _float_tuple(
                [a for a in attractors if finite(a.get("control")) == curve.control]
            )
            curve = replace(curve, minima=minima)
        potentials.append(curve)
    slowing = _get(data, "critical_slowing_down")
    return DynamicsView(
        raw=data,
        error=error,
        attractors=attractors,
        relaxation=_records(_get(data, "relaxation_time")),
        potentials=potentials,
        transition_times=_transition_times(_get(data, "transition_times")),
        plateaus=_records(_get(data, "plateaus")),
        evidence=_sentences(_get(data, "evidence")),
        law_verdict=_law_verdict(_get(data, "transition_times")),
        transition_summary=_records(_get(data, "transition_times", "by_control")),
        slowing_down=dict(slowing) if isinstance(slowing, Mapping) else None,
        notes=_sentences(_get(data, "notes")),
    )


def _records(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, Mapping):
        for key in ("items", "runs", "records", "values", "per_control"):
            if isinstance(data.get(key), list):
                return _records(data[key])
        return [dict(data)] if data else []
    if isinstance(data, Sequence) and not isinstance(data, str):
        return [dict(r) for r in data if isinstance(r, Mapping)]
    return []


def _potentials(data: Any) -> list[Curve]:
    curves: list[Curve] = []
    if isinstance(data, Mapping) and "grid" not in data:
        # keyed by control: {"0.3": {"grid": [...], "values": [...]}, ...}
        items: list[Any] = []
        for key, value in data.items():
            if isinstance(value, Mapping):
                items.append({**value, "control": value.get("control", finite(key))})
            elif isinstance(value, list):
                items.extend(value)
        data = items
    for found in _curve_records(data, ("grid",), ("values", "potential")):
        node = found["node"]
        x, y = _array(node[found["x"]]), _array(node[found["y"]])
        if x is None or y is None or x.size != y.size:
            continue
        minima = _float_tuple(node.get("attractors"))
        curves.append(Curve(x=x, y=y, control=finite(node.get("control")), minima=minima))
    return curves


_RUN_KEYS = ("run_id", "run")
_TIME_KEYS = ("time", "midpoint", "transition_time", "value", "onset", "step")


def _transition_times(data: Any) -> list[TransitionTime]:
    out: list[TransitionTime] = []
    for node in _walk(data):
        if not isinstance(node, Mapping):
            continue
        run_key = next((k for k in _RUN_KEYS if k in node and _is_scalar(node[k])), None)
        if run_key is None or node[run_key] is None:
            continue
        time_key = next((k for k in _TIME_KEYS if finite(node.get(k)) is not None), None)
        if time_key is not None:
            ci = node.get("ci") if isinstance(node.get("ci"), list | tuple) else [None, None]
            out.append(
                TransitionTime(
                    run_id=str(node[run_key]),
                    time=float(node[time_key]),
                    control=finite(node.get("control")),
                    low=finite(ci[0]) if len(ci) == 2 else None,
                    high=finite(ci[1]) if len(ci) == 2 else None,
                    label=str(node["label"]) if isinstance(node.get("label"), str) else None,
                    main=bool(node.get("main", True)),
                )
            )
            continue
        for key, value in node.items():  # several transitions per run: {"run_id", "times": [...]}
            if (
                isinstance(value, list | tuple)
                and value
                and all(finite(v) is not None for v in value)
                and "time" in key
            ):
                for number in value:
                    out.append(
                        TransitionTime(
                            str(node[run_key]), float(number), control=finite(node.get("control"))
                        )
                    )
    return out


def _law_verdict(data: Any) -> str | None:
    for node in _walk(data):
        if isinstance(node, Mapping) and isinstance(node.get("verdict"), str) and "fits" in node:
            return node["verdict"]
    return None


def jsonable(value: Any) -> Any:
    """``value`` with NaN/inf as ``None``, numpy scalars and arrays unwrapped, for JSON."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)
