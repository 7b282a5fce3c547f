"""Recording observables during training: schedules, the run context, the Recorder."""

from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule

__all__ = ["RunContext", "Schedule"]
