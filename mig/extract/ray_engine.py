"""The Ray engine: partitions as Ray tasks, on a cluster or a Ray instance of our own.

``mig extract --engine ray [--address ADDR]`` reaches this module through
``mig.extract.engines.engine("ray", …)``, which imports it lazily: Ray is an optional extra
(``pip install 'jichitai-mig[ray]'``) and nothing else in mig imports it.

What the engine guarantees, whatever the cluster does:

- **Order.** :meth:`RayEngine.map_ordered` yields ``fn(task)`` in task order, however the
  tasks finish; at most ``window`` tasks are in flight, so the driver's memory is bounded
  by the window, not by the number of tasks.
- **Idempotent retries.** A task whose worker process or node dies is run again by Ray (up
  to ``max_retries`` times). A task is a pure function of its partition and writes only
  its own partial outputs under a temporary name, so a second run gives the same bytes.
  An *exception* raised by the task is not retried: mig's errors are deterministic (the
  same partition fails the same way), and retrying would only repeat them.
- **One-line errors.** A task that raises is reported as ``Ray task 3 of 10 failed: …``
  with the task's own mig error (which names file, byte range and rule and holds no
  values); an unexpected exception is reported by its type name only (its text may quote
  data). No Ray traceback reaches the user: the exception is caught *in the worker* and
  sent back as a value, and Ray's own failures (worker crashed, node lost) become one
  line too.
- **Quiet.** Ray's logging is set to errors only and worker output is not forwarded to
  the driver (a worker's log could echo data). Usage statistics are off.
- **Cleanup.** A Ray instance the engine starts itself (no ``address``) is shut down when
  the map ends, also on error or Ctrl-C; connected to a cluster, the engine only
  disconnects.

Inputs and outputs must be on a filesystem every node sees (NFS, a shared volume). Object
stores (``s3://``, ``gs://``) would need the partition reader and the partial writers to
take fsspec URLs (``pyarrow.fs`` / ``fsspec`` file objects instead of ``Path``), the
temporary-name-then-rename of :mod:`mig.fs` replaced by the store's atomic put, and
credentials handed to the workers through the Ray runtime environment; none of it exists
yet.

>>> RayEngine(workers=2).window
4
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mig.errors import ConfigError, ExitCode, MigError, Msg

__all__ = ["DEFAULT_MAX_RETRIES", "EngineTaskError", "RayEngine"]

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MAX_RETRIES = 3
"""Times Ray runs a task again after its worker process or node died."""


class EngineTaskError(MigError):
    """A task failed on a worker: one line naming the task; the exit code is the cause's."""

    def __init__(self, message: Msg, exit_code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.args[0], self.exit_code))


@dataclass(frozen=True)
class _Failure:
    """What a task raised, sent back as a value (so Ray never formats a traceback)."""

    error: MigError | None
    """The task's own mig error (value-free by mig's rule), or None."""
    kind: str
    """The exception's type name."""


class _Call(Generic[T, R]):
    """``fn(task)`` run in a worker; an exception comes back as a :class:`_Failure`."""

    def __init__(self, fn: Callable[[T], R]) -> None:
        self.fn = fn

    def __call__(self, task: T) -> R | _Failure:
        try:
            return self.fn(task)
        except MigError as exc:
            return _Failure(exc, type(exc).__name__)
        except Exception as exc:  # its text may quote data: only the type goes back
            return _Failure(None, type(exc).__name__)


def _ray() -> Any:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise ConfigError(Msg("engines.ray-missing")) from None
    return ray


