"""Fuzzing the XML adapter with bytes built from markup pieces and garbage.

Properties, for any bytes: nothing but :class:`mig.errors.MigError` escapes; no input value
appears in an error message; when the file reads, row ids count up from 1, each record's
raw bytes are the file's bytes at its offset, records do not overlap, and the result does
not depend on the batch size.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mig.errors import MigError
from mig.plugin import SourceBatch
from mig.registry import get_adapter

from .fuzzcount import tried

SECRET = "QZX7SECRET"
PIECES = [
    b"<r>", b"</r>", b"<i>", b"</i>", b"<i/>", b'<i n="', b"'", b'"', b">", b"<", b"/>", b"</",
    b"<p:i xmlns:p='u'>", b"</p:i>", b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<?pi ", b"?>",
    b"<!DOCTYPE r>", b'<!DOCTYPE r [<!ENTITY e "x">]>', b"&e;", b"&amp;", b"&#0;", b"\n", b" ",
    b"\x00", b"\xff", b"\x81", "山田".encode("cp932"), "表".encode("cp932"), "髙".encode(),
    SECRET.encode(), b"<i>" + SECRET.encode() + b"</i>", b"<" + SECRET.encode() + b">",
]
xml_bytes = st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=4)), max_size=40).map(b"".join)
OPTIONS = {"record": "/r/i", "columns": {"N": "@n", "T": "."}}


def read(path: Path, batch: int, encoding: str | None) -> list[SourceBatch] | str:
    options = {**OPTIONS, "encoding": encoding} if encoding else OPTIONS
    try:
        return list(get_adapter("xml").open(path, options, batch_bytes=batch).batches())
    except MigError as exc:
        assert SECRET not in str(exc), f"input value in an error message: {exc}"
        return type(exc).__name__


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=xml_bytes, wrap=st.booleans(), batch=st.integers(1, 64),
       encoding=st.sampled_from([None, "cp932", "euc-jp", "utf-8"]))
def test_xml_adapter_any_bytes(body: bytes, wrap: bool, batch: int, encoding: str | None) -> None:
    tried("xml adapter (bytes)")
    data = b"<r>" + body + b"</r>" if wrap else body
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.xml"
        path.write_bytes(data)
        small = read(path, batch, encoding)
        large = read(path, 1 << 20, encoding)
    event(small if isinstance(small, str) else f"read, {sum(b.data.height for b in small) > 0} records")
    if isinstance(small, str) or isinstance(large, str):
        assert small == large  # the same outcome whatever the batch size
        return
    rows = [r for b in small for r in b.records.iter_rows(named=True)]
    assert [r["row"] for r in rows] == list(range(1, len(rows) + 1))
    end = 0
    for r in rows:
        assert r["raw"] and data[r["offset"]: r["offset"] + len(r["raw"])] == r["raw"]
        assert r["offset"] >= end
        end = r["offset"] + len(r["raw"])
    assert all(b.data.height == b.records.height and b.rejects.height == 0 for b in small)
    values = [tuple(r) for b in small for r in b.data.drop("row").iter_rows()]
    assert values == [tuple(r) for b in large for r in b.data.drop("row").iter_rows()]


text_piece = st.sampled_from(["a", " ", "\n", "山田", "&amp;", "&lt;", "&#x3E;", ">", "'", '"', "]]", SECRET])
attr_piece = st.sampled_from(["a", " ", "山田", "&amp;", ">", SECRET, "/"])
element = st.one_of(
    st.builds(lambda a, t: f'<i n="{a}">{t}</i>', st.lists(attr_piece, max_size=3).map("".join),
              st.lists(text_piece, max_size=4).map("".join)),
    st.builds(lambda a: f"<i n='{a}\"'/>", st.lists(attr_piece, max_size=3).map("".join)),
    st.just("<i><i>nested</i></i>"), st.just("<h><i>deeper: not a record</i></h>"),
    st.just("<!-- <i> -->"), st.just("<![CDATA[<i>]]>"), st.just("<?pi <i>?>"), st.just("\n  "),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(element, max_size=12), damage=st.one_of(st.none(), st.tuples(st.integers(0, 10_000), st.sampled_from(PIECES))),
       batch=st.integers(1, 64), encoding=st.sampled_from(["utf-8", "cp932", "euc-jp"]))
def test_xml_adapter_near_documents(parts: list[str], damage: tuple[int, bytes] | None, batch: int, encoding: str) -> None:
    tried("xml adapter (near-valid documents)")
    data = f'<?xml version="1.0" encoding="{encoding}"?>\n<r>{"".join(parts)}</r>\n'.encode(encoding)
    if damage is not None:
        at = damage[0] % (len(data) + 1)
        data = data[:at] + damage[1] + data[at:]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.xml"
        path.write_bytes(data)
        small = read(path, batch, None)
        large = read(path, 1 << 20, None)
    event(small if isinstance(small, str) else "read")
    if isinstance(small, str) or isinstance(large, str):
        assert small == large
        return
    rows = [r for b in small for r in b.records.iter_rows(named=True)]
    assert [r["row"] for r in rows] == list(range(1, len(rows) + 1))
    end = 0
    for r in rows:
        assert data[r["offset"]: r["offset"] + len(r["raw"])] == r["raw"]
        assert r["raw"].startswith(b"<i") and r["raw"].endswith(b">") and r["offset"] >= end
        end = r["offset"] + len(r["raw"])
    if damage is None:
        assert len(rows) == sum(p.startswith("<i") for p in parts)
    values = [tuple(r) for b in small for r in b.data.drop("row").iter_rows()]
    assert values == [tuple(r) for b in large for r in b.data.drop("row").iter_rows()]
