"""Exact COBOL numbers: packed (COMP-3), zoned (DISPLAY) and binary (COMP / COMP-5) fields.

Every decoder takes a ``uint8`` array of shape ``(n, width)`` and returns ``(values, bad)``:
``values`` is an Arrow array — ``int64`` when ``scale == 0`` and the digits fit in 18, else
``decimal128(precision, scale)`` — never a float; ``bad`` is a boolean mask of fields whose
bytes are not a valid number (a digit nibble above 9, an invalid sign); such fields are null
in ``values`` and the caller rejects the record with its bytes.

``blank_as_null=True`` turns fields made only of spaces (0x40 EBCDIC / 0x20 ASCII) or only
of 0x00 (LOW-VALUES) into nulls that are *not* bad.

Work is vectorised over rows; Python loops only run over the digit columns of a field.
A negative ``scale`` (PIC 9(3)PPP) multiplies by 10**-scale; the result has scale 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext
from typing import Literal, get_args

import numpy as np
import pyarrow as pa

from mig.errors import ConfigError

ZonedSign = Literal["trailing-overpunch", "leading-overpunch", "trailing-separate", "leading-separate", "unsigned"]
ZONED_SIGNS: tuple[str, ...] = get_args(ZonedSign)

MAX_DIGITS = 38
_INT64_DIGITS = 18
_E18 = 10**18
_M32 = np.uint64(0xFFFFFFFF)

_EBCDIC_PLUS, _EBCDIC_MINUS = 0x4E, 0x60
_ASCII_PLUS, _ASCII_MINUS = 0x2B, 0x2D


# --------------------------------------------------------------------------------------
# building exact Arrow arrays from digit matrices


def _mul_add(lo: np.ndarray, hi: np.ndarray, m: int, add: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hi·2⁶⁴ + lo)·m + add over uint64 limbs (m < 2⁶³, add < 2⁶³), modulo 2¹²⁸."""
    a0, a1 = lo & _M32, lo >> np.uint64(32)
    b0, b1 = np.uint64(m & 0xFFFFFFFF), np.uint64(m >> 32)
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> np.uint64(32)) + (p01 & _M32) + (p10 & _M32)
    new_lo = (p00 & _M32) | ((mid & _M32) << np.uint64(32))
    carry = (mid >> np.uint64(32)) + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + p11
    new_hi = hi * np.uint64(m) + carry
    added = new_lo + add.astype(np.uint64)
    new_hi += (added < new_lo).astype(np.uint64)
    return added, new_hi


def _validity(valid: np.ndarray) -> pa.Buffer | None:
    if valid.all():
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def _horner(digits: np.ndarray) -> np.ndarray:
    """int64 value of up to 18 digit columns (a loop over the columns, not the rows)."""
    value = np.zeros(digits.shape[0], dtype=np.int64)
    for j in range(digits.shape[1]):
        value *= 10
        value += digits[:, j]
    return value


def _digits_ok(digits: np.ndarray) -> np.ndarray:
    """Rows whose every digit column is 0–9."""
    ok = np.ones(digits.shape[0], dtype=bool)
    for j in range(digits.shape[1]):
        ok &= digits[:, j] <= 9
    return ok


