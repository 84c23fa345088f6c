"""The CSV adapter: package exports as delimited text (CP932, Shift_JIS, EUC-JP, UTF-8, UTF-16).

Records are framed and split into fields with NumPy over whole byte blocks: quote parity
by cumulative sum, record ends at line feeds outside quotes, fields at delimiters outside
quotes. For CP932/Shift_JIS, a delimiter or quote byte that can also be the second byte of
a double-byte character (0x40–0x7E, e.g. ``|``) only counts at a character start, found
by the parity of runs of lead bytes. Every record ends as one row of ``data`` or one row
of ``rejects`` (ragged, NUL, unbalanced quote) with its original bytes.

The raw bytes are framed once. A batch whose quotes all enclose whole fields and whose line
ends are all record ends (no CR or LF inside a field) has its clean records read by Polars'
CSV reader from the decoded text; any other batch is split by the NumPy splitter on the
decoded text framed again. Both give the same bytes (tests/test_csv_fastpath.py).

A large file is cut into byte ranges for parallel partitions (:meth:`CsvAdapter.ranges`, the
optional :class:`~mig.plugin.RangeReadable`): the encoding and the header are decided once
from the file's start; a cut goes after a line feed preceded by an even number of quotes
in the whole file — the same parity rule as the framing, so a record is never cut inside a
quoted field. A file whose quotes could make the reader start over (an odd number of
quotes, a quoted stretch near the one-record limit) and UTF-16 files are read whole.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from mig.codecs.euc import (
    EUC_ENCODINGS,
    EUCJP_USER_DEFINED,
    EucDecodeError,
    decode_euc,
    valid_prefix,
)
from mig.plugin import (
    RANGE_OPTION,
    RECORD_SCHEMA,
    REJECT_EXTRA_SCHEMA,
    Bool,
    ByteRange,
    ConfigError,
    Coverage,
    InputError,
    ListOf,
    OneOf,
    Option,
    OptionsSchema,
    SourceBatch,
    Str,
    UnknownNameError,
    empty_rejects,
)

Bytes = npt.NDArray[np.uint8]
Positions = npt.NDArray[np.int64]

#: Accepted encoding names → Python codec. CP932 is the Windows superset of Shift_JIS that
#: package exports use in practice (NEC/IBM extensions, user-defined 外字 → U+E000…).
ENCODINGS = {
    "cp932": "cp932",
    "ms932": "cp932",
    "windows-31j": "cp932",
    "shift_jis": "shift_jis",
    "sjis": "shift_jis",
    "euc-jp": "euc_jp",
    "eucjp": "euc_jp",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "utf-16": "utf-16",
    "utf-16-le": "utf-16-le",
    "utf-16-be": "utf-16-be",
}
_SJIS_FAMILY = {"cp932", "shift_jis"}
#: Encodings this adapter decodes with mig.codecs.euc (vectorised; eucJP-ms 外字 → Private
#: Use) instead of a Python codec; ``euc-jp`` is both (Python's for the xml adapter).
EUC_NAMES = {"euc-jp": "euc-jp", "eucjp": "euc-jp", "eucjp-ms": "eucjp-ms", "euc-jis-2004": "euc-jis-2004",
             "euc-jisx0213": "euc-jis-2004"}
#: The ``[source]`` options of this adapter and their types.
OPTIONS = OptionsSchema("csv", {
    "encoding": Option(Str(), help="cp932, shift_jis, euc-jp, eucjp-ms, euc-jis-2004, utf-8, utf-16 …; detected when not given"),
    "delimiter": Option(Str(), ",", "field separator (one character; \\t for TSV)"),
    "quote": Option(OneOf((Str(), Bool())), '"', 'quote character; false or "" for no quoting'),
    "header": Option(Bool(), True, "the first record names the columns"),
    "columns": Option(ListOf(Str()), help="the column names when header = false"),
})
_DETECT_BYTES = 256 * 1024
#: A quoted field may span lines, but an unclosed quote must not swallow the whole file.
_MAX_RECORD_BYTES = 8 * 1024 * 1024
_LF = 0x0A
_CR = 0x0D


#: Context options a range's reader gets from the planner (:meth:`CsvAdapter.ranges`).
_RANGE_ENCODING = "_csv_encoding"
_RANGE_COLUMNS = "_csv_columns"
#: Bytes the range planner reads at a time.
_SCAN_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class CsvOptions:
    encoding: str | None
    delimiter: str
    quote: str | None
    header: bool
    columns: list[str] | None
    span: tuple[int, int, int] | None = None
    """A byte range to read (start, end, lines before start): see :meth:`CsvAdapter.ranges`."""

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> CsvOptions:
        OPTIONS.check(options)
        encoding = options.get("encoding")
        if encoding is not None:
            encoding = str(encoding).lower()
            encoding = EUC_NAMES.get(encoding, encoding)
            if encoding not in ENCODINGS and encoding not in EUC_ENCODINGS:
                raise UnknownNameError("encoding", encoding, {**ENCODINGS, **EUC_NAMES})
        delimiter = str(options.get("delimiter", ","))
        if delimiter == "\\t":
            delimiter = "\t"
        quote = options.get("quote", '"')
        if quote is True:
            raise ConfigError("csv adapter: quote = true: give the quote character, or false for none")
        quote = quote or None
        for label, value in (("delimiter", delimiter), ("quote", quote)):
            if value is not None and (len(value) != 1 or ord(value) > 0x7E or value in "\r\n"):
                raise ConfigError(f"csv adapter: {label} must be one ASCII character, not {value!r}")
        if quote == delimiter:
            raise ConfigError("csv adapter: delimiter and quote must differ")
        header = options.get("header", True)
        columns = options.get("columns")
        if not header and not columns:
            raise ConfigError("csv adapter: header = false needs columns = [...]")
        span = None
        given = options.get(RANGE_OPTION)
        if given is not None:  # a range: the planner decided encoding and columns once
            span = (int(given["start"]), int(given["end"]), int(given["line"]))
            encoding = str(options[_RANGE_ENCODING])
            columns = list(options[_RANGE_COLUMNS])
            header = False
        return cls(
            encoding=encoding,
            delimiter=delimiter,
            quote=quote,
            header=header,
            columns=list(columns) if columns else None,
            span=span,
        )


def detect_encoding(sample: bytes) -> str:
    """Name the encoding of a file from its first bytes: BOM, strict UTF-8, then chardet.

    >>> detect_encoding("住民,氏名\\r\\n".encode("cp932"))
    'cp932'
    >>> detect_encoding(b"\\xef\\xbb\\xbfa,b\\n")
    'utf-8-sig'
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith(codecs.BOM_UTF16_LE) or sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Mostly valid UTF-8 with a few bad bytes is a UTF-8 file with a foreign line: choose
    # UTF-8 so that the strict decode names that line instead of producing mojibake.
    points = _code_points(sample.decode("utf-8", errors="replace"))
    replaced = int(np.count_nonzero(points == 0xFFFD))
    if int(np.count_nonzero(points > 0x7F)) - replaced > replaced:
        return "utf-8"
    import chardet

    guess = (chardet.detect(sample).get("encoding") or "").lower()
    if guess.startswith("utf-16"):
        return "utf-16-le" if guess.endswith("le") else "utf-16-be" if guess.endswith("be") else "utf-16"
    # chardet often mistakes short Japanese samples for Chinese: decide between the two
    # Japanese legacy encodings by which decodes strictly into Japanese-looking text.
    # eucjp-ms only when EUC-JP cannot decode the sample (its NEC / IBM rows): on a tie the first wins
    candidates = (("cp932", "cp932"), ("euc-jp", "euc-jp"), ("eucjp-ms", "eucjp-ms"))
    scores = {name: _japanese_score(sample, codec) for name, codec in candidates}
    best = max(scores, key=lambda name: scores[name])
    if scores[best] < 0:
        raise InputError(
            "(sample)", f"cannot tell the encoding (chardet guessed {guess or 'nothing'}); "
            "give it with encoding = ... in [source] or --encoding"
        )
    return best


