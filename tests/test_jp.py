"""Japanese domain tables (mig.jp): era boundaries, check digits, kana / width tables."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig import jp
from mig.extract.transforms import alnum_fullwidth, alnum_halfwidth, kana_fullwidth

# -- eras ---------------------------------------------------------------------------------

# An independent restatement: (年号コード, name, first day as the 改元 was proclaimed).
FIRST_DAYS = [
    (1, "明治", date(1868, 10, 23)),
    (2, "大正", date(1912, 7, 30)),
    (3, "昭和", date(1926, 12, 25)),
    (4, "平成", date(1989, 1, 8)),
    (5, "令和", date(2019, 5, 1)),
]
EPOCH = date(1970, 1, 1)


def reference_era(day: date) -> int:
    return max((code for code, _, first in FIRST_DAYS if day >= first), default=0)


def test_era_table_is_contiguous_and_ordered() -> None:
    assert [(e.code, e.name, e.first_day) for e in jp.ERAS] == FIRST_DAYS
    for before, after in zip(jp.ERAS, jp.ERAS[1:], strict=False):
        assert before.last_day + timedelta(days=1) == after.first_day
    assert jp.ERAS[-1].last_day == date(9999, 12, 31)
    assert [e.names for e in jp.ERAS][3] == ("4", "H", "平成")


def test_heisei_reiwa_boundary() -> None:
    assert jp.ERA_BOUNDARIES[-1] == (date(2019, 4, 30), date(2019, 5, 1))  # 平成31年4月30日 / 令和元年5月1日
    assert jp.ERA_BOUNDARIES[0] == (date(1912, 7, 29), date(1912, 7, 30))
    assert len(jp.ERA_BOUNDARIES) == len(jp.ERAS) - 1
    days = np.array([(d - EPOCH).days for pair in jp.ERA_BOUNDARIES for d in pair], dtype=np.int64)
    assert jp.era_codes(days).tolist() == [1, 2, 2, 3, 3, 4, 4, 5]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 12, 31)), min_size=1, max_size=20))
def test_era_codes_match_the_reference(days: list[date]) -> None:
    numbers = np.array([(d - EPOCH).days for d in days], dtype=np.int64)
    assert jp.era_codes(numbers).tolist() == [reference_era(d) for d in days]


# -- check digits -----------------------------------------------------------------------------


def reference_check_digit(body: str, weights: tuple[int, ...]) -> int:
    """Plain restatement: weights[n-1] for the n-th digit from the right."""
    total = sum(int(d) * w for d, w in zip(reversed(body), weights, strict=True))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def test_weights() -> None:
    assert jp.KOJIN_BANGO_WEIGHTS == (2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6)
    assert jp.JUMINHYO_CODE_WEIGHTS == (2, 3, 4, 5, 6, 7, 2, 3, 4, 5)


def test_known_check_digits() -> None:
    assert jp.check_digit(12345678901, jp.KOJIN_BANGO_WEIGHTS) == 8
    assert jp.check_digit(1234567890, jp.JUMINHYO_CODE_WEIGHTS) == 3


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**11 - 1), st.integers(min_value=0, max_value=10**10 - 1))
def test_vectorised_check_digits_match_the_reference(kojin: int, juminhyo: int) -> None:
    got_k = int(jp.check_digit(np.array([kojin], dtype=np.int64), jp.KOJIN_BANGO_WEIGHTS)[0])
    got_j = int(jp.check_digit(np.array([juminhyo], dtype=np.int64), jp.JUMINHYO_CODE_WEIGHTS)[0])
    assert got_k == reference_check_digit(f"{kojin:011d}", jp.KOJIN_BANGO_WEIGHTS)
    assert got_j == reference_check_digit(f"{juminhyo:010d}", jp.JUMINHYO_CODE_WEIGHTS)
    assert jp.check_digit(kojin, jp.KOJIN_BANGO_WEIGHTS) == got_k
    expr = jp.check_digit(pl.col("b"), jp.JUMINHYO_CODE_WEIGHTS)
    assert pl.DataFrame({"b": [juminhyo]}).select(expr).item() == got_j


# -- kana and width ----------------------------------------------------------------------------


def test_kana_tables_are_inverse() -> None:
    assert len(jp.KANA_FULL_TO_HALF) == len(jp.KANA_HALF_TO_FULL)
    for half, full in jp.KANA_HALF_TO_FULL.items():
        assert jp.KANA_FULL_TO_HALF[full] == half
        assert all(0xFF61 <= ord(c) <= 0xFF9F for c in half)
        full.encode("cp932")
    assert jp.KANA_HALF_TO_FULL["ｳﾞ"] == "ヴ" and "ﾜﾞ" not in jp.KANA_HALF_TO_FULL  # ヷ: not in CP932


@pytest.mark.parametrize("full", sorted(jp.KANA_FULL_TO_HALF))
def test_half_width_kana_agrees_with_nfkc(full: str) -> None:
    half = jp.KANA_FULL_TO_HALF[full]
    if full not in "゛゜":  # the stand-alone marks: NFKC gives the combining ones
        assert unicodedata.normalize("NFKC", half) == full


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=sorted(set(jp.KANA_FULL_TO_HALF) - set("゛゜")) + list("山田 1A"), max_size=20))
def test_kana_round_trip_through_the_transform(text: str) -> None:
    # (not ゛/゜: after a base kana they compose with it, as a vendor's ﾞ/ﾟ should)
    half = "".join(jp.KANA_FULL_TO_HALF.get(c, c) for c in text)
    assert pl.select(kana_fullwidth(pl.lit(half))).item() == text


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20))
def test_alnum_width_round_trip(text: str) -> None:
    full = pl.select(alnum_fullwidth(pl.lit(text))).item()
    assert full == "".join(jp.ALNUM_HALF_TO_FULL[c] for c in text)
    assert pl.select(alnum_halfwidth(pl.lit(full))).item() == text
