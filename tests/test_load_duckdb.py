"""The DuckDB target: the same load contract as SQLite (shape, refuse/replace, all or nothing)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from test_gaiji_policy import ivs_run  # noqa: F401  (fixture: demo data, 外字 with IVS)
from test_load import JUMIN_ITEMS, SETAI_ITEMS, edit_manifest, jumin_rows, make_run, read_manifest

from mig.errors import ConfigError, MigError
from mig.load import ddl_for, load_run, open_target
from mig.load.duckdb import DuckdbTarget

duckdb = pytest.importorskip("duckdb")

# 生年月日 may hold 不詳 (YYYYMM00): it stays VARCHAR. 異動日 is always a real date: DATE.
ITEMS: list[dict[str, Any]] = [
    dict(i, unknown="day") if i["name"] == "生年月日" else i for i in JUMIN_ITEMS
] + [{"no": 7, "name": "異動日", "type": "日付", "length": 8, "required": False, "unknown": "none"}]


def rows(n: int) -> dict[str, list[Any]]:
    data = jumin_rows(n)
    data["異動日"] = [f"2024{(i % 12) + 1:02d}{(i % 28) + 1:02d}" if i % 6 else None for i in range(n)]
    return data


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return make_run(
        tmp_path / "run",
        {
            "juki-jumin": (ITEMS, rows(40), ["宛名番号"]),
            "juki-setai": (SETAI_ITEMS, {"世帯番号": [f"{i:015d}" for i in range(7)],
                                          "世帯主宛名番号": [None] * 7,
                                          "面積": [Decimal("12.500") + i for i in range(7)]},
                           ["世帯番号"]),
        },
    )


def test_values_and_types_are_exact(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.duckdb"
    seen: list[int] = []
    result = load_run(run, f"duckdb:///{db}", progress=seen.append, batch_rows=16)
    assert seen == [16, 16, 8, 7]
    assert [(f.table, f.rows_read, f.rows_loaded) for f in result.files] == [
        ("juki_jumin", 40, 40), ("juki_setai", 7, 7)]
    got = query(db, 'SELECT "宛名番号", "氏名", "生年月日", "世帯人数", "所得金額", "異動日" '
                    'FROM juki_jumin ORDER BY "宛名番号"')
    expected = rows(40)
    assert [r[0] for r in got] == expected["宛名番号"]
    assert [r[1] for r in got] == expected["氏名"]
    assert [r[2] for r in got] == expected["生年月日"]  # "19800100" kept as text
    assert [r[3] for r in got] == [None if v is None else Decimal(v) for v in expected["世帯人数"]]
    assert [r[4] for r in got] == expected["所得金額"]  # Decimal, exact
    assert all(v is None or isinstance(v, Decimal) for v in (r[4] for r in got))
    assert [r[5] for r in got] == [
        None if v is None else datetime.date(int(v[:4]), int(v[4:6]), int(v[6:])) for v in expected["異動日"]]
    assert query(db, 'SELECT "面積"::VARCHAR FROM juki_setai ORDER BY 1 LIMIT 2') == [("12.500",), ("13.500",)]


def test_table_shape_follows_manifest(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.duckdb"
    load_run(run, f"duckdb:///{db}")
    info = query(db, "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
                     "WHERE table_name = 'juki_jumin' ORDER BY column_index")
    assert info == [
        ("団体コード", "VARCHAR", False),
        ("宛名番号", "VARCHAR", False),
        ("氏名", "VARCHAR", False),
        ("生年月日", "VARCHAR", True),
        ("世帯人数", "DECIMAL(3,0)", True),
        ("所得金額", "DECIMAL(11,2)", True),
        ("異動日", "DATE", True),
    ]
    assert "DOUBLE" not in ddl_for(read_manifest(run)["files"][0], "duckdb")


def test_second_load_refused_then_replaced(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.duckdb"
    load_run(run, f"duckdb:///{db}")
    with pytest.raises(ConfigError, match="juki_jumin already holds 40 rows"):
        load_run(run, f"duckdb:///{db}")
    load_run(run, f"duckdb:///{db}", replace=True)
    assert query(db, "SELECT count(*) FROM juki_jumin") == [(40,)]


def test_other_shape_refused_unless_replace(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.duckdb"
    with duckdb.connect(str(db)) as conn:
        conn.execute('CREATE TABLE juki_setai ("世帯番号" VARCHAR)')
    with pytest.raises(ConfigError, match="juki_setai already exists with a different shape"):
        load_run(run, f"duckdb:///{db}")
    assert query(db, "SELECT table_name FROM duckdb_tables()") == [("juki_setai",)]
    load_run(run, f"duckdb:///{db}", replace=True)
    assert len(query(db, "SELECT * FROM duckdb_columns() WHERE table_name = 'juki_setai'")) == 3


def test_empty_table_of_same_shape_is_filled(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.duckdb"
    with duckdb.connect(str(db)) as conn:
        conn.execute(ddl_for(read_manifest(run)["files"][0], "duckdb"))
    load_run(run, f"duckdb:///{db}")
    assert query(db, "SELECT count(*) FROM juki_jumin") == [(40,)]


def test_count_mismatch_rolls_back_everything(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.duckdb"
    edit_manifest(run, lambda m: m["files"][1].__setitem__("rows_out", 8))
    with pytest.raises(MigError, match=r"juki_setai: 7 rows"):
        load_run(run, f"duckdb:///{db}")
    assert not db.exists()  # created by the failed load, so removed again


def test_failed_replace_keeps_previous_contents(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.duckdb"
    load_run(run, f"duckdb:///{db}")
    with duckdb.connect(str(db)) as conn:
        conn.execute("DELETE FROM juki_jumin WHERE \"宛名番号\" > '000000000000010'")
    edit_manifest(run, lambda m: m["files"][1].__setitem__("rows_out", 99))
    with pytest.raises(MigError, match="juki_setai"):
        load_run(run, f"duckdb:///{db}", replace=True)
    assert query(db, "SELECT count(*) FROM juki_jumin") == [(10,)]
    assert query(db, "SELECT count(*) FROM juki_setai") == [(7,)]


def test_duplicate_key_is_one_line_error_without_values(tmp_path: Path) -> None:
    data = rows(3)
    data["宛名番号"] = ["000000000000001"] * 3
    run = make_run(tmp_path / "run", {"juki-jumin": (ITEMS, data, ["宛名番号"])})
    db = tmp_path / "out.duckdb"
    with pytest.raises(MigError, match="juki_jumin: rows violate a constraint") as info:
        load_run(run, f"duckdb:///{db}")
    assert "\n" not in str(info.value) and "000000000000001" not in str(info.value)
    assert not db.exists()


def test_value_that_is_no_date_names_column_not_value(tmp_path: Path) -> None:
    data = rows(5)
    data["異動日"] = ["20240230", "20240101", None, "20241301", "20240102"]
    run = make_run(tmp_path / "run", {"juki-jumin": (ITEMS, data, ["宛名番号"])})
    db = tmp_path / "out.duckdb"
    with pytest.raises(MigError, match=r"異動日 \(2 value\(s\) not DATE\)") as info:
        load_run(run, f"duckdb:///{db}")
    assert "20240230" not in str(info.value)
    assert not db.exists()


def test_urls(run: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="bad DuckDB URL"):
        load_run(run, "duckdb://out.duckdb")
    assert isinstance(open_target("DUCKDB:////abs/x.duckdb"), DuckdbTarget)
    with pytest.raises(ConfigError, match="does not exist"):
        load_run(run, f"duckdb:///{tmp_path / 'missing' / 'x.duckdb'}")
    with pytest.raises(ConfigError, match="is a directory"):
        load_run(run, f"duckdb:///{tmp_path}")
    text = tmp_path / "text.duckdb"
    text.write_text("not a database", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot open DuckDB database") as info:
        load_run(run, f"duckdb:///{text}")
    assert "\n" not in str(info.value)
    assert text.read_text(encoding="utf-8") == "not a database"


# -- the demo, 外字 with IVS included, read back value for value ----------------------------


def test_demo_loads_value_for_value(ivs_run: Path, tmp_path: Path) -> None:  # noqa: F811
    demo = ivs_run
    db = tmp_path / "demo.duckdb"
    result = load_run(demo, f"duckdb:///{db}")
    manifest = read_manifest(demo)
    assert [f.rows_loaded for f in result.files] == [f["rows_out"] for f in manifest["files"]]
    ivs = 0
    for entry in manifest["files"]:
        table = entry["layout"].replace("-", "_")
        expected = pl.read_parquet(demo / f"data/{entry['layout']}.parquet")
        keys = list(entry["primary_key"])
        with duckdb.connect(str(db), read_only=True) as conn:
            loaded = pl.DataFrame(pl.from_arrow(conn.sql(f'SELECT * FROM "{table}"').to_arrow_table()))
        loaded = loaded.sort(keys)
        expected = expected.sort(keys)
        assert loaded.columns == expected.columns
        for item in entry["items"]:
            name = item["name"]
            got, want = loaded[name], expected[name]
            if got.dtype == pl.Date:  # 日付 never 不詳: DATE, same day
                want = want.str.strptime(pl.Date, "%Y%m%d")
            assert got.to_list() == want.to_list(), name
        ivs += int(loaded.select(pl.col(pl.String).str.contains("[\U000e0100-\U000e01ef]").sum())
                   .sum_horizontal().item())
    assert ivs > 0, "the demo's resolved 外字 carry IVS, and DuckDB keeps them"
