"""The plugin contract, checked on every batch of every adapter (built-in or not).

mig does not trust an adapter: :func:`check_batch` runs a few vectorised Polars checks over
each :class:`~mig.plugin.SourceBatch` as it arrives, and :func:`check_end` checks the
reader's own account of the file (:class:`~mig.plugin.ReportsCoverage`) once its batches
are read. A violation raises :class:`~mig.errors.AdapterContractError` (exit 2), one line
naming the adapter, its distribution and version, the batch and the rule — never a value.

The rules:

- ``data`` has a ``row`` column; ``records`` and ``rejects`` have their schema's columns;
- ``data`` and ``records`` hold the same rows in the same order;
- ``row`` ids are non-null, unique and increasing within a batch and across batches;
- every reject has a non-empty ``type``, a ``detail`` column (a String; null where the type
  says it all, as the csv adapter's ``embedded-nul``) and non-empty ``raw`` bytes;
- offsets are non-null, increasing with the row, and (for a reader whose raw bytes are the
  file's) the record lies within the file;
- a reject's type is mig's framing type or one the adapter declares;
- where the reader reports :class:`~mig.plugin.Coverage`, nothing was skipped.

The conformance kit (``mig adapters check``, :mod:`mig.testing`) runs the same functions::

    state = ContractState.of(info, path, reader)
    for batch in reader.batches():
        check_batch(batch, state)
    check_end(reader, state)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from mig.errors import AdapterContractError
from mig.plugin import RECORD_SCHEMA, REJECT_EXTRA_SCHEMA, ReportsCoverage, SourceBatch
from mig.validation.findings import COMMON_ADAPTER_TYPES

__all__ = ["ContractState", "check_batch", "check_end"]


@dataclass
class ContractState:
    """What the checks carry from one batch to the next, for one reader of one file."""

    adapter: str  # how errors name it: "adapter NAME (DIST VERSION)"
    path: str  # the file's name (shown)
    file_size: int | None  # None: raw bytes are not the file's (no offset or coverage checks)
    finding_types: frozenset[str]  # the reject types the adapter may report
    batch: int = 0
    last_row: int = 0
    last_offset: int = -1
    rows: int = 0
    raw_bytes: int = 0

    @classmethod
    def of(cls, info: Any, path: Path, reader: Any) -> ContractState:
        """The state for ``reader`` of ``path``, opened with the adapter ``info``
        (a :class:`mig.registry.AdapterInfo`)."""
        raw_is_file = bool(getattr(reader, "raw_is_file_bytes", True))
        return cls(
            adapter=info.label,
            path=path.name,
            file_size=path.stat().st_size if raw_is_file else None,
            finding_types=COMMON_ADAPTER_TYPES | {t.code for t in info.finding_types},
        )

    def fail(self, rule: str) -> AdapterContractError:
        return AdapterContractError(
            f"{self.adapter} broke the plugin contract: {self.path} batch {self.batch}: {rule}"
        )


def _columns(frame: Any, names: list[str], what: str, state: ContractState) -> None:
    if not isinstance(frame, pl.DataFrame):
        raise state.fail(f"{what} is not a Polars DataFrame")
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise state.fail(f"{what} lacks column(s) {', '.join(missing)}")


def check_batch(batch: SourceBatch, state: ContractState) -> None:
    """Check one batch as the adapter yielded it (row ids as the adapter numbers them)."""
    state.batch += 1
    if not isinstance(batch, SourceBatch):
        raise state.fail("batches() yielded something other than a mig.plugin.SourceBatch")
    _columns(batch.data, ["row"], "data", state)
    _columns(batch.records, list(RECORD_SCHEMA), "records", state)
    _columns(batch.rejects, [*RECORD_SCHEMA, *REJECT_EXTRA_SCHEMA], "rejects", state)
    records = batch.records.select(
        pl.col("row").cast(pl.Int64), pl.col("offset").cast(pl.Int64), pl.col("raw").bin.size().alias("size")
    )
    rejects = batch.rejects.select(
        pl.col("row").cast(pl.Int64), pl.col("offset").cast(pl.Int64), pl.col("raw").bin.size().alias("size"),
        "type", "detail",
    )
    # data and records: the same rows in the same order
    if batch.data.height != records.height or not batch.data.get_column("row").cast(pl.Int64).equals(
        records.get_column("row")
    ):
        raise state.fail(
            f"data and records are not aligned ({batch.data.height} data rows, {records.height} records, "
            "or their row ids differ): they must hold the same rows in the same order"
        )
    # rejects: a type, a detail and the record's bytes
    bad = rejects.select(
        (pl.col("type").is_null() | (pl.col("type") == "")).sum().alias("type"),
        (pl.col("size").is_null() | (pl.col("size") == 0)).sum().alias("raw"),
    ).row(0, named=True)
    if bad["type"]:
        raise state.fail(f"{bad['type']} reject(s) without a finding type")
    if batch.rejects.schema["detail"] not in (pl.String, pl.Null):
        raise state.fail("rejects' detail is not a String column")
    if bad["raw"]:
        raise state.fail(f"{bad['raw']} reject(s) with empty raw bytes: a reject keeps the record's original bytes")
    unknown = rejects.select(pl.col("type").unique().sort()).get_column("type")
    unknown = unknown.filter(~unknown.is_in(sorted(state.finding_types)))
    if unknown.len():
        raise state.fail(
            f"reject type(s) {', '.join(unknown.to_list())} not declared in the adapter's finding_types"
        )
    # rows and offsets, records and rejects together in row order
    both = pl.concat([records, rejects.select(records.columns)]).sort("row")
    if both.height == 0:
        return
    summary = both.select(
        pl.col("row").null_count().alias("null_rows"),
        pl.col("offset").null_count().alias("null_offsets"),
        pl.col("row").n_unique().alias("unique"),
        pl.col("row").min().alias("first"),
        pl.col("row").max().alias("last"),
        (pl.col("offset").diff() <= 0).sum().alias("offsets_back"),
        pl.col("offset").min().alias("first_offset"),
        (pl.col("offset") + pl.col("size")).max().alias("end"),
        (pl.col("offset") < 0).sum().alias("negative"),
        pl.col("size").sum().alias("bytes"),
    ).row(0, named=True)
    in_order = all(
        frame.get_column("row").is_sorted() for frame in (records, rejects) if frame.height
    )
    if summary["null_rows"] or summary["null_offsets"]:
        raise state.fail("null row id or offset")
    if summary["unique"] != both.height:
        raise state.fail(f"{both.height - summary['unique']} duplicate row id(s) in the batch: every record needs its own")
    if not in_order or summary["first"] <= state.last_row:
        raise state.fail(
            f"row ids not increasing (this batch starts at {summary['first']}, the previous ended at "
            f"{state.last_row}; data and rejects each in row order)"
        )
    if summary["offsets_back"] or summary["first_offset"] <= state.last_offset or summary["negative"]:
        raise state.fail("byte offsets not increasing with the row ids")
    if state.file_size is not None and summary["end"] > state.file_size:
        raise state.fail(f"a record runs past the end of the file ({state.file_size} bytes)")
    state.last_row = int(summary["last"])
    state.last_offset = int(both.get_column("offset")[-1])
    state.rows += both.height
    state.raw_bytes += int(summary["bytes"] or 0)


def check_end(reader: Any, state: ContractState) -> None:
    """Once the reader's batches are read: where it reports its coverage, nothing was skipped."""
    if not isinstance(reader, ReportsCoverage):
        return
    coverage = reader.coverage()
    if coverage.records is not None and coverage.records != state.rows:
        raise AdapterContractError(
            f"{state.adapter} broke the plugin contract: {state.path}: the reader counts "
            f"{coverage.records} record(s) but returned {state.rows} (data + rejects): records were skipped"
        )
    if coverage.other_bytes is not None and state.file_size is not None:
        covered = state.raw_bytes + coverage.other_bytes
        if covered != state.file_size:
            raise AdapterContractError(
                f"{state.adapter} broke the plugin contract: {state.path}: records and rejects cover "
                f"{state.raw_bytes} byte(s) and the reader declares {coverage.other_bytes} other byte(s), "
                f"but the file has {state.file_size}: bytes were skipped"
            )