def _japanese_score(sample: bytes, codec: str) -> float:
    """Share of decoded characters that are kana, kanji, ASCII, CJK punctuation or EUC-JP
    user-defined (外字); -1 if undecodable."""
    try:
        if codec in EUC_ENCODINGS:  # mig's EUC decoders: eucJP-ms user-defined areas decode (to U+E000–U+E757)
            text = decode_euc(codec, sample[: valid_prefix(sample)]).decode("utf-8")
        else:
            text = codecs.getincrementaldecoder(codec)().decode(sample, final=False)
    except (UnicodeDecodeError, EucDecodeError):
        return -1.0
    points = _code_points(text)
    if points.size == 0:
        return 0.0
    japanese = (
        (points < 0x80)
        | ((points >= 0x3000) & (points <= 0x30FF))
        | ((points >= 0x4E00) & (points <= 0x9FFF))
        | ((points >= 0xFF01) & (points <= 0xFF5E))
        | ((points >= EUCJP_USER_DEFINED[0][0]) & (points <= EUCJP_USER_DEFINED[-1][1]) & (codec in EUC_ENCODINGS))
    )
    return float(japanese.mean())


def _code_points(text: str) -> npt.NDArray[np.uint32]:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def sjis_char_starts(buf: Bytes) -> npt.NDArray[np.bool_]:
    """Mask of bytes that start a character in Shift_JIS/CP932 text.

    A byte in the lead range (0x81–0x9F, 0xE0–0xFC) at an odd position of a run of such
    bytes is a lead byte; the byte after a lead byte is its trail, whatever its value.

    >>> sjis_char_starts(np.frombuffer("表|".encode("cp932"), dtype=np.uint8)).tolist()
    [True, False, True]
    """
    n = buf.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.bool_)
    lead_range = ((buf >= 0x81) & (buf <= 0x9F)) | ((buf >= 0xE0) & (buf <= 0xFC))
    idx = np.arange(n, dtype=np.int64)
    last_non_lead = np.maximum.accumulate(np.where(lead_range, -1, idx))
    position_in_run = idx - last_non_lead  # 1-based within a run of lead-range bytes
    is_lead = lead_range & (position_in_run % 2 == 1)
    trail = np.zeros(n, dtype=np.bool_)
    trail[1:] = is_lead[:-1]
    return ~trail


