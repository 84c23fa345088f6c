"""Reading layout and code-list sheets by their headers, never by position.

Rules (issue 15; README "Importing a specification workbook"):

- the header row is searched within the first ``header_rows`` rows; it may span two rows
  (``桁数`` merged over ``整数部`` / ``小数部``). A *layout* header names 項目名称 and a
  データ型 or 桁数 column; a *code-list* header names a table (コード名称 / コード表), a
  code (コード) and a label (内容 / 名称). A header with データ型 and 桁数 but no 項目名称 is an
  error, not a sheet to skip;
- cover, revision-history and index sheets are recognised by name and skipped; so is a
  sheet with no header (each skip is reported with its reason);
- a row whose first text starts with a note mark (※, 注, *) or that has text but no
  項目名称 ends the table (rows after it are reported, not read); a row that is one cell
  merged across columns is a group heading and is skipped;
- every cell the importer could not interpret is either an error (type word, length,
  repeat count, duplicate item, missing code table) or a :class:`Note` with its address.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from mig.errors import ConfigError
from mig.layout import DATA_TYPES
from mig.layout_import.ooxml import Sheet, cell_address
from mig.schema import unknown_keys_error

#: Header text (normalised: NFKC, no spaces, ASCII lower-case) → field.
HEADER_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(["項番", "項目番号", "no", "no.", "番号", "連番"], "no"),
    **dict.fromkeys(["項目名称", "項目名"], "name"),
    **dict.fromkeys(["データ型", "型", "属性", "データタイプ"], "type"),
    **dict.fromkeys(["桁数", "最大桁数", "桁"], "length"),
    "整数部": "integer",
    "小数部": "fraction",
    **dict.fromkeys(["バイト数", "最大バイト数"], "bytes"),
    **dict.fromkeys(["必須", "必須区分"], "required"),
    **dict.fromkeys(["繰返し", "繰返し回数", "繰り返し", "繰り返し回数", "繰返回数"], "repeat"),
    **dict.fromkeys(["コード名称", "コード表", "コード表名"], "code"),
    "コード": "code",
    **dict.fromkeys(["備考", "説明"], "description"),
}
#: In a code-list sheet: the table name, the code and its label.
CODE_SHEET_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(["コード名称", "コード表", "コード表名"], "table"),
    **dict.fromkeys(["コード", "コード値"], "value"),
    **dict.fromkeys(["内容", "名称", "コード内容", "意味"], "label"),
    **dict.fromkeys(["備考", "説明"], "description"),
}
FIELD_LABELS = {
    "no": "項番", "name": "項目名称", "type": "データ型", "length": "桁数", "integer": "整数部",
    "fraction": "小数部", "bytes": "バイト数", "required": "必須", "repeat": "繰返し",
    "code": "コード名称", "description": "備考", "ignore": "(ignored)",
    "table": "コード名称", "value": "コード", "label": "内容",
}
LAYOUT_FIELDS = frozenset({
    "no", "name", "type", "length", "integer", "fraction", "bytes", "required", "repeat", "code",
    "description", "ignore",
})

#: Type words → the layout model's types.
TYPE_WORDS: dict[str, str] = {
    **dict.fromkeys(["全角", "全角文字"], "全角文字"),
    **dict.fromkeys(["半角", "半角文字", "英数", "英数字"], "半角文字"),
    **dict.fromkeys(["混在", "混在文字"], "混在文字"),
    "数字": "数字",
    **dict.fromkeys(["数値", "金額"], "数値"),
    **dict.fromkeys(["日付", "年月日"], "日付"),
    "年月": "年月",
    "コード": "コード",
}
REQUIRED_MARKS = frozenset({"○", "◎", "必須", "要", "1"})
OPTIONAL_MARKS = frozenset({"", "任意", "-", "−", "―", "ー", "0"})

#: Sheet names (normalised) of the sheets that are never layouts.
SKIP_NAMES: tuple[tuple[str, str], ...] = (
    ("表紙", "cover"), ("cover", "cover"),
    ("履歴", "revision history"), ("revision", "revision history"), ("history", "revision history"),
    ("目次", "index"), ("索引", "index"), ("index", "index"), ("contents", "index"),
)
NOTE_MARKS = ("※", "注", "*", "(注")
DEFAULT_HEADER_ROWS = 20


def normalise(text: str) -> str:
    """Header or word text as compared: NFKC, no white space, ASCII lower-case.

    >>> normalise(" 項目\\n名称 "), normalise("Ｎｏ．"), normalise("全角 文字")
    ('項目名称', 'no.', '全角文字')
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


