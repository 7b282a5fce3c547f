"""The plain-language story of a report, written from the results and nothing else.

Every sentence is built from a number or verdict in the analysis and dynamics results (or
from the roles chosen for the columns). Where a result is null the narrative says so
("not enough data to estimate ν") instead of guessing; no sentence is written for a
quantity that was not measured.

Reference values quoted: mean field (Landau) β = 1/2, γ = 1, ν = 1/2; the 2D Ising model
β = 1/8, γ = 7/4, ν = 1 (Onsager 1944; Yang 1952).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from landaulab.report.formatting import (
    capital,
    estimate,
    finite,
    human,
    interval,
    plain,
    symbol,
)
from landaulab.report.results import AnalysisView, DynamicsView, Estimate

#: How each critical-point method is named in a sentence.
METHOD_NAMES = {
    "susceptibility_peak": "the peak of the susceptibility",
    "binder_crossing": "the crossing of the Binder cumulants",
    "landau_quadratic": "the zero of the quadratic Landau coefficient",
    "quadratic_coefficient": "the zero of the quadratic Landau coefficient",
    "quadratic_coefficient_zero": "the zero of the quadratic Landau coefficient",
    "a2_zero": "the zero of the quadratic Landau coefficient",
    "equal_depth": "the equal depth of the coexisting free-energy minima",
    "collapse": "the finite-size-scaling collapse",
    "data_collapse": "the finite-size-scaling collapse",
    "binder_collapse": "the finite-size-scaling collapse of the Binder cumulants",
    "vanishing_point": "the vanishing of the order parameter",
    "largest_jump": "the largest jump between neighbouring controls",
}


@dataclass(frozen=True)
class ReportContext:
    """What the narrative may speak of besides the results: the data and its roles."""

    order_parameter: str
    control: str
    size: str | None = None
    n_runs: int = 0
    control_values: tuple[float, ...] = ()
    sizes: tuple[float, ...] = ()
    role_reasons: tuple[str, ...] = ()
    slice_sentence: str | None = None
    absolute: bool = False
    notes: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()


@dataclass(frozen=True)
class Narrative:
    """Paragraphs of plain sentences, keyed by topic (``roles``, ``transition``, ...)."""

    paragraphs: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def sentences(self) -> list[str]:
        """Every sentence, in order."""
        return [s for _, paragraph in self.paragraphs for s in paragraph]

    def paragraph(self, topic: str) -> tuple[str, ...]:
        """The sentences of one topic (empty when absent)."""
        return next((p for t, p in self.paragraphs if t == topic), ())

    def __str__(self) -> str:
        return "\n\n".join(" ".join(p) for _, p in self.paragraphs)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"paragraphs": [{"topic", "sentences"}], "text"}``."""
        return {
            "paragraphs": [{"topic": t, "sentences": list(p)} for t, p in self.paragraphs],
            "text": str(self),
        }


def _sentence(text: str) -> str:
    text = capital(text.strip())
    return text if text.endswith((".", "!", "?")) else text + "."


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _method(name: str | None) -> str | None:
    if not name:
        return None
    return METHOD_NAMES.get(name, human(name))


def describe_estimate(value: Estimate) -> str:
    """``0.31 ± 0.02 (95% confidence interval [0.29, 0.33])`` or the bare value."""
    text = estimate(value.value, value.ci)
    bounds = interval(value.low, value.high)
    return f"{text} (95% confidence interval {bounds})" if bounds else text


# --------------------------------------------------------------------- paragraphs
def _roles(context: ReportContext) -> list[str]:
    op, control = human(context.order_parameter), human(context.control)
    if context.control.lower() in ("temperature", "t", "temp"):
        text = f"{capital(control)} is the control parameter; {op} is the order parameter"
    else:
        text = f"{capital(control)} plays the role of temperature; {op} is the order parameter"
    if context.absolute:
        text += f" (its magnitude |{op}|, since it takes both signs symmetrically)"
    if context.size:
        text += f"; {human(context.size)} sets the system size"
    out = [_sentence(text)]
    values = [v for v in context.control_values if np.isfinite(v)]
    if values:
        data = (
            f"The report rests on {context.n_runs} run{'s' if context.n_runs != 1 else ''} at "
            f"{len(values)} value{'s' if len(values) != 1 else ''} of {control}"
        )
        if len(values) > 1:
            data += f" from {plain(min(values), 4)} to {plain(max(values), 4)}"
        if context.size and len(context.sizes) > 1:
            data += (
                f" and {len(context.sizes)} sizes ({_join([plain(s, 4) for s in context.sizes])})"
            )
        out.append(_sentence(data))
    if context.slice_sentence:
        out.append(_sentence(context.slice_sentence))
    return out


