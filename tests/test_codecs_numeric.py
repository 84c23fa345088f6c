"""Exact packed, zoned and binary numbers: round trips, bad nibbles and signs, types."""

from __future__ import annotations

from decimal import Context, Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.codecs import (
    pack_binary,
    pack_packed,
    pack_zoned,
    unpack_binary,
    unpack_packed,
    unpack_zoned,
)
from mig.codecs.numeric import ZONED_SIGNS
from mig.errors import ConfigError

FAST = settings(max_examples=80, deadline=None)
EXACT = Context(prec=80)


def _real(unscaled: list[int], scale: int) -> list[Decimal]:
    return [Decimal(v).scaleb(-scale, EXACT) for v in unscaled]


def _expected(unscaled: list[int], scale: int) -> list[object]:
    if scale == 0:
        return list(unscaled)
    return list(_real(unscaled, scale))


@FAST
@given(st.data(), st.integers(min_value=1, max_value=19), st.integers(min_value=0, max_value=6))
def test_packed_round_trip(data: st.DataObject, width: int, scale: int) -> None:
    digits = 2 * width - 1
    limit = 10**digits - 1
    unscaled = data.draw(st.lists(st.integers(min_value=-limit, max_value=limit), min_size=1, max_size=20))
    real = _real(unscaled, scale)
    values, bad = unpack_packed(pack_packed(real, width, scale), scale)
    assert not bad.any()
    assert values.to_pylist() == _expected(unscaled, scale)
    if scale == 0 and digits <= 18:
        assert values.type == pa.int64()
    else:
        assert pa.types.is_decimal(values.type) and values.type.scale == scale


@FAST
@given(st.lists(st.integers(min_value=-(10**17) + 1, max_value=10**17 - 1), min_size=1, max_size=50))
def test_packed_vectorised_path_matches(values: list[int]) -> None:
    as_array = pack_packed(np.array(values, dtype=np.int64), 9)
    assert np.array_equal(as_array, pack_packed(values, 9))
    assert unpack_packed(as_array, 0)[0].to_pylist() == values


def test_packed_signs_and_bad_nibbles() -> None:
    fields = np.array(
        [
            [0x12, 0x3C],  # +123
            [0x12, 0x3D],  # -123
            [0x12, 0x3F],  # unsigned 123
            [0x12, 0x3B],  # -123 (alternate negative)
            [0x1A, 0x3C],  # digit nibble A
            [0x12, 0x39],  # sign nibble 9
            [0x00, 0x00],  # LOW-VALUES
            [0x40, 0x40],  # spaces
        ],
        dtype=np.uint8,
    )
    values, bad = unpack_packed(fields, 0)
    assert values.to_pylist() == [123, -123, 123, -123, None, None, None, None]
    assert bad.tolist() == [False, False, False, False, True, True, True, True]
    values, bad = unpack_packed(fields, 0, blank_as_null=True)
    assert bad.tolist() == [False, False, False, False, True, True, False, False]
    assert values.null_count == 4
    # an unsigned field refuses a negative sign
    assert unpack_packed(fields[:2], 0, signed=False)[1].tolist() == [False, True]
    # P scaling: PIC 999PP → × 100
    assert unpack_packed(fields[:1], -2)[0].to_pylist() == [12300]


@FAST
@given(
    st.sampled_from(ZONED_SIGNS),
    st.sampled_from(["ebcdic", "ascii", "jef-ebcdik", "jips-j-jis8"]),
    st.integers(min_value=2, max_value=20),
    st.integers(min_value=0, max_value=4),
    st.data(),
)
def test_zoned_round_trip(sign: str, charset: str, width: int, scale: int, data: st.DataObject) -> None:
    digits = width - 1 if sign.endswith("separate") else width
    limit = 10**digits - 1
    low = 0 if sign == "unsigned" else -limit
    unscaled = data.draw(st.lists(st.integers(min_value=low, max_value=limit), min_size=1, max_size=20))
    real = _real(unscaled, scale)
    fields = pack_zoned(real, width, scale, sign=sign, charset=charset)  # type: ignore[arg-type]
    assert fields.shape == (len(unscaled), width)
    values, bad = unpack_zoned(fields, scale, sign=sign, charset=charset)  # type: ignore[arg-type]
    assert not bad.any()
    assert values.to_pylist() == _expected(unscaled, scale)


