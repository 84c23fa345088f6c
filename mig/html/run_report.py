"""A run report as one self-contained HTML page.

The page is built from the report dict alone (``report.json``): inline CSS, no script,
no external asset, every text escaped. Same dict in, same string out. It never shows a
value the dict does not carry, and finding values (a ``values`` list, present only when
the user asked for ``--show-values``) are shown only when ``show_values`` is true.
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

FIRST_ROWS = 10
"""How many row ids of a finding the page lists."""

_CSS = """
body{font-family:"Hiragino Sans","Yu Gothic","Meiryo",system-ui,sans-serif;margin:2rem auto;
max-width:70rem;padding:0 1rem;color:#1a1a1a;line-height:1.5}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:2px solid #ccc}h3{font-size:1rem;margin-top:1.25rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .6rem;
text-align:left;vertical-align:top}th{background:#f2f2f2}td.num{text-align:right;
font-variant-numeric:tabular-nums}tfoot td{font-weight:bold}
.meta{color:#555;font-size:.9rem}.verdict{font-size:1.1rem;font-weight:bold;padding:.5rem .8rem;
border-radius:4px;display:inline-block}.verdict-clean{background:#e6f4ea;color:#137333}
.verdict-warnings{background:#fef7e0;color:#8a5a00}.verdict-rejected,.verdict-broken{
background:#fce8e6;color:#a50e0e}.ok{color:#137333}.bad{color:#a50e0e;font-weight:bold}
.sev-error{color:#a50e0e;font-weight:bold}.sev-warning{color:#8a5a00}.none{color:#777}
code{font-family:ui-monospace,"SFMono-Regular",Consolas,monospace}
""".strip()

_VERDICTS = {
    "clean": "✓ 問題なし / Clean",
    "warnings": "⚠ 警告のみ / Warnings only",
    "rejected": "✗ 除外行あり / Rows rejected",
    "broken": "✗ 件数不一致 / Row counts do not add up",
}


def render_report_html(report: Mapping[str, Any]) -> str:
    """Render a run report dict as a standalone HTML page (UTF-8, ``lang="ja"``).

    Summary first (verdict, then rows in / out / rejected per file with the
    conservation check), then per file its findings, unmapped source columns and 外字.

    >>> page = render_report_html({"kind": "extract", "files": [], "totals": {}})
    >>> page.startswith("<!DOCTYPE html>") and "問題なし / Clean" in page
    True
    """
    files: list[Mapping[str, Any]] = [
        f for f in report.get("files") or [] if isinstance(f, Mapping)
    ]
    kind = _text(report.get("kind", "run"))
    verdict = _verdict(files)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ja">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>mig {escape(kind)} 実行報告 / Run report</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>mig {escape(kind)} 実行報告 / Run report</h1>",
        _meta(report),
        "</header>",
        '<section id="summary">',
        "<h2>取込結果 / Result</h2>",
        f'<p class="verdict verdict-{verdict}">{escape(_VERDICTS[verdict])}</p>',
        _summary_table(report, files),
        "</section>",
    ]
    for index, file in enumerate(files, 1):
        parts.append(_file_section(index, file, bool(report.get("show_values"))))
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


# -- pieces -----------------------------------------------------------------------------


def _meta(report: Mapping[str, Any]) -> str:
    shown = "表示 / shown" if report.get("show_values") else "非表示 / hidden"
    entries = [
        ("種別 / Kind", _text(report.get("kind", ""))),
        ("版 / Version", "mig " + _text(report.get("tool_version", ""))),
        ("作成 / Created", _text(report.get("created_at", ""))),
        ("値 / Values", shown),
    ]
    body = " · ".join(f"{escape(label)}: {escape(value)}" for label, value in entries)
    return f'<p class="meta">{body}</p>'


def _summary_table(report: Mapping[str, Any], files: Sequence[Mapping[str, Any]]) -> str:
    head = _row(
        "th",
        [
            "ファイル / File",
            "レイアウト / Layout",
            "入力 / In",
            "出力 / Out",
            "除外 / Rejected",
            "件数保存 / Conservation",
        ],
    )
    rows = []
    for index, file in enumerate(files, 1):
        rows.append(
            "<tr>"
            f'<td><a href="#file-{index}">{escape(_text(file.get("layout_name") or ""))}</a></td>'
            f"<td><code>{escape(_text(file.get('layout', '')))}</code></td>"
            + _counts(file)
            + "</tr>"
        )
    totals = report.get("totals")
    if not isinstance(totals, Mapping):
        totals = {}
    summed = {
        key: totals.get(key, sum(_int(f.get(key)) for f in files))
        for key in ("rows_in", "rows_out", "rows_rejected")
    }
    foot = '<tr><td colspan="2">合計 / Total</td>' + _counts(summed) + "</tr>"
    body = "\n".join(rows) if rows else '<tr><td colspan="6" class="none">なし / none</td></tr>'
    return (
        f"<table>\n<thead>{head}</thead>\n<tbody>\n{body}\n</tbody>\n"
        f"<tfoot>{foot}</tfoot>\n</table>"
    )


def _counts(counts: Mapping[str, Any]) -> str:
    rows_in, rows_out, rejected = (
        counts.get("rows_in"),
        counts.get("rows_out"),
        counts.get("rows_rejected"),
    )
    cells = "".join(
        f'<td class="num">{escape(_number(n))}</td>' for n in (rows_in, rows_out, rejected)
    )
    equation = f"{_number(rows_in)} = {_number(rows_out)} + {_number(rejected)}"
    if _conserved(counts):
        check = f'<td class="ok">in = out + rejected ✓ ({escape(equation)})</td>'
    else:
        check = (
            f'<td class="bad">in ≠ out + rejected ✗ ({escape(equation.replace("=", "≠", 1))})</td>'
        )
    return cells + check


def _file_section(index: int, file: Mapping[str, Any], show_values: bool) -> str:
    layout = _text(file.get("layout", ""))
    name = _text(file.get("layout_name", ""))
    sources = [_source(s) for s in _list(file.get("sources"))]
    parts = [
        f'<section id="file-{index}">',
        f"<h2>{escape(name)} <code>{escape(layout)}</code></h2>",
        '<p class="meta">元ファイル / Sources: ' + (", ".join(sources) or "なし / none") + "</p>",
        "<h3>指摘 / Findings</h3>",
        _findings_table(_list(file.get("findings")), show_values),
        "<h3>未対応の列 / Unmapped source columns</h3>",
        _unmapped(_list(file.get("unmapped_columns"))),
        "<h3>外字 / Gaiji</h3>",
        _gaiji_table(_list(file.get("gaiji"))),
        "</section>",
    ]
    return "\n".join(parts)


def _findings_table(findings: Sequence[Any], show_values: bool) -> str:
    findings = [f for f in findings if isinstance(f, Mapping)]
    if not findings:
        return '<p class="none">なし / none</p>'
    headers = [
        "種類 / Type",
        "重大度 / Severity",
        "項目 / Item",
        "件数 / Count",
        "行番号 / First rows",
        "内容 / Message",
    ]
    if show_values:
        headers.append("値 / Values")
    rows = []
    for finding in findings:
        severity = _text(finding.get("severity", ""))
        css = f"sev-{severity}" if severity in ("error", "warning") else "sev-other"
        row_ids = _list(finding.get("rows"))
        shown = ", ".join(_text(r) for r in row_ids[:FIRST_ROWS])
        if len(row_ids) > FIRST_ROWS or _int(finding.get("count")) > len(row_ids[:FIRST_ROWS]):
            shown += ", …" if shown else "…"
        cells = [
            f"<td><code>{escape(_text(finding.get('type', '')))}</code></td>",
            f'<td class="{css}">{escape(severity)}</td>',
            _item_cell(finding.get("item")),
            f'<td class="num">{escape(_number(finding.get("count")))}</td>',
            f"<td>{escape(shown)}</td>",
            f"<td>{escape(_text(finding.get('message', '')))}</td>",
        ]
        if show_values:
            values = ", ".join(_text(v) for v in _list(finding.get("values")))
            cells.append(f"<td>{escape(values)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _table(headers, rows)


def _source(source: Any) -> str:
    """A source file: a name, or ``{"path", "encoding", "first_row", "last_row"}``."""
    if not isinstance(source, Mapping):
        return f"<code>{escape(_text(source))}</code>"
    details = []
    if source.get("encoding"):
        details.append(_text(source["encoding"]))
    if "first_row" in source or "last_row" in source:
        first, last = source.get("first_row"), source.get("last_row")
        details.append(f"行 / rows {_number(first)}–{_number(last)}")
    extra = f" ({escape(', '.join(details))})" if details else ""
    return f"<code>{escape(_text(source.get('path', '')))}</code>{extra}"


def _item_cell(item: Any) -> str:
    """An item name; a finding about the whole record has none."""
    if item is None or item == "":
        return '<td class="none">レコード / record</td>'
    return f"<td>{escape(_text(item))}</td>"


def _unmapped(columns: Sequence[Any]) -> str:
    if not columns:
        return '<p class="none">なし / none</p>'
    items = "".join(f"<li><code>{escape(_text(c))}</code></li>" for c in columns)
    return f"<ul>{items}</ul>"


def _gaiji_table(entries: Sequence[Any]) -> str:
    entries = [e for e in entries if isinstance(e, Mapping)]
    if not entries:
        return '<p class="none">なし / none</p>'
    rows = [
        f"<tr><td>{escape(_text(e.get('item', '')))}</td>"
        f"<td><code>{escape(_text(e.get('code') or ''))}</code></td>"
        f'<td class="num">{escape(_number(e.get("count")))}</td>'
        f"<td>{escape(', '.join(str(r) for r in _list(e.get('rows'))))}</td></tr>"
        for e in entries
    ]
    return _table(["項目 / Item", "文字 / Character", "件数 / Count", "行 / Rows"], rows)


# -- helpers ----------------------------------------------------------------------------


def _verdict(files: Sequence[Mapping[str, Any]]) -> str:
    if not all(_conserved(f) for f in files):
        return "broken"
    if any(_int(f.get("rows_rejected")) > 0 for f in files):
        return "rejected"
    if any(_list(f.get("findings")) or _list(f.get("unmapped_columns")) for f in files):
        return "warnings"
    return "clean"


def _conserved(counts: Mapping[str, Any]) -> bool:
    values = [counts.get(k) for k in ("rows_in", "rows_out", "rows_rejected")]
    if not all(_is_int(v) for v in values):
        return False
    rows_in, rows_out, rejected = (_int(v) for v in values)
    return rows_in == rows_out + rejected


def _table(headers: Iterable[str], rows: Sequence[str]) -> str:
    return (
        f"<table>\n<thead>{_row('th', headers)}</thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>"
    )


def _row(cell: str, texts: Iterable[str]) -> str:
    return "<tr>" + "".join(f"<{cell}>{escape(t)}</{cell}>" for t in texts) + "</tr>"


