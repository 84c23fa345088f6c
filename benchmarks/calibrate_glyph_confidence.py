"""Fit the calibrated confidence of the 外字 workbench's top candidate (issue 19).

Held-out data: characters of the calibration half of ``glyph_bitmaps.split`` (never
benchmarked; half of them train the design metric, the other half calibrate), drawn as 1-bit bitmaps at 24 and 32 dots with five designs (Noto Sans /
Serif CJK JP Regular and Bold, IPAex明朝), plus glyphs that are not in MJ (two characters
side by side; their top candidate is always wrong). Each is searched among all MJ glyphs
(:class:`mig.gaiji.glyphs.GlyphIndex`, the cached index); a top candidate is right when
it is the drawn character's own MJ record (strict: an IVS variant of it is wrong — the
registry entry's text would be another character), and its margin is over the best other
MJ record, variants included.

Reading signal: half the rows are given カナ — the reading a row would carry is one of the
drawn character's MJ readings (for a not-in-MJ glyph: one of its right component's, the
phonetic side); the top candidate's reading match is 1 when it has that reading.

Fitted (IRLS, a little ridge): P(right) = σ(w · [1, score, margin, √margin, reading,
reading known]), ``abstain_below``: the top glyph score under which at most 2 % of the
in-MJ characters fall (a top score that low means no MJ glyph is close), and the held-out
auto-confirmation ``curve``: (confidence threshold, precision of everything at or above
it — its one-sided 95 % lower bound), from which ``--auto-confirm P`` takes the lowest
threshold whose precision is still at least P. Written to
``gaiji/glyph-calibration.json`` (a few hundred bytes) with what it was fitted on. With
``--whitening`` it first refits the packaged whitening (``gaiji/glyph-whitening.npz``:
the mean and PCA whitening of all MJ glyphs' features, times a learned map that shrinks
the directions in which designs differ — :func:`design_metric`, trained on other designs
and characters than the benchmark's — so that an index of any candidate subset lives in
the space the confidence is calibrated in)::

    python benchmarks/calibrate_glyph_confidence.py --whitening [--n 3000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_glyph_match import MARGIN_DEPTH, _index, _truth  # noqa: E402
from glyph_bitmaps import (  # noqa: E402
    DESIGNS,
    Readings,
    bitmaps,
    composed,
    composed_pairs,
    eligible_chars,
    split,
)

from mig.gaiji.glyphs import (  # noqa: E402
    FEATURE_VERSION,
    WHITENING_FILE,
    GlyphIndex,
    MJFont,
    glyph_features,
    glyph_margin,
    save_whitening,
)
from mig.gaiji.mj import mj_table  # noqa: E402

TRAIN_DESIGNS = ("gothic", "serif", "gothic-bold", "serif-bold", "ipaex")
SIZES = (24, 32)
FLAG_IN_MJ = 0.02
CURVE_POINTS = 200  # (threshold, precision) points of the held-out auto-confirmation curve
MIN_CURVE_SET = 200  # no point from fewer confirmed characters than this (too noisy)


def design_matrix(score: Any, margin: Any, reading: Any, known: Any) -> Any:
    """The calibration's inputs, as :class:`mig.gaiji.glyphs.Calibration` computes them."""
    m = np.maximum(margin, 0.0)
    return np.stack([np.ones_like(score), score, m, np.sqrt(m), reading, known], axis=1).astype(np.float64)


METRIC_DESIGNS = ("gothic-bold", "serif-bold", "ipaex")  # never benchmarked
METRIC_CHARACTERS = 3000
METRIC_ALPHA = 1.0


def design_metric(index: GlyphIndex, designs: list[str]) -> Any:
    """A linear map that shrinks what changes between designs (learned, LDA-style): the
    within-character scatter of bitmaps of held-out characters drawn with designs that are
    never benchmarked (Noto Bold, IPAex明朝; 24 and 32 dots) against their MJ glyph, in the
    whitened space; each of its eigen-directions divided by √(variance + mean variance)."""
    _bench, calibration = split(eligible_chars(designs))
    calibration, _logistic = split(calibration, salt="metric")  # never the characters the logistic sees
    table = mj_table().filter(pl.col("ucs").is_not_null() & pl.col("ivs").is_null()).group_by("ucs").agg(pl.col("mj").min())
    plain = dict(zip(table["ucs"].to_list(), table["mj"].to_list(), strict=True))
    position = {name: i for i, name in enumerate(index.names)}
    rng = np.random.default_rng(7)
    chars = [c for c in (calibration[i] for i in rng.permutation(len(calibration))) if plain.get(c) in position][:METRIC_CHARACTERS]
    target = index.vectors[np.asarray([position[plain[c]] for c in chars])].astype(np.float64)
    dims = target.shape[1]
    diffs = []
    for design in (d for d in METRIC_DESIGNS if DESIGNS[d][1].is_file()):
        for size in SIZES:
            drawn = index.embed(glyph_features(bitmaps(design, chars, size))).astype(np.float64)
            diffs.append((drawn - target) * np.sqrt(dims))
    scatter = np.concatenate(diffs)
    within = scatter.T @ scatter / len(scatter)
    eigval, eigvec = np.linalg.eigh(within)
    eigval = np.maximum(eigval, 0.0)
    return eigvec / np.sqrt(eigval + METRIC_ALPHA * eigval.mean())


