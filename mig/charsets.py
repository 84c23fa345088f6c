"""Character classes and target repertoires — the one place that defines them.

Everything that asks "is this character Private Use / a variation selector / a control
character / half-width kana?" or "does the target hold it?" asks this module, so that
validation, the 外字 resolver, the load policies, the loader bundle and the audit count the
same characters.

**Classes** (each as code point ranges, a regex class body for Polars and a predicate):

- Private Use (未解決の外字): the BMP area U+E000–U+F8FF and planes 15–16
  (U+F0000–U+FFFFD, U+100000–U+10FFFD) — :data:`PRIVATE_USE_CLASS`;
- CP932's user-defined area: U+E000–U+E757, the code points Python's ``cp932`` codec maps
  to F040–F9FC — :data:`CP932_USER_DEFINED`; eucJP-ms maps its two user-defined areas to
  the same code points — :data:`EUCJP_USER_DEFINED`;
- variation selectors: VS1–16 (U+FE00–FE0F) and the ideographic VS17–256
  (U+E0100–E01EF, as in IVS) — :data:`VARIATION_SELECTOR_CLASS`;
- control characters: C0 and DEL (U+0000–001F, U+007F) — :data:`CONTROL_PATTERN`;
- half-width katakana U+FF61–FF9F, and with ASCII the characters CP932 writes in one byte —
  :data:`CP932_SINGLE_BYTE_PATTERN`;
- the item types holding free text — :data:`TEXT_TYPES`.

**Target repertoires** (:data:`REPERTOIRES`, name → label):

- ``jisx0213``: JIS X 0213:2004. The standard has 11,233 double-byte characters in two
  planes (JIS X 0213:2000's 11,223 plus the ten added in 2004: 1-14-1, 1-15-94, 1-47-52,
  1-47-94, 1-84-7, 1-94-90…94); plane 1 contains JIS X 0208, plane 2 has 2,436
  characters in rows 1, 3–5, 8, 12–15 and 78–94. The set is built from Python's
  ``shift_jis_2004`` codec, which matches the standard: it decodes exactly 11,233
  two-byte codes (25 of them to two code points: か゚, accented letters, tone letters).
  Python's ``euc_jis_2004`` does **not** match it and is not used: EUC reaches plane 2
  through SS3 (0x8F), the prefix EUC-JP uses for JIS X 0212, and the codec falls back to
  JIS X 0212 for every SS3 code plane 2 lacks — it decodes 8,503 SS3 codes instead of
  2,436 and encodes 3,160 code points JIS X 0213 lacks (``Ċ`` U+010A, ``丄`` U+4E04, …).
  ``iso2022_jp_2004`` adds its own ASCII / JIS X 0201 quirks, so it is not used either.
  Membership is per code point: a character the standard maps to a sequence counts
  through its parts (so the combining U+309A of ``か゚`` is in). Single bytes are taken as
  ASCII (with the C0 controls and DEL) and half-width katakana, as Japanese databases
  read them: U+00A5 / U+203E, which the codec writes as 0x5C / 0x7E, are *not* in.
  11,398 code points.
- ``cp932``: Windows-31J (JIS X 0208, the NEC and IBM extensions, ASCII, C0 controls
  and half-width katakana) *without* its user-defined area — every character a CP932 code
  decodes to and that encodes back to that code. So the Microsoft-only single bytes
  (0x80, 0xA0, 0xFD–0xFF) and the codec's one-way "best fit" encodings (U+301C WAVE DASH,
  U+2212 MINUS SIGN, U+2016, U+00A2, U+00A3, U+00AC: they would come back as other
  characters) are *not* in. 7,517 code points. ``髙`` (IBM extension) is in it, not in
  JIS X 0213.
- ``jisx0213+cp932``: either of them.

Tables are built once per process (a loop over code points, never over data) and cached;
"outside" patterns are regex classes Polars evaluates over whole columns.

>>> "﨑" in repertoire("jisx0213"), "髙" in repertoire("jisx0213"), "髙" in repertoire("cp932")
(True, False, True)
>>> import polars as pl
>>> pl.select(pl.lit("髙橋𠮷\\ue000").str.count_matches(outside_pattern("jisx0213"))).item()
3
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from mig.errors import UnknownNameError

__all__ = [
    "BMP_PRIVATE_USE_CLASS",
    "CONTROL_PATTERN",
    "CP932_SINGLE_BYTE_PATTERN",
    "CP932_USER_DEFINED",
    "CP932_USER_DEFINED_CLASS",
    "DEFAULT_REPERTOIRE",
    "EUCJP_USER_DEFINED",
    "HALFWIDTH_KANA_CLASS",
    "PRIVATE_USE_CLASS",
    "PRIVATE_USE_RANGES",
    "REPERTOIRES",
    "TEXT_TYPES",
    "VARIATION_SELECTOR_CLASS",
    "VARIATION_SELECTOR_PATTERN",
    "VARIATION_SELECTOR_RANGES",
    "VARIATION_SEQUENCE_PATTERN",
    "check_repertoire",
    "cp932_repertoire",
    "is_control",
    "is_cp932_user_defined",
    "is_private_use",
    "is_variation_selector",
    "jisx0213_repertoire",
    "outside_pattern",
    "private_use_pattern",
    "ranges_class",
    "repertoire",
    "repertoire_label",
]

# -- item types ---------------------------------------------------------------------------

TEXT_TYPES: tuple[str, ...] = ("全角文字", "半角文字", "混在文字")
"""Item types holding free text: control-character and 外字 checks, the 外字 resolver and
the load policies apply to them."""

# -- classes ------------------------------------------------------------------------------


def ranges_class(ranges: Iterable[tuple[int, int]]) -> str:
    """A regex class body (no brackets) for inclusive code point ranges.

    >>> ranges_class([(0xE000, 0xF8FF), (0x41, 0x41)])
    '\\\\x{E000}-\\\\x{F8FF}\\\\x{41}'
    """
    return "".join(
        rf"\x{{{lo:X}}}" if lo == hi else rf"\x{{{lo:X}}}-\x{{{hi:X}}}" for lo, hi in ranges
    )


def _in(cp: int, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


PRIVATE_USE_RANGES: tuple[tuple[int, int], ...] = (
    (0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD),
)
"""Private Use code points: the BMP area and planes 15–16 (their last two code points
of each plane are noncharacters, not Private Use)."""

PRIVATE_USE_CLASS: str = ranges_class(PRIVATE_USE_RANGES)
"""Private Use as a regex class body."""

BMP_PRIVATE_USE_CLASS: str = ranges_class(PRIVATE_USE_RANGES[:1])
"""The BMP Private Use area U+E000–U+F8FF as a regex class body."""

CP932_USER_DEFINED: tuple[int, int] = (0xE000, 0xE757)
"""The Private Use code points Python's ``cp932`` codec maps to the user-defined area
F040–F9FC (first and last, inclusive)."""

CP932_USER_DEFINED_CLASS: str = ranges_class([CP932_USER_DEFINED])
"""CP932's user-defined area as a regex class body."""

