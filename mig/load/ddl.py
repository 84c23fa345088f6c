"""Table definitions from a manifest's items, per SQL dialect.

A dialect maps an item (data type, length, scale) to a column type; everything else —
table name, quoting, NOT NULL, PRIMARY KEY — is shared. Add a dialect with
:func:`register_dialect`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mig.errors import UnknownNameError
from mig.load.manifest import check_table_entry

ColumnType = Callable[[str, int, int], str]
"""``(data_type, length, scale) -> SQL column type``."""


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
        """Quote an identifier the SQL-standard way (``"..."``, inner quotes doubled)."""
        return '"' + identifier.replace('"', '""') + '"'


SQLITE_INTEGER_DIGITS = 18
"""数値 items with scale 0 and at most this many digits fit a 64-bit INTEGER."""


def _sqlite_type(data_type: str, length: int, scale: int) -> str:
    # 数値 with a scale stays TEXT holding the exact decimal string: never REAL.
    # 数字 (digit strings) keep their leading zeros as TEXT.
    if data_type == "数値" and scale == 0 and length <= SQLITE_INTEGER_DIGITS:
        return "INTEGER"
    return "TEXT"


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


def table_name(layout_id: str) -> str:
    """The table a layout loads into: its id with ``-`` turned into ``_``.

    >>> table_name("juki-jumin")
    'juki_jumin'
    """
    return layout_id.replace("-", "_")


def columns_for(file_entry: dict[str, Any], dialect: str) -> tuple[Column, ...]:
    """The columns of ``file_entry``'s table in ``dialect``, in item order."""
    check_table_entry(file_entry, "manifest")
    mapper = get_dialect(dialect).column_type
    primary_key: list[str] = file_entry.get("primary_key", [])
    columns = []
    for item in file_entry["items"]:
        name: str = item["name"]
        scale: int = item.get("scale", 0)
        pk = primary_key.index(name) + 1 if name in primary_key else 0
        columns.append(
            Column(
                name=name,
                data_type=item["type"],
                length=item["length"],
                scale=scale,
                sql_type=mapper(item["type"], item["length"], scale),
                not_null=bool(item.get("required", False)) or pk > 0,
                pk=pk,
            )
        )
    return tuple(columns)


def ddl_for(file_entry: dict[str, Any], dialect: str) -> str:
    """``CREATE TABLE`` for one manifest ``files[]`` entry in ``dialect``.

    Column names are the 項目名称, quoted; required and primary-key items are NOT NULL.

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
    """
    quote = Dialect.quote
    columns = columns_for(file_entry, dialect)
    lines = [f"  {quote(c.name)} {c.sql_type}{' NOT NULL' if c.not_null else ''}" for c in columns]
    keys = sorted((c for c in columns if c.pk), key=lambda c: c.pk)
    if keys:
        lines.append(f"  PRIMARY KEY ({', '.join(quote(c.name) for c in keys)})")
    body = ",\n".join(lines)
    return f"CREATE TABLE {quote(table_name(file_entry['layout']))} (\n{body}\n)"
