"""Sweep specifications: the TOML schema and its expansion into planned runs."""

from landaulab.spec.plan import PlannedRun, plan_sweep
from landaulab.spec.schema import Range, RecordSpec, SweepSpec, load_spec, parse_spec

__all__ = [
    "PlannedRun",
    "Range",
    "RecordSpec",
    "SweepSpec",
    "load_spec",
    "parse_spec",
    "plan_sweep",
]