@dataclass(frozen=True)
class Framing:
    """Record and field boundaries of a block that begins at a record start."""

    starts: Positions  # record start
    content_ends: Positions  # end of the record's fields (before CR LF / LF)
    next_starts: Positions  # start of the following record (after the line end)
    delimiters: Positions  # positions of field delimiters outside quotes, sorted
    nul_counts: Positions
    complete_until: int  # bytes of the block covered by whole records
    quote_open: bool  # the block ends inside a quoted field
    quotes: Positions  # positions of quote characters in whole records, sorted
    line_feeds: Positions  # every LF byte in whole records (quoted ones too), sorted: line numbers
    carriage_returns: Positions  # every CR byte in whole records, sorted


def _positions(buf: Bytes, byte: int, char_start: npt.NDArray[np.bool_] | None) -> Positions:
    """Sorted positions of ``byte`` in ``buf`` (at character starts only, if given)."""
    found: Positions = np.flatnonzero(buf == byte)
    return found if char_start is None else found[char_start[found]]


def _outside_quotes(candidates: Positions, quotes: Positions) -> Positions:
    """The sorted ``candidates`` (never quote positions) that lie outside quoted stretches:
    after an even number of ``quotes``.

    Each stretch (quote 2k up to quote 2k+1, or to the end when the last has no partner)
    holds a range of candidates found by two searches per stretch: the work follows the
    quotes, which are few, not the candidates. Same as keeping the candidates with an even
    ``np.searchsorted(quotes, candidates)`` (tests/test_csv_fastpath.py).

    >>> _outside_quotes(np.array([1, 3, 6, 9]), np.array([2, 4, 8])).tolist()
    [1, 6]
    """
    if quotes.shape[0] == 0 or candidates.shape[0] == 0:
        return candidates
    first_inside = np.searchsorted(candidates, quotes[0::2], side="right")
    past_inside = np.searchsorted(candidates, quotes[1::2], side="left")
    if past_inside.shape[0] < first_inside.shape[0]:  # an open stretch runs to the end
        past_inside = np.append(past_inside, candidates.shape[0])
    counts = past_inside - first_inside
    inside = int(counts.sum())
    if inside == 0:
        return candidates
    # the indexes of the candidates inside, stretch after stretch (disjoint, in order)
    index = np.repeat(first_inside - (np.cumsum(counts) - counts), counts) + np.arange(inside, dtype=np.int64)
    keep = np.ones(candidates.shape[0], dtype=np.bool_)
    keep[index] = False
    kept: Positions = candidates[keep]
    return kept


def frame_block(
    buf: Bytes,
    delimiter: int,
    quote: int | None,
    char_start: npt.NDArray[np.bool_] | None,
    *,
    final: bool,
) -> Framing:
    """Find the records of ``buf``; with ``final`` the unterminated tail is a record too.

    A delimiter or LF is never a quote: it lies outside quotes when an even number of
    quotes precede it. The quotes are few, so each is found once and the candidates
    inside quoted stretches are cut out by range (:func:`_outside_quotes`).
    """
    n = buf.shape[0]
    if quote is not None:
        quote_positions = _positions(buf, quote, char_start)
        quote_open = bool(quote_positions.shape[0] % 2)
    else:
        quote_positions = np.zeros(0, dtype=np.int64)
        quote_open = False

    # LF, CR and NUL in one scan: the low control bytes are few (about two a record)
    controls: Positions = np.flatnonzero(buf <= _CR)
    control_bytes = buf[controls]
    all_line_feeds = controls[control_bytes == _LF]
    line_feed_hits = all_line_feeds if char_start is None else all_line_feeds[char_start[all_line_feeds]]
    line_ends = _outside_quotes(line_feed_hits, quote_positions)
    starts = np.concatenate(([0], line_ends + 1)).astype(np.int64, copy=False)
    ends = line_ends
    next_starts = line_ends + 1
    complete_until = int(next_starts[-1]) if next_starts.size else 0
    if final and complete_until < n and not quote_open:
        ends = np.append(ends, n)
        next_starts = np.append(next_starts, n)
        complete_until = n
    starts = starts[: ends.size]
    has_cr = np.zeros(ends.size, dtype=np.bool_)
    nonempty = ends > starts
    has_cr[nonempty] = buf[ends[nonempty] - 1] == _CR
    content_ends = ends - has_cr.astype(np.int64)
    delimiters = _positions(buf, delimiter, char_start)
    delimiters = delimiters[: int(np.searchsorted(delimiters, complete_until))]  # whole records only
    delimiters = _outside_quotes(delimiters, quote_positions)
    whole = int(np.searchsorted(controls, complete_until))
    nul_positions = controls[:whole][control_bytes[:whole] == 0]
    nul_counts = _per_record_counts(nul_positions, starts, ends.size)
    quote_positions = quote_positions[: int(np.searchsorted(quote_positions, complete_until))]
    line_feeds = all_line_feeds[: int(np.searchsorted(all_line_feeds, complete_until))]
    carriage_returns = controls[:whole][control_bytes[:whole] == _CR]
    return Framing(
        starts, content_ends, next_starts, delimiters, nul_counts, complete_until, quote_open, quote_positions,
        line_feeds, carriage_returns,
    )


