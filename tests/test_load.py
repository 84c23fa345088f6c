"""The load step: run directory → SQLite, verified against the manifest, all or nothing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mig.errors import ConfigError, ExitCode, InputError, MigError, UnknownNameError
from mig.load import (
    LoadResult,
    ddl_for,
    known_targets,
    load_run,
    open_target,
    read_manifest,
    redact_url,
    register_target,
    unregister_target,
)
from mig.load.sqlite import SqliteTarget

# -- a tiny run directory, as `mig extract` writes it -------------------------------------

JUMIN_ITEMS: list[dict[str, Any]] = [
    {
        "no": 1,
        "name": "団体コード",
        "type": "数字",
        "length": 6,
        "scale": 0,
        "required": True,
        "extension": False,
    },
    {
        "no": 2,
        "name": "宛名番号",
        "type": "数字",
        "length": 15,
        "scale": 0,
        "required": True,
        "extension": False,
    },
    {
        "no": 3,
        "name": "氏名",
        "type": "全角文字",
        "length": 50,
        "scale": 0,
        "required": True,
        "extension": False,
    },
    {
        "no": 4,
        "name": "生年月日",
        "type": "日付",
        "length": 8,
        "scale": 0,
        "required": False,
        "extension": False,
    },
    {
        "no": 5,
        "name": "世帯人数",
        "type": "数値",
        "length": 3,
        "scale": 0,
        "required": False,
        "extension": False,
    },
    {
        "no": 6,
        "name": "所得金額",
        "type": "数値",
        "length": 11,
        "scale": 2,
        "required": False,
        "extension": False,
    },
]
SETAI_ITEMS: list[dict[str, Any]] = [
    {
        "no": 1,
        "name": "世帯番号",
        "type": "数字",
        "length": 15,
        "scale": 0,
        "required": True,
        "extension": False,
    },
    {
        "no": 2,
        "name": "世帯主宛名番号",
        "type": "数字",
        "length": 15,
        "scale": 0,
        "required": False,
        "extension": False,
    },
    {
        "no": 3,
        "name": "面積",
        "type": "数値",
        "length": 7,
        "scale": 3,
        "required": False,
        "extension": True,
    },
]


def jumin_rows(n: int) -> dict[str, list[Any]]:
    return {
        "団体コード": ["131016"] * n,
        "宛名番号": [f"{i:015d}" for i in range(1, n + 1)],
        "氏名": [f"山田　太郎{i}" for i in range(n)],
        "生年月日": ["19800100" if i % 3 == 0 else None for i in range(n)],
        "世帯人数": [i % 7 if i % 5 else None for i in range(n)],
        "所得金額": [Decimal(i * 1001) / 100 - 5 if i % 4 else None for i in range(n)],
    }


def setai_rows(n: int) -> dict[str, list[Any]]:
    return {
        "世帯番号": [f"{i:015d}" for i in range(1, n + 1)],
        "世帯主宛名番号": [f"{i:015d}" for i in range(1, n + 1)],
        "面積": [Decimal("12.500") + i for i in range(n)],
    }


def _schema(items: Sequence[dict[str, Any]]) -> dict[str, pl.DataType]:
    return {
        i["name"]: pl.Decimal(i["length"], i["scale"]) if i["type"] == "数値" else pl.String()
        for i in items
    }


def _output(run: Path, rel: str) -> dict[str, Any]:
    data = (run / rel).read_bytes()
    return {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def make_run(
    run: Path,
    layouts: dict[str, tuple[list[dict[str, Any]], dict[str, list[Any]], list[str]]] | None = None,
    rejected: int = 2,
) -> Path:
    """Write a run directory: parquet + csv + rejects + findings + manifest (real hashes)."""
    if layouts is None:
        layouts = {
            "juki-jumin": (JUMIN_ITEMS, jumin_rows(40), ["宛名番号"]),
            "juki-setai": (SETAI_ITEMS, setai_rows(7), ["世帯番号"]),
        }
    for sub in ("data", "rejects", "findings"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    for layout, (items, rows, primary_key) in layouts.items():
        frame = pl.DataFrame(rows, schema=_schema(items))
        frame.write_parquet(run / f"data/{layout}.parquet")
        frame.write_csv(run / f"data/{layout}.csv")
        (run / f"rejects/{layout}.jsonl").write_text(
            "".join(
                json.dumps({"row": r, "reasons": ["date-invalid"]}) + "\n" for r in range(rejected)
            ),
            encoding="utf-8",
        )
        pl.DataFrame(
            {
                "row": list(range(rejected)),
                "item": ["生年月日"] * rejected,
                "type": ["date-invalid"] * rejected,
                "detail": [""] * rejected,
            },
            schema={"row": pl.Int64, "item": pl.String, "type": pl.String, "detail": pl.String},
        ).write_parquet(run / f"findings/{layout}.parquet")
        outputs = [
            _output(run, rel)
            for rel in (
                f"data/{layout}.parquet",
                f"data/{layout}.csv",
                f"rejects/{layout}.jsonl",
                f"findings/{layout}.parquet",
            )
        ]
        files.append(
            {
                "layout": layout,
                "layout_name": layout,
                "business": "住民基本台帳",
                "items": items,
                "primary_key": primary_key,
                "rows_in": frame.height + rejected,
                "rows_out": frame.height,
                "rows_rejected": rejected,
                "outputs": outputs,
            }
        )
    manifest = {
        "tool": "mig",
        "tool_version": "0.1.0",
        "created_at": "2026-11-23T19:00:00Z",
        "adapter": "csv",
        "mapping": {"path": "mapping.toml", "sha256": "0" * 64},
        "inputs": [],
        "files": files,
        "totals": {
            "rows_in": sum(f["rows_in"] for f in files),
            "rows_out": sum(f["rows_out"] for f in files),
            "rows_rejected": sum(f["rows_rejected"] for f in files),
        },
    }
    write_manifest(run, manifest)
    return run


def write_manifest(run: Path, manifest: dict[str, Any]) -> None:
    (run / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
    )


def edit_manifest(run: Path, change: Any) -> None:
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    write_manifest(run, manifest)


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return make_run(tmp_path / "run")


# -- loading ------------------------------------------------------------------------------


def test_load_into_sqlite_counts_and_result(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.db"
    seen: list[int] = []
    result = load_run(run, f"sqlite:///{db}", progress=seen.append)
    assert isinstance(result, LoadResult)
    by_layout = {f.layout: f for f in result.files}
    assert by_layout["juki-jumin"].table == "juki_jumin"
    assert (by_layout["juki-jumin"].rows_read, by_layout["juki-jumin"].rows_loaded) == (40, 40)
    assert (by_layout["juki-setai"].rows_read, by_layout["juki-setai"].rows_loaded) == (7, 7)
    assert by_layout["juki-jumin"].rows_rejected == 2
    assert sum(seen) == 47
    assert query(db, "SELECT count(*) FROM juki_jumin") == [(40,)]
    as_json = json.loads(json.dumps(result.to_dict()))
    assert as_json["totals"] == {"rows_read": 47, "rows_loaded": 47, "rows_rejected": 4}
    assert [f["table"] for f in as_json["files"]] == ["juki_jumin", "juki_setai"]


def test_batches_stream_with_progress(run: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    result = load_run(run, f"sqlite:///{tmp_path / 'out.db'}", progress=seen.append, batch_rows=16)
    assert seen == [16, 16, 8, 7]  # juki-jumin in three batches, then juki-setai
    assert [f.rows_loaded for f in result.files] == [40, 7]


def test_values_and_storage_classes_are_exact(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.db"
    load_run(run, f"sqlite:///{db}")
    rows = query(
        db,
        'SELECT "宛名番号", "氏名", "生年月日", "世帯人数", typeof("世帯人数"), "所得金額", '
        'typeof("所得金額") FROM juki_jumin ORDER BY "宛名番号"',
    )
    expected = jumin_rows(40)
    assert [r[0] for r in rows] == expected["宛名番号"]  # leading zeros kept (TEXT)
    assert [r[1] for r in rows] == expected["氏名"]
    assert [r[2] for r in rows] == expected["生年月日"]  # "YYYYMM00" stays text
    assert [r[3] for r in rows] == expected["世帯人数"]
    assert {r[4] for r in rows} == {"integer", "null"}
    money = [None if v is None else f"{v:.2f}" for v in expected["所得金額"]]
    assert [r[5] for r in rows] == money
    assert {r[6] for r in rows} == {"text", "null"}  # never REAL
    assert query(db, 'SELECT "面積" FROM juki_setai ORDER BY "世帯番号" LIMIT 2') == [
        ("12.500",),
        ("13.500",),
    ]


def test_table_shape_follows_manifest(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.db"
    load_run(run, f"sqlite:///{db}")
    info = query(db, "SELECT name, type, \"notnull\", pk FROM pragma_table_info('juki_jumin')")
    assert info == [
        ("団体コード", "TEXT", 1, 0),
        ("宛名番号", "TEXT", 1, 1),
        ("氏名", "TEXT", 1, 0),
        ("生年月日", "TEXT", 0, 0),
        ("世帯人数", "INTEGER", 0, 0),
        ("所得金額", "TEXT", 0, 0),
    ]


def test_ddl_for_sqlite() -> None:
    entry = {
        "layout": "juki-jumin",
        "items": JUMIN_ITEMS,
        "primary_key": ["団体コード", "宛名番号"],
    }
    ddl = ddl_for(entry, "sqlite")
    assert ddl.splitlines() == [
        'CREATE TABLE "juki_jumin" (',
        '  "団体コード" TEXT NOT NULL,',
        '  "宛名番号" TEXT NOT NULL,',
        '  "氏名" TEXT NOT NULL,',
        '  "生年月日" TEXT,',
        '  "世帯人数" INTEGER,',
        '  "所得金額" TEXT,',
        '  PRIMARY KEY ("団体コード", "宛名番号")',
        ")",
    ]
    assert "REAL" not in ddl
    sqlite3.connect(":memory:").execute(ddl)  # valid SQL


def test_ddl_quotes_names_and_keeps_wide_numbers_exact() -> None:
    entry = {
        "layout": "x",
        "items": [
            {"name": 'a"b', "type": "数値", "length": 19, "scale": 0},
            {"name": "c", "type": "数値", "length": 18, "scale": 0},
        ],
    }
    ddl = ddl_for(entry, "sqlite")
    assert '"a""b" TEXT' in ddl  # 19 digits do not fit a 64-bit INTEGER
    assert '"c" INTEGER' in ddl
    with pytest.raises(UnknownNameError, match="sqlite"):
        ddl_for(entry, "db2")
    with pytest.raises(InputError, match="primary_key"):
        ddl_for({**entry, "primary_key": ["nope"]}, "sqlite")


def test_empty_layout_creates_empty_table(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", {"juki-jumin": (JUMIN_ITEMS, jumin_rows(0), ["宛名番号"])}, 0)
    db = tmp_path / "out.db"
    result = load_run(run, f"sqlite:///{db}")
    assert result.files[0].rows_loaded == 0
    assert query(db, "SELECT count(*) FROM juki_jumin") == [(0,)]


def test_relative_url(run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    load_run(run, "sqlite:///rel.db")
    assert query(tmp_path / "rel.db", "SELECT count(*) FROM juki_setai") == [(7,)]


# -- existing tables ----------------------------------------------------------------------


def test_second_load_refused_then_replaced(run: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'out.db'}"
    load_run(run, url)
    with pytest.raises(ConfigError, match="juki_jumin already holds 40 rows"):
        load_run(run, url)
    result = load_run(run, url, replace=True)
    assert result.replace
    assert query(tmp_path / "out.db", "SELECT count(*) FROM juki_jumin") == [(40,)]  # no duplicates


def test_other_shape_refused_unless_replace(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.db"
    with sqlite3.connect(db) as conn:
        conn.execute('CREATE TABLE juki_setai ("世帯番号" TEXT)')
    with pytest.raises(ConfigError, match="juki_setai already exists with a different shape"):
        load_run(run, f"sqlite:///{db}")
    assert query(db, "SELECT name FROM sqlite_master WHERE type='table'") == [("juki_setai",)]
    load_run(run, f"sqlite:///{db}", replace=True)
    assert len(query(db, "SELECT * FROM pragma_table_info('juki_setai')")) == 3


def test_empty_table_of_same_shape_is_filled(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.db"
    manifest = read_manifest(run)
    with sqlite3.connect(db) as conn:
        conn.execute(ddl_for(manifest["files"][1], "sqlite"))
    load_run(run, f"sqlite:///{db}")
    assert query(db, "SELECT count(*) FROM juki_setai") == [(7,)]


# -- all or nothing -----------------------------------------------------------------------


def test_count_mismatch_rolls_back_everything(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.db"

    def lie(manifest: dict[str, Any]) -> None:
        manifest["files"][1]["rows_out"] = 8  # the second table; the first loads fine

    edit_manifest(run, lie)
    with pytest.raises(MigError, match=r"juki_setai: 7 rows .* rows_out 8"):
        load_run(run, f"sqlite:///{db}")
    assert not db.exists()  # created by the failed load, so removed again


def test_failed_replace_keeps_previous_contents(run: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.db"
    load_run(run, f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM juki_jumin WHERE \"宛名番号\" > '000000000000010'")
    edit_manifest(run, lambda m: m["files"][1].__setitem__("rows_out", 99))
    with pytest.raises(MigError, match="juki_setai"):
        load_run(run, f"sqlite:///{db}", replace=True)
    assert query(db, "SELECT count(*) FROM juki_jumin") == [(10,)]


def test_duplicate_primary_key_is_one_line_error(tmp_path: Path) -> None:
    rows = jumin_rows(3)
    rows["宛名番号"] = ["000000000000001"] * 3
    run = make_run(tmp_path / "run", {"juki-jumin": (JUMIN_ITEMS, rows, ["宛名番号"])})
    db = tmp_path / "out.db"
    with pytest.raises(MigError, match="juki_jumin: rows violate a constraint") as info:
        load_run(run, f"sqlite:///{db}")
    assert "\n" not in str(info.value)
    assert "000000000000001" not in str(info.value)
    assert not db.exists()


# -- the manifest guards the load ---------------------------------------------------------


@pytest.mark.parametrize(
    "victim", ["data/juki-setai.csv", "rejects/juki-jumin.jsonl", "data/juki-jumin.parquet"]
)
def test_tampered_output_refused(run: Path, tmp_path: Path, victim: str) -> None:
    path = run / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # same size, other content
    path.write_bytes(bytes(data))
    db = tmp_path / "out.db"
    with pytest.raises(InputError, match="does not match manifest") as info:
        load_run(run, f"sqlite:///{db}")
    assert victim.split("/")[-1] in str(info.value)
    assert info.value.exit_code == ExitCode.UNREADABLE_INPUT
    assert not db.exists()


def test_size_change_and_missing_output_refused(run: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'out.db'}"
    with (run / "findings/juki-setai.parquet").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(InputError, match=r"juki-setai.parquet: does not match manifest \(size"):
        load_run(run, url)
    (run / "findings/juki-setai.parquet").unlink()
    with pytest.raises(InputError, match="juki-setai.parquet: listed in the manifest but missing"):
        load_run(run, url)


def test_manifest_problems(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'out.db'}"
    with pytest.raises(InputError, match="run directory not found"):
        load_run(tmp_path / "nowhere", url)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match=r"manifest.json: manifest not found"):
        load_run(empty, url)
    (empty / "manifest.json").write_text('{\n  "files": [,]\n}', encoding="utf-8")
    with pytest.raises(InputError, match=r"manifest.json \(line 2\): not valid JSON") as info:
        load_run(empty, url)
    assert info.value.exit_code == ExitCode.UNREADABLE_INPUT
    (empty / "manifest.json").write_text('{"files": [{"layout": "x"}]}', encoding="utf-8")
    with pytest.raises(InputError, match=r"files\[0\] \(x\): 'items'"):
        load_run(empty, url)


def test_output_path_may_not_leave_run_dir(run: Path, tmp_path: Path) -> None:
    edit_manifest(run, lambda m: m["files"][0]["outputs"][1].__setitem__("path", "../secret"))
    with pytest.raises(InputError, match="inside the run directory"):
        load_run(run, f"sqlite:///{tmp_path / 'out.db'}")


def test_parquet_columns_must_match_items(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", {"juki-setai": (SETAI_ITEMS, setai_rows(2), [])})
    items = [*SETAI_ITEMS, {"no": 4, "name": "備考", "type": "混在文字", "length": 9}]
    edit_manifest(run, lambda m: m["files"][0].__setitem__("items", items))
    with pytest.raises(InputError, match="missing 備考"):
        load_run(run, f"sqlite:///{tmp_path / 'out.db'}")


def test_parquet_types_must_match_items(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", {"juki-setai": (SETAI_ITEMS, setai_rows(2), [])})
    items = [dict(i, scale=2) if i["name"] == "面積" else i for i in SETAI_ITEMS]
    edit_manifest(run, lambda m: m["files"][0].__setitem__("items", items))
    with pytest.raises(InputError, match="面積 is decimal128"):
        load_run(run, f"sqlite:///{tmp_path / 'out.db'}")


# -- targets ------------------------------------------------------------------------------


def test_target_urls(run: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="unknown load target 'oracle'; known: .*sqlite"):
        load_run(run, "oracle://db/x")
    with pytest.raises(ConfigError, match="not a load target URL"):
        load_run(run, "out.db")
    with pytest.raises(ConfigError, match="bad SQLite URL"):
        load_run(run, "sqlite://out.db")
    assert isinstance(open_target("SQLITE:////abs/x.db"), SqliteTarget)
    assert open_target("sqlite:////abs/x.db").path == "/abs/x.db"  # type: ignore[attr-defined]
    assert redact_url("postgresql://u:pw@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert "pw" not in str(pytest.raises(ConfigError, open_target, "u:pw@host").value)


def test_unwritable_target_is_one_line(run: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory", encoding="utf-8")
    for url, message in [
        (f"sqlite:///{blocker}/x.db", "does not exist"),
        (f"sqlite:///{tmp_path / 'missing' / 'x.db'}", "does not exist"),
        (f"sqlite:///{tmp_path}", "is a directory"),
        (f"sqlite:///{blocker}", "not a database"),
    ]:
        with pytest.raises(ConfigError, match=message) as info:
            load_run(run, url)
        assert "\n" not in str(info.value)
    assert blocker.read_text(encoding="utf-8") == "not a directory"


class RenamedSqlite(SqliteTarget):
    """Another scheme for the same database: shows a target slots in by registration."""

    def __init__(self, url: str) -> None:
        super().__init__("sqlite:///" + url.split("://", 1)[1])


def test_registered_scheme_is_used(run: Path, tmp_path: Path) -> None:
    register_target("litetest", RenamedSqlite)
    try:
        assert "litetest" in known_targets()
        load_run(run, f"litetest://{tmp_path / 'via.db'}")
    finally:
        unregister_target("litetest")
    assert "litetest" not in known_targets()
    assert query(tmp_path / "via.db", "SELECT count(*) FROM juki_setai") == [(7,)]


# -- property: decimals survive exactly ---------------------------------------------------

money = st.decimals(
    min_value=Decimal("-999999999.99"),
    max_value=Decimal("999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.one_of(st.none(), money), max_size=30))
def test_decimal_roundtrip_is_exact(values: list[Decimal | None]) -> None:
    items: list[dict[str, Any]] = [
        {"no": 1, "name": "番号", "type": "数字", "length": 6, "required": True},
        {"no": 2, "name": "金額", "type": "数値", "length": 11, "scale": 2},
    ]
    rows: dict[str, list[Any]] = {"番号": [f"{i:06d}" for i in range(len(values))], "金額": values}
    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp) / "run", {"zei-kingaku": (items, rows, ["番号"])}, 0)
        db = Path(tmp) / "out.db"
        load_run(run, f"sqlite:///{db}")
        loaded = query(db, 'SELECT "金額" FROM zei_kingaku ORDER BY "番号"')
    assert [r[0] for r in loaded] == [None if v is None else f"{v:.2f}" for v in values]
    assert all(Decimal(r[0]) == v for r, v in zip(loaded, values, strict=True) if v is not None)
