"""Mapping transforms: width and cleanup, 和暦 → 西暦, check digits — all as Polars expressions.

Every function here takes and returns :class:`polars.Expr`; nothing loops over rows or
characters. Character tables are built once, at import, from :mod:`unicodedata` and then
applied with ``str.replace_many`` (Aho–Corasick, leftmost-first with the longer pattern
listed first, so ``ｶﾞ`` wins over ``ｶ``).

>>> df = pl.DataFrame({"s": ["　ｶﾞｷﾞﾊﾟ ", "Ａｂｃ１２３"]})
>>> df.select(pl.col("s").pipe(get_transform("trim")).pipe(kana_fullwidth))["s"].to_list()
['ガギパ', 'Ａｂｃ１２３']
>>> df.select(alnum_halfwidth(pl.col("s")))["s"].to_list()[1]
'Abc123'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from mig import jp
from mig.errors import ConfigError, UnknownNameError
from mig.jp import days_in_month

Transform = Callable[[pl.Expr], pl.Expr]

# ---------------------------------------------------------------------------------------
# character tables: :mod:`mig.jp` (built once from constants; never per row)
# ---------------------------------------------------------------------------------------

_KANA_FULL: dict[str, str] = jp.KANA_HALF_TO_FULL
_ALNUM_HALF: dict[str, str] = jp.ALNUM_FULL_TO_HALF
_ALNUM_FULL: dict[str, str] = jp.ALNUM_HALF_TO_FULL
_ZENKAKU: dict[str, str] = {**_KANA_FULL, **_ALNUM_FULL}
assert not set(_KANA_FULL) & set(_ALNUM_FULL)


def _replace_table(expr: pl.Expr, table: dict[str, str]) -> pl.Expr:
    # leftmost-first: at one position the pattern listed first wins, so list longer first
    ordered = sorted(table, key=len, reverse=True)
    return expr.str.replace_many(ordered, [table[k] for k in ordered], leftmost=True)


# ---------------------------------------------------------------------------------------
# width / cleanup transforms
# ---------------------------------------------------------------------------------------


def trim(expr: pl.Expr) -> pl.Expr:
    """Strip ASCII space, tab and 全角スペース (U+3000) at both ends.

    >>> pl.select(trim(pl.lit("\\u3000 山田\\t"))).item()
    '山田'
    """
    return expr.str.strip_chars(" \t\u3000")


def kana_fullwidth(expr: pl.Expr) -> pl.Expr:
    """半角カナ → 全角カナ, voiced pairs included (ｶﾞ→ガ, ﾊﾟ→パ, ｳﾞ→ヴ); ｡｢｣､･ｰ → 。「」、・ー.

    Nothing outside U+FF61–FF9F changes. A ``ﾞ``/``ﾟ`` that cannot combine with the
    character before it becomes the spacing mark ``゛``/``゜``.

    >>> pl.select(kana_fullwidth(pl.lit("ｳﾞｧｲｵﾘﾝ｡ABC"))).item()
    'ヴァイオリン。ABC'
    """
    return _replace_table(expr, _KANA_FULL)


def alnum_halfwidth(expr: pl.Expr) -> pl.Expr:
    """全角英数字 and full-width ASCII symbols (U+FF01–FF5E) → ASCII; 全角スペース → ``' '``.

    >>> pl.select(alnum_halfwidth(pl.lit("ＡＢＣ　１２３－"))).item()
    'ABC 123-'
    """
    return _replace_table(expr, _ALNUM_HALF)


def alnum_fullwidth(expr: pl.Expr) -> pl.Expr:
    """ASCII 0x21–0x7E → U+FF01–FF5E and ``' '`` → 全角スペース (the reverse of :func:`alnum_halfwidth`).

    >>> pl.select(alnum_fullwidth(pl.lit("AB 12"))).item()
    'ＡＢ\\u3000１２'
    """
    return _replace_table(expr, _ALNUM_FULL)


def zenkaku(expr: pl.Expr) -> pl.Expr:
    """What a 全角文字 item wants: :func:`kana_fullwidth` then :func:`alnum_fullwidth`.

    >>> pl.select(zenkaku(pl.lit("ﾔﾏﾀﾞ 1"))).item()
    'ヤマダ\\u3000１'
    """
    # One pass over both tables: the kana keys all start with a 半角カナ, the others are ASCII,
    # and no kana result holds ASCII — so one leftmost-first pass makes the same choices as
    # kana_fullwidth then alnum_fullwidth (tests/test_fuse_equivalence.py checks it).
    return _replace_table(expr, _ZENKAKU)


def upper(expr: pl.Expr) -> pl.Expr:
    """Upper-case letters (ASCII and full-width alike).

    >>> pl.select(upper(pl.lit("abｃ"))).item()
    'ABＣ'
    """
    return expr.str.to_uppercase()


def digits(expr: pl.Expr) -> pl.Expr:
    """Keep the digits only (全角 digits become ASCII first): ``〒102-0083`` → ``1020083``.

    >>> pl.select(digits(pl.lit("〒１０２－００８３"))).item()
    '1020083'
    """
    return alnum_halfwidth(expr).str.replace_all(r"[^0-9]", "")


def juki_code(expr: pl.Expr) -> pl.Expr:
    """住基ネット統一文字コード tokens (``J+XXXX``) → MJ characters (:func:`mig.gaiji.resolve.juki_code`)."""
    from mig.gaiji.resolve import juki_code as resolve_juki

    return resolve_juki(expr)


def koseki_code(expr: pl.Expr) -> pl.Expr:
    """Values made of 戸籍統一文字番号 → MJ characters (:func:`mig.gaiji.resolve.koseki_code`)."""
    from mig.gaiji.resolve import koseki_code as resolve_koseki

    return resolve_koseki(expr)


TRANSFORMS: dict[str, Transform] = {
    "trim": trim,
    "kana_fullwidth": kana_fullwidth,
    "alnum_halfwidth": alnum_halfwidth,
    "alnum_fullwidth": alnum_fullwidth,
    "zenkaku": zenkaku,
    "upper": upper,
    "digits": digits,
    "juki_code": juki_code,
    "koseki_code": koseki_code,
}


def get_transform(name: str) -> Transform:
    """Return the transform called ``name``; an unknown name lists the names that exist.

    >>> get_transform("trim") is trim
    True
    """
    try:
        return TRANSFORMS[name]
    except KeyError:
        if name in PARAMETERISED:
            raise ConfigError(f"transform {name!r} takes a parameter: {PARAMETERISED[name]}") from None
        raise UnknownNameError("transform", name, [*TRANSFORMS, *PARAMETERISED]) from None


# ---------------------------------------------------------------------------------------
# transforms with parameters: an inline table in the item's ``transforms`` list
# ---------------------------------------------------------------------------------------

#: Transforms written as a table, and the form shown when one is given without its table.
PARAMETERISED: dict[str, str] = {
    "date": '{ date = "%Y/%m/%d" } (%Y, %m, %d and literal text)',
    "regex_replace": '{ regex_replace = "PATTERN", replacement = "" }',
    "pad_left": '{ pad_left = WIDTH, fill = "0" }',
}


@dataclass(frozen=True)
class TransformStep:
    """One entry of an item's ``transforms``: a name, its parameters, the expression builder.

    ``failure`` is the finding type raised where the step turns a non-empty value into
    null (the value was not readable, e.g. a ``date`` not in its format); ``detail`` is that
    finding's value-free detail (the format).
    """

    name: str
    apply: Transform
    label: str
    failure: str | None = None
    detail: str | None = None

    def __str__(self) -> str:
        return self.label


def transform_step(spec: str | Mapping[str, Any], where: str = "transform") -> TransformStep:
    """Build one ``transforms`` entry: a name (``"trim"``) or a table with parameters.

    A wrong parameter is one :class:`ConfigError` naming ``where`` (never a value).

    >>> transform_step("trim").name
    'trim'
    >>> step = transform_step({"pad_left": 4, "fill": "0"})
    >>> pl.select(step.apply(pl.lit("12"))).item(), str(step)
    ('0012', 'pad_left(4, fill="0")')
    >>> step = transform_step({"regex_replace": "[-ー]"})
    >>> pl.select(step.apply(pl.lit("03-1234ー5678"))).item()
    '0312345678'
    """
    if isinstance(spec, str):
        return TransformStep(spec, get_transform(spec), spec)
    kinds = [name for name in PARAMETERISED if name in spec]
    if len(kinds) != 1:
        raise ConfigError(f"{where}: a transform table holds exactly one of {', '.join(PARAMETERISED)}")
    kind = kinds[0]
    allowed = {"date": {"date"}, "regex_replace": {"regex_replace", "replacement"}, "pad_left": {"pad_left", "fill"}}[kind]
    unknown = sorted(str(k) for k in spec if k not in allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} for {kind}; allowed: {', '.join(sorted(allowed))}")
    if kind == "date":
        fmt = _param(spec, "date", str, where)
        _date_pattern(fmt, where)  # a wrong format fails when the mapping is loaded
        return TransformStep(
            "date", lambda e: date_from_format(e, fmt), f"date({fmt!r})", failure="date-invalid", detail=fmt
        )
    if kind == "regex_replace":
        pattern = _param(spec, "regex_replace", str, where)
        replacement = _param(spec, "replacement", str, where, default="")
        try:  # Polars' (Rust) regex syntax, checked on no rows
            pl.DataFrame(schema={"s": pl.String}).select(pl.col("s").str.replace_all(pattern, replacement))
        except Exception:
            raise ConfigError(f"{where}: regex_replace: not a valid regular expression (Rust regex syntax)") from None
        return TransformStep(
            "regex_replace",
            lambda e: e.str.replace_all(pattern, replacement),
            f"regex_replace({pattern!r}, {replacement!r})",
        )
    width = _param(spec, "pad_left", int, where)
    fill = _param(spec, "fill", str, where, default="0")
    if not 1 <= width <= 10_000 or len(fill) != 1:
        raise ConfigError(f"{where}: pad_left needs a width from 1 to 10000 and fill of one character")
    return TransformStep(
        "pad_left", lambda e: e.str.pad_start(width, fill), f"pad_left({width}, fill={fill!r})".replace("'", '"')
    )


def _param(spec: Mapping[str, Any], key: str, kind: type, where: str, default: Any = None) -> Any:
    value = spec.get(key, default)
    if value is None or not isinstance(value, kind) or isinstance(value, bool):
        expected = "an integer" if kind is int else "a string"
        raise ConfigError(f"{where}: {key}: expected {expected}")
    return value


# Date format directives → named groups. Other text is literal (after the same width
# folding as the values, so a format written with 全角 ／ matches both widths).
_FOLD_FORMAT = {ord(full): half for full, half in jp.ALNUM_FULL_TO_HALF.items()}
_DATE_DIRECTIVES = {"%Y": r"(?P<y>[0-9]{4})", "%m": r"(?P<m>[0-9]{1,2})", "%d": r"(?P<d>[0-9]{1,2})"}


def _date_pattern(fmt: str, where: str) -> tuple[str, bool]:
    """The regular expression of a ``date`` format and whether it has a day.

    >>> _date_pattern("%Y年%m月%d日", "t")
    ('^(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日$', True)
    >>> _date_pattern("%Y%m%d", "t")[0]  # no separators: every part has its full width
    '^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})$'
    """
    parts = re.split(r"(%.)", fmt.translate(_FOLD_FORMAT).strip(" "))
    seen: list[str] = []
    out = []
    for k, part in enumerate(parts):
        if k % 2 == 0:  # literal text between directives (re.split puts directives at odd places)
            out.append(re.escape(part))
            continue
        if part == "%%":
            out.append("%")
            continue
        if part not in _DATE_DIRECTIVES or part in seen:
            raise ConfigError(
                f"{where}: date format: {part} is not allowed (use each of %Y, %m, %d at most once)"
            )
        seen.append(part)
        pattern = _DATE_DIRECTIVES[part]
        # with no text between it and a neighbouring directive (%Y%m%d) a part has its full width
        glued = (k >= 2 and parts[k - 1] == "" and parts[k - 2] != "%%") or (
            k + 2 < len(parts) and parts[k + 1] == "" and parts[k + 2] != "%%"
        )
        out.append(pattern.replace("{1,2}", "{2}") if glued else pattern)
    if "%Y" not in seen or "%m" not in seen:
        raise ConfigError(f"{where}: date format needs %Y and %m (and %d for a 日付 item)")
    return "^" + "".join(out) + "$", "%d" in seen


def date_from_format(expr: pl.Expr, fmt: str) -> pl.Expr:
    """A Gregorian date written in ``fmt`` → ``YYYYMMDD`` (``YYYYMM`` without ``%d``).

    ``%Y`` is four digits, ``%m`` and ``%d`` one or two; 全角 digits and symbols, and
    spaces around the value, are accepted. 不詳 parts written ``0``/``00`` are kept as
    ``00`` (``2024/03/00`` → ``20240300``; a day with month 00 is invalid), as
    :func:`wareki_to_seireki` keeps them. A value that is not a real date in ``fmt`` is
    null (the mapping reports ``date-invalid`` for it); null and empty stay null.

    >>> df = pl.DataFrame({"d": ["2024/3/31", "２０２４／０２／２９", "2023/02/29", "2024/03/00", "31.3.2024", ""]})
    >>> df.select(date_from_format(pl.col("d"), "%Y/%m/%d"))["d"].to_list()
    ['20240331', '20240229', None, '20240300', None, None]
    >>> pl.select(date_from_format(pl.lit("令和6年"), "%Y年%m月%d日")).item() is None
    True
    """
    pattern, has_day = _date_pattern(fmt, "date")
    text = alnum_halfwidth(expr.cast(pl.String)).str.strip_chars(" \t")
    parts = text.str.extract_groups(pattern)
    y = parts.struct.field("y").cast(pl.Int64, strict=False)
    m = parts.struct.field("m").cast(pl.Int64, strict=False)
    d = parts.struct.field("d").cast(pl.Int64, strict=False) if has_day else pl.lit(0, dtype=pl.Int64)
    valid = (
        y.is_not_null() & m.is_not_null() & d.is_not_null()
        & (y >= 1) & (m <= 12)
        & ~((m == 0) & (d != 0))
        & ((m == 0) | (d <= days_in_month(y, m)))
    ).fill_null(False)
    value = pl.concat_str(
        y.cast(pl.String).str.zfill(4),
        m.cast(pl.String).str.zfill(2),
        *([d.cast(pl.String).str.zfill(2)] if has_day else []),
    )
    result = pl.when(valid).then(value).otherwise(pl.lit(None, dtype=pl.String))
    name = expr.meta.output_name(raise_if_undetermined=False)
    return result.alias(name) if name else result


# ---------------------------------------------------------------------------------------
# 和暦 → 西暦
# ---------------------------------------------------------------------------------------


def _yyyymmdd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


# 年号コード: (names accepted, first Gregorian year, first day, last day) — last day inclusive
_ERAS: dict[int, tuple[tuple[str, ...], int, int, int]] = {
    era.code: (era.names, era.first_year, _yyyymmdd(era.first_day), _yyyymmdd(era.last_day))
    for era in jp.ERAS
}
_ERA_INDEX: dict[str, int] = {name: idx for idx, (names, *_) in _ERAS.items() for name in names}
_ERA_ALT = "|".join(sorted(_ERA_INDEX, key=len, reverse=True))
_WAREKI_RE = (
    rf"^(?P<era>{_ERA_ALT})(?:"
    r"(?P<y1>[0-9]{2})(?P<m1>[0-9]{2})(?P<d1>[0-9]{2})"
    r"|(?P<y2>[0-9]{1,2})[./-](?P<m2>[0-9]{1,2})[./-](?P<d2>[0-9]{1,2})"
    r"|(?P<y3>[0-9]{1,2})年(?P<m3>[0-9]{1,2})月(?P<d3>[0-9]{1,2})日"
    r")$"
)


def _normalise_wareki(expr: pl.Expr) -> pl.Expr:
    return (
        alnum_halfwidth(expr.cast(pl.String))
        .str.replace_all(r"[ \t]", "")
        .str.to_uppercase()
        .str.replace_all("元年", "1年", literal=True)
    )


def _era_lookup(era: pl.Expr, column: int) -> pl.Expr:
    values = {idx: spec[column] for idx, spec in _ERAS.items()}
    return era.replace_strict(values, default=None, return_dtype=pl.Int64)


def wareki_stages(date: pl.Expr, era: pl.Expr | None, name: str) -> list[list[pl.Expr]]:
    """The 和暦 conversion as successive column stages ending in a Struct column ``name``.

    Evaluating stage by stage (``with_columns`` per stage) computes every intermediate once;
    as one nested expression the parsed parts would be recomputed at each use. Temporary
    columns are named ``{name}__*``; drop them afterwards.
    """
    t = f"{name}__"
    date_n = _normalise_wareki(date)
    text = date_n if era is None else pl.concat_str(_normalise_wareki(era).fill_null(""), date_n)
    parts = pl.col(t + "parts")

    def num(key: str) -> pl.Expr:
        return (
            pl.coalesce(*(parts.struct.field(f"{key}{n}") for n in (1, 2, 3)))
            .cast(pl.Int64, strict=False)
            .alias(t + key)
        )

    era_idx, y, m, d, g = (pl.col(t + k) for k in ("era", "y", "m", "d", "g"))
    first, last, ymd = pl.col(t + "first"), pl.col(t + "last"), pl.col(t + "ymd")
    base = _era_lookup(era_idx, 1)
    invalid, in_era, empty = pl.col(t + "invalid"), pl.col(t + "in_era"), pl.col(t + "empty")
    error = pl.col(t + "error")
    return [
        [text.alias(t + "text"), (date_n.is_null() | (date_n == "")).alias(t + "empty")],
        [pl.col(t + "text").str.extract_groups(_WAREKI_RE).alias(t + "parts")],
        [
            parts.struct.field("era").replace_strict(_ERA_INDEX, default=None, return_dtype=pl.Int64).alias(t + "era"),
            num("y"),
            num("m"),
            num("d"),
        ],
        [
            (base + y - 1).alias(t + "g"),
            _era_lookup(era_idx, 2).alias(t + "first"),
            _era_lookup(era_idx, 3).alias(t + "last"),
            (_era_lookup(era_idx, 3) // 10000 - base + 1).alias(t + "max_year"),
        ],
        [(g * 10000 + m * 100 + d).alias(t + "ymd"), days_in_month(g, m).alias(t + "dim")],
        [
            (
                era_idx.is_null()
                | y.is_null()
                | (y < 1)
                | (y > pl.col(t + "max_year"))
                | (m > 12)
                | ((m == 0) & (d != 0))
                | ((m != 0) & (d > pl.col(t + "dim")))
            ).fill_null(True).alias(t + "invalid"),
            (
                pl.when(d != 0)
                .then((ymd >= first) & (ymd <= last))
                .when(m != 0)
                .then((ymd // 100 >= first // 100) & (ymd // 100 <= last // 100))
                .otherwise((g >= first // 10000) & (g <= last // 10000))
            ).fill_null(False).alias(t + "in_era"),
        ],
        [
            pl.when(empty)
            .then(pl.lit(None, dtype=pl.String))
            .when(invalid)
            .then(pl.lit("wareki-invalid"))
            .when(~in_era)
            .then(pl.lit("wareki-out-of-era"))
            .otherwise(pl.lit(None, dtype=pl.String))
            .alias(t + "error")
        ],
        [
            pl.struct(
                pl.when(error.is_null() & ~empty)
                .then(
                    pl.concat_str(
                        g.cast(pl.String).str.zfill(4),
                        m.cast(pl.String).str.zfill(2),
                        d.cast(pl.String).str.zfill(2),
                    )
                )
                .otherwise(pl.lit(None, dtype=pl.String))
                .alias("value"),
                error.alias("error"),
            ).alias(name)
        ],
    ]


def wareki_to_seireki(date: pl.Expr, era: pl.Expr | None = None) -> pl.Expr:
    """Convert a 和暦 date to ``YYYYMMDD``: a Struct of ``value`` and ``error`` (both String).

    ``error`` is null when the date converted or when the input is null/empty, else
    ``"wareki-invalid"`` (not a 和暦 date: unreadable, a year the era never reached such
    as 昭和65年, month 13, 平成4年2月30日, month 00 with a day) or
    ``"wareki-out-of-era"`` (a year the era had, but a date outside it, such as
    平成31年5月1日 or 令和元年4月30日). ``value`` is null whenever ``error`` is set.

    With ``era``: it holds a 年号コード (``1`` 明治 … ``5`` 令和), an era name or its
    initial (M/T/S/H/R, any case) and ``date`` holds ``YYMMDD``. Without: ``date``
    carries the era itself (``4310430``, ``H310430``, ``H31.04.30``, ``H31/4/30``,
    ``平成31年4月30日``, ``平成元年5月1日``); full-width digits and spaces are accepted.

    不詳 parts are written ``00`` and stay ``00`` (平成31年04月00日 → ``20190400``); the
    era range is then checked at the granularity known (平成31年05月00日 is out of era).

    >>> df = pl.DataFrame({"d": ["H31.4.30", "平成31年5月1日", "令和元年00月00日", ""]})
    >>> df.select(wareki_to_seireki(pl.col("d")).alias("w")).unnest("w").rows()
    [('20190430', None), (None, 'wareki-out-of-era'), ('20190000', None), (None, None)]
    """
    name = date.meta.output_name(raise_if_undetermined=False) or "wareki"
    inputs = [date.cast(pl.String).alias("date")]
    if era is not None:
        inputs.append(era.cast(pl.String).alias("era"))

    def convert(columns: pl.Series) -> pl.Series:
        # Runs once per batch (not per row): the stages evaluate each intermediate once.
        stages = wareki_stages(pl.col("date"), pl.col("era") if era is not None else None, "w")
        frame = columns.struct.unnest().lazy()
        for stage in stages:
            frame = frame.with_columns(stage)
        return frame.select("w").collect().to_series()

    return (
        pl.struct(inputs)
        .map_batches(convert, return_dtype=WAREKI_DTYPE)
        .alias(name)
    )


WAREKI_DTYPE = pl.Struct({"value": pl.String, "error": pl.String})
