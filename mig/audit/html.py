"""The audit report as one self-contained HTML page, for the people who sign.

Built from the report dict alone (:meth:`AuditReport.to_dict`) with the template
``mig/html/templates/audit.html.j2``: inline CSS, inline SVG
charts, no script, no external asset, every text escaped. Same dict in, same string out.
Summary first — the overall verdict, 外字 left, one verdict per 業務, the blocking
findings — then per 業務 its layouts and files (integrity, 準拠率 per item as a bar
chart, items, findings), then every file of the package with its sha256, then the
definitions the verdicts use. Values never appear: the dict carries none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mig.audit.findings import ask
from mig.charsets import REPERTOIRES
from mig.html.format import as_int as _int
from mig.html.format import as_list as _list
from mig.html.format import is_int as _is_int
from mig.html.format import text as _text
from mig.html.render import render
from mig.i18n import Lang, current_lang, has, text

FIRST_ROWS = 10
"""How many row ids of a finding the page lists."""


def render_audit_html(report: Mapping[str, Any], lang: Lang | None = None) -> str:
    """Render an audit report dict as a standalone HTML page (UTF-8), its labels and 依頼事項
    from the message catalogue in ``lang`` (default: the current language, see :mod:`mig.i18n`).

    >>> page = render_audit_html({"passed": True, "businesses": [], "files": []}, "ja")
    >>> page.startswith("<!DOCTYPE html>") and "受入可" in page
    True
    >>> "PASS" in render_audit_html({"passed": True, "businesses": [], "files": []}, "en")
    True
    """
    chosen: Lang = lang or current_lang()

    def t(key: str, **params: object) -> str:
        return text(f"audit.{key}", lang=chosen, **params)

    def has_key(key: str) -> bool:
        return has(f"audit.{key}")

    files = _maps(report.get("files"))
    findings = _maps(report.get("findings"))
    options = report.get("options")
    if not isinstance(options, Mapping):
        options = {}
    warnings: dict[str, int] = {}
    for finding in _all_findings(files, findings, severity="warning"):
        kind = _text(finding.get("type", ""))
        warnings[kind] = warnings.get(kind, 0) + 1
    return render(
        "audit.html.j2",
        report=report,
        businesses=_maps(report.get("businesses")),
        files=files,
        options=options,
        repertoire=_text(options.get("repertoire", "")),
        repertoire_labels=REPERTOIRES,
        errors=_all_findings(files, findings, severity="error"),
        notices=[f for f in findings if f.get("severity") != "error"],
        warning_counts=sorted(warnings.items()),
        gaiji=_gaiji_left(files),
        percent=_percent,
        rows=_rows,
        gaiji_cell=_gaiji_cell,
        chart=_chart,
        maps=_maps,
        t=t,
        has=has_key,
        confidence=_confidence,
        asks=_asks(files, findings, REPERTOIRES.get(_text(options.get("repertoire", "")), ""), chosen),
        ask_line=lambda f, file: _ask_line(f, file, chosen),
    )


def _ask_line(finding: Mapping[str, Any], file: Mapping[str, Any], lang: Lang) -> str:
    """The 依頼事項 of one validation finding of ``file`` ('' when nothing is asked)."""
    kind = _text(finding.get("type", ""))
    if kind in NO_ASK:
        return ""
    return ask(kind, lang, path=_text(file.get("path", "")), layout=_text(file.get("layout", "")),
               item=_text(finding.get("item", "")) or text("audit.html-record", lang=lang),
               count=_int(finding.get("count")) or 1)


def _confidence(file: Mapping[str, Any]) -> str:
    value = file.get("match_confidence", 1.0)
    return f"{value:.2f}" if isinstance(value, int | float) and not isinstance(value, bool) else "–"


def _asks(files: Sequence[Mapping[str, Any]], findings: Sequence[Mapping[str, Any]], repertoire: str,
          lang: Lang) -> list[dict[str, Any]]:
    """依頼事項: one line per finding (by type, file and item), errors first, counts only."""
    rows = []
    for severity in ("error", "warning"):
        for f in _all_findings(files, findings, severity=severity):
            kind = _text(f.get("type", ""))
            if kind in NO_ASK:
                continue
            fields = {"path": _text(f.get("path", "")), "layout": _text(f.get("layout", "")),
                      "item": _text(f.get("item", "")) or text("audit.html-record", lang=lang),
                      "count": _int(f.get("count")) or 1, "repertoire": repertoire}
            rows.append({"severity": severity, "type": kind, "path": fields["path"], "item": _text(f.get("item", "")),
                         "count": _int(f.get("count")), "ask": ask(kind, lang, **fields)})
    rows.sort(key=lambda r: (r["severity"] != "error", r["type"], r["path"], r["item"]))
    return rows


NO_ASK = frozenset({"file-unexpected", "map-unmatched", "run-rejects", "unlisted", "fk-not-checked", "column-extra"})
"""Finding types that need nothing from the vendor (notes for the auditor)."""


def _gaiji_left(files: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """外字 left over all files: values and items with Private Use / outside-repertoire characters."""
    items = [i for f in files for i in _maps(f.get("items"))]
    return {
        "pua": sum(_int(i.get("pua_values")) for i in items),
        "pua_items": sum(1 for i in items if _int(i.get("pua_values"))),
        "outside": sum(_int(i.get("outside_values")) for i in items),
        "outside_items": sum(1 for i in items if _int(i.get("outside_values"))),
    }


def _all_findings(
    files: Sequence[Mapping[str, Any]], findings: Sequence[Mapping[str, Any]], *, severity: str
) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = [f for f in findings if f.get("severity") == severity]
    for file in files:
        for summary in _maps(file.get("findings")):
            if summary.get("severity") == severity:
                found.append({**summary, "path": file.get("path", ""), "layout": file.get("layout", ""),
                              "business": file.get("business", "")})
    return found


def _chart(items: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The geometry of the per-item bar chart (an inline SVG, integer coordinates only),
    or None when no item has checked values (the table lists them with "–").

    One bar per item with a rate: the conforming share filled (level ``full`` when all
    conform, ``near`` from 95 %, else ``low``) over a track showing the rest.
    """
    rated = [i for i in items if _int(i.get("checked")) > 0]
    if not rated:
        return None
    label_w, bar_w, row_h, top = 220, 440, 20, 4
    bars = []
    for n, item in enumerate(rated):
        checked, conforming = _int(item.get("checked")), _int(item.get("conforming"))
        y = top + n * row_h
        bars.append({
            "text_y": y + 14,
            "rect_y": y + 3,
            "filled": bar_w * conforming // checked,
            "level": "full" if conforming == checked else "near" if conforming * 20 >= checked * 19 else "low",
            "name": _clip(_text(item.get("name", ""))),
            "rate": _percent(conforming, checked),
        })
    return {
        "width": label_w + bar_w + 80, "height": top + row_h * len(rated) + 4,
        "label_x": label_w - 6, "bar_x": label_w, "bar_w": bar_w, "bar_h": row_h - 6,
        "rate_x": label_w + bar_w + 6, "bars": bars,
    }


def _gaiji_cell(item: Mapping[str, Any], prefix: str) -> str:
    values = _int(item.get(f"{prefix}_values"))
    if not values:
        return "0"
    return f"{values:,} / {_int(item.get(f'{prefix}_chars')):,} / {_int(item.get(f'{prefix}_distinct')):,}"


def _rows(finding: Mapping[str, Any]) -> str:
    rows = [_text(r) for r in _list(finding.get("rows"))[:FIRST_ROWS]]
    shown = ", ".join(rows)
    if _int(finding.get("count")) > len(rows) and rows:
        shown += ", …"
    return shown


def _percent(conforming: Any, checked: Any) -> str:
    """A rate as a percentage rounded *down* to 0.1 (99.96 % shows 99.9 %, never 100.0 %).

    >>> _percent(1999, 2000), _percent(3, 3), _percent(0, 0)
    ('99.9%', '100.0%', '–')
    """
    if not _is_int(conforming) or not _is_int(checked) or checked <= 0:
        return "–"
    tenths = conforming * 1000 // checked
    return f"{tenths // 10}.{tenths % 10}%"


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _maps(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list | tuple) else []
