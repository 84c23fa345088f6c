"""Bitmap glyph sets for the glyph-match benchmark and the calibration script (not shipped).

A vendor's 外字 often exist only as 24×24 or 32×32 dot glyphs. This module draws MJ
characters with another font (Noto Sans CJK JP, a gothic; Noto Serif CJK JP; IPAex明朝…)
into an ``size``×``size`` em square and thresholds it to 1 bit, and composes glyphs that
are not in MJ (two characters squeezed side by side into one em square, 偏 + 旁 style).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from mig.gaiji.mj import mj_table

UInt8Array = npt.NDArray[np.uint8]

NOTO = Path("/usr/share/fonts/opentype/noto")
DESIGNS: dict[str, tuple[str, Path, int]] = {
    # name: (label, file, face index of the Japanese design in a collection)
    "gothic": ("Noto Sans CJK JP Regular (gothic)", NOTO / "NotoSansCJK-Regular.ttc", 0),
    "serif": ("Noto Serif CJK JP Regular (serif)", NOTO / "NotoSerifCJK-Regular.ttc", 0),
    # training designs for the calibration script only (never benchmarked)
    "gothic-bold": ("Noto Sans CJK JP Bold", NOTO / "NotoSansCJK-Bold.ttc", 0),
    "serif-bold": ("Noto Serif CJK JP Bold", NOTO / "NotoSerifCJK-Bold.ttc", 0),
    "ipaex": ("IPAex明朝", Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"), 0),
}


def cmap(path: Path, face: int = 0) -> set[int]:
    """Code points the font maps."""
    from fontTools.ttLib import TTCollection, TTFont

    with path.open("rb") as handle:
        collection = handle.read(4) == b"ttcf"
    font = TTCollection(str(path), lazy=True).fonts[face] if collection else TTFont(str(path), lazy=True)
    return set(font.getBestCmap() or {})


def eligible_chars(designs: Sequence[str]) -> list[str]:
    """MJ characters with a plain UCS that every design draws, in code point order."""
    table = mj_table()
    plain = sorted(set(table.filter(pl.col("ucs").is_not_null())["ucs"].to_list()))
    covered = set.intersection(*(cmap(DESIGNS[d][1], DESIGNS[d][2]) for d in designs))
    return [c for c in plain if len(c) == 1 and ord(c) in covered]


def split(chars: list[str], salt: str = "glyph-bench") -> tuple[list[str], list[str]]:
    """A fixed half/half split of characters: (benchmark half, calibration half), by a
    hash of the character, so the calibration never sees a benchmarked character."""
    import hashlib

    bench, calib = [], []
    for c in chars:
        (bench if hashlib.sha256((salt + c).encode()).digest()[0] % 2 == 0 else calib).append(c)
    return bench, calib


def _font(design: str, size: int) -> Any:
    from PIL import ImageFont

    _, path, face = DESIGNS[design]
    return ImageFont.truetype(str(path), size, index=face, layout_engine=ImageFont.Layout.BASIC)


def _grey(font: Any, char: str, size: int, scale: int) -> UInt8Array:
    """``char`` drawn at ``scale``× the em size, grey ink (255 = ink), ``size*scale`` square."""
    from PIL import Image, ImageDraw

    em = size * scale
    ascent, descent = font.getmetrics()
    baseline = round(em * ascent / max(1, ascent + descent))
    image = Image.new("L", (em, em), 0)
    ImageDraw.Draw(image).text((em / 2, baseline), char, fill=255, font=font, anchor="ms")
    return np.asarray(image, np.uint8)


def bitmaps(design: str, chars: Sequence[str], size: int) -> list[UInt8Array]:
    """Each character as a ``size``×``size`` 1-bit bitmap (0 / 255 = ink) of ``design``:
    drawn at 4× and box-averaged down, then thresholded at half (no anti-aliasing left)."""
    font = _font(design, size * 4)
    out = []
    for c in chars:
        grey = _grey(font, c, size, 4).astype(np.float32).reshape(size, 4, size, 4).mean(axis=(1, 3))
        out.append(np.where(grey >= 128, 255, 0).astype(np.uint8))
    return out


def mj_bitmaps(font_path: Path, glyph_ids: Sequence[int], size: int) -> UInt8Array:
    """MJ glyphs (IPAmj明朝, by glyph id through the workbench's cached cmap copy
    ``MJFont._gid_font_path``, whose U+F0000 + id is glyph id) as ``size``×``size`` 1-bit
    bitmaps, drawn exactly as :func:`bitmaps` draws a design: (n, size, size) booleans."""
    from PIL import ImageFont

    font = ImageFont.truetype(str(font_path), size * 4, layout_engine=ImageFont.Layout.BASIC)
    out = np.zeros((len(glyph_ids), size, size), np.bool_)
    for i, gid in enumerate(glyph_ids):
        grey = _grey(font, chr(0xF0000 + int(gid)), size, 4).astype(np.float32).reshape(size, 4, size, 4)
        out[i] = grey.mean(axis=(1, 3)) >= 128
    return out


def composed(design: str, pairs: Sequence[tuple[str, str]], size: int) -> list[UInt8Array]:
    """Glyphs not in MJ: ``left`` and ``right`` drawn full height, each squeezed to half
    the width, side by side in one em square, 1-bit."""
    font = _font(design, size * 4)
    out = []
    for left, right in pairs:
        a = _grey(font, left, size, 4).astype(np.float32)
        b = _grey(font, right, size, 4).astype(np.float32)
        em = size * 4
        half = np.concatenate([a.reshape(em, em // 2, 2).max(axis=2), b.reshape(em, em // 2, 2).max(axis=2)], axis=1)
        grey = half.reshape(size, 4, size, 4).mean(axis=(1, 3))
        out.append(np.where(grey >= 128, 255, 0).astype(np.uint8))
    return out


def composed_pairs(chars: Sequence[str], n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` pairs of distinct characters of 10 or more strokes (a composition of two such
    full characters is, as far as the MJ table's shapes go, no MJ character)."""
    table = mj_table().filter(pl.col("ucs").is_in(list(chars)) & (pl.col("strokes") >= 10))
    pool = sorted(set(table["ucs"].to_list()))
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(pool), size=(n, 2), replace=True)
    return [(pool[a], pool[b if b != a else (b + 1) % len(pool)]) for a, b in picks]


