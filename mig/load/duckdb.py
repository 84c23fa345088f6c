"""The DuckDB load target: ``duckdb:///relative.duckdb`` or ``duckdb:////absolute.duckdb``.

Each Arrow record batch is registered with DuckDB and inserted with one
``INSERT INTO t SELECT … FROM batch`` — no Python loop per row. 数値 goes into
``DECIMAL(p,s)`` exactly (never a float), a 日付 that is never 不詳 into ``DATE`` (parsed
from ``YYYYMMDD`` by DuckDB), everything else into ``VARCHAR`` as the intermediate file
holds it, IVS included. The column types come from the ``duckdb`` dialect of
:mod:`mig.load.ddl`.

DuckDB's error messages can quote the offending value (``duplicate key "…"``), so they
are never passed on: a failed insert is reported by table, column and count.

The ``duckdb`` package is optional (``pip install 'mig[duckdb]'``): it is imported when a
DuckDB target connects, so ``mig`` works without it.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterable, Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING

import pyarrow as pa

from mig.errors import ConfigError, MigError
from mig.load.ddl import Column, ColumnShape, Dialect
from mig.load.filedb import check_database_path, database_path, remove_database_files, sql_literal
from mig.load.targets import Progress, redact_url

if TYPE_CHECKING:
    import duckdb

_BATCH_VIEW = "mig_load_batch"
DATE_FORMAT = "%Y%m%d"
"""How a 日付 is written in the intermediate files (``strptime`` format)."""


def duckdb_path(url: str) -> str:
    """The database path of a ``duckdb:///`` URL (taken literally, not %-decoded).

    >>> duckdb_path("duckdb:///out/run.duckdb")
    'out/run.duckdb'
    >>> duckdb_path("duckdb:////var/lib/mig/run.duckdb")
    '/var/lib/mig/run.duckdb'
    """
    return database_path(url, "duckdb", "DuckDB", ".duckdb")


def duckdb_module() -> ModuleType:
    """The ``duckdb`` package; a missing one is a one-line ConfigError naming the extra."""
    try:
        return importlib.import_module("duckdb")
    except ImportError:
        raise ConfigError(
            "duckdb:// targets need the duckdb package: pip install 'mig[duckdb]'"
        ) from None


def select_expression(column: Column) -> str:
    """The ``SELECT`` expression that turns a batch column into ``column``'s type.

    >>> from mig.load.ddl import Column
    >>> select_expression(Column("生年月日", "日付", 8, 0, "DATE", False, 0))
    'CAST(strptime("生年月日", \\'%Y%m%d\\') AS DATE)'
    >>> select_expression(Column("金額", "数値", 11, 2, "DECIMAL(11,2)", False, 0))
    'CAST("金額" AS DECIMAL(11,2))'
    """
    name = Dialect.quote(column.name)
    if column.sql_type.upper() == "DATE":
        return f"CAST(strptime({name}, {sql_literal(DATE_FORMAT)}) AS DATE)"
    return f"CAST({name} AS {column.sql_type})"


def _failures_expression(column: Column) -> str:
    """Counts the batch values that would not convert to ``column``'s type."""
    name = Dialect.quote(column.name)
    if column.sql_type.upper() == "DATE":
        converted = f"try_strptime({name}, {sql_literal(DATE_FORMAT)})"
    else:
        converted = f"TRY_CAST({name} AS {column.sql_type})"
    return f"count(*) FILTER (WHERE {name} IS NOT NULL AND {converted} IS NULL)"


