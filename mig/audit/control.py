"""Control sources of a package: our ``manifest.json`` and control files as vendors write them.

A vendor that does not produce a run directory declares what it delivers in a control file
(a 件数表): found by its *content*, not its name — any CSV, TSV or simple xlsx (first
sheet) of the package whose header row names a file column and a count, size or hash
column (:data:`CONTROL_HEADINGS`: ``ファイル名 / ファイル / file``, ``件数 / レコード件数 /
rows``, ``バイト数 / bytes``, ``ハッシュ / sha256``), in any encoding mig reads::

    ファイル名,件数
    住民基本台帳_住民.csv,194
    合計,194

``ファイル名`` is the package-relative path (or the bare name of a file the package holds
once; ``\\`` is read as ``/``); counts may carry ``,`` and a unit (``1,234件``); an empty
cell means "not declared"; a 合計 / total row is skipped. ``--control FILE`` names one
explicitly (inside the package, or a file the municipality holds).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from mig.audit.conformance import value_free
from mig.audit.package import unsafe_name
from mig.errors import ConfigError, InputError
from mig.jp import normalise_heading
from mig.layout import CodeTable, Item, parse_item
from mig.registry import get_adapter
from mig.run.manifest import DATA_DIR, MANIFEST_NAME, REJECTS_DIR, load_manifest

CONTROL_FILE = "control.csv"
MANIFEST_FILE = MANIFEST_NAME


@dataclass(frozen=True)
class Expected:
    """What one control source records about one file."""

    source: str
    path: str
    rows: int | None = None
    bytes: int | None = None
    sha256: str | None = None
    layout: str = ""


@dataclass
class ManifestFacts:
    """What the audit takes from a run directory's manifest."""

    expected: list[Expected]
    extensions: dict[str, list[Item]]
    layouts: list[str]
    conservation: dict[str, tuple[int, int, int]]
    rejected: dict[str, int]
    #: a trial run (``mig extract --limit N``): N, else None
    partial_limit: int | None = None


def parse_manifest(run_dir: Path, codes: dict[str, dict[str, CodeTable]]) -> ManifestFacts:
    """Read ``run_dir/manifest.json`` (via :func:`mig.run.manifest.load_manifest`).

    ``codes`` maps a layout id to its code tables (for declared extension items).
    A malformed manifest raises :class:`~mig.errors.InputError` / ``ConfigError``.
    """
    manifest = load_manifest(run_dir)
    facts = ManifestFacts([], {}, [], {}, {}, manifest.partial.limit if manifest.partial is not None else None)
    for index, entry in enumerate(manifest.files):
        layout = entry.layout
        facts.layouts.append(layout)
        facts.extensions[layout] = [
            parse_item(item.to_dict(), f"{MANIFEST_FILE} files[{index}] item {item.name}", codes.get(layout, {}))
            for item in entry.items
            if item.extension
        ]
        if entry.rows_in is not None:
            facts.conservation[layout] = (entry.rows_in, entry.rows_out, entry.rows_rejected)
        facts.rejected[layout] = entry.rows_rejected
        for output in entry.outputs:
            rel = output.path
            parts = PurePosixPath(rel).parts
            rows: int | None = None
            if parts[:1] == (DATA_DIR,):
                rows = entry.rows_out
            elif parts[:1] == (REJECTS_DIR,) and rel.endswith(".jsonl"):
                rows = entry.rows_rejected
            facts.expected.append(Expected(MANIFEST_FILE, rel, rows, output.bytes, output.sha256.lower(), layout))
    return facts


#: Digits a ``rows`` or ``bytes`` cell may have (10**18 records or bytes is beyond any file).
MAX_COUNT_DIGITS = 18

ControlRole = Literal["file", "rows", "bytes", "sha256"]
#: Column headings of a control file as vendors write them, per role (compared through
#: :func:`mig.jp.normalise_heading`, so ``ファイル名``, ``ﾌｧｲﾙ名`` and ``File Name`` are one).
CONTROL_HEADINGS: dict[ControlRole, tuple[str, ...]] = {
    "file": ("ファイル名", "ファイル", "ファイル名称", "ファイルパス", "パス", "file", "filename", "file name", "path"),
    "rows": ("件数", "レコード件数", "レコード数", "データ件数", "行数", "rows", "records", "record count", "count"),
    "bytes": ("バイト数", "ファイルサイズ", "サイズ", "bytes", "size", "file size"),
    "sha256": ("ハッシュ", "ハッシュ値", "sha256", "sha-256", "sha256ハッシュ", "hash", "checksum"),
}
_HEADING_ROLE: dict[str, ControlRole] = {
    normalise_heading(h): role for role, headings in CONTROL_HEADINGS.items() for h in headings
}
#: A row whose file cell is one of these is a total, not a file.
TOTAL_ROWS = frozenset(normalise_heading(w) for w in ("合計", "総計", "計", "小計", "total", "sum"))
CONTROL_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")


