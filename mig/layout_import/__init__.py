"""``mig layouts import``: specification workbooks (.xlsx) → layout files and code tables.

:mod:`.ooxml` reads the workbook's cells (streamed, lxml), :mod:`.sheets` interprets each
sheet by its headers, :mod:`.toml` writes the files :mod:`mig.layout` reads. This module
joins them: :func:`read_workbook` builds the layouts (checked by the layout model itself,
so an imported file always loads), :func:`write_import` writes them as one directory that
appears complete or not at all.

The zip is opened by the caller (the façade, :func:`mig.import_layouts`) with mig's
hostile-zip reader, which this layer cannot import.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mig.errors import ConfigError, OutputExistsError
from mig.fs import atomic_dir
from mig.layout import LAYOUT_ID, CodeTable, Item, Layout, load_layout_file, parse_item
from mig.layout_import.ooxml import Members, Workbook, sniff
from mig.layout_import.sheets import CodeEntry, LayoutSheet, Note, Overrides, SheetReader
from mig.layout_import.toml import codes_toml, layout_toml

__all__ = [
    "ImportResult",
    "ImportedLayout",
    "Note",
    "Overrides",
    "load_overrides",
    "read_workbook",
    "sniff",
    "write_import",
]

CODES_FILE = "codes.toml"
STANDARDS = ("基本データリスト", "中間標準レイアウト")


@dataclass(frozen=True)
class ImportedLayout:
    sheet: str
    layout: Layout

    @property
    def file(self) -> str:
        return f"{self.layout.id}.toml"


@dataclass(frozen=True)
class ImportResult:
    """The layouts and code tables of one workbook, what was skipped, and every note."""

    workbook: str
    sha256: str
    layouts: tuple[ImportedLayout, ...]
    codes: dict[str, CodeTable]
    skipped: tuple[tuple[str, str], ...] = ()
    notes: tuple[Note, ...] = ()
    out: str = ""
    header: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        """What ``mig layouts import --json`` prints."""
        return {
            "workbook": self.workbook,
            "sha256": self.sha256,
            "out": self.out,
            "layouts": [
                {"id": x.layout.id, "sheet": x.sheet, "name": x.layout.name, "file": x.file,
                 "items": len(x.layout.items), "business": x.layout.business,
                 "standard": x.layout.standard, "standard_version": x.layout.standard_version}
                for x in self.layouts
            ],
            "codes": {"file": CODES_FILE, "tables": sorted(self.codes)},
            "skipped": [{"sheet": sheet, "reason": reason} for sheet, reason in self.skipped],
            "notes": [{"cell": n.cell, "message": n.message} for n in self.notes],
        }


def load_overrides(path: Path) -> Overrides:
    """Read the column-mapping override file (TOML, see :class:`Overrides`)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid UTF-8 TOML: {exc}") from None
    return Overrides.parse(raw, str(path))


def describe_file_name(name: str) -> dict[str, str]:
    """Standard, version and 業務 as a workbook's file name gives them (empty when it does not).

    >>> describe_file_name("001_住民基本台帳_基本データリスト【第2.1版】_20230929.xlsx")
    {'standard': '基本データリスト', 'version': '2.1', 'business': '住民基本台帳'}
    >>> describe_file_name("spec.xlsx")
    {'standard': '', 'version': '', 'business': ''}
    """
    stem = Path(name).stem
    standard = next((s for s in STANDARDS if s in stem), "")
    match = re.search(r"第\s*([0-9][0-9.]*)\s*版", stem) or re.search(r"[VvＶ]\s*([0-9]+(?:\.[0-9]+)+)", stem)
    version = match.group(1) if match else ""
    business = next(
        (
            part for part in re.split(r"[_\s]+", stem)
            if part and not part.isascii() and not any(s in part for s in STANDARDS) and "版" not in part
        ),
        "",
    )
    return {"standard": standard, "version": version, "business": business}


