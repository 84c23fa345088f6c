"""The run directory contract: its file names and its typed ``manifest.json`` (read and write).

The manifest is the contract between ``mig extract`` and everything downstream: the
load step trusts nothing in a run directory that the manifest does not vouch for. This
module is the one place that knows the names inside a run directory and the manifest's
schema; everything else builds and reads a manifest through :class:`Manifest`.

Layout of a run directory::

    manifest.json              inputs and outputs with sha256, rows_in/out/rejected per file
    report.json, report.html   findings summary (no values unless --show-values)
    data/<layout>.parquet      accepted rows, columns = 項目名称 (数値 as Decimal)
    data/<layout>.csv          the intermediate CSV: UTF-8, header = 項目名称, CRLF
    rejects/<layout>.jsonl     one object per rejected record: where, why, original bytes
    findings/<layout>.parquet  every finding: row, item, type, severity, detail
    excel/<layout>-findings.csv  with --excel: the findings for a spreadsheet (UTF-8 with BOM)
    excel/<layout>-rejects.csv   with --excel --show-values: the rejects' decoded fields
    load-rejects/<table>.jsonl rows a ``mig load`` target refused (written later, not listed)
    gaiji-review.html / .csv   the 外字 identification sheet (``mig gaiji review``, optional)

A trial run (``mig extract --limit N``) has ``"partial": {"limit": N}``; a complete run has
no such key.

Manifest versions: ``format_version`` 1 is the first versioned manifest; a manifest
without the key (written before it existed) has the same shape and reads as before. A
manifest of a newer version than :data:`FORMAT_VERSION` is refused with a one-line
:class:`~mig.errors.InputError` naming its version.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TypeGuard

from mig.errors import InputError, Msg
from mig.fs import read_json
from mig.layout import Item, Layout, entry_name_problem

# -- names ----------------------------------------------------------------------------------

MANIFEST_NAME = "manifest.json"
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
DATA_DIR = "data"
REJECTS_DIR = "rejects"
FINDINGS_DIR = "findings"
EXCEL_DIR = "excel"
"""Spreadsheet CSVs for people (``mig extract --excel``), listed among a layout's outputs."""
LOAD_REJECTS_DIR = "load-rejects"
"""Where ``mig load`` puts the rows a target refused (not part of the run's manifest)."""
GAIJI_REVIEW_HTML = "gaiji-review.html"
"""Default name of ``mig gaiji review``'s sheet inside a run directory (its CSV beside it)."""

RUN_REPORTS = (REPORT_JSON, REPORT_HTML)
#: What ``mig gaiji review`` may add to a run directory: its sheet, the sheet's CSV and the
#: registry ``--auto-confirm`` writes by default — the run's own side files, not a delivery's.
GAIJI_REVIEW_FILES = (GAIJI_REVIEW_HTML, "gaiji-review.csv", "gaiji-review.registry.csv")
RUN_FOLDERS = (DATA_DIR, REJECTS_DIR, FINDINGS_DIR)
"""The folders ``mig extract`` writes, one file per layout in each."""

FORMAT_VERSION = 1
"""The manifest format this mig writes, and the newest it reads."""


def data_parquet(layout: str) -> str:
    """``data/<layout>.parquet``: the accepted rows (run-relative, ``/``-separated)."""
    return f"{DATA_DIR}/{layout}.parquet"


def data_csv(layout: str) -> str:
    """``data/<layout>.csv``: the intermediate CSV of the accepted rows."""
    return f"{DATA_DIR}/{layout}.csv"


def rejects_jsonl(layout: str) -> str:
    """``rejects/<layout>.jsonl``: the rejected records with their reasons and bytes."""
    return f"{REJECTS_DIR}/{layout}.jsonl"


def findings_parquet(layout: str) -> str:
    """``findings/<layout>.parquet``: every finding of the layout's rows."""
    return f"{FINDINGS_DIR}/{layout}.parquet"


def excel_findings_csv(layout: str) -> str:
    """``excel/<layout>-findings.csv``: the findings for a spreadsheet (``--excel``)."""
    return f"{EXCEL_DIR}/{layout}-findings.csv"


def excel_rejects_csv(layout: str) -> str:
    """``excel/<layout>-rejects.csv``: the rejects' decoded fields (``--excel --show-values``)."""
    return f"{EXCEL_DIR}/{layout}-rejects.csv"


