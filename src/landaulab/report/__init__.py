"""Reports: figures, self-contained HTML and a plain-language narrative from the results.

``report(source, ...)`` turns a store (or a tidy frame) and its analysis and dynamics
results into ``report.html``, ``report.json`` and PNG + PDF figures. The report reads result
objects only; it never trains or re-analyses raw runs beyond descriptive summaries.
"""

from landaulab.report.api import ExtraSection, ReportResult, ReportWarning, report
from landaulab.report.narrative import Narrative, ReportContext, build_narrative

__all__ = [
    "ExtraSection",
    "Narrative",
    "ReportContext",
    "ReportResult",
    "ReportWarning",
    "build_narrative",
    "report",
]
