"""Glyph rendering and glyph similarity for the 外字 identification workbench.

Two kinds of glyph source are read:

- the **vendor's 外字** (:func:`open_glyphs`): a TrueType / OpenType font (:class:`VendorFont`;
  an EUDC ``.tte`` is TrueType), read by code point — the Private Use character the data
  holds — or bitmaps (:class:`BitmapGlyphs`): BDF / PCF fonts and directories or zips of
  per-character images named by code, a vendor code mapped to its Private Use character
  through the source charset's 外字 area (:func:`user_area_map`);
- **IPAmj明朝** (:class:`MJFont`, Debian ``fonts-ipamj-mincho``), the reference glyphs of
  the MJ文字情報一覧表: every MJ文字図形名 ``MJ012345`` is the glyph ``mj012345`` of the
  font (IVS glyphs included, so no text-layout engine is needed). Pillow renders by code
  point only, so a copy of the font whose cmap maps ``U+F0000 + glyph id`` to every glyph
  is written once into the user cache (:func:`cache_dir`) and rendered from.

Similarity (:class:`GlyphIndex`): every glyph is rendered at 64 px (a vendor bitmap is
taken as it is, 16 px and up) and reduced to a 256-number feature — the ink is
moment-normalised (centre of mass to the centre, the larger of its two standard
deviations to a fixed size, so a vendor font that fills the em square and one with
margins compare equally) and resampled to 48×48 with a triangle filter (one separable
matrix product per glyph batch); then **stroke directions** (feature version 3): the
image is blurred (σ 1 px, so 1-bit staircases become slopes), its gradient's doubled
angle is split into four unsigned orientations (horizontal, vertical, two diagonals),
each blurred (σ 2 px) and pooled to 8×8, and square-rooted. Edges rather than ink make
the feature robust to stroke width (gothic vs 明朝) and to 1-bit aliasing: on 24×24 1-bit
Noto Sans CJK bitmaps top-1 rose from 69 % (ink density, version 2) to 89 % (91 % with
the packaged design map). The vectors of all MJ glyphs are
centred and partly whitened (PCA, each component divided by ``sqrt(eigenvalue +
mean eigenvalue)``) and L2-normalised; a query's similarity to all MJ glyphs is then one
matrix product (cosine, −1…1). The index (≈30 MB) is cached under :func:`cache_dir`,
keyed by the SHA-256 of the font file, the candidate list and :data:`FEATURE_VERSION`.

Accuracy (``benchmarks/bench_glyph_match.py``, 1,000 characters drawn with another font
into Private Use slots, searched among all 58,862 MJ glyphs, glyph only, feature version
3): IPAex明朝 top-1 100 % / top-5 100 %, Noto Serif CJK JP 99.7 / 100 %, Noto Sans CJK JP
(gothic) 99.0 / 100 % (any MJ record of the drawn character counts; only its plain record:
98.5, 97.6, 94.1 % top-1); as 1-bit bitmaps (``--bitmaps``): 24×24 gothic 91.0 / 98.4 %,
24×24 serif 88.8 / 97.0 %, 32×32 gothic 94.7 / 99.1 %; ≈2 ms per character.

Confidence (:func:`glyph_confidence`, :class:`Calibration`): a logistic model of the first
candidate's glyph score, its margin over the next MJ record and its reading match, fitted
on held-out characters by ``benchmarks/calibrate_glyph_confidence.py``. The map into the
search space is packaged too (:func:`load_whitening`): the PCA whitening of all MJ glyphs'
features times a learned map that shrinks the directions in which font designs differ
(trained by the same script on fonts and characters the benchmark never uses), so an
index of any candidate subset shares the calibrated space.

>>> raw = glyph_features([np.pad(np.full((40, 8), 255, np.uint8), 10)])
>>> raw.shape, bool(np.isclose(np.linalg.norm(raw[0]), 1.0))
((1, 256), True)
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mig.errors import ConfigError, InputError, MigError
from mig.fs import atomic_file

__all__ = [
    "FEATURE_VERSION",
    "auto_confirm_threshold",
    "GlyphIndex",
    "BitmapGlyphs",
    "MJFont",
    "VendorFont",
    "cache_dir",
    "find_mj_font",
    "glyph_confidence",
    "glyph_features",
    "glyph_margin",
    "index_key",
    "load_calibration",
    "load_whitening",
    "open_glyphs",
    "png_data_uri",
    "save_whitening",
    "user_area_map",
]

FloatArray = npt.NDArray[np.float32]
UInt8Array = npt.NDArray[np.uint8]
PILImage = Any
"""A ``PIL.Image.Image`` (typed loosely: Pillow is imported lazily)."""

FEATURE_VERSION = 3
"""Bumped whenever the feature computation changes (part of the index cache key)."""

RENDER_EM = 64
"""Pixels per em when rendering glyphs for features."""
_CANVAS = 96
_NORM = 48
_SPREAD = 2.0  # the normalised square spans ±SPREAD standard deviations of the ink
_BLUR = 1.0
_DIRECTION_GRID = 8
_POOL_BLUR = 2.0
_GRID = 16  # 4 orientations × 8 × 8 = 16 × 16 numbers
_BATCH = 1024
_MIN_WHITEN = 4  # whiten only with at least this many glyphs per feature dimension

MJ_FONT_ENV = "MIG_MJ_FONT"
CACHE_ENV = "MIG_CACHE_DIR"
_KNOWN_MJ_FONT_PATHS = (
    "/usr/share/fonts/truetype/ipamj/ipamjm.ttf",
    "/usr/share/fonts/opentype/ipamj/ipamjm.ttf",
    "/usr/local/share/fonts/ipamjm.ttf",
    "~/.local/share/fonts/ipamjm.ttf",
    "~/.fonts/ipamjm.ttf",
    "~/Library/Fonts/ipamjm.ttf",
    "/Library/Fonts/ipamjm.ttf",
    "C:/Windows/Fonts/ipamjm.ttf",
    "~/AppData/Local/Microsoft/Windows/Fonts/ipamjm.ttf",
)
_GID_BASE = 0xF0000  # Supplementary Private Use Area-A: U+F0000 + glyph id in the cache copy
_GID_LIMIT = 0xFFFFE - _GID_BASE


def _pil() -> tuple[Any, Any, Any]:
    """Pillow's Image, ImageDraw and ImageFont modules, or a one-line error."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ModuleNotFoundError:  # pragma: no cover - depends on the installation
        raise ConfigError("the 外字 workbench needs Pillow: pip install pillow fonttools") from None
    return Image, ImageDraw, ImageFont


