"""The loader bundle (``mig load RUN --target bundle:DIR``): files to load a run with the
target database's own bulk loader, in the encoding the new system wants.

The bundle::

    DIR/README.md              how to load it with psql, SQL*Loader and bcp; encoding,
                               policy, counts, the record layout of fixed-width files
    DIR/bundle.json            the same facts for programs
    DIR/ddl/postgresql.sql     CREATE TABLE per layout (also oracle.sql, sqlserver.sql)
    DIR/data/<layout>.csv      the accepted rows (.dat for fixed width), target encoding
    DIR/load/postgresql.psql   psql ``\\copy`` with ENCODING (CSV bundles)
    DIR/load/<layout>.ctl      SQL*Loader control file (CHARACTERSET, POSITION for fixed)
    DIR/load/<layout>.fmt      bcp format file (non-XML, code page in the README)
    DIR/load/sqlserver.sql     BULK INSERT statements (sqlcmd, ``-v BUNDLE=…``)
    DIR/gaiji-report.json      per distinct character: what the policy and the encoding did
    DIR/SHA256SUMS             sha256 of every other file (``sha256sum -c SHA256SUMS``)

Encodings (:data:`BUNDLE_ENCODINGS`): ``utf-8``, ``utf-8-sig`` (UTF-8 data files with a
BOM) and ``cp932`` (Windows-31J: JIS X 0208 + NEC/IBM extensions + user-defined area).
Formats: ``csv`` (header row, comma, ``"`` quoting where needed, CRLF, NULL as an empty
field and ``''`` as ``""``) and ``fixed`` (CP932 only: each field padded with spaces to
its byte length — the layout's ``bytes``, else its length, 2 bytes per 全角 character, 数値
one more for the sign and one for the decimal point — records end in CRLF).

The 外字 policy (:mod:`mig.gaiji.policy`) works against the target: for ``cp932`` a
``shrink`` picks 縮退 candidates CP932 holds. After it, every character the encoding still
cannot hold is counted per distinct character and the bundle is **refused** — nothing is
written, the full list goes to ``DIR.gaiji-refused.json``; no character is ever replaced
by ``?`` or dropped. Unresolved Private Use 外字 in the user-defined area U+E000–U+E757
are carried in a CP932 bundle as the user-defined codes F040–F9FC (what the target
system's own 外字 table then means by them is its business) and are listed per character
as ``private-use`` in the report and the README; ``--gaiji-policy fail`` refuses them.

The bundle is written under ``.DIR.partial-PID`` and renamed at the end: a failed or
refused run leaves no directory that looks complete. Same run directory and options →
byte-identical bundle (there is no timestamp in it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any, BinaryIO

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mig.charsets import CP932_SINGLE_BYTE_PATTERN, TEXT_TYPES
from mig.errors import (
    ConfigError,
    ExitCode,
    InputError,
    MigError,
    OutputExistsError,
    UnknownNameError,
)
from mig.fs import PARTIAL_MARK, is_write_failure, json_owner, json_text, output_dir, write_bytes
from mig.gaiji.mj import parse_codepoints
from mig.gaiji.policy import (
    TARGETS,
    ChangeTally,
    GaijiPolicy,
    GaijiPolicyError,
    get_policy,
    scan_encoding,
)
from mig.i18n import text as message
from mig.load.ddl import Column, Dialect, columns_for, ddl_for
from mig.load.filedb import sql_literal
from mig.load.run import check_parquet_schema, layout_tables
from mig.load.targets import Progress, Target, redact_url
from mig.run.manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestFile,
    ManifestItem,
    load_manifest,
    verify_outputs,
)
from mig.run.writer import sha256_file

__all__ = [
    "BUNDLE_ENCODINGS",
    "BUNDLE_FORMATS",
    "BundleRefusedError",
    "BundleResult",
    "BundleTable",
    "bundle_path",
    "write_bundle",
]

BATCH_ROWS = 65_536
"""Rows per Arrow record batch read from a Parquet file (bounds memory)."""

BUNDLE_DIALECTS: tuple[str, ...] = ("postgresql", "oracle", "sqlserver")
"""The DDL files of every bundle."""

BUNDLE_FORMATS: tuple[str, ...] = ("csv", "fixed")


@dataclass(frozen=True)
class _Encoding:
    name: str
    codec: str
    bom: bytes
    policy_target: str
    scan: str
    postgresql: str
    oracle: str
    codepage: str
    label: str


BUNDLE_ENCODINGS: dict[str, _Encoding] = {
    "utf-8": _Encoding("utf-8", "utf-8", b"", "jisx0213", "utf-8", "UTF8", "AL32UTF8", "65001", "UTF-8"),
    "utf-8-sig": _Encoding(
        "utf-8-sig", "utf-8", b"\xef\xbb\xbf", "jisx0213", "utf-8", "UTF8", "AL32UTF8", "65001",
        "UTF-8 with BOM",
    ),
    "cp932": _Encoding("cp932", "cp932", b"", "cp932", "cp932", "SJIS", "JA16SJIS", "932", "CP932 (Windows-31J)"),
}
"""Data-file encodings a bundle can be written in."""

_CRLF = "\r\n"
_PREFIX = "bundle:"


class BundleRefusedError(GaijiPolicyError):
    """Characters the target encoding cannot hold: no bundle was written (exit code 1).

    ``characters`` holds the per-character entries (code points, MJ, count, items — never
    a value); ``report`` the file they were written to.
    """

    def __init__(self, message: str, characters: list[dict[str, Any]], report: Path) -> None:
        super().__init__(message)
        self.characters = characters
        self.report = report

    def to_dict(self) -> dict[str, Any]:
        """``{"error", "report", "characters"}`` for ``--json``."""
        return {"error": str(self), "report": str(self.report), "characters": self.characters}


@dataclass(frozen=True)
class BundleTable:
    """One layout's data file in the bundle."""

    layout: str
    table: str
    data: str
    """Path of the data file inside the bundle."""
    rows_read: int
    rows_written: int
    rows_rejected: int
    """Rows the extract rejected (they stay in the run's ``rejects/``)."""
    record_bytes: int | None = None
    """Bytes per record (fixed width, CRLF included)."""
    seconds: float = 0.0


