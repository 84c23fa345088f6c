"""The partition stage of ``mig extract``: what each part of an input goes through alone.

A run is cut into partitions — a whole input file, or a byte range of one when its adapter
is :class:`~mig.plugin.RangeReadable` and the file is large — and each partition runs, per
batch, everything that needs no other record: the adapter's framing, the 〜 normalisation,
the mapping, 外字 resolution and the row-local checks
(:func:`~mig.validation.batch.check_rows`). Its row ids are local (from 1); its line
numbers and byte offsets are the file's. The merge (:mod:`mig.extract.run`) then takes the
partitions in input order, adds the row counts of the earlier ones and runs the checks
that need the other records (keys), writing exactly what a single pass writes.

A partition run in this process hands its checked batches straight to the merge
(:func:`run_partition` with a ``sink``); one run in another process (``--workers``, Ray)
spills them as Arrow IPC files into its own folder of the run's work directory
(:class:`WorkDir`) and writes its completion marker last, atomically, so that a retry or a
``--resume`` can trust a partition whose marker is there and whose identity (input size
and modification time, range, mapping digest, options) is unchanged.

>>> task = PartitionTask(0, "juki", "JUMIN.csv", ByteRange(0, 10, 0), "mapping.toml", "csv", {}, 1024)
>>> task.label
'JUMIN.csv bytes 0–10'
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from mig.errors import ConfigError, MigError, Msg, PartitionError
from mig.extract.contract import ContractState, check_batch, check_end
from mig.extract.engines import run_ahead
from mig.extract.mapping import FileMapping, apply_mapping, load_mapping
from mig.extract.mapping import Mapping as MappingFile
from mig.fs import json_text, read_json, write_text
from mig.gaiji.resolve import resolve_frame
from mig.i18n import Lang, set_lang
from mig.plugin import ByteRange, HasStats, RangeReadable, SourceBatch
from mig.registry import AdapterInfo, adapter_info, open_reader
from mig.validation.batch import RowChecks, check_rows
from mig.validation.findings import declare_finding_types
from mig.validation.header import HeaderMatch
from mig.validation.report import record_text
from mig.version import __version__

__all__ = [
    "MIN_PARTITION_BYTES", "CheckedBatch", "PartitionResult", "PartitionTask", "SourceSide", "WorkDir",
    "check_columns", "close_batches", "combine_stats", "first_records", "is_batch", "normalised", "plan_ranges",
    "log_partitions", "remember_mapping", "run_partition", "run_partitions_ahead", "scoped", "source_side",
]

#: Files smaller than this are never cut, and no range is cut smaller: a process costs
#: more than it saves below it (the tests and the demo run in one process).
MIN_PARTITION_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class PartitionTask:
    """One partition of a run, everything a worker process needs to run it (picklable).

    ``adapter`` is an installed adapter's name or its :class:`~mig.registry.AdapterInfo`;
    ``options`` are the reader's options (context included) for the whole file, ``source``
    the range to read (``None``: the whole file). ``work``: the folder to spill into
    (``None``: the batches go to the caller's sink). ``limit``: a trial's record limit.
    """

    index: int
    layout: str
    path: str
    source: ByteRange | None
    mapping_path: str
    adapter: str | AdapterInfo
    options: Mapping[str, Any]
    batch_bytes: int
    show_values: bool = False
    keep_data: bool = False
    limit: int | None = None
    work: str | None = None
    lang: Lang | None = None
    mapping_sha256: str = ""
    identity: str = ""
    """What the partition's result depends on (:meth:`identify`); kept in its marker."""

    @property
    def label(self) -> str:
        """How messages name the partition: the input file, and its byte range if one."""
        name = Path(self.path).name
        return name if self.source is None else f"{name} bytes {self.source.start}–{self.source.end}"

    def identify(self) -> str:
        """What a completed partition's spill depends on: if this is unchanged, it is reused."""
        stat = Path(self.path).stat()
        adapter = self.adapter if isinstance(self.adapter, str) else self.adapter.name
        facts = {
            "mig": __version__, "layout": self.layout, "path": str(Path(self.path).resolve()),
            "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "mapping": self.mapping_sha256,
            "adapter": adapter, "options": self.options, "batch_bytes": self.batch_bytes,
            "range": None if self.source is None else [self.source.start, self.source.end, self.source.line,
                                                        dict(self.source.options)],
            "show_values": self.show_values, "keep_data": self.keep_data, "limit": self.limit,
            "lang": self.lang,
        }
        return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class PartitionResult:
    """What a partition came to, besides its batches (JSON-able: it is the completion marker)."""

    index: int
    rows_in: int
    batches: int
    encoding: str
    columns: list[str]
    stats: dict[str, Any] | None
    normalised: dict[str, int]
    identity: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "rows_in": self.rows_in, "batches": self.batches, "encoding": self.encoding,
            "columns": self.columns, "stats": self.stats, "normalised": self.normalised, "identity": self.identity,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PartitionResult:
        return cls(
            index=int(data["index"]), rows_in=int(data["rows_in"]), batches=int(data["batches"]),
            encoding=str(data["encoding"]), columns=[str(c) for c in data["columns"]],
            stats=data["stats"], normalised={str(k): int(v) for k, v in data["normalised"].items()},
            identity=str(data["identity"]),
        )


@dataclass(frozen=True)
class CheckedBatch:
    """One batch after the partition stage (row ids local to the partition).

    ``records`` and ``rejects`` are the adapter's (rejects with the record's text as
    ``value`` when values are shown), ``mapped`` the layout frame after 外字 resolution,
    ``checks`` the row-local findings, ``data`` the decoded source columns when the
    rejects spreadsheet needs them.
    """

    records: pl.DataFrame
    rejects: pl.DataFrame
    mapped: pl.DataFrame
    checks: RowChecks
    data: pl.DataFrame | None = None

    def shifted(self, base: int) -> CheckedBatch:
        """The batch with its row ids moved by ``base`` (the rows of the earlier partitions)."""
        if base == 0:
            return self
        shift = pl.col("row") + base
        return CheckedBatch(
            self.records.with_columns(shift), self.rejects.with_columns(shift), self.mapped.with_columns(shift),
            self.checks.shifted(base), None if self.data is None else self.data.with_columns(shift),
        )

    @property
    def bytes_done(self) -> int:
        """How far into the file the batch reaches (for progress)."""
        offsets = pl.concat([self.records.select("offset"), self.rejects.select("offset")])
        return int(offsets.get_column("offset").max() or 0) if offsets.height else 0  # type: ignore[arg-type]

    _KINDS = ("records", "rejects", "mapped", "findings", "rejected", "data")

    def spill(self, folder: Path, number: int) -> None:
        """Write the batch as Arrow IPC files ``b{number}.{kind}.arrow`` in ``folder``."""
        frames = self._frames()
        for kind, frame in frames.items():
            if frame is not None:
                frame.write_ipc(folder / f"b{number:06d}.{kind}.arrow", compression="lz4")

    def _frames(self) -> dict[str, pl.DataFrame | None]:
        return {
            "records": self.records, "rejects": self.rejects, "mapped": self.mapped,
            "findings": self.checks.findings, "rejected": self.checks.rejected_rows.to_frame("row"),
            "data": self.data,
        }

    @classmethod
    def read(cls, folder: Path, number: int) -> CheckedBatch:
        """A spilled batch back (read into memory: the work files may go before it is used)."""

        def frame(kind: str) -> pl.DataFrame | None:
            path = folder / f"b{number:06d}.{kind}.arrow"
            return pl.read_ipc(path) if path.exists() else None

        def needed(kind: str) -> pl.DataFrame:
            got = frame(kind)
            if got is None:
                raise ConfigError(Msg("partitions.work-incomplete", folder=str(folder), number=number, kind=kind))
            return got

        return cls(
            needed("records"), needed("rejects"), needed("mapped"),
            RowChecks(needed("findings"), needed("rejected").get_column("row")), frame("data"),
        )


# -- what a file's [source] means to mig (shared with mig preview) --------------------------


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
    mapping: MappingFile, file_source: Any, loaded: dict[str, Overlay] | None = None
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


def first_records(batch: SourceBatch, wanted: int) -> SourceBatch:
    """The batch's first ``wanted`` records (by record id, data and rejects alike): a trial
    (``--limit``) or a preview reads no further."""
    if batch.rows_in <= wanted:
        return batch
    first_ids = pl.concat([batch.records.select("row"), batch.rejects.select("row")]).get_column("row")
    cut = first_ids.sort().head(wanted).max()
    keep = pl.col("row") <= cut
    return SourceBatch(batch.data.filter(keep), batch.records.filter(keep), batch.rejects.filter(keep))


def close_batches(batches: object) -> None:
    """Close a reader's batch generator early (its ``finally`` closes the file)."""
    close = getattr(batches, "close", None)
    if callable(close):
        close()


def scoped(batches: Iterator[SourceBatch], overlay: Overlay | None, variant: str | None) -> Iterator[SourceBatch]:
    """The reader's batches, each produced with the overlay active (adapters may build
    their codecs lazily)."""
    while True:
        with overlay_scope(overlay, variant):
            batch = next(batches, None)
        if batch is None:
            return
        yield batch


def check_columns(path: Path, columns: list[str], file_mapping: FileMapping) -> HeaderMatch:
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


# -- planning ------------------------------------------------------------------------------


def plan_ranges(info: AdapterInfo, path: Path, options: Mapping[str, Any], side: SourceSide, *, size: int) -> list[ByteRange]:
    """The byte ranges ``path`` is cut into, or ``[]`` when it is read whole: the adapter
    cannot read ranges, the file is under two partitions of ``size`` bytes, or the adapter
    finds no certain boundary."""
    adapter = info.get()
    if not isinstance(adapter, RangeReadable) or path.stat().st_size < 2 * size:
        return []
    if info.options is not None:
        info.options.check(options)
    with overlay_scope(side.overlay, side.variant):
        ranges = adapter.ranges(path, options, size=size)
    return ranges if len(ranges) > 1 else []


def combine_stats(parts: Sequence[Mapping[str, Any] | None]) -> dict[str, Any] | None:
    """The stats of a file read in ranges: numbers added key by key (nested tables alike),
    anything else as the first range has it.

    >>> combine_stats([{"records": 2, "gaiji": {"a": 1}}, {"records": 3, "gaiji": {"b": 2}}])
    {'records': 5, 'gaiji': {'a': 1, 'b': 2}}
    """
    given = [p for p in parts if p]
    if not given:
        return None
    total: dict[str, Any] = {}
    for part in given:
        _add_into(total, part)
    return total


def _add_into(total: dict[str, Any], part: Mapping[str, Any]) -> None:
    for key, value in part.items():
        if key not in total:
            total[key] = json.loads(json.dumps(value))  # a deep copy of JSON data
        elif isinstance(value, bool) or not isinstance(value, int | float | Mapping):
            continue
        elif isinstance(value, Mapping) and isinstance(total[key], dict):
            _add_into(total[key], value)
        elif isinstance(value, int | float) and isinstance(total[key], int | float):
            total[key] += value


# -- the partition stage -------------------------------------------------------------------

logger = logging.getLogger("mig.extract")

_mappings: dict[str, MappingFile] = {}


def remember_mapping(mapping: MappingFile) -> None:
    """Let partitions run in this process use ``mapping`` as loaded (no second load)."""
    _mappings[str(Path(mapping.path).resolve())] = mapping


def _mapping(path: str, sha256: str) -> MappingFile:
    """The mapping, loaded once per process (again if the file changed since)."""
    key = str(Path(path).resolve())
    if key not in _mappings or (sha256 and _mappings[key].sha256 != sha256):
        _mappings[key] = load_mapping(Path(path))
    return _mappings[key]


Sink = Callable[[CheckedBatch], None]


def run_partition(task: PartitionTask, sink: Sink | None = None) -> PartitionResult:
    """Run one partition: per batch of its reader, normalise, map, resolve 外字 and check
    the rows; hand each checked batch to ``sink``, or (``None``) spill it into
    ``task.work`` and write the completion marker last.

    A top-level function over a picklable task: worker processes and Ray tasks run it.
    An error names the partition (input, and byte range when not the whole file).
    """
    if task.lang is not None:
        set_lang(task.lang)
    try:
        if sink is not None:
            return _run(task, sink)
        if task.work is None:
            raise ConfigError("a partition without a sink needs a work folder")
        return _spilled(task, Path(task.work))
    except MigError as exc:
        if task.source is None:
            raise
        raise _labelled(task, exc) from None


def _spilled(task: PartitionTask, work: Path) -> PartitionResult:
    """Run the partition into ``work/pNNNNN`` (built under a temporary name, so a retry
    or a crashed attempt never leaves a folder that looks complete)."""
    final = work / f"p{task.index:05d}"
    building = work / f"p{task.index:05d}.building-{os.getpid()}"
    marker = work / f"p{task.index:05d}.done.json"
    marker.unlink(missing_ok=True)
    for folder in (building, final):
        if folder.is_dir():
            shutil.rmtree(folder)  # this partition's own files, from an earlier attempt
    building.mkdir(parents=True)
    count = 0

    def spill(checked: CheckedBatch) -> None:
        nonlocal count
        checked.spill(building, count)
        count += 1

    result = _run(task, spill)
    if final.is_dir():  # another attempt at the same partition finished meanwhile: same bytes
        shutil.rmtree(final)
    building.rename(final)
    result = replace(result, batches=count, identity=task.identity)
    write_text(marker, json_text(result.to_dict()))  # last: the partition is complete
    return result


@dataclass(frozen=True)
class _Setting:
    """What a partition's batches are read and checked with (looked up once per partition)."""

    mapping: MappingFile
    file_mapping: FileMapping
    info: AdapterInfo
    severities: pl.DataFrame
    side: SourceSide

    @classmethod
    def of(cls, task: PartitionTask) -> _Setting:
        mapping = _mapping(task.mapping_path, task.mapping_sha256)
        file_mapping = next(f for f in mapping.files if f.layout.id == task.layout)
        info = task.adapter if isinstance(task.adapter, AdapterInfo) else adapter_info(task.adapter)
        declare_finding_types(info.name, info.finding_types)
        return cls(mapping, file_mapping, info, mapping.severities(), source_side(mapping, file_mapping.source))

    def check(self, batch: SourceBatch, encoding: str, task: PartitionTask) -> CheckedBatch:
        return check_source_batch(
            batch, encoding, self.file_mapping, self.mapping, self.severities,
            show_values=task.show_values, keep_data=task.keep_data,
        )


class _SourceRead:
    """One partition's source: the reader opened (columns checked), its batches checked
    against the plugin contract, cut at a trial's limit and normalised; then its result."""

    def __init__(self, task: PartitionTask, setting: _Setting) -> None:
        self.task = task
        self.setting = setting
        path = Path(task.path)
        options = dict(task.options) if task.source is None else task.source.open_options(task.options)
        side = setting.side
        with overlay_scope(side.overlay, side.variant):
            self.reader = open_reader(setting.info, path, options, batch_bytes=task.batch_bytes)
        self.encoding = self.reader.encoding
        self.contract = ContractState.of(setting.info, path, self.reader)
        check_columns(path, self.reader.columns, setting.file_mapping)
        self.counts: dict[str, int] = {}
        self.rows_in = 0

    def batches(self) -> Iterator[SourceBatch]:
        task, side = self.task, self.setting.side
        raw_batches = self.reader.batches()
        limited = False
        for batch in scoped(raw_batches, side.overlay, side.variant):
            check_batch(batch, self.contract)  # the adapter keeps the plugin contract, or the run stops
            if task.limit is not None:
                batch = first_records(batch, task.limit - self.rows_in)
            batch = normalised(batch, side.normalise, self.counts)
            self.rows_in += batch.rows_in
            yield batch
            del batch  # not alive while the reader builds the next batch
            if task.limit is not None and self.rows_in >= task.limit:
                limited = True
                break
        if limited:
            close_batches(raw_batches)  # a trial stops early: what was not read is not checked
        else:
            check_end(self.reader, self.contract)

    def result(self) -> PartitionResult:
        """Once :meth:`batches` is exhausted: the partition's counts, encoding and stats."""
        reader = self.reader
        stats = dict(reader.stats) if isinstance(reader, HasStats) and reader.stats else None
        return PartitionResult(self.task.index, self.rows_in, 0, self.encoding, list(reader.columns), stats, self.counts)


def _run(task: PartitionTask, sink: Sink) -> PartitionResult:
    setting = _Setting.of(task)
    source = _SourceRead(task, setting)
    for batch in source.batches():
        sink(setting.check(batch, source.encoding, task))
        del batch  # not alive while the reader builds the next batch
    return source.result()


def _labelled(task: PartitionTask, exc: MigError) -> MigError:
    """The error as a partition's: named by its byte range when it is not the whole file."""
    if task.source is None:
        return exc
    return PartitionError(Path(task.path).name, task.source.start, task.source.end, exc)


def run_partitions_ahead(
    tasks: Sequence[PartitionTask], emit: Callable[[CheckedBatch | PartitionResult], None]
) -> None:
    """The partition stage of ``tasks`` in this process, in merge order: each checked
    batch, then the task's result, handed to ``emit`` — the same items, errors and order
    as :func:`run_partition` with ``emit`` as sink, task after task.

    The reading (framing, decoding) runs in a thread of its own one batch ahead
    (:func:`~mig.extract.engines.run_ahead`), across tasks: the next file is opened and
    its first batch decoded while this file's last batch is mapped and checked. With the
    merge running :func:`run_ahead` over this function, a run has three stages at work —
    read batch N+2, check batch N+1, merge batch N — and at most two batches of each
    stage alive.
    """
    for task in tasks:
        if task.lang is not None:
            set_lang(task.lang)
    reads: Iterator[tuple[_SourceRead, SourceBatch] | PartitionResult] = run_ahead(
        functools.partial(_read_stage, tasks), counted=is_batch
    )
    try:
        for task in tasks:
            try:
                result: PartitionResult | None = None
                for item in reads:
                    if isinstance(item, PartitionResult):
                        result = item
                        break
                    source, batch = item
                    del item
                    checked = source.setting.check(batch, source.encoding, task)
                    del batch  # the source batch is not kept alive while the merge takes this one
                    emit(checked)
                    del checked
                if result is None:  # pragma: no cover - an internal bug, never data
                    raise AssertionError(f"partition {task.index} ended without its result")
            except MigError as exc:
                if task.source is None:
                    raise
                raise _labelled(task, exc) from None
            emit(result)
    finally:
        close_batches(reads)


def is_batch(item: object) -> bool:
    """What bounds the stages running ahead: batches, not a partition's result after them."""
    return not isinstance(item, PartitionResult)


def _read_stage(
    tasks: Sequence[PartitionTask], emit: Callable[[tuple[_SourceRead, SourceBatch] | PartitionResult], None]
) -> None:
    """The reading half of :func:`run_partitions_ahead`: every task's source batches, then its result."""
    for task in tasks:
        source = _SourceRead(task, _Setting.of(task))
        for batch in source.batches():
            emit((source, batch))
            del batch
        emit(source.result())


def check_source_batch(
    batch: SourceBatch,
    encoding: str,
    file_mapping: FileMapping,
    mapping: MappingFile,
    severities: pl.DataFrame,
    *,
    show_values: bool,
    keep_data: bool,
) -> CheckedBatch:
    """Map, resolve 外字 and run the row-local checks of one batch."""
    layout = file_mapping.layout
    mapped, mapping_findings = apply_mapping(batch.data, file_mapping, mapping.code_maps, show_values=show_values)
    mapped = resolve_frame(mapped, layout, mapping.gaiji.table if mapping.gaiji else {})
    framing = batch.rejects
    if show_values and framing.height:
        framing = framing.with_columns(record_text(framing.get_column("raw"), encoding).alias("value"))
    checks = check_rows(
        mapped, layout, severities=severities, framing=framing,
        mapping_findings=mapping_findings, show_values=show_values,
    )
    return CheckedBatch(batch.records, framing, mapped, checks, batch.data if keep_data else None)


def log_partitions(tasks: Sequence[PartitionTask], reused: Mapping[int, PartitionResult]) -> None:
    """Tell the run log (``mig --log-file``) the partitions: names and byte ranges, counts."""
    logger.info("partitions: %d in all, %d reused from an interrupted run, %d to run",
                len(tasks), len(reused), len(tasks) - len(reused))
    for task in tasks:
        if task.index in reused:
            logger.info("partition %d reused: %s", task.index, task.label)


# -- the work directory ----------------------------------------------------------------------

#: The file that marks a work directory as mig's (only such a directory is ever removed).
WORK_MARK = ".mig-work"


@dataclass
class WorkDir:
    """Where the partitions of a run into ``out`` spill: ``.NAME.work`` beside ``out``,
    found again from ``out`` by ``--resume``. It holds :data:`WORK_MARK`; mig removes it
    only when that marker is there (after a run completes, or when a run without
    ``--resume`` starts afresh)."""

    out: Path
    path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.path = self.out.parent / f".{self.out.name}.work"

    def mine(self) -> bool:
        return (self.path / WORK_MARK).is_file() and not self.path.is_symlink()

    def prepare(self, *, resume: bool) -> None:
        """Make the folder ready: kept as is to resume, emptied (if mig's) otherwise."""
        if self.path.exists() or self.path.is_symlink():
            if not self.mine():
                raise ConfigError(Msg("partitions.work-not-mine", path=str(self.path)))
            if resume:
                return
            self.remove()
        self.path.mkdir()
        write_text(self.path / WORK_MARK, json_text({"tool": "mig", "out": self.out.name}))

    def completed(self, task: PartitionTask) -> PartitionResult | None:
        """The partition's result if its marker is there and its identity unchanged."""
        marker = self.path / f"p{task.index:05d}.done.json"
        if not marker.is_file() or not (self.path / f"p{task.index:05d}").is_dir():
            return None
        try:
            result = PartitionResult.from_dict(read_json(marker, what="partition marker"))
        except (MigError, KeyError, TypeError, ValueError, AttributeError):
            return None
        return result if task.identity and result.identity == task.identity and result.index == task.index else None

    def batches(self, index: int, count: int) -> Iterator[CheckedBatch]:
        folder = self.path / f"p{index:05d}"
        for number in range(count):
            yield CheckedBatch.read(folder, number)

    def remove(self) -> None:
        if self.mine():
            shutil.rmtree(self.path)

