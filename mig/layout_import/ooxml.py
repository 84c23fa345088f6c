"""Reading the cells of an OOXML workbook (``.xlsx``), streamed, without Excel or openpyxl.

A workbook is a zip of XML parts. This module reads only what a specification workbook
needs: the sheet names in order (``xl/workbook.xml`` and its relationships), the shared
strings (without their phonetic ``rPh`` runs, the furigana of Japanese text), and each
sheet's cells and merged ranges. Sheet XML is parsed with :func:`lxml.etree.iterparse`
and every row is cleared once read, so memory holds the non-empty cell texts of one sheet,
not its XML tree. Both the transitional (``schemas.openxmlformats.org``) and the strict
(``purl.oclc.org/ooxml``) namespaces are read. Entities are never resolved and no DTD or
network resource is loaded.

The zip itself is opened by the caller through :class:`Members` (mig's hostile-zip reader,
:class:`mig.audit.package.ZipPackage`, which bounds entry sizes and compression ratios).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lxml import etree

from mig.errors import ConfigError

MAIN_NAMESPACES = frozenset({
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
})
REL_NAMESPACES = frozenset({
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
})
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOCUMENT = "/officeDocument"  # the end of the relationship type, in both namespaces

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK"
#: Cells beyond these are not addressable in Excel: a reference past them is corrupt.
MAX_ROW = 1_048_576
MAX_COLUMN = 16_384

_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


class _Entry(Protocol):
    @property
    def path(self) -> str: ...


class _Refusal(Protocol):
    @property
    def path(self) -> str: ...

    @property
    def detail(self) -> str: ...


class Members(Protocol):
    """The zip as the importer reads it: entries, refusals and a local copy of one entry."""

    @property
    def entries(self) -> Sequence[_Entry]: ...

    @property
    def refused(self) -> Sequence[_Refusal]: ...

    def local_file(self, entry: Any, name: str) -> AbstractContextManager[tuple[Path, Any]]: ...


def column_letters(column: int) -> str:
    """``1`` → ``A``, ``28`` → ``AB``.

    >>> column_letters(1), column_letters(26), column_letters(28), column_letters(16384)
    ('A', 'Z', 'AB', 'XFD')
    """
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_address(row: int, column: int) -> str:
    """``(14, 4)`` → ``D14``."""
    return f"{column_letters(column)}{row}"


def parse_ref(ref: str) -> tuple[int, int] | None:
    """``D14`` → ``(14, 4)``; ``None`` when ``ref`` is not a cell reference in Excel's range.

    >>> parse_ref("D14"), parse_ref("$A$1"), parse_ref("XFE1"), parse_ref("A0")
    ((14, 4), (1, 1), None, None)
    """
    match = _CELL_REF.fullmatch(ref.replace("$", ""))
    if not match:
        return None
    column = 0
    for letter in match.group(1):
        column = column * 26 + ord(letter) - ord("A") + 1
    row = int(match.group(2))
    if not (1 <= row <= MAX_ROW and 1 <= column <= MAX_COLUMN):
        return None
    return row, column


@dataclass(frozen=True)
class Merge:
    """A merged range, inclusive."""

    top: int
    left: int
    bottom: int
    right: int

    def contains(self, row: int, column: int) -> bool:
        return self.top <= row <= self.bottom and self.left <= column <= self.right


@dataclass
class Sheet:
    """The non-empty cells of one sheet (text as Excel shows it, unformatted) and its merges."""

    name: str
    cells: dict[tuple[int, int], str] = field(default_factory=dict)
    merges: list[Merge] = field(default_factory=list)

    def text(self, row: int, column: int) -> str:
        """The cell's own text ('' for an empty cell or a covered cell of a merge)."""
        return self.cells.get((row, column), "")

    def shown(self, row: int, column: int) -> str:
        """What Excel shows at the cell: the text of the merge's top-left cell if merged."""
        merge = self.merge_at(row, column)
        if merge is not None:
            return self.text(merge.top, merge.left)
        return self.text(row, column)

    def merge_at(self, row: int, column: int) -> Merge | None:
        for merge in self.merges:
            if merge.contains(row, column):
                return merge
        return None

    def rows(self) -> list[int]:
        """Row numbers holding at least one non-empty cell, in order."""
        return sorted({row for row, _ in self.cells})

    def row_cells(self, row: int) -> dict[int, str]:
        return {c: t for (r, c), t in self.cells.items() if r == row}


