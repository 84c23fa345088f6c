"""Load targets: a small protocol and a registry of URL schemes.

A target is created from its URL without touching anything; :meth:`Target.connect`
opens it. :func:`open_target` picks the class by the URL's scheme: a target plugin
registers its scheme in the entry-point group ``mig.targets`` (``myscheme =
"mig_mytarget:MyTarget"``, a class or function taking the URL), exactly as the built-in
ones do; :func:`register_target` adds one at run time (it wins over an entry point).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import unquote

import pyarrow as pa

from mig.errors import ConfigError, Msg, UnknownNameError
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
class StreamingTarget(Protocol):
    """A row-isolating target that can first try a whole table as one stream.

    :func:`mig.load.run.load_run` tries :meth:`try_stream` once per table; only when the
    server refuses a row does it undo that attempt and fall back to batch-by-batch
    isolation (:class:`RowIsolatingTarget`), so clean data pays for one stream and an
    exact reject list is still found when rows are refused.
    """

    def encode_stream(self, batch: pa.RecordBatch, columns: Sequence[Column]) -> object:
        """``batch`` in the form :meth:`try_stream` sends (it may differ from
        :meth:`RowIsolatingTarget.encode_batch`'s: PostgreSQL streams binary COPY).

        Called from a worker thread, one batch ahead; it must not touch the connection,
        and must not raise for a value the server should judge (it returns something
        that makes :meth:`try_stream` give up the attempt instead).
        """

    def try_stream(
        self,
        table: str,
        columns: Sequence[Column],
        encoded: Iterable[object],
        create_ddl: str | None = None,
    ) -> int | RowError:
        """Write every encoded batch (:meth:`encode_stream`) in one go.

        ``create_ddl`` is given when the table does not exist yet: the target creates it
        itself, inside the attempt, and may build its primary key after the rows are in.
        Returns the rows the server reports written; on a row-level error everything of the
        attempt (the table it created included) is undone and the :class:`RowError` returned.
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


@runtime_checkable
class StagingSession(Protocol):
    """One extra connection of a parallel load: writes one part of a table into staging."""

    def copy_part(
        self, staging: str, columns: Sequence[Column], encoded: Iterable[object]
    ) -> int | RowError:
        """COPY the encoded batches into ``staging`` in a transaction of its own, committed
        when the stream ends; the server's row count back. A row-level refusal rolls the
        part back and is returned; other failures raise MigError."""

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back)."""


@runtime_checkable
class StagingTarget(Protocol):
    """A target that loads parts of tables in parallel through staging tables.

    :func:`mig.load.parallel.stage_tables` fills one staging table per table over several
    connections (each part committed on its own, invisible under the table's name); the
    load's one transaction then *adopts* each staging table — renames it into place, or
    copies its rows into an existing table — so the all-or-nothing guarantee stays: until
    that transaction commits, the tables are as they were. Staging tables are dropped on
    every path, and ones a killed load left behind are dropped by the next load.
    """

    def staging_name(self, run_id: str, index: int) -> str:
        """The staging table of the ``index``-th table of run ``run_id``."""

    def create_staging(self, tables: Sequence[tuple[str, str]]) -> None:
        """Drop leftover staging of killed loads, then create ``(name, ddl)`` tables, committed."""

    def staging_session(self) -> StagingSession:
        """A new connection for one worker."""

    def adopt_staging(
        self, staging: str, table: str, columns: Sequence[Column], create: bool
    ) -> int | RowError:
        """In the load's transaction, move ``staging``'s rows into ``table``: rename it to
        ``table`` and build its key (``create``: the table does not exist), or insert its
        rows into the existing ``table`` and drop it. Returns the rows moved; a row-level
        refusal is rolled back (staging left as it was) and returned."""

    def drop_staging(self, names: Sequence[str]) -> None:
        """Drop these staging tables if they still exist (best effort, its own connection)."""


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
    """The registered URL schemes (entry points and run-time registrations), sorted."""
    from mig.registry import target_entry_points

    return sorted(set(_TARGETS) | set(target_entry_points()))


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


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def url_from_env(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The target URL held by the environment variable ``name`` (``--url-env``): a URL
    with a password then never appears on a command line (``ps``, shell history). The
    value is never shown; an unset or empty variable is a :class:`ConfigError` naming it.

    >>> url_from_env("MIG_TARGET", {"MIG_TARGET": "sqlite:///x.db"})
    'sqlite:///x.db'
    >>> url_from_env("MIG_TARGET", {})
    Traceback (most recent call last):
    ...
    mig.errors.ConfigError: --url-env MIG_TARGET: the environment variable MIG_TARGET is not set or empty
    """
    if not _ENV_NAME.fullmatch(name):
        raise ConfigError(Msg("load.url-env-name", name=repr(name)))
    value = (os.environ if environ is None else environ).get(name, "").strip()
    if not value:
        raise ConfigError(Msg("load.url-env-unset", name=name))
    return value


def open_target(url: str) -> Target:
    """An unconnected target for ``url``; an unregistered scheme lists the known ones."""
    scheme = url_scheme(url)
    factory = _TARGETS.get(scheme)
    if factory is None:
        from mig.registry import load_target_factory, target_entry_points

        points = target_entry_points()
        if scheme not in points:
            raise UnknownNameError("load target", scheme, known_targets())
        factory = load_target_factory(points[scheme])
    return factory(url)


SECRET_KEYS = re.compile(r"pass|secret|token|pwd|credential|private|sslkey", re.I)
"""Connection parameters whose value is never shown: ``password``, ``passfile``,
``sslpassword``, ``sslkey`` (a client key's path), and any key naming a secret. A
``service`` *name* is shown; mig never reads or shows a service file's content."""

MASK = "***"

_URI = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://)(.*)\Z", re.S)
_URI_PARAM = re.compile(r"([?&])([^&=?#]+)=([^&]*)")
# libpq's keyword/value form: value bare, or single-quoted with \\ and \' escapes
_KEYWORD_VALUE = re.compile(
    r"(?<![^\s])([A-Za-z_][A-Za-z0-9_.\-]*)(\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s']\S*|)", re.S
)


def _is_secret_key(key: str) -> bool:
    return bool(SECRET_KEYS.search(unquote(key)))


def split_userinfo(url: str) -> tuple[str, str | None, str] | None:
    """A ``scheme://`` URL as ``(scheme://, userinfo, the rest)``; None for any other string.

    The userinfo ends at the **last** ``@``: a password holding an unencoded ``@`` (or
    ``/``, ``?``) is all userinfo (an ``@`` in the query makes it longer, never shorter).
    ``scheme:///path`` has no authority, so no userinfo.

    >>> split_userinfo("postgresql://mig:p@ss@db:5432/x?sslmode=require")
    ('postgresql://', 'mig:p@ss', 'db:5432/x?sslmode=require')
    >>> split_userinfo("sqlite:///a@b.db")
    ('sqlite://', None, '/a@b.db')
    """
    match = _URI.match(url)
    if match is None:
        return None
    scheme, rest = match.groups()
    cut = rest.rfind("@")
    if rest.startswith("/") or cut < 0:
        return scheme, None, rest
    return scheme, rest[:cut], rest[cut + 1 :]


def _schemeless(text: str) -> tuple[str, str | None, str] | None:
    """``user:password@host/…`` given without a scheme (not a keyword/value string)."""
    user = text.partition(":")[0]
    if "@" not in text or "=" in user or any(c.isspace() for c in user):
        return None
    cut = text.rfind("@")
    return "", text[:cut], text[cut + 1 :]


def url_secrets(url: str) -> list[str]:
    """Every credential value in ``url``, raw and %-decoded, longest first.

    Read every way the URL could be meant: the password of ``user:password@`` (up to the
    last ``@``), secret query parameters anywhere after ``scheme://``, and secret keys of a
    keyword/value string (``host=db password='a b'``).

    >>> url_secrets("postgresql://mig:p%40ss@db/x?sslpassword=k3y")
    ['p%40ss', 'p@ss', 'k3y']
    """
    found: list[str] = []
    parts = split_userinfo(url) or _schemeless(url)
    if parts is None or not parts[0]:
        for key, _eq, value in _KEYWORD_VALUE.findall(url):
            if _is_secret_key(key):
                found += [value, value.strip("'"), re.sub(r"\\(.)", r"\1", value.strip("'"))]
    if parts is not None:
        scheme, userinfo, _rest = parts
        if userinfo is not None and ":" in userinfo:
            found.append(userinfo.partition(":")[2])
        rest = url[len(scheme) :]
        found += [value for _sep, key, value in _URI_PARAM.findall(rest) if _is_secret_key(key)]
    values: list[str] = []
    for value in found:
        for form in (value, unquote(value)):
            if form and form not in values:
                values.append(form)
    return sorted(values, key=len, reverse=True)


def redact_text(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every occurrence of every secret replaced by ``***``.

    Overlapping occurrences are masked as one span, so no part of any secret survives.

    >>> redact_text("failed to resolve host 'ss@db'", ["p@ss", "ss"])
    "failed to resolve host '***@db'"
    """
    spans: list[tuple[int, int]] = []
    for secret in secrets:
        if not secret:
            continue
        start = text.find(secret)
        while start >= 0:
            spans.append((start, start + len(secret)))
            start = text.find(secret, start + 1)
    if not spans:
        return text
    spans.sort()
    merged = [spans[0]]
    for start, end in spans[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    out, last = [], 0
    for start, end in merged:
        out += [text[last:start], MASK]
        last = end
    out.append(text[last:])
    return "".join(out)


def redact_url(url: str) -> str:
    """``url`` with every credential masked: the one way a target is shown anywhere.

    Masked: the password of ``user:password@`` (up to the last ``@``), secret query
    parameters (``password=``, ``passfile=``, ``sslpassword=``, …: :data:`SECRET_KEYS`,
    also %-encoded), the same keys of a keyword/value string (``host=db password=…``), and
    every other occurrence of those values. The user name, host, port, database and a
    ``service=`` name stay.

    >>> redact_url("postgresql://mig:secret@db/x")
    'postgresql://mig:***@db/x'
    >>> redact_url("postgresql://mig:p@ss@db/x?password=Secret&sslmode=require")
    'postgresql://mig:***@db/x?password=***&sslmode=require'
    >>> redact_url("host=db user=mig password='a b' dbname=x")
    'host=db user=mig password=*** dbname=x'
    """
    masked = redact_text(url, url_secrets(url))
    parts = split_userinfo(masked)
    if parts is None:
        masked = _KEYWORD_VALUE.sub(
            lambda m: f"{m[1]}{m[2]}{MASK}" if _is_secret_key(m[1]) else m[0], masked
        )
        parts = _schemeless(masked)
        if parts is None:
            return masked
    scheme, userinfo, rest = parts

    def params(text: str) -> str:
        return _URI_PARAM.sub(
            lambda m: f"{m[1]}{m[2]}={MASK}" if _is_secret_key(m[2]) else m[0], text
        )

    if userinfo is None:
        return scheme + params(rest)
    user, colon, _password = userinfo.partition(":")
    return f"{scheme}{params(user)}{':' + MASK if colon else ''}@{params(rest)}"
