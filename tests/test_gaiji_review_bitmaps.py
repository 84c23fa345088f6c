"""``mig gaiji review RUN --font DIR_OF_24x24_PNGS --auto-confirm 0.995`` on a demo run whose
vendor 外字 come as 24×24 1-bit PNGs drawn with a gothic (Noto Sans CJK JP), named by their
CP932 user-area code (``F040.png`` …): registry entries written with their evidence, one
clerk-made glyph (not in MJ) kept as ``own``, and the sheet — the characters still to
decide first — rendered in headless Chromium.

Needs IPAmj明朝 and Noto Sans CJK JP (``fonts-ipamj-mincho fonts-noto-cjk``); the
screenshot also Debian ``chromium``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from mig.cli import main
from mig.demo.generator import DEMO_GAIJI, generate_legacy_export
from mig.errors import ConfigError
from mig.extract.run import extract
from mig.gaiji.glyphs import find_mj_font, load_calibration
from mig.gaiji.mj import mj_table
from mig.gaiji.registry import load_registry

NOTO_SANS = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
try:
    find_mj_font()
    HAVE_MJ = True
except ConfigError:
    HAVE_MJ = False

pytestmark = [
    pytest.mark.skipif(not HAVE_MJ, reason="IPAmj明朝 not installed (apt-get install fonts-ipamj-mincho)"),
    pytest.mark.skipif(not NOTO_SANS.is_file(), reason="Noto Sans CJK not installed (apt-get install fonts-noto-cjk)"),
]

CLERK_MADE = "\ue005"  # its vendor glyph is a character of the clerk's own: 鬱 and 龍 side by side
AUTO_GREEN = (0x21, 0x7A, 0x3C)  # .decision.auto / .own / .review backgrounds of the sheet
OWN_BROWN = (0xA0, 0x4B, 0x0C)
REVIEW_GREY = (0x4A, 0x4A, 0x7A)


def _bitmap(char: str, size: int = 24) -> np.ndarray:
    """``char`` in Noto Sans CJK JP as a ``size``-dot 1-bit glyph (drawn at 4×, box-averaged, thresholded)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(NOTO_SANS), size * 4, index=0, layout_engine=ImageFont.Layout.BASIC)
    ascent, descent = font.getmetrics()
    image = Image.new("L", (size * 4, size * 4), 0)
    ImageDraw.Draw(image).text((size * 2, round(size * 4 * ascent / (ascent + descent))), char, fill=255, font=font, anchor="ms")
    grey = np.asarray(image, np.float32).reshape(size, 4, size, 4).mean(axis=(1, 3))
    return grey >= 128


def _save(ink: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.where(ink, 0, 255).astype(np.uint8), "L").convert("1").save(path)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("bitmaps")
    export = generate_legacy_export(base / "legacy", rows=20_000, seed=1)  # all six 外字 occur
    run = base / "run"
    extract(export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], run)
    glyphs = base / "glyphs"
    glyphs.mkdir()
    for i, (pua, char) in enumerate(sorted(DEMO_GAIJI.items())):
        code = 0xF040 + i  # the CP932 user-area code of U+E000 + i
        assert ord(pua) == 0xE000 + i
        ink = _bitmap(char)
        if pua == CLERK_MADE:
            left, right = _bitmap("鬱"), _bitmap("龍")
            ink = np.concatenate([left[:, ::2] | left[:, 1::2], right[:, ::2] | right[:, 1::2]], axis=1)
        _save(ink, glyphs / f"{code:04X}.png")
    table = mj_table()
    plain = table.filter(pl.col("ucs").is_not_null() & pl.col("ivs").is_null())
    rng = np.random.default_rng(19)
    names = set(plain["mj"].gather(rng.choice(plain.height, 400, replace=False)).to_list())
    wanted = set(DEMO_GAIJI.values()) | {"高", "崎", "吉", "辺", "斎", "浜", "鬱", "龍"}
    names |= set(table.filter(pl.col("ucs").is_in(list(wanted)) | pl.col("ucs_corresponding").is_in(list(wanted)))["mj"])
    candidates = base / "candidates.txt"
    candidates.write_text("\n".join(sorted(names)) + "\n", encoding="utf-8")
    return {"run": run, "glyphs": glyphs, "candidates": candidates, "base": base}


def _demo_registry() -> dict[str, str]:
    """Code → MJ文字図形名 of the demo vendor's own (confirmed) registry: the truth here."""
    from mig.demo.registry import demo_registry_path

    return {e.code: e.mj or "" for e in load_registry(demo_registry_path()).entries}


def _review(demo: dict[str, Path], precision: str, name: str, *extra: str) -> tuple[dict[str, object], Path, Path]:
    if load_calibration() is None:
        pytest.fail("gaiji/glyph-calibration.json missing or for other features: run benchmarks/calibrate_glyph_confidence.py")
    out = demo["base"] / f"{name}.html"
    registry = demo["base"] / f"{name}-registry.csv"
    result = CliRunner().invoke(main, [
        "gaiji", "review", str(demo["run"]), "--font", str(demo["glyphs"]), "--auto-confirm", precision,
        "--source", "demo-vendor-cp932", "--candidates", str(demo["candidates"]), "--out", str(out),
        "--registry", str(registry), "--json", "--quiet", *extra,
    ], env={"MIG_CACHE_DIR": str(demo["base"] / "cache")})
    assert result.exit_code == 0, result.output
    return json.loads(result.output), out, registry


@pytest.fixture(scope="module")
def strict(demo: dict[str, Path]) -> tuple[dict[str, object], Path, Path]:
    """The must-show command: --auto-confirm 0.995."""
    return _review(demo, "0.995", "strict")


