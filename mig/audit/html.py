"""The audit report as one self-contained HTML page, for the people who sign.

Built from the report dict alone (:meth:`AuditReport.to_dict`): inline CSS, inline SVG
charts, no script, no external asset, every text escaped. Same dict in, same string out.
Summary first — the overall verdict, 外字 left, one verdict per 業務, the blocking
findings — then per 業務 its layouts and files (integrity, 準拠率 per item as a bar
chart, items, findings), then every file of the package with its sha256, then the
definitions the verdicts use. Values never appear: the dict carries none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from mig.html.format import as_int as _int
from mig.html.format import as_list as _list
from mig.html.format import is_int as _is_int
from mig.html.format import number as _number
from mig.html.format import text as _text

_CSS = """
body{font-family:"Hiragino Sans","Yu Gothic","Meiryo","Noto Sans CJK JP",system-ui,sans-serif;
margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1a1a1a;line-height:1.5}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:2px solid #ccc}
h3{font-size:1.05rem;margin-top:1.5rem}h4{font-size:.95rem;margin:1rem 0 .25rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.2rem .5rem;
text-align:left;vertical-align:top}th{background:#f2f2f2}td.num{text-align:right;
font-variant-numeric:tabular-nums}.meta{color:#555;font-size:.9rem}
.banner{font-size:1.2rem;font-weight:bold;padding:.6rem 1rem;border-radius:4px;margin:.5rem 0}
.pass{background:#e6f4ea;color:#137333}.fail{background:#fce8e6;color:#a50e0e}
.notice{background:#fef7e0;color:#6b4700;padding:.5rem 1rem;border-radius:4px}
.badge{font-weight:bold;padding:.1rem .5rem;border-radius:3px;white-space:nowrap}
.v-complete{background:#e6f4ea;color:#137333}.v-incomplete{background:#fce8e6;color:#a50e0e}
.v-non-conformant{background:#fce8e6;color:#a50e0e}.ok{color:#137333}.bad{color:#a50e0e;font-weight:bold}
.sev-error{color:#a50e0e;font-weight:bold}.sev-warning{color:#8a5a00}.none{color:#777}
code{font-family:ui-monospace,"SFMono-Regular",Consolas,monospace;font-size:.85em}
code.hash{word-break:break-all}svg{display:block;margin:.5rem 0}
dt{font-weight:bold;margin-top:.5rem}dd{margin-left:1.5rem}td.nowrap{white-space:nowrap}
svg text{font-family:"Hiragino Sans","Yu Gothic","Meiryo","Noto Sans CJK JP",system-ui,sans-serif}
""".strip()

_VERDICTS = {
    "complete": "✓ 完全 / complete",
    "incomplete": "✗ 不足あり / incomplete",
    "non-conformant": "✗ 不適合 / non-conformant",
}
_STATUS = {
    "present": "あり / present",
    "missing": "なし / missing",
    "refused": "拒否 / refused",
    "extension": "拡張（宣言済）/ declared extension",
    "extension-missing": "拡張・列なし / declared extension, no column",
    "extra": "未宣言の列 / undeclared column",
}
_ROLES = {
    "layout-data": "レイアウトファイル / layout file",
    "manifest": "マニフェスト / manifest",
    "control": "管理ファイル / control file",
    "run-file": "実行ファイル / run file",
    "run-report": "実行報告 / run report",
    "unexpected": "想定外 / unexpected",
    "refused": "拒否 / refused",
}
_REPERTOIRES = {
    "jisx0213": "JIS X 0213:2004",
    "cp932": "CP932",
    "jisx0213+cp932": "JIS X 0213:2004 ∪ CP932",
}


def render_audit_html(report: Mapping[str, Any]) -> str:
    """Render an audit report dict as a standalone HTML page (UTF-8, ``lang="ja"``).

    >>> page = render_audit_html({"passed": True, "businesses": [], "files": []})
    >>> page.startswith("<!DOCTYPE html>") and "受入可 / PASS" in page
    True
    """
    businesses = _maps(report.get("businesses"))
    files = _maps(report.get("files"))
    findings = _maps(report.get("findings"))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ja">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>mig audit 引継ぎデータ監査報告 / Handover audit report</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        "<h1>引継ぎデータ監査報告 / Handover audit report</h1>",
        _meta(report),
        "</header>",
        _summary(report, businesses, files, findings),
    ]
    for index, business in enumerate(businesses, 1):
        parts.append(_business_section(index, business, files))
    parts += [
        _other_findings(findings),
        _inventory(_maps(report.get("inventory"))),
        _definitions(report),
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


# -- summary ------------------------------------------------------------------------------


def _meta(report: Mapping[str, Any]) -> str:
    options = report.get("options") if isinstance(report.get("options"), Mapping) else {}
    assert isinstance(options, Mapping)
    entries = [
        ("パッケージ / Package", _text(report.get("package", ""))),
        ("形式 / Kind", _text(report.get("package_kind", ""))),
        ("版 / Version", "mig " + _text(report.get("tool_version", ""))),
        ("作成 / Created", _text(report.get("created_at", ""))),
        ("文字集合 / Repertoire", _REPERTOIRES.get(_text(options.get("repertoire", "")), _text(options.get("repertoire", "")))),
        ("値 / Values", "表示しない / never shown"),
    ]
    body = " · ".join(f"{escape(label)}: {escape(value)}" for label, value in entries)
    digest = _text(report.get("package_sha256") or "")
    if digest:
        body += f'<br>sha256: <code class="hash">{escape(digest)}</code>'
    return f'<p class="meta">{body}</p>'


def _summary(
    report: Mapping[str, Any], businesses: Sequence[Mapping[str, Any]],
    files: Sequence[Mapping[str, Any]], findings: Sequence[Mapping[str, Any]],
) -> str:
    errors = _all_findings(files, findings, severity="error")
    passed = bool(report.get("passed"))
    if passed:
        banner = '<p class="banner pass">✓ 受入可 / PASS — 受入を妨げる指摘なし / nothing blocks acceptance</p>'
    else:
        banner = (
            f'<p class="banner fail">✗ 受入不可 / FAIL — 受入を妨げる指摘 {len(errors):,} 件 / '
            f"{len(errors):,} blocking finding(s)</p>"
        )
    rows = []
    for index, business in enumerate(businesses, 1):
        layouts = _maps(business.get("layouts"))
        present = sum(1 for x in layouts if x.get("status") == "present")
        missing = [_text(x.get("layout", "")) for x in layouts if x.get("status") != "present"]
        verdict = _text(business.get("verdict", ""))
        missing_cell = escape(", ".join(missing)) if missing else '<span class="none">–</span>'
        rows.append(
            "<tr>"
            f'<td class="nowrap"><a href="#business-{index}">{escape(_text(business.get("business", "")))}</a></td>'
            f'<td><span class="badge v-{escape(verdict)}">{escape(_VERDICTS.get(verdict, verdict))}</span></td>'
            f'<td class="num">{present} / {len(layouts)}</td>'
            f"<td>{missing_cell}</td>"
            f'<td class="num">{escape(_number(business.get("rows")))}</td>'
            f'<td class="num">{escape(_percent(business.get("rows_conforming"), business.get("rows")))}</td>'
            f'<td class="num">{escape(_number(business.get("errors")))}</td>'
            f'<td class="num">{escape(_number(business.get("warnings")))}</td>'
            f"<td>{escape(', '.join(_text(t) for t in _list(business.get('blocking')))) or '–'}</td>"
            "</tr>"
        )
    table = _table(
        ["業務", "判定 / Verdict", "ファイル / Layouts present", "不足・拒否 / Missing or refused",
         "レコード（全ファイル）/ Records (all files)", "準拠率 / Conformance", "エラー / Errors", "警告 / Warnings",
         "受入を妨げる種類 / Blocking types"],
        rows or ['<tr><td colspan="9" class="none">監査対象の業務なし / no 業務 audited</td></tr>'],
    )
    parts = [
        '<section id="summary">',
        "<h2>総合判定 / Summary</h2>",
        banner,
        _gaiji_notice(report, files),
        _warning_counts(_all_findings(files, findings, severity="warning")),
        table,
        "<h3>受入を妨げる指摘 / Blocking findings</h3>",
        _findings_list(errors) if errors else '<p class="none">なし / none</p>',
        "</section>",
    ]
    return "\n".join(p for p in parts if p)


def _gaiji_notice(report: Mapping[str, Any], files: Sequence[Mapping[str, Any]]) -> str:
    items = [i for f in files for i in _maps(f.get("items"))]
    pua = sum(_int(i.get("pua_values")) for i in items)
    pua_items = sum(1 for i in items if _int(i.get("pua_values")))
    outside = sum(_int(i.get("outside_values")) for i in items)
    outside_items = sum(1 for i in items if _int(i.get("outside_values")))
    options = report.get("options") if isinstance(report.get("options"), Mapping) else {}
    assert isinstance(options, Mapping)
    repertoire = _REPERTOIRES.get(_text(options.get("repertoire", "")), _text(options.get("repertoire", "")))
    if not pua and not outside:
        return f'<p class="ok">外字の残りなし / no 外字 left (Private Use, outside {escape(repertoire)})</p>'
    blocking = bool(options.get("require_gaiji_resolved"))
    rule = (
        "受入を妨げます / blocks acceptance (--require-gaiji-resolved)"
        if blocking
        else "警告のみ・受入は妨げません / warning only, not blocking (--require-gaiji-resolved makes it block)"
    )
    return (
        '<p class="notice">⚠ 外字が残っています / 外字 left: '
        f"私用領域 / Private Use {pua:,} 値 / values in {pua_items} 項目 / items; "
        f"{escape(repertoire)} 外 / outside {escape(repertoire)} {outside:,} 値 / values in {outside_items} 項目 / items — "
        f"{escape(rule)}</p>"
    )


def _warning_counts(warnings: Sequence[Mapping[str, Any]]) -> str:
    """One line: how many warnings of each type (they do not block, but must be seen)."""
    if not warnings:
        return ""
    counts: dict[str, int] = {}
    for finding in warnings:
        kind = _text(finding.get("type", ""))
        counts[kind] = counts.get(kind, 0) + 1
    listed = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
    return (
        f'<p class="meta">警告（受入は妨げない）/ Warnings (not blocking): {escape(listed)} — '
        '<a href="#warnings">一覧 / list</a></p>'
    )


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


def _findings_list(findings: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for f in findings:
        severity = _text(f.get("severity", ""))
        rows.append(
            "<tr>"
            f"<td><code>{escape(_text(f.get('type', '')))}</code></td>"
            f'<td class="sev-{escape(severity)}">{escape(severity)}</td>'
            f"<td class=\"nowrap\">{escape(_text(f.get('business', '')))}</td>"
            f"<td><code>{escape(_text(f.get('path', '')))}</code></td>"
            f"<td>{escape(_text(f.get('item', '')))}</td>"
            f'<td class="num">{escape(_number(f.get("count") or None))}</td>'
            f"<td>{escape(_rows(f))}</td>"
            f"<td>{escape(_text(f.get('message', '')))}</td>"
            "</tr>"
        )
    return _table(
        ["種類 / Type", "重大度 / Severity", "業務", "ファイル / File", "項目 / Item", "件数 / Count",
         "行番号 / First rows", "内容 / Message"],
        rows,
    )


# -- per 業務 and file ------------------------------------------------------------------------


def _business_section(index: int, business: Mapping[str, Any], files: Sequence[Mapping[str, Any]]) -> str:
    name = _text(business.get("business", ""))
    verdict = _text(business.get("verdict", ""))
    rows = []
    for layout in _maps(business.get("layouts")):
        status = _text(layout.get("status", ""))
        css = "ok" if status == "present" else "bad"
        listed = ", ".join(_text(p) for p in _list(layout.get("files")))
        rows.append(
            f"<tr><td><code>{escape(_text(layout.get('layout', '')))}</code></td>"
            f"<td>{escape(_text(layout.get('name', '')))}</td>"
            f'<td class="{css}">{escape(_STATUS.get(status, status))}</td>'
            f"<td>{escape(listed) or '–'}</td></tr>"
        )
    parts = [
        f'<section id="business-{index}">',
        f'<h2>{escape(name)} <span class="badge v-{escape(verdict)}">{escape(_VERDICTS.get(verdict, verdict))}</span></h2>',
        "<h3>レイアウトファイル / Layout files</h3>",
        _table(["レイアウト / Layout", "名称 / Name", "状態 / Status", "ファイル / Files"], rows),
    ]
    mine = [f for f in files if f.get("business") == name]
    for n, file in enumerate(mine, 1):
        parts.append(_file_section(f"{index}-{n}", file))
    parts.append("</section>")
    return "\n".join(parts)


def _file_section(anchor: str, file: Mapping[str, Any]) -> str:
    path = _text(file.get("path", ""))
    facts = [
        ("レイアウト / Layout", f"<code>{escape(_text(file.get('layout', '')))}</code> {escape(_text(file.get('layout_name', '')))}"),
        ("形式 / Format", escape(_text(file.get("format", "")))),
        ("文字コード / Encoding", escape(_text(file.get("encoding", "")) or "–")),
        ("サイズ / Bytes", escape(_number(file.get("bytes")))),
        ("sha256", f'<code class="hash">{escape(_text(file.get("sha256", "")))}</code>'),
        ("レコード / Records", escape(_number(file.get("rows")))),
        ("適合レコード / Conforming records", escape(_number(file.get("rows_conforming")))),
        ("準拠率 / Conformance", escape(_percent(file.get("rows_conforming"), file.get("rows")))),
    ]
    if file.get("read_error"):
        facts.append(("読込エラー / Read error", f'<span class="bad">{escape(_text(file["read_error"]))}</span>'))
    if _int(file.get("columns_withheld")):
        facts.append((
            "列名非表示 / Column names withheld",
            f"{_int(file.get('columns_withheld'))} 列 / columns (見出し行がないようです / the file seems to have no header row)",
        ))
    for control in _maps(file.get("controls")):
        recorded = []
        if control.get("rows") is not None:
            recorded.append(f"{_number(control.get('rows'))} records")
        if control.get("bytes") is not None:
            recorded.append(f"{_number(control.get('bytes'))} bytes")
        if control.get("sha256"):
            recorded.append("sha256")
        mark = '<span class="ok">✓ 一致 / matches</span>' if control.get("matches") else '<span class="bad">✗ 不一致 / differs</span>'
        facts.append((f"管理値 / Control ({_text(control.get('source', ''))})", f"{escape(', '.join(recorded))} {mark}"))
    fact_rows = [f"<tr><th>{escape(label)}</th><td>{value}</td></tr>" for label, value in facts]
    items = _maps(file.get("items"))
    parts = [
        f'<section id="file-{escape(anchor)}">',
        f"<h3><code>{escape(path)}</code></h3>",
        "<table>\n<tbody>\n" + "\n".join(fact_rows) + "\n</tbody>\n</table>",
        "<h4>項目別準拠率 / Conformance per item</h4>",
        _chart(items),
        "<h4>項目 / Items</h4>",
        _items_table(items),
        "<h4>検証の指摘 / Validation findings</h4>",
        _validation_findings(_maps(file.get("findings"))),
        "</section>",
    ]
    return "\n".join(parts)


def _chart(items: Sequence[Mapping[str, Any]]) -> str:
    """A horizontal bar per item with a rate: an inline SVG, integer coordinates only.

    Green: the conforming share; red: the rest. Items without checked values are left
    out (the table below lists them with "–").
    """
    rated = [i for i in items if _int(i.get("checked")) > 0]
    if not rated:
        return '<p class="none">検査した値なし / no values checked</p>'
    label_w, bar_w, row_h, top = 220, 440, 20, 4
    width, height = label_w + bar_w + 80, top + row_h * len(rated) + 4
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="準拠率 / conformance per item">'
    ]
    for n, item in enumerate(rated):
        checked, conforming = _int(item.get("checked")), _int(item.get("conforming"))
        y = top + n * row_h
        filled = bar_w * conforming // checked
        color = "#34a853" if conforming == checked else "#f9ab00" if conforming * 20 >= checked * 19 else "#d93025"
        name = _text(item.get("name", ""))
        lines += [
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">{escape(_clip(name))}</text>',
            # the track shows the non-conforming share in red, so a small one is still seen
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 6}" fill="#f28b82"/>',
            f'<rect x="{label_w}" y="{y + 3}" width="{filled}" height="{row_h - 6}" fill="{color}"/>',
            f'<text x="{label_w + bar_w + 6}" y="{y + 14}" font-size="12">{escape(_percent(conforming, checked))}</text>',
        ]
    lines.append("</svg>")
    return "\n".join(lines)


def _items_table(items: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for item in items:
        status = _text(item.get("status", ""))
        css = "bad" if status in ("missing", "extension-missing") else ""
        checked = item.get("checked") if status != "extra" else None
        rows.append(
            "<tr>"
            f"<td class=\"nowrap\">{escape(_text(item.get('name', '')))}</td>"
            f'<td class="{css}">{escape(_STATUS.get(status, status))}</td>'
            f"<td>{escape(_text(item.get('type', '')) or '–')}</td>"
            f"<td>{'必須 / required' if item.get('required') else ''}</td>"
            f'<td class="num">{escape(_number(checked))}</td>'
            f'<td class="num">{escape(_number(item.get("conforming") if checked is not None else None))}</td>'
            f'<td class="num">{escape(_percent(item.get("conforming"), checked))}</td>'
            f'<td class="num">{escape(_gaiji_cell(item, "pua"))}</td>'
            f'<td class="num">{escape(_gaiji_cell(item, "outside"))}</td>'
            "</tr>"
        )
    return _table(
        ["項目 / Item", "状態 / Status", "型 / Type", "必須 / Required", "検査値 / Checked",
         "適合 / Conforming", "準拠率 / Conformance", "外字 私用領域 / Private Use (values, chars, distinct)",
         "集合外 / Outside repertoire (values, chars, distinct)"],
        rows,
    )


def _gaiji_cell(item: Mapping[str, Any], prefix: str) -> str:
    values = _int(item.get(f"{prefix}_values"))
    if not values:
        return "0"
    return f"{values:,} / {_int(item.get(f'{prefix}_chars')):,} / {_int(item.get(f'{prefix}_distinct')):,}"


def _validation_findings(findings: Sequence[Mapping[str, Any]]) -> str:
    if not findings:
        return '<p class="none">なし / none</p>'
    rows = []
    for f in findings:
        severity = _text(f.get("severity", ""))
        rows.append(
            "<tr>"
            f"<td><code>{escape(_text(f.get('type', '')))}</code></td>"
            f'<td class="sev-{escape(severity)}">{escape(severity)}</td>'
            f"<td>{escape(_text(f.get('item', '')) or 'レコード / record')}</td>"
            f'<td class="num">{escape(_number(f.get("count")))}</td>'
            f"<td>{escape(_rows(f))}</td>"
            f"<td>{escape(_text(f.get('message', '')))}</td>"
            "</tr>"
        )
    return _table(
        ["種類 / Type", "重大度 / Severity", "項目 / Item", "件数 / Count", "行番号 / First rows", "内容 / Message"],
        rows,
    )


# -- the rest -------------------------------------------------------------------------------


def _other_findings(findings: Sequence[Mapping[str, Any]]) -> str:
    warnings = [f for f in findings if f.get("severity") != "error"]
    return "\n".join([
        '<section id="warnings">',
        "<h2>警告・注記 / Warnings and notices</h2>",
        _findings_list(warnings) if warnings else '<p class="none">なし / none</p>',
        "</section>",
    ])


def _inventory(entries: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for entry in entries:
        role = _text(entry.get("role", ""))
        check = _text(entry.get("check", ""))
        css = "bad" if "mismatch" in check or role == "refused" else ""
        rows.append(
            "<tr>"
            f"<td><code>{escape(_text(entry.get('path', '')))}</code></td>"
            f"<td>{escape(_ROLES.get(role, role))}</td>"
            f"<td><code>{escape(_text(entry.get('layout', '')))}</code></td>"
            f'<td class="num">{escape(_number(entry.get("bytes")))}</td>'
            f'<td><code class="hash">{escape(_text(entry.get("sha256", "")) or "–")}</code></td>'
            f'<td class="{css}">{escape(check) or "–"}</td>'
            "</tr>"
        )
    return "\n".join([
        '<section id="inventory">',
        "<h2>ファイル一覧 / Every file of the package</h2>",
        _table(["パス / Path", "役割 / Role", "レイアウト / Layout", "サイズ / Bytes", "sha256",
                "照合 / Check"], rows or ['<tr><td colspan="6" class="none">なし / none</td></tr>']),
        "</section>",
    ])


def _definitions(report: Mapping[str, Any]) -> str:
    options = report.get("options") if isinstance(report.get("options"), Mapping) else {}
    assert isinstance(options, Mapping)
    repertoire = _REPERTOIRES.get(_text(options.get("repertoire", "")), _text(options.get("repertoire", "")))
    terms = [
        ("完全 / complete", "受入を妨げる指摘がない業務。/ No blocking finding for the 業務 (warnings may remain)."),
        ("不足あり / incomplete", "レイアウトファイル・項目の列・管理ファイルに記載のファイルのいずれかが欠けている。/ "
         "A layout file, an item's column, or a file a control source lists is missing."),
        ("不適合 / non-conformant", "欠けはないが、検証エラー・読込不能・改ざん（sha256・サイズ・件数の不一致）・危険なエントリがある。/ "
         "Nothing is missing, but a file fails validation, cannot be read, differs from its manifest or control totals, "
         "or was refused as unsafe."),
        ("項目準拠率 / item conformance", "検査値（空でない値と、必須項目の空値）のうち、その行・項目に error の指摘がない値の割合。"
         "警告は下げない。/ Share of checked values (non-empty values, plus empty values of a required item) with no "
         "error-severity finding on that row and item; warnings do not lower it."),
        ("ファイル準拠率 / file conformance", "レコードのうち、どの項目にも error の指摘がないレコードの割合。"
         "読めなかったレコード（列数不一致など）は不適合。/ Share of records with no error-severity finding; "
         "records the reader could not frame count as not conforming."),
        ("外字 / gaiji left", f"私用領域 (U+E000–F8FF, U+F0000–10FFFD) の文字と、{repertoire} にない文字（異体字セレクタを除く）の値の数。"
         f"/ Values holding Private Use characters, and values holding characters outside {repertoire} "
         "(variation selectors excepted). Counted, never shown."),
    ]
    body = "".join(f"<dt>{escape(t)}</dt><dd>{escape(d)}</dd>" for t, d in terms)
    return f'<section id="definitions">\n<h2>定義 / Definitions</h2>\n<dl>{body}</dl>\n</section>'


# -- helpers --------------------------------------------------------------------------------


def _table(headers: Iterable[str], rows: Sequence[str]) -> str:
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>"
    return f"<table>\n<thead>{head}</thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"


def _rows(finding: Mapping[str, Any]) -> str:
    rows = [_text(r) for r in _list(finding.get("rows"))[:10]]
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


