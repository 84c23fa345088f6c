"""EUC-JP family (mig.codecs.euc): eucJP-ms user-defined 外字 decode to Private Use, are
reported and resolved through a registry by ``mig extract``; detection, batch boundaries,
truncated and invalid bytes; differential checks against Python's and glibc's decoders."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from mig_adapters.csv import detect_encoding

from mig.cli import main
from mig.codecs.euc import EucDecodeError, decode_euc
from mig.demo.generator import DemoExport, generate_legacy_export
from mig.errors import ExitCode
from mig.extract.run import extract

KEN = "\ue003"  # the demo's 外字 for 邊: CP932 F043 → eucJP-ms 0xF5A4
SS3_GAIJI = "\ue3ac"  # the first code of the second user area: 0x8F 0xF5A1
REGISTRY = (
    "source,code,mj,text,status,decided_by,decided_at,evidence\n"
    "juki-euc,U+E003,MJ026200,邊󠄈,confirmed,tester,2025-04-01,the package's 外字 list\n"
    "juki-euc,U+E3AC,MJ028902,髙,confirmed,tester,2025-04-01,the package's 外字 list\n"
)


def _euc_user_area(error: UnicodeError) -> tuple[bytes, int]:
    """Encode eucJP-ms user-defined characters (U+E000–U+E757), for writing test files."""
    assert isinstance(error, UnicodeEncodeError)
    out = b""
    for char in error.object[error.start : error.end]:
        index = ord(char) - 0xE000
        assert 0 <= index < 1880, hex(ord(char))
        prefix, index = (b"", index) if index < 940 else (b"\x8f", index - 940)
        out += prefix + bytes((0xF5 + index // 94, 0xA1 + index % 94))
    return out, error.end


codecs.register_error("test-euc-user-area", _euc_user_area)


def to_euc(text: str) -> bytes:
    return text.encode("euc_jp", errors="test-euc-user-area")


@pytest.fixture(scope="module")
def euc_export(tmp_path_factory: pytest.TempPathFactory) -> DemoExport:
    """The demo export re-encoded as EUC-JP: its 外字 in the eucJP-ms user areas."""
    export = generate_legacy_export(tmp_path_factory.mktemp("euc"), rows=300, seed=5)
    for path in (export.setai_csv, export.jumin_csv, export.ido_csv):
        text = path.read_bytes().decode("cp932")
        if path == export.setai_csv:
            text = text.replace(KEN, SS3_GAIJI)  # the SS3 user area too
        path.write_bytes(to_euc(text))
    mapping = export.mapping.read_text(encoding="utf-8").replace('encoding = "cp932"', "")
    mapping += '\n[gaiji]\nsource = "juki-euc"\nregistry = ["registry.csv"]\n'
    export.mapping.write_text(mapping, encoding="utf-8")
    return export


def test_user_area_bytes_make_python_fail_but_are_detected_and_decoded(euc_export: DemoExport) -> None:
    data = euc_export.jumin_csv.read_bytes()
    assert b"\xf5\xa4" in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("euc_jp")
    assert detect_encoding(data[:4096]) == "euc-jp"
    assert KEN in decode_euc("euc-jp", data).decode("utf-8")


def _extract(export: DemoExport, out: Path, *extra: str) -> tuple[int, dict, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(main, [
        "extract", str(export.setai_csv), str(export.jumin_csv), str(export.ido_csv),
        "-m", str(export.mapping), "-o", str(out), "--quiet", *extra,
    ])
    assert "Traceback" not in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return result.exit_code, manifest, report


def test_an_euc_jp_export_keeps_its_gaiji_as_private_use_and_reports_them(euc_export: DemoExport, tmp_path: Path) -> None:
    registry = euc_export.mapping.parent / "registry.csv"
    registry.write_text("source,code,mj,text,status,decided_by,decided_at,evidence\n", encoding="utf-8")
    code, manifest, report = _extract(euc_export, tmp_path / "run")
    assert code in (ExitCode.CLEAN, ExitCode.FINDINGS)
    totals = manifest["totals"]
    assert totals["rows_in"] == totals["rows_out"] + totals["rows_rejected"] == euc_export.rows + euc_export.setai_rows + euc_export.ido_rows
    assert {i["encoding"] for i in manifest["inputs"]} == {"euc-jp"}  # detected
    jumin = pl.read_parquet(tmp_path / "run" / "data" / "juki-jumin.parquet")
    setai = pl.read_parquet(tmp_path / "run" / "data" / "juki-setai.parquet")
    assert jumin["氏名"].str.contains(KEN, literal=True).sum() == euc_export.gaiji_rows
    assert setai["世帯主氏名"].str.contains(SS3_GAIJI, literal=True).sum() >= 1
    gaiji = {(g["code"], f["layout"]) for f in report["files"] for g in f["gaiji"]}
    assert ("U+E003", "juki-jumin") in gaiji and ("U+E3AC", "juki-setai") in gaiji


def test_the_registry_resolves_euc_jp_gaiji(euc_export: DemoExport, tmp_path: Path) -> None:
    (euc_export.mapping.parent / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    _, manifest, report = _extract(euc_export, tmp_path / "run")
    totals = manifest["totals"]
    assert totals["rows_in"] == totals["rows_out"] + totals["rows_rejected"]
    assert manifest["gaiji"]["source"] == "juki-euc" and manifest["gaiji"]["confirmed"] == 2
    assert [g for f in report["files"] for g in f["gaiji"]] == []
    jumin = pl.read_parquet(tmp_path / "run" / "data" / "juki-jumin.parquet")
    setai = pl.read_parquet(tmp_path / "run" / "data" / "juki-setai.parquet")
    assert not jumin["氏名"].str.contains("[\ue000-\uf8ff]").any()
    assert jumin["氏名"].str.contains("邊\U000e0108", literal=True).sum() == euc_export.gaiji_rows
    assert setai["世帯主氏名"].str.contains("髙", literal=True).sum() >= 1


def test_batch_boundaries_inside_multibyte_characters_change_nothing(euc_export: DemoExport, tmp_path: Path) -> None:
    (euc_export.mapping.parent / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    inputs = [euc_export.setai_csv, euc_export.jumin_csv, euc_export.ido_csv]
    extract(euc_export.mapping, inputs, tmp_path / "big")
    for batch in (1001, 4097):  # odd sizes: blocks end inside two- and three-byte characters
        extract(euc_export.mapping, inputs, tmp_path / str(batch), batch_bytes=batch)
        for name in ("juki-jumin", "juki-setai", "juki-ido"):
            big = (tmp_path / "big" / "data" / f"{name}.parquet").read_bytes()
            assert (tmp_path / str(batch) / "data" / f"{name}.parquet").read_bytes() == big


@pytest.mark.parametrize(
    ("tail", "rule"),
    [
        (b"\xa4", "not valid euc-jp"),  # the file ends inside a two-byte character
        (b"\x8f\xf5", "not valid euc-jp"),  # … inside a three-byte one
        (b"\xa4\n", "not valid euc-jp"),  # a lead byte before the line end
        (b"\x8f\x8f\x8f\x8f", "not valid euc-jp"),  # no character starts in the last three bytes
    ],
)
def test_truncated_or_invalid_euc_jp_is_one_line_exit_3(tmp_path: Path, tail: bytes, rule: str) -> None:
    path = tmp_path / "JUMIN.csv"
    path.write_bytes(to_euc("KOJIN_NO,SHIMEI\n1,山田\n2,田中") + tail)
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'adapter = "csv"\n[severity]\n"required-missing" = "warning"\n[source]\nencoding = "euc-jp"\n[[files]]\nlayout = "juki-jumin"\ninputs = ["JUMIN*.csv"]\n'
        '[files.items]\n"宛名番号" = { column = "KOJIN_NO" }\n"氏名" = { column = "SHIMEI" }\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", str(path), "-m", str(mapping), "-o", str(tmp_path / "run")])
    assert result.exit_code == ExitCode.UNREADABLE_INPUT, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "JUMIN.csv" in lines[0] and rule in lines[0] and "line 3" in lines[0]
    assert "山田" not in result.output and not (tmp_path / "run").exists()


def test_the_three_euc_encodings_decode_the_tilde_family_as_named() -> None:
    wave, minus, double_bar = b"\xa1\xc1", b"\xa1\xdd", b"\xa1\xc2"
    assert decode_euc("euc-jp", wave + minus + double_bar).decode() == "\u301c\u2212\u2016"
    assert decode_euc("eucjp-ms", wave + minus + double_bar).decode() == "\uff5e\uff0d\u2225"
    assert decode_euc("euc-jis-2004", wave + minus + double_bar).decode() == "\u301c\u2212\u2016"
    assert decode_euc("euc-jis-2004", b"\xa4\xf7").decode() == "\u304b\u309a"  # か゚: two code points
    with pytest.raises(EucDecodeError):
        decode_euc("euc-jis-2004", b"\x8f\xa2\xa1")  # plane 2 has no row 2 (JIS X 0212 has)


_CHARS = st.sampled_from(list("亜住民記録〜−ｱｲｳ漢字丂丄 abc,\"\n") + [KEN, SS3_GAIJI, "\ue757", "\ue000"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_CHARS, max_size=40).map("".join))
def test_any_text_round_trips_through_euc_jp(text: str) -> None:
    assert decode_euc("euc-jp", to_euc(text)).decode("utf-8") == text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=24))
def test_any_bytes_decode_like_python_or_fail_cleanly(data: bytes) -> None:
    try:
        expected: str | None = data.decode("euc_jp")
    except UnicodeDecodeError:
        expected = None
    try:
        got: str | None = decode_euc("euc-jp", data).decode("utf-8")
    except EucDecodeError as exc:
        assert 0 <= exc.offset < len(data)
        got = None
    if expected is not None:
        assert got == expected
    elif got is not None:  # only the eucJP-ms user areas decode where Python's codec fails
        assert any(0xE000 <= ord(c) <= 0xE757 for c in got)


def test_the_user_areas_are_the_ones_charsets_names() -> None:
    from mig.charsets import CP932_USER_DEFINED, EUCJP_USER_DEFINED

    first, second = EUCJP_USER_DEFINED
    assert decode_euc("euc-jp", b"\xf5\xa1\xfe\xfe").decode() == chr(first[0]) + chr(first[1])
    assert decode_euc("euc-jp", b"\x8f\xf5\xa1\x8f\xfe\xfe").decode() == chr(second[0]) + chr(second[1])
    assert (first[0], second[1]) == CP932_USER_DEFINED


def test_detection_falls_back_to_eucjp_ms_for_its_nec_rows() -> None:
    plain = "番号,氏名\n1,山田太郎\n2,田中花子\n"
    assert detect_encoding(to_euc(plain)) == "euc-jp"
    nec = to_euc(plain) + b"3,\xad\xa1\xad\xa2\n"  # ① ② in eucJP-ms row 13 (NEC special characters)
    assert detect_encoding(nec) == "eucjp-ms"
    assert decode_euc("eucjp-ms", nec).decode().endswith("3,①②\n")