def _ttfont(path: Path, *, lazy: bool = True) -> Any:
    """``fontTools.ttLib.TTFont`` of ``path`` (first font of a collection); a file that is
    not a font is an :class:`~mig.errors.InputError`."""
    try:
        from fontTools.ttLib import TTCollection, TTFont, TTLibError  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ModuleNotFoundError:  # pragma: no cover - depends on the installation
        raise ConfigError("the 外字 workbench needs fontTools: pip install pillow fonttools") from None
    try:
        with path.open("rb") as handle:
            tag = handle.read(4)
        if tag == b"ttcf":
            return TTCollection(str(path), lazy=lazy).fonts[0]
        font = TTFont(str(path), lazy=lazy)
        font["cmap"]  # noqa: B018 - parse the cmap now so a broken file fails here
        return font
    except OSError as exc:
        raise InputError(str(path), f"cannot read font ({exc.strerror or type(exc).__name__})") from None
    except (TTLibError, KeyError, AssertionError, ValueError, IndexError, EOFError) as exc:
        rule = "not a TrueType/OpenType font" if isinstance(exc, TTLibError) else "font has no usable cmap"
        raise InputError(str(path), rule) from None


def cache_dir() -> Path:
    """The user cache directory of mig (``$MIG_CACHE_DIR``, else ``$XDG_CACHE_HOME/mig``,
    ``~/Library/Caches/mig``, ``%LOCALAPPDATA%/mig/cache`` or ``~/.cache/mig``).

    Nothing in it is needed for correctness: it holds what can be rebuilt (the glyph index).
    """
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":  # pragma: no cover - platform dependent
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) / "mig" / "cache" if base else Path.home() / "AppData" / "Local" / "mig" / "cache"
    if sys.platform == "darwin":  # pragma: no cover - platform dependent
        return Path.home() / "Library" / "Caches" / "mig"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mig"


def find_mj_font(path: Path | None = None) -> Path:
    """The IPAmj明朝 font file: ``path`` if given, else ``$MIG_MJ_FONT``, else fontconfig's
    match for ``IPAmjMincho``, else the usual install locations.

    A missing font is a :class:`~mig.errors.ConfigError` saying how to install it.
    """
    if path is not None:
        if not Path(path).is_file():
            raise ConfigError(f"MJ font {path} does not exist")
        return Path(path)
    env = os.environ.get(MJ_FONT_ENV)
    if env:
        if not Path(env).is_file():
            raise ConfigError(f"${MJ_FONT_ENV} names {env}, which does not exist")
        return Path(env)
    fc_match = shutil.which("fc-match")
    if fc_match:
        try:
            found = subprocess.run(
                [fc_match, "-f", "%{file}", "IPAmjMincho"], capture_output=True, text=True, timeout=10, check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):  # pragma: no cover - broken fontconfig
            found = ""
        if found and "ipamj" in Path(found).name.lower() and Path(found).is_file():
            return Path(found)
    for candidate in _KNOWN_MJ_FONT_PATHS:
        p = Path(candidate).expanduser()
        if p.is_file():
            return p
    raise ConfigError(
        "IPAmj明朝 (ipamjm.ttf) not found: install it (Debian/Ubuntu: apt-get install fonts-ipamj-mincho; "
        "others: https://moji.or.jp/mojikiban/font/) or give --mj-font / $MIG_MJ_FONT"
    )


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as temporary:
        write(temporary)


# ---------------------------------------------------------------------------------------
# rendering


def _ink(font: Any, char: str) -> UInt8Array:
    """The ink of ``char`` (0 = paper, 255 = ink), cropped to what the rasteriser drew."""
    mask, _offset = font.getmask2(char, mode="L")
    width, height = mask.size
    if width == 0 or height == 0:
        return np.zeros((1, 1), np.uint8)
    return np.frombuffer(bytes(mask), np.uint8).reshape(height, width)


def _em_image(font: Any, char: str, size: int) -> PILImage:
    """``char`` drawn black on white in a ``size``-pixel em square (baseline from the
    font's ascent/descent, centred on its advance)."""
    Image, ImageDraw, _ = _pil()
    ascent, descent = font.getmetrics()
    baseline = round(size * ascent / max(1, ascent + descent))
    image = Image.new("L", (size, size), 255)
    ImageDraw.Draw(image).text((size / 2, baseline), char, fill=0, font=font, anchor="ms")
    return image


def png_data_uri(image: PILImage) -> str:
    """A ``data:image/png;base64,…`` URI of a Pillow image (deterministic bytes)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=9)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class VendorFont:
    """A vendor's gaiji font (TrueType / OpenType / EUDC ``.tte``), read by code point.

    Opening checks the file is a font (else :class:`~mig.errors.InputError`).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(str(self.path), "font file does not exist")
        font = _ttfont(self.path)
        cmap = font.getBestCmap() or {}
        self.codepoints: frozenset[int] = frozenset(cmap)
        _, _, ImageFont = _pil()
        try:
            self._fonts: dict[int, Any] = {}
            self._font(RENDER_EM)
        except OSError:
            raise InputError(str(self.path), "not a font FreeType can render") from None

    def _font(self, size: int) -> Any:
        if size not in self._fonts:
            _, _, ImageFont = _pil()
            self._fonts[size] = ImageFont.truetype(str(self.path), size, layout_engine=ImageFont.Layout.BASIC)
        return self._fonts[size]

    def has(self, char: str) -> bool:
        """Whether the font maps ``char`` (one character) to a glyph."""
        return len(char) == 1 and ord(char) in self.codepoints

    def inks(self, chars: Sequence[str]) -> list[UInt8Array]:
        """The ink of each character at :data:`RENDER_EM` px (for :func:`glyph_features`)."""
        font = self._font(RENDER_EM)
        return [_ink(font, c) for c in chars]

    def image(self, char: str, size: int = 64) -> PILImage | None:
        """``char`` in a ``size`` px em square, or ``None`` when the font lacks it."""
        if not self.has(char):
            return None
        return _em_image(self._font(size), char, size)


IMAGE_SUFFIXES = frozenset({".png", ".bmp", ".gif", ".tif", ".tiff", ".pbm", ".pgm", ".ppm", ".xbm"})
"""Per-character glyph images read from a directory or a zip (any Pillow reads; 1-bit or grey)."""
DEFAULT_NAMES = r"(?:(?P<unicode>U\+|u)|0x|0X)?(?P<code>[0-9A-Fa-f]{4,6})"
"""File stems of per-character images: ``E000``, ``F040``, ``0x80A1``, ``U+E000``, ``uE000``."""
_BITMAP_MAX = 64  # larger images are scaled down to this (features work at 48 px)
_MAX_IMAGE_BYTES = 4 << 20  # a glyph image larger than this (in a zip: uncompressed) is not a glyph
_MAX_GLYPHS = 200_000
_MAX_IMAGE_PIXELS = 2048 * 2048


