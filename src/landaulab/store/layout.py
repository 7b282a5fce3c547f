"""Names of the store's files and folders, and the formats of its marker.

A store written by this version has ``format`` 1 until its first batch is published
(an import of many runs at once, see :mod:`landaulab.store.batches`); publishing a batch
raises the marker to ``format`` 2, so that an older landaulab, which would not see the
runs of a batch, refuses the store instead of misreading it. Both formats are read.
"""

from __future__ import annotations

MARKER = "landaulab-store.json"
"""The marker file naming a directory a landaulab store, ``{"format": N}``."""

FORMAT = 1
"""The format of a store without batches (readable by every landaulab release)."""

BATCH_FORMAT = 2
"""The format of a store holding at least one batch."""

READABLE_FORMATS = (FORMAT, BATCH_FORMAT)
"""The store formats this version reads."""

RUNS = "runs"
"""One directory per run published on its own: ``runs/<run_id>/``."""

BATCHES = "batches"
"""One directory per batch of runs published at once: ``batches/<batch_id>/``."""

STAGING = "staging"
"""Where runs and batches are written before they are renamed into place."""

SUBDIRECTORIES = (RUNS, BATCHES, "sweeps", "locks", STAGING)
"""The folders every store has."""

__all__ = [
    "BATCHES",
    "BATCH_FORMAT",
    "FORMAT",
    "MARKER",
    "READABLE_FORMATS",
    "RUNS",
    "STAGING",
    "SUBDIRECTORIES",
]
