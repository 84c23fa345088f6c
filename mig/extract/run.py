"""``mig extract``: legacy export → standard-layout run directory, in one streaming pass.

Per batch: the adapter frames and decodes records, the mapping builds the layout's items,
validation and cross-file keys produce findings, and every record goes to exactly one of
the outputs or the rejects. Layouts referenced by a foreign key are extracted first so
that their accepted keys are known when the referencing file streams past.

The work is split in two (:mod:`mig.extract.partitions`): the partition stage — framing,
mapping, 外字, row-local checks — runs per partition (an input file, or a byte range of a
large one), inline or on an engine's workers (:mod:`mig.extract.engines`); the merge
here takes the partitions in input order, numbers their rows on, runs the key checks
(:func:`~mig.validation.batch.check_keys`) and writes the run directory. A single-process
run is the same code with the partition stage in this process and nothing spilled, in
two background threads ahead of the merge (:func:`~mig.extract.partitions.run_partitions_ahead`):
batch N+2 is read and decoded while batch N+1 is mapped and checked and batch N merged and
written. The partition stage never needs the merge (only the merge needs the earlier
layouts' keys), so it runs ahead across files too.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from mig.codecs.overlay import Overlay
from mig.errors import ConfigError, InputError
from mig.extract.engines import EngineName, LocalEngine, run_ahead
from mig.extract.engines import engine as make_engine
from mig.extract.mapping import FileMapping, Mapping, load_mapping, require_mapped
from mig.extract.partitions import (
    MIN_PARTITION_BYTES,
    CheckedBatch,
    PartitionResult,
    PartitionTask,
    SourceSide,
    WorkDir,
    close_batches,
    combine_stats,
    first_records,
    is_batch,
    log_partitions,
    normalised,
    plan_ranges,
    remember_mapping,
    run_partition,
    run_partitions_ahead,
    scoped,
    source_side,
)
from mig.html.run_report import compile_report_html, render_report_html
from mig.i18n import current_lang, text
from mig.layout import Layout
from mig.machine import available_cores
from mig.plugin import Adapter, ByteRange
from mig.registry import AdapterInfo, adapter_info, describe_adapter
from mig.run.manifest import (
    REPORT_HTML,
    REPORT_JSON,
    Digest,
    FileDigest,
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
from mig.validation.batch import check_keys
from mig.validation.findings import declare_finding_types, message
from mig.validation.header import HeaderMatch
from mig.validation.keys import KeyTracker, owned_keys, rejected_keys, unchecked_references
from mig.validation.report import (
    MASK,
    FileReport,
    FindingAccumulator,
    Report,
    SourceSummary,
)
from mig.version import __version__

#: Re-exported for mig preview and mig guess, which read sources the way extract does.
__all__ = [
    "DEFAULT_BATCH_BYTES", "Progress", "RunResult", "SourceSide", "assign_inputs", "close_batches",
    "dependency_order", "extract", "first_records", "normalised", "scoped", "source_side",
]

DEFAULT_BATCH_BYTES = 32 * 1024 * 1024

logger = logging.getLogger("mig.extract")

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
    workers: int | None = None,
    engine: EngineName = "local",
    address: str | None = None,
    resume: bool = False,
    partition_bytes: int | None = None,
    pipeline: bool | None = None,
) -> RunResult:
    """Run the conversion path and write a run directory at ``out``.

    ``adapter`` is an installed adapter's name, or an adapter object (used as is, without
    an entry point: its declarations are checked as an installed one's). ``limit``: read
    only the first ``limit`` records of each input (a trial of the mapping); the manifest
    then says the run is partial (:class:`~mig.run.manifest.Partial`). ``excel``: also
    write the spreadsheet CSVs of :mod:`mig.run.spreadsheet` per layout — the findings, and
    with ``show_values`` the rejects with their decoded source fields (個人番号 masked).

    Partitions (:mod:`mig.extract.partitions`): each input file, and each byte range of
    about ``partition_bytes`` of a large one whose adapter can read ranges, runs the
    row-local work on its own — on ``workers`` local processes (default:
    :func:`mig.machine.default_workers`; inputs under two partitions in all run in this process) or on Ray
    (``engine="ray"``, ``address``) — and the merge here writes the run directory, the same
    bytes whatever the partitioning. ``resume``: reuse the partitions a killed run into
    ``out`` completed (its work folder ``.NAME.work`` beside ``out``).

    ``pipeline``: when the partitions run in this process, run their stage in background
    threads, reading and checking ahead of the merge (default: when this process may use
    more than one core; ``False``: one after the other). The run directory is the same bytes either way,
    and an error reaches the caller as the same exception at the same point of the run.

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
    if partition_bytes is not None and partition_bytes < 1:
        raise ConfigError(f"--partition-size must be at least 1 byte, not {partition_bytes}")
    runner = make_engine(engine, workers=workers, address=address)
    one_process = isinstance(runner, LocalEngine) and runner.workers == 1
    require_mapped(mapping)
    remember_mapping(mapping)
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
    ordered = [f for f in dependency_order(mapping.files) if assigned[f.layout.id]]
    total_bytes = sum(p.stat().st_size for f in ordered for p in assigned[f.layout.id])
    size = MIN_PARTITION_BYTES if partition_bytes is None else partition_bytes
    with atomic_run_dir(out, force=force, protect=[*inputs, Path(mapping.path)]) as root, ExitStack() as cleanup:
        # beside out, where --resume finds it (the partial directory's name changes with the pid)
        work = WorkDir(out.resolve() if out.exists() else out.absolute())
        tasks = _plan(
            mapping, ordered, assigned, plugin, overlays, source_overrides, batch_bytes=batch_bytes,
            show_values=show_values, keep_data=excel and show_values, limit=limit,
            # a trial reads only the start of each file; one process cuts files only when told to
            partition_bytes=None if limit is not None or (one_process and partition_bytes is None) else size,
            work=str(work.path),
        )
        # small runs stay in this process, unspilled: a process costs more than it saves
        inline = not resume and engine == "local" and (
            one_process or len(tasks) == 1 or total_bytes < 2 * size
        )
        results: Iterator[PartitionResult] | None = None
        ahead: Iterator[CheckedBatch | PartitionResult] | None = None
        if inline and (available_cores() > 1 if pipeline is None else pipeline):
            ahead = run_ahead(functools.partial(run_partitions_ahead, tasks), counted=is_batch)
            cleanup.callback(close_batches, ahead)  # on an error in the merge: the thread stops
        elif not inline:
            work.prepare(resume=resume)
            reused = {t.index: r for t in tasks if (r := work.completed(t)) is not None}
            pending = [t for t in tasks if t.index not in reused]
            log_partitions(tasks, reused)
            results = _in_order(tasks, reused, runner.map_ordered(run_partition, pending))
            cleanup.callback(close_batches, results)  # on an error in the merge: the engine stops
        # Side work off the merge's path, while the first batch is read: the inputs' sha256
        # for the manifest (hashlib releases the GIL) and the report page's template.
        side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mig-side")
        cleanup.callback(side.shutdown, wait=True, cancel_futures=True)
        input_digests: dict[Path, Future[FileDigest]] = {
            path: side.submit(file_digest, path) for f in ordered for path in assigned[f.layout.id]
        }
        side.submit(compile_report_html)
        by_file: dict[tuple[str, str], list[PartitionTask]] = {}
        for task in tasks:
            by_file.setdefault((task.layout, task.path), []).append(task)
        for file_mapping in ordered:
            paths = assigned[file_mapping.layout.id]
            layout = file_mapping.layout
            writer = LayoutWriter(
                root, layout, show_values=show_values,
                excel_findings=_excel_findings_columns(show_values) if excel else None,
                excel_rejects=_excel_rejects_columns(file_mapping) if excel and show_values else None,
            )
            cleanup.callback(writer.discard)  # on an error: no Parquet write outlives the run
            file_report = FileReport(layout=layout.id, layout_name=layout.name)
            merge = _LayoutMerge(
                file_mapping, severities, keys, rejected_keys_of, writer, FindingAccumulator(show_values),
                show_values, KeyTracker(layout), sorted(item for lid, item in referenced if lid == layout.id),
                progress,
            )
            row_base = 0
            for path in paths:
                total = path.stat().st_size
                merge.start_file(path, text("extract.phase-read", layout=layout.id, file=path.name), total)
                rows_in = 0
                done: list[PartitionResult] = []
                for task in by_file[(layout.id, str(path))]:
                    base = row_base + rows_in
                    if ahead is not None:
                        result = _merge_ahead(ahead, task, merge, base)
                    elif results is None:
                        result = run_partition(task, functools.partial(merge.add, base=base))
                    else:
                        result = next(results)
                        for checked in work.batches(result.index, result.batches):
                            merge.add(checked, base=base)
                    rows_in += result.rows_in
                    done.append(result)
                header = HeaderMatch.of(done[0].columns, file_mapping.source_columns)
                file_report.unmapped_columns.extend(
                    c for c in header.shown_extra if c not in file_report.unmapped_columns
                )
                for result in done:
                    for key, count in result.normalised.items():
                        file_report.normalised[key] = file_report.normalised.get(key, 0) + count
                encoding = done[0].encoding
                file_report.sources.append(SourceSummary(path.name, encoding, row_base + 1, row_base + rows_in))
                digest = input_digests[path].result()
                stats = combine_stats([r.stats for r in done]) if len(done) > 1 else done[0].stats
                manifest_inputs.append(
                    ManifestInput(
                        path=path.name, sha256=digest.sha256, bytes=digest.bytes, layout=layout.id,
                        encoding=encoding, adapter_stats=stats,
                    )
                )
                row_base += rows_in
                if progress is not None:
                    progress(merge.label, total, total)
            merge.finish()
            outputs = writer.close()
            file_report.rows_in = row_base
            file_report.rows_out = writer.rows_out
            file_report.rows_rejected = writer.rows_rejected
            file_report.findings = merge.findings_total.summaries() + unchecked_references(layout, keys, severities)
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
        work.remove()  # the run is complete: its partitions are no longer needed
    return RunResult(out, manifest, report)


