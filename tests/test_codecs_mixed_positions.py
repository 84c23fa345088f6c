"""The per-position mixed-field decoder (one table entry per byte, issue 12) gives exactly
what the unit-gathering decoder it replaced gave: the same UTF-8 bytes and offsets, error
codes and 外字 counts, on random mixed fields — 外字 areas, codes outside the tables, pairs
with a second code point (IVS, sound marks), shift codes anywhere (halves of two-byte ones,
at row and chunk boundaries, back to back), double-byte runs cut by the end of the field —
in any chunk size and row width (odd ones included).

The previous decoder is kept below, unchanged but for its names (``_previous_*``), as the
reference."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_codecs_mixed_chunks import chunk_bytes

import mig.codecs.decoders as decoders
from mig.codecs import CHARSETS, get_codec
from mig.codecs.decoders import (
    ERR_DBCS,
    ERR_ODD,
    ERR_SBCS,
    ERR_SHIFT,
    Codec,
    DecodeResult,
    _arange32,
    _arithmetic_runs,
    _arrow,
    _Parts,
    _row_errors,
    _rows_hit,
    _segment_sums,
    _take,
    _utf8,
)
from mig.codecs.luts import (
    CP_MASK,
    MIXED_GAIJI,
    MIXED_LEN_SHIFT,
    MIXED_SECOND,
    MIXED_UNMAPPED_DBCS,
    MIXED_UNMAPPED_SBCS,
    REGION_DBCS,
    REGION_ORPHAN,
    REGION_SECOND,
    VARIANTS,
    Variant,
    mixed_lut,
    mixed_position_lut,
)


# --- the previous decoder (mig/codecs/decoders.py at e100ce8) ---------------------------------
def _previous_unit_keys(flat: np.ndarray) -> np.ndarray:
    total = flat.size
    even, odd = total // 2, (total - 1) // 2
    keys = np.empty(total + even + odd + 1, dtype=np.uint32)
    keys[:total] = flat
    dbcs = np.uint32(REGION_DBCS << 16)
    np.add(flat[: 2 * even].view(">u2"), dbcs, out=keys[total : total + even], dtype=np.uint32)
    odd_pairs = flat[1 : 1 + 2 * odd].copy()
    np.add(odd_pairs.view(">u2"), dbcs, out=keys[total + even : -1], dtype=np.uint32)
    keys[-1] = REGION_ORPHAN << 16
    return keys


def _previous_mixed_chunk(codec: Codec, chunk: np.ndarray, parts: _Parts) -> None:
    rows, width = chunk.shape
    total = rows * width
    flat = chunk.reshape(-1)
    segments = codec._segments(flat, width)
    if segments is None:
        codec._sbcs_chunk(chunk, parts)
        return
    table = _arrow(mixed_lut(codec.sbcs, codec.dbcs))
    seg, kind, row_start = segments
    row_seg = np.flatnonzero(row_start)
    seg_dbcs = (kind & 1).astype(bool)
    seg_end = np.empty_like(seg)
    seg_end[:-1] = seg[1:]
    seg_end[-1] = total
    content = np.minimum(seg + (kind >> 1), seg_end)
    length = seg_end - content
    keys = _previous_unit_keys(flat)
    half = total // 2
    seg_units = np.where(seg_dbcs, length >> 1, length)
    run_first = np.where(seg_dbcs, total + (content & 1) * half + (content >> 1), content)
    orphan = seg_dbcs & ((length & 1) == 1)
    has_orphan = bool(orphan.any())
    if has_orphan:
        run_first = np.stack([run_first, np.full(seg.size, keys.size - 1)], axis=1).reshape(-1)
        index = _arithmetic_runs(run_first, np.stack([seg_units, orphan], axis=1).reshape(-1), 1)
        seg_units = seg_units + orphan
        seg_first = np.cumsum(seg_units) - seg_units
    else:
        seg_first = np.cumsum(seg_units) - seg_units
        index = np.repeat((run_first - seg_first).astype(np.int32), seg_units)
        index += _arange32(1 << max(12, index.size.bit_length()))[: index.size]
    unit_keys = _take(keys, index)
    cps = _take(table, unit_keys)
    row_first = np.take(seg_first, row_seg)
    flags = int(np.bitwise_or.reduce(cps)) & ~CP_MASK if cps.size else 0
    if flags & MIXED_SECOND:
        at = np.flatnonzero((cps & MIXED_SECOND) != 0)
        second_keys = unit_keys[at] + np.uint32((REGION_SECOND - REGION_DBCS) << 16)
        cps = np.insert(cps, at + 1, _take(table, second_keys))
        row_first += np.searchsorted(at, row_first)
    parts.lengths.append(_segment_sums(np.right_shift(cps, MIXED_LEN_SHIFT), row_first))
    unbalanced = np.take(seg_dbcs, np.append(row_seg[1:] - 1, seg.size - 1))
    odd = None
    if has_orphan:
        odd = _rows_hit(rows, np.searchsorted(row_seg, np.flatnonzero(orphan), side="right") - 1)
    errors = _row_errors(rows, (ERR_ODD, odd), (ERR_SHIFT, unbalanced))
    gaiji = np.zeros(rows, dtype=np.int32)
    if flags & (MIXED_GAIJI | MIXED_UNMAPPED_DBCS | MIXED_UNMAPPED_SBCS):

        def rows_of(bit: int) -> np.ndarray:
            return np.searchsorted(row_first, np.flatnonzero((cps & bit) != 0), side="right") - 1

        if flags & (MIXED_UNMAPPED_DBCS | MIXED_UNMAPPED_SBCS):
            unmapped = _row_errors(
                rows,
                (ERR_DBCS, _rows_hit(rows, rows_of(MIXED_UNMAPPED_DBCS))),
                (ERR_SBCS, _rows_hit(rows, rows_of(MIXED_UNMAPPED_SBCS))),
            )
            errors = np.where(errors != 0, errors, unmapped)
        if flags & MIXED_GAIJI:
            gaiji = np.bincount(rows_of(MIXED_GAIJI), minlength=rows).astype(np.int32)
    np.bitwise_and(cps, CP_MASK, out=cps)
    parts.data.append(_utf8(cps))
    parts.errors.append(errors)
    parts.gaiji.append(gaiji)


def previous_decode_mixed(codec: Codec, fields: np.ndarray, chunk_bytes: int) -> DecodeResult:
    n, width = fields.shape
    parts = _Parts()
    if width == 0:
        return parts.result(n)
    step = max(1, chunk_bytes // width)
    for start in range(0, n, step):
        _previous_mixed_chunk(codec, np.ascontiguousarray(fields[start : start + step]), parts)
    return parts.result(n)


# --- the comparison -------------------------------------------------------------------------
def assert_same(new: DecodeResult, old: DecodeResult) -> None:
    """Identical Arrow buffers (offsets and UTF-8 bytes), error codes and 外字 counts."""
    assert new.values.type == old.values.type == pa.large_string()
    assert new.values.buffers()[1].to_pybytes() == old.values.buffers()[1].to_pybytes()
    assert new.values.buffers()[2].to_pybytes() == old.values.buffers()[2].to_pybytes()
    assert new.errors.dtype == old.errors.dtype and np.array_equal(new.errors, old.errors)
    assert new.gaiji.dtype == old.gaiji.dtype and np.array_equal(new.gaiji, old.gaiji)


@st.composite
def mixed_fields(draw: st.DrawFn) -> tuple[str, Variant, np.ndarray]:
    """Rows of random tokens cut to one width: shift codes (whole, halves), table codes,
    codes with a second code point, 外字 area corners and insides, unmapped pairs, any bytes."""
    charset = draw(st.sampled_from(CHARSETS))
    variant: Variant = draw(st.sampled_from(VARIANTS))
    codec = get_codec(charset, variant=variant)
    codes = sorted(codec.dbcs.texts)
    seconds = sorted(c for c, t in codec.dbcs.texts.items() if len(t) == 2) or codes
    unmapped = [c for c in range(0x4040, 0x10000, 97) if c not in codec.dbcs.texts] or codes
    gaiji = [
        lead << 8 | trail
        for area in codec.spec.gaiji
        for lead in (area.lead_first, (area.lead_first + area.lead_last) // 2, area.lead_last)
        for trail in (area.trail_first, area.trail_last)
    ] or codes
    shifts = list(codec.spec.to_dbcs + codec.spec.to_sbcs)
    pair = st.sampled_from(codes) | st.sampled_from(seconds) | st.sampled_from(gaiji) | st.sampled_from(unmapped)
    token = st.one_of(
        st.sampled_from(shifts),
        st.sampled_from(shifts).map(lambda s: s[:1]),  # half a two-byte shift code
        st.sampled_from(shifts).map(lambda s: s[-1:]),
        pair.map(lambda c: c.to_bytes(2, "big")),
        pair.map(lambda c: c.to_bytes(2, "big")[:1]),  # a lone lead byte: the pairs shift by one
        st.binary(min_size=1, max_size=4),
        st.sampled_from([b"\x40", b"\x20", b"\x00", b"\xff"]),
    )
    width = draw(st.integers(min_value=1, max_value=23))
    rows = draw(st.lists(st.lists(token, max_size=14).map(b"".join), min_size=1, max_size=30))
    pad = draw(st.sampled_from([b"\x40", b"\x00", b"\x40\x40"]))
    data = b"".join((row + pad * width)[:width] for row in rows)
    return charset, variant, np.frombuffer(data, np.uint8).reshape(len(rows), width)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_fields(), st.sampled_from([1, 2, 3, 5, 8, 41, 100, 1 << 18]))
def test_per_position_decoder_equals_the_previous_one(case: tuple[str, Variant, np.ndarray], size: int) -> None:
    charset, variant, fields = case
    codec = get_codec(charset, variant=variant)
    with chunk_bytes(size):
        new = codec.decode_mixed(fields)
    assert_same(new, previous_decode_mixed(codec, fields, size))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CHARSETS), st.integers(1, 30), st.binary(min_size=1, max_size=600))
def test_any_bytes_decode_as_before(charset: str, width: int, raw: bytes) -> None:
    """Arbitrary bytes (every shift code, any pairing) in any width: the same result."""
    rows = max(1, len(raw) // width)
    fields = np.frombuffer((raw * (rows * width // len(raw) + 1))[: rows * width], np.uint8).reshape(rows, width)
    codec = get_codec(charset)
    assert_same(codec.decode_mixed(fields), previous_decode_mixed(codec, fields, 1 << 18))


def test_a_chunk_of_the_benchmark_layout_decodes_as_before() -> None:
    """Half-width カナ, a shift, JEF kanji (some with a selector), a shift back, spaces —
    the benchmark's SHIMEI-KANA — over several chunks: the same bytes."""
    codec = get_codec("jef-ebcdik")
    rng = np.random.default_rng(12)
    kanji = np.array(sorted(c for c in codec.dbcs.texts if 0xB0A1 <= c <= 0xCFFE and (c & 0xFF) >= 0xA1), np.uint16)
    with_selector = [c for c, t in codec.dbcs.texts.items() if len(t) == 2]
    n, width = 5000, 40
    fields = np.full((n, width), 0x40, np.uint8)
    for prefix in range(7):  # a loop over the 7 prefix lengths, not over rows
        rows = np.arange(prefix, n, 7)
        fields[rows, :prefix] = 0xB1
        fields[rows, prefix] = 0x28
        codes = rng.choice(kanji, (rows.size, 8))
        codes[:, 3] = with_selector[0] if with_selector else codes[:, 3]
        fields[rows, prefix + 1 : prefix + 17] = codes.astype(">u2").view(np.uint8).reshape(rows.size, 16)
        fields[rows, prefix + 17] = 0x29
    with chunk_bytes(4096):
        new = codec.decode_mixed(fields)
    assert_same(new, previous_decode_mixed(codec, fields, 4096))
    value = new.values[3].as_py()  # prefix 3: three カナ, kanji 0-2, then the selector's base
    assert with_selector and value[6:8] == codec.dbcs.texts[with_selector[0]]
    assert "\U000e0100" <= value[7] <= "\U000e01ef" or "\u3099" <= value[7] <= "\u309a"


