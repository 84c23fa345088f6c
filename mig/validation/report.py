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

    def summaries(self) -> list[FindingSummary]:
        severity_order = {"error": 0, "warning": 1}
        return sorted(
            self._groups.values(),
            key=lambda s: (severity_order.get(s.severity, 2), s.type, s.item, s.message),
        )


def attach_values(findings: pl.DataFrame, frame: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """Attach each finding's value (``--show-values`` only); 個人番号 items stay masked."""
    masked = [item.name for item in layout.items if item.check == "個人番号"]
    long = frame.select(["row"] + layout.item_names).unpivot(
        index="row", variable_name="item", value_name="value"
    )
    long = long.with_columns(
        pl.when(pl.col("item").is_in(masked)).then(pl.lit(MASK)).otherwise(pl.col("value")).alias("value")
    )
    return findings.join(long, on=["row", "item"], how="left")
