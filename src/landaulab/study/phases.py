"""Learning phases of a run from its train and test curves, and order-parameter ranking.

Liu, Kitouni, Nolte, Michaud, Tegmark & Williams 2022 ("Towards understanding
grokking: an effective theory of representation learning", arXiv:2205.10343) sort
training runs into four phases by when the training and the held-out accuracy pass a
threshold:

- **comprehension** — the model fits the training data and generalises at about the
  same time;
- **grokking** — it fits the training data early and generalises much later;
- **memorisation** — it fits the training data but does not generalise within the
  training budget;
- **confusion** — it does not even fit the training data within the budget.

Here "much later" means the generalisation step is more than ``delay_factor`` times
the memorisation step (default 2) and more than ``min_delay`` steps after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from landaulab.errors import DataError
from landaulab.late_time import BURN_IN, late_means

PHASES = ("comprehension", "grokking", "memorisation", "confusion")
MIN_CONTRAST = 3.0  # a jump must exceed three standard errors of the seed spread


def first_crossing(
    frame: pd.DataFrame,
    column: str,
    threshold: float,
    run_col: str = "run_id",
    step_col: str = "step",
) -> pd.Series:
    """Per run, the first step at which ``column`` reaches ``threshold`` (NaN if never)."""
    ordered = frame.sort_values([run_col, step_col], kind="stable")
    hit = ordered[ordered[column] >= threshold]
    first = hit.groupby(run_col, sort=True)[step_col].min().astype(float)
    runs = pd.Index(ordered[run_col].unique(), name=run_col)
    return first.reindex(runs)


def classify_phases(
    frame: pd.DataFrame,
    train: str = "train_accuracy",
    test: str = "test_accuracy",
    threshold: float = 0.9,
    delay_factor: float = 2.0,
    min_delay: float = 100.0,
    run_col: str = "run_id",
    step_col: str = "step",
) -> pd.DataFrame:
    """Memorisation step, generalisation step and phase of every run.

    Parameters
    ----------
    frame
        Tidy frame with the run, step, train and test columns.
    train, test
        Training and held-out metrics (higher is better, e.g. accuracies).
    threshold
        The level both metrics must reach (0.9 as in Liu et al. 2022).
    delay_factor, min_delay
        Generalising later than ``delay_factor`` × the memorisation step and more than
        ``min_delay`` steps after it counts as grokking.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``memorisation_step``, ``generalisation_step`` (NaN when never
        reached), ``delay`` and ``phase``.
    """
    missing = [c for c in (run_col, step_col, train, test) if c not in frame.columns]
    if missing:
        raise DataError(f"missing column {missing[0]!r} for phase classification")
    t_mem = first_crossing(frame, train, threshold, run_col, step_col)
    t_gen = first_crossing(frame, test, threshold, run_col, step_col)
    out = pd.DataFrame({"memorisation_step": t_mem, "generalisation_step": t_gen})
    out["delay"] = out.generalisation_step - out.memorisation_step
    late = (out.generalisation_step > delay_factor * out.memorisation_step.clip(lower=1)) & (
        out.delay > min_delay
    )
    phase = np.where(
        out.memorisation_step.isna() & out.generalisation_step.isna(),
        "confusion",
        np.where(
            out.generalisation_step.isna(),
            "memorisation",
            np.where(late, "grokking", "comprehension"),
        ),
    )
    out["phase"] = phase
    return out.reset_index()


@dataclass(frozen=True)
class OrderParameterScore:
    """How sharply one observable marks a transition along a control parameter.

    Attributes
    ----------
    observable
        The candidate order parameter.
    sharpness
        Fraction of the observable's total change along the control that happens
        between two adjacent control values (1 = a single jump, 1/(n−1) = linear),
        averaged over lines of the other controls weighted by their total change.
    contrast
        That largest adjacent jump divided by its standard error from the seed spread
        (a signal-to-noise ratio; ``inf`` when seeds agree exactly).
    location
        Midpoint of the control interval with the largest jump, on the line with the
        largest total change.
    """

    observable: str
    sharpness: float
    contrast: float
    location: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form."""
        return {
            "observable": self.observable,
            "sharpness": _finite_or_none(self.sharpness),
            "contrast": _finite_or_none(self.contrast),
            "location": self.location,
        }


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def rank_order_parameters(
    final: pd.DataFrame,
    candidates: Sequence[str],
    control: str,
    others: Sequence[str] = (),
) -> list[OrderParameterScore]:
    """Rank candidate order parameters by how sharply they change along ``control``.

    Parameters
    ----------
    final
        One row per run: the controls and each candidate's late-time value.
    candidates
        Observable columns to score.
    control
        The control parameter along which sharpness is measured.
    others
        Other swept controls: sharpness is measured on each line where they are fixed.

    Returns
    -------
    list of OrderParameterScore
        Candidates whose largest jump exceeds ``MIN_CONTRAST`` standard errors first,
        each group sharpest first (ties broken by contrast).
    """
    scores = []
    for name in candidates:
        if name not in final.columns:
            continue
        values = final[[control, *others, name]].replace([np.inf, -np.inf], np.nan).dropna()
        if values.empty or values[name].nunique() < 2:
            continue
        stats = values.groupby([*others, control], sort=True)[name].agg(["mean", "var", "count"])
        weighted, total_weight, best = 0.0, 0.0, (0.0, -np.inf, None)
        lines = stats.groupby(level=list(range(len(others)))) if others else [((), stats)]
        for _, line in lines:
            if len(line) < 2:
                continue
            mean = line["mean"].to_numpy()
            steps = np.abs(np.diff(mean))
            total = steps.sum()
            if total <= 0:
                continue
            k = int(np.argmax(steps))
            sharp = steps[k] / total
            weighted += sharp * total
            total_weight += total
            var = line["var"].fillna(0.0).to_numpy() / line["count"].to_numpy()
            error = np.sqrt(var[k] + var[k + 1])
            contrast = steps[k] / error if error > 0 else np.inf
            xs = line.index.get_level_values(control).to_numpy(dtype=float)
            if total > best[0]:
                best = (total, contrast, 0.5 * (xs[k] + xs[k + 1]))
        if total_weight > 0:
            scores.append(OrderParameterScore(name, weighted / total_weight, best[1], best[2]))
    # A jump no larger than the seed spread marks nothing: significant ones rank first.
    return sorted(
        scores,
        key=lambda s: (
            not s.contrast >= MIN_CONTRAST,
            -s.sharpness,
            -np.nan_to_num(s.contrast, posinf=1e300),
        ),
    )


def late_values(
    frame: pd.DataFrame,
    columns: Sequence[str],
    burn_in: float = BURN_IN,
    run_col: str = "run_id",
    step_col: str = "step",
) -> pd.DataFrame:
    """Per run, the mean of each column over its late steps (the last ``1 − burn_in`` of its
    logged step range, :func:`landaulab.late_time.late_means`)."""
    return late_means(  # type: ignore[no-any-return]
        frame, columns, burn_in=burn_in, run_col=run_col, step_col=step_col
    )
