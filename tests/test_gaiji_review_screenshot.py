"""The review sheet opened in headless Chromium shows its glyph images (a screenshot test).

Needs Debian ``chromium`` and ``fonts-ipamj-mincho``:
``apt-get install -y chromium fonts-ipamj-mincho fonts-ipaexfont-mincho``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from support.fonts import build_pua_font

from mig.demo.generator import DEMO_GAIJI, generate_legacy_export
from mig.errors import ConfigError
from mig.extract.run import extract
from mig.gaiji.glyphs import GlyphIndex, MJFont, find_mj_font
from mig.gaiji.mj import mj_table
from mig.gaiji.review import review_run

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
try:
    MJ_FONT: Path | None = find_mj_font()
except ConfigError:
    MJ_FONT = None

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)"),
    pytest.mark.skipif(MJ_FONT is None, reason="IPAmj明朝 not installed (apt-get install -y fonts-ipamj-mincho)"),
]

VENDOR_BORDER = (0xC0, 0x00, 0x00)  # the CSS border colours of the sheet's glyph images
CANDIDATE_BORDER = (0x00, 0x50, 0xB0)


def _boxes(pixels: np.ndarray, colour: tuple[int, int, int], size: int) -> list[tuple[int, int, int, int]]:
    """Glyph image boxes: top border runs of ``colour`` about ``size`` px wide → (y0, x0, y1, x1) inside."""
    mask = (pixels[:, :, :3] == np.array(colour, np.uint8)).all(axis=2)
    boxes = []
    for y in range(1, mask.shape[0] - size):
        row, above = mask[y], mask[y - 1]
        x = 0
        while x < mask.shape[1]:
            if row[x] and not above[x]:
                end = x
                while end < mask.shape[1] and row[end]:
                    end += 1
                mid = min(y + size // 2, mask.shape[0] - 1)
                if size - 4 <= end - x <= size + 8 and mask[mid, x] and mask[mid, end - 1]:  # a box, not a bottom edge
                    boxes.append((y + 2, x + 2, y + size + 2, end - 2))
                x = end
            else:
                x += 1
    return boxes


def test_review_sheet_renders_glyph_images_in_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    monkeypatch.setenv("MIG_CACHE_DIR", str(tmp_path / "cache"))
    assert CHROMIUM is not None and MJ_FONT is not None
    export = generate_legacy_export(tmp_path / "legacy", rows=100, seed=0)
    run = tmp_path / "run"
    extract(export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], run)
    vendor = build_pua_font([MJ_FONT], DEMO_GAIJI, tmp_path / "vendor.ttf")
    mj = MJFont()
    table = mj_table().filter(
        pl.col("ucs").is_in(["吉", "古", "告", "舌", "合", "占", "喜"]) | (pl.col("mj") == "MJ032129")
    )
    index = GlyphIndex.build(mj, table["mj"].to_list(), table.select(pl.coalesce("ivs", "ucs")).to_series().to_list())
    sheet = tmp_path / "sheet.html"
    result = review_run(run, sheet, vendor_font=vendor, index=index, top=6)
    assert result.entries and result.entries[0].candidates[0].mj == "MJ032129"

    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         "--window-size=1200,900", sheet.resolve().as_uri()],
        check=False, capture_output=True, timeout=120,
    )
    assert shot.is_file(), "chromium wrote no screenshot"
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (900, 1200)
    assert pixels.std() > 20  # not blank

    vendor_boxes = _boxes(pixels, VENDOR_BORDER, 68)
    candidate_boxes = _boxes(pixels, CANDIDATE_BORDER, 68)
    assert len(vendor_boxes) == 1 and len(candidate_boxes) == len(result.entries[0].candidates)
    for y0, x0, y1, x1 in vendor_boxes + candidate_boxes:
        inside = pixels[y0:y1, x0:x1].mean(axis=2)
        ink = (inside < 100).mean()
        assert 0.03 < ink < 0.7, f"glyph image at {(y0, x0)} has ink share {ink:.3f}"


def test_choices_made_in_the_sheet_export_a_csv_that_decide_applies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pick a candidate and type another MJ name in Chromium; the exported CSV goes to decide."""
    import html
    import re

    from mig.gaiji.registry import load_registry
    from mig.gaiji.review import apply_decisions

    assert CHROMIUM is not None and MJ_FONT is not None
    monkeypatch.setenv("MIG_CACHE_DIR", str(tmp_path / "cache"))
    export = generate_legacy_export(tmp_path / "legacy", rows=100, seed=0)
    run = tmp_path / "run"
    extract(export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], run)
    mj = MJFont()
    table = mj_table().filter(pl.col("ucs").is_in(["吉", "古", "告"]) | (pl.col("mj") == "MJ032129"))
    index = GlyphIndex.build(mj, table["mj"].to_list(), table.select(pl.coalesce("ivs", "ucs")).to_series().to_list())
    vendor = build_pua_font([MJ_FONT], DEMO_GAIJI, tmp_path / "vendor.ttf")
    sheet = tmp_path / "sheet.html"
    review_run(run, sheet, vendor_font=vendor, index=index, top=3, source="demo-vendor-cp932")
    harness = tmp_path / "harness.html"
    script = """<script>
document.getElementById("decided_by").value="山田 (戸籍係)";
document.querySelector('section[data-code="U+E002"] input[type=radio][value="MJ032129"]').checked=true;
URL.createObjectURL=function(b){b.text().then(function(t){var p=document.createElement("pre");
p.id="csv";p.textContent=t;document.body.appendChild(p);});return "#";};
migExport();
</script></body>"""
    harness.write_text(sheet.read_text(encoding="utf-8").replace("</body>", script), encoding="utf-8")
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000", "--dump-dom", harness.resolve().as_uri()],
        check=False, capture_output=True, timeout=120, text=True,
    ).stdout
    found = re.search(r'<pre id="csv">(.*?)</pre>', dom, re.S)
    assert found, "the sheet's export produced no CSV"
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(html.unescape(found.group(1)), encoding="utf-8")
    result = apply_decisions(decisions, tmp_path / "registry.csv")
    assert result.added == 1
    entry = load_registry(tmp_path / "registry.csv").confirmed("demo-vendor-cp932", "U+E002")
    assert entry is not None and entry.mj == "MJ032129" and entry.decided_by == "山田 (戸籍係)"
    assert entry.evidence.startswith("mig gaiji review: candidate 1 of 3")
