"""The mixed-field decoder cut into chunks anywhere gives the same bytes as the byte-by-byte
reference: shift codes (one- and two-byte) at chunk and row boundaries, rows without any
unit (only shift codes), 外字 areas, pairs with a second code point (IVS, sound marks),
orphans, unbalanced rows and bytes outside the tables (same error codes, U+FFFD where the
reference puts it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_codecs_roundtrip import reference_mixed

import mig.codecs.decoders as decoders
from mig.codecs import CHARSETS, get_codec
from mig.codecs.luts import Variant


@contextmanager
def chunk_bytes(size: int) -> Iterator[None]:
    """Decode mixed fields in chunks of about ``size`` bytes (at least one row each)."""
    saved = decoders._MIXED_CHUNK_BYTES
    decoders._MIXED_CHUNK_BYTES = size
    try:
        yield
    finally:
        decoders._MIXED_CHUNK_BYTES = saved


@st.composite
def mixed_batches(draw: st.DrawFn) -> tuple[str, Variant, list[bytes]]:
    charset = draw(st.sampled_from(CHARSETS))
    variant: Variant = draw(st.sampled_from(["distinct", "hd"]))
    codec = get_codec(charset, variant=variant)
    codes = sorted(codec.dbcs.texts)
    seconds = sorted(c for c, t in codec.dbcs.texts.items() if len(t) == 2) or codes
    gaiji = [(lead << 8 | trail) for area in codec.spec.gaiji for lead in (area.lead_first, area.lead_last) for trail in (area.trail_first, area.trail_last)] or codes
    shifts = list(codec.spec.to_dbcs + codec.spec.to_sbcs)
    pair = st.sampled_from(codes) | st.sampled_from(seconds) | st.sampled_from(gaiji)
    token = st.one_of(
        st.sampled_from(shifts),
        st.sampled_from(shifts).flatmap(lambda s: st.just(s[:1])),  # half a two-byte shift code
        pair.map(lambda c: c.to_bytes(2, "big")),
        st.binary(min_size=1, max_size=3),
        st.sampled_from([b"\x40", b"\x20", b"\x00", b"\xff"]),
    )
    width = draw(st.integers(min_value=1, max_value=20))
    only_shifts = st.lists(st.sampled_from(shifts), min_size=1, max_size=10).map(b"".join)
    row = st.lists(token, max_size=12).map(b"".join) | only_shifts
    rows = draw(st.lists(row, min_size=1, max_size=40))
    return charset, variant, [(r + b"\x40" * width)[:width] for r in rows]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_batches(), st.sampled_from([1, 2, 3, 7, 16, 45, 1 << 18]))
def test_mixed_decoder_in_any_chunks_matches_the_reference(case: tuple[str, Variant, list[bytes]], size: int) -> None:
    charset, variant, rows = case
    codec = get_codec(charset, variant=variant)
    fields = np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), -1)
    with chunk_bytes(size):
        result = codec.decode_mixed(fields)
    got = list(zip(result.values.to_pylist(), result.errors.tolist(), result.gaiji.tolist(), strict=True))
    assert got == [reference_mixed(charset, r, variant) for r in rows]
    whole = codec.decode_mixed(fields)  # one chunk: the same bytes, offsets and codes
    assert result.values.buffers()[1].to_pybytes() == whole.values.buffers()[1].to_pybytes()
    assert result.values.buffers()[2].to_pybytes() == whole.values.buffers()[2].to_pybytes()
    assert np.array_equal(result.errors, whole.errors) and np.array_equal(result.gaiji, whole.gaiji)


def test_rows_without_units_at_a_chunk_end_have_empty_values() -> None:
    """Rows made of shift codes only decode to "" wherever they fall (the per-row UTF-8
    sums see empty rows in the middle and at the end of a chunk)."""
    codec = get_codec("jef-ebcdik")
    rows = [b"\x28\xb0\xa1\x29", b"\x28\x29\x28\x29", b"\xc1\x40\x40\x40", b"\x29\x29\x29\x29"]
    fields = np.frombuffer(b"".join(rows), np.uint8).reshape(4, 4)
    for size in (4, 8, 12, 16):
        with chunk_bytes(size):
            result = codec.decode_mixed(fields)
        assert result.values.to_pylist() == ["亜", "", "A   ", ""], size
        assert result.errors.tolist() == [0, 0, 0, 0]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=3000), st.floats(min_value=0.0, max_value=1.0), st.integers(0, 2**32 - 1))
def test_candidate_marks_of_any_density_give_flatnonzero(size: int, density: float, seed: int) -> None:
    """The top-up that steers NumPy's nonzero to its branch-free loop changes no index,
    whatever the density (below, inside and above the band where it applies)."""
    mark = np.random.default_rng(seed).random(size) < density
    room = np.random.default_rng(seed + 1).random(decoders._mark_room(size)) < 0.5  # stale entries after size
    room[:size] = mark
    hits = int(np.count_nonzero(mark))
    assert decoders._flatnonzero_marks(room, size, hits).tolist() == np.flatnonzero(mark).tolist()


def test_scratch_kept_from_a_larger_decode_gives_the_same_bytes() -> None:
    """The thread keeps the mixed decoder's buffers for its next call: a small decode of
    another width after a large one gives what a thread with fresh buffers gives."""
    import threading

    codec = get_codec("jef-ebcdik")
    rng = np.random.default_rng(7)
    tokens = [b"\x28\xb0\xa1\xb0\xa2\x29", b"\xc1\xc2", b"\x40", b"\x28\xb0", b"\x29"]
    large = np.frombuffer(
        b"".join((b"".join(tokens[i] for i in rng.integers(0, 5, 12)) + b"\x40" * 48)[:48] for _ in range(30_000)),
        np.uint8,
    ).reshape(-1, 48)
    small = np.frombuffer(b"\xc1\x28\xb0\xa1\x29\x40\x40" + b"\x28\xb0\xa1\xb0\x29\x40\x40", np.uint8).reshape(2, 7)
    codec.decode_mixed(large)
    after_large = codec.decode_mixed(small)
    fresh: list[decoders.DecodeResult] = []
    thread = threading.Thread(target=lambda: fresh.append(codec.decode_mixed(small)))
    thread.start()
    thread.join()
    assert after_large.values.to_pylist() == fresh[0].values.to_pylist() == ["A亜  ", "亜\ufffd  "]
    assert after_large.values.buffers()[2].to_pybytes() == fresh[0].values.buffers()[2].to_pybytes()
    assert np.array_equal(after_large.errors, fresh[0].errors)
