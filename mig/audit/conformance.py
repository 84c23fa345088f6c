"""Full validation of one layout file of a package, streamed batch by batch.

CSV goes through the ``csv`` adapter (any supported encoding, detected), Parquet through
``pyarrow`` ``iter_batches``; each batch runs :func:`mig.validation.batch.validate_batch`
(the same rules, keys and reject decision as ``mig extract``) and the 外字 counts of
:mod:`mig.audit.repertoire`.
Memory is bounded by the batch (plus the distinct keys of the file).

準拠率 (conformance), defined once here:

- per **item**: ``conforming / checked``. *checked* values are the non-empty values of
  the item plus, for a required item, its empty values (an empty optional value has
  nothing to conform to). A checked value *conforms* when no finding of severity
  ``error`` names that row and item. Warnings (e.g. 外字 left, ``fk-not-checked``) do
  not lower it. An item whose column is missing has all values empty: 0 % if required,
  no rate (—) otherwise.
- per **file**: ``conforming records / records``: a record conforms when no
  error finding names its row, whatever the item; records the reader could not frame
  (``ragged-row``, ``unbalanced-quote``, ``embedded-nul``) count as not conforming.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from mig.audit.repertoire import count_expressions, distinct_characters, outside_pattern
from mig.audit.report import FileAudit, ItemAudit
from mig.charsets import private_use_pattern
from mig.errors import InputError
from mig.layout import Item, Layout
from mig.plugin import SourceBatch
from mig.registry import get_adapter
from mig.validation.batch import validate_batch
from mig.validation.files import parquet_batches
from mig.validation.findings import severity_table
from mig.validation.header import HeaderMatch
from mig.validation.keys import KeyTracker, unchecked_references
from mig.validation.report import FindingAccumulator, FindingSummary, file_note

BATCH_BYTES = 32 * 1024 * 1024
SAMPLE_ROWS = 10


@dataclass
class GaijiCount:
    """外字 left in one column: values, characters, first rows, distinct characters."""

    pua_values: int = 0
    pua_chars: int = 0
    outside_values: int = 0
    outside_chars: int = 0
    pua_rows: list[int] = field(default_factory=list)
    outside_rows: list[int] = field(default_factory=list)
    pua_set: set[str] = field(default_factory=set)
    outside_set: set[str] = field(default_factory=set)


@dataclass
class FileResult:
    """A file's audit plus what other files need from it (key sets) and its 外字 counts."""

    audit: FileAudit
    gaiji: dict[str, GaijiCount]
    keys: dict[str, pl.Series]


def _batches(
    path: Path, fmt: str, columns: list[str] | None = None, rename: Mapping[str, str] | None = None,
) -> tuple[list[str], str, Iterator[tuple[pl.DataFrame, pl.DataFrame, int]]]:
    """Columns, encoding and ``(data, framing rejects, bytes read)`` batches of a CSV or Parquet file.

    ``columns``: the names of a CSV without a header row (its first line is a record);
    ``rename``: file column → 項目名称 (a header that differs only in width or kana).
    """
    names = dict(rename or {})
    if fmt == "parquet":
        found, frames = parquet_batches(path)
        no_rejects = pl.DataFrame(schema={"row": pl.Int64, "type": pl.String, "detail": pl.String})
        return [names.get(c, c) for c in found], "parquet", ((frame_rename(f, names), no_rejects, 0) for f in frames)
    options: dict[str, object] = {"header": False, "columns": columns} if columns else {}
    reader = get_adapter("csv").open(path, options, batch_bytes=BATCH_BYTES)
    return (
        [names.get(c, c) for c in reader.columns],
        reader.encoding,
        ((frame_rename(b.data, names), b.rejects.select("row", "type", "detail"), _bytes_done(b))
         for b in reader.batches()),
    )


def frame_rename(frame: pl.DataFrame, rename: dict[str, str]) -> pl.DataFrame:
    """``frame`` with its columns renamed to 項目名称 (only those present)."""
    present = {k: v for k, v in rename.items() if k in frame.columns}
    return frame.rename(present) if present else frame


def _bytes_done(batch: SourceBatch) -> int:
    """How far into the file a batch reaches (its last record's offset), for the progress bar."""
    offsets = pl.concat([batch.records.select("offset"), batch.rejects.select("offset")])
    last = offsets.get_column("offset").max() if offsets.height else 0
    return int(last) if isinstance(last, int) else 0


