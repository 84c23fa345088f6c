"""Reports are data: built while a run streams, written as JSON, round-tripping losslessly.

A report names file, row and item — never a value unless the user asked (``--show-values``),
and even then マイナンバー (個人番号) stays masked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from mig.errors import ExitCode
from mig.fs import json_text
from mig.layout import Layout
from mig.validation.findings import message, severity_table

SAMPLE_ROWS = 10

DETAILS_PER_ITEM = 50
"""Distinct details one finding type of one item keeps as groups of its own in a report; the
others (a code map missing hundreds of codes, every 世帯 rejected by a mapping mistake) are
counted together under :data:`OTHER_DETAILS`, so a report stays small and is built by a loop
over at most this many groups per item, whatever the data. The first details by row are kept,
so the grouping does not depend on the batch size."""

OTHER_DETAILS = "…"
"""The detail of the group that counts the details beyond :data:`DETAILS_PER_ITEM`."""
MASK = "●●●●●●●●●●●●"


@dataclass
class FindingSummary:
    """All findings of one type on one item of one file."""

    type: str
    severity: str
    item: str
    count: int
    rows: list[int]
    message: str
    values: list[str] | None = None
    detail: str | None = None


def file_note(
    type_code: str, item: str, detail: str | None = None, severities: pl.DataFrame | None = None
) -> FindingSummary:
    """A finding about a whole file (no row): a missing or extra column, an unchecked reference.

    Its severity comes from ``severities`` (a mapping's table), else the type's default.

    >>> file_note("column-missing", "氏名").severity
    'error'
    """
    table = severity_table() if severities is None else severities
    severity = str(table.filter(pl.col("type") == type_code).get_column("severity")[0])
    return FindingSummary(type_code, severity, item, 0, [], message(type_code, item, detail))


@dataclass
class SourceSummary:
    """One input file of a layout: its rows are ``first_row`` … ``last_row``."""

    path: str
    encoding: str
    first_row: int
    last_row: int


@dataclass
class FileReport:
    """One standard-layout file of a run (or one file checked by ``mig validate``)."""

    layout: str
    layout_name: str
    sources: list[SourceSummary] = field(default_factory=list)
    rows_in: int = 0
    rows_out: int = 0
    rows_rejected: int = 0
    unmapped_columns: list[str] = field(default_factory=list)
    gaiji: list[dict[str, Any]] = field(default_factory=list)
    findings: list[FindingSummary] = field(default_factory=list)
    #: characters the 〜 family normalisation replaced (mig.codecs.tilde): "U+FF5E→U+301C" → count
    normalised: dict[str, int] = field(default_factory=dict)

    @property
    def conserved(self) -> bool:
        return self.rows_in == self.rows_out + self.rows_rejected


@dataclass
class Report:
    """The report of an ``extract`` or ``validate`` run."""

    kind: str
    tool_version: str
    created_at: str
    show_values: bool
    files: list[FileReport] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "rows_in": sum(f.rows_in for f in self.files),
            "rows_out": sum(f.rows_out for f in self.files),
            "rows_rejected": sum(f.rows_rejected for f in self.files),
        }

    @property
    def has_findings(self) -> bool:
        return any(f.findings for f in self.files)

    @property
    def exit_code(self) -> ExitCode:
        """The exit code of ``mig extract`` and ``mig validate`` for this report: 1 when a
        record was rejected or a finding has severity ``error``; 0 when the findings are
        warnings only (the README's "Exit codes").

        >>> report = Report("validate", "0", "", False, [FileReport("x", "x")])
        >>> int(report.exit_code)
        0
        >>> report.files[0].findings.append(FindingSummary("column-extra", "warning", "x", 0, [], ""))
        >>> int(report.exit_code)
        0
        >>> report.files[0].rows_rejected = 1
        >>> int(report.exit_code)
        1
        """
        errors = any(f.rows_rejected or any(x.severity == "error" for x in f.findings) for f in self.files)
        return ExitCode.FINDINGS if errors else ExitCode.CLEAN

    def rejection_reasons(self) -> dict[str, int]:
        """Findings of severity ``error`` per type over all files (the reasons records were
        rejected; a record with two reasons counts under each), sorted by type.

        >>> r = Report("extract", "0", "", False, [FileReport("x", "x", findings=[
        ...     FindingSummary("checkdigit", "error", "k", 2, [], ""),
        ...     FindingSummary("column-extra", "warning", "c", 0, [], "")])])
        >>> r.rejection_reasons()
        {'checkdigit': 2}
        """
        counts: dict[str, int] = {}
        for file in self.files:
            for finding in file.findings:
                if finding.severity == "error":
                    counts[finding.type] = counts.get(finding.type, 0) + finding.count
        return dict(sorted(counts.items()))

    def findings_summary(self) -> dict[str, Any]:
        """The findings in brief, for ``--json``: counts per severity, per type and
        severity, and the unresolved 外字 (item, code point, count) — never a value."""
        by_type: dict[str, dict[str, int]] = {}
        for file in self.files:
            for finding in file.findings:
                entry = by_type.setdefault(finding.type, {"error": 0, "warning": 0})
                entry[finding.severity] = entry.get(finding.severity, 0) + finding.count
        return {
            "total": self.to_dict()["findings_total"],
            "by_type": dict(sorted(by_type.items())),
            "rejection_reasons": self.rejection_reasons(),
            "gaiji_unresolved": [
                {"layout": file.layout, "item": g["item"], "code": g.get("code"), "count": g["count"]}
                for file in self.files for g in file.gaiji
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["totals"] = self.totals
        counts = {"error": 0, "warning": 0}
        for file in self.files:
            for finding in file.findings:
                counts[finding.severity] = counts.get(finding.severity, 0) + finding.count
        data["findings_total"] = counts
        return data

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, two-space indent)."""
        return json_text(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Rebuild a report from :meth:`to_dict` output.

        >>> r = Report("validate", "0.1.0", "t", False, [FileReport("x", "X")])
        >>> Report.from_dict(r.to_dict()) == r
        True
        """
        files = []
        for f in data["files"]:
            files.append(
                FileReport(
                    layout=f["layout"],
                    layout_name=f["layout_name"],
                    sources=[SourceSummary(**s) for s in f["sources"]],
                    rows_in=f["rows_in"],
                    rows_out=f["rows_out"],
                    rows_rejected=f["rows_rejected"],
                    unmapped_columns=list(f["unmapped_columns"]),
                    gaiji=list(f["gaiji"]),
                    findings=[FindingSummary(**x) for x in f["findings"]],
                    normalised=dict(f.get("normalised", {})),
                )
            )
        return cls(
            kind=data["kind"],
            tool_version=data["tool_version"],
            created_at=data["created_at"],
            show_values=data["show_values"],
            files=files,
        )


class FindingAccumulator:
    """Adds up a file's findings batch by batch (a loop over finding *groups*, not rows)."""

    def __init__(self, show_values: bool) -> None:
        self.show_values = show_values
        self._groups: dict[tuple[str, str, str | None, str], FindingSummary] = {}

    def add(self, findings: pl.DataFrame) -> None:
        """Add a batch's findings (FINDING_SCHEMA + ``severity`` [+ ``value``])."""
        if findings.height == 0:
            return
        keys = ["type", "severity", "item", "detail"]
        findings = self._cap_details(findings)
        aggregations = [
            pl.len().alias("count"),
            pl.col("row").sort().head(SAMPLE_ROWS).alias("rows"),
        ]
        if self.show_values and "value" in findings.columns:
            aggregations.append(pl.col("value").sort_by("row").head(SAMPLE_ROWS).alias("values"))
        grouped = findings.group_by(keys).agg(aggregations)
        for group in grouped.iter_rows(named=True):
            key = (group["type"], group["item"], group["detail"], group["severity"])
            summary = self._groups.get(key)
            if summary is None:
                summary = FindingSummary(
                    type=group["type"],
                    severity=group["severity"],
                    item=group["item"],
                    count=0,
                    rows=[],
                    message=message(group["type"], group["item"], group["detail"]),
                    values=[] if "values" in group else None,
                    detail=group["detail"],
                )
                self._groups[key] = summary
            summary.count += group["count"]
            room = SAMPLE_ROWS - len(summary.rows)
            if room > 0:
                summary.rows.extend(int(r) for r in group["rows"][:room])
                if summary.values is not None:
                    summary.values.extend(str(v) for v in group["values"][:room])

    def _cap_details(self, findings: pl.DataFrame) -> pl.DataFrame:
        """``findings`` with the detail of every (type, severity, item) beyond its first
        :data:`DETAILS_PER_ITEM` distinct details (by first row, over all batches so far)
        replaced by :data:`OTHER_DETAILS` — one expression, no loop over rows."""
        group = ["type", "severity", "item"]
        known = pl.DataFrame(
            [(t, s, i, d) for (t, i, d, s) in self._groups],
            schema={"type": pl.String, "severity": pl.String, "item": pl.String, "detail": pl.String},
            orient="row",
        )
        firsts = (
            findings.group_by([*group, "detail"]).agg(pl.col("row").min().alias("__first"))
            .join(known.with_columns(pl.lit(True).alias("__known")), on=[*group, "detail"], how="left", nulls_equal=True)
            .join(known.group_by(group).len("__had"), on=group, how="left", nulls_equal=True)
            .with_columns(pl.col("__known").fill_null(False), pl.col("__had").fill_null(0))
            .with_columns(
                (pl.col("__first").rank("ordinal").over([*group, "__known"]) * (~pl.col("__known")).cast(pl.Int64))
                .alias("__new_rank")
            )
            .with_columns(
                (pl.col("__known") | (pl.col("__had") + pl.col("__new_rank") <= DETAILS_PER_ITEM)
                 | (pl.col("detail") == OTHER_DETAILS).fill_null(False)).alias("__keep")
            )
            .select([*group, "detail", "__keep"])
        )
        if firsts.get_column("__keep").all():
            return findings
        return (
            findings.join(firsts, on=[*group, "detail"], how="left", nulls_equal=True)
            .with_columns(pl.when(pl.col("__keep")).then(pl.col("detail")).otherwise(pl.lit(OTHER_DETAILS)).alias("detail"))
            .drop("__keep")
        )

    def summaries(self) -> list[FindingSummary]:
        severity_order = {"error": 0, "warning": 1}
        return sorted(
            self._groups.values(),
            key=lambda s: (severity_order.get(s.severity, 2), s.type, s.item, s.message),
        )


def mask_values(findings: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """``findings`` with the ``value`` of every 個人番号 item replaced by :data:`MASK`: the
    one place a shown value is masked.

    >>> from mig.layout import Item, Layout
    >>> layout = Layout("t", "b", "n", "s", "1", "", "", (Item(1, "番号", "数字", 12, check="個人番号"),))
    >>> f = pl.DataFrame({"row": [1], "item": ["番号"], "type": ["checkdigit"], "detail": [None], "value": ["123456789012"]})
    >>> mask_values(f, layout)["value"].to_list()
    ['●●●●●●●●●●●●']
    """
    masked = [item.name for item in layout.items if item.check == "個人番号"]
    if not masked or "value" not in findings.columns:
        return findings
    return findings.with_columns(
        pl.when(pl.col("item").is_in(masked) & pl.col("value").is_not_null())
        .then(pl.lit(MASK))
        .otherwise(pl.col("value"))
        .alias("value")
    )


def attach_values(findings: pl.DataFrame, frame: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """Attach each finding's value (``--show-values`` only); 個人番号 items stay masked.

    A value already there (the mapping's source value, a framing reject's record text) is
    kept; the others take the item's value in ``frame``.
    """
    long = frame.select(["row"] + layout.item_names).unpivot(
        index="row", variable_name="item", value_name="__value"
    )
    joined = findings.join(long, on=["row", "item"], how="left", maintain_order="left")
    if "value" in findings.columns:
        joined = joined.with_columns(pl.coalesce("value", "__value").alias("value")).drop("__value")
    else:
        joined = joined.rename({"__value": "value"})
    return mask_values(joined, layout)


#: Any run of twelve digits (half or full width) in a record shown whole: it may be a
#: 個人番号, and in a record that could not be split into fields nothing tells which is.
_TWELVE_DIGITS = r"(^|[^0-9０-９])[0-9０-９]{12}([^0-9０-９]|$)"


def record_text(raw: pl.Series, encoding: str) -> pl.Series:
    """The records ``raw`` (bytes) as text for ``--show-values``: decoded with ``encoding``
    (undecodable bytes as U+FFFD), the line end dropped, every run of twelve digits masked.

    All records are decoded in one call, joined by a separator byte that none of them
    holds; an encoding that is not ASCII-compatible (or no Python codec), records holding
    every candidate separator, or bytes that do not decode apart give the bytes in hex.

    >>> record_text(pl.Series([b"1,\\x8e\\x52,123456789012,x\\r\\n"]), "cp932").to_list()
    ['1,山,●●●●●●●●●●●●,x']
    """
    hex_form = raw.bin.encode("hex")
    if raw.len() == 0:
        return hex_form
    try:
        ascii_safe = "\x1e".encode(encoding) == b"\x1e"
    except (LookupError, TypeError):
        ascii_safe = False
    joined = b"".join(raw.to_list()) if ascii_safe else b""
    separator = next((s for s in (b"\x1e", b"\x1f", b"\x1d", b"\x1c") if s not in joined), None)
    if not ascii_safe or separator is None:
        return hex_form
    parts = separator.join(raw.to_list()).decode(encoding, errors="replace").split(separator.decode("ascii"))
    if len(parts) != raw.len():  # a broken multi-byte sequence took a separator with it
        return hex_form
    texts = pl.Series(parts, dtype=pl.String)
    masked = texts.str.strip_chars_end("\r\n")
    for _ in range(2):  # twice: two numbers one separator apart share that separator
        masked = masked.str.replace_all(_TWELVE_DIGITS, f"${{1}}{MASK}${{2}}")
    return masked.alias(raw.name)