def wilson_lower(hits: Any, n: Any, z: float = 1.645) -> Any:
    """One-sided 95 % lower bound of a proportion (Wilson score): the curve promises a
    precision the held-out set supports, not just its point estimate."""
    p = hits / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def fit_logistic(x: Any, y: Any, ridge: float = 1e-3, steps: int = 50) -> Any:
    """Logistic regression by iteratively reweighted least squares."""
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + ridge * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + ridge * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="calibration characters")
    parser.add_argument("--composed", type=int, default=300, help="not-in-MJ glyphs per design and size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--whitening", action="store_true", help="also refit the packaged whitening (all MJ glyphs)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "gaiji" / "glyph-calibration.json")
    args = parser.parse_args(argv)
    designs = [d for d in TRAIN_DESIGNS if DESIGNS[d][1].is_file()]
    if args.whitening:  # the whitening first: the index (and so the calibration) lives in its space
        table = mj_table()
        fitted = GlyphIndex.build(
            MJFont(), table["mj"].to_list(), table.select(pl.coalesce("ivs", "ucs")).to_series().to_list(),
            fit_whitening=True,
        )
        transform = fitted.transform @ design_metric(fitted, designs)
        save_whitening(replace(fitted, transform=transform.astype(np.float32)), args.out.parent / WHITENING_FILE)
        print(f"wrote {args.out.parent / WHITENING_FILE} (fitted on {len(fitted):,} MJ glyphs)", flush=True)
    index, _, _ = _index(MJFont())
    ucs, _base = _truth(index)
    records = np.arange(len(index), dtype=np.int64)  # margin over any other MJ record: a variant twin too
    _bench, calibration = split(eligible_chars(designs))
    _metric, calibration = split(calibration, salt="metric")  # the other half trained the metric
    rng = np.random.default_rng(args.seed)
    chars = [calibration[i] for i in sorted(rng.choice(len(calibration), size=min(args.n, len(calibration)), replace=False))]
    pairs = composed_pairs(calibration, args.composed, args.seed)
    readings = Readings(index.names)
    xs, ys = [], []
    in_mj_scores = []
    for design in designs:
        for size in SIZES:
            truth = chars + [right for _, right in pairs]
            inks = bitmaps(design, chars, size) + composed(design, pairs, size)
            top, scores = index.search(glyph_features(inks), MARGIN_DEPTH)
            right = np.zeros(len(inks))
            right[:len(chars)] = ucs[top[:len(chars), 0]] == np.asarray(chars)  # strict: the plain record
            reading, known = readings.match(truth, top[:, 0], rng.random(len(inks)) < 0.5, rng)
            xs.append(design_matrix(scores[:, 0], glyph_margin(top, scores, records), reading, known))
            ys.append(right)
            in_mj_scores.append(scores[:len(chars), 0])
            print(f"{design}-{size}: top-1 {right[:len(chars)].mean():.1%}", flush=True)
    x, y = np.concatenate(xs), np.concatenate(ys)
    w = fit_logistic(x, y)
    abstain_below = float(np.quantile(np.concatenate(in_mj_scores), FLAG_IN_MJ))
    p = 1 / (1 + np.exp(-(x @ w)))
    for level in (0.99, 0.995):
        chosen = p >= level
        print(f"calibration set: confidence ≥ {level}: {chosen.mean():.1%} confirmed, precision {y[chosen].mean():.2%}")
    order = np.argsort(-p, kind="stable")
    precision = wilson_lower(np.cumsum(y[order]), np.arange(1, len(order) + 1))
    steps = np.unique(np.linspace(0, len(order) - 1, CURVE_POINTS).round().astype(int))
    curve = [[round(float(p[order][i]), 6), round(float(precision[i]), 6)] for i in steps if i >= MIN_CURVE_SET]
    out = {
        "feature_version": FEATURE_VERSION,
        "weights": [round(float(v), 6) for v in w],
        "abstain_below": round(abstain_below, 6),
        "inputs": ["1", "score", "margin", "sqrt(margin)", "reading", "reading_known"],
        "curve": curve,
        "fitted_on": {
            "script": "benchmarks/calibrate_glyph_confidence.py", "characters": len(chars), "not_in_mj": len(pairs),
            "designs": [DESIGNS[d][0] for d in designs], "sizes": list(SIZES), "seed": args.seed,
            "mj_glyphs": len(index),
        },
    }
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: weights {out['weights']}, abstain below {abstain_below:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