class RayEngine:
    """Runs ``fn`` over tasks as Ray tasks; see the module documentation.

    ``address``: a running cluster (``"10.0.0.5:6379"``, ``"auto"``); None starts a Ray
    instance on this machine with ``workers`` CPUs (default: all) and stops it after the
    map. ``workers`` also bounds the tasks in flight (``window``: twice the workers, so a
    worker never waits for the driver); None takes the cluster's CPU count.
    """

    def __init__(
        self,
        *,
        workers: int | None = None,
        address: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(Msg("partitions.workers-invalid", workers=workers))
        self.workers = workers
        self.address = address
        self.max_retries = max_retries

    @property
    def window(self) -> int:
        """Tasks in flight at most (once connected, from the cluster's CPUs if no ``workers``)."""
        return 2 * (self.workers or os.cpu_count() or 1)

    def map_ordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """``fn(task)`` for every task, yielded in task order.

        The first failing task (in task order) stops the map with an
        :class:`EngineTaskError`; tasks still running are cancelled.
        """
        if not tasks:
            return
        ray = _ray()
        ours = self._connect(ray)
        try:
            window = self.workers
            if window is None:
                cpus = int(ray.cluster_resources().get("CPU", 1))
                window = max(1, cpus)
            window *= 2
            remote = ray.remote(max_retries=self.max_retries, retry_exceptions=False)(_run)
            call = ray.put(_Call(fn))
            pending: deque[Any] = deque()
            total = len(tasks)
            submitted = 0
            try:
                for index in range(total):
                    while submitted < total and len(pending) < window:
                        pending.append(remote.remote(call, tasks[submitted]))
                        submitted += 1
                    ref = pending.popleft()
                    result = self._result(ray, ref, index, total)
                    yield result
            finally:
                for ref in pending:
                    with contextlib.suppress(Exception):
                        ray.cancel(ref, force=True)
        finally:
            if ours:  # our own instance stops; a cluster only loses this driver
                with contextlib.suppress(Exception):
                    ray.shutdown()

    def _result(self, ray: Any, ref: Any, index: int, total: int) -> Any:
        try:
            value = ray.get(ref)
        except ray.exceptions.RayError as exc:  # worker or node lost beyond the retries
            raise EngineTaskError(
                Msg(
                    "engines.task-lost",
                    task=index + 1,
                    total=total,
                    retries=self.max_retries,
                    reason=type(exc).__name__,
                ),
                ExitCode.CANNOT_WRITE,
            ) from None
        if isinstance(value, _Failure):
            reason: object = value.error if value.error is not None else value.kind
            code = value.error.exit_code if value.error is not None else ExitCode.USAGE
            raise EngineTaskError(
                Msg("engines.task-failed", task=index + 1, total=total, reason=reason), code
            )
        return value

    def _connect(self, ray: Any) -> bool:
        """Connect to ``address`` or start a local instance; True when this call did (and
        the map must undo it), False when the process was connected already (a library
        user's own ``ray.init``: theirs to shut down)."""
        if ray.is_initialized():
            return False
        quiet: dict[str, Any] = {
            "logging_level": logging.ERROR,
            "log_to_driver": False,
            "configure_logging": True,
        }
        for name in ("ray", "ray.data", "ray.tune", "ray.serve"):
            logging.getLogger(name).setLevel(logging.ERROR)
        try:
            if self.address is None:
                ray.init(num_cpus=self.workers, include_dashboard=False, **quiet)
                return True
            _reachable(self.address)
            ray.init(address=self.address, **quiet)
        except MigError:
            raise
        except ConnectionError as exc:
            raise ConfigError(
                Msg("engines.ray-connect", address=self.address or "local",
                    reason=type(exc).__name__)
            ) from None
        except Exception as exc:  # Ray raises several kinds; one line, no traceback
            with contextlib.suppress(Exception):
                ray.shutdown()
            raise ConfigError(
                Msg("engines.ray-connect", address=self.address or "local",
                    reason=_first_line(str(exc)) or type(exc).__name__)
            ) from None
        return True


def _run(call: _Call[Any, Any], task: Any) -> Any:
    """The remote body: module-level so every worker imports it from mig."""
    return call(task)


def _reachable(address: str, timeout: float = 5.0) -> None:
    """A ``host:port`` that does not answer is an error at once: Ray itself would retry for
    minutes, writing warnings to stderr. Other forms (``auto``, ``ray://…``) go to Ray.

    >>> _reachable("127.0.0.1:1")
    Traceback (most recent call last):
    mig.errors.ConfigError: cannot connect to the Ray cluster at 127.0.0.1:1 (ConnectionRefusedError)
    """
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "/" in host:
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise ConfigError(
            Msg("engines.ray-connect", address=address, reason=type(exc).__name__)
        ) from None


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""