#: Words marking an evidence sentence about the order of the transition.
ORDER_WORDS = (
    "bimodal",
    "coexist",
    "jump",
    "hysteresis",
    "binder",
    "minima",
    "continuous",
    "grows like",
    "cross",
    "latent",
    "smooth",
)


#: Words kept capitalised inside a sentence.
PROPER_NAMES = frozenset({"Binder", "Landau", "Ising", "Kramers", "Arrhenius", "Curie"})


def _order_evidence(evidence: Sequence[str]) -> str | None:
    """The first evidence sentence about the order (None if none is), without its stop."""
    sentences = [e.strip() for e in evidence if e.strip()]
    about_order = [e for e in sentences if any(w in e.lower() for w in ORDER_WORDS)]
    if not about_order:
        return None
    chosen = about_order[0].rstrip(".")
    first = chosen.split(" ", 1)[0]
    common = len(first) >= 3 and first.isalpha() and first[1:].islower()
    if common and first not in PROPER_NAMES:
        return chosen[:1].lower() + chosen[1:]
    return chosen


def _transition(
    context: ReportContext, analysis: AnalysisView, dynamics_error: str | None = None
) -> list[str]:
    control = human(context.control)
    op = human(context.order_parameter)
    if not analysis.available:
        if analysis.error:
            # the reason says why (too little data, or a study that measures the
            # transition its own way): no further claim that could contradict it
            what = "The Landau analysis of the table"
            if dynamics_error == analysis.error:
                what += " and of the training dynamics were"
            else:
                what += " was"
            return [_sentence(f"{what} not run: {analysis.error}")]
        return [
            "No Landau analysis was given, so this summary states no critical point, order "
            "or exponents."
        ]
    cp = analysis.critical_point
    order = analysis.order or ""
    reason = _order_evidence(analysis.evidence)
    because = f": {reason}" if reason else ""
    out: list[str] = []
    if order in ("first", "second"):
        if cp is not None:
            method = _method(cp.method)
            where = f"at {control} {describe_estimate(cp)}"
            if method:
                where += f", located by {method},"
            out.append(_sentence(f"The transition {where} is {order} order{because}"))
        else:
            out.append(_sentence(f"The transition is {order} order{because}"))
            out.append("Not enough data to estimate the critical point.")
    elif order == "crossover":
        text = (
            f"The order parameter {op} changes with {control} without a resolved singularity: "
            "a crossover, not a phase transition"
        )
        if cp is not None:
            text += f", steepest near {control} {describe_estimate(cp)}"
        out.append(_sentence(text + (f"; {reason}" if reason else "")))
    elif order == "none":
        values = [v for v in context.control_values if np.isfinite(v)]
        span = f" between {plain(min(values), 4)} and {plain(max(values), 4)}" if values else ""
        out.append(_sentence(f"No transition was found in {control}{span}{because}"))
    else:
        out.append("The order of the transition could not be determined.")
        if cp is not None:
            out.append(_sentence(f"The critical point is at {control} {describe_estimate(cp)}"))
        else:
            out.append("Not enough data to estimate the critical point.")
    latest: dict[str, Estimate] = {}
    for other in analysis.other_critical_points:
        if other.method and (cp is None or other.method != cp.method):
            latest[other.method] = other  # estimates are listed by increasing size
    parts = []
    for name, other in latest.items():
        detail = getattr(other, "detail", "")
        where = f" ({detail})" if detail and context.size else ""
        parts.append(f"{_method(name)}{where} gives {estimate(other.value, other.ci)}")
    if parts:
        lead = (
            "Other estimates of the transition point"
            if cp is not None
            else ("Estimates of where the change is steepest")
        )
        out.append(_sentence(f"{lead}: " + "; ".join(parts)))
    return out


