"""The audit's own finding types: completeness, integrity, safety and 外字.

Validation findings (``required-missing``, ``date-invalid``, …) keep the types of
:mod:`mig.validation.findings`; the types here are about the *package*: files that are missing or
unexpected or not recognised, files that differ from what the manifest or control file
records, entries refused as unsafe, 外字 left. Each type has a category (which decides the
verdict of a 業務) and a default severity (``error`` blocks acceptance, ``warning`` does
not); its message and its 依頼事項 (what to ask the vendor) are in the catalogue
``mig/i18n/catalogue/audit.toml`` (Japanese and English), naming paths, layouts, items and
counts — never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from mig.errors import UnknownNameError
from mig.i18n import Lang, has, text

Category = Literal["completeness", "integrity", "conformance", "safety", "gaiji", "notice"]
CATEGORIES: tuple[str, ...] = get_args(Category)


@dataclass(frozen=True)
class AuditFindingType:
    """A kind of audit finding: its code, category and default severity. Its message is
    ``audit.<code>`` in the catalogue (:mod:`mig.i18n`), its 依頼事項 ``audit.ask-<code>``."""

    code: str
    category: Category
    severity: Literal["error", "warning"]


_TYPES = [
    # completeness
    AuditFindingType("file-missing", "completeness", "error"),
    AuditFindingType("listed-file-missing", "completeness", "error"),
    AuditFindingType("file-unexpected", "notice", "warning"),
    AuditFindingType("map-unmatched", "notice", "warning"),
    # recognising files and names (a tie leaves the layout missing, which blocks)
    AuditFindingType("match-ambiguous", "notice", "warning"),
    AuditFindingType("match-uncertain", "notice", "warning"),
    AuditFindingType("entry-name-ambiguous", "notice", "warning"),
    # integrity (manifest.json, control files): a count or size difference is usually a
    # mistake; only a hash differing from a source the municipality holds suggests tampering
    AuditFindingType("count-mismatch", "integrity", "error"),
    AuditFindingType("hash-mismatch", "integrity", "error"),
    AuditFindingType("tamper-suspected", "integrity", "error"),
    AuditFindingType("not-conserved", "integrity", "error"),
    AuditFindingType("run-partial", "completeness", "error"),
    AuditFindingType("control-invalid", "integrity", "error"),
    AuditFindingType("unlisted", "integrity", "warning"),
    AuditFindingType("run-rejects", "notice", "warning"),
    # conformance
    AuditFindingType("file-unreadable", "conformance", "error"),
    # safety (hostile packages)
    AuditFindingType("entry-unsafe", "safety", "error"),
    AuditFindingType("zip-bomb", "safety", "error"),
    # 外字 left
    AuditFindingType("gaiji-unresolved", "gaiji", "warning"),
    AuditFindingType("gaiji-outside-repertoire", "gaiji", "warning"),
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


_FIELDS: dict[str, object] = {"path": "", "layout": "", "item": "", "detail": "", "count": 0, "repertoire": "", "type": ""}


def render(code: str, lang: Lang | None = None, **fields: object) -> str:
    """An audit finding's message from the catalogue (names and counts only).

    >>> render("file-missing", "en", layout="juki-ido")
    'juki-ido: the package has no file of this layout'
    >>> render("file-missing", "ja", layout="juki-ido")
    'juki-ido: このレイアウトのファイルがパッケージにありません'
    """
    audit_type(code)
    values = {**_FIELDS, **{k: v for k, v in fields.items() if v is not None}}
    return text(f"audit.{code}", lang=lang, **values)


def ask(code: str, lang: Lang | None = None, **fields: object) -> str:
    """依頼事項 / what to ask the vendor about a finding of type ``code`` (counts only).

    >>> ask("required-missing", "ja", item="住所", count=12)
    '住所の必須項目が空欄の 12 件について、値の補完または欠落理由の提示を依頼'
    """
    values = {**_FIELDS, "type": code, **{k: v for k, v in fields.items() if v is not None}}
    if has(f"audit.ask-{code}"):
        return text(f"audit.ask-{code}", lang=lang, **values)
    if code in AUDIT_FINDING_TYPES or not values["item"]:
        return text("audit.ask-package", lang=lang, **values)
    return text("audit.ask-default", lang=lang, **values)