def _local(tag: object) -> tuple[str, str]:
    """(namespace, local name) of an element tag."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _is_main(element: Any, local: str) -> bool:
    namespace, name = _local(element.tag)
    return name == local and namespace in MAIN_NAMESPACES


def _text_of(element: Any) -> str:
    """The text of a string item (``si``/``is``): its ``t`` and rich-text runs' ``t``, not ``rPh``."""
    parts: list[str] = []
    for child in element:
        _, name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            for run_child in child:
                if _local(run_child.tag)[1] == "t":
                    parts.append(run_child.text or "")
    return "".join(parts)


class Workbook:
    """The sheets of an xlsx, read through :class:`Members`."""

    def __init__(self, source: str, members: Members) -> None:
        self.source = source
        self._members = members
        self._entries = {e.path: e for e in members.entries}
        self._refused = {r.path: r.detail for r in members.refused}
        book = self._workbook_part()
        self._book = book
        self._sheets = self._sheet_targets(book)
        self._strings = self._shared_strings(book)

    @property
    def sheet_names(self) -> list[str]:
        return [name for name, _ in self._sheets]

    def sheets(self) -> Iterator[Sheet]:
        """Every sheet, in workbook order, read one at a time."""
        for name, target in self._sheets:
            yield self._read_sheet(name, target)

    # -- parts -----------------------------------------------------------------------------

    def _fail(self, part: str, why: str) -> ConfigError:
        return ConfigError(f"{self.source}: {part}: {why}")

    def _has(self, part: str) -> bool:
        return part in self._entries

    def _iterparse(self, part: str, tags: Sequence[str] | None = None) -> Iterator[tuple[str, Any]]:
        """(event, element) of ``part``; a refused or missing member is a one-line error."""
        if part in self._refused:
            raise self._fail(part, f"refused ({self._refused[part]})")
        if part not in self._entries:
            raise self._fail(part, "missing from the workbook")
        with self._members.local_file(self._entries[part], "part.xml") as (path, _digest):
            try:
                yield from etree.iterparse(
                    str(path), events=("start", "end"), resolve_entities=False, no_network=True,
                    load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True,
                )
            except etree.XMLSyntaxError as exc:
                line = exc.lineno if exc.lineno else "?"
                raise self._fail(part, f"not well-formed XML (line {line})") from None

    def _relationships(self, part: str) -> dict[str, str]:
        """Id → target part (resolved against ``part``'s folder) of ``part``'s relationships."""
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", name + ".rels")
        found: dict[str, str] = {}
        if not self._has(rels):
            return found
        for event, element in self._iterparse(rels):
            if event != "end" or _local(element.tag) != (PACKAGE_RELS, "Relationship"):
                continue
            target = element.get("Target") or ""
            if element.get("TargetMode") == "External":
                continue
            resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target)
            )
            found[element.get("Id") or ""] = resolved
            found["type:" + (element.get("Type") or "")] = resolved
        return found

    def _workbook_part(self) -> str:
        for key, target in self._relationships("").items():
            if key.startswith("type:") and key.endswith(OFFICE_DOCUMENT):
                return target
        return "xl/workbook.xml"

    def _sheet_targets(self, book: str) -> list[tuple[str, str]]:
        rels = self._relationships(book)
        sheets: list[tuple[str, str]] = []
        main_seen = False
        for event, element in self._iterparse(book):
            if event != "end":
                continue
            if _is_main(element, "workbook"):
                main_seen = True
            if not _is_main(element, "sheet"):
                continue
            name = element.get("name") or ""
            rid = next(
                (v for k, v in element.attrib.items() if _local(k) in {(ns, "id") for ns in REL_NAMESPACES}),
                None,
            )
            target = rels.get(rid or "")
            if target is None:
                raise self._fail(book, f"sheet {name!r} has no target part")
            sheets.append((name, target))
        if not main_seen:
            raise self._fail(book, "not a SpreadsheetML workbook")
        return sheets

    def _shared_strings(self, book: str) -> list[str]:
        rels = self._relationships(book)
        part = next(
            (t for k, t in rels.items() if k.startswith("type:") and k.endswith("/sharedStrings")), None
        )
        if part is None or not self._has(part):
            return []
        strings: list[str] = []
        for event, element in self._iterparse(part):
            if event == "end" and _is_main(element, "si"):
                strings.append(_text_of(element))
                element.clear()
        return strings

    def _read_sheet(self, name: str, part: str) -> Sheet:
        sheet = Sheet(name)
        row = 0
        column = 0
        for event, element in self._iterparse(part):
            namespace, local = _local(element.tag)
            if namespace not in MAIN_NAMESPACES:
                continue
            if event == "start":
                if local == "row":
                    given = element.get("r")
                    row = int(given) if given and given.isdigit() else row + 1
                    column = 0
                    if not 1 <= row <= MAX_ROW:
                        raise self._fail(part, f"row number {given} outside the sheet")
                continue
            if local == "c":
                ref = element.get("r")
                if ref is not None:
                    position = parse_ref(ref)
                    if position is None:
                        raise self._fail(part, f"cell reference {ref!r} is not a cell address")
                    row, column = position
                else:
                    column += 1
                    if column > MAX_COLUMN:
                        raise self._fail(part, f"row {row} has more than {MAX_COLUMN} cells")
                text = self._cell_text(element, part, cell_address(row, column))
                if text:
                    sheet.cells[(row, column)] = text
                element.clear()
            elif local == "row":
                element.clear()
                while element.getprevious() is not None:  # drop rows already read
                    del element.getparent()[0]
            elif local == "mergeCell":
                ref = element.get("ref") or ""
                first, _, last = ref.partition(":")
                start, end = parse_ref(first), parse_ref(last or first)
                if start is None or end is None:
                    raise self._fail(part, f"merged range {ref!r} is not a range")
                sheet.merges.append(Merge(
                    min(start[0], end[0]), min(start[1], end[1]), max(start[0], end[0]), max(start[1], end[1])
                ))
        return sheet

    def _cell_text(self, element: Any, part: str, address: str) -> str:
        kind = element.get("t") or "n"
        if kind == "inlineStr":
            for child in element:
                if _is_main(child, "is"):
                    return _text_of(child)
            return ""
        value = ""
        for child in element:
            if _is_main(child, "v"):
                value = child.text or ""
        if kind == "s" and value:
            if not value.isdigit() or int(value) >= len(self._strings):
                raise self._fail(part, f"cell {address} refers to shared string {value!r} of {len(self._strings)}")
            return self._strings[int(value)]
        if kind == "b":
            return {"1": "TRUE", "0": "FALSE"}.get(value, value)
        return value


def sniff(path: Path) -> None:
    """Refuse what cannot be an xlsx before opening it as a zip (one line, exit 2).

    An OLE compound file is either an encrypted OOXML workbook (Excel wraps encrypted
    workbooks in one) or a legacy ``.xls``; neither is read.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not an xlsx workbook") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if head == OLE_SIGNATURE:
        raise ConfigError(
            f"{path}: an OLE compound file — a password-protected (encrypted) workbook or a legacy "
            ".xls; save it unprotected as .xlsx"
        )
    if not head.startswith(ZIP_SIGNATURE):
        raise ConfigError(f"{path}: not an xlsx workbook (no zip signature)")
