"""The SQLite load target: ``sqlite:///relative.db`` or ``sqlite:////absolute/path.db``.

数値 with scale 0 (up to 18 digits) is bound as Python ``int``; every other column,
including 数値 with a scale, as the exact text Arrow gives (``"1234.50"``), never a float.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from mig.errors import ConfigError, MigError
from mig.load.ddl import Column, ColumnShape, Dialect
from mig.load.filedb import check_database_path, database_path, remove_database_files, sql_literal
from mig.load.targets import Progress, redact_url


def sqlite_path(url: str) -> str:
    """The database path of a ``sqlite:///`` URL (taken literally, not %-decoded).

    >>> sqlite_path("sqlite:///out/run.db")
    'out/run.db'
    >>> sqlite_path("sqlite:////var/lib/mig/run.db")
    '/var/lib/mig/run.db'
    """
    return database_path(url, "sqlite", "SQLite", ".db")


class SqliteTarget:
    """Loads into one SQLite database file, in one transaction.

    If this target created the file and the load is rolled back, :meth:`close` removes
    the file again, so a failed load leaves no empty database behind.
    """

    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        self.path = sqlite_path(url)
        self.display_url = redact_url(url)
        self._conn: sqlite3.Connection | None = None
        self._created = False
        self._rolled_back = False

    # -- connection -------------------------------------------------------------------
    def connect(self) -> None:
        """Open (creating if needed) the database file."""
        self._created = check_database_path(self.path, "SQLite")
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise ConfigError(f"{self.path}: cannot open SQLite database ({exc})") from None
        self._conn = conn
        with self._errors():
            # Touch the schema now so "not a database" is reported before any work.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def begin(self) -> None:
        """Start the load's transaction, taking the write lock at once."""
        with self._errors():
            self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit the load."""
        with self._errors():
            self._db.execute("COMMIT")

    def rollback(self) -> None:
        """Undo everything since :meth:`begin`."""
        if self._conn is not None and self._conn.in_transaction:
            self._rolled_back = True
            with self._errors():
                self._conn.execute("ROLLBACK")

    def close(self) -> None:
        """Close; remove the database file if this load created it and was rolled back."""
        if self._conn is None:
            return
        self._conn.close()
        self._conn = None
        if self._created and self._rolled_back:
            remove_database_files(self.path, ("-journal", "-wal", "-shm"))

    # -- tables -----------------------------------------------------------------------
    def table_exists(self, table: str) -> bool:
        """Whether a table called ``table`` exists."""
        with self._errors():
            row = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
        return row is not None

    def table_shape(self, table: str) -> tuple[ColumnShape, ...]:
        """Columns of ``table`` from ``PRAGMA table_info``."""
        with self._errors():
            rows = self._db.execute(
                f'SELECT name, type, "notnull", pk FROM pragma_table_info({sql_literal(table)})'
            ).fetchall()
        return tuple(
            ColumnShape(str(name), str(sql_type).upper(), bool(not_null), int(pk))
            for name, sql_type, not_null, pk in rows
        )

    def create_table(self, ddl: str) -> None:
        """Run ``ddl``."""
        with self._errors():
            self._db.execute(ddl)

    def drop_table(self, table: str) -> None:
        """Drop ``table``."""
        with self._errors():
            self._db.execute(f"DROP TABLE {Dialect.quote(table)}")

    def count_rows(self, table: str) -> int:
        """Rows now in ``table``."""
        with self._errors():
            (count,) = self._db.execute(f"SELECT count(*) FROM {Dialect.quote(table)}").fetchone()
        return int(count)

    def write_batches(
        self,
        table: str,
        columns: Sequence[Column],
        batches: Iterable[pa.RecordBatch],
        progress: Progress | None = None,
    ) -> int:
        """Insert each batch with one ``executemany``; returns rows written."""
        names = ", ".join(Dialect.quote(c.name) for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {Dialect.quote(table)} ({names}) VALUES ({marks})"
        arrow_types = [pa.int64() if c.sql_type == "INTEGER" else pa.string() for c in columns]
        written = 0
        for batch in batches:
            values = []
            for index, (column, arrow_type) in enumerate(zip(columns, arrow_types, strict=True)):
                try:
                    converted = pc.cast(batch.column(index), arrow_type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    # The Arrow message may quote a value: keep it out.
                    raise MigError(
                        f"table {table}, column {column.name}: values cannot be converted "
                        f"to {column.sql_type}"
                    ) from None
                values.append(converted.to_pylist())
            with self._errors(table):
                self._db.executemany(sql, zip(*values, strict=True))
            written += batch.num_rows
            if progress is not None:
                progress(batch.num_rows)
        return written

    # -- helpers ----------------------------------------------------------------------
    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise MigError(f"{self.path}: SQLite target used before connect()")
        return self._conn

    @contextlib.contextmanager
    def _errors(self, table: str | None = None) -> Iterator[None]:
        """Turn sqlite3 errors into one-line mig errors (SQLite messages hold no values)."""
        try:
            yield
        except sqlite3.IntegrityError as exc:
            where = f"table {table}" if table else self.path
            raise MigError(f"{where}: rows violate a constraint ({exc})") from None
        except sqlite3.Error as exc:
            raise ConfigError(f"{self.path}: SQLite error ({exc})") from None

