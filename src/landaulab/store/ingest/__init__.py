"""Import runs logged by other tools into a store: TensorBoard, W&B, MLflow, CSV/Parquet.

Each importer reads and validates *every* run first and only then publishes them, all
or nothing (:func:`~landaulab.store.ingest.common.publish_runs`). Imported runs are
ordinary runs: ``Store(path).frame()``, ``analyze`` and ``dynamics`` read them like any
other. The optional readers import their library only when called.

The sources ``landaulab ingest`` offers are registered by name in
:mod:`landaulab.store.ingest.registry` (one :func:`register_source` line per source).
"""

from landaulab.store.ingest.common import (
    IngestedRun,
    IngestResult,
    MissingExtraError,
    publish_runs,
)
from landaulab.store.ingest.mlflow import ingest_mlflow, read_mlflow
from landaulab.store.ingest.registry import IngestSource, get_source, register_source
from landaulab.store.ingest.tabular import ingest_table, read_table
from landaulab.store.ingest.tensorboard import ingest_tensorboard, read_tensorboard
from landaulab.store.ingest.wandb import ingest_wandb, read_wandb

__all__ = [
    "IngestResult",
    "IngestSource",
    "IngestedRun",
    "MissingExtraError",
    "get_source",
    "ingest_mlflow",
    "ingest_table",
    "ingest_tensorboard",
    "ingest_wandb",
    "publish_runs",
    "read_mlflow",
    "read_table",
    "read_tensorboard",
    "read_wandb",
    "register_source",
]
