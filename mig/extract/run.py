"""``mig extract``: legacy export → standard-layout run directory, in one streaming pass.

Per batch: the adapter frames and decodes records, the mapping builds the layout's items,
validation and cross-file keys produce findings, and every record goes to exactly one of
the outputs or the rejects. Layouts referenced by a foreign key are extracted first so
that their accepted keys are known when the referencing file streams past.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from mig.codecs.overlay import (
    OVERLAY_KEY,
    VARIANT_KEY,
    Overlay,
    check_variant,
    load_overlay,
    overlay_scope,
)
from mig.codecs.tilde import NORMALISE_KEY, Normalise, check_normalise, normalise_frame
from mig.errors import ConfigError, InputError
from mig.extract.contract import ContractState, check_batch, check_end
from mig.extract.mapping import FileMapping, Mapping, apply_mapping, load_mapping, require_mapped
from mig.gaiji.resolve import resolve_frame
from mig.html.run_report import render_report_html
from mig.i18n import text
from mig.layout import Layout
from mig.plugin import Adapter, HasStats, SourceBatch
from mig.registry import adapter_info, describe_adapter, open_reader
from mig.run.manifest import (
    REPORT_HTML,
    REPORT_JSON,
    Digest,
    GaijiEntry,
    Manifest,
    ManifestFile,
    ManifestInput,
    Partial,
    Totals,
    file_digest,
    write_manifest,
)
from mig.run.writer import LayoutWriter, atomic_run_dir
from mig.validation.batch import BatchResult, validate_batch
from mig.validation.findings import declare_finding_types, message
from mig.validation.header import HeaderMatch
from mig.validation.keys import KeyTracker, owned_keys, rejected_keys, unchecked_references
from mig.validation.report import (
    MASK,
    FileReport,
    FindingAccumulator,
    Report,
    SourceSummary,
    record_text,
)
from mig.version import __version__

DEFAULT_BATCH_BYTES = 32 * 1024 * 1024

#: Called with (input path, bytes done, bytes total) as a run advances.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RunResult:
    """What ``extract`` wrote: the run directory, its manifest and its report."""

    run_dir: Path
    run_manifest: Manifest
    report: Report

    @property
    def manifest(self) -> dict[str, Any]:
        """The manifest as written to ``manifest.json`` (JSON form; typed: :attr:`run_manifest`)."""
        return self.run_manifest.to_dict()

    @property
    def has_findings(self) -> bool:
        return self.report.has_findings


def assign_inputs(mapping: Mapping, inputs: Sequence[Path]) -> dict[str, list[Path]]:
    """Which input files feed which layout, by the ``inputs`` globs of each ``[[files]]``.

    A file may feed several layouts only when every ``[[files]]`` it matches has its own
    ``source`` table (e.g. a mainframe file holding several record types, each ``[[files]]``
    reading one); it is then read once per layout.
    """
    assigned: dict[str, list[Path]] = {f.layout.id: [] for f in mapping.files}
    for path in inputs:
        if not path.is_file():
            raise InputError(str(path), "no such file" if not path.exists() else "not a regular file")
        matches = [
            f for f in mapping.files
            if any(fnmatch.fnmatch(path.name, pattern) for pattern in f.inputs)
        ]
        if len(matches) != 1 and not (matches and all(f.source for f in matches)):
            patterns = "; ".join(f"{f.layout.id}: {', '.join(f.inputs)}" for f in mapping.files)
            what = "matches no" if not matches else (
                f"matches several ({', '.join(f.layout.id for f in matches)}) without a source "
                "table in each to tell what each reads of it"
            )
            raise ConfigError(f"{path.name}: {what} [[files]] inputs pattern ({patterns})")
        for f in matches:
            assigned[f.layout.id].append(path)
    return assigned


def dependency_order(files: Iterable[FileMapping]) -> list[FileMapping]:
    """File mappings ordered so that a referenced layout comes before its referrers."""
    pending = {f.layout.id: f for f in files}
    ordered: list[FileMapping] = []
    while pending:
        ready = sorted(
            layout_id for layout_id, f in pending.items()
            if not any(fk.layout in pending and fk.layout != layout_id for fk in f.layout.foreign_keys)
        )
        if not ready:
            raise ConfigError(f"foreign keys form a cycle among {', '.join(sorted(pending))}")
        for layout_id in ready:
            ordered.append(pending.pop(layout_id))
    return ordered


def extract(
    mapping_path: Path,
    inputs: Sequence[Path],
    out: Path,
    *,
    adapter: str | Adapter | None = None,
    force: bool = False,
    show_values: bool = False,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    source_overrides: dict[str, Any] | None = None,
    progress: Progress | None = None,
    limit: int | None = None,
    excel: bool = False,
) -> RunResult:
    """Run the conversion path and write a run directory at ``out``.

    ``adapter`` is an installed adapter's name, or an adapter object (used as is, without
    an entry point: its declarations are checked as an installed one's). ``limit``: read
    only the first ``limit`` records of each input (a trial of the mapping); the manifest
    then says the run is partial (:class:`~mig.run.manifest.Partial`). ``excel``: also
    write the spreadsheet CSVs of :mod:`mig.run.spreadsheet` per layout — the findings, and
    with ``show_values`` the rejects with their decoded source fields (個人番号 masked).

    A required item the mapping does not fill is a :class:`ConfigError` before any row is
    read (:func:`~mig.extract.mapping.require_mapped`). ``progress`` is called with a phase
    label (``juki-jumin ← JUMIN.csv``, then "writing reports"), bytes done and bytes total.

    >>> result = extract(Path("mapping.toml"), [Path("JUMIN.csv")], Path("run"))  # doctest: +SKIP
    >>> result.manifest["totals"]["rows_in"] == result.manifest["totals"]["rows_out"] + result.manifest["totals"]["rows_rejected"]  # doctest: +SKIP
    True
    """
    mapping = load_mapping(mapping_path)
    given = describe_adapter(adapter) if adapter is not None and not isinstance(adapter, str) else None
    adapter_name = given.name if given is not None else (adapter if isinstance(adapter, str) else None) or mapping.adapter
    if not adapter_name:
        raise ConfigError("no adapter: give --adapter or adapter = \"...\" in the mapping")
    if adapter and mapping.adapter and adapter_name != mapping.adapter:
        raise ConfigError(f"--adapter {adapter_name} differs from the mapping's adapter {mapping.adapter!r}")
    plugin = given if given is not None else adapter_info(adapter_name)
    declare_finding_types(plugin.name, plugin.finding_types)
    if not inputs:
        raise ConfigError("no input files given")
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be at least 1, not {limit}")
    require_mapped(mapping)
    assigned = assign_inputs(mapping, inputs)
    severities = mapping.severities()
    created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    report = Report("extract", __version__, created_at, show_values)
    manifest_files: list[ManifestFile] = []
    manifest_inputs: list[ManifestInput] = []
    keys: dict[str, pl.Series | None] = {f.layout.id: None for f in mapping.files}
    rejected_keys_of: dict[str, pl.DataFrame] = {}
    referenced = {
        (fk.layout, fk.target_item) for f in mapping.files for fk in f.layout.foreign_keys
    }
    overlays: dict[str, Overlay] = {}  # overlay file → loaded, once per run
    with atomic_run_dir(out, force=force, protect=[*inputs, Path(mapping.path)]) as root:
        for file_mapping in dependency_order(mapping.files):
            paths = assigned[file_mapping.layout.id]
            if not paths:
                continue
            layout = file_mapping.layout
            writer = LayoutWriter(
                root, layout, show_values=show_values,
                excel_findings=_excel_findings_columns(show_values) if excel else None,
                excel_rejects=_excel_rejects_columns(file_mapping) if excel and show_values else None,
            )
            file_report = FileReport(layout=layout.id, layout_name=layout.name)
            findings_total = FindingAccumulator(show_values)
            key_items = sorted(item for lid, item in referenced if lid == layout.id)
            collected: dict[str, list[pl.Series]] = {item: [] for item in key_items}
            collected_rejected: dict[str, list[pl.DataFrame]] = {item: [] for item in key_items}
            row_base = 0
            primary_keys = KeyTracker(layout)
            side = source_side(mapping, file_mapping.source, overlays)
            overlay, variant, normalise = side.overlay, side.variant, side.normalise
            for path in paths:
                options = {
                    **side.options,
                    **(source_overrides or {}),
                    # context for the adapter (see mig.plugin): never set by a mapping
                    "_mapping_dir": str(Path(mapping.path).parent.resolve()),
                    "_columns": file_mapping.source_columns,
                    "_siblings": [
                        dict(f.source) for f in mapping.files
                        if f is not file_mapping and path in assigned[f.layout.id]
                    ],
                }
                with overlay_scope(overlay, variant):  # the codecs the adapter gets honour the overlay
                    reader = open_reader(plugin, path, options, batch_bytes=batch_bytes)
                contract = ContractState.of(plugin, path, reader)
                header = _check_columns(path, reader.columns, file_mapping)
                file_report.unmapped_columns.extend(
                    c for c in header.shown_extra if c not in file_report.unmapped_columns
                )
                total = path.stat().st_size
                rows_in = 0
                label = text("extract.phase-read", layout=layout.id, file=path.name)
                raw_batches = reader.batches()
                for batch in _scoped(raw_batches, overlay, variant):
                    check_batch(batch, contract)  # the adapter keeps the plugin contract, or the run stops
                    if limit is not None:
                        batch = first_records(batch, limit - rows_in)
                    batch = _offset_rows(batch, row_base)
                    batch = normalised(batch, normalise, file_report.normalised)
                    rows_in += batch.rows_in
                    mapped, result = _process_batch(
                        batch, path, reader.encoding, file_mapping, mapping, severities, keys,
                        rejected_keys_of, writer, findings_total, show_values, primary_keys,
                    )
                    for item in key_items:  # copies: a view would keep the batch's buffers alive
                        if primary_keys.accepted_keys(item) is None:  # else the tracker has them
                            collected[item].append(owned_keys(result.accepted.get_column(item).drop_nulls()))
                        if result.rejected_rows.len():
                            collected_rejected[item].append(rejected_keys(mapped, result.rejected_rows, item))
                    if progress is not None:
                        progress(label, _bytes_done(batch), total)
                    del batch, mapped, result  # not alive while the reader builds the next batch
                    if limit is not None and rows_in >= limit:
                        break
                if limit is not None and rows_in >= limit:
                    close_batches(raw_batches)  # a trial stops early: what was not read is not checked
                else:
                    check_end(reader, contract)
                file_report.sources.append(
                    SourceSummary(path.name, reader.encoding, row_base + 1, row_base + rows_in)
                )
                digest = file_digest(path)
                manifest_inputs.append(
                    ManifestInput(
                        path=path.name, sha256=digest.sha256, bytes=digest.bytes, layout=layout.id,
                        encoding=reader.encoding, adapter_stats=dict(reader.stats) if isinstance(reader, HasStats) and reader.stats else None,
                    )
                )
                row_base += rows_in
                if progress is not None:
                    progress(label, total, total)
            for item in key_items:
                parts = collected[item]
                tracked = primary_keys.accepted_keys(item)
                if tracked is not None:
                    keys[layout.id] = tracked
                else:
                    keys[layout.id] = pl.concat(parts).unique() if parts else pl.Series(item, [], pl.String)
                gone = collected_rejected[item]
                if gone:  # first row per key over all batches (the batches come in row order)
                    rejected_keys_of[layout.id] = pl.concat(gone).unique(subset="key", keep="first", maintain_order=True)
            outputs = writer.close()
            file_report.rows_in = row_base
            file_report.rows_out = writer.rows_out
            file_report.rows_rejected = writer.rows_rejected
            file_report.findings = findings_total.summaries() + unchecked_references(layout, keys, severities)
            charsets = sorted({s.encoding for s in file_report.sources})
            file_report.gaiji = [
                {"item": f.item, "code": f.detail, "count": f.count, "charsets": charsets, "rows": f.rows}
                for f in file_report.findings if f.type == "gaiji-unresolved"
            ]
            if not file_report.conserved:  # pragma: no cover - an internal bug, never data
                raise AssertionError(f"conservation broken for {layout.id}")
            report.files.append(file_report)
            manifest_files.append(
                ManifestFile.of(
                    layout, rows_in=file_report.rows_in, rows_out=file_report.rows_out,
                    rows_rejected=file_report.rows_rejected, outputs=outputs,
                )
            )
        manifest = Manifest(
            tool="mig",
            tool_version=__version__,
            created_at=created_at,
            adapter=adapter_name,
            mapping=Digest(Path(mapping.path).name, mapping.sha256),
            gaiji=GaijiEntry.from_dict(mapping.gaiji.manifest_entry()) if mapping.gaiji else None,
            codec_overlays=tuple(Digest(o.path, o.sha256) for _, o in sorted(overlays.items())),
            inputs=tuple(manifest_inputs),
            files=tuple(manifest_files),
            totals=Totals(**report.totals),
            partial=Partial(limit) if limit is not None else None,
        )
        if progress is not None:
            progress(text("extract.phase-report"), 0, 0)
        write_manifest(root, manifest)
        (root / REPORT_JSON).write_text(report.to_json(), encoding="utf-8")
        (root / REPORT_HTML).write_text(render_report_html(report.to_dict()), encoding="utf-8")
    return RunResult(out, manifest, report)


def first_records(batch: SourceBatch, wanted: int) -> SourceBatch:
    """The batch's first ``wanted`` records (by record id, data and rejects alike): a trial
    (``--limit``) or a preview reads no further."""
    if batch.rows_in <= wanted:
        return batch
    first_ids = pl.concat([batch.records.select("row"), batch.rejects.select("row")]).get_column("row")
    cut = first_ids.sort().head(wanted).max()
    keep = pl.col("row") <= cut
    return SourceBatch(batch.data.filter(keep), batch.records.filter(keep), batch.rejects.filter(keep))


def close_batches(batches: Iterable[object]) -> None:
    """Close a reader's batch generator early (its ``finally`` closes the file)."""
    close = getattr(batches, "close", None)
    if callable(close):
        close()


