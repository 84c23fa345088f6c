"""Table definitions from a manifest's items, per SQL dialect.

A dialect maps an item (data type, length, scale, whether a 日付 may be 不詳) to a column
type; everything else — table name, quoting, NOT NULL, PRIMARY KEY — is shared. Add a
dialect with :func:`register_dialect`.

Built in: ``sqlite``, ``duckdb``, ``postgresql``, ``oracle`` and ``sqlserver``. The type
choices keep every value exactly as the intermediate file holds it:

- 数値 becomes an exact decimal (``numeric(p,s)``, ``DECIMAL``, ``NUMBER``) — never a float;
  more digits than the database's decimal holds stay text.
- 日付 becomes ``DATE`` only when the layout says it is never 不詳; a 日付 that may carry
  ``00`` for an unknown day or month stays 8-character text, so the 不詳 is kept, not
  invented. 年月 stays 6-character text.
- 数字 and コード keep leading zeros as text of the item's length.
- The layout counts a variation sequence (base + IVS selector) as one character, and a
  database counts code points (or UTF-16 units), so 全角文字 / 混在文字 columns are sized
  for the worst case of the layout's length, or unbounded text; mig has checked the
  layout's own length before anything is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mig.errors import ConfigError, UnknownNameError
from mig.run.manifest import ManifestTable, parse_table


@dataclass(frozen=True)
class ItemSpec:
    """What a dialect needs to know of an item to choose its column type."""

    data_type: str
    """The layout's data type (全角文字, 半角文字, 混在文字, 数字, 数値, 日付, 年月, コード)."""
    length: int
    """Characters (数値: digits)."""
    scale: int = 0
    """Digits after the decimal point (数値)."""
    unknown: str = "none"
    """For 日付: which parts may be 不詳 (``none``, ``day``, ``month``)."""

    @property
    def exact_date(self) -> bool:
        """A 日付 that is always a real calendar date (never 不詳)."""
        return self.data_type == "日付" and self.unknown == "none"

    @property
    def may_hold_ivs(self) -> bool:
        """Text whose characters may be variation sequences (two code points each)."""
        return self.data_type in ("全角文字", "混在文字")


ColumnType = Callable[[ItemSpec], str]
"""``item -> SQL column type``."""


@dataclass(frozen=True)
class ColumnShape:
    """What makes two tables the same shape: per column, in order."""

    name: str
    sql_type: str
    not_null: bool
    pk: int
    """1-based position in the primary key; 0 when not part of it."""


@dataclass(frozen=True)
class Column:
    """One column of a target table, with the item it comes from."""

    name: str
    data_type: str
    length: int
    scale: int
    sql_type: str
    not_null: bool
    pk: int
    unknown: str = "none"
    """For 日付: which parts may be 不詳 (``none``, ``day``, ``month``)."""

    @property
    def spec(self) -> ItemSpec:
        """The item facts the column type was chosen from."""
        return ItemSpec(self.data_type, self.length, self.scale, self.unknown)

    @property
    def shape(self) -> ColumnShape:
        """The part of the column that a table comparison looks at."""
        return ColumnShape(self.name, self.sql_type.upper(), self.not_null, self.pk)


@dataclass(frozen=True)
class Dialect:
    """How one database family spells columns."""

    name: str
    column_type: ColumnType

    @staticmethod
    def quote(identifier: str) -> str:
        """Quote an identifier the SQL-standard way (``"..."``, inner quotes doubled).

        Right for PostgreSQL, SQLite, DuckDB and SQL Server (``QUOTED_IDENTIFIER ON``:
        ``sqlcmd -I``). Oracle cannot hold a ``"`` in any identifier: see
        :func:`identifier_problem`.
        """
        return '"' + identifier.replace('"', '""') + '"'


SQLITE_INTEGER_DIGITS = 18
"""数値 items with scale 0 and at most this many digits fit a 64-bit INTEGER."""

DECIMAL_DIGITS = 38
"""The most digits of an exact decimal in DuckDB, Oracle and SQL Server."""


def _sqlite_type(item: ItemSpec) -> str:
    # 数値 with a scale stays TEXT holding the exact decimal string: never REAL.
    # 数字 (digit strings) keep their leading zeros as TEXT. SQLite has no DATE type.
    if item.data_type == "数値" and item.scale == 0 and item.length <= SQLITE_INTEGER_DIGITS:
        return "INTEGER"
    return "TEXT"


