"""The PostgreSQL load target: ``postgresql://user:password@host:port/database`` (psycopg 3).

Any libpq connection URI works (``postgres://`` too; ``?host=/run/postgresql`` for a unix
socket; ``PGPASSWORD`` / ``~/.pgpass`` for the password). A ``connect_timeout`` of 10
seconds applies unless the URL sets one.

How a load is made safe — **one transaction, staging in place, a run ledger**:

- The whole run is one transaction (``BEGIN`` … ``COMMIT``). Nothing is visible to other
  sessions, and nothing is kept, until the final ``COMMIT``. A load that fails, is
  interrupted, or whose process is killed (``SIGKILL``: the server sees the connection
  close and rolls back) leaves the database exactly as it was.
- A table that does not exist is created from the layout (:mod:`mig.load.ddl`, dialect
  ``postgresql``: ``numeric(p,s)``, ``date`` for 日付 that are never 不詳, ``varchar(n)``
  and ``text``) inside that transaction. A table that exists with the same shape (column
  names, types, NOT NULL, primary key) is loaded *in place*: when it holds rows it is
  emptied with ``TRUNCATE`` inside the transaction (PostgreSQL's ``TRUNCATE`` is
  transactional: a rollback brings the rows back). The table object itself — the new
  vendor's own CHECK / UNIQUE / foreign-key constraints, triggers, grants, dependent
  views, comments — is kept and its constraints apply to the loaded rows. This is why it
  is not "copy into a staging table, drop, rename": ``CREATE TABLE … (LIKE … INCLUDING
  ALL)`` loses foreign keys, triggers and grants, and dropping a table that views or
  foreign keys depend on fails. Readers of such a table wait for the load's commit
  (``TRUNCATE`` takes an ACCESS EXCLUSIVE lock); a migration target is not in use then.
- The ledger table ``mig_loads`` (created on first use, in the target's current schema)
  holds one row per table: the run id (sha256 of the run's ``manifest.json``), layout,
  rows loaded and rejected, tool version and time. It is written in the same transaction.
  A re-run of the same run id replaces its own rows (no duplicates, no half-applied
  state); a table holding rows of another or an unknown run is refused unless
  ``--replace``. A table of another shape is refused unless ``--replace`` (then it is
  dropped and recreated, still inside the transaction).
- One load at a time per database: the load takes a transaction-level advisory lock and
  a second concurrent ``mig load`` into the same database fails at once with a clear
  error.

Data goes in as one ``COPY … FROM STDIN`` per table, in a savepoint, in PostgreSQL's
binary format when every column has one (:mod:`mig.load.pgbinary`: the server parses it
in about half the time of CSV) and as CSV otherwise. A table that refuses a row — or
holds a value whose refusal must be the server's, such as a 日付 that is not a real
date — is rolled back to the savepoint and loaded again batch by batch as CSV: each Arrow
record batch written by Arrow's C++ writer (no Python loop per row) — text quoted, NULL
as an unquoted empty field, so NULL and ``''`` stay apart; decimals as their exact text;
日付 ``YYYYMMDD`` parsed by the server as ``date``. Every batch runs in a savepoint; a
batch the server refuses with a data or constraint error (SQLSTATE class 22, 23, or P0
from a trigger) is rolled back to the savepoint and split by
:func:`mig.load.run.load_run` until the refused rows are isolated; they go to the load
rejects with the server's message, the rest loads.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from mig.errors import ConfigError, MigError
from mig.load.ddl import Column, ColumnShape, Dialect
from mig.load.pgbinary import (
    HEADER,
    TRAILER,
    NotBinary,
    binary_copy_supported,
    binary_for_copy,
)
from mig.load.targets import (
    Progress,
    RowError,
    redact_text,
    redact_url,
    split_userinfo,
    url_secrets,
)
from mig.version import __version__

if TYPE_CHECKING:
    import psycopg

LEDGER_TABLE = "mig_loads"
"""Per table: which run's rows it holds."""

ROW_ERROR_CLASSES = ("22", "23", "P0")
"""SQLSTATE classes that mean "these rows are refused", not "the load cannot go on":
data exceptions, integrity constraint violations, errors raised by a PL/pgSQL trigger."""