def _exponents(context: ReportContext, analysis: AnalysisView) -> list[str]:
    if not analysis.available:
        return []
    known = {n: e for n, e in analysis.exponents.items() if e is not None}
    missing = [n for n, e in analysis.exponents.items() if e is None]
    out: list[str] = []
    if known:
        parts = [f"{symbol(n)} = {estimate(e.value, e.ci)}" for n, e in known.items()]
        out.append(_sentence("Critical exponents: " + _join(parts)))
    if missing:
        if analysis.order == "first" and not known:
            out.append(
                "Critical exponents are not defined at a first-order transition; none were "
                "estimated."
            )
        else:
            by_reason: dict[str, list[str]] = {}
            few_sizes = not context.size or len(context.sizes) < 2
            for name in missing:
                reason = analysis.not_estimable.get(name, "")
                if not reason and few_sizes and name in ("nu", "beta_over_nu", "gamma_over_nu"):
                    reason = "finite-size scaling needs runs at two or more sizes"
                by_reason.setdefault(reason, []).append(symbol(name))
            for reason, names in by_reason.items():
                text = f"Not enough data to estimate {_join(names)}"
                out.append(_sentence(text + (f" ({reason.rstrip('.')})" if reason else "")))
    if analysis.verdict:
        out.append(_sentence(analysis.verdict))
    if analysis.consistent_with_mean_field is not None and known:
        word = "consistent" if analysis.consistent_with_mean_field else "not consistent"
        out.append(
            f"The measured exponents are {word} with mean-field (Landau) theory (β = 1/2, γ = 1)."
        )
    if analysis.ginzburg:
        out.append(_sentence(analysis.ginzburg))
    if analysis.binder_crossing is not None:
        out.append(
            _sentence(
                f"The Binder cumulants cross at U* = "
                f"{estimate(analysis.binder_crossing.value, analysis.binder_crossing.ci)}; "
                "mean field gives 0.27 and the 2D Ising model about 0.61"
            )
        )
    return out


def _landau(context: ReportContext, analysis: AnalysisView) -> list[str]:
    rows = [r for r in analysis.coefficients if str(r.get("name")) == "a2"]
    with_control = [r for r in rows if r.get("control") is not None]
    control = human(context.control)
    if with_control:
        largest = max((r.get("size") or 0.0) for r in with_control)
        chosen = sorted(
            (r for r in with_control if (r.get("size") or 0.0) == largest),
            key=lambda r: r["control"],
        )
        signs = np.sign([r["value"] for r in chosen])
        flips = np.flatnonzero(signs[1:] * signs[:-1] < 0)
        if flips.size:
            k = int(flips[0])
            return [
                _sentence(
                    f"The quadratic Landau coefficient a₂ of the fitted free energy changes sign "
                    f"between {control} {plain(chosen[k]['control'], 4)} and "
                    f"{plain(chosen[k + 1]['control'], 4)}, where the minimum at m = 0 turns "
                    "into a maximum"
                )
            ]
        return [
            _sentence(
                f"The quadratic Landau coefficient a₂ keeps one sign "
                f"({'positive' if signs.size and signs[0] > 0 else 'negative'}) over the "
                f"{control} values studied"
            )
        ]
    plain_rows = [r for r in analysis.coefficients if r.get("control") is None]
    if plain_rows:
        parts = [
            f"{r['name']} = {estimate(r['value'], [r.get('low'), r.get('high')])}"
            for r in plain_rows[:6]
        ]
        return [_sentence("Landau coefficients of the fitted free energy: " + _join(parts))]
    return []


