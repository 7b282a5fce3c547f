"""Everything a report shows, as one typed, frozen bundle: :class:`Findings`.

A report is a pure function of its findings (:func:`landaulab.report.report`): the roles
of the columns and why, the runs analysed, the analysis and dynamics results (or why each
is missing), the per-run late-time table behind the phase diagram and the dots of the
order-parameter figure, a bounded sample of trajectories, the caller's extra sections,
notes and labels. :meth:`Findings.to_dict` and :meth:`Findings.from_dict` round-trip
exactly, so a saved ``report.json`` renders the same report again.

Findings are made from data by :func:`landaulab.api.findings`; nothing here reads data,
fits or estimates.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from landaulab.analyze.result import AnalysisResult
from landaulab.dynamics.result import DynamicsResult
from landaulab.errors import DataError
from landaulab.report.figures import Rendered, render
from landaulab.report.html import RESERVED_IDS, check_id, has_remote_reference
from landaulab.serialize import to_json

#: Version of the findings' JSON form.
FINDINGS_FORMAT = 1


@dataclass(frozen=True)
class ExtraSection:
    """A section added to a report by the caller (e.g. a study's phase regions).

    Parameters
    ----------
    id
        Stable id: lowercase letters, digits and hyphens, not one of the built-in ids.
    title
        The heading.
    paragraphs
        Plain-text paragraphs.
    figure
        A matplotlib figure, or one already rendered (saved as ``<id>.png`` and
        ``<id>.pdf`` with the others). Findings hold it rendered.
    caption
        The figure's caption.
    table
        A table shown below the text.
    html
        A trusted HTML fragment appended at the end; it must not reference the network.
    """

    id: str
    title: str
    paragraphs: Sequence[str] = ()
    figure: Figure | Rendered | None = None
    caption: str | None = None
    table: pd.DataFrame | None = None
    html: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (a figure as base64 PNG and PDF; render it first)."""
        figure = self.figure
        if isinstance(figure, Figure):
            figure = render(figure)
        return {
            "id": self.id,
            "title": self.title,
            "paragraphs": list(_paragraphs(self.paragraphs)),
            "figure": (
                {
                    "png": base64.b64encode(figure.png).decode("ascii"),
                    "pdf": base64.b64encode(figure.pdf).decode("ascii"),
                }
                if figure is not None
                else None
            ),
            "caption": self.caption,
            "table": table_to_dict(self.table),
            "html": self.html,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExtraSection:
        """The section written by :meth:`to_dict`."""
        figure = data.get("figure")
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            paragraphs=tuple(str(p) for p in data.get("paragraphs") or ()),
            figure=(
                Rendered(png=base64.b64decode(figure["png"]), pdf=base64.b64decode(figure["pdf"]))
                if figure
                else None
            ),
            caption=data.get("caption"),
            table=table_from_dict(data.get("table")),
            html=data.get("html"),
        )


def _paragraphs(paragraphs: Sequence[str] | str) -> tuple[str, ...]:
    return (paragraphs,) if isinstance(paragraphs, str) else tuple(str(p) for p in paragraphs)


def check_extras(extras: Sequence[ExtraSection | Mapping[str, Any]] | None) -> list[ExtraSection]:
    """Extra sections checked (ids, no network references) with their figures rendered.

    Raises
    ------
    DataError
        A malformed section, a clashing or invalid id, or HTML referencing the network.
    """
    checked: list[ExtraSection] = []
    for item in extras or ():
        if isinstance(item, Mapping):
            try:
                item = ExtraSection(**item)
            except TypeError as exc:
                raise DataError(f"extra section: {exc}") from None
        if not isinstance(item, ExtraSection):
            raise DataError("extra sections must be ExtraSection objects or mappings")
        if not check_id(item.id) or item.id in RESERVED_IDS:
            raise DataError(
                f"extra section id {item.id!r} must be lowercase letters, digits and hyphens "
                "and differ from the built-in section ids"
            )
        if item.html and has_remote_reference(item.html):
            raise DataError(f"extra section {item.id!r}: its HTML references the network")
        figure = item.figure
        if isinstance(figure, Figure):
            rendered = render(figure)
            figure.clear()
            figure = rendered
        checked.append(replace(item, figure=figure, paragraphs=_paragraphs(item.paragraphs)))
    ids = [item.id for item in checked]
    if len(set(ids)) != len(ids):
        raise DataError(f"extra section ids must be distinct; got {ids}")
    return checked


def table_to_dict(table: pd.DataFrame | None) -> dict[str, Any] | None:
    """A table as ``{"columns": [...], "rows": [[...], ...]}`` (non-finite numbers null)."""
    if table is None:
        return None
    columns = [str(c) for c in table.columns]
    rows = to_json(table.astype(object).values.tolist())
    return {"columns": columns, "rows": rows}


def table_from_dict(data: Mapping[str, Any] | None) -> pd.DataFrame | None:
    """The table written by :func:`table_to_dict`."""
    if data is None:
        return None
    columns = [str(c) for c in data.get("columns") or []]
    rows = [list(r) for r in data.get("rows") or []]
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


@dataclass(frozen=True)
class RoleChoice:
    """The columns of a report, and why they were chosen.

    Attributes
    ----------
    order_parameter, control, size
        The columns (``size`` may be ``None``).
    swept
        Parameters that take more than one value across runs.
    automatic
        Which of ``order_parameter``, ``control``, ``size`` were chosen from the data.
    reasons
        Sentences explaining the automatic choices.
    symmetric
        Whether the order parameter takes both signs with similar weight (Z₂ symmetric).
    """

    order_parameter: str
    control: str
    size: str | None = None
    swept: tuple[str, ...] = ()
    automatic: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    symmetric: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "order_parameter": self.order_parameter,
            "control": self.control,
            "size": self.size,
            "swept": list(self.swept),
            "automatic": list(self.automatic),
            "reasons": list(self.reasons),
            "symmetric": self.symmetric,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoleChoice:
        """The roles written by :meth:`to_dict`."""
        return cls(
            order_parameter=str(data["order_parameter"]),
            control=str(data["control"]),
            size=None if data.get("size") is None else str(data["size"]),
            swept=tuple(str(s) for s in data.get("swept") or ()),
            automatic=tuple(str(s) for s in data.get("automatic") or ()),
            reasons=tuple(str(s) for s in data.get("reasons") or ()),
            symmetric=bool(data.get("symmetric", False)),
        )


@dataclass(frozen=True)
class SliceChoice:
    """The runs analysed along the control.

    Attributes
    ----------
    fixed
        Other parameters → the value they are held at (empty: every run).
    sentence
        Why these runs (``None`` when the analysis uses every run or the results were given).
    """

    fixed: Mapping[str, Any] = field(default_factory=dict)
    sentence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"fixed": to_json(dict(self.fixed)), "sentence": self.sentence}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SliceChoice:
        """The slice written by :meth:`to_dict`."""
        return cls(fixed=dict(data.get("fixed") or {}), sentence=data.get("sentence"))


