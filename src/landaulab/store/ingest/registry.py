"""The ingest sources by name: what ``landaulab ingest SOURCE`` can read, and its options.

Adding a source is one reader module (a function ``read_x(path, *, params, pattern, ...)``
returning :class:`~landaulab.store.ingest.common.IngestedRun` objects) plus one
:func:`register_source` line below; the command line reads its choices, help and
option checks from here. Readers are named by import path and imported only when used,
so listing the sources imports no optional dependency.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from landaulab.errors import DataError
from landaulab.store.ingest.common import IngestedRun, IngestResult, publish_runs, reader_options


@dataclass(frozen=True)
class IngestSource:
    """One kind of foreign logs.

    Attributes
    ----------
    name
        The name on the command line (``landaulab ingest NAME PATH``).
    reader
        ``"package.module:function"``: ``function(path, *, params, pattern, **options)``.
    description
        One line for the help.
    options
        Command-line options the source accepts beyond ``--params`` and ``--pattern``,
        each mapped to the reader's keyword (``{"--step-col": "step_key"}``).
    refusals
        Why an option it does not accept makes no sense for it (for the message).
    ingester
        Optionally ``"package.module:function"``: ``function(path, store, *, task,
        replace, params, pattern, **options)`` reading and publishing in one go (a
        streaming import into a batch); without it :meth:`ingest` reads every run with
        ``reader`` and publishes them with
        :func:`~landaulab.store.ingest.common.publish_runs`.
    """

    name: str
    reader: str
    description: str
    options: Mapping[str, str] = field(default_factory=dict)
    refusals: Mapping[str, str] = field(default_factory=dict)
    ingester: str | None = None

    def load(self) -> Callable[..., list[IngestedRun]]:
        """The reader function (imports its module)."""
        module, _, attribute = self.reader.partition(":")
        function: Callable[..., list[IngestedRun]] = getattr(
            importlib.import_module(module), attribute
        )
        return function

    def read(
        self,
        path: str | os.PathLike[str],
        *,
        params: Mapping[str, Any] | None = None,
        pattern: str | None = None,
        **options: Any,
    ) -> list[IngestedRun]:
        """Read every run at ``path``; ``options`` are keyed by command-line option.

        Raises
        ------
        DataError
            For an option this source does not accept.
        """
        keywords = self.keywords(options)
        return self.load()(path, params=params, pattern=pattern, **keywords)

    def keywords(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The reader's keywords for the given command-line options (unset ones left out).

        Raises
        ------
        DataError
            For an option this source does not accept.
        """
        keywords: dict[str, Any] = {}
        for option, value in options.items():
            if value is None or value == [] or value == ():
                continue
            if option not in self.options:
                raise DataError(self.refusal(option))
            keywords[self.options[option]] = value
        return keywords

    def ingest(
        self,
        path: str | os.PathLike[str],
        store: Any,
        *,
        task: str | None = None,
        replace: bool = False,
        params: Mapping[str, Any] | None = None,
        pattern: str | None = None,
        **options: Any,
    ) -> IngestResult:
        """Read every run at ``path`` and publish them into ``store`` (all or nothing).

        ``task`` defaults to the source's name; ``replace`` replaces the runs of an
        earlier import of the same logs with other options (see
        :func:`~landaulab.store.ingest.common.publish_runs`).
        """
        keywords = self.keywords(options)
        if self.ingester is not None:
            module, _, attribute = self.ingester.partition(":")
            ingest: Callable[..., IngestResult] = getattr(
                importlib.import_module(module), attribute
            )
            return ingest(
                path,
                store,
                task=task or self.name,
                replace=replace,
                params=params,
                pattern=pattern,
                **keywords,
            )
        reader = self.load()
        runs = reader(path, params=params, pattern=pattern, **keywords)
        how = reader_options(reader, params=params, pattern=pattern, **keywords)
        return publish_runs(
            runs, store, kind=self.name, task=task or self.name, options=how, replace=replace
        )

    def refusal(self, option: str) -> str:
        """The one-line message for an option this source does not accept."""
        if option in self.refusals:
            return f"{option} does not apply to {self.name} logs ({self.refusals[option]})"
        takers = [s.name for s in SOURCES.values() if option in s.options]
        where = " or ".join(f"'ingest {name}'" for name in takers) or "no source"
        return f"{option} applies to {where} only"


SOURCES: dict[str, IngestSource] = {}


def register_source(
    name: str,
    reader: str,
    description: str,
    options: Mapping[str, str] | None = None,
    refusals: Mapping[str, str] | None = None,
    ingester: str | None = None,
) -> IngestSource:
    """Register an ingest source under ``name`` (see :class:`IngestSource`)."""
    source = IngestSource(
        name, reader, description, dict(options or {}), dict(refusals or {}), ingester
    )
    SOURCES[name] = source
    return source


def get_source(name: str) -> IngestSource:
    """The source called ``name`` (case-insensitive).

    Raises
    ------
    DataError
        Naming the known sources.
    """
    source = SOURCES.get(name.lower())
    if source is None:
        raise DataError(f"unknown ingest source {name!r}; choose one of: {', '.join(SOURCES)}")
    return source


def source_options() -> list[str]:
    """Every source-specific option of any source, in registration order."""
    return list(dict.fromkeys(o for s in SOURCES.values() for o in s.options))


register_source(
    "tensorboard",
    "landaulab.store.ingest.tensorboard:read_tensorboard",
    "TensorBoard event files (a folder of runs)",
    refusals={"--step-col": "their steps are logged"},
)
register_source(
    "wandb",
    "landaulab.store.ingest.wandb:read_wandb",
    "Weights & Biases offline run folders or exported tables",
    options={"--step-col": "step_key"},
)
register_source(
    "mlflow",
    "landaulab.store.ingest.mlflow:read_mlflow",
    "an MLflow tracking folder (mlruns)",
    refusals={"--step-col": "their steps are logged"},
)
register_source(
    "csv",
    "landaulab.store.ingest.tabular:read_table",
    "CSV/TSV/Parquet tables, wide or long layout",
    options={
        "--layout": "layout",
        "--run-col": "run_col",
        "--step-col": "step_col",
        "--metric-col": "metric_col",
        "--value-col": "value_col",
        "--param-col": "param_cols",
    },
    ingester="landaulab.store.ingest.tabular:ingest_table",
)