@dataclass(frozen=True)
class SourceSide:
    """A file's ``[source]`` as ``mig extract`` and ``mig preview`` read it: the options the
    adapter gets, and what mig applies around the adapter — the site overlay and table
    variant (:mod:`mig.codecs.overlay`) and the 〜 family normalisation (:mod:`mig.codecs.tilde`)."""

    options: dict[str, Any]
    overlay: Overlay | None
    variant: str | None
    normalise: Normalise


def source_side(
    mapping: Mapping, file_source: Any, loaded: dict[str, Overlay] | None = None
) -> SourceSide:
    """The mapping's ``[source]`` with a file's own on top, split into the adapter's options
    and mig's own keys (``overlay``, ``codec_variant``, ``normalise``); an overlay file is
    loaded once per ``loaded`` cache (one per run)."""
    merged: dict[str, Any] = {**mapping.source, **dict(file_source or {})}
    name = merged.pop(OVERLAY_KEY, None)
    overlay = None
    if name is not None:
        if not isinstance(name, str) or not name:
            raise ConfigError("[source] overlay must be the path of an overlay CSV file")
        path = (Path(mapping.path).parent / name).resolve()
        cache = loaded if loaded is not None else {}
        if str(path) not in cache:
            cache[str(path)] = load_overlay(path)
        overlay = cache[str(path)]
    variant = check_variant(merged.pop(VARIANT_KEY, None))
    normalise = check_normalise(merged.pop(NORMALISE_KEY, "none"))
    return SourceSide(merged, overlay, variant, normalise)


