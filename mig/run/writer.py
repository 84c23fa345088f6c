"""The run directory: built under a temporary name, renamed into place only when complete.

Its file names and the manifest's schema are :mod:`mig.run.manifest`'s. A layout's own
outputs are hashed as they are written (:class:`HashingFile`): the manifest's digests
never read the files back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, ParamSpec, cast

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from mig.errors import InputError
from mig.fs import json_owner, output_dir, writing
from mig.fs import write_json as write_json  # the run directory's JSON files
from mig.layout import Item, Layout
from mig.run.manifest import (
    EXCEL_DIR,
    RUN_FOLDERS,
    FileDigest,
    excel_findings_csv,
    excel_rejects_csv,
    file_digest,
    layout_outputs,
)
from mig.run.manifest import MANIFEST_NAME as MANIFEST
from mig.run.spreadsheet import SpreadsheetCsv

CSV_LINE_END = "\r\n"

P = ParamSpec("P")


#: A run directory is recognised by its manifest (``"tool": "mig"``): replaced only if it has one.
RUN_OWNER = json_owner("run", MANIFEST, "tool", "mig")


@contextmanager
def atomic_run_dir(out: Path, *, force: bool, protect: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``out`` only if the block completes.

    ``out`` may be replaced (``force``) only if it is a run directory mig wrote and holds
    none of ``protect`` (the inputs and the mapping); see :func:`mig.fs.output_dir`.
    """
    out = out.resolve() if out.exists() else out.absolute()
    with writing(out, every=True):
        out.parent.mkdir(parents=True, exist_ok=True)
    with output_dir(out, RUN_OWNER, replace=force, option="--force", protect=protect) as temporary:
        yield temporary


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks; an unreadable file is an :class:`InputError`."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise InputError(str(path), f"cannot read ({type(exc).__name__})") from None


def arrow_type(item: Item) -> pa.DataType:
    """Parquet type of an item: exact Decimal for 数値, text for everything else."""
    if item.type == "数値":
        return pa.decimal128(item.length, item.scale)
    return pa.large_string()


def polars_type(item: Item) -> pl.DataType:
    if item.type == "数値":
        return pl.Decimal(item.length, item.scale)
    return pl.String()


FINDINGS_ARROW = pa.schema(
    [
        ("row", pa.int64()),
        ("item", pa.large_string()),
        ("type", pa.large_string()),
        ("severity", pa.large_string()),
        ("detail", pa.large_string()),
    ]
)


ROW_GROUP_ROWS = 65_536


class HashingFile:
    """A file opened for writing that keeps the SHA-256 and size of what was written, for
    the manifest (:meth:`digest`) — no second read of the file.

    A binary file object as Polars' ``write_csv`` / ``write_ndjson`` and pyarrow's Parquet
    writer take one (``write``, ``tell``, ``flush``, ``close``).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> with HashingFile(root / "a.txt") as out:
    ...     out.write(b"abc")
    3
    >>> out.digest(root) == file_digest(root / "a.txt", root)
    True
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] = path.open("wb")
        self._sha256 = hashlib.sha256()
        self._bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data).cast("B")
        self._sha256.update(view)  # hashlib releases the GIL for large buffers
        self._file.write(view)
        self._bytes += view.nbytes
        return view.nbytes

    @property
    def stream(self) -> IO[bytes]:
        """This file, typed as the writers take it (it has every method they call)."""
        return cast(IO[bytes], self)

    def tell(self) -> int:
        return self._bytes

    def flush(self) -> None:
        self._file.flush()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> HashingFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def digest(self, root: Path) -> FileDigest:
        """The manifest entry of the file as written (once closed)."""
        return FileDigest(self.path.relative_to(root).as_posix(), self._sha256.hexdigest(), self._bytes)


class WritingBehind:
    """One file's writes in a thread of their own, one call behind the caller: Parquet
    encoding and compression (pyarrow) and Polars' CSV writer release the GIL, so a batch
    is written while the caller checks the next one. The calls run one at a time in the
    order given — the same bytes as writing inline. An error of a write (a full disk) is
    raised, unchanged, by the next :meth:`submit` or by :meth:`finish`; :meth:`discard`
    stops the writing of a run that failed.

    >>> written = []
    >>> behind = WritingBehind("doc")
    >>> behind.submit(written.append, "batch 1")
    >>> behind.submit(written.append, "batch 2")
    >>> behind.finish()
    >>> written
    ['batch 1', 'batch 2']
    """

    def __init__(self, name: str) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"mig-write-{name}")
        self._under_way: Future[None] | None = None

    def submit(self, write: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        """Start ``write(*args, **kwargs)`` once the previous write has ended (its error raised here)."""
        self.wait()
        self._under_way = self._thread.submit(write, *args, **kwargs)  # type: ignore[arg-type]

    def wait(self) -> None:
        """Until the write under way has ended; its error is raised here."""
        under_way, self._under_way = self._under_way, None
        if under_way is not None:
            under_way.result()

    def finish(self) -> None:
        """Wait for the last write (its error raised here) and end the thread."""
        try:
            self.wait()
        finally:
            self._thread.shutdown(wait=True)

    def discard(self) -> None:
        """End the thread without raising: the write under way ends, its error dropped —
        nothing writes after this returns. After :meth:`finish`, nothing."""
        self._thread.shutdown(wait=True, cancel_futures=True)
        self._under_way = None


class ParquetSink:
    """Parquet written in row groups of exactly ``ROW_GROUP_ROWS`` rows (the last one shorter).

    Row groups follow the row count, not the input batches, so the bytes of the file do
    not depend on the batch size; memory holds at most one row group and one table. The
    row groups are built and compressed behind the caller (:class:`WritingBehind`).
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self.file = HashingFile(path)
        self._writer = pq.ParquetWriter(self.file, schema, compression="zstd")
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._behind = WritingBehind("parquet")

    def write(self, table: pa.Table) -> None:
        self._behind.submit(self._add, table)

    def _add(self, table: pa.Table) -> None:
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush(final=False)

    def _flush(self, *, final: bool) -> None:
        if not self._pending:
            return
        combined = pa.concat_tables(self._pending)
        whole = combined.num_rows if final else combined.num_rows - combined.num_rows % ROW_GROUP_ROWS
        for start in range(0, whole, ROW_GROUP_ROWS):
            # one chunk per column: data pages then follow the row count, not the input batches
            self._writer.write_table(combined.slice(start, min(ROW_GROUP_ROWS, whole - start)).combine_chunks())
        rest = combined.slice(whole)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def close(self) -> None:
        self._behind.finish()
        self._flush(final=True)
        self._writer.close()
        self.file.close()

    def discard(self) -> None:
        """Stop the writing of a run that failed (:meth:`WritingBehind.discard`)."""
        self._behind.discard()