def layout_outputs(layout: str) -> tuple[str, str, str, str]:
    """The four files ``mig extract`` writes per layout, in manifest order."""
    return data_parquet(layout), data_csv(layout), rejects_jsonl(layout), findings_parquet(layout)


# -- schema ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileDigest:
    """A file the manifest vouches for: run-relative ``path``, ``sha256`` and size in ``bytes``."""

    path: str
    sha256: str
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes}


@dataclass(frozen=True)
class ManifestInput:
    """One legacy input file: its name, digest, the layout it fed and its encoding."""

    path: str
    sha256: str
    bytes: int
    layout: str
    encoding: str | None = None
    adapter_stats: Mapping[str, Any] | None = None
    """What the adapter reported about the file (its own keys; absent when it said nothing)."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path, "sha256": self.sha256, "bytes": self.bytes,
            "layout": self.layout, "encoding": self.encoding,
        }
        if self.adapter_stats:
            data["adapter_stats"] = dict(self.adapter_stats)
        return data


@dataclass(frozen=True)
class ManifestItem:
    """One item of a layout as the manifest records it (enough to define its table)."""

    name: str
    type: str
    length: int
    scale: int = 0
    bytes: int | None = None
    required: bool = False
    unknown: str | None = None
    """``none`` / ``day`` / ``month``; ``None`` when the manifest predates the key."""
    no: int | None = None
    extension: bool = False

    @classmethod
    def of(cls, item: Item) -> ManifestItem:
        return cls(
            name=item.name, type=item.type, length=item.length, scale=item.scale,
            bytes=item.bytes, required=item.required, unknown=item.unknown, no=item.no,
            extension=item.extension,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.no is not None:
            data["no"] = self.no
        data.update(name=self.name, type=self.type, length=self.length, scale=self.scale, bytes=self.bytes)
        if self.unknown is not None:
            data["unknown"] = self.unknown
        data.update(required=self.required, extension=self.extension)
        return data


@dataclass(frozen=True, kw_only=True)
class ManifestTable:
    """The table-defining part of a ``files[]`` entry: layout, items and primary key."""

    layout: str
    items: tuple[ManifestItem, ...]
    primary_key: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ManifestFile(ManifestTable):
    """One ``files[]`` entry: a layout's table, its row counts and the files written for it."""

    layout_name: str | None = None
    business: str | None = None
    rows_in: int | None = None
    """``None`` in a manifest that does not record it."""
    rows_out: int
    rows_rejected: int
    outputs: tuple[FileDigest, ...]

    @classmethod
    def of(
        cls, layout: Layout, *, rows_in: int, rows_out: int, rows_rejected: int,
        outputs: tuple[FileDigest, ...],
    ) -> ManifestFile:
        return cls(
            layout=layout.id, layout_name=layout.name, business=layout.business,
            items=tuple(ManifestItem.of(item) for item in layout.items),
            primary_key=tuple(layout.primary_key),
            rows_in=rows_in, rows_out=rows_out, rows_rejected=rows_rejected, outputs=outputs,
        )

    def output(self, path: str) -> FileDigest | None:
        """The output entry with run-relative ``path``, if listed."""
        return next((o for o in self.outputs if o.path == path), None)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"layout": self.layout}
        for key in ("layout_name", "business"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        data["items"] = [item.to_dict() for item in self.items]
        data["primary_key"] = list(self.primary_key)
        if self.rows_in is not None:
            data["rows_in"] = self.rows_in
        data.update(
            rows_out=self.rows_out, rows_rejected=self.rows_rejected,
            outputs=[o.to_dict() for o in self.outputs],
        )
        return data


@dataclass(frozen=True)
class Totals:
    """Rows over all files: ``rows_in == rows_out + rows_rejected`` when conserved."""

    rows_in: int
    rows_out: int
    rows_rejected: int

    @classmethod
    def of(cls, files: tuple[ManifestFile, ...]) -> Totals:
        return cls(
            rows_in=sum(f.rows_in or 0 for f in files),
            rows_out=sum(f.rows_out for f in files),
            rows_rejected=sum(f.rows_rejected for f in files),
        )

    def to_dict(self) -> dict[str, int]:
        return {"rows_in": self.rows_in, "rows_out": self.rows_out, "rows_rejected": self.rows_rejected}


@dataclass(frozen=True)
class Digest:
    """A configuration file the run used (the mapping, a 外字 registry): its name and sha256."""

    path: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "sha256": self.sha256}