DEFAULT_CONNECT_TIMEOUT = 10
"""Seconds to wait for the server unless the URL sets ``connect_timeout``."""

COPY_CHUNK_BYTES = 256 * 1024
"""COPY data is handed to libpq in slices of this size (one huge write is slower)."""

STAGING_PREFIX = "mig_staging_"
"""Names of the staging tables of a parallel load (``mig_staging_<run id>_<n>``)."""

STAGING_COMMENT = "mig load staging table: dropped by mig load"
"""The comment that marks a staging table as mig's: only tables carrying it are dropped
as leftovers (a user's table that happens to share the prefix is never touched)."""

_ADVISORY_KEY = 0x6D6967_6C6F6164  # "mig" "load"
_SAVEPOINT = "mig_batch"
_STREAM_SAVEPOINT = "mig_table"
_CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "the PostgreSQL target needs psycopg 3: pip install 'mig[postgresql]'"
        ) from None
    return psycopg


def canonical_type(sql_type: str) -> str:
    """One spelling for a PostgreSQL column type, as DDL writes it or ``format_type`` shows it.

    >>> canonical_type("character varying(15)"), canonical_type("varchar(15)")
    ('VARCHAR(15)', 'VARCHAR(15)')
    >>> canonical_type("numeric(11, 2)"), canonical_type("DATE")
    ('NUMERIC(11,2)', 'DATE')
    """
    text = " ".join(sql_type.lower().split())
    for long, short in (
        ("character varying", "varchar"),
        ("character", "char"),
        ("decimal", "numeric"),
        ("int4", "integer"),
        ("int8", "bigint"),
        ("int2", "smallint"),
    ):
        if text.startswith(long):
            text = short + text[len(long) :]
            break
    return text.replace(" (", "(").replace(", ", ",").upper()


class BinaryRows:
    """Rows of one batch in binary COPY form (:func:`mig.load.pgbinary.binary_for_copy`)."""

    __slots__ = ("buffer",)

    def __init__(self, buffer: pa.Buffer) -> None:
        self.buffer = buffer


def encode_for_stream(batch: pa.RecordBatch, columns: Sequence[Column]) -> object:
    """What a table's COPY stream carries for ``batch``: :class:`BinaryRows` when every
    column has a binary form, the :class:`~mig.load.pgbinary.NotBinary` that says why not
    when a value of such a table has none (the stream then gives up, for the CSV path),
    else CSV (:func:`csv_for_copy`)."""
    if not binary_copy_supported(columns, batch.schema):
        return csv_for_copy(batch)
    try:
        return BinaryRows(binary_for_copy(batch, columns))
    except NotBinary as exc:
        return exc


class _GiveUp(Exception):
    """The stream met a batch without a binary form: undo the attempt, load it as CSV."""


def _opened(items: Iterable[object]) -> tuple[bool, Iterator[object]]:
    """Whether ``items`` (a table's encoded batches) are binary — the first says — and the
    items, that first one included."""
    iterator = iter(items)
    first = next(iterator, None)
    if first is None:
        return False, iter(())
    return isinstance(first, (BinaryRows, NotBinary)), itertools.chain((first,), iterator)


def _send(copy: Any, binary: bool, items: Iterator[object]) -> None:
    """Write encoded batches to ``copy``: binary ones framed by the header and trailer; a
    batch of the other form (a value without a binary form) gives the attempt up."""
    if binary:
        copy.write(HEADER)
    for item in items:
        if isinstance(item, NotBinary):
            raise _GiveUp(str(item))
        if binary != isinstance(item, BinaryRows):
            raise _GiveUp("mixed COPY formats")
        data = item.buffer if isinstance(item, BinaryRows) else item
        view = memoryview(data)  # type: ignore[arg-type]
        for start in range(0, len(view), COPY_CHUNK_BYTES):
            copy.write(view[start : start + COPY_CHUNK_BYTES])
    if binary:
        copy.write(TRAILER)


