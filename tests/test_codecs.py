"""Mainframe codecs: every code of every shipped table, gaiji areas, bad input.

Expected values are derived here from the shipped table entries and the documented 外字
formulas, independently of the lookup tables the codecs build.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

import numpy as np
import pyarrow as pa
import pytest

from mig.codecs import CHARSETS, ERRORS, GAIJI_SOURCE, EncodeError, get_codec
from mig.codecs.decoders import SPECS
from mig.codecs.luts import TABLES_FILE, flag_bits, table_entries, table_names
from mig.errors import ConfigError, UnknownNameError

FLAGS = flag_bits()
ODD, SHIFT, UNMAPPED_DBCS, UNMAPPED_SBCS = 1, 2, 3, 4

# user-defined areas as ../shared/data/README.md states them: (lead range, trail range, first PUA)
GAIJI_AREAS = {
    "jef": [((0x80, 0xA0), (0xA1, 0xFE), 0xE000)],
    "keis": [((0x81, 0xA0), (0xA1, 0xFE), 0xE000)],
    "jips": [((0x74, 0x7E), (0x21, 0x7E), 0xE000), ((0xE0, 0xFE), (0xA1, 0xFE), 0xE40A)],
    "ibm": [],
}


def _has(entry: dict[str, object], flag: str) -> bool:
    return bool(int(entry["flags"]) & FLAGS[flag])  # type: ignore[call-overload]


def _text(entry: dict[str, object], variant: str, canonical: dict[str, int]) -> str | None:
    if entry["unicode"] is None:
        return None
    if variant in ("distinct", "compat"):
        base = str(entry["unicode"])
        use = "hd" if base in canonical and canonical[base] != entry["code"] else "unicode"
    else:
        use = "unicode" if variant == "base" else variant
    return str(entry[use] if entry[use] is not None else entry["unicode"])


@cache
def _byte_map() -> dict[int, int]:
    return {int(e["code"]): ord(str(e["unicode"])) for e in table_entries("nec_jis8_ebcdik")}  # type: ignore[call-overload]


@cache
def expected_dbcs(charset: str, variant: str = "distinct") -> dict[int, str | None]:
    """code → expected text (None: an error) for every code the table or a gaiji area defines.

    The entry of a code that is not encode-only defines it (a standard entry before a
    CJK compatibility ideograph, except with ``compat``; else the last); ``distinct`` gives the
    Hanyo-Denshi form to every code sharing its base with another code, except the one
    code of that base the encoder writes (not oneway/substitution, then the lowest).
    """
    spec = SPECS[charset]
    standard: dict[int, dict[str, object]] = {}  # a standard entry wins over a CJK compatibility ideograph
    winners: dict[int, dict[str, object]] = {}  # ``compat``: the last entry (the ideograph) wins
    for entry in table_entries(spec.dbcs):
        if not _has(entry, "encode_only"):
            code = int(entry["code"])  # type: ignore[call-overload]
            winners[code] = entry
            if not (_has(entry, "cjk_ci") and code in standard and not _has(standard[code], "cjk_ci")):
                standard[code] = entry
    if variant != "compat":
        winners = standard
    # which codes share a base is a property of the standard decode (compat keeps them apart too)
    bases = Counter(str(e["unicode"]) for e in standard.values() if e["unicode"] is not None)
    canonical: dict[str, int] = {}
    for code, e in sorted(standard.items()):
        base = str(e["unicode"])
        if e["unicode"] is not None and bases[base] > 1 and variant in ("distinct", "compat"):
            plain = not (_has(e, "oneway") or _has(e, "substitution"))
            if base not in canonical or (plain and (_has(standard[canonical[base]], "oneway") or _has(standard[canonical[base]], "substitution"))):
                canonical[base] = code
    expected: dict[int, str | None] = {c: _text(e, variant, canonical) for c, e in winners.items()}
    for (lead_lo, lead_hi), (trail_lo, trail_hi), pua in GAIJI_AREAS[spec.gaiji_source]:
        per_row = trail_hi - trail_lo + 1
        for lead in range(lead_lo, lead_hi + 1):
            for trail in range(trail_lo, trail_hi + 1):
                expected[lead << 8 | trail] = chr(pua + (lead - lead_lo) * per_row + trail - trail_lo)
    if spec.byte_map:
        m = _byte_map()
        expected = {m[c >> 8] << 8 | m[c & 0xFF]: t for c, t in expected.items()}
    return expected


@cache
def expected_sbcs(charset: str) -> dict[int, str]:
    expected: dict[int, str] = {}
    for entry in table_entries(SPECS[charset].sbcs):
        if not _has(entry, "encode_only") and entry["unicode"] is not None:
            expected[int(entry["code"])] = str(entry["unicode"])  # type: ignore[call-overload]
    return expected


def _pairs(codes: list[int]) -> np.ndarray:
    return np.array(codes, dtype=">u2").view(np.uint8).reshape(len(codes), 2)


def test_tables_are_shipped_with_their_licence() -> None:
    folder = TABLES_FILE.parent
    assert TABLES_FILE.stat().st_size < 3_000_000
    assert "Apache License" in (folder / "LICENSE-Apache-2.0.txt").read_text()
    notice = (folder / "NOTICE").read_text()
    assert "jef4j" in notice and "iconv" in notice
    names = set(table_names())
    for spec in SPECS.values():
        assert {spec.sbcs, spec.dbcs} <= names


@pytest.mark.parametrize("charset", CHARSETS)
def test_every_double_byte_code_decodes_to_the_table(charset: str) -> None:
    expected = expected_dbcs(charset)
    codec = get_codec(charset)
    every = list(range(65536))
    result = codec.decode_dbcs(_pairs(every))
    values = result.values.to_pylist()
    for code in every:
        want = expected.get(code)
        if want is None:
            assert result.errors[code] == UNMAPPED_DBCS, hex(code)
        else:
            assert result.errors[code] == 0, hex(code)
            assert values[code] == want, hex(code)
    gaiji_expected = np.array(
        [t is not None and any(0xE000 <= ord(ch) <= 0xF8FF for ch in t) for t in map(expected.get, every)]
    )
    assert np.array_equal(result.gaiji, gaiji_expected.astype(np.int32))


@pytest.mark.parametrize("charset", CHARSETS)
def test_every_single_byte_decodes_to_the_table(charset: str) -> None:
    expected = expected_sbcs(charset)
    result = get_codec(charset).decode_sbcs(np.arange(256, dtype=np.uint8).reshape(256, 1))
    values = result.values.to_pylist()
    for byte in range(256):
        if byte in expected:
            assert (values[byte], result.errors[byte]) == (expected[byte], 0), hex(byte)
        else:
            assert result.errors[byte] == UNMAPPED_SBCS, hex(byte)


@pytest.mark.parametrize("charset", CHARSETS)
def test_every_double_byte_code_decodes_inside_shift_codes(charset: str) -> None:
    spec = SPECS[charset]
    expected = {c: t for c, t in expected_dbcs(charset).items() if t is not None}
    codes = sorted(expected)
    shift_in, shift_out = spec.to_dbcs[-1], spec.to_sbcs[0]  # the two-byte JEF K2 shift too
    head = np.frombuffer(shift_in, np.uint8)
    tail = np.frombuffer(shift_out, np.uint8)
    fields = np.concatenate(
        [np.tile(head, (len(codes), 1)), _pairs(codes), np.tile(tail, (len(codes), 1))], axis=1
    )
    result = get_codec(charset).decode_mixed(fields)
    assert not result.errors.any()
    assert result.values.to_pylist() == [expected[c] for c in codes]


@pytest.mark.parametrize("charset", ["jef-ebcdik", "keis83-ebcdik", "jips-e-ebcdik", "ibm-1390"])
def test_every_reversible_code_encodes_back(charset: str) -> None:
    codec = get_codec(charset)
    spec = SPECS[charset]
    decode_only: set[int] = set()
    for entry in table_entries(spec.dbcs):
        if _has(entry, "decode_only"):
            code = int(entry["code"])  # type: ignore[call-overload]
            if spec.byte_map:
                m = _byte_map()
                code = m[code >> 8] << 8 | m[code & 0xFF]
            decode_only.add(code)
    expected = {c: t for c, t in expected_dbcs(charset).items() if t is not None}
    by_text: dict[str, list[int]] = {}
    for code, text in expected.items():
        if code not in decode_only:
            by_text.setdefault(text, []).append(code)
    reversible = sorted(codes[0] for codes in by_text.values() if len(codes) == 1)
    assert len(reversible) > 0.95 * len(expected)
    texts = [expected[c] for c in reversible]
    encoded = codec.encode_dbcs(texts, 2)
    assert encoded.view(">u2").reshape(-1).tolist() == reversible
    # and every text some encodable code decodes to encodes to a code decoding to that text
    all_texts = sorted(by_text)
    again = codec.decode_dbcs(codec.encode_dbcs(all_texts, 2))
    assert again.values.to_pylist() == all_texts


@pytest.mark.parametrize("variant", ["hd", "aj1", "base", "compat"])
def test_every_code_in_the_other_variant_forms(variant: str) -> None:
    expected = {c: t for c, t in expected_dbcs("jef-ebcdik", variant).items() if t is not None}
    codes = sorted(expected)
    result = get_codec("jef-ebcdik", variant=variant).decode_dbcs(_pairs(codes))  # type: ignore[arg-type]
    assert result.values.to_pylist() == [expected[c] for c in codes]


def test_variant_forms() -> None:
    # JEF 0x41A5 / 0x41B3: oneway variants of 丈 / 主; 0xB0A6 愛: a JIS kanji whose table
    # entry pins the 78JIS glyph with a selector although no other code decodes to 愛
    raw = _pairs([0x41A5, 0x41B3, 0xB0A6])
    distinct = get_codec("jef-ebcdic").decode_dbcs(raw).values.to_pylist()
    hd = get_codec("jef-ebcdic", variant="hd").decode_dbcs(raw).values.to_pylist()
    aj1 = get_codec("jef-ebcdic", variant="aj1").decode_dbcs(raw).values.to_pylist()
    base = get_codec("jef-ebcdic", variant="base").decode_dbcs(raw).values.to_pylist()
    assert distinct == ["\u4e08\U000e0103", "\u4e3b\U000e0103", "\u611b"]
    assert hd == ["\u4e08\U000e0103", "\u4e3b\U000e0103", "\u611b\U000e0101"]
    assert aj1 == ["\u4e08\U000e0101", "\u4e3b", "\u611b\U000e0100"]  # none for 主
    assert base == ["\u4e08", "\u4e3b", "\u611b"]
    # the standard code of 丈 decodes to the plain character, and 丈 encodes to it
    standard_code = get_codec("jef-ebcdic").encode_dbcs(["\u4e08"], 2).view(">u2")[0, 0]
    assert get_codec("jef-ebcdic").decode_dbcs(_pairs([int(standard_code)])).values.to_pylist() == ["\u4e08"]
    # with the default, codes share a text only where the table gives them no distinct form
    winners = {int(e["code"]): e for e in table_entries("fujitsu_jef") if not _has(e, "encode_only")}  # type: ignore[call-overload]
    groups: dict[str, list[int]] = {}
    for code, text in expected_dbcs("jef-ebcdic").items():
        if text is not None and code in winners:
            groups.setdefault(text, []).append(code)
    shared = [codes for codes in groups.values() if len(codes) > 1]
    assert 0 < len(shared) < 30
    for codes in shared:
        assert len({winners[c]["hd"] for c in codes}) == 1, [hex(c) for c in codes]
    # the base form of a oneway code encodes to the standard code of the character
    for variant in ("distinct", "base"):
        standard = get_codec("jef-ebcdic", variant=variant).encode_dbcs(["\u4e08"], 2)  # type: ignore[arg-type]
        assert standard.view(">u2")[0, 0] not in (0x41A5, 0x4040)
    with pytest.raises(ConfigError):
        get_codec("jef-ebcdic", variant="mj")  # type: ignore[arg-type]


def test_gaiji_are_private_use_tagged_with_their_source() -> None:
    cases = {
        "jef-ebcdik": ([0x80A1, 0xA0FE], ["\ue000", "\uec1d"]),
        "keis78-ebcdic": ([0x81A1, 0xA0FE], ["\ue000", "\uebbf"]),
        "jips-j-jis8": ([0x7421, 0x7E7E, 0xE0A1, 0xFEFE], ["\ue000", "\ue409", "\ue40a", "\uef6b"]),
        "ibm-930": ([0x6941], ["\ue000"]),
    }
    for charset, (codes, texts) in cases.items():
        result = get_codec(charset).decode_dbcs(_pairs(codes).reshape(1, -1))
        assert result.values.to_pylist() == ["".join(texts)]
        assert result.gaiji.tolist() == [len(codes)]
        assert result.errors.tolist() == [0]
    assert GAIJI_SOURCE["jef-ebcdik"] == "jef" and GAIJI_SOURCE["ibm-1399"] == "ibm"
    assert set(GAIJI_SOURCE) == set(CHARSETS)
    # in a mixed field too, and never replaced
    raw = np.frombuffer(b"\xc1\x28\x80\xa1\x80\xa2\x29", np.uint8).reshape(1, -1)
    result = get_codec("jef-ebcdik").decode_mixed(raw)
    assert result.values.to_pylist() == ["A\ue000\ue001"] and result.gaiji.tolist() == [2]


def test_unknown_charset_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="jef-ebcdik"):
        get_codec("jef")


def test_error_codes_name_finding_types() -> None:
    assert ERRORS == {
        1: "odd-dbcs-length",
        2: "shift-unbalanced",
        3: "unmapped-dbcs",
        4: "unmapped-sbcs",
    }


def _mixed(charset: str, rows: list[bytes]) -> tuple[list[str], list[int]]:
    width = max(len(r) for r in rows)
    space = 0x20 if charset == "jips-j-jis8" else 0x40
    fields = np.full((len(rows), width), space, dtype=np.uint8)
    for i, r in enumerate(rows):
        fields[i, : len(r)] = np.frombuffer(r, np.uint8)
    result = get_codec(charset).decode_mixed(fields)
    return result.values.to_pylist(), result.errors.tolist()


def test_mixed_fields_decode_shift_codes_of_each_vendor() -> None:
    kanji = {"jef-ebcdik": b"\xb0\xa1", "keis83-ebcdik": b"\xb0\xa1", "jips-j-jis8": b"\x30\x21", "ibm-930": b"\x48\x67"}
    shifts = {
        "jef-ebcdik": [(b"\x28", b"\x29"), (b"\x38", b"\x29"), (b"\x30\xe2", b"\x29")],
        "keis83-ebcdik": [(b"\x0a\x42", b"\x0a\x41")],
        "jips-j-jis8": [(b"\x1a\x70", b"\x1a\x71")],
        "ibm-930": [(b"\x0e", b"\x0f")],
    }
    for charset, pairs in shifts.items():
        a = b"\x41" if charset == "jips-j-jis8" else b"\xc1"
        for shift_in, shift_out in pairs:
            values, errors = _mixed(charset, [a + shift_in + kanji[charset] + shift_out + a])
            assert values[0].rstrip() == "A亜A", (charset, shift_in)
            assert errors == [0]
    # JIPS(E): the JIS code written in EBCDIK bytes, shifts 0x3F75 / 0x3F76
    m = _byte_map()
    jis_e = bytes([m[0x30], m[0x21]])
    values, errors = _mixed("jips-e-ebcdik", [b"\xc1\x3f\x75" + jis_e + b"\x3f\x76"])
    assert values == ["A亜"] and errors == [0]


def test_bad_input_gets_an_error_code_per_field() -> None:
    rows = [
        b"\xc1\x28\xb0\xa1\x29",  # fine
        b"\xc1\x28\xb0\xa1\xb0\x29",  # odd double-byte run
        b"\xc1\x28\xb0\xa1",  # shift into double-byte, never back
        b"\xc1\x28\x41\x41\x29",  # pair outside the table
        b"\x28\x40\x40\x29\x29",  # a second shift back is harmless
        b"\xc1\x28\x71\xf7\x29",  # in the table but unmappable (no Unicode)
        b"\xc1\x28\xb0\xa1\x29\x28",  # ends right after a shift into double-byte
    ]
    values, errors = _mixed("jef-ebcdik", rows)
    assert errors == [0, ODD, SHIFT, UNMAPPED_DBCS, 0, UNMAPPED_DBCS, SHIFT]
    assert values[0].rstrip() == "A亜" and values[4].rstrip(" ") == "\u3000"
    assert "\ufffd" in values[1] and "?" not in values[3]
    # an unmapped single byte (EBCDIK 0x57 is undefined)
    assert _mixed("jef-ebcdik", [b"\x57\xc1"])[1] == [UNMAPPED_SBCS]
    # odd byte count in a PIC N field: every field of that width
    odd = get_codec("jef-ebcdik").decode_dbcs(np.frombuffer(b"\xb0\xa1\xb0", np.uint8).reshape(1, 3))
    assert odd.errors.tolist() == [ODD] and odd.values.to_pylist() == ["亜\ufffd"]
    odd = get_codec("jef-ebcdik").decode_dbcs(np.frombuffer(b"\x41\xa5\xb0\xa1\x41", np.uint8).reshape(1, 5))
    assert odd.errors.tolist() == [ODD] and odd.values.to_pylist() == ["丈\U000e0103亜\ufffd"]
    # shift codes inside a PIC N field are not shifts: the pair is outside the table
    pic_n = get_codec("ibm-930").decode_dbcs(np.frombuffer(b"\x0e\x45\x41\x0f", np.uint8).reshape(1, 4))
    assert pic_n.errors.tolist() == [UNMAPPED_DBCS]


def test_many_rows_and_chunks_keep_order() -> None:
    codec = get_codec("jef-ebcdik")
    texts = [f"ID{i:06d}山田{'太郎' * (i % 5)}ｶﾅ" for i in range(40_000)]
    fields = codec.encode_mixed(texts, 48)
    result = codec.decode_mixed(fields)
    assert [v.rstrip() for v in result.values.to_pylist()] == texts
    assert not result.errors.any()
    assert isinstance(result.values, pa.LargeStringArray)
    # a strided view (a field cut out of whole records) decodes the same
    records = np.concatenate([np.zeros((len(texts), 3), np.uint8), fields], axis=1)
    assert codec.decode_mixed(records[:, 3:]).values.equals(result.values)
    pic_n = codec.encode_dbcs([t[8:] for t in texts[:1000] if "ｶ" not in t[8:]] or ["山"], 20)
    assert codec.decode_dbcs(pic_n[:, :]).errors.sum() == 0


def test_empty_inputs() -> None:
    codec = get_codec("ibm-939")
    for method in (codec.decode_sbcs, codec.decode_dbcs, codec.decode_mixed):
        assert len(method(np.zeros((0, 4), np.uint8)).values) == 0
        zero_width = method(np.zeros((3, 0), np.uint8))
        assert zero_width.values.to_pylist() == ["", "", ""]
    with pytest.raises(ValueError):
        codec.decode_sbcs(np.zeros(4, np.uint8))


def test_encoders_write_the_vendor_shift_codes_and_pad() -> None:
    jef = get_codec("jef-ebcdik")
    assert bytes(jef.encode_mixed(["Aあ"], 6)[0]) == b"\xc1\x28\xa4\xa2\x29\x40"
    assert bytes(get_codec("ibm-939").encode_mixed(["aあ"], 6)[0]) == b"\x81\x0e\x44\x81\x0f\x40"
    assert bytes(get_codec("keis83-ebcdik").encode_mixed(["あ"], 7)[0]) == b"\x0a\x42\xa4\xa2\x0a\x41\x40"
    assert bytes(get_codec("jips-j-jis8").encode_mixed(["Aあ"], 8)[0]) == b"\x41\x1a\x70\x24\x22\x1a\x71\x20"
    assert bytes(jef.encode_dbcs(["あ"], 4)[0]) == b"\xa4\xa2\x40\x40"
    assert bytes(jef.encode_sbcs(["ｱ1"], 3)[0]) == b"\x81\xf1\x40"
    # runs of double-byte text share one pair of shift codes; NULL values are blank fields
    assert bytes(jef.encode_mixed(["あい", None], 8)[0]) == b"\x28\xa4\xa2\xa4\xa4\x29\x40\x40"
    assert bytes(jef.encode_mixed(["あい", None], 8)[1]) == b"\x40" * 8


def test_encoders_refuse_what_they_cannot_write() -> None:
    jef = get_codec("jef-ebcdik")
    with pytest.raises(EncodeError, match="row 1"):
        jef.encode_dbcs(["山", "\U0001f600"], 4)  # no emoji in JEF
    with pytest.raises(EncodeError, match="longer than 4 bytes"):
        jef.encode_mixed(["ok", "山田"], 4)  # 2 + 4 + shift codes
    with pytest.raises(EncodeError) as caught:
        jef.encode_sbcs(["秘密の値"], 8)
    assert "秘密" not in str(caught.value)  # values never appear in messages
    with pytest.raises(ConfigError):
        jef.encode_dbcs(["山"], 3)
