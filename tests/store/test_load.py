"""Reading only what an analysis needs from a CSV or Parquet file."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import landaulab.api as face
from landaulab.store.load import load_frame


def _runs(n_runs: int = 240, n_steps: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    temperature = np.linspace(0.5, 1.5, 12)[np.arange(n_runs) % 12]
    run = np.repeat(np.arange(n_runs), n_steps)
    frame = pd.DataFrame(
        {
            "run_id": [f"run-{i:04d}" for i in run],
            "step": np.tile(np.arange(n_steps), n_runs),
            "temperature": np.repeat(temperature, n_steps),
            "seed": np.repeat(np.arange(n_runs) % 20, n_steps),
            "lr": 0.1,  # one value: not a parameter that could slice
            "width": np.repeat(np.where(np.arange(n_runs) % 2 == 0, 16, 32), n_steps),
            "loss": rng.random(n_runs * n_steps),  # an observable
        }
    )
    frame["m"] = np.maximum(1 - frame["temperature"], 0) + 0.05 * rng.standard_normal(len(frame))
    return frame


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_only_needed_columns_and_varying_parameters_are_read(tmp_path: Path, suffix: str) -> None:
    frame = _runs()
    path = tmp_path / f"runs{suffix}"
    frame.to_parquet(path) if suffix == ".parquet" else frame.to_csv(path, index=False)
    lean = load_frame(path, ["m", "temperature", "step"])
    # seeds vary across runs but never slice an analysis: not read (unless named)
    assert set(lean.columns) == {"run_id", "m", "temperature", "step", "width"}
    assert isinstance(lean["run_id"].dtype, pd.CategoricalDtype)
    assert len(lean) == len(frame)
    assert "seed" in load_frame(path, ["m", "seed", "step"]).columns
    with_where = load_frame(path, ["m", "temperature", "step"], all_parameters=True)
    assert {"lr", "seed"} <= set(with_where.columns) and "loss" not in with_where.columns
    # a needed column the file lacks: everything is read, so errors can suggest names
    assert "loss" in load_frame(path, ["magnetisation"]).columns


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_analysis_of_a_file_equals_the_analysis_of_its_frame(tmp_path: Path, suffix: str) -> None:
    """The lean read changes nothing: same slice (width varies within each temperature),
    same numbers, with and without a ``where``."""
    frame = _runs()
    path = tmp_path / f"runs{suffix}"
    frame.to_parquet(path) if suffix == ".parquet" else frame.to_csv(path, index=False)
    for where in (None, "lr = 0.1 AND width = 16"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from_file = face.analyze(
                path, order_parameter="m", control="temperature", where=where, n_bootstrap=50
            )
            from_frame = face.analyze(
                frame, order_parameter="m", control="temperature", where=where, n_bootstrap=50
            )
        assert json.dumps(from_file.to_dict(), sort_keys=True, default=str) == json.dumps(
            from_frame.to_dict(), sort_keys=True, default=str
        )


_names = st.sampled_from(["m", "temperature", "T 'quoted'", 'a"b', "lr", "x,y"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_runs=st.integers(2, 12),
    n_steps=st.integers(1, 6),
    control_name=_names,
    extra=st.lists(_names, max_size=2, unique=True),
    holes=st.floats(0, 0.3),
    seed=st.integers(0, 2**16),
)
def test_lean_csv_read_agrees_with_pandas(
    tmp_path_factory: pytest.TempPathFactory,
    n_runs: int,
    n_steps: int,
    control_name: str,
    extra: list[str],
    holes: float,
    seed: int,
) -> None:
    """Whatever the column names (quotes, commas, spaces), holes and sizes, the analysis
    of a CSV read lean equals the analysis of the frame pandas reads from it, or both fail
    with the same message."""
    rng = np.random.default_rng(seed)
    rows = n_runs * n_steps
    frame = pd.DataFrame(
        {
            "run_id": np.repeat([f"r{i}" for i in range(n_runs)], n_steps),
            "step": np.tile(np.arange(n_steps), n_runs),
            control_name: np.repeat(rng.choice([0.5, 1.0, 1.5], n_runs), n_steps),
        }
    )
    frame["value"] = rng.random(rows)
    frame.loc[rng.random(rows) < holes, "value"] = np.nan
    for name in extra:
        if name not in frame.columns:
            frame[name] = np.repeat(rng.integers(0, 2, n_runs), n_steps)
    path = tmp_path_factory.mktemp("csv") / "runs.csv"
    frame.to_csv(path, index=False)

    def outcome(source: object) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = face.analyze(
                    source, order_parameter="value", control=control_name, n_bootstrap=20
                )
            except Exception as error:  # the same error either way is what is checked
                return f"{type(error).__name__}: {error}"
        return json.dumps(result.to_dict(), sort_keys=True, default=str)

    assert outcome(path) == outcome(pd.read_csv(path))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_file_read_in_many_batches_gives_the_frame_of_one_read(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CSV batches streamed from DuckDB (copied out, run ids encoded batch by batch) and
    Parquet row groups, joined a column at a time, give the frame pandas reads."""
    import landaulab.store.load as load

    monkeypatch.setattr(load, "CSV_BATCH_ROWS", 37)
    frame = _runs(n_runs=30, n_steps=20)
    frame.loc[5, "m"] = np.nan
    path = tmp_path / f"runs{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path, row_group_size=53)
    else:
        frame.to_csv(path, index=False)
    lean = load_frame(path, ["m", "temperature", "step"])
    assert isinstance(lean["run_id"].dtype, pd.CategoricalDtype)
    assert lean["run_id"].astype(str).tolist() == frame["run_id"].tolist()
    for name in ("m", "temperature", "step", "width"):
        np.testing.assert_array_equal(lean[name].to_numpy(), frame[name].to_numpy())


def test_to_pandas_takes_the_table_out_of_its_box_and_joins_chunks() -> None:
    import pyarrow as pa

    from landaulab.store.load import _to_pandas

    table = pa.Table.from_batches(
        [pa.record_batch({"a": [1.0, 2.0], "b": ["x", "y"]})] * 3
    ).combine_chunks()
    chunked = pa.concat_tables([table, table])
    assert chunked.column("a").num_chunks == 2
    box = [chunked]
    frame = _to_pandas(box)
    assert box == []
    pd.testing.assert_frame_equal(frame, pa.concat_tables([table, table]).to_pandas())


def test_a_misspelled_column_is_refused_from_the_header_alone(tmp_path, monkeypatch) -> None:
    """A name absent from a file's header is the one-line error before any row is read:
    the readers of rows are never called."""
    import landaulab.store.load as load_module
    from landaulab.api import analyze
    from landaulab.errors import DataError

    path = tmp_path / "runs.csv"
    pd.DataFrame(
        {
            "run_id": ["a", "a", "b", "b"],
            "step": [0, 1, 0, 1],
            "T": [0.5, 0.5, 1.5, 1.5],
            "m": [0.5, 0.5, 0.0, 0.0],
        }
    ).to_csv(path, index=False)

    def no_rows(*args, **kwargs):
        raise AssertionError("rows were read")

    monkeypatch.setattr(load_module, "_read", no_rows)
    with pytest.raises(DataError, match=r"column 'mm' not found \(closest first: m"):
        analyze(path, order_parameter="mm", control="T")
    with pytest.raises(DataError, match=r"pass --control"):
        analyze(path, order_parameter="m", control="TT")
    assert load_module.file_columns(path) == ["run_id", "step", "T", "m"]
    assert load_module.file_columns(tmp_path) is None
