"""The grokking study's report sections, read from its typed result.

Every number shown here is a field of
:class:`~landaulab.study.grokking_result.GrokkingStudyResult`: the sections format and
plot, and compute nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from landaulab.report import ExtraSection
from landaulab.study.grokking_result import Boundary, GrokkingStudyResult
from landaulab.study.grokking_stages import HIGH, LOW, WELL_SEEDS, StudyConfig, decided

PHASE_COLOURS = {
    "comprehension": "#4c9f70",
    "grokking": "#3b6fb6",
    "memorisation": "#d9a441",
    "confusion": "#b04a4a",
}


def _ci(lo: float | None, hi: float | None, digits: int = 3) -> str:
    if lo is None or hi is None:
        return ""
    return f" [{lo:.{digits}f}, {hi:.{digits}f}]"


def _pair(ci: tuple[float, float] | None, digits: int) -> str:
    return "" if ci is None else _ci(ci[0], ci[1], digits)


def _figure(width: float = 6.4, height: float = 4.0) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _full(result: GrokkingStudyResult) -> list[Boundary]:
    return [b for s in result.sizes if (b := result.boundary_at(s)) is not None]


def _phase_figure(result: GrokkingStudyResult) -> Any:
    fig = _figure()
    ax = fig.add_subplot()
    wds = sorted({wd for wd, _, _ in result.phase_map})
    for wd, f, phase in result.phase_map:
        ax.scatter(f, wds.index(wd), s=260, marker="s", color=PHASE_COLOURS.get(phase, "grey"))
    for phase, colour in PHASE_COLOURS.items():
        ax.scatter([], [], marker="s", color=colour, label=phase)
    if result.weight_decay in wds:
        row = wds.index(result.weight_decay)
        for i, b in enumerate(_full(result)):
            y = row + 0.3 * (i + 1)
            ax.errorbar(
                b.value,
                y,
                xerr=[[b.value - b.ci[0]], [b.ci[1] - b.value]],
                fmt="k|",
                capsize=4,
                ms=12,
            )
            ax.annotate(f"p = {b.size}", (b.value, y), xytext=(6, -3), textcoords="offset points")
    ax.set_yticks(range(len(wds)), [f"{w:g}" for w in wds])
    ax.set_xlabel("training fraction")
    ax.set_ylabel("weight decay")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def _pm_figure(result: GrokkingStudyResult) -> Any:
    fig = _figure(3.2 * max(1, len(result.sizes)), 3.4)
    axes = fig.subplots(1, len(result.sizes), squeeze=False)[0]
    for ax, size in zip(axes, result.sizes, strict=True):
        b = result.boundary_at(size)
        ens = [e for e in result.ensembles if e.size == size]
        for e in sorted(ens, key=lambda e: e.control):
            edges = np.linspace(0, 1, len(e.histogram) + 1)
            ax.stairs(np.array(e.histogram) / e.n, edges, label=f"f = {e.control:g}")
        ax.set_title(f"p = {size}" + (f", boundary {b.value:.3f}" if b else ""))
        ax.set_xlabel("late generalisation m")
        ax.set_ylabel("fraction of seeds")
        ax.legend(frameon=False, fontsize="small")
    return fig


def _f_figure(result: GrokkingStudyResult) -> Any:
    fig = _figure(3.2 * max(1, len(result.sizes)), 3.4)
    axes = fig.subplots(1, len(result.sizes), squeeze=False)[0]
    for ax, size in zip(axes, result.sizes, strict=True):
        for fe in sorted(
            (f for f in result.free_energy if f.size == size), key=lambda f: f.control
        ):
            m = np.array(fe.m)
            label = f"f = {fe.control:g}" + (" (double well)" if fe.double_well else "")
            (line,) = ax.plot(m, fe.f, "o", ms=4, label=label)
            phi = np.linspace(0, 1, 101) - 0.5
            f0, h, a, b = (fe.coefficient(k)[0] for k in ("F0", "h", "a", "b"))
            # a fit is drawn solid only where its double well is resolved
            style = "-" if fe.double_well else ":"
            fit = f0 + h * phi + a * phi**2 + b * phi**4
            ax.plot(phi + 0.5, fit, style, color=line.get_color())
        ax.set_title(f"p = {size}")
        ax.set_xlabel("m")
        ax.set_ylabel("F(m) = −ln P(m) / p²")
        ax.legend(frameon=False, fontsize="small")
    return fig


def _budget_figure(result: GrokkingStudyResult) -> Any:
    fig = _figure()
    ax = fig.add_subplot()
    for law in result.budget:
        pts = sorted(law.points, key=lambda p: p.budget)
        x = np.array([p.budget for p in pts])
        y = np.array([p.value for p in pts])
        err = np.array([[p.value - p.ci[0] for p in pts], [p.ci[1] - p.value for p in pts]])
        ax.errorbar(x, y, yerr=np.clip(err, 0, None), fmt="o", capsize=3, label=f"p = {law.size}")
    ax.set_xscale("log")
    ax.set_xlabel("training budget (steps)")
    ax.set_ylabel("boundary (training fraction)")
    ax.legend(frameon=False)
    return fig


def _at_boundary(result: GrokkingStudyResult) -> list[Any]:
    """The free energy at the ensemble control nearest each size's located boundary."""
    out = []
    for b in _full(result):
        mine = [f for f in result.free_energy if f.size == b.size]
        if mine:
            out.append(min(mine, key=lambda f: abs(f.control - b.value)))
    return out