def user_area_map(encodings: Iterable[str | None]) -> dict[int, int]:
    """Vendor code → Private Use code point through the 外字 (user-defined) area of the
    source charsets ``encodings`` (a run's input encodings): JEF / KEIS / JIPS areas of
    :mod:`mig.codecs` (their :class:`~mig.codecs.luts.GaijiArea`), the Private Use entries
    of the IBM tables (user-defined area ``6941``… → ``U+E000``…), CP932 ``F040``–``F9FC``
    (``U+E000``–``U+E757``, as Python's cp932 decodes them) and EUC-JP ``F5A1``–``FEFE``
    (``U+E000``…, eucJP-ms). Charsets without a user area add nothing.

    >>> m = user_area_map(["cp932"]); hex(m[0xF040]), hex(m[0xF9FC])
    ('0xe000', '0xe757')
    >>> hex(user_area_map(["jef-ebcdic"])[0x80A1]), hex(user_area_map(["ibm-930"])[0x6941])
    ('0xe000', '0xe000')
    """
    from mig.codecs.decoders import SPECS
    from mig.codecs.luts import GaijiArea, table_entries

    out: dict[int, int] = {}
    for encoding in encodings:
        name = (encoding or "").strip().lower().replace("_", "-")
        areas: tuple[GaijiArea, ...] = ()
        if name in SPECS:
            areas = SPECS[name].gaiji
            if not areas:  # IBM: the user-defined area is in the table itself, as Private Use code points
                for entry in table_entries(SPECS[name].dbcs):  # table entries, once per review
                    text = entry["unicode"]
                    if isinstance(text, str) and len(text) == 1 and _is_pua(ord(text)):
                        out.setdefault(int(entry["code"]), ord(text))  # type: ignore[call-overload]
        elif name in ("cp932", "ms932", "windows-31j", "shift-jis", "sjis", "shift-jis-2004"):
            leads = np.arange(0xF0, 0xFA)
            trails = np.concatenate([np.arange(0x40, 0x7F), np.arange(0x80, 0xFD)])
            codes = (leads[:, None] << 8 | trails[None, :]).reshape(-1)
            out = dict(zip(codes.tolist(), (0xE000 + np.arange(len(codes))).tolist(), strict=True)) | out
        elif name in ("euc-jp", "eucjp", "euc-jp-ms", "eucjp-ms"):
            areas = (GaijiArea(0xF5, 0xFE, 0xA1, 0xFE, 0xE000),)
        for area in areas:
            codes_, points = area.codes()
            out = dict(zip(codes_.tolist(), points.tolist(), strict=True)) | out  # the first charset wins
    return out


def _image_ink(data: bytes, where: str) -> UInt8Array:
    """The ink (255 = ink) of a glyph image: grey or 1-bit, transparency on white; dark ink
    on light paper (an image that is mostly dark is read inverted); scaled to at most
    :data:`_BITMAP_MAX` px."""
    Image, _, _ = _pil()
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > _MAX_IMAGE_PIXELS:  # before decoding: a tiny file may hold a huge image
                raise InputError(where, f"glyph image of {image.width}×{image.height} pixels, not a glyph")
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                grey = Image.alpha_composite(paper, rgba).convert("L")
            else:
                grey = image.convert("L")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise InputError(where, "not an image Pillow can read") from None
    if max(grey.size) > _BITMAP_MAX:
        factor = _BITMAP_MAX / max(grey.size)
        grey = grey.resize((max(1, round(grey.width * factor)), max(1, round(grey.height * factor))), Image.Resampling.BOX)
    ink = 255 - np.asarray(grey, np.uint8)
    if ink.size and (ink >= 128).mean() > 0.5:  # light on dark: the registration tool's negative
        ink = 255 - ink
    return ink.astype(np.uint8)