def _per_record_counts(positions: Positions, starts: Positions, records: int) -> Positions:
    """How many of the sorted ``positions`` (all before the end of the last record) fall in
    each record; one search per record rather than one per position.

    >>> _per_record_counts(np.array([1, 2, 7]), np.array([0, 5, 6]), 3).tolist()
    [2, 0, 1]
    """
    if records == 0:
        return np.zeros(0, dtype=np.int64)
    firsts = np.searchsorted(positions, starts[:records], side="left")
    return np.diff(firsts, append=positions.shape[0]).astype(np.int64)


def _is_member(sorted_values: Positions, probes: Positions) -> npt.NDArray[np.bool_]:
    """Which ``probes`` occur in ``sorted_values``.

    >>> _is_member(np.array([2, 5]), np.array([5, 3, -1])).tolist()
    [True, False, False]
    """
    if sorted_values.shape[0] == 0:
        return np.zeros(probes.shape[0], dtype=np.bool_)
    at = np.minimum(np.searchsorted(sorted_values, probes), sorted_values.shape[0] - 1)
    found: npt.NDArray[np.bool_] = sorted_values[at] == probes
    return found


def split_fields(
    buf: Bytes, framing: Framing, keep: npt.NDArray[np.bool_], columns: int, quote: str | None
) -> list[pl.Series]:
    """Cut the kept records (all of which have ``columns`` fields) into String columns."""
    rec_starts = framing.starts[keep]
    rec_ends = framing.content_ends[keep]
    records = rec_starts.size
    if records == 0:
        return [pl.Series(values=[], dtype=pl.String) for _ in range(columns)]
    owner = np.searchsorted(framing.starts, framing.delimiters, side="right") - 1
    delims = framing.delimiters[keep[owner]]
    # Field k of a record runs from the previous boundary to the next one; the boundaries of
    # all kept records in order are: start, its delimiters, its content end.
    field_starts = np.empty(records * columns, dtype=np.int64)
    field_ends = np.empty(records * columns, dtype=np.int64)
    first = np.arange(records, dtype=np.int64) * columns
    field_starts[first] = rec_starts
    field_ends[first + columns - 1] = rec_ends
    if columns > 1:
        inner = (first[:, None] + np.arange(columns - 1, dtype=np.int64)[None, :]).ravel()
        field_ends[inner] = delims
        field_starts[inner + 1] = delims + 1
    lengths = field_ends - field_starts
    # Gather the field bytes into one contiguous buffer (a +1/-1 marker sweep, no copy loop).
    # Fields never overlap, so the running sum of +1 at starts and -1 at ends is 0 or 1.
    marks = np.zeros(buf.shape[0] + 1, dtype=np.int8)
    marks[field_starts] += 1
    marks[field_ends] -= 1
    inside = np.cumsum(marks[:-1], dtype=np.int8).view(np.bool_)
    data = buf[inside]
    offsets = np.zeros(records * columns + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = pa.LargeStringArray.from_buffers(
        records * columns, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data))
    )
    values = pl.Series("v", flat)
    if quote is not None:
        # Only fields that start and end with the quote need unquoting: find them from the
        # bytes, unquote just those and put them back.
        q = ord(quote)
        nonempty = lengths >= 2
        quoted = np.zeros(lengths.shape[0], dtype=np.bool_)
        quoted[nonempty] = (buf[field_starts[nonempty]] == q) & (buf[field_ends[nonempty] - 1] == q)
        where = np.flatnonzero(quoted)
        if where.size:
            enclosed = values.gather(where)
            unquoted = enclosed.str.slice(1, enclosed.str.len_chars() - 2).str.replace_all(
                quote + quote, quote, literal=True
            )
            values = values.scatter(where, unquoted)
    return [values.gather_every(columns, offset=j) for j in range(columns)]


def read_blocks(
    handle: BinaryIO, batch_bytes: int, path: Path, encoding: str, *, transcode: bool
) -> Iterator[tuple[bytes, bool]]:
    """(block, final) pairs of ``batch_bytes`` raw bytes of an open file; with ``transcode``
    (UTF-16) the blocks are the text re-encoded as UTF-8. Shared by the csv and xml readers."""
    decoder = codecs.getincrementaldecoder(ENCODINGS[encoding])() if transcode else None
    while True:
        block = handle.read(batch_bytes)
        final = len(block) < batch_bytes
        if decoder is not None:
            try:
                block = decoder.decode(block, final=final).encode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(str(path), f"bytes are not valid {encoding}: {exc.reason}") from None
        yield block, final
        if final:
            return


