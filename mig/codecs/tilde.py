"""The 〜 family: characters CP932 and JIS-based decoders map to different code points.

CP932 (and eucJP-ms) decode 0x8160 〜 to U+FF5E FULLWIDTH TILDE where Shift_JIS, EUC-JP,
JIS X 0213 and the mainframe JIS-based tables give U+301C WAVE DASH; likewise for six more
characters (:data:`PAIRS`). Decoders decode exactly as their encoding does; afterwards a
mapping may normalise every text column of its source to one side, so that a name never
splits across two code points and 〜 never becomes ``?`` in a CP932 bundle::

    [source]
    normalise = "jis"      # "jis" | "cp932" | "none" (default); per [[files]] source too

``jis``
    the CP932 forms become the JIS forms (U+FF5E → U+301C, …): for JIS X 0213 targets.
``cp932``
    the JIS forms become the CP932 forms (U+301C → U+FF5E, …): for CP932 targets.
``none``
    nothing changes.

Every replaced character is counted (``U+FF5E→U+301C``: n) in the run report's file entry
(``normalised``). 0x815F ＼ is U+FF3C in both CP932 and Shift_JIS and is left alone.

>>> import polars as pl
>>> frame, counts = normalise_frame(pl.DataFrame({"row": [1, 2], "a": ["10時\uff5e12時", "\uff0d1"]}), "jis")
>>> frame["a"].to_list() == ["10時\u301c12時", "\u22121"], counts
(True, {'U+FF5E→U+301C': 1, 'U+FF0D→U+2212': 1})
"""

from __future__ import annotations

from typing import Literal, get_args

import polars as pl

from mig.errors import ConfigError

__all__ = ["NORMALISE_KEY", "NORMALISES", "Normalise", "PAIRS", "check_normalise", "normalise_frame"]

Normalise = Literal["jis", "cp932", "none"]
NORMALISES: tuple[str, ...] = get_args(Normalise)

NORMALISE_KEY = "normalise"
"""The ``[source]`` key choosing the normalisation; mig applies it, the adapter never sees it."""

#: (JIS form, CP932 form): what Shift_JIS / EUC-JP / JIS X 0213 and CP932 decode one code to.
PAIRS: tuple[tuple[str, str], ...] = (
    ("\u301c", "\uff5e"),  # 〜 WAVE DASH / ～ FULLWIDTH TILDE (0x8160, EUC 0xA1C1)
    ("\u2212", "\uff0d"),  # − MINUS SIGN / － FULLWIDTH HYPHEN-MINUS (0x817C)
    ("\u2016", "\u2225"),  # ‖ DOUBLE VERTICAL LINE / ∥ PARALLEL TO (0x8161)
    ("\u2014", "\u2015"),  # — EM DASH / ― HORIZONTAL BAR (0x815C)
    ("\u00a2", "\uffe0"),  # ¢ / ￠ (0x8191)
    ("\u00a3", "\uffe1"),  # £ / ￡ (0x8192)
    ("\u00ac", "\uffe2"),  # ¬ / ￢ (0x81CA)
)


def check_normalise(value: object) -> Normalise:
    """``value`` if it names a normalisation; else a :class:`ConfigError`.

    >>> check_normalise("JIS")
    Traceback (most recent call last):
    ...
    mig.errors.ConfigError: [source] normalise must be one of jis, cp932, none, not 'JIS'
    """
    if value not in NORMALISES:
        raise ConfigError(f"[source] normalise must be one of {', '.join(NORMALISES)}, not {str(value)[:40]!r}")
    return value  # type: ignore[return-value]


def _direction(target: Normalise) -> list[tuple[str, str]]:
    if target == "jis":
        return [(cp932, jis) for jis, cp932 in PAIRS]
    if target == "cp932":
        return list(PAIRS)
    return []


def normalise_frame(frame: pl.DataFrame, target: Normalise) -> tuple[pl.DataFrame, dict[str, int]]:
    """Normalise the String columns of ``frame``; return it and the count per replaced
    character (``"U+FF5E→U+301C"``: n, only those that occurred). One ``count_matches`` and
    one ``replace_many`` per column; no Python loop per row."""
    pairs = _direction(target)
    columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not pairs or not columns or frame.height == 0:
        return frame, {}
    sources = [a for a, _ in pairs]
    counted = frame.select(
        pl.sum_horizontal(pl.col(c).str.count_matches(source, literal=True).fill_null(0).sum() for c in columns).alias(source)
        for source in sources
    ).row(0)
    counts = {
        f"U+{ord(a):04X}→U+{ord(b):04X}": int(n) for (a, b), n in zip(pairs, counted, strict=True) if n
    }
    if counts:
        targets = [b for _, b in pairs]
        frame = frame.with_columns(pl.col(c).str.replace_many(sources, targets) for c in columns)
    return frame, counts