def test_no_table_decodes_to_the_skip_marker() -> None:
    """The marker of "no character here" is a lone surrogate, which no packaged table (any
    variant) decodes to; a table that did would be refused, not silently dropped."""
    for charset in CHARSETS:
        for variant in VARIANTS:
            codec = get_codec(charset, variant=variant)
            mixed_position_lut(codec.sbcs, codec.dbcs)  # raises on a surrogate


def test_a_table_with_a_surrogate_is_refused() -> None:
    codec = get_codec("jef-ebcdik")
    sbcs = codec.sbcs
    cp = sbcs.cp.copy()
    cp[0xC1] = 0xDC00
    broken = type(sbcs)(cp, _arrow(cp), sbcs.texts, sbcs.enc_keys, sbcs.enc_codes)
    with pytest.raises(ValueError, match="surrogate"):
        mixed_position_lut(broken, codec.dbcs)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_fields())
def test_exact_shift_candidates_give_the_same_result(case: tuple[str, Variant, np.ndarray]) -> None:
    """Where the bytes between the shift bytes are not all control codes, the candidates are
    found by one compare per shift byte instead of a range: the same result (every packaged
    charset takes the range, so this path is forced here)."""
    charset, variant, fields = case
    codec = Codec(decoders.SPECS[charset], variant)
    codec._shift_range_is_rare = False  # type: ignore[misc]  # overrides the cached property
    assert_same(codec.decode_mixed(fields), previous_decode_mixed(codec, fields, 1 << 18))
    assert all(get_codec(name)._shift_range_is_rare for name in CHARSETS)


