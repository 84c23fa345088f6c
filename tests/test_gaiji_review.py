"""The 外字 identification workbench: rendering, glyph similarity, review sheet, decide.

Needs IPAmj明朝 (Debian ``fonts-ipamj-mincho``); the cross-font test also IPAex明朝
(``fonts-ipaexfont-mincho``). Indexes here cover a few hundred MJ characters so the file
stays fast; the benchmark (benchmarks/bench_glyph_match.py) runs against all of them.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.fonts import build_pua_font

from mig.cli import main
from mig.demo.generator import DEMO_GAIJI, generate_legacy_export
from mig.errors import ConfigError, InputError
from mig.extract.run import extract
from mig.gaiji.glyphs import (
    GlyphIndex,
    MJFont,
    VendorFont,
    find_mj_font,
    glyph_features,
)
from mig.gaiji.mj import mj_table
from mig.gaiji.registry import load_registry
from mig.gaiji.review import apply_decisions, kana_contexts, reading_scores, review_run

IPAEX = Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf")

try:
    MJ_FONT_PATH: Path | None = find_mj_font()
except ConfigError:
    MJ_FONT_PATH = None

pytestmark = pytest.mark.skipif(
    MJ_FONT_PATH is None, reason="IPAmj明朝 not installed (apt-get install fonts-ipamj-mincho)"
)

# 𠮷 吉 and the MJ characters of the demo registry, plus look-alikes
DEMO_MJ = ["MJ032129", "MJ008064", "MJ028902", "MJ030196", "MJ026200", "MJ030060", "MJ016106"]


def _subset() -> list[str]:
    table = mj_table()
    plain = table.filter(pl.col("ucs").is_not_null() & pl.col("ivs").is_null())
    rng = np.random.default_rng(4)
    picked = plain["mj"].gather(rng.choice(plain.height, 260, replace=False)).to_list()
    base = {"高", "崎", "邉", "斎", "浜", "辺", "齊", "濱", "嵜", "吉"}
    similar = table.filter(pl.col("ucs").is_in(list(base)) | pl.col("ucs_corresponding").is_in(list(base)))
    return sorted(set(picked) | set(DEMO_MJ) | set(similar["mj"].to_list()))


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    path = tmp_path_factory.mktemp("cache")
    monkey = pytest.MonkeyPatch()
    monkey.setenv("MIG_CACHE_DIR", str(path))
    request.addfinalizer(monkey.undo)
    return path


@pytest.fixture(scope="module")
def mj_font(cache: Path) -> MJFont:
    return MJFont(cache=cache)


@pytest.fixture(scope="module")
def names() -> list[str]:
    return _subset()


@pytest.fixture(scope="module")
def index(mj_font: MJFont, names: list[str]) -> GlyphIndex:
    table = mj_table().filter(pl.col("mj").is_in(names))
    return GlyphIndex.build(
        mj_font, table["mj"].to_list(), table.select(pl.coalesce("ivs", "ucs")).to_series().to_list(),
        table["strokes"].to_list(),
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    export = generate_legacy_export(tmp_path_factory.mktemp("legacy"), rows=100, seed=0)
    out = tmp_path_factory.mktemp("runs") / "run"
    extract(export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], out)
    return out


@pytest.fixture(scope="module")
def vendor_font(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo vendor's 外字 drawn with IPAmj's UCS glyphs (IPAex where it has them)."""
    assert MJ_FONT_PATH is not None
    sources = [IPAEX, MJ_FONT_PATH] if IPAEX.is_file() else [MJ_FONT_PATH]
    return build_pua_font(sources, DEMO_GAIJI, tmp_path_factory.mktemp("font") / "vendor.ttf")


def _mj_of(ucs: str) -> str:
    return str(mj_table().filter(pl.col("ucs") == ucs)["mj"][0])


# -- rendering -------------------------------------------------------------------------


