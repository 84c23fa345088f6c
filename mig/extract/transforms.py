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

from collections.abc import Callable
from datetime import date

import polars as pl

from mig import jp
from mig.errors import UnknownNameError
from mig.jp import days_in_month

Transform = Callable[[pl.Expr], pl.Expr]

# ---------------------------------------------------------------------------------------
# character tables: :mod:`mig.jp` (built once from constants; never per row)
# ---------------------------------------------------------------------------------------

_KANA_FULL: dict[str, str] = jp.KANA_HALF_TO_FULL
_ALNUM_HALF: dict[str, str] = jp.ALNUM_FULL_TO_HALF
_ALNUM_FULL: dict[str, str] = jp.ALNUM_HALF_TO_FULL


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
    return alnum_fullwidth(kana_fullwidth(expr))


def upper(expr: pl.Expr) -> pl.Expr:
    """Upper-case letters (ASCII and full-width alike).

    >>> pl.select(upper(pl.lit("abｃ"))).item()
    'ABＣ'
    """
    return expr.str.to_uppercase()


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
        raise UnknownNameError("transform", name, TRANSFORMS) from None


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
