"""The MJ character table (MJ文字情報一覧表), packaged compact under ``gaiji/``.

:func:`mj_table` is the whole table (58,862 MJ文字図形名) with readings and radicals;
:func:`lookup` finds records by a character (with or without IVS), an MJ文字図形名, a
住基ネット統一文字コード (``J+XXXX``), a 戸籍統一文字番号 (6 digits), a 登記統一文字番号
(8 digits), a JIS X 0213 面区点 (``1-78-20``) or ``U+`` code points. The table is read
once per process; lookups are filters over it.

Derived from MJ文字情報一覧表 (CC BY-SA 2.1 JP, IPA / 文字情報技術促進協議会): see
``gaiji/LICENSE-MJ.md``. Built by ``scripts/build_gaiji_tables.py``.

>>> lookup("J+BD6B")[0]["mj"]
'MJ026199'
>>> codepoints(mj_text("MJ026199"))
'U+908A U+E010F'
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from mig.charsets import is_variation_selector
from mig.errors import ConfigError, MigError
from mig.resources import data_dir

__all__ = [
    "MJ_FILE",
    "MJSM_FILE",
    "MalformedCodeError",
    "UnknownCharacterError",
    "codepoints",
    "juki_texts",
    "koseki_texts",
    "lookup",
    "mj_by_text",
    "mj_table",
    "mj_text",
    "mj_texts",
    "normalise_mj_name",
    "parse_codepoints",
    "shrink_table",
]

MJ_FILE = "mj.parquet"
MJSM_FILE = "mjsm.parquet"

_MJ_RE = re.compile(r"^MJ[0-9]{6}$", re.IGNORECASE)
_JUKI_RE = re.compile(r"^J\+[0-9A-F]{4}$", re.IGNORECASE)
_KOSEKI_RE = re.compile(r"^[0-9]{6}$")
_TOUKI_RE = re.compile(r"^[0-9]{8}$")
_X0213_RE = re.compile(r"^[12]-[0-9]{2}-[0-9]{2}$")
_UPLUS_RE = re.compile(r"^U\+([0-9A-F]{4,6})$", re.IGNORECASE)
_UPLUS_SEQ_RE = re.compile(r"^U\+[0-9A-F]{4,6}(?:[\s,_]+U\+[0-9A-F]{4,6})*$", re.IGNORECASE)


class MalformedCodeError(ConfigError):
    """A query or code that is not any of the accepted forms (one line, exit code 2)."""


class UnknownCharacterError(ConfigError):
    """A well-formed query that names no record of the MJ table (one line, exit code 2)."""


MAX_QUERY_CHARS = 64
"""The longest query :func:`lookup` accepts (``U+908A U+E010F`` is 14 characters)."""

SHOWN_CHARS = 20
"""How much of a malformed query or code a message shows (:func:`shown`)."""


def shown(text: str) -> str:
    """``text`` quoted for a one-line message: whole when short, else its first
    :data:`SHOWN_CHARS` characters and its length (a 100 kB argument is never echoed).

    >>> shown("J+XYZ1")
    "'J+XYZ1'"
    >>> shown("x" * 100_000)
    "'xxxxxxxxxxxxxxxxxxxx'…(100000 characters)"
    """
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return f"{text[:SHOWN_CHARS]!r}…({len(text)} characters)"


def codepoints(text: str) -> str:
    """``text`` as space-separated ``U+`` code points (never shows the characters).

    >>> codepoints("邊\\U000E010F")
    'U+908A U+E010F'
    """
    return " ".join(f"U+{ord(c):04X}" for c in text)


def parse_codepoints(notation: str) -> str:
    """The text written as ``U+XXXX`` code points (separated by spaces, commas or ``_``).

    >>> parse_codepoints("U+908A U+E010F") == "邊\\U000E010F"
    True
    >>> parse_codepoints("U+ZZ")
    Traceback (most recent call last):
    ...
    mig.gaiji.mj.MalformedCodeError: malformed code point notation 'U+ZZ' (expected U+XXXX, e.g. U+908A U+E010F)
    """
    if not _UPLUS_SEQ_RE.match(notation.strip()):
        raise MalformedCodeError(
            f"malformed code point notation {shown(notation)} (expected U+XXXX, e.g. U+908A U+E010F)"
        )
    chars = []
    for part in re.findall(r"U\+([0-9A-F]{4,6})", notation, re.IGNORECASE):
        cp = int(part, 16)
        if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            raise MalformedCodeError(f"U+{part.upper()} is not a Unicode scalar value")
        chars.append(chr(cp))
    return "".join(chars)


def _data_file(name: str) -> Path:
    path = data_dir("gaiji") / name
    if not path.is_file():  # pragma: no cover - a broken installation, not a user mistake
        raise MigError(
            f"packaged 外字 table {name} is missing from {path.parent}; "
            "rebuild it with scripts/build_gaiji_tables.py"
        )
    return path


@cache
def mj_table() -> pl.DataFrame:
    """The MJ table, one row per MJ文字図形名, sorted by it (read once per process).

    Columns: ``mj`` ("MJ000001"), ``ucs`` (the implemented UCS character, null for the
    6,255 characters Unicode has only as an IVS), ``ivs`` (base + ideographic variation
    selector of the Moji_Joho collection, or null), ``svs``, ``juki`` ("J+XXXX" or null),
    ``koseki`` (戸籍統一文字番号 or null), ``x0213`` (面-区-点 or null), ``strokes`` (総画数),
    ``radical`` (Kangxi radical number, first radical-index entry), ``inner_strokes``,
    ``readings`` (list, katakana), ``version``; and ``ucs_corresponding`` (対応するUCS),
    ``x0213_inclusion`` (包摂区分), ``x0213_inclusion_no``, ``x0212``, ``touki``
    (登記統一文字番号), ``nyukan_seiji``, ``nyukan_gaiji``, ``kanji_policy`` (漢字施策),
    ``compat`` (対応する互換漢字), ``radicals`` / ``inner_strokes_all`` (every index
    entry), ``note`` (備考).

    >>> mj_table().height > 58000
    True
    """
    return pl.read_parquet(_data_file(MJ_FILE))


@cache
def shrink_table() -> pl.DataFrame:
    """The MJ縮退マップ: ``table``, ``mj``, ``ucs`` (縮退UCS), ``x0213``, ``hops``, ``rank``,
    ``source_order`` — one row per shrink candidate (read once per process).

    >>> "JIS包摂規準UCS統合規則" in shrink_table()["table"].unique().to_list()
    True
    """
    return pl.read_parquet(_data_file(MJSM_FILE))


def _texts() -> pl.Expr:
    """The text to store for each row: IVS when the table has one, else the UCS."""
    return pl.coalesce("ivs", "ucs", "ucs_corresponding")


@cache
def mj_texts() -> dict[str, str]:
    """MJ文字図形名 → :func:`mj_text` for every MJ character that has a Unicode form."""
    frame = mj_table().select("mj", _texts().alias("text")).drop_nulls()
    return dict(zip(frame["mj"].to_list(), frame["text"].to_list(), strict=True))


@cache
def mj_by_text() -> dict[str, str]:
    """Text → MJ文字図形名, for every IVS, SVS and implemented UCS of the table.

    Each of these identifies exactly one MJ character (the table guarantees it).

    >>> mj_by_text()["髙"]
    'MJ028902'
    """
    table = mj_table()
    result: dict[str, str] = {}
    for column in ("ucs", "svs", "ivs"):
        frame = table.select(column, "mj").drop_nulls()
        result.update(zip(frame[column].to_list(), frame["mj"].to_list(), strict=True))
    return result


@cache
def juki_texts() -> dict[str, str]:
    """住基ネット統一文字コード ("J+XXXX") → the text of its MJ character."""
    frame = mj_table().select("juki", _texts().alias("text")).drop_nulls()
    return dict(zip(frame["juki"].to_list(), frame["text"].to_list(), strict=True))


@cache
def koseki_texts() -> dict[str, str]:
    """戸籍統一文字番号 (6 digits) → the text of its MJ character."""
    frame = mj_table().select("koseki", _texts().alias("text")).drop_nulls()
    return dict(zip(frame["koseki"].to_list(), frame["text"].to_list(), strict=True))


def normalise_mj_name(name: str) -> str:
    """``"mj026199"`` → ``"MJ026199"``; anything else malformed raises.

    >>> normalise_mj_name(" mj000001 ")
    'MJ000001'
    """
    stripped = name.strip()
    if not _MJ_RE.match(stripped):
        raise MalformedCodeError(f"malformed MJ文字図形名 {shown(name)} (expected MJ followed by 6 digits)")
    return stripped.upper()


def mj_text(mj_name: str) -> str:
    """The character sequence to render / store for ``mj_name``.

    Its IVS (base + variation selector) if the table has one, else its UCS character.
    A malformed or unknown name raises a one-line :class:`~mig.errors.ConfigError`.

    >>> mj_text("MJ028902")
    '髙'
    >>> mj_text("MJ999999")
    Traceback (most recent call last):
    ...
    mig.gaiji.mj.UnknownCharacterError: MJ文字図形名 MJ999999 is not in the MJ table
    """
    name = normalise_mj_name(mj_name)
    text = mj_texts().get(name)
    if text is None:
        if name in set(mj_table()["mj"].to_list()):
            raise UnknownCharacterError(f"MJ文字図形名 {name} has no Unicode form in the MJ table")
        raise UnknownCharacterError(f"MJ文字図形名 {name} is not in the MJ table")
    return text


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    records = []
    for row in frame.with_columns(_texts().alias("text")).iter_rows(named=True):
        row["codepoints"] = codepoints(row["text"]) if row["text"] else None
        records.append(row)
    return records


def _by(column: str, value: str, what: str) -> list[dict[str, Any]]:
    found = mj_table().filter(pl.col(column) == value)
    if found.height == 0:
        raise UnknownCharacterError(f"{what} {value} is not in the MJ table")
    return _records(found)


def _by_character(text: str) -> list[dict[str, Any]]:
    table = mj_table()
    shown = codepoints(text)
    if len(text) == 2:
        found = table.filter((pl.col("ivs") == text) | (pl.col("svs") == text))
        if found.height == 0:
            raise UnknownCharacterError(f"the variation sequence {shown} is not in the MJ table")
        return _records(found)
    exact = table.filter(pl.col("ucs") == text)
    variants = table.filter(
        (pl.col("ucs_corresponding") == text) & (pl.col("ucs").is_null() | (pl.col("ucs") != text))
    )
    found = pl.concat([exact, variants])
    if found.height == 0:
        raise UnknownCharacterError(f"the character {shown} is not in the MJ table")
    return _records(found)


def lookup(query: str) -> list[dict[str, Any]]:
    """MJ records matching ``query``, best match first; each record is a row of
    :func:`mj_table` plus ``text`` (:func:`mj_text`) and ``codepoints``.

    ``query`` may be:

    - a character, with or without a variation selector (``邊`` gives the MJ character
      whose implemented UCS it is first, then its IVS variants; ``邊`` + VS gives exactly one);
    - an MJ文字図形名 (``MJ026199``), a 住基ネット統一文字コード (``J+BD6B``), a
      戸籍統一文字番号 (``445320``), a 登記統一文字番号 (``00445320``), a JIS X 0213
      面区点 (``1-78-20``; every MJ character included in that code point);
    - ``U+`` code points (``U+908A``, ``U+908A U+E010F``), looked up as that character.

    A malformed query raises :class:`MalformedCodeError`, a query that names nothing
    :class:`UnknownCharacterError` (both one-line :class:`~mig.errors.ConfigError`).

    >>> [r["mj"] for r in lookup("445320")]
    ['MJ026199']
    >>> lookup("U+908A U+E010F")[0]["juki"]
    'J+BD6B'
    >>> lookup("J+XYZ1")
    Traceback (most recent call last):
    ...
    mig.gaiji.mj.MalformedCodeError: malformed query 'J+XYZ1': give a character, MJ文字図形名 (MJ000001), J+XXXX, a 6-digit 戸籍統一文字番号, an 8-digit 登記統一文字番号, 面-区-点 or U+XXXX
    """
    if len(query) > MAX_QUERY_CHARS:
        raise MalformedCodeError(
            f"query of {len(query)} characters refused: give one character (with its variation "
            f"selector) or a code such as MJ026199, J+BD6B or U+908A U+E010F (at most {MAX_QUERY_CHARS})"
        )
    q = query.strip()
    if _MJ_RE.match(q):
        return _by("mj", q.upper(), "MJ文字図形名")
    if _JUKI_RE.match(q):
        return _by("juki", "J+" + q[2:].upper(), "住基ネット統一文字コード")
    if _KOSEKI_RE.match(q):
        return _by("koseki", q, "戸籍統一文字番号")
    if _TOUKI_RE.match(q):
        return _by("touki", q, "登記統一文字番号")
    if _X0213_RE.match(q):
        return _by("x0213", q, "JIS X 0213 面区点")
    if q.upper().startswith("U+"):
        return _by_character(_character(parse_codepoints(q), query))
    return _by_character(_character(q, query))


def _character(text: str, query: str) -> str:
    """``text`` if it is one character, optionally followed by one variation selector."""
    if len(text) == 1 and not is_variation_selector(text):
        return text
    if len(text) == 2 and not is_variation_selector(text[0]) and is_variation_selector(text[1]):
        return text
    raise MalformedCodeError(
        f"malformed query {shown(query)}: give a character, MJ文字図形名 (MJ000001), J+XXXX, "
        "a 6-digit 戸籍統一文字番号, an 8-digit 登記統一文字番号, 面-区-点 or U+XXXX"
    )
