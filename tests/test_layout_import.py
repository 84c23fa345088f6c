"""``mig layouts import``: a workbook built here (tests/support/xlsx.py) → layout files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import mig
from mig.cli import main
from mig.errors import ConfigError
from mig.layout import load_layout_file
from tests.support.xlsx import SheetSpec, grid, juki_workbook, write_xlsx

# (name, type, length, scale, required, code_table) of the workbook's first revision
JUMIN = [
    ("宛名番号", "数字", 15, 0, True, None),
    ("氏名", "混在文字", 60, 0, True, None),
    ("性別", "コード", 1, 0, True, "性別"),
    ("生年月日", "日付", 8, 0, True, None),
    ("電話番号_1", "半角文字", 15, 0, False, None),
    ("電話番号_2", "半角文字", 15, 0, False, None),
    ("所得金額", "数値", 12, 2, False, None),
    ("氏名カナ", "全角文字", 60, 0, False, None),
]
SETAI = [
    ("世帯番号", "数字", 15, 0, True, None),
    ("世帯主氏名", "全角文字", 60, 0, False, None),
    ("続柄", "コード", 2, 0, False, "続柄"),
    ("世帯設定年月", "年月", 6, 0, False, None),
]


def shape(layout: mig.Layout) -> list[tuple[object, ...]]:
    return [(i.name, i.type, i.length, i.scale, i.required, i.code_table) for i in layout.items]


def test_workbook_imports_item_for_item(tmp_path: Path) -> None:
    result = mig.import_layouts(juki_workbook(tmp_path))
    assert [(x.sheet, x.layout.id) for x in result.layouts] == [("住民", "layout-01"), ("世帯", "layout-02")]
    jumin, setai = (x.layout for x in result.layouts)
    assert shape(jumin) == JUMIN
    assert shape(setai) == SETAI
    assert [i.no for i in jumin.items] == list(range(1, 9))
    assert jumin.item("宛名番号").description == "団体内統一宛名番号"
    assert jumin.item("電話番号_2").description == "繰返し 2/2 of 電話番号."
    assert (jumin.business, jumin.standard, jumin.standard_version) == ("住民基本台帳", "基本データリスト", "1.0")
    assert result.codes["性別"].codes == {"1": "男", "2": "女", "9": "不明"}
    assert result.codes["続柄"].codes == {"01": "世帯主", "02": "妻"}
    assert result.skipped == (("表紙", "cover"), ("改訂履歴", "revision history"))
    assert result.notes == ()


def test_written_files_read_back_as_the_same_layouts(tmp_path: Path) -> None:
    out = tmp_path / "pack" / "juki"
    result = mig.import_layouts(juki_workbook(tmp_path), out)
    assert sorted(p.name for p in out.iterdir()) == ["codes.toml", "layout-01.toml", "layout-02.toml"]
    for imported in result.layouts:
        again = load_layout_file(out / imported.file)
        assert again.items == imported.layout.items
        assert (again.id, again.name, again.business) == (imported.layout.id, imported.sheet, "住民基本台帳")
        assert again.codes == result.codes
    assert not list(tmp_path.glob("pack/.*"))  # no temporary left beside it


def test_output_is_byte_identical_for_the_same_workbook(tmp_path: Path) -> None:
    book = juki_workbook(tmp_path)
    mig.import_layouts(book, tmp_path / "a")
    mig.import_layouts(book, tmp_path / "b")
    for name in ("codes.toml", "layout-01.toml", "layout-02.toml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_second_revision_imports_with_its_changes(tmp_path: Path) -> None:
    old = mig.import_layouts(juki_workbook(tmp_path, 1))
    new = mig.import_layouts(juki_workbook(tmp_path, 2))
    assert new.layouts[0].layout.standard_version == "1.1"
    new_jumin, new_setai = (x.layout for x in new.layouts)
    assert shape(new_jumin) == [
        *[(n, t, 100 if n == "氏名" else length, s, r, c) for n, t, length, s, r, c in JUMIN],
        ("国籍", "混在文字", 40, 0, False, None),
    ]
    assert [i.name for i in new_setai.items] == ["世帯番号", "世帯主名", "続柄", "世帯設定年月"]
    assert new.codes["性別"].codes == {**old.codes["性別"].codes, "3": "その他"}


@pytest.mark.parametrize("options", [
    {"strict": True}, {"shared_strings": False}, {"phonetic": True},
], ids=["strict-namespaces", "inline-strings", "phonetic-runs"])
def test_workbook_variants_read_alike(tmp_path: Path, options: dict[str, bool]) -> None:
    result = mig.import_layouts(juki_workbook(tmp_path, **options))
    assert [shape(x.layout) for x in result.layouts] == [JUMIN, SETAI]


def test_cli_json_lists_what_it_wrote(tmp_path: Path) -> None:
    book = juki_workbook(tmp_path)
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["layouts", "import", str(book), "--out", str(out), "--json",
                                    "--id-prefix", "kihon-juki", "--version", "2.1"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert [(x["id"], x["sheet"], x["items"], x["file"]) for x in data["layouts"]] == [
        ("kihon-juki-01", "住民", 8, "kihon-juki-01.toml"), ("kihon-juki-02", "世帯", 4, "kihon-juki-02.toml"),
    ]
    assert data["layouts"][0]["standard_version"] == "2.1"
    assert data["codes"] == {"file": "codes.toml", "tables": ["性別", "続柄"]}
    assert data["out"] == str(out.resolve())
    assert sorted(p.name for p in out.iterdir()) == ["codes.toml", "kihon-juki-01.toml", "kihon-juki-02.toml"]


def test_override_file_maps_unusual_headers_and_words(tmp_path: Path) -> None:
    sheet = SheetSpec("Sheet1", grid([
        ["連番", "フィールド", "種別", "長さ", "要否"],
        [1, "識別番号", "NUM", 10, "Y"],
        [2, "カナ氏名", "KANA", 40, None],
    ]))
    book = write_xlsx(tmp_path / "vendor.xlsx", [sheet])
    columns = tmp_path / "columns.toml"
    columns.write_text(
        'required = ["Y"]\n'
        '[columns]\n"フィールド" = "name"\n"種別" = "type"\n"長さ" = "length"\n"要否" = "required"\n'
        '[types]\nNUM = "数字"\nKANA = "全角文字"\n'
        '[ids]\nSheet1 = "vendor-person"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="no recognisable layout sheet"):
        mig.import_layouts(book, standard="独自", business="住民基本台帳")
    result = mig.import_layouts(book, standard="独自", business="住民基本台帳", columns=columns)
    (imported,) = result.layouts
    assert imported.layout.id == "vendor-person"
    assert shape(imported.layout) == [("識別番号", "数字", 10, 0, True, None), ("カナ氏名", "全角文字", 40, 0, False, None)]


def test_uninterpreted_cells_are_reported_with_their_address(tmp_path: Path) -> None:
    sheet = SheetSpec("住民", grid([
        ["項目名称", "データ型", "桁数", "必須", "入力例"],
        ["氏名", "混在", 60, "△", "山田"],
        ["住所", "混在", 100, None, None],
        ["注: 入力例は架空"],
        ["後続", "全角", 10, None, None],
    ]))
    book = write_xlsx(tmp_path / "住民基本台帳_基本データリスト.xlsx", [sheet])
    result = mig.import_layouts(book)
    assert [i.name for i in result.layouts[0].layout.items] == ["氏名", "住所"]
    assert [(n.cell, n.message) for n in result.notes] == [
        ("住民!E1", "column header '入力例' not recognised; column not read"),
        ("住民!D2", "required mark '△' not recognised; item taken as optional"),
        ("住民!A4", "note line: the table ends here; rows 5–5 are not read"),
    ]


def bad_workbook(tmp_path: Path, rows: list[list[str | int | float | None]], codes: bool = False) -> Path:
    sheets = [SheetSpec("住民", grid(rows))]
    if codes:
        sheets.append(SheetSpec("コード", grid([["コード名称", "コード", "内容"], ["性別", 1, "男"]])))
    return write_xlsx(tmp_path / "住民基本台帳_基本データリスト.xlsx", sheets)


HEADER = ["項番", "項目名称", "データ型", "桁数", "コード名称"]


@pytest.mark.parametrize(("rows", "message"), [
    ([["項番", "名前", "データ型", "桁数"], [1, "氏名", "混在", 60]],
     "住民!A1: the header names データ型 and 桁数 but no 項目名称 column"),
    ([HEADER, [1, "氏名", "漢字", 60]], "住民!C2: unknown type word '漢字'"),
    ([HEADER, [1, "氏名", "混在", "60桁"]], "住民!D2: 桁数 '60桁' is not a number"),
    ([HEADER, [1, "性別", "コード", 1, "続柄"]], "住民!E2: code table '続柄' is not in the workbook (code tables: 性別)"),
    ([HEADER, [1, "氏名", "混在", 60], [2, "氏名", "全角", 60]], "住民!B3: item '氏名' appears twice in the sheet (also 住民!B2)"),
    ([["版", "日付", "変更内容"], ["1.0", "2024", "初版"]], "no recognisable layout sheet (住民: no layout or code-list header"),
], ids=["no-name-column", "unknown-type", "length-not-number", "code-table-absent", "duplicate-item", "no-layout-sheet"])
def test_bad_workbooks_exit_2_naming_the_cell(
    tmp_path: Path, rows: list[list[str | int | float | None]], message: str
) -> None:
    book = bad_workbook(tmp_path, rows, codes=True)
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["layouts", "import", str(book), "--out", str(out)])
    assert run.exit_code == 2, run.output
    assert message in run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_not_an_xlsx_encrypted_or_a_bomb_exit_2(tmp_path: Path) -> None:
    text = tmp_path / "a.xlsx"
    text.write_text("項目名称,データ型\n", encoding="utf-8")
    ole = tmp_path / "b.xlsx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    broken = tmp_path / "c.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    bomb = tmp_path / "d.xlsx"
    book = juki_workbook(tmp_path)
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":
                data = data.replace(b"</worksheet>", b"<!--" + b" " * (20 * 1024 * 1024) + b"--></worksheet>")
            target.writestr(info.filename, data)
    expected = {
        text: "not an xlsx workbook (no zip signature)",
        ole: "an OLE compound file — a password-protected (encrypted) workbook or a legacy .xls",
        broken: "not a readable zip archive",
        bomb: "xl/worksheets/sheet3.xml: refused (declares a compression ratio of",
        tmp_path / "missing.xlsx": "no such file",
    }
    for path, message in expected.items():
        run = CliRunner().invoke(main, [
            "layouts", "import", str(path), "--out", str(tmp_path / "out"), "--standard", "基本データリスト",
            "--business", "住民基本台帳",
        ])
        assert run.exit_code == 2, (path, run.output)
        assert message in run.stderr, run.stderr
        assert not (tmp_path / "out").exists()


def test_out_that_holds_files_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep", encoding="utf-8")
    run = CliRunner().invoke(main, ["layouts", "import", str(juki_workbook(tmp_path)), "--out", str(out)])
    assert run.exit_code == 2 and "not an empty directory" in run.stderr
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


def test_xml_entities_are_never_expanded(tmp_path: Path) -> None:
    book = juki_workbook(tmp_path)
    hostile = tmp_path / "e.xlsx"
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(hostile, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/sharedStrings.xml":
                data = data.replace(
                    b"<sst ", b'<!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/hostname">]><sst ', 1
                ).replace("氏名カナ".encode(), b"&x;")
            target.writestr(info.filename, data)
    with pytest.raises(ConfigError) as caught:
        mig.import_layouts(hostile)
    assert "/etc/hostname" not in str(caught.value)


def test_two_revisions_diff_with_exactly_their_changes(tmp_path: Path) -> None:
    """Import both revisions of the workbook, then `mig layouts diff` each pair of files:
    exactly the four changes of revision 2 (and the imported files say they are imported)."""
    runner = CliRunner()
    for revision in (1, 2):
        source = tmp_path / f"src{revision}"
        source.mkdir()
        book = juki_workbook(source, revision)
        done = runner.invoke(main, ["layouts", "import", str(book), "--out", str(tmp_path / f"v{revision}")])
        assert done.exit_code == 0, done.output
    found = {}
    for name in ("layout-01.toml", "layout-02.toml"):
        old, new = tmp_path / "v1" / name, tmp_path / "v2" / name
        assert load_layout_file(new).origin == "imported"
        done = runner.invoke(main, ["layouts", "diff", str(old), str(new), "--json"])
        assert done.exit_code == 1, done.output
        found[name] = [
            {k: v for k, v in d.items() if k != "new" or d["kind"] != "item-added"}
            for d in json.loads(done.output)["differences"]
        ]
    assert found["layout-01.toml"] == [
        {"kind": "item-changed", "item": "氏名", "field": "length", "old": "60", "new": "100"},
        {"kind": "item-added", "item": "国籍"},
        {"kind": "code-added", "table": "性別", "code": "3", "new": "その他"},
    ]
    assert found["layout-02.toml"] == [
        {"kind": "item-renamed", "item": "世帯主名", "old_item": "世帯主氏名", "old": "2"},
    ]
    same = runner.invoke(main, ["layouts", "diff", str(tmp_path / "v1" / "layout-02.toml"),
                                str(tmp_path / "v1" / "layout-02.toml")])
    assert same.exit_code == 0, same.output