def test_zoned_overpunch_bytes_and_bad_fields() -> None:
    ebcdic = np.array([[0xF1, 0xF2, 0xC3], [0xF1, 0xF2, 0xD3], [0xF1, 0xC2, 0xF3], [0xF1, 0xF2, 0x43], [0x40, 0x40, 0x40]], np.uint8)
    values, bad = unpack_zoned(ebcdic, 0, sign="trailing-overpunch")
    assert values.to_pylist() == [123, -123, None, None, None]
    assert bad.tolist() == [False, False, True, True, True]
    assert unpack_zoned(ebcdic, 0, sign="trailing-overpunch", blank_as_null=True)[1].tolist()[-1] is False
    ascii_ = np.frombuffer(b"12{12}12C12L12p12s", np.uint8).reshape(6, 3)
    values, bad = unpack_zoned(ascii_, 1, sign="trailing-overpunch", charset="ascii")
    assert values.to_pylist() == [Decimal("12.0"), Decimal("-12.0"), Decimal("12.3"), Decimal("-12.3"), Decimal("-12.0"), Decimal("-12.3")]
    assert not bad.any()
    separate = np.frombuffer(b"\x60\xf4\xf2\x4e\xf4\xf2\x6b\xf4\xf2", np.uint8).reshape(3, 3)
    values, bad = unpack_zoned(separate, 0, sign="leading-separate")
    assert values.to_pylist() == [-42, 42, None] and bad.tolist() == [False, False, True]
    with pytest.raises(ConfigError):
        unpack_zoned(separate, 0, sign="middle")  # type: ignore[arg-type]


@FAST
@given(
    st.sampled_from([1, 2, 4, 8]),
    st.booleans(),
    st.booleans(),
    st.integers(min_value=0, max_value=4),
    st.data(),
)
def test_binary_round_trip(width: int, signed: bool, native: bool, scale: int, data: st.DataObject) -> None:
    bits = 8 * width
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    unscaled = data.draw(st.lists(st.integers(min_value=low, max_value=high), min_size=1, max_size=20))
    real = _real(unscaled, scale)
    fields = pack_binary(real, width, scale, signed=signed, native=native)
    values, bad = unpack_binary(fields, scale, signed=signed, native=native)
    assert not bad.any()
    assert values.to_pylist() == _expected(unscaled, scale)


def test_binary_byte_order_and_digit_limit() -> None:
    fields = np.array([[0x00, 0x01], [0xFF, 0xFF], [0x30, 0x39]], np.uint8)
    assert unpack_binary(fields, 0, signed=True)[0].to_pylist() == [1, -1, 12345]
    assert unpack_binary(fields, 0, signed=True, native=True)[0].to_pylist() == [256, -1, 14640]
    assert unpack_binary(fields, 0, signed=False)[0].to_pylist() == [1, 65535, 12345]
    values, bad = unpack_binary(fields, 0, signed=True, digits=4)
    assert values.to_pylist() == [1, -1, None] and bad.tolist() == [False, False, True]
    assert unpack_binary(fields, 2, signed=True)[0].to_pylist()[2] == Decimal("123.45")
    with pytest.raises(ConfigError):
        unpack_binary(np.zeros((1, 3), np.uint8), 0, signed=True)


def test_never_floats() -> None:
    fields = pack_packed([Decimal("0.1"), Decimal("0.2")], 3, 1)
    values, _ = unpack_packed(fields, 1)
    assert not pa.types.is_floating(values.type)
    assert sum(values.to_pylist()) == Decimal("0.3")
    with pytest.raises(ConfigError):
        unpack_packed(np.zeros((1, 20), np.uint8), 2)  # 39 digits
