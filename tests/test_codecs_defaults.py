"""Decode defaults of the packaged tables: every code with more than one entry, the Unicode
it decodes to and why (the same table is in mig/codecs/README.md). A standard code decodes
to its standard character; CJK compatibility ideographs only through variant ``compat``."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from mig.codecs import get_codec
from mig.codecs.luts import ENCODE_ONLY, table_entries, table_names

STANDARD = "standard code: its standard character; the compatibility ideograph only with variant compat"
VARIANT = (
    "variant code (oneway): its base character, with the Hanyo-Denshi selector where another code "
    "decodes to the plain base (so the two stay apart); the compatibility ideograph only with variant compat"
)
JIS0208 = "JIS X 0208 has this character at this code (the JIPS basic set follows it)"
UNDECIDED = "a duplicate in the source with no evidence either way: jef4j's (last) entry kept; a site overlay can change it"

CHARSET = {"fujitsu_jef": "jef-ebcdic", "nec_jips": "jips-j-jis8"}

#: (table, code) → (the code points it decodes to by default, why)
MULTI_ENTRY: dict[tuple[str, int], tuple[str, str]] = {
    ("fujitsu_jef", 0x42BB): ("U+4FAE U+E0103", VARIANT),
    ("fujitsu_jef", 0x43B7): ("U+50E7 U+E0105", VARIANT),
    ("fujitsu_jef", 0x43D5): ("U+514D U+E0104", VARIANT),
    ("fujitsu_jef", 0x44E7): ("U+52C9 U+E0103", VARIANT),
    ("fujitsu_jef", 0x44EF): ("U+52E4 U+E0103", VARIANT),
    ("fujitsu_jef", 0x45C3): ("U+5351 U+E0103", VARIANT),
    ("fujitsu_jef", 0x45F4): ("U+5668 U+E0103", VARIANT),
    ("fujitsu_jef", 0x46F7): ("U+5606 U+E0103", VARIANT),
    ("fujitsu_jef", 0x47B8): ("U+559D U+E0102", VARIANT),
    ("fujitsu_jef", 0x47DC): ("U+58A8 U+E0103", VARIANT),
    ("fujitsu_jef", 0x48B9): ("U+5840 U+E0103", VARIANT),
    ("fujitsu_jef", 0x4AE0): ("U+5C64 U+E0103", VARIANT),
    ("fujitsu_jef", 0x4CCA): ("U+5ECA U+E0104", VARIANT),
    ("fujitsu_jef", 0x4DE8): ("U+61F2 U+E0105", VARIANT),
    ("fujitsu_jef", 0x4EAD): ("U+6094 U+E0103", VARIANT),
    ("fujitsu_jef", 0x4ED6): ("U+6168 U+E0109", VARIANT),
    ("fujitsu_jef", 0x4ED8): ("U+618E U+E0103", VARIANT),
    ("fujitsu_jef", 0x50CA): ("U+654F U+E0103", VARIANT),
    ("fujitsu_jef", 0x50F4): ("U+65E2 U+E0104", VARIANT),
    ("fujitsu_jef", 0x51AA): ("U+6691 U+E0103", VARIANT),
    ("fujitsu_jef", 0x51DE): ("U+6674 U+E0103", VARIANT),
    ("fujitsu_jef", 0x52AD): ("U+6717 U+E0106", VARIANT),
    ("fujitsu_jef", 0x53D3): ("U+6885 U+E0103", VARIANT),
    ("fujitsu_jef", 0x54C0): ("U+6B04 U+E0103", VARIANT),
    ("fujitsu_jef", 0x54ED): ("U+6BBA U+E0103", VARIANT),
    ("fujitsu_jef", 0x55AF): ("U+6E1A U+E0102", VARIANT),
    ("fujitsu_jef", 0x55FB): ("U+6D77 U+E0103", VARIANT),
    ("fujitsu_jef", 0x56E6): ("U+6F22 U+E0103", VARIANT),
    ("fujitsu_jef", 0x58A7): ("U+716E U+E0103", VARIANT),
    ("fujitsu_jef", 0x58EF): ("U+732A U+E0103", VARIANT),
    ("fujitsu_jef", 0x5BB7): ("U+76CA U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CB3): ("U+7891 U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CD3): ("U+793E U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CD4): ("U+7948 U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CD5): ("U+7949 U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CD6): ("U+7950 U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CD7): ("U+7956 U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CD9): ("U+795D U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CDA): ("U+795E U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CDC): ("U+7965 U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CE2): ("U+798D U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CE3): ("U+798E U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CE4): ("U+798F U+E0103", VARIANT),
    ("fujitsu_jef", 0x5CF4): ("U+7A40 U+E0103", VARIANT),
    ("fujitsu_jef", 0x5DCD): ("U+7A81 U+E0103", VARIANT),
    ("fujitsu_jef", 0x5DE5): ("U+9756 U+E0103", VARIANT),
    ("fujitsu_jef", 0x5EAA): ("U+7BC0 U+E0104", VARIANT),
    ("fujitsu_jef", 0x5ED3): ("U+7CBE U+E0103", VARIANT),
    ("fujitsu_jef", 0x5FC8): ("U+7DF4 U+E0103", VARIANT),
    ("fujitsu_jef", 0x5FF0): ("U+7F72 U+E0103", VARIANT),
    ("fujitsu_jef", 0x60A1): ("U+7FBD U+E0103", VARIANT),
    ("fujitsu_jef", 0x60B5): ("U+8005 U+E0103", VARIANT),
    ("fujitsu_jef", 0x60E3): ("U+81ED U+E0103", VARIANT),
    ("fujitsu_jef", 0x62B3): ("U+8457 U+E0104", VARIANT),
    ("fujitsu_jef", 0x63AB): ("U+865C U+E0103", VARIANT),
    ("fujitsu_jef", 0x64C4): ("U+8996 U+E0103", VARIANT),
    ("fujitsu_jef", 0x65B7): ("U+8AF8 U+E0103", VARIANT),
    ("fujitsu_jef", 0x65BB): ("U+8B01 U+E0103", VARIANT),
    ("fujitsu_jef", 0x65C4): ("U+8B39 U+E0104", VARIANT),
    ("fujitsu_jef", 0x65F4): ("U+8CD3 U+E0103", VARIANT),
    ("fujitsu_jef", 0x66AF): ("U+8D08 U+E0103", VARIANT),
    ("fujitsu_jef", 0x67A3): ("U+8FB6", STANDARD),
    ("fujitsu_jef", 0x67D5): ("U+9038 U+E0107", VARIANT),
    ("fujitsu_jef", 0x68A8): ("U+90FD U+E0103", VARIANT),
    ("fujitsu_jef", 0x68CC): ("U+9686 U+E0106", VARIANT),
    ("fujitsu_jef", 0x6BFD): ("U+96E3 U+E0104", VARIANT),
    ("fujitsu_jef", 0x6CD9): ("U+97FF U+E0109", VARIANT),
    ("fujitsu_jef", 0x6CF5): ("U+985E U+E0103", VARIANT),
    ("fujitsu_jef", 0x6CFB): ("U+983B U+E0102", VARIANT),
    ("fujitsu_jef", 0x6DB3): ("U+98EF U+E0104", VARIANT),
    ("fujitsu_jef", 0x6DB4): ("U+98FC U+E0103", VARIANT),
    ("fujitsu_jef", 0x6DBE): ("U+9928 U+E0103", VARIANT),
    ("fujitsu_jef", 0x6FB2): ("U+9DB4 U+E0103", VARIANT),
    ("fujitsu_jef", 0x70E3): ("U+51DE", VARIANT),
    ("fujitsu_jef", 0x70E5): ("U+793C U+E0103", VARIANT),
    ("fujitsu_jef", 0x70EA): ("U+8612", STANDARD),
    ("fujitsu_jef", 0x70FB): ("U+9038 U+E0108", VARIANT),
    ("fujitsu_jef", 0x72FB): ("U+722B", STANDARD),
    ("fujitsu_jef", 0xB4DC): ("U+8218", STANDARD),
    ("fujitsu_jef", 0xB7C3): ("U+6075", STANDARD),
    ("fujitsu_jef", 0xC2F6): ("U+7422", STANDARD),
    ("fujitsu_jef", 0xC4CD): ("U+585A U+E0105", VARIANT),
    ("fujitsu_jef", 0xC8CB): ("U+7E41", STANDARD),
    ("fujitsu_jef", 0xD6A5): ("U+5C6E", STANDARD),
    ("fujitsu_jef", 0xE5D6): ("U+7E09", STANDARD),
    ("nec_jips", 0x2837): ("U+2520", JIS0208),
    ("nec_jips", 0x2838): ("U+252F", JIS0208),
    ("nec_jips", 0x2839): ("U+2528", JIS0208),
    ("nec_jips", 0x283A): ("U+2537", JIS0208),
    ("nec_jips", 0x283B): ("U+253F", JIS0208),
    ("nec_jips", 0x283C): ("U+251D", JIS0208),
    ("nec_jips", 0x283D): ("U+2530", JIS0208),
    ("nec_jips", 0x283E): ("U+2525", JIS0208),
    ("nec_jips", 0x283F): ("U+2538", JIS0208),
    ("nec_jips", 0x2840): ("U+2542", JIS0208),
    ("nec_jips", 0x2935): ("U+0046", UNDECIDED),
    ("nec_jips", 0x2936): ("U+0047", UNDECIDED),
    ("nec_jips", 0x2937): ("U+0048", UNDECIDED),
    ("nec_jips", 0x2938): ("U+0049", UNDECIDED),
    ("nec_jips", 0x2939): ("U+004A", UNDECIDED),
    ("nec_jips", 0x293A): ("U+004B", UNDECIDED),
    ("nec_jips", 0x293B): ("U+004C", UNDECIDED),
    ("nec_jips", 0x293C): ("U+004D", UNDECIDED),
    ("nec_jips", 0x293D): ("U+004E", UNDECIDED),
    ("nec_jips", 0x293E): ("U+004F", UNDECIDED),
    ("nec_jips", 0x293F): ("U+0050", UNDECIDED),
    ("nec_jips", 0x2940): ("U+0051", UNDECIDED),
    ("nec_jips", 0x2941): ("U+0052", UNDECIDED),
    ("nec_jips", 0x2942): ("U+0053", UNDECIDED),
    ("nec_jips", 0x2943): ("U+0054", UNDECIDED),
    ("nec_jips", 0x2944): ("U+0055", UNDECIDED),
    ("nec_jips", 0x2945): ("U+0056", UNDECIDED),
    ("nec_jips", 0x2A45): ("U+FF86", UNDECIDED),
    ("nec_jips", 0x2C24): ("U+2500", UNDECIDED),
}

#: The nine codes of issue 18: standard JEF codes jef4j decodes to compatibility ideographs.
NINE_JEF = {
    0xB7C3: "恵", 0xB4DC: "舘", 0xC2F6: "琢", 0xC8CB: "繁", 0xD6A5: "屮", 0xE5D6: "縉",
    0x67A3: "\u8fb6", 0x70EA: "\u8612", 0x72FB: "\u722b",
}


def _codepoints(text: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in text)


def _decode(charset: str, codes: list[int], variant: str = "distinct") -> list[str]:
    raw = np.array([[c >> 8, c & 0xFF] for c in codes], np.uint8)
    values: list[str] = get_codec(charset, variant=variant).decode_dbcs(raw).values.to_pylist()  # type: ignore[arg-type]
    return values


def test_the_nine_jef_codes_decode_to_their_standard_characters() -> None:
    for charset in ("jef-ebcdic", "jef-ebcdik", "jef-ascii"):
        assert _decode(charset, list(NINE_JEF)) == list(NINE_JEF.values())
    compat = _decode("jef-ebcdik", list(NINE_JEF), "compat")
    assert all(0xF900 <= ord(c) <= 0xFAFF and len(c) == 1 for c in compat)
    assert compat[0] == "\ufa6b"  # what jef4j gives for 恵, by explicit choice only
    # the compatibility ideograph still encodes to the code, so data holding it round-trips to 恵
    assert get_codec("jef-ebcdik").encode_dbcs(["\ufa6b", "恵"], 2).tolist() == [[0xB7, 0xC3]] * 2


def test_every_multi_entry_code_is_listed_with_its_decode_and_reason() -> None:
    found: set[tuple[str, int]] = set()
    for table in table_names():
        codes: dict[int, int] = defaultdict(int)
        for entry in table_entries(table):
            if not int(entry["flags"]) & ENCODE_ONLY:  # type: ignore[call-overload]
                codes[int(entry["code"])] += 1  # type: ignore[call-overload]
        found |= {(table, code) for code, count in codes.items() if count > 1}
    assert found == set(MULTI_ENTRY)
    for table in sorted({t for t, _ in MULTI_ENTRY}):
        codes = sorted(c for t, c in MULTI_ENTRY if t == table)
        decoded = _decode(CHARSET[table], codes)
        assert [_codepoints(d) for d in decoded] == [MULTI_ENTRY[(table, c)][0] for c in codes]
    for (_, _), (points, why) in MULTI_ENTRY.items():
        first = int(points.split()[0][2:], 16)
        assert not 0xF900 <= first <= 0xFAFF  # no compatibility ideograph by default
        if why == VARIANT and len(points.split()) == 2:
            assert 0xE0100 <= int(points.split()[1][2:], 16) <= 0xE01EF
        else:
            assert len(points.split()) == 1


@pytest.mark.parametrize("code", [c for (t, c) in MULTI_ENTRY if t == "nec_jips" and MULTI_ENTRY[(t, c)][1] == JIS0208])
def test_jips_box_drawing_duplicates_follow_jis_x_0208(code: int) -> None:
    jis = bytes([code >> 8 | 0x80, code & 0xFF | 0x80]).decode("euc_jp")
    assert _decode("jips-j-jis8", [code]) == [jis]


def test_the_codecs_readme_lists_the_same_table() -> None:
    readme = (Path(__file__).resolve().parent.parent / "mig" / "codecs" / "README.md").read_text(encoding="utf-8")
    for (table, code), (points, _) in MULTI_ENTRY.items():
        assert f"| {table} | {code:04X} |" in readme and f"| {points} |" in readme, (table, hex(code))


_REPO = Path(__file__).resolve().parent.parent
#: the jef4j tables the build script reads: ../shared beside a checkout (or beside its worktree folder)
SOURCE = next((p for p in (_REPO.parent / "shared" / "data" / "charsets", _REPO.parent.parent / "shared" / "data" / "charsets") if p.is_dir()), _REPO / "missing")


@pytest.mark.skipif(not SOURCE.is_dir(), reason="the jef4j source tables (../shared/data/charsets) are not on this machine")
def test_shipped_tables_differ_from_jef4j_only_where_documented() -> None:
    """jef4j decodes a code to its last entry; mig differs in the 85 cjk_ci codes (standard
    character instead) and the six single-byte errata — nothing else (mig/codecs/README.md)."""
    import importlib.util
    import json

    build_path = Path(__file__).resolve().parent.parent / "scripts" / "build_codec_tables.py"
    spec = importlib.util.spec_from_file_location("build_codec_tables", build_path)
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    from mig.codecs.luts import decodable

    differences: dict[str, set[int]] = {}
    for table, filename in build.JEF4J_TABLES.items():
        last: dict[int, str | None] = {}
        for entry in json.loads((SOURCE / filename).read_text(encoding="utf-8")):
            if "encode_only" not in entry.get("options", []):
                text = None if entry["unicode"] == "FFFD" else build._text(entry["unicode"]) + build._text(entry.get("sp") or "")
                last[int(entry["code"], 16)] = text
        ours = {int(e["code"]): e["unicode"] for e in table_entries(table) if decodable(e)}  # type: ignore[call-overload]
        codes = {c for c in set(last) | set(ours) if last.get(c) != ours.get(c)}
        if codes:
            differences[table] = codes
    cjk_ci = {c for (t, c), (_, why) in MULTI_ENTRY.items() if t == "fujitsu_jef" and why in (STANDARD, VARIANT)}
    errata = {(t, int(code, 16)) for (t, _, _), (code, _) in build.ERRATA.items()}
    assert differences.pop("fujitsu_jef") == cjk_ci and len(cjk_ci) == 85
    assert {(t, c) for t, codes in differences.items() for c in codes} == errata and len(errata) == 6


def _sample_with_kei(root: Path) -> tuple[Path, Path, list[int]]:
    """The mainframe sample with 恵 (JEF 0xB7C3) first in the 氏名 of a few 住民 records."""
    from mig_adapters.copybook.parser import parse_copybook
    from mig_adapters.copybook.sample import COPYBOOK, LRECL, write_sample

    sample = write_sample(root, setai=10, seed=4, framing="fixed")
    shimei = parse_copybook(COPYBOOK, source="JUKI.cpy").record("JUMIN-REC").field("SHIMEI").offset
    data = bytearray(sample.data.read_bytes())
    jumin = [i for i in range(len(data) // LRECL) if data[i * LRECL] == 0xF2][12:16]
    for i in jumin:
        data[i * LRECL + shimei : i * LRECL + shimei + 2] = b"\xb7\xc3"
    sample.data.write_bytes(bytes(data))
    return sample.data, sample.mapping, jumin


def test_a_mapping_asks_for_compatibility_ideographs_by_codec_variant(tmp_path: Path) -> None:
    import polars as pl

    from mig.extract.run import extract

    data, mapping, patched = _sample_with_kei(tmp_path / "legacy")
    extract(mapping, [data], tmp_path / "standard")
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace('charset = "jef-ebcdik"', 'charset = "jef-ebcdik"\ncodec_variant = "compat"'), encoding="utf-8")
    extract(mapping, [data], tmp_path / "compat")
    standard = pl.read_parquet(tmp_path / "standard" / "data" / "juki-jumin.parquet")["氏名"]
    compat = pl.read_parquet(tmp_path / "compat" / "data" / "juki-jumin.parquet")["氏名"]
    assert standard.str.starts_with("恵").sum() == len(patched)
    assert compat.str.starts_with("\ufa6b").sum() == len(patched) and not compat.str.contains("恵").any()


def test_an_unknown_codec_variant_is_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mig.cli import main

    data, mapping, _ = _sample_with_kei(tmp_path / "legacy")
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace('charset = "jef-ebcdik"', 'charset = "jef-ebcdik"\ncodec_variant = "nfc"'), encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", str(data), "-m", str(mapping), "-o", str(tmp_path / "run")])
    assert result.exit_code == 2 and result.output.strip().splitlines() == [
        "mig: error: [source] codec_variant must be one of distinct, hd, aj1, base, compat, not 'nfc'"
    ]
