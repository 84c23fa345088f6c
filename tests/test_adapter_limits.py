"""Regressions found by a red team against the legacy readers: records longer than the
copybook lose no bytes, copybook sizes cannot exhaust memory, bad numbers are one-line
configuration errors, and a wide layout over many short records is decoded in parts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from mig_adapters.copybook import CopybookAdapter, CopybookReader, parse_copybook
from mig_adapters.copybook.framing import MAX_TEXT_RECORD, read_blocks
from mig_adapters.copybook.parser import MAX_FIELDS, MAX_RECORD_BYTES, CopybookSyntaxError

from mig.codecs import get_codec
from mig.errors import ConfigError, ExitCode, InputError
from mig.plugin import SourceBatch, empty_rejects
from mig.validation.findings import finding_type, message

JEF = get_codec("jef-ebcdik")

BOOK = """\
       01  REC.
           05  ID          PIC 9(3).
           05  NAME        PIC X(5).
"""



# The required items of juki-setai a test mapping does not read from the file: a mapping
# leaving one unmapped is refused before any row is read.
SETAI_REQUIRED_CONSTS = (
    '"団体コード" = { const = "131016" }\n"世帯主氏名" = { const = "山田　太郎" }\n"住所" = { const = "東京都" }\n'
    '"世帯となった年月日" = { const = "20200401" }\n"異動事由" = { const = "01" }\n'
)

def text(value: str) -> bytes:
    return bytes(JEF.encode_sbcs([value], len(value))[0])


def rdw(payload: bytes) -> bytes:
    return (len(payload) + 4).to_bytes(2, "big") + b"\0\0" + payload


def bdw(records: list[bytes]) -> bytes:
    body = b"".join(rdw(r) for r in records)
    return (len(body) + 4).to_bytes(2, "big") + b"\0\0" + body


def frame(records: list[bytes], framing: str) -> bytes:
    if framing == "rdw":
        return b"".join(rdw(r) for r in records)
    if framing == "bdw-rdw":
        return bdw(records)
    return b"".join(r + b"\x15" for r in records)  # text, EBCDIC NL


def open_reader(tmp: Path, data: bytes, book: str = BOOK, batch_bytes: int = 1 << 20, **options: Any) -> CopybookReader:
    (tmp / "REC.cpy").write_text(book, encoding="utf-8")
    (tmp / "REC.DAT").write_bytes(data)
    opts = {"copybook": str(tmp / "REC.cpy"), "charset": "jef-ebcdik", **options}
    return CopybookAdapter().open(tmp / "REC.DAT", opts, batch_bytes=batch_bytes)


def read(reader: CopybookReader) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    batches: list[SourceBatch] = list(reader.batches())
    data = pl.concat([b.data for b in batches]) if batches else pl.DataFrame()
    records = pl.concat([b.records for b in batches]) if batches else pl.DataFrame()
    rejects = pl.concat([empty_rejects()] + [b.rejects for b in batches])
    return data, records, rejects


# -- records longer than the copybook ----------------------------------------------------------


@pytest.mark.parametrize("framing", ["rdw", "bdw-rdw", "text"])
def test_a_record_longer_than_its_layout_is_rejected_with_all_its_bytes(tmp_path: Path, framing: str) -> None:
    good = text("001ALICE")
    long = text("002BOB  ") + text("X" * 500)  # 500 bytes the copybook does not describe
    data = frame([good, long, good], framing)
    frame_, records, rejects = read(open_reader(tmp_path, data, framing=framing))
    assert frame_.get_column("ID").to_list() == ["001", "001"]
    assert rejects.select("row", "type", "detail").rows() == [(2, "record-long", "REC")]
    raw = rejects.get_column("raw")[0]
    assert long in raw and len(raw) >= len(long)
    assert frame_.height + rejects.height == 3  # conservation
    # every byte of the file is in some record's raw bytes (BDW aside)
    total = sum(len(r) for r in records.get_column("raw").to_list()) + sum(len(r) for r in rejects.get_column("raw").to_list())
    assert total == len(data) - (4 if framing == "bdw-rdw" else 0)


@pytest.mark.parametrize("framing", ["rdw", "text"])
def test_long_records_trailing_accepts_them_and_counts_the_bytes(tmp_path: Path, framing: str) -> None:
    data = frame([text("001ALICE"), text("002BOB  ") + text("X" * 500), text("003CAROL") + text("YZ")], framing)
    reader = open_reader(tmp_path, data, framing=framing, long_records="trailing")
    frame_, _, rejects = read(reader)
    assert rejects.height == 0
    assert frame_.get_column("NAME").to_list() == ["ALICE", "BOB  ", "CAROL"]
    assert reader.stats["trailing_bytes"] == {"records": 2, "bytes": 502}


def test_fixed_slots_keep_their_slack_and_other_framings_their_stats_unchanged(tmp_path: Path) -> None:
    data = (text("001ALICE") + text("pad ")) * 2  # lrecl 12 > layout 8: the slack is the slot's
    reader = open_reader(tmp_path, data, lrecl=12)
    frame_, _, rejects = read(reader)
    assert frame_.height == 2 and rejects.height == 0
    assert "trailing_bytes" not in reader.stats
    with pytest.raises(ConfigError, match="long_records must be reject or trailing"):
        open_reader(tmp_path, data, framing="rdw", long_records="cut")


def test_record_long_message_holds_no_value() -> None:
    assert finding_type("record-long").severity == "error"  # declared by the copybook adapter
    assert message("record-long", "", "REC") == (
        "record is longer than its layout REC describes; the bytes past it would be lost")


def test_an_odo_record_is_long_only_past_its_own_count(tmp_path: Path) -> None:
    book = """\
       01  R.
           05  CNT         PIC 9.
           05  ITEM        PIC X(2) OCCURS 0 TO 3 DEPENDING ON CNT.
