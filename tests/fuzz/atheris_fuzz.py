"""Coverage-guided fuzz targets (atheris) for the legacy readers; run by hand, see README.md.

    python tests/fuzz/atheris_fuzz.py TARGET [libFuzzer options, e.g. -max_total_time=180]

Targets:

``csv``       the CSV framer and field splitter (:func:`mig_adapters.csv.frame_block`,
              :func:`~mig_adapters.csv.split_fields`) on any CP932 or UTF-8 bytes, as the
              reader uses them: raw framing (with the Shift_JIS character-start mask where
              the delimiter or quote can be a trail byte), then the decoded text's;
``mixed``     the mixed-field (shift-code) decoder of :mod:`mig.codecs` — and the single-
              and double-byte decoders — on any field matrix, in every mainframe charset;
``copybook``  the copybook parser on any text, in every source format.

A crash is any exception other than :class:`mig.errors.MigError` (and, for the framer and
the decoders, a result that breaks the invariants checked below). libFuzzer writes the
input that crashed to ``crash-…`` (``-artifact_prefix=DIR/`` chooses where); replay it
with ``python tests/fuzz/atheris_fuzz.py TARGET crash-…`` and turn it into a test.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["mig", "mig_adapters"]):
    import numpy as np
    from mig_adapters.copybook.parser import MAX_FIELDS, MAX_RECORD_BYTES, parse_copybook
    from mig_adapters.csv import frame_block, sjis_char_starts, split_fields

    from mig.codecs import CHARSETS, get_codec
    from mig.errors import MigError

CODECS = [get_codec(name) for name in CHARSETS]


def fuzz_csv(data: bytes) -> None:
    """Frame the raw bytes as the reader does, then the decoded UTF-8 text: both framings
    must agree on the records, and the fields split from the text must line up."""
    if len(data) < 2:
        return
    flags, columns = data[0], data[1] % 6 + 1
    raw = data[2:]
    codec = "cp932" if flags & 8 else "utf-8"
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return  # the reader stops with an InputError naming the line
    delimiter = b",|\t;"[flags & 3]
    quote = None if flags & 4 else ord('"')
    buf = np.frombuffer(raw, dtype=np.uint8)
    sjis = codec == "cp932" and any(b is not None and 0x40 <= b <= 0x7E for b in (delimiter, quote))
    framing = frame_block(buf, delimiter, quote, sjis_char_starts(buf) if sjis else None, final=bool(flags & 16))
    n = buf.shape[0]
    assert 0 <= framing.complete_until <= n
    assert bool(np.all(framing.starts <= framing.content_ends)) and bool(np.all(framing.content_ends <= framing.next_starts))
    assert bool(np.all(framing.next_starts[:-1] == framing.starts[1:]))
    if framing.next_starts.size:
        assert int(framing.next_starts[-1]) == framing.complete_until
    region = raw[: framing.complete_until]
    try:
        text = np.frombuffer(region.decode(codec).encode("utf-8"), dtype=np.uint8)
    except UnicodeDecodeError:  # a record boundary inside a character: the reader stops too
        return
    fields = frame_block(text, delimiter, quote, None, final=True)
    assert fields.starts.size == framing.starts.size, "raw and decoded framing disagree"
    owner = np.searchsorted(fields.starts, fields.delimiters, side="right") - 1
    counts = np.bincount(owner, minlength=fields.starts.size) + 1 if fields.starts.size else np.zeros(0, np.int64)
    keep = (counts == columns) & (fields.nul_counts == 0)
    values = split_fields(text, fields, keep, columns, None if quote is None else '"')
    assert len(values) == columns and all(v.len() == int(keep.sum()) for v in values)


def fuzz_mixed(data: bytes) -> None:
    if len(data) < 2:
        return
    codec = CODECS[data[0] % len(CODECS)]
    width = data[1] % 48 + 1
    body = data[2:]
    rows = len(body) // width
    fields = np.frombuffer(body[: rows * width], dtype=np.uint8).reshape(rows, width)
    for decode in (codec.decode_mixed, codec.decode_sbcs, codec.decode_dbcs):
        result = decode(fields)
        assert len(result.values) == rows
        assert np.asarray(result.errors).shape == (rows,)
        assert np.asarray(result.gaiji).shape == (rows,)


def fuzz_copybook(data: bytes) -> None:
    if not data:
        return
    fmt = ("auto", "fixed", "free")[data[0] % 3]
    text = data[1:].decode("utf-8", errors="replace")
    try:
        book = parse_copybook(text, source="FUZZ.cpy", format=fmt)  # type: ignore[arg-type]
    except MigError:
        return
    for record in book.records:
        assert record.size <= MAX_RECORD_BYTES and len(record.fields) <= MAX_FIELDS
        assert all(0 <= f.offset and f.end <= record.size for f in record.fields)


TARGETS = {"csv": fuzz_csv, "mixed": fuzz_mixed, "copybook": fuzz_copybook}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