@dataclass(frozen=True)
class GaijiEntry:
    """The mapping's ``[gaiji]``: the registry source, each registry file, confirmed entries."""

    source: str
    registries: tuple[Digest, ...] = ()
    confirmed: int = 0

    @classmethod
    def from_dict(cls, data: Any, where: str = MANIFEST_NAME) -> GaijiEntry:
        """Check and type a ``gaiji`` entry (as :meth:`mig.gaiji.resolve.GaijiSettings.manifest_entry` gives)."""
        entry = _parse_gaiji(data, where)
        if entry is None:
            raise InputError(where, "gaiji: must be an object with a 'source' string")
        return entry

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "registries": [r.to_dict() for r in self.registries],
            "confirmed": self.confirmed,
        }


@dataclass(frozen=True)
class Partial:
    """A trial run (``mig extract --limit N``): only the first ``limit`` records of each
    input were read, so the run holds part of the data. ``mig load`` refuses it unless
    forced; ``mig audit`` says so."""

    limit: int

    def to_dict(self) -> dict[str, int]:
        return {"limit": self.limit}


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """A run directory's ``manifest.json``, typed."""

    format_version: int | None = FORMAT_VERSION
    """``None`` for a manifest written before the key existed."""
    tool: str = "mig"
    tool_version: str = ""
    created_at: str = ""
    adapter: str = ""
    mapping: Digest | None = None
    gaiji: GaijiEntry | None = None
    codec_overlays: tuple[Digest, ...] = ()
    """The site overlay files (mig.codecs.overlay) the run decoded with; written when any."""
    inputs: tuple[ManifestInput, ...] = ()
    files: tuple[ManifestFile, ...] = ()
    totals: Totals = field(default_factory=lambda: Totals(0, 0, 0))
    partial: Partial | None = None
    """Set for a trial run that read only the first records of each input (written only then)."""

    def file(self, layout: str) -> ManifestFile | None:
        """The ``files[]`` entry of ``layout``, if the run has one."""
        return next((f for f in self.files if f.layout == layout), None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what :func:`write_manifest` writes, keys sorted there)."""
        data: dict[str, Any] = {"tool": self.tool, "tool_version": self.tool_version}
        if self.format_version is not None:
            data["format_version"] = self.format_version
        data.update(created_at=self.created_at, adapter=self.adapter)
        if self.mapping is not None:
            data["mapping"] = self.mapping.to_dict()
        if self.codec_overlays:
            data["codec_overlays"] = [o.to_dict() for o in self.codec_overlays]
        data.update(
            gaiji=self.gaiji.to_dict() if self.gaiji is not None else None,
            inputs=[i.to_dict() for i in self.inputs],
            files=[f.to_dict() for f in self.files],
            totals=self.totals.to_dict(),
        )
        if self.partial is not None:
            data["partial"] = self.partial.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = MANIFEST_NAME) -> Manifest:
        """Check and type a parsed manifest; anything malformed is an InputError(where, …)."""
        return _parse_manifest(data, where)


# -- reading --------------------------------------------------------------------------------


def load_manifest(run_dir: Path) -> Manifest:
    """Read and check ``run_dir/manifest.json``: the typed reader every stage uses.

    A missing run directory or manifest, bad JSON, a manifest lacking what the load step
    needs, or one of a newer format than this mig reads raises
    :class:`~mig.errors.InputError` naming the file.
    """
    path, data = _read_json(run_dir)
    return _parse_manifest(data, str(path))


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The checked manifest as plain JSON data (kept for callers of the public API).

    Every check of :func:`load_manifest` applies; use that for typed access.
    """
    path, data = _read_json(run_dir)
    _parse_manifest(data, str(path))
    return data  # type: ignore[no-any-return]


