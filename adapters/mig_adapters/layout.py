"""The layout adapter: intermediate files of one standard layout as a source.

An intermediate file of a layout — mig's intermediate CSV (header = 項目名称, UTF-8) or
its Parquet, or another tool's CSV of the same 中間標準レイアウト — is read by the
*source* layout's item names and types, so a mapping can move it into another layout
(中間標準レイアウト V2.x → 基本データリスト) with the usual transforms, code maps and rejects::

    adapter = "layout"
    [source]
    layout = "juki-jumin"        # an id, or a layout file path (relative to the mapping)

CSV is read by the csv adapter's reader (every csv option applies: ``encoding``,
``delimiter``, ``quote``); its header must name items of the source layout, every
required item among them. Parquet (``*.parquet``) is read in row batches; a 数値 column
(Decimal) becomes its decimal text, every other column must be text. A Parquet row has no
bytes of its own: its ``raw`` is the row as one UTF-8 CSV line (fields quoted, CRLF).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from mig.layout import Layout, get_layout, load_layout_file
from mig.plugin import (
    RECORD_SCHEMA,
    ConfigError,
    Coverage,
    InputError,
    Option,
    OptionsSchema,
    SourceBatch,
    Str,
    empty_rejects,
)
from mig_adapters.csv import OPTIONS as CSV_OPTIONS
from mig_adapters.csv import CsvOptions, CsvReader

_OWN_KEYS = {"layout"}
PARQUET_SUFFIXES = (".parquet", ".pq")

#: ``layout`` and, for CSV files, the csv adapter's options (Parquet takes none of them).
OPTIONS = OptionsSchema("layout", {
    "layout": Option(Str(nonempty=True), help="the source layout: an id, or a layout file (relative to the mapping)"),
    **CSV_OPTIONS.options,
})


def source_layout(options: Mapping[str, Any]) -> Layout:
    """The layout named by the ``layout`` option: an id, or a path to a layout file."""
    value = options.get("layout")
    if not isinstance(value, str) or not value:
        raise ConfigError('layout adapter: give the source layout, layout = "<id or path>" in [source]')
    if value.endswith(".toml") or "/" in value or "\\" in value:
        path = Path(value)
        if not path.is_absolute() and options.get("_mapping_dir"):
            path = Path(str(options["_mapping_dir"])) / path
        if not path.is_file():
            raise ConfigError(f"layout adapter: layout file {value!r} does not exist")
        return load_layout_file(path)
    return get_layout(value)


def check_columns(path: Path, columns: list[str], layout: Layout) -> list[str]:
    """The file's columns in the layout's order; refuses columns that are not items of it
    and a header lacking a required item. Messages count columns, never echo a header
    that may be a data line."""
    known = set(layout.item_names)
    foreign = [c for c in columns if c not in known]
    if foreign:
        raise InputError(
            str(path),
            f"{len(foreign)} of {len(columns)} columns are not items of layout {layout.id} "
            "(the first line must be the 項目名称 header of the source layout)",
            line=1,
        )
    missing = [i.name for i in layout.items if i.required and i.name not in columns]
    if missing:
        raise InputError(str(path), f"required items of layout {layout.id} missing: {', '.join(missing)}", line=1)
    present = set(columns)
    return [name for name in layout.item_names if name in present]


class LayoutCsvReader:
    """mig's intermediate CSV (or any CSV with 項目名称 headers) of the source layout."""

    def __init__(self, path: Path, layout: Layout, options: Mapping[str, Any], *, batch_bytes: int) -> None:
        csv_options = {k: v for k, v in options.items() if k not in _OWN_KEYS}
        if csv_options.get("header", True) is not True:
            raise ConfigError("layout adapter: the intermediate file's header names its items (header = false is not read)")
        self._csv = CsvReader(path, CsvOptions.parse(csv_options), batch_bytes=batch_bytes)
        self.path = path
        self.layout = layout
        self.encoding = self._csv.encoding
        check_columns(path, self._csv.columns, layout)
        self.columns = list(self._csv.columns)
        self.raw_is_file_bytes = self._csv.raw_is_file_bytes

    def batches(self) -> Iterator[SourceBatch]:
        yield from self._csv.batches()

    def coverage(self) -> Coverage:
        return self._csv.coverage()


class LayoutParquetReader:
    """A Parquet file of the source layout (mig's ``data/<layout>.parquet`` or the like)."""

    encoding = "parquet"
    #: rows are written out as CSV records: their raw bytes and offsets are not the file's
    raw_is_file_bytes = False

    def __init__(self, path: Path, layout: Layout, options: Mapping[str, Any], *, batch_bytes: int) -> None:
        import pyarrow.parquet as pq

        unknown = sorted(k for k in options if not str(k).startswith("_") and k not in _OWN_KEYS)
        if unknown:
            raise ConfigError(f"layout adapter: option(s) {', '.join(unknown)} do not apply to Parquet")
        self.path = path
        self.layout = layout
        try:
            self._file = pq.ParquetFile(path)
        except (OSError, ValueError) as exc:
            raise InputError(str(path), f"not a readable Parquet file ({type(exc).__name__})") from None
        schema = self._file.schema_arrow
        self.columns = list(schema.names)
        check_columns(path, self.columns, layout)
        width = max(1, sum(layout.item(c).length * 3 + 3 for c in self.columns))
        self._rows = max(1, min(65_536, batch_bytes // width))
        for name in self.columns:
            pl_type = pl.from_arrow(schema.empty_table().select([name])).schema[name]  # type: ignore[union-attr]
            if not (pl_type == pl.String or isinstance(pl_type, pl.Decimal) or pl_type == pl.Null):
                raise InputError(str(path), f"column {name!r} is {pl_type}, not text or Decimal")

    def batches(self) -> Iterator[SourceBatch]:
        row = 0
        offset = 0
        for record_batch in self._file.iter_batches(batch_size=self._rows):
            frame = pl.from_arrow(record_batch)
            assert isinstance(frame, pl.DataFrame)
            text = frame.select(pl.col(c).cast(pl.String) for c in self.columns)
            ids = pl.int_range(row + 1, row + 1 + text.height, dtype=pl.Int64, eager=True)
            quoted = [
                pl.lit('"') + pl.col(c).fill_null("").str.replace_all('"', '""', literal=True) + pl.lit('"')
                for c in self.columns
            ]
            raw = text.select(
                (pl.concat_str(quoted, separator=",") + pl.lit("\r\n")).cast(pl.Binary).alias("raw")
            ).get_column("raw")
            sizes = raw.bin.size().cast(pl.Int64)
            offsets = sizes.cum_sum().shift(1, fill_value=0) + offset
            records = pl.DataFrame(
                {"row": ids, "line": ids, "offset": offsets, "raw": raw}, schema=RECORD_SCHEMA
            )
            offset += int(sizes.sum())
            row += text.height
            yield SourceBatch(text.insert_column(0, ids.alias("row")), records, empty_rejects())


class LayoutAdapter:
    """Intermediate files of a standard layout: ``[source]`` option ``layout`` (+ csv options)."""

    name = "layout"
    description = "intermediate files of a standard layout (CSV with 項目名称 headers, Parquet), read by its items"
    options = OPTIONS

    def open(self, path: Path, options: Mapping[str, Any], *, batch_bytes: int) -> LayoutCsvReader | LayoutParquetReader:
        layout = source_layout(options)
        if path.suffix.lower() in PARQUET_SUFFIXES:
            return LayoutParquetReader(path, layout, options, batch_bytes=batch_bytes)
        return LayoutCsvReader(path, layout, options, batch_bytes=batch_bytes)
