"""Load targets: a small protocol and a registry of URL schemes.

A target is created from its URL without touching anything; :meth:`Target.connect`
opens it. :func:`open_target` picks the class by the URL's scheme, so a PostgreSQL or
DuckDB target slots in with one :func:`register_target` call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

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
    """
    match = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*)://", url)
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