@dataclass(frozen=True)
class BundleResult:
    """The outcome of :func:`write_bundle`."""

    run_dir: str
    bundle: str
    encoding: str
    format: str
    tables: tuple[BundleTable, ...]
    characters: tuple[dict[str, Any], ...]
    """Per distinct character, as in ``gaiji-report.json``."""
    gaiji_policy: GaijiPolicy = field(default_factory=GaijiPolicy)
    seconds: float = 0.0

    @property
    def exit_code(self) -> ExitCode:
        """Always ``CLEAN``: what a bundle cannot hold refuses it (:class:`BundleRefusedError`)."""
        return ExitCode.CLEAN

    def summary_lines(self) -> list[str]:
        """The bundle summary for a terminal: per table read / written / rejected / seconds,
        then each character the 外字 policy or the encoding touched (code points, no values).

        >>> BundleResult("run", "b", "cp932", "csv", (), ()).summary_lines()[-1]
        'bundle b (cp932, csv); check with: cd b && sha256sum -c SHA256SUMS'
        """
        from mig.load.run import summary_header

        lines = [summary_header("load.col-written")]
        lines += [
            f"{t.table:<14} {t.rows_read:>10} {t.rows_written:>10} {t.rows_rejected:>10} "
            f"{t.seconds:>8.2f}"
            for t in self.tables
        ]
        lines += [
            f"外字 {g['code']} {g['mj'] or ''} → {g['to_code'] or '-'} {g['action']} ×{g['count']}"
            for g in self.characters
        ]
        lines.append(message("load.bundle-done", bundle=self.bundle, encoding=self.encoding, format=self.format))
        return lines

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``mig load --target bundle:DIR --json``).

        >>> BundleResult("run", "b", "cp932", "csv", (), ()).to_dict()["totals"]
        {'rows_read': 0, 'rows_written': 0, 'rows_rejected': 0}
        """
        return {
            "run_dir": self.run_dir,
            "bundle": self.bundle,
            "encoding": self.encoding,
            "format": self.format,
            "gaiji_policy": self.gaiji_policy.to_dict(),
            "seconds": round(self.seconds, 3),
            "files": [
                {
                    "layout": t.layout, "table": t.table, "data": t.data,
                    "rows_read": t.rows_read, "rows_written": t.rows_written,
                    "rows_rejected": t.rows_rejected, "record_bytes": t.record_bytes,
                    "seconds": round(t.seconds, 3),
                }
                for t in self.tables
            ],
            "gaiji": list(self.characters),
            "totals": {
                "rows_read": sum(t.rows_read for t in self.tables),
                "rows_written": sum(t.rows_written for t in self.tables),
                "rows_rejected": sum(t.rows_rejected for t in self.tables),
            },
        }


def bundle_path(url: str) -> Path | None:
    """The directory of a ``bundle:DIR`` target, None for any other target.

    >>> bundle_path("bundle:out/handover")
    PosixPath('out/handover')
    >>> bundle_path("sqlite:///x.db") is None
    True
    """
    if not url.lower().startswith(_PREFIX):
        return None
    rest = url[len(_PREFIX) :]
    if rest.startswith("//") or not rest:
        raise ConfigError(
            f"bad bundle target {redact_url(url)!r}; expected bundle:DIR (a directory path)"
        )
    return Path(rest)


# -- fields -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    column: Column
    width: int
    """Bytes of the field in a fixed-width record (an upper bound for CSV)."""
    start: int = 0
    """1-based first byte in a fixed-width record."""

    @property
    def end(self) -> int:
        return self.start + self.width - 1


def _field_width(column: Column, item: ManifestItem, encoding: _Encoding) -> int:
    if column.data_type == "数値":
        return column.length + (1 if column.scale else 0) + 1
    if column.data_type not in TEXT_TYPES:
        return max(column.length, 1)
    if encoding.codec == "cp932":
        declared = item.bytes
        if declared is not None and declared > 0:
            return declared
        return column.length * (1 if column.data_type == "半角文字" else 2)
    return column.length * 8  # UTF-8: base + IVS, 4 bytes each (an upper bound)


def _fields(entry: ManifestFile, encoding: _Encoding) -> tuple[_Field, ...]:
    columns = columns_for(entry, "postgresql")
    items = {i.name: i for i in entry.items}
    fields: list[_Field] = []
    start = 1
    for column in columns:
        width = _field_width(column, items[column.name], encoding)
        fields.append(_Field(column, width, start))
        start += width
    return tuple(fields)


# -- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    entry: ManifestFile
    layout: str
    table: str
    fields: tuple[_Field, ...]
    parquet: Path
    data: str
    rows_out: int
    rows_rejected: int

    @property
    def names(self) -> list[str]:
        return [f.column.name for f in self.fields]


def _plans(run_dir: Path, manifest: Manifest, encoding: _Encoding, fmt: str) -> list[_Plan]:
    suffix = "dat" if fmt == "fixed" else "csv"
    return [
        _Plan(
            entry=entry, layout=entry.layout, table=table, fields=_fields(entry, encoding),
            parquet=parquet, data=f"data/{entry.layout}.{suffix}",
            rows_out=entry.rows_out, rows_rejected=entry.rows_rejected,
        )
        for entry, table, parquet in layout_tables(run_dir, manifest)
    ]


# -- writing ------------------------------------------------------------------------------


def _as_text(batch: pa.RecordBatch) -> pl.DataFrame:
    """Every column as text: decimals as their exact digits (``"1234.50"``), never floats."""
    columns = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = pc.cast(column, pa.string())
        columns.append(pl.Series(name, column).cast(pl.String))
    return pl.DataFrame(columns)


def _cp932_bytes(expr: pl.Expr) -> pl.Expr:
    """Bytes of each value in CP932 (every character already known to be held)."""
    return expr.str.len_chars() * 2 - expr.str.count_matches(CP932_SINGLE_BYTE_PATTERN)


def _check_fixed(frame: pl.DataFrame, plan: _Plan) -> None:
    """Refuse what a fixed-width field cannot carry, naming item and count (never values)."""
    checks = []
    for f in plan.fields:
        col = pl.col(f.column.name)
        checks += [
            (_cp932_bytes(col) > f.width).sum().alias(f"{f.column.name}\0longer than its {f.width} bytes"),
            col.str.contains("[\r\n]").sum().alias(f"{f.column.name}\0holding a line break"),
            ((col == "") | col.str.ends_with(" ")).sum().alias(
                f"{f.column.name}\0empty or ending in a space (indistinguishable from padding)"
            ),
        ]
    counts = frame.select(checks).row(0, named=True)
    problems = [(k.split("\0"), n) for k, n in counts.items() if n]
    if problems:
        (name, why), n = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise MigError(
            f"table {plan.table}, item {name}: {n} value(s) {why} in a fixed-width record"
            f"{more}; write a CSV bundle instead; no bundle was written"
        )


def _fixed_records(frame: pl.DataFrame, plan: _Plan) -> str:
    spaces = " " * max(f.width for f in plan.fields)
    parts = []
    for f in plan.fields:
        col = pl.col(f.column.name).fill_null("")
        parts += [col, pl.lit(spaces).str.slice(0, pl.lit(f.width) - _cp932_bytes(col))]
    text = frame.select(pl.concat_str([*parts, pl.lit(_CRLF)]).str.join("").alias("r"))
    return str(text.item())


def _encode(text: str, encoding: _Encoding, plan: _Plan) -> bytes:
    try:
        return text.encode(encoding.codec)
    except UnicodeEncodeError:  # the scan found nothing, so this is a bug: never write '?'
        raise MigError(f"table {plan.table}: text not encodable in {encoding.label}") from None


def _write_table(
    plan: _Plan,
    handle: BinaryIO,
    encoding: _Encoding,
    fmt: str,
    policy: GaijiPolicy,
    changes: ChangeTally,
    found: ChangeTally,
    batch_rows: int,
    progress: Progress | None,
) -> tuple[int, bool]:
    """Write one data file; returns rows written and whether characters were refused
    (then writing stops, but scanning goes on so the report is complete)."""
    names = plan.names
    text_columns = [f.column.name for f in plan.fields if f.column.data_type in TEXT_TYPES]
    refused = False
    rows = 0
    handle.write(encoding.bom)
    try:
        parquet = pq.ParquetFile(plan.parquet)
    except (pa.ArrowException, OSError):
        raise InputError(str(plan.parquet), "not a readable Parquet file") from None
    with parquet:
        first = True
        try:
            batches = parquet.iter_batches(batch_size=batch_rows, columns=names)
            for batch in batches:
                frame = _as_text(batch.select(names))
                try:
                    frame, changed = policy.apply(frame, text_columns)
                except GaijiPolicyError as exc:
                    raise GaijiPolicyError(f"table {plan.table}: {exc}") from None
                changes.add(changed)
                scanned = scan_encoding(frame, names, encoding.scan)
                found.add(scanned)
                if (scanned.get_column("action") == "not-encodable").any():
                    refused = True
                if not refused:
                    if fmt == "fixed":
                        _check_fixed(frame, plan)
                        text = _fixed_records(frame, plan) if frame.height else ""
                    else:
                        text = frame.write_csv(
                            include_header=first, quote_style="necessary",
                            line_terminator=_CRLF, null_value="",
                        )
                    handle.write(_encode(text, encoding, plan))
                first = False
                rows += batch.num_rows
                if progress is not None:
                    progress(batch.num_rows)
        except (pa.ArrowException, OSError) as exc:
            if is_write_failure(exc):  # the bundle's disk, not the run's Parquet
                raise
            raise InputError(str(plan.parquet), "not a readable Parquet file") from None
    if first and fmt == "csv":  # an empty layout still gets its header row
        header = pl.DataFrame(schema=dict.fromkeys(names, pl.String)).write_csv(line_terminator=_CRLF)
        handle.write(_encode(header, encoding, plan))
    return rows, refused


# -- the report ---------------------------------------------------------------------------


def _target_bytes(code: str | None, encoding: _Encoding) -> str | None:
    if not code:
        return None
    try:
        return parse_codepoints(code).encode(encoding.codec).hex().upper()
    except (UnicodeEncodeError, MigError):
        return None


def _characters(
    changes: ChangeTally, found: ChangeTally, encoding: _Encoding
) -> list[dict[str, Any]]:
    """Policy changes and encoding findings, one entry per character and action.

    An ``unshrinkable`` character the encoding scan also found is listed once, with the
    scan's more precise action (``not-encodable`` or ``private-use``).
    """
    scanned = found.entries()
    codes = {e["code"] for e in scanned}
    entries = [e for e in changes.entries() if not (e["action"] == "unshrinkable" and e["code"] in codes)]
    result = []
    for entry in sorted([*entries, *scanned], key=lambda e: (e["code"], e["action"])):
        became = entry["to_code"]
        result.append({**entry, "target_bytes": _target_bytes(became, encoding)})
    return result


def _refusal(
    out: Path, characters: list[dict[str, Any]], encoding: _Encoding, policy: GaijiPolicy
) -> BundleRefusedError:
    bad = [c for c in characters if c["action"] == "not-encodable"]
    report = out.parent / f"{out.name}.gaiji-refused.json"
    data = {
        "bundle": out.name, "encoding": encoding.name, "gaiji_policy": policy.to_dict(),
        "refused": True, "not_encodable": len(bad), "characters": characters,
    }
    write_bytes(report, _json(data))
    bad.sort(key=lambda c: (-c["count"], c["code"]))
    shown = ", ".join(f"{c['code']} ×{c['count']}" for c in bad[:5])
    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    return BundleRefusedError(
        f"{len(bad)} distinct character(s) cannot be written in {encoding.label} under gaiji "
        f"policy {policy.name} ({shown}{more}); per-character list in {report}; "
        "no bundle was written",
        characters,
        report,
    )


# -- the loader files ---------------------------------------------------------------------


def _json(data: Any) -> bytes:
    return json_text(data).encode("utf-8")


def _psql(plans: Sequence[_Plan], encoding: _Encoding) -> str:
    quote = Dialect.quote
    lines = [
        "-- Load this bundle with psql, from the bundle directory, after ddl/postgresql.sql:",
        "--   psql -v ON_ERROR_STOP=1 -1 -f ddl/postgresql.sql -f load/postgresql.psql",
        "-- Generated by mig; one \\copy per table. NULL is an unquoted empty field.",
        "\\encoding UTF8",
        "\\set ON_ERROR_STOP on",
    ]
    for plan in plans:
        columns = ", ".join(quote(n) for n in plan.names)
        lines.append(
            f"\\copy {quote(plan.table)} ({columns}) FROM {sql_literal(plan.data)} WITH "
            f"(FORMAT csv, HEADER true, NULL '', ENCODING '{encoding.postgresql}')"
        )
    return "\n".join(lines) + "\n"


def _ctl(plan: _Plan, encoding: _Encoding, fmt: str) -> str:
    quote = Dialect.quote
    lines = [
        f"-- SQL*Loader control file for table {plan.table} ({plan.data}, {encoding.label}).",
        f"-- sqlldr control=load/{plan.layout}.ctl (run from the bundle directory)",
    ]
    if fmt == "csv":
        lines.append("OPTIONS (SKIP=1)")
    lines += [
        "LOAD DATA",
        f"CHARACTERSET {encoding.oracle}",
        "LENGTH SEMANTICS BYTE",
        f"INFILE {sql_literal(plan.data)} \"STR X'0D0A'\"",
        "INSERT",
        f"INTO TABLE {quote(plan.table)}",
    ]
    if fmt == "csv":
        lines += ["FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"'", "TRAILING NULLCOLS"]
    specs = []
    for f in plan.fields:
        where = f"POSITION({f.start}:{f.end}) " if fmt == "fixed" else ""
        if f.column.sql_type.upper() == "DATE":
            kind = f'DATE "YYYYMMDD" NULLIF {quote(f.column.name)} = BLANKS'
        elif f.column.data_type == "数値":
            kind = "DECIMAL EXTERNAL"
        else:
            kind = f"CHAR({f.width})"
        specs.append(f"  {quote(f.column.name)} {where}{kind}")
    lines += ["(", ",\n".join(specs), ")"]
    return "\n".join(lines) + "\n"


def _fmt(plan: _Plan, fmt: str) -> str:
    """A non-XML bcp format file: one SQLCHAR host field per column, in order."""
    lines = ["14.0", str(len(plan.fields))]
    last = len(plan.fields)
    for n, f in enumerate(plan.fields, start=1):
        if fmt == "fixed":
            terminator = "\\r\\n" if n == last else ""
        else:
            terminator = "\\r\\n" if n == last else ","
        # bcp maps by column number; the name is a label that may not hold blanks or quotes
        name = f.column.name if not any(c.isspace() or c == '"' for c in f.column.name) else f"c{n}"
        lines.append(f'{n:<4} SQLCHAR 0 {f.width:<5} "{terminator}" {n:<4} {name} ""')
    return "\n".join(lines) + "\n"


def _sqlserver(plans: Sequence[_Plan], encoding: _Encoding, fmt: str) -> str:
    quote = Dialect.quote
    lines = [
        "-- BULK INSERT of this bundle (SQL Server 2017+), after ddl/sqlserver.sql:",
        "--   sqlcmd -I -f 65001 -v BUNDLE=\"C:\\path\\to\\bundle\" -i load\\sqlserver.sql",
        "-- (-I: QUOTED_IDENTIFIER ON, needed for the \"quoted\" table names; also for ddl/sqlserver.sql)",
        "-- The files must be readable by the server at $(BUNDLE).",
    ]
    for plan in plans:
        options = [f"CODEPAGE = '{encoding.codepage}'", "TABLOCK", "KEEPNULLS"]
        if fmt == "csv":
            options = ["FORMAT = 'CSV'", "FIELDQUOTE = '\"'", "FIRSTROW = 2", *options]
        format_file = "$(BUNDLE)\\load\\" + f"{plan.layout}.fmt"
        options.append(f"FORMATFILE = {sql_literal(format_file)}")
        data = "$(BUNDLE)\\" + plan.data.replace("/", "\\")
        lines.append(
            f"BULK INSERT {quote(plan.table)} FROM {sql_literal(data)} WITH ({', '.join(options)});"
        )
    return "\n".join(lines) + "\n"


def _readme(
    result: BundleResult, plans: Sequence[_Plan], encoding: _Encoding, fmt: str, run_id: str
) -> str:
    policy = result.gaiji_policy
    lines = [
        f"# Loader bundle: {Path(result.run_dir).name}",
        "",
        "Written by `mig load --target bundle:DIR` from a run directory whose `manifest.json`",
        f"has sha256 `{run_id}`. Every file is listed in `SHA256SUMS`",
        "(check with `sha256sum -c SHA256SUMS`).",
        "",
        f"- data encoding: **{encoding.label}**"
        + (" (the data files start with a byte order mark)" if encoding.bom else ""),
        f"- data format: **{'fixed width, space-padded, CRLF' if fmt == 'fixed' else 'CSV'}**"
        + ("" if fmt == "fixed" else ": header row, comma, `\"` quoting where needed, CRLF, "
           "NULL is an empty field, an empty string is `\"\"`"),
        f"- 外字 policy: **{policy.name}** against {TARGETS[policy.target]}"
        + (f" (shrink order: {', '.join(policy.shrink_order)})" if policy.name == "shrink" else ""),
        "- README, DDL, psql and sqlcmd scripts are UTF-8; SQL*Loader control and bcp format",
        f"  files are in the data encoding ({encoding.label}).",
        "",
        "## Tables",
        "",
        "| layout | table | data file | rows | rejected by the extract |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    lines += [
        f"| {t.layout} | {t.table} | `{t.data}` | {t.rows_written} | {t.rows_rejected} |"
        for t in result.tables
    ]
    lines += [
        "",
        "The rows the extract rejected are not in this bundle: they stay in the run",
        "directory's `rejects/` with their reasons.",
        "",
        "## Loading",
        "",
        "Create the tables first: `ddl/postgresql.sql`, `ddl/oracle.sql` or `ddl/sqlserver.sql`.",
        "日付 that are never 不詳 are DATE columns, loaded from `YYYYMMDD`; 日付 that may be 不詳",
        "(`00` day or month) stay text, so the 不詳 is kept.",
        "",
        "### PostgreSQL (psql)",
        "",
    ]
    if fmt == "csv":
        lines += [
            "```",
            "psql -v ON_ERROR_STOP=1 -1 -f ddl/postgresql.sql -f load/postgresql.psql",
            "```",
            "",
            f"`\\copy … WITH (FORMAT csv, HEADER true, ENCODING '{encoding.postgresql}')`, run",
            "from the bundle directory, in one transaction (`-1`).",
        ]
    else:
        lines += ["psql's `\\copy` has no fixed-width format: write a CSV bundle for PostgreSQL."]
    lines += [
        "",
        "### Oracle (SQL*Loader)",
        "",
        "```",
        *[f"sqlldr userid=… control=load/{p.layout}.ctl log={p.layout}.log" for p in plans],
        "```",
        "",
        f"`CHARACTERSET {encoding.oracle}`, byte length semantics"
        + (", fields by `POSITION(start:end)`." if fmt == "fixed" else ", `SKIP=1` for the header."),
        "",
        "### SQL Server (BULK INSERT or bcp)",
        "",
        "```",
        'sqlcmd -I -f 65001 -i ddl\\sqlserver.sql',
        'sqlcmd -I -f 65001 -v BUNDLE="C:\\path\\to\\bundle" -i load\\sqlserver.sql',
        *[
            f"bcp {p.table} in {p.data} -f load/{p.layout}.fmt -C {encoding.codepage} -k"
            + (" -F 2" if fmt == "csv" else "") + " -S … -d … -T"
            for p in plans
        ],
        "```",
        "",
        "`-I` (QUOTED_IDENTIFIER ON) is needed: table and column names are `\"quoted\"` identifiers.",
        f"Code page {encoding.codepage}. `BULK INSERT … FORMAT = 'CSV'` understands quoted fields "
        "and `YYYYMMDD` dates; the `bcp` utility does not parse `\"` quoting and wants",
        "`yyyy-mm-dd` for DATE columns — use `BULK INSERT` (or a fixed-width bundle) where",
        "that matters.",
    ]
    if fmt == "fixed":
        lines += ["", "## Record layout (bytes, 1-based; each record ends in CRLF)", ""]
        for plan, table in zip(plans, result.tables, strict=True):
            lines += [
                f"### {plan.table} (`{plan.data}`, {table.record_bytes} bytes per record)",
                "",
                "| item | type | from | to | bytes |",
                "| --- | --- | ---: | ---: | ---: |",
                *[
                    f"| {f.column.name} | {f.column.data_type} | {f.start} | {f.end} | {f.width} |"
                    for f in plan.fields
                ],
                "",
            ]
        lines += [
            "Values are left-aligned and padded with spaces; a field of spaces is NULL.",
        ]
    lines += ["", "## 外字 (per distinct character; values are never shown)", ""]
    if result.characters:
        lines += [
            "| code points | MJ | action | became | bytes | count | items |",
            "| --- | --- | --- | --- | --- | ---: | --- |",
        ]
        for c in result.characters:
            items = ", ".join(f"{k} {v}" for k, v in c["items"].items())
            lines.append(
                f"| {c['code']} | {c['mj'] or ''} | {c['action']} | {c['to_code'] or ''} | "
                f"{c['target_bytes'] or ''} | {c['count']} | {items} |"
            )
        lines += [
            "",
            "`shrunk`: 縮退 through the MJ縮退マップ (`via` in `gaiji-report.json` names the table);",
            "`stripped`: variation selector dropped; `private-use`: an unresolved 外字 carried as",
            "it is (in CP932 as a user-defined code F040–F9FC): the new system's 外字 table must",
            "say what it means.",
        ]
    else:
        lines.append("None: no character was changed, and none is a Private Use character.")
    return "\n".join(lines) + "\n"


# -- the bundle ---------------------------------------------------------------------------


#: A bundle is recognised by its ``bundle.json`` (``"kind": "mig-loader-bundle"``).
BUNDLE_OWNER = json_owner("loader bundle", "bundle.json", "kind", "mig-loader-bundle")


def _is_bundle(path: Path) -> bool:
    return path.is_dir() and BUNDLE_OWNER.owns(path)


def write_bundle(
    run_dir: Path,
    out: Path,
    *,
    encoding: str = "utf-8",
    format: str = "csv",  # noqa: A002  (the option's name)
    gaiji_policy: str = "keep",
    shrink_order: str | Sequence[str] | None = None,
    replace: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> BundleResult:
    """Write the loader bundle of ``run_dir`` to the directory ``out`` (see the module).

    ``encoding`` is one of :data:`BUNDLE_ENCODINGS`, ``format`` ``csv`` or ``fixed``
    (CP932 only). The 外字 policy works against the target (for ``cp932``, CP932's
    repertoire); characters the encoding still cannot hold refuse the bundle with
    :class:`BundleRefusedError` (exit code 1) and a per-character report beside ``out``.
    An existing bundle at ``out`` is replaced only with ``replace``; anything else there
    is refused.

    Example (``run`` is a directory written by ``mig extract``)::

        result = write_bundle(Path("run"), Path("handover"), encoding="cp932",
                              gaiji_policy="shrink")
        print(result.to_dict()["totals"])
    """
    started = perf_counter()
    run_dir, out = Path(run_dir), Path(out)
    if encoding not in BUNDLE_ENCODINGS:
        raise UnknownNameError("bundle encoding", encoding, BUNDLE_ENCODINGS)
    if format not in BUNDLE_FORMATS:
        raise UnknownNameError("bundle format", format, BUNDLE_FORMATS)
    spec = BUNDLE_ENCODINGS[encoding]
    if format == "fixed" and spec.codec != "cp932":
        raise ConfigError("fixed-width bundles are written in cp932 (--encoding cp932)")
    policy = get_policy(gaiji_policy, shrink_order, target=spec.policy_target)
    if out.exists() or out.is_symlink():
        if not replace:
            raise OutputExistsError(f"{out}: exists; use --replace to replace an earlier bundle")
        if not out.is_dir() or not _is_bundle(out):
            raise OutputExistsError(f"{out}: is not a mig loader bundle; refusing to replace it")
    if not out.parent.is_dir():
        raise ConfigError(f"{out}: directory {out.parent} does not exist")
    manifest = load_manifest(run_dir)
    plans = _plans(run_dir, manifest, spec, format)
    verify_outputs(run_dir, manifest)
    for plan in plans:
        check_parquet_schema(plan.parquet, [f.column for f in plan.fields])
    run_id = sha256_file(run_dir / MANIFEST_NAME)

    with output_dir(
        out, BUNDLE_OWNER, replace=replace, option="--replace", protect=[run_dir]
    ) as partial:
        for sub in ("data", "ddl", "load"):
            (partial / sub).mkdir(parents=True)
        changes, found = ChangeTally(), ChangeTally()
        tables: list[BundleTable] = []
        refused = False
        for plan in plans:
            table_started = perf_counter()
            with (partial / plan.data).open("wb") as handle:
                rows, table_refused = _write_table(
                    plan, handle, spec, format, policy, changes, found, batch_rows, progress
                )
            refused = refused or table_refused
            if rows != plan.rows_out:
                raise MigError(
                    f"table {plan.table}: {rows} rows in {plan.parquet.name} but the manifest "
                    f"says rows_out {plan.rows_out}; no bundle was written"
                )
            record = sum(f.width for f in plan.fields) + len(_CRLF) if format == "fixed" else None
            tables.append(
                BundleTable(
                    layout=plan.layout, table=plan.table, data=plan.data, rows_read=rows,
                    rows_written=0 if refused else rows, rows_rejected=plan.rows_rejected,
                    record_bytes=record, seconds=perf_counter() - table_started,
                )
            )
        characters = _characters(changes, found, spec)
        if refused:
            raise _refusal(out, characters, spec, policy)
        if format == "fixed":
            for plan, table in zip(plans, tables, strict=True):
                size = (partial / plan.data).stat().st_size
                if table.record_bytes is None or size != table.record_bytes * table.rows_written:
                    raise MigError(f"table {plan.table}: fixed-width file has {size} bytes, "
                                   "not records × record length; no bundle was written")
        result = BundleResult(
            run_dir=str(run_dir), bundle=str(out), encoding=encoding, format=format,
            tables=tuple(tables), characters=tuple(characters), gaiji_policy=policy,
        )
        _write_texts(partial, result, plans, spec, format, run_id, manifest)
        _write_sums(partial)
    with contextlib.suppress(OSError):
        (out.parent / f"{out.name}.gaiji-refused.json").unlink(missing_ok=True)
    return BundleResult(
        run_dir=result.run_dir, bundle=result.bundle, encoding=encoding, format=format,
        tables=result.tables, characters=result.characters, gaiji_policy=policy,
        seconds=perf_counter() - started,
    )


def _write_texts(
    root: Path,
    result: BundleResult,
    plans: Sequence[_Plan],
    spec: _Encoding,
    fmt: str,
    run_id: str,
    manifest: Manifest,
) -> None:
    def write(rel: str, text: str, codec: str) -> None:
        (root / rel).write_bytes(text.encode(codec))

    for dialect in BUNDLE_DIALECTS:
        ddl = ";\n\n".join(ddl_for(plan.entry, dialect) for plan in plans) + ";\n"
        write(f"ddl/{dialect}.sql", ddl, "utf-8")
    if fmt == "csv":
        write("load/postgresql.psql", _psql(plans, spec), "utf-8")
    write("load/sqlserver.sql", _sqlserver(plans, spec, fmt), "utf-8")
    for plan in plans:
        try:
            write(f"load/{plan.layout}.ctl", _ctl(plan, spec, fmt), spec.codec)
            write(f"load/{plan.layout}.fmt", _fmt(plan, fmt), spec.codec)
        except UnicodeEncodeError:
            raise ConfigError(
                f"layout {plan.layout}: an item name cannot be written in {spec.label}"
            ) from None
    report = {
        "encoding": spec.name,
        "gaiji_policy": result.gaiji_policy.to_dict(),
        "characters": list(result.characters),
        "totals": {
            action: sum(c["count"] for c in result.characters if c["action"] == action)
            for action in sorted({c["action"] for c in result.characters})
        },
    }
    (root / "gaiji-report.json").write_bytes(_json(report))
    facts = {
        "kind": "mig-loader-bundle",
        "version": 1,
        "run": {"manifest_sha256": run_id, "created_at": manifest.created_at or None},
        "encoding": spec.name,
        "format": fmt,
        "gaiji_policy": result.gaiji_policy.to_dict(),
        "tables": [
            {
                "layout": t.layout, "table": t.table, "data": t.data, "rows": t.rows_written,
                "rows_rejected": t.rows_rejected, "record_bytes": t.record_bytes,
                "columns": [
                    {"name": f.column.name, "type": f.column.data_type, "bytes": f.width,
                     **({"from": f.start, "to": f.end} if fmt == "fixed" else {})}
                    for f in plan.fields
                ],
            }
            for plan, t in zip(plans, result.tables, strict=True)
        ],
    }
    (root / "bundle.json").write_bytes(_json(facts))
    (root / "README.md").write_bytes(_readme(result, plans, spec, fmt, run_id).encode("utf-8"))


def _write_sums(root: Path) -> None:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p != root / PARTIAL_MARK)
    lines = [f"{sha256_file(p)}  {p.relative_to(root).as_posix()}\n" for p in files]
    (root / "SHA256SUMS").write_bytes("".join(lines).encode("utf-8"))


def bundle_target(url: str) -> Target:
    """``open_target("bundle:DIR")``: a bundle is files, not a database to connect to."""
    raise ConfigError(
        f"{redact_url(url)!r} is a loader bundle, not a database: write it with "
        "mig.load.bundle.write_bundle or `mig load RUN --target bundle:DIR`"
    )

