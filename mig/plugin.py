"""What an extractor plugin provides — the one module a plugin imports (API version 1).

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

    class MyVendorAdapter:
        name = "myvendor"
        description = "…"
        version = "1.2.0"          # optional; default: the distribution's version
        options = OPTIONS          # optional; mig checks options against it before open
        finding_types = (FindingType("myvendor-bad-trailer", "trailer record is {detail}", "error",
                                     template_ja="トレーラレコードが {detail}"),)

        def open(self, path, options, *, batch_bytes): ...

mig checks the options an adapter declares before calling ``open`` (unknown ones and
wrong types are a one-line :class:`ConfigError`); an adapter without ``options`` checks
its own. Every finding type an adapter puts in its rejects must be mig's own framing type
(``ragged-row``, ``unbalanced-quote``, ``embedded-nul``) or one it declares in
``finding_types``; mig merges the declared ones into its findings registry.

**Compatibility.** :data:`API_VERSION` is 1: ``open(path, options, *, batch_bytes)``
returning a reader whose ``batches()`` yield :class:`SourceBatch`. Every declaration above
is optional with a default, and new optional declarations or capabilities keep the version;
a change that would break an adapter written against version 1 raises it. An adapter may
set ``api_version = 1`` to say which it was written against.

**The contract mig enforces** on every batch (:mod:`mig.extract.contract`; a violation
stops the run with :class:`AdapterContractError`, exit 2): ``row`` ids unique and
increasing across batches; ``data`` and ``records`` hold the same rows in the same order;
every reject has a ``type``, a ``detail`` (null when the type says it all) and non-empty
``raw`` bytes; offsets increasing
and (when :attr:`SourceReader.raw_is_file_bytes`) within the file; declared finding types
only; and, for a reader that is :class:`ReportsCoverage`, nothing skipped.

**Optional capabilities** of a reader, checked with ``isinstance``: :class:`Previewable`
(``mig preview`` shows its own per-field view), :class:`HasStats` (recorded in the
manifest), :class:`ReportsCoverage` (lets mig prove no record was skipped). Of an adapter:
:class:`RangeReadable` (a large file is cut into byte ranges that partitions of a
``mig extract --workers N`` read in parallel; without it a file is one partition).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, get_args, runtime_checkable

import polars as pl

from mig.errors import AdapterContractError, ConfigError, InputError, UnknownNameError
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
    "API_VERSION", "RECORD_SCHEMA", "REJECT_EXTRA_SCHEMA", "SEVERITIES", "Adapter", "AdapterContractError",
    "AnyValue", "Bool", "ConfigError", "Coverage", "FindingType", "HasStats", "InputError", "Int", "ListOf",
    "MapOf", "OneOf", "Option", "OptionsSchema", "Previewable", "RANGE_OPTION", "ByteRange", "RangeReadable", "ReportsCoverage", "Severity", "Shape",
    "SourceBatch", "SourceReader", "Str", "Table", "Text", "UnknownNameError", "empty_rejects",
]

#: The version of this interface. Adapters written against it keep working while it stays 1.
API_VERSION = 1

#: How serious a finding is: ``error`` sends the record to the rejects, ``warning`` keeps it.
Severity = Literal["error", "warning"]
SEVERITIES: tuple[str, ...] = get_args(Severity)

_CODE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def _template_fields(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        return {"{"}


@dataclass(frozen=True)
class FindingType:
    """A kind of finding: its code, what it means, and how serious it is by default.

    ``template`` (English) and ``template_ja`` (Japanese; empty: the English one) may use
    ``{item}`` and ``{detail}``, never a value. mig's own types are in
    :mod:`mig.validation.findings`; an adapter declares its own in ``finding_types``.

    >>> FindingType("Bad Code", "x", "error")
    Traceback (most recent call last):
    ...
    mig.errors.ConfigError: finding type 'Bad Code': a code is lower-case words joined by '-'
    """

    code: str
    template: str
    severity: Severity
    template_ja: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            raise ConfigError(f"finding type {self.code!r}: a code is lower-case words joined by '-'")
        if self.severity not in SEVERITIES:
            raise ConfigError(f"finding type {self.code}: severity must be one of {', '.join(SEVERITIES)}")
        for template in (self.template, self.template_ja):
            if not isinstance(template, str) or not _template_fields(template) <= {"item", "detail"}:
                raise ConfigError(f"finding type {self.code}: a template may use only {{item}} and {{detail}}")

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
class Option:
    """One documented option: its shape, its default (shown, not applied: the adapter's
    own code applies it) and a one-line help (``mig adapters show``)."""

    shape: Shape
    default: Any = None
    help: str = ""


@dataclass(frozen=True)
class OptionsSchema:
    """The ``[source]`` options an adapter understands: option name → :class:`~mig.schema.Shape`
    (or an :class:`Option` giving the shape with its default and help).

    :meth:`check` refuses unknown options (names starting with ``_`` are context set by
    mig and pass) and any value of the wrong type, naming the option and the expected
    type, never the value. Defaults and cross-option rules stay the adapter's.

    >>> OptionsSchema("csv", {"header": Bool()}).check({"header": "no"})
    Traceback (most recent call last):
    ...
    mig.errors.ConfigError: csv adapter option header: expected true or false, not a string
    """

    adapter: str
    options: Mapping[str, Shape | Option]

    def shape(self, name: str) -> Shape:
        entry = self.options[name]
        return entry.shape if isinstance(entry, Option) else entry

    def describe(self) -> list[dict[str, Any]]:
        """``name``, ``type`` (the expected-type phrase), ``default`` and ``help`` per option, by name."""
        rows = []
        for name in sorted(self.options):
            entry = self.options[name]
            option = entry if isinstance(entry, Option) else Option(entry)
            rows.append({"name": name, "type": option.shape.expected, "default": option.default, "help": option.help})
        return rows

    def check(self, options: Mapping[str, Any]) -> None:
        unknown = sorted(key_text(k) for k in options if not str(k).startswith("_") and k not in self.options)
        if unknown:
            raise ConfigError(
                f"{self.adapter} adapter: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(self.options))}"
            )
        given = {k: v for k, v in options.items() if k in self.options and v is not None}
        check(given, Table({name: self.shape(name) for name in self.options}), f"{self.adapter} adapter option")


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
    """An opened source file.

    Optional attribute ``raw_is_file_bytes`` (default ``True``): the records' ``raw`` and
    ``offset`` are the file's own bytes and positions. A reader that re-encodes (UTF-16
    text read as UTF-8, Parquet rows written out as CSV) sets it ``False``; mig then does
    not check the records' offsets against the file's size or coverage.
    """

    path: Path
    encoding: str
    columns: list[str]

    def batches(self) -> Iterator[SourceBatch]:
        """Yield the file's records in order, in batches of bounded memory."""
        ...


