"""Vectorised validation of a standard-layout frame against its :class:`~mig.layout.Layout`.

Every rule is a Polars expression over a whole column. A layout's rules are compiled once
(per layout object) and evaluated in one lazy plan per batch: per-item intermediates —
presence, character counts, the date status — are computed once as staged columns, then
all rules in one ``select`` (parallel over columns). Dates are checked by integer
arithmetic on their digits, not by regex. A text item scans its values once for rare
characters (outside CP932, Private Use, control); the rules those decide — variation
selectors in the length, not-encodable, control, unresolved 外字 — run only on the few
rows that have one. Each rule that fired anywhere then becomes findings through
:func:`mig.validation.findings.findings_where`. Findings name the row, the item and the
rule — never the value.

Empty string and null both count as *empty*: an empty value only ever yields
``required-missing`` (when the item is required); every other rule looks at non-empty
values only.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import polars as pl

from mig.charsets import (
    BMP_PRIVATE_USE_CLASS,
    CONTROL_PATTERN,
    CP932_SINGLE_BYTE_PATTERN,
    TEXT_TYPES,
    VARIATION_SELECTOR_CLASS,
    VARIATION_SELECTOR_PATTERN,
    outside_pattern,
    private_use_pattern,
)
from mig.errors import ConfigError, UnknownNameError
from mig.jp import CHECK_DIGITS, days_in_month
from mig.layout import BYTE_ENCODINGS, Item, Layout
from mig.validation.findings import FINDING_SCHEMA, concat_sorted, empty_findings, findings_where


@dataclass(frozen=True)
class _Rule:
    item: str
    type: str
    detail: str | None
    expr: pl.Expr
    each: str | None = None
    """A one-character regex: the rule then yields one finding per distinct matching
    character of the value, its ``detail`` the character's code point (``U+E003``)."""


def char_count(value: pl.Expr) -> pl.Expr:
    """Characters of ``value``, a base character plus its variation selector counting as one.

    >>> pl.select(char_count(pl.lit("葛\\U000E0100飾"))).item()
    2
    """
    selectors = value.str.count_matches(VARIATION_SELECTOR_PATTERN).cast(pl.Int64)
    return value.str.len_chars().cast(pl.Int64) - selectors


def byte_count(value: pl.Expr, encoding: str) -> pl.Expr:
    """Bytes of ``value`` in ``encoding`` (``utf-8`` or ``cp932``).

    For CP932, ASCII and 半角カナ count 1, variation selectors 0 and every other
    character 2 (characters CP932 cannot hold are reported separately as not-encodable).

    >>> pl.select(byte_count(pl.lit("ﾔﾏﾀﾞ山田A"), "cp932")).item()
    9
    """
    if encoding == "utf-8":
        return value.str.len_bytes().cast(pl.Int64)
    if encoding == "cp932":
        chars = value.str.len_chars().cast(pl.Int64)
        single = value.str.count_matches(CP932_SINGLE_BYTE_PATTERN).cast(pl.Int64)
        selectors = value.str.count_matches(VARIATION_SELECTOR_PATTERN).cast(pl.Int64)
        return chars * 2 - single - selectors * 2
    raise UnknownNameError("byte_encoding", encoding, BYTE_ENCODINGS)


def _number_pattern(item: Item) -> str:
    integer_digits = item.length - item.scale
    pattern = rf"^[+-]?[0-9]{{1,{integer_digits}}}"
    if item.scale > 0:
        pattern += rf"(\.[0-9]{{1,{item.scale}}})?"
    return pattern + "$"


def digits_number(value: pl.Expr, width: int) -> pl.Expr:
    """``value`` as an Int64 when it is exactly ``width`` ASCII digits (1–18), else null.

    The shape check without a regex: the byte length, then Polars' integer parser (which
    takes ASCII digits and an optional leading ``+`` only, so ``+`` is refused apart).

    >>> pl.select(digits_number(pl.lit("20190430"), 8)).item(), pl.select(digits_number(pl.lit("+2019043"), 8)).item()
    (20190430, None)
    >>> pl.select(digits_number(pl.lit("２０１９０４３０"), 8)).item() is None
    True
    """
    assert 1 <= width <= 18, width
    shaped = (value.str.len_bytes() == width) & ~value.str.starts_with("+")
    # the casts run on every value (when/then does not skip rows): a long number parses as
    # UInt64 but does not fit Int64 — null, not an error (it is not shaped anyway)
    return pl.when(shaped).then(value.cast(pl.UInt64, strict=False).cast(pl.Int64, strict=False))


