"""Fuzzing the copybook adapter: generated copybooks over records of random bytes, in every
framing, at random batch sizes; and copybook text on its own.

Properties: nothing but :class:`mig.errors.MigError` escapes; every record is in the data or
the rejects, each reject with its bytes (the raw bytes of all records, in order, are the
file — less its BDWs); row ids count up from 1; no input value in a message; a parsed
copybook stays within the documented limits.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mig_adapters.copybook import CopybookAdapter
from mig_adapters.copybook.parser import MAX_FIELDS, MAX_RECORD_BYTES, parse_copybook

from mig.errors import MigError
from mig.plugin import SourceBatch, empty_rejects

from .fuzzcount import tried

SECRET = b"\xe2\xd9\xc3\xd9\xc5\xe3"  # "SECRET" in EBCDIC: must not surface in any message

ITEMS = [
    "PIC X({n})", "PIC 9({n})", "PIC S9({n})", "PIC S9({n}) COMP-3", "PIC 9({n}) COMP-3",
    "PIC S9(4) COMP", "PIC 9(9) COMP-5", "PIC N({n})", "PIC S9({n}) SIGN LEADING SEPARATE",
    "PIC X({n}) OCCURS 2", "PIC S9({n})V99 COMP-3",
]


@st.composite
def copybooks(draw: st.DrawFn) -> tuple[str, bool]:
    """A copybook of a few elementary items (maybe an OCCURS DEPENDING ON table); whether it has one."""
    lines = ["       01  REC."]
    items = draw(st.lists(st.sampled_from(ITEMS), min_size=1, max_size=6))
    for k, item in enumerate(items):
        n = draw(st.integers(1, 9))
        lines.append(f"           05  F{k}  {item.format(n=n)}.")
    odo = draw(st.booleans())
    if odo:
        lines.append("           05  CNT  PIC 9.")
        lines.append(f"           05  TBL  PIC X({draw(st.integers(1, 4))}) OCCURS 0 TO 3 DEPENDING ON CNT.")
    return "\n".join(lines) + "\n", odo


def frame(records: list[bytes], framing: str, garbage: bytes) -> bytes:
    def rdw(r: bytes) -> bytes:
        return (len(r) + 4).to_bytes(2, "big") + b"\0\0" + r

    if framing == "fixed":
        body = b"".join(records)
    elif framing == "rdw":
        body = b"".join(rdw(r) for r in records)
    elif framing == "bdw-rdw":
        blocks = [records[i:i + 3] for i in range(0, len(records), 3)]
        body = b"".join(
            (sum(len(r) + 4 for r in b) + 4).to_bytes(2, "big") + b"\0\0" + b"".join(rdw(r) for r in b)
            for b in blocks
        )
    else:
        body = b"".join(r.replace(b"\x15", b"\x40") + b"\x15" for r in records)
    return body + garbage


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    book=copybooks(),
    framing=st.sampled_from(["fixed", "rdw", "bdw-rdw", "text"]),
    records=st.lists(st.one_of(st.binary(max_size=60), st.just(SECRET * 4)), max_size=12),
    garbage=st.one_of(st.just(b""), st.binary(max_size=8)),
    charset=st.sampled_from(["jef-ebcdik", "keis83-ebcdik", "jips-e-ebcdik", "jips-j-jis8", "ibm-930", "jef-ascii"]),
    batch=st.integers(1, 300),
    options=st.fixed_dictionaries({}, optional={
        "short_records": st.sampled_from(["reject", "pad"]),
        "long_records": st.sampled_from(["reject", "trailing"]),
        "blank_numbers": st.sampled_from(["null", "reject"]),
        "alphanumeric": st.sampled_from(["mixed", "sbcs"]),
    }),
)
def test_copybook_adapter_any_records(
    book: tuple[str, bool], framing: str, records: list[bytes], garbage: bytes, charset: str, batch: int,
    options: dict[str, str],
) -> None:
    tried(f"copybook adapter ({framing})")
    text, _ = book
    if framing == "fixed":
        size = parse_copybook(text).records[0].size
        records = [r[:size].ljust(size, b"\x40") for r in records]
    data = frame(records, framing, garbage)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "REC.cpy").write_text(text, encoding="utf-8")
        (root / "REC.DAT").write_bytes(data)
        opts = {"copybook": str(root / "REC.cpy"), "charset": charset, "framing": framing, "newline": "nl", **options}
        try:
            reader = CopybookAdapter().open(root / "REC.DAT", opts, batch_bytes=batch)
            batches: list[SourceBatch] = list(reader.batches())
        except MigError as exc:
            assert SECRET.hex() not in str(exc) and "SECRET" not in str(exc)
            assert garbage or framing == "text", f"well-framed file refused: {exc}"
            return
    kept = pl.concat([empty_rejects().select("row", "line", "offset", "raw")] + [b.records for b in batches])
    rejects = pl.concat([empty_rejects()] + [b.rejects for b in batches])
    for b in batches:
        assert b.data.get_column("row").to_list() == b.records.get_column("row").to_list()
    every = pl.concat([kept.select("row", "offset", "raw"), rejects.select("row", "offset", "raw")]).sort("row")
    assert every.get_column("row").to_list() == list(range(1, every.height + 1))
    assert every.get_column("offset").is_sorted()
    if not garbage:
        assert every.height == len(records)
    raw = b"".join(every.get_column("raw").to_list())
    if framing == "bdw-rdw":  # the BDWs belong to no record; a block cut by the end may carry none
        assert len(raw) <= len(data)
    else:
        assert raw == data, "bytes of the file are in no record"
    assert all(d is None or "SECRET" not in d for d in rejects.get_column("detail").to_list())
    assert reader.stats["records_read"] == every.height


# -- copybook text --------------------------------------------------------------------------------

WORDS = [
    "01", "05", "10", "77", "88", "66", "REC", "A", "B", "FILLER", "PIC", "PICTURE", "X(3)", "9(5)",
    "S9(4)V99", "N(2)", "X(999999999)", "9(40)", "COMP-3", "COMP", "BINARY", "COMP-5", "COMP-1", "OCCURS",
    "3", "0", "TO", "99999999", "DEPENDING", "ON", "REDEFINES", "VALUE", "'A.B'", "SIGN", "LEADING",
    "SEPARATE", "SYNC", ".", "USAGE", "IS", "DISPLAY-1", "NATIONAL", "TIMES", "INDEXED", "BY", "²", "*>",
    "-", "\t", "COPY", "X(0)", "9(0018)", "PP99", "ZZ9.99", "X(1048576)",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=4)), max_size=40),
    newlines=st.lists(st.integers(0, 40), max_size=6),
    free=st.sampled_from(["auto", "fixed", "free"]),
)
def test_copybook_parser_any_text(words: list[str], newlines: list[int], free: str) -> None:
    tried("copybook parser (text)")
    tokens = list(words)
    for k in sorted(newlines, reverse=True):
        tokens.insert(min(k, len(tokens)), "\n" + " " * 7)
    text = " " * 7 + " ".join(tokens) + "\n"
    try:
        book = parse_copybook(text, source="FUZZ.cpy", format=free)  # type: ignore[arg-type]
    except MigError as exc:
        message = str(exc)
        assert "\n" not in message
        return
    for record in book.records:
        assert 0 < len(record.fields) <= MAX_FIELDS
        assert record.size <= MAX_RECORD_BYTES
        assert all(0 <= f.offset and f.end <= record.size for f in record.fields)
