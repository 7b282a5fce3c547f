"""Built-in sweep specs shipped with the package (``quick``, ``grokking``)."""

from __future__ import annotations

from pathlib import Path

from landaulab.errors import SpecError

_HERE = Path(__file__).parent


def builtin_spec_names() -> list[str]:
    """Names of the shipped specs."""
    return sorted(p.stem for p in _HERE.glob("*.toml"))


def builtin_spec_path(name: str) -> Path:
    """The path of a shipped spec.

    Raises
    ------
    SpecError
        If no spec has that name (and no such file exists).
    """
    path = _HERE / f"{name}.toml"
    if not path.exists():
        raise SpecError(
            f"{name}: no such spec file, and no built-in spec of that name "
            f"(built-in: {', '.join(builtin_spec_names())})"
        )
    return path