class CsvReader:
    """A CSV file opened for batch reading."""

    def __init__(self, path: Path, options: CsvOptions, *, batch_bytes: int) -> None:
        self.path = path
        self.options = options
        self.batch_bytes = max(int(batch_bytes), 1)
        try:
            self._fh: BinaryIO = path.open("rb")
        except OSError as exc:
            raise InputError(str(path), f"cannot open: {exc.strerror}") from None
        self._span = options.span
        self._lines_before = 0
        self._start = 0
        self._left: int | None = None  # bytes still to read of a range
        if self._span is not None:
            self._open_range(path, options)
            return
        sample = self._fh.read(_DETECT_BYTES)
        if not sample:
            self._fh.close()
            raise InputError(str(path), "file is empty")
        if options.encoding is None:
            try:
                self.encoding = detect_encoding(sample)
            except InputError as exc:
                raise InputError(str(path), exc.rule) from None
        else:
            self.encoding = options.encoding
        self._codec = ENCODINGS.get(self.encoding, self.encoding)
        self._euc = self.encoding if self.encoding in EUC_ENCODINGS else None
        self._transcode = self._codec.startswith("utf-16")
        #: UTF-16 is read as UTF-8 text: offsets and raw bytes are that text's (see mig.plugin)
        self.raw_is_file_bytes = not self._transcode
        self._bom = 0
        if sample.startswith(codecs.BOM_UTF8) and self._codec == "utf-8":
            self._bom = len(codecs.BOM_UTF8)
        self._fh.seek(self._bom)
        self._other_bytes = self._bom  # bytes in no record: the BOM and the header line
        self.columns: list[str] = options.columns or []
        self._header_pending = options.header
        self._first_batch: SourceBatch | None = None
        if options.header:
            self._first_batch = self._read_header()

    def _open_range(self, path: Path, options: CsvOptions) -> None:
        """Read only the records of ``options.span`` (no header, no detection: both given)."""
        assert options.span is not None and options.encoding is not None
        start, end, lines = options.span
        self.encoding = options.encoding
        self._codec = ENCODINGS.get(self.encoding, self.encoding)
        self._euc = self.encoding if self.encoding in EUC_ENCODINGS else None
        self._transcode = False  # UTF-16 files are never cut (see CsvAdapter.ranges)
        self.raw_is_file_bytes = True
        self._bom = 0
        self._start = start
        self._left = end - start
        self._lines_before = lines
        self._fh.seek(start)
        self._other_bytes = path.stat().st_size - (end - start)  # the file outside the range
        self.columns = list(options.columns or [])
        self._header_pending = False
        self._first_batch = None

    def coverage(self) -> Coverage:
        """Bytes in no record (the BOM, the header line): mig checks the records and rejects
        cover the rest of the file (complete once :meth:`batches` is exhausted)."""
        return Coverage(other_bytes=self._other_bytes)

    # -- framing ---------------------------------------------------------------------------

    def _read_header(self) -> SourceBatch | None:
        """Read ahead until the header record is framed; keep the rest as the first batch."""
        iterator = self._batches_raw()
        self._iterator = iterator
        first = next(iterator, None)
        if self._header_pending:  # the file had no complete header record
            raise InputError(str(self.path), "no header record")
        return first

    def batches(self) -> Iterator[SourceBatch]:
        try:
            if self.options.header:
                # handed over, not kept: the reader would otherwise hold the first block
                # (up to a batch of raw bytes and its columns) until the file is done
                first, self._first_batch = self._first_batch, None
                if first is not None:
                    yield first
                del first
                yield from self._iterator
            else:
                yield from self._batches_raw()
        finally:
            self._fh.close()

    def _blocks(self) -> Iterator[tuple[bytes, bool]]:
        if self._left is None:
            return read_blocks(self._fh, self.batch_bytes, self.path, self.encoding, transcode=self._transcode)
        return self._range_blocks()

    def _range_blocks(self) -> Iterator[tuple[bytes, bool]]:
        """The range's bytes in blocks of ``batch_bytes``; the last one is final."""
        left = self._left or 0
        while True:
            block = self._fh.read(min(self.batch_bytes, left))
            left -= len(block)
            final = left <= 0 or not block
            yield block, final
            if final:
                return

    def _batches_raw(self) -> Iterator[SourceBatch]:
        delimiter = ord(self.options.delimiter)
        quote = ord(self.options.quote) if self.options.quote else None
        sjis = self._codec in _SJIS_FAMILY and any(
            b is not None and 0x40 <= b <= 0x7E for b in (delimiter, quote)
        )
        carry = b""
        carry_offset = self._bom + self._start  # file offset of carry[0] (UTF-16: offset in the UTF-8 text)
        lines_before = self._lines_before
        row = 0
        for block, final in self._blocks():
            buf = carry + block
            while True:
                array = np.frombuffer(buf, dtype=np.uint8)
                framing = frame_block(
                    array, delimiter, quote, sjis_char_starts(array) if sjis else None, final=final
                )
                overlong = framing.quote_open and len(buf) - framing.complete_until > _MAX_RECORD_BYTES
                if not framing.quote_open and not final and len(buf) - framing.complete_until > _MAX_RECORD_BYTES:
                    raise InputError(
                        str(self.path),
                        f"a record runs over {_MAX_RECORD_BYTES // (1024 * 1024)} MiB without a line end "
                        "(wrong delimiter or not a CSV file?)",
                        line=lines_before + buf.count(b"\n", 0, framing.complete_until) + 1,
                        offset=carry_offset + framing.complete_until,
                    )
                if framing.complete_until == 0 and not (final or overlong):
                    break
                if framing.complete_until > 0:
                    batch, row = self._make_batch(buf, framing, carry_offset, lines_before, row)
                    lines_before += int(framing.line_feeds.shape[0])
                    if batch is not None:
                        yield batch
                consumed = framing.complete_until
                if framing.quote_open and (final or overlong):
                    # The record at `consumed` opens a quote it never closes: reject its first
                    # physical line and frame again from the next line.
                    if self._header_pending:
                        raise InputError(str(self.path), "header record opens a quote it never closes", line=1)
                    line_end = buf.find(b"\n", consumed)
                    cut = len(buf) if line_end < 0 else line_end + 1
                    row += 1
                    yield self._unbalanced(buf[consumed:cut], row, lines_before + 1, carry_offset + consumed)
                    lines_before += 1
                    consumed = cut
                buf = buf[consumed:]
                carry_offset += consumed
                if not buf or not framing.quote_open:
                    break
            carry = buf

    def _unbalanced(self, raw: bytes, row: int, line: int, offset: int) -> SourceBatch:
        rejects = pl.DataFrame(
            {"row": [row], "line": [line], "offset": [offset], "raw": [raw],
             "type": ["unbalanced-quote"], "detail": [None]},
            schema={**RECORD_SCHEMA, **REJECT_EXTRA_SCHEMA},
        )
        return SourceBatch(self._empty_data(), pl.DataFrame(schema=RECORD_SCHEMA), rejects)

    def _empty_data(self) -> pl.DataFrame:
        return pl.DataFrame(schema={"row": pl.Int64, **{c: pl.String for c in self.columns}})

    def _make_batch(
        self, buf: bytes, framing: Framing, file_offset: int, lines_before: int, row: int
    ) -> tuple[SourceBatch | None, int]:
        region = buf[: framing.complete_until]
        text_bytes = self._decode(region, file_offset, lines_before)
        raw_array = np.frombuffer(region, dtype=np.uint8)
        text = raw_array if text_bytes is region else np.frombuffer(text_bytes, dtype=np.uint8)
        line_feeds = framing.line_feeds
        lines = lines_before + np.searchsorted(line_feeds, framing.starts, side="left") + 1
        records = framing.starts.size
        # Decoding maps ASCII bytes to themselves and puts no ASCII byte inside a multi-byte
        # character, so the raw framing's delimiters and NULs are the decoded text's.
        field_counts = _per_record_counts(framing.delimiters, framing.starts, records) + 1
        header_pending = self._header_pending
        first = 1 if header_pending else 0
        expected = int(field_counts[0]) if header_pending else len(self.columns)
        index = np.arange(records)
        data_rows = index >= first
        ragged = data_rows & (field_counts != expected)
        nul = data_rows & (framing.nul_counts > 0)
        bad = ragged | nul
        keep = data_rows & ~bad
        parsed = self._fast_split(text_bytes, raw_array, framing, line_feeds, keep | (index < first), expected)
        if parsed is None:  # the exact NumPy splitter, on the decoded text framed again
            if text_bytes is not region:
                quote = ord(self.options.quote) if self.options.quote else None
                fields = frame_block(text, ord(self.options.delimiter), quote, None, final=True)
                if fields.starts.size != framing.starts.size:  # pragma: no cover - framing invariant
                    raise AssertionError("raw and decoded framing disagree")
            else:
                fields = framing
            header = (
                split_fields(text, fields, index == 0, expected, self.options.quote) if header_pending else []
            )
            columns = split_fields(text, fields, keep, expected, self.options.quote)
        else:
            header = [s.head(1) for s in parsed] if header_pending else []
            columns = [s.slice(first) for s in parsed] if header_pending else parsed
        if header_pending:
            self._header_pending = False
            self.columns = [s[0].strip().lstrip("\ufeff") for s in header]
            first_seen: dict[str, int] = {}
            for position, name in enumerate(self.columns, 1):  # once per file, over the header
                if name in first_seen:
                    # positions, not the name: a file without a header line has data there
                    raise InputError(
                        str(self.path),
                        f"header names a column twice (fields {first_seen[name]} and {position})",
                        line=1,
                    )
                first_seen[name] = position
            self._other_bytes += int(framing.next_starts[0])
        row_ids = np.zeros(records, dtype=np.int64)
        row_ids[data_rows] = row + np.arange(1, int(data_rows.sum()) + 1)
        raw = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), records,
            [None, pa.py_buffer(np.concatenate(([0], framing.next_starts)).astype(np.int64)),
             pa.py_buffer(region)],
        )
        meta = pl.DataFrame(
            {
                "row": row_ids,
                "line": lines.astype(np.int64),
                "offset": (framing.starts + file_offset).astype(np.int64),
                "raw": pl.Series("raw", raw),
            },
            schema=RECORD_SCHEMA,
        )
        data = pl.DataFrame([pl.Series("row", row_ids[keep])] + [
            s.alias(name) for s, name in zip(columns, self.columns, strict=True)
        ])
        rejects = (
            meta.with_columns(
                pl.Series("__nul", nul), pl.Series("__fields", field_counts)
            )
            .filter(pl.Series(bad))
            .select(
                *RECORD_SCHEMA,
                pl.when(pl.col("__nul")).then(pl.lit("embedded-nul")).otherwise(pl.lit("ragged-row")).alias("type"),
                pl.when(pl.col("__nul")).then(None).otherwise(pl.col("__fields").cast(pl.String)).alias("detail"),
            )
        )
        new_row = row + int(data_rows.sum())
        if not data_rows.any():
            return None, new_row
        return SourceBatch(data, meta.filter(pl.Series(keep)), rejects if bad.any() else empty_rejects()), new_row

    def _fast_split(
        self,
        text_bytes: bytes,
        raw: Bytes,
        framing: Framing,
        line_feeds: Positions,
        parse: npt.NDArray[np.bool_],
        columns: int,
    ) -> list[pl.Series] | None:
        """The ``parse`` records (all with ``columns`` fields) as String columns read by
        Polars' CSV reader from the decoded text, or None when the batch has anything that
        reader might read differently from :func:`split_fields` (then the caller uses it).

        Polars reads the same values when: every line feed ends a record (none inside
        quotes) and every CR is the one before a line feed; no record to parse is empty or
        holds a NUL; the text does not begin with a BOM; and every quote character belongs
        to a whole quoted field — a run of quote pairs joined by doubled quotes that starts
        at a field start and ends at a field end. The checks cost a few passes over the
        line ends and the quote positions found by the framing, not over the fields.
        """
        selected = int(np.count_nonzero(parse))
        if selected == 0:
            return None
        text = np.frombuffer(text_bytes, dtype=np.uint8)
        starts, content_ends = framing.starts, framing.content_ends
        records = starts.shape[0]
        unterminated = int(raw.shape[0] > 0 and raw[-1] != _LF)
        if line_feeds.shape[0] != records - unterminated:
            return None  # a line feed inside a quoted field
        carriage_returns = framing.carriage_returns
        if carriage_returns.shape[0] and (
            int(carriage_returns[-1]) + 1 >= raw.shape[0] or not bool(np.all(raw[carriage_returns + 1] == _LF))
        ):
            return None
        if bool(np.any((content_ends <= starts) & parse)) or bool(np.any((framing.nul_counts > 0) & parse)):
            return None
        if text[:3].tobytes() == codecs.BOM_UTF8:
            return None
        quotes = framing.quotes
        if quotes.shape[0]:
            opens, closes = quotes[0::2], quotes[1::2]
            joined = closes[:-1] + 1 == opens[1:]  # "" inside a quoted field
            run_opens = opens[np.concatenate(([True], ~joined))]
            run_closes = closes[np.concatenate((~joined, [True]))]
            at_field_start = _is_member(starts, run_opens) | _is_member(framing.delimiters, run_opens - 1)
            at_field_end = _is_member(content_ends, run_closes + 1) | _is_member(framing.delimiters, run_closes + 1)
            if not (bool(np.all(at_field_start)) and bool(np.all(at_field_end))):
                return None
        frame = None
        if selected == records or bool(parse[0]):
            # Every record read, then the rows not wanted dropped: no copy of the text without
            # them. A ragged record is truncated or padded (its row is dropped anyway); the
            # first record, which sets the width, is one to parse.
            frame = self._read_csv(text_bytes, ragged=selected != records)
            if frame is not None and frame.height == records:
                frame = frame if selected == records else frame.filter(pl.Series(parse))
            elif selected != records:  # pragma: no cover - every line feed ends a record
                frame = None
        if frame is None and selected != records:
            # Cut out the records not parsed: their decoded extents are the text's lines
            # (every line feed ends a record).
            text_line_feeds = np.flatnonzero(text == _LF)
            if text_line_feeds.shape[0] != line_feeds.shape[0]:  # pragma: no cover - decoding keeps LFs
                return None
            text_starts = np.concatenate(([0], text_line_feeds + 1))[:records]
            text_next = np.append(text_line_feeds + 1, text.shape[0])[:records]
            # np.delete over the skipped bytes only: the rejects are few, the text large
            skipped = ~parse
            cut_starts, cut_ends = text_starts[skipped], text_next[skipped]
            lengths = cut_ends - cut_starts
            shift = np.repeat(cut_starts - (np.cumsum(lengths) - lengths), lengths)
            frame = self._read_csv(np.delete(text, np.arange(int(lengths.sum()), dtype=np.int64) + shift).tobytes(),
                                   ragged=False)
        if frame is None or frame.height != selected or frame.width != columns:  # pragma: no cover - the checks above prevent it
            return None
        frame = frame.rechunk()  # one chunk: the mapping reads it faster than the reader's many
        return [frame.to_series(j).rename("v") for j in range(columns)]

    def _read_csv(self, source: bytes, *, ragged: bool) -> pl.DataFrame | None:
        """``source`` read by Polars' CSV reader, every field a String; ``None`` if it fails."""
        try:
            return pl.read_csv(
                source,
                has_header=False,
                separator=self.options.delimiter,
                quote_char=self.options.quote,
                infer_schema=False,
                empty_string_is_null=False,
                truncate_ragged_lines=ragged,
                raise_if_empty=True,
                comment_prefix=None,
                eol_char="\n",
            )
        except (pl.exceptions.PolarsError, ValueError):  # pragma: no cover - the checks before prevent it
            return None

    def _decode(self, region: bytes, file_offset: int, lines_before: int) -> bytes:
        """The region as UTF-8 bytes; undecodable bytes stop the run with their line."""
        if self._transcode:
            return region  # already UTF-8 (transcoded in _blocks)
        if self._euc is not None:
            try:
                return decode_euc(self._euc, region)
            except EucDecodeError as exc:
                self._decode_error(region, UnicodeDecodeError(self._euc, region, exc.offset, exc.offset + exc.length, str(exc)),
                                   file_offset, lines_before)
        if self._codec == "utf-8":
            try:
                region.decode("utf-8")
            except UnicodeDecodeError as exc:
                self._decode_error(region, exc, file_offset, lines_before)
            return region
        try:
            return region.decode(self._codec).encode("utf-8")
        except UnicodeDecodeError as exc:
            self._decode_error(region, exc, file_offset, lines_before)

    def _decode_error(
        self, region: bytes, exc: UnicodeDecodeError, file_offset: int, lines_before: int
    ) -> NoReturn:
        line = lines_before + region.count(b"\n", 0, exc.start) + 1
        raise InputError(
            str(self.path),
            f"bytes {region[exc.start:exc.end].hex()} are not valid {self.encoding} — wrong encoding "
            "given, or the file mixes encodings (this is the first offending line)",
            line=line,
            offset=file_offset + exc.start,
        ) from None


