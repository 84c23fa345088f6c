"""The copybook adapter on real files: numbers, text, OCCURS DEPENDING ON, REDEFINES, record
types, framing errors, conservation at any batch size, and the preview."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mig_adapters.copybook import CopybookAdapter, CopybookReader, parse_copybook
from mig_adapters.copybook.sample import write_sample

from mig.codecs import get_codec, pack_binary, pack_packed, pack_zoned
from mig.errors import ConfigError, InputError, UnknownNameError
from mig.plugin import SourceBatch, empty_rejects

JEF = get_codec("jef-ebcdik")


def open_reader(tmp: Path, copybook: str, data: bytes, batch_bytes: int = 1 << 20, **options: Any) -> CopybookReader:
    (tmp / "REC.cpy").write_text(copybook, encoding="utf-8")
    (tmp / "REC.DAT").write_bytes(data)
    opts = {"copybook": str(tmp / "REC.cpy"), "charset": "jef-ebcdik", **options}
    return CopybookAdapter().open(tmp / "REC.DAT", opts, batch_bytes=batch_bytes)


def read(reader: CopybookReader) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    batches: list[SourceBatch] = list(reader.batches())
    data = pl.concat([b.data for b in batches]) if batches else pl.DataFrame()
    records = pl.concat([b.records for b in batches]) if batches else pl.DataFrame()
    rejects = pl.concat([empty_rejects()] + [b.rejects for b in batches])
    return data, records, rejects


def plain(text: str) -> str:
    """Text without variation selectors (IVS U+E0100–E01EF, VS U+FE00–FE0F)."""
    return re.sub("[\U000E0100-\U000E01EF\uFE00-\uFE0F]", "", text)


def rdw(payload: bytes) -> bytes:
    return (len(payload) + 4).to_bytes(2, "big") + b"\0\0" + payload


# -- numbers --------------------------------------------------------------------------------------

NUMBERS = """\
       01  NUM.
           05  U5          PIC 9(5).
           05  ZT          PIC S9(5)V99.
           05  ZL          PIC S9(3) SIGN LEADING.
           05  ZTS         PIC S9(3) SIGN TRAILING SEPARATE.
           05  ZLS         PIC S9(3)V9 SIGN LEADING SEPARATE.
           05  PK          PIC S9(7)V99 COMP-3.
           05  PU          PIC 9(8) COMP-3.
           05  B2          PIC S9(4) COMP.
           05  B4U         PIC 9(9) COMP-4.
           05  B8          PIC S9(18) BINARY.
           05  C5          PIC S9(4) COMP-5.
           05  SP          PIC 9(3)PP.
           05  SL          PIC PP99.
           05  BIG         PIC S9(25)V9(4) COMP-3.
