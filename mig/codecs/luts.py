"""Packaged code tables (``tables/charsets.arrow``) and the lookup tables built from them.

The Arrow file holds one row per mapping entry (see ``scripts/build_codec_tables.py``):
``table, code, unicode, hd, aj1, flags``. From it this module builds, once per table and
variant form, dense lookup tables for the vectorised decoders and sorted key arrays for the
encoders. Building loops over table *entries* (a few thousand), never over data.

Variant forms (``hd`` entries: a base character plus a Hanyo-Denshi selector, U+E01xx):

``distinct`` (the default)
    Where several codes of a table share a base character (a standard code and its
    ``oneway`` variants), the code the encoder writes for the plain character (its
    *canonical* code: not oneway/substitution, then the lowest) decodes to the plain
    character and every other one to its Hanyo-Denshi sequence. So variant codes stay
    apart and round-trip, while ordinary text decodes to plain characters — including the
    2,368 JIS kanji to which the JEF table gives a selector only to pin the 78JIS glyph.
``hd`` / ``aj1``
    Every Hanyo-Denshi (or Adobe-Japan1) sequence the table gives.
``base``
    Never a selector (jef4j's default charsets); variant codes then merge with their
    standard code when encoded back.
``compat``
    As ``distinct``, but a code whose table also gives a CJK compatibility ideograph
    (``cjk_ci``, flagged ``alternative`` by the build script) decodes to that ideograph
    (JEF 0xB7C3 → U+FA6B instead of 恵 U+6075): what jef4j does, for a target that
    stores compatibility ideographs. Never the default — NFC rewrites them.

Option flags of the source tables and what the codecs do with them:

``decode_only``
    The code decodes to its Unicode; the encoder never produces this code.
``encode_only``
    The encoder maps this Unicode to the code; decoding the code ignores this entry (the
    code decodes through its other entry, or is unmapped).
``oneway``
    The code decodes to a variant (an IVS sequence) of a character that has its own,
    standard code. With the ``distinct`` (default), ``hd`` and ``aj1`` forms the selector
    keeps the variant apart, so the code round-trips; with the ``base`` form it decodes to
    the plain character, which encodes to the standard code.
``unmappable``
    No Unicode for the code (the table writes U+FFFD): decoding it is an ``unmapped-dbcs``
    error, never a replacement character in the output.
``substitution``
    The Unicode is the nearest available character (e.g. a 変体仮名): decoded as the
    table gives it; when another code maps to the same text the encoder prefers that one.
``cjk_ci`` / ``combination`` / ``halfwidth`` / ``fullwidth`` / ``compatible``
    Descriptive only; the entry decodes and encodes normally (combination entries are
    also ``decode_only``). CJK compatibility ideographs are kept as they are (no NFC).
``alternative`` (set by the build script)
    A ``cjk_ci`` entry of a code that also has a standard entry: decoded only by the
    ``compat`` variant; the encoder maps the ideograph to the code (like ``encode_only``).
``shadowed`` (set by the build script)
    An entry of a code another entry of the same code overrides (see the build script:
    a standard entry before a ``cjk_ci`` one, then the last); ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from mig.charsets import is_private_use

Variant = Literal["distinct", "hd", "aj1", "base", "compat"]
VARIANTS: tuple[str, ...] = get_args(Variant)

TABLES_FILE = Path(__file__).resolve().parent / "tables" / "charsets.arrow"

DECODE_ONLY = 1 << 0
ENCODE_ONLY = 1 << 1
ONEWAY = 1 << 2
UNMAPPABLE = 1 << 3
SUBSTITUTION = 1 << 4
CJK_CI = 1 << 5
ALTERNATIVE = 1 << 14
SHADOWED = 1 << 15

#: Bits above the code point in the decode lookup tables (a code point needs 21 bits).
CP_MASK = 0x1FFFFF
BIT_GAIJI = 1 << 29  # a user-defined (外字) / Private Use character
BIT_UNMAPPED = 1 << 30  # no mapping: the value shows U+FFFD and the field gets an error
BIT_SECOND = 1 << 31  # the code decodes to two code points (base + selector / mark)
NO_CP = BIT_SECOND  # "no code point here": code point 0 never carries a second one

#: Mixed-field table (:func:`mixed_lut`): index ``region << 16 | code``; an entry is the
#: code point, these flags and its UTF-8 length in the top bits.
MIXED_SECOND = 1 << 21  # a second code point follows (base + selector / mark)
MIXED_GAIJI = 1 << 22  # a user-defined (外字) / Private Use character
MIXED_UNMAPPED_DBCS = 1 << 23  # a byte pair outside the table (the value shows U+FFFD)
MIXED_UNMAPPED_SBCS = 1 << 24  # a single byte outside the table (the value shows U+FFFD)
MIXED_LEN_SHIFT = 29  # bits 29-31: UTF-8 length of the code point (1-4)
REGION_SBCS, REGION_ORPHAN, REGION_DBCS, REGION_SECOND = 0, 1, 2, 3

#: Per-position mixed-field table (:func:`mixed_position_lut`): an entry for a byte that
#: yields no character (a shift code, the second byte of a pair). Its code point is a lone
#: surrogate, which no table decodes to (checked when the table is built) and which
#: ``str.encode("utf-8", "ignore")`` drops; its UTF-8 length is 0.
MIXED_SKIP = 0xDC00
#: Segment classes of :func:`mixed_position_lut` (a region is ``class ^ position parity``):
#: single-byte; double-byte with its pairs starting at even positions; at odd positions.
CLASS_SBCS, CLASS_DBCS_EVEN, CLASS_DBCS_ODD = 0, 2, 3

REPLACEMENT = "\ufffd"  # shown in a field's value only together with an error code


@cache
def _all_tables() -> pa.Table:
    with pa.memory_map(str(TABLES_FILE), "r") as source:
        return ipc.open_file(source).read_all()


@cache
def table_entries(name: str) -> list[dict[str, object]]:
    """All entries of one packaged table, in source order (shadowed ones included)."""
    tables = _all_tables()
    rows = tables.filter(pc.equal(tables["table"], name))
    if rows.num_rows == 0:
        raise KeyError(f"no packaged code table {name!r}")
    entries: list[dict[str, object]] = rows.to_pylist()
    return entries


def table_names() -> list[str]:
    """Names of the packaged tables."""
    return sorted(set(_all_tables()["table"].to_pylist()))


def flag_bits() -> dict[str, int]:
    """Option name → bit, as recorded by the build script."""
    meta = _all_tables().schema.metadata or {}
    return {str(k): int(v) for k, v in json.loads(meta[b"flags"]).items()}


def decodable(entry: dict[str, object], variant: Variant = "distinct") -> bool:
    """Whether the entry defines how its code decodes (not encode-only, not shadowed; an
    ``alternative`` compatibility ideograph only in the ``compat`` variant)."""
    flags = int(entry["flags"])  # type: ignore[call-overload]
    if flags & ALTERNATIVE:
        return variant == "compat"
    return not flags & (ENCODE_ONLY | SHADOWED)


def shared_bases(entries: list[dict[str, object]]) -> dict[str, int]:
    """Base texts (``unicode``) more than one decodable code decodes to → the canonical code.

    The canonical code of a base is the one the encoder writes for the plain character:
    not ``oneway``/``substitution`` if there is such a code, else the lowest code.
    """
    winners: dict[int, dict[str, object]] = {}
    for entry in entries:
        if decodable(entry) and entry["unicode"] is not None:
            winners[int(entry["code"])] = entry  # type: ignore[call-overload]
    by_base: dict[str, list[tuple[int, int]]] = {}
    for code, entry in winners.items():
        by_base.setdefault(str(entry["unicode"]), []).append((_rank(entry), code))
    return {base: min(codes)[1] for base, codes in by_base.items() if len(codes) > 1}


def decoded_text(entry: dict[str, object], variant: Variant, shared: dict[str, int] | None = None) -> str | None:
    """The text a (decodable) entry decodes to in the given variant form.

    ``distinct``: the Hanyo-Denshi form for a code whose base character another code
    decodes to, unless it is that base's canonical code (``shared``, see
    :func:`shared_bases`); ``hd`` / ``aj1``: that form wherever the table gives one;
    ``base``: never a selector.
    """
    unicode = entry["unicode"]
    if unicode is None:
        return None
    form = None
    if variant in ("distinct", "compat"):
        canonical = (shared or {}).get(str(unicode))
        if canonical is not None and canonical != int(entry["code"]):  # type: ignore[call-overload]
            form = entry["hd"]
    elif variant != "base":
        form = entry[variant]
    return str(form) if form is not None else str(unicode)


@dataclass(frozen=True)
class GaijiArea:
    """A user-defined (外字) area: lead/trail byte ranges mapped row by row to PUA."""

    lead_first: int
    lead_last: int
    trail_first: int
    trail_last: int
    pua_first: int

    def codes(self) -> tuple[np.ndarray, np.ndarray]:
        """All codes of the area and the PUA code point of each."""
        leads = np.arange(self.lead_first, self.lead_last + 1, dtype=np.int64)
        trails = np.arange(self.trail_first, self.trail_last + 1, dtype=np.int64)
        codes = (leads[:, None] << 8 | trails[None, :]).reshape(-1)
        per_row = self.trail_last - self.trail_first + 1
        points = self.pua_first + (
            (leads[:, None] - self.lead_first) * per_row + (trails[None, :] - self.trail_first)
        ).reshape(-1)
        return codes, points


def _arrow(values: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), values.size, [None, pa.py_buffer(values)])


@dataclass(frozen=True)
class SbcsLut:
    """Decode and encode tables of a single-byte set."""

    cp: np.ndarray  # uint32[256]: code point | BIT_UNMAPPED | BIT_GAIJI
    cp_arrow: pa.Array  # the same, as an Arrow array (for pyarrow.compute.take)
    texts: tuple[str | None, ...]  # 256 decoded texts (None = unmapped)
    enc_keys: np.ndarray  # int64 sorted code points
    enc_codes: np.ndarray  # uint8 code of each key


@dataclass(frozen=True)
class DbcsLut:
    """Decode and encode tables of a double-byte set."""

    cp1: np.ndarray  # uint32[65536]: first code point | BIT_SECOND | BIT_UNMAPPED | BIT_GAIJI
    cp2: np.ndarray  # uint32[65536]: second code point (variation selector, sound mark) or NO_CP
    cp1_arrow: pa.Array
    cp2_arrow: pa.Array
    cp1_le_arrow: pa.Array  # cp1 indexed by the code's bytes read little-endian (PIC N path)
    cp2_le_arrow: pa.Array
    texts: dict[int, str]  # decodable code → text (外字 areas included)
    enc_keys: np.ndarray  # int64 sorted keys: code point, or base << 21 | second
    enc_codes: np.ndarray  # uint16 code of each key


def _bits(text: str) -> tuple[int, int]:
    """(first code point with flag bits, second code point or 0) of a decoded text."""
    if not 1 <= len(text) <= 2:
        raise ValueError(f"a code decodes to {len(text)} code points; at most 2 are supported")
    first = ord(text[0]) | (BIT_GAIJI if any(is_private_use(c) for c in text) else 0)
    if len(text) == 2:
        return first | BIT_SECOND, ord(text[1])
    return first, 0


def sequence_key(text: str) -> int | None:
    """Encoder key of a text: its code point, or ``base << 21 | second`` for two; else None."""
    if len(text) == 1:
        return ord(text)
    if len(text) == 2:
        return ord(text[0]) << 21 | ord(text[1])
    return None


def _encode_keys(candidates: list[tuple[int, int, str]]) -> tuple[np.ndarray, np.ndarray]:
    """(rank, code, text) → sorted unique keys; the lowest rank (then first seen) wins."""
    best: dict[int, tuple[int, int]] = {}
    for rank, code, text in candidates:
        key = sequence_key(text)
        if key is None:
            continue
        current = best.get(key)
        if current is None or rank < current[0]:
            best[key] = (rank, code)
    keys = np.array(sorted(best), dtype=np.int64)
    codes = np.array([best[int(k)][1] for k in keys], dtype=np.int64)
    return keys, codes


def _rank(entry: dict[str, object]) -> int:
    flags = int(entry["flags"])  # type: ignore[call-overload]
    return 1 if flags & (ONEWAY | SUBSTITUTION) else 0


def _encode_candidates(
    entries: list[dict[str, object]], variant: Variant, shared: dict[str, int] | None = None
) -> list[tuple[int, int, str]]:
    """Candidates for the encoder, best rank first.

    0/1: the exact text each decodable code decodes to (rank 1 for oneway/substitution);
    2: encode-only entries; 3/4: the other forms (base, hd, aj1) of every entry.
    """
    out: list[tuple[int, int, str]] = []
    for entry in entries:
        flags = int(entry["flags"])  # type: ignore[call-overload]
        if flags & (DECODE_ONLY | UNMAPPABLE | SHADOWED) or entry["unicode"] is None:
            continue
        code = int(entry["code"])  # type: ignore[call-overload]
        if flags & ENCODE_ONLY or (flags & ALTERNATIVE and variant != "compat"):
            out.append((2, code, str(entry["unicode"])))
            continue
        text = decoded_text(entry, variant, shared)
        assert text is not None
        out.append((_rank(entry), code, text))
        for form in ("unicode", "hd", "aj1"):
            other = entry[form]
            if other is not None and other != text:
                out.append((3 + _rank(entry), code, str(other)))
    return out


@cache
def sbcs_lut(table: str) -> SbcsLut:
    """Lookup tables of a packaged single-byte table."""
    entries = table_entries(table)
    cp = np.full(256, ord(REPLACEMENT) | BIT_UNMAPPED, dtype=np.uint32)
    texts: list[str | None] = [None] * 256
    for entry in entries:
        if not decodable(entry) or entry["unicode"] is None:
            continue
        code = int(entry["code"])  # type: ignore[call-overload]
        text = str(entry["unicode"])
        first, second = _bits(text)
        if second:
            raise ValueError(f"single-byte table {table} decodes 0x{code:02X} to two code points")
        cp[code] = first
        texts[code] = text
    keys, codes = _encode_keys(_encode_candidates(entries, "base"))
    return SbcsLut(cp, _arrow(cp), tuple(texts), keys, codes.astype(np.uint8))


@cache
def dbcs_lut(
    table: str,
    variant: Variant,
    gaiji: tuple[GaijiArea, ...],
    byte_map: str | None = None,
) -> DbcsLut:
    """Lookup tables of a packaged double-byte table, with its 外字 areas as PUA.

    ``byte_map`` names a single-byte permutation table (``nec_jis8_ebcdik``): the codes of
    ``table`` are written through it byte by byte (JIPS(E) = JIPS(J) bytes in EBCDIK).
    """
    entries = table_entries(table)
    shared = shared_bases(entries)
    cp1 = np.full(65536, ord(REPLACEMENT) | BIT_UNMAPPED, dtype=np.uint32)
    cp2 = np.full(65536, NO_CP, dtype=np.uint32)
    texts: dict[int, str] = {}
    for entry in entries:
        if not decodable(entry, variant):
            continue
        code = int(entry["code"])  # type: ignore[call-overload]
        text = decoded_text(entry, variant, shared)
        if text is None:  # unmappable: stays an error
            continue
        first, second = _bits(text)
        cp1[code] = first
        cp2[code] = second if second else NO_CP
        texts[code] = text
    candidates = _encode_candidates(entries, variant, shared)
    for area in gaiji:
        codes, points = area.codes()
        cp1[codes] = points | BIT_GAIJI
        cp2[codes] = NO_CP
        texts.update(zip(codes.tolist(), map(chr, points.tolist()), strict=True))
        candidates.extend((0, c, chr(p)) for c, p in zip(codes.tolist(), points.tolist(), strict=True))
    keys, enc_codes = _encode_keys(candidates)
    if byte_map is not None:
        perm = np.zeros(256, dtype=np.int64)  # source byte → mapped byte
        for entry in table_entries(byte_map):
            perm[int(entry["code"])] = ord(str(entry["unicode"]))  # type: ignore[call-overload]
        every = np.arange(65536)
        mapped = perm[every >> 8] << 8 | perm[every & 0xFF]
        new1 = np.empty_like(cp1)
        new2 = np.empty_like(cp2)
        new1[mapped] = cp1
        new2[mapped] = cp2
        cp1, cp2 = new1, new2
        texts = {int(mapped[c]): t for c, t in texts.items()}
        enc_codes = mapped[enc_codes]
    swapped = np.arange(65536, dtype=np.uint16).byteswap()
    return DbcsLut(
        cp1,
        cp2,
        _arrow(cp1),
        _arrow(cp2),
        _arrow(np.ascontiguousarray(cp1[swapped])),
        _arrow(np.ascontiguousarray(cp2[swapped])),
        texts,
        keys,
        enc_codes.astype(np.uint16),
    )


def utf8_lengths(code_points: np.ndarray) -> np.ndarray:
    """UTF-8 byte length of each code point (``uint32``).

    >>> utf8_lengths(np.array([0x41, 0xE9, 0x4E9C, 0xE0100], np.uint32)).tolist()
    [1, 2, 3, 4]
    """
    cps = code_points.astype(np.uint32)
    return (1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= 0x10000)).astype(np.uint32)


def mixed_lut(sbcs: SbcsLut, dbcs: DbcsLut) -> np.ndarray:
    """One ``uint32`` table (4 × 65,536 entries) for the units of mixed fields.

    A unit is looked up at ``region << 16 | code``:

    ``REGION_SBCS``
        a single byte (``code`` < 256).
    ``REGION_ORPHAN``
        entry 0: the lone last byte of a double-byte run with an odd length (U+FFFD; the
        field gets ``odd-dbcs-length`` from the run lengths).
    ``REGION_DBCS``
        a byte pair: its (first) code point, ``BIT_SECOND`` if a second one follows.
    ``REGION_SECOND``
        a byte pair's second code point (variation selector, sound mark).

    An entry is ``code point | MIXED_* flags | UTF-8 length << MIXED_LEN_SHIFT``.
    """
    out = np.zeros(4 << 16, dtype=np.uint32)
    regions = out.reshape(4, 1 << 16)
    regions[REGION_SBCS, :256] = sbcs_entries(sbcs)
    regions[REGION_ORPHAN, 0] = ord(REPLACEMENT) | 3 << MIXED_LEN_SHIFT
    dbcs_flags = ((BIT_GAIJI, MIXED_GAIJI), (BIT_UNMAPPED, MIXED_UNMAPPED_DBCS), (BIT_SECOND, MIXED_SECOND))
    regions[REGION_DBCS] = _mixed_entries(dbcs.cp1, dbcs_flags)
    regions[REGION_SECOND] = _mixed_entries(dbcs.cp2, ())
    return out


def mixed_position_lut(sbcs: SbcsLut, dbcs: DbcsLut, shifts: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Tables of the per-position mixed-field decoder: (entries, seconds).

    ``entries`` (``uint32``, 4 × 65,536) is indexed by ``region << 16 | b[p] | b[p+1] << 8``
    for the byte ``b[p]`` at position ``p`` of a chunk, where ``region`` is the class of
    its segment (``CLASS_*``) XORed with the parity of ``p``: 0 and 1 single-byte, 2 where a
    pair starts, 3 at a pair's second byte. The entry (as in
    :func:`mixed_lut`: code point, ``MIXED_*`` flags, UTF-8 length) is the single byte's in
    a single-byte segment; in a double-byte one, the pair's ``b[p] << 8 | b[p+1]`` where a
    pair starts at ``p`` (``p`` has the parity of the segment's first content byte), else
    :data:`MIXED_SKIP` (the second byte of a pair). ``seconds`` (65,536, indexed by the same
    little-endian ``b[p] | b[p+1] << 8``) holds a pair's second code point (variation
    selector, sound mark; :data:`MIXED_SKIP` if none), written at the pair's second byte.

    ``shifts``: the one-byte shift codes. Such a byte is a shift code wherever it occurs, so
    in a single-byte region it is :data:`MIXED_SKIP` (in a double-byte segment it is the
    byte before the content: a pair's second byte by parity, nothing either way).

    >>> from mig.codecs import get_codec
    >>> codec = get_codec("jef-ebcdik")
    >>> entries, seconds = mixed_position_lut(codec.sbcs, codec.dbcs)
    >>> hex(entries[CLASS_DBCS_EVEN << 16 | 0xA1B0] & CP_MASK), hex(entries[(CLASS_DBCS_EVEN ^ 1) << 16 | 0xA1B0])
    ('0x4e9c', '0xdc00')
    >>> hex(entries[(CLASS_DBCS_ODD ^ 1) << 16 | 0xA1B0] & CP_MASK), hex(entries[(CLASS_SBCS ^ 1) << 16 | 0x00C1] & CP_MASK)
    ('0x4e9c', '0x41')
    >>> hex(mixed_position_lut(codec.sbcs, codec.dbcs, (0x28, 0x29))[0][CLASS_SBCS << 16 | 0x0029])
    '0xdc00'
    """
    for name, cps in (("single-byte", sbcs.cp), ("double-byte", dbcs.cp1), ("second", dbcs.cp2)):
        points = cps & CP_MASK
        if np.any((points >= 0xD800) & (points <= 0xDFFF)):
            raise ValueError(f"a {name} table decodes to a surrogate code point")
    mixed = mixed_lut(sbcs, dbcs).reshape(4, 1 << 16)
    little = np.arange(1 << 16, dtype=np.uint16).byteswap()  # b[p] | b[p+1] << 8 → b[p] << 8 | b[p+1]
    single_byte = sbcs_entries(sbcs)
    single_byte[list(shifts)] = MIXED_SKIP
    single = np.tile(single_byte, 256)  # the low byte b[p] only
    lead = np.ascontiguousarray(mixed[REGION_DBCS][little])
    skip = np.full(1 << 16, MIXED_SKIP, dtype=np.uint32)
    entries = np.concatenate([single, single, lead, skip])
    seconds = mixed[REGION_SECOND][little]
    seconds[(dbcs.cp1[little] & BIT_SECOND) == 0] = MIXED_SKIP
    return entries, np.ascontiguousarray(seconds)


