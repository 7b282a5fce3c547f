"""The run store: runs on disk, published atomically, queried with DuckDB."""

from landaulab.store.load import load_frame
from landaulab.store.run_ids import run_id_of
from landaulab.store.store import STATUSES, RunClaim, RunRecord, Store

__all__ = ["STATUSES", "RunClaim", "RunRecord", "Store", "load_frame", "run_id_of"]