def test_rendering_a_known_mj_character_gives_ink(mj_font: MJFont) -> None:
    gid = mj_font.glyph_id("MJ028902")  # 髙
    assert gid is not None
    image = np.asarray(mj_font.image(gid, 64))
    dark = (image < 128).mean()
    assert image.shape == (64, 64) and 0.05 < dark < 0.6
    ivs_gid = mj_font.glyph_id("MJ026199")  # 邊 + VS (IVS only, no UCS of its own)
    assert ivs_gid is not None and ivs_gid != mj_font.glyph_id(_mj_of("邊"))
    ink = mj_font.inks([ivs_gid])[0]
    assert ink.max() == 255 and ink.shape[0] > 30


def test_glyph_id_falls_back_to_the_ivs_cmap(mj_font: MJFont) -> None:
    by_name = mj_font.glyph_id("MJ026199")
    assert by_name is not None and mj_font.glyph_id("MJ999999", "邊\U000E010F") == by_name
    assert mj_font.glyph_id("MJ999999", None) is None


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scale=st.floats(0.6, 1.6), dy=st.integers(0, 20), dx=st.integers(0, 20))
def test_features_ignore_position_and_size(mj_font: MJFont, scale: float, dy: int, dx: int) -> None:
    from PIL import Image

    ink = mj_font.inks([mj_font.glyph_id("MJ028902") or 0])[0]
    h, w = ink.shape
    resized = np.asarray(Image.fromarray(ink).resize((max(1, round(w * scale)), max(1, round(h * scale)))))
    moved = np.pad(resized, ((dy, 0), (dx, 0)))
    a, b = glyph_features([ink, moved])
    assert float(a @ b) > 0.95


def test_glyph_features_of_nothing_is_zero() -> None:
    assert not glyph_features([np.zeros((5, 5), np.uint8)]).any()
    assert glyph_features([]).shape == (0, 256)


# -- similarity ------------------------------------------------------------------------


def test_same_font_ranks_the_same_character_first(index: GlyphIndex, names: list[str], tmp_path: Path) -> None:
    assert MJ_FONT_PATH is not None
    table = mj_table().filter(pl.col("mj").is_in(names) & pl.col("ucs").is_not_null() & pl.col("ivs").is_null())
    sample = table.head(40)
    chars = {chr(0xE000 + i): u for i, u in enumerate(sample["ucs"].to_list())}
    font = VendorFont(build_pua_font(MJ_FONT_PATH, chars, tmp_path / "same.ttf"))
    raw = glyph_features(font.inks(list(chars)))
    top, scores = index.search(raw, 3)
    best = [index.names[i] for i in top[:, 0]]
    assert best == sample["mj"].to_list()
    assert (scores[:, 0] > 0.9).all() and (scores[:, 0] >= scores[:, 1]).all()


@pytest.mark.skipif(not IPAEX.is_file(), reason="IPAex明朝 not installed (apt-get install fonts-ipaexfont-mincho)")
def test_another_font_finds_the_character_in_the_top_five(index: GlyphIndex, names: list[str], tmp_path: Path) -> None:
    from fontTools.ttLib import TTFont

    have = TTFont(str(IPAEX), lazy=True).getBestCmap()
    table = mj_table().filter(pl.col("mj").is_in(names) & pl.col("ucs").is_not_null() & pl.col("ivs").is_null())
    table = table.filter(pl.col("ucs").map_elements(lambda u: ord(u) in have, return_dtype=pl.Boolean)).head(60)
    chars = {chr(0xE000 + i): u for i, u in enumerate(table["ucs"].to_list())}
    font = VendorFont(build_pua_font(IPAEX, chars, tmp_path / "ipaex.ttf"))
    top, _ = index.search(glyph_features(font.inks(list(chars))), 5)
    bases = mj_table().select("mj", pl.coalesce("ucs", pl.col("ivs").str.slice(0, 1)).alias("base"))
    base_of = dict(bases.iter_rows())
    hits = [u in {base_of[index.names[i]] for i in row} for u, row in zip(chars.values(), top, strict=True)]
    assert sum(hits) / len(hits) >= 0.95


def test_index_round_trips_through_the_cache(index: GlyphIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "i.npz")
    again = GlyphIndex.load(tmp_path / "i.npz")
    assert again.names == index.names and again.key == index.key
    assert np.array_equal(again.vectors, index.vectors)


