"""Creating a store: a foreign directory is refused, a store half-created by another
process at the same moment is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from landaulab.errors import StoreError
from landaulab.store import Store
from landaulab.store.layout import SUBDIRECTORIES
from landaulab.store.store import MARKER


def test_folders_of_a_store_being_created_elsewhere_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "shared"
    for sub in SUBDIRECTORIES[:2]:  # another process made these and not yet the marker
        (path / sub).mkdir(parents=True)
    (path / f".{MARKER}.abc123.tmp").write_text("{}")
    store = Store(path, create=True)
    assert (path / MARKER).exists() and len(store) == 0


def test_a_foreign_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mine"
    (path / "runs").mkdir(parents=True)
    (path / "notes.txt").write_text("not a store")
    with pytest.raises(StoreError, match="not empty and not a landaulab store"):
        Store(path, create=True)
