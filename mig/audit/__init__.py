"""``mig audit``: is a vendor's contract-end handover package complete, conformant and intact?

A package is a directory or a zip of layout files (中間標準レイアウト, 基本データリスト or a
layout pack's): a ``mig`` run directory, files named ``<layout-id>.csv`` / ``.parquet``, or
files as a vendor names them, recognised by their header row or field count, with a
control file (件数表) found by its content. :func:`audit_package` checks completeness per 業務, validates every
file in full (streamed), counts records against the manifest or control totals,
hashes every file, counts the 外字 left, and refuses what is unsafe (zip bombs, path
traversal, symlinks) while auditing the rest. The result is an :class:`AuditReport`
(JSON) that :func:`render_audit_html` turns into the page an auditor signs on.
"""

from __future__ import annotations

from mig.audit.core import AuditOptions, audit_package
from mig.audit.html import render_audit_html
from mig.audit.package import Limits
from mig.audit.report import AuditFinding, AuditReport

__all__ = ["AuditFinding", "AuditOptions", "AuditReport", "Limits", "audit_package", "render_audit_html"]