def _postgresql_type(item: ItemSpec) -> str:
    # numeric(p,s) holds up to 1000 digits; varchar(n) counts code points.
    if item.data_type == "数値":
        return f"numeric({max(item.length, 1)},{item.scale})"
    if item.exact_date:
        return "date"
    if item.may_hold_ivs:
        return "text"
    return f"varchar({max(item.length, 1)})"


def _duckdb_type(item: ItemSpec) -> str:
    if item.data_type == "数値" and item.length <= DECIMAL_DIGITS:
        return f"DECIMAL({max(item.length, 1)},{item.scale})"
    if item.exact_date:
        return "DATE"
    return "VARCHAR"


ORACLE_VARCHAR2_CHARS = 4000
"""Beyond this a text column is a CLOB (VARCHAR2 at the default MAX_STRING_SIZE)."""


def _oracle_type(item: ItemSpec) -> str:
    # CHAR length semantics in an AL32UTF8 database: a supplementary character is one.
    if item.data_type == "数値" and item.length <= DECIMAL_DIGITS:
        return f"NUMBER({max(item.length, 1)},{item.scale})"
    if item.exact_date:
        return "DATE"
    chars = max(item.length, 1) * (2 if item.may_hold_ivs else 1)
    if item.data_type == "数値":
        chars = item.length + 2  # sign and decimal point
    return f"VARCHAR2({chars} CHAR)" if chars <= ORACLE_VARCHAR2_CHARS else "CLOB"


SQLSERVER_NVARCHAR_UNITS = 4000
"""Beyond this a text column is NVARCHAR(MAX)."""


def _sqlserver_type(item: ItemSpec) -> str:
    # NVARCHAR(n) counts UTF-16 units: a variation selector or an Ext-B kanji takes two, so
    # a base + IVS pair can take four; 半角文字 are all in the BMP.
    if item.data_type == "数値" and item.length <= DECIMAL_DIGITS:
        return f"DECIMAL({max(item.length, 1)},{item.scale})"
    if item.exact_date:
        return "DATE"
    if item.data_type in ("数字", "コード", "年月", "日付", "数値"):
        width = item.length + (2 if item.data_type == "数値" else 0)
        return f"VARCHAR({max(width, 1)})"
    units = max(item.length, 1) * (4 if item.may_hold_ivs else 1)
    return f"NVARCHAR({units})" if units <= SQLSERVER_NVARCHAR_UNITS else "NVARCHAR(MAX)"


_DIALECTS: dict[str, Dialect] = {}


def register_dialect(dialect: Dialect) -> None:
    """Make ``dialect`` available to :func:`ddl_for` under its name (replacing any)."""
    _DIALECTS[dialect.name] = dialect


def get_dialect(name: str) -> Dialect:
    """The dialect called ``name``; an unknown name lists the known ones."""
    try:
        return _DIALECTS[name]
    except KeyError:
        raise UnknownNameError("SQL dialect", name, _DIALECTS) from None


register_dialect(Dialect("sqlite", _sqlite_type))
register_dialect(Dialect("duckdb", _duckdb_type))
register_dialect(Dialect("postgresql", _postgresql_type))
register_dialect(Dialect("oracle", _oracle_type))
register_dialect(Dialect("sqlserver", _sqlserver_type))


def known_dialects() -> list[str]:
    """The registered dialect names, sorted.

    >>> known_dialects()
    ['duckdb', 'oracle', 'postgresql', 'sqlite', 'sqlserver']
    """
    return sorted(_DIALECTS)


def identifier_problem(identifier: str, dialect: str) -> str | None:
    """Why ``identifier`` cannot be a quoted identifier in ``dialect`` (None when it can).

    Control characters never reach here (:func:`mig.layout.name_problem` refuses them when
    a layout or manifest is read); Oracle has no escape for ``"`` inside ``"…"``.

    >>> print(identifier_problem('名 "x"', "oracle"))
    holds '"', which an Oracle identifier cannot hold
    >>> identifier_problem('名 "x"', "postgresql") is None
    True
    """
    if dialect == "oracle" and '"' in identifier:
        return "holds '\"', which an Oracle identifier cannot hold"
    return None


