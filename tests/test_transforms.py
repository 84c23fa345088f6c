"""Tests for mig.extract.transforms: width transforms, 和暦 → 西暦, check digits."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.errors import UnknownNameError
from mig.extract.transforms import (
    TRANSFORMS,
    alnum_fullwidth,
    alnum_halfwidth,
    get_transform,
    kana_fullwidth,
    trim,
    upper,
    wareki_to_seireki,
    zenkaku,
)
from mig.jp import (
    juminhyo_code_check_digit,
    juminhyo_code_ok,
    kojin_bango_check_digit,
    kojin_bango_ok,
)

HALF_KANA = "".join(chr(cp) for cp in range(0xFF61, 0xFFA0))
PRINTABLE_ASCII = "".join(chr(cp) for cp in range(0x20, 0x7F))


def apply(transform: object, values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"s": values}, schema={"s": pl.String})
    return frame.select(transform(pl.col("s")))["s"].to_list()  # type: ignore[operator]


# ---------------------------------------------------------------------------------------
# width / cleanup
# ---------------------------------------------------------------------------------------


def test_registry_has_the_promised_names() -> None:
    assert {
        "trim",
        "kana_fullwidth",
        "alnum_halfwidth",
        "alnum_fullwidth",
        "zenkaku",
        "upper",
    } <= set(TRANSFORMS)
    assert get_transform("zenkaku") is zenkaku


def test_unknown_transform_lists_known_names() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_transform("hankakuu")
    assert "trim" in str(info.value) and "hankakuu" in str(info.value)


def test_trim_strips_ascii_tab_and_ideographic_space_only_at_ends() -> None:
    assert apply(trim, ["\u3000 山田\u3000太郎\t ", "", None, "\n x"]) == [
        "山田\u3000太郎",
        "",
        None,
        "\n x",
    ]


@pytest.mark.parametrize(
    ("half", "full"),
    [
        ("ｶﾞ", "ガ"),
        ("ﾊﾟ", "パ"),
        ("ｳﾞ", "ヴ"),
        ("ｶ", "カ"),
        ("ﾊﾞﾋﾟﾌﾞﾍﾟﾎﾞ", "バピブペボ"),
        ("ｶﾞｶﾊﾟﾊ", "ガカパハ"),
        ("｡｢｣､･ｰ", "。「」、・ー"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),
        ("ｱﾞ", "ア゛"),  # no precomposed form: spacing mark
        ("ﾜﾞ", "ワ゛"),  # ヷ is not in JIS X 0208 / CP932
        ("ｯｧｨｩｪｫｬｭｮｦﾝ", "ッァィゥェォャュョヲン"),
        ("ABC123漢字ｱ", "ABC123漢字ア"),
    ],
)
def test_kana_fullwidth(half: str, full: str) -> None:
    assert apply(kana_fullwidth, [half]) == [full]


@given(st.text(alphabet=st.characters(exclude_characters=HALF_KANA, exclude_categories=("Cs",))))
@settings(max_examples=60, deadline=None)
def test_kana_fullwidth_changes_nothing_outside_halfwidth_kana(text: str) -> None:
    assert apply(kana_fullwidth, [text]) == [text]


@given(st.text(alphabet=HALF_KANA))
@settings(max_examples=60, deadline=None)
def test_kana_fullwidth_leaves_no_halfwidth_kana(text: str) -> None:
    (out,) = apply(kana_fullwidth, [text])
    assert out is not None
    assert not any(0xFF61 <= ord(c) <= 0xFF9F for c in out)
    assert len(out) <= len(text)


def test_alnum_halfwidth_and_fullwidth() -> None:
    assert apply(alnum_halfwidth, ["ＡＢＣ　ｘｙｚ０１９！～", "全角カナ"]) == [
        "ABC xyz019!~",
        "全角カナ",
    ]
    assert apply(alnum_fullwidth, ["AB 12~", "ｶﾅ"]) == ["ＡＢ\u3000１２～", "ｶﾅ"]


@given(st.text(alphabet=PRINTABLE_ASCII))
@settings(max_examples=60, deadline=None)
def test_alnum_roundtrip(text: str) -> None:
    (full,) = apply(alnum_fullwidth, [text])
    assert full is not None and all(ord(c) > 0x7F for c in full)
    assert apply(alnum_halfwidth, [full]) == [text]


def test_zenkaku_and_upper() -> None:
    assert apply(zenkaku, ["ﾔﾏﾀﾞ ｺｳｼﾞ 3-1"]) == ["ヤマダ\u3000コウジ\u3000３－１"]
    assert apply(upper, ["abc", None]) == ["ABC", None]


# ---------------------------------------------------------------------------------------
# 和暦 → 西暦
# ---------------------------------------------------------------------------------------


def convert(
    dates: list[str | None], eras: list[str | None] | None = None
) -> list[tuple[str | None, str | None]]:
    frame = pl.DataFrame(
        {"d": dates, "e": eras or [None] * len(dates)}, schema={"d": pl.String, "e": pl.String}
    )
    expr = wareki_to_seireki(pl.col("d"), pl.col("e") if eras is not None else None)
    out = frame.select(expr.alias("w")).unnest("w")
    assert out.schema == pl.Schema({"value": pl.String, "error": pl.String})
    return out.rows()


@pytest.mark.parametrize(
    ("text", "value", "error"),
    [
        # accepted shapes
        ("4310430", "20190430", None),
        ("H310430", "20190430", None),
        ("H31.04.30", "20190430", None),
        ("H31/4/30", "20190430", None),
        ("h31-4-30", "20190430", None),
        ("平成31年4月30日", "20190430", None),
        ("平成元年5月1日", "19890501", None),
        ("平成３１年４月３０日", "20190430", None),
        ("Ｈ３１．０４．３０", "20190430", None),
        ("\u3000平成 31年 4月 30日 ", "20190430", None),
        # era boundaries
        ("平成31年5月1日", None, "wareki-out-of-era"),
        ("令和元年5月1日", "20190501", None),
        ("令和元年4月30日", None, "wareki-out-of-era"),
        ("昭和64年1月7日", "19890107", None),
        ("昭和64年1月8日", None, "wareki-out-of-era"),
        ("平成元年1月8日", "19890108", None),
        ("平成元年1月7日", None, "wareki-out-of-era"),
        ("明治元年10月23日", "18681023", None),
        ("明治元年10月22日", None, "wareki-out-of-era"),
        ("明治45年7月29日", "19120729", None),
        ("大正元年7月30日", "19120730", None),
        ("大正元年7月29日", None, "wareki-out-of-era"),
        ("大正15年12月24日", "19261224", None),
        ("大正15年12月25日", None, "wareki-out-of-era"),
        ("昭和元年12月25日", "19261225", None),
        # 不詳 kept as 00, era range at the granularity known
        ("平成31年04月00日", "20190400", None),
        ("平成31年05月00日", None, "wareki-out-of-era"),
        ("令和元年00月00日", "20190000", None),
        ("令和元年04月00日", None, "wareki-out-of-era"),
        ("昭和元年11月00日", None, "wareki-out-of-era"),
        ("4310400", "20190400", None),
        # invalid
        ("平成4年2月30日", None, "wareki-invalid"),
        ("平成13年2月29日", None, "wareki-invalid"),
        ("平成12年2月29日", "20000229", None),
        ("平成31年00月05日", None, "wareki-invalid"),
        ("平成31年13月01日", None, "wareki-invalid"),
        ("昭和65年1月1日", None, "wareki-invalid"),
        ("昭和65年00月00日", None, "wareki-invalid"),
        ("平成0年1月1日", None, "wareki-invalid"),
        ("X310430", None, "wareki-invalid"),
        ("6310430", None, "wareki-invalid"),
        ("20190430", None, "wareki-invalid"),
        ("平成31年4月", None, "wareki-invalid"),
        # empty
        ("", None, None),
        ("\u3000", None, None),
        (None, None, None),
    ],
)
def test_wareki_without_era_column(text: str | None, value: str | None, error: str | None) -> None:
    assert convert([text]) == [(value, error)]


def test_wareki_with_era_column() -> None:
    eras = ["4", "h", "平成", "Ｒ", "5", "3", "9", "4", "昭和", "M"]
    dates = [
        "310430",
        "310430",
        "310501",
        "010501",
        "010430",
        "640107",
        "310430",
        None,
        "650101",
        "451301",
    ]
    assert convert(dates, eras) == [
        ("20190430", None),
        ("20190430", None),
        (None, "wareki-out-of-era"),
        ("20190501", None),
        (None, "wareki-out-of-era"),
        ("19890107", None),
        (None, "wareki-invalid"),
        (None, None),
        (None, "wareki-invalid"),
        (None, "wareki-invalid"),
    ]


# An independent restatement of the era table, for the round-trip property below.
ERAS = [
    ("令和", "R", dt.date(2019, 5, 1)),
    ("平成", "H", dt.date(1989, 1, 8)),
    ("昭和", "S", dt.date(1926, 12, 25)),
    ("大正", "T", dt.date(1912, 7, 30)),
    ("明治", "M", dt.date(1868, 10, 23)),
]


def to_wareki(day: dt.date) -> tuple[str, str, int]:
    for name, initial, start in ERAS:
        if day >= start:
            return name, initial, day.year - start.year + 1
    raise AssertionError(day)


@given(
    st.lists(
        st.dates(min_value=dt.date(1868, 10, 23), max_value=dt.date(2099, 12, 31)),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["kanji", "dotted", "compact"]),
)
@settings(max_examples=40, deadline=None)
def test_wareki_roundtrip_from_gregorian(days: list[dt.date], style: str) -> None:
    texts = []
    for day in days:
        name, initial, year = to_wareki(day)
        if style == "kanji":
            y = "元" if year == 1 else str(year)
            texts.append(f"{name}{y}年{day.month}月{day.day}日")
        elif style == "dotted":
            texts.append(f"{initial}{year}.{day.month:02d}.{day.day}")
        else:
            texts.append(f"{initial}{year:02d}{day.month:02d}{day.day:02d}")
    assert convert(texts) == [(day.strftime("%Y%m%d"), None) for day in days]


# ---------------------------------------------------------------------------------------
# check digits
# ---------------------------------------------------------------------------------------


def ok(check: object, values: list[str | None]) -> list[bool | None]:
    frame = pl.DataFrame({"s": values}, schema={"s": pl.String})
    return frame.select(check(pl.col("s")))["s"].to_list()  # type: ignore[operator]


def test_known_numbers() -> None:
    assert ok(kojin_bango_ok, ["123456789018", "123456789017", None]) == [True, False, None]
    assert ok(juminhyo_code_ok, ["12345678903", "12345678904", None]) == [True, False, None]


def test_malformed_numbers_are_false() -> None:
    bad = [
        "12345678901",
        "1234567890189",
        "12345678901a",
        "１２３４５６７８９０１８",
        "",
        " 23456789018",
    ]
    assert ok(kojin_bango_ok, bad) == [False] * len(bad)
    bad = ["1234567890", "123456789031", "1234567890a", ""]
    assert ok(juminhyo_code_ok, bad) == [False] * len(bad)


def reference_digit(body: str, weights: list[int]) -> int:
    """Pure-Python restatement: weights[n-1] for the n-th digit from the right."""
    total = sum(int(c) * w for c, w in zip(reversed(body), weights, strict=True))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


KOJIN_WEIGHTS = [2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6]
JUMIN_WEIGHTS = [2, 3, 4, 5, 6, 7, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("digit_fn", "ok_fn", "size", "weights"),
    [
        (kojin_bango_check_digit, kojin_bango_ok, 11, KOJIN_WEIGHTS),
        (juminhyo_code_check_digit, juminhyo_code_ok, 10, JUMIN_WEIGHTS),
    ],
)
@given(data=st.data())
@settings(max_examples=25, deadline=None)
def test_check_digit_property(
    digit_fn: object, ok_fn: object, size: int, weights: list[int], data: st.DataObject
) -> None:
    prefixes = data.draw(
        st.lists(
            st.text(alphabet="0123456789", min_size=size, max_size=size), min_size=1, max_size=20
        )
    )
    frame = pl.DataFrame({"p": prefixes})
    digits = frame.select(digit_fn(pl.col("p")))["p"].to_list()  # type: ignore[operator]
    assert digits == [str(reference_digit(p, weights)) for p in prefixes]
    candidates = [p + str(last) for p in prefixes for last in range(10)]
    accepted = ok(ok_fn, candidates)
    expected = [
        c[-1] == d
        for p, d in zip(prefixes, digits, strict=True)
        for c in (p + str(n) for n in range(10))
    ]
    assert accepted == expected
    assert sum(bool(a) for a in accepted) == len(prefixes)


def test_check_digit_of_malformed_body_is_null() -> None:
    frame = pl.DataFrame({"p": ["1234567890", "1234567890a", None]}, schema={"p": pl.String})
    assert frame.select(kojin_bango_check_digit(pl.col("p")))["p"].to_list() == [None, None, None]
