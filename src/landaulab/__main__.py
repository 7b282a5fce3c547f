"""``python -m landaulab`` runs the command-line interface."""

from landaulab.cli import entry

entry()