def table_name(layout_id: str) -> str:
    """The table a layout loads into: its id with ``-`` turned into ``_``.

    >>> table_name("juki-jumin")
    'juki_jumin'
    """
    return layout_id.replace("-", "_")


def columns_for(file_entry: ManifestTable | Mapping[str, Any], dialect: str) -> tuple[Column, ...]:
    """The columns of ``file_entry``'s table in ``dialect``, in item order.

    ``file_entry`` is a typed manifest entry, or a ``files[]`` entry as JSON data (checked).
    """
    table = _table(file_entry)
    mapper = get_dialect(dialect).column_type
    primary_key = table.primary_key
    columns = []
    for item in table.items:
        name = item.name
        spec = ItemSpec(
            data_type=item.type,
            length=item.length,
            scale=item.scale,
            # A manifest older than the "unknown" key does not say whether its 日付 may be
            # 不詳: keep such dates as text rather than refuse or invent a day.
            unknown=item.unknown or ("month" if item.type == "日付" else "none"),
        )
        pk = primary_key.index(name) + 1 if name in primary_key else 0
        columns.append(
            Column(
                name=name,
                data_type=spec.data_type,
                length=spec.length,
                scale=spec.scale,
                sql_type=mapper(spec),
                not_null=item.required or pk > 0,
                pk=pk,
                unknown=spec.unknown,
            )
        )
    return tuple(columns)


def ddl_for(
    file_entry: ManifestTable | Mapping[str, Any],
    dialect: str,
    *,
    primary_key: bool = True,
    name: str | None = None,
    unlogged: bool = False,
) -> str:
    """``CREATE TABLE`` for one manifest ``files[]`` entry in ``dialect``.

    Column names are the 項目名称, quoted; required and primary-key items are NOT NULL.
    ``primary_key=False`` leaves the ``PRIMARY KEY`` clause out (the key columns stay NOT
    NULL): a bulk load builds the key once after the rows are in. ``name`` replaces the
    table's name (a parallel load's staging table), ``unlogged`` makes it a PostgreSQL
    ``UNLOGGED`` table (no WAL: staging whose rows are copied on).

    >>> entry = {"layout": "juki-jumin", "primary_key": ["宛名番号"],
    ...          "items": [{"name": "宛名番号", "type": "数字", "length": 15, "required": True},
    ...                    {"name": "金額", "type": "数値", "length": 9, "scale": 2},
    ...                    {"name": "人数", "type": "数値", "length": 3, "scale": 0}]}
    >>> print(ddl_for(entry, "sqlite"))
    CREATE TABLE "juki_jumin" (
      "宛名番号" TEXT NOT NULL,
      "金額" TEXT,
      "人数" INTEGER,
      PRIMARY KEY ("宛名番号")
    )
    >>> entry["items"].append({"name": "生年月日", "type": "日付", "length": 8, "unknown": "day"})
    >>> print(ddl_for(entry, "postgresql"))
    CREATE TABLE "juki_jumin" (
      "宛名番号" varchar(15) NOT NULL,
      "金額" numeric(9,2),
      "人数" numeric(3,0),
      "生年月日" varchar(8),
      PRIMARY KEY ("宛名番号")
    )
    """
    quote = Dialect.quote
    table = _table(file_entry)
    columns = columns_for(table, dialect)
    for n, column in enumerate(columns, 1):
        if problem := identifier_problem(column.name, dialect):
            raise ConfigError(f"layout {table.layout}, items[{n}]: 'name' {problem}")
    lines = [f"  {quote(c.name)} {c.sql_type}{' NOT NULL' if c.not_null else ''}" for c in columns]
    keys = sorted((c for c in columns if c.pk), key=lambda c: c.pk)
    if keys and primary_key:
        lines.append(f"  PRIMARY KEY ({', '.join(quote(c.name) for c in keys)})")
    body = ",\n".join(lines)
    kind = "UNLOGGED TABLE" if unlogged else "TABLE"
    return f"CREATE {kind} {quote(name or table_name(table.layout))} (\n{body}\n)"


def _table(file_entry: ManifestTable | Mapping[str, Any]) -> ManifestTable:
    if isinstance(file_entry, ManifestTable):
        return file_entry
    return parse_table(file_entry, "manifest")