"""
    fits = text("2AABB")
    long = text("1AABB")  # count 1: BB lies past the record's layout
    _, _, rejects = read(open_reader(tmp_path, frame([fits, long], "rdw"), book, framing="rdw"))
    assert rejects.select("row", "type").rows() == [(2, "record-long")]


# -- the text-record limit ---------------------------------------------------------------------


def test_text_record_over_the_limit_stops_at_any_batch_size() -> None:
    data = b"short\n" + b"x" * (MAX_TEXT_RECORD + 10) + b"\nend\n"
    for batch in (1 << 16, 32 << 20):  # smaller and larger than the record
        with pytest.raises(InputError, match="wrong newline option") as info:
            list(read_blocks(io.BytesIO(data), Path("x.dat"), "text", batch_bytes=batch, newline=b"\n"))
        assert info.value.offset == 6  # the long record's start
    small = b"ab\n" * 3 + b"c" * 20
    with pytest.raises(InputError) as info:
        list(read_blocks(io.BytesIO(small), Path("x.dat"), "text", batch_bytes=1 << 20, max_text_record=10))
    assert info.value.offset == 9


# -- copybook sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "column"),
    [
        ("05  A  PIC X(2000000000).", 23),  # the PICTURE string
        ("05  A  PIC 9(99999999999999).", 23),
        ("05  A  PIC X(" + "9" * 40 + ").", 23),
        ("05  A  PIC X OCCURS 0 TO 99999999 DEPENDING ON N.", 16),  # the item
        ("05  A  PIC X OCCURS 99999999999999999999.", 32),  # the count
        ("05  A  PIC X(1048576).", 16),
    ],
)
def test_copybook_sizes_past_the_limit_are_config_errors(item: str, column: int) -> None:
    book = f"       01  R.\n           05  N  PIC 9.\n           {item}\n"
    with pytest.raises(CopybookSyntaxError) as info:
        parse_copybook(book, source="BIG.cpy")
    assert str(info.value).startswith(f"BIG.cpy:3:{column}: ")
    assert info.value.exit_code == ExitCode.USAGE


def test_a_record_at_the_limit_parses_and_nested_occurs_count_columns() -> None:
    book = f"       01  R.\n           05  A  PIC X({MAX_RECORD_BYTES}).\n"
    assert parse_copybook(book).records[0].size == MAX_RECORD_BYTES
    nested = ("       01  R.\n           05  G  OCCURS 200.\n             10  H  OCCURS 100.\n"
              "               15  A  PIC X.\n")
    with pytest.raises(CopybookSyntaxError, match=f"more than {MAX_FIELDS} elementary items") as info:
        parse_copybook(nested, source="N.cpy")
    assert str(info.value).startswith("N.cpy:4:")


@pytest.mark.parametrize("level", ["²1", "1" * 50])
def test_odd_digits_in_level_numbers_and_counts_are_syntax_errors(level: str) -> None:
    with pytest.raises(CopybookSyntaxError, match="expected a level number"):
        parse_copybook(f"{level} R.\n  05 A PIC X.\n", format="free")
    with pytest.raises(CopybookSyntaxError, match="number of occurrences"):
        parse_copybook("01 R.\n  05 A PIC X OCCURS ²3.\n", format="free")


@pytest.mark.parametrize(("lrecl", "match"), [(MAX_RECORD_BYTES + 1, "over the limit"), ("eight", "positive")])
def test_lrecl_is_bounded_and_numeric(tmp_path: Path, lrecl: Any, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        open_reader(tmp_path, b"", lrecl=lrecl)


def test_mig_extract_with_a_huge_picture_exits_2_naming_file_line_column(tmp_path: Path) -> None:
    from mig.cli import main

    (tmp_path / "REC.cpy").write_text("       01  R.\n           05  A  PIC X(2000000000).\n", encoding="utf-8")
    (tmp_path / "REC.DAT").write_bytes(b"\x40" * 10)
    (tmp_path / "m.toml").write_text(
        'adapter = "copybook"\n[source]\ncopybook = "REC.cpy"\ncharset = "jef-ebcdik"\n'
        '[[files]]\nlayout = "juki-setai"\n[files.items]\n"世帯番号" = { column = "A" }\n' + SETAI_REQUIRED_CONSTS,
        encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", "-m", str(tmp_path / "m.toml"), "-o", str(tmp_path / "run"),
                                       str(tmp_path / "REC.DAT"), "-q"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "REC.cpy:2:23:" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


# -- a wide layout over many short records ------------------------------------------------------


def test_blocks_of_many_records_come_in_parts_that_keep_numbering() -> None:
    data = b"".join(rdw(bytes([k])) for k in range(250)) + b"\x00\x09\x00\x00ab"  # last one truncated
    parts = list(read_blocks(io.BytesIO(data), Path("x.dat"), "rdw", batch_bytes=1 << 20, max_records=100))
    assert [p.frames.count for p in parts] == [100, 100, 50]
    assert [p.first_record for p in parts] == [0, 100, 200]
    assert [p.frames.truncated is not None for p in parts] == [False, False, True]
    payloads = [p.data[s:e] for p in parts for s, e in zip(p.frames.data_starts, p.frames.data_ends, strict=True)]
    assert payloads == [bytes([k]) for k in range(250)]


def test_a_wide_layout_over_short_records_is_decoded_in_parts(tmp_path: Path) -> None:
    book = "       01  R.\n           05  K  PIC X.\n           05  W  PIC X(200000).\n"
    data = b"".join(rdw(text(chr(65 + k % 26))) for k in range(700))
    reader = open_reader(tmp_path, data, book, framing="rdw", short_records="pad")
    assert reader._max_records() < 700  # the file needs at least three parts
    frame_, records, rejects = read(reader)
    assert rejects.height == 0 and frame_.height == 700
    assert frame_.get_column("row").to_list() == list(range(1, 701))
    assert records.get_column("line").to_list() == list(range(1, 701))
    assert frame_.get_column("K").to_list() == [chr(65 + k % 26) for k in range(700)]