def _build(digits: np.ndarray, negative: np.ndarray, valid: np.ndarray, scale: int) -> pa.Array:
    """Exact Arrow array from a digit matrix (n, D) of 0–9, a sign and a validity mask."""
    n, count = digits.shape
    if scale < 0:
        digits = np.concatenate([digits, np.zeros((n, -scale), dtype=digits.dtype)], axis=1)
        count, scale = count - scale, 0
    if count > MAX_DIGITS:
        raise ConfigError(f"a number of {count} digits is more than the {MAX_DIGITS} an exact decimal holds")
    if count <= _INT64_DIGITS:
        value = _horner(digits)
        value = np.where(valid, np.where(negative, -value, value), 0)
        if scale == 0:
            return pa.Array.from_buffers(pa.int64(), n, [_validity(valid), pa.py_buffer(value)])
        lo = value.view(np.uint64)
        hi = np.where(value < 0, np.uint64(0xFFFFFFFFFFFFFFFF), np.uint64(0))
    else:
        lo = np.zeros(n, dtype=np.uint64)
        hi = np.zeros(n, dtype=np.uint64)
        head = count % _INT64_DIGITS or _INT64_DIGITS
        bounds = [0, head, *range(head + _INT64_DIGITS, count + 1, _INT64_DIGITS)]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            lo, hi = _mul_add(lo, hi, 10 ** (b - a), np.where(valid, _horner(digits[:, a:b]), 0))
        neg_lo = ~lo + np.uint64(1)
        neg_hi = ~hi + (lo == 0).astype(np.uint64)
        lo = np.where(negative, neg_lo, lo)
        hi = np.where(negative, neg_hi, hi)
    data = np.empty((n, 2), dtype=np.uint64)
    data[:, 0] = lo
    data[:, 1] = hi
    precision = min(MAX_DIGITS, max(count, scale, 1))
    return pa.Array.from_buffers(pa.decimal128(precision, scale), n, [_validity(valid), pa.py_buffer(data)])


def _check(fields: np.ndarray) -> np.ndarray:
    if not isinstance(fields, np.ndarray) or fields.dtype != np.uint8 or fields.ndim != 2:
        raise ValueError("fields must be a uint8 array of shape (n, width)")
    return fields


def _blank(fields: np.ndarray, space: int) -> np.ndarray:
    blank: np.ndarray = (fields == space).all(axis=1) | (fields == 0).all(axis=1)
    return blank


# --------------------------------------------------------------------------------------
# packed decimal


def unpack_packed(
    fields: np.ndarray, scale: int, signed: bool = True, *, blank_as_null: bool = False
) -> tuple[pa.Array, np.ndarray]:
    """COMP-3 / PACKED-DECIMAL fields ``(n, width)`` → exact numbers and a bad-field mask.

    ``2·width − 1`` digits; the last nibble is the sign: C, A, E, F positive, D, B negative
    (an unsigned field accepts only the positive ones). Any other nibble is bad.

    >>> import numpy as np
    >>> values, bad = unpack_packed(np.array([[0x12, 0x34, 0x5D]], np.uint8), 2)
    >>> values.to_pylist(), bad.tolist()
    ([Decimal('-123.45')], [False])
    """
    fields = _check(fields)
    n, width = fields.shape
    if width == 0:
        raise ConfigError("a packed field needs at least one byte")
    high = fields >> 4
    low = fields & 0x0F
    digits = np.empty((n, 2 * width - 1), dtype=np.uint8)
    digits[:, 0::2] = high
    digits[:, 1::2] = low[:, :-1]
    sign = low[:, -1]
    negative = (sign == 0x0D) | (sign == 0x0B)
    sign_ok = sign >= 0x0A
    if not signed:
        sign_ok &= ~negative
        negative = np.zeros(n, dtype=bool)
    bad = ~_digits_ok(digits) | ~sign_ok
    valid = ~bad
    if blank_as_null:
        blank = _blank(fields, 0x40)
        bad &= ~blank
        valid &= ~blank
    return _build(digits, negative, valid, scale), bad


def pack_packed(
    values: Sequence[int | Decimal | None] | np.ndarray, width: int, scale: int = 0, signed: bool = True
) -> np.ndarray:
    """Encode numbers as COMP-3 fields of ``width`` bytes (C/D sign, F when unsigned).

    ``values`` are real numbers (``Decimal``/``int``; None → zero) scaled by ``10**scale``;
    a NumPy integer array is taken as already-unscaled integers (vectorised path).
    """
    unscaled = _unscaled(values, scale)
    count = 2 * width - 1
    digits, negative = _digit_matrix(unscaled, count)
    if not signed and negative.any():
        raise ValueError("a negative value in an unsigned packed field")
    out = np.zeros((digits.shape[0], width), dtype=np.uint8)
    out[:] = (digits[:, 0::2] << 4).astype(np.uint8)
    out[:, :-1] |= digits[:, 1::2]
    sign = np.where(negative, 0x0D, 0x0C if signed else 0x0F).astype(np.uint8)
    out[:, -1] |= sign
    return out


# --------------------------------------------------------------------------------------
# zoned decimal


