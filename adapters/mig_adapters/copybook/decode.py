"""Decode framed records of one record type into String columns, vectorised per field.

The records of a batch become a byte matrix (one row per record, one column per byte of
the record layout); each field is a slice of it — or, after an OCCURS DEPENDING ON table,
a gather at a per-record offset — decoded by :mod:`mig.codecs` for the whole batch at
once. Numbers become their exact decimal text (``-123.45``; unsigned integers keep their
leading zeros, ``00123``, as COBOL shows them), never floats.

A numeric field made only of spaces or only of 0x00 (LOW-VALUES) is a value the old
system left empty: it becomes null, not an error (``blank_numbers = "reject"`` in the
adapter's options makes it an error).

A record fails — and goes to the rejects with its bytes — when it is shorter than its
layout needs, when it is longer (``record-long``: bytes past the layout would be lost; the
adapter's ``long_records = "trailing"`` accepts such records and counts their trailing
bytes instead; fixed-length slots are not checked, their slack is padding), when an OCCURS DEPENDING ON count is outside its bounds, or when a field it
relies on does not decode (invalid packed nibble or sign, invalid zone, odd double-byte
run, unbalanced shift, unmapped code). Fields of a REDEFINES alternative are the
exception: one view of the bytes is expected not to decode, so unless the mapping reads
the field its bad value becomes null (counted in the reader's stats) instead.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from mig.codecs import ERRORS, Codec, unpack_binary, unpack_packed, unpack_zoned
from mig_adapters.copybook.parser import Field, Record

Bytes = npt.NDArray[np.uint8]
Positions = npt.NDArray[np.int64]

#: Finding type of a numeric field that does not decode.
NUMERIC_ERRORS = {"packed": "packed-invalid", "zoned": "zoned-invalid", "binary": "binary-invalid"}


@dataclass
class Reasons:
    """Why records fail: per record an index into ``labels`` (0 = the record is fine).

    The first reason found for a record is kept (checks run in layout order).
    """

    codes: npt.NDArray[np.int32]
    labels: list[tuple[str, str | None]] = field(default_factory=lambda: [("", None)])

    @classmethod
    def none(cls, n: int) -> Reasons:
        return cls(np.zeros(n, dtype=np.int32))

    def add(self, mask: npt.NDArray[np.bool_], type_code: str, detail: str | None) -> None:
        mask = mask & (self.codes == 0)
        if not mask.any():
            return
        label = (type_code, detail)
        try:
            index = self.labels.index(label)
        except ValueError:
            self.labels.append(label)
            index = len(self.labels) - 1
        self.codes[mask] = index

    @property
    def failed(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.codes != 0, dtype=np.bool_)

    def types(self, mask: npt.NDArray[np.bool_]) -> tuple[list[str], list[str | None]]:
        """Type and detail of the records selected by ``mask`` (one Python list per batch)."""
        types = np.array([t for t, _ in self.labels], dtype=object)[self.codes[mask]]
        details = np.array([d for _, d in self.labels], dtype=object)[self.codes[mask]]
        return list(types), list(details)


@dataclass(frozen=True)
class FieldValues:
    """One decoded field over a batch: text values, where it lay, whether it was there."""

    field: Field
    values: pl.Series  # String; null where absent (beyond an ODO count) or not decodable
    offsets: Positions  # byte offset of the field in each record
    present: npt.NDArray[np.bool_]
    errors: npt.NDArray[np.bool_]
    error_type: str
    gaiji: npt.NDArray[np.int64]


@dataclass(frozen=True)
class Decoded:
    """A batch of records of one type: columns, per-record reasons for failing, counts."""

    columns: list[FieldValues]
    reasons: Reasons
    counts: dict[str, Positions]  # ODO table name → occurrences per record
    excess: Positions | None = None  # bytes past the layout per record (0: none)


def record_matrix(
    buf: Bytes, starts: Positions, lengths: Positions, width: int, pad: int
) -> Bytes:
    """The records as a ``(n, width)`` byte matrix; bytes past a record's end are ``pad``.

    >>> m = record_matrix(np.frombuffer(b"abcdefg", np.uint8), np.array([0, 4]), np.array([3, 3]), 4, 32)
    >>> [bytes(r) for r in m]
    [b'abc ', b'efg ']
    """
    n = starts.shape[0]
    if n == 0 or width == 0:
        return np.zeros((n, width), dtype=np.uint8)
    need = int(starts.max()) + width
    source = buf if need <= buf.shape[0] else np.concatenate(
        [buf, np.full(need - buf.shape[0], pad, dtype=np.uint8)]
    )
    windows = np.lib.stride_tricks.sliding_window_view(source, width)
    matrix = windows[starts]  # a copy: n × width bytes, no index array
    short = lengths < width
    if short.any():
        rows = np.flatnonzero(short)
        beyond = np.arange(width)[None, :] >= lengths[rows][:, None]
        block = matrix[rows]
        block[beyond] = pad
        matrix[rows] = block
    return matrix


def number_text(values: pa.Array, f: Field) -> pl.Series:
    """Exact text of decoded numbers: ``-123.45``; unsigned integers zero-padded to their digits."""
    if pa.types.is_decimal(values.type):
        text = pl.Series(f.name, pc.cast(values, pa.string()), dtype=pl.String)
    else:
        text = pl.Series(f.name, values).cast(pl.String)
    if f.scale == 0 and not f.signed:  # (a negative scale is applied by the codec: 123PP → 12300)
        text = text.str.zfill(f.digits)
    return text


class RecordDecoder:
    """Decodes the records of one record type with one codec.

    ``columns`` limits decoding to the fields the mapping reads (``None``: all). Errors in
    ``strict`` fields fail the record; by default every field outside REDEFINES is strict,
    and so is every field named in ``columns``.
    """

    def __init__(
        self,
        record: Record,
        codec: Codec,
        *,
        charset: str,
        alphanumeric: str = "mixed",
        pad: int = 0x40,
        short_records: str = "reject",
        long_records: str = "reject",
        columns: Collection[str] | None = None,
        comp5_little_endian: bool = False,
        blank_as_null: bool = True,
    ) -> None:
        self.record = record
        self.codec = codec
        self.charset = charset
        self.blank_as_null = blank_as_null
        self.alphanumeric = alphanumeric
        self.pad = pad
        self.short_records = short_records
        self.long_records = long_records  # reject | trailing (accept, count) | ignore (fixed slots)
        self.comp5_little_endian = comp5_little_endian
        wanted = set(columns) if columns is not None else None
        counters = {t.counter for t in record.odo_tables}
        self.fields = [
            f for f in record.fields if wanted is None or f.name in wanted or f.name in counters
        ]
        self.strict = {
            f.name for f in self.fields
            if (wanted is not None and f.name in wanted) or f.name in counters or not f.redefines
        }

    # one field ---------------------------------------------------------------------------

    def decode_field(self, f: Field, raw: Bytes) -> tuple[pl.Series, npt.NDArray[np.bool_], str, npt.NDArray[np.int64]]:
        """Text values, error mask, error type and 外字 counts of one field's bytes ``(n, size)``."""
        n = raw.shape[0]
        no_gaiji = np.zeros(n, dtype=np.int64)
        if f.kind in ("alnum", "dbcs"):
            if f.kind == "dbcs":
                result = self.codec.decode_dbcs(raw)
            elif self.alphanumeric == "sbcs":
                result = self.codec.decode_sbcs(raw)
            else:
                result = self.codec.decode_mixed(raw)
            errors = np.asarray(result.errors)
            values = pl.Series(f.name, result.values, dtype=pl.String)
            code = int(errors.max()) if errors.size else 0
            error_type = ERRORS.get(int(errors[errors > 0].min()), "unmapped-sbcs") if code else ""
            return values, errors > 0, error_type, np.asarray(result.gaiji, dtype=np.int64)
        if f.kind == "national":
            array, bad = decode_utf16be(raw)
            return pl.Series(f.name, array, dtype=pl.String), bad, "unmapped-dbcs", no_gaiji
        if f.kind == "packed":
            numbers, bad = unpack_packed(raw, f.scale, f.signed, blank_as_null=self.blank_as_null)
        elif f.kind == "zoned":
            numbers, bad = unpack_zoned(
                raw, f.scale, sign=f.sign, charset=self.charset, blank_as_null=self.blank_as_null
            )
        else:
            numbers, bad = unpack_binary(
                raw, f.scale, signed=f.signed, native=f.native and self.comp5_little_endian
            )
        bad = np.asarray(bad, dtype=np.bool_)
        return number_text(numbers, f), bad, NUMERIC_ERRORS[f.kind], no_gaiji

    # a batch -----------------------------------------------------------------------------

    def decode(self, buf: Bytes, starts: Positions, lengths: Positions) -> Decoded:
        """Decode the records whose data lie at ``buf[starts[i] : starts[i] + lengths[i]]``."""
        matrix = record_matrix(buf, starts, lengths, self.record.size, self.pad)
        return self.decode_matrix(matrix, lengths)

    def decode_matrix(self, matrix: Bytes, lengths: Positions) -> Decoded:
        """Decode a ``(n, ≥ record size)`` matrix of records of the given data lengths."""
        record = self.record
        n = matrix.shape[0]
        reasons = Reasons.none(n)
        deficits: list[Positions] = []
        counts: dict[str, Positions] = {}
        decoded: dict[str, FieldValues] = {}
        for table in record.odo_tables:  # loop over the layout's tables, not records
            counter = record.field(table.counter)
            values = self._field(counter, matrix, deficits, counts, reasons)
            decoded[counter.name] = values
            ok = values.present & ~values.errors
            count = values.values.cast(pl.Int64, strict=False).fill_null(0).to_numpy().astype(np.int64)
            outside = ok & ((count < table.minimum) | (count > table.maximum))
            reasons.add(outside, "odo-count-exceeded", f"{table.name} ({table.minimum} to {table.maximum})")
            count = np.clip(count, table.minimum, table.maximum)
            counts[table.name] = count
            deficits.append((table.maximum - count) * table.element_size)
        required = record.size - (np.sum(deficits, axis=0) if deficits else np.zeros(n, dtype=np.int64))
        if self.short_records == "reject":
            reasons.add(lengths < required, "record-short", record.name)
        excess = np.maximum(lengths - required, 0).astype(np.int64)
        if self.long_records == "ignore":
            excess[:] = 0
        elif self.long_records == "reject":
            reasons.add(excess > 0, "record-long", record.name)
        for f in self.fields:  # loop over the layout's fields
            if f.name not in decoded:
                decoded[f.name] = self._field(f, matrix, deficits, counts, reasons)
        return Decoded([decoded[f.name] for f in self.fields], reasons, counts, excess)

    def _field(
        self,
        f: Field,
        matrix: Bytes,
        deficits: list[Positions],
        counts: dict[str, Positions],
        reasons: Reasons,
    ) -> FieldValues:
        n = matrix.shape[0]
        shift_tables = [i for i in self.record.shift_tables(f) if i < len(deficits)]
        if shift_tables:
            offsets = f.offset - np.sum([deficits[i] for i in shift_tables], axis=0)
            columns = offsets[:, None] + np.arange(f.size)[None, :]
            raw = np.take_along_axis(matrix, columns, axis=1)
        else:
            offsets = np.full(n, f.offset, dtype=np.int64)
            raw = np.ascontiguousarray(matrix[:, f.offset: f.end])
        if f.odo is not None:
            present = counts[self.record.odo_tables[f.odo].name] >= f.occurrence
        else:
            present = np.ones(n, dtype=np.bool_)
        values, errors, error_type, gaiji = self.decode_field(f, raw)
        errors = errors & present
        if f.name in self.strict:
            reasons.add(errors, error_type, f.name)
        hide = ~present | errors
        if hide.any():
            values = values.scatter(np.flatnonzero(hide), None)
        return FieldValues(f, values, offsets, present, errors, error_type, np.where(present, gaiji, 0))