def _dynamics(context: ReportContext, dynamics: DynamicsView, analysis: AnalysisView) -> list[str]:
    control = human(context.control)
    if not dynamics.available:
        if dynamics.error and dynamics.error == analysis.error and not analysis.available:
            # one reason for both (a study that measures the transition its own way),
            # said once, where the Landau analysis is
            return []
        if dynamics.error:
            why = dynamics.error
            return [_sentence(f"The analysis of the training dynamics was not run: {why}")]
        return []
    out: list[str] = []
    per_control: dict[float | None, int] = {}
    for item in dynamics.attractors:
        if finite(item.get("position")) is None:
            continue
        key = finite(item.get("control"))
        per_control[key] = per_control.get(key, 0) + 1
    if per_control:
        several = sorted(c for c, n in per_control.items() if n >= 2 and c is not None)
        if several:
            out.append(
                _sentence(
                    f"The dynamics has coexisting attractors (metastable states) at {control} "
                    + _join([plain(c, 4) for c in several])
                )
            )
        elif None in per_control and len(per_control) == 1:
            n = per_control[None]
            out.append(_sentence(f"The dynamics has {n} attractor{'s' if n != 1 else ''}"))
        else:
            out.append(_sentence(f"The dynamics has a single attractor at each {control} value"))
    taus: list[tuple[float | None, float, Any]] = []
    for r in dynamics.relaxation:
        value = finite(r.get("value"))
        if value is not None:
            taus.append((finite(r.get("control")), value, r.get("ci")))
    if taus:
        slowest = max(taus, key=lambda t: t[1])
        where = f" at {control} {plain(slowest[0], 4)}" if slowest[0] is not None else ""
        tau = estimate(slowest[1], slowest[2])
        text = f"The relaxation time of the order parameter is longest{where}: τ = {tau}"
        cp = analysis.critical_point
        if cp is not None and cp.value is not None and slowest[0] is not None and len(taus) > 2:
            centre = cp.value
            nearest = min((t[0] for t in taus if t[0] is not None), key=lambda c: abs(c - centre))
            if nearest == slowest[0]:
                text += ", next to the critical point"
        out.append(_sentence(text))
    slowing = dynamics.slowing_down or {}
    c0 = finite(slowing.get("critical_point"))
    values = [v for v in context.control_values if np.isfinite(v)]
    inside = (
        c0 is not None
        and len(values) > 1
        and min(values) - 0.25 * (max(values) - min(values))
        <= c0
        <= max(values) + 0.25 * (max(values) - min(values))
    )
    z_nu = finite(slowing.get("exponent_z_nu"))
    if z_nu is not None and not slowing.get("reason") and inside:
        ci_value = slowing.get("exponent_ci")
        ci: list[Any] = list(ci_value) if isinstance(ci_value, list | tuple) else []
        low = finite(ci[0]) if len(ci) == 2 else None
        where = estimate(slowing.get("critical_point"), slowing.get("critical_point_ci"))
        if low is not None and low > 0:
            out.append(
                _sentence(
                    f"The relaxation time grows as |{control} − c₀|^(−zν) towards c₀ = {where}, "
                    f"with zν = {estimate(z_nu, ci)}: critical slowing down"
                )
            )
        else:
            out.append(
                _sentence(
                    f"The fitted divergence of the relaxation time, zν = {estimate(z_nu, ci)}, "
                    "is not significantly above zero: no clear critical slowing down"
                )
            )
    summary = [
        r
        for r in dynamics.transition_summary
        if finite(r.get("median")) is not None and finite(r.get("control")) is not None
    ]
    times = dynamics.transition_times
    if len(summary) >= 2:
        summary = sorted(summary, key=lambda r: float(r["control"]))
        found, total = dynamics.n_with_transition, dynamics.n_runs_checked
        parts = [
            f"{estimate(r['median'], r.get('ci'))} at {control} {plain(r['control'], 4)}"
            for r in (summary[0], summary[-1])
        ]
        out.append(
            _sentence(
                f"A sudden change in time was found in {found} of {total} runs; the median "
                f"transition time is {parts[0]} and {parts[1]}"
            )
        )
    elif times:
        runs = {t.run_id for t in times}
        text = (
            f"Sudden changes in time were detected in {len(runs)} "
            f"run{'s' if len(runs) != 1 else ''}"
        )
        if context.n_runs:
            text += f" of {context.n_runs}"
        by_control: dict[float, list[float]] = {}
        for t in times:
            if t.control is not None:
                by_control.setdefault(t.control, []).append(t.time)
        if len(by_control) >= 2:
            keys = sorted(by_control)
            lo, hi = keys[0], keys[-1]
            text += (
                f"; the median transition time is {plain(np.median(by_control[lo]), 3)} at "
                f"{control} {plain(lo, 4)} and {plain(np.median(by_control[hi]), 3)} at "
                f"{plain(hi, 4)}"
            )
        else:
            text += f", at a median time of {plain(np.median([t.time for t in times]), 3)}"
        out.append(_sentence(text))
    elif dynamics.looked_for_transitions:
        out.append("No sudden change in time was detected in any run.")
    if dynamics.law_verdict:
        out.append(_sentence(dynamics.law_verdict))
    if dynamics.plateaus:
        n = len(dynamics.plateaus)
        out.append(
            _sentence(f"{n} plateau{'s were' if n != 1 else ' was'} detected in the trajectories")
        )
    return out


def build_narrative(
    context: ReportContext, analysis: AnalysisView, dynamics: DynamicsView
) -> Narrative:
    """The narrative of a report, paragraph by paragraph.

    Topics: ``lead`` (what the caller found, given as sentences), ``roles`` (what plays
    which part, and the data), ``transition`` (where and of
    which order), ``exponents`` (exponents and universality), ``landau`` (the fitted free
    energy), ``dynamics`` (attractors, relaxation, transition times), ``choices`` (how the
    columns were chosen, when chosen automatically).
    """
    paragraphs = [
        ("lead", [_sentence(s) for s in context.lead]),
        ("roles", _roles(context)),
        (
            "transition",
            _transition(context, analysis, None if dynamics.available else dynamics.error),
        ),
        ("exponents", _exponents(context, analysis)),
        ("landau", _landau(context, analysis)),
        ("dynamics", _dynamics(context, dynamics, analysis)),
        ("choices", [_sentence(r) for r in context.role_reasons]),
    ]
    return Narrative(tuple((t, tuple(p)) for t, p in paragraphs if p))
