"""The CSV adapter's fast path (Polars' CSV reader on the decoded block) against the exact
NumPy splitter it falls back to: the same batches, byte for byte, whatever the input.

The fallback is forced on one reader by shadowing its ``_fast_split`` with a function that
declines; everything else (files, decoders, framing, Polars) is the shipped code.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mig_adapters.csv import CsvReader, _outside_quotes, frame_block, sjis_char_starts

from mig.errors import InputError
from mig.registry import get_adapter

#: CP932-encodable text including the trail-byte troublemakers (表 ソ 能 hold 0x5C / 0x7C)
#: and everything that makes a batch an anomaly: quotes, CR, LF, NUL, delimiters.
PLAIN = "あアｱ山田髙﨑①～－　Ab0 表ソ能"
ANOMALOUS = PLAIN + ",|\t\"\r\n\x00"
EUC_UNSAFE = "①～－﨑髙"


def _field(kind: str, text: str) -> str:
    if kind == "quoted":
        return '"' + text.replace('"', '""') + '"'
    return text


fields = st.tuples(
    st.sampled_from(["plain", "plain", "quoted", "wild"]),
    st.text(alphabet=st.sampled_from(PLAIN), max_size=6),
    st.text(alphabet=st.sampled_from(ANOMALOUS), max_size=6),
).map(lambda t: _field(t[0], t[2] if t[0] != "plain" else t[1]))


@st.composite
def csv_files(draw: Any) -> tuple[str, str, int, bool]:
    """(text, delimiter, columns, header) of a file, mostly well formed, sometimes not."""
    delimiter = draw(st.sampled_from([",", "|", "\t"]))
    columns = draw(st.sampled_from([1, 3, 3]))
    header = draw(st.booleans())
    records = []
    for _ in range(draw(st.integers(0, 12))):
        count = columns if draw(st.integers(0, 5)) else draw(st.integers(0, 4))
        values = [draw(fields) for _ in range(count)]
        ending = draw(st.sampled_from(["\r\n", "\r\n", "\n", "\r\r\n"]))
        records.append(delimiter.join(values) + ending)
    if records and draw(st.booleans()):
        records[-1] = records[-1].rstrip("\r\n")  # the last record without a line end
    head = delimiter.join(f"C{i}" for i in range(columns)) + "\r\n" if header else ""
    return head + "".join(records), delimiter, columns, header


def _read(path: Path, options: dict[str, object], batch_bytes: int, *, fast: bool) -> tuple[list[Any], list[str]]:
    """Every batch's data, records and rejects (as Parquet bytes and frames), or the error."""
    used: list[str] = []
    original = CsvReader._fast_split

    def counting(self: CsvReader, *args: Any, **kwargs: Any) -> list[pl.Series] | None:
        result = original(self, *args, **kwargs)
        used.append("fast" if result is not None else "fallback")
        return result

    def declining(self: CsvReader, *args: Any, **kwargs: Any) -> None:
        return None

    # patched on the class, not the reader: a file with a header reads its first batch in open
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CsvReader, "_fast_split", counting if fast else declining)
        return _collect(path, options, batch_bytes), used


def _collect(path: Path, options: dict[str, object], batch_bytes: int) -> list[Any]:
    out: list[Any] = []
    try:
        reader = get_adapter("csv").open(path, options, batch_bytes=batch_bytes)
        for batch in reader.batches():
            for frame in (batch.data, batch.records, batch.rejects):
                buffer = io.BytesIO()
                frame.write_parquet(buffer)
                out.append((frame, frame.schema, buffer.getvalue()))
    except InputError as exc:
        out.append(("error", str(exc)))
    else:
        out.append(("columns", list(reader.columns)))
    return out


def _assert_same(path: Path, options: dict[str, object], batch_bytes: int) -> list[str]:
    fast, used = _read(path, options, batch_bytes, fast=True)
    slow, _ = _read(path, options, batch_bytes, fast=False)
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        if isinstance(a[0], pl.DataFrame):
            assert a[0].equals(b[0])
            assert a[1] == b[1]
            assert a[2] == b[2]  # the Parquet bytes mig would write
        else:
            assert a == b
    return used


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    file=csv_files(),
    encoding=st.sampled_from(["cp932", "utf-8", "euc-jp", "utf-16"]),
    batch_bytes=st.one_of(st.integers(min_value=1, max_value=120), st.just(1 << 20)),
)
def test_fast_path_and_fallback_are_byte_identical(
    tmp_path: Path, file: tuple[str, str, int, bool], encoding: str, batch_bytes: int
) -> None:
    text, delimiter, columns, header = file
    if encoding == "euc-jp":
        text = text.translate({ord(c): None for c in EUC_UNSAFE})
    data = text.encode(encoding)
    if not data:
        return
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    options: dict[str, object] = {"encoding": encoding, "delimiter": delimiter, "header": header}
    if not header:
        options["columns"] = [f"C{i}" for i in range(columns)]
    used = _assert_same(path, options, batch_bytes)
    event("fast path " + ("used" if "fast" in used else "not used"))


def test_fast_path_is_taken_for_clean_quoted_batches(tmp_path: Path) -> None:
    rows = ['1,"山田,太郎","ビル""A""棟"\r\n', '2,,""\r\n', '3,表ソ能,"x"\r\n'] * 50
    path = tmp_path / "clean.csv"
    path.write_bytes(("ID,氏名,住所\r\n" + "".join(rows)).encode("cp932"))
    used = _assert_same(path, {"encoding": "cp932"}, 1 << 20)
    assert used == ["fast"]
    # a batch boundary inside a quoted field: every batch still goes the fast way
    used = _assert_same(path, {"encoding": "cp932"}, 37)
    assert used and set(used) == {"fast"}
    batches = get_adapter("csv").open(path, {"encoding": "cp932"}, batch_bytes=37).batches()
    data = pl.concat([b.data for b in batches])
    assert data.height == 150
    assert data.row(0) == (1, "1", "山田,太郎", 'ビル"A"棟')
    assert data.row(1) == (2, "2", "", "")