def _plan(
    mapping: Mapping,
    ordered: Sequence[FileMapping],
    assigned: dict[str, list[Path]],
    plugin: AdapterInfo,
    overlays: dict[str, Overlay],
    source_overrides: dict[str, Any] | None,
    *,
    batch_bytes: int,
    show_values: bool,
    keep_data: bool,
    limit: int | None,
    partition_bytes: int | None,
    work: str | None,
) -> list[PartitionTask]:
    """The run's partitions, in merge order: layouts in dependency order, their inputs in
    the order given, each file whole or in byte ranges (``partition_bytes``: ``None``
    never cuts a file, as a trial run reads only its start)."""
    tasks: list[PartitionTask] = []
    lang = current_lang()
    adapter: str | AdapterInfo = plugin if plugin.distribution is None else plugin.name
    for file_mapping in ordered:
        side = source_side(mapping, file_mapping.source, overlays)
        for path in assigned[file_mapping.layout.id]:
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
            ranges: list[ByteRange | None] = [None]
            if partition_bytes is not None:
                ranges = [*plan_ranges(plugin, path, options, side, size=partition_bytes)] or [None]
            for source in ranges:
                task = PartitionTask(
                    len(tasks), file_mapping.layout.id, str(path), source, str(mapping.path), adapter,
                    options, batch_bytes, show_values=show_values, keep_data=keep_data, limit=limit,
                    work=work, lang=lang, mapping_sha256=mapping.sha256,
                )
                tasks.append(replace(task, identity=task.identify()) if work is not None else task)
    return tasks


