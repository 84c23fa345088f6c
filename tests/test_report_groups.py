"""A report groups findings by type, item and detail — a bounded number of groups per item,
whatever the data, and the same groups whatever the batch size."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.validation.report import DETAILS_PER_ITEM, OTHER_DETAILS, FindingAccumulator


def findings(details: list[str | None], first_row: int = 1) -> pl.DataFrame:
    n = len(details)
    return pl.DataFrame(
        {
            "row": list(range(first_row, first_row + n)),
            "item": ["世帯番号"] * n,
            "type": ["fk-parent-rejected"] * n,
            "detail": details,
            "severity": ["error"] * n,
        },
        schema={"row": pl.Int64, "item": pl.String, "type": pl.String, "detail": pl.String, "severity": pl.String},
    )


def groups(acc: FindingAccumulator) -> list[tuple[str | None, int, list[int]]]:
    return sorted(((s.detail, s.count, s.rows) for s in acc.summaries()), key=lambda g: (g[0] is None, g[0] or ""))


def test_details_beyond_the_cap_are_counted_together() -> None:
    # every 世帯 rejected by a mapping mistake: one distinct detail per child
    details = [f"世帯番号 in juki-setai, row {n}" for n in range(1, 1001)]
    acc = FindingAccumulator(show_values=False)
    acc.add(findings(details))
    summaries = acc.summaries()
    assert len(summaries) == DETAILS_PER_ITEM + 1
    assert sum(s.count for s in summaries) == 1000
    other = next(s for s in summaries if s.detail == OTHER_DETAILS)
    assert other.count == 1000 - DETAILS_PER_ITEM
    assert other.rows[0] == DETAILS_PER_ITEM + 1  # the first details by row keep their own group


def test_null_details_and_few_details_are_untouched() -> None:
    acc = FindingAccumulator(show_values=False)
    acc.add(findings([None, "a", None, "b"]))
    assert groups(acc) == [("a", 1, [2]), ("b", 1, [4]), (None, 2, [1, 3])]


@settings(max_examples=60, deadline=None)
@given(
    details=st.lists(st.one_of(st.none(), st.integers(0, 120).map(str)), min_size=1, max_size=400),
    cuts=st.lists(st.integers(1, 399), max_size=6),
)
def test_the_same_groups_whatever_the_batches(details: list[str | None], cuts: list[int]) -> None:
    whole = FindingAccumulator(show_values=False)
    whole.add(findings(details))
    parts = FindingAccumulator(show_values=False)
    bounds = [0, *sorted({c for c in cuts if c < len(details)}), len(details)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        parts.add(findings(details[start:end], first_row=start + 1))
    assert groups(parts) == groups(whole)
    assert sum(count for _, count, _ in groups(whole)) == len(details)