@pytest.fixture(scope="module")
def relaxed(demo: dict[str, Path]) -> tuple[dict[str, object], Path, Path]:
    """--auto-confirm 0.95: the precision a municipality might accept for proposals."""
    return _review(demo, "0.95", "relaxed")


def _characters(summary: dict[str, object]) -> dict[str, dict[str, object]]:
    return {c["code"]: c for c in summary["characters"]}  # type: ignore[attr-defined, index]


def _check(summary: dict[str, object], registry_path: Path, status: str) -> list[str]:
    """What every --auto-confirm run must hold; returns the auto-confirmed codes."""
    characters = _characters(summary)
    assert set(characters) == {f"U+{ord(c):04X}" for c in DEMO_GAIJI}
    for c in characters.values():  # the --json shape is kept; fields only added
        assert {"code", "count", "has_glyph", "where", "candidates"} <= set(c)
        assert {"rank", "mj", "codepoints", "score", "glyph", "reading", "hint"} <= set(c["candidates"][0])  # type: ignore[index]
        assert c["has_glyph"] and 0.0 <= c["confidence"] <= 1.0 and c["decision"] in ("auto", "own", "review")  # type: ignore[operator]
    truth = _demo_registry()
    registry = load_registry(registry_path)
    by_code = {e.code: e for e in registry.entries}
    autos = [code for code, c in characters.items() if c["decision"] == "auto"]
    for code in autos:
        entry = by_code[code]
        assert entry.status == status and entry.decided_by == "mig gaiji review --auto-confirm"
        assert entry.mj == truth[code], (code, entry.mj, truth[code])  # never a wrong record, not even a variant twin
        for word in ("confidence ≥", "glyph", "margin", "reading", "features v3"):
            assert word in entry.evidence
    clerk = f"U+{ord(CLERK_MADE):04X}"
    assert characters[clerk]["decision"] == "own" and characters[clerk]["not_in_mj"]
    own = by_code[clerk]
    assert own.status == "own" and own.mj is None and own.text == "" and "data:image/png;base64," in own.evidence
    assert {e.code for e in registry.entries} == {*autos, clerk}  # the rest waits for a person
    return autos


def test_auto_confirm_at_99_5_percent_writes_only_what_it_is_sure_of(strict: tuple[dict[str, object], Path, Path]) -> None:
    summary, _sheet, registry_path = strict
    _check(summary, registry_path, "proposed")
    auto = summary["auto_confirm"]  # type: ignore[index]
    assert auto["precision"] == 0.995 and auto["status"] == "proposed"  # type: ignore[index]
    assert load_registry(registry_path).for_source("demo-vendor-cp932") == {}  # proposed / own never resolve


def test_auto_confirm_at_95_percent_proposes_more_all_right(
    strict: tuple[dict[str, object], Path, Path], relaxed: tuple[dict[str, object], Path, Path],
) -> None:
    autos = _check(relaxed[0], relaxed[2], "proposed")
    assert len(autos) >= 2 and len(autos) >= len(_check(strict[0], strict[2], "proposed"))


def test_trust_auto_writes_confirmed_entries(demo: dict[str, Path], relaxed: tuple[dict[str, object], Path, Path]) -> None:
    summary, _, _ = _review(demo, "0.95", "trusted", "--trust-auto")
    autos = _check(summary, demo["base"] / "trusted-registry.csv", "confirmed")
    assert autos == [c for c, v in _characters(relaxed[0]).items() if v["decision"] == "auto"]
    resolved = load_registry(demo["base"] / "trusted-registry.csv").for_source("demo-vendor-cp932")
    assert set(resolved) == set(autos)


def test_auto_confirm_out_of_range_is_a_usage_error(demo: dict[str, Path]) -> None:
    result = CliRunner().invoke(main, ["gaiji", "review", str(demo["run"]), "--auto-confirm", "1.5"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["gaiji", "review", str(demo["run"]), "--auto-confirm", "0.99"])
    assert result.exit_code == 2 and "no registry source" in result.output


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_sheet_lists_the_characters_to_decide_first_in_chromium(
    relaxed: tuple[dict[str, object], Path, Path], tmp_path: Path,
) -> None:
    from PIL import Image

    assert CHROMIUM is not None
    summary, sheet, _ = relaxed
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         "--window-size=1200,4000", sheet.resolve().as_uri()],
        check=False, capture_output=True, timeout=120,
    )
    assert shot.is_file(), "chromium wrote no screenshot"
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (4000, 1200) and pixels.std() > 20

    def rows_of(colour: tuple[int, int, int]) -> np.ndarray:
        mask = (pixels == np.array(colour, np.uint8)).all(axis=2)
        return np.flatnonzero(mask.sum(axis=1) >= 20)  # a badge's background, not a stray pixel

    decisions = [c["decision"] for c in summary["characters"]]  # type: ignore[attr-defined, index, union-attr]
    auto_rows, own_rows, review_rows = rows_of(AUTO_GREEN), rows_of(OWN_BROWN), rows_of(REVIEW_GREY)
    assert {"auto", "own", "review"} <= set(decisions)
    assert len(auto_rows) and len(own_rows) and len(review_rows), "decision badges not drawn"
    assert review_rows.max() < own_rows.min() and own_rows.max() < auto_rows.min()  # the rest first
    counts = [c["count"] for c in summary["characters"] if c["decision"] == "review"]  # type: ignore[attr-defined, index]
    order = [int(m) for m in re.findall(r'<section class="char" id="c-U\+[0-9A-F]+" data-code="[^"]+" '
                                           r'data-source="[^"]*" data-count="(\d+)"', sheet.read_text(encoding="utf-8"))]
    assert order[:len(counts)] == sorted(counts, reverse=True)  # most rows first
