"""What runs the partitions of a ``mig extract``: local processes, or a Ray cluster.

An engine maps a top-level function over picklable tasks and yields the results in task
order (the merge takes them in input order while later ones still run)::

    for result in engine("local", workers=2).map_ordered(run_partition, tasks): ...

``local`` runs inline when there is one task or one worker, else in a process pool of the
``spawn`` context (not ``fork``: Polars' thread pool does not survive a fork), each worker
given ``POLARS_MAX_THREADS`` so that N workers do not oversubscribe the cores. ``ray``
lives in :mod:`mig.extract.ray_engine` (the ``ray`` extra), imported only when asked for.

>>> list(engine("local", workers=1).map_ordered(abs, [-2, 3]))
[2, 3]
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Literal, Protocol, TypeVar, get_args

from mig.errors import ConfigError, Msg
from mig.machine import available_cores

__all__ = ["ENGINES", "Engine", "EngineName", "LocalEngine", "engine"]

T = TypeVar("T")
R = TypeVar("R")

#: The engines ``--engine`` accepts.
EngineName = Literal["local", "ray"]
ENGINES: tuple[str, ...] = get_args(EngineName)


class Engine(Protocol):
    """Runs a function over tasks; results come back in task order."""

    def map_ordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]: ...


def _limit_threads(threads: int) -> None:
    """Worker initialiser: Polars' pool size, before Polars is imported in the worker."""
    os.environ["POLARS_MAX_THREADS"] = str(threads)


class LocalEngine:
    """Tasks in this process (one worker or one task) or in a pool of spawned processes."""

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(Msg("partitions.workers-invalid", workers=workers))
        self.workers = available_cores() if workers is None else workers

    def map_ordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield fn(task)
            return
        workers = min(self.workers, len(tasks))
        threads = max(1, available_cores() // workers)
        # spawned workers inherit the environment: Polars reads it when first imported there,
        # which may be before an initialiser runs (the parent's main module is imported first)
        before = os.environ.get("POLARS_MAX_THREADS")
        os.environ["POLARS_MAX_THREADS"] = str(threads)
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_limit_threads, initargs=(threads,),
        )
        finished = False
        try:
            futures: list[Future[R]] = [pool.submit(fn, task) for task in tasks]
            for future in futures:
                try:
                    result = future.result()
                except BrokenProcessPool:  # killed from outside: out of memory, a signal
                    raise ConfigError(Msg("partitions.worker-died", workers=workers)) from None
                yield result
            finished = True
        finally:
            if not finished:
                # an error, Ctrl-C or SIGTERM: queued tasks are cancelled and running ones
                # stopped — a task writes only its own files, under a temporary name
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            if before is None:
                os.environ.pop("POLARS_MAX_THREADS", None)
            else:
                os.environ["POLARS_MAX_THREADS"] = before


def engine(name: EngineName = "local", *, workers: int | None = None, address: str | None = None) -> Engine:
    """The engine ``name``: ``local`` with ``workers`` processes (default: the cores this
    process may use), or ``ray`` joining the cluster at ``address`` (default: a local one).

    >>> engine("local", address="ray://x:10001")
    Traceback (most recent call last):
    mig.errors.ConfigError: --address is for --engine ray only
    """
    if name == "local":
        if address is not None:
            raise ConfigError(Msg("partitions.address-local"))
        return LocalEngine(workers)
    if name == "ray":
        try:
            module = importlib.import_module("mig.extract.ray_engine")
        except ImportError:
            raise ConfigError(Msg("engines.ray-missing")) from None
        made: Engine = module.RayEngine(workers=workers, address=address)
        return made
    raise ConfigError(f"--engine must be one of {', '.join(ENGINES)}, not {name!r}")
