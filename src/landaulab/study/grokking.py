"""The grokking study: a phase diagram of modular addition over weight decay × data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from landaulab.execute.sweep import SweepReport, sweep
from landaulab.specs import builtin_spec_path


@dataclass
class GrokkingStudy:
    """Where the study wrote its outputs, and what it says."""

    folder: Path
    store: Path
    sweep: SweepReport
    messages: list[str] = field(default_factory=list)


def run_grokking_study(
    folder: str | Path = "landaulab-demo",
    spec: str | Path | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> GrokkingStudy:
    """Run the grokking sweep into ``folder/store`` (resuming) and summarise it.

    Parameters
    ----------
    folder
        Output folder; the store is ``folder/store``.
    spec
        A sweep spec; default: the built-in ``grokking`` spec.
    workers
        Worker processes (default: number of cores).
    progress
        Show progress bars.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "store"
    report = sweep(
        spec or builtin_spec_path("grokking"), store=store, workers=workers, progress=progress
    )
    messages = [str(report), f"store: {store}"]
    return GrokkingStudy(folder=folder, store=store, sweep=report, messages=messages)
