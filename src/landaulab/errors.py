"""Domain exceptions and named warnings.

Every error a *user* can cause (a bad spec, a missing column, an unreadable file,
too little data for a requested fit) derives from :class:`LandaulabError`.  The
command-line interface turns these into one line on stderr and exit status 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class LandaulabError(Exception):
    """Base class of all user-facing errors (exit status 2 on the command line)."""


class SpecError(LandaulabError):
    """A sweep specification is malformed: names the offending key and the fix."""


class StoreError(LandaulabError):
    """A store is missing, unreadable, locked by another writer, or inconsistent."""


class DataError(LandaulabError):
    """Input data (a frame, CSV or Parquet file, log folder) cannot be used as asked."""


class NotEstimableError(LandaulabError):
    """Too little data to estimate the requested quantity (e.g. one size for a collapse)."""


class TaskError(LandaulabError):
    """A task name or task setting is unknown or invalid."""


class ExecutionError(LandaulabError):
    """A sweep could not go on (a worker died, a backend is missing); completed runs stay."""


class Diverged(Exception):
    """Raised inside a run when an observable becomes non-finite.

    Parameters
    ----------
    step
        The training step at which the non-finite value was seen.
    observable
        The name of the observable that became NaN or infinite.
    """

    def __init__(self, step: int, observable: str) -> None:
        super().__init__(f"{observable} became non-finite at step {step}")
        self.step = int(step)
        self.observable = observable


class LandaulabWarning(UserWarning):
    """Base class of landaulab's named warnings."""


class FitWarning(LandaulabWarning):
    """A fit converged poorly or its uncertainty is unreliable."""


class FewSamplesWarning(LandaulabWarning):
    """An estimate rests on fewer samples than its method assumes."""
