"""Plain adapters that break the plugin contract on purpose, one rule each, and a correct
one they derive from. Tests register them as an installed plugin would be: a
``.dist-info`` directory with an ``entry_points.txt`` (see :func:`install`), so ``mig``
finds them through ``mig.adapters`` exactly as it finds a pip-installed plugin.

The correct adapter reads a comma-separated file whose first line names the columns; a
line with another number of fields is a ``ragged-row`` reject, with its bytes. Small test
files only: it frames lines in Python.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from mig.plugin import (
    RECORD_SCHEMA,
    REJECT_EXTRA_SCHEMA,
    Coverage,
    FindingType,
    InputError,
    Option,
    OptionsSchema,
    SourceBatch,
    Str,
)

DIST = "broken-plugins"
DIST_VERSION = "0.1.0"


class LineReader:
    def __init__(self, adapter: LineAdapter, path: Path, batch_rows: int) -> None:
        self.adapter = adapter
        self.path = path
        self.encoding = "utf-8"
        self._lines = path.read_bytes().splitlines(keepends=True)
        if not self._lines:
            raise InputError(str(path), "file is empty")
        self._header = self._lines[0]
        self.columns = self._header.decode().rstrip("\r\n").split(",")
        self._batch_rows = batch_rows

    def coverage(self) -> Coverage:
        return Coverage(other_bytes=len(self._header))

    def batches(self) -> Iterator[SourceBatch]:
        offset = len(self._header)
        body = list(enumerate(self._lines[1:], start=2))
        row = 0
        for start in range(0, len(body), self._batch_rows):
            data: list[dict[str, Any]] = []
            records: list[dict[str, Any]] = []
            rejects: list[dict[str, Any]] = []
            for line, raw in body[start:start + self._batch_rows]:
                row += 1
                fields = raw.decode().rstrip("\r\n").split(",")
                record = {"row": row, "line": line, "offset": offset, "raw": raw}
                offset += len(raw)
                if len(fields) != len(self.columns):
                    rejects.append({**record, "type": "ragged-row", "detail": str(len(fields))})
                    continue
                records.append(record)
                data.append({"row": row, **dict(zip(self.columns, fields, strict=True))})
            yield self.adapter.mangle(SourceBatch(
                pl.DataFrame(data, schema={"row": pl.Int64, **dict.fromkeys(self.columns, pl.String)}),
                pl.DataFrame(records, schema=RECORD_SCHEMA),
                pl.DataFrame(rejects, schema={**RECORD_SCHEMA, **REJECT_EXTRA_SCHEMA}),
            ))


class LineAdapter:
    """Keeps the contract."""

    name = "lines"
    description = "comma-separated lines (a test adapter)"
    version = "0.1.0"
    options = OptionsSchema("lines", {"note": Option(Str(), help="ignored")})
    finding_types: tuple[FindingType, ...] = ()

    def open(self, path: Path, options: Mapping[str, Any], *, batch_bytes: int) -> LineReader:
        return LineReader(self, path, batch_rows=2)

    def mangle(self, batch: SourceBatch) -> SourceBatch:
        return batch


class DuplicateRows(LineAdapter):
    """Numbers two records alike."""

    name = "dup-rows"

    def mangle(self, batch: SourceBatch) -> SourceBatch:
        if batch.records.height < 2:
            return batch
        same = pl.when(pl.int_range(pl.len()) == 1).then(pl.col("row").first()).otherwise(pl.col("row"))
        return SourceBatch(batch.data.with_columns(same), batch.records.with_columns(same), batch.rejects)


class EmptyRaw(LineAdapter):
    """Rejects keep no bytes."""

    name = "empty-raw"

    def mangle(self, batch: SourceBatch) -> SourceBatch:
        return SourceBatch(batch.data, batch.records, batch.rejects.with_columns(pl.lit(b"", pl.Binary).alias("raw")))


class Misaligned(LineAdapter):
    """``data`` loses a row that ``records`` keeps."""

    name = "misaligned"

    def mangle(self, batch: SourceBatch) -> SourceBatch:
        return SourceBatch(batch.data.tail(-1), batch.records, batch.rejects)


class UnknownType(LineAdapter):
    """Reports a finding type it never declared."""

    name = "unknown-type"

    def mangle(self, batch: SourceBatch) -> SourceBatch:
        return SourceBatch(batch.data, batch.records, batch.rejects.with_columns(pl.lit("line-odd").alias("type")))


class SkipsRagged(LineAdapter):
    """Drops the lines it cannot frame instead of rejecting them."""

    name = "skips-records"

    def mangle(self, batch: SourceBatch) -> SourceBatch:
        return SourceBatch(batch.data, batch.records, batch.rejects.clear())


class DeclaresOwnType(LineAdapter):
    """Keeps the contract with a finding type of its own."""

    name = "own-type"
    finding_types = (FindingType("line-odd", "line has {detail} fields", "error", "行の項目数が {detail}"),)

    def mangle(self, batch: SourceBatch) -> SourceBatch:
        return SourceBatch(batch.data, batch.records, batch.rejects.with_columns(pl.lit("line-odd").alias("type")))


BROKEN = {
    "dup-rows": ("DuplicateRows", "duplicate row id"),
    "empty-raw": ("EmptyRaw", "empty raw bytes"),
    "misaligned": ("Misaligned", "data and records are not aligned"),
    "unknown-type": ("UnknownType", "line-odd not declared"),
    "skips-records": ("SkipsRagged", "bytes were skipped"),
}
GOOD = {"lines": "LineAdapter", "own-type": "DeclaresOwnType"}


def install(site: Path, extra: Mapping[str, str] | None = None, targets: Mapping[str, str] | None = None) -> Path:
    """Write a ``.dist-info`` for these adapters under ``site`` (put it on ``sys.path`` or
    ``PYTHONPATH``): the entry points pip would write for a plugin distribution; ``extra``
    adds adapters, ``targets`` load targets (``mig.targets``)."""
    info = site / f"{DIST.replace('-', '_')}-{DIST_VERSION}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {DIST}\nVersion: {DIST_VERSION}\n", encoding="utf-8"
    )
    points = {name: f"tests.support.broken_adapters:{cls}" for name, (cls, _) in BROKEN.items()}
    points |= {name: f"tests.support.broken_adapters:{cls}" for name, cls in GOOD.items()}
    points |= dict(extra or {})
    lines = "".join(f"{name} = {value}\n" for name, value in points.items())
    text = f"[mig.adapters]\n{lines}"
    if targets:
        text += "\n[mig.targets]\n" + "".join(f"{name} = {value}\n" for name, value in targets.items())
    (info / "entry_points.txt").write_text(text, encoding="utf-8")
    return site
