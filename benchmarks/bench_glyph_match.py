"""Glyph-match benchmark: how often the workbench finds the right MJ character.

For each test font (another Mincho than IPAmj: IPAex明朝, Noto Serif CJK JP; optionally
Noto Sans CJK JP, a gothic, as a stress test) it

1. takes a seeded sample of N MJ characters that have a plain UCS (実装したUCS) and that
   every chosen test font has (the same sample for every font);
2. draws them with the test font into Private Use slots U+E000… of a new TrueType font
   (``build_pua_font`` of ``tests/support/fonts.py``: outlines copied with a TTGlyphPen, CFF curves
   converted to quadratic) — a synthetic vendor gaiji font;
3. identifies every slot against ALL MJ glyphs (58,862, IPAmj明朝) with the workbench's
   glyph similarity (:class:`mig.gaiji.glyphs.GlyphIndex`) — glyph only: no readings,
   no hints;
4. reports top-1 and top-5 accuracy, two ways:

   - **lenient**: a candidate is right when its MJ record's base character (実装したUCS,
     or the base of its IVS) is the drawn character — several MJ records share a base
     (the plain form and its IVS variants), any of them counts;
   - **strict**: only the one MJ record whose 実装したUCS is the drawn character counts.

   and seconds per character: rendering the vendor glyph + features + similarity
   against all MJ glyphs + top-5, batched over all N (and, separately, one character
   at a time). Building the MJ index (first use; cached afterwards) is timed apart.

Usage::

    python benchmarks/bench_glyph_match.py [--n 1000] [--seed 0] [--fonts ipaex,noto-serif]
                                            [--json FILE] [--workdir DIR]

**Bitmaps** (``--bitmaps``, issue 19): the vendor 外字 a mainframe holds are 1-bit dot
glyphs. N characters of the benchmark half of :func:`glyph_bitmaps.split` (the other half
calibrates the confidence: ``benchmarks/calibrate_glyph_confidence.py``) are drawn with
each design (``--designs gothic,serif``: Noto Sans / Serif CJK JP) at each size
(``--sizes 24,32``) as 1-bit bitmaps, plus ``--composed`` glyphs that are not in MJ (two
characters side by side); reported per size and design: top-1 / top-5 (lenient and
strict), the calibrated confidence's auto-confirmation curve (strict precision of the
confirmed vs share confirmed: an auto-confirmed entry names one MJ record) and
how many not-in-MJ glyphs were abstained (not auto-confirmed at ``--precision``) or flagged
not in MJ::

    python benchmarks/bench_glyph_match.py --bitmaps [--n 1000] [--composed 100] [--json FILE]

and what limits the strict precision: the share of top-1 errors that are another MJ record
of the drawn character (an IVS variant — the test design draws that form), of errors that
are another character, the share of drawn characters whose own MJ record is
pixel-identical at that size to another MJ record (:func:`pixel_twins`: no method can
separate those, so it bounds any matcher) and the curve if a variant counted right
(``lenient_curve``). ``--sizes 24,32,64`` adds a near-outline reference: errors that stay
the same at 64 dots come from the design, not from the dots.

Nothing here asserts; the target in issue 4 is top-5 ≥ 95 %, top-1 ≥ 80 %.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from mig.gaiji.glyphs import GlyphIndex, MJFont, VendorFont, glyph_features
from mig.gaiji.mj import mj_table

FONTS: dict[str, tuple[str, Path]] = {
    "ipaex": ("IPAex明朝 (fonts-ipaexfont-mincho)", Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf")),
    "noto-serif": ("Noto Serif CJK JP (fonts-noto-cjk)", Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")),
    "noto-sans": ("Noto Sans CJK JP, a gothic (fonts-noto-cjk)", Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")),
}


def _cmap(path: Path) -> set[int]:
    from fontTools.ttLib import TTCollection, TTFont

    with path.open("rb") as handle:
        collection = handle.read(4) == b"ttcf"
    font = TTCollection(str(path), lazy=True).fonts[0] if collection else TTFont(str(path), lazy=True)
    return set(font.getBestCmap() or {})


def _sample(n: int, seed: int, fonts: list[Path]) -> list[str]:
    table = mj_table()
    plain = sorted(set(table.filter(pl.col("ucs").is_not_null())["ucs"].to_list()))
    covered = set.intersection(*(_cmap(p) for p in fonts))
    eligible = [c for c in plain if ord(c) in covered]
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(eligible), size=min(n, len(eligible)), replace=False)
    return [eligible[i] for i in sorted(picked)]


def _index(font: MJFont) -> tuple[GlyphIndex, float, bool]:
    table = mj_table()
    names = table["mj"].to_list()
    from mig.gaiji.glyphs import index_key

    cached = (font.cache / f"glyph-index-{index_key(font, names)}.npz").is_file()
    start = time.perf_counter()
    index = GlyphIndex.cached(
        font, names, table.select(pl.coalesce("ivs", "ucs")).to_series().to_list(), table["strokes"].to_list(),
    )
    return index, time.perf_counter() - start, cached


def _measure(index: GlyphIndex, vendor: VendorFont, chars: list[str], codes: list[str]) -> dict[str, Any]:
    table = mj_table()
    pos = {m: i for i, m in enumerate(table["mj"].to_list())}
    rows = np.asarray([pos[n] for n in index.names])
    ucs = table["ucs"].fill_null("").to_numpy()[rows]
    base = table.select(pl.coalesce("ucs", pl.col("ivs").str.slice(0, 1)).fill_null("")).to_series().to_numpy()[rows]

    start = time.perf_counter()
    top, _scores = index.search(glyph_features(vendor.inks(codes)), 5)
    batched = (time.perf_counter() - start) / len(codes)

    one = min(50, len(codes))
    start = time.perf_counter()
    for code in codes[:one]:  # one character at a time, as a reviewer's single lookup
        index.search(glyph_features(vendor.inks([code])), 5)
    single = (time.perf_counter() - start) / one

    truth = np.asarray(chars)[:, None]
    lenient = base[top] == truth
    strict = ucs[top] == truth
    misses = [
        {"char": c, "top5": [index.names[i] for i in t]}
        for c, t, ok in zip(chars, top, lenient[:, 0], strict=True) if not ok
    ][:20]
    return {
        "n": len(chars),
        "lenient_top1": float(lenient[:, 0].mean()),
        "lenient_top5": float(lenient.any(axis=1).mean()),
        "strict_top1": float(strict[:, 0].mean()),
        "strict_top5": float(strict.any(axis=1).mean()),
        "seconds_per_char_batched": batched,
        "seconds_per_char_single": single,
        "first_lenient_misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fonts", default="ipaex,noto-serif", help=f"comma list of {', '.join(FONTS)}")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--workdir", type=Path, help="where the synthetic fonts go (default: a temp dir)")
    parser.add_argument("--bitmaps", action="store_true", help="1-bit bitmap glyphs instead of outline fonts")
    parser.add_argument("--designs", default="gothic,serif", help="bitmap designs (glyph_bitmaps.DESIGNS)")
    parser.add_argument("--sizes", default="24,32", help="bitmap sizes in dots")
    parser.add_argument("--composed", type=int, default=100, help="not-in-MJ composed glyphs per design and size")
    parser.add_argument("--precision", type=float, default=0.995, help="auto-confirm at this calibrated precision")
    args = parser.parse_args(argv)
    if args.bitmaps:
        return bitmap_main(args)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from support.fonts import build_pua_font  # test support: synthetic vendor fonts, not shipped


    chosen = [f.strip() for f in args.fonts.split(",") if f.strip()]
    missing = [f for f in chosen if f not in FONTS or not FONTS[f][1].is_file()]
    if missing:
        print(f"font(s) not available: {', '.join(missing)} (apt-get install fonts-ipaexfont-mincho fonts-noto-cjk)")
        return 2
    mj_font = MJFont()
    index, index_seconds, was_cached = _index(mj_font)
    chars = _sample(args.n, args.seed, [FONTS[f][1] for f in chosen])
    codes = [chr(0xE000 + i) for i in range(len(chars))]

    temporary = args.workdir is None
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mig-glyph-bench-"))
    results: dict[str, Any] = {
        "benchmark": "glyph-match",
        "mj_font": mj_font.path.name,
        "mj_glyphs": len(index),
        "index_seconds": index_seconds,
        "index_was_cached": was_cached,
        "n": len(chars),
        "seed": args.seed,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "fonts": {},
    }
    for name in chosen:
        label, path = FONTS[name]
        start = time.perf_counter()
        vendor_path = build_pua_font(path, dict(zip(codes, chars, strict=True)), work / f"vendor-{name}.ttf")
        built = time.perf_counter() - start
        result = _measure(index, VendorFont(vendor_path), chars, codes)
        result.update({"font": label, "font_build_seconds": built})
        results["fonts"][name] = result
    if temporary:
        shutil.rmtree(work, ignore_errors=True)

    print(f"glyph match: {len(chars)} characters (seed {args.seed}) against {len(index):,} MJ glyphs "
          f"({mj_font.path.name}); index {'loaded' if was_cached else 'built'} in {index_seconds:.1f} s")
    print(f"{'vendor font drawn with':<44} {'top-1':>7} {'top-5':>7} {'strict-1':>9} {'strict-5':>9} {'s/char':>9} {'s/char 1×1':>11}")
    for r in results["fonts"].values():
        print(f"{r['font']:<44} {r['lenient_top1']:>7.1%} {r['lenient_top5']:>7.1%} {r['strict_top1']:>9.1%} "
              f"{r['strict_top5']:>9.1%} {r['seconds_per_char_batched']:>9.4f} {r['seconds_per_char_single']:>11.4f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


def _truth(index: GlyphIndex) -> tuple[Any, Any]:
    """Per index entry: its plain UCS (strict) and its base character (lenient)."""
    table = mj_table()
    pos = {m: i for i, m in enumerate(table["mj"].to_list())}
    rows = np.asarray([pos[n] for n in index.names])
    ucs = table["ucs"].fill_null("").to_numpy()[rows]
    base = table.select(pl.coalesce("ucs", pl.col("ivs").str.slice(0, 1)).fill_null("")).to_series().to_numpy()[rows]
    return ucs, base


MARGIN_DEPTH = 50
"""Candidates searched per glyph for the margin (the workbench re-ranks 200)."""


NEAR_TWIN = 0.85
"""A drawn character has a near twin when another MJ record's glyph is this similar to its
own (cosine in the index space): IVS variants, a character one small stroke away."""


def near_twins(index: GlyphIndex, ucs: Any, chars: list[str]) -> Any:
    """Whether each drawn character's own MJ record has a near twin (one matrix product)."""
    position = {u: i for i, u in enumerate(ucs.tolist()) if u}
    own = np.asarray([position.get(c, -1) for c in chars])
    vectors = index.vectors.astype(np.float32)
    similar = vectors[np.maximum(own, 0)] @ vectors.T
    similar[np.arange(len(own)), np.maximum(own, 0)] = -1.0
    return (similar.max(axis=1) >= NEAR_TWIN) & (own >= 0)