"""


def number_row(values: dict[str, Any], little: bool = False) -> bytes:
    parts = [
        pack_zoned(np.array([values["U5"]]), 5, 0, sign="unsigned"),
        pack_zoned(np.array([values["ZT"]]), 7, 2, sign="trailing-overpunch"),
        pack_zoned(np.array([values["ZL"]]), 3, 0, sign="leading-overpunch"),
        pack_zoned(np.array([values["ZTS"]]), 4, 0, sign="trailing-separate"),
        pack_zoned(np.array([values["ZLS"]]), 5, 1, sign="leading-separate"),
        pack_packed(np.array([values["PK"]]), 5, 2),
        pack_packed(np.array([values["PU"]]), 5, 0, signed=False),
        pack_binary(np.array([values["B2"]]), 2, 0, signed=True),
        pack_binary(np.array([values["B4U"]]), 4, 0, signed=False),
        pack_binary(np.array([values["B8"]]), 8, 0, signed=True),
        pack_binary(np.array([values["C5"]]), 2, 0, signed=True, native=little),
        pack_zoned(np.array([values["SP"]]), 3, 0, sign="unsigned"),
        pack_zoned(np.array([values["SL"]]), 2, 0, sign="unsigned"),
        pack_packed([values["BIG"]], 15, 4),
    ]
    return bytes(np.hstack(parts).ravel())


def test_numbers_become_exact_text(tmp_path: Path) -> None:
    from decimal import Decimal

    rows = [
        dict(U5=42, ZT=-12345, ZL=-7, ZTS=12, ZLS=-5, PK=-123456789, PU=20240131, B2=-2, B4U=4000000000 // 10,
             B8=-(10**17), C5=-300, SP=123, SL=5, BIG=Decimal("-1234567890123456789012345.6789")),
        dict(U5=0, ZT=1, ZL=0, ZTS=-999, ZLS=9999, PK=0, PU=0, B2=9999, B4U=0, B8=123, C5=7, SP=0, SL=99,
             BIG=Decimal("0.0001")),
    ]
    data = b"".join(number_row(r, little=True) for r in rows)
    reader = open_reader(tmp_path, NUMBERS, data, comp5="little")
    frame, _, rejects = read(reader)
    assert rejects.height == 0
    assert frame.drop("row").rows() == [
        ("00042", "-123.45", "-7", "12", "-0.5", "-1234567.89", "20240131", "-2", "400000000",
         "-100000000000000000", "-300", "12300", "0.0005", "-1234567890123456789012345.6789"),
        ("00000", "0.01", "0", "-999", "999.9", "0.00", "00000000", "9999", "000000000", "123", "7", "0",
         "0.0099", "0.0001"),
    ]


def test_blank_numbers_are_null_or_rejected(tmp_path: Path) -> None:
    book = "       01  R.\n           05  A PIC 9(3).\n           05  B PIC S9(3) COMP-3.\n           05  C PIC X.\n"
    data = b"\x40\x40\x40" + b"\x00\x00" + b"\xc1" + b"\xf1\xf2\xf3" + b"\x12\x3c" + b"\xc2"
    frame, _, rejects = read(open_reader(tmp_path, book, data, lrecl=6))
    assert frame.drop("row").rows() == [(None, None, "A"), ("123", "123", "B")]
    frame, _, rejects = read(open_reader(tmp_path, book, data, lrecl=6, blank_numbers="reject"))
    assert frame.height == 1 and rejects.get_column("type").to_list() == ["zoned-invalid"]
    assert rejects.get_column("detail").to_list() == ["A"]


@pytest.mark.parametrize(
    ("field", "bad", "finding"),
    [
        ("PK", b"\x12\x3a\x45\x67\x8c", "packed-invalid"),  # digit nibble A
        ("PK", b"\x12\x34\x56\x78\x97", "packed-invalid"),  # sign nibble 7
        ("ZT", b"\xf1\xf2\xf3\xf4\xf5\xf6\x06", "zoned-invalid"),  # zone 0
        ("ZT", b"\xf1\xf2\xc3\xf4\xf5\xf6\xf7", "zoned-invalid"),  # sign zone in the middle
    ],
)
def test_invalid_numbers_reject_the_record_with_its_bytes(tmp_path: Path, field: str, bad: bytes, finding: str) -> None:
    good = dict(U5=1, ZT=1, ZL=1, ZTS=1, ZLS=1, PK=1, PU=1, B2=1, B4U=1, B8=1, C5=1, SP=1, SL=1, BIG=1)
    row = bytearray(number_row(good))
    offset = parse_copybook(NUMBERS).records[0].field(field).offset
    row[offset: offset + len(bad)] = bad
    data = number_row(good) + bytes(row) + number_row(good)
    frame, records, rejects = read(open_reader(tmp_path, NUMBERS, data))
    assert frame.get_column("row").to_list() == [1, 3]
    assert rejects.select("row", "line", "offset", "type", "detail").rows() == [(2, 2, len(row), finding, field)]
    assert rejects.get_column("raw").to_list() == [bytes(row)]
    assert records.get_column("raw").to_list() == [number_row(good)] * 2


# -- text -----------------------------------------------------------------------------------------

TEXT = """\
       01  T.
           05  KBN         PIC X.
           05  NAME        PIC N(4).
           05  KANA        PIC X(6).
           05  ADDR        PIC X(12).
