"""Vendor glyph sources of the 外字 workbench: glyph images (directory / zip) named by code,
BDF fonts, the code → Private Use mapping through the charset's 外字 area, and the
registry status ``own`` (not in MJ, kept as Private Use)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mig.cli import main
from mig.errors import ConfigError, InputError, MigError
from mig.gaiji.glyphs import BitmapGlyphs, VendorFont, open_glyphs, user_area_map
from mig.gaiji.registry import OWN, load_registry, make_entry, write_registry


def _png(ink: np.ndarray, mode: str = "1") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.where(ink > 0, 0, 255).astype(np.uint8), "L").convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def _bmp(ink: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.where(ink > 0, 0, 255).astype(np.uint8), "L").save(buffer, format="BMP")
    return buffer.getvalue()


def _glyph(seed: int, size: int = 24) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ink = np.zeros((size, size), np.uint8)
    ink[rng.integers(2, size - 2), 2:-2] = 255  # a horizontal stroke
    ink[2:-2, rng.integers(2, size - 2)] = 255  # a vertical one
    return ink


def test_user_area_maps_vendor_codes_to_private_use() -> None:
    cp932 = user_area_map(["cp932"])
    assert len(cp932) == 1880 and cp932[0xF040] == 0xE000
    for code in (0xF07E, 0xF080, 0xF0FC, 0xF140, 0xF9FC):  # as Python's cp932 decodes them
        assert cp932[code] == ord(code.to_bytes(2, "big").decode("cp932"))
    assert user_area_map(["jef-ebcdic"])[0x80A1] == 0xE000
    assert user_area_map(["jips-j-jis8"])[0xE0A1] == 0xE40A
    assert user_area_map(["euc-jp"])[0xF5A1] == 0xE000
    assert user_area_map(["utf-8", None]) == {}


def test_images_named_by_code_become_the_runs_private_use_characters(tmp_path: Path) -> None:
    folder = tmp_path / "glyphs"
    folder.mkdir()
    (folder / "F040.png").write_bytes(_png(_glyph(1)))  # CP932 user area → U+E000
    (folder / "0xF041.bmp").write_bytes(_bmp(_glyph(2)))  # → U+E001
    (folder / "U+E002.png").write_bytes(_png(_glyph(3), "L"))  # a code point, grey PNG
    (folder / "readme.png").write_bytes(_png(_glyph(4)))  # no code: ignored
    (folder / "4E00.png").write_bytes(_png(_glyph(5)))  # not Private Use, not a 外字 code: ignored
    glyphs = open_glyphs(folder, code_map=user_area_map(["cp932"]))
    assert isinstance(glyphs, BitmapGlyphs)
    assert glyphs.codepoints == {0xE000, 0xE001, 0xE002} and glyphs.ignored == 2
    ink = glyphs.inks(["\ue000"])[0]
    assert ink.shape == (24, 24) and np.array_equal(ink > 127, _glyph(1) > 0)
    image = glyphs.image("\ue001", 64)
    assert image is not None and image.size == (64, 64) and glyphs.image("\ue009") is None

    archive = tmp_path / "glyphs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for file in sorted(folder.iterdir()):
            z.writestr(f"export/{file.name}", file.read_bytes())
    zipped = open_glyphs(archive, code_map=user_area_map(["cp932"]))
    assert isinstance(zipped, BitmapGlyphs) and zipped.codepoints == glyphs.codepoints
    assert all(np.array_equal(a, b) for a, b in zip(zipped.inks(["\ue000", "\ue002"]), glyphs.inks(["\ue000", "\ue002"]), strict=True))


def test_names_pattern_reads_other_schemes(tmp_path: Path) -> None:
    (tmp_path / "gaiji_80a1.png").write_bytes(_png(_glyph(1)))
    glyphs = open_glyphs(tmp_path, names=r"gaiji_(?P<code>[0-9a-f]{4})", code_map=user_area_map(["jef-ebcdic"]))
    assert glyphs.codepoints == {0xE000}
    with pytest.raises(ConfigError, match="needs a group"):
        open_glyphs(tmp_path, names=r"gaiji_([0-9a-f]{4})")
    with pytest.raises(ConfigError, match="not a regular expression"):
        open_glyphs(tmp_path, names=r"gaiji_(?P<code>")
    with pytest.raises(InputError, match="no glyph image named by a code"):
        open_glyphs(tmp_path)


def test_a_large_image_is_scaled_down_and_a_negative_read_inverted(tmp_path: Path) -> None:
    big = np.kron(_glyph(7), np.ones((8, 8), np.uint8))  # 192 px
    (tmp_path / "E000.png").write_bytes(_png(big))
    (tmp_path / "E001.png").write_bytes(_png(255 - _glyph(8)))  # white strokes on black
    glyphs = open_glyphs(tmp_path)
    big_ink, negative = glyphs.inks(["\ue000", "\ue001"])
    assert max(big_ink.shape) == 64
    assert np.array_equal(negative > 127, _glyph(8) > 0)


def test_a_huge_image_in_a_small_file_is_refused_before_decoding(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("1", (5000, 5000), 1).save(tmp_path / "E000.png")
    assert (tmp_path / "E000.png").stat().st_size < 100_000
    with pytest.raises(InputError, match="5000×5000 pixels, not a glyph"):
        open_glyphs(tmp_path)


def _bdf(glyphs: dict[int, np.ndarray], registry: str = "ISO10646") -> str:
    lines = ["STARTFONT 2.1", "FONT -misc-gaiji-medium-r-normal--24-240-75-75-c-240-iso10646-1",
             "SIZE 24 75 75", "FONTBOUNDINGBOX 24 24 0 -2", "STARTPROPERTIES 2",
             f'CHARSET_REGISTRY "{registry}"', 'CHARSET_ENCODING "1"', "ENDPROPERTIES", f"CHARS {len(glyphs)}"]
    for code, ink in glyphs.items():
        rows = np.packbits(ink > 0, axis=1)
        lines += [f"STARTCHAR g{code:04X}", f"ENCODING {code}", "SWIDTH 1000 0", "DWIDTH 24 0", "BBX 24 24 0 -2", "BITMAP"]
        lines += [r.tobytes().hex().upper() for r in rows]
        lines.append("ENDCHAR")
    return "\n".join([*lines, "ENDFONT", ""])


def test_bdf_fonts_by_code_point_and_by_jis_code(tmp_path: Path) -> None:
    font = tmp_path / "gaiji.bdf"
    font.write_text(_bdf({0xE000: _glyph(1), 0xE001: _glyph(2), 0x41: _glyph(3)}), encoding="ascii")
    glyphs = open_glyphs(font)
    assert glyphs.codepoints == {0xE000, 0xE001} and glyphs.ignored == 1
    assert np.array_equal(glyphs.inks(["\ue001"])[0] > 0, _glyph(2) > 0)
    jis = tmp_path / "jis.bdf"  # a jisx0208 font's user rows (0x7521 → EUC F5A1 → U+E000)
    jis.write_text(_bdf({0x7521: _glyph(4)}, "JISX0208.1983"), encoding="ascii")
    assert open_glyphs(jis, code_map=user_area_map(["euc-jp"])).codepoints == {0xE000}


def _pcf(glyphs: dict[int, np.ndarray], registry: str = "ISO10646", *, big_endian: bool = True, pad: int = 2) -> bytes:
    """A PCF font as bdftopcf writes one: properties, uncompressed metrics, bitmaps, encodings."""
    import struct

    e = ">" if big_endian else "<"
    fmt = (4 if big_endian else 0) | 8 | pad  # byte order, MSBit first, glyph pad 1 << pad bytes
    codes = sorted(glyphs)
    strings = b"CHARSET_REGISTRY\0" + registry.encode() + b"\0"
    props = struct.pack("<i", fmt) + struct.pack(e + "i", 1) + struct.pack(e + "iBi", 0, 1, 17) + bytes(3)
    props += struct.pack(e + "i", len(strings)) + strings
    metrics = struct.pack("<i", fmt) + struct.pack(e + "i", len(codes))
    bitmaps, offsets = b"", []
    for code in codes:
        ink = glyphs[code] > 0
        h, w = ink.shape
        metrics += struct.pack(e + "hhhhhH", 0, w, w, h - 2, 2, 0)
        stride = -(-((w + 7) // 8) // (1 << pad)) * (1 << pad)
        rows = np.zeros((h, stride), np.uint8)
        packed = np.packbits(ink, axis=1)
        rows[:, :packed.shape[1]] = packed
        offsets.append(len(bitmaps))
        bitmaps += rows.tobytes()
    bitmap = struct.pack("<i", fmt) + struct.pack(e + "i", len(codes)) + struct.pack(e + f"{len(codes)}i", *offsets)
    bitmap += struct.pack(e + "4i", *([len(bitmaps)] * 4)) + bitmaps
    lo1, hi1 = min(c >> 8 for c in codes), max(c >> 8 for c in codes)
    lo2, hi2 = min(c & 0xFF for c in codes), max(c & 0xFF for c in codes)
    index = np.full((hi1 - lo1 + 1, hi2 - lo2 + 1), 0xFFFF, np.int64)
    for i, code in enumerate(codes):
        index[(code >> 8) - lo1, (code & 0xFF) - lo2] = i
    encodings = struct.pack("<i", fmt) + struct.pack(e + "5h", lo2, hi2, lo1, hi1, 0)
    encodings += struct.pack(e + f"{index.size}H", *index.reshape(-1).tolist())
    tables = [(1 << 0, props), (1 << 2, metrics), (1 << 3, bitmap), (1 << 5, encodings)]
    out = b"\x01fcp" + struct.pack("<i", len(tables))
    offset = 8 + 16 * len(tables)
    body = b""
    for kind, data in tables:
        data += bytes(-len(data) % 4)
        out += struct.pack("<4i", kind, fmt, len(data), offset + len(body))
        body += data
    return out + body


@pytest.mark.parametrize("big_endian", [True, False])
def test_pcf_fonts_by_code_point_and_by_jis_code(tmp_path: Path, big_endian: bool) -> None:
    font = tmp_path / "gaiji.pcf"
    font.write_bytes(_pcf({0xE000: _glyph(1), 0xE001: _glyph(2, 20), 0x41: _glyph(3)}, big_endian=big_endian))
    glyphs = open_glyphs(font)
    assert glyphs.codepoints == {0xE000, 0xE001} and glyphs.ignored == 1
    assert np.array_equal(glyphs.inks(["\ue000"])[0] > 0, _glyph(1) > 0)
    assert np.array_equal(glyphs.inks(["\ue001"])[0] > 0, _glyph(2, 20) > 0)
    jis = tmp_path / "jis.pcf"
    jis.write_bytes(_pcf({0x7521: _glyph(4)}, "JISX0208.1983", big_endian=big_endian, pad=0))
    assert open_glyphs(jis, code_map=user_area_map(["euc-jp"])).codepoints == {0xE000}
    with pytest.raises(InputError, match="malformed PCF"):
        (tmp_path / "cut.pcf").write_bytes(font.read_bytes()[:200])
        open_glyphs(tmp_path / "cut.pcf")


@pytest.mark.parametrize("name", ["EUDC.fon", "gaiji.pcf.gz"])
def test_fon_is_refused_in_one_line(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"MZ" + bytes(60))
    with pytest.raises(InputError, match="not read yet: convert to BDF"):
        open_glyphs(tmp_path / name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), name=st.sampled_from(["E000.png", "F040.bmp", "font.bdf", "font.pcf", "glyphs.zip", "font.ttf"]))
def test_any_bytes_as_a_glyph_source_is_a_one_line_error_or_glyphs(tmp_path: Path, data: bytes, name: str) -> None:
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    path = folder / name
    prefix = {".bdf": b"STARTFONT 2.1\n", ".pcf": b"\x01fcp"}.get(path.suffix, b"")
    path.write_bytes(prefix + data)
    target = folder if name.endswith((".png", ".bmp")) else path
    try:
        glyphs = open_glyphs(target, code_map=user_area_map(["cp932"]))
    except MigError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(glyphs, (BitmapGlyphs, VendorFont))


def test_registry_status_own_keeps_the_code_unmapped(tmp_path: Path) -> None:
    own = make_entry(source="demo", code="U+E005", status=OWN, decided_by="mig", decided_at="2026-12-02",
                     evidence="not in MJ; glyph data:image/png;base64,AAAA")
    assert own.text == "" and own.mj is None
    with pytest.raises(MigError, match="no mj and no text"):
        make_entry(source="demo", code="U+E005", mj="MJ028902", status=OWN)
    confirmed = make_entry(source="demo", code="U+E000", mj="MJ028902", decided_by="a", decided_at="2026-12-02")
    path = tmp_path / "reg.csv"
    from mig.gaiji.registry import Registry

    write_registry(Registry().add(own).add(confirmed), path)
    again = load_registry(path)
    assert again.for_source("demo") == {"U+E000": "髙"}  # own is never used to resolve
    assert [e.status for e in again.entries] == ["confirmed", "own"]
    result = CliRunner().invoke(main, ["gaiji", "registry", "check", str(path)])
    assert result.exit_code == 0 and "1 confirmed, 0 proposed, 1 own (not in MJ)" in result.output


@settings(max_examples=150, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
       cut=st.integers(8, 10_000))
def test_a_damaged_pcf_is_a_one_line_error_or_glyphs(edits: list[tuple[int, int]], cut: int) -> None:
    import tempfile

    data = bytearray(_pcf({0xE000: _glyph(1), 0xE001: _glyph(2)}))
    for at, value in edits:
        data[at % len(data)] = value
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.pcf"
        path.write_bytes(bytes(data[:cut]))
        try:
            glyphs = open_glyphs(path)
        except MigError as exc:
            assert "\n" not in str(exc)
        else:
            assert all(ink.ndim == 2 for ink in glyphs.inks([chr(c) for c in glyphs.codepoints]))