class DuckdbTarget:
    """Loads into one DuckDB database file, in one transaction.

    If this target created the file and the load is rolled back, :meth:`close` removes
    the file (and its WAL) again, so a failed load leaves no empty database behind.
    """

    dialect = "duckdb"

    def __init__(self, url: str) -> None:
        self.path = duckdb_path(url)
        self.display_url = redact_url(url)
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._created = False
        self._rolled_back = False
        self._in_transaction = False

    # -- connection -------------------------------------------------------------------
    def connect(self) -> None:
        """Open (creating if needed) the database file."""
        self._created = check_database_path(self.path, "DuckDB")
        ddb = duckdb_module()
        try:
            self._conn = ddb.connect(self.path)
        except ddb.Error as exc:
            self._remove_created()
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(f"{self.path}: cannot open DuckDB database ({first})") from None

    def begin(self) -> None:
        """Start the load's transaction."""
        with self._errors():
            self._db.execute("BEGIN TRANSACTION")
        self._in_transaction = True

    def commit(self) -> None:
        """Commit the load."""
        with self._errors():
            self._db.execute("COMMIT")
        self._in_transaction = False

    def rollback(self) -> None:
        """Undo everything since :meth:`begin`."""
        if self._conn is not None and self._in_transaction:
            self._rolled_back = True
            self._in_transaction = False
            with self._errors():
                self._conn.execute("ROLLBACK")

    def close(self) -> None:
        """Close; remove the database file if this load created it and was rolled back."""
        if self._conn is None:
            return
        self._conn.close()
        self._conn = None
        if self._rolled_back:
            self._remove_created()

    def _remove_created(self) -> None:
        if self._created:
            remove_database_files(self.path, (".wal",))

    # -- tables -----------------------------------------------------------------------
    def table_exists(self, table: str) -> bool:
        """Whether a table called ``table`` exists in the current schema."""
        with self._errors():
            rows = self._db.execute(
                "SELECT 1 FROM duckdb_tables() WHERE schema_name = current_schema() "
                "AND database_name = current_database() AND table_name = ?",
                [table],
            ).fetchall()
        return bool(rows)

    def table_shape(self, table: str) -> tuple[ColumnShape, ...]:
        """Columns of ``table`` from ``duckdb_columns()`` and its primary key."""
        with self._errors():
            rows = self._db.execute(
                "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
                "WHERE schema_name = current_schema() AND database_name = current_database() "
                "AND table_name = ? ORDER BY column_index",
                [table],
            ).fetchall()
            keys = self._db.execute(
                "SELECT constraint_column_names FROM duckdb_constraints() "
                "WHERE schema_name = current_schema() AND database_name = current_database() "
                "AND table_name = ? AND constraint_type = 'PRIMARY KEY'",
                [table],
            ).fetchall()
        primary_key: list[str] = list(keys[0][0]) if keys else []
        return tuple(
            ColumnShape(
                str(name),
                str(sql_type).upper(),
                not nullable,
                primary_key.index(name) + 1 if name in primary_key else 0,
            )
            for name, sql_type, nullable in rows
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
            rows = self._db.execute(f"SELECT count(*) FROM {Dialect.quote(table)}").fetchall()
        return int(rows[0][0])

    def write_batches(
        self,
        table: str,
        columns: Sequence[Column],
        batches: Iterable[pa.RecordBatch],
        progress: Progress | None = None,
    ) -> int:
        """Insert each batch with one ``INSERT … SELECT`` over the registered batch."""
        names = ", ".join(Dialect.quote(c.name) for c in columns)
        selects = ", ".join(select_expression(c) for c in columns)
        sql = (
            f"INSERT INTO {Dialect.quote(table)} ({names}) "
            f"SELECT {selects} FROM {_BATCH_VIEW}"
        )
        ddb = duckdb_module()
        written = 0
        for batch in batches:
            db = self._db
            db.register(_BATCH_VIEW, batch)
            try:
                db.execute(sql)
            except ddb.ConstraintException:
                raise MigError(
                    f"table {table}: rows violate a constraint (primary key or NOT NULL)"
                ) from None
            except ddb.Error:
                raise MigError(self._why_batch_failed(table, columns, batch)) from None
            finally:
                with contextlib.suppress(ddb.Error):
                    db.unregister(_BATCH_VIEW)
            written += batch.num_rows
            if progress is not None:
                progress(batch.num_rows)
        return written

    def _why_batch_failed(
        self, table: str, columns: Sequence[Column], batch: pa.RecordBatch
    ) -> str:
        """Name the columns whose values do not convert, with counts (never values).

        The failed statement aborted the transaction, so it is rolled back first (the
        load is lost anyway) and the batch registered again outside it.
        """
        checked = [c for c in columns if c.sql_type.upper() != "VARCHAR"]
        message = f"table {table}: the batch could not be inserted"
        if not checked or self._conn is None:
            return message
        with contextlib.suppress(duckdb_module().Error):
            self._conn.execute("ROLLBACK")
            self._in_transaction = False
            self._rolled_back = True
            self._conn.register(_BATCH_VIEW, batch)
            (row,) = self._conn.execute(
                f"SELECT {', '.join(_failures_expression(c) for c in checked)} FROM {_BATCH_VIEW}"
            ).fetchall()
            bad = [
                f"{c.name} ({n} value(s) not {c.sql_type})"
                for c, n in zip(checked, row, strict=True)
                if n
            ]
            if bad:
                return f"table {table}: values cannot be converted: {', '.join(bad)}"
        return message

    # -- helpers ----------------------------------------------------------------------
    @property
    def _db(self) -> duckdb.DuckDBPyConnection:
        if self._conn is None:
            raise MigError(f"{self.path}: DuckDB target used before connect()")
        return self._conn

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn DuckDB errors of schema statements into one-line mig errors."""
        ddb = duckdb_module()
        try:
            yield
        except ddb.Error as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(f"{self.path}: DuckDB error ({first})") from None

