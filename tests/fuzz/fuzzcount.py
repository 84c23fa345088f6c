"""How many inputs each fuzz target tried (shown by this folder's conftest in the summary)."""

from __future__ import annotations

from collections import Counter

TRIED: Counter[str] = Counter()


def tried(target: str) -> None:
    """Count one input of ``target``."""
    TRIED[target] += 1
