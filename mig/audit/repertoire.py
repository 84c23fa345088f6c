"""外字 left in a package: Private Use characters and characters outside a target repertoire.

Two disjoint kinds of character are counted, per file and item, as Polars expressions
over whole columns (no loop over values):

- **Private Use** (未解決の外字): U+E000–U+F8FF and planes 15–16 (U+F0000–U+10FFFD) —
  the same ranges the ``gaiji-unresolved`` validation rule uses. A vendor's 外字 kept as
  CP932 user-defined codes arrive here.
- **outside the repertoire**: any other character that the target repertoire lacks.
  Repertoires (a character belongs when Python's codec can encode it):

  - ``jisx0213`` (default): JIS X 0213:2004 (JIS2004, 11,233 characters; codec
    ``euc_jis_2004``);
  - ``cp932``: Windows-31J without its user-defined area (codec ``cp932``);
  - ``jisx0213+cp932``: either of them (e.g. ``髙`` is CP932 only).

  Variation selectors (U+FE00–FE0F, U+E0100–E01EF, as in IVS) never count: they refine
  the character before them.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from mig.errors import UnknownNameError

PRIVATE_USE_CLASS = r"\x{E000}-\x{F8FF}\x{F0000}-\x{FFFFD}\x{100000}-\x{10FFFD}"
"""Private Use ranges as a regex class body (as in :mod:`mig.validation.rules`)."""

_VARIATION_SELECTORS = r"\x{FE00}-\x{FE0F}\x{E0100}-\x{E01EF}"

REPERTOIRES: dict[str, tuple[str, ...]] = {
    "jisx0213": ("euc_jis_2004",),
    "cp932": ("cp932",),
    "jisx0213+cp932": ("euc_jis_2004", "cp932"),
}
DEFAULT_REPERTOIRE = "jisx0213"

REPERTOIRE_LABELS: dict[str, str] = {
    "jisx0213": "JIS X 0213:2004",
    "cp932": "CP932",
    "jisx0213+cp932": "JIS X 0213:2004 ∪ CP932",
}


def _encodable_ranges(codecs: tuple[str, ...]) -> list[tuple[int, int]]:
    """Code point ranges some codec of ``codecs`` can encode (BMP and plane 2)."""
    ranges: list[list[int]] = []
    for cp in (*range(0xD800), *range(0xE000, 0x10000), *range(0x20000, 0x30000)):
        ch = chr(cp)
        ok = False
        for codec in codecs:
            try:
                ch.encode(codec)
            except UnicodeEncodeError:
                continue
            ok = True
            break
        if not ok:
            continue
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return [(lo, hi) for lo, hi in ranges]


@cache
def outside_pattern(repertoire: str) -> str:
    """A regex matching one character outside ``repertoire`` that is not Private Use.

    Built once per process from the codecs (a loop over code points, not over data).

    >>> import polars as pl
    >>> pl.select(pl.lit("髙橋𠮷").str.count_matches(outside_pattern("jisx0213"))).item()
    2
    """
    if repertoire not in REPERTOIRES:
        raise UnknownNameError("repertoire", repertoire, REPERTOIRES)
    body = "".join(
        rf"\x{{{lo:X}}}" if lo == hi else rf"\x{{{lo:X}}}-\x{{{hi:X}}}"
        for lo, hi in _encodable_ranges(REPERTOIRES[repertoire])
    )
    return rf"[^{body}{PRIVATE_USE_CLASS}{_VARIATION_SELECTORS}]"


def private_use_pattern() -> str:
    """A regex matching one Private Use character."""
    return f"[{PRIVATE_USE_CLASS}]"


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