class LayoutWriter:
    """Streams one layout's accepted rows, rejects and findings into the run directory."""

    def __init__(
        self, root: Path, layout: Layout, *, show_values: bool,
        excel_findings: tuple[list[str], list[str]] | None = None,
        excel_rejects: tuple[list[str], list[str]] | None = None,
    ) -> None:
        """``excel_findings`` / ``excel_rejects``: (columns, labels) of the spreadsheet CSVs
        to write beside the run's own files (``--excel``), or ``None``."""
        self.root = root
        self.layout = layout
        self.show_values = show_values
        for folder in RUN_FOLDERS:
            (root / folder).mkdir(exist_ok=True)
        parquet, csv, rejects, findings = layout_outputs(layout.id)
        self.parquet_path = root / parquet
        self.csv_path = root / csv
        self.rejects_path = root / rejects
        self.findings_path = root / findings
        self.schema = pa.schema([(item.name, arrow_type(item)) for item in layout.items])
        self.polars_schema = {item.name: polars_type(item) for item in layout.items}
        findings_schema = FINDINGS_ARROW
        if show_values:
            findings_schema = findings_schema.append(pa.field("value", pa.large_string()))
        self.findings_schema = findings_schema
        self._parquet = ParquetSink(self.parquet_path, self.schema)
        self._findings = ParquetSink(self.findings_path, findings_schema)
        self._csv = HashingFile(self.csv_path)
        self._csv_behind = WritingBehind("csv")
        header = pl.DataFrame(schema={name: pl.String for name in layout.item_names})
        header.write_csv(self._csv.stream, line_terminator=CSV_LINE_END)
        self._rejects = HashingFile(self.rejects_path)
        self.excel: list[SpreadsheetCsv] = []
        self.excel_findings: SpreadsheetCsv | None = None
        self.excel_rejects: SpreadsheetCsv | None = None
        if excel_findings is not None or excel_rejects is not None:
            (root / EXCEL_DIR).mkdir(exist_ok=True)
        if excel_findings is not None:
            self.excel_findings = SpreadsheetCsv(root / excel_findings_csv(layout.id), *excel_findings)
            self.excel.append(self.excel_findings)
        if excel_rejects is not None:
            self.excel_rejects = SpreadsheetCsv(root / excel_rejects_csv(layout.id), *excel_rejects)
            self.excel.append(self.excel_rejects)
        self.rows_out = 0
        self.rows_rejected = 0

    def write_accepted(self, frame: pl.DataFrame) -> None:
        """Write accepted rows (String columns named by 項目名称)."""
        if frame.height == 0:
            return
        typed = frame.select(
            pl.col(name).cast(dtype) for name, dtype in self.polars_schema.items()
        )
        self._parquet.write(typed.to_arrow().cast(self.schema))
        self._csv_behind.submit(typed.write_csv, self._csv.stream, include_header=False, line_terminator=CSV_LINE_END)
        self.rows_out += frame.height

    def write_rejects(self, rejects: pl.DataFrame) -> None:
        """Write rejected records (one JSON object per line)."""
        if rejects.height == 0:
            return
        rejects.write_ndjson(self._rejects.stream)
        self.rows_rejected += rejects.height

    def write_findings(self, findings: pl.DataFrame) -> None:
        if findings.height == 0:
            return
        columns = [c.name for c in self.findings_schema]
        table = findings.select(columns).to_arrow().cast(self.findings_schema)
        self._findings.write(table)

    def discard(self) -> None:
        """Stop the Parquet sinks' background writing of a run that failed (its directory is
        removed); after :meth:`close`, nothing."""
        self._parquet.discard()
        self._findings.discard()
        self._csv_behind.discard()

    def close(self) -> tuple[FileDigest, ...]:
        """Close every file and return their manifest entries (hashed as written; the
        spreadsheet CSVs, read back)."""
        self._parquet.close()
        self._findings.close()
        self._csv_behind.finish()
        self._csv.close()
        self._rejects.close()
        for sheet in self.excel:
            sheet.close()
        return (
            self._parquet.file.digest(self.root), self._csv.digest(self.root), self._rejects.digest(self.root),
            self._findings.file.digest(self.root), *(file_digest(sheet.path, self.root) for sheet in self.excel),
        )
