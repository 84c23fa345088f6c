"""The ``copybook`` adapter: fixed-width and variable-length mainframe files, described by a
COBOL copybook, decoded with the Japanese mainframe codecs of :mod:`mig.codecs`.

``[source]`` options (a ``[[files]]`` may hold its own ``source`` table, merged over them)::

    copybook = "JUKI.cpy"          # path; relative to the mapping file's directory
    charset = "jef-ebcdik"         # one of mig.codecs.CHARSETS (--encoding overrides it)
    framing = "fixed"              # fixed | rdw | bdw-rdw | text
    lrecl = 200                    # fixed: record length (default: the longest 01 level)
    record = "JUMIN-REC"           # the 01 level this [[files]] reads
    record_selector = "REC-KBN"    # field whose value tells the record type …
    [source.record_types]          # … value → 01 level (the field's text, trailing spaces
                                   #   removed; PIC 99 gives "01", as the adapter writes it)
    "1" = "SETAI-REC"
    "2" = "JUMIN-REC"

Optional: ``alphanumeric`` (``mixed`` — PIC X may hold shift codes and double-byte runs, the
default — or ``sbcs``), ``newline`` for text framing (``lf``, ``crlf``, ``nl`` = 0x15,
``ebcdic-lf`` = 0x25, or hex such as ``"0d25"``; default ``lf`` for ASCII/JIS8 charsets,
``nl`` for EBCDIC ones), ``short_records`` (``reject`` — default — or ``pad`` with
spaces), ``long_records`` (variable-length framings: ``reject`` — default, a record longer
than its layout is a ``record-long`` reject with its bytes — or ``trailing``: accept it and
count the records and bytes past the layout in the reader's stats, ``trailing_bytes``;
fixed framing has no such check: the slack of an ``lrecl`` slot is padding), ``comp5`` (``big`` — default — or ``little`` byte order of COMP-5 items),
``blank_numbers`` (``null`` — a numeric field of only spaces or 0x00 is empty, the
default — or ``reject``), ``copybook_format`` (``auto``/``fixed``/``free``),
``copybook_encoding``.

Records are never lost: a record of another type that a sibling ``[[files]]`` reads is left
to that reader; any other record — a type no ``[[files]]`` reads, a selector value no type
is declared for, a truncated last record, a record that does not decode — is rejected
with its bytes by exactly one reader of the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from mig.codecs import CHARSETS, GAIJI_SOURCE, get_codec, zoned_family
from mig.plugin import (
    RANGE_OPTION,
    RECORD_SCHEMA,
    REJECT_EXTRA_SCHEMA,
    ByteRange,
    ConfigError,
    Coverage,
    FindingType,
    InputError,
    Int,
    MapOf,
    Option,
    OptionsSchema,
    SourceBatch,
    Str,
    UnknownNameError,
    empty_rejects,
)
from mig_adapters.copybook.decode import Reasons, RecordDecoder
from mig_adapters.copybook.framing import FRAMINGS, Block, FramingMode, read_blocks
from mig_adapters.copybook.parser import MAX_RECORD_BYTES, Copybook, Field, Record, load_copybook

Positions = npt.NDArray[np.int64]
#: Memory the decoder's record matrix may take per block at least (records × layout size);
#: a block of more records is decoded in parts.
DECODE_MATRIX_BYTES = 64 * 1024 * 1024

#: Finding types this adapter reports (record framing and decoding; the last four are the
#: error codes of mig.codecs.ERRORS), declared to mig through ``finding_types``.
FINDING_TYPES_COPYBOOK: tuple[FindingType, ...] = (
    FindingType("record-truncated", "last record is cut short by the end of the file ({detail})", "error",
                "最後のレコードがファイルの終わりで途切れています ({detail})"),
    FindingType("record-short", "record is shorter than its layout {detail} needs", "error",
                "レコードがレイアウト {detail} に必要な長さより短い"),
    FindingType("record-type-unknown", "record type field {detail} holds a value no record type is declared for", "error",
                "レコード区分 {detail} の値に対応するレコード型が宣言されていません"),
    FindingType("record-type-unread", "record of type {detail}, which no [[files]] of the mapping reads", "error",
                "レコード型 {detail} はマッピングのどの [[files]] も読みません"),
    FindingType("odo-count-exceeded", "OCCURS DEPENDING ON count of {detail} is outside its bounds", "error",
                "{detail} の OCCURS DEPENDING ON の回数が範囲外です"),
    FindingType("packed-invalid", "{detail}: packed decimal (COMP-3) with an invalid digit or sign nibble", "error",
                "{detail}: パック10進数 (COMP-3) の数字または符号が不正です"),
    FindingType("zoned-invalid", "{detail}: zoned decimal with an invalid digit, zone or sign", "error",
                "{detail}: ゾーン10進数の数字・ゾーン・符号が不正です"),
    FindingType("binary-invalid", "{detail}: binary number does not fit its picture", "error",
                "{detail}: 2進数が PICTURE の桁に収まりません"),
    FindingType("odd-dbcs-length", "{detail}: double-byte text with an odd number of bytes", "error",
                "{detail}: 2バイト文字のバイト数が奇数です"),
    FindingType("shift-unbalanced", "{detail}: shift-out (to double-byte) without shift-in", "error",
                "{detail}: シフトアウト (2バイトへ) に対応するシフトインがありません"),
    FindingType("unmapped-dbcs", "{detail}: double-byte code outside the character set's table", "error",
                "{detail}: 文字コード表にない2バイトコードです"),
    FindingType("unmapped-sbcs", "{detail}: single-byte code outside the character set's table", "error",
                "{detail}: 文字コード表にない1バイトコードです"),
    FindingType("record-long", "record is longer than its layout {detail} describes; the bytes past it would be lost", "error",
                "レコードがレイアウト {detail} より長く、超過したバイトが失われます"),
)

#: The ``[source]`` options of this adapter and their types (values are checked in parse).
OPTIONS = OptionsSchema("copybook", {
    "copybook": Option(Str(nonempty=True), help="the copybook file; relative to the mapping file's directory"),
    "copybook_format": Option(Str(choices=("auto", "fixed", "free")), "auto", "source format of the copybook"),
    "copybook_encoding": Option(Str(), help="encoding of the copybook file itself"),
    "charset": Option(Str(), help="the file's mainframe character set (required; one of mig.codecs.CHARSETS); --encoding overrides it"),
    "encoding": Option(Str(), help="alias of charset"),
    "framing": Option(Str(), "fixed", "record framing: fixed, rdw, bdw-rdw or text"),
    "lrecl": Option(Int(minimum=1), help="fixed framing: record length (default: the longest 01 level)"),
    "newline": Option(Str(), help="text framing: lf, crlf, nl, ebcdic-lf or hex (default by charset)"),
    "alphanumeric": Option(Str(), "mixed", "PIC X holds shift codes and double-byte runs (mixed) or not (sbcs)"),
    "record": Option(Str(), help="the 01 level this [[files]] reads"),
    "record_selector": Option(Str(), help="field whose value tells the record type"),
    "record_types": Option(MapOf(Str()), help="record_selector value → 01 level"),
    "short_records": Option(Str(), "reject", "a record shorter than its layout: reject, or pad with spaces"),
    "long_records": Option(Str(), "reject", "variable framings: a longer record is rejected, or its trailing bytes counted"),
    "comp5": Option(Str(), "big", "byte order of COMP-5 items: big or little"),
    "blank_numbers": Option(Str(), "null", "a numeric field of only spaces or 0x00: null, or reject"),
})
_FRAMING_ALIASES = {"vb": "bdw-rdw", "v": "rdw", "variable": "rdw", "f": "fixed", "fb": "fixed", "lines": "text"}
_NEWLINES = {"lf": b"\n", "crlf": b"\r\n", "nl": b"\x15", "ebcdic-lf": b"\x25"}


@dataclass(frozen=True)
class CopybookOptions:
    """The checked ``[source]`` options of one reader."""

    copybook_path: Path
    copybook: Copybook
    charset: str
    framing: FramingMode
    lrecl: int | None
    newline: bytes
    alphanumeric: str
    record: Record | None
    selector: Field | None
    record_types: dict[str, str]
    short_records: str
    comp5_little_endian: bool
    blank_numbers_null: bool = True
    long_records: str = "reject"
    columns: tuple[str, ...] | None = None
    siblings: tuple[str, ...] = ()
    span: tuple[int, int, int] | None = None
    """A byte range to read (start, end, records before start): :meth:`CopybookAdapter.ranges`."""

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> CopybookOptions:
        OPTIONS.check(options)
        if not options.get("copybook"):
            raise ConfigError("copybook adapter: give the copybook file: copybook = \"NAME.cpy\" in [source]")
        path = Path(str(options["copybook"]))
        if not path.is_absolute():  # relative to the mapping file (mig passes its directory)
            path = (Path(str(options.get("_mapping_dir") or ".")) / path).absolute()
        book_format = str(options.get("copybook_format", "auto"))
        encoding = options.get("copybook_encoding")
        copybook = load_copybook(path, format=book_format, encoding=str(encoding) if encoding else None)  # type: ignore[arg-type]

        charset = options.get("encoding") or options.get("charset")
        if not charset:
            raise ConfigError(f"copybook adapter: give charset = \"...\" in [source]; one of {', '.join(CHARSETS)}")
        charset = str(charset).lower()
        if charset not in CHARSETS:
            raise UnknownNameError("charset", charset, CHARSETS)

        framing = str(options.get("framing", "fixed")).lower()
        framing = _FRAMING_ALIASES.get(framing, framing)
        if framing not in FRAMINGS:
            raise UnknownNameError("framing", framing, FRAMINGS)

        record_types = {str(k).strip(): str(v).upper() for k, v in dict(options.get("record_types", {})).items()}
        for name in record_types.values():
            copybook.record(name)
        record: Record | None = None
        if options.get("record"):
            record = copybook.record(str(options["record"]))
        elif len(copybook.records) == 1:
            record = copybook.records[0]
        selector: Field | None = None
        if options.get("record_selector"):
            if not record_types:
                raise ConfigError("copybook adapter: record_selector needs [source.record_types] (value → 01 level)")
            selector = _find_field(copybook, record, str(options["record_selector"]))
            if selector.odo is not None:
                raise ConfigError("copybook adapter: the record selector cannot lie in an OCCURS DEPENDING ON table")
        elif record_types:
            raise ConfigError("copybook adapter: [source.record_types] needs record_selector = \"FIELD\"")
        if record is not None and record_types and record.name not in record_types.values():
            raise ConfigError(
                f"copybook adapter: record {record.name} is not a value of [source.record_types] "
                f"({', '.join(sorted(set(record_types.values())))})"
            )
        # Several 01 levels and no `record`: an error when records are read (preview works).

        lrecl = options.get("lrecl")
        if lrecl is not None:
            try:
                lrecl = int(lrecl)
            except (TypeError, ValueError):
                raise ConfigError("copybook adapter: lrecl must be a positive number of bytes") from None
            if lrecl <= 0:
                raise ConfigError("copybook adapter: lrecl must be a positive number of bytes")
            if lrecl > MAX_RECORD_BYTES:
                raise ConfigError(f"copybook adapter: lrecl {lrecl} is over the limit of {MAX_RECORD_BYTES} bytes")
        elif framing == "fixed":
            lrecl = max(r.size for r in copybook.records)
        if framing == "fixed" and lrecl is not None:
            too_long = [r.name for r in copybook.records if r.min_size > lrecl]
            if too_long:
                raise ConfigError(f"copybook adapter: lrecl {lrecl} is shorter than record(s) {', '.join(too_long)}")

        newline_option = options.get("newline")
        if newline_option is None:
            newline = b"\n" if zoned_family(charset) == "ascii" else b"\x15"
        else:
            text = str(newline_option).lower()
            if text in _NEWLINES:
                newline = _NEWLINES[text]
            else:
                try:
                    newline = bytes.fromhex(text)
                except ValueError:
                    newline = b""
                if not newline:
                    raise ConfigError(f"copybook adapter: newline must be lf, crlf, nl, ebcdic-lf or hex bytes, not {newline_option!r}")

        alphanumeric = str(options.get("alphanumeric", "mixed")).lower()
        if alphanumeric not in ("mixed", "sbcs"):
            raise ConfigError("copybook adapter: alphanumeric must be mixed or sbcs")
        short_records = str(options.get("short_records", "reject")).lower()
        if short_records not in ("reject", "pad"):
            raise ConfigError("copybook adapter: short_records must be reject or pad")
        long_records = str(options.get("long_records", "reject")).lower()
        if long_records not in ("reject", "trailing"):
            raise ConfigError("copybook adapter: long_records must be reject or trailing")
        comp5 = str(options.get("comp5", "big")).lower()
        if comp5 not in ("big", "little"):
            raise ConfigError("copybook adapter: comp5 must be big or little")

        blank_numbers = str(options.get("blank_numbers", "null")).lower()
        if blank_numbers not in ("null", "reject"):
            raise ConfigError("copybook adapter: blank_numbers must be null or reject")

        columns = options.get("_columns")
        siblings = tuple(
            str(s["record"]).upper() for s in options.get("_siblings", []) or []
            if isinstance(s, Mapping) and s.get("record")
        )
        return cls(
            copybook_path=path,
            copybook=copybook,
            charset=charset,
            framing=framing,  # type: ignore[arg-type]
            lrecl=lrecl,
            newline=newline,
            alphanumeric=alphanumeric,
            record=record,
            selector=selector,
            record_types=record_types,
            short_records=short_records,
            comp5_little_endian=comp5 == "little",
            blank_numbers_null=blank_numbers == "null",
            long_records=long_records,
            columns=tuple(str(c) for c in columns) if columns is not None else None,
            siblings=siblings,
            span=_span(options.get(RANGE_OPTION)),
        )


def _span(given: Any) -> tuple[int, int, int] | None:
    return None if given is None else (int(given["start"]), int(given["end"]), int(given["line"]))


def _find_field(copybook: Copybook, record: Record | None, name: str) -> Field:
    """The selector field: looked up in the reader's record first, then in the others."""
    order = ([record] if record else []) + [r for r in copybook.records if r is not record]
    for r in order:
        try:
            return r.field(name)
        except UnknownNameError:
            continue
    raise UnknownNameError("record_selector field", name, sorted({c for r in copybook.records for c in r.columns}))


