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

__all__ = ["EUCJP_USER_DEFINED", "EUC_ENCODINGS", "EucDecodeError", "decode_euc", "sample_text", "valid_prefix"]

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
    two: np.ndarray  # cp1 of two-byte and SS2 codes; entries below 0x8000 hold ASCII (key >> 8)
    two_second: np.ndarray  # cp2 of the same
    ss3: np.ndarray  # cp1 of the two bytes after SS3
    ss3_second: np.ndarray


@cache
def _tables(encoding: str) -> _Tables:
    table = EUC_ENCODINGS[encoding]
    two = dbcs_lut(table, "base", ())
    ss3 = dbcs_lut(table + "_ss3", "base", ())
    cp1 = two.cp1.copy()
    # no EUC lead byte is below 0x8E: key b << 8 | (any next byte) of an ASCII byte b is b
    cp1[: 0x80 << 8] = np.arange(0x80 << 8, dtype=np.uint32) >> 8
    return _Tables(cp1, two.cp2, ss3.cp1, ss3.cp2)


_CHUNK = 1 << 20


def valid_prefix(data: bytes) -> int:
    """How many leading bytes of ``data`` end at the last ASCII byte (a safe cut for a sample).

    >>> valid_prefix(b"ab\\xa4\\xa2\\n\\xa4")
    5
    """
    high = np.frombuffer(data, dtype=np.uint8) >= 0x80
    ascii_at = np.flatnonzero(~high)
    return int(ascii_at[-1]) + 1 if ascii_at.size else 0


def sample_text(data: bytes, encoding: str) -> str:
    """A sample's text for a look at it (sniffing a delimiter, reading a header line): any
    Python codec, or one of :data:`EUC_ENCODINGS` through mig's own tables; what cannot be
    decoded becomes U+FFFD and the rest is kept.

    >>> sample_text(b"a,\\xad\\xa1,\\xff", "eucjp-ms") == "a,\\u2460,\\ufffd"
    True
    """
    if encoding not in EUC_ENCODINGS:
        return data.decode(encoding, errors="replace")
    good = valid_prefix(data)
    while True:
        try:
            text = decode_euc(encoding, data[:good]).decode("utf-8")
            break
        except EucDecodeError as exc:  # keep what came before the first bad character
            good = exc.offset
    return text + ("\ufffd" if good < len(data) else "")


def decode_euc(encoding: str, data: bytes) -> bytes:
    """UTF-8 bytes of a block of ``encoding`` (one of :data:`EUC_ENCODINGS`), decoded in
    chunks of about 1 MB cut after an ASCII byte (always a character boundary).

    >>> decode_euc("euc-jis-2004", b"\\xa4\\xf7").decode() == "\\u304b\\u309a"
    True
    >>> decode_euc("euc-jp", b"ab\\xa4")
    Traceback (most recent call last):
    ...
    mig.codecs.euc.EucDecodeError: a multibyte character cut short at byte 2
    """
    tables = _tables(encoding)
    a = np.frombuffer(data, dtype=np.uint8)
    if a.size == 0 or not (a >= 0x80).any():
        return data
    parts: list[bytes] = []
    start = 0
    while start < a.size:
        end = min(start + _CHUNK, a.size)
        if end < a.size:
            ascii_at = np.flatnonzero(a[start + _CHUNK // 2 : end] < 0x80)
            if ascii_at.size:
                end = start + _CHUNK // 2 + int(ascii_at[-1]) + 1
        parts.append(_decode_chunk(tables, a[start:end], start))
        start = end
    return b"".join(parts)


def _pairs16(a: np.ndarray) -> np.ndarray:
    """``a[i] << 8 | a[i + 1]`` for every position (0 after the end), as ``uint16``."""
    n = a.size
    padded = np.zeros(n + 2, dtype=np.uint8)
    padded[:n] = a
    out = np.empty(n + 1, dtype=np.uint16)
    out[0::2] = padded[: 2 * ((n + 2) // 2)].view(">u2")[: out[0::2].size]
    out[1::2] = padded[1 : 1 + 2 * ((n + 1) // 2)].view(">u2")[: out[1::2].size]
    return out[:n]


def _decode_chunk(tables: _Tables, a: np.ndarray, base: int) -> bytes:
    """Decode one chunk. Pair bytes (≥ 0x80, not SS2/SS3 or a byte they take) come in runs
    that start after an ASCII byte or an SS2/SS3 sequence; in valid text every run has an
    even length, so a pair byte is a lead exactly where the running parity of pair bytes is
    odd. A run of odd length shows as an odd parity at the byte after it: that run's last
    lead has no trail. Every position is looked up (one take of ``a[i] << 8 | a[i + 1]``)
    and the character starts are kept."""
    n = a.size
    high = a >= 0x80
    if not high.any():
        return a.tobytes()
    ss3 = a == 0x8F
    special = (a == 0x8E) | ss3
    taken = None
    if special.any():  # bytes an SS2 / SS3 takes after itself are never a start
        taken = np.zeros(n + 2, dtype=bool)
        taken[1:-1] = special
        taken[2:] |= ss3
        taken = taken[:n]
        pair = high & ~special & ~taken
        start_mask = ~(high | taken) | (special & ~taken)
    else:
        pair = high
        start_mask = ~high
    odd = np.bitwise_xor.accumulate(pair.view(np.uint8)).view(bool)
    broken = odd & ~pair  # a byte after a run of odd length
    if broken.any():
        raise EucDecodeError(base + int(np.flatnonzero(broken)[0]) - 1, 1)
    start_mask |= odd & pair
    tail = np.flatnonzero(start_mask[-3:])
    if tail.size == 0:  # no character starts in the last three bytes: the block ends inside one
        raise EucDecodeError(base + n - min(n, 3), min(n, 3), truncated=True)
    last = n - min(n, 3) + int(tail[-1])
    need = 1 if a[last] < 0x80 else 3 if a[last] == 0x8F else 2
    if last + need > n:
        raise EucDecodeError(base + last, n - last, truncated=True)
    keys16 = _pairs16(a)
    every = _take(tables.two, keys16)  # ASCII: entries b << 8 | any hold b itself
    three = None
    if taken is not None and ss3.any():
        three = np.flatnonzero(ss3 & start_mask)
        if three.size:
            every[three] = _take(tables.ss3, keys16[three + 1])
    cps = every[start_mask]
    flags = int(np.bitwise_or.reduce(cps)) & ~CP_MASK
    if flags & BIT_UNMAPPED:
        first = int(np.flatnonzero(start_mask & ((every & BIT_UNMAPPED) != 0))[0])
        raise EucDecodeError(base + first, min(3 if a[first] == 0x8F else 2, n - first))
    if flags & BIT_SECOND:
        positions = np.flatnonzero(start_mask)
        at = np.flatnonzero((cps & BIT_SECOND) != 0)
        where = positions[at]
        seconds = _take(tables.two_second, keys16[where])
        if three is not None and three.size:
            in_three = ss3[where]
            seconds[in_three] = _take(tables.ss3_second, keys16[where[in_three] + 1])
        cps = np.insert(cps & CP_MASK, at + 1, seconds)
    elif flags:
        cps &= CP_MASK
    return _utf8(cps)


def _utf8(code_points: np.ndarray) -> bytes:
    from mig.codecs.decoders import _utf8 as utf8

    return utf8(code_points)


def _take(table: np.ndarray, indices: np.ndarray) -> np.ndarray:
    from mig.codecs.decoders import _take as take

    return take(table, indices)
