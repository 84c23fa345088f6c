"""The CSV adapter: framing, decoding, rejects and conservation, on real files."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mig_adapters.csv import detect_encoding, sjis_char_starts

from mig.errors import ConfigError, InputError, UnknownNameError
from mig.plugin import SourceBatch
from mig.registry import get_adapter

JAPANESE = "あいうアイウｱｲｳ山田太郎髙﨑①～－ー　ABCabc0123,\"\r\n|\\表ソ能"
# Characters CP932 can hold, including the 0x5C/0x7C trail-byte troublemakers (表 ソ 能).


def write_csv(path: Path, rows: list[list[str]], encoding: str, delimiter: str = ",") -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = text.getvalue().encode(encoding)
    path.write_bytes(data)
    return data


def read_all(path: Path, options: dict[str, object], batch_bytes: int = 1 << 20) -> tuple[list[str], list[SourceBatch]]:
    reader = get_adapter("csv").open(path, options, batch_bytes=batch_bytes)
    return reader.columns, list(reader.batches())


def data_rows(batches: list[SourceBatch]) -> list[list[str]]:
    frames = [b.data.drop("row") for b in batches if b.data.height]
    if not frames:
        return []
    return [list(r) for r in pl.concat(frames).iter_rows()]


def rejects(batches: list[SourceBatch]) -> pl.DataFrame:
    from mig.plugin import empty_rejects

    return pl.concat([empty_rejects()] + [b.rejects for b in batches])


field_text = st.text(alphabet=st.sampled_from(JAPANESE), max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(field_text, min_size=3, max_size=3), min_size=0, max_size=25),
    encoding=st.sampled_from(["cp932", "utf-8", "utf-8-sig", "euc-jp", "utf-16"]),
    delimiter=st.sampled_from([",", "|", "\t"]),
    batch_bytes=st.integers(min_value=1, max_value=200),
)
def test_round_trip_any_batch_size(tmp_path: Path, rows: list[list[str]], encoding: str, delimiter: str, batch_bytes: int) -> None:
    if encoding == "euc-jp":
        rows = [[v.replace("①", "").replace("～", "").replace("－", "").replace("﨑", "").replace("髙", "") for v in r] for r in rows]
    header = ["ID", "氏名", "住所"]
    path = tmp_path / f"x-{encoding}.csv"
    write_csv(path, [header] + rows, encoding, delimiter)
    columns, batches = read_all(path, {"encoding": encoding, "delimiter": delimiter}, batch_bytes)
    assert columns == header
    assert data_rows(batches) == rows
    assert rejects(batches).height == 0
    ids = pl.concat([b.data.select("row") for b in batches]).get_column("row").to_list() if batches else []
    assert ids == list(range(1, len(rows) + 1))


BROKEN = [
    b"1,too,many,fields\r\n",
    b"2,few\r\n",
    b"3,nul\x00here,x\r\n",
    b"4,\"never closed,x\r\n",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    good=st.lists(st.lists(field_text, min_size=3, max_size=3), max_size=20),
    broken=st.lists(st.tuples(st.integers(0, 20), st.sampled_from(BROKEN)), max_size=6),
    batch_bytes=st.integers(min_value=1, max_value=300),
)
def test_conservation_with_broken_rows(tmp_path: Path, good: list[list[str]], broken: list[tuple[int, bytes]], batch_bytes: int) -> None:
    lines = []
    for row in good:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(row)
        lines.append(buf.getvalue().encode("cp932"))
    for position, line in sorted(broken, key=lambda x: x[0], reverse=True):
        lines.insert(min(position, len(lines)), line)
    path = tmp_path / "broken.csv"
    path.write_bytes(b"A,B,C\r\n" + b"".join(lines))
    _, batches = read_all(path, {"encoding": "cp932"}, batch_bytes)
    framed = sum(b.data.height for b in batches)
    rejected = rejects(batches)
    # every record is in exactly one place, and the row ids are 1..N without gaps
    ids = sorted(
        pl.concat([b.data.select("row") for b in batches] + [rejected.select("row")]).get_column("row").to_list()
    )
    assert ids == list(range(1, len(ids) + 1))
    assert framed + rejected.height == len(ids)
    if not any(line.startswith(b"4,") for _, line in broken):
        # without a stray quote (which may legitimately pair with a later one) every broken
        # line is its own reject and every good row survives
        assert rejected.height == len(broken)
        assert framed == len(good)
    # rejects keep their original bytes
    for raw in rejected.get_column("raw").to_list():
        assert raw in path.read_bytes()


def test_rejects_name_line_offset_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "j.csv"
    content = 'ID,氏名,メモ\r\n1,山田,"a,b"\r\n2,ragged,x,y\r\n3,"multi\r\nline",z\r\n4,nul\x00,q\r\n5,"open,x\r\n6,after,ok\r\n'.encode("cp932")
    path.write_bytes(content)
    columns, batches = read_all(path, {})
    assert columns == ["ID", "氏名", "メモ"]
    assert data_rows(batches) == [["1", "山田", "a,b"], ["3", "multi\r\nline", "z"], ["6", "after", "ok"]]
    rej = rejects(batches).sort("row")
    assert rej.select("row", "line", "type").rows() == [
        (2, 3, "ragged-row"), (4, 6, "embedded-nul"), (5, 7, "unbalanced-quote")
    ]
    assert rej.get_column("detail").to_list()[0] == "4"
    first = rej.row(0, named=True)
    assert content[first["offset"]:].startswith(first["raw"])


def test_sjis_trail_bytes_are_not_delimiters(tmp_path: Path) -> None:
    # 表 is 0x95 0x5C and ソ is 0x83 0x7C: a naive byte split on '|' or '\\' breaks them
    assert sjis_char_starts(np.frombuffer("ソ|表".encode("cp932"), dtype=np.uint8)).tolist() == [True, False, True, True, False]
    path = tmp_path / "pipe.csv"
    write_csv(path, [["a", "b"], ["ソ|", "表"], ["能ソ", "|"]], "cp932", "|")
    _, batches = read_all(path, {"encoding": "cp932", "delimiter": "|"}, 7)
    assert data_rows(batches) == [["ソ|", "表"], ["能ソ", "|"]]


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("cp932", b""), ("euc-jp", b""), ("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)],
)
def test_detection(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    text = "宛名番号,氏名,住所\r\n1,高橋　一郎,東京都千代田区霞が関二丁目\r\n2,渡辺　花子,大阪府大阪市北区梅田一丁目\r\n" * 5
    path = tmp_path / "d.csv"
    path.write_bytes(prefix + text.encode(encoding))
    columns, batches = read_all(path, {})
    assert columns == ["宛名番号", "氏名", "住所"]
    assert data_rows(batches)[0] == ["1", "高橋　一郎", "東京都千代田区霞が関二丁目"]


def test_detect_encoding_prefers_bom() -> None:
    assert detect_encoding(codecs.BOM_UTF8 + "あ".encode()) == "utf-8-sig"
    assert detect_encoding(codecs.BOM_UTF16_LE + "あ".encode("utf-16-le")) == "utf-16"


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_bytes("a,b\r\n1,x\r\n2,山田\r\n".encode("cp932"))
    with pytest.raises(InputError) as caught:
        read_all(path, {"encoding": "utf-8"})
    assert caught.value.line == 3
    assert "w.csv (line 3, byte 12)" in str(caught.value)


def test_mixed_encodings_name_the_first_offending_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes("a,b\r\n1,山田\r\n".encode() + "2,鈴木\r\n".encode("cp932") + "3,佐藤\r\n".encode())
    with pytest.raises(InputError) as caught:
        read_all(path, {})
    assert caught.value.line == 3
    assert "mixes encodings" in str(caught.value)


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_all(empty, {})
    header_only = tmp_path / "h.csv"
    header_only.write_bytes(b"A,B\r\n")
    columns, batches = read_all(header_only, {})
    assert columns == ["A", "B"] and data_rows(batches) == []


def test_options_are_checked() -> None:
    adapter = get_adapter("csv")
    with pytest.raises(UnknownNameError, match="known: cp932"):
        adapter.open(Path("x"), {"encoding": "latin-9"}, batch_bytes=10)
    with pytest.raises(ConfigError, match="unknown option"):
        adapter.open(Path("x"), {"delimter": ","}, batch_bytes=10)
    with pytest.raises(ConfigError, match="one ASCII character"):
        adapter.open(Path("x"), {"delimiter": "、"}, batch_bytes=10)


def test_unknown_adapter_lists_known() -> None:
    with pytest.raises(UnknownNameError, match="known: copybook, csv"):
        get_adapter("cobol-magic")


def test_the_reader_hands_over_its_first_batch(tmp_path: Path) -> None:
    """The batch read ahead with the header is handed over, not kept by the reader until
    the file is done (it can hold a whole batch of raw bytes)."""
    import gc
    import weakref

    path = tmp_path / "j.csv"
    path.write_bytes(("ID,氏名\r\n" + "".join(f"{i},山田{i}\r\n" for i in range(2000))).encode("cp932"))
    reader = get_adapter("csv").open(path, {}, batch_bytes=4096)
    batches = reader.batches()
    first = next(batches)
    gone = weakref.ref(first)
    del first
    second = next(batches)
    gc.collect()
    assert gone() is None
    assert second.data.height > 0
    assert sum(1 for _ in batches) > 0
