"""The HTML run report: self-contained, escaped, deterministic, numbers all there."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mig.html.run_report import FIRST_ROWS, render_report_html


def render_ja(report: Any) -> str:
    """The page in Japanese (Japanese labels first); the English page is tested below."""
    return render_report_html(report, lang="ja")


def sample_report() -> dict[str, Any]:
    return {
        "kind": "extract",
        "tool_version": "0.1.0",
        "created_at": "2026-11-23T19:00:00Z",
        "show_values": False,
        "totals": {"rows_in": 1234, "rows_out": 1221, "rows_rejected": 13},
        "files": [
            {
                "layout": "juki-jumin",
                "layout_name": "住民",
                "sources": ["JUMIN.csv"],
                "rows_in": 1000,
                "rows_out": 990,
                "rows_rejected": 10,
                "unmapped_columns": ["旧コード", "X"],
                "gaiji": [{"item": "氏名", "count": 37}],
                "findings": [
                    {
                        "type": "date-invalid",
                        "severity": "error",
                        "item": "生年月日",
                        "count": 3,
                        "rows": [12, 40, 77],
                        "message": "生年月日: not a real calendar date (YYYYMMDD)",
                    },
                    {
                        "type": "gaiji-unresolved",
                        "severity": "warning",
                        "item": "氏名",
                        "count": 37,
                        "rows": list(range(501, 538)),
                        "message": "氏名: holds a Private Use (外字) character",
                    },
                ],
            },
            {
                "layout": "juki-setai",
                "layout_name": "世帯",
                "sources": [
                    {"path": "SETAI.csv", "encoding": "cp932", "first_row": 1, "last_row": 200},
                    {"path": "SETAI2.csv", "encoding": "utf-8", "first_row": 201, "last_row": 234},
                ],
                "rows_in": 234,
                "rows_out": 231,
                "rows_rejected": 3,
                "unmapped_columns": [],
                "gaiji": [],
                "findings": [],
            },
        ],
    }


class _Collect(HTMLParser):
    """Text and tags of a page, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Collect:
    parser = _Collect()
    parser.feed(page)
    parser.close()
    return parser


ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "section",
    "h1",
    "h2",
    "h3",
    "p",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "a",
    "code",
    "ul",
    "li",
}


def test_page_is_self_contained() -> None:
    page = render_ja(sample_report())
    assert page.startswith('<!DOCTYPE html>\n<html lang="ja">')
    assert '<meta charset="utf-8">' in page
    seen = parse(page)
    assert set(seen.tags) <= ALLOWED_TAGS
    assert "script" not in seen.tags and "link" not in seen.tags and "img" not in seen.tags
    for name, value in seen.attrs:
        assert name in {"lang", "charset", "name", "content", "class", "id", "href", "colspan"}
        if name == "href":
            assert value is not None and value.startswith("#")  # in-page links only
    assert "http://" not in page and "https://" not in page and "url(" not in page


def test_summary_comes_first_with_verdict_and_conservation() -> None:
    page = render_ja(sample_report())
    assert page.index("取込結果 / Result") < page.index("指摘 / Findings")
    assert "✗ 除外行あり / Rows rejected" in page
    assert page.count("in = out + rejected ✓") == 3  # two files and the total
    assert "1,000 = 990 + 10" in page and "1,234 = 1,221 + 13" in page


def test_verdicts() -> None:
    report = sample_report()
    for file in report["files"]:
        file.update(rows_in=file["rows_out"], rows_rejected=0)
    report["totals"] = {"rows_in": 1221, "rows_out": 1221, "rows_rejected": 0}
    assert "⚠ 警告のみ / Warnings only" in render_ja(report)
    for file in report["files"]:
        file.update(findings=[], unmapped_columns=[])
    assert "✓ 問題なし / Clean" in render_ja(report)
    report["files"][1]["rows_in"] = 232  # one record unaccounted for
    page = render_ja(report)
    assert "件数不一致 / Row counts do not add up" in page
    assert "in ≠ out + rejected ✗ (232 ≠ 231 + 0)" in page


def test_every_number_is_shown() -> None:
    report = sample_report()
    text = " ".join(parse(render_ja(report)).text)
    numbers = [report["totals"][k] for k in ("rows_in", "rows_out", "rows_rejected")]
    for file in report["files"]:
        numbers += [file["rows_in"], file["rows_out"], file["rows_rejected"]]
        numbers += [g["count"] for g in file["gaiji"]]
        for finding in file["findings"]:
            numbers.append(finding["count"])
            numbers += finding["rows"][:FIRST_ROWS]
    for number in numbers:
        assert f"{number:,}" in text, number
    assert "12, 40, 77" in text
    assert "SETAI2.csv (utf-8, 行 / rows 201–234)" in "".join(
        parse(render_ja(report)).text
    )
    first = ", ".join(str(r) for r in range(501, 501 + FIRST_ROWS))
    assert f"{first}, …" in text  # only the first row ids, and it says there are more
    assert "538" not in text


