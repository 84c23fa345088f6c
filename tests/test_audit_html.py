"""The audit's HTML page: self-contained, escaped, summary first — and it renders in Chromium."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_audit_support import copy_run, make_demo_run

from mig.audit import audit_package, render_audit_html
from mig.demo.generator import DemoExport

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoExport, Path]:
    return make_demo_run(tmp_path_factory.mktemp("audit-html"))


@pytest.fixture(scope="module")
def failing_report(demo: tuple[DemoExport, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A report with a bit of everything: a missing file, tampering, 外字, warnings."""
    run = copy_run(demo[1], tmp_path_factory.mktemp("html") / "package")
    (run / "data" / "juki-ido.parquet").unlink()
    data = (run / "data" / "juki-setai.csv").read_bytes()
    (run / "data" / "juki-setai.csv").write_bytes(data.replace(b"20011126", b"20011131", 1))
    return audit_package(run).to_dict()


class _Checker(HTMLParser):
    VOID = {"meta", "br", "rect", "hr", "img", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.external: list[str] = []
        self.sections: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)
            if tag == "section" and name == "id" and value:
                self.sections.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, (self.stack[-5:], tag)
        self.stack.pop()


def test_page_is_self_contained_balanced_and_summary_first(failing_report: dict[str, object]) -> None:
    page = render_audit_html(failing_report)
    checker = _Checker()
    checker.feed(page)
    assert checker.stack == ["html"] or checker.stack == []
    assert checker.external == [] and "script" not in checker.tags
    assert checker.sections[0] == "summary" and checker.sections[-2:] == ["inventory", "definitions"]
    assert "svg" in checker.tags and "rect" in checker.tags
    summary = page[page.index('id="summary"'):page.index('id="business-1"')]
    assert "✗ FAIL" in summary and "incomplete" in summary  # tests run in English
    assert "listed-file-missing" in summary and "hash-mismatch" in summary and "date-invalid" in summary
    assert "外字 left" in summary and "run-rejects" in summary
    assert render_audit_html(failing_report) == page  # same dict, same page
    ja = render_audit_html(failing_report, "ja")
    summary = ja[ja.index('id="summary"'):ja.index('id="business-1"')]
    assert "受入不可" in summary and "不足あり" in summary and "外字が残っています" in summary
    # 依頼事項: the missing file is asked for; 外字 by item and count, never the characters
    assert "data/juki-ido.parquetの納品、または管理ファイルの訂正を依頼" in summary
    assert "世帯主氏名の外字 1 件について、MJ 文字図形名または標準文字への対応表を依頼" in summary


def test_every_text_is_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    report = {
        "passed": False, "package": hostile, "options": {"repertoire": hostile},
        "businesses": [{"business": hostile, "verdict": hostile, "layouts": [{"layout": hostile, "status": hostile, "files": [hostile]}],
                        "blocking": [hostile]}],
        "files": [{"path": hostile, "business": hostile, "layout": hostile, "read_error": hostile,
                   "items": [{"name": hostile, "status": "extra", "checked": 3, "conforming": 1}],
                   "findings": [{"type": hostile, "severity": "error", "item": hostile, "message": hostile, "rows": [hostile]}],
                   "controls": [{"source": hostile, "matches": False}]}],
        "findings": [{"type": hostile, "severity": "warning", "path": hostile, "message": hostile}],
        "inventory": [{"path": hostile, "role": hostile, "sha256": hostile, "check": hostile}],
    }
    page = render_audit_html(report)
    assert "<script" not in page and "&lt;script&gt;" in page


def _png_pixels(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and the inflated image data of a PNG (no imaging library needed)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    chunks, position = [], 8
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        if kind == b"IDAT":
            chunks.append(png[position + 8:position + 8 + length])
        position += 12 + length
    return width, height, zlib.decompress(b"".join(chunks))


def _screenshot(page: Path, out: Path, profile: Path) -> bytes:
    assert CHROMIUM is not None
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", f"--screenshot={out}", "--window-size=1200,1600", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    return out.read_bytes()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium); CI installs it")
def test_report_renders_in_headless_chromium(failing_report: dict[str, object], tmp_path: Path) -> None:
    page = tmp_path / "audit.html"
    page.write_text(render_audit_html(failing_report), encoding="utf-8")
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    shot = _screenshot(page, tmp_path / "audit.png", tmp_path / "profile")
    empty = _screenshot(blank, tmp_path / "blank.png", tmp_path / "profile")
    width, height, pixels = _png_pixels(shot)
    assert (width, height) == (1200, 1600)
    # a rendered page has text (anti-aliased: many distinct byte values) and far more to
    # compress than a blank one
    assert len(set(pixels)) > 100
    assert len(shot) > 10 * len(empty)
    _, _, blank_pixels = _png_pixels(empty)
    assert len(set(blank_pixels)) < 10
