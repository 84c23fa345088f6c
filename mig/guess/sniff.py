"""Sniff a delimited sample: encoding, delimiter, quoting, header — on a bounded sample.

The encoding is the csv adapter's own detection (the adapter is opened through the
registry, as ``mig extract`` opens it: one owner); the rows are read by that adapter too,
so the columns and values seen here are those ``mig extract`` will see. Only the first
:data:`SAMPLE_BYTES` bytes and :data:`SAMPLE_ROWS` records of each file are looked at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from mig.codecs.euc import sample_text
from mig.errors import InputError
from mig.extract.run import close_batches
from mig.registry import adapter_info, open_reader

#: How much of each sample is read (bytes) and how many records are profiled.
SAMPLE_BYTES = 1 << 20
SAMPLE_ROWS = 2000
#: Delimiters tried, in order of preference when two fit equally well.
DELIMITERS = (",", "\t", "|", ";")
_SNIFF_LINES = 500
_BATCH_BYTES = 256 * 1024
#: A value made of digits and date/number punctuation only: data, not a column name.
_NUMERIC_LIKE = r"^[0-9０-９][0-9０-９/\-.．／－:　 ]*$"


@dataclass(frozen=True)
class Sniffed:
    """What a sample file looks like and its first records (String columns)."""

    path: Path
    encoding: str
    delimiter: str
    quote: str | None
    header: bool
    columns: tuple[str, ...]
    rows: pl.DataFrame

    def options(self) -> dict[str, object]:
        """The csv adapter's ``[source]`` options that read the file as sniffed."""
        options: dict[str, object] = {
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "quote": self.quote if self.quote else False,
            "header": self.header,
        }
        if not self.header:
            options["columns"] = list(self.columns)
        return options

    def form(self) -> tuple[str, str, str | None, bool, tuple[str, ...]]:
        """What two samples must share to feed one ``[[files]]`` entry."""
        return (self.encoding, self.delimiter, self.quote, self.header, self.columns)


def _adapter_encoding(path: Path) -> str:
    """The encoding the csv adapter detects for ``path`` (BOM, strict UTF-8, chardet)."""
    reader = open_reader(
        adapter_info("csv"), path, {"header": False, "columns": ["_"], "quote": False}, batch_bytes=64 * 1024
    )
    batches = reader.batches()
    try:  # read one bounded batch so that the reader closes its file
        next(batches, None)
    finally:
        close_batches(batches)
    return reader.encoding



def _sample_lines(path: Path, encoding: str) -> list[str]:
    try:
        with path.open("rb") as f:
            sample = f.read(SAMPLE_BYTES)
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror}") from None
    text = sample_text(sample, encoding)
    lines = text.splitlines()
    if len(sample) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # cut mid-line
    return [line for line in lines[:_SNIFF_LINES] if line.strip()]


def sniff_delimiter(lines: list[str]) -> tuple[str, int]:
    """The delimiter that splits most lines into the same number of fields, and that
    number of delimiters per line (0: one column).

    >>> sniff_delimiter(["a\\tb,c\\td", "1\\t2\\t3", "x\\ty\\tz"])
    ('\\t', 2)
    >>> sniff_delimiter(["氏名", "山田"])
    (',', 0)
    """
    series = pl.Series("line", lines, dtype=pl.String)
    best: tuple[float, int, int] = (0.0, 0, 0)
    choice = ","
    for rank, delimiter in enumerate(DELIMITERS):
        counts = series.str.count_matches(delimiter, literal=True)
        if counts.len() == 0 or not counts.max():
            continue
        modes = counts.filter(counts > 0).mode().sort()
        mode = int(modes[-1])
        share = float((counts == mode).cast(pl.Float64).mean() or 0.0)  # type: ignore[arg-type]
        score = (share, mode, -rank)
        if score > best:
            best, choice = score, delimiter
    return choice, best[1]


def sniff_quote(lines: list[str], delimiter: str) -> str | None:
    """``"`` when fields are quoted with it or no ``"`` occurs at all; ``None`` (no quoting)
    when ``"`` only appears inside fields, where quoting would swallow the line ends.

    >>> sniff_quote(['"a","b"', '1,"x,y"'], ","), sniff_quote(['a,5\\'11"', "b,6"], ","), sniff_quote(["a,b"], ",")
    ('"', None, '"')
    """
    series = pl.Series("line", lines, dtype=pl.String)
    starts = series.str.contains(f'(^|{re.escape(delimiter)})"').any()
    anywhere = series.str.contains('"', literal=True).any()
    return '"' if starts or not anywhere else None


def _read_rows(path: Path, options: dict[str, object]) -> pl.DataFrame:
    """The first records as the csv adapter reads them (framing rejects left out)."""
    reader = open_reader(adapter_info("csv"), path, options, batch_bytes=_BATCH_BYTES)
    frames: list[pl.DataFrame] = []
    rows = 0
    read = 0
    batches = reader.batches()
    try:
        for batch in batches:
            frames.append(batch.data.drop("row"))
            rows += batch.data.height
            read += _BATCH_BYTES
            if rows >= SAMPLE_ROWS or read >= SAMPLE_BYTES:
                break
    finally:
        close_batches(batches)
    columns = [str(c) for c in options["columns"]]  # type: ignore[attr-defined]
    if not frames:
        return pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    return pl.concat(frames).head(SAMPLE_ROWS + 1)


def _looks_like_header(first: list[str], rest: pl.DataFrame, known_names: int) -> bool:
    """A first record is a header when it names items of the layout, or when its fields
    are words where the other records hold numbers or dates."""
    if known_names >= 2 or (known_names == 1 and len(first) <= 3):
        return True
    if any(re.match(_NUMERIC_LIKE, value or "") for value in first) or rest.height == 0:
        return False
    numeric = rest.select(
        (pl.col(c).str.contains(_NUMERIC_LIKE).fill_null(False).mean() >= 0.9).alias(c) for c in rest.columns
    )
    return bool(any(numeric.row(0)))


def sniff(path: Path, known_name: Callable[[str], bool]) -> Sniffed:
    """Sniff ``path``. ``known_name(column) -> bool`` says whether a first-line field is
    close to a 項目名称 (the header test)."""
    if not path.is_file():
        raise InputError(str(path), "not a file" if path.exists() else "no such file")
    encoding = _adapter_encoding(path)
    lines = _sample_lines(path, encoding)
    if not lines:
        raise InputError(str(path), "no records in the sample")
    delimiter, count = sniff_delimiter(lines)
    quote = sniff_quote(lines, delimiter)
    generic = [f"c{n}" for n in range(1, count + 2)]
    options: dict[str, object] = {
        "encoding": encoding, "delimiter": delimiter, "quote": quote or False, "header": False, "columns": generic,
    }
    rows = _read_rows(path, options)
    if rows.height == 0:
        raise InputError(str(path), f"no record of {len(generic)} fields in the sample")
    # named as the adapter names a header's fields (stripped, no BOM)
    first = [(v or "").strip().lstrip("\ufeff") for v in rows.row(0)]
    known = sum(1 for value in first if known_name(value))
    header = _looks_like_header(first, rows.slice(1), known)
    if header:
        seen: dict[str, int] = {}
        for position, name in enumerate(first, 1):  # as mig extract would refuse it
            if name in seen:
                raise InputError(str(path), f"header names a column twice (fields {seen[name]} and {position})", line=1)
            seen[name] = position
        return Sniffed(path, encoding, delimiter, quote, True, tuple(first), rows.slice(1).rename(dict(zip(generic, first, strict=True))))
    return Sniffed(path, encoding, delimiter, quote, False, tuple(generic), rows)