@dataclass(frozen=True, eq=False)
class Findings:
    """Everything one report shows (see the module docstring).

    Attributes
    ----------
    source
        A label for where the data came from.
    roles
        The columns and why.
    slice
        The runs analysed along the control.
    absolute
        Whether the order parameter is shown as ``|m|`` (symmetric order parameter).
    analysis, analysis_error
        The Landau analysis, or ``None`` and why not.
    dynamics, dynamics_error
        The dynamics, or ``None`` and why not.
    runs
        One row per run: the run column, the swept parameters, ``value`` (late-time mean of
        the order parameter, of ``|m|`` when ``absolute``; NaN when none) and ``in_slice``.
    time_map
        Without a second swept parameter: mean order parameter over runs of the slice on a
        grid of time bins (rows) × control values (columns); ``time_edges`` are the bins.
    trajectories
        A bounded sample of runs of the slice: the run and step columns, the control and the
        order parameter.
    n_trajectory_runs
        Runs of the slice with a trajectory (the sample may show fewer).
    extra_sections
        Sections the caller adds (figures rendered).
    notes
        Sentences about the data (dropped rows, missing columns, warnings).
    lead
        Sentences that open the summary: what the caller (a study) found, in its own words
        and from its own results; the report repeats them and computes nothing of them.
    extras_first
        Whether the caller's sections carry the report's answers (a study that measures
        the transition its own way): they follow the summary, the built-in sections come
        after them, and what those could not estimate is gathered into one collapsed list
        instead of a section each.
    title
        The page title (``None``: from the columns).
    run_col, step_col
        The run and step columns.
    """

    source: str
    roles: RoleChoice
    slice: SliceChoice = field(default_factory=SliceChoice)
    absolute: bool = False
    analysis: AnalysisResult | None = None
    analysis_error: str | None = None
    dynamics: DynamicsResult | None = None
    dynamics_error: str | None = None
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    time_map: pd.DataFrame | None = None
    time_edges: tuple[float, ...] = ()
    trajectories: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_trajectory_runs: int = 0
    extra_sections: tuple[ExtraSection, ...] = ()
    notes: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()
    extras_first: bool = False
    title: str | None = None
    run_col: str = "run_id"
    step_col: str = "step"

    def to_dict(self, *, results: bool = True) -> dict[str, Any]:
        """JSON form; ``results=False`` leaves out ``analysis`` and ``dynamics``.

        ``report.json`` keeps those two under its own top-level keys, so its ``findings``
        holds everything else.
        """
        out: dict[str, Any] = {
            "format": FINDINGS_FORMAT,
            "source": self.source,
            "roles": self.roles.to_dict(),
            "slice": self.slice.to_dict(),
            "absolute": self.absolute,
            "analysis_error": self.analysis_error,
            "dynamics_error": self.dynamics_error,
            "runs": table_to_dict(self.runs),
            "time_map": _time_map_to_dict(self.time_map),
            "time_edges": to_json(list(self.time_edges)),
            "trajectories": table_to_dict(self.trajectories),
            "n_trajectory_runs": self.n_trajectory_runs,
            "extra_sections": [s.to_dict() for s in self.extra_sections],
            "notes": list(self.notes),
            "lead": list(self.lead),
            "extras_first": self.extras_first,
            "title": self.title,
            "run_col": self.run_col,
            "step_col": self.step_col,
        }
        if results:
            out["analysis"] = self.analysis.to_dict() if self.analysis is not None else None
            out["dynamics"] = self.dynamics.to_dict() if self.dynamics is not None else None
        return out

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        analysis: Mapping[str, Any] | None = None,
        dynamics: Mapping[str, Any] | None = None,
    ) -> Findings:
        """The findings written by :meth:`to_dict` (``analysis``/``dynamics``: their JSON
        forms when kept apart, as in ``report.json``).

        Raises
        ------
        DataError
            An unknown format, or results this version cannot read back.
        """
        if data.get("format") != FINDINGS_FORMAT:
            raise DataError(f"findings format {data.get('format')!r} is not {FINDINGS_FORMAT}")
        analysis_data = data.get("analysis", analysis)
        dynamics_data = data.get("dynamics", dynamics)
        runs = table_from_dict(data.get("runs"))
        trajectories = table_from_dict(data.get("trajectories"))
        return cls(
            source=str(data["source"]),
            roles=RoleChoice.from_dict(data["roles"]),
            slice=SliceChoice.from_dict(data.get("slice") or {}),
            absolute=bool(data.get("absolute", False)),
            analysis=analysis_from_dict(analysis_data),
            analysis_error=data.get("analysis_error"),
            dynamics=dynamics_from_dict(dynamics_data),
            dynamics_error=data.get("dynamics_error"),
            runs=runs if runs is not None else pd.DataFrame(),
            time_map=_time_map_from_dict(data.get("time_map")),
            time_edges=tuple(float(e) for e in data.get("time_edges") or ()),
            trajectories=trajectories if trajectories is not None else pd.DataFrame(),
            n_trajectory_runs=int(data.get("n_trajectory_runs") or 0),
            extra_sections=tuple(
                ExtraSection.from_dict(s) for s in data.get("extra_sections") or ()
            ),
            notes=tuple(str(n) for n in data.get("notes") or ()),
            lead=tuple(str(n) for n in data.get("lead") or ()),
            extras_first=bool(data.get("extras_first", False)),
            title=data.get("title"),
            run_col=str(data.get("run_col", "run_id")),
            step_col=str(data.get("step_col", "step")),
        )

    @property
    def slice_runs(self) -> pd.DataFrame:
        """The rows of :attr:`runs` in the analysed slice."""
        if "in_slice" not in self.runs.columns:
            return self.runs
        return self.runs[self.runs["in_slice"].astype(bool)]