def sbcs_entries(sbcs: SbcsLut) -> np.ndarray:
    """The single-byte part of :func:`mixed_lut` (256 entries): each byte's code point,
    ``MIXED_GAIJI`` / ``MIXED_UNMAPPED_SBCS`` and UTF-8 length — all a field without shift
    codes needs, without building the double-byte table."""
    return _mixed_entries(sbcs.cp, ((BIT_GAIJI, MIXED_GAIJI), (BIT_UNMAPPED, MIXED_UNMAPPED_SBCS)))


def _mixed_entries(lut: np.ndarray, flags: tuple[tuple[int, int], ...]) -> np.ndarray:
    """``lut`` (code points + ``BIT_*`` flags) as mixed-table entries."""
    cps = lut & CP_MASK
    entry = cps | utf8_lengths(cps) << MIXED_LEN_SHIFT
    for bit, mixed_bit in flags:
        entry[(lut & bit) != 0] |= mixed_bit
    return entry


def _patched_keys(keys: np.ndarray, codes: np.ndarray, changes: dict[int, str]) -> tuple[np.ndarray, np.ndarray]:
    """Encoder keys with each changed code's old keys dropped and its new text → the code."""
    changed = np.array(sorted(changes), dtype=np.int64)
    keep = ~np.isin(codes.astype(np.int64), changed)
    best = dict(zip(keys[keep].tolist(), codes[keep].astype(np.int64).tolist(), strict=True))
    for code, text in sorted(changes.items()):
        key = sequence_key(text)
        if key is not None:
            best[key] = code
    new_keys = np.array(sorted(best), dtype=np.int64)
    return new_keys, np.array([best[int(k)] for k in new_keys], dtype=np.int64)


