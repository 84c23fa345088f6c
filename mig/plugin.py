"""What an extractor plugin provides — the one module that declares the plugin interface.

An adapter is registered under the entry-point group ``mig.adapters``; the built-in ones
(``mig_adapters``) go through exactly the same group, e.g. in a plugin's pyproject.toml::

    [project.entry-points."mig.adapters"]
    myvendor = "mig_myvendor:MyVendorAdapter"

The entry point names a class (or object) implementing :class:`Adapter`. ``open`` returns a
:class:`SourceReader`; its batches carry the decoded records as String columns plus the
framing metadata the pipeline needs to keep its promise that nothing is lost.

An adapter declares its ``[source]`` options as an :class:`OptionsSchema` (option name →
shape, from :mod:`mig.schema`: ``Str``, ``Int``, ``Bool``, ``Text``, ``ListOf``, ``MapOf``,
…) and checks the options it is given with it before using them, so that a mistake such
as ``header = "no"`` is one line naming the option and the expected type::

    OPTIONS = OptionsSchema("myvendor", {"encoding": Str(), "header": Bool()})

    def open(self, path, options, *, batch_bytes):
        OPTIONS.check(options)   # ConfigError: myvendor adapter option header: expected true or false, …
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import polars as pl

from mig.errors import ConfigError
from mig.schema import (
    AnyValue,
    Bool,
    Int,
    ListOf,
    MapOf,
    OneOf,
    Shape,
    Str,
    Table,
    Text,
    check,
    key_text,
)

__all__ = [
    "RECORD_SCHEMA", "REJECT_EXTRA_SCHEMA", "Adapter", "AnyValue", "Bool", "Int", "ListOf", "MapOf",
    "OneOf", "OptionsSchema", "Shape", "SourceBatch", "SourceReader", "Str", "Table", "Text", "empty_rejects",
]

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
class OptionsSchema:
    """The ``[source]`` options an adapter understands: option name → :class:`~mig.schema.Shape`.

    :meth:`check` refuses unknown options (names starting with ``_`` are context set by
    mig and pass) and any value of the wrong type, naming the option and the expected
    type, never the value. Defaults and cross-option rules stay the adapter's.

    >>> OptionsSchema("csv", {"header": Bool()}).check({"header": "no"})
    Traceback (most recent call last):
    ...
    mig.errors.ConfigError: csv adapter option header: expected true or false, not a string
    """

    adapter: str
    options: Mapping[str, Shape]

    def check(self, options: Mapping[str, Any]) -> None:
        unknown = sorted(key_text(k) for k in options if not str(k).startswith("_") and k not in self.options)
        if unknown:
            raise ConfigError(
                f"{self.adapter} adapter: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(self.options))}"
            )
        given = {k: v for k, v in options.items() if k in self.options and v is not None}
        check(given, Table(self.options), f"{self.adapter} adapter option")


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
