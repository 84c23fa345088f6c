"""Vectorised decoding of mainframe text fields: PIC X, PIC N / G, and mixed PIC X.

A field batch is a ``uint8`` array of shape ``(n, width)``: one row per record, the bytes of
one field (a strided view cut out of whole records is fine). Every step is an array
operation over the whole batch, taken in chunks of about 1 MB to stay in cache; nothing
loops per byte, character or record in Python.

Each table is a 256-entry (single-byte) or 65,536-entry (double-byte) ``uint32`` lookup
table of code points, with flag bits above the 21 code-point bits: unmapped, 外字 (Private
Use), and "a second code point follows" (base + variation selector, or a kana + sound
mark). Lookups run through ``pyarrow.compute.take``; the resulting code points become
UTF-8 through CPython's C codecs (UCS-2/UTF-32 → str → UTF-8) in one call per chunk, and
the per-field byte offsets come from the code points' UTF-8 lengths summed per field
(``np.add.reduceat``). The Arrow ``large_string`` array is built from those buffers.

*PIC N / G* (:meth:`Codec.decode_dbcs`): the field is read as 16-bit codes and looked up
in one take.

*Mixed PIC X* (:meth:`Codec.decode_mixed`, chunks of about 1 MB, copied into one buffer
used again for every chunk and, per thread, every call): shift codes are recognised by
value wherever they occur (one compare per byte that may start one; two-byte ones checked
pairwise at those candidates only, never across two fields); every shift code and every
field start begins a *segment*. A chunk without any shift code takes the single-byte path:
one gather through a 256-entry table giving each byte's code point, flags and UTF-8 length,
no segment logic. A double-byte
segment's bytes pair up from its start (an odd last byte is an orphan lead:
``odd-dbcs-length``); a field that ends inside a double-byte segment is
``shift-unbalanced``. Every *position* of the chunk then gets one entry of a table
(:func:`mig.codecs.luts.mixed_position_lut`), looked up by one ``take`` with the key
``b[p] | b[p+1] << 8 | region << 16``: the region is the segment's class (single-byte, or
double-byte pairing from an even / odd position), filled in per position by Arrow's
run-end decoding, XOR the position's parity. A single byte gets its character; the first
byte of a pair the pair's (first) code point; the second byte of a pair the pair's second
code point (selector, sound mark: filled in only in rows that have one) or nothing; a shift
code nothing. "Nothing" is a lone surrogate (:data:`~mig.codecs.luts.MIXED_SKIP`, which no
table decodes to), and CPython's UTF-8 encoder leaves it out (``errors="ignore"``), so the
chunk's text needs no unit index. Each entry carries its UTF-8 length (0 for nothing), and
the fields' byte offsets are the lengths summed along each row of the ``(rows, width)``
matrix (``np.einsum``). The previous decoder gathered the units through an index built by
``np.repeat`` (kept as the reference of ``tests/test_codecs_mixed_positions.py``).

Bad input never turns into a silent replacement: the field gets an error code (``ERRORS``)
and the caller sends the record to the rejects with its bytes. The value of such a field
shows U+FFFD where the bad bytes were, for previews only.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mig.codecs.luts import (
    BIT_GAIJI,
    BIT_SECOND,
    BIT_UNMAPPED,
    CLASS_DBCS_EVEN,
    CLASS_DBCS_ODD,
    CLASS_SBCS,
    CP_MASK,
    MIXED_GAIJI,
    MIXED_LEN_SHIFT,
    MIXED_SECOND,
    MIXED_SKIP,
    MIXED_UNMAPPED_DBCS,
    MIXED_UNMAPPED_SBCS,
    VARIANTS,
    DbcsLut,
    GaijiArea,
    SbcsLut,
    Variant,
    dbcs_lut,
    mixed_position_lut,
    overlay_dbcs,
    overlay_sbcs,
    sbcs_entries,
    sbcs_lut,
)
from mig.codecs.overlay import Overlay, active_overlay, active_variant
from mig.errors import ConfigError, UnknownNameError


@dataclass(frozen=True)
class CharsetSpec:
    """How one character set is put together from packaged tables."""

    name: str
    sbcs: str  # packaged single-byte table
    dbcs: str  # packaged double-byte table
    to_dbcs: tuple[bytes, ...]  # shift codes entering double-byte mode (first: the one written)
    to_sbcs: tuple[bytes, ...]  # shift codes returning to single-byte mode
    gaiji_source: str
    gaiji: tuple[GaijiArea, ...] = ()
    byte_map: str | None = None  # JIPS(E): double-byte codes written through JIS8 → EBCDIK


_JEF_GAIJI = (GaijiArea(0x80, 0xA0, 0xA1, 0xFE, 0xE000),)  # 3,102 → U+E000–U+EC1D
_KEIS_GAIJI = (GaijiArea(0x81, 0xA0, 0xA1, 0xFE, 0xE000),)  # 3,008 → U+E000–U+EBBF
_JIPS_GAIJI = (
    GaijiArea(0x74, 0x7E, 0x21, 0x7E, 0xE000),  # G0: 1,034 → U+E000–U+E409
    GaijiArea(0xE0, 0xFE, 0xA1, 0xFE, 0xE40A),  # G1: 2,914 → U+E40A–U+EF6B
)
_JEF_SHIFTS: tuple[tuple[bytes, ...], tuple[bytes, ...]] = ((b"\x28", b"\x38", b"\x30\xe2"), (b"\x29",))
_KEIS_SHIFTS: tuple[tuple[bytes, ...], tuple[bytes, ...]] = ((b"\x0a\x42",), (b"\x0a\x41",))
_JIPS_J_SHIFTS: tuple[tuple[bytes, ...], tuple[bytes, ...]] = ((b"\x1a\x70",), (b"\x1a\x71",))
_JIPS_E_SHIFTS: tuple[tuple[bytes, ...], tuple[bytes, ...]] = ((b"\x3f\x75",), (b"\x3f\x76",))
_IBM_SHIFTS: tuple[tuple[bytes, ...], tuple[bytes, ...]] = ((b"\x0e",), (b"\x0f",))


def _spec(
    name: str,
    sbcs: str,
    dbcs: str,
    shifts: tuple[tuple[bytes, ...], tuple[bytes, ...]],
    source: str,
    gaiji: tuple[GaijiArea, ...] = (),
    byte_map: str | None = None,
) -> CharsetSpec:
    return CharsetSpec(name, sbcs, dbcs, shifts[0], shifts[1], source, gaiji, byte_map)


def _specs() -> dict[str, CharsetSpec]:
    specs = [
        _spec("jef-ebcdic", "fujitsu_ebcdic", "fujitsu_jef", _JEF_SHIFTS, "jef", _JEF_GAIJI),
        _spec("jef-ebcdik", "fujitsu_ebcdik", "fujitsu_jef", _JEF_SHIFTS, "jef", _JEF_GAIJI),
        _spec("jef-ascii", "fujitsu_ascii", "fujitsu_jef", _JEF_SHIFTS, "jef", _JEF_GAIJI),
        _spec("keis78-ebcdic", "hitachi_ebcdic", "hitachi_keis78", _KEIS_SHIFTS, "keis", _KEIS_GAIJI),
        _spec("keis78-ebcdik", "hitachi_ebcdik", "hitachi_keis78", _KEIS_SHIFTS, "keis", _KEIS_GAIJI),
        _spec("keis83-ebcdic", "hitachi_ebcdic", "hitachi_keis83", _KEIS_SHIFTS, "keis", _KEIS_GAIJI),
        _spec("keis83-ebcdik", "hitachi_ebcdik", "hitachi_keis83", _KEIS_SHIFTS, "keis", _KEIS_GAIJI),
        _spec("jips-j-jis8", "nec_jis8", "nec_jips", _JIPS_J_SHIFTS, "jips", _JIPS_GAIJI),
        _spec("jips-e-ebcdik", "nec_ebcdik", "nec_jips", _JIPS_E_SHIFTS, "jips", _JIPS_GAIJI, "nec_jis8_ebcdik"),
    ]
    for ccsid in ("930", "939", "1390", "1399"):
        specs.append(_spec(f"ibm-{ccsid}", f"ibm_{ccsid}_sbcs", f"ibm_{ccsid}_dbcs", _IBM_SHIFTS, "ibm"))
    return {spec.name: spec for spec in specs}


SPECS: dict[str, CharsetSpec] = _specs()

#: Names accepted by :func:`get_codec`.
CHARSETS: tuple[str, ...] = tuple(SPECS)

#: Error code per field → finding type. When a field has several, the lowest code is kept.
ERRORS: dict[int, str] = {
    1: "odd-dbcs-length",  # a double-byte run (or PIC N field) with an odd number of bytes
    2: "shift-unbalanced",  # the field ends in double-byte mode (no shift back)
    3: "unmapped-dbcs",  # a byte pair outside the table (or unmappable in it)
    4: "unmapped-sbcs",  # a single byte outside the table
}
ERR_ODD, ERR_SHIFT, ERR_DBCS, ERR_SBCS = 1, 2, 3, 4

#: charset → the source tag recorded with its Private Use (外字) code points.
GAIJI_SOURCE: dict[str, str] = {name: spec.gaiji_source for name, spec in SPECS.items()}

_CHUNK_BYTES = 1 << 20
# 1-2 MB decode ≈ 9 % faster than 256 KB since the str comes from .item() (before: ≈ 2 %)
_MIXED_CHUNK_BYTES = 1 << 20
_FFFD = 0xFFFD


@dataclass(frozen=True)
class DecodeResult:
    """Decoded fields.

    ``values``: Arrow ``large_string``, one per field, trailing spaces kept (the caller trims).
    ``errors``: ``int8`` per field, 0 = ok, else a key of :data:`ERRORS`.
    ``gaiji``: ``int32`` per field, how many user-defined (外字) characters it holds; they
    are Private Use code points, tagged by :data:`GAIJI_SOURCE` of the charset.
    """

    values: pa.Array
    errors: np.ndarray
    gaiji: np.ndarray


@dataclass
class _Parts:
    """Per-chunk outputs, concatenated at the end."""

    data: list[bytes] = field(default_factory=list)
    lengths: list[np.ndarray] = field(default_factory=list)
    errors: list[np.ndarray] = field(default_factory=list)
    gaiji: list[np.ndarray] = field(default_factory=list)

    def result(self, n: int) -> DecodeResult:
        if not self.data:
            return DecodeResult(
                pa.array([""] * n, type=pa.large_string()), np.zeros(n, np.int8), np.zeros(n, np.int32)
            )
        data = b"".join(self.data)
        lengths = np.concatenate(self.lengths) if len(self.lengths) > 1 else self.lengths[0]
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
        return DecodeResult(values, np.concatenate(self.errors), np.concatenate(self.gaiji))


def _check_fields(fields: np.ndarray) -> np.ndarray:
    if not isinstance(fields, np.ndarray) or fields.dtype != np.uint8 or fields.ndim != 2:
        raise ValueError("fields must be a uint8 array of shape (n, width)")
    return fields


def _row_errors(n: int, *conditions: tuple[int, np.ndarray | None]) -> np.ndarray:
    """Per-row error code: the lowest code among the conditions that hold (None: none)."""
    errors = np.zeros(n, dtype=np.int8)
    for code, hit in sorted(conditions, key=lambda c: -c[0]):
        if hit is not None and hit.any():
            errors[hit] = code
    return errors


def _arrow(values: np.ndarray) -> pa.Array:
    """Zero-copy Arrow view of a contiguous 1-D NumPy array."""
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), values.size, [None, pa.py_buffer(values)])


def _take(table: pa.Array | np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``table[indices]`` as a writable NumPy array (Arrow's take beats NumPy's here)."""
    flat = np.ascontiguousarray(indices).reshape(-1)
    if isinstance(table, np.ndarray):
        dtype = table.dtype
        table = _arrow(table)
    else:
        dtype = np.dtype(table.type.to_pandas_dtype())
    out = pc.take(table, _arrow(flat), boundscheck=False)
    return np.frombuffer(out.buffers()[1], dtype=dtype, count=flat.size).reshape(indices.shape)


