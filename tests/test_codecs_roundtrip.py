"""Property tests of the mainframe codecs: encode → decode round trips, and the vectorised
mixed-field decoder against a plain byte-by-byte reference decoder."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mig.codecs import CHARSETS, get_codec
from mig.codecs.luts import DECODE_ONLY, Variant, table_entries

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def single_alphabet(charset: str) -> tuple[str, ...]:
    """Characters the single-byte set decodes to and encodes back (shift bytes excluded)."""
    codec = get_codec(charset)
    reserved = {code[0] for code in codec.spec.to_dbcs + codec.spec.to_sbcs}
    keys, codes = codec.sbcs.enc_keys.tolist(), codec.sbcs.enc_codes.tolist()
    encodes_to = dict(zip(keys, codes, strict=True))
    return tuple(
        sorted(
            t
            for b, t in enumerate(codec.sbcs.texts)
            if t is not None and b not in reserved and codec.sbcs.texts[encodes_to.get(ord(t), b)] == t
            and ord(t) in encodes_to
        )
    )


@cache
def double_alphabet(charset: str) -> tuple[str, ...]:
    """Texts of double-byte codes the encoder may produce (decode-only codes left out)."""
    codec = get_codec(charset)
    spec = codec.spec
    decode_only = {int(e["code"]) for e in table_entries(spec.dbcs) if int(e["flags"]) & DECODE_ONLY}  # type: ignore[call-overload]
    if spec.byte_map:
        m = {int(e["code"]): ord(str(e["unicode"])) for e in table_entries(spec.byte_map)}  # type: ignore[call-overload]
        decode_only = {m[c >> 8] << 8 | m[c & 0xFF] for c in decode_only}
    return tuple(sorted({t for c, t in codec.dbcs.texts.items() if c not in decode_only}))


@st.composite
def mixed_text(draw: st.DrawFn) -> tuple[str, str]:
    charset = draw(st.sampled_from(CHARSETS))
    runs = draw(
        st.lists(
            st.tuples(st.booleans(), st.integers(min_value=1, max_value=6)), min_size=0, max_size=6
        )
    )
    parts: list[str] = []
    for double, length in runs:
        alphabet = double_alphabet(charset) if double else single_alphabet(charset)
        parts.extend(draw(st.lists(st.sampled_from(alphabet), min_size=length, max_size=length)))
    return charset, "".join(parts)


@SETTINGS
@given(mixed_text(), st.integers(min_value=0, max_value=4))
def test_mixed_round_trip(case: tuple[str, str], slack: int) -> None:
    charset, text = case
    codec = get_codec(charset)
    width = 3 * len(text) + 8 * (text.count("\u0000") + 1) + slack + 4  # enough for shifts
    fields = codec.encode_mixed([text, "", text], width)
    result = codec.decode_mixed(fields)
    assert result.errors.tolist() == [0, 0, 0]
    for value in result.values.to_pylist()[0::2]:
        assert value.startswith(text) and set(value[len(text) :]) <= {" "}


@SETTINGS
@given(st.sampled_from(CHARSETS), st.data())
def test_pic_n_round_trip(charset: str, data: st.DataObject) -> None:
    codec = get_codec(charset)
    units = data.draw(st.lists(st.sampled_from(double_alphabet(charset)), max_size=12))
    extra = data.draw(st.integers(min_value=0, max_value=3))
    text = "".join(units)
    result = codec.decode_dbcs(codec.encode_dbcs([text], 2 * (len(units) + extra)))
    assert result.errors.tolist() == [0]
    assert result.values.to_pylist() == [text + "\u3000" * extra]


# --------------------------------------------------------------------------------------
# the vectorised mixed decoder against a byte-by-byte reference


def reference_mixed(charset: str, row: bytes, variant: Variant = "distinct") -> tuple[str, int, int]:
    """Decode one mixed field byte by byte: (text, error code, gaiji count).

    Shift codes are recognised by value wherever they occur; the bytes of a double-byte
    segment pair up from its start.
    """
    codec = get_codec(charset, variant=variant)
    to_dbcs = sorted(codec.spec.to_dbcs, key=len, reverse=True)
    to_sbcs = sorted(codec.spec.to_sbcs, key=len, reverse=True)
    out: list[str] = []
    errors: set[int] = set()
    gaiji = 0
    double = False
    pending: list[int] = []

    def flush() -> None:
        nonlocal gaiji
        for k in range(0, len(pending) - 1, 2):
            text = codec.dbcs.texts.get(pending[k] << 8 | pending[k + 1])
            if text is None:
                out.append("\ufffd")
                errors.add(3)
            else:
                out.append(text)
                gaiji += any(0xE000 <= ord(c) <= 0xF8FF for c in text)
        if len(pending) % 2:
            out.append("\ufffd")
            errors.add(1)
        pending.clear()

    i = 0
    while i < len(row):
        shift = next((c for c in to_dbcs + to_sbcs if row.startswith(c, i)), None)
        if shift is not None:
            flush()
            double = shift in to_dbcs
            i += len(shift)
            continue
        if double:
            pending.append(row[i])
        else:
            text = codec.sbcs.texts[row[i]]
            out.append("\ufffd" if text is None else text)
            if text is None:
                errors.add(4)
        i += 1
    flush()
    if double:
        errors.add(2)
    return "".join(out), min(errors, default=0), gaiji


@st.composite
def mixed_bytes(draw: st.DrawFn) -> tuple[str, list[bytes]]:
    charset = draw(st.sampled_from(CHARSETS))
    codec = get_codec(charset)
    codes = sorted(codec.dbcs.texts)
    shifts = list(codec.spec.to_dbcs + codec.spec.to_sbcs)
    token = st.one_of(
        st.sampled_from(shifts),
        st.sampled_from(codes).map(lambda c: bytes([c >> 8, c & 0xFF])),
        st.binary(min_size=1, max_size=2),
        st.sampled_from([b"\x40", b"\x20", b"\x00"]),
    )
    width = draw(st.integers(min_value=1, max_value=24))
    rows = draw(st.lists(st.lists(token, max_size=12).map(b"".join), min_size=1, max_size=6))
    return charset, [(r + b"\x40" * width)[:width] for r in rows]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_bytes())
def test_mixed_decoder_matches_the_reference(case: tuple[str, list[bytes]]) -> None:
    charset, rows = case
    fields = np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), -1)
    result = get_codec(charset).decode_mixed(fields)
    got = list(zip(result.values.to_pylist(), result.errors.tolist(), result.gaiji.tolist(), strict=True))
    assert got == [reference_mixed(charset, r) for r in rows]


@pytest.mark.parametrize(("charset", "variant"), [("jef-ebcdik", "hd"), ("keis83-ebcdik", "distinct"), ("ibm-930", "distinct")])
def test_mixed_decoder_matches_the_reference_over_many_chunks(charset: str, variant: Variant) -> None:
    """Thousands of rows (several chunks of the decoder): shift codes, pairs with and without a
    second code point, 外字, orphans, unbalanced rows, bad bytes, two-byte shift codes cut by
    the row end."""
    codec = get_codec(charset, variant=variant)
    rng = np.random.default_rng(7)
    codes = np.array(sorted(codec.dbcs.texts), dtype=np.int64)
    seconds = np.array([c for c, t in codec.dbcs.texts.items() if len(t) == 2], dtype=np.int64)
    shifts = list(codec.spec.to_dbcs + codec.spec.to_sbcs)
    width, rows = 24, 12_000
    out = []
    for _ in range(rows):
        row = bytearray()
        while len(row) < width:
            pick = rng.random()
            if pick < 0.15:
                row += shifts[rng.integers(len(shifts))]
            elif pick < 0.55:
                row += int(codes[rng.integers(codes.size)]).to_bytes(2, "big")
            elif pick < 0.6 and seconds.size:
                row += int(seconds[rng.integers(seconds.size)]).to_bytes(2, "big")
            elif pick < 0.85:
                row += b"\x40"
            else:
                row.append(int(rng.integers(256)))
        out.append(bytes(row[:width]))
    fields = np.frombuffer(b"".join(out), np.uint8).reshape(rows, width)
    result = codec.decode_mixed(fields)
    got = list(zip(result.values.to_pylist(), result.errors.tolist(), result.gaiji.tolist(), strict=True))
    assert got == [reference_mixed(charset, r, variant) for r in out]
    if charset == "jef-ebcdik":  # every error code (and fine rows) occurred
        assert {e for _, e, _ in got} == {0, 1, 2, 3, 4}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CHARSETS), st.binary(min_size=0, max_size=64), st.integers(min_value=1, max_value=9))
def test_arbitrary_bytes_never_crash(charset: str, raw: bytes, width: int) -> None:
    n = len(raw) // width
    fields = np.frombuffer(raw[: n * width], np.uint8).reshape(n, width)
    codec = get_codec(charset)
    for result in (codec.decode_sbcs(fields), codec.decode_dbcs(fields), codec.decode_mixed(fields)):
        assert len(result.values) == n == result.errors.size == result.gaiji.size
        assert set(result.errors.tolist()) <= {0, 1, 2, 3, 4}
        # U+FFFD only ever shows together with an error code
        for value, error in zip(result.values.to_pylist(), result.errors.tolist(), strict=True):
            assert error != 0 or "\ufffd" not in value


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CHARSETS), st.data())
def test_pic_n_decoder_matches_the_reference(charset: str, data: st.DataObject) -> None:
    codec = get_codec(charset)
    codes = sorted(codec.dbcs.texts)
    width = data.draw(st.integers(min_value=0, max_value=13))
    pair = st.one_of(st.sampled_from(codes), st.integers(min_value=0, max_value=0xFFFF))
    rows = data.draw(
        st.lists(st.lists(pair, min_size=(width + 1) // 2, max_size=(width + 1) // 2), min_size=1, max_size=5)
    )
    raw = [b"".join(c.to_bytes(2, "big") for c in row)[:width] for row in rows]
    fields = np.frombuffer(b"".join(raw), np.uint8).reshape(len(raw), width)
    result = codec.decode_dbcs(fields)
    for r, value, error, gaiji in zip(raw, result.values.to_pylist(), result.errors, result.gaiji, strict=True):
        texts = [codec.dbcs.texts.get(r[i] << 8 | r[i + 1]) for i in range(0, width - 1, 2)]
        want = "".join("\ufffd" if t is None else t for t in texts) + ("\ufffd" if width % 2 else "")
        assert value == want
        assert error == (1 if width % 2 else 3 if None in texts else 0)
        assert gaiji == sum(1 for t in texts if t and any(0xE000 <= ord(c) <= 0xF8FF for c in t))