#: What a 日付 value is (the staged status column of a 日付 item): not a date, a full date,
#: a date whose day is 不詳 (``YYYYMM00``), one whose month and day are 不詳 (``YYYY0000``).
DATE_INVALID, DATE_FULL, DATE_DAY_UNKNOWN, DATE_MONTH_UNKNOWN = 0, 1, 2, 3


def date_status(value: pl.Expr) -> pl.Expr:
    """The :data:`DATE_INVALID` … :data:`DATE_MONTH_UNKNOWN` status (Int8) of ``YYYYMMDD`` texts.

    Integer arithmetic on the eight digits (no regex, no slicing): year ≥ 1, month 1–12
    with a day of that month, ``00`` for an unknown day, ``0000`` for unknown month and day.
    Null gives :data:`DATE_INVALID` (callers look at non-empty values only).

    >>> df = pl.DataFrame({"d": ["20240229", "20230229", "20240300", "20240000", "20240031", "2024-1-1"]})
    >>> df.select(date_status(pl.col("d"))).to_series().to_list()
    [1, 0, 2, 3, 0, 0]
    """
    return _date_status(digits_number(value, 8))


def _date_status(n: pl.Expr) -> pl.Expr:
    y, m, d = n // 10000, n // 100 % 100, n % 100
    real_month = (y >= 1) & (m >= 1) & (m <= 12)
    return (
        pl.when(real_month & (d >= 1) & (d <= days_in_month(y, m)))
        .then(pl.lit(DATE_FULL, dtype=pl.Int8))
        .when(real_month & (d == 0))
        .then(pl.lit(DATE_DAY_UNKNOWN, dtype=pl.Int8))
        .when((y >= 1) & (m == 0) & (d == 0))
        .then(pl.lit(DATE_MONTH_UNKNOWN, dtype=pl.Int8))
        .otherwise(pl.lit(DATE_INVALID, dtype=pl.Int8))
    )


def _date_rules(item: Item, status: pl.Expr) -> list[_Rule]:
    not_allowed = {
        "none": [DATE_DAY_UNKNOWN, DATE_MONTH_UNKNOWN], "day": [DATE_MONTH_UNKNOWN]
    }.get(item.unknown, [])
    return [
        _Rule(item.name, "date-invalid", None, status == DATE_INVALID),
        _Rule(item.name, "date-unknown-not-allowed", None, status.is_in(not_allowed) if not_allowed else pl.lit(False)),
    ]


def _yearmonth_rule(item: Item, v: pl.Expr) -> _Rule:
    n = digits_number(v, 6)
    y, m = n // 100, n % 100
    lowest = 0 if item.unknown == "month" else 1
    ok = (y >= 1) & (m >= lowest) & (m <= 12)
    return _Rule(item.name, "yearmonth-invalid", None, ~ok.fill_null(False))


#: Characters that make a text value need the exact (slower) checks: outside CP932
#: (variation selectors and characters CP932 cannot hold among them), Private Use, control.
#: A value with none of them has no variation selector, nothing unencodable, no control
#: character and no unresolved 外字 — one scan answers four rules for almost every row.
_RARE_PATTERN = f"{outside_pattern('cp932')}|{private_use_pattern()}|{CONTROL_PATTERN}"


@dataclass(frozen=True)
class _ItemPlan:
    """One item's rules compiled once.

    ``stages`` (two, in order) hold the per-item intermediates — presence, character count,
    date status — the rules read by name (``__i{n}_*``), each computed once. A rule with a
    ``plain`` expression is evaluated as ``plain`` over the batch, which is exact wherever
    ``suspect`` is false; the rows where ``suspect`` holds (few: a value with a rare
    character, longer than the item, or with twice its characters over the CP932 byte
    limit) are then checked again: ``exact_stages`` add what only they need (variation
    selectors, single-byte characters) and each such rule's ``expr`` is evaluated there.
    """

    stages: tuple[tuple[pl.Expr, ...], tuple[pl.Expr, ...]]
    rules: tuple[_Rule, ...]
    plain: tuple[pl.Expr | None, ...]
    suspect: pl.Expr | None
    exact_stages: tuple[tuple[pl.Expr, ...], tuple[pl.Expr, ...]]


