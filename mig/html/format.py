"""Value formatting shared by the HTML reports (run report, audit report).

The reports render dicts read back from JSON, so every helper tolerates a missing or
mistyped value instead of failing.
"""

from __future__ import annotations

from typing import Any


def is_int(value: Any) -> bool:
    """True for an integer that is not a bool.

    >>> is_int(3), is_int(True), is_int("3")
    (True, False, False)
    """
    return isinstance(value, int) and not isinstance(value, bool)


def as_int(value: Any) -> int:
    """The integer, or 0 for anything else."""
    return int(value) if is_int(value) else 0


def number(value: Any) -> str:
    """Integers with thousands separators; anything else as text, a missing one as "–".

    >>> number(1234567), number(None)
    ('1,234,567', '–')
    """
    if is_int(value):
        return f"{value:,}"
    return "–" if value is None else text(value)


def text(value: Any) -> str:
    """The value as text."""
    return value if isinstance(value, str) else str(value)


def as_list(value: Any) -> list[Any]:
    """A list of the sequence's items, or an empty list for anything else."""
    return list(value) if isinstance(value, list | tuple) else []
