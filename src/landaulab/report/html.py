"""A self-contained HTML page: inline CSS, figures as base64 PNG, no script, no network.

The page has one ``<section>`` per topic with a stable id (:data:`SECTION_IDS`), so tests,
browsers and other tools can address them (``report.html#exponents``). A section with
nothing to show still appears, with a sentence saying plainly what could not be estimated;
where the caller's own sections carry the answers, such sections are instead items of
one collapsed list (:func:`gaps_html`, section :data:`GAPS_ID`), each item keeping its
section's id.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import pandas as pd

from landaulab.report.formatting import estimate, finite, interval, plain, symbol
from landaulab.report.results import Estimate

#: Ids of the built-in sections, in page order.
SECTION_IDS = (
    "narrative",
    "phase-diagram",
    "order-parameter",
    "susceptibility",
    "free-energy",
    "collapse",
    "exponents",
    "trajectories",
    "evidence",
)

#: Reference exponents: mean field (Landau) and the 2D Ising model (Onsager 1944).
#: Ratios are relative to a linear size L; for mean field with the number of degrees of
#: freedom N as size, β/ν = 1/4, γ/ν = 1/2 and ν = 2 (Botet, Jullien & Pfeuty 1982).
REFERENCE_EXPONENTS: dict[str, dict[str, tuple[tuple[str, float], ...]]] = {
    "beta": {"mean field": (("1/2", 0.5),), "2D Ising": (("1/8", 0.125),)},
    "gamma": {"mean field": (("1", 1.0),), "2D Ising": (("7/4", 1.75),)},
    "nu": {"mean field": (("1/2", 0.5), ("2 (N as size)", 2.0)), "2D Ising": (("1", 1.0),)},
    "beta_over_nu": {"mean field": (("1/4 (N as size)", 0.25),), "2D Ising": (("1/8", 0.125),)},
    "gamma_over_nu": {"mean field": (("1/2 (N as size)", 0.5),), "2D Ising": (("7/4", 1.75),)},
    "delta": {"mean field": (("3", 3.0),), "2D Ising": (("15", 15.0),)},
}

#: Id of the section that gathers what the built-in sections could not estimate, when the
#: caller's sections come first (``Findings.extras_first``).
GAPS_ID = "not-estimated"

#: Ids an extra section may not take.
RESERVED_IDS = (*SECTION_IDS, GAPS_ID)

_ID = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
_REMOTE = re.compile(
    r"""(?:src|href|srcset|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE
)

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --accent: #c0392b;
        --panel: #f6f7f9; --good: #1e8449; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
       Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 64px; }
header h1 { font-size: 1.7em; margin: 0.2em 0 0.1em; }
header p.subtitle { color: var(--muted); margin: 0 0 1em; }
nav ol { display: flex; flex-wrap: wrap; gap: 6px 14px; padding: 0; margin: 0 0 16px;
         list-style: none; font-size: 0.92em; }
nav a { color: var(--ink); }
section { display: block; border-top: 1px solid var(--line); padding: 8px 0 18px;
          margin: 8px 0; }
section h2 { font-size: 1.3em; margin: 0.6em 0 0.4em; }
section h3 { font-size: 1.05em; margin: 0.8em 0 0.3em; }
section p { margin: 0.45em 0; }
#narrative { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
             padding: 4px 20px 14px; }
figure { margin: 12px 0; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line);
             border-radius: 4px; background: #fff; }
figcaption { color: var(--muted); font-size: 0.9em; margin-top: 4px; }
p.missing { border-left: 4px solid var(--accent); background: #fdf2f1; padding: 8px 12px;
            border-radius: 0 4px 4px 0; }
table { border-collapse: collapse; margin: 10px 0; font-size: 0.92em; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: right; }
th { background: var(--panel); }
td.name, th.name { text-align: left; }
td.ok { color: var(--good); font-weight: 600; }
details { margin: 8px 0; }
summary { cursor: pointer; color: var(--muted); }
ul.evidence li { margin: 3px 0; }
code { background: var(--panel); padding: 0 4px; border-radius: 3px; font-size: 0.92em; }
footer { color: var(--muted); font-size: 0.85em; border-top: 1px solid var(--line);
         padding-top: 10px; margin-top: 24px; }
