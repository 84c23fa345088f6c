"""What a sample column holds, from Polars statistics over the bounded sample.

Dates are recognised with the extract pipeline's own converters
(:func:`~mig.extract.transforms.wareki_to_seireki`,
:func:`~mig.extract.transforms.date_from_format`), so a column called 和暦 here converts
in ``mig extract``. Distinct values are kept only for columns that look like codes
(few distinct, short values): codes are no personal data, names and numbers are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import polars as pl

from mig.charsets import HALFWIDTH_KANA_CLASS
from mig.extract.transforms import date_from_format, wareki_to_seireki
from mig.jp import normalise_heading

#: 西暦 date formats tried, most specific first (the layout's own YYYYMMDD first).
DATE_FORMATS = ("%Y%m%d", "%Y/%m/%d", "%Y-%m-%d", "%Y.%m.%d", "%Y年%m月%d日")
#: Share of a column's filled values that must read as a date for it to count as one.
DATE_SHARE = 0.8
#: A code column: at most this many distinct values, each at most CODE_LENGTH characters.
CODE_DISTINCT = 30
CODE_LENGTH = 6
_HALF_KANA = f"[{HALFWIDTH_KANA_CLASS}]"
_SEPARATED_DIGITS = r"^[0-9０-９]+([-－ー‐ 　][0-9０-９]+)+$"
_YYMMDD = r"^[0-9０-９]{6}$"
_ERA_HEADING = re.compile("元号|年号|和暦|gengo|nengo|gengou|era")


@dataclass(frozen=True)
class ColumnProfile:
    """One sample column: how full it is and what kind of values it holds."""

    name: str
    filled: int
    distinct: int
    max_length: int
    wareki_share: float
    date_format: str | None
    halfwidth_kana: bool
    separated_digits: bool
    #: Some values have spaces around them (trim them before a code map or a check).
    padded: bool
    #: Distinct values, only for a code-like column (else ``None``): sorted.
    codes: tuple[str, ...] | None
    #: Values are YYMMDD read with the era (年号コード or name) in this other column.
    era_column: str | None = None
    #: Values are eras (年号コード 1–5, M/T/S/H/R, 明治…令和): an era column.
    era_like: bool = False

    @property
    def wareki(self) -> bool:
        return self.filled > 0 and self.wareki_share >= DATE_SHARE

    @property
    def is_date(self) -> bool:
        return self.wareki or self.date_format is not None or self.era_column is not None


def _share(ok: pl.Expr, filled: pl.Expr) -> pl.Expr:
    return (ok & filled).sum() / pl.max_horizontal(filled.sum(), pl.lit(1))


def profile_columns(rows: pl.DataFrame) -> dict[str, ColumnProfile]:
    """Profile every String column of ``rows`` (one pass of Polars expressions per column)."""
    profiles: dict[str, ColumnProfile] = {}
    yymmdd: dict[str, bool] = {}
    for name in rows.columns:
        value = pl.col(name).str.strip_chars(" \t\u3000")
        filled = value.is_not_null() & (value != "")
        wareki = wareki_to_seireki(value).struct.field("error").is_null()
        stats = rows.select(
            filled.sum().alias("filled"),
            value.filter(filled).n_unique().alias("distinct"),
            value.str.len_chars().max().fill_null(0).alias("max_length"),
            _share(wareki, filled).alias("wareki"),
            *(_share(date_from_format(value, fmt).is_not_null(), filled).alias(fmt) for fmt in DATE_FORMATS),
            value.str.contains(_HALF_KANA).fill_null(False).any().alias("kana"),
            (_share(value.str.contains(_SEPARATED_DIGITS).fill_null(False), filled) >= DATE_SHARE).alias("sep"),
            (pl.col(name) != value).fill_null(False).any().alias("padded"),
            _share(value.str.contains(_YYMMDD).fill_null(False), filled).alias("yymmdd"),
            # an era column: every value names an era (a date then may be out of that era, never unreadable)
            _share(
                wareki_to_seireki(pl.lit("010101"), value).struct.field("error").fill_null("") != "wareki-invalid",
                filled,
            ).alias("era"),
        ).row(0, named=True)
        filled_n = int(stats["filled"])
        date_format = next(
            (fmt for fmt in DATE_FORMATS if filled_n and float(stats[fmt]) >= DATE_SHARE), None
        )
        distinct = int(stats["distinct"])
        codes: tuple[str, ...] | None = None
        if 0 < distinct <= CODE_DISTINCT and int(stats["max_length"]) <= CODE_LENGTH:
            codes = tuple(
                sorted(rows.select(value.filter(filled).unique()).to_series().cast(pl.String).to_list())
            )
        profiles[name] = ColumnProfile(
            name=name,
            filled=filled_n,
            distinct=distinct,
            max_length=int(stats["max_length"]),
            wareki_share=float(stats["wareki"]) if filled_n else 0.0,
            date_format=date_format,
            halfwidth_kana=bool(stats["kana"]),
            separated_digits=bool(stats["sep"]) and filled_n > 0,
            padded=bool(stats["padded"]),
            codes=codes,
            era_like=codes is not None and filled_n > 0 and float(stats["era"]) >= DATE_SHARE,
        )
        yymmdd[name] = filled_n > 0 and float(stats["yymmdd"]) >= DATE_SHARE
    return _pair_eras(rows, profiles, yymmdd)


def _pair_eras(rows: pl.DataFrame, profiles: dict[str, ColumnProfile], yymmdd: dict[str, bool]) -> dict[str, ColumnProfile]:
    """Pair YYMMDD columns with the era column that makes them convert (:data:`DATE_SHARE`
    of the values), nearest pairs first; an era column serves one date column."""
    # a column of 1–5 may as well be a status code: an era column must also say so by name
    eras = [name for name, p in profiles.items() if p.era_like and _ERA_HEADING.search(normalise_heading(name))]
    order = {name: n for n, name in enumerate(rows.columns)}
    pairs: list[tuple[int, int, str, str]] = []
    for name in rows.columns:
        candidates = [e for e in eras if e != name]
        if not yymmdd[name] or profiles[name].is_date or not candidates:
            continue
        value = pl.col(name).str.strip_chars(" \t\u3000")
        filled = value.is_not_null() & (value != "")
        shares = rows.select(
            _share(wareki_to_seireki(value, pl.col(e)).struct.field("error").is_null(), filled).alias(e)
            for e in candidates
        ).row(0, named=True)
        pairs += [
            (abs(order[e] - order[name]), order[name], name, e) for e in candidates if float(shares[e]) >= DATE_SHARE
        ]
    dated: set[str] = set()
    taken: set[str] = set()
    for _, _, name, era in sorted(pairs):
        if name not in dated and era not in taken:
            dated.add(name)
            taken.add(era)
            profiles[name] = replace(profiles[name], era_column=era)
    return profiles
