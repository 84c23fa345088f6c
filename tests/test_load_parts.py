"""Cutting a Parquet file into parts for the parallel load (mig.load.parallel): every row in
exactly one part, in order, whatever the row groups, the jobs and the part size."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.load.parallel import cut_parts, part_batches


@given(
    groups=st.lists(st.integers(0, 300), max_size=12),
    jobs=st.integers(1, 8),
    part_rows=st.integers(1, 500),
)
def test_parts_cover_every_row_once_in_order(groups: list[int], jobs: int, part_rows: int) -> None:
    parts = cut_parts(groups, jobs, part_rows)
    total = sum(groups)
    assert sum(rows for _, rows in parts) == total
    position = 0
    for first, rows in parts:
        assert first == position and rows > 0
        position += rows
    assert len(parts) <= max(1, jobs) and (total == 0 or parts)
    if total and total // part_rows < 2:
        assert len(parts) == 1  # a small file is one part
    offsets = {sum(groups[:i]) for i in range(len(groups) + 1)}
    if len([g for g in groups if g]) >= len(parts):
        assert all(first in offsets for first, _ in parts)  # cut on row-group boundaries


@settings(max_examples=40, deadline=None)
@given(
    groups=st.lists(st.integers(1, 50), min_size=1, max_size=6),
    jobs=st.integers(1, 5),
    part_rows=st.integers(1, 60),
    batch_rows=st.integers(1, 40),
)
def test_part_batches_read_exactly_their_rows(groups: list[int], jobs: int, part_rows: int, batch_rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.parquet"
        total = sum(groups)
        table = pa.table({"n": pa.array(range(total), pa.int64()), "s": pa.array([f"r{i}" for i in range(total)])})
        with pq.ParquetWriter(path, table.schema) as writer:
            start = 0
            for size in groups:
                writer.write_table(table.slice(start, size))
                start += size
        read: list[int] = []
        with pq.ParquetFile(path) as parquet:
            assert parquet.metadata.num_row_groups == len(groups)
            for first, rows in cut_parts(groups, jobs, part_rows):
                got = [v for b in part_batches(parquet, first, rows, ["n", "s"], batch_rows)
                       for v in b.column(0).to_pylist()]
                assert got == list(range(first, first + rows))
                read += got
        assert read == list(range(total))
