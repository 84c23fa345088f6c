"""Japanese domain tables and computations: eras and 和暦, check digits, kana / width tables.

The one place these facts live. :mod:`mig.extract.transforms` builds its Polars
expressions from them; the demo generator (:mod:`mig.demo.generator`) writes its synthetic
export with them. Tables are constants built once at import from :mod:`unicodedata`;
the computations take whole arrays or Polars expressions, never a row at a time.

>>> [(e.name, e.first_day.isoformat()) for e in ERAS[-2:]]
[('平成', '1989-01-08'), ('令和', '2019-05-01')]
>>> ERA_BOUNDARIES[-1]
(datetime.date(2019, 4, 30), datetime.date(2019, 5, 1))
>>> check_digit(12345678901, KOJIN_BANGO_WEIGHTS)
8
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt
import polars as pl

from mig.charsets import cp932_repertoire

__all__ = [
    "days_in_month",
    "display_width",
    "pad_display",
    "juminhyo_code_check_digit",
    "juminhyo_code_ok",
    "kojin_bango_check_digit",
    "kojin_bango_ok",
    "ALNUM_FULL_TO_HALF",
    "ALNUM_HALF_TO_FULL",
    "ERAS",
    "ERA_BOUNDARIES",
    "JUMINHYO_CODE_WEIGHTS",
    "KANA_FULL_TO_HALF",
    "HIRAGANA_TO_KATAKANA",
    "normalise_heading",
    "KANA_HALF_TO_FULL",
    "KOJIN_BANGO_WEIGHTS",
    "Era",
    "check_digit",
    "era_codes",
    "weighted_remainder",
    "CHECK_DIGITS",
    "CheckDigit",
]

IntArray = npt.NDArray[np.int64]

# ---------------------------------------------------------------------------------------
# eras (年号) and 和暦
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Era:
    """One 年号: its 年号コード (the code legacy systems store), names and days (inclusive)."""

    code: int
    name: str
    initial: str
    first_day: date
    last_day: date

    @property
    def first_year(self) -> int:
        """The Gregorian year of 元年."""
        return self.first_day.year

    @property
    def names(self) -> tuple[str, ...]:
        """How a legacy date may write the era: 年号コード, initial, name (``4``, ``H``, ``平成``)."""
        return (str(self.code), self.initial, self.name)


ERAS: tuple[Era, ...] = (
    Era(1, "明治", "M", date(1868, 10, 23), date(1912, 7, 29)),
    Era(2, "大正", "T", date(1912, 7, 30), date(1926, 12, 24)),
    Era(3, "昭和", "S", date(1926, 12, 25), date(1989, 1, 7)),
    Era(4, "平成", "H", date(1989, 1, 8), date(2019, 4, 30)),
    Era(5, "令和", "R", date(2019, 5, 1), date(9999, 12, 31)),
)
"""明治 … 令和 in order; ``ERAS[code - 1]`` is the era of 年号コード ``code``. 明治 is counted
from 明治元年9月8日 = 1868-10-23 (Gregorian), the day the 一世一元 edict took effect."""

ERA_BOUNDARIES: tuple[tuple[date, date], ...] = tuple(
    (before.last_day, after.first_day) for before, after in zip(ERAS, ERAS[1:], strict=False)
)
"""(last day of an era, first day of the next) for every change of era: 平成31年4月30日 /
令和元年5月1日 is the last."""

_EPOCH = date(1970, 1, 1)


def era_codes(days: IntArray) -> IntArray:
    """年号コード (1 明治 … 5 令和) of day numbers (days since 1970-01-01); 0 before 明治.

    >>> era_codes(np.array([(date(2019, 4, 30) - _EPOCH).days, (date(2019, 5, 1) - _EPOCH).days]))
    array([4, 5])
    """
    starts = np.array([(era.first_day - _EPOCH).days for era in ERAS], dtype=np.int64)
    return np.searchsorted(starts, days, side="right").astype(np.int64)


# ---------------------------------------------------------------------------------------
# check digits (modulus 11)
# ---------------------------------------------------------------------------------------

KOJIN_BANGO_WEIGHTS: tuple[int, ...] = tuple(n + 1 if n <= 6 else n - 5 for n in range(1, 12))
"""個人番号: weight of the n-th digit from the right of the 11-digit body, Qn = n+1 (n ≤ 6), n−5 (n ≥ 7)."""

JUMINHYO_CODE_WEIGHTS: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 2, 3, 4, 5)
"""住民票コード: weight of the n-th digit from the right of the 10-digit body."""


@overload
def check_digit(body: int, weights: tuple[int, ...]) -> int: ...
@overload
def check_digit(body: IntArray, weights: tuple[int, ...]) -> IntArray: ...
@overload
def check_digit(body: pl.Expr, weights: tuple[int, ...]) -> pl.Expr: ...
def check_digit(body: Any, weights: tuple[int, ...]) -> Any:
    """The modulus-11 check digit of non-negative integer bodies: 11 − (Σ digit × weight mod 11),
    0 where the remainder is 0 or 1. ``weights[0]`` applies to the rightmost digit.

    ``body`` is an ``int``, a NumPy integer array or an integer Polars expression; the
    result is of the same kind (whole arrays at once, no loop over rows).

    >>> check_digit(np.array([1234567890]), JUMINHYO_CODE_WEIGHTS)
    array([3])
    """
    # 11 - r, except r ≤ 1 gives 0: (11 - r) mod 11 maps r=0 to 0, then mod 10 maps r=1 (10) to 0
    return (-weighted_remainder(body, weights) + 11) % 11 % 10


@overload
def weighted_remainder(body: int, weights: tuple[int, ...]) -> int: ...
@overload
def weighted_remainder(body: IntArray, weights: tuple[int, ...]) -> IntArray: ...
@overload
def weighted_remainder(body: pl.Expr, weights: tuple[int, ...]) -> pl.Expr: ...
def weighted_remainder(body: Any, weights: tuple[int, ...]) -> Any:
    """Σ digit × weight mod 11 of non-negative integer bodies, ``weights[0]`` on the rightmost
    digit; digits left of ``len(weights)`` are ignored (leading zeros add nothing).

    >>> weighted_remainder(13101, (2, 3, 4, 5, 6))  # 1·6 + 3·5 + 1·4 + 0·3 + 1·2 = 27
    5
    """
    # The body stays the left operand throughout, so a Polars result keeps its name. Each
    # digit comes from the body itself (body // 10**k % 10), not from the previous quotient:
    # independent operations, which Polars evaluates about twice as fast as the chain.
    total = body % 10 * weights[0]
    for k, weight in enumerate(weights[1:], 1):
        total = total + body // 10**k % 10 * weight
    return total % 11


# ---------------------------------------------------------------------------------------
# kana and width (全角 / 半角)
# ---------------------------------------------------------------------------------------

_DAKUTEN_HALF = "\uff9e"  # ﾞ
_HANDAKUTEN_HALF = "\uff9f"  # ﾟ




def _kana_table() -> dict[str, str]:
    """半角カナ (U+FF61–FF9F) → 全角, voiced pairs first so they win over the bare base."""
    singles: dict[str, str] = {}
    for cp in range(0xFF61, 0xFF9E):
        singles[chr(cp)] = unicodedata.normalize("NFKC", chr(cp))
    # stand-alone (semi-)voiced marks become the spacing full-width marks ゛ ゜
    singles[_DAKUTEN_HALF] = "\u309b"
    singles[_HANDAKUTEN_HALF] = "\u309c"
    pairs: dict[str, str] = {}
    for half, full in singles.items():
        if len(full) != 1:
            continue
        for mark, combining in ((_DAKUTEN_HALF, "\u3099"), (_HANDAKUTEN_HALF, "\u309a")):
            composed = unicodedata.normalize("NFC", full + combining)
            # only pairs with a JIS X 0208 precomposed form (ヴ yes, ヷ ヺ no)
            if len(composed) == 1 and composed in cp932_repertoire():
                pairs[half + mark] = composed
    return {**pairs, **singles}


KANA_HALF_TO_FULL: dict[str, str] = _kana_table()
"""半角カナ → 全角: every U+FF61–FF9F character, and a base + ``ﾞ``/``ﾟ`` pair wherever JIS X
0208 has the precomposed character (``ｶﾞ`` → ガ, ``ｳﾞ`` → ヴ); pairs are listed first.
A bare ``ﾞ``/``ﾟ`` becomes the spacing mark ゛/゜."""

KANA_FULL_TO_HALF: dict[str, str] = {full: half for half, full in KANA_HALF_TO_FULL.items()}
"""全角 → 半角カナ, the inverse of :data:`KANA_HALF_TO_FULL` (ガ → ``ｶﾞ``, ー → ``ｰ``)."""

ALNUM_FULL_TO_HALF: dict[str, str] = {chr(cp): chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
"""全角英数字 and full-width ASCII symbols (U+FF01–FF5E) → ASCII, 全角スペース → ``' '``."""
ALNUM_FULL_TO_HALF["\u3000"] = " "

ALNUM_HALF_TO_FULL: dict[str, str] = {v: k for k, v in ALNUM_FULL_TO_HALF.items()}
"""ASCII 0x21–0x7E → U+FF01–FF5E, ``' '`` → 全角スペース."""

HIRAGANA_TO_KATAKANA: dict[str, str] = {chr(cp): chr(cp + 0x60) for cp in range(0x3041, 0x3097)}
"""ひらがな ぁ–ゖ (U+3041–3096) → カタカナ ァ–ヶ (the same sound, 0x60 further)."""

_HEADING_FOLD = str.maketrans(HIRAGANA_TO_KATAKANA)


def normalise_heading(text: str) -> str:
    """A column heading reduced to what identifies it, to compare with a 項目名称.

    半角カナ become 全角 (:data:`KANA_HALF_TO_FULL`, voiced pairs composed), then NFKC
    (全角英数字 → ASCII), ひらがな fold to カタカナ (:data:`HIRAGANA_TO_KATAKANA`), Latin letters
    to lower case, spaces, punctuation and symbols (``_ ・ （ ） 【 】 -`` …) are dropped and a
    voiced mark left alone joins its base (``カ゛`` → ``ガ``); the 長音 ``ー`` stays (a letter).
    Used to match a file's header row to a layout's 項目名称 (``mig audit``,
    ``mig guess``); only headings go through it, never values, so it is plain Python.

    >>> normalise_heading("氏名_ﾌﾘｶﾞﾅ"), normalise_heading("しめい　カナ"), normalise_heading("（ＩＤ）番号")
    ('氏名フリガナ', 'シメイカナ', 'id番号')
    >>> normalise_heading("生年月日") == normalise_heading(" 生年・月日 "), normalise_heading("カﾞ") == "ガ"
    (True, True)
    """
    if any("\uff61" <= c <= "\uff9f" for c in text):
        for half, full in KANA_HALF_TO_FULL.items():  # voiced pairs come first in the table
            text = text.replace(half, full)
    folded = unicodedata.normalize("NFKC", text).translate(_HEADING_FOLD).lower()
    kept = "".join(c for c in folded if unicodedata.category(c)[0] not in "PZSC")
    return unicodedata.normalize("NFC", kept)  # a voiced mark once spaced (カ゛) joins its base


def days_in_month(year: pl.Expr, month: pl.Expr) -> pl.Expr:
    """Days in ``month`` (1–12) of the Gregorian ``year``; null for another month.

    >>> pl.select(days_in_month(pl.lit(2000), pl.lit(2))).item()
    29
    """
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return (
        pl.when(month == 2)
        .then(pl.when(leap).then(pl.lit(29)).otherwise(pl.lit(28)))
        .when(month.is_in([4, 6, 9, 11]))
        .then(pl.lit(30))
        .when((month >= 1) & (month <= 12))
        .then(pl.lit(31))
        .otherwise(pl.lit(None, dtype=pl.Int32))
        .cast(pl.Int64)
    )


# ---------------------------------------------------------------------------------------
# check digits: the named checks of layout items (``check = "…"``)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckDigit:
    """A modulus-11 check digit: the last digit of a number checks the digits before it (the body).

    ``weights[n - 1]`` multiplies the n-th digit from the right of the body; ``digits[r]`` is
    the check digit when the weighted sum leaves remainder ``r`` (0–10), ``None`` where no
    digit is valid (a body with that remainder cannot carry a check digit, so every number
    built on it fails). ``body_digits`` is the fixed length of the body, or ``None`` for a
    serial of any length from 1 to ``len(weights)`` digits (leading zeros included).
    """

    name: str
    weights: tuple[int, ...]
    digits: tuple[int | None, ...]
    body_digits: int | None
    rule: str
    """The rule in one line, as the specification states it."""

    def of(self, body: int) -> int | None:
        """The check digit of one body (for examples, tests and test data), None if none is valid.

        >>> CHECK_DIGITS["地方公共団体コード"].of(13101)
        6
        """
        return self.digits[weighted_remainder(body, self.weights)]

    def digit(self, body: pl.Expr) -> pl.Expr:
        """The check digit (Int64) of a String ``body`` of digits; null where the body has the
        wrong shape or no digit is valid. The result keeps the name of ``body``.

        >>> pl.select(CHECK_DIGITS["宛名番号"].digit(pl.lit("1234567"))).item()
        4
        """
        s = body.cast(pl.String)
        remainder = weighted_remainder(s.cast(pl.Int64, strict=False), self.weights)
        digit = remainder.replace_strict(
            {r: d for r, d in enumerate(self.digits) if d is not None}, default=None, return_dtype=pl.Int64
        )
        return pl.when(s.str.contains(f"^{self._body_pattern}$")).then(digit)

    def ok(self, value: pl.Expr) -> pl.Expr:
        """True when ``value`` is a body plus its check digit, False otherwise, null for null.

        >>> pl.select(CHECK_DIGITS["地方公共団体コード"].ok(pl.lit("131016"))).item()
        True
        """
        s = value.cast(pl.String)
        # The shape (a body of digits plus one digit) without a regex: the byte length, then
        # Polars' integer parser, which takes ASCII digits and an optional leading "+" (refused
        # apart); at most 19 digits fit UInt64. Body and digit then come by arithmetic.
        shortest, longest = (self.body_digits or 1) + 1, (self.body_digits or len(self.weights)) + 1
        assert longest <= 19, self.name
        length = s.str.len_bytes()
        shaped = (length >= shortest) & (length <= longest) & ~s.str.starts_with("+")
        number = pl.when(shaped).then(s.cast(pl.UInt64, strict=False))
        remainder = weighted_remainder(number // 10, self.weights)
        expected = remainder.replace_strict(
            {r: d for r, d in enumerate(self.digits) if d is not None}, default=None, return_dtype=pl.Int64
        )
        matches = (expected == (number % 10).cast(pl.Int64)).fill_null(False)
        return pl.when(s.is_not_null()).then(matches)

    @property
    def _body_pattern(self) -> str:
        if self.body_digits is not None:
            return f"[0-9]{{{self.body_digits}}}"
        return f"[0-9]{{1,{len(self.weights)}}}"


_ELEVEN_MINUS = tuple(11 - r for r in range(11))
"""11 − remainder, before each rule says what remainders 0 and 1 (11 and 10) become."""

CHECK_DIGITS: dict[str, CheckDigit] = {
    check.name: check
    for check in (
        CheckDigit(
            "個人番号", KOJIN_BANGO_WEIGHTS, (0, 0, *_ELEVEN_MINUS[2:]), 11,
            "11 digits; weights n+1 (n ≤ 6), n−5 (n ≥ 7) for the n-th digit from the right; "
            "11 − remainder, 0 when the remainder is 0 or 1",
        ),
        CheckDigit(
            "住民票コード", JUMINHYO_CODE_WEIGHTS, (0, 0, *_ELEVEN_MINUS[2:]), 10,
            "10 digits; weights 2–7, 2–5 from the right; 11 − remainder, 0 when the remainder is 0 or 1",
        ),
        CheckDigit(
            "宛名番号", (2, 3, 4, 5, 6, 7) * 3, (0, None, *_ELEVEN_MINUS[2:]), None,
            "a serial of 1–18 digits; モジュラス11, weights 2–7 from the right (repeating); "
            "11 − remainder, 0 when the remainder is 0; a serial leaving remainder 1 has no check digit",
        ),
        CheckDigit(
            "世帯番号", (2, 3, 4, 5, 6, 7) * 3, (0, None, *_ELEVEN_MINUS[2:]), None,
            "as 宛名番号 (住民記録システム標準仕様書)",
        ),
        CheckDigit(
            "地方公共団体コード", (2, 3, 4, 5, 6), tuple(d % 10 for d in _ELEVEN_MINUS), 5,
            "5 digits; weights 6, 5, 4, 3, 2 from the left; (11 − remainder) mod 10",
        ),
    )
}
"""Every named check a layout item may declare (``check = "宛名番号"``), by name: the one
table the layout model (:data:`mig.layout.CHECK_RULES`) and the validation rules read.