def decode_utf16be(raw: Bytes) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """USAGE NATIONAL fields (UTF-16BE) → strings and a bad-field mask (lone surrogates).

    One decode call for the whole batch; fields are cut by code-unit counts in NumPy.

    >>> raw = np.frombuffer("髙橋 \U00020BB7 ".encode("utf-16-be"), np.uint8).reshape(2, 6)
    >>> values, bad = decode_utf16be(raw)
    >>> values.to_pylist() == ["髙橋 ", "\U00020BB7 "], bad.tolist()
    (True, [False, False])
    """
    n, width = raw.shape
    units = np.frombuffer(np.ascontiguousarray(raw).tobytes(), dtype=">u2").astype(np.int64).reshape(n, width // 2)
    lead = (units >= 0xD800) & (units <= 0xDBFF)
    trail = (units >= 0xDC00) & (units <= 0xDFFF)
    pair = np.zeros_like(lead)
    pair[:, :-1] = lead[:, :-1] & trail[:, 1:]  # a pair never spans two fields
    second = np.zeros_like(trail)
    second[:, 1:] = pair[:, :-1]
    bad: npt.NDArray[np.bool_] = np.asarray(((lead & ~pair) | (trail & ~second)).any(axis=1), dtype=np.bool_)
    flat_units = units.ravel()
    flat_pair = pair.ravel()
    keep = ~second.ravel()
    points = flat_units.copy()
    follower = np.zeros_like(flat_units)
    follower[:-1] = flat_units[1:]
    points[flat_pair] = 0x10000 + ((flat_units[flat_pair] - 0xD800) << 10) + (follower[flat_pair] - 0xDC00)
    lone = (lead | trail).ravel() & ~flat_pair & keep
    points[lone] = 0xFFFD
    points = points[keep]
    owner = np.repeat(np.arange(n), width // 2)[keep]
    size = np.select([points < 0x80, points < 0x800, points < 0x10000], [1, 2, 3], 4)
    per_field = np.bincount(owner, weights=size, minlength=n).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_field, out=offsets[1:])
    utf8 = points.astype("<u4").tobytes().decode("utf-32-le").encode("utf-8")
    array = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(utf8))
    return array, bad