PIXEL_TWIN_COSINE = 0.8
"""Records compared pixel by pixel with a drawn character's own record: those at least
this similar to it in the index space (a pixel-identical pair is far above it)."""


def pixel_twins(index: GlyphIndex, ucs: Any, chars: list[str], size: int) -> Any:
    """Whether each drawn character's own MJ record, drawn from IPAmj明朝 as a ``size``-dot
    1-bit bitmap (as the test glyphs are drawn), is pixel-identical to another MJ
    record's: then no method can tell the two apart from a bitmap of that size — the
    share bounds any matcher's strict precision."""
    from glyph_bitmaps import mj_bitmaps

    position = {u: i for i, u in enumerate(ucs.tolist()) if u}
    own = np.asarray([position.get(c, -1) for c in chars])
    vectors = index.vectors.astype(np.float32)
    similar = vectors[np.maximum(own, 0)] @ vectors.T
    similar[np.arange(len(own)), np.maximum(own, 0)] = -1.0
    queries, others = np.nonzero((similar >= PIXEL_TWIN_COSINE) & (own >= 0)[:, None])
    font = MJFont()._gid_font_path
    mine = mj_bitmaps(font, index.glyph_ids[np.maximum(own, 0)].tolist(), size)
    theirs = mj_bitmaps(font, index.glyph_ids[others].tolist(), size)
    same = (theirs == mine[queries]).all(axis=(1, 2))
    twin = np.zeros(len(chars), np.bool_)
    twin[queries[same]] = True
    return twin & (own >= 0)