def zoned_family(charset: str) -> str:
    """``ascii`` for charsets whose single-byte digits are ASCII (0x30–0x39), else ``ebcdic``.

    Decided by the codec's own table, not its name: ``jef-ascii`` has EBCDIC digits.

    >>> zoned_family("jef-ascii"), zoned_family("jips-j-jis8")
    ('ebcdic', 'ascii')
    """
    if charset in ("ebcdic", "ascii"):
        return charset
    from mig.codecs.decoders import get_codec

    codec = get_codec(charset)
    zero = codec.sbcs.enc_codes[np.searchsorted(codec.sbcs.enc_keys, 0x30)]
    return "ascii" if int(zero) == 0x30 else "ebcdic"


def unpack_zoned(
    fields: np.ndarray,
    scale: int,
    *,
    sign: ZonedSign,
    charset: str = "ebcdic",
    blank_as_null: bool = False,
) -> tuple[pa.Array, np.ndarray]:
    """Zoned DISPLAY numerics ``(n, width)`` → exact numbers and a bad-field mask.

    ``charset``: ``"ebcdic"`` (digits 0xF0–0xF9; overpunch zone C/A/E/F positive, D/B
    negative; separate sign 0x4E ``+`` / 0x60 ``-``), ``"ascii"`` (digits 0x30–0x39;
    overpunch ``{``/A–I positive, ``}``/J–R or 0x70–0x79 negative; separate ``+``/``-``), or
    any name of :data:`mig.codecs.CHARSETS` (its single-byte set decides).

    >>> import numpy as np
    >>> values, bad = unpack_zoned(np.array([[0xF1, 0xF2, 0xD3]], np.uint8), 1, sign="trailing-overpunch")
    >>> values.to_pylist(), bad.tolist()
    ([Decimal('-12.3')], [False])
    """
    fields = _check(fields)
    if sign not in ZONED_SIGNS:
        raise ConfigError(f"zoned sign must be one of {', '.join(ZONED_SIGNS)}, not {sign!r}")
    family = zoned_family(charset)
    n, width = fields.shape
    separate = sign.endswith("separate")
    if width == 0 or (separate and width < 2):
        raise ConfigError(f"a zoned field with sign {sign} needs more bytes than {width}")
    if separate:
        sign_byte = fields[:, 0] if sign.startswith("leading") else fields[:, -1]
        body = fields[:, 1:] if sign.startswith("leading") else fields[:, :-1]
    else:
        body = fields
        sign_byte = None
    digits: np.ndarray
    if family == "ebcdic":
        digits = body & 0x0F
        zone = body >> 4
        ok = (zone == 0x0F) & (digits <= 9)
    else:
        digits = body - np.uint8(0x30)
        ok = (body >= 0x30) & (body <= 0x39)
    negative = np.zeros(n, dtype=bool)
    sign_ok = np.ones(n, dtype=bool)
    if sign in ("trailing-overpunch", "leading-overpunch"):
        col = width - 1 if sign == "trailing-overpunch" else 0
        punched = body[:, col]
        if family == "ebcdic":
            zone_p = punched >> 4
            value = punched & 0x0F
            negative = (zone_p == 0x0D) | (zone_p == 0x0B)
            sign_ok = (zone_p >= 0x0A) & (value <= 9)
        else:
            value, negative, sign_ok = _ascii_overpunch(punched)
        digits = digits.copy()
        digits[:, col] = np.where(sign_ok, value, 0)
        ok[:, col] = True
    elif separate:
        assert sign_byte is not None
        plus, minus = (_EBCDIC_PLUS, _EBCDIC_MINUS) if family == "ebcdic" else (_ASCII_PLUS, _ASCII_MINUS)
        negative = sign_byte == minus
        sign_ok = (sign_byte == plus) | negative
    bad = ~ok.all(axis=1) | ~sign_ok
    valid = ~bad
    if blank_as_null:
        blank = _blank(fields, 0x40 if family == "ebcdic" else 0x20)
        bad &= ~blank
        valid &= ~blank
    digits = np.where(ok, digits, 0).astype(np.uint8)
    return _build(digits, negative & valid, valid, scale), bad