class BitmapGlyphs:
    """Vendor 外字 as bitmaps, by Private Use character: a directory or zip of glyph images
    named by code (``E000.png``, ``F040.bmp``, ``0x80A1.png``; ``names``: a regular
    expression the file stem must match in full, with a group ``code`` of hex digits and
    an optional group ``unicode`` that, when it matched, makes the code a code point), or
    a BDF bitmap font (:meth:`from_bdf`).

    A code is a vendor code when ``code_map`` (:func:`user_area_map` of the run's
    charsets) has it, else a code point when it is a Private Use one; other files are
    ignored (counted in :attr:`ignored`). Each glyph's image is its em square.
    """

    def __init__(self, path: Path, glyphs: dict[int, UInt8Array], ignored: int = 0) -> None:
        self.path = Path(path)
        self._glyphs = glyphs
        self.codepoints: frozenset[int] = frozenset(glyphs)
        self.ignored = ignored

    def has(self, char: str) -> bool:
        """Whether there is a glyph for ``char`` (one character)."""
        return len(char) == 1 and ord(char) in self.codepoints

    def inks(self, chars: Sequence[str]) -> list[UInt8Array]:
        """The ink of each character (for :func:`glyph_features`); nothing for a missing one."""
        return [self._glyphs.get(ord(c), np.zeros((1, 1), np.uint8)) if len(c) == 1 else np.zeros((1, 1), np.uint8)
                for c in chars]

    def image(self, char: str, size: int = 64) -> PILImage | None:
        """The glyph in a ``size`` px square, black on white (dots kept sharp), or ``None``."""
        if not self.has(char):
            return None
        Image, _, _ = _pil()
        ink = self._glyphs[ord(char)]
        side = max(ink.shape)
        square = np.zeros((side, side), np.uint8)
        top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
        square[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
        return Image.fromarray(255 - square, "L").resize((size, size), Image.Resampling.NEAREST)

    @staticmethod
    def _codepoint(stem: str, pattern: re.Pattern[str], code_map: dict[int, int]) -> int | None:
        match = pattern.fullmatch(stem)
        if match is None or not match.groupdict().get("code"):
            return None
        code = int(match.group("code"), 16)
        if match.groupdict().get("unicode"):
            return code if _is_pua(code) else None
        if code in code_map:
            return code_map[code]
        return code if _is_pua(code) else None

    @classmethod
    def from_images(cls, path: Path, *, names: str | None = None, code_map: dict[int, int] | None = None) -> BitmapGlyphs:
        """Glyph images of a directory or a ``.zip`` (see the class docstring)."""
        import zipfile

        path = Path(path)
        try:
            pattern = re.compile(names or DEFAULT_NAMES)
        except re.error as exc:
            raise ConfigError(f"--names {names!r}: not a regular expression ({exc.msg})") from None
        if "code" not in pattern.groupindex:
            raise ConfigError(f"--names {names!r}: needs a group (?P<code>…) of hex digits")
        code_map = code_map or {}
        glyphs: dict[int, UInt8Array] = {}
        ignored = 0
        sources: list[tuple[str, Callable[[], bytes]]] = []
        try:
            if path.is_dir():
                for file in sorted(path.iterdir()):
                    if file.suffix.lower() in IMAGE_SUFFIXES and file.is_file():
                        if file.stat().st_size > _MAX_IMAGE_BYTES:
                            raise InputError(str(file), "glyph image over 4 MB")
                        sources.append((file.name, file.read_bytes))
                archive = None
            else:
                archive = zipfile.ZipFile(path)
                for info in sorted(archive.infolist(), key=lambda i: i.filename):
                    name = info.filename.rsplit("/", 1)[-1]
                    if info.is_dir() or Path(name).suffix.lower() not in IMAGE_SUFFIXES:
                        continue
                    if info.file_size > _MAX_IMAGE_BYTES:
                        raise InputError(f"{path}:{info.filename}", "glyph image over 4 MB")
                    sources.append((name, _zip_reader(archive, info)))
            if len(sources) > _MAX_GLYPHS:
                raise InputError(str(path), f"more than {_MAX_GLYPHS:,} glyph images")
            for name, read in sources:
                point = cls._codepoint(Path(name).stem, pattern, code_map)
                if point is None or point in glyphs:
                    ignored += 1
                    continue
                glyphs[point] = _image_ink(read(), f"{path}:{name}" if archive is not None else str(path / name))
        except zipfile.BadZipFile:
            raise InputError(str(path), "not a zip of glyph images") from None
        except OSError as exc:
            raise InputError(str(path), f"cannot read glyph images ({exc.strerror or type(exc).__name__})") from None
        if not glyphs:
            raise InputError(str(path), f"no glyph image named by a code ({len(sources)} image(s); see --names)")
        return cls(path, glyphs, ignored)

    @classmethod
    def from_pcf(cls, path: Path, *, code_map: dict[int, int] | None = None) -> BitmapGlyphs:
        """Glyphs of a PCF font (X11 compiled BDF; codes as in :meth:`from_bdf`)."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(str(path), f"cannot read ({exc.strerror or type(exc).__name__})") from None
        if data[:4] != b"\x01fcp":
            raise InputError(str(path), "not a PCF font (no PCF signature)", offset=0)
        try:
            glyphs, ignored = _pcf_glyphs(data, code_map or {})
        except (ValueError, IndexError, TypeError):
            raise InputError(str(path), "malformed PCF font") from None
        if not glyphs:
            raise InputError(str(path), "no glyph of a Private Use character or a known 外字 code")
        return cls(path, glyphs, ignored)

    @classmethod
    def from_bdf(cls, path: Path, *, code_map: dict[int, int] | None = None) -> BitmapGlyphs:
        """Glyphs of a BDF bitmap font: ``ENCODING`` is a code point when the font's
        ``CHARSET_REGISTRY`` is ISO10646, else a vendor code (a JIS code of a jisx0208
        font is also tried in its EUC form) mapped through ``code_map``."""
        path = Path(path)
        code_map = code_map or {}
        try:
            lines = path.read_bytes().decode("latin-1").splitlines()
        except OSError as exc:
            raise InputError(str(path), f"cannot read ({exc.strerror or type(exc).__name__})") from None
        if not lines or not lines[0].startswith("STARTFONT"):
            raise InputError(str(path), "not a BDF font (no STARTFONT line)", line=1)
        registry = next((ln.split(None, 1)[1].strip('" ').lower() for ln in lines
                         if ln.startswith("CHARSET_REGISTRY") and len(ln.split(None, 1)) == 2), "")
        unicode = registry.startswith("iso10646")
        glyphs: dict[int, UInt8Array] = {}
        ignored = 0
        encoding: int | None = None
        width = height = 0
        rows: list[str] | None = None
        for number, line in enumerate(lines, start=1):  # per glyph line of the font, not per data row
            word = line.split(None, 1)[0] if line.strip() else ""
            try:
                if word == "ENCODING":
                    encoding = int(line.split()[1])
                elif word == "BBX":
                    width, height = int(line.split()[1]), int(line.split()[2])
                elif word == "BITMAP":
                    rows = []
                elif word == "ENDCHAR":
                    point = None
                    if encoding is not None and encoding >= 0 and rows is not None and width > 0 and height > 0:
                        point = encoding if unicode and _is_pua(encoding) else (
                            code_map.get(encoding) or code_map.get(encoding | 0x8080)
                            or (encoding if _is_pua(encoding) else None)
                        )
                    if point is None or rows is None or point in glyphs or len(rows) < height:
                        ignored += 1
                    else:
                        packed = np.frombuffer(bytes.fromhex("".join(r.strip() for r in rows[:height])), np.uint8)
                        bits = np.unpackbits(packed.reshape(height, -1), axis=1)[:, :width]
                        glyphs[point] = (bits * 255).astype(np.uint8)
                    encoding, rows = None, None
                elif rows is not None:
                    rows.append(line)
            except (ValueError, IndexError):
                raise InputError(str(path), "malformed BDF glyph", line=number) from None
        if not glyphs:
            raise InputError(str(path), "no glyph of a Private Use character or a known 外字 code")
        return cls(path, glyphs, ignored)


_PCF_PROPERTIES, _PCF_METRICS, _PCF_BITMAPS, _PCF_BDF_ENCODINGS = 1 << 0, 1 << 2, 1 << 3, 1 << 5


def _pcf_tables(data: bytes) -> dict[int, tuple[int, int, int]]:
    """PCF table of contents: type → (format, size, offset)."""
    count = int.from_bytes(data[4:8], "little")
    if not 0 < count < 64 or len(data) < 8 + 16 * count:
        raise ValueError("table of contents")
    toc = np.frombuffer(data, "<i4", count * 4, 8).reshape(count, 4)
    return {int(t): (int(f), int(z), int(o)) for t, f, z, o in toc}


def _pcf_glyphs(data: bytes, code_map: dict[int, int]) -> tuple[dict[int, UInt8Array], int]:
    """(code point → ink, glyphs ignored) of a PCF font (the X11 compiled bitmap format)."""
    tables = _pcf_tables(data)
    if not {_PCF_METRICS, _PCF_BITMAPS, _PCF_BDF_ENCODINGS} <= set(tables):
        raise ValueError("missing tables")

    def table(kind: int) -> tuple[int, str, int]:
        fmt, _size, offset = tables[kind]
        if int.from_bytes(data[offset:offset + 4], "little") != fmt:
            raise ValueError("format")
        return fmt, ">" if fmt & 4 else "<", offset + 4

    def ints(dtype: str, count: int, offset: int) -> npt.NDArray[Any]:
        if count < 0 or offset + count * np.dtype(dtype).itemsize > len(data):
            raise ValueError("truncated")
        return np.frombuffer(data, dtype, count, offset).astype(np.int64)

    registry = ""
    if _PCF_PROPERTIES in tables:
        _, e, at = table(_PCF_PROPERTIES)
        n = int(ints(e + "i4", 1, at)[0])
        props = np.frombuffer(data, np.dtype([("name", e + "i4"), ("is_string", "u1"), ("value", e + "i4")]), n, at + 4)
        strings_at = at + 4 + 9 * n + (4 - (9 * n) % 4) % 4 + 4
        def string(offset: int) -> str:
            end = data.index(b"\0", strings_at + offset)
            return data[strings_at + offset:end].decode("latin-1")
        for prop in props:
            if string(int(prop["name"])) == "CHARSET_REGISTRY" and prop["is_string"]:
                registry = string(int(prop["value"])).lower()
    fmt, e, at = table(_PCF_METRICS)
    if fmt & 0x100:  # compressed: five unsigned bytes biased by 0x80
        n = int(ints(e + "i2", 1, at)[0])
        m = ints("u1", n * 5, at + 2).reshape(n, 5) - 0x80
    else:
        n = int(ints(e + "i4", 1, at)[0])
        m = ints(e + "i2", n * 6, at + 4).reshape(n, 6)[:, :5]  # + attributes, unused
    widths, heights = m[:, 1] - m[:, 0], m[:, 3] + m[:, 4]
    fmt, e, at = table(_PCF_BITMAPS)
    count = int(ints(e + "i4", 1, at)[0])
    offsets = ints(e + "i4", count, at + 4)
    bitmap_at = at + 4 + 4 * count + 16
    pad, msb_bits = 1 << (fmt & 3), bool(fmt & 8)
    _, e, at = table(_PCF_BDF_ENCODINGS)
    min2, max2, min1, max1, _default = (int(v) for v in ints(e + "i2", 5, at))
    cells = (max2 - min2 + 1) * (max1 - min1 + 1)
    indices = ints(e + "u2", cells, at + 10)
    unicode = registry.startswith("iso10646")
    glyphs: dict[int, UInt8Array] = {}
    ignored = 0
    for cell in np.flatnonzero(indices != 0xFFFF).tolist():  # per glyph of the font, not per data row
        glyph = int(indices[cell])
        code = ((min1 + cell // (max2 - min2 + 1)) << 8) | (min2 + cell % (max2 - min2 + 1))
        point = code if unicode and _is_pua(code) else (
            code_map.get(code) or code_map.get(code | 0x8080) or (code if not unicode and _is_pua(code) else None)
        )
        width, height = (int(widths[glyph]), int(heights[glyph])) if glyph < n and glyph < count else (0, 0)
        if point is None or point in glyphs or width <= 0 or height <= 0:
            ignored += 1
            continue
        stride = -(-((width + 7) // 8) // pad) * pad
        start = bitmap_at + int(offsets[glyph])
        rows = np.frombuffer(data, np.uint8, stride * height, start).reshape(height, stride)
        bits = np.unpackbits(rows, axis=1, bitorder="big" if msb_bits else "little")[:, :width]
        glyphs[point] = (bits * 255).astype(np.uint8)
    return glyphs, ignored


def _zip_reader(archive: Any, info: Any) -> Callable[[], bytes]:
    def read() -> bytes:
        data: bytes = archive.read(info)
        return data

    return read


def _is_pua(code: int) -> bool:
    return 0xE000 <= code <= 0xF8FF or 0xF0000 <= code <= 0xFFFFD or 0x100000 <= code <= 0x10FFFD


def open_glyphs(
    path: Path, *, names: str | None = None, code_map: dict[int, int] | None = None,
) -> VendorFont | BitmapGlyphs:
    """The vendor's glyphs at ``path``: a directory or ``.zip`` of glyph images, a BDF or PCF
    font, else a TrueType / OpenType font (EUDC ``.tte``). Windows ``.fon`` / ``.fnt`` and
    compressed ``.pcf.gz`` are refused with a one-line error saying how to convert them."""
    path = Path(path)
    if path.is_dir() or (path.suffix.lower() == ".zip" and path.is_file()):
        return BitmapGlyphs.from_images(path, names=names, code_map=code_map)
    suffix = path.suffix.lower()
    if suffix == ".bdf":
        return BitmapGlyphs.from_bdf(path, code_map=code_map)
    if suffix == ".pcf":
        return BitmapGlyphs.from_pcf(path, code_map=code_map)
    if suffix in (".fon", ".fnt", ".gz"):
        raise InputError(str(path), f"{suffix} bitmap fonts are not read yet: convert to BDF (fontforge) or give glyph images")
    return VendorFont(path)


class MJFont:
    """IPAmj明朝: renders MJ文字図形名 (IVS glyphs included) through a cached cmap copy."""

    def __init__(self, path: Path | None = None, *, cache: Path | None = None) -> None:
        self.path = find_mj_font(path)
        self.cache = cache if cache is not None else cache_dir()
        self._fonts: dict[int, Any] = {}

    @cached_property
    def sha256(self) -> str:
        """SHA-256 of the font file (the cache key)."""
        return _sha256(self.path)

    @cached_property
    def _glyph_ids(self) -> dict[str, int]:
        """Glyph name → glyph id of the font."""
        font = _ttfont(self.path)
        return {name: gid for gid, name in enumerate(font.getGlyphOrder())}

    @cached_property
    def _cmaps(self) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
        """(code point → glyph name, (base, selector) → glyph name) of the font."""
        font = _ttfont(self.path)
        best = font.getBestCmap() or {}
        uvs: dict[tuple[int, int], str] = {}
        for table in font["cmap"].tables:
            if table.format == 14:
                for selector, pairs in table.uvsDict.items():
                    for base, name in pairs:
                        glyph = name if name is not None else best.get(base)
                        if glyph is not None:
                            uvs[(base, selector)] = glyph
        return best, uvs

    def glyph_id(self, mj_name: str, text: str | None = None) -> int | None:
        """The glyph id of ``mj_name`` (by glyph name ``mj012345``; else by ``text``: its
        IVS through cmap format 14, or its UCS), or ``None`` when the font lacks it."""
        gid = self._glyph_ids.get(mj_name.lower())
        if gid is not None or not text:
            return gid
        best, uvs = self._cmaps
        if len(text) == 2:
            name = uvs.get((ord(text[0]), ord(text[1])))
        elif len(text) == 1:
            name = best.get(ord(text))
        else:
            name = None
        return self._glyph_ids.get(name) if name is not None else None

    @cached_property
    def _gid_font_path(self) -> Path:
        """The cached copy of the font whose cmap maps U+F0000 + glyph id → glyph."""
        target = self.cache / f"ipamj-gid-{self.sha256[:16]}.ttf"
        if target.is_file():
            return target
        from fontTools.ttLib.tables._c_m_a_p import CmapSubtable  # type: ignore[import-untyped, import-not-found, unused-ignore]

        font = _ttfont(self.path)
        order = font.getGlyphOrder()
        font.tables.pop("post", None)  # read only for the glyph names: copy it raw, don't recompile
        if len(order) > _GID_LIMIT:  # pragma: no cover - no such MJ font exists
            raise MigError(f"{self.path}: {len(order)} glyphs, more than the cache copy can address")
        table = CmapSubtable.newSubtable(12)
        table.platformID, table.platEncID, table.language = 3, 10, 0
        table.cmap = {_GID_BASE + gid: name for gid, name in enumerate(order)}
        font["cmap"].tables = [table]

        def save(tmp: Path) -> None:
            font.save(str(tmp))

        _atomic_write(target, save)
        return target

    def _font(self, size: int) -> Any:
        if size not in self._fonts:
            _, _, ImageFont = _pil()
            self._fonts[size] = ImageFont.truetype(
                str(self._gid_font_path), size, layout_engine=ImageFont.Layout.BASIC
            )
        return self._fonts[size]

    def inks(self, glyph_ids: Sequence[int]) -> list[UInt8Array]:
        """The ink of each glyph id at :data:`RENDER_EM` px."""
        font = self._font(RENDER_EM)
        return [_ink(font, chr(_GID_BASE + gid)) for gid in glyph_ids]

    def image(self, glyph_id: int, size: int = 64) -> PILImage:
        """Glyph ``glyph_id`` in a ``size`` px em square, black on white."""
        return _em_image(self._font(size), chr(_GID_BASE + glyph_id), size)


# ---------------------------------------------------------------------------------------
# features


def _gauss_matrix(n: int, sigma: float) -> FloatArray:
    x = np.arange(n, dtype=np.float64)
    g = np.exp(-0.5 * ((x[:, None] - x[None, :]) / sigma) ** 2)
    g /= g.sum(axis=1, keepdims=True)
    return g.astype(np.float32)


def _pool_matrix(n: int, grid: int) -> FloatArray:
    step = n // grid
    pool = np.zeros((grid, n), np.float32)
    for g in range(grid):
        pool[g, g * step:(g + 1) * step] = 1.0 / step
    return pool


_SMOOTH = _gauss_matrix(_NORM, _BLUR)  # (48, 48): before the gradient, so 1-bit steps become slopes
_DIRECTION_POOL = _pool_matrix(_NORM, _DIRECTION_GRID) @ _gauss_matrix(_NORM, _POOL_BLUR)  # (8, 48)


def _stack(inks: Sequence[UInt8Array]) -> FloatArray:
    """Inks pasted into one (n, C, C) float array (0…1), clipped to the canvas."""
    out = np.zeros((len(inks), _CANVAS, _CANVAS), np.float32)
    for i, ink in enumerate(inks):  # a copy per glyph (trimmed to its ink); the maths below is batched
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        if len(rows) == 0:
            continue
        ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        h, w = min(ink.shape[0], _CANVAS), min(ink.shape[1], _CANVAS)
        out[i, :h, :w] = ink[:h, :w]
    out *= np.float32(1 / 255)
    return out


def _sampling(center: FloatArray, scale: FloatArray) -> FloatArray:
    """(n, NORM, CANVAS) triangle-filter weights sampling the normalised square."""
    t = (np.arange(_NORM, dtype=np.float32) + 0.5) / _NORM - 0.5
    pos = center[:, None] + t[None, :] * scale[:, None]  # (n, NORM) source coordinates
    radius = np.maximum(scale / _NORM, 1.0)[:, None, None]
    pixel = np.arange(_CANVAS, dtype=np.float32) + 0.5
    weights = np.maximum(0.0, 1.0 - np.abs(pixel[None, None, :] - pos[:, :, None]) / radius)
    return (weights / radius).astype(np.float32)


def _normalise(inks: Sequence[UInt8Array]) -> FloatArray:
    """(n, NORM, NORM) moment-normalised ink (0…1): centre of mass to the centre, the larger
    standard deviation to a fixed share of the square; one batched product, no per-pixel Python."""
    a = _stack(inks)
    rows = a.sum(axis=2)  # (n, C): ink per row
    cols = a.sum(axis=1)
    total = rows.sum(axis=1) + np.float32(1e-6)
    pixel = np.arange(_CANVAS, dtype=np.float32) + 0.5
    cy = (rows * pixel).sum(axis=1) / total
    cx = (cols * pixel).sum(axis=1) / total
    sy = np.sqrt((rows * (pixel[None, :] - cy[:, None]) ** 2).sum(axis=1) / total)
    sx = np.sqrt((cols * (pixel[None, :] - cx[:, None]) ** 2).sum(axis=1) / total)
    scale = np.maximum(np.maximum(sx, sy), 1.0) * np.float32(2 * _SPREAD)
    out: FloatArray = (_sampling(cy, scale) @ a @ _sampling(cx, scale).transpose(0, 2, 1)).astype(np.float32)
    return out


def _describe(normed: FloatArray) -> FloatArray:
    """Stroke-direction features of moment-normalised glyphs (see the module docstring):
    blur, central-difference gradient, its doubled angle split into four unsigned
    orientations (—, ╱, │, ╲), each blurred and pooled to 8×8, square-rooted, L2-normalised."""
    n = len(normed)
    b = _SMOOTH[None, :, :] @ normed @ _SMOOTH.T[None, :, :]
    gy = np.zeros_like(b)
    gx = np.zeros_like(b)
    gy[:, 1:-1] = b[:, 2:] - b[:, :-2]
    gx[:, :, 1:-1] = b[:, :, 2:] - b[:, :, :-2]
    magnitude = np.sqrt(gx * gx + gy * gy) + np.float32(1e-6)
    cos2 = (gx * gx - gy * gy) / magnitude  # |g|·cos 2θ: an edge's orientation, sign-free
    sin2 = 2 * gx * gy / magnitude
    channels = (np.maximum(cos2, 0), np.maximum(sin2, 0), np.maximum(-cos2, 0), np.maximum(-sin2, 0))
    feats = np.concatenate(
        [(_DIRECTION_POOL[None, :, :] @ c @ _DIRECTION_POOL.T[None, :, :]).reshape(n, -1) for c in channels], axis=1,
    )
    feats = np.sqrt(np.maximum(feats, 0.0))
    norms = np.linalg.norm(feats, axis=1, keepdims=True)
    out: FloatArray = (feats / np.maximum(norms, 1e-6)).astype(np.float32)
    return out


def _features_batch(inks: Sequence[UInt8Array]) -> FloatArray:
    return _describe(_normalise(inks))


def glyph_features(inks: Sequence[UInt8Array]) -> FloatArray:
    """Raw 256-number features of glyph inks (rows L2-normalised; zero rows for no ink).

    See the module docstring for the steps; batched, no per-pixel Python.
    """
    if not inks:
        return np.zeros((0, _GRID * _GRID), np.float32)
    return np.concatenate([_features_batch(inks[i:i + _BATCH]) for i in range(0, len(inks), _BATCH)])


# ---------------------------------------------------------------------------------------
# the index of MJ glyphs


@dataclass(frozen=True)
class GlyphIndex:
    """Feature vectors of MJ glyphs, ready for one-matrix-product search.

    ``names`` are MJ文字図形名; ``vectors`` (n × 256, float16) are centred, whitened and
    L2-normalised; ``mean`` and ``transform`` map a raw feature into the same space;
    ``stroke_model`` predicts 総画数 from a raw feature (least squares over the index;
    ``stroke_sigma`` is its residual spread, 0 when the index was too small to fit it).
    Indexes of fewer than 1,024 glyphs are neither centred nor whitened.
    """

    names: tuple[str, ...]
    glyph_ids: npt.NDArray[np.int32]
    vectors: npt.NDArray[np.float16]
    mean: FloatArray
    transform: FloatArray
    stroke_model: FloatArray
    stroke_sigma: float
    key: str

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def build(
        cls,
        font: MJFont,
        names: Sequence[str],
        texts: Sequence[str | None] | None = None,
        strokes: Sequence[int | None] | None = None,
        progress: Callable[[int, int], None] | None = None,
        *,
        fit_whitening: bool = False,
    ) -> GlyphIndex:
        """Render ``names`` (MJ文字図形名) with ``font`` and build the index.

        ``texts`` (IVS or UCS per name) is the fallback when the font has no glyph of that
        name; names the font lacks are left out. ``strokes`` (総画数) trains the stroke model.
        The whitening is the packaged one (:func:`load_whitening`, fitted on all MJ glyphs,
        so any candidate set shares the space the confidence was calibrated in); without
        it, or with ``fit_whitening``, it is fitted on ``names`` (1,024 glyphs or more).
        """
        texts = texts if texts is not None else [None] * len(names)
        strokes = strokes if strokes is not None else [None] * len(names)
        kept: list[int] = []
        gids: list[int] = []
        for i, (name, text) in enumerate(zip(names, texts, strict=True)):
            gid = font.glyph_id(name, text)
            if gid is not None:
                kept.append(i)
                gids.append(gid)
        if not kept:
            raise ConfigError(f"{font.path}: none of the {len(names)} MJ characters has a glyph in this font")
        raw = np.zeros((len(gids), _GRID * _GRID), np.float32)
        for start in range(0, len(gids), _BATCH):
            chunk = gids[start:start + _BATCH]
            raw[start:start + len(chunk)] = _features_batch(font.inks(chunk))
            if progress is not None:
                progress(start + len(chunk), len(gids))
        dims = raw.shape[1]
        shipped = None if fit_whitening else load_whitening()
        if shipped is not None:  # the same space for every candidate set: scores stay calibrated
            mean, transform = shipped
        elif len(raw) >= _MIN_WHITEN * dims:
            mean, transform = _fit_whitening(raw)
        else:  # too few glyphs for stable statistics: plain cosine of the raw features
            mean = np.zeros(dims, np.float32)
            transform = np.eye(dims, dtype=np.float32)
        vectors = _unit((raw - mean) @ transform)
        stroke_values = np.array([strokes[i] if strokes[i] is not None else np.nan for i in kept], np.float64)
        known = ~np.isnan(stroke_values)
        design = np.hstack([raw, np.ones((len(raw), 1), np.float32)]).astype(np.float64)
        model: npt.NDArray[np.floating[Any]] = np.zeros(raw.shape[1] + 1)
        sigma = 0.0  # 0: no stroke model (too few glyphs with 総画数)
        if known.sum() >= _MIN_WHITEN * dims:
            model, *_ = np.linalg.lstsq(design[known], stroke_values[known], rcond=None)
            residual = design[known] @ model - stroke_values[known]
            sigma = float(max(1.0, residual.std()))
        return cls(
            names=tuple(names[i] for i in kept),
            glyph_ids=np.asarray(gids, np.int32),
            vectors=vectors.astype(np.float16),
            mean=mean.astype(np.float32),
            transform=transform,
            stroke_model=model.astype(np.float32),
            stroke_sigma=sigma,
            key=index_key(font, names) if not fit_whitening else "fitted-" + index_key(font, names),
        )

    def embed(self, raw: FloatArray) -> FloatArray:
        """Raw features (:func:`glyph_features`) → unit vectors in the index space."""
        return _unit((raw - self.mean) @ self.transform)

    @cached_property
    def _matrix(self) -> FloatArray:
        """The vectors as float32, transposed for the product (made once per index)."""
        return np.ascontiguousarray(self.vectors.astype(np.float32).T)

    def similarity(self, raw: FloatArray) -> FloatArray:
        """(queries × len(index)) cosine similarities of raw query features: one matrix product."""
        out: FloatArray = self.embed(raw) @ self._matrix
        return out

    def predict_strokes(self, raw: FloatArray) -> FloatArray:
        """Estimated 総画数 of each raw feature row (a weak hint; σ ≈ :attr:`stroke_sigma`)."""
        design = np.hstack([raw, np.ones((len(raw), 1), np.float32)])
        return (design @ self.stroke_model).astype(np.float32)

    def search(self, raw: FloatArray, top: int) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Indices and scores of the ``top`` most similar MJ glyphs per query, best first."""
        top = max(1, min(top, len(self.names)))
        if len(raw) == 0:
            return np.zeros((0, top), np.int64), np.zeros((0, top), np.float32)
        scores = self.similarity(raw)
        idx = np.argpartition(-scores, top - 1, axis=1)[:, :top] if top < scores.shape[1] else np.tile(
            np.arange(scores.shape[1]), (len(scores), 1)
        )
        part = np.take_along_axis(scores, idx, axis=1)
        order = np.lexsort((idx, -part), axis=1)  # by score, then by index: deterministic ties
        return np.take_along_axis(idx, order, axis=1).astype(np.int64), np.take_along_axis(part, order, axis=1)

    # -- cache ----------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index to ``path`` (``.npz``) atomically."""

        def write(tmp: Path) -> None:
            with tmp.open("wb") as handle:
                np.savez(
                    handle, names=np.asarray(self.names), glyph_ids=self.glyph_ids, vectors=self.vectors,
                    mean=self.mean, transform=self.transform, stroke_model=self.stroke_model,
                    stroke_sigma=np.float64(self.stroke_sigma), key=np.asarray(self.key),
                )

        _atomic_write(path, write)

    @classmethod
    def load(cls, path: Path) -> GlyphIndex:
        """Read an index written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                names=tuple(str(n) for n in data["names"].tolist()),
                glyph_ids=data["glyph_ids"].astype(np.int32),
                vectors=data["vectors"].astype(np.float16),
                mean=data["mean"].astype(np.float32),
                transform=data["transform"].astype(np.float32),
                stroke_model=data["stroke_model"].astype(np.float32),
                stroke_sigma=float(data["stroke_sigma"]),
                key=str(data["key"]),
            )

    @classmethod
    def cached(
        cls,
        font: MJFont,
        names: Sequence[str],
        texts: Sequence[str | None] | None = None,
        strokes: Sequence[int | None] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> GlyphIndex:
        """The index of ``names`` from the cache, built (and cached) when absent or stale."""
        key = index_key(font, names)
        path = font.cache / f"glyph-index-{key}.npz"
        if path.is_file():
            try:
                index = cls.load(path)
                if index.key == key:
                    return index
            except (OSError, ValueError, KeyError):
                pass  # a damaged cache file is rebuilt
        index = cls.build(font, names, texts, strokes, progress)
        index.save(path)
        return index


def _fit_whitening(raw: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and PCA whitening (each component divided by √(eigenvalue + mean eigenvalue))."""
    mean = raw.mean(axis=0)
    centred = raw - mean
    cov = (centred.T @ centred) / max(1, len(raw) - 1)
    eigval, eigvec = np.linalg.eigh(cov.astype(np.float64))
    eigval = np.maximum(eigval, 0.0)
    transform = (eigvec / np.sqrt(eigval + eigval.mean() + 1e-12)).astype(np.float32)
    return mean.astype(np.float32), transform


WHITENING_FILE = "glyph-whitening.npz"
"""The packaged map into the search space (``gaiji/glyph-whitening.npz``, float16, ≈130 kB):
mean and transform (PCA whitening of all 58,862 MJ glyphs' features times the learned
design map), written by ``benchmarks/calibrate_glyph_confidence.py --whitening``."""


def _packaged(name: str) -> Path | None:
    from mig.resources import data_dir

    try:
        path = data_dir("gaiji") / name
    except FileNotFoundError:  # pragma: no cover - broken installation
        return None
    return path if path.is_file() else None


def load_whitening() -> tuple[FloatArray, FloatArray] | None:
    """The packaged (mean, transform) for :data:`FEATURE_VERSION`, or ``None``."""
    path = _packaged(WHITENING_FILE)
    if path is None:
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["feature_version"]) != FEATURE_VERSION:
                return None
            mean, transform = data["mean"].astype(np.float32), data["transform"].astype(np.float32)
    except (OSError, ValueError, KeyError):
        return None
    if mean.shape != (_GRID * _GRID,) or transform.shape != (_GRID * _GRID, _GRID * _GRID):
        return None
    return mean, transform