def curve(confidence: Any, correct: Any) -> dict[str, Any]:
    """Auto-confirmation curve: confirm the most confident first; precision of the
    confirmed at each share confirmed, and the largest share confirmed at 99.5 % / 99 %."""
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    k = np.arange(1, len(order) + 1)
    precision = hits / k
    points = {}
    for share in (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        i = max(1, int(round(share * len(order)))) - 1
        points[f"{share:.0%}"] = float(precision[i])
    best = {}
    for target in (0.995, 0.99):
        ok = np.flatnonzero(precision >= target)
        best[f"share_at_{target}"] = float((ok.max() + 1) / len(order)) if len(ok) else 0.0
    return {"precision_at_share": points, **best}


def bitmap_main(args: argparse.Namespace) -> int:
    """The bitmap benchmark (see the module docstring)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from glyph_bitmaps import (
        DESIGNS,
        Readings,
        bitmaps,
        composed,
        composed_pairs,
        eligible_chars,
        split,
    )

    from mig.gaiji.glyphs import auto_confirm_threshold, glyph_confidence, glyph_margin

    designs = [d.strip() for d in args.designs.split(",") if d.strip()]
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    mj_font = MJFont()
    index, index_seconds, was_cached = _index(mj_font)
    ucs, base = _truth(index)
    records = np.arange(len(index), dtype=np.int64)  # margin over any other MJ record, as the workbench
    readings = Readings(index.names)
    threshold = auto_confirm_threshold(args.precision)
    threshold = threshold if threshold is not None else 2.0  # no calibration: nothing confirmed
    bench, _calibration_half = split(eligible_chars(designs))
    rng = np.random.default_rng(args.seed)
    chars = [bench[i] for i in sorted(rng.choice(len(bench), size=min(args.n, len(bench)), replace=False))]
    pairs = composed_pairs(bench, args.composed, args.seed)
    twin = near_twins(index, ucs, chars)
    results: dict[str, Any] = {
        "benchmark": "glyph-match-bitmaps", "near_twin_cosine": NEAR_TWIN, "near_twins": int(twin.sum()), "mj_font": mj_font.path.name, "mj_glyphs": len(index),
        "index_seconds": index_seconds, "index_was_cached": was_cached, "n": len(chars),
        "composed": len(pairs), "seed": args.seed, "auto_confirm_precision": args.precision, "auto_confirm_threshold": threshold,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "runs": {},
    }
    print(f"glyph match, 1-bit bitmaps: {len(chars)} MJ characters + {len(pairs)} not-in-MJ glyphs "
          f"(seed {args.seed}) against {len(index):,} MJ glyphs; index {'loaded' if was_cached else 'built'} "
          f"in {index_seconds:.1f} s")
    header = (f"{'design':<8} {'size':>4} {'top-1':>7} {'top-5':>7} {'strict-1':>8} {'conf@P':>7} {'prec@P':>7} "
              f"{'share@99.5':>10} {'p@70%':>7} {'abstain':>8} {'not-MJ':>7} {'in-MJ flagged':>13} {'s/char':>8}")
    print(header)
    for design in designs:
        firsts: dict[int, tuple[Any, Any, Any]] = {}  # per size: top-1, confidence, strict right
        for size in sizes:
            start = time.perf_counter()
            inks = bitmaps(design, chars, size) + composed(design, pairs, size)
            drawn = time.perf_counter() - start
            start = time.perf_counter()
            deep, deep_scores = index.search(glyph_features(inks), MARGIN_DEPTH)
            per_char = (time.perf_counter() - start) / len(inks)
            top = deep[:, :5]
            known, own = slice(0, len(chars)), slice(len(chars), len(inks))
            margin = glyph_margin(deep, deep_scores, records)
            confidence, not_in_mj = glyph_confidence(deep_scores[:, 0], margin)
            truth_all = chars + [right for _, right in pairs]  # every row with カナ: the reading signal
            reading, has_kana = readings.match(truth_all, deep[:, 0], np.ones(len(inks), bool), np.random.default_rng(args.seed))
            with_kana, kana_far = glyph_confidence(deep_scores[:, 0], margin, reading, has_kana)
            truth = np.asarray(chars)[:, None]
            lenient = base[top[known]] == truth
            strict = ucs[top[known]] == truth
            confirmed = confidence[known] >= threshold
            run = {
                "design": DESIGNS[design][0], "size": size, "n": len(chars),
                "top1": float(lenient[:, 0].mean()), "top5": float(lenient.any(axis=1).mean()),
                "strict_top1": float(strict[:, 0].mean()), "strict_top5": float(strict.any(axis=1).mean()),
                "confirmed_share": float(confirmed.mean()),
                "confirmed_precision": float(strict[confirmed, 0].mean()) if confirmed.any() else None,
                "confirmed_lenient_precision": float(lenient[confirmed, 0].mean()) if confirmed.any() else None,
                "curve": curve(confidence[known], strict[:, 0]),
                "with_kana": {
                    "confirmed_share": float((with_kana[known] >= threshold).mean()),
                    "confirmed_precision": float(strict[with_kana[known] >= threshold, 0].mean())
                    if (with_kana[known] >= threshold).any() else None,
                    "curve": curve(with_kana[known], strict[:, 0]),
                    "not_in_mj_abstained": float((with_kana[own] < threshold).mean()) if len(pairs) else None,
                    "not_in_mj_flagged": float(kana_far[own].mean()) if len(pairs) else None,
                    "in_mj_flagged_not_in_mj": float(kana_far[known].mean()),
                },
                "not_in_mj_abstained": float((confidence[own] < threshold).mean()) if len(pairs) else None,
                "not_in_mj_flagged": float(not_in_mj[own].mean()) if len(pairs) else None,
                "in_mj_flagged_not_in_mj": float(not_in_mj[known].mean()),
                "same_base_errors": float((lenient[:, 0] & ~strict[:, 0]).mean()),
                "other_character_errors": float((~lenient[:, 0]).mean()),
                "own_record_pixel_twin": float(pixel_twins(index, ucs, chars, size).mean()),
                "lenient_curve": curve(confidence[known], lenient[:, 0]),
                "near_twin_top1_strict": float(strict[twin, 0].mean()) if twin.any() else None,
                "near_twin_top5_strict": float(strict[twin].any(axis=1).mean()) if twin.any() else None,
                "near_twin_confirmed_share": float(confirmed[twin].mean()) if twin.any() else None,
                "near_twin_confirmed_precision": float(strict[twin & confirmed, 0].mean()) if (twin & confirmed).any() else None,
                "seconds_per_char": per_char, "draw_seconds": drawn,
                "first_misses": [
                    {"char": c, "top5": [index.names[i] for i in t]}
                    for c, t, ok in zip(chars, top[known], lenient[:, 0], strict=True) if not ok
                ][:15],
            }
            results["runs"][f"{design}-{size}"] = run
            firsts[size] = (deep[known, 0], confidence[known], strict[:, 0])
            prec = run["confirmed_precision"]
            print(f"{design:<8} {size:>4} {run['top1']:>7.1%} {run['top5']:>7.1%} {run['strict_top1']:>8.1%} "
                  f"{run['confirmed_share']:>7.1%} {(prec if prec is not None else float('nan')):>7.1%} "
                  f"{run['curve']['share_at_0.995']:>10.1%} {run['curve']['precision_at_share']['70%']:>7.1%} "
                  f"{run['not_in_mj_abstained'] or 0:>8.1%} {run['not_in_mj_flagged'] or 0:>7.1%} "
                  f"{run['in_mj_flagged_not_in_mj']:>13.1%} {per_char:>8.4f}")
        largest = max(sizes)
        for size in sizes if len(sizes) > 1 else ():  # errors at a size that the largest makes too: the design's
            first, conf, right = firsts[size]
            confident = np.argsort(-conf, kind="stable")[:int(round(0.7 * len(first)))]
            wrong = confident[~right[confident]]
            results["runs"][f"{design}-{size}"]["errors_in_70pct_most_confident"] = {
                "n": int(len(wrong)),
                f"same_wrong_record_at_{largest}": int((firsts[largest][0][wrong] == first[wrong]).sum()),
            }
    print(f"near twins (another MJ record at cosine ≥ {NEAR_TWIN}: IVS variants, one small stroke away): "
          f"{int(twin.sum())} of {len(chars)}")
    for key, run in results["runs"].items():
        print(f"  {key:<10} strict top-1 {run['near_twin_top1_strict'] or 0:.1%}  top-5 {run['near_twin_top5_strict'] or 0:.1%}  "
              f"auto-confirmed {run['near_twin_confirmed_share'] or 0:.1%} at precision "
              f"{run['near_twin_confirmed_precision'] if run['near_twin_confirmed_precision'] is not None else float('nan'):.1%}")
    print("what limits strict precision: top-1 errors that are another MJ record of the drawn character "
          "(an IVS variant: the design draws that form), errors that are another character, drawn "
          "characters whose own MJ record is pixel-identical to another at that size (IPAmj明朝, 1-bit), and "
          "the curve if a variant counted right:")
    for key, run in results["runs"].items():
        print(f"  {key:<10} same-base errors {run['same_base_errors']:.1%}  other-character errors "
              f"{run['other_character_errors']:.1%}  pixel-identical own record {run['own_record_pixel_twin']:.1%}  "
              f"lenient share@99.5 {run['lenient_curve']['share_at_0.995']:.1%}  "
              f"lenient p@70% {run['lenient_curve']['precision_at_share']['70%']:.1%}")
        if "errors_in_70pct_most_confident" in run:
            e = run["errors_in_70pct_most_confident"]
            same = next(v for k, v in e.items() if k.startswith("same_wrong_record_at_"))
            print(f"  {'':<10} errors among the 70 % most confident: {e['n']}, of which the same wrong record "
                  f"at {max(sizes)} dots: {same}")
    print("with カナ (every row has カナ: one of the drawn character's MJ readings, or for 30 % a reading MJ does not list):")
    print(f"{'design':<8} {'size':>4} {'conf@P':>7} {'prec@P':>7} {'share@99.5':>10} {'p@70%':>7} {'abstain':>8} "
          f"{'not-MJ':>7} {'in-MJ flagged':>13}")
    for key, run in results["runs"].items():
        k = run["with_kana"]
        prec = k["confirmed_precision"]
        print(f"{key.rsplit('-', 1)[0]:<8} {run['size']:>4} {k['confirmed_share']:>7.1%} "
              f"{(prec if prec is not None else float('nan')):>7.1%} {k['curve']['share_at_0.995']:>10.1%} "
              f"{k['curve']['precision_at_share']['70%']:>7.1%} {k['not_in_mj_abstained'] or 0:>8.1%} "
              f"{k['not_in_mj_flagged'] or 0:>7.1%} {k['in_mj_flagged_not_in_mj']:>13.1%}")
    print("conf@P / prec@P: share of the in-MJ characters auto-confirmed at --precision and their precision "
          "(strict: the drawn character's own MJ record; an IVS variant of it counts wrong); "
          "share@99.5: largest share confirmable at 99.5 % precision; p@70%: precision when confirming 70 %; "
          "abstain: not-in-MJ glyphs not auto-confirmed; not-MJ: flagged as not in MJ")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