@runtime_checkable
class Previewable(Protocol):
    """A reader that shows its own preview (``mig preview``): per record ``record``,
    ``offset``, ``length``, ``type``, ``reject`` and ``fields`` (see :mod:`mig.extract.preview`)."""

    def preview(self, limit: int) -> list[dict[str, Any]]: ...


@runtime_checkable
class HasStats(Protocol):
    """A reader that reports what it saw: a JSON-able dict, complete once its batches are
    read; ``mig extract`` records it in the manifest's inputs entry."""

    @property
    def stats(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Coverage:
    """What a reader knows about the whole file once its batches are read.

    ``records``: how many records this reader was due to return (data + rejects); mig
    checks it equals what came. ``other_bytes``: the bytes of the file in no record (a
    header line, a BOM, a trailer, separators between records, records left to another
    reader); mig checks ``raw`` bytes of records + rejects + ``other_bytes`` == the file's
    size. ``None``: not reported.
    """

    records: int | None = None
    other_bytes: int | None = None


@runtime_checkable
class ReportsCoverage(Protocol):
    """A reader that lets mig prove no record was skipped (see :class:`Coverage`)."""

    def coverage(self) -> Coverage: ...


#: The context option that tells ``open`` to read one :class:`ByteRange` of the file
#: (a dict with ``start``, ``end`` and ``line``).
RANGE_OPTION = "_range"


@dataclass(frozen=True)
class ByteRange:
    """A part of a file that a reader can read alone: the records starting in ``[start, end)``.

    ``line``: the lines (for a binary file: records) before ``start``, so that the reader's
    line numbers are the file's. ``options``: context options (names starting with ``_``)
    the planner decided once for the whole file — the encoding, the header's columns — and
    that ``open`` gets with this range.
    """

    start: int
    end: int
    line: int
    options: Mapping[str, Any] = field(default_factory=dict)

    def open_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` as ``open`` gets them for this range."""
        return {**options, **self.options, RANGE_OPTION: {"start": self.start, "end": self.end, "line": self.line}}


@runtime_checkable
class RangeReadable(Protocol):
    """An adapter whose files can be cut into byte ranges read in parallel (optional).

    :meth:`ranges` cuts a file at record boundaries, known for certain (fixed-length
    records, record descriptors, line ends outside any quoted field), into consecutive
    ranges of about ``size`` bytes or more that together hold every record; an empty list
    means the file is read whole (small, or no boundary is certain). ``open`` given
    :meth:`ByteRange.open_options` then reads only that range: row ids from 1, offsets and
    line numbers of the whole file, a :class:`Coverage` whose ``other_bytes`` counts every
    byte outside the range, and :class:`HasStats` numbers that add up over the ranges.
    Reading the ranges one after the other gives the records of reading the file whole
    (checked by :mod:`mig.testing`).
    """

    def ranges(self, path: Path, options: Mapping[str, Any], *, size: int) -> list[ByteRange]: ...


@runtime_checkable
class Adapter(Protocol):
    """An extractor plugin: reads one legacy format.

    Optional declarations (defaults when absent): ``version`` (the distribution's
    version), ``api_version`` (:data:`API_VERSION`), ``options`` (an
    :class:`OptionsSchema`; without it the adapter checks its own options) and
    ``finding_types`` (the :class:`FindingType` s its rejects may carry besides mig's
    framing types).
    """

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

        A reader may have the optional capabilities :class:`HasStats`,
        :class:`Previewable` and :class:`ReportsCoverage`.

        Raise :class:`mig.errors.InputError` for unreadable input and
        :class:`mig.errors.ConfigError` for bad options.
        """
        ...


def empty_rejects() -> pl.DataFrame:
    """A rejects frame with no rows."""
    return pl.DataFrame(schema={**RECORD_SCHEMA, **REJECT_EXTRA_SCHEMA})
