"""外字 left in a package: Private Use characters and characters outside a target repertoire.

Two disjoint kinds of character are counted, per file and item, as Polars expressions
over whole columns (no loop over values):

- **Private Use** (未解決の外字): :data:`mig.charsets.PRIVATE_USE_CLASS` — the same
  ranges the ``gaiji-unresolved`` validation rule uses. A vendor's 外字 kept as CP932
  user-defined codes arrive here.
- **outside the repertoire**: any other character that the target repertoire
  (:data:`mig.charsets.REPERTOIRES`: ``jisx0213`` — the default —, ``cp932``,
  ``jisx0213+cp932``) lacks, by the same membership the load policies use.
  Variation selectors (as in IVS) never count: they refine the character before them.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from mig.charsets import (
    PRIVATE_USE_CLASS,
    VARIATION_SELECTOR_CLASS,
    check_repertoire,
    private_use_pattern,
)
from mig.charsets import outside_pattern as _outside


@cache
def outside_pattern(repertoire: str) -> str:
    """A regex matching one character the audit counts as outside ``repertoire``: not in
    it, not Private Use (counted apart) and not a variation selector.

    >>> import polars as pl
    >>> pl.select(pl.lit("髙橋𠮷\\u010a").str.count_matches(outside_pattern("jisx0213"))).item()
    3
    """
    return _outside(check_repertoire(repertoire), PRIVATE_USE_CLASS + VARIATION_SELECTOR_CLASS)


def count_expressions(columns: list[str], repertoire: str) -> list[pl.Expr]:
    """Per column: values holding Private Use / outside characters, and those characters.

    Output columns are named ``<column>\\x1fpua_values``, ``…pua_chars``,
    ``…out_values`` and ``…out_chars`` (UInt32 sums over the frame).

    >>> df = pl.DataFrame({"氏名": ["山田\\ue000", "𠮷野", None]})
    >>> pl.DataFrame(df.select(count_expressions(["氏名"], "jisx0213"))).row(0)
    (1, 1, 1, 1)
    """
    pua = private_use_pattern()
    outside = outside_pattern(repertoire)
    exprs: list[pl.Expr] = []
    for name in columns:
        v = pl.col(name).cast(pl.String)
        exprs += [
            v.str.contains(pua).sum().alias(f"{name}\x1fpua_values"),
            v.str.count_matches(pua).sum().alias(f"{name}\x1fpua_chars"),
            v.str.contains(outside).sum().alias(f"{name}\x1fout_values"),
            v.str.count_matches(outside).sum().alias(f"{name}\x1fout_chars"),
        ]
    return exprs


def distinct_characters(frame: pl.DataFrame, column: str, pattern: str) -> set[str]:
    """The distinct characters of ``column`` matching ``pattern`` (kept only to be counted)."""
    found = frame.select(
        pl.col(column).cast(pl.String).str.extract_all(pattern).explode().drop_nulls().unique()
    ).to_series()
    return set(found.to_list())