def _utf8(code_points: np.ndarray, skip: bool = False) -> bytes:
    """UTF-8 bytes of a run of code points.

    The code points are viewed as one NumPy UCS-4 string (no copy, no per-character
    validation: the tables hold valid scalar values only), made a ``str`` with ``.item()``
    (about 4× faster than indexing, which builds a ``numpy.str_`` through extra copies) and
    encoded by CPython's C encoder. NumPy strips trailing NULs from such a view, so a run
    ending in U+0000 gets a sentinel that is cut off again. ``skip``: :data:`~mig.codecs.luts.MIXED_SKIP` (a lone
    surrogate) marks positions without a character; the encoder leaves them out.

    >>> _utf8(np.array([0x41, 0x4E9C, 0], np.uint32)) == "A亜\\0".encode()
    True
    >>> _utf8(np.array([0x41, 0xDC00, 0x4E9C, 0xDC00], np.uint32), skip=True) == "A亜".encode()
    True
    """
    if code_points.size == 0:
        return b""
    cps = np.ascontiguousarray(code_points, dtype=np.uint32).reshape(-1)
    errors = "ignore" if skip else "strict"
    if cps[-1] == 0:
        data: bytes = np.append(cps, np.uint32(0x20)).view(f"<U{cps.size + 1}").item().encode("utf-8", errors)[:-1]
    else:
        data = cps.view(f"<U{cps.size}").item().encode("utf-8", errors)
    return data