def _raw_values(data: bytes, starts: Positions, ends: Positions, take: Positions) -> pa.Array:
    """The original bytes of records ``take`` (ranges ``starts``–``ends`` of ``data``).

    The ranges (and the gaps between them, e.g. BDWs) become one Arrow array over the
    block's bytes without copying; ``take`` then gathers the wanted records' bytes.
    """
    if take.size == 0:
        return pa.array([], type=pa.large_binary())
    bounds = np.empty(2 * starts.size, dtype=np.int64)
    bounds[0::2] = starts
    bounds[1::2] = ends
    segments = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), bounds.size - 1, [None, pa.py_buffer(bounds.tobytes()), pa.py_buffer(data)]
    )
    return segments.take(pa.array(2 * take))


class CopybookReader:
    """One mainframe file opened with a copybook, read in batches of bounded memory."""

    def __init__(self, path: Path, options: CopybookOptions, *, batch_bytes: int) -> None:
        self.path = path
        self.options = options
        self.batch_bytes = max(int(batch_bytes), 1)
        self.encoding = options.charset
        self.codec = get_codec(options.charset)
        self.pad = int(self.codec.encode_sbcs([" "], 1)[0, 0])
        record = options.record
        self.columns: list[str] = record.columns if record is not None else []
        if not path.is_file():
            raise InputError(str(path), "no such file" if not path.exists() else "not a regular file")
        self._decoder = self._record_decoder(record, options.columns) if record is not None else None
        self._selector = (
            self._record_decoder(Record("selector", options.selector.end, (options.selector,)), None,
                                 long_records="ignore")
            if options.selector is not None else None
        )
        names = list(dict.fromkeys(options.record_types.values()))
        # The reader that takes the records no [[files]] reads: the first, by 01-level name,
        # among this reader and its siblings (readers of other files see no siblings).
        mine = record.name if record is not None else ""
        self.owner = not options.siblings or mine <= min(options.siblings)
        self._type_names = names
        self._row = 0
        self._stats: dict[str, Any] = {
            "charset": options.charset,
            "gaiji_source": GAIJI_SOURCE.get(options.charset, options.charset),
            "framing": options.framing,
            "copybook": options.copybook_path.name,
            "copybook_sha256": hashlib.sha256(options.copybook_path.read_bytes()).hexdigest(),
            "record": mine,
            "records_in_file": 0,
            "records_read": 0,
            "records_left_to_siblings": {},
            "gaiji": {},
            "values_nulled": {},
        }
        if options.long_records == "trailing" and options.framing != "fixed":
            self._stats["trailing_bytes"] = {"records": 0, "bytes": 0}

    def _record_decoder(
        self, record: Record, columns: tuple[str, ...] | None, *, long_records: str | None = None
    ) -> RecordDecoder:
        if long_records is None:  # a fixed slot's slack is padding: only variable records are long
            long_records = "ignore" if self.options.framing == "fixed" else self.options.long_records
        return RecordDecoder(
            record, self.codec, charset=self.options.charset, alphanumeric=self.options.alphanumeric,
            pad=self.pad, short_records=self.options.short_records, long_records=long_records, columns=columns,
            comp5_little_endian=self.options.comp5_little_endian,
            blank_as_null=self.options.blank_numbers_null,
        )

    @property
    def stats(self) -> dict[str, Any]:
        """What the reader saw (complete once :meth:`batches` is exhausted): record counts,
        the charset and its 外字 source tag, 外字 per column, values nulled per column."""
        return self._stats

    def coverage(self) -> Coverage:
        """Every record of the file came back (data or rejects), when this reader is the
        file's only one; records shared with sibling readers are not counted here."""
        if self.options.siblings:
            return Coverage()
        return Coverage(records=int(self._stats["records_in_file"]))

    # reading -----------------------------------------------------------------------------

    def _blocks(self) -> Iterator[Block]:
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise InputError(str(self.path), f"cannot open: {exc.strerror}") from None
        with handle:
            if self.options.span is not None:
                handle.seek(self.options.span[0])
            yield from read_blocks(
                handle, self.path, self.options.framing, batch_bytes=self.batch_bytes,
                lrecl=self.options.lrecl, newline=self.options.newline,
                max_records=self._max_records(), span=self.options.span,
            )

    def _max_records(self) -> int:
        """Records per decoded block: the decoder holds a record-size matrix per record, so a
        block of many short records and a wide layout is split (a loop per block part)."""
        widest = max((r.size for r in self.options.copybook.records), default=1)
        return max(1, max(self.batch_bytes, DECODE_MATRIX_BYTES) // max(widest, 1))

    def batches(self) -> Iterator[SourceBatch]:
        if self._decoder is None:
            raise ConfigError(
                f"copybook adapter: {self.options.copybook.source} has records "
                f"{', '.join(self.options.copybook.record_names)}; say which one this [[files]] reads "
                "with record = \"...\""
            )
        for block in self._blocks():
            batch = self._batch(block)
            if batch is not None:
                yield batch

    def _types(self, block: Block) -> tuple[npt.NDArray[np.int64], Reasons]:
        """Per record: index into ``_type_names`` (−1: unknown value), and type-level reasons."""
        frames = block.frames
        n = frames.count
        reasons = Reasons.none(n)
        if self._selector is None:
            return np.zeros(n, dtype=np.int64), reasons
        assert self.options.selector is not None
        starts, lengths = frames.data_starts, frames.data_ends - frames.data_starts
        decoded = self._selector.decode(block.array, starts, lengths)
        values = decoded.columns[0].values.str.strip_chars_end()
        keys = list(self.options.record_types)
        targets = [self._type_names.index(self.options.record_types[k]) for k in keys]
        index = values.replace_strict(keys, targets, default=-1, return_dtype=pl.Int64).fill_null(-1)
        types = index.to_numpy().astype(np.int64)
        types[decoded.reasons.failed] = -1
        reasons.add(types < 0, "record-type-unknown", self.options.selector.name)
        return types, reasons

    def _batch(self, block: Block) -> SourceBatch | None:
        assert self._decoder is not None and self.options.record is not None
        frames = block.frames
        n = frames.count
        self._stats["records_in_file"] += n + (1 if frames.truncated else 0)
        types, reasons = self._types(block)
        if self._selector is not None:
            mine_index = self._type_names.index(self.options.record.name) if self.options.record.name in self._type_names else -2
            mine = types == mine_index
            for k, name in enumerate(self._type_names):  # loop over record types
                if k == mine_index:
                    continue
                of_type = types == k
                if name in self.options.siblings:
                    left = int(of_type.sum())
                    if left:
                        counts = self._stats["records_left_to_siblings"]
                        counts[name] = counts.get(name, 0) + left
                    reasons.codes[of_type] = 0
                    continue
                reasons.add(of_type, "record-type-unread", name)
            other = ~mine & reasons.failed
            if not self.owner:
                other[:] = False
                reasons.codes[:] = 0
        else:
            mine = np.ones(n, dtype=np.bool_)
            other = np.zeros(n, dtype=np.bool_)
        starts, lengths = frames.data_starts[mine], (frames.data_ends - frames.data_starts)[mine]
        decoded = self._decoder.decode(block.array, starts, lengths)
        mine_rows = np.flatnonzero(mine)
        for k in range(1, len(decoded.reasons.labels)):  # loop over distinct reasons
            type_code, detail = decoded.reasons.labels[k]
            hit = np.zeros(n, dtype=np.bool_)
            hit[mine_rows[decoded.reasons.codes == k]] = True
            reasons.add(hit, type_code, detail)
        failed_mine = decoded.reasons.failed
        accepted_local = ~failed_mine
        self._count(decoded, accepted_local)
        if "trailing_bytes" in self._stats and decoded.excess is not None:
            long = accepted_local & (decoded.excess > 0)
            trailing = self._stats["trailing_bytes"]
            trailing["records"] += int(long.sum())
            trailing["bytes"] += int(decoded.excess[long].sum())

        yielded = mine | other
        truncated = frames.truncated is not None and self.owner
        count = int(yielded.sum()) + (1 if truncated else 0)
        if count == 0:
            return None
        positions = np.flatnonzero(yielded)
        rows = self._row + np.arange(1, positions.size + 1, dtype=np.int64)
        lines = block.first_record + positions + 1
        offsets = block.file_offset + frames.raw_starts[positions]
        raw = _raw_values(block.data, frames.raw_starts, frames.raw_ends, positions)
        meta = pl.DataFrame(
            {"row": rows, "line": lines, "offset": offsets, "raw": pl.Series("raw", raw, dtype=pl.Binary)},
            schema=RECORD_SCHEMA,
        )
        failed = reasons.failed[positions]
        types_list, details = reasons.types(reasons.failed & yielded)
        rejects = meta.filter(pl.Series(failed)).with_columns(
            pl.Series("type", types_list, dtype=pl.String),
            pl.Series("detail", details, dtype=pl.String),
        )
        if truncated:
            assert frames.truncated is not None
            start, end = frames.truncated
            rejects = pl.concat([rejects, pl.DataFrame(
                {"row": [self._row + positions.size + 1], "line": [block.first_record + n + 1],
                 "offset": [block.file_offset + start], "raw": [block.data[start:end]],
                 "type": ["record-truncated"], "detail": [frames.truncated_rule]},
                schema={**RECORD_SCHEMA, **REJECT_EXTRA_SCHEMA},
            )])
        self._row += count
        self._stats["records_read"] += count
        ok_in_yielded = ~failed
        # rows of accepted records: they are the yielded records of my type that did not fail
        data_rows = rows[ok_in_yielded]
        columns = [
            fv.values.alias(fv.field.name) for fv in decoded.columns
            if self.options.columns is None or fv.field.name in self.options.columns
        ]
        data = pl.DataFrame(columns).filter(pl.Series(accepted_local)) if columns else pl.DataFrame()
        data = data.insert_column(0, pl.Series("row", data_rows, dtype=pl.Int64))
        records = meta.filter(pl.Series(ok_in_yielded))
        return SourceBatch(data, records, rejects if rejects.height else empty_rejects())

    def _count(self, decoded: Any, accepted: npt.NDArray[np.bool_]) -> None:
        gaiji: dict[str, int] = self._stats["gaiji"]
        nulled: dict[str, int] = self._stats["values_nulled"]
        for fv in decoded.columns:  # loop over fields
            g = int(fv.gaiji[accepted].sum())
            if g:
                gaiji[fv.field.name] = gaiji.get(fv.field.name, 0) + g
            e = int((fv.errors & accepted).sum())
            if e:
                nulled[fv.field.name] = nulled.get(fv.field.name, 0) + e

    # preview -----------------------------------------------------------------------------

    def preview(self, limit: int) -> list[dict[str, Any]]:
        """The first ``limit`` records, each decoded by its own record type, with the byte
        offset (within the record), size and value of every field. For ``mig preview``."""
        out: list[dict[str, Any]] = []
        copybook = self.options.copybook
        for block in self._blocks():
            frames = block.frames
            take = min(frames.count, limit - len(out))
            types, type_reasons = self._types(block)
            names = self._type_names or [(self.options.record or copybook.records[0]).name]
            entries: list[dict[str, Any]] = []
            for i in range(take):  # preview: at most `limit` records
                entries.append({
                    "record": block.first_record + i + 1,
                    "offset": int(block.file_offset + frames.raw_starts[i]),
                    "length": int(frames.raw_ends[i] - frames.raw_starts[i]),
                    "type": names[types[i]] if types[i] >= 0 else None,
                    "reject": None,
                    "fields": [],
                })
                if types[i] < 0:
                    label = type_reasons.labels[type_reasons.codes[i]]
                    entries[-1]["reject"] = {"type": label[0], "detail": label[1]}
            for k, name in enumerate(names):  # loop over record types
                rows = np.flatnonzero(types[:take] == k)
                if rows.size == 0:
                    continue
                decoder = self._record_decoder(copybook.record(name), None)
                starts = frames.data_starts[rows]
                lengths = frames.data_ends[rows] - starts
                decoded = decoder.decode(block.array, starts, lengths)
                for j, i in enumerate(rows.tolist()):  # preview rows
                    entry = entries[i]
                    if decoded.reasons.codes[j]:
                        label = decoded.reasons.labels[decoded.reasons.codes[j]]
                        entry["reject"] = {"type": label[0], "detail": label[1]}
                    for fv in decoded.columns:
                        entry["fields"].append({
                            "name": fv.field.name,
                            "offset": int(fv.offsets[j]),
                            "size": fv.field.size,
                            "kind": fv.field.kind,
                            "picture": fv.field.picture,
                            "usage": fv.field.usage,
                            "present": bool(fv.present[j]),
                            "error": fv.error_type if fv.errors[j] else None,
                            "value": fv.values[j],
                            "hex": block.data[int(frames.data_starts[i] + fv.offsets[j]):
                                              int(frames.data_starts[i] + fv.offsets[j] + fv.field.size)].hex(),
                        })
            out.extend(entries)
            if frames.truncated is not None and len(out) < limit:
                start, end = frames.truncated
                out.append({
                    "record": block.first_record + frames.count + 1, "offset": block.file_offset + start,
                    "length": end - start, "type": None,
                    "reject": {"type": "record-truncated", "detail": frames.truncated_rule}, "fields": [],
                })
            if len(out) >= limit:
                break
        return out[:limit]


class CopybookAdapter:
    """Mainframe files described by a COBOL copybook (JEF, KEIS, JIPS, IBM Japanese DBCS)."""

    name = "copybook"
    description = "Mainframe files described by a COBOL copybook: fixed, RDW, VB, text; JEF/KEIS/JIPS/IBM DBCS"
    options = OPTIONS
    finding_types = FINDING_TYPES_COPYBOOK

    def open(self, path: Path, options: Mapping[str, Any], *, batch_bytes: int) -> CopybookReader:
        return CopybookReader(path, CopybookOptions.parse(options), batch_bytes=batch_bytes)

    def ranges(self, path: Path, options: Mapping[str, Any], *, size: int) -> list[ByteRange]:
        """Fixed framing: ranges of whole ``lrecl`` slots of about ``size`` bytes (a short
        last record stays in the last range). RDW framing: cut at record starts found by
        walking the descriptors (one framing pass, no decoding; a file whose descriptors
        break is read whole, where the reader reports the break). Block descriptors
        (``bdw-rdw``) and text lines are read whole."""
        parsed = CopybookOptions.parse(options)
        if parsed.framing == "rdw":
            return _rdw_ranges(path, size)
        if parsed.framing != "fixed" or parsed.lrecl is None:
            return []
        lrecl = parsed.lrecl
        total = path.stat().st_size
        step = max(size // lrecl, 1) * lrecl
        starts = list(range(0, total, step))
        if len(starts) < 2:
            return []
        ends = [*starts[1:], total]
        return [ByteRange(start, end, start // lrecl) for start, end in zip(starts, ends, strict=True)]


def _rdw_ranges(path: Path, size: int) -> list[ByteRange]:
    """Ranges of an RDW file starting at the first record start at or past each ``size`` bytes."""
    cuts: list[tuple[int, int]] = [(0, 0)]
    target = size
    try:
        with path.open("rb") as handle:
            for block in read_blocks(handle, path, "rdw", batch_bytes=_SCAN_BYTES):
                starts = block.file_offset + block.frames.raw_starts
                while True:
                    at = int(np.searchsorted(starts, target))
                    if at == starts.size:
                        break
                    cuts.append((int(starts[at]), block.first_record + at))
                    target = int(starts[at]) + size
    except (InputError, OSError):
        return []  # the whole-file read names the problem
    total = path.stat().st_size
    if len(cuts) < 2:
        return []
    ends = [start for start, _ in cuts[1:]] + [total]
    return [ByteRange(start, end, records) for (start, records), end in zip(cuts, ends, strict=True)]


#: Bytes the RDW range planner frames at a time.
_SCAN_BYTES = 16 * 1024 * 1024