def csv_for_copy(batch: pa.RecordBatch) -> pa.Buffer:
    """``batch`` as CSV for ``COPY … (FORMAT csv)``: strings quoted, NULL an empty field.

    >>> import pyarrow as pa
    >>> b = pa.record_batch({"a": pa.array(["x", "", None]), "n": pa.array([1, None, 3])})
    >>> csv_for_copy(b).to_pybytes()
    b'"x",1\\n"",\\n,3\\n'
    """
    arrays = []
    for column in batch.columns:
        kind = column.type
        if pa.types.is_string_view(kind) or pa.types.is_null(kind) or pa.types.is_large_string(kind):
            column = column.cast(pa.string())
        arrays.append(column)
    sink = pa.BufferOutputStream()
    table = pa.RecordBatch.from_arrays(arrays, names=[f"c{i}" for i in range(len(arrays))])
    pa_csv.write_csv(table, sink, _CSV_OPTIONS)
    return sink.getvalue()


class PostgresTarget:
    """Loads one run into a PostgreSQL database, in one transaction (see the module doc)."""

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.display_url = redact_url(url)
        parts = split_userinfo(url)
        if parts is not None and parts[1] is not None and ("@" in parts[1] or "/" in parts[1]):
            # libpq would end the password at the first '@' and connect to the rest as a
            # host, echoing part of the password in its error: refuse before that.
            raise ConfigError(
                f"bad PostgreSQL URL {self.display_url!r}: percent-encode '@' as %40 and "
                "'/' as %2F in the user name, password and database name"
            )
        pg = _psycopg()
        try:
            params = pg.conninfo.conninfo_to_dict(url)
        except pg.ProgrammingError:
            raise ConfigError(f"bad PostgreSQL URL {self.display_url!r}") from None
        self._secrets = sorted(
            {*url_secrets(url), *(str(v) for k, v in params.items() if "pass" in k and v)},
            key=len,
            reverse=True,
        )
        params.setdefault("connect_timeout", str(DEFAULT_CONNECT_TIMEOUT))
        params.setdefault("application_name", "mig load")
        params["client_encoding"] = "UTF8"
        self._params: dict[str, Any] = params
        self._conn: psycopg.Connection[Any] | None = None
        self._schema = "public"

    # -- connection -------------------------------------------------------------------
    def connect(self) -> None:
        """Connect; an unreachable server or refused credentials raise a one-line ConfigError."""
        pg = _psycopg()
        try:
            conn = pg.connect(autocommit=True, **self._params)
        except pg.Error as exc:
            raise ConfigError(
                f"{self.display_url}: cannot connect to PostgreSQL "
                f"({self._redact(_connect_reason(exc))})"
            ) from None
        self._conn = conn
        with self._errors():
            conn.execute("SET DateStyle = ISO, YMD")
            row = conn.execute("SELECT current_schema()").fetchone()
        if row is None or row[0] is None:
            raise ConfigError(
                f"{self.display_url}: no schema to create tables in (search_path is empty)"
            )
        self._schema = str(row[0])

    def begin(self) -> None:
        """Start the transaction and take the one-load-at-a-time advisory lock."""
        with self._errors():
            self._db.execute("BEGIN")
            row = self._db.execute("SELECT pg_try_advisory_xact_lock(%s)", (_ADVISORY_KEY,)).fetchone()
        if not row or not row[0]:
            raise ConfigError(
                f"{self.display_url}: another mig load into this database is in progress"
            )

    def commit(self) -> None:
        """Commit; a deferred constraint failing here rolls everything back."""
        with self._errors("COMMIT"):
            self._db.execute("COMMIT")

    def rollback(self) -> None:
        """Undo everything since :meth:`begin` (a no-op without an open transaction)."""
        if self._conn is None or self._conn.closed:
            return
        with contextlib.suppress(Exception):
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back by the server)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    # -- tables -----------------------------------------------------------------------
    def _name(self, table: str) -> str:
        return f"{Dialect.quote(self._schema)}.{Dialect.quote(table)}"

    def table_exists(self, table: str) -> bool:
        """Whether ``table`` exists in the current schema."""
        with self._errors():
            row = self._db.execute(
                "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s "
                "AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
                (self._schema, table),
            ).fetchone()
        return row is not None

    def table_shape(self, table: str) -> tuple[ColumnShape, ...]:
        """Columns of ``table``: name, canonical type, NOT NULL, primary-key position."""
        with self._errors():
            rows = self._db.execute(
                "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                "COALESCE((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                "WHERE k.attnum = a.attnum), 0) "
                "FROM pg_catalog.pg_attribute a "
                "LEFT JOIN pg_catalog.pg_index i ON i.indrelid = a.attrelid AND i.indisprimary "
                "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attnum",
                (self._name(table),),
            ).fetchall()
        return tuple(
            ColumnShape(str(name), canonical_type(str(kind)), bool(not_null), int(pk))
            for name, kind, not_null, pk in rows
        )

    def canonical_type(self, sql_type: str) -> str:
        """See :func:`canonical_type`."""
        return canonical_type(sql_type)

    def create_table(self, ddl: str) -> None:
        """Run a ``CREATE TABLE`` from :func:`mig.load.ddl.ddl_for` (in the current schema)."""
        with self._errors():
            self._db.execute(ddl)

    def drop_table(self, table: str) -> None:
        """Drop ``table`` (fails, rolling back, if views or foreign keys depend on it)."""
        with self._errors(table):
            self._db.execute(f"DROP TABLE {self._name(table)}")

    def truncate_tables(self, tables: Sequence[str]) -> None:
        """Empty ``tables`` with one transactional ``TRUNCATE``; the tables themselves stay."""
        if tables:
            with self._errors(", ".join(tables)):
                self._db.execute(f"TRUNCATE {', '.join(self._name(t) for t in tables)}")

    def count_rows(self, table: str) -> int:
        """Rows now in ``table`` (as this transaction sees it)."""
        with self._errors(table):
            row = self._db.execute(f"SELECT count(*) FROM {self._name(table)}").fetchone()
        return int(row[0]) if row else 0

    # -- the run ledger ---------------------------------------------------------------
    def loaded_run(self, table: str) -> str | None:
        """The run id recorded for ``table`` in ``mig_loads``, None if none is."""
        if not self.table_exists(LEDGER_TABLE):
            return None
        with self._errors():
            row = self._db.execute(
                f"SELECT run_id FROM {self._name(LEDGER_TABLE)} WHERE table_name = %s", (table,)
            ).fetchone()
        return None if row is None else str(row[0])

    def record_load(
        self, table: str, layout: str, run_id: str, rows_loaded: int, rows_rejected: int
    ) -> None:
        """Upsert ``table``'s row of ``mig_loads`` (creating the ledger on first use)."""
        ledger = self._name(LEDGER_TABLE)
        with self._errors(LEDGER_TABLE):
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {ledger} ("
                "table_name text PRIMARY KEY, layout text NOT NULL, run_id text NOT NULL, "
                "rows_loaded bigint NOT NULL, rows_rejected bigint NOT NULL, "
                "tool_version text NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())"
            )
            self._db.execute(
                f"INSERT INTO {ledger} (table_name, layout, run_id, rows_loaded, rows_rejected, "
                "tool_version) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (table_name) DO UPDATE "
                "SET layout = EXCLUDED.layout, run_id = EXCLUDED.run_id, "
                "rows_loaded = EXCLUDED.rows_loaded, rows_rejected = EXCLUDED.rows_rejected, "
                "tool_version = EXCLUDED.tool_version, loaded_at = now()",
                (table, layout, run_id, rows_loaded, rows_rejected, __version__),
            )

    # -- data -------------------------------------------------------------------------
    def _copy_sql(self, table: str, columns: Sequence[Column], options: str = "FORMAT csv") -> str:
        names = ", ".join(Dialect.quote(c.name) for c in columns)
        return f"COPY {self._name(table)} ({names}) FROM STDIN ({options})"

    def encode_batch(self, batch: pa.RecordBatch) -> object:
        """The CSV that :meth:`try_batch` streams to COPY (:func:`csv_for_copy`)."""
        return csv_for_copy(batch)

    def encode_stream(self, batch: pa.RecordBatch, columns: Sequence[Column]) -> object:
        """What :meth:`try_stream` sends for ``batch`` (:func:`encode_for_stream`)."""
        return encode_for_stream(batch, columns)

    def try_batch(
        self,
        table: str,
        columns: Sequence[Column],
        batch: pa.RecordBatch,
        encoded: object | None = None,
    ) -> RowError | None:
        """COPY ``batch`` in a savepoint; a row-level refusal rolls back to it and is returned."""
        data = encoded if isinstance(encoded, pa.Buffer) else csv_for_copy(batch)
        pg = _psycopg()
        db = self._db
        with self._errors(table):
            db.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            with db.cursor() as cursor, cursor.copy(self._copy_sql(table, columns)) as copy:
                view = memoryview(data)
                for start in range(0, len(view), COPY_CHUNK_BYTES):
                    copy.write(view[start : start + COPY_CHUNK_BYTES])
        except pg.Error as exc:
            return self._row_error(exc, table, _SAVEPOINT)
        with self._errors(table):
            db.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        return None

    def _give_up(self, exc: _GiveUp, table: str, savepoint: str) -> RowError:
        """The stream met a value without a binary form: undo the attempt to ``savepoint``."""
        with self._errors(table):
            self._db.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
            self._db.execute(f"RELEASE SAVEPOINT {savepoint}")
        return RowError(sqlstate="22000", constraint=None, column=None, message=str(exc))

    def _row_error(self, exc: Exception, table: str, savepoint: str) -> RowError:
        """A row-level refusal undone to ``savepoint``; any other failure raised (fatal)."""
        sqlstate = getattr(exc, "sqlstate", None) or ""
        if not sqlstate.startswith(ROW_ERROR_CLASSES):
            raise self._fatal(exc, table) from None
        diag = getattr(exc, "diag")  # noqa: B009 - a psycopg.Error always has it
        with self._errors(table):
            self._db.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
            self._db.execute(f"RELEASE SAVEPOINT {savepoint}")
        return RowError(
            sqlstate=sqlstate,
            constraint=diag.constraint_name,
            column=diag.column_name,
            message=diag.message_primary or "",
            detail=diag.message_detail,
            context=diag.context,
        )

    def try_stream(
        self,
        table: str,
        columns: Sequence[Column],
        encoded: Iterable[object],
        create_ddl: str | None = None,
    ) -> int | RowError:
        """The whole table as one ``COPY`` in one savepoint; the server's row count back.

        ``encoded`` are :meth:`encode_stream`'s batches: binary COPY when the first is
        binary, CSV otherwise. A batch that has no binary form gives the attempt up (undone
        like a refused row, so the caller loads the table as CSV, where the server judges it).
        With ``create_ddl`` (a table this load creates) the table is created inside the
        savepoint without its primary key, filled with ``COPY … FREEZE`` (rows written
        already frozen: no second write of every page by the first VACUUM, allowed because
        the table is new in this subtransaction) and the key is built once at the end — one
        sort instead of a B-tree insert per row. A duplicate key or any row-level refusal
        rolls the savepoint back, table included, and is returned for the caller to isolate.
        """
        pg = _psycopg()
        db = self._db
        with self._errors(table):
            db.execute(f"SAVEPOINT {_STREAM_SAVEPOINT}")
        keys = sorted((c for c in columns if c.pk), key=lambda c: c.pk)
        try:
            with db.cursor() as cursor:
                if create_ddl is not None:
                    cursor.execute(create_ddl)
                binary, items = _opened(encoded)
                options = "FORMAT binary" if binary else "FORMAT csv"
                if create_ddl is not None:
                    options += ", FREEZE"
                with cursor.copy(self._copy_sql(table, columns, options)) as copy:
                    _send(copy, binary, items)
                written = cursor.rowcount
                if create_ddl is not None and keys:
                    key = ", ".join(Dialect.quote(c.name) for c in keys)
                    cursor.execute(f"ALTER TABLE {self._name(table)} ADD PRIMARY KEY ({key})")
        except pg.Error as exc:
            return self._row_error(exc, table, _STREAM_SAVEPOINT)
        except _GiveUp as exc:
            return self._give_up(exc, table, _STREAM_SAVEPOINT)
        with self._errors(table):
            db.execute(f"RELEASE SAVEPOINT {_STREAM_SAVEPOINT}")
        return int(written)

    def write_batches(
        self,
        table: str,
        columns: Sequence[Column],
        batches: Iterable[pa.RecordBatch],
        progress: Progress | None = None,
    ) -> int:
        """COPY every batch; any refused batch aborts (``load_run`` isolates rows instead)."""
        written = 0
        for batch in batches:
            error = self.try_batch(table, columns, batch)
            if error is not None:
                what = f"constraint {error.constraint}" if error.constraint else "the column types"
                raise MigError(
                    f"table {table}: rows violate {what} (SQLSTATE {error.sqlstate})"
                )
            written += batch.num_rows
            if progress is not None:
                progress(batch.num_rows)
        return written

    # -- parallel load: staging tables (mig.load.parallel) ---------------------------------
    def staging_name(self, run_id: str, index: int) -> str:
        """``mig_staging_<first 12 hex of the run id>_<index>`` (well under 63 bytes)."""
        return f"{STAGING_PREFIX}{run_id[:12]}_{index}"

    def _side(self) -> psycopg.Connection[Any]:
        """Another autocommit connection to the same database and schema."""
        pg = _psycopg()
        try:
            conn: psycopg.Connection[Any] = pg.connect(autocommit=True, **self._params)
        except pg.Error as exc:
            raise ConfigError(
                f"{self.display_url}: cannot connect to PostgreSQL "
                f"({self._redact(_connect_reason(exc))})"
            ) from None
        with self._errors():
            conn.execute("SET DateStyle = ISO, YMD")
            conn.execute("SELECT pg_catalog.set_config('search_path', %s, false)",
                         (Dialect.quote(self._schema),))
        return conn

    def create_staging(self, tables: Sequence[tuple[str, str]]) -> None:
        """Drop leftover staging tables (named and commented as mig's), create ``tables``."""
        conn = self._side()
        try:
            with self._errors("staging"):
                stale = conn.execute(
                    "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r' "
                    "AND starts_with(c.relname, %s) "
                    "AND pg_catalog.obj_description(c.oid, 'pg_class') = %s",
                    (self._schema, STAGING_PREFIX, STAGING_COMMENT),
                ).fetchall()
                for (name,) in stale:
                    conn.execute(f"DROP TABLE IF EXISTS {self._name(str(name))}")
                for name, ddl in tables:
                    conn.execute(ddl)
                    conn.execute(f"COMMENT ON TABLE {self._name(name)} IS '{STAGING_COMMENT}'")
        finally:
            conn.close()

    def staging_session(self) -> PostgresStagingSession:
        """A connection of its own for one worker of a parallel load."""
        return PostgresStagingSession(self, self._side())

    def adopt_staging(
        self, staging: str, table: str, columns: Sequence[Column], create: bool
    ) -> int | RowError:
        """Rename ``staging`` to ``table`` and build the key, or insert its rows and drop it
        — in a savepoint of the load's transaction (see :class:`~mig.load.targets.StagingTarget`)."""
        pg = _psycopg()
        db = self._db
        with self._errors(table):
            db.execute(f"SAVEPOINT {_STREAM_SAVEPOINT}")
        keys = sorted((c for c in columns if c.pk), key=lambda c: c.pk)
        names = ", ".join(Dialect.quote(c.name) for c in columns)
        try:
            with db.cursor() as cursor:
                if create:
                    cursor.execute(f"SELECT count(*) FROM {self._name(staging)}")
                    row = cursor.fetchone()
                    moved = int(row[0]) if row else 0
                    cursor.execute(
                        f"ALTER TABLE {self._name(staging)} RENAME TO {Dialect.quote(table)}"
                    )
                    cursor.execute(f"COMMENT ON TABLE {self._name(table)} IS NULL")
                    if keys:
                        key = ", ".join(Dialect.quote(c.name) for c in keys)
                        cursor.execute(f"ALTER TABLE {self._name(table)} ADD PRIMARY KEY ({key})")
                else:
                    cursor.execute(
                        f"INSERT INTO {self._name(table)} ({names}) "
                        f"SELECT {names} FROM {self._name(staging)}"
                    )
                    moved = int(cursor.rowcount)
                    cursor.execute(f"DROP TABLE {self._name(staging)}")
        except pg.Error as exc:
            return self._row_error(exc, table, _STREAM_SAVEPOINT)
        with self._errors(table):
            db.execute(f"RELEASE SAVEPOINT {_STREAM_SAVEPOINT}")
        return moved

    def drop_staging(self, names: Sequence[str]) -> None:
        """Drop what is left of ``names`` (best effort: a load that cannot reach the server
        leaves them to the next load, which drops them first)."""
        if not names:
            return
        with contextlib.suppress(MigError, Exception):
            conn = self._side()
            try:
                for name in names:
                    with contextlib.suppress(Exception):
                        conn.execute(f"DROP TABLE IF EXISTS {self._name(name)}")
            finally:
                conn.close()

    # -- helpers ----------------------------------------------------------------------
    @property
    def _db(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise MigError(f"{self.display_url}: PostgreSQL target used before connect()")
        conn: psycopg.Connection[Any] = self._conn
        return conn

    def _redact(self, text: str) -> str:
        """``text`` (a driver or server message) with the URL's credentials masked."""
        return redact_text(text, self._secrets)

    def _fatal(self, exc: Exception, where: str | None = None) -> MigError:
        """A one-line error without the server's value-quoting parts (detail, context)."""
        sqlstate = getattr(exc, "sqlstate", None)
        diag = getattr(exc, "diag", None)
        primary = getattr(diag, "message_primary", None) if diag is not None else None
        place = f"{self.display_url}" + (f", {where}" if where else "")
        if sqlstate is None or sqlstate.startswith("08") or primary is None:
            reason = self._redact(_first_line(str(exc))) or type(exc).__name__
            return MigError(f"{place}: lost the connection to PostgreSQL ({reason}); nothing was loaded")
        if sqlstate.startswith(ROW_ERROR_CLASSES):
            constraint = getattr(diag, "constraint_name", None)
            what = f"constraint {constraint}" if constraint else "a data rule"
            return MigError(f"{place}: rows violate {what} (SQLSTATE {sqlstate}); nothing was loaded")
        error = MigError(
            f"{place}: PostgreSQL error {sqlstate}: {self._redact(primary)}; nothing was loaded"
        )
        if sqlstate.startswith("42"):  # permissions, missing objects: the user's setup
            error = ConfigError(str(error))
        return error

    @contextlib.contextmanager
    def _errors(self, where: str | None = None) -> Iterator[None]:
        pg = _psycopg()
        try:
            yield
        except pg.Error as exc:
            raise self._fatal(exc, where) from None


class PostgresStagingSession:
    """One worker connection of a parallel load (:class:`~mig.load.targets.StagingSession`)."""

    def __init__(self, target: PostgresTarget, conn: psycopg.Connection[Any]) -> None:
        self._target = target
        self._conn = conn

    def copy_part(
        self, staging: str, columns: Sequence[Column], encoded: Iterable[object]
    ) -> int | RowError:
        """COPY into ``staging`` in one transaction of this connection, committed at the end."""
        pg = _psycopg()
        target = self._target
        try:
            with self._conn.transaction(), self._conn.cursor() as cursor:
                binary, items = _opened(encoded)
                options = "FORMAT binary" if binary else "FORMAT csv"
                with cursor.copy(target._copy_sql(staging, columns, options)) as copy:
                    _send(copy, binary, items)
                written = int(cursor.rowcount)
        except _GiveUp as exc:  # the transaction of the part is rolled back already
            return RowError(sqlstate="22000", constraint=None, column=None, message=str(exc))
        except pg.Error as exc:
            sqlstate = getattr(exc, "sqlstate", None) or ""
            if not sqlstate.startswith(ROW_ERROR_CLASSES):
                raise target._fatal(exc, staging) from None
            diag = getattr(exc, "diag")  # noqa: B009 - a psycopg.Error always has it
            return RowError(
                sqlstate=sqlstate,
                constraint=diag.constraint_name,
                column=diag.column_name,
                message=diag.message_primary or "",
                detail=diag.message_detail,
                context=diag.context,
            )
        return written

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line
    return ""


def _connect_reason(exc: Exception) -> str:
    """The gist of a libpq connection failure, one line, no passwords."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reasons = []
    for line in lines:
        # 'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused'
        gist = line.rsplit("failed:", 1)[-1].strip() if "failed:" in line else line
        if gist.lower().startswith("is the server running"):
            continue
        if gist and gist not in reasons:
            reasons.append(gist)
    return "; ".join(reasons)[:300] or type(exc).__name__