def _rows_hit(rows: int, hit_rows: np.ndarray) -> np.ndarray:
    """Boolean per row: whether it occurs in ``hit_rows``."""
    out = np.zeros(rows, dtype=bool)
    out[hit_rows] = True
    return out


def _insert_after(values: np.ndarray, at: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """``values`` with ``extra[k]`` inserted right after ``values[at[k]]`` (``at`` ascending).

    >>> _insert_after(np.array([1, 2, 3], np.uint32), np.array([0, 2]), np.array([9, 8], np.uint32)).tolist()
    [1, 9, 2, 3, 8]
    """
    count, k = values.size, at.size
    source = np.concatenate([values, extra.astype(values.dtype)])
    starts = np.empty(k + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = at + 1
    run_start = np.empty(2 * k + 1, dtype=np.int64)
    run_count = np.empty(2 * k + 1, dtype=np.int64)
    run_start[0::2] = starts
    run_count[0::2] = np.diff(starts, append=count)
    run_start[1::2] = count + np.arange(k)
    run_count[1::2] = 1
    return _take(source, _arithmetic_runs(run_start, run_count, 1))


def _segment_bytes(cps: np.ndarray, first: np.ndarray) -> np.ndarray:
    """UTF-8 bytes of each segment cps[first[i]:first[i+1]] (segments may be empty).

    >>> _segment_bytes(np.array([0x41, 0x4E9C, 0xE0100], np.uint32), np.array([0, 1, 1])).tolist()
    [1, 0, 7]
    """
    if cps.size == 0:
        return np.zeros(first.size, dtype=np.int64)
    lens = np.greater_equal(cps, 0x80).view(np.uint8)
    lens += (cps >= 0x800).view(np.uint8)
    if cps.max() >= 0x10000:
        lens += (cps >= 0x10000).view(np.uint8)
    lens += 1
    return _segment_sums(lens, first)


def _segment_sums(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Sum of each segment values[first[i]:first[i+1]] (``first`` ascending, segments may be
    empty, the last one runs to the end), ``int64``.

    One ``np.add.reduceat`` — a running sum over every value would cost more — with empty
    segments set to 0 (``reduceat`` gives them the value at their start).

    >>> _segment_sums(np.array([1, 3, 3, 4], np.uint8), np.array([0, 1, 1, 4])).tolist()
    [1, 0, 10, 0]
    """
    sums = np.zeros(first.size, dtype=np.int64)
    inside = int(np.searchsorted(first, values.size))  # segments starting before the end
    if inside:
        # in the values' own type when it is wide enough (a cast costs more than the sums)
        wide = values.dtype if values.dtype.itemsize >= 4 else np.dtype(np.int32)
        sums[:inside] = np.add.reduceat(values, first[:inside], dtype=wide)
        head = sums[: inside - 1]  # the last of them runs to the end: never empty
        head[first[1:inside] == first[: inside - 1]] = 0
    return sums


@cache
def _arange32(size: int) -> np.ndarray:
    return np.arange(size, dtype=np.int32)


def _arithmetic_runs(first: np.ndarray, counts: np.ndarray, step: int) -> np.ndarray:
    """Concatenated runs first[k], first[k] + step, … (counts[k] values each; 0 allowed), int32.

    >>> _arithmetic_runs(np.array([5, 9, 20]), np.array([3, 0, 2]), 2).tolist()
    [5, 7, 9, 20, 22]
    """
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int32)
    begin = np.cumsum(counts) - counts
    base = np.repeat((first - step * begin).astype(np.int32), counts)
    ramp = _arange32(1 << max(12, (total - 1).bit_length()))[:total]
    if step == 1:
        base += ramp
    else:
        base += ramp * np.int32(step)
    return base


#: run ends in the type of the segment positions (int32 unless a chunk holds 2 GiB or more)
_REE_TYPES = {np.dtype(t): pa.run_end_encoded(pa.from_numpy_dtype(t), pa.uint8()) for t in (np.int32, np.int64)}
_ORPHAN_ENTRY = _FFFD | 3 << MIXED_LEN_SHIFT  # the odd last byte of a double-byte run: U+FFFD
# the segment class is computed as into double-byte << 1 | into & parity of the content start
assert (CLASS_SBCS, CLASS_DBCS_EVEN, CLASS_DBCS_ODD) == (0, 2, 3)
_MIXED_FLAGS = MIXED_SECOND | MIXED_GAIJI | MIXED_UNMAPPED_DBCS | MIXED_UNMAPPED_SBCS
#: entry >> _SECOND_SHIFT: MIXED_SECOND at bit 0, the UTF-8 length at bits 8-10
_SECOND_SHIFT = MIXED_SECOND.bit_length() - 1
_LEN_AND_SECOND = np.uint32((7 << MIXED_LEN_SHIFT | MIXED_SECOND) >> _SECOND_SHIFT)
assert MIXED_LEN_SHIFT - _SECOND_SHIFT == 8 and _LEN_AND_SECOND == 0x701
_OTHER_FLAGS = MIXED_GAIJI | MIXED_UNMAPPED_DBCS | MIXED_UNMAPPED_SBCS
assert _MIXED_FLAGS == _OTHER_FLAGS | MIXED_SECOND and _OTHER_FLAGS >> _SECOND_SHIFT < 1 << 8
#: the widest row whose count of pairs with a second code point stays under 256
_SECOND_SUM_WIDTH = 2 * 0xFF


def _pairs_at(flat: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The little-endian byte pairs ``flat[at] | flat[at + 1] << 8`` (a pair's table key)."""
    return np.take(flat, at).astype(np.intp) | np.take(flat, at + 1).astype(np.intp) << 8


@cache
def _parities(size: int) -> np.ndarray:
    return (np.arange(size) & 1).astype(np.uint8)


def _parity(total: int) -> np.ndarray:
    """0, 1, 0, 1, … (``uint8``, ``total`` long): the parity of each position of a chunk."""
    return _parities(1 << max(12, total.bit_length()))[:total]


#: NumPy's ``nonzero`` over booleans runs a branch-free loop when at least a tenth of them are
#: set, else one ``memchr`` per set entry. From about 1 in 40 set the branch-free loop is
#: faster (here ≈ 0.55 against 0.8-1.2 ms per MB), so a sparser mark gets a run of set entries
#: after its end, cut off again, that brings it to a tenth. Only the speed depends on this.
_NONZERO_DENSE = 0.1
_NONZERO_TOP_UP_FROM = 0.025


def _mark_room(size: int) -> int:
    """Entries a mark of ``size`` needs for :func:`_flatnonzero_marks`."""
    return size + size // 10 + 2


def _flatnonzero_marks(room: np.ndarray, size: int, hits: int) -> np.ndarray:
    """``np.flatnonzero(room[:size])``, which has ``hits`` set entries; ``room`` holds
    :func:`_mark_room` entries (those after ``size`` may be overwritten).

    >>> room = np.zeros(_mark_room(40), dtype=bool)
    >>> room[[3, 17, 30]] = True
    >>> _flatnonzero_marks(room, 40, 3).tolist()
    [3, 17, 30]
    """
    top_up = 0
    if _NONZERO_TOP_UP_FROM * size <= hits < _NONZERO_DENSE * size:
        top_up = int((_NONZERO_DENSE * size - hits) / (1 - _NONZERO_DENSE)) + 2
        room[size : size + top_up] = True
    return np.flatnonzero(room[: size + top_up])[:hits]


@dataclass
class _MixedScratch:
    """Buffers of the mixed decoder used again for every chunk (fresh memory costs page
    faults): the chunk's bytes (+ 2 zero bytes after the last one), the odd-aligned copy,
    each position's table region, the keys (4 bytes per position; the top byte stays 0;
    once the table is read, the same buffer takes the UTF-8 lengths: still in cache, the
    shift into it and the row sums after it cost ≈ 20–35 % less than with a buffer of their
    own) and the shift-code candidate marks."""

    chunk: np.ndarray
    odd: np.ndarray
    region: np.ndarray
    keys: np.ndarray
    marks: np.ndarray

    @classmethod
    def for_bytes(cls, size: int) -> _MixedScratch:
        """Buffers for chunks of up to ``size`` bytes: the thread's own from an earlier call
        when they are large enough (a decode of a few MB would otherwise spend about a
        twentieth of its time faulting in ≈ 7 MB of fresh pages), else new ones kept for
        the next call. At most one chunk's worth (≈ 7 × the chunk size) stays per thread."""
        kept: _MixedScratch | None = getattr(_SCRATCH, "mixed", None)
        if kept is not None and kept.region.size >= size:
            return kept
        even = size + (size & 1)
        scratch = cls(
            np.zeros(size + 2, dtype=np.uint8),
            np.empty(even, dtype=np.uint8),
            np.empty(size, dtype=np.uint8),
            np.zeros(4 * even, dtype=np.uint8),
            np.empty(_mark_room(size), dtype=bool),
        )
        _SCRATCH.mixed = scratch
        return scratch


#: per-thread scratch of the mixed decoder (threads decode fields side by side)
_SCRATCH = threading.local()


class Codec:
    """One character set: decode and encode PIC X, PIC N / G and mixed fields.

    Get one with :func:`get_codec`. ``variant`` chooses how variant characters decode:
    ``"distinct"`` (default) keeps a Hanyo-Denshi selector (base + U+E01xx) exactly where
    two codes share the base character, ``"hd"`` every Hanyo-Denshi sequence the table
    gives, ``"aj1"`` the Adobe-Japan1 ones, ``"base"`` none (variant codes then no longer
    round-trip). See :mod:`mig.codecs.luts`.
    """

    def __init__(
        self, spec: CharsetSpec, variant: Variant = "distinct", overlay: tuple[tuple[int, int, str], ...] = ()
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.variant: Variant = variant
        self.gaiji_source = spec.gaiji_source
        #: site overlay rows applied to this codec: (width, code, text), see mig.codecs.overlay
        self.overlay = overlay

    def __repr__(self) -> str:
        extra = f", overlay={len(self.overlay)} codes" if self.overlay else ""
        return f"Codec({self.name!r}, variant={self.variant!r}{extra})"

    # tables -------------------------------------------------------------------------------
    @cached_property
    def sbcs(self) -> SbcsLut:
        """Lookup tables of the single-byte set (site overlay applied)."""
        changes = {code: text for width, code, text in self.overlay if width == 1}
        return overlay_sbcs(sbcs_lut(self.spec.sbcs), changes)

    @cached_property
    def dbcs(self) -> DbcsLut:
        """Lookup tables of the double-byte set (外字 areas included, site overlay applied)."""
        changes = {code: text for width, code, text in self.overlay if width == 2}
        return overlay_dbcs(dbcs_lut(self.spec.dbcs, self.variant, self.spec.gaiji, self.spec.byte_map), changes)

    # decoding -----------------------------------------------------------------------------
    def decode_sbcs(self, fields: np.ndarray) -> DecodeResult:
        """Decode single-byte fields (PIC X without shift codes), ``uint8`` shape ``(n, width)``.

        >>> import numpy as np
        >>> get_codec("jef-ebcdic").decode_sbcs(np.frombuffer(b"\\xc1\\xc2\\x40", np.uint8).reshape(1, 3)).values.to_pylist()
        ['AB ']
        """
        fields = _check_fields(fields)
        n, width = fields.shape
        parts = _Parts()
        step = max(1, _CHUNK_BYTES // max(width, 1))
        for start in range(0, n, step):
            self._sbcs_chunk(fields[start : start + step], parts)
        return parts.result(n)

    @cached_property
    def _sbcs_entries(self) -> pa.Array:
        """Byte → its mixed-table entry (code point, ``MIXED_*`` flags, UTF-8 length)."""
        return _arrow(sbcs_entries(self.sbcs))

    def _sbcs_chunk(self, chunk: np.ndarray, parts: _Parts) -> None:
        """Single bytes only: one gather through the 256-entry table gives every byte's code
        point, flags and UTF-8 length; no segment logic."""
        rows, width = chunk.shape
        entries = _take(self._sbcs_entries, chunk)
        errors = np.zeros(rows, dtype=np.int8)
        gaiji = np.zeros(rows, dtype=np.int32)
        flags = int(np.bitwise_or.reduce(entries, axis=None)) if entries.size else 0
        if flags & MIXED_UNMAPPED_SBCS:
            errors[np.count_nonzero(entries & np.uint32(MIXED_UNMAPPED_SBCS), axis=1) > 0] = ERR_SBCS
        if flags & MIXED_GAIJI:
            gaiji = np.count_nonzero(entries & np.uint32(MIXED_GAIJI), axis=1).astype(np.int32)
        # UTF-8 bytes per row: the lengths summed along the row, in uint32 (no cast)
        parts.lengths.append(np.add.reduce(np.right_shift(entries, MIXED_LEN_SHIFT), axis=1).astype(np.int64))
        np.bitwise_and(entries, CP_MASK, out=entries)
        parts.data.append(_utf8(entries))
        parts.errors.append(errors)
        parts.gaiji.append(gaiji)

    def decode_dbcs(self, fields: np.ndarray) -> DecodeResult:
        """Decode double-byte fields without shift codes (PIC N / G), shape ``(n, width)``.

        An odd ``width`` gives every field ``odd-dbcs-length`` (its last byte shows U+FFFD).

        >>> import numpy as np
        >>> get_codec("jef-ebcdic").decode_dbcs(np.frombuffer(b"\\xb0\\xa1\\x40\\x40", np.uint8).reshape(1, 4)).values.to_pylist()
        ['亜\\u3000']
        """
        fields = _check_fields(fields)
        n, width = fields.shape
        parts = _Parts()
        step = max(1, _CHUNK_BYTES // max(width, 1))
        for start in range(0, n, step):
            self._dbcs_chunk(fields[start : start + step], parts)
        return parts.result(n)

    def _dbcs_chunk(self, chunk: np.ndarray, parts: _Parts) -> None:
        rows, width = chunk.shape
        lut = self.dbcs
        half = width // 2
        even = np.ascontiguousarray(chunk[:, : 2 * half] if width & 1 else chunk)
        codes = even.view("<u2")  # read little-endian: the *_le tables are indexed that way
        cps = _take(lut.cp1_le_arrow, codes)
        errors = np.zeros(rows, dtype=np.int8)
        gaiji = np.zeros(rows, dtype=np.int32)
        flags = int(np.bitwise_or.reduce(cps, axis=None)) & ~CP_MASK if cps.size else 0
        if flags & BIT_UNMAPPED:
            errors = np.where(np.count_nonzero(cps & BIT_UNMAPPED, axis=1) > 0, np.int8(ERR_DBCS), errors)
        if flags & BIT_GAIJI:
            gaiji = np.count_nonzero(cps & BIT_GAIJI, axis=1).astype(np.int32)
        if width & 1:  # the odd last byte shows U+FFFD
            errors[:] = ERR_ODD
            cps = np.concatenate([cps, np.full((rows, 1), _FFFD, np.uint32)], axis=1)
            codes = np.concatenate([codes, np.zeros((rows, 1), codes.dtype)], axis=1)
        units = cps.reshape(-1)
        row_first = np.arange(rows) * cps.shape[1]
        if flags & BIT_SECOND:  # base + selector (or sound mark): the second code point follows
            at = np.flatnonzero((units & BIT_SECOND) != 0)
            seconds = _take(lut.cp2_le_arrow, np.take(codes.reshape(-1), at))
            per_row = np.bincount(at // cps.shape[1], minlength=rows)
            units = _insert_after(units & CP_MASK, at, seconds)
            row_first = row_first + np.cumsum(per_row) - per_row
        elif flags:
            units = units & CP_MASK
        parts.data.append(_utf8(units))
        parts.lengths.append(_segment_bytes(units, row_first))
        parts.errors.append(errors)
        parts.gaiji.append(gaiji)

    def decode_mixed(self, fields: np.ndarray) -> DecodeResult:
        """Decode single-byte fields holding shift codes and double-byte runs (mixed PIC X).

        Errors: ``odd-dbcs-length`` (a double-byte run with an odd byte count),
        ``shift-unbalanced`` (the field ends in double-byte mode), ``unmapped-dbcs`` and
        ``unmapped-sbcs``. A shift back to single-byte mode while already there is harmless.

        >>> import numpy as np
        >>> raw = b"\\xc1\\x28\\xb0\\xa1\\x29\\x40"
        >>> get_codec("jef-ebcdik").decode_mixed(np.frombuffer(raw, np.uint8).reshape(1, 6)).values.to_pylist()
        ['A亜 ']
        """
        fields = _check_fields(fields)
        n, width = fields.shape
        parts = _Parts()
        if width == 0:
            return parts.result(n)
        step = max(1, _MIXED_CHUNK_BYTES // width)
        scratch = _MixedScratch.for_bytes(min(step, n) * width)
        for start in range(0, n, step):
            rows = min(step, n - start)
            chunk = scratch.chunk[: rows * width].reshape(rows, width)
            np.copyto(chunk, fields[start : start + rows])
            self._mixed_chunk(chunk, parts, scratch)
        return parts.result(n)

    @cached_property
    def _position_tables(self) -> tuple[pa.Array, np.ndarray]:
        """The per-position mixed-field tables (:func:`mig.codecs.luts.mixed_position_lut`):
        the entries as an Arrow array, the second code points."""
        shifts = tuple(int(b) for b in np.flatnonzero(self._shift_table))  # the one-byte shift codes
        entries, seconds = mixed_position_lut(self.sbcs, self.dbcs, shifts)
        return _arrow(entries), seconds

    @cached_property
    def _shift_table(self) -> np.ndarray:
        """Byte → kind of the one-byte shift code it is (0: none); a kind is
        ``size << 1 | into double-byte``."""
        single = np.zeros(256, dtype=np.int8)
        for codes, into in ((self.spec.to_dbcs, 1), (self.spec.to_sbcs, 0)):
            for code in codes:
                if len(code) == 1:
                    single[code[0]] = 2 | into
        return single

    @cached_property
    def _shift_pairs(self) -> tuple[tuple[int, int, int], ...]:
        """The two-byte shift codes: (first byte, second byte, kind)."""
        return tuple(
            (code[0], code[1], 4 | into)
            for codes, into in ((self.spec.to_dbcs, 1), (self.spec.to_sbcs, 0))
            for code in codes
            if len(code) == 2
        )

    @cached_property
    def _shift_starts(self) -> tuple[int, ...]:
        """The bytes where a shift code may start: a one-byte code, the first byte of a
        two-byte one."""
        return tuple(sorted({int(b) for b in np.flatnonzero(self._shift_table)} | {p[0] for p in self._shift_pairs}))

    @cached_property
    def _shift_range_is_rare(self) -> bool:
        """Whether every byte between the lowest and the highest shift-code start byte that
        starts none is a control code (or unmapped) in the single-byte set: then a range
        check finds the candidates, and text seldom holds a byte it has to drop again."""
        starts = self._shift_starts
        others = set(range(starts[0], starts[-1] + 1)) - set(starts) if starts else set()
        texts = self.sbcs.texts
        return all((text := texts[byte]) is None or unicodedata.category(text[0]) == "Cc" for byte in others)

    def _segments(
        self, flat: np.ndarray, width: int, room: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Where the segments of a chunk start, the kind of shift code each starts with
        (0: none, a row start) and which segments start a row; None if the chunk holds no
        shift code.

        Every shift code and every row start begins a segment. Shift codes are recognised
        by value wherever they occur: candidates are the bytes between the lowest and the
        highest byte that may start one where the others in that range are control codes
        (one subtraction and one compare per byte), else the bytes that may start one (one
        compare each); kept where they are one. A two-byte code, checked there only, wins
        over a one-byte one and never spans two rows. ``room``: a ``bool`` buffer of at least
        :func:`_mark_room` entries for the candidate marks (else a new one).
        """
        starts = self._shift_starts
        if not starts:  # a charset without shift codes
            return None
        size = flat.size
        if room is None:
            room = np.empty(_mark_room(size), dtype=bool)
        mark = room[:size]
        if self._shift_range_is_rare:
            low, high = starts[0], starts[-1]
            # wraps below low: not a candidate
            np.less_equal(np.subtract(flat, np.uint8(low), out=mark.view(np.uint8)), high - low, out=mark)
        else:
            np.equal(flat, starts[0], out=mark)
            for byte in starts[1:]:
                mark |= flat == byte
        if not mark.any():
            return None
        mark[::width] = True
        seg = _flatnonzero_marks(room, size, int(np.count_nonzero(mark)))
        if flat.size < 1 << 31:  # narrower positions: cheaper arithmetic on them
            seg = seg.astype(np.int32)
        # (division by a scalar is cheap in NumPy, the remainder is not: 0.035 against 0.12 ms)
        column = seg - seg // seg.dtype.type(width) * seg.dtype.type(width)
        first = np.take(flat, seg)
        kind = np.take(self._shift_table, first)
        pairs = [(byte1, byte2, pair_kind, first == byte1) for byte1, byte2, pair_kind in self._shift_pairs]
        pairs = [pair for pair in pairs if pair[3].any()]  # only where a first byte occurs
        if pairs:
            inside = column != width - 1  # the row holds a next byte
            follow = np.take(flat, np.minimum(seg + 1, flat.size - 1))
            for _, byte2, pair_kind, is_first in pairs:
                kind[inside & is_first & (follow == byte2)] = pair_kind
        keep = (kind != 0) | (column == 0)  # not another candidate, a first byte without its second
        if not keep.all():
            seg, kind, column = seg[keep], kind[keep], column[keep]
        if not kind.any():
            return None
        return seg, kind, column == 0

    def _mixed_chunk(self, chunk: np.ndarray, parts: _Parts, scratch: _MixedScratch) -> None:
        """One chunk, position by position: every byte gets one table entry — its
        character, the pair's first code point where a pair starts, the pair's second one
        (or nothing) at its second byte, nothing at a shift code — and the entries' code
        points, shift codes and second bytes left out, are the chunk's text."""
        rows, width = chunk.shape
        total = rows * width
        flat = chunk.reshape(-1)
        segments = self._segments(flat, width, scratch.marks)
        if segments is None:  # no shift code in the whole chunk: plain single bytes
            self._sbcs_chunk(chunk, parts)
            return
        # A segment's content follows its shift code (0, 1 or 2 bytes) and ends where the
        # next segment begins; a double-byte one pairs up from its content start.
        seg, kind, row_start = segments
        seg_end = np.empty_like(seg)
        seg_end[:-1] = seg[1:]
        seg_end[-1] = total
        size = kind >> 1
        content = np.minimum(seg + size, seg_end)
        into_dbcs = (kind & 1).astype(np.uint8)
        seg_dbcs = into_dbcs.view(bool)
        # the segment's class: single-byte, or double-byte with its pairs at even / odd positions
        # (CLASS_* are 0, 2, 3: into << 1 | into & parity — arithmetic on the low byte of the
        # content start, cheaper than a table lookup per segment)
        seg_class = content.astype(np.uint8)
        seg_class &= into_dbcs
        seg_class |= into_dbcs << 1
        # each position's segment class (run-end decoding: one fill per segment)
        runs = pa.RunEndEncodedArray.from_buffers(
            _REE_TYPES[seg_end.dtype], total, [None], 0, 0, [_arrow(seg_end), _arrow(seg_class)]
        )
        classes = pc.run_end_decode(runs)
        position_class = np.frombuffer(classes.buffers()[1], np.uint8, count=total, offset=classes.offset)
        # keys: b[p] | b[p+1] << 8 | (class ^ parity) << 16, built in place in the scratch
        pad = scratch.chunk[total : total + 2]
        pad[:] = 0
        half = (total + 1) // 2
        quads = scratch.keys[: 8 * half].reshape(half, 8)
        quads16 = quads.view(np.uint16)
        quads16[:, 0] = scratch.chunk[: 2 * half].view("<u2")  # the pairs starting at even positions
        odd = scratch.odd[: 2 * half]
        odd[:] = scratch.chunk[1 : 2 * half + 1]
        quads16[:, 2] = odd.view("<u2")  # at odd positions
        # (XOR into a contiguous buffer, then one strided copy: cheaper than a strided XOR)
        scratch.keys[2 : 4 * total : 4] = np.bitwise_xor(position_class, _parity(total), out=scratch.region[:total])
        keys = scratch.keys[: 4 * total].view(np.uint32)
        table, seconds = self._position_tables
        entries = _take(table, keys)
        # shift codes yield nothing (a one-byte one by the table already: see
        # mixed_position_lut); a double-byte run's odd last byte shows U+FFFD
        if int(size.max()) == 2:
            two_byte = size == 2
            entries[seg[two_byte]] = MIXED_SKIP
            second_byte = two_byte & (seg_end > seg + 1)
            entries[seg[second_byte] + 1] = MIXED_SKIP
        odd_run = (seg_end - content) & into_dbcs  # a double-byte content of odd length
        has_orphan = bool(odd_run.any())
        if has_orphan:
            orphans = seg_end[odd_run != 0] - 1
            entries[orphans] = _ORPHAN_ENTRY
        flags = int(np.bitwise_or.reduce(entries)) & _MIXED_FLAGS
        # UTF-8 bytes per row: the entries' lengths summed along the row
        if flags & MIXED_SECOND and width <= _SECOND_SUM_WIDTH:
            # base + selector (or sound mark), rare: one sum per row counts both the lengths
            # (× 256) and the pairs with a second code point (under 256: one per pair at
            # most), which is then written at the pair's second byte in those rows only
            # (into the spent keys, a buffer still in cache; values under 2**11 and
            # MIXED_SECOND below leave the keys' top byte 0)
            both = np.right_shift(entries, _SECOND_SHIFT, out=keys)
            if flags & _OTHER_FLAGS:  # (else the bits between are all 0 already)
                both &= _LEN_AND_SECOND
            sums = np.einsum("ij->i", both.reshape(rows, width))
            hit_rows = np.flatnonzero((sums & 0xFF) != 0)  # (NumPy's nonzero is fastest on bools)
            row, column = np.nonzero(entries.reshape(rows, width)[hit_rows] & np.uint32(MIXED_SECOND))
            at = hit_rows[row] * width + column
            extra = seconds[_pairs_at(flat, at)]
            # (the second byte's own entry is nothing, length 0: subtracted all the same)
            added = (extra >> MIXED_LEN_SHIFT).astype(np.int64) - (entries[at + 1] >> MIXED_LEN_SHIFT)
            entries[at + 1] = extra
            row_lengths = (sums >> 8).astype(np.int64)
            np.add.at(row_lengths, hit_rows[row], added)
        else:
            if flags & MIXED_SECOND:  # wide rows: the rows first (a sum per row), then the positions
                second = np.bitwise_and(entries, MIXED_SECOND, out=keys).reshape(rows, width)
                hit_rows = np.flatnonzero(np.einsum("ij->i", second) != 0)
                row, column = np.nonzero(second[hit_rows])
                at = hit_rows[row] * width + column
                entries[at + 1] = seconds[_pairs_at(flat, at)]
            lengths = np.right_shift(entries, MIXED_LEN_SHIFT, out=keys)
            row_lengths = np.einsum("ij->i", lengths.reshape(rows, width)).astype(np.int64)
        parts.lengths.append(row_lengths)
        # per-row findings: a row that ends in double-byte mode, an orphan, unmapped codes, 外字
        row_seg = np.flatnonzero(row_start)
        unbalanced = np.take(seg_dbcs, np.append(row_seg[1:] - 1, seg.size - 1))
        odd_rows = _rows_hit(rows, orphans // width) if has_orphan else None
        errors = _row_errors(rows, (ERR_ODD, odd_rows), (ERR_SHIFT, unbalanced))
        gaiji = np.zeros(rows, dtype=np.int32)
        if flags & _OTHER_FLAGS:

            def rows_of(bit: int) -> np.ndarray:
                hits = np.flatnonzero((entries & np.uint32(bit)) != 0)  # bool: NumPy's fast nonzero
                row_of_hit: np.ndarray = hits // width
                return row_of_hit

            if flags & (MIXED_UNMAPPED_DBCS | MIXED_UNMAPPED_SBCS):
                unmapped = _row_errors(
                    rows,
                    (ERR_DBCS, _rows_hit(rows, rows_of(MIXED_UNMAPPED_DBCS))),
                    (ERR_SBCS, _rows_hit(rows, rows_of(MIXED_UNMAPPED_SBCS))),
                )
                errors = np.where(errors != 0, errors, unmapped)
            if flags & MIXED_GAIJI:
                gaiji = np.bincount(rows_of(MIXED_GAIJI), minlength=rows).astype(np.int32)
        np.bitwise_and(entries, CP_MASK, out=entries)
        parts.data.append(_utf8(entries, skip=True))
        parts.errors.append(errors)
        parts.gaiji.append(gaiji)

    # encoding -----------------------------------------------------------------------------
    def encode_sbcs(self, values: Sequence[str | None] | pa.Array, width: int) -> np.ndarray:
        """Encode to single-byte fields of ``width`` bytes, padded with the charset's space."""
        from mig.codecs.encoders import encode_sbcs

        return encode_sbcs(self, values, width)

    def encode_dbcs(self, values: Sequence[str | None] | pa.Array, width: int) -> np.ndarray:
        """Encode to double-byte fields (PIC N) of ``width`` bytes, padded with the full-width space."""
        from mig.codecs.encoders import encode_dbcs

        return encode_dbcs(self, values, width)

    def encode_mixed(self, values: Sequence[str | None] | pa.Array, width: int) -> np.ndarray:
        """Encode to mixed fields: single-byte where possible, shifted double-byte runs else."""
        from mig.codecs.encoders import encode_mixed

        return encode_mixed(self, values, width)


@cache
def _codec(name: str, variant: Variant, overlay: tuple[tuple[int, int, str], ...] = ()) -> Codec:
    return Codec(SPECS[name], variant, overlay)


@cache
def code_range(charset: str, width: int) -> tuple[int, int, int, int]:
    """(lead_min, lead_max, trail_min, trail_max) of the codes ``charset`` decodes: any byte
    for width 1; for width 2 the bytes of its double-byte table and 外字 areas.

    >>> [f"{b:02X}" for b in code_range("jef-ebcdik", 2)]
    ['40', 'F3', '40', 'FE']
    """
    if width == 1:
        return 0x00, 0xFF, 0x00, 0xFF
    codes = np.array(sorted(_codec(charset, "distinct").dbcs.texts), dtype=np.int64)
    leads, trails = codes >> 8, codes & 0xFF
    return int(leads.min()), int(leads.max()), int(trails.min()), int(trails.max())


def get_codec(name: str, *, variant: Variant | None = None, overlay: Overlay | None = None) -> Codec:
    """Return the codec called ``name`` (one of :data:`CHARSETS`).

    ``variant`` — ``"distinct"`` (default: a Hanyo-Denshi IVS only where a base character
    alone would merge two codes), ``"hd"`` (every Hanyo-Denshi IVS of the table), ``"aj1"``
    (Adobe-Japan1 IVS), ``"base"`` (no selector) or ``"compat"`` (as distinct, but codes
    the table also maps to a CJK compatibility ideograph decode to that ideograph).

    ``overlay`` — a site overlay (:func:`mig.codecs.overlay.load_overlay`); by default the
    one of the current run (:func:`mig.codecs.overlay.overlay_scope`), if any. Without
    ``variant``, the run's (``[source] codec_variant``) or ``"distinct"``.

    >>> get_codec("jef-ebcdik").name
    'jef-ebcdik'
    >>> get_codec("cp1234")
    Traceback (most recent call last):
    ...
    mig.errors.UnknownNameError: unknown charset 'cp1234'; known: ...
    """
    if name not in SPECS:
        raise UnknownNameError("charset", name, CHARSETS)
    chosen = variant if variant is not None else active_variant() or "distinct"
    if chosen not in VARIANTS:
        raise ConfigError(f"variant must be one of {', '.join(VARIANTS)}, not {chosen!r}")
    overlay = overlay if overlay is not None else active_overlay()
    return _codec(name, cast(Variant, chosen), overlay.key(name) if overlay is not None else ())