def parse_table(entry: Any, where: str, label: str = "file entry") -> ManifestTable:
    """Check and type the table-defining keys of a ``files[]`` entry: layout, items, primary_key."""

    def fail(rule: str) -> InputError:
        return InputError(where, f"{label}: {rule}")

    if not isinstance(entry, dict):
        raise fail("must be an object")
    layout = entry.get("layout")
    if not isinstance(layout, str) or not layout:
        raise fail("'layout' must be a non-empty string")
    if problem := entry_name_problem(entry):
        raise fail(problem)
    label = f"{label} ({layout})"
    raw_items = entry.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise fail("'items' must be a non-empty list")
    items: list[ManifestItem] = []
    names: set[str] = set()
    for n, item in enumerate(raw_items):
        if not isinstance(item, dict):
            raise fail(f"items[{n}] must be an object")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise fail(f"items[{n}]: 'name' must be a non-empty string")
        if name in names:
            raise fail(f"item {name!r} listed twice")
        names.add(name)
        if not isinstance(item.get("type"), str):
            raise fail(f"item {name!r}: 'type' must be a string")
        if not _is_count(item.get("length")) or not _is_count(item.get("scale", 0)):
            raise fail(f"item {name!r}: 'length' and 'scale' must be non-negative integers")
        if not isinstance(item.get("required", False), bool):
            raise fail(f"item {name!r}: 'required' must be true or false")
        if item.get("unknown", "none") not in ("none", "day", "month"):
            raise fail(f"item {name!r}: 'unknown' must be one of none, day, month")
        if item.get("bytes") is not None and not _is_count(item.get("bytes")):
            raise fail(f"item {name!r}: 'bytes' must be a non-negative integer or null")
        if "no" in item and not _is_count(item["no"]):
            raise fail(f"item {name!r}: 'no' must be a non-negative integer")
        if not isinstance(item.get("extension", False), bool):
            raise fail(f"item {name!r}: 'extension' must be true or false")
        items.append(
            ManifestItem(
                name=name, type=item["type"], length=item["length"], scale=item.get("scale", 0),
                bytes=item.get("bytes"), required=item.get("required", False),
                unknown=item.get("unknown"), no=item.get("no"), extension=item.get("extension", False),
            )
        )
    primary_key = entry.get("primary_key", [])
    if not isinstance(primary_key, list) or not all(isinstance(k, str) for k in primary_key):
        raise fail("'primary_key' must be a list of item names")
    unknown = [k for k in primary_key if k not in names]
    if unknown:
        raise fail(f"primary_key names unknown items: {', '.join(unknown)}")
    if len(set(primary_key)) != len(primary_key):
        raise fail("primary_key names an item twice")
    return ManifestTable(layout=layout, items=tuple(items), primary_key=tuple(primary_key))


