"""The version of landaulab (one place; ``landaulab.__version__`` and reports read it)."""

__version__ = "0.1.0"