@dataclass(frozen=True)
class Note:
    """A cell the importer did not use as it stands, with why (``cell`` like ``住民!D14``)."""

    cell: str
    message: str


@dataclass(frozen=True)
class Overrides:
    """The column-mapping override file (TOML): for workbooks whose headers are unusual.

    ``columns``: header text → field (``name``, ``type``, ``length``, … or ``ignore``);
    ``types``: type word → layout type; ``required`` / ``optional``: extra marks;
    ``skip_sheets``: sheet names never read; ``ids``: sheet name → layout id;
    ``header_rows``: how many rows to search for the header.
    """

    columns: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    skip_sheets: frozenset[str] = frozenset()
    ids: dict[str, str] = field(default_factory=dict)
    header_rows: int = DEFAULT_HEADER_ROWS

    KEYS = ("columns", "types", "required", "optional", "skip_sheets", "ids", "header_rows")

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> Overrides:
        unknown = set(raw) - set(cls.KEYS)
        if unknown:
            raise unknown_keys_error(where, unknown, cls.KEYS)

        def table(key: str) -> dict[str, str]:
            value = raw.get(key, {})
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ConfigError(f"{where}: {key!r} must be a table of strings")
            return {str(k): v for k, v in value.items()}

        def strings(key: str) -> frozenset[str]:
            value = raw.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: {key!r} must be a list of strings")
            return frozenset(value)

        columns = {normalise(k): v for k, v in table("columns").items()}
        for header, target in columns.items():
            if target not in LAYOUT_FIELDS:
                raise ConfigError(
                    f"{where}: columns.{header} = {target!r}; known fields: {', '.join(sorted(LAYOUT_FIELDS))}"
                )
        types = {normalise(k): v for k, v in table("types").items()}
        for word, target in types.items():
            if target not in DATA_TYPES:
                raise ConfigError(f"{where}: types.{word} = {target!r}; known: {', '.join(DATA_TYPES)}")
        header_rows = raw.get("header_rows", DEFAULT_HEADER_ROWS)
        if not isinstance(header_rows, int) or isinstance(header_rows, bool) or not 1 <= header_rows <= 1000:
            raise ConfigError(f"{where}: 'header_rows' must be an integer 1..1000")
        return cls(
            columns=columns, types=types,
            required=frozenset(normalise(m) for m in strings("required")),
            optional=frozenset(normalise(m) for m in strings("optional")),
            skip_sheets=strings("skip_sheets"), ids=table("ids"), header_rows=header_rows,
        )


@dataclass
class RawItem:
    """An item row as read, before it becomes a layout :class:`~mig.layout.Item`."""

    where: str  # the 項目名称 cell, e.g. 住民!B7
    fields: dict[str, Any]
    code_cell: str = ""


@dataclass
class LayoutSheet:
    name: str
    items: list[RawItem]


@dataclass
class CodeEntry:
    table: str
    value: str
    label: str
    where: str


@dataclass
class SheetResult:
    """What one sheet held: a layout, code entries, or nothing (``skipped`` says why)."""

    layout: LayoutSheet | None = None
    codes: list[CodeEntry] = field(default_factory=list)
    skipped: str = ""
    notes: list[Note] = field(default_factory=list)


def _number(text: str) -> int | None:
    """A whole number from a cell ('10', '１０', '10.0'), or None."""
    value = normalise(text)
    if re.fullmatch(r"[0-9]+", value):
        return int(value)
    if re.fullmatch(r"[0-9]+\.0+", value):
        return int(value.split(".")[0])
    return None


