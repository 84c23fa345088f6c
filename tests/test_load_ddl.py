"""Column types per SQL dialect: exact numbers, 不詳 dates kept as text, room for IVS."""

from __future__ import annotations

import duckdb
import pytest

from mig.errors import UnknownNameError
from mig.layout import get_layout
from mig.load.ddl import ItemSpec, columns_for, ddl_for, get_dialect, known_dialects

ENTRY = {
    "layout": "juki-test",
    "primary_key": ["宛名番号"],
    "items": [
        {"name": "宛名番号", "type": "数字", "length": 15, "required": True},
        {"name": "氏名", "type": "混在文字", "length": 60, "bytes": 120},
        {"name": "氏名カナ", "type": "半角文字", "length": 30},
        {"name": "生年月日", "type": "日付", "length": 8, "unknown": "month"},
        {"name": "異動日", "type": "日付", "length": 8, "unknown": "none"},
        {"name": "届出年月", "type": "年月", "length": 6},
        {"name": "性別", "type": "コード", "length": 1},
        {"name": "税額", "type": "数値", "length": 11, "scale": 2},
        {"name": "巨大", "type": "数値", "length": 40, "scale": 0},
    ],
}

EXPECTED = {
    "postgresql": ["varchar(15)", "text", "varchar(30)", "varchar(8)", "date", "varchar(6)",
                   "varchar(1)", "numeric(11,2)", "numeric(40,0)"],
    "duckdb": ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "DATE", "VARCHAR", "VARCHAR",
               "DECIMAL(11,2)", "VARCHAR"],
    "oracle": ["VARCHAR2(15 CHAR)", "VARCHAR2(120 CHAR)", "VARCHAR2(30 CHAR)",
               "VARCHAR2(8 CHAR)", "DATE", "VARCHAR2(6 CHAR)", "VARCHAR2(1 CHAR)",
               "NUMBER(11,2)", "VARCHAR2(42 CHAR)"],
    "sqlserver": ["VARCHAR(15)", "NVARCHAR(240)", "NVARCHAR(30)", "VARCHAR(8)", "DATE",
                  "VARCHAR(6)", "VARCHAR(1)", "DECIMAL(11,2)", "VARCHAR(42)"],
    "sqlite": ["TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"],
}


def test_every_dialect_is_known() -> None:
    assert known_dialects() == sorted(EXPECTED)
    with pytest.raises(UnknownNameError, match="postgresql"):
        get_dialect("mysql")


@pytest.mark.parametrize("dialect", sorted(EXPECTED))
def test_column_types(dialect: str) -> None:
    types = [c.sql_type for c in columns_for(ENTRY, dialect)]
    assert types == EXPECTED[dialect]


def test_undated_birthdays_never_become_dates() -> None:
    # 日不詳 / 月日不詳 (DD=00, MMDD=0000) cannot be a DATE without inventing a day.
    for dialect in known_dialects():
        mapper = get_dialect(dialect).column_type
        for unknown in ("day", "month"):
            assert "DATE" not in mapper(ItemSpec("日付", 8, 0, unknown)).upper()


def test_numbers_are_never_floats() -> None:
    for dialect in known_dialects():
        ddl = ddl_for(ENTRY, dialect).upper()
        for word in ("REAL", "FLOAT", "DOUBLE"):
            assert word not in ddl


def test_duckdb_accepts_the_ddl_of_every_packaged_layout() -> None:
    con = duckdb.connect(":memory:")
    for layout_id in ("juki-jumin", "juki-setai", "juki-ido"):
        layout = get_layout(layout_id)
        entry = {
            "layout": layout.id,
            "primary_key": list(layout.primary_key),
            "items": [
                {"name": i.name, "type": i.type, "length": i.length, "scale": i.scale,
                 "unknown": i.unknown, "required": i.required}
                for i in layout.items
            ],
        }
        con.execute(ddl_for(entry, "duckdb"))
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert tables == {"juki_jumin", "juki_setai", "juki_ido"}


def test_a_manifest_without_unknown_keeps_its_dates_as_text() -> None:
    entry = {"layout": "old", "items": [{"name": "生年月日", "type": "日付", "length": 8}]}
    for dialect in known_dialects():
        assert "DATE" not in columns_for(entry, dialect)[0].sql_type.upper()
