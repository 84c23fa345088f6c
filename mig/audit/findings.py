"""The audit's own finding types: completeness, integrity, safety and 外字.

Validation findings (``required-missing``, ``date-invalid``, …) keep the types of
:mod:`mig.validation.findings`; the types here are about the *package*: files that are missing or
unexpected, files that differ from what the manifest or control file records, entries
refused as unsafe, 外字 left. Each type has a category (which decides the verdict of a
業務), a default severity (``error`` blocks acceptance, ``warning`` does not) and a
message template naming paths, layouts and items — never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from mig.errors import UnknownNameError

Category = Literal["completeness", "integrity", "conformance", "safety", "gaiji", "notice"]
CATEGORIES: tuple[str, ...] = get_args(Category)


@dataclass(frozen=True)
class AuditFindingType:
    """A kind of audit finding: its code, category, default severity and message template."""

    code: str
    category: Category
    severity: Literal["error", "warning"]
    template: str


_TYPES = [
    # completeness
    AuditFindingType("file-missing", "completeness", "error",
                     "{layout}: the package has no file of this layout"),
    AuditFindingType("listed-file-missing", "completeness", "error",
                     "{path}: listed in {detail} but not in the package"),
    AuditFindingType("file-unexpected", "notice", "warning",
                     "{path}: not a layout file of an audited 業務 ({detail}); not audited"),
    AuditFindingType("map-unmatched", "notice", "warning",
                     "--map {detail}: matches no file of the package"),
    # integrity (manifest.json / control.csv)
    AuditFindingType("tamper-sha256", "integrity", "error",
                     "{path}: sha256 differs from {detail} — changed after it was written"),
    AuditFindingType("tamper-bytes", "integrity", "error",
                     "{path}: size differs from {detail} — changed after it was written"),
    AuditFindingType("tamper-rows", "integrity", "error",
                     "{path}: record count differs from {detail}"),
    AuditFindingType("not-conserved", "integrity", "error",
                     "{layout}: manifest says rows_in ≠ rows_out + rows_rejected ({detail})"),
    AuditFindingType("control-invalid", "integrity", "error",
                     "{path}: cannot be used as a control file — {detail}"),
    AuditFindingType("unlisted", "integrity", "warning",
                     "{path}: not listed in {detail}"),
    AuditFindingType("run-rejects", "notice", "warning",
                     "{layout}: the run that made this package rejected {detail} record(s); "
                     "they are in rejects/, not in the data"),
    # conformance
    AuditFindingType("file-unreadable", "conformance", "error",
                     "{path}: cannot be read — {detail}"),
    # safety (hostile packages)
    AuditFindingType("entry-unsafe", "safety", "error",
                     "{path}: refused — {detail}"),
    AuditFindingType("zip-bomb", "safety", "error",
                     "{path}: refused as a possible zip bomb — {detail}"),
    # 外字 left
    AuditFindingType("gaiji-unresolved", "gaiji", "warning",
                     "{item}: Private Use (外字) characters left in {count} value(s) ({detail})"),
    AuditFindingType("gaiji-outside-repertoire", "gaiji", "warning",
                     "{item}: characters outside {repertoire} in {count} value(s) ({detail})"),
]

AUDIT_FINDING_TYPES: dict[str, AuditFindingType] = {t.code: t for t in _TYPES}

#: Categories of the validation finding types (mig.validation.findings) as the audit sees them.
VALIDATION_CATEGORIES: dict[str, Category] = {
    "column-missing": "completeness",
    "column-extra": "notice",
    "fk-not-checked": "notice",
    "gaiji-unresolved": "gaiji",
}


def audit_type(code: str) -> AuditFindingType:
    """The audit finding type ``code``; an unknown code lists the known ones."""
    try:
        return AUDIT_FINDING_TYPES[code]
    except KeyError:
        raise UnknownNameError("audit finding type", code, AUDIT_FINDING_TYPES) from None


def validation_category(code: str) -> Category:
    """The category of a validation finding type: conformance unless listed otherwise.

    >>> validation_category("date-invalid"), validation_category("column-missing")
    ('conformance', 'completeness')
    """
    return VALIDATION_CATEGORIES.get(code, "conformance")


def render(code: str, **fields: object) -> str:
    """An audit finding's message from its template (names and counts only).

    >>> render("file-missing", layout="juki-ido")
    'juki-ido: the package has no file of this layout'
    """
    values = {"path": "", "layout": "", "item": "", "detail": "", "count": 0, "repertoire": ""}
    values.update({k: v for k, v in fields.items() if v is not None})
    return audit_type(code).template.format(**values)