class CsvAdapter:
    """Delimited text exports: ``[source]`` options encoding, delimiter, quote, header, columns."""

    name = "csv"
    description = "CSV / TSV package exports (CP932, Shift_JIS, EUC-JP, UTF-8 with or without BOM, UTF-16)"
    options = OPTIONS

    def open(self, path: Path, options: Mapping[str, Any], *, batch_bytes: int) -> CsvReader:
        return CsvReader(path, CsvOptions.parse(options), batch_bytes=batch_bytes)

    def ranges(self, path: Path, options: Mapping[str, Any], *, size: int) -> list[ByteRange]:
        """Cut ``path`` after line feeds outside quotes into ranges of ``size`` bytes or more
        (see the module's docstring); ``[]``: read it whole."""
        parsed = CsvOptions.parse(options)
        reader = CsvReader(path, parsed, batch_bytes=min(max(size, 1), _DETECT_BYTES))
        try:
            data_start = reader._other_bytes  # the BOM and the header record
            encoding, columns, codec = reader.encoding, list(reader.columns), reader._codec
        finally:
            reader._fh.close()
        quote = ord(parsed.quote) if parsed.quote else None
        ambiguous = codec in _SJIS_FAMILY and any(
            b is not None and 0x40 <= b <= 0x7E for b in (ord(parsed.delimiter), quote)
        )
        if codec.startswith("utf-16") or ambiguous:
            return []
        cuts = _quote_safe_cuts(path, data_start, size, quote)
        if not cuts:
            return []
        context = {_RANGE_ENCODING: encoding, _RANGE_COLUMNS: columns}
        total = path.stat().st_size
        with path.open("rb") as handle:
            header_lines = handle.read(data_start).count(b"\n")
        bounds = [(data_start, header_lines), *cuts, (total, 0)]
        return [
            ByteRange(start, end, lines, context)
            for (start, lines), (end, _) in zip(bounds, bounds[1:], strict=False)
        ]


