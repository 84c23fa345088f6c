"""Preview: the first decoded records of a legacy file, with each field's byte offset.

Meant for the first look at a new source: is the copybook right, the framing, the charset?
Every field shows where it lies in the record (offset, size), its picture, its bytes in hex
and its decoded value, or the reason it does not decode. The values are the file's data:
they go to the terminal only, never into a log or a report.

The adapter is found through the ``mig.adapters`` entry points (this module does not know
any adapter); one whose reader has ``preview(limit)`` (the ``copybook`` adapter) gives the
per-field view, any other shows the first decoded rows. ``mig preview`` is a thin command
over :func:`preview_source` and :func:`format_preview`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mig.charsets import is_control, is_private_use, is_variation_selector
from mig.codecs.overlay import (
    Overlay,
    overlay_scope,
)
from mig.codecs.tilde import Normalise
from mig.errors import ConfigError
from mig.extract.mapping import Mapping, load_mapping
from mig.plugin import Previewable
from mig.registry import AdapterInfo, adapter_info, open_reader
from mig.validation.findings import declare_finding_types

PREVIEW_BATCH_BYTES = 1 << 20


@dataclass(frozen=True)
class _Source:
    """How a preview reads a file, as ``mig extract`` would: the adapter and its source side."""

    name: str
    plugin: AdapterInfo
    options: dict[str, Any]
    overlay: Overlay | None
    variant: str | None
    normalise: Normalise


def _source(
    mapping: Mapping, mapping_path: Path, adapter: str | None, file_source: dict[str, Any], **context: Any
) -> _Source:
    from mig.extract.run import source_side

    name = adapter or mapping.adapter
    if not name:
        raise ConfigError("no adapter: give --adapter or adapter = \"...\" in the mapping")
    plugin = adapter_info(name)
    declare_finding_types(plugin.name, plugin.finding_types)
    side = source_side(mapping, file_source)
    options = {**side.options, "_mapping_dir": str(mapping_path.parent.resolve()), **context}
    return _Source(name, plugin, options, side.overlay, side.variant, side.normalise)


def preview_source(
    mapping_path: Path, input_path: Path, *, limit: int = 10, adapter: str | None = None
) -> dict[str, Any]:
    """The first ``limit`` records of ``input_path`` as the mapping's adapter decodes them.

    Returns ``{"path", "adapter", "encoding", "columns", "records"}``; each record has
    ``record`` (number in the file), ``offset``, ``length``, ``type`` (record type, if the
    adapter knows it), ``reject`` (why it would be rejected, or ``None``) and ``fields``
    (``name``, ``offset`` within the record, ``size``, ``picture``, ``hex``, ``value``,
    ``error``).
    """
    mapping = load_mapping(mapping_path)
    matching = [f for f in mapping.files if any(fnmatch.fnmatch(input_path.name, p) for p in f.inputs)]
    file_source: dict[str, Any] = dict(getattr(matching[0], "source", {}) or {}) if matching else {}
    # the 〜 family normalisation applies to extract's output, not to the raw field view
    src = _source(mapping, mapping_path, adapter, file_source)
    name = src.name
    with overlay_scope(src.overlay, src.variant):
        reader = open_reader(src.plugin, input_path, src.options, batch_bytes=PREVIEW_BATCH_BYTES)
        if isinstance(reader, Previewable):
            records: list[dict[str, Any]] = reader.preview(limit)
        else:
            records = _rows_preview(reader, limit)
    return {
        "path": str(input_path),
        "adapter": name,
        "encoding": reader.encoding,
        "columns": list(reader.columns),
        "records": records,
    }


def preview_mapped(
    mapping_path: Path, input_path: Path, *, limit: int = 10, adapter: str | None = None
) -> dict[str, Any]:
    """The first ``limit`` records of ``input_path`` taken through the mapping and the
    layout's rules: each mapped item beside the source fields it reads, and the findings
    (with the source values that caused them) — a mapping tried before any run.

    Foreign keys are not checked (no referenced file is read). 個人番号 and the source
    columns that feed it are masked. Returns ``{"path", "adapter", "encoding", "layout",
    "records"}``; a record has ``record`` (its number in the file), ``line``, ``reject``
    (the framing reject's type and detail, or ``None``), ``items`` (``name``, ``value``,
    ``sources``: the source columns with their values, ``const`` for a constant) and
    ``findings`` (``item``, ``type``, ``severity``, ``message``, ``value``).
    """
    from mig.extract.mapping import apply_mapping, require_mapped
    from mig.extract.run import close_batches, first_records, normalised, scoped
    from mig.gaiji.resolve import resolve_frame
    from mig.validation.batch import validate_batch
    from mig.validation.findings import message
    from mig.validation.keys import KeyTracker
    from mig.validation.report import MASK, record_text

    mapping = load_mapping(mapping_path)
    require_mapped(mapping)
    matching = [f for f in mapping.files if any(fnmatch.fnmatch(input_path.name, p) for p in f.inputs)]
    if not matching:
        patterns = "; ".join(f"{f.layout.id}: {', '.join(f.inputs)}" for f in mapping.files)
        raise ConfigError(f"{input_path.name}: matches no [[files]] inputs pattern ({patterns})")
    file_mapping = matching[0]
    layout = file_mapping.layout
    src = _source(
        mapping, mapping_path, adapter, dict(file_mapping.source),
        _columns=file_mapping.source_columns, _siblings=[],
    )
    name = src.name
    with overlay_scope(src.overlay, src.variant):
        reader = open_reader(src.plugin, input_path, src.options, batch_bytes=PREVIEW_BATCH_BYTES)
    masked_items = {item.name for item in layout.items if item.check == "個人番号"}
    masked_columns = {c for m in file_mapping.items if m.target in masked_items for c in m.source_columns}
    spec = {m.target: m for m in file_mapping.items}
    severities = mapping.severities()
    keys = KeyTracker(layout)
    records: list[dict[str, Any]] = []
    seen = 0
    raw_batches = reader.batches()
    batches = scoped(raw_batches, src.overlay, src.variant)
    for batch in batches:  # a preview: at most ``limit`` records, looped over for display
        batch = normalised(first_records(batch, limit - seen), src.normalise, {})
        seen += batch.rows_in
        mapped, mapping_findings = apply_mapping(batch.data, file_mapping, mapping.code_maps, show_values=True)
        mapped = resolve_frame(mapped, layout, mapping.gaiji.table if mapping.gaiji else {})
        framing = batch.rejects.with_columns(record_text(batch.rejects.get_column("raw"), reader.encoding).alias("value"))
        result = validate_batch(
            mapped, layout, severities=severities, references={}, primary_keys=keys,
            framing=framing, mapping_findings=mapping_findings, show_values=True,
        )
        found: dict[int, list[dict[str, Any]]] = {}
        for f in result.findings.iter_rows(named=True):
            found.setdefault(f["row"], []).append({
                "item": f["item"], "type": f["type"], "severity": f["severity"],
                "message": message(f["type"], f["item"], f["detail"]), "value": f.get("value"),
            })
        sources = {r["row"]: r for r in batch.data.iter_rows(named=True)}
        items = {r["row"]: r for r in mapped.iter_rows(named=True)}
        metas: list[tuple[dict[str, Any], dict[str, Any] | None]] = [(r, None) for r in batch.records.iter_rows(named=True)]
        metas += [(r, {"type": r["type"], "detail": r["detail"]}) for r in batch.rejects.iter_rows(named=True)]
        for meta, reject in sorted(metas, key=lambda m: m[0]["row"]):
            row = meta["row"]
            source = sources.get(row, {})
            shown: list[dict[str, Any]] = []
            if reject is None:
                for item in layout.items:
                    m = spec.get(item.name)
                    value = items[row].get(item.name)
                    shown.append({
                        "name": item.name,
                        "value": MASK if item.name in masked_items and value is not None else value,
                        "const": m.const if m is not None and m.kind == "const" else None,
                        "sources": [
                            {"column": c, "value": MASK if c in masked_columns and source.get(c) else source.get(c)}
                            for c in (m.source_columns if m is not None else ())
                        ],
                    })
            records.append({
                "record": row, "line": meta["line"], "reject": reject, "items": shown,
                "findings": found.get(row, []),
            })
        if seen >= limit:
            break
    close_batches(raw_batches)  # its ``finally`` closes the file
    return {
        "path": str(input_path), "adapter": name, "encoding": reader.encoding, "layout": layout.id,
        "records": records,
    }


def format_mapped_preview(result: dict[str, Any]) -> list[str]:
    """Text lines of :func:`preview_mapped`: per record, each item's value beside its
    source fields, then the findings."""
    from mig.i18n import text

    lines = [text(
        "extract.preview-head", path=result["path"], layout=result["layout"],
        adapter=result["adapter"], encoding=result["encoding"],
    )]
    for record in result["records"]:
        head = text("extract.preview-record", record=record["record"], line=record["line"])
        if record["reject"]:
            reject = record["reject"]
            head += f"  REJECT {reject['type']}" + (f" ({reject['detail']})" if reject.get("detail") else "")
        lines.append(head)
        for item in record["items"]:
            value = "null" if item["value"] is None else show_value(item["value"])
            if item["const"] is not None:
                origin = text("extract.preview-const")
            elif item["sources"]:
                origin = ", ".join(
                    f"{s['column']} " + ("null" if s["value"] is None else show_value(s["value"]))
                    for s in item["sources"]
                )
            else:
                origin = text("extract.preview-unmapped")
            lines.append(f"  {item['name']} = {value}  ← {origin}")
        for f in record["findings"]:
            shown = "" if f.get("value") is None else f"  [{show_value(str(f['value']))}]"
            lines.append(f"  ! {f['severity']} {f['type']}: {f['message']}{shown}")
    return lines


def _rows_preview(reader: Any, limit: int) -> list[dict[str, Any]]:
    """Generic preview: the first decoded rows (a loop over at most ``limit`` rows)."""
    out: list[dict[str, Any]] = []
    for batch in reader.batches():
        meta = batch.records.head(limit - len(out))
        rows = batch.data.head(meta.height)
        for record, values in zip(meta.iter_rows(named=True), rows.iter_rows(named=True), strict=True):
            out.append({
                "record": record["line"], "offset": record["offset"], "length": len(record["raw"]),
                "type": None, "reject": None,
                "fields": [{"name": k, "value": v} for k, v in values.items() if k != "row"],
            })
        if len(out) >= limit:
            break
    return out


_HEX_SHOWN = 32


def show_value(value: str) -> str:
    """A value between quotes, with control, Private Use (外字) and variation-selector
    characters escaped so that they are visible on a terminal.

    >>> show_value("\\ue000田\\u3000")
    '"\\\\ue000田\u3000"'
    """
    def visible(ch: str) -> str:
        if not (is_control(ch) or is_private_use(ch) or is_variation_selector(ch)):
            return ch
        code = ord(ch)
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    return '"' + "".join(visible(ch) for ch in value) + '"'


def format_preview(result: dict[str, Any]) -> list[str]:
    """Text lines of a preview: one header line per record, one line per field."""
    lines = [f"{result['path']}: adapter {result['adapter']}, charset {result['encoding']}"]
    for record in result["records"]:
        head = f"record {record['record']}  offset {record['offset']}  length {record['length']}"
        if record.get("type"):
            head += f"  type {record['type']}"
        if record.get("reject"):
            reject = record["reject"]
            head += f"  REJECT {reject['type']}" + (f" ({reject['detail']})" if reject.get("detail") else "")
        lines.append(head)
        for f in record["fields"]:
            value = f.get("value")
            shown = "(absent)" if f.get("present") is False else ("null" if value is None else show_value(value))
            error = f"  ! {f['error']}" if f.get("error") else ""
            if "offset" in f:
                picture = f["picture"] or f.get("usage", "")
                usage = f.get("usage", "")
                if usage and usage not in ("DISPLAY",) and usage not in picture:
                    picture = f"{picture} {usage}".strip()
                raw = f.get("hex", "")
                raw = raw if len(raw) <= _HEX_SHOWN else raw[: _HEX_SHOWN - 1] + "…"
                lines.append(
                    f"  {f['offset']:>6} {f['size']:>5}  {f['name']:<24} {picture:<18} {raw:<{_HEX_SHOWN}} {shown}{error}"
                )
            else:
                lines.append(f"  {f['name']:<24} {shown}")
    return lines
