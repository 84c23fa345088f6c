"""The cheaper mapping and validation expressions (issue 12) against the ones they replaced.

Each ``_old_*`` below is the implementation of commit 33adcf1, kept here verbatim as the
reference: regex date checks with string slices, the regex check-digit shape test with
the chained digit loop, the list-based ``concat``. Hypothesis feeds both the same
generated strings — dates around every era boundary (平成31年4月30日 / 令和元年5月1日 …),
日・月不詳 ``00``, 全角 digits, signs, spaces, empty, null — and the results must be equal.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from mig import jp
from mig.charsets import (
    BMP_PRIVATE_USE_CLASS,
    CONTROL_PATTERN,
    CP932_SINGLE_BYTE_PATTERN,
    TEXT_TYPES,
    VARIATION_SELECTOR_CLASS,
    outside_pattern,
    private_use_pattern,
)
from mig.extract.mapping import concat_nonempty
from mig.jp import CHECK_DIGITS, CheckDigit, days_in_month
from mig.layout import CodeTable, Item, Layout
from mig.validation.rules import _number_pattern, byte_count, char_count, validate_frame

# ---------------------------------------------------------------------------------------
# the reference: 33adcf1's expressions


def _old_weighted_remainder(body: pl.Expr, weights: tuple[int, ...]) -> pl.Expr:
    total = body % 10 * weights[0]
    rest = body // 10
    for weight in weights[1:]:
        total = total + rest % 10 * weight
        rest = rest // 10
    return total % 11


def _old_check_ok(check: CheckDigit, value: pl.Expr) -> pl.Expr:
    def digit(body: pl.Expr) -> pl.Expr:
        s = body.cast(pl.String)
        remainder = _old_weighted_remainder(s.cast(pl.Int64, strict=False), check.weights)
        d = remainder.replace_strict(
            {r: d for r, d in enumerate(check.digits) if d is not None}, default=None, return_dtype=pl.Int64
        )
        return pl.when(s.str.contains(f"^{check._body_pattern}$")).then(d)

    s = value.cast(pl.String)
    expected = digit(s.str.head(-1))
    actual = s.str.tail(1).cast(pl.Int64, strict=False)
    matches = s.str.contains(f"^{check._body_pattern}[0-9]$") & (expected == actual).fill_null(False)
    return pl.when(s.is_not_null()).then(matches)


def _old_date_rules(item: Item, v: pl.Expr) -> list[tuple[str, pl.Expr]]:
    well_formed = v.str.contains(r"^[0-9]{8}$")
    y = v.str.slice(0, 4).cast(pl.Int64, strict=False)
    m = v.str.slice(4, 2).cast(pl.Int64, strict=False)
    d = v.str.slice(6, 2).cast(pl.Int64, strict=False)
    real_month = (y >= 1) & (m >= 1) & (m <= 12)
    full = real_month & (d >= 1) & (d <= days_in_month(y, m))
    day_unknown = real_month & (d == 0)
    month_unknown = (y >= 1) & (m == 0) & (d == 0)
    shape_ok = well_formed & (full | day_unknown | month_unknown).fill_null(False)
    not_allowed: pl.Expr = pl.lit(False)
    if item.unknown == "none":
        not_allowed = day_unknown | month_unknown
    elif item.unknown == "day":
        not_allowed = month_unknown
    return [("date-invalid", ~shape_ok), ("date-unknown-not-allowed", shape_ok & not_allowed)]


def _old_yearmonth_rule(item: Item, v: pl.Expr) -> tuple[str, pl.Expr]:
    y = v.str.slice(0, 4).cast(pl.Int64, strict=False)
    m = v.str.slice(4, 2).cast(pl.Int64, strict=False)
    lowest = 0 if item.unknown == "month" else 1
    ok = v.str.contains(r"^[0-9]{6}$") & (y >= 1) & (m >= lowest) & (m <= 12)
    return "yearmonth-invalid", ~ok.fill_null(False)


def _old_item_rules(item: Item, layout: Layout) -> list[tuple[str, pl.Expr]]:
    v = pl.col(item.name).cast(pl.String)
    rules: list[tuple[str, pl.Expr]] = []
    if item.type != "数値":
        rules.append(("length-exceeded", char_count(v) > item.length))
    if item.bytes is not None:
        rules.append(("bytes-exceeded", byte_count(v, layout.byte_encoding) > item.bytes))
        if layout.byte_encoding == "cp932":
            unholdable = outside_pattern("cp932", BMP_PRIVATE_USE_CLASS + VARIATION_SELECTOR_CLASS)
            rules.append(("not-encodable", v.str.contains(unholdable)))
    if item.type == "数字":
        rules.append(("type-digits", ~v.str.contains(r"^[0-9]+$")))
    elif item.type == "数値":
        rules.append(("type-number", ~v.str.contains(_number_pattern(item))))
    elif item.type == "全角文字":
        rules.append(("charclass-zenkaku", v.str.contains(CP932_SINGLE_BYTE_PATTERN)))
    elif item.type == "半角文字":
        rules.append(("charclass-hankaku", v.str.contains(r"[^\x{20}-\x{7E}]")))
    elif item.type == "日付":
        rules.extend(_old_date_rules(item, v))
    elif item.type == "年月":
        rules.append(_old_yearmonth_rule(item, v))
    if item.type in TEXT_TYPES:
        rules.append(("charclass-control", v.str.contains(CONTROL_PATTERN)))
        rules.append(("gaiji-unresolved", v.str.contains(private_use_pattern())))
    if item.code_table is not None:
        known = pl.Series(list(layout.codes[item.code_table].codes), dtype=pl.String)
        rules.append(("code-unknown", ~v.is_in(known.implode())))
    if item.check is not None:
        rules.append(("checkdigit", ~_old_check_ok(CHECK_DIGITS[item.check], v)))
    present = v.is_not_null() & (v != "")
    guarded = [(kind, (present & expr).fill_null(False)) for kind, expr in rules]
    if item.required:
        guarded.insert(0, ("required-missing", ~present))
    return guarded


def _old_concat(columns: list[str], separator: str) -> pl.Expr:
    return pl.concat_list([pl.col(c).fill_null("") for c in columns]).list.eval(
        pl.element().filter(pl.element() != "")
    ).list.join(separator)


# ---------------------------------------------------------------------------------------
# generated values

_BOUNDARY_DAYS = [day for pair in jp.ERA_BOUNDARIES for day in pair] + [
    date(2024, 2, 29), date(2000, 2, 29), date(1900, 2, 28), date(1, 1, 1), date(9999, 12, 31)
]


def _digits_fullwidth(text: str) -> str:
    return text.translate({ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789"})


def _variant(text: str) -> st.SearchStrategy[str]:
    """``text`` itself (most often) or with its first character a sign or a space, or in 全角."""
    first = text[1:]
    return st.sampled_from([text, text, text, "+" + first, "-" + first, " " + first, _digits_fullwidth(text)])


@st.composite
def _date_like(draw: st.DrawFn) -> str | None:
    """A date-ish text: real and impossible YYYYMMDD / YYYYMM, era boundaries ±1 day,
    不詳 00 parts, 全角 digits, signs, spaces, short and long digit runs, empty, null."""
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return None
    if kind == 1:
        day = draw(st.sampled_from(_BOUNDARY_DAYS))
        shift = draw(st.integers(-1, 1))
        if date.min + timedelta(days=1) < day < date.max - timedelta(days=1):
            day += timedelta(days=shift)
        text = f"{day.year:04d}{day.month:02d}{day.day:02d}"
        cut = draw(st.sampled_from(["none", "day", "month", "ym"]))
        if cut == "day":
            text = text[:6] + "00"
        elif cut == "month":
            text = text[:4] + "0000"
        elif cut == "ym":
            text = text[:6]
        return draw(_variant(text))
    if kind == 2:
        y, m, d = draw(st.integers(0, 9999)), draw(st.integers(0, 99)), draw(st.integers(0, 99))
        return draw(_variant(draw(st.sampled_from([f"{y:04d}{m:02d}{d:02d}", f"{y:04d}{m:02d}"]))))
    if kind == 3:
        text = draw(st.text(alphabet="0123456789", min_size=0, max_size=20))
        return draw(st.sampled_from([text, _digits_fullwidth(text), "+" + text[1:], "-" + text[1:], " " + text]))
    if kind == 4:
        return draw(st.text(alphabet="0123456789+-. 　０１９年月日Ｈ\t", max_size=10))
    if kind == 5:
        return ""
    return draw(st.text(max_size=8))


def _check_like(check: CheckDigit) -> st.SearchStrategy[str | None]:
    """Numbers that carry their check digit, the same with a wrong digit, other lengths,
    signs, 全角 digits and anything else."""
    longest = check.body_digits or len(check.weights)
    shortest = check.body_digits or 1
    bodies = st.integers(0, 10**longest - 1)

    @st.composite
    def values(draw: st.DrawFn) -> str | None:
        kind = draw(st.integers(0, 4))
        if kind == 0:
            return None
        if kind in (1, 2):
            width = draw(st.integers(shortest, longest))
            body = draw(bodies) % 10**width
            digit = check.of(body)
            last = digit if digit is not None and kind == 1 else draw(st.integers(0, 9))
            text = f"{body:0{width}d}{last}"
            return draw(st.sampled_from([text, text, "+" + text[1:], _digits_fullwidth(text), text + " "]))
        if kind == 3:
            return draw(st.text(alphabet="0123456789", max_size=25))
        return draw(st.text(alphabet="0123456789+- ０a", max_size=14))

    return values()


_TEXT = st.one_of(
    st.none(),
    st.text(
        alphabet=st.one_of(
            st.sampled_from(list("山田葛飾区ｱｶﾞﾊﾟｳﾞﾞﾟｰ｡ABC 12~　\u3000\t\x01\x7f\ue003\uf8ff\U000e0100\ufe00①髙﨑～－")),
            st.characters(codec="utf-8"),
        ),
        max_size=12,
    ),
)


def _layout(*items: Item) -> Layout:
    codes = {"性別": CodeTable("性別", {"1": "男", "2": "女", "9": "不明"})}
    return Layout("t", "b", "n", "s", "1", "", "", tuple(items), codes=codes)


def _old_findings(frame: pl.DataFrame, layout: Layout) -> set[tuple[int, str, str]]:
    found: set[tuple[int, str, str]] = set()
    for item in layout.items:
        for kind, expr in _old_item_rules(item, layout):
            rows = frame.filter(expr)["row"].to_list()
            found.update((row, item.name, kind) for row in rows)
    return found


def _new_findings(frame: pl.DataFrame, layout: Layout) -> set[tuple[int, str, str]]:
    return set(validate_frame(frame, layout).select("row", "item", "type").iter_rows())


def _frame(columns: dict[str, list[str | None]]) -> pl.DataFrame:
    height = len(next(iter(columns.values())))
    return pl.DataFrame({"row": list(range(height)), **columns}, schema_overrides=dict.fromkeys(columns, pl.String))


# ---------------------------------------------------------------------------------------
# the properties


@settings(max_examples=300, deadline=None)
@given(st.lists(_date_like(), min_size=1, max_size=30))
def test_date_and_yearmonth_rules_find_what_the_regex_rules_found(values: list[str | None]) -> None:
    layout = _layout(
        Item(1, "d_none", "日付", 8, required=True),
        Item(2, "d_day", "日付", 8, unknown="day"),
        Item(3, "d_month", "日付", 8, unknown="month"),
        Item(4, "ym", "年月", 6),
        Item(5, "ym_month", "年月", 6, unknown="month"),
    )
    frame = _frame({item.name: values for item in layout.items})
    assert _new_findings(frame, layout) == _old_findings(frame, layout)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_check_digits_agree_with_the_regex_check(data: st.DataObject) -> None:
    for check in CHECK_DIGITS.values():
        values = data.draw(st.lists(_check_like(check), min_size=1, max_size=20), label=check.name)
        frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
        old = frame.select(_old_check_ok(check, pl.col("v"))).to_series().to_list()
        new = frame.select(check.ok(pl.col("v"))).to_series().to_list()
        assert new == old, check.name


@given(st.lists(st.integers(0, 10**18 - 1), min_size=1, max_size=20))
def test_weighted_remainder_is_the_chained_loop(bodies: list[int]) -> None:
    weights = CHECK_DIGITS["宛名番号"].weights
    frame = pl.DataFrame({"b": bodies}, schema={"b": pl.Int64})
    old = frame.select(_old_weighted_remainder(pl.col("b"), weights)).to_series().to_list()
    assert frame.select(jp.weighted_remainder(pl.col("b"), weights)).to_series().to_list() == old
    assert [jp.weighted_remainder(b, weights) for b in bodies] == old  # the int form too


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT), min_size=1, max_size=20))
def test_text_and_code_rules_find_what_they_found(pairs: list[tuple[str | None, str | None]]) -> None:
    layout = _layout(
        Item(1, "mixed", "混在文字", 6, bytes=8, required=True),
        Item(2, "zen", "全角文字", 4, bytes=8),
        Item(3, "zen_nobytes", "全角文字", 4),
        Item(4, "han", "半角文字", 5),
        Item(5, "num", "数字", 4),
        Item(6, "dec", "数値", 5, scale=2),
        Item(7, "code", "コード", 1, code_table="性別"),
    )
    frame = _frame({item.name: [a if n % 2 else b for a, b in pairs] for n, item in enumerate(layout.items)})
    assert _new_findings(frame, layout) == _old_findings(frame, layout)


@given(st.lists(st.tuples(_TEXT, _TEXT, _TEXT), min_size=1, max_size=20), st.sampled_from(["", "　", " ", "・"]))
def test_concat_is_the_list_join(rows: list[tuple[str | None, ...]], separator: str) -> None:
    frame = pl.DataFrame(rows, schema=dict.fromkeys("abc", pl.String), orient="row")
    old = frame.select(_old_concat(["a", "b", "c"], separator)).to_series().to_list()
    new = frame.select(concat_nonempty([pl.col(c) for c in "abc"], separator)).to_series().to_list()
    assert new == old


# ---------------------------------------------------------------------------------------
# apply_mapping: 和暦 in the batch's own plan and staged values, against the expressions alone

_WAREKI_TEXT = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "H310430", "H310501", "R010501", "R010430", "4310430", "S640107", "S640108",
                     "平成31年4月30日", "令和元年5月1日", "平成元年1月7日", "Ｈ３１．４．３０", "H31.04.00", "M010101"]),
    st.text(alphabet="0123456789HRSTMhr平成令和元年月日./- 　０", max_size=12),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_WAREKI_TEXT, st.sampled_from([None, "", "4", "5", "H", "r", "令和", "9", "x"]), _TEXT),
                min_size=1, max_size=20))
def test_apply_mapping_gives_what_the_expressions_give(rows: list[tuple[str | None, str | None, str | None]]) -> None:
    from mig.extract.mapping import FileMapping, ItemMapping, apply_mapping
    from mig.extract.transforms import transform_step, wareki_to_seireki, zenkaku

    layout = _layout(
        Item(1, "with_era", "日付", 8), Item(2, "era_in_text", "日付", 8), Item(3, "name", "混在文字", 20),
        Item(4, "code", "コード", 1),
    )
    mapping = FileMapping(layout, ("*",), (
        ItemMapping("with_era", "wareki", columns=("d",), era="e"),
        ItemMapping("era_in_text", "wareki", columns=("d",)),
        ItemMapping("name", "column", columns=("t",), transforms=(transform_step("trim"), transform_step("zenkaku"))),
        ItemMapping("code", "column", columns=("e",), code_map="m"),
    ))
    data = pl.DataFrame(
        {"row": list(range(len(rows))), "d": [r[0] for r in rows], "e": [r[1] for r in rows], "t": [r[2] for r in rows]},
        schema={"row": pl.Int64, "d": pl.String, "e": pl.String, "t": pl.String},
    )
    mapped, found = apply_mapping(data, mapping, {"m": {"4": "1", "H": "2"}})

    def blank_to_null(e: pl.Expr) -> pl.Expr:
        return pl.when(e.is_null() | (e == "")).then(None).otherwise(e)

    expected = data.select(
        blank_to_null(wareki_to_seireki(pl.col("d"), pl.col("e")).struct.field("value")).alias("with_era"),
        blank_to_null(wareki_to_seireki(pl.col("d")).struct.field("value")).alias("era_in_text"),
        blank_to_null(zenkaku(pl.col("t").str.strip_chars(" \t\u3000"))).alias("name"),
        blank_to_null(pl.col("e").replace_strict({"4": "1", "H": "2"}, default=None)).alias("code"),
    )
    assert mapped.drop("row").equals(expected)
    errors = data.select(
        pl.col("row"),
        wareki_to_seireki(pl.col("d"), pl.col("e")).struct.field("error").alias("with_era"),
        wareki_to_seireki(pl.col("d")).struct.field("error").alias("era_in_text"),
    )
    expected_findings = {
        (row, item, error)
        for row, *errs in errors.iter_rows()
        for item, error in zip(("with_era", "era_in_text"), errs, strict=True)
        if error is not None
    } | {
        (row, "code", "code-unmapped")
        for row, e in data.select("row", "e").iter_rows()
        if e not in (None, "", "4", "H")
    }
    assert set(found.select("row", "item", "type").iter_rows()) == expected_findings


@given(st.lists(_TEXT, min_size=1, max_size=20))
def test_zenkaku_in_one_pass_is_kana_then_alnum(values: list[str | None]) -> None:
    from mig.extract.transforms import alnum_fullwidth, kana_fullwidth, zenkaku

    frame = pl.DataFrame({"s": values}, schema={"s": pl.String})
    old = frame.select(alnum_fullwidth(kana_fullwidth(pl.col("s")))).to_series().to_list()
    assert frame.select(zenkaku(pl.col("s"))).to_series().to_list() == old


def test_rules_are_compiled_once_per_layout_and_leave_with_it() -> None:
    import gc

    from mig.validation import rules

    frame = _frame({"x": ["12", "1a", None]})
    first = _layout(Item(1, "x", "数字", 3, required=True))
    assert rules._plan(first) is rules._plan(first)  # the same layout: built once
    other = _layout(Item(1, "x", "数字", 1))  # equal name, other rules: its own plan
    assert rules._plan(other) is not rules._plan(first)
    assert set(validate_frame(frame, first).select("row", "type").iter_rows()) == {(1, "type-digits"), (2, "required-missing")}
    assert set(validate_frame(frame, other).select("row", "type").iter_rows()) == {(0, "length-exceeded"), (1, "length-exceeded"), (1, "type-digits")}
    before = len(rules._PLANS)
    del first, other
    gc.collect()
    assert len(rules._PLANS) == before - 2


def test_a_number_too_long_for_int64_is_an_invalid_date_not_an_error() -> None:
    layout = _layout(Item(1, "d", "日付", 8), Item(2, "ym", "年月", 6), Item(3, "k", "数字", 12, check="個人番号"))
    frame = _frame({name: ["9300000000000000000", "99999999999999999999"] for name in ("d", "ym", "k")})
    assert _new_findings(frame, layout) == _old_findings(frame, layout)
    assert (0, "d", "date-invalid") in _new_findings(frame, layout)