def _merge_ahead(
    ahead: Iterator[CheckedBatch | PartitionResult], task: PartitionTask, merge: _LayoutMerge, base: int
) -> PartitionResult:
    """Merge ``task``'s checked batches as the stage running ahead hands them over; its result."""
    for item in ahead:
        if isinstance(item, PartitionResult):
            if item.index != task.index:  # pragma: no cover - an internal bug, never data
                raise AssertionError(f"partition {item.index} came for {task.index}")
            return item
        merge.add(item, base=base)
        del item  # not alive while the next batch is awaited
    raise AssertionError(f"partition {task.index} ended without its result")  # pragma: no cover


def _in_order(
    tasks: Sequence[PartitionTask], reused: dict[int, PartitionResult], ran: Iterator[PartitionResult]
) -> Iterator[PartitionResult]:
    """Every task's result in task order: the reused ones as found, the others as they come."""
    try:
        for task in tasks:
            if task.index in reused:
                yield reused[task.index]
            else:
                result = next(ran)
                logger.info("partition %d ran: %s, %d record(s)", task.index, task.label, result.rows_in)
                yield result
    finally:
        close_batches(ran)


class _LayoutMerge:
    """The merge of one layout's partitions: keys, reject decision, writing (serial, in row order)."""

    def __init__(
        self,
        file_mapping: FileMapping,
        severities: pl.DataFrame,
        keys: dict[str, pl.Series | None],
        rejected_keys_of: dict[str, pl.DataFrame],
        writer: LayoutWriter,
        findings_total: FindingAccumulator,
        show_values: bool,
        primary_keys: KeyTracker,
        key_items: list[str],
        progress: Progress | None,
    ) -> None:
        self.file_mapping = file_mapping
        self.severities = severities
        self.keys = keys
        self.rejected_keys_of = rejected_keys_of
        self.writer = writer
        self.findings_total = findings_total
        self.show_values = show_values
        self.primary_keys = primary_keys
        self.key_items = key_items
        self.collected: dict[str, list[pl.Series]] = {item: [] for item in key_items}
        self.collected_rejected: dict[str, list[pl.DataFrame]] = {item: [] for item in key_items}
        self.progress = progress
        self.path = Path()
        self.label = ""
        self.total = 0

    def start_file(self, path: Path, label: str, total: int) -> None:
        self.path, self.label, self.total = path, label, total

    def add(self, checked: CheckedBatch, *, base: int) -> None:
        """Merge one checked batch whose rows come after ``base`` rows of the file."""
        checked = checked.shifted(base)
        layout = self.file_mapping.layout
        result = check_keys(
            checked.checks, checked.mapped, layout, severities=self.severities, references=self.keys,
            primary_keys=self.primary_keys, show_values=self.show_values,
            rejected_references=self.rejected_keys_of,
        )
        writer = self.writer
        writer.write_accepted(result.accepted.drop("row"))
        rejects = _rejects(checked, result.rejected_rows, result.errors, self.path, layout)
        writer.write_rejects(rejects)
        writer.write_findings(result.findings)
        if writer.excel_findings is not None and result.findings.height:
            writer.excel_findings.write(_with_messages(result.findings))
        if writer.excel_rejects is not None and rejects.height:
            writer.excel_rejects.write(_rejects_sheet(rejects, checked, self.file_mapping))
        self.findings_total.add(result.findings)
        for item in self.key_items:  # copies: a view would keep the batch's buffers alive
            if self.primary_keys.accepted_keys(item) is None:  # else the tracker has them
                self.collected[item].append(owned_keys(result.accepted.get_column(item).drop_nulls()))
            if result.rejected_rows.len():
                self.collected_rejected[item].append(rejected_keys(checked.mapped, result.rejected_rows, item))
        if self.progress is not None:
            self.progress(self.label, checked.bytes_done, self.total)

    def finish(self) -> None:
        """The layout's keys for the layouts that reference it."""
        layout_id = self.file_mapping.layout.id
        for item in self.key_items:
            parts = self.collected[item]
            tracked = self.primary_keys.accepted_keys(item)
            if tracked is not None:
                self.keys[layout_id] = tracked
            else:
                self.keys[layout_id] = pl.concat(parts).unique() if parts else pl.Series(item, [], pl.String)
            gone = self.collected_rejected[item]
            if gone:  # first row per key over all batches (the batches come in row order)
                self.rejected_keys_of[layout_id] = pl.concat(gone).unique(subset="key", keep="first", maintain_order=True)


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


def _rejects_sheet(rejects: pl.DataFrame, batch: CheckedBatch, file_mapping: FileMapping) -> pl.DataFrame:
    """The rejects of a batch for the spreadsheet (``--show-values`` only): reasons as one
    text, the source fields decoded, 個人番号's source columns masked."""
    data = batch.data if batch.data is not None else pl.DataFrame(schema={"row": pl.Int64})
    framing = batch.rejects
    fields = [c for c in file_mapping.source_columns if c not in _REJECT_COLUMNS and c in data.columns]
    masked = {
        column for item in file_mapping.items
        if file_mapping.layout.item(item.target).check == "個人番号" for column in item.source_columns
    }
    decoded = data.select(
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
    batch: CheckedBatch,
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
            batch.rejects.select(batch.records.columns),  # the framing rejects
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

