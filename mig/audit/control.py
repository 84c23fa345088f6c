"""Control sources of a package: our ``manifest.json`` and a simple ``control.csv``.

``control.csv`` (at the package root) is how a vendor that does not produce a run
directory declares what it delivers. UTF-8 (a BOM is allowed), comma-separated, header
row required, one row per file::

    file,rows,sha256,bytes
    juki-jumin.csv,194,5a8e1236…d5e8a3,64011
    juki-setai.parquet,87,,

``file`` (required) is the package-relative path with ``/``; ``rows`` (required column,
may be empty) is the number of data records (header excluded); ``sha256`` and
``bytes`` are optional columns, and an empty cell means "not declared".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mig.audit.package import unsafe_name
from mig.errors import ConfigError, InputError
from mig.layout import CodeTable, Item, parse_item
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


def parse_manifest(run_dir: Path, codes: dict[str, dict[str, CodeTable]]) -> ManifestFacts:
    """Read ``run_dir/manifest.json`` (via :func:`mig.run.manifest.load_manifest`).

    ``codes`` maps a layout id to its code tables (for declared extension items).
    A malformed manifest raises :class:`~mig.errors.InputError` / ``ConfigError``.
    """
    manifest = load_manifest(run_dir)
    facts = ManifestFacts([], {}, [], {}, {})
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


def parse_control(path: Path) -> list[Expected]:
    """Read a ``control.csv`` (format in the module docstring); errors name the line and
    the rule, never a cell's content (it may be anything: a vendor's file)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(CONTROL_FILE, "not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _parse_control(reader)
    except csv.Error:
        raise InputError(
            CONTROL_FILE, "not CSV (a field over the size limit or a stray quote)", line=reader.reader.line_num
        ) from None


def _parse_control(reader: csv.DictReader[str]) -> list[Expected]:
    header = [h.strip() for h in reader.fieldnames or []]
    if "file" not in header or "rows" not in header:
        raise InputError(CONTROL_FILE, "header must name the columns file and rows (sha256, bytes optional)", line=1)
    unknown = sorted(set(header) - {"file", "rows", "sha256", "bytes"})
    if unknown:
        raise InputError(
            CONTROL_FILE, f"{len(unknown)} unknown column(s); the columns are file, rows, sha256, bytes", line=1
        )
    reader.fieldnames = header
    expected: list[Expected] = []
    seen: set[str] = set()
    for raw in reader:
        line = reader.line_num
        values: dict[str, Any] = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            raise InputError(CONTROL_FILE, "more fields than the header", line=line)
        name = values["file"]
        why = unsafe_name(name)
        if why is not None:
            raise InputError(CONTROL_FILE, f"file: {why}", line=line)
        if name in seen:
            raise InputError(CONTROL_FILE, "file listed twice", line=line)
        seen.add(name)
        counts: dict[str, int | None] = {}
        for key in ("rows", "bytes"):
            cell = values.get(key, "")
            if cell and not (cell.isascii() and cell.isdigit() and len(cell) <= MAX_COUNT_DIGITS):
                raise InputError(
                    CONTROL_FILE, f"{key} must be a non-negative integer of at most {MAX_COUNT_DIGITS} digits", line=line
                )
            counts[key] = int(cell) if cell else None
        digest = values.get("sha256", "").lower() or None
        if digest is not None and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)):
            raise InputError(CONTROL_FILE, "sha256 must be 64 hex digits", line=line)
        expected.append(Expected(CONTROL_FILE, name, counts["rows"], counts["bytes"], digest))
    return expected


def control_error(exc: InputError | ConfigError) -> str:
    """A control source's error as a short detail (rule and line, no path)."""
    if isinstance(exc, InputError):
        return exc.rule + (f" (line {exc.line})" if exc.line is not None else "")
    return str(exc)