"""


def text_records(names: list[str], kana: list[str], addr: list[str]) -> bytes:
    parts = [JEF.encode_sbcs(["A"] * len(names), 1), JEF.encode_dbcs(names, 8), JEF.encode_sbcs(kana, 6),
             JEF.encode_mixed(addr, 12)]
    return np.hstack(parts).tobytes()


def test_dbcs_mixed_and_gaiji(tmp_path: Path) -> None:
    data = text_records(["\ue000田", "山口", "\ue001\ue000"], ["ﾔﾏﾀﾞ", "ﾔﾏｸﾞﾁ", "ｱ"], ["東京都1-2", "ABC", "ｱ山"])
    reader = open_reader(tmp_path, TEXT, data)
    frame, _, rejects = read(reader)
    assert rejects.height == 0
    names = [plain(n) for n in frame.get_column("NAME").to_list()]
    assert names[0].startswith("\ue000田") and names[2].startswith("\ue001\ue000")
    assert frame.get_column("KANA").to_list() == ["ﾔﾏﾀﾞ  ", "ﾔﾏｸﾞﾁ ", "ｱ     "]  # ｸﾞ is two bytes
    # (the JEF table maps some kanji to a base character + IVS selector: compare the base text)
    assert [plain(a).rstrip() for a in frame.get_column("ADDR").to_list()] == ["東京都1-2", "ABC", "ｱ山"]
    assert reader.stats["gaiji"] == {"NAME": 3}
    assert reader.stats["gaiji_source"] == "jef" and reader.stats["charset"] == "jef-ebcdik"


@pytest.mark.parametrize(
    ("addr", "finding"),
    [
        (b"\x28\xb0\xa1\xb0\xa2\x29\x40\x40\x40\x40\x40\x40", None),
        (b"\xc1\x28\xb0\xa1\xb0\xa2\xa1\xa1\xa1\xa1\xa1\xa1", "shift-unbalanced"),  # never shifts back
        (b"\x28\xb0\xa1\xb0\x29\x40\x40\x40\x40\x40\x40\x40", "odd-dbcs-length"),
        (b"\x28\x41\x41\x29\x40\x40\x40\x40\x40\x40\x40\x40", "unmapped-dbcs"),
    ],
)
def test_mixed_field_errors(tmp_path: Path, addr: bytes, finding: str | None) -> None:
    good = text_records(["山田"], ["ﾔﾏﾀﾞ"], ["東京"])
    bad = good[:-12] + addr
    frame, _, rejects = read(open_reader(tmp_path, TEXT, good + bad))
    if finding is None:
        assert rejects.height == 0 and frame.height == 2
    else:
        assert rejects.select("row", "type", "detail").rows() == [(2, finding, "ADDR")]
        assert rejects.get_column("raw").to_list() == [bad]


def test_sbcs_option_reads_shift_bytes_as_characters(tmp_path: Path) -> None:
    book = "       01  R.\n           05  A PIC X(3).\n"
    frame, _, rejects = read(open_reader(tmp_path, book, b"\xc1\xc2\xc3", alphanumeric="sbcs"))
    assert frame.get_column("A").to_list() == ["ABC"] and rejects.height == 0


def test_national_is_utf16(tmp_path: Path) -> None:
    book = "       01  R.\n           05  A PIC N(3) USAGE NATIONAL.\n           05  B PIC X.\n"
    data = "髙\U00020bb7".encode("utf-16-be") + b"\xc1" + "\udc00ab".encode("utf-16-be", "surrogatepass") + b"\xc2"
    frame, _, rejects = read(open_reader(tmp_path, book, data))
    assert frame.get_column("A").to_list() == ["髙\U00020bb7"]
    assert rejects.select("row", "detail").rows() == [(2, "A")]


# -- OCCURS DEPENDING ON and REDEFINES ------------------------------------------------------------

ODO = """\
       01  R.
           05  ID          PIC 9(3).
           05  CNT         PIC S9(4) COMP.
           05  ITEM        OCCURS 1 TO 3 TIMES DEPENDING ON CNT.
               10  AMT     PIC S9(3) COMP-3.
               10  CODE    PIC X(2).
           05  TAIL        PIC X(3).