_VALUE_BEARING = (
    # a header that is really a data record would put values into the report
    (re.compile(r"^header names a column twice\b.*$", re.S), "header names a column twice (names withheld)"),
    # the undecodable bytes are a fragment of a value
    (re.compile(r"^bytes [0-9a-f]+ are "), "bytes are "),
)


def value_free(rule: str) -> str:
    """A reader's rule without any fragment of a value (header names, undecodable bytes).

    >>> value_free("bytes 82a0 are not valid utf-8: invalid start byte")
    'bytes are not valid utf-8: invalid start byte'
    """
    for pattern, replacement in _VALUE_BEARING:
        rule = pattern.sub(replacement, rule)
    return rule


def describe(exc: InputError) -> str:
    """An adapter's error without its path (which may be a work-dir copy) and without any
    fragment of a value: the rule and the place (line, byte offset).

    >>> describe(InputError("/tmp/x.csv", "header names a column twice: 山田", line=1))
    'header names a column twice (names withheld) (line 1)'
    """
    rule = value_free(exc.rule)
    where = []
    if exc.line is not None:
        where.append(f"line {exc.line}")
    if exc.offset is not None:
        where.append(f"byte {exc.offset}")
    return rule + (f" ({', '.join(where)})" if where else "")


def audit_file(
    path: Path,
    display: str,
    layout: Layout,
    fmt: str,
    *,
    extensions: list[Item],
    keys: Mapping[str, pl.Series | None],
    collect: list[str],
    repertoire: str,
    has_header: bool = True,
    rename: Mapping[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> FileResult:
    """Validate and count one file of ``layout`` (``fmt`` ``csv`` or ``parquet``).

    ``extensions`` are the declared extension items (validated like the standard ones);
    ``keys`` maps a referenced layout id to its key values (``None``: not in the
    package); ``collect`` names the items whose distinct values other files reference.
    ``has_header`` false: the file has no header row (recognised by its field count), its
    columns are the layout's items in order; ``rename`` maps a file column to its 項目名称.
    An unreadable file is reported in ``read_error``, never raised.
    """
    audit = FileAudit(path=display, layout=layout.id, layout_name=layout.name, business=layout.business, format=fmt)
    try:
        columns, encoding, batches = _batches(path, fmt, None if has_header else list(layout.item_names), rename)
    except InputError as exc:
        audit.read_error = describe(exc)
        return FileResult(audit, {}, {})
    except Exception as exc:  # a hostile file must not stop the audit of the others
        audit.read_error = f"cannot be opened ({type(exc).__name__})"
        return FileResult(audit, {}, {})
    audit.encoding = encoding
    declared = [e for e in extensions if e.name not in layout.item_names]
    full = layout.with_extensions(declared) if declared else layout
    names = full.item_names
    header = HeaderMatch.of(columns, names)
    missing = list(header.missing)
    severities = severity_table()
    accumulator = FindingAccumulator(show_values=False)
    notes: list[FindingSummary] = [file_note("column-missing", n) for n in missing]
    # the first line's own names only when it is a header (else they are a record's values)
    audit.columns_withheld = header.withheld
    extra_shown = list(header.shown_extra)
    notes += [file_note("column-extra", c) for c in extra_shown]
    scan = [c for c in columns if c in names] + extra_shown
    gaiji = {c: GaijiCount() for c in scan}
    checked = dict.fromkeys(names, 0)
    failing = dict.fromkeys(names, 0)
    key_parts: dict[str, list[pl.Series]] = {k: [] for k in collect}
    tracker = KeyTracker(full) if full.primary_key else None
    rows = bad_rows = 0
    try:
        for data, framing, done in batches:
            if progress is not None:
                progress(done)
            frame = data.with_columns(pl.lit(None, dtype=pl.String).alias(n) for n in missing)
            frame = frame.select(["row", *names, *extra_shown])
            result = validate_batch(
                frame, full, severities=severities, references=keys, primary_keys=tracker, framing=framing
            )
            # 外字 are counted below per repertoire, for every column (not as findings)
            accumulator.add(result.findings.filter(pl.col("type") != "gaiji-unresolved"))
            errors = result.errors
            rows += frame.height + framing.height
            bad_rows += result.rejected_rows.len()
            _count_items(frame, full, errors, checked, failing)
            _count_gaiji(frame, scan, gaiji, repertoire)
            for item in collect:
                if item in frame.columns:
                    values = frame.get_column(item)
                    key_parts[item].append(values.filter(values.is_not_null() & (values != "")).unique())
    except InputError as exc:
        audit.read_error = describe(exc)
    except Exception as exc:  # a hostile file must not stop the audit of the others
        audit.read_error = f"reading stopped ({type(exc).__name__})"
    audit.rows = rows
    audit.rows_conforming = rows - bad_rows
    audit.findings = sorted(notes, key=lambda s: (s.severity != "error", s.type, s.item)) + accumulator.summaries()
    audit.findings += unchecked_references(full, keys, severities)
    audit.items = _items(full, names, missing, extra_shown, checked, failing, gaiji)
    collected = {
        item: pl.concat(parts).unique() if parts else pl.Series(item, [], dtype=pl.String)
        for item, parts in key_parts.items()
    }
    return FileResult(audit, gaiji, collected)


def _count_items(
    frame: pl.DataFrame, layout: Layout, errors: pl.DataFrame,
    checked: dict[str, int], failing: dict[str, int],
) -> None:
    """Add a batch's checked and failing values per item (one select, one group_by)."""
    if frame.height:
        exprs = []
        for item in layout.items:
            v = pl.col(item.name).cast(pl.String)
            present = v.is_not_null() & (v != "")
            exprs.append((pl.len() if item.required else present.sum()).alias(item.name))
        for name, count in frame.select(exprs).row(0, named=True).items():
            checked[name] += int(count)
    per_item = (
        errors.filter(pl.col("item") != "")
        .group_by("item")
        .agg(pl.col("row").n_unique().alias("n"))
    )
    for name, count in per_item.iter_rows():
        if name in failing:
            failing[name] += int(count)


def _count_gaiji(frame: pl.DataFrame, columns: list[str], gaiji: dict[str, GaijiCount], repertoire: str) -> None:
    """Add a batch's 外字 counts per column (one select over all columns)."""
    if not columns or frame.height == 0:
        return
    totals = frame.select(count_expressions(columns, repertoire)).row(0, named=True)
    pua, outside = private_use_pattern(), outside_pattern(repertoire)
    for name in columns:
        count = gaiji[name]
        pua_values = int(totals[f"{name}\x1fpua_values"] or 0)
        out_values = int(totals[f"{name}\x1fout_values"] or 0)
        count.pua_values += pua_values
        count.pua_chars += int(totals[f"{name}\x1fpua_chars"] or 0)
        count.outside_values += out_values
        count.outside_chars += int(totals[f"{name}\x1fout_chars"] or 0)
        if pua_values:
            count.pua_set |= distinct_characters(frame, name, pua)
            count.pua_rows += _first_rows(frame, name, pua, SAMPLE_ROWS - len(count.pua_rows))
        if out_values:
            count.outside_set |= distinct_characters(frame, name, outside)
            count.outside_rows += _first_rows(frame, name, outside, SAMPLE_ROWS - len(count.outside_rows))


def _first_rows(frame: pl.DataFrame, column: str, pattern: str, room: int) -> list[int]:
    if room <= 0:
        return []
    hits = frame.filter(pl.col(column).cast(pl.String).str.contains(pattern).fill_null(False))
    return [int(r) for r in hits.get_column("row").head(room).to_list()]


def _items(
    layout: Layout, names: list[str], missing: list[str], extra: list[str],
    checked: dict[str, int], failing: dict[str, int], gaiji: dict[str, GaijiCount],
) -> list[ItemAudit]:
    items = []
    for item in layout.items:
        if item.extension:
            status = "extension-missing" if item.name in missing else "extension"
        else:
            status = "missing" if item.name in missing else "present"
        count = gaiji.get(item.name, GaijiCount())
        items.append(
            ItemAudit(
                name=item.name, status=status, type=item.type, required=item.required,
                checked=checked[item.name], conforming=checked[item.name] - failing[item.name],
                pua_values=count.pua_values, pua_chars=count.pua_chars, pua_distinct=len(count.pua_set),
                outside_values=count.outside_values, outside_chars=count.outside_chars,
                outside_distinct=len(count.outside_set),
            )
        )
    for name in extra:
        count = gaiji[name]
        items.append(
            ItemAudit(
                name=name, status="extra",
                pua_values=count.pua_values, pua_chars=count.pua_chars, pua_distinct=len(count.pua_set),
                outside_values=count.outside_values, outside_chars=count.outside_chars,
                outside_distinct=len(count.outside_set),
            )
        )
    return items
