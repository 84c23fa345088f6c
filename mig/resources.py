"""Where packaged data lives: ``mig/_data/`` in a wheel, the repository root in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the directory of packaged data ``name`` (``"layouts"``, ``"gaiji"``).

    >>> data_dir("layouts").name
    'layouts'
    """
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"packaged data {name!r} not found beside {_PACKAGE_DIR}")