"""


def odo_record(ident: int, amounts: list[int], tail: str = "END", count: int | None = None) -> bytes:
    parts = [pack_zoned(np.array([ident]), 3, 0, sign="unsigned").tobytes(),
             pack_binary(np.array([len(amounts) if count is None else count]), 2, 0, signed=True).tobytes()]
    for a in amounts:
        parts.append(pack_packed(np.array([a]), 2, 0).tobytes() + JEF.encode_sbcs([f"C{abs(a) % 10}"], 2).tobytes())
    parts.append(JEF.encode_sbcs([tail], 3).tobytes())
    return b"".join(parts)


def test_odo_variable_records_with_items_after_the_table(tmp_path: Path) -> None:
    records = [odo_record(1, [5]), odo_record(2, [-1, 2, 3], "XYZ"), odo_record(3, [7, 8])]
    frame, raws, rejects = read(open_reader(tmp_path, ODO, b"".join(rdw(r) for r in records), framing="rdw"))
    assert rejects.height == 0
    assert frame.select("ID", "CNT", "AMT(1)", "AMT(2)", "AMT(3)", "CODE(3)", "TAIL").rows() == [
        ("001", "1", "5", None, None, None, "END"),
        ("002", "3", "-1", "2", "3", "C3", "XYZ"),
        ("003", "2", "7", "8", None, None, "END"),
    ]
    assert raws.get_column("raw").to_list() == [rdw(r) for r in records]


def test_odo_in_fixed_records_and_count_errors(tmp_path: Path) -> None:
    good = odo_record(1, [5, 6])
    over = odo_record(2, [1, 2, 3], count=4)  # count above the maximum
    under = odo_record(3, [], count=0)  # count below the minimum (1)
    lrecl = 25
    data = b"".join(r.ljust(lrecl, b"\x40") for r in (good, over, under))
    frame, _, rejects = read(open_reader(tmp_path, ODO, data, lrecl=lrecl))
    assert frame.select("ID", "AMT(2)", "TAIL").rows() == [("001", "6", "END")]
    assert rejects.select("row", "type", "detail").rows() == [
        (2, "odo-count-exceeded", "ITEM (1 to 3)"), (3, "odo-count-exceeded", "ITEM (1 to 3)"),
    ]


def test_short_variable_record_is_rejected_or_padded(tmp_path: Path) -> None:
    short = odo_record(1, [5, 6])[:-2]  # TAIL cut to one byte
    frame, _, rejects = read(open_reader(tmp_path, ODO, rdw(short), framing="rdw"))
    assert frame.height == 0 and rejects.select("type", "detail").rows() == [("record-short", "R")]
    frame, _, rejects = read(open_reader(tmp_path, ODO, rdw(short), framing="rdw", short_records="pad"))
    assert rejects.height == 0 and frame.get_column("TAIL").to_list() == ["E  "]


REDEFINES = """\
       01  R.
           05  KIND        PIC X.
           05  BODY        PIC X(4).
           05  BODY-N      REDEFINES BODY PIC S9(7) COMP-3.
"""


def test_redefines_view_that_does_not_decode_is_null_unless_read(tmp_path: Path) -> None:
    data = b"\xc1" + JEF.encode_sbcs(["ABCD"], 4).tobytes() + b"\xc2" + pack_packed(np.array([-42]), 4, 0).tobytes()
    reader = open_reader(tmp_path, REDEFINES, data)
    frame, _, rejects = read(reader)
    assert rejects.height == 0
    assert frame.select("BODY-N").to_series().to_list() == [None, "-42"]
    assert reader.stats["values_nulled"] == {"BODY-N": 1}
    # When the mapping reads BODY-N, a record where it does not decode is rejected.
    frame, _, rejects = read(open_reader(tmp_path, REDEFINES, data, _columns=["KIND", "BODY-N"]))
    assert frame.columns == ["row", "KIND", "BODY-N"]
    assert rejects.select("row", "type", "detail").rows() == [(1, "packed-invalid", "BODY-N")]


# -- record types ---------------------------------------------------------------------------------

TYPES = """\
       01  HEAD-REC.
           05  KBN         PIC X.
           05  H-NAME      PIC X(5).
       01  BODY-REC.
           05  KBN         PIC X.
           05  B-AMT       PIC S9(5) COMP-3.
           05  FILLER      PIC X(2).
       01  TAIL-REC.
           05  KBN         PIC X.
           05  T-COUNT     PIC 9(5).
