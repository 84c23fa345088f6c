"""Site overlays (mig.codecs.overlay): a few codes decoded differently for one run, recorded
in the manifest; bad overlays stop the run with a one-line error and exit 2."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from mig_adapters.copybook.parser import parse_copybook
from mig_adapters.copybook.sample import COPYBOOK, LRECL, write_sample

from mig.cli import main
from mig.codecs import get_codec
from mig.codecs.overlay import load_overlay, overlay_scope
from mig.errors import ConfigError
from mig.extract.run import extract

HEADER = "charset,code,unicode,note,decided_by,decided_at\n"
KAGO_OLD, KAGO_NEW = "篭", "籠"  # JIS C 6226-1978 and JIS X 0208-1983 swapped these two
SWAP = HEADER + (
    'jef,E4C6,U+7C60,"78JIS order: FACOM prints 籠 at 68-38",tanaka,2025-04-01\n'
    'jef,CFB6,U+7BED,"78JIS order: FACOM prints 篭 at 47-22",tanaka,2025-04-01\n'
)


def _dbcs(codec_name: str, code: int, **kw: object) -> str:
    raw = np.array([[code >> 8, code & 0xFF]], np.uint8)
    value: str = get_codec(codec_name, **kw).decode_dbcs(raw).values[0].as_py()  # type: ignore[arg-type]
    return value


def test_an_overlay_overrides_decode_and_encode_only_inside_its_scope(tmp_path: Path) -> None:
    path = tmp_path / "swap.csv"
    path.write_text(SWAP, encoding="utf-8")
    overlay = load_overlay(path)
    assert overlay.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert _dbcs("jef-ebcdik", 0xE4C6) == KAGO_OLD
    with overlay_scope(overlay):
        assert _dbcs("jef-ebcdik", 0xE4C6) == KAGO_NEW
        assert _dbcs("jef-ascii", 0xCFB6) == KAGO_OLD  # the family "jef" covers every JEF charset
        assert get_codec("jef-ebcdik").encode_dbcs([KAGO_NEW, KAGO_OLD], 2).tolist() == [[0xE4, 0xC6], [0xCF, 0xB6]]
        assert _dbcs("keis83-ebcdik", 0xA1A1) == "\u3000"  # other charsets untouched
    assert _dbcs("jef-ebcdik", 0xE4C6) == KAGO_OLD
    assert get_codec("jef-ebcdik", overlay=overlay).encode_dbcs([KAGO_NEW], 2).tolist() == [[0xE4, 0xC6]]


@pytest.mark.parametrize(
    ("rows", "rule"),
    [
        ("sjis,B3E7,U+7C60,n,a,2025-04-01\n", "line 2: unknown charset 'sjis'"),
        ("jef,3030,U+7C60,n,a,2025-04-01\n", "line 2: code 3030 is outside the range"),
        ("jef,B3E,U+7C60,n,a,2025-04-01\n", "line 2: code B3E must be 2 (single byte) or 4 (double byte) hex digits"),
        ("jef,B3E7,U+FFFF,n,a,2025-04-01\n", "line 2: unicode U+FFFF is not a character"),
        ("jef,B3E7,U+D800,n,a,2025-04-01\n", "line 2: unicode U+D800 is not a character"),
        ("jef,B3E7,U+0378,n,a,2025-04-01\n", "line 2: unicode U+0378 is not a character"),
        ("jef,B3E7,籠,n,a,2025-04-01\n", "line 2: unicode 籠 must be U+XXXX"),
        ("jef,B3E7,U+7C60,n,a,2025-04-01\njef-ebcdik,B3E7,U+7BED,n,a,2025-04-01\n",
         "line 3: code B3E7 of jef-ebcdik is already given on line 2"),
        ("jef,B3E7,U+7C60,,a,2025-04-01\n", "line 2: note, decided_by and decided_at"),
        ("jef,C1,U+0041 U+E0100,n,a,2025-04-01\n", "line 2: single-byte code C1 decodes to one code point only"),
        ("jef,B3E7,U+8FBB U+E0101 U+E0102,n,a,2025-04-01\n", "line 2: unicode U+8FBB U+E0101 U+E0102 must be U+XXXX"),
    ],
)
def test_bad_overlays_are_config_errors_naming_file_and_line(tmp_path: Path, rows: str, rule: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_overlay(path)
    message = str(info.value)
    assert message.startswith("bad.csv ") and rule in message and "\n" not in message


def test_a_bad_header_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("charset,code,unicode\njef,B3E7,U+7C60\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1: the first line must be the header"):
        load_overlay(path)


def _sample_with_kago(root: Path) -> tuple[Path, Path, dict[int, str]]:
    """The mainframe sample, with 篭 / 籠 put first in the 氏名 of a few 住民 records;
    returns the data, the mapping and record number → the character written."""
    sample = write_sample(root, setai=12, seed=5, framing="fixed")
    shimei = parse_copybook(COPYBOOK, source="JUKI.cpy").record("JUMIN-REC").field("SHIMEI").offset
    data = bytearray(sample.data.read_bytes())
    jumin = [i for i in range(len(data) // LRECL) if data[i * LRECL] == 0xF2]
    written: dict[int, str] = {}
    for n, i in enumerate(jumin[12:20]):  # past the deliberately broken records
        char = KAGO_OLD if n % 2 else KAGO_NEW
        code = get_codec("jef-ebcdik").encode_dbcs([char], 2)[0]
        data[i * LRECL + shimei : i * LRECL + shimei + 2] = bytes(code)
        written[i + 1] = char
    sample.data.write_bytes(bytes(data))
    return sample.data, sample.mapping, written


def test_an_overlay_swapping_kago_changes_exactly_those_rows_and_is_in_the_manifest(tmp_path: Path) -> None:
    data, mapping, written = _sample_with_kago(tmp_path / "legacy")
    plain = extract(mapping, [data], tmp_path / "plain", batch_bytes=4096)
    overlay = mapping.parent / "site-jef.csv"
    overlay.write_text(SWAP, encoding="utf-8")
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace('charset = "jef-ebcdik"', 'charset = "jef-ebcdik"\noverlay = "site-jef.csv"'), encoding="utf-8")
    swapped = extract(mapping, [data], tmp_path / "swapped", batch_bytes=4096)

    assert "codec_overlays" not in plain.manifest
    assert swapped.manifest["codec_overlays"] == [
        {"path": "site-jef.csv", "sha256": hashlib.sha256(overlay.read_bytes()).hexdigest()}
    ]
    for run in (plain, swapped):
        totals = run.manifest["totals"]
        assert totals["rows_in"] == totals["rows_out"] + totals["rows_rejected"]
    assert swapped.manifest["totals"] == plain.manifest["totals"]
    before = pl.read_parquet(tmp_path / "plain" / "data" / "juki-jumin.parquet")
    after = pl.read_parquet(tmp_path / "swapped" / "data" / "juki-jumin.parquet")
    assert before.columns == after.columns and before.height == after.height
    changed = [c for c in before.columns if not before[c].equals(after[c])]
    assert changed == ["氏名"]
    differs = (before["氏名"] != after["氏名"]).to_list()
    expected = [v[0] in (KAGO_OLD, KAGO_NEW) for v in before["氏名"].to_list()]
    assert differs == expected and sum(differs) == len(written)
    swap = {KAGO_OLD: KAGO_NEW, KAGO_NEW: KAGO_OLD}
    for old, new, flag in zip(before["氏名"], after["氏名"], differs, strict=True):
        if flag:
            assert new == swap[old[0]] + old[1:]
    setai_before = pl.read_parquet(tmp_path / "plain" / "data" / "juki-setai.parquet")
    assert setai_before.equals(pl.read_parquet(tmp_path / "swapped" / "data" / "juki-setai.parquet"))


@pytest.mark.parametrize(
    ("rows", "rule"),
    [
        ("sjis,B3E7,U+7C60,n,a,2025-04-01\n", "unknown charset 'sjis'"),
        ("jef,FFFF,U+7C60,n,a,2025-04-01\n", "outside the range"),
        ("jef,B3E7,U+FDD0,n,a,2025-04-01\n", "not a character"),
        ("jef,B3E7,U+7C60,n,a,2025-04-01\njef,B3E7,U+7C60,n,a,2025-04-01\n", "already given on line 2"),
    ],
)
def test_mig_extract_with_a_bad_overlay_exits_2_with_one_line(tmp_path: Path, rows: str, rule: str) -> None:
    sample = write_sample(tmp_path / "legacy", setai=10, seed=1, framing="fixed")
    (sample.mapping.parent / "site.csv").write_text(HEADER + rows, encoding="utf-8")
    text = sample.mapping.read_text(encoding="utf-8")
    sample.mapping.write_text(text.replace('charset = "jef-ebcdik"', 'charset = "jef-ebcdik"\noverlay = "site.csv"'), encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", str(sample.data), "-m", str(sample.mapping), "-o", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "site.csv line" in lines[0] and rule in lines[0]
    assert "Traceback" not in result.output and not (tmp_path / "run").exists()


def test_manifest_round_trips_the_overlay_digest(tmp_path: Path) -> None:
    from mig.run.manifest import Digest, Manifest

    manifest = Manifest(codec_overlays=(Digest("site.csv", "ab" * 32),))
    data = json.loads(json.dumps(manifest.to_dict()))
    assert Manifest.from_dict(data).codec_overlays == manifest.codec_overlays


_SWAP_OVERLAY: list[object] = []


def _swap_overlay() -> object:
    if not _SWAP_OVERLAY:
        from mig.codecs.overlay import load_overlay as load

        _SWAP_OVERLAY.append(load(Path(__file__).resolve().parent.parent / "mig" / "codecs" / "overlays" / "jef-78jis-swaps.csv"))
    return _SWAP_OVERLAY[0]


_JEF_TEXT = st.lists(
    st.sampled_from(["篭", "籠", "鯵", "鰺", "恵", "山", "田", "A", "1", " ", "\ue000", "侮\U000e0103"]), max_size=12
).map("".join)


@settings(max_examples=80, deadline=None)
@given(st.lists(_JEF_TEXT, min_size=1, max_size=5), st.sampled_from(["jef-ebcdik", "jef-ebcdic", "jef-ascii"]))
def test_random_mixed_records_round_trip_under_an_overlay(texts: list[str], charset: str) -> None:
    from mig.codecs.overlay import Overlay

    overlay = _swap_overlay()
    assert isinstance(overlay, Overlay)
    codec = get_codec(charset, overlay=overlay)
    fields = codec.encode_mixed(texts, 64)
    result = codec.decode_mixed(fields)
    assert result.errors.tolist() == [0] * len(texts)
    assert [v.rstrip(" ") for v in result.values.to_pylist()] == [t.rstrip(" ") for t in texts]
    plain = get_codec(charset).decode_mixed(fields).values.to_pylist()
    swap = str.maketrans({"篭": "籠", "籠": "篭", "鯵": "鰺", "鰺": "鯵"})
    assert [v.rstrip(" ") for v in plain] == [t.rstrip(" ").translate(swap) for t in texts]


def test_preview_applies_the_overlay(tmp_path: Path) -> None:
    from mig.extract.preview import preview_source as preview

    data, mapping, written = _sample_with_kago(tmp_path / "legacy")
    record = min(written)
    (mapping.parent / "site-jef.csv").write_text(SWAP, encoding="utf-8")
    plain = preview(mapping, data, limit=record)
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace('charset = "jef-ebcdik"', 'charset = "jef-ebcdik"\noverlay = "site-jef.csv"'), encoding="utf-8")
    swapped = preview(mapping, data, limit=record)

    def shimei(result: dict[str, object]) -> str:
        records = result["records"]
        assert isinstance(records, list)
        fields = {f["name"]: f["value"] for f in records[record - 1]["fields"]}
        return str(fields["SHIMEI"])

    swap = {KAGO_OLD: KAGO_NEW, KAGO_NEW: KAGO_OLD}
    assert shimei(plain)[0] == written[record] and shimei(swapped)[0] == swap[written[record]]


def test_preview_mapped_applies_the_overlay_as_extract_does(tmp_path: Path) -> None:
    """``mig preview --mapped`` reads through the same source side as ``preview`` and
    ``extract``: the overlay named in [source] changes the mapped 氏名, the adapter never
    sees the key."""
    from mig.extract.preview import preview_mapped

    data, mapping, written = _sample_with_kago(tmp_path / "legacy")
    record = min(written)
    (mapping.parent / "site-jef.csv").write_text(SWAP, encoding="utf-8")
    # preview --mapped shows the first [[files]] that reads the file: keep the 住民 one only
    text = mapping.read_text(encoding="utf-8")
    first = text.index("[[files]]")
    mapping.write_text(text[:first] + text[text.index("[[files]]", first + 1):], encoding="utf-8")

    def shimei() -> str:
        result = preview_mapped(mapping, data, limit=record)
        found = next(r for r in result["records"] if r["record"] == record)
        return str(next(i["value"] for i in found["items"] if i["name"] == "氏名"))

    plain = shimei()
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace('charset = "jef-ebcdik"', 'charset = "jef-ebcdik"\noverlay = "site-jef.csv"'), encoding="utf-8")
    swap = {KAGO_OLD: KAGO_NEW, KAGO_NEW: KAGO_OLD}
    assert plain[0] == written[record] and shimei()[0] == swap[written[record]]


def test_a_single_byte_overlay_row_changes_that_byte_only(tmp_path: Path) -> None:
    path = tmp_path / "yen.csv"
    path.write_text(HEADER + "jef-ebcdik,5B,U+00A5,site prints ¥ at 0x5B,tanaka,2025-04-01\n", encoding="utf-8")
    codec = get_codec("jef-ebcdik", overlay=load_overlay(path))
    fields = np.frombuffer(b"\x5b\xc1", np.uint8).reshape(1, 2)
    assert codec.decode_sbcs(fields).values.to_pylist() == ["\u00a5A"]
    assert get_codec("jef-ebcdik").decode_sbcs(fields).values.to_pylist() == ["\\A"]
    assert codec.encode_sbcs(["\u00a5A"], 2).tolist() == [[0x5B, 0xC1]]


_CELLS = st.one_of(
    st.sampled_from(["jef", "keis", "ibm-930", "jips-e-ebcdik", "sjis", "", "B7C3", "40", "4040", "0xFFFF", "ZZ",
                     "U+7C60", "U+D800", "U+110000", "U+E0100", "U+8FBB U+E0101", "U+0041 U+0042 U+0043", "2025-04-01", "x"]),
    st.text(max_size=8),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_CELLS, min_size=0, max_size=7), max_size=4), st.booleans())
def test_any_overlay_file_loads_or_is_a_one_line_config_error(rows: list[list[str]], header: bool) -> None:
    import csv
    import io
    import tempfile

    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(["charset", "code", "unicode", "note", "decided_by", "decided_at"])
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "o.csv"
        path.write_text(out.getvalue(), encoding="utf-8", errors="surrogatepass")
        try:
            overlay = load_overlay(path)
        except ConfigError as exc:
            assert "\n" not in str(exc) and str(exc).startswith("o.csv")
            return
        for charset in ("jef-ebcdik", "keis83-ebcdik", "ibm-930", "jips-e-ebcdik"):
            get_codec(charset, overlay=overlay).decode_dbcs(np.zeros((1, 2), np.uint8))
