"""The audit report as data: dataclasses with a lossless JSON round trip.

Counts only — never a value. Rates (準拠率) are derived from integer counts and written
into the JSON for convenience; :meth:`AuditReport.from_dict` ignores them and rebuilds
them from the counts, so ``from_dict(to_dict(r)) == r``. The JSON is deterministic
(sorted keys) except ``created_at``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from mig.audit.findings import validation_category
from mig.fs import json_text
from mig.validation.report import FindingSummary

VERDICTS = ("complete", "incomplete", "non-conformant")


def rate(conforming: int, checked: int) -> float | None:
    """``conforming / checked`` rounded to 6 places, ``None`` when nothing was checked.

    >>> rate(1, 3), rate(0, 0)
    (0.333333, None)
    """
    return round(conforming / checked, 6) if checked else None


@dataclass
class AuditFinding:
    """One package-level or file-level finding of the audit (see :mod:`mig.audit.findings`)."""

    type: str
    severity: str
    category: str
    message: str
    business: str = ""
    layout: str = ""
    path: str = ""
    item: str = ""
    detail: str = ""
    count: int = 0
    rows: list[int] = field(default_factory=list)


@dataclass
class ItemAudit:
    """One item (or column) of a file.

    ``status``: ``present`` (a standard item with its column), ``missing`` (no column),
    ``extension`` (a declared extension item with its column), ``extension-missing``,
    ``extra`` (a column neither in the layout nor declared).

    ``checked``: values the rules apply to (non-empty values, plus empty values of a
    required item); ``conforming``: checked values with no error finding on that item.
    """

    name: str
    status: str
    type: str = ""
    required: bool = False
    checked: int = 0
    conforming: int = 0
    pua_values: int = 0
    pua_chars: int = 0
    pua_distinct: int = 0
    outside_values: int = 0
    outside_chars: int = 0
    outside_distinct: int = 0

    @property
    def conformance(self) -> float | None:
        return rate(self.conforming, self.checked)


@dataclass
class ControlTotal:
    """What a control source (``manifest.json``, ``control.csv``) records for a file."""

    source: str
    rows: int | None = None
    bytes: int | None = None
    sha256: str | None = None
    matches: bool = True


@dataclass
class FileAudit:
    """One layout file of the package: counts, integrity, items, findings.

    ``rows``: records read (data records + records the reader could not frame);
    ``rows_conforming``: records with no error finding at all. ``read_error`` is set when
    reading stopped early (the counts then cover what was read). ``match_method``: how the
    file was matched to its layout (``map``, ``name``, ``header``, ``fields``) with
    ``match_confidence`` (0–1); ``has_header``: its first line is a header row;
    ``name_encoding``: how its zip entry name was read (see :mod:`mig.audit.package`).
    """

    path: str
    layout: str
    layout_name: str
    business: str
    format: str
    encoding: str = ""
    bytes: int = 0
    sha256: str = ""
    rows: int = 0
    rows_conforming: int = 0
    read_error: str = ""
    columns_withheld: int = 0
    match_method: str = "name"
    match_confidence: float = 1.0
    has_header: bool = True
    name_encoding: str = "filesystem"
    controls: list[ControlTotal] = field(default_factory=list)
    items: list[ItemAudit] = field(default_factory=list)
    findings: list[FindingSummary] = field(default_factory=list)

    @property
    def conformance(self) -> float | None:
        return rate(self.rows_conforming, self.rows)


@dataclass
class InventoryEntry:
    """Every file and refused entry of the package with its role and digest."""

    path: str
    role: str
    bytes: int = 0
    sha256: str = ""
    layout: str = ""
    check: str = ""
    name_encoding: str = "filesystem"


@dataclass
class LayoutStatus:
    """A layout of an audited 業務: present (with its files), missing or refused."""

    layout: str
    name: str
    status: str
    files: list[str] = field(default_factory=list)


@dataclass
class BusinessAudit:
    """The verdict of one 業務: complete, incomplete or non-conformant."""

    business: str
    verdict: str
    layouts: list[LayoutStatus] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    rows: int = 0
    rows_conforming: int = 0
    blocking: list[str] = field(default_factory=list)

    @property
    def conformance(self) -> float | None:
        return rate(self.rows_conforming, self.rows)


@dataclass
class AuditReport:
    """The report of ``mig audit``."""

    tool_version: str
    created_at: str
    package: str
    package_kind: str
    package_sha256: str
    passed: bool
    options: dict[str, Any] = field(default_factory=dict)
    businesses: list[BusinessAudit] = field(default_factory=list)
    files: list[FileAudit] = field(default_factory=list)
    findings: list[AuditFinding] = field(default_factory=list)
    inventory: list[InventoryEntry] = field(default_factory=list)
    kind: str = "audit"

    @property
    def errors(self) -> list[AuditFinding]:
        """Every finding that blocks acceptance (audit findings and validation errors)."""
        return [f for f in self.all_findings() if f.severity == "error"]

    def all_findings(self) -> list[AuditFinding]:
        """Audit findings plus each file's validation findings, as :class:`AuditFinding`."""
        found = list(self.findings)
        for file in self.files:
            for summary in file.findings:
                found.append(
                    AuditFinding(
                        type=summary.type, severity=summary.severity,
                        category=validation_category(summary.type), message=summary.message,
                        business=file.business, layout=file.layout, path=file.path,
                        item=summary.item, count=summary.count, rows=list(summary.rows),
                    )
                )
        return found

    def gaiji_totals(self) -> dict[str, int]:
        """Values and items with 外字 left, over every file."""
        items = [i for f in self.files for i in f.items]
        return {
            "pua_values": sum(i.pua_values for i in items),
            "pua_items": sum(1 for i in items if i.pua_values),
            "outside_values": sum(i.outside_values for i in items),
            "outside_items": sum(1 for i in items if i.outside_values),
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the fields plus derived rates and totals."""
        data = asdict(self)
        data["verdict"] = "pass" if self.passed else "fail"
        for business, raw in zip(self.businesses, data["businesses"], strict=True):
            raw["conformance"] = business.conformance
        for file, raw in zip(self.files, data["files"], strict=True):
            raw["conformance"] = file.conformance
            for item, raw_item in zip(file.items, raw["items"], strict=True):
                raw_item["conformance"] = item.conformance
        counts = {"error": 0, "warning": 0}
        for finding in self.all_findings():
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
        data["findings_total"] = counts
        data["gaiji_total"] = self.gaiji_totals()
        return data

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, two-space indent), apart from ``created_at``."""
        return json_text(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditReport:
        """Rebuild a report from :meth:`to_dict` output (derived keys are ignored).

        >>> r = AuditReport("0.1.0", "t", "pkg", "directory", "", True)
        >>> AuditReport.from_dict(r.to_dict()) == r
        True
        """
        return cls(
            tool_version=data["tool_version"],
            created_at=data["created_at"],
            package=data["package"],
            package_kind=data["package_kind"],
            package_sha256=data["package_sha256"],
            passed=data["passed"],
            options=dict(data["options"]),
            businesses=[
                _build(BusinessAudit, b, layouts=[_build(LayoutStatus, x) for x in b["layouts"]])
                for b in data["businesses"]
            ],
            files=[
                _build(
                    FileAudit, f,
                    controls=[_build(ControlTotal, c) for c in f["controls"]],
                    items=[_build(ItemAudit, i) for i in f["items"]],
                    findings=[FindingSummary(**s) for s in f["findings"]],
                )
                for f in data["files"]
            ],
            findings=[_build(AuditFinding, f) for f in data["findings"]],
            inventory=[_build(InventoryEntry, e) for e in data["inventory"]],
            kind=data.get("kind", "audit"),
        )


def _build(cls: Any, raw: dict[str, Any], **nested: Any) -> Any:
    """An instance of dataclass ``cls`` from ``raw``, keeping only its fields."""
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in raw.items() if k in names and k not in nested}
    return cls(**values, **nested)