def _quote_safe_cuts(path: Path, data_start: int, size: int, quote: int | None) -> list[tuple[int, int]]:
    """(offset, lines before it) of the cuts: the first line feed outside quotes at or past
    each multiple of ``size`` after ``data_start``; ``[]`` when the quotes of the file could
    make the reader start over (odd count, or a quoted stretch of half the record limit)."""
    cuts: list[tuple[int, int]] = []
    target = data_start + size
    quotes_before = 0  # quote characters before the block
    lines_before = 0
    open_since: int | None = None  # where the quoted stretch open at the block's end began
    longest = 0
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(_SCAN_BYTES):
            array = np.frombuffer(block, dtype=np.uint8)
            line_ends = np.flatnonzero(array == _LF).astype(np.int64)
            if quote is not None:
                quoted = np.flatnonzero(array == quote).astype(np.int64) + offset
                # quote k (counting the whole file from 0) opens a stretch when k is even
                first = quotes_before % 2
                opens, closes = quoted[first::2], quoted[1 - first::2]
                if open_since is not None and closes.size:  # the stretch open since an earlier block
                    longest = max(longest, int(closes[0]) - open_since)
                    closes, open_since = closes[1:], None
                paired = min(opens.size, closes.size)
                if paired:
                    longest = max(longest, int((closes[:paired] - opens[:paired]).max()))
                if opens.size > closes.size:
                    open_since = int(opens[-1])
                parity = (quotes_before + np.searchsorted(quoted, line_ends + offset)) % 2
                outside = line_ends[parity == 0] + offset
                quotes_before += int(quoted.size)
            else:
                outside = line_ends + offset
            while target < offset + len(block):
                at = int(np.searchsorted(outside, target))
                if at == outside.size:
                    break
                cut = int(outside[at]) + 1
                lines = lines_before + int(np.searchsorted(line_ends + offset, cut - 1)) + 1
                cuts.append((cut, lines))
                target = cut + size
            lines_before += int(line_ends.size)
            offset += len(block)
    if open_since is not None or quotes_before % 2 or longest >= _MAX_RECORD_BYTES // 2:
        return []
    if cuts and cuts[-1][0] >= offset:  # a cut at the very end leaves an empty last range
        cuts.pop()
    return cuts