EUCJP_USER_DEFINED: tuple[tuple[int, int], ...] = ((0xE000, 0xE3AB), (0xE3AC, 0xE757))
"""The Private Use code points of eucJP-ms's user-defined areas, row by row: 0xF5A1–0xFEFE
(JIS X 0208 rows 85–94) and 0x8F 0xF5A1–0xFEFE (JIS X 0212 rows 85–94). Together they are
exactly :data:`CP932_USER_DEFINED` — the 1,880 外字 of CP932 — as eucJP-ms defines them
(see :mod:`mig.codecs.euc`)."""

VARIATION_SELECTOR_RANGES: tuple[tuple[int, int], ...] = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
"""Variation selectors: standardized (VS1–16) and ideographic (VS17–256, used by IVS)."""

VARIATION_SELECTOR_CLASS: str = ranges_class(VARIATION_SELECTOR_RANGES)
"""Variation selectors as a regex class body."""

VARIATION_SELECTOR_PATTERN: str = f"[{VARIATION_SELECTOR_CLASS}]"
"""One variation selector."""

VARIATION_SEQUENCE_PATTERN: str = rf"[^{VARIATION_SELECTOR_CLASS}][{VARIATION_SELECTOR_CLASS}]"
"""A base character followed by one variation selector."""

CONTROL_PATTERN: str = r"[\x{00}-\x{1F}\x{7F}]"
"""One control character (C0 and DEL)."""

HALFWIDTH_KANA_CLASS: str = r"\x{FF61}-\x{FF9F}"
"""Half-width katakana (and its punctuation) as a regex class body."""

CP932_SINGLE_BYTE_PATTERN: str = rf"[\x{{00}}-\x{{7F}}{HALFWIDTH_KANA_CLASS}]"
"""One character CP932 writes in a single byte: ASCII or half-width katakana (also what a
全角文字 item must not hold)."""


def private_use_pattern() -> str:
    """A regex matching one Private Use character.

    >>> import polars as pl
    >>> pl.select(pl.lit("\\ue000田\\U00100000").str.count_matches(private_use_pattern())).item()
    2
    """
    return f"[{PRIVATE_USE_CLASS}]"


def is_private_use(char: str) -> bool:
    """Whether the one character ``char`` is Private Use (:data:`PRIVATE_USE_RANGES`).

    >>> is_private_use("\\ue000"), is_private_use("\\U000FFFFE"), is_private_use("田")
    (True, False, False)
    """
    return _in(ord(char), PRIVATE_USE_RANGES)


def is_cp932_user_defined(char: str) -> bool:
    """Whether ``char`` lies in CP932's user-defined area (:data:`CP932_USER_DEFINED`)."""
    return CP932_USER_DEFINED[0] <= ord(char) <= CP932_USER_DEFINED[1]