def test_ragged_and_nul_records_are_cut_out_before_the_fast_path(tmp_path: Path) -> None:
    body = b"1,a,b\r\n2,few\r\n3,n\x00l,c\r\n4,d,e\r\n"
    path = tmp_path / "ragged.csv"
    path.write_bytes(b"A,B,C\r\n" + body)
    used = _assert_same(path, {"encoding": "cp932"}, 1 << 20)
    assert used == ["fast"]
    batches = list(get_adapter("csv").open(path, {"encoding": "cp932"}, batch_bytes=1 << 20).batches())
    assert batches[0].data.get_column("A").to_list() == ["1", "4"]
    assert batches[0].rejects.get_column("raw").to_list() == [b"2,few\r\n", b"3,n\x00l,c\r\n"]
    assert batches[0].rejects.get_column("offset").to_list() == [14, 21]


@pytest.mark.parametrize(
    "body",
    [
        b'1,"two\r\nlines",x\r\n',  # a line end inside quotes
        b'1,a"b"c,x\r\n',  # quotes inside an unquoted field
        b'1, "a",x\r\n',  # a quoted field not starting at the field start
        b"1,a\rb,x\r\n",  # a CR that is not a line end
        b'1,"a"b,x\r\n',  # text after the closing quote
    ],
)
def test_anomalies_fall_back(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(b"A,B,C\r\n" + body + b"2,c,d\r\n")
    assert _assert_same(path, {"encoding": "cp932"}, 1 << 20) == ["fallback"]


def _framing_by_running_parity(buf: bytes, delimiter: int, quote: int, sjis: bool) -> tuple[list[int], list[int], bool]:
    """Record ends and delimiters outside quotes by a running quote count over every byte
    (the framer's former method), as a reference for its quote-position search."""
    array = np.frombuffer(buf, dtype=np.uint8)
    starts = sjis_char_starts(array) if sjis else np.ones(array.shape[0], dtype=np.bool_)
    parity = np.cumsum((array == quote) & starts, dtype=np.uint8) & 1
    outside = parity == 0
    line_ends = np.flatnonzero((array == 0x0A) & starts & outside).tolist()
    delimiters = np.flatnonzero((array == delimiter) & starts & outside).tolist()
    return line_ends, delimiters, bool(parity[-1]) if array.shape[0] else False


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(ANOMALOUS), max_size=60),
    delimiter=st.sampled_from([",", "|"]),
    final=st.booleans(),
)
def test_framer_quote_search_equals_running_parity(text: str, delimiter: str, final: bool) -> None:
    buf = text.encode("cp932")
    array = np.frombuffer(buf, dtype=np.uint8)
    sjis = delimiter == "|"
    framing = frame_block(array, ord(delimiter), ord('"'), sjis_char_starts(array) if sjis else None, final=final)
    line_ends, delimiters, quote_open = _framing_by_running_parity(buf, ord(delimiter), ord('"'), sjis)
    assert framing.quote_open == quote_open
    assert (framing.next_starts - 1).tolist()[: len(line_ends)] == line_ends
    assert framing.delimiters.tolist() == [d for d in delimiters if d < framing.complete_until]


@settings(max_examples=300, deadline=None)
@given(
    candidates=st.lists(st.integers(0, 200), unique=True).map(sorted),
    quotes=st.lists(st.integers(0, 200), unique=True).map(sorted),
)
def test_outside_quotes_by_ranges_equals_parity_search(candidates: list[int], quotes: list[int]) -> None:
    """Cutting the candidates inside quoted stretches by range keeps exactly those after an
    even number of quotes (the search per candidate it replaced)."""
    quote_set = set(quotes)
    probe = np.array([c for c in candidates if c not in quote_set], dtype=np.int64)  # never a quote
    at = np.array(quotes, dtype=np.int64)
    expected = probe[np.searchsorted(at, probe) % 2 == 0] if at.size else probe
    assert _outside_quotes(probe, at).tolist() == expected.tolist()


def test_rejected_first_record_and_blank_lines_keep_the_fast_path_exact(tmp_path: Path) -> None:
    """A batch whose first record is ragged (so not read whole) and one with blank and
    ragged lines among clean ones (read whole, rows dropped after) give the fallback's bytes."""
    path = tmp_path / "gaps.csv"
    path.write_bytes(b"1,few\r\n2,a,b\r\n\r\n3,c,d,extra\r\n\n4,e,f\r\n5,g\x00,h\r\n6,i,j\r\n")
    options: dict[str, object] = {"encoding": "cp932", "header": False, "columns": ["A", "B", "C"]}
    assert _assert_same(path, options, 1 << 20) == ["fast"]
    path.write_bytes(b"A,B,C\r\n" + b"1,a,b\r\n\r\n2,c\r\n3,d,e,f\r\n4,g,h\r\n" * 20)
    assert _assert_same(path, {"encoding": "cp932"}, 1 << 20) == ["fast"]
    data = pl.concat([b.data for b in get_adapter("csv").open(path, {"encoding": "cp932"}, batch_bytes=1 << 20).batches()])
    assert data.get_column("A").to_list() == ["1", "4"] * 20