def save_whitening(index: GlyphIndex, path: Path) -> None:
    """Write ``index``'s mean and transform as the packaged whitening (float16)."""

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez_compressed(
                handle, feature_version=np.int64(FEATURE_VERSION), mean=index.mean.astype(np.float16),
                transform=index.transform.astype(np.float16),
            )

    _atomic_write(path, write)


# ---------------------------------------------------------------------------------------
# calibrated confidence

CALIBRATION_FILE = "glyph-calibration.json"
"""The packaged calibration (``gaiji/glyph-calibration.json``), fitted by
``benchmarks/calibrate_glyph_confidence.py`` on held-out characters and designs."""


@dataclass(frozen=True)
class Calibration:
    """Logistic calibration of a top candidate: P(right) = σ(w · [1, score, margin,
    √margin, reading, reading known]) (margin: :func:`glyph_margin`); ``abstain_below``: a
    top glyph score under it means no MJ glyph is close (the character is probably not in
    MJ); ``curve``: (confidence threshold, precision of the held-out characters at or above
    it) pairs, highest threshold first, for :meth:`threshold`.

    >>> c = Calibration(3, (0,) * 6, 0.4, ((0.999, 1.0), (0.99, 0.996), (0.9, 0.98)))
    >>> c.threshold(0.995), c.threshold(0.97), c.threshold(0.9999)
    (0.99, 0.9, 0.999)
    """

    feature_version: int
    weights: tuple[float, ...]
    abstain_below: float
    curve: tuple[tuple[float, float], ...] = ()

    def threshold(self, precision: float) -> float:
        """The lowest confidence at which the held-out auto-confirmed set still had
        ``precision`` (the set's precision, as the auto-confirmation curve counts it); above
        every point of the curve (or without one): ``precision`` itself, per character."""
        meets = [t for t, p in self.curve if p >= precision]
        if meets:
            return min(meets)
        return max(precision, self.curve[0][0] if self.curve else 0.0)

    def confidence(
        self, score: FloatArray, margin: FloatArray, reading: FloatArray | None = None,
        reading_known: FloatArray | None = None,
    ) -> FloatArray:
        """Calibrated probability that each top candidate is right (0…1)."""
        zero = np.zeros_like(score, dtype=np.float64)
        m = np.maximum(margin.astype(np.float64), 0.0)
        design = np.stack([
            np.ones_like(zero), score.astype(np.float64), m, np.sqrt(m),
            reading.astype(np.float64) if reading is not None else zero,
            reading_known.astype(np.float64) if reading_known is not None else zero,
        ], axis=1)
        out: FloatArray = (1.0 / (1.0 + np.exp(-(design @ np.asarray(self.weights, np.float64))))).astype(np.float32)
        return out


