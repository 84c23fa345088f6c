"""``mig validate``: check intermediate files produced by anyone against a layout, or a
whole run directory against the layouts its manifest names.

Reads intermediate CSV (any supported encoding, header = 項目名称) or Parquet in batches,
runs the same vectorised rules as ``extract`` and returns a :class:`~mig.validation.report.Report`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from mig.errors import ConfigError, InputError, MigError, Msg
from mig.layout import Layout, get_layout, parse_item
from mig.plugin import empty_rejects
from mig.registry import get_adapter
from mig.run.manifest import (
    DATA_DIR,
    MANIFEST_NAME,
    ManifestFile,
    data_csv,
    data_parquet,
    load_manifest,
)
from mig.validation.batch import validate_batch
from mig.validation.findings import severity_table
from mig.validation.header import HeaderMatch
from mig.validation.keys import KeyTracker, unchecked_references
from mig.validation.report import FileReport, FindingAccumulator, Report, SourceSummary, file_note
from mig.version import __version__

BATCH_ROWS = 200_000
BATCH_BYTES = 32 * 1024 * 1024


def parquet_batches(path: Path) -> tuple[list[str], Iterator[pl.DataFrame]]:
    """The columns of an intermediate Parquet file and its rows as text batches (``row``
    counted from 1, every column cast to text), read ``BATCH_ROWS`` at a time.

    Everything about the file that makes it unreadable is an :class:`~mig.errors.InputError`
    (exit code 3) naming the file, and the column where it is about one: not Parquet at all,
    a nested column (list, struct, map — an intermediate file holds text and numbers), binary
    values that are not UTF-8 text, data that cannot be decoded. Nested columns are found
    from the schema, before any row is read.
    """
    where = str(path)
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputError(where, f"not a readable Parquet file ({type(exc).__name__})") from None
    schema = parquet.schema_arrow
    for arrow_field in schema:
        if pa.types.is_nested(arrow_field.type):
            raise InputError(
                where,
                f"column {arrow_field.name!r} has the nested Parquet type {arrow_field.type}; "
                "an intermediate file's columns hold text or numbers",
            )

    def as_text(frame: pl.DataFrame) -> pl.DataFrame:
        columns = []
        for name in frame.columns:  # per column, to name the one that cannot be text
            try:
                columns.append(frame.get_column(name).cast(pl.String))
            except pl.exceptions.PolarsError:
                raise InputError(
                    where, f"column {name!r} ({schema.field(name).type}) holds values that are not UTF-8 text"
                ) from None
        return pl.DataFrame(columns)

    def batches() -> Iterator[pl.DataFrame]:
        row = 0
        try:
            for record_batch in parquet.iter_batches(batch_size=BATCH_ROWS):
                frame = as_text(pl.DataFrame(pl.from_arrow(record_batch)))
                frame = frame.with_row_index("row", offset=row + 1)
                row += frame.height
                yield frame.with_columns(pl.col("row").cast(pl.Int64))
        except MigError:
            raise
        except Exception as exc:  # pyarrow / polars: a damaged page, an unsupported encoding
            raise InputError(where, f"Parquet data cannot be read ({type(exc).__name__})") from None

    return list(schema.names), batches()


def read_key_column(path: Path, item: str, encoding: str | None = None) -> pl.Series:
    """The distinct non-empty values of ``item`` in an intermediate CSV or Parquet file."""
    if path.suffix.lower() == ".parquet":
        columns, batches = parquet_batches(path)
        frames = [b.select(item) for b in batches] if item in columns else None
    else:
        reader = get_adapter("csv").open(path, {"encoding": encoding} if encoding else {}, batch_bytes=BATCH_BYTES)
        columns = reader.columns
        frames = [b.data.select(item) for b in reader.batches()] if item in columns else None
    if frames is None:
        raise ConfigError(f"{path}: no column {item!r} to check references against")
    values = pl.concat(frames).get_column(item) if frames else pl.Series(item, [], pl.String)
    return values.filter(values.is_not_null() & (values != "")).unique()


def validate_files(
    paths: list[Path],
    layout_id: str,
    *,
    references: Mapping[str, Path] | None = None,
    encoding: str | None = None,
    show_values: bool = False,
) -> Report:
    """Validate files in a layout; ``references`` maps a referenced layout id to its file.

    >>> report = validate_files([Path("run/data/juki-setai.csv")], "juki-setai")  # doctest: +SKIP
    >>> report.files[0].rows_in  # doctest: +SKIP
    1000
    """
    layout = get_layout(layout_id)
    keys: dict[str, pl.Series | None] = {}
    for fk in layout.foreign_keys:
        ref = (references or {}).get(fk.layout)
        keys[fk.layout] = read_key_column(ref, fk.target_item, encoding) if ref else None
    for name in references or {}:
        if name not in {fk.layout for fk in layout.foreign_keys}:
            raise ConfigError(
                f"--ref {name}: {layout.id} references no such layout "
                f"(it references: {', '.join(fk.layout for fk in layout.foreign_keys) or 'none'})"
            )
    severities = severity_table()
    report = Report("validate", __version__, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), show_values)
    for path in paths:
        report.files.append(_validate_one(path, layout, keys, severities, encoding, show_values))
    return report


def validate_run(run_dir: Path, *, show_values: bool = False) -> Report:
    """Validate the data files of a run directory, each against the layout its manifest
    names (with the extension items the manifest declares), in manifest order; foreign
    keys are checked against the referenced layout's data file in the same run.

    The typed manifest reader (:func:`mig.run.manifest.load_manifest`) checks the manifest
    first: a folder that is not a run directory is an :class:`~mig.errors.InputError`.
    """
    run_dir = Path(run_dir)
    manifest = load_manifest(run_dir)
    files = {entry.layout: _run_data_file(run_dir, entry) for entry in manifest.files}
    severities = severity_table()
    report = Report("validate", __version__, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), show_values)
    key_cache: dict[tuple[str, str], pl.Series] = {}
    for entry in manifest.files:
        layout = _run_layout(entry)
        keys: dict[str, pl.Series | None] = {}
        for fk in layout.foreign_keys:
            ref = files.get(fk.layout)
            if ref is None:
                keys[fk.layout] = None  # not in this run: reported as an unchecked reference
                continue
            if (fk.layout, fk.target_item) not in key_cache:
                key_cache[fk.layout, fk.target_item] = read_key_column(ref, fk.target_item)
            keys[fk.layout] = key_cache[fk.layout, fk.target_item]
        report.files.append(_validate_one(files[entry.layout], layout, keys, severities, None, show_values))
    return report


def _run_data_file(run_dir: Path, entry: ManifestFile) -> Path:
    """The data file of ``entry``: its Parquet file when the manifest lists one, else its CSV."""
    for name in (data_parquet(entry.layout), data_csv(entry.layout)):
        if entry.output(name) is not None:
            return run_dir / name
    raise InputError(str(run_dir / DATA_DIR), f"the manifest lists no data file of layout {entry.layout}")


def _run_layout(entry: ManifestFile) -> Layout:
    """The layout of a manifest entry, with the extension items the run declared."""
    layout = get_layout(entry.layout)
    extra = [  # read as mig audit reads them: every declared rule (code table, check) kept
        parse_item(i.to_dict(), f"{MANIFEST_NAME} {entry.layout} item {i.name}", layout.codes)
        for i in entry.items if i.extension and i.name not in layout.item_names
    ]
    return layout.with_extensions(extra)


def _validate_one(
    path: Path,
    layout: Layout,
    keys: dict[str, pl.Series | None],
    severities: pl.DataFrame,
    encoding: str | None,
    show_values: bool,
) -> FileReport:
    if not path.is_file():
        raise InputError(str(path), Msg("errors.no-such-file-rule"))
    file_report = FileReport(layout=layout.id, layout_name=layout.name)
    accumulator = FindingAccumulator(show_values)
    rows_in = rows_rejected = 0
    if path.suffix.lower() == ".parquet":
        columns, frames = parquet_batches(path)
        used_encoding = "parquet"
        no_rejects = empty_rejects().select("row", "type", "detail")
        batches: Iterator[tuple[pl.DataFrame, pl.DataFrame]] = ((f, no_rejects) for f in frames)
    else:
        reader = get_adapter("csv").open(path, {"encoding": encoding} if encoding else {}, batch_bytes=BATCH_BYTES)
        columns, used_encoding = reader.columns, reader.encoding
        batches = ((b.data, b.rejects.select("row", "type", "detail")) for b in reader.batches())
    header = HeaderMatch.of(columns, layout.item_names)
    missing = list(header.missing)
    # the file's own names only when its first line is a header (else they are a record)
    file_report.unmapped_columns = list(header.shown_extra)
    for name in missing:
        file_report.findings.append(file_note("column-missing", name))
    for name in header.shown_extra:
        file_report.findings.append(file_note("column-extra", name))
    if header.withheld:
        file_report.findings.append(file_note("columns-withheld", "", str(header.withheld)))
    primary_keys = KeyTracker(layout) if layout.primary_key else None
    for frame, framing in batches:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(n) for n in missing)
        frame = frame.select(["row"] + layout.item_names)
        result = validate_batch(
            frame, layout,
            severities=severities, references=keys, primary_keys=primary_keys,
            framing=framing, show_values=show_values,
        )
        accumulator.add(result.findings)
        rows_in += frame.height + framing.height
        rows_rejected += result.rejected_rows.len()
    file_report.sources.append(SourceSummary(path.name, used_encoding, 1, rows_in))
    file_report.rows_in = rows_in
    file_report.rows_rejected = rows_rejected
    file_report.rows_out = rows_in - rows_rejected
    file_report.findings.extend(accumulator.summaries())
    file_report.findings.extend(unchecked_references(layout, keys, severities))
    file_report.gaiji = [
        {"item": f.item, "code": f.detail, "count": f.count, "rows": f.rows}
        for f in file_report.findings if f.type == "gaiji-unresolved"
    ]
    return file_report
