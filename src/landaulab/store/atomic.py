"""Crash-safe file operations for the store (see :mod:`landaulab.files`)."""

from landaulab.files import fsync_dir, write_bytes_atomic, write_json_atomic

__all__ = ["fsync_dir", "write_bytes_atomic", "write_json_atomic"]