"""
TYPE_OPTIONS = {"record_selector": "KBN", "record_types": {"H": "HEAD-REC", "B": "BODY-REC", "T": "TAIL-REC"}}


def typed_file() -> tuple[bytes, list[str]]:
    head = JEF.encode_sbcs(["HNAME1"], 6).tobytes()
    body = [JEF.encode_sbcs(["B"], 1).tobytes() + pack_packed(np.array([k]), 3, 0).tobytes() + b"\x40\x40"
            for k in range(4)]
    tail = JEF.encode_sbcs(["T00004"], 6).tobytes()
    unknown = JEF.encode_sbcs(["Z?????"], 6).tobytes()
    records = [head, body[0], body[1], unknown, body[2], body[3], tail]
    kinds = ["H", "B", "B", "?", "B", "B", "T"]
    return b"".join(records), kinds


def test_records_of_one_type_and_the_rest_rejected_without_siblings(tmp_path: Path) -> None:
    data, kinds = typed_file()
    frame, records, rejects = read(open_reader(tmp_path, TYPES, data, lrecl=6, record="BODY-REC", **TYPE_OPTIONS))
    assert frame.get_column("B-AMT").to_list() == ["0", "1", "2", "3"]
    assert records.get_column("line").to_list() == [2, 3, 5, 6]
    assert rejects.select("line", "type", "detail").rows() == [
        (1, "record-type-unread", "HEAD-REC"), (4, "record-type-unknown", "KBN"), (7, "record-type-unread", "TAIL-REC"),
    ]
    rows = sorted(frame.get_column("row").to_list() + rejects.get_column("row").to_list())
    assert rows == list(range(1, len(kinds) + 1))


def test_siblings_share_the_file_and_exactly_one_takes_the_unread(tmp_path: Path) -> None:
    data, kinds = typed_file()
    totals = 0
    unknown_seen = 0
    for record, siblings in (("HEAD-REC", ["BODY-REC"]), ("BODY-REC", ["HEAD-REC"])):
        reader = open_reader(tmp_path, TYPES, data, lrecl=6, record=record,
                             _siblings=[{"record": s} for s in siblings], **TYPE_OPTIONS)
        frame, _, rejects = read(reader)
        totals += frame.height + rejects.height
        unknown_seen += rejects.height
        assert reader.stats["records_in_file"] == len(kinds)
        if record == "HEAD-REC":
            assert frame.height == 1 and rejects.height == 0
            assert reader.stats["records_left_to_siblings"] == {"BODY-REC": 4}
        else:  # BODY-REC sorts first: it takes the unknown and the unread TAIL-REC records
            assert frame.height == 4
            assert rejects.select("line", "type").rows() == [(4, "record-type-unknown"), (7, "record-type-unread")]
    assert totals == len(kinds) and unknown_seen == 2


def test_single_record_copybook_needs_no_selector(tmp_path: Path) -> None:
    frame, _, _ = read(open_reader(tmp_path, "       01  R.\n           05  A PIC X(2).\n", b"\xc1\xc2\xc3\xc4"))
    assert frame.get_column("A").to_list() == ["AB", "CD"]


# -- options and input errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"wibble": 1}, ConfigError, "unknown option"),
        ({"charset": "latin-1"}, UnknownNameError, "jef-ebcdik"),
        ({"framing": "spanned"}, UnknownNameError, "bdw-rdw"),
        ({"record": "NOPE"}, UnknownNameError, "BODY-REC"),
        ({"record_selector": "KBN"}, ConfigError, "needs \\[source.record_types\\]"),
        ({"record_types": {"H": "HEAD-REC"}}, ConfigError, "needs record_selector"),
        ({"record_selector": "NOPE", "record_types": {"H": "HEAD-REC"}}, UnknownNameError, "record_selector"),
        ({"record_types": {"H": "NOPE"}, "record_selector": "KBN"}, UnknownNameError, "record"),
        ({"record": "TAIL-REC", "record_selector": "KBN", "record_types": {"H": "HEAD-REC"}}, ConfigError,
         "not a value of"),
        ({"lrecl": 3}, ConfigError, "shorter than"),
        ({"lrecl": 0}, ConfigError, "positive"),
        ({"newline": "zz"}, ConfigError, "newline"),
        ({"alphanumeric": "dbcs"}, ConfigError, "mixed or sbcs"),
        ({"short_records": "ignore"}, ConfigError, "reject or pad"),
        ({"comp5": "middle"}, ConfigError, "big or little"),
        ({"blank_numbers": "zero"}, ConfigError, "null or reject"),
    ],
)
def test_bad_options(tmp_path: Path, options: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        open_reader(tmp_path, TYPES, b"", **options)


def test_copybook_path_and_charset_are_required_and_resolved(tmp_path: Path) -> None:
    (tmp_path / "R.cpy").write_text("       01  R.\n           05  A PIC X.\n", encoding="utf-8")
    (tmp_path / "R.DAT").write_bytes(b"\xc1")
    adapter = CopybookAdapter()
    with pytest.raises(ConfigError, match="give the copybook"):
        adapter.open(tmp_path / "R.DAT", {"charset": "jef-ebcdik"}, batch_bytes=100)
    with pytest.raises(ConfigError, match="give charset"):
        adapter.open(tmp_path / "R.DAT", {"copybook": str(tmp_path / "R.cpy")}, batch_bytes=100)
    reader = adapter.open(tmp_path / "R.DAT", {"copybook": "R.cpy", "encoding": "jef-ebcdik",
                                                 "charset": "nonsense", "_mapping_dir": str(tmp_path)}, batch_bytes=100)
    assert reader.encoding == "jef-ebcdik"  # --encoding (option "encoding") wins over charset
    with pytest.raises(ConfigError, match=re.escape(str(Path.cwd() / "R.cpy"))):  # without a mapping dir: the CWD
        adapter.open(tmp_path / "R.DAT", {"copybook": "R.cpy", "charset": "jef-ebcdik"}, batch_bytes=100)
    with pytest.raises(InputError, match="no such file"):
        adapter.open(tmp_path / "MISSING.DAT", {"copybook": str(tmp_path / "R.cpy"), "charset": "jef-ebcdik"},
                     batch_bytes=100)


def test_several_records_without_record_option_is_a_config_error(tmp_path: Path) -> None:
    reader = open_reader(tmp_path, TYPES, b"")
    with pytest.raises(ConfigError, match="say which one"):
        list(reader.batches())


def test_bad_rdw_stops_with_the_offset(tmp_path: Path) -> None:
    data = rdw(b"\xc1\xc2") + b"\x00\x00\x00\x00\xc1\xc2"
    reader = open_reader(tmp_path, "       01  R.\n           05  A PIC X(2).\n", data, framing="rdw")
    with pytest.raises(InputError, match="RDW length 0") as caught:
        list(reader.batches())
    assert caught.value.offset == 6


def test_text_framing_with_an_ascii_based_charset(tmp_path: Path) -> None:
    jis8 = get_codec("jips-j-jis8")
    book = "       01  R.\n           05  N PIC S9(3).\n           05  A PIC X(8).\n"
    lines = [pack_zoned(np.array([v]), 3, 0, sign="trailing-overpunch", charset="jips-j-jis8").tobytes()
             + jis8.encode_mixed([t], 8).tobytes() for v, t in ((12, "ｱ山"), (-3, "AB"))]
    data = b"\r\n".join(lines) + b"\r\n" + lines[0][:5]  # the last line is short (no newline)
    frame, records, rejects = read(open_reader(tmp_path, book, data, charset="jips-j-jis8", framing="text"))
    assert frame.select("N", "A").rows() == [("12", "ｱ山 "), ("-3", "AB      ")]  # ｱ + 1A70 山 1A71 + pad
    assert [r.rstrip() for r in frame.get_column("A").to_list()] == ["ｱ山", "AB"]
    assert rejects.select("line", "type").rows() == [(3, "record-short")]
    assert records.get_column("raw").to_list()[0] == lines[0] + b"\r\n"


# -- conservation, at any batch size -----------------------------------------------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    framing=st.sampled_from(["fixed", "rdw", "bdw-rdw"]),
    batch_bytes=st.integers(300, 6000),  # (tiny batches: tests/test_framing.py, test_mainframe_extract.py)
    seed=st.integers(0, 3),
)
def test_sample_is_conserved_and_batch_size_does_not_matter(tmp_path: Path, framing: str, batch_bytes: int, seed: int) -> None:
    out = tmp_path / f"{framing}-{seed}"
    sample = write_sample(out, setai=10, seed=seed, framing=framing)
    base = {"copybook": str(sample.copybook), "charset": "jef-ebcdik", "framing": framing,
            "record_selector": "REC-KBN", "record_types": {"1": "SETAI-REC", "2": "JUMIN-REC"}}
    if framing == "fixed":
        base["lrecl"] = 300
    results = {}
    for record, sibling in (("SETAI-REC", "JUMIN-REC"), ("JUMIN-REC", "SETAI-REC")):
        outputs = []
        for size in (batch_bytes, 1 << 20):
            reader = CopybookAdapter().open(sample.data, {**base, "record": record, "_siblings": [{"record": sibling}]},
                                            batch_bytes=size)
            frame, records, rejects = read(reader)
            outputs.append((frame, records, rejects))
        (frame, records, rejects), (frame2, records2, rejects2) = outputs
        assert frame.equals(frame2) and records.equals(records2) and rejects.equals(rejects2)
        rows = sorted(frame.get_column("row").to_list() + rejects.get_column("row").to_list())
        assert rows == list(range(1, len(rows) + 1))
        whole = sample.data.read_bytes()
        for table in (records, rejects):  # raw bytes are the file's bytes at the offset
            for offset, raw in table.select("offset", "raw").iter_rows():
                assert whole[offset: offset + len(raw)] == raw
        results[record] = (frame.height, rejects)
    lines = sorted(results["SETAI-REC"][1].get_column("line").to_list() + results["JUMIN-REC"][1].get_column("line").to_list())
    assert sum(n + r.height for n, r in results.values()) == sample.records
    assert lines == sorted(sample.broken.values())
    found = dict(zip(pl.concat([r for _, r in results.values()]).get_column("line").to_list(),
                     pl.concat([r for _, r in results.values()]).get_column("type").to_list(), strict=True))
    from mig_adapters.copybook.sample import BROKEN

    assert {kind: found[line] for kind, line in sample.broken.items()} == BROKEN


# -- preview ------------------------------------------------------------------------------------------


def test_preview_shows_each_field_with_its_offset(tmp_path: Path) -> None:
    records = [odo_record(1, [5]), odo_record(2, [-1, 2, 3], "XYZ")]
    reader = open_reader(tmp_path, ODO, b"".join(rdw(r) for r in records), framing="rdw")
    shown = reader.preview(5)
    assert [(r["record"], r["offset"], r["length"]) for r in shown] == [(1, 0, 4 + len(records[0])), (2, 4 + len(records[0]), 4 + len(records[1]))]
    tail = [f for f in shown[0]["fields"] if f["name"] == "TAIL"][0]
    assert (tail["offset"], tail["size"], tail["value"], tail["hex"]) == (9, 3, "END", "c5d5c4")
    absent = [f for f in shown[0]["fields"] if f["name"] == "AMT(2)"][0]
    assert absent["present"] is False and absent["value"] is None
    assert [f for f in shown[1]["fields"] if f["name"] == "TAIL"][0]["offset"] == 17  # 3 + 2 + 3 × 4


def registered() -> bool:
    from mig.registry import adapter_names

    return "copybook" in adapter_names()


needs_entry_point = pytest.mark.skipif(
    not registered(), reason="copybook adapter not registered yet (pyproject entry point + reinstall)"
)


def files_hook_present() -> bool:
    from mig.extract.mapping import FileMapping

    return "source" in getattr(FileMapping, "__dataclass_fields__", {})


@needs_entry_point
@pytest.mark.skipif(not files_hook_present(), reason="the sample mapping needs [[files]].source")
def test_preview_command(tmp_path: Path) -> None:
    from mig.cli import main

    sample = write_sample(tmp_path, setai=10, framing="rdw")
    result = CliRunner().invoke(main, ["preview", "--mapping", str(sample.mapping), str(sample.data), "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert "record 1  offset 0" in result.output and "type SETAI-REC" in result.output
    assert "SETAI-YMD" in result.output and "9(8) COMP-3" in result.output
    result = CliRunner().invoke(main, ["preview", "-m", str(sample.mapping), str(sample.data), "-n", "30", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["adapter"] == "copybook" and shown["encoding"] == "jef-ebcdik"
    assert len(shown["records"]) == 30
    rejected = {r["record"]: r["reject"]["type"] for r in shown["records"] if r["reject"]}
    assert {line: kind for line, kind in rejected.items()} == {
        line: kind for kind, line in ((BROKEN_TYPE[k], v) for k, v in sample.broken.items()) if line <= 30
    }


BROKEN_TYPE = {"packed-nibble": "packed-invalid", "zoned-zone": "zoned-invalid", "odo-count": "odo-count-exceeded",
               "shift-open": "shift-unbalanced", "unknown-type": "record-type-unknown", "truncated": "record-truncated"}


@needs_entry_point
def test_registered_as_entry_point() -> None:
    from mig.registry import get_adapter

    assert isinstance(get_adapter("copybook"), CopybookAdapter)


def test_committed_example_is_what_the_script_writes(tmp_path: Path) -> None:
    committed = Path(__file__).parent / "data" / "mainframe"
    write_sample(tmp_path, setai=12, seed=0, framing="fixed")
    for name in ("JUKI.cpy", "JUKI.DAT", "mapping.toml"):
        assert (committed / name).read_bytes() == (tmp_path / name).read_bytes(), (
            f"{name} is stale: python -m mig_adapters.copybook.sample tests/data/mainframe --setai 12"
        )
    reader = CopybookAdapter().open(committed / "JUKI.DAT", {
        "copybook": str(committed / "JUKI.cpy"), "charset": "jef-ebcdik", "lrecl": 300, "record": "JUMIN-REC",
        "record_selector": "REC-KBN", "record_types": {"1": "SETAI-REC", "2": "JUMIN-REC"},
    }, batch_bytes=1 << 16)
    frame, _, rejects = read(reader)
    assert frame.height + rejects.height == reader.stats["records_in_file"] == 41


def test_every_finding_type_the_adapter_reports_is_defined() -> None:
    from mig_adapters.copybook.adapter import FINDING_TYPES_COPYBOOK
    from mig_adapters.copybook.decode import NUMERIC_ERRORS

    from mig.codecs import ERRORS
    from mig.validation.findings import known_finding_types

    FINDING_TYPES = known_finding_types()  # mig's own and the adapters' declared types
    defined = {t.code for t in FINDING_TYPES_COPYBOOK}
    emitted = set(NUMERIC_ERRORS.values()) | set(ERRORS.values()) | {
        "record-truncated", "record-short", "record-type-unknown", "record-type-unread", "odo-count-exceeded",
    }
    assert emitted <= defined
    missing = defined - set(FINDING_TYPES)
    if missing:
        pytest.skip(f"not yet in mig.validation.findings: {', '.join(sorted(missing))}")
    assert all(FINDING_TYPES[t.code].severity == "error" for t in FINDING_TYPES_COPYBOOK)