@media print { nav { display: none; } section { break-inside: avoid-page; } }
"""


@dataclass(frozen=True)
class FigureBlock:
    """A figure to embed: its file stem, PNG bytes, alt text and caption."""

    name: str
    png: bytes
    caption: str
    alt: str = ""


@dataclass(frozen=True)
class Section:
    """One section of the page.

    Attributes
    ----------
    id, title
        The stable id and the heading.
    paragraphs
        Plain-text paragraphs (escaped).
    figures
        Figures to embed.
    missing
        Plain sentences saying what is missing (shown highlighted).
    html
        Trusted HTML fragments appended at the end (tables built here, extra content).
    gaps
        What could not be estimated and why, as ``(what, why)`` pairs: shown as
        ``Not estimable: what (why).`` after ``missing``, or gathered with those of other
        sections into one list (:func:`gaps_html`).
    """

    id: str
    title: str
    paragraphs: tuple[str, ...] = ()
    figures: tuple[FigureBlock, ...] = ()
    missing: tuple[str, ...] = ()
    html: tuple[str, ...] = field(default=())
    gaps: tuple[tuple[str, str], ...] = ()

    @property
    def sentences(self) -> tuple[str, ...]:
        """Everything the section says is missing: ``missing``, then each gap's sentence."""
        return self.missing + tuple(gap_sentence(what, why) for what, why in self.gaps)

    @property
    def shows(self) -> bool:
        """Whether the section shows anything besides what is missing."""
        return bool(self.paragraphs or self.figures or self.html)


def gap_sentence(what: str, why: str) -> str:
    """``Not estimable: what (why).``"""
    return f"Not estimable: {what} ({why})."


def check_id(section_id: str) -> bool:
    """Whether ``section_id`` is a valid section id (lowercase, digits, hyphens)."""
    return bool(_ID.match(section_id))


def has_remote_reference(fragment: str) -> bool:
    """Whether an HTML fragment loads or links anything over the network."""
    return (
        bool(_REMOTE.search(fragment))
        or "url(http" in fragment.lower()
        or ("@import" in fragment.lower())
    )


def escape(text: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(text), quote=True)


