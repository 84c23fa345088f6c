"""Load targets: a small protocol and a registry of URL schemes.

A target is created from its URL without touching anything; :meth:`Target.connect`
opens it. :func:`open_target` picks the class by the URL's scheme, so a PostgreSQL or
DuckDB target slots in with one :func:`register_target` call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import pyarrow as pa

from mig.errors import ConfigError, UnknownNameError
from mig.load.ddl import Column, ColumnShape

Progress = Callable[[int], None]
"""Called with the number of rows just written."""


class Target(Protocol):
    """A database the load step writes one run into, inside one transaction."""

    dialect: str
    """The :mod:`mig.load.ddl` dialect used to create its tables."""
    display_url: str
    """The URL with any password masked: safe for logs and ``--json``."""

    def connect(self) -> None:
        """Open the connection; a target that cannot be opened raises ConfigError."""

    def begin(self) -> None:
        """Start the one transaction the whole load runs in."""

    def table_exists(self, table: str) -> bool:
        """Whether ``table`` exists."""

    def table_shape(self, table: str) -> tuple[ColumnShape, ...]:
        """The columns of an existing ``table`` (types upper-cased), in order."""

    def create_table(self, ddl: str) -> None:
        """Run a ``CREATE TABLE`` statement from :func:`mig.load.ddl.ddl_for`."""

    def drop_table(self, table: str) -> None:
        """Drop ``table``."""

    def write_batches(
        self,
        table: str,
        columns: Sequence[Column],
        batches: Iterable[pa.RecordBatch],
        progress: Progress | None = None,
    ) -> int:
        """Insert Arrow record batches whose columns are ``columns``, in that order.

        Returns the number of rows written; calls ``progress`` after every batch.
        """

    def count_rows(self, table: str) -> int:
        """``SELECT count(*)`` of ``table``."""

    def commit(self) -> None:
        """Commit the transaction."""

    def rollback(self) -> None:
        """Roll the transaction back (a no-op when none is open)."""

    def close(self) -> None:
        """Close the connection (safe to call more than once)."""


@dataclass(frozen=True)
class RowError:
    """Why the server refused a batch: a data or constraint error, not a broken connection.

    ``message``, ``detail`` and ``context`` are the server's words and often quote the
    offending values (personal data): they go into the load rejects file only, never into
    a log line or an exception message. ``sqlstate`` and ``constraint`` are safe to show.
    """

    sqlstate: str
    constraint: str | None = None
    column: str | None = None
    message: str = ""
    detail: str | None = None
    context: str | None = None


@runtime_checkable
class RowIsolatingTarget(Protocol):
    """A target that can try a batch on its own and undo just that batch on a row error.

    :func:`mig.load.run.load_run` then splits a refused batch in halves until the single
    refused rows are found; they go to the load rejects and the rest loads.
    """

    def encode_batch(self, batch: pa.RecordBatch) -> object:
        """``batch`` in the form :meth:`try_batch` sends (e.g. CSV bytes for COPY).

        Called from a worker thread, one batch ahead, so encoding overlaps the server's
        work on the previous batch; it must not touch the connection.
        """

    def try_batch(
        self,
        table: str,
        columns: Sequence[Column],
        batch: pa.RecordBatch,
        encoded: object | None = None,
    ) -> RowError | None:
        """Write ``batch`` (``encoded``, if given, is :meth:`encode_batch` of it) in a savepoint.

        On a row-level error roll back to the savepoint. Returns None when the whole batch
        was written, the server's :class:`RowError` when it was refused (nothing of it is
        kept). Other failures raise MigError.
        """


@runtime_checkable
class RunLedgerTarget(Protocol):
    """A target that remembers, per table, which run its rows came from.

    With it a re-run of the same run replaces that run's rows (no duplicates) instead of
    being refused, and a table holding rows of another or an unknown run is refused
    unless ``--replace``.
    """

    def loaded_run(self, table: str) -> str | None:
        """The run id whose rows ``table`` holds, None when unknown (not loaded by mig)."""

    def record_load(
        self, table: str, layout: str, run_id: str, rows_loaded: int, rows_rejected: int
    ) -> None:
        """Record, inside the load's transaction, that ``table`` now holds ``run_id``'s rows."""

    def truncate_tables(self, tables: Sequence[str]) -> None:
        """Empty ``tables`` in one statement, keeping the tables (constraints, grants) as they are."""

    def canonical_type(self, sql_type: str) -> str:
        """``sql_type`` in the spelling :meth:`Target.table_shape` reports."""


TargetFactory = Callable[[str], Target]
"""Builds an unconnected target from its full URL; a bad URL raises ConfigError."""

_TARGETS: dict[str, TargetFactory] = {}


def register_target(scheme: str, factory: TargetFactory) -> None:
    """Make URLs ``scheme://…`` open with ``factory`` (replacing any earlier one)."""
    _TARGETS[scheme.lower()] = factory


def unregister_target(scheme: str) -> None:
    """Forget the target registered for ``scheme`` (if any)."""
    _TARGETS.pop(scheme.lower(), None)


def known_targets() -> list[str]:
    """The registered URL schemes, sorted."""
    return sorted(_TARGETS)


def url_scheme(url: str) -> str:
    """The scheme of a target URL, lower-cased.

    >>> url_scheme("sqlite:///out.db")
    'sqlite'
    >>> url_scheme("bundle:out/handover")  # a loader bundle directory: no "//"
    'bundle'
    """
    match = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*)://", url) or re.match(r"(bundle):(?!//)", url, re.I)
    if match is None:
        raise ConfigError(
            f"not a load target URL: {redact_url(url)!r}; expected e.g. sqlite:///out.db"
        )
    return match.group(1).lower()


def open_target(url: str) -> Target:
    """An unconnected target for ``url``; an unregistered scheme lists the known ones."""
    scheme = url_scheme(url)
    factory = _TARGETS.get(scheme)
    if factory is None:
        raise UnknownNameError("load target", scheme, _TARGETS)
    return factory(url)


def redact_url(url: str) -> str:
    """``url`` with the password of any ``user:password@`` part masked.

    >>> redact_url("postgresql://mig:secret@db/x")
    'postgresql://mig:***@db/x'
    """
    return re.sub(r"^((?:[^:/]+://)?[^:/@]*):[^@/]*@", r"\1:***@", url)
