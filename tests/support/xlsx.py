"""Writing small .xlsx workbooks as raw OOXML with zipfile, for the importer's tests.

Only what a specification workbook uses: sheets of cells (text as shared strings or inline
strings, numbers), merged ranges, transitional or strict namespaces. No Excel, no openpyxl.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

TRANSITIONAL = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "doc": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
    "sheet": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet",
    "strings": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings",
}
STRICT = {
    "main": "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "rel": "http://purl.oclc.org/ooxml/officeDocument/relationships",
    "doc": "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
    "sheet": "http://purl.oclc.org/ooxml/officeDocument/relationships/worksheet",
    "strings": "http://purl.oclc.org/ooxml/officeDocument/relationships/sharedStrings",
}
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass
class SheetSpec:
    """A sheet: ``cells`` maps ``"B3"`` to text (a str) or a number (an int or float)."""

    name: str
    cells: dict[str, str | int | float] = field(default_factory=dict)
    merges: list[str] = field(default_factory=list)


def grid(rows: list[list[str | int | float | None]], *, top: int = 1, left: int = 1) -> dict[str, str | int | float]:
    """Cells from a list of rows (``None`` or ``""`` for an empty cell)."""
    cells: dict[str, str | int | float] = {}
    for r, row in enumerate(rows, top):
        for c, value in enumerate(row, left):
            if value is not None and value != "":
                cells[f"{letters(c)}{r}"] = value
    return cells


def letters(column: int) -> str:
    out = ""
    while column:
        column, rest = divmod(column - 1, 26)
        out = chr(65 + rest) + out
    return out


def _position(ref: str) -> tuple[int, int]:
    match = re.fullmatch(r"([A-Z]+)([0-9]+)", ref)
    assert match, ref
    column = 0
    for char in match.group(1):
        column = column * 26 + ord(char) - 64
    return int(match.group(2)), column


def write_xlsx(
    path: Path, sheets: list[SheetSpec], *, strict: bool = False, shared_strings: bool = True,
    phonetic: bool = False,
) -> Path:
    """Write ``sheets`` as an xlsx at ``path`` (deterministic bytes).

    ``shared_strings=False`` writes text as inline strings; ``phonetic`` adds a furigana
    run (``rPh``) to every shared string, which a reader must not take as text.
    """
    ns = STRICT if strict else TRANSITIONAL
    strings: list[str] = []
    index: dict[str, int] = {}
    parts: dict[str, str] = {}
    for n, sheet in enumerate(sheets, 1):
        rows: dict[int, list[tuple[int, str]]] = {}
        for ref, value in sheet.cells.items():
            row, column = _position(ref)
            if isinstance(value, str):
                if shared_strings:
                    if value not in index:
                        index[value] = len(strings)
                        strings.append(value)
                    xml = f'<c r="{ref}" t="s"><v>{index[value]}</v></c>'
                else:
                    xml = f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
            else:
                xml = f'<c r="{ref}"><v>{value}</v></c>'
            rows.setdefault(row, []).append((column, xml))
        body = "".join(
            f'<row r="{r}">' + "".join(x for _, x in sorted(rows[r])) + "</row>" for r in sorted(rows)
        )
        merges = ""
        if sheet.merges:
            merges = f'<mergeCells count="{len(sheet.merges)}">' + "".join(
                f'<mergeCell ref="{m}"/>' for m in sheet.merges
            ) + "</mergeCells>"
        parts[f"xl/worksheets/sheet{n}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{ns["main"]}" '
            f'xmlns:r="{ns["rel"]}"><sheetData>{body}</sheetData>{merges}</worksheet>'
        )
    sheet_list = "".join(
        f'<sheet name={quoteattr(s.name)} sheetId="{n}" r:id="rId{n}"/>' for n, s in enumerate(sheets, 1)
    )
    parts["xl/workbook.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{ns["main"]}" '
        f'xmlns:r="{ns["rel"]}"><sheets>{sheet_list}</sheets></workbook>'
    )
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{ns["sheet"]}" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(sheets) + 1)
    )
    if shared_strings:
        rels += f'<Relationship Id="rId{len(sheets) + 1}" Type="{ns["strings"]}" Target="sharedStrings.xml"/>'
        ruby = '<rPh sb="0" eb="1"><t>ヨミ</t></rPh>' if phonetic else ""
        items = "".join(f'<si><t xml:space="preserve">{escape(s)}</t>{ruby}</si>' for s in strings)
        parts["xl/sharedStrings.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{ns["main"]}" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
        )
    parts["xl/_rels/workbook.xml.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PACKAGE_RELS}">{rels}</Relationships>'
    )
    parts["_rels/.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PACKAGE_RELS}">'
        f'<Relationship Id="rId1" Type="{ns["doc"]}" Target="xl/workbook.xml"/></Relationships>'
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, len(sheets) + 1)
    )
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}</Types>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"] + sorted(
            n for n in parts if n.startswith("xl/") and n not in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
        ):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, parts[name])
    return path


def juki_workbook(folder: Path, revision: int = 1, **options: bool) -> Path:
    """A small 住民基本台帳 基本データリスト-shaped workbook: cover, revision history, two
    layout sheets (住民: title line, two-row merged header with 桁数 over 整数部 / 小数部, a
    group heading, a 繰返し item, a note line; 世帯: one-row header in synonyms) and a
    code-list sheet. ``revision=2`` changes it: 氏名 60 → 100, 国籍 added after 氏名カナ,
    世帯主氏名 renamed 世帯主名, 性別 code 3 その他 added."""
    version = {1: "1.0", 2: "1.1"}[revision]
    name_length = 100 if revision == 2 else 60
    jumin_rows: list[list[str | int | float | None]] = [
        ["項番", "項目名称", "データ型", "桁数", None, "必須", "繰返し", "コード名称", "備考"],
        [None, None, None, "整数部", "小数部", None, None, None, None],
        [1, "宛名番号", "数字", 15, None, "○", None, None, "団体内統一宛名番号"],
        [2, "氏名", "混在", name_length, None, "◎", None, None, None],
        ["【基本情報】"],
        [3, "性別", "コード", 1, None, "○", None, "性別", None],
        [4, "生年月日", "年月日", 8, None, "○", None, None, None],
        [5, "電話番号", "半角", 15, None, None, 2, None, None],
        [6, "所得金額", "金額", 10, 2, None, None, None, None],
        [7, "氏名カナ", "全角文字", 60, None, "任意", None, None, None],
    ]
    if revision == 2:
        jumin_rows.append([8, "国籍", "混在文字", 40, None, None, None, None, None])
    note_row = 3 + len(jumin_rows)
    jumin_rows.append(["※ 必須欄の ○ は必須項目。"])
    jumin = SheetSpec(
        "住民",
        {"A1": "住民 レイアウト", **grid(jumin_rows, top=3)},
        ["A3:A4", "B3:B4", "C3:C4", "D3:E3", "F3:F4", "G3:G4", "H3:H4", "I3:I4", "A7:I7"],
    )
    assert note_row > 10
    setai = SheetSpec("世帯", grid([
        ["世帯 (setai)"],
        ["No", "項目名", "型", "最大桁数", "必須区分", "コード表", "説明"],
        [1, "世帯番号", "数字", 15, "必須", None, None],
        [2, "世帯主名" if revision == 2 else "世帯主氏名", "全角", 60, None, None, None],
        [3, "続柄", "コード", 2, None, "続柄", "世帯主との続柄"],
        [4, "世帯設定年月", "年月", 6, None, None, None],
    ]))
    code_rows: list[list[str | int | float | None]] = [
        ["コード名称", "コード", "内容"],
        ["性別", 1, "男"], [None, 2, "女"], [None, 9, "不明"],
    ]
    if revision == 2:
        code_rows.append([None, 3, "その他"])
    top_of_zokugara = 1 + len(code_rows)
    code_rows += [["続柄", "01", "世帯主"], [None, "02", "妻"]]
    codes = SheetSpec("コード一覧", grid(code_rows), [f"A2:A{top_of_zokugara - 1}"])
    cover = SheetSpec("表紙", grid([["住民基本台帳 基本データリスト"], [None], [f"第{version}版"]]))
    history = SheetSpec("改訂履歴", grid([
        ["版", "日付", "変更内容", "項目名称"], ["1.0", "2024-01-01", "初版", None],
    ] + ([["1.1", "2024-04-01", "桁数変更", "氏名"]] if revision == 2 else [])))
    path = folder / f"001_住民基本台帳_基本データリスト【第{version}版】_20240101.xlsx"
    return write_xlsx(path, [cover, history, jumin, setai, codes], **options)