def _wells(result: GrokkingStudyResult) -> list[str]:
    """Per size, whether F(m) at the boundary is a resolved double well."""
    out = []
    for fe in _at_boundary(result):
        barrier = "—" if fe.barrier is None else f"{fe.barrier:.3g}{_pair(fe.barrier_ci, 3)}"
        if fe.double_well:
            shape = "a resolved double well: the phases are two wells with a barrier between"
        elif fe.barrier_ci is None or fe.barrier_ci[0] <= 0:
            shape = (
                "no resolved double well: the barrier's interval reaches 0, so these seeds "
                "do not measure a barrier"
            )
        else:
            shape = (
                f"no resolved double well: fewer than {WELL_SEEDS} seeds hold one of the "
                "two phases there, so its well is not measured"
            )
        out.append(
            f"At the boundary of p = {fe.size} (training fraction {fe.control:g}) the "
            f"barrier is {barrier} per unit volume: {shape}."
        )
    return out


def _literature(result: GrokkingStudyResult) -> list[str]:
    full = _full(result)
    moves = "The boundary per size is in the table below."
    if len(full) >= 2:
        a, b = sorted(full, key=lambda b: b.size)[:2]
        apart = b.ci[1] < a.ci[0] or a.ci[1] < b.ci[0]
        direction = "falls" if b.value < a.value else "rises"
        moves = (
            f"From p = {a.size} to p = {b.size} the boundary {direction} from {a.value:.3f} "
            f"to {b.value:.3f}. "
        )
        if not apart:
            moves += "The intervals overlap, so the size dependence is not resolved."
        elif direction == "falls":
            moves += (
                "A larger table needs a smaller fraction, as the critical training-set size "
                "of Liu et al. and Power et al.'s data-fraction curves imply."
            )
        else:
            moves += "A larger table needing a larger fraction disagrees with both papers."
    present = [k for k, v in result.phases if v]
    orders = {o.order for o in result.orders}
    laws = {b.best if decided(b) else "undecided" for b in result.budget}
    first = orders == {"first"}
    ranking = [c for c in result.ranking if c.lead is not None]
    earliest = max(ranking, key=lambda c: c.lead or 0.0) if ranking else None
    return [
        "Power et al. 2022 (arXiv:2201.02177) found that the steps needed to generalise grow "
        "steeply as the training fraction falls and that below some fraction no network "
        "generalises within the budget; Liu et al. 2022 (arXiv:2205.10343) explain it by a "
        "critical training-set size and a phase diagram with comprehension, grokking, "
        "memorisation and confusion. landaulab's map shows "
        + (
            "all four phases. "
            if len(present) == 4
            else f"{len(present)} of them ({', '.join(present)}). "
        )
        + moves,
        "Rubin, Seroussi & Ringel 2023 (arXiv:2310.03789) describe grokking as a first-order "
        "transition with a mixed phase in which memorising and generalising solutions "
        "coexist. "
        + (
            "landaulab agrees on coexistence: at the boundary the seeds are ungrokked, "
            "grokked or caught in their jump, and few rest between the two peaks of P(m)"
            + (
                "; the static free energy is a resolved double well."
                if all(f.double_well for f in _at_boundary(result))
                else "; but with these seeds the static free energy does not resolve a "
                "double well, so the barrier Rubin et al. describe is not measured here."
            )
            if first
            else "landaulab's ensembles do not show clean coexistence at every size ("
            + ", ".join(f"{o.order} for p = {o.size}" for o in result.orders)
            + "), so that reading is not confirmed here."
        ),
        "Žunkovič & Ilievski 2022 (arXiv:2210.15435) derive, in exactly solvable models, a "
        "grokking time that diverges at a critical training-set size. "
        + (
            "landaulab's budget law agrees: the boundary converges to a critical fraction as "
            "the budget grows (power law preferred)."
            if laws == {"power"}
            else "landaulab's budget law prefers Arrhenius: within the budgets measured the "
            "boundary keeps moving, so a divergence at a finite critical fraction is not "
            "supported by these numbers."
            if laws == {"arrhenius"}
            else "landaulab's budget law is not the same at every size ("
            + ", ".join(
                (f"{b.best} law for p = {b.size}" if decided(b) else f"undecided for p = {b.size}")
                for b in result.budget
            )
            + "), so these numbers support a divergence only where the power law is preferred."
        ),
        "Nanda et al. 2023 (arXiv:2301.05217) show that Fourier features form gradually "
        "before the test accuracy jumps, and that the weight norm falls during a clean-up "
        "phase; Doshi et al. 2023 (arXiv:2310.13061) use the inverse participation ratio of "
        "the embedding's Fourier spectrum as an order parameter. "
        + (
            f"In landaulab's ranking the earliest marker is {earliest.observable} "
            f"(a median {earliest.lead:.0f} steps before generalisation rises, over "
            f"{earliest.lead_runs} runs)"
            + (
                ", as Nanda et al. would predict for the Fourier concentration."
                if earliest.observable == "fourier_concentration"
                else "; the Fourier concentration is not the earliest here."
            )
            if earliest is not None and earliest.lead is not None
            else "The ranking could not time the candidates."
        ),
    ]