def _ascii_overpunch(punched: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    table_value = np.zeros(256, dtype=np.uint8)
    table_neg = np.zeros(256, dtype=bool)
    table_ok = np.zeros(256, dtype=bool)
    for base, first, negative in ((0x30, 0, False), (0x41, 1, False), (0x4A, 1, True), (0x70, 0, True)):
        count = 10 if first == 0 else 9
        codes = np.arange(base, base + count)
        table_value[codes] = np.arange(first, first + count)
        table_neg[codes] = negative
        table_ok[codes] = True
    for code, negative in ((0x7B, False), (0x7D, True)):
        table_value[code] = 0
        table_neg[code] = negative
        table_ok[code] = True
    return table_value[punched], table_neg[punched], table_ok[punched]


def pack_zoned(
    values: Sequence[int | Decimal | None] | np.ndarray,
    width: int,
    scale: int = 0,
    *,
    sign: ZonedSign,
    charset: str = "ebcdic",
) -> np.ndarray:
    """Encode numbers as zoned DISPLAY fields (EBCDIC: C/D overpunch zone; ASCII: {A–I / }J–R).

    ``values`` as for :func:`pack_packed`: real numbers, or a NumPy integer array of
    already-unscaled integers.
    """
    family = zoned_family(charset)
    separate = sign.endswith("separate")
    count = width - 1 if separate else width
    digits, negative = _digit_matrix(_unscaled(values, scale), count)
    if sign == "unsigned" and negative.any():
        raise ValueError("a negative value in an unsigned zoned field")
    if family == "ebcdic":
        body = (0xF0 | digits).astype(np.uint8)
    else:
        body = (0x30 + digits).astype(np.uint8)
    if sign in ("trailing-overpunch", "leading-overpunch"):
        col = count - 1 if sign == "trailing-overpunch" else 0
        d = digits[:, col]
        if family == "ebcdic":
            body[:, col] = np.where(negative, 0xD0, 0xC0) | d
        else:
            pos = np.where(d == 0, 0x7B, 0x40 + d)
            neg = np.where(d == 0, 0x7D, 0x49 + d)
            body[:, col] = np.where(negative, neg, pos)
        return body
    if separate:
        plus, minus = (_EBCDIC_PLUS, _EBCDIC_MINUS) if family == "ebcdic" else (_ASCII_PLUS, _ASCII_MINUS)
        mark = np.where(negative, minus, plus).astype(np.uint8)[:, None]
        return np.concatenate([mark, body] if sign.startswith("leading") else [body, mark], axis=1)
    return body


# --------------------------------------------------------------------------------------
# binary


def unpack_binary(
    fields: np.ndarray,
    scale: int,
    *,
    signed: bool,
    native: bool = False,
    digits: int | None = None,
) -> tuple[pa.Array, np.ndarray]:
    """COMP / COMP-4 / BINARY (big-endian) or, with ``native=True``, little-endian COMP-5.

    Width 1, 2, 4 or 8 bytes. On z/OS COMP-5 is big-endian too: pass ``native=False``;
    ``native=True`` is for COMP-5 written on a little-endian machine. With ``digits`` (the
    PIC digits) a value of more digits is bad. Unsigned 8-byte fields come as
    ``decimal128(20, scale)``.

    >>> import numpy as np
    >>> unpack_binary(np.array([[0xFF, 0xFE]], np.uint8), 0, signed=True)[0].to_pylist()
    [-2]
    """
    fields = _check(fields)
    n, width = fields.shape
    if width not in (1, 2, 4, 8):
        raise ConfigError(f"a binary field is 1, 2, 4 or 8 bytes, not {width}")
    order = "<" if native else ">"
    kind = "i" if signed else "u"
    raw = np.ascontiguousarray(fields).view(f"{order}{kind}{width}").reshape(n)
    bad = np.zeros(n, dtype=bool)
    if not signed and width == 8:
        big = raw.astype(np.uint64)
        if digits is not None and digits < 20:
            bad = big >= np.uint64(10**digits)
        lo = big
        hi = np.zeros(n, dtype=np.uint64)
        lo = np.where(bad, np.uint64(0), lo)
        data = np.stack([lo, hi], axis=1)
        precision = max(20, scale)
        return pa.Array.from_buffers(
            pa.decimal128(min(precision, MAX_DIGITS), max(scale, 0)), n, [_validity(~bad), pa.py_buffer(data)]
        ), bad
    value = raw.astype(np.int64)
    if digits is not None and digits < 19:
        bad = np.abs(value) >= 10**digits
        value = np.where(bad, 0, value)
    valid = ~bad
    if scale < 0:
        value = value * 10**-scale
        scale = 0
    if scale == 0:
        return pa.Array.from_buffers(pa.int64(), n, [_validity(valid), pa.py_buffer(value)]), bad
    data = np.empty((n, 2), dtype=np.uint64)
    data[:, 0] = value.view(np.uint64)
    data[:, 1] = np.where(value < 0, np.uint64(0xFFFFFFFFFFFFFFFF), np.uint64(0))
    precision = min(MAX_DIGITS, max(19, scale))
    return pa.Array.from_buffers(pa.decimal128(precision, scale), n, [_validity(valid), pa.py_buffer(data)]), bad


def pack_binary(
    values: Sequence[int | Decimal | None] | np.ndarray,
    width: int,
    scale: int = 0,
    *,
    signed: bool,
    native: bool = False,
) -> np.ndarray:
    """Encode numbers as binary fields (big-endian, or little-endian with ``native``).

    ``values`` as for :func:`pack_packed`: real numbers, or a NumPy integer array of
    already-unscaled integers.
    """
    unscaled = _unscaled(values, scale)
    order = "<" if native else ">"
    kind = "i" if signed else "u"
    dtype = np.dtype(f"{order}{kind}{width}")
    info = np.iinfo(dtype)
    ints = [int(v) for v in unscaled] if unscaled.dtype == object else unscaled
    arr = np.array(ints, dtype=object if unscaled.dtype == object else np.int64)
    if any(int(v) < info.min or int(v) > info.max for v in (arr if arr.dtype == object else [arr.min(initial=0), arr.max(initial=0)])):
        raise ValueError(f"a value does not fit in {width} {'signed' if signed else 'unsigned'} bytes")
    return np.array(ints, dtype=dtype).view(np.uint8).reshape(len(ints), width)


# --------------------------------------------------------------------------------------
# helpers for the encoders


def _unscaled(values: Sequence[int | Decimal | None] | np.ndarray, scale: int) -> np.ndarray:
    """Unscaled integers: int64 when they fit, else an object array of Python ints."""
    if isinstance(values, np.ndarray) and np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    out: list[int] = []
    for value in values:
        if value is None:
            out.append(0)
            continue
        if isinstance(value, int | np.integer) and scale >= 0:
            out.append(int(value) * 10**scale)
            continue
        with localcontext() as context:
            context.prec = 2 * MAX_DIGITS
            scaled = Decimal(value).scaleb(scale)
            if scaled != scaled.to_integral_value():
                raise ValueError(f"a value has more decimals than scale {scale}")
        out.append(int(scaled))
    if all(-(2**63) < v < 2**63 for v in out):
        return np.array(out, dtype=np.int64)
    return np.array(out, dtype=object)


def _digit_matrix(unscaled: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, count) digit matrix of |value| and the sign; too many digits → ValueError."""
    n = unscaled.shape[0]
    if unscaled.dtype == object:
        negative = np.array([v < 0 for v in unscaled], dtype=bool)
        texts = [str(abs(int(v))).rjust(count, "0") for v in unscaled]
        if any(len(t) > count for t in texts):
            raise ValueError(f"a value has more than {count} digits")
        raw = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(n, count)
        return (raw - 0x30).astype(np.uint8), negative
    negative = unscaled < 0
    magnitude = np.abs(unscaled).astype(np.uint64)
    if count < 20 and (magnitude >= np.uint64(10**count)).any():
        raise ValueError(f"a value has more than {count} digits")
    digits = np.zeros((n, count), dtype=np.uint8)
    for j in range(count - 1, max(count - 20, -1), -1):
        digits[:, j] = (magnitude % np.uint64(10)).astype(np.uint8)
        magnitude //= np.uint64(10)
    return digits, negative