UNLISTED = 0.3
"""Share of rows whose カナ reads the character in a way the MJ table does not list (a
name reading, 名乗り: 𠮷 in ヨシダ): then no candidate's reading matches."""


class Readings:
    """The reading signal as a row's カナ would give it (simulated): the row's カナ is one of
    the drawn character's MJ readings (of the right component for a not-in-MJ glyph, the
    phonetic side), or — for :data:`UNLISTED` of the rows — a reading no MJ record lists;
    the top candidate matches when it has that reading."""

    def __init__(self, index_names: Sequence[str]) -> None:
        table = mj_table()
        pos = {m: i for i, m in enumerate(table["mj"].to_list())}
        readings = table["readings"].to_list()
        self.of_entry = [set(readings[pos[n]] or ()) for n in index_names]
        self.of_char: dict[str, list[str]] = {}
        for ucs, rs in zip(table["ucs"].to_list(), readings, strict=True):
            if ucs:
                self.of_char.setdefault(ucs, [])
                self.of_char[ucs] = sorted(set(self.of_char[ucs]) | set(rs or ()))

    def match(self, truth: Sequence[str], top1: Any, given: Any, rng: Any) -> tuple[Any, Any]:
        """(reading match of the top candidate, whether the row had カナ) per query; ``given``:
        which rows have カナ."""
        said: list[str | None] = []
        unlisted = rng.random(len(truth)) < UNLISTED
        for c, ok, other in zip(truth, given, unlisted, strict=True):
            k = self.of_char.get(c, [])
            said.append(None if not (k and ok) else "ン" * 9 if other else k[int(rng.integers(len(k)))])
        reading = np.array([1.0 if s is not None and s in self.of_entry[t] else 0.0 for s, t in zip(said, top1, strict=True)])
        return reading, np.array([s is not None for s in said], np.float64)