def normalised(batch: SourceBatch, normalise: Normalise, counts: dict[str, int]) -> SourceBatch:
    """The batch with its text normalised (mig.codecs.tilde), the replacements added to ``counts``."""
    if normalise == "none":
        return batch
    data, replaced = normalise_frame(batch.data, normalise)
    for key, count in replaced.items():
        counts[key] = counts.get(key, 0) + count
    return replace(batch, data=data) if replaced else batch


def _scoped(batches: Iterator[SourceBatch], overlay: Overlay | None, variant: str | None) -> Iterator[SourceBatch]:
    """The reader's batches, each produced with the overlay active (adapters may build
    their codecs lazily)."""
    while True:
        with overlay_scope(overlay, variant):
            batch = next(batches, None)
        if batch is None:
            return
        yield batch


def _bytes_done(batch: SourceBatch) -> int:
    offsets = pl.concat([batch.records.select("offset"), batch.rejects.select("offset")])
    return int(offsets.get_column("offset").max() or 0) if offsets.height else 0  # type: ignore[arg-type]


def _check_columns(path: Path, columns: list[str], file_mapping: FileMapping) -> HeaderMatch:
    """The source's columns against those the mapping reads; a missing one stops the run.

    The message names only the mapping's columns, never the file's: a file without its
    header line has a data record there (see :mod:`mig.validation.header`).
    """
    header = HeaderMatch.of(columns, file_mapping.source_columns)
    if header.missing:
        where = f"{path.name}: header does not match the mapping for {file_mapping.layout.id}"
        if header.plausible:
            raise ConfigError(f"{where}: missing column(s) {', '.join(header.missing)}")
        shown = ", ".join(header.missing[:_MISSING_SHOWN]) + (
            f" … ({len(header.missing)} in all)" if len(header.missing) > _MISSING_SHOWN else ""
        )
        raise ConfigError(f"{where}: {header.not_a_header()}; missing column(s) {shown}")
    return header