def sections(result: GrokkingStudyResult, config: StudyConfig) -> list[ExtraSection]:
    """The study's sections: what we find, the boundary, coexistence, free energy,
    budget, order-parameter ranking and stage costs."""
    full = _full(result)
    sizes = ", ".join(f"p = {s}" for s in result.sizes)
    n_at = {e.size: e.n for e in result.ensembles}
    found = [
        result.verdict,
        *(o.evidence for o in result.orders),
        *(b.verdict + "." for b in result.budget),
        *_literature(result),
    ]
    boundary_table = pd.DataFrame(
        [
            {
                "size p": b.size,
                "budget (steps)": b.budget,
                "boundary": round(b.value, 4),
                "interval": _ci(b.ci[0], b.ci[1], 4).strip(),
                "width": round(b.width, 4),
                "method": b.method,
            }
            for b in sorted(result.boundary, key=lambda b: (b.size, -b.budget))
        ]
    )
    ensemble_table = pd.DataFrame(
        [
            {
                "size p": e.size,
                "training fraction": e.control,
                "seeds": e.n,
                f"m < {LOW:g}": e.low,
                "between": e.middle,
                "of them still rising": e.transit,
                f"m > {HIGH:g}": e.high,
                "share generalising": f"{e.grokked:.2f}{_pair(e.grokked_ci, 2)}",
                "Binder U": "—" if e.binder is None else f"{e.binder:.2f}{_pair(e.binder_ci, 2)}",
                "χ = p²·Var(m)": f"{e.chi:.3g}{_pair(e.chi_ci, 1)}",
            }
            for e in result.ensembles
        ]
    )
    energy_table = pd.DataFrame(
        [
            {
                "size p": f.size,
                "training fraction": f.control,
                **{k: f"{v:.3g} [{lo:.3g}, {hi:.3g}]" for k, v, lo, hi in f.coefficients},
                "double well": "yes" if f.double_well else "no",
                "barrier": "—" if f.barrier is None else f"{f.barrier:.3g}{_pair(f.barrier_ci, 3)}",
            }
            for f in result.free_energy
        ]
    )
    law_rows = []
    for law in result.budget:
        for fit in law.fits:
            row: dict[str, Any] = {
                "size p": law.size,
                "law": fit.law,
                "formula": fit.formula,
                "AICc": None if fit.aicc is None else round(fit.aicc, 2),
                "Akaike weight": None if fit.weight is None else round(fit.weight, 3),
            }
            for k, v, lo, hi in fit.parameters:
                row[k] = "—" if v is None else f"{v:.3g}{_ci(lo, hi, 3)}"
            law_rows.append(row)
    ranking_table = pd.DataFrame(
        [
            {
                "observable": c.observable,
                "location (training fraction)": None
                if c.location is None
                else round(c.location, 3),
                "sharpness": None if c.sharpness is None else round(c.sharpness, 2),
                "lead over generalisation (steps)": c.lead,
                "runs timed": c.lead_runs,
            }
            for c in result.ranking
        ]
    )
    timing_table = (
        pd.DataFrame([t.to_dict() for t in result.timings]).round(1) if result.timings else None
    )
    located = "; ".join(
        f"p = {b.size}: {b.value:.3f} [{b.ci[0]:.4f}, {b.ci[1]:.4f}] (width {b.width:.4f})"
        for b in full
    )
    return [
        ExtraSection(
            id="what-we-find",
            title="What we find",
            paragraphs=tuple(found),
        ),
        ExtraSection(
            id="boundary",
            title="The phase diagram and the located boundary",
            paragraphs=(
                "Runs per phase on the map: "
                + ", ".join(f"{k} {v}" for k, v in result.phases)
                + ". Each run is classified as in Liu et al. 2022 (arXiv:2205.10343) by when "
                "its training and test accuracy pass 0.9.",
                f"The boundary is the training fraction where the seed-averaged late "
                f"generalisation crosses one half. At weight decay {result.weight_decay:g} "
                f"and the full budget ({result.steps} steps) adaptive refinement bracketed "
                "it, ensembles of seeds were trained around it, and a logistic curve "
                "through every seed on the line (each run at its own fraction, 95% "
                f"interval from resampling seeds) locates it for {sizes}: {located}. "
                "Shorter budgets are read from the same runs with the same curve (method "
                "logistic_fit; seed_mean_crossing where the curve does not cross inside "
                "the sampled fractions). The size is the modulus p (the table has p² "
                "examples); the architecture is fixed.",
            ),
            figure=_phase_figure(result),
            caption="Phase of the most common outcome per cell of the map; the bars on the "
            f"weight-decay {result.weight_decay:g} row are the located boundaries with their "
            "95% intervals.",
            table=boundary_table,
        ),
        ExtraSection(
            id="coexistence",
            title="P(m) at the boundary: do the phases coexist?",
            paragraphs=(
                "Ensembles of "
                + ", ".join(f"{n} seeds for p = {s}" for s, n in n_at.items())
                + " at the boundary and on both sides of it. A first-order transition shows "
                "as two fixed peaks whose weights move across the boundary; a continuous one "
                "as one peak that shifts. The Binder cumulant U of the centred order parameter "
                "is 0 for one Gaussian peak and 2/3 for two equal sharp peaks; χ = p²·Var(m) "
                "grows in proportion to the volume at a first-order transition.",
                *(o.evidence for o in result.orders),
            ),
            figure=_pm_figure(result),
            caption="Histogram of each seed's late generalisation (mean over the last tenth "
            "of its run) at the ensemble's training fractions.",
            table=ensemble_table,
        ),
        ExtraSection(
            id="static-free-energy",
            title="The static free energy F(m)",
            paragraphs=(
                "F(m) = −ln P(m)/p², from the histograms above with a pseudo-count of ½ per "
                "bin (an empty bin gives a lower bound), and its Landau fit "
                "F₀ + h·φ + a·φ² + b·φ⁴ with φ = m − ½ (h tilts it towards one phase). The "
                "barrier is the fitted F at m = ½ above the higher of its values in the two "
                "phases (the outermost bins); a double well is a barrier whose interval lies "
                f"above 0 with each phase held by at least {WELL_SEEDS} seeds (m < {LOW:g} "
                f"and m > {HIGH:g}; with one phase held, the other well is only the "
                "pseudo-count's floor).",
                *_wells(result),
            ),
            figure=_f_figure(result),
            caption="Points: F(m) per bin; lines: the Landau fits, solid where the double "
            "well is resolved (as defined above), dotted where it is not.",
            table=energy_table,
        ),
        ExtraSection(
            id="budget-law",
            title="How the boundary moves with the training budget",
            paragraphs=(
                "The boundary is read again at shorter budgets from the same trajectories "
                "(a run's late generalisation as if it had ended at the budget: its mean over "
                "the last tenth of the steps logged by then) with the same curve through every "
                "seed. If "
                "grokking is a true transition, the budget needed diverges at a critical "
                "fraction f_c as a power law and the boundary converges to f_c; if it is an "
                "activated process (Arrhenius), the boundary keeps moving to smaller "
                "fractions as the budget grows. Both are fitted to (boundary, budget) and "
                "compared by AICc.",
                *(b.verdict + "." for b in result.budget),
            ),
            figure=_budget_figure(result),
            caption="Boundary (training fraction) at each budget, with 95% intervals.",
            table=pd.DataFrame(law_rows) if law_rows else None,
        ),
        ExtraSection(
            id="order-parameter-ranking",
            title="Which observable marks the transition",
            paragraphs=(
                f"Along the line at p = {max(result.sizes)}: the location of generalisation "
                "is the located boundary; that of every other candidate uses the boundary's "
                "own definition (each run's late value rescaled between the seed means at "
                "the two ends of the line, and the logistic curve through them crossing "
                "half way); sharpness is the "
                "fraction of its change that happens between two neighbouring sampled "
                "fractions; the lead is the median number of steps by which its own rise "
                "(half its change after memorisation) precedes that of generalisation in "
                "runs that generalise. The top Hessian eigenvalue is recorded on the map's runs "
                "only (two seeds per fraction, at 8 log-spaced steps), so its location and "
                "lead are coarse.",
            ),
            table=ranking_table,
        ),
        ExtraSection(
            id="stages",
            title="What each stage cost",
            paragraphs=(
                "Wall-clock and CPU seconds (this process and its worker processes) of "
                "each stage, and the runs it trained; a resumed study adds its own to "
                "those the earlier sessions on the same store recorded.",
            ),
            table=timing_table,
        ),
    ]