def _item_plan(item: Item, layout: Layout, n: int = 0) -> _ItemPlan:
    """Every rule of one item (the ``n``-th), each as 'this row breaks it' over non-empty values."""
    v = pl.col(item.name).cast(pl.String)
    first: list[pl.Expr] = []
    second: list[pl.Expr] = []
    exact_only: list[pl.Expr] = []

    def staged(name: str, expr: pl.Expr, stage: list[pl.Expr]) -> pl.Expr:
        stage.append(expr.alias(f"__i{n}_{name}"))
        return pl.col(f"__i{n}_{name}")

    never = pl.lit(False)
    rare_checked = item.type in TEXT_TYPES or item.bytes is not None
    counts_chars = item.type != "数値" or item.bytes is not None
    if counts_chars:
        chars = staged("chars", v.str.len_chars().cast(pl.Int64), first)
        # variation selectors: counted only on suspect rows (a plain value has none)
        selectors = staged("vs", v.str.count_matches(VARIATION_SELECTOR_PATTERN).cast(pl.Int64), exact_only)
    cp932_bytes = layout.byte_encoding == "cp932" and item.bytes is not None
    if cp932_bytes:  # single-byte characters: counted only on suspect rows (see below)
        single = staged("single", v.str.count_matches(CP932_SINGLE_BYTE_PATTERN).cast(pl.Int64), exact_only)
    rules: list[tuple[_Rule, pl.Expr | None]] = []  # each with its plain form, if it has one
    if item.type != "数値":  # for 数値, length counts digits: type-number checks it
        rule = _Rule(item.name, "length-exceeded", str(item.length), chars - selectors > item.length)
        rules.append((rule, chars > item.length))
    if item.bytes is not None:
        if cp932_bytes:
            count = chars * 2 - single - selectors * 2  # as byte_count(v, "cp932")
            # at most 2 bytes a character: within the limit unless 2 × characters exceed it
            rules.append((_Rule(item.name, "bytes-exceeded", str(item.bytes), count > item.bytes), never))
            # CP932's repertoire; Private Use (U+E000–F8FF) passes — CP932 has user-defined
            # codes for 外字 (gaiji-unresolved reports them) — and so do variation
            # selectors, which are dropped (0 bytes) when writing CP932
            holdable = BMP_PRIVATE_USE_CLASS + VARIATION_SELECTOR_CLASS
            unholdable = outside_pattern("cp932", holdable)
            rules.append((_Rule(item.name, "not-encodable", "cp932", v.str.contains(unholdable)), never))
        else:
            count = byte_count(v, layout.byte_encoding)
            rules.append((_Rule(item.name, "bytes-exceeded", str(item.bytes), count > item.bytes), None))
    if item.type == "数字":
        rules.append((_Rule(item.name, "type-digits", None, ~v.str.contains(r"^[0-9]+$")), None))
    elif item.type == "数値":
        pattern = _number_pattern(item)
        rules.append((_Rule(item.name, "type-number", f"{item.length},{item.scale}", ~v.str.contains(pattern)), None))
    elif item.type == "全角文字":
        rules.append((_Rule(item.name, "charclass-zenkaku", None, v.str.contains(CP932_SINGLE_BYTE_PATTERN)), None))
    elif item.type == "半角文字":
        rules.append((_Rule(item.name, "charclass-hankaku", None, v.str.contains(r"[^\x{20}-\x{7E}]")), None))
    elif item.type == "日付":
        number = staged("date_number", digits_number(v, 8), first)
        rules.extend((rule, None) for rule in _date_rules(item, staged("date", _date_status(number), second)))
    elif item.type == "年月":
        rules.append((_yearmonth_rule(item, v), None))
    if item.type in TEXT_TYPES:
        rules.append((_Rule(item.name, "charclass-control", None, v.str.contains(CONTROL_PATTERN)), never))
        pua = private_use_pattern()
        rules.append((_Rule(item.name, "gaiji-unresolved", None, v.str.contains(pua), each=pua), never))
    if item.code_table is not None:
        table = layout.codes.get(item.code_table)
        if table is None:
            raise UnknownNameError(f"code table (item {item.name})", item.code_table, layout.codes)
        known = pl.Series(list(table.codes), dtype=pl.String)
        rules.append((_Rule(item.name, "code-unknown", table.name, ~v.is_in(known.implode())), None))
    if item.check is not None:
        check = CHECK_DIGITS.get(item.check)
        if check is None:
            raise UnknownNameError(f"check (item {item.name})", item.check, CHECK_DIGITS)
        rules.append((_Rule(item.name, "checkdigit", item.check, ~check.ok(v)), None))

    present = staged("present", v.is_not_null() & (v != ""), first)
    suspect: pl.Expr | None = None
    if rare_checked:
        suspect = present & v.str.contains(_RARE_PATTERN)
        if cp932_bytes:
            assert item.bytes is not None
            suspect = suspect | (present & (chars * 2 > item.bytes))
    elif counts_chars:  # the length rule alone needs the selectors, and only past the length
        suspect = present & (chars > item.length)

    def guard(expr: pl.Expr) -> pl.Expr:
        return (present & expr).fill_null(False)

    guarded = [_Rule(r.item, r.type, r.detail, guard(r.expr), r.each) for r, _ in rules]
    plain = [None if p is None or suspect is None else guard(p) for _, p in rules]
    if item.required:
        guarded.insert(0, _Rule(item.name, "required-missing", None, ~present))
        plain.insert(0, None)
    return _ItemPlan(
        stages=(tuple(first), tuple(second)),
        rules=tuple(guarded),
        plain=tuple(plain),
        suspect=suspect.fill_null(False) if suspect is not None else None,
        exact_stages=(tuple(first + exact_only), tuple(second)),
    )


