"""What a sample column holds, from Polars statistics over the bounded sample.

Dates are recognised with the extract pipeline's own converters
(:func:`~mig.extract.transforms.wareki_to_seireki`,
:func:`~mig.extract.transforms.date_from_format`), so a column called 和暦 here converts
in ``mig extract``. Distinct values are kept only for columns that look like codes
(few distinct, short values): codes are no personal data, names and numbers are.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from mig.extract.transforms import date_from_format, wareki_to_seireki

#: 西暦 date formats tried, most specific first (the layout's own YYYYMMDD first).
DATE_FORMATS = ("%Y%m%d", "%Y/%m/%d", "%Y-%m-%d", "%Y.%m.%d", "%Y年%m月%d日")
#: Share of a column's filled values that must read as a date for it to count as one.
DATE_SHARE = 0.8
#: A code column: at most this many distinct values, each at most CODE_LENGTH characters.
CODE_DISTINCT = 30
CODE_LENGTH = 6
_HALF_KANA = "[\uff61-\uff9f]"
_SEPARATED_DIGITS = r"^[0-9０-９]+([-－ー‐ 　][0-9０-９]+)+$"


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

    @property
    def wareki(self) -> bool:
        return self.filled > 0 and self.wareki_share >= DATE_SHARE

    @property
    def is_date(self) -> bool:
        return self.wareki or self.date_format is not None


def _share(ok: pl.Expr, filled: pl.Expr) -> pl.Expr:
    return (ok & filled).sum() / pl.max_horizontal(filled.sum(), pl.lit(1))


def profile_columns(rows: pl.DataFrame) -> dict[str, ColumnProfile]:
    """Profile every String column of ``rows`` (one pass of Polars expressions per column)."""
    profiles: dict[str, ColumnProfile] = {}
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
        )
    return profiles
