"""What mig may use of the machine it runs on — the one owner of the core count and of
the defaults of ``mig extract --workers``, ``mig load --jobs`` and ``mig audit --jobs``."""

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


def default_workers() -> int:
    """Processes for ``mig extract --workers`` and connections for ``mig load --jobs`` when
    not given: one on two cores or fewer, else one per core.

    Both stages already keep two cores busy in one process: extract reads and decodes the
    next batch in a thread while the current one is checked and written, and a serial
    PostgreSQL load encodes the next batch while the server copies the current one. On two
    cores a second process only competes with them (benchmarks/README.md, "Cores"): a 1M-row
    extract is faster in one pipelined process than in two, and ``load --jobs 2`` slower
    than the serial load. ``mig audit --jobs`` validates whole files in
    separate processes without a pipeline and keeps :func:`available_cores`.

    >>> default_workers() == (1 if available_cores() <= 2 else available_cores())
    True
    """
    cores = available_cores()
    return 1 if cores <= 2 else cores