def overlay_sbcs(lut: SbcsLut, changes: dict[int, str]) -> SbcsLut:
    """``lut`` with the single-byte codes of a site overlay (code → text) replaced."""
    if not changes:
        return lut
    cp = lut.cp.copy()
    texts = list(lut.texts)
    for code, text in changes.items():
        first, second = _bits(text)
        if second:
            raise ValueError(f"a single byte cannot decode to two code points (0x{code:02X})")
        cp[code] = first
        texts[code] = text
    keys, codes = _patched_keys(lut.enc_keys, lut.enc_codes, changes)
    return SbcsLut(cp, _arrow(cp), tuple(texts), keys, codes.astype(np.uint8))


def overlay_dbcs(lut: DbcsLut, changes: dict[int, str]) -> DbcsLut:
    """``lut`` with the double-byte codes of a site overlay (code → text) replaced."""
    if not changes:
        return lut
    cp1, cp2 = lut.cp1.copy(), lut.cp2.copy()
    texts = dict(lut.texts)
    for code, text in changes.items():
        first, second = _bits(text)
        cp1[code] = first
        cp2[code] = second if second else NO_CP
        texts[code] = text
    keys, codes = _patched_keys(lut.enc_keys, lut.enc_codes, changes)
    swapped = np.arange(65536, dtype=np.uint16).byteswap()
    return DbcsLut(
        cp1, cp2, _arrow(cp1), _arrow(cp2),
        _arrow(np.ascontiguousarray(cp1[swapped])), _arrow(np.ascontiguousarray(cp2[swapped])),
        texts, keys, codes.astype(np.uint16),
    )