@pytest.mark.parametrize("width", [63, 64, 65, 199, 4001])
@pytest.mark.parametrize("charset", ["jef-ebcdik", "keis83-ebcdik", "ibm-930"])
def test_wide_fields_decode_as_before(charset: str, width: int) -> None:
    """Wide fields (addresses): shift codes, pairs, 外字 and stray bytes drawn at random."""
    codec = get_codec(charset)
    rng = np.random.default_rng(width)
    codes = np.array(sorted(codec.dbcs.texts), dtype=np.uint16).astype(">u2").view(np.uint8).reshape(-1, 2)
    shifts = [np.frombuffer(code, np.uint8) for code in codec.spec.to_dbcs + codec.spec.to_sbcs]
    rows = []
    for _ in range(40):  # 40 rows built from a few hundred random tokens (test data, not the decoder)
        tokens = [
            shifts[rng.integers(len(shifts))]
            if (draw := rng.random()) < 0.15
            else rng.integers(0, 256, 1, dtype=np.uint8)
            if draw < 0.2
            else codes[rng.integers(len(codes))]
            for _ in range(width // 2)
        ]
        rows.append(np.concatenate(tokens + [np.full(width, 0x40, np.uint8)])[:width])
    fields = np.stack(rows)
    with chunk_bytes(width * 7):
        new = codec.decode_mixed(fields)
    assert_same(new, previous_decode_mixed(codec, fields, width * 7))
    assert new.errors.any() or width < 100  # the draws do hit findings in wide rows


def test_entries_leave_the_bits_between_flags_and_length_clear() -> None:
    """The per-row sum of ``entry >> 21`` (lengths × 256 + pairs with a second code point)
    relies on bits 25-28 of every entry being 0 in every table; rows of a chunk without 外字 or
    unmapped codes then need no mask."""
    unused = ((1 << decoders.MIXED_LEN_SHIFT) - 1) & ~((MIXED_UNMAPPED_SBCS << 1) - 1)
    assert unused == 0x1E000000
    for charset in CHARSETS:
        for variant in VARIANTS:
            entries, seconds = get_codec(charset, variant=variant)._position_tables
            assert not (np.asarray(entries) & unused).any() and not (seconds & unused).any()


@pytest.mark.parametrize("width", [509, 510, 511, 512])
@pytest.mark.parametrize("gaiji", [False, True])
def test_rows_full_of_selector_pairs_decode_as_before(width: int, gaiji: bool) -> None:
    """Rows up to 510 bytes count their pairs with a second code point in the low byte of the
    per-row length sum (at most 254 such pairs: a shift code, then pairs): rows of nothing
    but such pairs on both sides of that width, with and without a 外字 (which adds the mask
    pass), decode as before."""
    codec = get_codec("jef-ebcdik")
    with_selector = sorted(c for c, t in codec.dbcs.texts.items() if len(t) == 2)
    assert with_selector
    pairs = np.resize(np.array(with_selector, np.uint16), 3 * (width // 2))
    if gaiji:
        area = codec.spec.gaiji[0]
        pairs[5] = area.lead_first << 8 | area.trail_first
    body = pairs.astype(">u2").view(np.uint8).reshape(3, -1)
    fields = np.full((3, width), 0x40, np.uint8)
    fields[:, 0] = 0x28
    fields[:, 1:] = body[:, : width - 1]
    new = codec.decode_mixed(fields)
    assert_same(new, previous_decode_mixed(codec, fields, 1 << 18))
    assert int(new.errors[0]) == (1 if (width - 1) % 2 else 2)  # an orphan byte, else no shift back
    # every pair base + selector, an odd last byte U+FFFD
    assert len(new.values[1].as_py()) == 2 * ((width - 1) // 2) + (width - 1) % 2