def is_variation_selector(char: str) -> bool:
    """Whether ``char`` is a variation selector (VS1–16 or the ideographic VS17–256).

    >>> is_variation_selector("\\U000E0100"), is_variation_selector("a")
    (True, False)
    """
    return _in(ord(char), VARIATION_SELECTOR_RANGES)


def is_control(char: str) -> bool:
    """Whether ``char`` is a control character (C0 or DEL, as :data:`CONTROL_PATTERN`)."""
    cp = ord(char)
    return cp < 0x20 or cp == 0x7F


# -- target repertoires ---------------------------------------------------------------------

REPERTOIRES: dict[str, str] = {
    "jisx0213": "JIS X 0213:2004",
    "cp932": "CP932",
    "jisx0213+cp932": "JIS X 0213:2004 ∪ CP932",
}
"""Target repertoires → their labels (see the module docstring for the definitions)."""

DEFAULT_REPERTOIRE = "jisx0213"

_SJIS_LEADS = (*range(0x81, 0xA0), *range(0xE0, 0xFD))
_SJIS_TRAILS = (*range(0x40, 0x7F), *range(0x80, 0xFD))
_SINGLE_BYTES = frozenset(chr(cp) for cp in range(0x80)) | frozenset(
    chr(cp) for cp in range(0xFF61, 0xFFA0)
)


def check_repertoire(name: str, kind: str = "repertoire") -> str:
    """``name`` if it is a repertoire of :data:`REPERTOIRES`; else :class:`UnknownNameError`.

    >>> check_repertoire("latin-1")
    Traceback (most recent call last):
    ...
    mig.errors.UnknownNameError: unknown repertoire 'latin-1'; known: cp932, jisx0213, jisx0213+cp932
    """
    if name not in REPERTOIRES:
        raise UnknownNameError(kind, name, REPERTOIRES)
    return name


def repertoire_label(name: str) -> str:
    """The human label of repertoire ``name``: ``JIS X 0213:2004``, ``CP932``, …"""
    return REPERTOIRES[check_repertoire(name)]


@cache
def jisx0213_repertoire() -> frozenset[str]:
    """Every code point of JIS X 0213:2004 plus ASCII, C0 controls and half-width
    katakana, from Python's ``shift_jis_2004`` codec — built once.

    >>> "﨑" in jisx0213_repertoire(), "髙" in jisx0213_repertoire(), "\\u010a" in jisx0213_repertoire()
    (True, False, False)
    """
    chars: set[str] = set(_SINGLE_BYTES)
    for lead in _SJIS_LEADS:
        for trail in _SJIS_TRAILS:
            try:
                chars.update(bytes((lead, trail)).decode("shift_jis_2004"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


@cache
def cp932_repertoire() -> frozenset[str]:
    """Every character CP932 holds and decodes back to itself — JIS X 0208, the NEC and
    IBM extensions, ASCII, C0 controls and half-width katakana — built once from Python's
    ``cp932`` codec. The user-defined area (:data:`CP932_USER_DEFINED`), the codec's
    Microsoft-only single bytes (0x80, 0xA0, 0xFD–0xFF) and its one-way encodings are *not*
    in it.

    >>> "髙" in cp932_repertoire(), "﨑" in cp932_repertoire(), "𠮷" in cp932_repertoire()
    (True, True, False)
    """
    chars: set[str] = set(_SINGLE_BYTES)
    for lead in _SJIS_LEADS:
        for trail in _SJIS_TRAILS:
            code = bytes((lead, trail))
            try:
                char = code.decode("cp932")
            except UnicodeDecodeError:
                continue
            if not is_cp932_user_defined(char) and char.encode("cp932") == code:
                chars.add(char)
    return frozenset(chars)


@cache
def repertoire(name: str) -> frozenset[str]:
    """The code points (as one-character strings) of repertoire ``name``.

    >>> len(repertoire("cp932")) < len(repertoire("jisx0213")) < len(repertoire("jisx0213+cp932"))
    True
    """
    check_repertoire(name)
    if name == "jisx0213":
        return jisx0213_repertoire()
    if name == "cp932":
        return cp932_repertoire()
    return jisx0213_repertoire() | cp932_repertoire()


@cache
def _repertoire_class(name: str) -> str:
    points = sorted(ord(c) for c in repertoire(name))
    ranges: list[list[int]] = []
    for cp in points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return ranges_class((lo, hi) for lo, hi in ranges)


@cache
def outside_pattern(name: str, allow: str = "") -> str:
    """A regex matching one character outside repertoire ``name`` and outside the extra
    class body ``allow`` (e.g. :data:`PRIVATE_USE_CLASS` + :data:`VARIATION_SELECTOR_CLASS`,
    for characters the caller counts apart or lets through).

    >>> import polars as pl
    >>> pattern = outside_pattern("cp932", allow=CP932_USER_DEFINED_CLASS)
    >>> pl.select(pl.lit("髙𠮷\\ue000\\ue758").str.count_matches(pattern)).item()
    2
    """
    return rf"[^{_repertoire_class(name)}{allow}]"
