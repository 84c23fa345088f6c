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

Within one process, :func:`run_ahead` runs a producer in a background thread a bounded
number of items ahead of its consumer — the partition stage of batch N+1 while the merge
writes batch N (Polars, pyarrow and NumPy release the GIL, so both cores work):

>>> def produce(emit):
...     for n in range(3):
...         emit(n * n)
>>> list(run_ahead(produce))
[0, 1, 4]
"""

from __future__ import annotations

import contextvars
import importlib
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Generic, Literal, Protocol, TypeVar, get_args

from mig.errors import ConfigError, Msg
from mig.machine import available_cores, default_workers

__all__ = ["AHEAD_THREAD", "ENGINES", "Engine", "EngineName", "LocalEngine", "engine", "run_ahead"]

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
        self.workers = default_workers() if workers is None else workers

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
    """The engine ``name``: ``local`` with ``workers`` processes (default:
    :func:`mig.machine.default_workers`), or ``ray`` joining the cluster at ``address`` (default: a local one).

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


# -- one process: a producer thread ahead of its consumer ----------------------------------

#: The name of the thread :func:`run_ahead` starts (tests check that none is left behind).
AHEAD_THREAD = "mig-run-ahead"

#: How often a waiting side looks whether the other gave up (seconds); waits end sooner
#: when the other side moves.
_POLL = 0.1


class _Cancelled(BaseException):
    """Raised in the producer thread when the consumer stopped (an error, Ctrl-C, ``close``).

    A :class:`BaseException`, so that no ``except Exception`` on the producer's way out
    takes it for an error of its own."""


class _Handoff(Generic[T]):
    """The items a producer emitted that its consumer has not taken yet (at most ``depth``
    counted ones)."""

    def __init__(self, depth: int, counted: Callable[[T], bool]) -> None:
        self.depth = depth
        self.counted = counted
        self.waiting = 0  # counted items not taken yet
        self.items: deque[T] = deque()
        self.changed = threading.Condition()
        self.finished = False  # the producer returned or raised
        self.error: BaseException | None = None
        self.stopped = False  # the consumer went away

    def emit(self, item: T) -> None:
        """Hand ``item`` over; return once fewer than ``depth`` counted items wait, so the
        producer goes on with the next one (``depth`` 1: only once this one was taken)."""
        with self.changed:
            if self.stopped:
                raise _Cancelled
            self.items.append(item)
            self.waiting += self.counted(item)
            self.changed.notify_all()
            while self.waiting >= self.depth:
                self.changed.wait(_POLL)
                if self.stopped:
                    raise _Cancelled

    def take(self) -> list[T]:
        """The next item (in a list of one), or ``[]`` once the producer is done; the
        producer's error, raised here, after every item it emitted before it."""
        with self.changed:
            while not self.items and not self.finished:
                self.changed.wait(_POLL)
            if self.items:
                item = self.items.popleft()
                self.waiting -= self.counted(item)
                self.changed.notify_all()
                return [item]
            if self.error is not None:
                raise self.error
            return []

    def finish(self, error: BaseException | None) -> None:
        with self.changed:
            self.finished, self.error = True, error
            self.changed.notify_all()

    def stop(self) -> None:
        with self.changed:
            self.stopped = True
            self.items.clear()  # nothing keeps the batches the consumer will not take
            self.waiting = 0
            self.changed.notify_all()


def _every(item: object) -> bool:
    return True


def run_ahead(
    produce: Callable[[Callable[[T], None]], None], *, depth: int = 1, counted: Callable[[T], bool] = _every
) -> Iterator[T]:
    """What ``produce(emit)`` emits, in order, with ``produce`` running in a background
    thread at most ``depth`` items ahead of the consumer: with ``depth`` 1 the producer
    builds item N+1 while the consumer works on item N, and waits with it until N+1 is
    taken — two items alive at most, so memory stays bounded by the item (batch) size.
    ``counted``: which items count (default: all); an item it says no to (small: a
    partition's result after its batches) never holds the producer back.

    An error in the producer is raised to the consumer, unchanged, once the consumer has
    taken every item emitted before it: the same exception, at the same point of the
    work, as when the producer runs inline. When the consumer stops early — an error of
    its own, Ctrl-C, or closing the generator — the producer is stopped at its next
    ``emit`` and its thread joined before the consumer's exception goes on (the thread is
    a daemon, so a second Ctrl-C during that join still ends the process). The producer
    runs in a copy of the caller's context (:mod:`contextvars`: codec overlays).

    >>> def failing(emit):
    ...     emit("first")
    ...     raise ValueError("second is bad")
    >>> ahead = run_ahead(failing)
    >>> next(ahead)
    'first'
    >>> next(ahead)
    Traceback (most recent call last):
    ValueError: second is bad
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, not {depth}")
    handoff: _Handoff[T] = _Handoff(depth, counted)

    def body() -> None:
        error: BaseException | None = None
        try:
            produce(handoff.emit)
        except _Cancelled:
            pass
        except BaseException as exc:  # handed to the consumer, raised there
            error = exc
        finally:
            handoff.finish(error)

    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(body,), name=AHEAD_THREAD, daemon=True)
    thread.start()
    try:
        while got := handoff.take():
            yield got.pop()  # popped: this frame keeps no reference while the consumer works
    finally:
        handoff.stop()
        thread.join()
