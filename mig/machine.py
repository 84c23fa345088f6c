"""What mig may use of the machine it runs on — the one owner of the core count that
``mig extract --workers``, ``mig load --jobs`` and ``mig audit --jobs`` default to."""

from __future__ import annotations

import os


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity where the OS tells it, else the
    machine's CPU count.

    >>> available_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)
