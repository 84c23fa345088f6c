"""Writes behind the merge (mig.run.writer.WritingBehind): in order, errors not lost, and a
failed run's writing stopped before its directory goes."""

from __future__ import annotations

import errno
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.run.writer import ROW_GROUP_ROWS, ParquetSink, WritingBehind


def test_writes_run_in_the_order_given_on_one_thread_other_than_the_callers() -> None:
    seen: list[tuple[int, str]] = []
    behind = WritingBehind("test")
    for number in range(50):
        behind.submit(lambda n: seen.append((n, threading.current_thread().name)), number)
    behind.finish()
    assert [n for n, _ in seen] == list(range(50))
    assert {name for _, name in seen} != {threading.current_thread().name}
    assert len({name for _, name in seen}) == 1


def test_an_error_of_a_write_is_raised_unchanged_by_the_next_submit() -> None:
    full = OSError(errno.ENOSPC, "No space left on device")
    written: list[int] = []

    def write(number: int) -> None:
        if number == 2:
            raise full
        written.append(number)

    behind = WritingBehind("test")
    behind.submit(write, 1)
    behind.submit(write, 2)
    with pytest.raises(OSError) as raised:
        behind.submit(write, 3)
    assert raised.value is full
    behind.finish()
    assert written == [1]  # the write after the failure never ran


def test_an_error_of_the_last_write_is_raised_by_finish() -> None:
    def write() -> None:
        raise OSError(errno.EFBIG, "File too large")

    behind = WritingBehind("test")
    behind.submit(write)
    with pytest.raises(OSError, match="File too large"):
        behind.finish()


def test_discard_returns_only_after_the_write_under_way_and_drops_its_error() -> None:
    finished: list[str] = []

    def slow_failing() -> None:
        time.sleep(0.2)
        finished.append("done")
        raise OSError(errno.ENOSPC, "No space left on device")

    behind = WritingBehind("test")
    behind.submit(slow_failing)
    behind.discard()  # no exception: the run already failed for its own reason
    assert finished == ["done"]  # nothing writes once discard has returned
    behind.discard()  # twice, or after finish: nothing


def _plain_parquet(path: Path, tables: list[pa.Table], schema: pa.Schema) -> None:
    """The row groups ParquetSink promises, written inline in one go."""
    whole = pa.concat_tables(tables) if tables else schema.empty_table()
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for start in range(0, whole.num_rows, ROW_GROUP_ROWS):
            writer.write_table(whole.slice(start, ROW_GROUP_ROWS).combine_chunks())


@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=3 * ROW_GROUP_ROWS // 2), max_size=5))
def test_parquet_sink_writes_the_bytes_of_an_inline_writer_whatever_the_batches(
    sizes: list[int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("sink")
    schema = pa.schema([("番号", pa.large_string()), ("金額", pa.decimal128(9, 0))])
    tables, first = [], 0
    for size in sizes:
        numbers = range(first, first + size)
        tables.append(pa.table(
            {"番号": pa.array([f"{n:08d}" for n in numbers], pa.large_string()),
             "金額": pa.array([n % 1000 for n in numbers], pa.decimal128(9, 0))},
            schema=schema,
        ))
        first += size
    sink = ParquetSink(folder / "behind.parquet", schema)
    for table in tables:
        sink.write(table)
    sink.close()
    _plain_parquet(folder / "inline.parquet", tables, schema)
    assert (folder / "behind.parquet").read_bytes() == (folder / "inline.parquet").read_bytes()
    assert sink.file.digest(folder).bytes == (folder / "behind.parquet").stat().st_size
