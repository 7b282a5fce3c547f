"""A setting and an observable of the same name never overwrite each other.

The rule (``Store.frame``): where the two agree on every logged step they are one column
(a task logging its own control; a schedule logged for an unset setting); otherwise the
frame holds ``<name>_setting`` and ``<name>_observed``, no ``<name>``, lists the pair in
``frame.attrs["renamed"]`` and ``Store.renamed_columns()``, and a query asking for
``<name>`` is refused with an error naming both spellings.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from landaulab.errors import DataError
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.store.store import AmbiguousColumnError, RunRecord, Store
from landaulab.tasks import get_task, list_tasks


def _publish(store: Store, run_id: str, task: str, params: dict, table: pd.DataFrame) -> None:
    store.publish(RunRecord(run_id=run_id, task=task, params=params, status="done"), table)


def _run(name: str, steps: int, every: int, **settings: object) -> tuple[dict, pd.DataFrame]:
    info = get_task(name)
    params = info.resolve({info.steps_key: steps, **settings}) | {"seed": 0}
    ctx = RunContext(params, Schedule(total_steps=steps, every=every))
    info.function(ctx)
    return params, ctx.table()


def _different(value: object) -> float:
    """A number that is not the setting ``value``."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value) + 1.0
    return 0.5


CLASHES = [
    (info.name, name)
    for info in list_tasks()
    if info.parameters is not None
    for name in sorted(set(info.parameters.model_fields) & set(info.observables))
]


def test_the_known_clashes_are_walked() -> None:
    """The walk below covers every built-in task's clashes (and finds the known ones)."""
    found = set(CLASHES)
    assert {("linear_vae", "elbo"), ("deterministic_annealing", "temperature")} <= found


@pytest.mark.parametrize(("task", "name"), CLASHES)
def test_every_task_clash_keeps_setting_and_observable(tmp_path, task: str, name: str) -> None:
    """For each built-in task whose setting shares a name with an observable: with a
    disagreeing log the frame holds both spellings with their own values; with an
    agreeing log one column holds the common value."""
    info = get_task(task)
    params = info.resolve({}) | {"seed": 0}
    if params[name] is None:  # an unset setting agrees with any log: set one
        unset = Store(tmp_path / "u", create=True)
        _publish(unset, "a", task, params, pd.DataFrame({"step": [0, 1], name: [2.0, 3.0]}))
        assert unset.frame()[name].tolist() == [2.0, 3.0]
        params = info.resolve({name: 1.0}) | {"seed": 0}
    setting = params[name]
    store = Store(tmp_path / "s", create=True)
    logged = _different(setting)
    _publish(store, "a", task, params, pd.DataFrame({"step": [0, 1], name: [logged, logged]}))
    frame = store.frame()
    setting_col, observed_col = f"{name}_setting", f"{name}_observed"
    assert name not in frame.columns
    assert frame.attrs["renamed"] == {name: [setting_col, observed_col]}
    assert store.renamed_columns() == {name: [setting_col, observed_col]}
    assert frame[observed_col].tolist() == [logged, logged]
    assert frame[setting_col].tolist() == [setting, setting]
    with pytest.raises(DataError, match=f"{setting_col}.*{observed_col}"):
        store.query(f"SELECT {name} FROM runs")
    got = store.query(f"SELECT {observed_col} FROM runs ORDER BY step")
    assert got[observed_col].tolist() == [logged, logged]

    if isinstance(setting, int | float) and not isinstance(setting, bool):
        agreeing = Store(tmp_path / "t", create=True)
        table = pd.DataFrame({"step": [0, 1], name: [float(setting)] * 2})
        _publish(agreeing, "a", task, params, table)
        frame = agreeing.frame()
        assert frame[name].tolist() == [setting, setting]
        assert frame.attrs["renamed"] == {}
        assert agreeing.query(f"SELECT {name} FROM runs")[name].tolist() == [setting] * 2


def test_linear_vae_elbo_comes_back_as_numbers(tmp_path) -> None:
    """The linear VAE's ``elbo`` setting ("analytic") no longer hides the logged ELBO."""
    params, table = _run("linear_vae", steps=20, every=10)
    store = Store(tmp_path / "s", create=True)
    _publish(store, "a", "linear_vae", params, table)
    frame = store.frame()
    assert frame["elbo_setting"].eq("analytic").all()
    assert frame["elbo_observed"].tolist() == table["elbo"].tolist()
    assert frame["beta"].eq(params["beta"]).all()  # logged control agrees: one column
    assert "beta" not in frame.attrs["renamed"]
    with pytest.raises(AmbiguousColumnError, match=r"elbo_setting.*elbo_observed"):
        store.query("SELECT avg(elbo) FROM runs")


def test_annealing_schedule_survives_the_store(tmp_path) -> None:
    """Deterministic annealing without a fixed temperature logs its schedule: the frame's
    ``temperature`` is that schedule, not the unset setting."""
    params, table = _run("deterministic_annealing", steps=6, every=1, sample_size=60)
    assert params["temperature"] is None
    store = Store(tmp_path / "s", create=True)
    _publish(store, "a", "deterministic_annealing", params, table)
    frame = store.frame()
    assert frame["temperature"].tolist() == pytest.approx(table["temperature"].tolist())
    assert frame["temperature"].nunique() == len(table)
    assert frame.attrs["renamed"] == {}
    got = store.query("SELECT temperature FROM runs ORDER BY step")["temperature"]
    assert got.tolist() == pytest.approx(table["temperature"].tolist())


def test_other_sql_errors_stay_store_errors(tmp_path) -> None:
    store = Store(tmp_path / "s", create=True)
    _publish(store, "a", "x", {"lr": 0.1}, pd.DataFrame({"step": [0], "loss": [1.0]}))
    from landaulab.errors import StoreError

    with pytest.raises(StoreError, match="query failed") as info:
        store.query("SELECT nothing_here FROM runs")
    assert not isinstance(info.value, DataError)
    assert store.renamed_columns() == {}


def test_analysis_asking_for_a_split_name_is_told_both_spellings(tmp_path) -> None:
    """A control scheduled during training (a Hugging Face run logs its learning-rate
    schedule next to the configured peak) is split; the analysis names both spellings."""
    import landaulab as ll

    store = Store(tmp_path / "s", create=True)
    for i, peak in enumerate((0.1, 0.2, 0.3, 0.4)):
        table = pd.DataFrame(
            {"step": [0, 1, 2], "learning_rate": [peak, peak / 2, 0.0], "m": [0.1, 0.2, 0.3]}
        )
        _publish(store, f"r{i}", "hf", {"learning_rate": peak}, table)
    assert store.renamed_columns() == {
        "learning_rate": ["learning_rate_setting", "learning_rate_observed"]
    }
    with pytest.raises(DataError, match=r"ambiguous.*learning_rate_setting or learning_rate_obs"):
        ll.analyze(store.frame(), order_parameter="m", control="learning_rate")
    frame = store.frame()
    assert sorted(set(frame["learning_rate_setting"])) == [0.1, 0.2, 0.3, 0.4]