def load_calibration() -> Calibration | None:
    """The packaged :class:`Calibration`, or ``None`` when there is none for the current
    :data:`FEATURE_VERSION` (then nothing is auto-confirmed and nothing flagged)."""
    import json

    path = _packaged(CALIBRATION_FILE)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        calibration = Calibration(
            int(data["feature_version"]), tuple(float(w) for w in data["weights"]), float(data["abstain_below"]),
            tuple((float(t), float(p)) for t, p in data.get("curve", [])),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return calibration if calibration.feature_version == FEATURE_VERSION and len(calibration.weights) == 6 else None


def glyph_margin(top: npt.NDArray[np.int64], scores: FloatArray, group: npt.NDArray[np.int64]) -> FloatArray:
    """Per query: the first candidate's score minus the best score of a candidate of
    another group (``group``: one id per index entry; the workbench and its calibration
    give every MJ record its own, so an IVS twin of the first candidate counts too). ``top`` / ``scores``
    from :meth:`GlyphIndex.search`, best first; without another character among them,
    the margin over the last.

    >>> top = np.array([[0, 1, 2]]); scores = np.array([[0.9, 0.88, 0.5]], np.float32)
    >>> round(float(glyph_margin(top, scores, np.array([7, 7, 8]))[0]), 2)
    0.4
    """
    other = group[top] != group[top[:, :1]]
    first = np.where(other.any(axis=1), np.argmax(other, axis=1), top.shape[1] - 1)
    out: FloatArray = (scores[:, 0] - np.take_along_axis(scores, first[:, None], axis=1)[:, 0]).astype(np.float32)
    return out


def auto_confirm_threshold(precision: float) -> float | None:
    """The confidence at or above which a first candidate is auto-confirmed for
    ``precision`` (:meth:`Calibration.threshold`), or ``None`` without a calibration."""
    calibration = load_calibration()
    return calibration.threshold(precision) if calibration is not None else None


def glyph_confidence(
    score: FloatArray, margin: FloatArray, reading: FloatArray | None = None, reading_known: FloatArray | None = None,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """(calibrated confidence of each top candidate, whether no MJ glyph is close) from the
    top glyph score, its margin over another character (:func:`glyph_margin`) and the
    reading match (0…1) when the row has カナ. A glyph is *not in MJ* when its top score
    is under the calibration's ``abstain_below`` and the top candidate's reading does not
    match the row's カナ (a matching reading says an MJ character is meant). Without a
    packaged calibration: confidence 0 and nothing flagged.

    >>> conf, far = glyph_confidence(np.array([0.9], np.float32), np.array([0.2], np.float32))
    >>> conf.shape, far.dtype
    ((1,), dtype('bool'))
    """
    calibration = load_calibration()
    if calibration is None:
        return np.zeros(len(score), np.float32), np.zeros(len(score), np.bool_)
    far = score < calibration.abstain_below
    if reading is not None:
        far &= reading < 0.5
    return calibration.confidence(score, margin, reading, reading_known), far


def index_key(font: MJFont, names: Iterable[str]) -> str:
    """Cache key of an index: font SHA-256, the candidate names, :data:`FEATURE_VERSION`
    and the packaged whitening's SHA-256."""
    digest = hashlib.sha256()
    whitening = _packaged(WHITENING_FILE)
    digest.update(f"v{FEATURE_VERSION}:{font.sha256}:{_sha256(whitening) if whitening else '-'}:".encode())
    for name in names:
        digest.update(name.encode() + b"\n")
    return digest.hexdigest()[:24]


def _unit(matrix: npt.NDArray[np.floating[Any]]) -> FloatArray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    out: FloatArray = (matrix / np.maximum(norms, 1e-9)).astype(np.float32)
    return out


def codepoints_of(text: str) -> str:
    """``U+XXXX`` notation of ``text`` (no characters shown)."""
    return " ".join(f"U+{ord(c):04X}" for c in text)