#: Missing mapping columns named when the first line is no header at all (they may be many).
_MISSING_SHOWN = 8


def _offset_rows(batch: SourceBatch, base: int) -> SourceBatch:
    if base == 0:
        return batch
    shift = pl.col("row") + base
    return SourceBatch(
        batch.data.with_columns(shift),
        batch.records.with_columns(shift),
        batch.rejects.with_columns(shift),
    )


def _process_batch(
    batch: SourceBatch,
    path: Path,
    encoding: str,
    file_mapping: FileMapping,
    mapping: Mapping,
    severities: pl.DataFrame,
    keys: dict[str, pl.Series | None],
    rejected_keys_of: dict[str, pl.DataFrame],
    writer: LayoutWriter,
    findings_total: FindingAccumulator,
    show_values: bool,
    primary_keys: KeyTracker,
) -> tuple[pl.DataFrame, BatchResult]:
    """Map, resolve, validate and write one batch; the mapped frame and what it came to."""
    layout = file_mapping.layout
    mapped, mapping_findings = apply_mapping(batch.data, file_mapping, mapping.code_maps, show_values=show_values)
    mapped = resolve_frame(mapped, layout, mapping.gaiji.table if mapping.gaiji else {})
    framing = batch.rejects
    if show_values and framing.height:
        framing = framing.with_columns(record_text(framing.get_column("raw"), encoding).alias("value"))
    result = validate_batch(
        mapped, layout,
        severities=severities, references=keys, primary_keys=primary_keys,
        framing=framing, mapping_findings=mapping_findings, show_values=show_values,
        rejected_references=rejected_keys_of,
    )
    writer.write_accepted(result.accepted.drop("row"))
    rejects = _rejects(batch, result.rejected_rows, result.errors, path, layout)
    writer.write_rejects(rejects)
    writer.write_findings(result.findings)
    if writer.excel_findings is not None and result.findings.height:
        writer.excel_findings.write(_with_messages(result.findings))
    if writer.excel_rejects is not None and rejects.height:
        writer.excel_rejects.write(_rejects_sheet(rejects, batch, framing, file_mapping))
    findings_total.add(result.findings)
    return mapped, result