def _time_map_to_dict(grid: pd.DataFrame | None) -> dict[str, Any] | None:
    if grid is None:
        return None
    return {
        "controls": to_json([float(c) for c in grid.columns]),
        "values": to_json(grid.to_numpy(dtype=float).tolist()),
    }


def _time_map_from_dict(data: Mapping[str, Any] | None) -> pd.DataFrame | None:
    if data is None:
        return None
    controls = [float("nan") if c is None else float(c) for c in data.get("controls") or []]
    values = [[float("nan") if v is None else float(v) for v in row] for row in data["values"]]
    return pd.DataFrame(values, columns=controls, dtype=float)


def analysis_from_dict(data: Mapping[str, Any] | None) -> AnalysisResult | None:
    """The analysis result of its JSON form (``AnalysisResult.from_dict``), or ``None``."""
    return None if data is None else AnalysisResult.from_dict(dict(data))


def dynamics_from_dict(data: Mapping[str, Any] | None) -> DynamicsResult | None:
    """The dynamics result of its JSON form (``DynamicsResult.from_dict``), or ``None``."""
    return None if data is None else DynamicsResult.from_dict(dict(data))


__all__ = [
    "FINDINGS_FORMAT",
    "ExtraSection",
    "Findings",
    "RoleChoice",
    "SliceChoice",
    "analysis_from_dict",
    "check_extras",
    "dynamics_from_dict",
    "table_from_dict",
    "table_to_dict",
]
