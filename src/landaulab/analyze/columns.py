"""Column names a user asks for: the one message for a missing or ambiguous column."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def edit_distance(a: str, b: str) -> int:
    """The Levenshtein distance between two strings (case-insensitive)."""
    a, b = a.lower(), b.lower()
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1]


#: How many of the closest column names lead the list of a missing-column message.
CLOSEST = 3


def missing_column(
    name: str,
    columns: Iterable[Any],
    option: str,
    renamed: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The one-line message for a column that is not in the data.

    A name the store split into a setting and an observable (``renamed``, as in
    ``Store.frame().attrs["renamed"]``) is ambiguous: the message names both spellings.

    It lists every column: the :data:`CLOSEST` nearest to ``name`` by edit distance first,
    then the rest in table order, so no column (an observable after many parameters, say)
    is cut off.
    """
    both = (renamed or {}).get(name)
    if both:
        return f"column {name!r} is ambiguous; pass {option} {' or '.join(both)}"
    names = [str(c) for c in columns]
    closest = sorted(names, key=lambda c: (edit_distance(name, c), names.index(c)))[:CLOSEST]
    rest = [c for c in names if c not in closest]
    listed = ", ".join(closest) + (f"; then {', '.join(rest)}" if rest else "")
    return f"column {name!r} not found (closest first: {listed}); pass {option} with one"