def _with_messages(findings: pl.DataFrame) -> pl.DataFrame:
    """``findings`` with a ``message`` column, rendered once per distinct (type, item, detail)."""
    distinct = findings.select("type", "item", "detail").unique(maintain_order=True)
    messages = distinct.with_columns(
        pl.Series(
            "message",
            [message(t, i, d) for t, i, d in distinct.iter_rows()],  # one per distinct reason
            dtype=pl.String,
        )
    )
    return findings.join(messages, on=["type", "item", "detail"], how="left", nulls_equal=True, maintain_order="left")


_FINDING_COLUMNS = ["row", "item", "type", "severity", "message", "detail"]


def _excel_findings_columns(show_values: bool) -> tuple[list[str], list[str]]:
    columns = _FINDING_COLUMNS + (["value"] if show_values else [])
    return columns, [text(f"extract.col-{c}") for c in columns]


_REJECT_COLUMNS = ["source", "row", "line", "offset", "reasons", "record"]


def _excel_rejects_columns(file_mapping: FileMapping) -> tuple[list[str], list[str]]:
    """The rejects sheet: where and why, the record's text when it could not be split, then
    the source columns the mapping reads (named as in the source file)."""
    fields = [c for c in file_mapping.source_columns if c not in _REJECT_COLUMNS]
    return _REJECT_COLUMNS + fields, [text(f"extract.col-{c}") for c in _REJECT_COLUMNS] + fields


