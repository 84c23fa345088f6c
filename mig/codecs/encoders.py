"""Vectorised encoders: text → fixed-width mainframe fields (for test data and legacy outputs).

All rows are handled at once: the strings are turned into one array of code points
(C codecs), each character — or base + variation selector / sound mark pair — is looked up
in the sorted key arrays of :mod:`mig.codecs.luts` with ``np.searchsorted``, and the bytes
are scattered into an ``(n, width)`` array pre-filled with the charset's space.

A character the table cannot encode, or a value longer than the field, raises
:class:`EncodeError` naming the row (never the value).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mig.errors import ConfigError, UserError

if TYPE_CHECKING:
    from mig.codecs.decoders import Codec

_SECOND_SHIFT = 21


class EncodeError(UserError):
    """Values that cannot be written in the requested charset and width."""

    def __init__(self, charset: str, kind: str, rows: np.ndarray, reason: str) -> None:
        self.rows = rows
        first = int(rows[0])
        super().__init__(
            f"{rows.size} value(s) cannot be encoded as {charset} {kind} (first: row {first}): {reason}"
        )


def _as_arrow(values: Sequence[str | None] | pa.Array) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(list(values), type=pa.large_string())
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise ValueError("values must be strings")
    return values.cast(pa.large_string()).fill_null("")


def code_points(values: Sequence[str | None] | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """All code points of all values (uint32, concatenated) and the count per value."""
    arr = _as_arrow(values)
    n = len(arr)
    counts = pc.utf8_length(arr).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    if n == 0 or offsets[-1] == offsets[0]:
        return np.zeros(0, dtype=np.uint32), counts
    data = arr.buffers()[2]
    raw = memoryview(data)[int(offsets[0]) : int(offsets[-1])]
    text = str(raw, "utf-8")
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return cps, counts


def _member(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """``values`` found in the ascending ``sorted_keys`` (binary search, any key count)."""
    if sorted_keys.size == 0:
        return np.zeros(values.shape, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), sorted_keys.size - 1)
    found: np.ndarray = sorted_keys[at] == values
    return found


def _lookup(keys: np.ndarray, codes: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code, found) for every wanted key."""
    if keys.size == 0:
        return np.zeros(wanted.size, dtype=codes.dtype), np.zeros(wanted.size, dtype=bool)
    at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    found = keys[at] == wanted
    return codes[at], found


class _Units:
    """Characters of all rows, with base + selector pairs joined where the table has them."""

    def __init__(self, values: Sequence[str | None] | pa.Array, dbcs_keys: np.ndarray | None) -> None:
        cps, counts = code_points(values)
        self.n = counts.size
        row = np.repeat(np.arange(self.n), counts)
        key = cps.astype(np.int64)
        take = np.ones(cps.size, dtype=bool)
        paired = np.zeros(cps.size, dtype=bool)
        if dbcs_keys is not None and cps.size > 1:
            seconds = np.unique(dbcs_keys[dbcs_keys >> _SECOND_SHIFT > 0] & ((1 << _SECOND_SHIFT) - 1))
            candidate = _member(cps[1:].astype(np.int64), seconds) & (row[1:] == row[:-1])
            at = np.flatnonzero(candidate)
            if at.size:
                pair_keys = key[at] << _SECOND_SHIFT | key[at + 1]
                hit = _member(pair_keys, dbcs_keys)
                # a selector already consumed cannot start a pair of its own
                at, pair_keys = at[hit], pair_keys[hit]
                key[at] = pair_keys
                paired[at] = True
                take[at + 1] = False
        self.key = key[take]
        self.paired = paired[take]
        self.row = row[take]
        per_row = np.bincount(self.row, minlength=self.n)
        self.first_of_row = np.cumsum(per_row) - per_row
        self.index_in_row = np.arange(self.key.size) - self.first_of_row[self.row]


def _fail_rows(rows: np.ndarray) -> np.ndarray:
    return np.unique(rows)


def encode_sbcs(codec: Codec, values: Sequence[str | None] | pa.Array, width: int) -> np.ndarray:
    """Single-byte fields of ``width`` bytes, space-padded."""
    lut = codec.sbcs
    units = _Units(values, None)
    space, found = _lookup(lut.enc_keys, lut.enc_codes, np.array([0x20]))
    out = np.full((units.n, width), space[0] if found[0] else 0x40, dtype=np.uint8)
    codes, ok = _lookup(lut.enc_keys, lut.enc_codes, units.key)
    if not ok.all():
        raise EncodeError(codec.name, "single-byte", _fail_rows(units.row[~ok]), "character not in the table")
    too_long = units.index_in_row >= width
    if too_long.any():
        raise EncodeError(codec.name, "single-byte", _fail_rows(units.row[too_long]), f"longer than {width} bytes")
    out[units.row, units.index_in_row] = codes
    return out


