"""What an extractor plugin provides — the one module that declares the plugin interface.

An adapter is registered under the entry-point group ``mig.adapters``; the built-in ones
(``mig_adapters``) go through exactly the same group, e.g. in a plugin's pyproject.toml::

    [project.entry-points."mig.adapters"]
    myvendor = "mig_myvendor:MyVendorAdapter"

The entry point names a class (or object) implementing :class:`Adapter`. ``open`` returns a
:class:`SourceReader`; its batches carry the decoded records as String columns plus the
framing metadata the pipeline needs to keep its promise that nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import polars as pl

#: Columns every batch's ``records`` frame carries, one row per input record.
RECORD_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),  # record id: 1-based data-record number within the source file
    "line": pl.Int64(),  # 1-based physical line (or record number for binary sources)
    "offset": pl.Int64(),  # byte offset of the record in the source file
    "raw": pl.Binary(),  # the record's original bytes (including its line end)
}

#: Extra columns of a batch's ``rejects`` frame (records the adapter could not frame).
REJECT_EXTRA_SCHEMA: dict[str, pl.DataType] = {"type": pl.String(), "detail": pl.String()}


@dataclass(frozen=True)
class SourceBatch:
    """One batch of decoded records.

    ``data`` has a ``row`` column and one String column per source column, one row per
    record the adapter could decode. ``records`` has :data:`RECORD_SCHEMA` for the same
    rows (same order). ``rejects`` has :data:`RECORD_SCHEMA` plus ``type`` (a finding type
    code) and ``detail`` for records that could not be framed (ragged, NUL, bad quotes).
    Every input record is in exactly one of ``data`` and ``rejects``.
    """

    data: pl.DataFrame
    records: pl.DataFrame
    rejects: pl.DataFrame

    @property
    def rows_in(self) -> int:
        return self.data.height + self.rejects.height


@runtime_checkable
class SourceReader(Protocol):
    """An opened source file."""

    path: Path
    encoding: str
    columns: list[str]

    def batches(self) -> Iterator[SourceBatch]:
        """Yield the file's records in order, in batches of bounded memory."""
        ...


@runtime_checkable
class Adapter(Protocol):
    """An extractor plugin: reads one legacy format."""

    name: str
    description: str

    def open(self, path: Path, options: Mapping[str, Any], *, batch_bytes: int) -> SourceReader:
        """Open ``path`` with the mapping's ``[source]`` options (a ``[[files]]``'s own
        ``source`` table merged over them).

        Options whose names start with ``_`` are context set by mig, never by a mapping;
        an adapter ignores those it does not use: ``_mapping_dir`` (directory of the
        mapping file: resolve relative paths in options against it), ``_columns`` (the
        source columns the mapping reads; an adapter may decode only these),
        ``_siblings`` (the ``source`` tables of the other ``[[files]]`` that read the same
        input file, e.g. other record types of a mainframe file).

        A reader may expose ``stats`` (a JSON-able dict, complete once its batches are
        read); ``mig extract`` records it in the manifest's inputs entry.

        Raise :class:`mig.errors.InputError` for unreadable input and
        :class:`mig.errors.ConfigError` for bad options.
        """
        ...


def empty_rejects() -> pl.DataFrame:
    """A rejects frame with no rows."""
    return pl.DataFrame(schema={**RECORD_SCHEMA, **REJECT_EXTRA_SCHEMA})
