"""Reports: figures, self-contained HTML and a plain-language narrative from typed results.

``report(findings, ...)`` turns :class:`Findings` (the analysis and dynamics results, the
roles of the columns, the runs analysed) into ``report.html``, ``report.json`` and PNG +
PDF figures. It only reads results: it never loads data, fits or re-analyses. Calling the
package itself, ``landaulab.report(source, ...)``, calls the face
:func:`landaulab.api.report`, which loads a store or a table, analyses it and reports.
"""

from landaulab.report.api import ReportResult, report
from landaulab.report.findings import ExtraSection, Findings, RoleChoice, SliceChoice
from landaulab.report.narrative import Narrative, ReportContext, build_narrative

__all__ = [
    "ExtraSection",
    "Findings",
    "Narrative",
    "ReportContext",
    "ReportResult",
    "RoleChoice",
    "SliceChoice",
    "build_narrative",
    "report",
]
