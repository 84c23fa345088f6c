"""Record framing: fixed, RDW, BDW+RDW, text — against simple reference walks, at any chunk size."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mig_adapters.copybook.framing import (
    FramingError,
    frame_bdw_rdw,
    frame_fixed,
    frame_rdw,
    frame_text,
    reachable,
    read_blocks,
)

from mig.errors import InputError


def rdw(payload: bytes) -> bytes:
    return (len(payload) + 4).to_bytes(2, "big") + b"\0\0" + payload


def bdw(records: list[bytes], extended: bool = False) -> bytes:
    body = b"".join(rdw(r) for r in records)
    if extended:
        return ((len(body) + 4) | 0x80000000).to_bytes(4, "big") + body
    return (len(body) + 4).to_bytes(2, "big") + b"\0\0" + body


def records_of(data: bytes, mode: str, batch_bytes: int, **kw: object) -> tuple[list[bytes], list[bytes], list[int], list[tuple[int, bytes]]]:
    """(data parts, raw parts, file offsets, truncated (offset, bytes)) through read_blocks."""
    datas: list[bytes] = []
    raws: list[bytes] = []
    offsets: list[int] = []
    truncated: list[tuple[int, bytes]] = []
    lines: list[int] = []
    for block in read_blocks(io.BytesIO(data), Path("x.dat"), mode, batch_bytes=batch_bytes, **kw):  # type: ignore[arg-type]
        f = block.frames
        for k in range(f.count):
            datas.append(block.data[f.data_starts[k]:f.data_ends[k]])
            raws.append(block.data[f.raw_starts[k]:f.raw_ends[k]])
            offsets.append(block.file_offset + int(f.raw_starts[k]))
            lines.append(block.first_record + k + 1)
        if f.truncated:
            s, e = f.truncated
            truncated.append((block.file_offset + s, block.data[s:e]))
            lines.append(block.first_record + f.count + 1)
    assert lines == list(range(1, len(lines) + 1))
    return datas, raws, offsets, truncated


payloads = st.lists(st.binary(min_size=0, max_size=40), min_size=0, max_size=30)


# -- pointer doubling --------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=1, max_size=60), st.data())
def test_reachable_matches_a_plain_walk(steps: list[int], data: st.DataObject) -> None:
    m = len(steps)
    successor = np.array([min(i + s, m) for i, s in enumerate(steps)] + [m], dtype=np.int64)
    starts = np.array(sorted(set(data.draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=3)))), dtype=np.int64)
    expected = np.zeros(m + 1, dtype=np.bool_)
    for s in starts:
        node = int(s)
        while node != m:
            expected[node] = True
            node = int(successor[node])
    assert reachable(successor, starts).tolist() == expected.tolist()


# -- fixed ---------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(count=st.integers(0, 40), lrecl=st.integers(1, 17), tail=st.integers(0, 16), batch=st.integers(1, 100))
def test_fixed_records_at_any_batch_size(count: int, lrecl: int, tail: int, batch: int) -> None:
    tail = tail % lrecl
    data = bytes(np.random.default_rng(count).integers(0, 256, count * lrecl + tail, dtype=np.uint8))
    datas, raws, offsets, truncated = records_of(data, "fixed", batch, lrecl=lrecl)
    assert datas == [data[i * lrecl:(i + 1) * lrecl] for i in range(count)] == raws
    assert offsets == [i * lrecl for i in range(count)]
    assert truncated == ([(count * lrecl, data[count * lrecl:])] if tail else [])


def test_fixed_truncated_rule_names_the_byte_counts() -> None:
    frames = frame_fixed(10, 4, final=True)
    assert frames.truncated == (8, 10) and "2 of 4 bytes" in frames.truncated_rule
    assert frame_fixed(10, 4, final=False).truncated is None and frame_fixed(10, 4, final=False).consumed == 8


# -- RDW -----------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(parts=payloads, batch=st.integers(1, 300))
def test_rdw_records_at_any_batch_size(parts: list[bytes], batch: int) -> None:
    data = b"".join(rdw(p) for p in parts)
    datas, raws, offsets, truncated = records_of(data, "rdw", batch)
    assert datas == parts
    assert raws == [rdw(p) for p in parts]
    assert offsets == [sum(len(p) + 4 for p in parts[:k]) for k in range(len(parts))]
    assert truncated == []


def test_rdw_binary_payload_full_of_zeros_and_fake_headers() -> None:
    rng = np.random.default_rng(7)
    parts = []
    for k in range(2000):
        body = rng.integers(0, 256, int(rng.integers(0, 300)), dtype=np.uint8)
        body[rng.random(body.size) < 0.4] = 0
        if k % 7 == 0 and body.size >= 8:  # a fake RDW inside the data
            body[2:6] = [0, 9, 0, 0]
        parts.append(bytes(body))
    data = b"".join(rdw(p) for p in parts)
    for batch in (1 << 16, 1 << 20):
        datas, _, _, truncated = records_of(data, "rdw", batch)
        assert datas == parts and truncated == []


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 8])
def test_rdw_length_past_end_of_file_is_a_truncated_record(cut: int) -> None:
    parts = [b"first", b"second record", b"third"]
    whole = b"".join(rdw(p) for p in parts)
    data = whole[: len(whole) - cut]
    datas, _, _, truncated = records_of(data, "rdw", 8)
    last_start = len(rdw(b"first")) + len(rdw(b"second record"))
    assert datas == parts[:2]
    assert truncated == [(last_start, data[last_start:])]
    frames = frame_rdw(np.frombuffer(data, np.uint8), final=True)
    assert frames.truncated_rule.startswith("RDW") or "cut short" in frames.truncated_rule


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        (b"\x00\x00\x00\x00abcd", "RDW length 0"),
        (b"\x00\x03\x00\x00abcd", "RDW length 3"),
        (b"\x00\x08\x01\x00abcd", "bytes 3-4 are not zero"),
    ],
)
def test_rdw_zero_short_or_foreign_header_stops_with_its_offset(bad: bytes, rule: str) -> None:
    data = rdw(b"good") + rdw(b"also good") + bad + rdw(b"never reached")
    with pytest.raises(InputError, match=rule) as caught:
        records_of(data, "rdw", 1 << 16)
    assert caught.value.offset == len(rdw(b"good")) + len(rdw(b"also good"))
    with pytest.raises(FramingError):
        frame_rdw(np.frombuffer(bad, np.uint8), final=True)


def test_rdw_empty_record_and_empty_file() -> None:
    datas, raws, _, _ = records_of(rdw(b"") + rdw(b"x"), "rdw", 4)
    assert datas == [b"", b"x"] and raws == [rdw(b""), rdw(b"x")]
    assert records_of(b"", "rdw", 4) == ([], [], [], [])


# -- BDW + RDW -----------------------------------------------------------------------------------


blocks = st.lists(st.tuples(st.lists(st.binary(max_size=30), max_size=6), st.booleans()), max_size=12)


@settings(max_examples=80, deadline=None)
@given(block_list=blocks, batch=st.integers(1, 400))
def test_bdw_rdw_records_at_any_batch_size(block_list: list[tuple[list[bytes], bool]], batch: int) -> None:
    data = b"".join(bdw(records, extended) for records, extended in block_list)
    datas, raws, offsets, truncated = records_of(data, "bdw-rdw", batch)
    expected = [r for records, _ in block_list for r in records]
    assert datas == expected
    assert raws == [rdw(r) for r in expected]
    assert all(data[o:o + len(r)] == r for o, r in zip(offsets, raws, strict=True))
    assert truncated == []


@pytest.mark.parametrize(
    ("cut", "kept", "fragment_start"),
    [(1, 3, 32), (3, 3, 32), (4, 3, 32), (6, 3, 32), (11, 3, 32), (12, 3, 32), (16, 2, 24), (20, 2, 20), (22, 2, 20)],
)
def test_bdw_cut_short_keeps_its_complete_records(cut: int, kept: int, fragment_start: int) -> None:
    # block 1: BDW 0–3, aaaa 4–11, bbbb 12–19; block 2: BDW 20–23, cccc 24–31, dddddddd 32–43
    whole = bdw([b"aaaa", b"bbbb"]) + bdw([b"cccc", b"dddddddd"])
    data = whole[: len(whole) - cut]
    datas, _, _, truncated = records_of(data, "bdw-rdw", 1 << 16)
    assert datas == [b"aaaa", b"bbbb", b"cccc"][:kept]
    assert truncated == [(fragment_start, data[fragment_start:])]
    assert len(truncated[0][1]) == len(data) - fragment_start  # empty only when the cut fell between records
    assert (cut == 12) == (truncated[0][1] == b"")


def test_bdw_errors_name_the_offset() -> None:
    good = bdw([b"one"])
    with pytest.raises(InputError, match="BDW length 0") as caught:
        records_of(good + b"\x00\x00\x00\x00" + bdw([b"x"]), "bdw-rdw", 1 << 16)
    assert caught.value.offset == len(good)
    with pytest.raises(InputError, match="past the end of its block"):
        records_of(good + b"\x00\x0c\x00\x00" + rdw(b"too long for it"), "bdw-rdw", 1 << 16)
    with pytest.raises(InputError, match="RDW length 0"):
        records_of(good + b"\x00\x0c\x00\x00" + b"\x00\x00\x00\x00" + b"xxxx", "bdw-rdw", 1 << 16)
    with pytest.raises(InputError, match="BDW bytes 3-4"):
        records_of(good + b"\x00\x0c\x00\x01" + rdw(b"abcd"), "bdw-rdw", 1 << 16)


def test_bdw_frame_function_directly() -> None:
    data = bdw([b"ab", b"c"]) + bdw([], False) + bdw([b"d"], True)
    frames = frame_bdw_rdw(np.frombuffer(data, np.uint8), final=True)
    assert [data[s:e] for s, e in zip(frames.data_starts, frames.data_ends, strict=True)] == [b"ab", b"c", b"d"]
    assert frames.truncated is None and frames.consumed == len(data)


# -- text ----------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=20).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"")), max_size=25),
    crlf=st.booleans(),
    final_newline=st.booleans(),
    batch=st.integers(1, 120),
)
def test_text_lines_at_any_batch_size(lines: list[bytes], crlf: bool, final_newline: bool, batch: int) -> None:
    end = b"\r\n" if crlf else b"\n"
    data = end.join(lines) + (end if final_newline and lines else b"")
    datas, raws, _, truncated = records_of(data, "text", batch, newline=b"\n")
    expected = lines if (final_newline or not lines or lines[-1]) else lines[:-1]
    if lines and not final_newline and lines[-1] == b"":
        expected = lines[:-1]
    assert datas == expected
    assert b"".join(raws) == data
    assert truncated == []


def test_text_with_ebcdic_newline_and_two_byte_newline() -> None:
    data = b"\xc1\xc2\x15\xc3\x15\x15"
    assert records_of(data, "text", 2, newline=b"\x15")[0] == [b"\xc1\xc2", b"\xc3", b""]
    frames = frame_text(np.frombuffer(b"ab\r\n\r\ncd", np.uint8), b"\r\n", final=True, strip_cr=False)
    assert frames.data_ends.tolist() == [2, 4, 8] and frames.raw_ends.tolist() == [4, 6, 8]


def test_text_without_newline_for_too_long_is_an_error() -> None:
    with pytest.raises(InputError, match="no newline 15 within 64 bytes"):
        records_of(b"x" * 200, "text", 16, newline=b"\x15", max_text_record=64)
