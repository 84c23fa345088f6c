"""Vectorised validation of a standard-layout frame against its :class:`~mig.layout.Layout`.

Every rule is a Polars expression over a whole column. All rules of a layout are evaluated
in one ``select`` (one pass, parallel over columns); each rule that fired anywhere then
becomes findings through :func:`mig.validation.findings.findings_where`. Findings name the row, the
item and the rule — never the value.

Empty string and null both count as *empty*: an empty value only ever yields
``required-missing`` (when the item is required); every other rule looks at non-empty
values only.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from mig.extract.transforms import days_in_month, juminhyo_code_ok, kojin_bango_ok
from mig.layout import BYTE_ENCODINGS, Item, Layout
from mig.validation.findings import empty_findings, findings_where


@dataclass(frozen=True)
class _Rule:
    item: str
    type: str
    detail: str | None
    expr: pl.Expr


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


def _date_rules(item: Item, v: pl.Expr) -> list[_Rule]:
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
    return [
        _Rule(item.name, "date-invalid", None, ~shape_ok),
        _Rule(item.name, "date-unknown-not-allowed", None, shape_ok & not_allowed),
    ]


def _yearmonth_rule(item: Item, v: pl.Expr) -> _Rule:
    y = v.str.slice(0, 4).cast(pl.Int64, strict=False)
    m = v.str.slice(4, 2).cast(pl.Int64, strict=False)
    lowest = 0 if item.unknown == "month" else 1
    ok = v.str.contains(r"^[0-9]{6}$") & (y >= 1) & (m >= lowest) & (m <= 12)
    return _Rule(item.name, "yearmonth-invalid", None, ~ok.fill_null(False))


def _item_rules(item: Item, layout: Layout) -> list[_Rule]:
    """Every rule of one item, each as 'this row breaks it' over non-empty values."""
    v = pl.col(item.name).cast(pl.String)
    rules: list[_Rule] = []
    if item.type != "数値":  # for 数値, length counts digits: type-number checks it
        rules.append(
            _Rule(item.name, "length-exceeded", str(item.length), char_count(v) > item.length)
        )
    if item.bytes is not None:
        rules.append(
            _Rule(
                item.name,
                "bytes-exceeded",
                str(item.bytes),
                byte_count(v, layout.byte_encoding) > item.bytes,
            )
        )
        if layout.byte_encoding == "cp932":
            # CP932's repertoire; Private Use (U+E000–F8FF) passes — CP932 has user-defined
            # codes for 外字 (gaiji-unresolved reports them) — and so do variation
            # selectors, which are dropped (0 bytes) when writing CP932
            holdable = BMP_PRIVATE_USE_CLASS + VARIATION_SELECTOR_CLASS
            unholdable = outside_pattern("cp932", holdable)
            rules.append(_Rule(item.name, "not-encodable", "cp932", v.str.contains(unholdable)))
    if item.type == "数字":
        rules.append(_Rule(item.name, "type-digits", None, ~v.str.contains(r"^[0-9]+$")))
    elif item.type == "数値":
        rules.append(
            _Rule(
                item.name,
                "type-number",
                f"{item.length},{item.scale}",
                ~v.str.contains(_number_pattern(item)),
            )
        )
    elif item.type == "全角文字":
        rules.append(
            _Rule(
                item.name,
                "charclass-zenkaku",
                None,
                v.str.contains(CP932_SINGLE_BYTE_PATTERN),
            )
        )
    elif item.type == "半角文字":
        rules.append(
            _Rule(item.name, "charclass-hankaku", None, v.str.contains(r"[^\x{20}-\x{7E}]"))
        )
    elif item.type == "日付":
        rules.extend(_date_rules(item, v))
    elif item.type == "年月":
        rules.append(_yearmonth_rule(item, v))
    if item.type in TEXT_TYPES:
        rules.append(_Rule(item.name, "charclass-control", None, v.str.contains(CONTROL_PATTERN)))
        rules.append(_Rule(item.name, "gaiji-unresolved", None, v.str.contains(private_use_pattern())))
    if item.code_table is not None:
        table = layout.codes.get(item.code_table)
        if table is None:
            raise UnknownNameError(f"code table (item {item.name})", item.code_table, layout.codes)
        known = pl.Series(list(table.codes), dtype=pl.String)
        rules.append(_Rule(item.name, "code-unknown", table.name, ~v.is_in(known.implode())))
    if item.check == "個人番号":
        rules.append(_Rule(item.name, "checkdigit", item.check, ~kojin_bango_ok(v)))
    elif item.check == "住民票コード":
        rules.append(_Rule(item.name, "checkdigit", item.check, ~juminhyo_code_ok(v)))

    present = v.is_not_null() & (v != "")
    guarded = [_Rule(r.item, r.type, r.detail, (present & r.expr).fill_null(False)) for r in rules]
    if item.required:
        guarded.insert(0, _Rule(item.name, "required-missing", None, ~present))
    return guarded


def _check_columns(frame: pl.DataFrame, names: list[str], layout: Layout) -> None:
    if "row" not in frame.columns:
        raise ConfigError(f"frame for layout {layout.id} has no record id column 'row'")
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ConfigError(
            f"frame for layout {layout.id} lacks item column(s): {', '.join(missing)}"
        )


def _sorted(parts: list[tuple[int, str, pl.DataFrame]]) -> pl.DataFrame:
    """Concatenate ``(item order, type, findings)`` parts sorted by row, item order, type.

    Each part has one item and one type, so the sort key is a small integer rank per
    part plus the row: no string comparison over the findings themselves.
    """
    if not parts:
        return empty_findings()
    ranked = sorted(parts, key=lambda part: (part[0], part[1]))
    return (
        pl.concat(
            [
                frame.with_columns(pl.lit(rank, dtype=pl.Int32).alias("__rank"))
                for rank, (_, _, frame) in enumerate(ranked)
            ],
            how="vertical",
        )
        .sort(["row", "__rank"], maintain_order=True)
        .drop("__rank")
    )


def validate_frame(frame: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """Findings (:data:`~mig.validation.findings.FINDING_SCHEMA`) for every rule ``frame`` breaks.

    ``frame`` holds ``row`` (Int64 record id) and one String column per item of
    ``layout`` (数値 too, e.g. ``"-12.50"``). Rows are sorted by row, item order, type.
    Rules: required-missing, length-exceeded (a base character plus its variation
    selector is one character), bytes-exceeded and — for CP932 — not-encodable (only for
    items with a ``bytes`` limit), type-digits, type-number, charclass-zenkaku /
    -hankaku / -control, date-invalid, date-unknown-not-allowed, yearmonth-invalid
    (年月 accepts month ``00`` only when the item's ``unknown`` is ``"month"``),
    code-unknown, checkdigit and gaiji-unresolved (Private Use characters in a text item).

    A frame lacking ``row`` or an item column raises :class:`~mig.errors.ConfigError`.

    >>> from mig.layout import Item, Layout
    >>> layout = Layout("t", "b", "n", "s", "1", "", "", (Item(1, "x", "数字", 3, required=True),))
    >>> df = pl.DataFrame({"row": [1, 2, 3], "x": ["12", "1a", None]})
    >>> validate_frame(df, layout).rows()
    [(2, 'x', 'type-digits', None), (3, 'x', 'required-missing', None)]
    """
    _check_columns(frame, layout.item_names, layout)
    rules = [rule for item in layout.items for rule in _item_rules(item, layout)]
    if not rules or frame.height == 0:
        return empty_findings()
    flags = (
        frame.lazy()
        .select(
            pl.col("row").cast(pl.Int64),
            *(rule.expr.alias(f"__rule{n}") for n, rule in enumerate(rules)),
        )
        .collect()
    )
    fired = flags.select(pl.exclude("row").any()).row(0, named=True)
    order = {name: n for n, name in enumerate(layout.item_names)}
    parts = [
        (
            order[rule.item],
            rule.type,
            findings_where(flags, pl.col(f"__rule{n}"), rule.item, rule.type, rule.detail),
        )
        for n, rule in enumerate(rules)
        if fired[f"__rule{n}"]
    ]
    return _sorted(parts)


def check_foreign_keys(
    frame: pl.DataFrame, layout: Layout, keys: Mapping[str, pl.Series | None]
) -> pl.DataFrame:
    """Findings for ``layout.foreign_keys``: values with no match in the referenced file.

    ``keys`` maps a referenced layout id to the Series of its known key values (the
    ``target_item`` column of that file), or to ``None`` when that file was not part of
    the run; a layout id missing from ``keys`` counts as ``None``.

    - a non-empty value absent from the key set → ``fk-missing`` on that row, detail
      ``"<target_item> in <layout id>"``;
    - key set ``None`` → a single ``fk-not-checked`` finding for the whole file, with
      ``row = -1`` and detail = the referenced layout id.

    >>> from mig.layout import ForeignKey, Item, Layout
    >>> layout = Layout("a", "b", "n", "s", "1", "", "", (Item(1, "k", "数字", 3),),
    ...                 foreign_keys=(ForeignKey("k", "p", "id"),))
    >>> df = pl.DataFrame({"row": [1, 2, 3], "k": ["1", "9", ""]})
    >>> check_foreign_keys(df, layout, {"p": pl.Series(["1", "2"])}).rows()
    [(2, 'k', 'fk-missing', 'id in p')]
    >>> check_foreign_keys(df, layout, {}).rows()
    [(-1, 'k', 'fk-not-checked', 'p')]
    """
    _check_columns(frame, [fk.item for fk in layout.foreign_keys], layout)
    order = {name: n for n, name in enumerate(layout.item_names)}
    parts: list[tuple[int, str, pl.DataFrame]] = []
    for fk in layout.foreign_keys:
        known = keys.get(fk.layout)
        if known is None:
            whole_file = pl.DataFrame({"row": [-1]}, schema={"row": pl.Int64})
            found = findings_where(whole_file, pl.lit(True), fk.item, "fk-not-checked", fk.layout)
            parts.append((order[fk.item], "fk-not-checked", found))
            continue
        key_set = known.cast(pl.String).drop_nulls().unique()
        v = pl.col(fk.item).cast(pl.String)
        missing = v.is_not_null() & (v != "") & ~v.is_in(key_set.implode())
        detail = f"{fk.target_item} in {fk.layout}"
        parts.append(
            (
                order[fk.item],
                "fk-missing",
                findings_where(frame, missing, fk.item, "fk-missing", detail),
            )
        )
    return _sorted(parts)