@dataclass(frozen=True)
class _Plan:
    """A layout's rules compiled once (:class:`_ItemPlan` per item)."""

    items: tuple[_ItemPlan, ...]
    rules: tuple[_Rule, ...]
    """Every rule of every item, in order: their flags are ``__rule{k}``."""


_PLANS: dict[int, tuple[weakref.ref[Layout], _Plan]] = {}


def _plan(layout: Layout) -> _Plan:
    """The compiled rules of ``layout``, built once per layout object (a layout is frozen;
    its dict of code tables makes it unhashable, so the cache is keyed by identity and the
    entry leaves with the layout)."""
    key = id(layout)
    entry = _PLANS.get(key)
    if entry is not None and entry[0]() is layout:
        return entry[1]
    items = tuple(_item_plan(item, layout, n) for n, item in enumerate(layout.items))
    plan = _Plan(items, tuple(rule for item in items for rule in item.rules))
    _PLANS[key] = (weakref.ref(layout, lambda _gone: _PLANS.pop(key, None)), plan)
    return plan


def _flags(frame: pl.DataFrame, plan: _Plan) -> pl.DataFrame:
    """``row`` and one Boolean column ``__rule{k}`` per rule of ``plan``: where it fired.

    One lazy plan over the batch evaluates the plain form of every rule; then, per item
    with suspect rows, only those rows go through the exact form and overwrite their flags.
    """
    stage_one = [e for item in plan.items for e in item.stages[0]]
    stage_two = [e for item in plan.items for e in item.stages[1]]
    selected: list[pl.Expr] = [pl.col("row").cast(pl.Int64)]
    redo: list[tuple[int, _ItemPlan, int, list[int]]] = []  # item, its plan, first rule, plain rules
    k = 0
    for n, item in enumerate(plan.items):
        first_k = k
        plain_ones = []
        for rule, plain in zip(item.rules, item.plain, strict=True):
            selected.append((rule.expr if plain is None else plain).alias(f"__rule{k}"))
            if plain is not None:
                plain_ones.append(k)
            k += 1
        if plain_ones:
            assert item.suspect is not None
            selected.append(item.suspect.alias(f"__suspect{n}"))
            redo.append((n, item, first_k, plain_ones))
    staged = frame.lazy()
    for stage in (stage_one, stage_two):
        if stage:
            staged = staged.with_columns(stage)
    flags = staged.select(selected).collect()
    suspects = flags.select(pl.col(f"__suspect{n}").any() for n, *_ in redo).row(0) if redo else ()
    for (n, item, first_k, plain_ones), any_suspect in zip(redo, suspects, strict=True):
        if not any_suspect:
            continue
        at = flags.get_column(f"__suspect{n}").arg_true()
        exact = frame.select(pl.col(item.rules[0].item).gather(at)).lazy()
        for exact_stage in item.exact_stages:
            if exact_stage:
                exact = exact.with_columns(exact_stage)
        values = exact.select(
            item.rules[j - first_k].expr.alias(f"__rule{j}") for j in plain_ones
        ).collect()
        flags = flags.with_columns(
            flags.get_column(f"__rule{j}").scatter(at, values.get_column(f"__rule{j}")) for j in plain_ones
        )
    return flags.select(["row", *(f"__rule{j}" for j in range(k))])