def read_workbook(
    source: Path,
    members: Members,
    *,
    standard: str | None = None,
    version: str | None = None,
    business: str | None = None,
    id_prefix: str | None = None,
    overrides: Overrides | None = None,
) -> ImportResult:
    """Interpret every sheet of the workbook ``source`` (opened as ``members``)."""
    o = overrides or Overrides()
    named = describe_file_name(source.name)
    standard = standard if standard is not None else named["standard"]
    version = version if version is not None else named["version"]
    business = business if business is not None else named["business"]
    if not standard:
        raise ConfigError(f"{source}: the file name does not name the standard; give --standard")
    if not business:
        raise ConfigError(f"{source}: the file name does not name the 業務; give --business")
    prefix = id_prefix or "layout"
    if not LAYOUT_ID.fullmatch(f"{prefix}-01"):
        raise ConfigError(f"--id-prefix {prefix!r}: ASCII letters, digits, '.', '_' or '-' only")
    sha256 = _sha256(source)
    book = Workbook(source.name, members)
    layout_sheets: list[LayoutSheet] = []
    entries: list[CodeEntry] = []
    skipped: list[tuple[str, str]] = []
    notes: list[Note] = []
    for sheet in book.sheets():
        result = SheetReader(sheet, o).read()
        notes += result.notes
        if result.layout is not None:
            layout_sheets.append(result.layout)
        elif result.codes:
            entries += result.codes
        else:
            skipped.append((sheet.name, result.skipped or "a code-list header with no codes under it"))
    if not layout_sheets:
        listing = "; ".join(f"{s}: {r}" for s, r in skipped) or "no sheets"
        raise ConfigError(f"{source}: no recognisable layout sheet ({listing})")
    codes = _code_tables(entries)
    provenance = (
        f"imported: by mig layouts import from {source.name} (sha256 {sha256[:16]}); "
        "check it against the official workbook before a migration"
    )
    layouts: list[ImportedLayout] = []
    ids: dict[str, str] = {}
    for n, sheet_items in enumerate(layout_sheets, 1):
        layout_id = o.ids.get(sheet_items.name) or (
            sheet_items.name if LAYOUT_ID.fullmatch(sheet_items.name) else f"{prefix}-{n:02d}"
        )
        if not LAYOUT_ID.fullmatch(layout_id) or layout_id == Path(CODES_FILE).stem:
            raise ConfigError(f"ids.{sheet_items.name} = {layout_id!r}: not a usable layout id")
        if layout_id in ids:
            raise ConfigError(f"sheets {ids[layout_id]} and {sheet_items.name} would both be layout {layout_id!r}")
        ids[layout_id] = sheet_items.name
        items = _items(sheet_items, codes)
        layouts.append(ImportedLayout(sheet_items.name, Layout(
            id=layout_id, business=business, name=sheet_items.name, standard=standard,
            standard_version=version, provenance=provenance,
            description=f"sheet {sheet_items.name} of {source.name}", items=items, codes=codes,
        )))
    header = (
        f"Imported by `mig layouts import` from {source.name}\n(sha256 {sha256}).\n"
        "Regenerate rather than edit by hand; check against the official workbook."
    )
    return ImportResult(
        workbook=source.name, sha256=sha256, layouts=tuple(layouts), codes=codes,
        skipped=tuple(skipped), notes=tuple(notes), header=header,
    )


def _sha256(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _code_tables(entries: list[CodeEntry]) -> dict[str, CodeTable]:
    codes: dict[str, dict[str, str]] = {}
    first: dict[str, str] = {}
    seen: dict[tuple[str, str], str] = {}
    for entry in entries:
        key = (entry.table, entry.value)
        if key in seen:
            raise ConfigError(
                f"{entry.where}: code {entry.value!r} appears twice in code table {entry.table!r} (also {seen[key]})"
            )
        seen[key] = entry.where
        codes.setdefault(entry.table, {})[entry.value] = entry.label
        first.setdefault(entry.table, entry.where)
    return {
        name: CodeTable(name, table, f"imported from {first[name]}") for name, table in codes.items()
    }


def _items(sheet: LayoutSheet, codes: dict[str, CodeTable]) -> tuple[Item, ...]:
    items: list[Item] = []
    names: dict[str, str] = {}
    for raw_item in sheet.items:
        raw = dict(raw_item.fields)
        table = raw.get("code_table")
        if table is not None and table not in codes:
            known = ", ".join(sorted(codes)) or "none"
            raise ConfigError(
                f"{raw_item.code_cell}: code table {table[:40]!r} is not in the workbook (code tables: {known})"
            )
        repeat = int(raw.pop("repeat", 1) or 1)
        base = raw["name"]
        for k in range(1, repeat + 1):
            one = dict(raw)
            if repeat > 1:
                one["name"] = f"{base}_{k}"
                one["description"] = " ".join(
                    x for x in (f"繰返し {k}/{repeat} of {base}.", raw.get("description", "")) if x
                )
            if one["name"] in names:
                raise ConfigError(
                    f"{raw_item.where}: item {one['name']!r} appears twice in the sheet (also {names[one['name']]})"
                )
            names[one["name"]] = raw_item.where
            one["no"] = len(items) + 1
            items.append(parse_item(one, raw_item.where, codes))
    return tuple(items)


def write_import(result: ImportResult, out: Path) -> ImportResult:
    """Write ``result`` under ``out``: one ``<id>.toml`` per layout and ``codes.toml``.

    ``out`` must be absent or empty; it is built under a temporary name and appears only
    once every file is written and reads back as a layout.
    """
    out = out.resolve() if out.exists() else out.absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputExistsError(f"{out}: exists and is not an empty directory; choose a new --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{out.parent}: cannot create: {exc.strerror}") from None
    with atomic_dir(out) as temporary:
        (temporary / CODES_FILE).write_text(codes_toml(result.codes, result.header), encoding="utf-8")
        for imported in result.layouts:
            (temporary / imported.file).write_text(
                layout_toml(imported.layout, result.header), encoding="utf-8"
            )
        for imported in result.layouts:  # what was written reads back as the same items
            again = load_layout_file(temporary / imported.file)
            if again.items != imported.layout.items:  # pragma: no cover - a writer bug
                raise AssertionError(f"{imported.file} does not read back as written")
    return ImportResult(
        workbook=result.workbook, sha256=result.sha256, layouts=result.layouts, codes=result.codes,
        skipped=result.skipped, notes=result.notes, out=str(out), header=result.header,
    )
