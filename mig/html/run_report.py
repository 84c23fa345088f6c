"""A run report as one self-contained HTML page.

The page is built from the report dict alone (``report.json``) with the template
``mig/html/templates/run_report.html.j2``: inline CSS, no script, no external asset,
every text escaped. Same dict and language in, same string out. It never shows a
value the dict does not carry, and finding values (a ``values`` list, present only when
the user asked for ``--show-values``) are shown only when ``show_values`` is true.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mig.html.format import as_int as _int
from mig.html.format import as_list as _list
from mig.html.format import is_int as _is_int
from mig.html.format import text as _text
from mig.html.render import compile_template, labels, render
from mig.i18n import Lang, current_lang

TEMPLATE = "run_report.html.j2"

FIRST_ROWS = 10
"""How many row ids of a finding the page lists."""


def compile_report_html() -> None:
    """Compile the page's template ahead of :func:`render_report_html` (an extract does
    it in a thread while its first batch is read).

    >>> compile_report_html()
    """
    compile_template(TEMPLATE)


def render_report_html(report: Mapping[str, Any], lang: Lang | None = None) -> str:
    """Render a run report dict as a standalone HTML page (UTF-8).

    Summary first (verdict, then rows in / out / rejected per file with the
    conservation check), then per file its findings, unmapped source columns and 外字.
    Labels are in both languages, ``lang`` (default: the current language) first, and the
    page declares it (``<html lang>``); finding messages are as the report holds them.

    >>> page = render_report_html({"kind": "extract", "files": [], "totals": {}}, lang="ja")
    >>> '<html lang="ja">' in page and "問題なし / Clean" in page
    True
    >>> "Clean / 問題なし" in render_report_html({"kind": "extract"}, lang="en")
    True
    """
    lang = lang or current_lang()
    files: list[Mapping[str, Any]] = [
        f for f in report.get("files") or [] if isinstance(f, Mapping)
    ]
    totals = report.get("totals")
    if not isinstance(totals, Mapping):
        totals = {}
    summed = {
        key: totals.get(key, sum(_int(f.get(key)) for f in files))
        for key in ("rows_in", "rows_out", "rows_rejected")
    }
    return render(
        TEMPLATE,
        report=report,
        files=files,
        kind=_text(report.get("kind", "run")),
        verdict=_verdict(files),
        totals=summed,
        show_values=bool(report.get("show_values")),
        first_rows=FIRST_ROWS,
        conserved=_conserved,
        lang=lang,
        L=labels("report", lang),
    )


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
