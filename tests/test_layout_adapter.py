"""The ``layout`` adapter: intermediate files of one layout as the source of a mapping into another.

Worked example: an intermediate juki-jumin CSV (header = 項目名称, as ``mig extract``
writes ``data/juki-jumin.csv``) → a 基本データリスト-shaped 住民 file, with one item renamed
(氏名カナ → 氏名_フリガナ) and one code table re-coded (性別 9 不明 → 3). The target layout
is the test's own (tests/data/layouts/kihon/), named by path in the mapping.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import mig
from mig.errors import ConfigError, InputError, UnknownNameError
from mig.layout import get_layout
from mig.registry import get_adapter

DATA = Path(__file__).resolve().parent / "data"
TARGET = DATA / "layouts" / "kihon" / "kihon-juki-jumin.toml"
SOURCE = get_layout("juki-jumin")

PEOPLE = [  # 宛名番号, 氏名, 氏名カナ, 性別 (juki-jumin codes), 生年月日
    ("000000000000001", "山田 太郎", "ヤマダ　タロウ", "1", "19800101"),
    ("000000000000002", "山田 花子", "ヤマダ　ハナコ", "2", "19820202"),
    ("000000000000003", "佐藤 某", "サトウ　ボウ", "9", "19900303"),
    ("000000000000004", "鈴木 一郎", "スズキ　イチロウ", "8", "19700404"),  # 8: no code in the map
    ("000000000000005", "", "", "1", "20000505"),  # 氏名 missing: required in the target
]


def intermediate_csv(path: Path) -> Path:
    """A juki-jumin intermediate CSV: UTF-8, header = every item's 項目名称, CRLF."""
    names = SOURCE.item_names
    lines = [",".join(names)]
    for number, name, kana, sex, born in PEOPLE:
        values = dict.fromkeys(names, "")
        values.update({
            "団体コード": "131016", "宛名番号": number, "世帯番号": "000000000000100", "氏名": name,
            "氏名カナ": kana, "生年月日": born, "性別": sex, "続柄": "01", "住民となった年月日": born,
            "住民となった事由": "01", "住所": "東京都千代田区千代田1-1", "住民状態": "1",
        })
        lines.append(",".join(f'"{values[n]}"' if "," in values[n] else values[n] for n in names))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def mapping(path: Path, target: str) -> Path:
    items = {n: n for n in ("団体コード", "宛名番号", "氏名", "生年月日", "住所")}
    lines = [
        'adapter = "layout"', "", "[source]", 'layout = "juki-jumin"', "",
        '[code_maps."性別"]', '"1" = "1"', '"2" = "2"', '"9" = "3"', "",
        "[[files]]", f"layout = {json.dumps(target)}", 'inputs = ["*"]', "", "[files.items]",
        *[f'"{k}" = "{v}"' for k, v in items.items()],
        '"氏名_フリガナ" = "氏名カナ"',
        '"性別" = { column = "性別", code_map = "性別" }',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_adapter_is_registered_and_reads_by_the_source_layout(tmp_path: Path) -> None:
    adapter = get_adapter("layout")
    reader = adapter.open(intermediate_csv(tmp_path / "jumin.csv"), {"layout": "juki-jumin"}, batch_bytes=1 << 20)
    assert reader.columns == SOURCE.item_names
    batches = list(reader.batches())
    assert sum(b.rows_in for b in batches) == len(PEOPLE)
    data = pl.concat([b.data for b in batches])
    assert data.get_column("性別").to_list() == ["1", "2", "9", "8", "1"]
    raw = b"".join(pl.concat([b.records for b in batches]).get_column("raw").to_list())
    assert raw == (tmp_path / "jumin.csv").read_bytes().split(b"\r\n", 1)[1]  # original bytes


def test_parquet_of_the_source_layout_reads_alike(tmp_path: Path) -> None:
    csv = intermediate_csv(tmp_path / "jumin.csv")
    frame = pl.read_csv(csv, infer_schema=False).fill_null("")
    frame.write_parquet(tmp_path / "jumin.parquet")
    adapter = get_adapter("layout")
    reader = adapter.open(tmp_path / "jumin.parquet", {"layout": "juki-jumin"}, batch_bytes=4096)
    batches = list(reader.batches())
    assert len(batches) > 1  # batched by the row width of the layout
    data = pl.concat([b.data for b in batches])
    records = pl.concat([b.records for b in batches])
    assert data.get_column("row").to_list() == list(range(1, len(PEOPLE) + 1))
    assert data.drop("row").equals(frame)
    first = records.get_column("raw")[0].decode("utf-8")
    assert first.startswith('"131016","000000000000001","","","000000000000100","山田 太郎"') and first.endswith("\r\n")
    offsets = records.get_column("offset").to_list()
    assert offsets[0] == 0 and offsets[1] == len(records.get_column("raw")[0])


def test_foreign_header_or_missing_required_item_is_refused(tmp_path: Path) -> None:
    adapter = get_adapter("layout")
    legacy = tmp_path / "legacy.csv"
    legacy.write_text("ATENA,SHIMEI\r\n1,山田\r\n", encoding="utf-8")
    with pytest.raises(InputError, match="2 of 2 columns are not items of layout juki-jumin") as caught:
        adapter.open(legacy, {"layout": "juki-jumin"}, batch_bytes=1 << 20)
    assert "山田" not in str(caught.value) and "ATENA" not in str(caught.value)
    partial = tmp_path / "partial.csv"
    partial.write_text("宛名番号,氏名\r\n1,山田\r\n", encoding="utf-8")
    with pytest.raises(InputError, match="required items of layout juki-jumin missing: 団体コード, 世帯番号"):
        adapter.open(partial, {"layout": "juki-jumin"}, batch_bytes=1 << 20)
    with pytest.raises(ConfigError, match='give the source layout, layout = "<id or path>"'):
        adapter.open(partial, {}, batch_bytes=1 << 20)
    with pytest.raises(ConfigError, match="layout file 'nowhere/x.toml' does not exist"):
        adapter.open(partial, {"layout": "nowhere/x.toml"}, batch_bytes=1 << 20)
    with pytest.raises(UnknownNameError, match="unknown layout 'juki-nothing'"):
        adapter.open(partial, {"layout": "juki-nothing"}, batch_bytes=1 << 20)


def test_source_layout_by_path_relative_to_the_mapping(tmp_path: Path) -> None:
    options = {"layout": "layouts/kihon/kihon-juki-jumin.toml", "_mapping_dir": str(DATA)}
    with pytest.raises(InputError, match="20 of 26 columns are not items of layout kihon-juki-jumin-test"):
        get_adapter("layout").open(intermediate_csv(tmp_path / "jumin.csv"), options, batch_bytes=1 << 20)
    target_file = tmp_path / "kihon.csv"
    target_file.write_text("宛名番号,団体コード,氏名,生年月日,性別,住所\r\n1,131016,山田,19800101,3,東京\r\n", encoding="utf-8")
    reader = get_adapter("layout").open(target_file, options, batch_bytes=1 << 20)
    assert reader.columns == ["宛名番号", "団体コード", "氏名", "生年月日", "性別", "住所"]


def test_intermediate_file_migrates_into_another_layout(tmp_path: Path) -> None:
    try:
        get_layout(str(TARGET))
    except UnknownNameError:
        pytest.skip("layout file paths in mappings arrive with issue 15 item 3 (layout-catalogue)")
    inputs = tmp_path / "in"
    inputs.mkdir()
    source = intermediate_csv(inputs / "juki-jumin.csv")
    result = mig.extract(mapping(tmp_path / "mapping.toml", str(TARGET)), [source], tmp_path / "run")
    totals = result.manifest["totals"]
    assert (totals["rows_in"], totals["rows_out"], totals["rows_rejected"]) == (5, 3, 2)
    assert totals["rows_in"] == totals["rows_out"] + totals["rows_rejected"]
    out = pl.read_parquet(tmp_path / "run" / "data" / "kihon-juki-jumin-test.parquet")
    assert out.columns == get_layout(str(TARGET)).item_names
    assert out.get_column("性別").to_list() == ["1", "2", "3"]  # 9 不明 re-coded to 3
    assert out.get_column("氏名_フリガナ").to_list() == ["ヤマダ　タロウ", "ヤマダ　ハナコ", "サトウ　ボウ"]
    rejects = [
        json.loads(line)
        for line in (tmp_path / "run" / "rejects" / "kihon-juki-jumin-test.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [(r["row"], [f["type"] for f in r["reasons"]]) for r in rejects] == [
        (4, ["code-unmapped"]), (5, ["required-missing"]),
    ]
    lines = source.read_bytes().split(b"\r\n")
    assert [bytes.fromhex(r["raw_hex"]) for r in rejects] == [lines[4] + b"\r\n", lines[5] + b"\r\n"]