# ------------------------------------------------------------------------ tables
def table_html(
    frame: pd.DataFrame, *, caption: str | None = None, digits: int = 4, max_rows: int = 200
) -> str:
    """A small HTML table of ``frame`` (numbers to ``digits`` significant digits)."""
    shown = frame.head(max_rows)
    head = "".join(
        f'<th class="{"name" if i == 0 else ""}">{escape(c)}</th>' for i, c in enumerate(shown)
    )
    rows = []
    for _, row in shown.iterrows():
        cells = []
        for i, value in enumerate(row):
            number = finite(value)
            text = (
                plain(number, digits)
                if number is not None
                else ("" if value is None or (isinstance(value, float)) else str(value))
            )
            cells.append(f'<td class="{"name" if i == 0 else ""}">{escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p>Showing {max_rows} of {len(frame)} rows.</p>" if len(frame) > max_rows else ""
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def details_html(summary: str, body: str) -> str:
    """A collapsed block (no script needed): ``<details><summary>…``."""
    return f"<details><summary>{escape(summary)}</summary>{body}</details>"


def gaps_html(
    gaps: Sequence[tuple[str, str, str]],
    sentences: Sequence[tuple[str, str]] = (),
    taken: Collection[str] = (),
) -> str:
    """One collapsed list of what several sections could not estimate.

    Parameters
    ----------
    gaps
        ``(section id, what, why)`` triples; the summary line names every ``what``, the
        body groups them by ``why``.
    sentences
        ``(section id, sentence)``: other sentences about what is missing, listed after.
    taken
        Ids already on the page (sections shown elsewhere).

    Each other section id becomes the ``id`` of the first item that belongs to it, so a
    link to ``#<section id>`` still lands on what that section would have said.
    """
    anchored: set[str] = set(taken)

    def item(section_id: str, text: str) -> str:
        anchor = "" if section_id in anchored else f' id="{escape(section_id)}"'
        anchored.add(section_id)
        return f"<li{anchor}>{escape(text)}</li>"

    reasons: dict[str, list[tuple[str, str]]] = {}
    for section_id, what, why in gaps:
        reasons.setdefault(why, []).append((section_id, what))
    body = []
    for why, items in reasons.items():
        entries = "".join(item(section_id, what) for section_id, what in items)
        reason = why.strip().rstrip(".")
        reason = reason[:1].upper() + reason[1:]
        body.append(f'<p>{escape(reason)}:</p><ul class="evidence">{entries}</ul>')
    if sentences:
        entries = "".join(item(section_id, text) for section_id, text in sentences)
        body.append(f'<ul class="evidence">{entries}</ul>')
    names = list(dict.fromkeys(what for _, what, _ in gaps))
    summary = (
        f"{len(names)} item{'s' if len(names) != 1 else ''} not shown: {', '.join(names)}"
        if names
        else f"{len(sentences)} note{'s' if len(sentences) != 1 else ''} on what is missing"
    )
    return details_html(summary, "".join(body))


def _consistent(value: Estimate, reference: float) -> bool:
    return (
        value.low is not None
        and value.high is not None
        and (min(value.low, value.high) <= reference <= max(value.low, value.high))
    )


def exponent_table(exponents: dict[str, Estimate | None]) -> str:
    """The exponents with their 95% CIs beside mean field and 2D Ising (✓ inside the CI)."""
    names = list(exponents) or ["beta", "gamma", "nu", "beta_over_nu", "gamma_over_nu"]
    rows = []
    for name in names:
        value = exponents.get(name)
        measured = estimate(value.value, value.ci) if value is not None else "not estimable"
        ci = interval(value.low, value.high) if value is not None else ""
        cells = [
            f'<td class="name">{escape(symbol(name))}</td>',
            f"<td>{escape(measured)}</td>",
            f"<td>{escape(ci)}</td>",
        ]
        for theory in ("mean field", "2D Ising"):
            refs = REFERENCE_EXPONENTS.get(name, {}).get(theory, ())
            text = " · ".join(label for label, _ in refs) or "—"
            inside = value is not None and any(_consistent(value, ref) for _, ref in refs)
            mark = " ✓" if inside else ""
            cells.append(f'<td class="{"ok" if inside else ""}">{escape(text + mark)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = (
        '<tr><th class="name">exponent</th><th>measured</th><th>95% CI</th>'
        "<th>mean field</th><th>2D Ising</th></tr>"
    )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


# -------------------------------------------------------------------------- page
def _figure_html(block: FigureBlock) -> str:
    data = base64.b64encode(block.png).decode("ascii")
    alt = escape(block.alt or block.caption)
    return (
        f'<figure id="figure-{escape(block.name)}"><img src="data:image/png;base64,{data}" '
        f'alt="{alt}"><figcaption>{escape(block.caption)}</figcaption></figure>'
    )


def section_html(section: Section) -> str:
    """One ``<section>`` element."""
    parts = [f'<section id="{escape(section.id)}">', f"<h2>{escape(section.title)}</h2>"]
    parts += [f"<p>{escape(p)}</p>" for p in section.paragraphs]
    parts += [_figure_html(f) for f in section.figures]
    parts += [f'<p class="missing">{escape(m)}</p>' for m in section.sentences]
    parts += list(section.html)
    if len(parts) == 2:
        parts.append('<p class="missing">Nothing to show.</p>')
    parts.append("</section>")
    return "\n".join(parts)


def page(
    title: str,
    subtitle: str,
    sections: Sequence[Section],
    *,
    footer: str = "",
) -> str:
    """The whole HTML document.

    Raises
    ------
    ValueError
        If two sections share an id (a programming error; ids are checked upstream).
    """
    ids = [s.id for s in sections]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate section ids: {ids}")
    nav = "".join(f'<li><a href="#{escape(s.id)}">{escape(s.title)}</a></li>' for s in sections)
    body = "\n".join(section_html(s) for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<header><h1>{escape(title)}</h1><p class="subtitle">{escape(subtitle)}</p>'
        f'<nav aria-label="sections"><ol>{nav}</ol></nav></header>\n'
        f"{body}\n"
        f"<footer>{escape(footer)}</footer>\n"
        "</main>\n</body>\n</html>\n"
    )
