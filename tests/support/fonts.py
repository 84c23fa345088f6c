"""Synthetic vendor 外字 fonts for the 外字 workbench tests and the glyph-match benchmark
(``benchmarks/bench_glyph_match.py``): outlines of a real font copied into Private Use
code points with a TTGlyphPen, CFF curves converted to quadratic. Not shipped: mig only
reads vendor fonts (:class:`mig.gaiji.glyphs.VendorFont`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mig.errors import ConfigError
from mig.gaiji.glyphs import _ttfont, codepoints_of

__all__ = ["build_pua_font"]


def build_pua_font(
    source: Path | Sequence[Path], glyphs: dict[str, str], out: Path, *, family: str = "mig synthetic gaiji"
) -> Path:
    """Write a TrueType font whose code points ``glyphs`` keys (e.g. ``"\\ue000"``) show the
    outlines of ``source``'s glyphs for the values (e.g. ``"髙"``) — a synthetic vendor
    gaiji font, for the tests and the glyph-match benchmark.

    ``source`` may be TrueType or CFF-flavoured OpenType (curves converted to quadratic),
    or a collection (its first font); several sources are tried in order per character.
    The first source sets the units per em; a character no source has raises ConfigError.
    """
    from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from fontTools.pens.transformPen import TransformPen  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped, import-not-found, unused-ignore]

    sources = [Path(source)] if isinstance(source, (str, Path)) else [Path(p) for p in source]
    fonts = [_ttfont(p) for p in sources]
    cmaps = [f.getBestCmap() or {} for f in fonts]
    upem = int(fonts[0]["head"].unitsPerEm)
    order = [".notdef"]
    outlines: dict[str, Any] = {".notdef": TTGlyphPen(None).glyph()}
    advances: dict[str, int] = {".notdef": upem}
    char_map: dict[int, str] = {}
    for n, (code, char) in enumerate(sorted(glyphs.items())):
        found = next((i for i, m in enumerate(cmaps) if len(char) == 1 and ord(char) in m), None)
        if found is None:
            raise ConfigError(f"{', '.join(map(str, sources))}: no glyph for {codepoints_of(char)}")
        font, name = fonts[found], cmaps[found][ord(char)]
        scale = upem / int(font["head"].unitsPerEm)
        new = f"g{n:05d}"
        pen = TTGlyphPen(None)
        target: Any = pen if scale == 1 else TransformPen(pen, (scale, 0, 0, scale, 0, 0))
        if "CFF " in font or "CFF2" in font:
            target = Cu2QuPen(target, max_err=1.0, reverse_direction=True)
        font.getGlyphSet()[name].draw(target)
        outlines[new] = pen.glyph()
        advances[new] = round(int(font["hmtx"][name][0]) * scale)
        order.append(new)
        char_map[ord(code)] = new
    hhea = fonts[0]["hhea"]
    builder = FontBuilder(upem, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(char_map)
    builder.setupGlyf(outlines)
    metrics = {}
    for name, glyph in outlines.items():
        glyph.recalcBounds(builder.font["glyf"])
        metrics[name] = (advances[name], int(getattr(glyph, "xMin", 0)))
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=int(hhea.ascent), descent=int(hhea.descent))
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(
        sTypoAscender=int(hhea.ascent), sTypoDescender=int(hhea.descent), usWinAscent=int(hhea.ascent),
        usWinDescent=abs(int(hhea.descent)),
    )
    builder.setupPost()

    builder.save(str(out))
    return Path(out)