def encode_dbcs(codec: Codec, values: Sequence[str | None] | pa.Array, width: int) -> np.ndarray:
    """Double-byte fields (PIC N) of ``width`` bytes, padded with the full-width space."""
    if width % 2:
        raise ConfigError(f"a double-byte field needs an even width, not {width}")
    lut = codec.dbcs
    units = _Units(values, lut.enc_keys)
    space, found = _lookup(lut.enc_keys, lut.enc_codes, np.array([0x3000]))
    out = np.full((units.n, width // 2), space[0] if found[0] else 0x4040, dtype=">u2")
    codes, ok = _lookup(lut.enc_keys, lut.enc_codes, units.key)
    if not ok.all():
        raise EncodeError(codec.name, "double-byte", _fail_rows(units.row[~ok]), "character not in the table")
    too_long = units.index_in_row >= width // 2
    if too_long.any():
        raise EncodeError(codec.name, "double-byte", _fail_rows(units.row[too_long]), f"longer than {width} bytes")
    out[units.row, units.index_in_row] = codes
    return out.view(np.uint8).reshape(units.n, width)


def encode_mixed(codec: Codec, values: Sequence[str | None] | pa.Array, width: int) -> np.ndarray:
    """Mixed fields: single bytes where the single-byte set has the character, else shifted
    double-byte runs (shift code of the charset in front, shift back after); space-padded."""
    sb = codec.sbcs
    db = codec.dbcs
    spec = codec.spec
    to_dbcs = np.frombuffer(spec.to_dbcs[0], dtype=np.uint8)
    to_sbcs = np.frombuffer(spec.to_sbcs[0], dtype=np.uint8)
    reserved = {code[0] for code in spec.to_dbcs + spec.to_sbcs}
    units = _Units(values, db.enc_keys)
    space, found = _lookup(sb.enc_keys, sb.enc_codes, np.array([0x20]))
    out = np.full((units.n, width), space[0] if found[0] else 0x40, dtype=np.uint8)
    single, single_ok = _lookup(sb.enc_keys, sb.enc_codes, units.key)
    single_ok &= ~units.paired & ~np.isin(single, np.array(sorted(reserved), dtype=np.uint8))
    double, double_ok = _lookup(db.enc_keys, db.enc_codes, units.key)
    is_dbcs = ~single_ok
    bad = is_dbcs & ~double_ok
    if bad.any():
        raise EncodeError(codec.name, "mixed", _fail_rows(units.row[bad]), "character not in the tables")
    count = units.key.size
    same_row_prev = np.zeros(count, dtype=bool)
    same_row_prev[1:] = units.row[1:] == units.row[:-1]
    prev_dbcs = np.zeros(count, dtype=bool)
    prev_dbcs[1:] = is_dbcs[:-1]
    next_dbcs = np.zeros(count, dtype=bool)
    next_dbcs[:-1] = is_dbcs[1:]
    same_row_next = np.zeros(count, dtype=bool)
    same_row_next[:-1] = same_row_prev[1:]
    run_start = is_dbcs & ~(prev_dbcs & same_row_prev)
    run_end = is_dbcs & ~(next_dbcs & same_row_next)
    cost = np.where(is_dbcs, 2, 1) + run_start * to_dbcs.size + run_end * to_sbcs.size
    end = np.cumsum(cost)
    row_base = np.zeros(units.n, dtype=np.int64)
    if count:
        row_end_units = units.first_of_row + np.bincount(units.row, minlength=units.n) - 1
        has = row_end_units >= units.first_of_row
        row_used = np.zeros(units.n, dtype=np.int64)
        row_used[has] = end[row_end_units[has]]
        row_base[1:] = np.maximum.accumulate(row_used)[:-1]
        start = end - cost - row_base[units.row]
        too_long = start + cost > width
        if too_long.any():
            raise EncodeError(codec.name, "mixed", _fail_rows(units.row[too_long]), f"longer than {width} bytes")
        rows = units.row
        s = ~is_dbcs
        out[rows[s], start[s]] = single[s]
        body = start + run_start * to_dbcs.size
        d = is_dbcs
        out[rows[d], body[d]] = (double[d] >> 8).astype(np.uint8)
        out[rows[d], body[d] + 1] = (double[d] & 0xFF).astype(np.uint8)
        for i, byte in enumerate(to_dbcs):
            out[rows[run_start], start[run_start] + i] = byte
        for i, byte in enumerate(to_sbcs):
            out[rows[run_end], body[run_end] + 2 + i] = byte
    return out
