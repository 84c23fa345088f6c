"""The HTML reports share one template environment, one base template and one base style,
and every value they show is escaped — checked across all three reports at once."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from mig.audit import render_audit_html
from mig.gaiji.review import Candidate, Occurrence, ReviewEntry, ReviewResult, render_sheet
from mig.html.render import environment, render
from mig.html.run_report import render_report_html

HOSTILE = "<script>alert(\"x\")</script> '\"& 氏名"
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#x27;&quot;&amp; 氏名"


def run_report() -> dict[str, object]:
    return {
        "kind": HOSTILE, "tool_version": HOSTILE, "created_at": HOSTILE, "show_values": True,
        "files": [{
            "layout": HOSTILE, "layout_name": HOSTILE, "rows_in": 2, "rows_out": 1, "rows_rejected": 1,
            "sources": [HOSTILE, {"path": HOSTILE, "encoding": HOSTILE, "first_row": 1, "last_row": 2}],
            "findings": [{"type": HOSTILE, "severity": HOSTILE, "item": HOSTILE, "count": 1, "rows": [HOSTILE],
                          "message": HOSTILE, "values": [HOSTILE]}],
            "unmapped_columns": [HOSTILE],
            "gaiji": [{"item": HOSTILE, "code": HOSTILE, "count": 1, "rows": [HOSTILE]}],
        }],
        "totals": {},
    }


def audit_report() -> dict[str, object]:
    item = {"name": HOSTILE, "status": "present", "type": HOSTILE, "checked": 4, "conforming": 3}
    return {
        "passed": False, "package": HOSTILE, "package_kind": HOSTILE, "package_sha256": HOSTILE,
        "options": {"repertoire": HOSTILE},
        "businesses": [{"business": HOSTILE, "verdict": HOSTILE, "blocking": [HOSTILE],
                        "layouts": [{"layout": HOSTILE, "name": HOSTILE, "status": HOSTILE, "files": [HOSTILE]}]}],
        "files": [{"path": HOSTILE, "business": HOSTILE, "layout": HOSTILE, "layout_name": HOSTILE,
                   "encoding": HOSTILE, "read_error": HOSTILE, "items": [item],
                   "findings": [{"type": HOSTILE, "severity": "error", "item": HOSTILE, "message": HOSTILE,
                                 "rows": [HOSTILE], "count": 1}],
                   "controls": [{"source": HOSTILE, "rows": 1, "matches": False}]}],
        "findings": [{"type": HOSTILE, "severity": "warning", "path": HOSTILE, "item": HOSTILE, "message": HOSTILE}],
        "inventory": [{"path": HOSTILE, "role": HOSTILE, "layout": HOSTILE, "sha256": HOSTILE, "check": HOSTILE}],
    }


def review_result() -> ReviewResult:
    candidate = Candidate(
        rank=1, mj=HOSTILE, text="吉", ucs="U+5409", ivs=None, readings=(HOSTILE,), radical=30,
        inner_strokes=3, strokes=6, juki=None, koseki=None, glyph=0.9, reading=0.5, hint=0.0, score=0.925,
    )
    entry = ReviewEntry(
        code=HOSTILE, count=1, where=(Occurrence(HOSTILE, HOSTILE, 1, (7,)),), has_glyph=False, image=None,
        strokes_estimate=None, candidates=(candidate,), contexts=(HOSTILE,),
    )
    return ReviewResult(
        html=Path("sheet.html"), csv=Path("sheet.csv"), source=HOSTILE, entries=(entry,),
        vendor_font=HOSTILE, mj_font=HOSTILE, notes=(HOSTILE,),
    )


PAGES = {
    "run report": lambda: render_report_html(run_report(), lang="ja"),
    "audit report": lambda: render_audit_html(audit_report()),
    "review sheet": lambda: render_sheet(review_result(), lang="ja"),
}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.texts: list[str] = []
        self.values: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.values += [v for _, v in attrs if v]

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


@pytest.mark.parametrize("name", PAGES)
def test_hostile_names_come_out_escaped(name: str) -> None:
    page = PAGES[name]()
    assert "<script>alert" not in page and "'\"&" not in page
    assert ESCAPED in page
    parsed = _Collect()
    parsed.feed(page)
    # the hostile text is shown as text (and kept whole in attributes), never as markup
    assert any(HOSTILE in t for t in parsed.texts)
    assert parsed.tags.count("script") == (1 if name == "review sheet" else 0)  # the sheet's own export script
    if name == "review sheet":
        assert HOSTILE in parsed.values  # data-code, the radio's value
    assert html.unescape(ESCAPED) == HOSTILE


@pytest.mark.parametrize("name", PAGES)
def test_every_page_starts_from_the_base_template_and_style(name: str) -> None:
    base_css = files("mig.html").joinpath("templates", "base.css").read_text(encoding="utf-8").rstrip("\n")
    page = PAGES[name]()
    assert page.startswith('<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n')
    assert page.split("<style>", 1)[1].startswith(base_css)
    assert page.endswith("</body>\n</html>\n")


def test_the_environment_escapes_every_value_and_refuses_unknown_names() -> None:
    env = environment()
    assert env.autoescape is True
    assert env.from_string("{{ v }}").render(v="<a href='x'>&</a>") == "&lt;a href=&#x27;x&#x27;&gt;&amp;&lt;/a&gt;"
    assert env.from_string("{{ v }}").render(v=3) == "3"
    with pytest.raises(UndefinedError):
        env.from_string("{{ missing }}").render()
    assert environment() is env  # one environment for every report
    assert {"base.html.j2", "base.css", "run_report.html.j2", "audit.html.j2", "gaiji_review.html.j2"} <= set(
        env.list_templates()
    )
    with pytest.raises(UndefinedError):
        render("run_report.html.j2")  # a report template needs its context