def control_columns(columns: list[str]) -> dict[ControlRole, int] | None:
    """The column index of each role in a header row, when it is a control file's header:
    a file column and at least one of rows, bytes, sha256. ``None`` otherwise.

    >>> control_columns(["ファイル名", "件数"])
    {'file': 0, 'rows': 1}
    >>> control_columns(["File", "Records", "SHA-256"]), control_columns(["氏名", "件数"])
    ({'file': 0, 'rows': 1, 'sha256': 2}, None)
    """
    found: dict[ControlRole, int] = {}
    for index, column in enumerate(columns):
        role = _HEADING_ROLE.get(normalise_heading(column))
        if role is not None and role not in found:
            found[role] = index
    return found if "file" in found and len(found) > 1 else None


_FRAMING = {
    "ragged-row": "a row has a different number of fields than the header",
    "unbalanced-quote": "not CSV (a stray quote)",
    "embedded-nul": "not CSV (a NUL byte)",
}


def read_table(path: Path, work_root: Path | None = None) -> list[list[str]]:
    """The rows of a small table file: CSV or TSV in any encoding mig reads, or the first
    sheet of an xlsx. Raises :class:`~mig.errors.InputError` when it cannot be read."""
    with path.open("rb") as handle:
        start = handle.read(4096)
    if start.startswith(b"PK"):
        return _xlsx_rows(path, work_root)
    first = start.split(b"\n", 1)[0]
    delimiter = "\t" if first.count(b"\t") > first.count(b",") else ","
    reader = get_adapter("csv").open(path, {"delimiter": delimiter, "header": True}, batch_bytes=1 << 20)
    rows: list[list[str]] = [list(reader.columns)]
    for batch in reader.batches():
        frame = batch.data.drop("row")
        rows += [[cell or "" for cell in row] for row in frame.iter_rows()]
        if batch.rejects.height:
            kind, row = batch.rejects.select("type", "row").row(0)
            raise InputError(CONTROL_FILE, _FRAMING.get(str(kind), f"not CSV ({kind})"), line=int(row) + 1)
    return rows


def _xlsx_rows(path: Path, work_root: Path | None) -> list[list[str]]:
    from mig.audit.package import open_package
    from mig.layout_import.ooxml import Workbook

    try:
        with open_package(path, work_root=work_root) as members:
            book = Workbook(path.name, members)
            sheet = next(book.sheets(), None)
    except ConfigError as exc:
        raise InputError(CONTROL_FILE, f"not a readable xlsx ({exc})") from None
    if sheet is None:
        return []
    rows = []
    for row in sheet.rows():
        cells = sheet.row_cells(row)
        rows.append([cells.get(c, "") for c in range(1, max(cells) + 1)])
    return rows


def parse_control(path: Path, source: str = CONTROL_FILE, work_root: Path | None = None) -> list[Expected]:
    """Read a control file as a vendor writes it (see :data:`CONTROL_HEADINGS`); errors
    name the line and the rule, never a cell's content (it may be anything)."""
    try:
        rows = read_table(path, work_root)
    except InputError as exc:
        raise InputError(source, value_free(exc.rule), line=exc.line) from None
    except ConfigError as exc:  # e.g. an encoding the reader cannot tell
        raise InputError(source, str(exc)) from None
    for at, header in enumerate(rows[:5]):  # a title line or two may come first (xlsx)
        roles = control_columns(header)
        if roles is not None:
            return _expected(rows[at + 1:], roles, source, first_line=at + 2)
    raise InputError(source, "no header row naming a file column (ファイル名 / file) and a count, size "
                     "or hash column (件数 / rows, バイト数 / bytes, ハッシュ / sha256)", line=1)


def _count(cell: str, key: str, source: str, line: int) -> int | None:
    text = unicodedata.normalize("NFKC", cell).replace(",", "").strip()
    for unit in ("件", "バイト", "bytes", "byte", "B"):
        text = text.removesuffix(unit).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_COUNT_DIGITS):
        raise InputError(source, f"{key} must be a non-negative integer of at most {MAX_COUNT_DIGITS} digits", line=line)
    return int(text)


def _expected(rows: list[list[str]], roles: dict[ControlRole, int], source: str, first_line: int) -> list[Expected]:
    expected: list[Expected] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=first_line):
        def cell(role: ControlRole, row: list[str] = row) -> str:
            index = roles.get(role)
            return row[index].strip() if index is not None and index < len(row) else ""

        name = cell("file").replace("\\", "/")
        if not name or normalise_heading(name) in TOTAL_ROWS:
            continue
        why = unsafe_name(name)
        if why is not None:
            raise InputError(source, f"file: {why}", line=line)
        if name in seen:
            raise InputError(source, "file listed twice", line=line)
        seen.add(name)
        rows_n = _count(cell("rows"), "rows", source, line)
        size = _count(cell("bytes"), "bytes", source, line)
        digest = cell("sha256").lower() or None
        if digest is not None and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)):
            raise InputError(source, "sha256 must be 64 hex digits", line=line)
        expected.append(Expected(source, name, rows_n, size, digest))
    return expected


def control_error(exc: InputError | ConfigError) -> str:
    """A control source's error as a short detail (rule and line, no path)."""
    if isinstance(exc, InputError):
        return exc.rule + (f" (line {exc.line})" if exc.line is not None else "")
    return str(exc)