def test_sections_name_everything() -> None:
    text = " ".join(parse(render_ja(sample_report())).text)
    for word in (
        "date-invalid",
        "gaiji-unresolved",
        "error",
        "warning",
        "生年月日",
        "JUMIN.csv",
        "旧コード",
        "外字 / Gaiji",
        "未対応の列 / Unmapped source columns",
        "juki-setai",
    ):
        assert word in text, word


def test_record_level_finding_says_so() -> None:
    report = sample_report()
    report["files"][0]["findings"][0]["item"] = ""
    assert '<td class="none">レコード / record</td>' in render_ja(report)


def test_item_names_are_escaped() -> None:
    report = sample_report()
    report["files"][0]["findings"][0]["item"] = "<script>alert(1)</script>"
    report["files"][0]["unmapped_columns"] = ['"><img src=x>']
    report["files"][0]["layout_name"] = "A & B"
    page = render_ja(report)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "A &amp; B" in page
    assert "script" not in parse(page).tags


def test_deterministic_and_does_not_modify_input() -> None:
    report = sample_report()
    before = copy.deepcopy(report)
    first = render_ja(report)
    assert render_ja(copy.deepcopy(report)) == first
    assert report == before


def test_no_values_unless_asked() -> None:
    report = sample_report()
    report["files"][0]["findings"][0]["values"] = ["19991399", "山田太郎"]
    hidden = render_ja(report)
    assert "19991399" not in hidden and "山田太郎" not in hidden
    assert "値 / Values: 非表示 / hidden" in hidden
    report["show_values"] = True
    shown = render_ja(report)
    assert "19991399, 山田太郎" in shown and "値 / Values: 表示 / shown" in shown


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


MARK = "\ue000"


def _blank(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _blank(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v) for v in value]
    return MARK if isinstance(value, str) else value


def test_renderer_invents_no_text() -> None:
    """Take every string of the dict and every digit away: only fixed wording is left.

    The fixed wording is what the same report renders to with each of its strings
    replaced by one marker character.
    """
    report = sample_report()
    strings = sorted(set(_strings(report)), key=len, reverse=True)

    def residue(page: str) -> list[str]:
        pieces = []
        for piece in parse(page).text:
            for known in [*strings, MARK]:
                piece = piece.replace(known, "")
            pieces.append("".join(c for c in piece if not c.isdigit() and c != ","))
        return pieces

    assert residue(render_ja(report)) == residue(render_ja(_blank(report)))


def test_missing_keys_do_not_crash() -> None:
    page = render_ja({})
    assert "<h1>mig run 実行報告 / Run report</h1>" in page
    assert "なし / none" in page
    odd = render_ja(
        {"files": [{"layout": 7, "rows_in": None, "findings": [{"rows": "x"}]}]}
    )
    assert "in ≠ out + rejected ✗" in odd


text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
)


@settings(max_examples=60, deadline=None)
@given(item=text, layout_name=text, column=text, source=text)
def test_any_text_survives_escaping(item: str, layout_name: str, column: str, source: str) -> None:
    report = sample_report()
    report["files"][0].update(layout_name=layout_name, sources=[source], unmapped_columns=[column])
    report["files"][0]["findings"][0]["item"] = item
    seen = parse(render_ja(report))
    assert set(seen.tags) <= ALLOWED_TAGS
    joined = "\x00".join(seen.text)
    for value in (item, layout_name, column, source):
        assert value in joined


def test_english_page_puts_english_first_and_declares_it() -> None:
    page = render_report_html(sample_report(), lang="en")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<h1>mig extract Run report / 実行報告</h1>" in page
    assert "✗ Rows rejected / 除外行あり" in page and "Result / 取込結果" in page
    assert "Values / 値: hidden / 非表示" in page
    # the same numbers and rows as the Japanese page: only the labels differ
    assert parse(page).text.count("1234") == parse(render_ja(sample_report())).text.count("1234")


def test_the_current_language_is_the_default(monkeypatch: Any) -> None:
    from mig.i18n import set_lang

    set_lang("ja")
    try:
        assert '<html lang="ja">' in render_report_html(sample_report())
    finally:
        set_lang(None)
    assert '<html lang="en">' in render_report_html(sample_report())  # tests run in English