def parse_file(entry: Any, where: str, label: str = "file entry") -> ManifestFile:
    """Check and type one ``files[]`` entry of a manifest; raise InputError(where, …) if malformed."""
    table = parse_table(entry, where, label)
    label = f"{label} ({table.layout})"

    def fail(rule: str) -> InputError:
        return InputError(where, f"{label}: {rule}")

    for key in ("rows_out", "rows_rejected"):
        if not _is_count(entry.get(key)):
            raise fail(f"{key!r} must be a non-negative integer")
    rows_in = entry.get("rows_in")
    if rows_in is not None and not _is_int(rows_in):
        raise fail("'rows_in' must be an integer")
    for key in ("layout_name", "business"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise fail(f"{key!r} must be a string")
    raw_outputs = entry.get("outputs")
    if not isinstance(raw_outputs, list):
        raise fail("'outputs' must be a list")
    outputs: list[FileDigest] = []
    for n, output in enumerate(raw_outputs):
        if not isinstance(output, dict):
            raise fail(f"outputs[{n}] must be an object")
        rel = output.get("path")
        if not isinstance(rel, str) or not _is_inside(rel):
            raise fail(f"outputs[{n}]: 'path' must be a relative path inside the run directory")
        digest = output.get("sha256")
        if not _is_sha256(digest):
            raise fail(f"outputs[{n}] ({rel}): 'sha256' must be 64 hex digits")
        if not _is_count(output.get("bytes")):
            raise fail(f"outputs[{n}] ({rel}): 'bytes' must be a non-negative integer")
        outputs.append(FileDigest(rel, digest, output["bytes"]))
    return ManifestFile(
        layout=table.layout, items=table.items, primary_key=table.primary_key,
        layout_name=entry.get("layout_name"), business=entry.get("business"),
        rows_in=rows_in, rows_out=entry["rows_out"], rows_rejected=entry["rows_rejected"],
        outputs=tuple(outputs),
    )


def verify_outputs(run_dir: Path, manifest: Manifest | Mapping[str, Any]) -> None:
    """Check that every output the manifest lists exists with its recorded size and sha256.

    The first file (in manifest order) that is missing or differs raises
    :class:`~mig.errors.InputError` ("does not match manifest"), so nothing tampered with or
    half-written is loaded. Hashing streams each file (memory does not grow with its size);
    the files are hashed in parallel, since hashlib releases the GIL.
    """
    # imported here: the writer builds on the names above, and this module on its hashing
    from mig.run.writer import sha256_file

    run_dir = Path(run_dir)
    if not isinstance(manifest, Manifest):
        manifest = _parse_manifest(manifest, str(run_dir / MANIFEST_NAME))
    listed: list[tuple[Path, str]] = []
    for entry in manifest.files:
        for output in entry.outputs:
            path = run_dir / output.path
            where = str(path)
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                raise InputError(where, "listed in the manifest but missing") from None
            except OSError as exc:
                raise InputError(where, f"cannot read ({type(exc).__name__})") from None
            if not path.is_file():
                raise InputError(where, "listed in the manifest but not a regular file")
            if size != output.bytes:
                raise InputError(
                    where,
                    f"does not match manifest (size {size} bytes, manifest says {output.bytes})",
                )
            listed.append((path, output.sha256.lower()))
    with ThreadPoolExecutor(max_workers=max(1, min(len(listed), os.cpu_count() or 1))) as pool:
        digests = list(pool.map(sha256_file, [path for path, _ in listed]))
    for (path, expected), digest in zip(listed, digests, strict=True):
        if digest != expected:
            raise InputError(str(path), "does not match manifest (sha256 differs)")


def refuse_partial(run_dir: Path, *, allow: bool = False) -> None:
    """Refuse a trial run (``mig extract --limit``) unless ``allow``: a
    :class:`~mig.errors.ConfigError` (exit 2) naming the limit. A run directory that cannot
    be read is left for the caller to report.
    """
    if allow:
        return
    from mig.errors import ConfigError, MigError
    from mig.i18n import text

    try:
        partial = load_manifest(run_dir).partial
    except MigError:
        return
    if partial is not None:
        raise ConfigError(text("extract.partial-refused", run_dir=run_dir, limit=partial.limit))


# -- writing --------------------------------------------------------------------------------


def write_manifest(run_dir: Path, manifest: Manifest) -> None:
    """Write ``run_dir/manifest.json`` (sorted keys, two-space indent, UTF-8)."""
    from mig.run.writer import write_json  # see verify_outputs

    write_json(Path(run_dir) / MANIFEST_NAME, manifest.to_dict())
    from mig.run.log import log_manifest

    log_manifest(manifest)


def file_digest(path: Path, root: Path | None = None) -> FileDigest:
    """Path (relative to ``root`` if given), sha256 and size of a file."""
    from mig.run.writer import sha256_file  # see verify_outputs

    name = path.relative_to(root).as_posix() if root else str(path)
    return FileDigest(name, sha256_file(path), path.stat().st_size)


# -- parsing --------------------------------------------------------------------------------


def _read_json(run_dir: Path) -> tuple[Path, Any]:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(str(run_dir), Msg("errors.run-dir-not-found"))
    path = run_dir / MANIFEST_NAME
    if not path.exists():
        raise InputError(str(path), Msg("errors.manifest-not-found"))
    return path, read_json(path, what="manifest")


def _parse_manifest(data: Any, where: str) -> Manifest:
    if not isinstance(data, Mapping):
        raise InputError(where, "manifest must be a JSON object")
    version = data.get("format_version")
    if version is not None:
        if not _is_int(version) or version < 1:
            raise InputError(where, "'format_version' must be a positive integer")
        if version > FORMAT_VERSION:
            raise InputError(
                where,
                f"format_version {version} is newer than this mig reads (up to {FORMAT_VERSION}); "
                "upgrade mig to read this run",
            )
    files = data.get("files")
    if not isinstance(files, list):
        raise InputError(where, "'files' must be a list")
    parsed: list[ManifestFile] = []
    layouts: set[str] = set()
    for index, entry in enumerate(files):
        file = parse_file(entry, where, f"files[{index}]")
        if file.layout in layouts:
            raise InputError(where, f"files[{index}]: layout {file.layout!r} listed twice")
        layouts.add(file.layout)
        parsed.append(file)
    for key in ("tool", "tool_version", "created_at", "adapter"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InputError(where, f"{key!r} must be a string")
    return Manifest(
        format_version=version,
        tool=data.get("tool") or "",
        tool_version=data.get("tool_version") or "",
        created_at=data.get("created_at") or "",
        adapter=data.get("adapter") or "",
        mapping=_parse_mapping(data.get("mapping"), where),
        gaiji=_parse_gaiji(data.get("gaiji"), where),
        codec_overlays=_parse_overlays(data.get("codec_overlays", []), where),
        inputs=_parse_inputs(data.get("inputs", []), where),
        files=tuple(parsed),
        totals=_parse_totals(data.get("totals"), tuple(parsed), where),
        partial=_parse_partial(data.get("partial"), where),
    )


def _parse_partial(raw: Any, where: str) -> Partial | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not _is_int(raw.get("limit")) or raw["limit"] < 1:
        raise InputError(where, "'partial' must be an object with 'limit', a positive integer")
    return Partial(raw["limit"])


def _parse_mapping(raw: Any, where: str) -> Digest | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str) or not isinstance(raw.get("sha256"), str):
        raise InputError(where, "'mapping' must be an object with 'path' and 'sha256' strings")
    return Digest(raw["path"], raw["sha256"])


def _parse_overlays(raw: Any, where: str) -> tuple[Digest, ...]:
    if not isinstance(raw, list) or not all(
        isinstance(o, dict) and isinstance(o.get("path"), str) and isinstance(o.get("sha256"), str) for o in raw
    ):
        raise InputError(where, "'codec_overlays' must be a list of objects with 'path' and 'sha256' strings")
    return tuple(Digest(o["path"], o["sha256"]) for o in raw)


def _parse_gaiji(raw: Any, where: str) -> GaijiEntry | None:
    if raw is None:
        return None

    def fail(rule: str) -> InputError:
        return InputError(where, f"gaiji: {rule}")

    if not isinstance(raw, dict) or not isinstance(raw.get("source"), str):
        raise fail("must be null or an object with a 'source' string")
    registries = raw.get("registries", [])
    if not isinstance(registries, list):
        raise fail("'registries' must be a list")
    entries: list[Digest] = []
    for n, registry in enumerate(registries):
        if not isinstance(registry, dict) or not isinstance(registry.get("path"), str):
            raise fail(f"registries[{n}] must be an object with a 'path' string")
        if not _is_sha256(registry.get("sha256")):
            raise fail(f"registries[{n}]: 'sha256' must be 64 hex digits")
        entries.append(Digest(registry["path"], registry["sha256"]))
    if not _is_count(raw.get("confirmed", 0)):
        raise fail("'confirmed' must be a non-negative integer")
    return GaijiEntry(raw["source"], tuple(entries), raw.get("confirmed", 0))


def _parse_inputs(raw: Any, where: str) -> tuple[ManifestInput, ...]:
    if not isinstance(raw, list):
        raise InputError(where, "'inputs' must be a list")
    inputs: list[ManifestInput] = []
    for n, entry in enumerate(raw):
        def fail(rule: str, n: int = n) -> InputError:
            return InputError(where, f"inputs[{n}]: {rule}")

        if not isinstance(entry, dict):
            raise fail("must be an object")
        for key in ("path", "layout"):
            if not isinstance(entry.get(key), str):
                raise fail(f"{key!r} must be a string")
        if not _is_sha256(entry.get("sha256")):
            raise fail("'sha256' must be 64 hex digits")
        if not _is_count(entry.get("bytes")):
            raise fail("'bytes' must be a non-negative integer")
        if entry.get("encoding") is not None and not isinstance(entry["encoding"], str):
            raise fail("'encoding' must be a string or null")
        stats = entry.get("adapter_stats")
        if stats is not None and not isinstance(stats, dict):
            raise fail("'adapter_stats' must be an object")
        inputs.append(
            ManifestInput(
                path=entry["path"], sha256=entry["sha256"], bytes=entry["bytes"], layout=entry["layout"],
                encoding=entry.get("encoding"), adapter_stats=stats,
            )
        )
    return tuple(inputs)


def _parse_totals(raw: Any, files: tuple[ManifestFile, ...], where: str) -> Totals:
    if raw is None:
        return Totals.of(files)
    keys = ("rows_in", "rows_out", "rows_rejected")
    if not isinstance(raw, dict) or not all(_is_count(raw.get(k)) for k in keys):
        raise InputError(where, "'totals' must hold rows_in, rows_out and rows_rejected as non-negative integers")
    return Totals(raw["rows_in"], raw["rows_out"], raw["rows_rejected"])


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return _is_int(value) and value >= 0


def _is_sha256(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


def _is_inside(rel: str) -> bool:
    pure = PurePosixPath(rel)
    return bool(rel) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in rel