def _rejects_sheet(
    rejects: pl.DataFrame, batch: SourceBatch, framing: pl.DataFrame, file_mapping: FileMapping
) -> pl.DataFrame:
    """The rejects of a batch for the spreadsheet (``--show-values`` only): reasons as one
    text, the source fields decoded, 個人番号's source columns masked."""
    fields = [c for c in file_mapping.source_columns if c not in _REJECT_COLUMNS and c in batch.data.columns]
    masked = {
        column for item in file_mapping.items
        if file_mapping.layout.item(item.target).check == "個人番号" for column in item.source_columns
    }
    decoded = batch.data.select(
        "row",
        *(pl.when(pl.col(c).is_not_null()).then(pl.lit(MASK)).alias(c) if c in masked else pl.col(c) for c in fields),
    )
    records = (
        framing.select("row", pl.col("value").alias("record"))
        if "value" in framing.columns else pl.DataFrame(schema={"row": pl.Int64, "record": pl.String})
    )
    return (
        rejects.select(
            "source", "row", "line", "offset",
            pl.col("reasons").list.eval(pl.element().struct.field("message")).list.join("; ").alias("reasons"),
        )
        .join(records, on="row", how="left", maintain_order="left")
        .join(decoded, on="row", how="left", maintain_order="left")
        .with_columns(pl.col("row", "line", "offset").cast(pl.String))
    )


def _rejects(
    batch: SourceBatch,
    rejected_rows: pl.Series,
    errors: pl.DataFrame,
    path: Path,
    layout: Layout,
) -> pl.DataFrame:
    """One row per rejected record: where it was, why (its error findings), and its original bytes."""
    reasons = (
        _with_messages(errors)
        .sort("row", "item", "type")
        .group_by("row", maintain_order=True)
        .agg(pl.struct("type", "item", "message").alias("reasons"))
    )
    records = pl.concat(
        [
            batch.records.filter(pl.col("row").is_in(rejected_rows.implode())),
            batch.rejects.select(batch.records.columns),
        ]
    )
    return (
        records.join(reasons, on="row", how="left")
        .sort("row")
        .select(
            pl.lit(path.name).alias("source"),
            pl.lit(layout.id).alias("layout"),
            "row",
            "line",
            "offset",
            "reasons",
            pl.col("raw").bin.encode("hex").alias("raw_hex"),
        )
    )

