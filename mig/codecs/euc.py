"""EUC-JP family: vectorised decoding of whole byte blocks to UTF-8, 外字 as Private Use.

Encodings (:data:`EUC_ENCODINGS`), each from packaged tables (``scripts/build_codec_tables.py``):

``euc-jp``
    JIS X 0208, JIS X 0212 (SS3 0x8F) and half-width kana (SS2 0x8E) as Python's ``euc_jp``
    maps them (Unicode's tables: 0xA1C1 → U+301C WAVE DASH, 0xA1DD → U+2212), plus the
    eucJP-ms user-defined areas: 0xF5A1–0xFEFE → U+E000–U+E3AB and 0x8F 0xF5A1–0xFEFE →
    U+E3AC–U+E757, row by row — the 外字 of UNIX-based 住記 packages. Like CP932's user
    area they stay Private Use characters, reported as ``gaiji-unresolved`` and resolved
    through a 外字 registry (``[gaiji] source``).
``eucjp-ms``
    exactly what glibc iconv's EUC-JP-MS decodes: CP932-compatible Unicode (0xA1C1 →
    U+FF5E), the NEC row 13 and IBM extensions, the same user-defined areas.
``euc-jis-2004``
    exactly what glibc iconv's EUC-JISX0213 decodes (JIS X 0213:2004 both planes; some
    codes give two code points, e.g. か゚). No user-defined area.

The 〜 family decodes as the named encoding does; :mod:`mig.codecs.tilde` normalises
afterwards where a layout asks for it.

Decoding never loops per byte: bytes ≥ 0x80 other than SS2/SS3 and the bytes they take
pair up from the start of each run; every character start is looked up in one take.
A block must end at a character boundary (the CSV adapter passes whole records; a line feed
is never part of a multibyte character, so a batch boundary inside a character is carried
over with the incomplete record). Invalid or truncated bytes raise :class:`EucDecodeError`
with the byte offset of the first bad character.

>>> decode_euc("euc-jp", "住民〜".encode("euc_jp") + b"\\xf5\\xa1\\x8f\\xf5\\xa1").decode()
'住民〜\\ue000\\ue3ac'
>>> decode_euc("eucjp-ms", b"\\xa1\\xc1").decode()
'～'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from mig.charsets import EUCJP_USER_DEFINED
from mig.codecs.luts import BIT_SECOND, BIT_UNMAPPED, CP_MASK, dbcs_lut

__all__ = ["EUCJP_USER_DEFINED", "EUC_ENCODINGS", "EucDecodeError", "decode_euc", "valid_prefix"]

#: Encoding name → packaged table (two-byte and SS2 codes; ``<table>_ss3`` for SS3 codes).
EUC_ENCODINGS: dict[str, str] = {
    "euc-jp": "euc_jp",
    "eucjp-ms": "eucjp_ms",
    "euc-jis-2004": "euc_jis_2004",
}


class EucDecodeError(ValueError):
    """Bytes that are not valid in the encoding: ``offset`` of the first bad character in
    the block, ``length`` its bytes (as far as they go), ``truncated`` when the block ends
    inside a character."""

    def __init__(self, offset: int, length: int, *, truncated: bool = False) -> None:
        self.offset = offset
        self.length = length
        self.truncated = truncated
        what = "a multibyte character cut short" if truncated else "an invalid or unmapped byte sequence"
        super().__init__(f"{what} at byte {offset}")


@dataclass(frozen=True)
class _Tables:
    two: tuple[np.ndarray, np.ndarray]  # cp1, cp2 of two-byte and SS2 codes
    ss3: tuple[np.ndarray, np.ndarray]


@cache
def _tables(encoding: str) -> _Tables:
    table = EUC_ENCODINGS[encoding]
    two = dbcs_lut(table, "base", ())
    ss3 = dbcs_lut(table + "_ss3", "base", ())
    return _Tables((two.cp1, two.cp2), (ss3.cp1, ss3.cp2))


def _starts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Character start positions and their byte lengths (1, 2 or 3)."""
    n = a.size
    idx = np.arange(n, dtype=np.int64)
    high = a >= 0x80
    ss2 = a == 0x8E
    ss3 = a == 0x8F
    taken = np.zeros(n + 2, dtype=bool)  # bytes an SS2 / SS3 takes after itself
    taken[1:-1] |= ss2 | ss3
    taken[2:] |= ss3
    taken = taken[:n]
    pair = high & ~ss2 & ~ss3 & ~taken
    last_other = np.maximum.accumulate(np.where(pair, -1, idx))
    lead = pair & ((idx - last_other) % 2 == 1)  # odd 1-based position in a run of pair bytes
    start = (~high & ~taken) | ((ss2 | ss3) & ~taken) | lead
    positions = np.flatnonzero(start)
    length = np.where(a[positions] < 0x80, 1, np.where(a[positions] == 0x8F, 3, 2)).astype(np.int64)
    return positions, length


def valid_prefix(data: bytes) -> int:
    """How many leading bytes of ``data`` end at the last ASCII byte (a safe cut for a sample).

    >>> valid_prefix(b"ab\\xa4\\xa2\\n\\xa4")
    5
    """
    high = np.frombuffer(data, dtype=np.uint8) >= 0x80
    ascii_at = np.flatnonzero(~high)
    return int(ascii_at[-1]) + 1 if ascii_at.size else 0


def decode_euc(encoding: str, data: bytes) -> bytes:
    """UTF-8 bytes of a block of ``encoding`` (one of :data:`EUC_ENCODINGS`).

    >>> decode_euc("euc-jis-2004", b"\\xa4\\xf7").decode() == "\\u304b\\u309a"
    True
    >>> decode_euc("euc-jp", b"ab\\xa4")
    Traceback (most recent call last):
    ...
    mig.codecs.euc.EucDecodeError: a multibyte character cut short at byte 2
    """
    tables = _tables(encoding)
    a = np.frombuffer(data, dtype=np.uint8)
    n = a.size
    if n == 0:
        return b""
    if not (a >= 0x80).any():
        return data
    positions, length = _starts(a)
    ends = positions + length
    cut = np.flatnonzero(ends > n)
    if cut.size:
        first = int(positions[cut[0]])
        raise EucDecodeError(first, n - first, truncated=True)
    padded = np.concatenate([a, np.zeros(2, np.uint8)]).astype(np.int64)
    b1, b2, b3 = padded[positions], padded[positions + 1], padded[positions + 2]
    cps = b1.astype(np.uint32)  # ASCII: the byte itself
    second = np.zeros(positions.size, dtype=np.uint32)
    for size, (cp1, cp2), code in ((2, tables.two, b1 << 8 | b2), (3, tables.ss3, b2 << 8 | b3)):
        where = np.flatnonzero(length == size)
        if where.size:
            cps[where] = cp1[code[where]]
            second[where] = cp2[code[where]]
    bad = np.flatnonzero((cps & BIT_UNMAPPED) != 0)
    if bad.size:
        first = int(positions[bad[0]])
        raise EucDecodeError(first, int(length[bad[0]]))
    has_second = (cps & BIT_SECOND) != 0
    cps &= CP_MASK
    if has_second.any():
        at = np.flatnonzero(has_second)
        cps = np.insert(cps, at + 1, second[at])
    return _utf8(cps)


def _utf8(code_points: np.ndarray) -> bytes:
    from mig.codecs.decoders import _utf8 as utf8

    return utf8(code_points)
