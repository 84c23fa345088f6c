"""Keys kept across batches hold the keys alone, not the batches they came from, and stay exact.

A Polars String value longer than 12 bytes points into the data buffer of the column it was
cut from; a key kept as such a view keeps that batch's whole field buffer alive (issue 12:
peak RSS grew with the input). These tests measure the Arrow buffers a kept key set holds.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from mig.layout import Item, Layout
from mig.validation.keys import KeyTracker, owned_keys, rejected_keys

_KEY_LEN = 15  # over 12 bytes: not inlined in the view, so a view would point into the batch
_PAD = 400  # the rest of the record's fields, in the same buffer as the key


def _held_bytes(series: pl.Series) -> int:
    """Bytes of every Arrow buffer ``series`` holds (views, validity and data buffers)."""
    array = series.to_arrow(compat_level=pl.CompatLevel.newest())
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    return sum(b.size for c in chunks for b in c.buffers() if b is not None)


def _batch(start: int, n: int) -> pl.DataFrame:
    """A batch whose key column is cut out of wide records, as an adapter's fields are."""
    records = pl.Series("raw", [f"{i:0{_KEY_LEN}d}" + "x" * _PAD for i in range(start, start + n)])
    return pl.DataFrame({"row": pl.int_range(start + 1, start + n + 1, eager=True), "k": records.str.slice(0, _KEY_LEN)})


def _compact_bound(n: int) -> int:
    """What n keys of _KEY_LEN bytes take on their own: a 16-byte view and the bytes, plus slack."""
    return 2 * n * (16 + _KEY_LEN) + 4096


def _layout() -> Layout:
    return Layout("t", "b", "n", "s", "1", "", "", (Item(1, "k", "数字", _KEY_LEN),), primary_key=("k",))


def test_a_batch_column_is_a_view_into_the_whole_records() -> None:
    # the premise: without a copy the key column holds the records' bytes, so the tests below can fail
    column = _batch(0, 1000).get_column("k")
    assert _held_bytes(column) > 1000 * _PAD
    assert _held_bytes(column.drop_nulls()) > 1000 * _PAD


def test_owned_keys_hold_only_the_keys() -> None:
    column = _batch(0, 1000).get_column("k")
    copy = owned_keys(column)
    assert _held_bytes(copy) <= _compact_bound(1000)
    assert copy.to_list() == column.to_list()


def test_key_tracker_holds_only_the_keys_after_many_batches() -> None:
    tracker = KeyTracker(_layout())
    none = pl.Series("row", [], dtype=pl.Int64)
    for b in range(20):
        assert tracker.duplicates(_batch(b * 500, 500), none).height == 0
    assert tracker.seen.len() == 10_000
    assert _held_bytes(tracker.seen) <= _compact_bound(10_000)


def test_rejected_keys_hold_only_the_keys() -> None:
    batch = _batch(0, 1000)
    gone = rejected_keys(batch, pl.Series([5, 6, 7]), "k")
    assert gone.get_column("key").to_list() == [f"{i:0{_KEY_LEN}d}" for i in (4, 5, 6)]
    assert _held_bytes(gone.get_column("key")) <= _compact_bound(3)


@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=60))
def test_owned_keys_keep_values_nulls_and_order(values: list[str | None]) -> None:
    original = pl.Series("k", values, dtype=pl.String)
    copy = owned_keys(original)
    assert copy.name == "k" and copy.dtype == pl.String
    assert copy.to_list() == values


@given(
    st.lists(st.sampled_from(["", "a", "b", "ab", "x" * 20, "x" * 20 + "y", "ｱ", "𠮷"]), min_size=1, max_size=80),
    st.lists(st.integers(min_value=1, max_value=79), max_size=6),
)
def test_duplicates_are_exact_whatever_the_batches(keys: list[str], cuts: list[int]) -> None:
    # the same rows flagged as one batch or cut anywhere: a key is taken by its first row only
    frame = pl.DataFrame({"row": list(range(1, len(keys) + 1)), "k": keys})
    bounds = sorted({0, len(keys), *(c for c in cuts if c < len(keys))})
    tracker = KeyTracker(_layout())
    none = pl.Series("row", [], dtype=pl.Int64)
    flagged: list[int] = []
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        flagged += tracker.duplicates(frame.slice(lo, hi - lo), none).get_column("row").to_list()
    expected = [n + 1 for n, k in enumerate(keys) if k in keys[:n]]
    assert flagged == expected


@given(
    st.lists(
        st.tuples(st.sampled_from(["", "a", "b", "x" * 20, "x" * 20 + "y", "𠮷", None]), st.booleans()),
        min_size=1, max_size=80,
    ),
    st.lists(st.integers(min_value=1, max_value=79), max_size=6),
)
def test_accepted_keys_are_the_keys_of_the_accepted_rows(rows: list[tuple[str | None, bool]], cuts: list[int]) -> None:
    # what extract hands to a foreign key instead of a second key list: the same set, whatever the batches
    frame = pl.DataFrame({"row": list(range(1, len(rows) + 1)), "k": [k for k, _ in rows]}, schema={"row": pl.Int64, "k": pl.String})
    rejected_before = pl.Series("row", [n + 1 for n, (_, bad) in enumerate(rows) if bad], dtype=pl.Int64)
    bounds = sorted({0, len(rows), *(c for c in cuts if c < len(rows))})
    tracker = KeyTracker(_layout())
    accepted: set[str] = set()
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        batch = frame.slice(lo, hi - lo)
        duplicate = tracker.duplicates(batch, rejected_before).get_column("row")
        gone = pl.concat([rejected_before, duplicate])
        accepted |= set(batch.filter(~pl.col("row").is_in(gone.implode())).get_column("k").drop_nulls().to_list())
    kept = tracker.accepted_keys("k")
    assert kept is not None
    assert sorted(kept.to_list()) == sorted(accepted)
    assert kept.n_unique() == kept.len()