def require_columns(frame: pl.DataFrame, names: list[str], layout: Layout) -> None:
    """Raise :class:`~mig.errors.ConfigError` unless ``frame`` has ``row`` and every column of ``names``."""
    if "row" not in frame.columns:
        raise ConfigError(f"frame for layout {layout.id} has no record id column 'row'")
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ConfigError(
            f"frame for layout {layout.id} lacks item column(s): {', '.join(missing)}"
        )


def validate_frame(frame: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """Findings (:data:`~mig.validation.findings.FINDING_SCHEMA`) for every rule ``frame`` breaks.

    ``frame`` holds ``row`` (Int64 record id) and one String column per item of
    ``layout`` (数値 too, e.g. ``"-12.50"``). Rows are sorted by row, item order, type
    (and code point for gaiji-unresolved).
    Rules: required-missing, length-exceeded (a base character plus its variation
    selector is one character), bytes-exceeded and — for CP932 — not-encodable (only for
    items with a ``bytes`` limit), type-digits, type-number, charclass-zenkaku /
    -hankaku / -control, date-invalid, date-unknown-not-allowed, yearmonth-invalid
    (年月 accepts month ``00`` only when the item's ``unknown`` is ``"month"``),
    code-unknown, checkdigit and gaiji-unresolved (a Private Use character in a text item:
    one finding per row, item and distinct character, ``detail`` its code point such as
    ``U+E003``; the only place unresolved 外字 are reported).

    A frame lacking ``row`` or an item column raises :class:`~mig.errors.ConfigError`.

    >>> from mig.layout import Item, Layout
    >>> layout = Layout("t", "b", "n", "s", "1", "", "", (Item(1, "x", "数字", 3, required=True),))
    >>> df = pl.DataFrame({"row": [1, 2, 3], "x": ["12", "1a", None]})
    >>> validate_frame(df, layout).rows()
    [(2, 'x', 'type-digits', None), (3, 'x', 'required-missing', None)]
    """
    require_columns(frame, layout.item_names, layout)
    plan = _plan(layout)
    rules = plan.rules
    if not rules or frame.height == 0:
        return empty_findings()
    flags = _flags(frame, plan)
    fired = flags.select(pl.exclude("row").any()).row(0, named=True)
    order = {name: n for n, name in enumerate(layout.item_names)}
    parts = [
        (
            order[rule.item],
            rule.type,
            _per_character(frame, flags.get_column(f"__rule{n}"), rule)
            if rule.each is not None
            else findings_where(flags, pl.col(f"__rule{n}"), rule.item, rule.type, rule.detail),
        )
        for n, rule in enumerate(rules)
        if fired[f"__rule{n}"]
    ]
    return concat_sorted(parts)


def _per_character(frame: pl.DataFrame, fired: pl.Series, rule: _Rule) -> pl.DataFrame:
    """One finding per row and distinct character matching ``rule.each`` in the rows where
    ``rule`` fired; ``detail`` is the code point. Sorted by row, then code point.

    Only the rows that fired are expanded (``extract_all`` + ``explode``); the code point of
    each *distinct* character is formatted once.
    """
    assert rule.each is not None
    hits = frame.lazy().filter(fired).select(
        pl.col("row").cast(pl.Int64),
        pl.col(rule.item).cast(pl.String).str.extract_all(rule.each).list.unique().alias("char"),
    ).explode("char").collect()
    codes = {c: f"U+{ord(c):04X}" for c in hits.get_column("char").unique().to_list()}
    return (
        hits.select(
            "row",
            pl.lit(rule.item, dtype=pl.String).alias("item"),
            pl.lit(rule.type, dtype=pl.String).alias("type"),
            pl.col("char").replace_strict(codes, return_dtype=pl.String).alias("detail"),
        )
        .sort("row", "detail")
        .cast(FINDING_SCHEMA)  # type: ignore[arg-type]
    )