>>> [name for name in CHECK_DIGITS]
['個人番号', '住民票コード', '宛名番号', '世帯番号', '地方公共団体コード']
>>> CHECK_DIGITS["宛名番号"].of(23) is None  # 3·2 + 2·3 = 12, remainder 1
True
"""


def kojin_bango_check_digit(first11: pl.Expr) -> pl.Expr:
    """The 個人番号 check digit (String) for an 11-digit body; null when not 11 digits.

    >>> pl.select(kojin_bango_check_digit(pl.lit("12345678901"))).item()
    '8'
    """
    return CHECK_DIGITS["個人番号"].digit(first11).cast(pl.String)


def juminhyo_code_check_digit(first10: pl.Expr) -> pl.Expr:
    """The 住民票コード check digit (String) for a 10-digit body; null when not 10 digits.

    >>> pl.select(juminhyo_code_check_digit(pl.lit("1234567890"))).item()
    '3'
    """
    return CHECK_DIGITS["住民票コード"].digit(first10).cast(pl.String)


def kojin_bango_ok(e: pl.Expr) -> pl.Expr:
    """True when ``e`` is 12 digits whose last is the 個人番号 check digit (null → null).

    >>> pl.select(kojin_bango_ok(pl.lit("123456789018"))).item()
    True
    """
    return CHECK_DIGITS["個人番号"].ok(e)


def juminhyo_code_ok(e: pl.Expr) -> pl.Expr:
    """True when ``e`` is 11 digits whose last is the 住民票コード check digit (null → null).

    >>> pl.select(juminhyo_code_ok(pl.lit("12345678903"))).item()
    True
    """
    return CHECK_DIGITS["住民票コード"].ok(e)


# -- display width (terminal columns) -------------------------------------------------------


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: 全角 (East Asian Width W or F) counts 2, a
    combining mark or variation selector 0, anything else 1.

    >>> display_width("氏名"), display_width("ｼﾒｲ"), display_width("abc"), display_width("葛\U000E0100")
    (4, 3, 3, 2)
    """
    return sum(
        0 if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf")
        else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def pad_display(text: str, width: int, align: Literal["<", ">"] = "<") -> str:
    """``text`` padded with spaces to ``width`` terminal columns (``"<"`` left-aligned,
    ``">"`` right-aligned); text already wider is returned as is.

    >>> pad_display("氏名", 6) + "|", pad_display("12", 4, ">") + "|"
    ('氏名  |', '  12|')
    """
    fill = " " * max(width - display_width(text), 0)
    return fill + text if align == ">" else text + fill
