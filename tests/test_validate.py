"""Tests for mig.validation.rules: every rule fires on a bad value and stays quiet on a good one."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.charsets import cp932_repertoire
from mig.errors import ConfigError, UnknownNameError
from mig.extract.transforms import zenkaku
from mig.layout import CodeTable, ForeignKey, Item, Layout
from mig.validation.findings import FINDING_SCHEMA, FINDING_TYPES
from mig.validation.keys import check_foreign_keys
from mig.validation.rules import byte_count, char_count, validate_frame

IVS = "\U000e0100"  # VS17
SEIBETSU = CodeTable("性別", {"1": "男", "2": "女", "9": "不明"})


def make_layout(*items: Item, encoding: str = "cp932", fks: tuple[ForeignKey, ...] = ()) -> Layout:
    return Layout(
        id="test",
        business="テスト",
        name="テスト",
        standard="中間標準レイアウト",
        standard_version="2.x",
        provenance="test",
        description="",
        items=items,
        codes={"性別": SEIBETSU},
        byte_encoding=encoding,
        foreign_keys=fks,
    )


def findings(
    item: Item, values: list[str | None], encoding: str = "cp932"
) -> list[tuple[int, str]]:
    """(row, type) of every finding for ``values`` (rows numbered from 1)."""
    layout = make_layout(item, encoding=encoding)
    frame = pl.DataFrame(
        {"row": list(range(1, len(values) + 1)), item.name: values},
        schema={"row": pl.Int64, item.name: pl.String},
    )
    out = validate_frame(frame, layout)
    assert out.schema == pl.Schema(FINDING_SCHEMA)
    return [(row, type_) for row, _, type_, _ in out.rows()]


def types_for(item: Item, value: str | None, encoding: str = "cp932") -> set[str]:
    return {t for _, t in findings(item, [value], encoding)}


NAME = Item(1, "氏名", "全角文字", 5, bytes=10)
KANA = Item(1, "カナ", "半角文字", 6)
MIXED = Item(1, "方書", "混在文字", 4)
DIGITS = Item(1, "番号", "数字", 4)
NUMBER = Item(1, "金額", "数値", 7, scale=2)
INTEGER = Item(1, "人数", "数値", 3)
DATE = Item(1, "生年月日", "日付", 8)
DATE_DAY = Item(1, "生年月日", "日付", 8, unknown="day")
DATE_MONTH = Item(1, "生年月日", "日付", 8, unknown="month")
YEARMONTH = Item(1, "年月", "年月", 6)
CODE = Item(1, "性別", "コード", 1, code_table="性別")
KOJIN = Item(1, "個人番号", "数字", 12, check="個人番号")
JUMIN = Item(1, "住民票コード", "数字", 11, check="住民票コード")
REQUIRED = Item(1, "宛名番号", "数字", 15, required=True)
NAME8 = Item(1, "氏名", "全角文字", 8, bytes=8)
KANA4 = Item(1, "カナ", "混在文字", 10, bytes=4)


@pytest.mark.parametrize(
    ("item", "bad", "good", "rule"),
    [
        (REQUIRED, "", "12", "required-missing"),
        (REQUIRED, None, "12", "required-missing"),
        (NAME, "山田太郎次郎", "山田太郎", "length-exceeded"),
        (NAME, "山田太郎の𠮷", "山田太郎", "not-encodable"),
        (KANA, "ABCDEFG", "ABCDEF", "length-exceeded"),
        (DIGITS, "12a4", "0123", "type-digits"),
        (DIGITS, "１２３", "123", "type-digits"),
        (NUMBER, "123456.7", "12345.67", "type-number"),
        (NUMBER, "1.234", "-1.23", "type-number"),
        (NUMBER, "1,234", "+1234", "type-number"),
        (NUMBER, ".5", "0.5", "type-number"),
        (NUMBER, "12.", "12", "type-number"),
        (INTEGER, "1.0", "-999", "type-number"),
        (INTEGER, "1000", "007", "type-number"),
        (NAME, "山田A", "山田Ａ", "charclass-zenkaku"),
        (NAME, "ﾔﾏﾀﾞ", "ヤマダ", "charclass-zenkaku"),
        (NAME, "山 田", "山\u3000田", "charclass-zenkaku"),
        (KANA, "ﾔﾏﾀﾞ", "YAMADA", "charclass-hankaku"),
        (KANA, "ＡＢ", "AB", "charclass-hankaku"),
        (MIXED, "A\tB", "A B", "charclass-control"),
        (MIXED, "AB\x7f", "ABｱ山", "charclass-control"),
        (KANA, "A\nB", "A B", "charclass-control"),
        (DATE, "20190230", "20200229", "date-invalid"),
        (DATE, "19000229", "20000229", "date-invalid"),
        (DATE, "20191301", "20191231", "date-invalid"),
        (DATE, "2019043", "20190430", "date-invalid"),
        (DATE, "2019-4-3", "20190403", "date-invalid"),
        (DATE, "00000101", "00010101", "date-invalid"),
        (DATE, "20190431", "20190430", "date-invalid"),
        (DATE_MONTH, "20190005", "20190000", "date-invalid"),
        (DATE_DAY, "20191300", "20191200", "date-invalid"),
        (DATE, "20190400", "20190401", "date-unknown-not-allowed"),
        (DATE, "20190000", "20190101", "date-unknown-not-allowed"),
        (DATE_DAY, "20190000", "20190400", "date-unknown-not-allowed"),
        (YEARMONTH, "201913", "201912", "yearmonth-invalid"),
        (YEARMONTH, "201900", "201901", "yearmonth-invalid"),
        (YEARMONTH, "20191", "201910", "yearmonth-invalid"),
        (CODE, "3", "9", "code-unknown"),
        (CODE, " 1", "1", "code-unknown"),
        (KOJIN, "123456789017", "123456789018", "checkdigit"),
        (JUMIN, "12345678904", "12345678903", "checkdigit"),
        (MIXED, "山\ue000", "山田", "gaiji-unresolved"),
        (MIXED, "\U000f0001", "x", "gaiji-unresolved"),
        (NAME, "山\ue000", "山田", "gaiji-unresolved"),
        (NAME8, "山田太郎Ａ", "山田太郎", "bytes-exceeded"),  # 10 > 8 CP932 bytes
        (KANA4, "ﾔﾏﾀﾞｲ", "ﾔﾏﾀﾞ", "bytes-exceeded"),  # 半角カナ: 1 byte each
    ],
)
def test_rule_fires_on_bad_value_only(item: Item, bad: str | None, good: str, rule: str) -> None:
    assert rule in types_for(item, bad)
    assert types_for(item, good) == set()


def test_bytes_in_utf8() -> None:
    item = Item(1, "氏名", "混在文字", 10, bytes=6)
    assert types_for(item, "山田太", "utf-8") == {"bytes-exceeded"}  # 9 > 6 UTF-8 bytes
    assert types_for(item, "山田", "utf-8") == set()
    assert types_for(item, "ﾔﾏﾀﾞｲ", "utf-8") == {"bytes-exceeded"}  # 15 UTF-8 bytes


def test_empty_values_only_ever_give_required_missing() -> None:
    layout = make_layout(NAME, NUMBER, DATE, CODE, KOJIN)
    frame = pl.DataFrame(
        {"row": [1, 2], **{i.name: ["", None] for i in layout.items}},
        schema={"row": pl.Int64, **{i.name: pl.String for i in layout.items}},
    )
    assert validate_frame(frame, layout).is_empty()
    layout = make_layout(Item(1, "x", "数値", 3, required=True))
    frame = pl.DataFrame({"row": [5, 6], "x": ["", None]})
    assert validate_frame(frame, layout).rows() == [
        (5, "x", "required-missing", None),
        (6, "x", "required-missing", None),
    ]


def test_ivs_counts_as_one_character() -> None:
    item = Item(1, "氏名", "混在文字", 3)
    assert types_for(item, "葛" + IVS + "飾区") == set()
    assert types_for(item, "葛\ufe00飾区") == set()
    assert types_for(item, "葛" + IVS + "飾区役") == {"length-exceeded"}
    frame = pl.DataFrame({"s": ["葛" + IVS + "飾", "ab", "", None]})
    assert frame.select(char_count(pl.col("s")))["s"].to_list() == [2, 2, 0, None]


def test_byte_counts() -> None:
    frame = pl.DataFrame({"s": ["ﾔﾏﾀﾞ", "山田", "葛" + IVS, "A山ｱ", "\ue000"]})
    assert frame.select(byte_count(pl.col("s"), "cp932"))["s"].to_list() == [4, 4, 2, 4, 2]
    assert frame.select(byte_count(pl.col("s"), "utf-8"))["s"].to_list() == [
        len(v.encode("utf-8")) for v in frame["s"]
    ]
    with pytest.raises(UnknownNameError):
        byte_count(pl.col("s"), "euc-jp")


def test_not_encodable_allows_pua_and_selectors_but_not_jis_x_0213() -> None:
    item = Item(1, "氏名", "混在文字", 10, bytes=20)
    assert "not-encodable" not in types_for(item, "髙﨑\ue000葛" + IVS)  # NEC/IBM ext. are in CP932
    assert "not-encodable" in types_for(item, "𠮷野")
    assert "not-encodable" in types_for(item, "俱")  # JIS X 0213 only
    assert "not-encodable" not in types_for(item, "𠮷野", "utf-8")
    # without a byte limit, encodability is not this module's concern
    assert types_for(Item(1, "氏名", "混在文字", 10), "𠮷野") == set()


def test_details_and_order() -> None:
    layout = make_layout(
        Item(1, "番号", "数字", 3, required=True),
        Item(2, "金額", "数値", 7, scale=2),
        Item(3, "性別", "コード", 1, code_table="性別"),
        Item(4, "個人番号", "数字", 12, check="個人番号"),
    )
    frame = pl.DataFrame(
        {
            "row": [20, 10],
            "番号": ["12a4", None],
            "金額": ["1", "1.234"],
            "性別": ["1", "7"],
            "個人番号": ["12345678901x", "123456789018"],
        }
    )
    assert validate_frame(frame, layout).rows() == [
        (10, "番号", "required-missing", None),
        (10, "金額", "type-number", "7,2"),
        (10, "性別", "code-unknown", "性別"),
        (20, "番号", "length-exceeded", "3"),
        (20, "番号", "type-digits", None),
        (20, "個人番号", "checkdigit", "個人番号"),
        (20, "個人番号", "type-digits", None),
    ]


def test_findings_hold_no_values() -> None:
    layout = make_layout(NAME, KOJIN)
    secret = "123456789017"
    frame = pl.DataFrame({"row": [1], "氏名": ["ﾔﾏﾀﾞﾀﾛｳ"], "個人番号": [secret]})
    out = validate_frame(frame, layout)
    assert not out.is_empty()
    text = " ".join(str(v) for row in out.rows() for v in row)
    assert secret not in text and "ﾔﾏﾀﾞ" not in text


def test_missing_columns_and_unknown_code_table_are_config_errors() -> None:
    layout = make_layout(NAME)
    with pytest.raises(ConfigError, match="氏名"):
        validate_frame(pl.DataFrame({"row": [1]}), layout)
    with pytest.raises(ConfigError, match="row"):
        validate_frame(pl.DataFrame({"氏名": ["a"]}), layout)
    broken = make_layout(Item(1, "c", "コード", 1, code_table="無い"))
    with pytest.raises(UnknownNameError, match="無い"):
        validate_frame(pl.DataFrame({"row": [1], "c": ["1"]}), broken)


def test_zenkaku_transform_output_passes_zenkaku_check() -> None:
    layout = make_layout(Item(1, "x", "全角文字", 200))
    source = ["ﾔﾏﾀﾞ ﾀﾛｳ 1-2-3", "ｶﾞｷﾞｸﾞﾊﾟﾋﾟ", "ABC xyz!~", "ｳﾞｧｲｵﾘﾝ｡"]
    frame = pl.DataFrame({"row": range(len(source)), "x": source}).with_columns(
        zenkaku(pl.col("x"))
    )
    assert validate_frame(frame, layout).is_empty()


# ---------------------------------------------------------------------------------------
# foreign keys
# ---------------------------------------------------------------------------------------

FK_LAYOUT = make_layout(
    Item(1, "世帯番号", "数字", 15),
    Item(2, "宛名番号", "数字", 15),
    fks=(
        ForeignKey("世帯番号", "juki-setai", "世帯番号"),
        ForeignKey("宛名番号", "juki-jumin", "宛名番号"),
    ),
)


def test_fk_missing_and_not_checked() -> None:
    frame = pl.DataFrame(
        {
            "row": [1, 2, 3, 4],
            "世帯番号": ["100", "200", "", None],
            "宛名番号": ["1", "2", "3", "4"],
        }
    )
    out = check_foreign_keys(
        frame, FK_LAYOUT, {"juki-setai": pl.Series([100, 300]), "juki-jumin": None}
    )
    assert out.schema == pl.Schema(FINDING_SCHEMA)
    assert out.rows() == [
        (-1, "宛名番号", "fk-not-checked", "juki-jumin"),
        (2, "世帯番号", "fk-missing", "世帯番号 in juki-setai"),
    ]
    everything = {
        "juki-setai": pl.Series(["100", "200"]),
        "juki-jumin": pl.Series(["1", "2", "3", "4"]),
    }
    assert check_foreign_keys(frame, FK_LAYOUT, everything).is_empty()
    # an id absent from the mapping counts as not given
    assert (
        check_foreign_keys(frame, FK_LAYOUT, {}).get_column("type").to_list()
        == ["fk-not-checked"] * 2
    )


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------

ALL_TYPES_LAYOUT = make_layout(
    Item(1, "a", "全角文字", 4, bytes=8, required=True),
    Item(2, "b", "半角文字", 4),
    Item(3, "c", "混在文字", 4, bytes=6),
    Item(4, "d", "数字", 12, check="個人番号"),
    Item(5, "e", "数値", 5, scale=2),
    Item(6, "f", "日付", 8, unknown="day"),
    Item(7, "g", "年月", 6),
    Item(8, "h", "コード", 1, code_table="性別"),
    Item(9, "i", "数字", 11, check="住民票コード"),
)


@given(
    st.lists(
        st.tuples(*[st.one_of(st.none(), st.text(max_size=14)) for _ in range(9)]),
        min_size=0,
        max_size=12,
    ),
    st.integers(min_value=-(2**40), max_value=2**40),
)
@settings(max_examples=60, deadline=None)
def test_validate_frame_never_raises_nor_invents_rows(
    values: list[tuple[str | None, ...]], offset: int
) -> None:
    names = ALL_TYPES_LAYOUT.item_names
    rows = [offset + 7 * n for n in range(len(values))]
    frame = pl.DataFrame(
        {"row": rows, **{name: [v[k] for v in values] for k, name in enumerate(names)}},
        schema={"row": pl.Int64, **{name: pl.String for name in names}},
    )
    out = validate_frame(frame, ALL_TYPES_LAYOUT)
    assert out.schema == pl.Schema(FINDING_SCHEMA)
    assert set(out["row"].to_list()) <= set(rows)
    assert set(out["type"].to_list()) <= set(FINDING_TYPES)
    assert set(out["item"].to_list()) <= set(names)
    order = {name: n for n, name in enumerate(names)}
    keys = [(r, order[i], t) for r, i, t, _ in out.rows()]
    assert keys == sorted(keys)
    # one finding per row, item and type; gaiji-unresolved is one per distinct character
    plain = [k for k in keys if k[2] != "gaiji-unresolved"]
    assert len(set(plain)) == len(plain)
    assert len(set(out.rows())) == len(keys)
    # a required item that is empty is always reported, and only then
    empty_a = {r for r, v in zip(rows, values, strict=True) if not v[0]}
    assert set(out.filter(pl.col("type") == "required-missing")["row"].to_list()) == empty_a


@given(st.text(alphabet=st.characters(codec="cp932", exclude_categories=["Cc", "Co"]), max_size=8))
@settings(max_examples=60, deadline=None)
def test_cp932_byte_count_matches_the_codec(text: str) -> None:
    frame = pl.DataFrame({"s": [text]})
    # Private Use (Co) is left out: the codec maps U+F8F0-F8F3 to single bytes
    assert frame.select(byte_count(pl.col("s"), "cp932")).item() == len(text.encode("cp932"))
    item = Item(1, "s", "混在文字", 20, bytes=100)
    # what the codec writes but reads back as another character (U+301C → 0x8160 → U+FF5E,
    # U+2212, U+2016, U+00A2, U+00A3, U+00AC) is outside CP932's repertoire, as at load
    unheld = any(c not in cp932_repertoire() for c in text)
    assert ("not-encodable" in types_for(item, text or None)) == unheld
