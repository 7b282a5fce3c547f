"""A live page of a store: ``landaulab watch STORE``.

The page shows the progress and the failures of the runs in the store, the phase diagram
filling in, the trajectories of a chosen observable and the current analysis verdict. It
reads only the store, so it works for a sweep run by any executor and for imported logs.

Served by Starlette (routes and server-sent events through ``sse-starlette``) on uvicorn;
the page is plain HTML, CSS and JavaScript drawing SVG, served by the package itself.
These come with the ``watch`` extra: ``pip install 'landaulab[watch]'``.
"""

from landaulab.watch.state import StoreView
from landaulab.watch.verdict import Verdicts, summarize

__all__ = ["StoreView", "Verdicts", "summarize"]