class SheetReader:
    """Reads one sheet by its header; see the module docstring for the rules."""

    def __init__(self, sheet: Sheet, overrides: Overrides) -> None:
        self.sheet = sheet
        self.o = overrides
        self.notes: list[Note] = []

    def at(self, row: int, column: int) -> str:
        return f"{self.sheet.name}!{cell_address(row, column)}"

    def fail(self, row: int, column: int, why: str) -> ConfigError:
        return ConfigError(f"{self.at(row, column)}: {why}")

    def note(self, row: int, column: int, why: str) -> None:
        self.notes.append(Note(self.at(row, column), why))

    # -- the sheet as a whole --------------------------------------------------------------

    def read(self) -> SheetResult:
        name = self.sheet.name
        if name in self.o.skip_sheets:
            return SheetResult(skipped="listed in skip_sheets")
        key = normalise(name)
        for word, reason in SKIP_NAMES:
            if word in key:
                return SheetResult(skipped=reason)
        rows = self.sheet.rows()
        for row in rows:
            if row > self.o.header_rows:
                break
            fields = self._layout_header(row)
            if fields is not None:
                return self._read_layout(row, fields)
            codes = self._code_header(row)
            if codes is not None:
                return self._read_codes(row, codes)
        return SheetResult(skipped=f"no layout or code-list header in the first {self.o.header_rows} rows")

    # -- headers ---------------------------------------------------------------------------

    def _layout_field(self, text: str) -> str | None:
        key = normalise(text)
        return self.o.columns.get(key) or HEADER_SYNONYMS.get(key)

    def _two_rows(self, row: int) -> bool:
        """Does the header at ``row`` go on into the next row (merged down, or 整数部 / 小数部)?"""
        for column in self.sheet.row_cells(row):
            merge = self.sheet.merge_at(row, column)
            if merge is not None and merge.top == row and merge.bottom > row:
                return True
        return any(
            self._layout_field(text) in ("integer", "fraction")
            for text in self.sheet.row_cells(row + 1).values()
        )

    def _header_columns(self, row: int, fields_of: Any) -> tuple[dict[int, str], int, dict[int, str]]:
        """(column → field, last header row, column → unrecognised header text)."""
        two = self._two_rows(row)
        columns = set(self.sheet.row_cells(row)) | (set(self.sheet.row_cells(row + 1)) if two else set())
        for merge in self.sheet.merges:
            if merge.top <= row <= merge.bottom:
                columns.update(range(merge.left, merge.right + 1))
        found: dict[int, str] = {}
        unknown: dict[int, str] = {}
        for column in sorted(columns):
            top = self.sheet.shown(row, column)
            sub = self.sheet.text(row + 1, column) if two else ""
            field_name = (fields_of(sub) if sub else None) or fields_of(top)
            if field_name is not None:
                found[column] = field_name
            elif (sub or top) and (sub or top).strip():
                unknown[column] = sub or top
        return found, row + 1 if two else row, unknown

    def _layout_header(self, row: int) -> tuple[dict[int, str], int, dict[int, str]] | None:
        cells = self.sheet.row_cells(row)
        words = {self._layout_field(t) for t in cells.values()}
        if "name" not in words and not {"type", "length"} <= words:
            return None
        found, last, unknown = self._header_columns(row, self._layout_field)
        kinds = set(found.values())
        if "name" not in kinds:
            if {"type", "length"} <= kinds:
                column = min(cells)
                raise self.fail(
                    row, column,
                    "the header names データ型 and 桁数 but no 項目名称 column (項目名称 / 項目名; "
                    "or map the column in the override file's [columns])",
                )
            return None
        if not kinds & {"type", "length", "integer"}:
            return None
        return found, last, unknown

    def _code_header(self, row: int) -> dict[int, str] | None:
        fields = {c: CODE_SHEET_SYNONYMS.get(normalise(t)) for c, t in self.sheet.row_cells(row).items()}
        kinds = [f for f in fields.values() if f]
        if not {"table", "value", "label"} <= set(kinds):
            return None
        return {c: f for c, f in fields.items() if f}

    def _unique_columns(self, row: int, found: dict[int, str]) -> dict[str, int]:
        by_field: dict[str, int] = {}
        for column, name in sorted(found.items()):
            if name == "ignore":
                continue
            if name in by_field:
                raise self.fail(
                    row, column,
                    f"two columns read as {FIELD_LABELS[name]} ({cell_address(row, by_field[name])} "
                    f"and {cell_address(row, column)}); map one of them in the override file's [columns]",
                )
            by_field[name] = column
        return by_field

    # -- layout sheets ---------------------------------------------------------------------

    def _read_layout(self, row: int, header: tuple[dict[int, str], int, dict[int, str]]) -> SheetResult:
        found, last, unknown = header
        for column, text in sorted(unknown.items()):
            self.note(row, column, f"column header {text.strip()[:40]!r} not recognised; column not read")
        columns = self._unique_columns(row, found)
        name_column = columns["name"]
        items: list[RawItem] = []
        seen: dict[str, str] = {}
        rows = [r for r in self.sheet.rows() if r > last]
        for index, r in enumerate(rows):
            cells = self.sheet.row_cells(r)
            first_column = min(cells)
            first = cells[first_column].strip()
            name = cells.get(name_column, "").strip()
            if first.startswith(NOTE_MARKS) or (not name and not self._heading(r, cells)):
                if index + 1 < len(rows):
                    self.note(
                        r, first_column,
                        f"note line: the table ends here; rows {rows[index + 1]}–{rows[-1]} are not read",
                    )
                break
            if not name:
                continue  # a group heading
            item = self._item(r, columns, name)
            where = self.at(r, name_column)
            if name in seen:
                raise ConfigError(f"{where}: item {name!r} appears twice in the sheet (also {seen[name]})")
            seen[name] = where
            items.append(item)
        if not items:
            raise self.fail(row, name_column, "the layout header has no item rows under it")
        return SheetResult(layout=LayoutSheet(self.sheet.name, items), notes=self.notes)

    def _heading(self, row: int, cells: dict[int, str]) -> bool:
        """One cell merged across two or more columns: a group heading like 【基本情報】."""
        if len(cells) != 1:
            return False
        (column,) = cells
        merge = self.sheet.merge_at(row, column)
        return merge is not None and merge.right > merge.left

    def _item(self, row: int, columns: dict[str, int], name: str) -> RawItem:
        def text(field_name: str) -> tuple[str, int]:
            column = columns.get(field_name, 0)
            return (self.sheet.text(row, column).strip() if column else ""), column

        raw: dict[str, Any] = {"name": name}
        type_text, type_column = text("type")
        if not type_text:
            raise self.fail(row, type_column or columns["name"], f"item {name!r} has no データ型")
        word = normalise(type_text)
        data_type = self.o.types.get(word) or TYPE_WORDS.get(word)
        if data_type is None:
            raise self.fail(
                row, type_column,
                f"unknown type word {type_text[:40]!r}; known: {', '.join(TYPE_WORDS)} "
                "(or map it in the override file's [types])",
            )
        raw["type"] = data_type
        length_field = "integer" if "integer" in columns else "length"
        length_text, length_column = text(length_field)
        fraction_text, fraction_column = text("fraction")
        length = self._count(row, length_column, length_text, "桁数") if length_text else None
        fraction = self._count(row, fraction_column, fraction_text, "小数部") if fraction_text else 0
        if length is None:
            raise self.fail(row, length_column or type_column, f"item {name!r} has no 桁数")
        if "integer" in columns:
            length += fraction
        raw["length"] = length
        if fraction:
            raw["scale"] = fraction
        bytes_text, bytes_column = text("bytes")
        if bytes_text:
            raw["bytes"] = self._count(row, bytes_column, bytes_text, "バイト数")
        required_text, required_column = text("required")
        mark = normalise(required_text)
        if mark in REQUIRED_MARKS or mark in self.o.required:
            raw["required"] = True
        elif mark not in OPTIONAL_MARKS and mark not in self.o.optional:
            self.note(row, required_column, f"required mark {required_text[:20]!r} not recognised; item taken as optional")
        description, _ = text("description")
        if description:
            raw["description"] = description
        code_text, code_column = text("code")
        code_cell = ""
        if code_text:
            raw["code_table"] = code_text
            code_cell = self.at(row, code_column)
        repeat_text, repeat_column = text("repeat")
        if repeat_text and normalise(repeat_text) not in OPTIONAL_MARKS:
            raw["repeat"] = self._count(row, repeat_column, repeat_text, "繰返し回数")
        return RawItem(self.at(row, columns["name"]), raw, code_cell)

    def _count(self, row: int, column: int, text: str, what: str) -> int:
        value = _number(text)
        if value is None:
            raise self.fail(row, column, f"{what} {text[:20]!r} is not a number")
        return value

    # -- code-list sheets ------------------------------------------------------------------

    def _read_codes(self, row: int, found: dict[int, str]) -> SheetResult:
        columns = self._unique_columns(row, found)
        entries: list[CodeEntry] = []
        table = ""
        rows = [r for r in self.sheet.rows() if r > row]
        for index, r in enumerate(rows):
            cells = self.sheet.row_cells(r)
            first_column = min(cells)
            value = cells.get(columns["value"], "").strip()
            label = cells.get(columns["label"], "").strip()
            named = cells.get(columns["table"], "").strip()
            if cells[first_column].strip().startswith(NOTE_MARKS) or not (value or named):
                if self._heading(r, cells):
                    continue
                if index + 1 < len(rows):
                    self.note(
                        r, first_column,
                        f"note line: the table ends here; rows {rows[index + 1]}–{rows[-1]} are not read",
                    )
                break
            if named:
                table = named
            if not value:
                continue  # a table-name row above its codes
            if not table:
                raise self.fail(r, columns["table"], "a code with no コード名称 above it")
            entries.append(CodeEntry(table, value, label, self.at(r, columns["value"])))
        return SheetResult(codes=entries, notes=self.notes)