# -- readings and hints ------------------------------------------------------------------


def test_readings_align_by_word_and_ignore_voicing() -> None:
    hits = pl.DataFrame({
        "char": ["\ue001", "\ue001", "\ue000"],
        "value": ["山\ue001　花子", "宮\ue001　一郎", "\ue000橋　太郎"],
        "kana": ["ヤマザキ　ハナコ", "ミヤザキ イチロウ", "タカハシ　タロウ"],
    })
    contexts = kana_contexts(hits)
    assert set(contexts.select("char", "kana", "mode").rows()) == {
        ("\ue001", "ヤマサキ", "end"), ("\ue001", "ミヤサキ", "end"), ("\ue000", "タカハシ", "start"),
    }
    row_of = {m: i for i, m in enumerate(mj_table()["mj"].to_list())}
    pairs = pl.DataFrame({
        "char": ["\ue001", "\ue001", "\ue000", "\ue000"],
        "row": [row_of[_mj_of("崎")], row_of[_mj_of("吉")], row_of["MJ028902"], row_of[_mj_of("橋")]],
    })
    scores = dict(((c, r), s) for c, r, s in reading_scores(contexts, pairs).rows())
    assert scores[("\ue001", row_of[_mj_of("崎")])] == 1.0  # サキ at the end of both
    assert scores[("\ue001", row_of[_mj_of("吉")])] == 0.0
    assert scores[("\ue000", row_of["MJ028902"])] > 0.5  # 髙: タカイ → stem タカ at the start
    assert scores[("\ue000", row_of[_mj_of("橋")])] == 0.0  # ハシ is not at the start


# -- the review sheet --------------------------------------------------------------------


def test_review_writes_a_self_contained_sheet_and_template(
    run_dir: Path, vendor_font: Path, index: GlyphIndex, tmp_path: Path
) -> None:
    out = tmp_path / "sheet.html"
    result = review_run(run_dir, out, vendor_font=vendor_font, index=index, top=5, source="demo-vendor-cp932")
    page = out.read_text(encoding="utf-8")
    assert [e.code for e in result.entries] == ["U+E002"]
    entry = result.entries[0]
    assert entry.candidates[0].mj == "MJ032129"  # 𠮷 first, 吉 close behind
    assert "MJ008064" in [c.mj for c in entry.candidates[:3]]
    assert entry.count == 3 and {o.item for o in entry.where} == {"氏名", "筆頭者", "世帯主氏名"}
    assert page.count('src="data:image/png;base64,') == 1 + 5
    assert not re.search(r'(src|href)="(?!data:)', page)  # no external asset
    assert "ヨシダ" not in page  # no data values without --show-values
    with out.with_suffix(".csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{
        "source": "demo-vendor-cp932", "code": "U+E002", "mj": "", "text": "", "decided_by": "", "evidence": "",
        "count": "3", "candidates": " ".join(f"{c.mj}:{c.score:.3f}" for c in entry.candidates),
    }]
    again = tmp_path / "again.html"
    review_run(run_dir, again, vendor_font=vendor_font, index=index, top=5, source="demo-vendor-cp932")
    assert again.read_bytes() == out.read_bytes()


def test_review_shows_values_only_when_asked(run_dir: Path, vendor_font: Path, index: GlyphIndex, tmp_path: Path) -> None:
    out = tmp_path / "sheet.html"
    review_run(run_dir, out, vendor_font=vendor_font, index=index, show_values=True)
    assert "ヨシタ" in out.read_text(encoding="utf-8")


def test_a_code_the_font_lacks_gets_a_no_glyph_cell(run_dir: Path, index: GlyphIndex, tmp_path: Path) -> None:
    assert MJ_FONT_PATH is not None
    font = build_pua_font(MJ_FONT_PATH, {"\ue000": "髙"}, tmp_path / "partial.ttf")
    result = review_run(run_dir, tmp_path / "s.html", vendor_font=font, index=index)
    assert not result.entries[0].has_glyph
    assert "no glyph" in (tmp_path / "s.html").read_text(encoding="utf-8")
    assert any("U+E002" in n for n in result.notes)


