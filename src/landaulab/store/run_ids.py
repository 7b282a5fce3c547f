"""Run ids: the stable name of a run in the store.

A run's id is the hash of its task name, fully resolved parameters and recording plan,
so that re-planning a sweep, re-recording a block or re-importing the same logs finds
the runs already stored instead of duplicating them. The planner
(:func:`landaulab.spec.plan.plan_sweep`), the recorder and the importers all name runs
through :func:`run_id_of`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

RUN_ID_LENGTH = 16
"""Hex digits of a run id (the leading digits of a SHA-256)."""


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False)
"""The run id's JSON (one encoder, made once: an import names 10⁵ runs)."""


def run_id_of(task: str, params: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    """A stable id: the hash of the task name, fully resolved parameters and recording.

    Re-planning the same sweep gives the same ids, so a resumed sweep never duplicates
    a run. Key order does not matter.

    Parameters
    ----------
    task
        The task name (or the label of an imported or recorded run).
    params
        The run's parameters, JSON-serialisable with finite floats.
    record
        The recording plan (or, for an imported run, its source and fingerprint).

    Returns
    -------
    str
        ``RUN_ID_LENGTH`` hex digits.

    Raises
    ------
    ValueError
        If a parameter is a non-finite float.
    """
    payload = _ENCODER.encode({"task": task, "params": dict(params), "record": dict(record)})
    return hashlib.sha256(payload.encode()).hexdigest()[:RUN_ID_LENGTH]


__all__ = ["RUN_ID_LENGTH", "run_id_of"]