def test_hints_lift_the_candidate_with_that_radical_and_strokes(
    run_dir: Path, vendor_font: Path, index: GlyphIndex, tmp_path: Path
) -> None:
    hints = tmp_path / "hints.csv"
    hints.write_text("code,radical,strokes\nU+E002,30,6\n", encoding="utf-8")
    result = review_run(run_dir, tmp_path / "s.html", vendor_font=vendor_font, index=index, hints=hints)
    top = result.entries[0].candidates[0]
    assert top.hint == pytest.approx(0.05) and top.score == pytest.approx(top.glyph + top.hint + 0.05 * top.reading)


def test_not_a_font_is_a_one_line_input_error(run_dir: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "EUDC.tte"
    bogus.write_bytes(b"this is not a font at all" * 10)
    with pytest.raises(InputError, match="not a TrueType/OpenType font"):
        review_run(run_dir, tmp_path / "s.html", vendor_font=bogus)
    result = CliRunner().invoke(main, ["gaiji", "review", str(run_dir), "--font", str(bogus)])
    assert result.exit_code == 3 and result.output.count("\n") == 1 and "EUDC.tte" in result.output


def test_review_command_with_a_candidate_list(run_dir: Path, vendor_font: Path, names: list[str], tmp_path: Path) -> None:
    listing = tmp_path / "candidates.txt"
    listing.write_text("# demo subset\n" + "\n".join(names) + "\n", encoding="utf-8")
    out = tmp_path / "cli.html"
    result = CliRunner().invoke(main, [
        "gaiji", "review", str(run_dir), "--font", str(vendor_font), "--out", str(out),
        "--candidates", str(listing), "--top", "3", "--source", "demo-vendor-cp932", "-q",
    ])
    assert result.exit_code == 0, result.output
    assert "U+E002" in result.output and "MJ032129" in result.output
    assert out.is_file() and out.with_suffix(".csv").is_file()
    bad = CliRunner().invoke(main, ["gaiji", "review", str(run_dir), "--candidates", "nonsense"])
    assert bad.exit_code == 2 and "--candidates" in bad.output


# -- decide ------------------------------------------------------------------------------


def _decisions(path: Path, rows: list[dict[str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["source", "code", "mj", "text", "decided_by", "evidence", "count", "candidates"])
    writer.writeheader()
    for row in rows:
        writer.writerow({"count": "3", "candidates": "", **row})
    path.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8")
    return path


def test_decide_adds_confirmed_entries_with_provenance(tmp_path: Path) -> None:
    registry = tmp_path / "reg.csv"
    decisions = _decisions(tmp_path / "d.csv", [
        {"source": "demo-vendor-cp932", "code": "U+E002", "mj": "MJ032129", "text": "", "decided_by": "", "evidence": ""},
        {"source": "demo-vendor-cp932", "code": "U+E003", "mj": "", "text": "", "decided_by": "", "evidence": ""},
    ])
    result = apply_decisions(decisions, registry, decided_by="山田")
    assert (result.added, result.skipped, result.unchanged) == (1, 1, 0)
    entry = load_registry(registry).confirmed("demo-vendor-cp932", "U+E002")
    assert entry is not None and entry.mj == "MJ032129" and entry.text == "\U00020bb7"
    assert entry.decided_by == "山田" and entry.decided_at and entry.evidence
    again = apply_decisions(decisions, registry, decided_by="山田")
    assert (again.added, again.unchanged) == (0, 1)


def test_decide_refuses_a_conflict_and_leaves_the_registry(tmp_path: Path) -> None:
    registry = tmp_path / "reg.csv"
    first = _decisions(tmp_path / "a.csv", [
        {"source": "s", "code": "U+E002", "mj": "MJ032129", "text": "", "decided_by": "a", "evidence": ""}])
    apply_decisions(first, registry)
    before = registry.read_bytes()
    other = _decisions(tmp_path / "b.csv", [
        {"source": "s", "code": "U+E002", "mj": "MJ008064", "text": "", "decided_by": "b", "evidence": ""}])
    with pytest.raises(ConfigError, match="conflict"):
        apply_decisions(other, registry)
    assert registry.read_bytes() == before
    result = CliRunner().invoke(main, ["gaiji", "decide", str(other), "--registry", str(registry)])
    assert result.exit_code == 2 and "conflict" in result.output


def test_decide_command_and_bad_rows(tmp_path: Path) -> None:
    registry = tmp_path / "reg.csv"
    ok = _decisions(tmp_path / "ok.csv", [
        {"source": "", "code": "U+E000", "mj": "MJ028902", "text": "", "decided_by": "", "evidence": "戸籍と照合"}])
    result = CliRunner().invoke(main, [
        "gaiji", "decide", str(ok), "--registry", str(registry), "--source", "v", "--by", "佐藤", "--json"])
    assert result.exit_code == 0, result.output
    assert load_registry(registry).for_source("v") == {"U+E000": "髙"}
    no_source = CliRunner().invoke(main, ["gaiji", "decide", str(ok), "--registry", str(registry), "--by", "x"])
    assert no_source.exit_code == 2 and "source" in no_source.output
    unknown = _decisions(tmp_path / "u.csv", [
        {"source": "v", "code": "U+E001", "mj": "MJ999999", "text": "", "decided_by": "x", "evidence": ""}])
    with pytest.raises(ConfigError, match="MJ999999"):
        apply_decisions(unknown, registry)
    malformed = _decisions(tmp_path / "m.csv", [
        {"source": "v", "code": "E001", "mj": "MJ028902", "text": "", "decided_by": "x", "evidence": ""}])
    with pytest.raises(InputError, match="malformed code"):
        apply_decisions(malformed, registry)


def test_without_a_font_candidates_come_from_readings_and_hints(run_dir: Path, names: list[str], tmp_path: Path) -> None:
    hints = tmp_path / "hints.csv"
    hints.write_text("code,radical,strokes\nU+E002,30,6\n", encoding="utf-8")
    result = review_run(run_dir, tmp_path / "s.html", hints=hints, top=100)
    assert any("no vendor font" in n for n in result.notes)
    cands = result.entries[0].candidates
    assert {"MJ032129", "MJ008064"} <= {c.mj for c in cands}
    assert all(c.glyph == 0.0 and (c.reading > 0 or c.hint > 0) for c in cands)
    assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    assert "no glyph" in (tmp_path / "s.html").read_text(encoding="utf-8")


def test_a_run_resolved_through_a_registry_has_nothing_to_review(tmp_path: Path) -> None:
    from mig.demo.registry import attach_demo_registry

    export = generate_legacy_export(tmp_path / "legacy", rows=100, seed=0)
    attach_demo_registry(export.mapping)
    run = tmp_path / "run"
    extract(export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], run)
    result = review_run(run, vendor_font=None)
    assert result.entries == () and result.source == "demo-vendor-cp932"
    assert "No unresolved" in (run / "gaiji-review.html").read_text(encoding="utf-8")
    assert (run / "gaiji-review.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "source,code,mj,text,decided_by,evidence,count,candidates"
    ]


def test_sheet_follows_the_language() -> None:
    """Headings in both languages (the sheet's first), the narrow cells in its language only."""
    from mig.gaiji.review import ReviewResult, render_sheet

    empty = ReviewResult(html=Path("s.html"), csv=Path("s.csv"), source="demo", entries=(), vendor_font=None,
                         mj_font=None, notes=())
    ja = render_sheet(empty, lang="ja")
    en = render_sheet(empty, lang="en")
    assert '<html lang="ja">' in ja and "<h1>外字 同定シート / Gaiji identification sheet</h1>" in ja
    assert '<html lang="en">' in en and "<h1>Gaiji identification sheet / 外字 同定シート</h1>" in en
    assert "ベンダーフォント: （なし）" in ja and "vendor font: (none)" in en and "ベンダー" not in en
    assert "未解決の外字はありません / No unresolved" in ja
