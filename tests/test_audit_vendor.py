"""`mig audit` on packages as other vendors deliver them (issue 17).

Must show: a zip written the way Info-ZIP `zip` on Linux writes it (UTF-8 names, the UTF-8
flag clear), vendor-named files recognised by their header row, no manifest, a Japanese
件数表.csv in CP932 — verdict complete, exit 0; the same with one wrong count — exit 1 with a
count-mismatch finding naming the file; a package of 基本データリスト files audited alike;
files without a header row recognised by field count and value patterns; ties asking for
--map.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from test_audit_html import CHROMIUM, _png_pixels, _screenshot
from test_audit_support import make_demo_run, read_csv

from mig.audit import AuditOptions, AuditReport, Limits, audit_package
from mig.audit.control import parse_control
from mig.audit.findings import render
from mig.audit.package import entry_name
from mig.cli import main
from mig.demo.generator import DemoExport
from mig.errors import InputError
from mig.jp import CHECK_DIGITS

VENDOR_NAMES = {
    "juki-jumin": "住民基本台帳_住民.csv",
    "juki-setai": "住民基本台帳_世帯.csv",
    "juki-ido": "住民基本台帳_異動.csv",
}
TOP = "引継ぎデータ"


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["audit", *args], catch_exceptions=False)


def infozip(dest: Path, files: dict[str, bytes]) -> Path:
    """A zip as Info-ZIP `zip` 3.0 on Linux writes one: names in UTF-8 bytes, general
    purpose flag bit 11 (UTF-8) clear — written by zipfile, then the flag cleared in every
    local and central header (the flag is not covered by any CRC)."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        offsets = [info.header_offset for info in archive.infolist()]
    raw = bytearray(dest.read_bytes())
    for offset in offsets:  # local file header: flags at +6, bit 11 = bit 3 of byte +7
        assert raw[offset:offset + 4] == b"PK\x03\x04"
        raw[offset + 7] &= ~0x08
    at = raw.find(b"PK\x01\x02")
    while raw[at:at + 4] == b"PK\x01\x02":  # central directory header: flags at +8
        raw[at + 9] &= ~0x08
        sizes = [int.from_bytes(raw[at + k:at + k + 2], "little") for k in (28, 30, 32)]
        at += 46 + sum(sizes)
    dest.write_bytes(bytes(raw))
    return dest


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoExport, Path]:
    return make_demo_run(tmp_path_factory.mktemp("vendor-demo"))


def vendor_files(run: Path, counts: dict[str, int] | None = None) -> dict[str, bytes]:
    """The demo's layout files under vendor names in one top folder, with a CP932 件数表.csv."""
    files: dict[str, bytes] = {}
    lines = ["ファイル名,件数"]
    for layout, name in VENDOR_NAMES.items():
        data = (run / "data" / f"{layout}.csv").read_bytes()
        files[f"{TOP}/{name}"] = data
        rows = read_csv(run / "data" / f"{layout}.csv").height
        lines.append(f"{name},{(counts or {}).get(name, rows)}")
    lines.append(f"合計,{sum(read_csv(run / 'data' / f'{x}.csv').height for x in VENDOR_NAMES)}")
    files[f"{TOP}/件数表.csv"] = ("\r\n".join(lines) + "\r\n").encode("cp932")
    return files


def audit_json(package: Path, *args: str) -> tuple[int, AuditReport]:
    result = cli(str(package), "--json", *args)
    return result.exit_code, AuditReport.from_dict(json.loads(result.stdout))


def test_infozip_zip_with_vendor_names_and_a_japanese_count_table_is_complete(
    demo: tuple[DemoExport, Path], tmp_path: Path
) -> None:
    package = infozip(tmp_path / "引継ぎ.zip", vendor_files(demo[1]))
    with zipfile.ZipFile(package) as archive:  # the flag really is clear: zipfile alone reads mojibake
        infos = archive.infolist()
        assert all(not info.flag_bits & 0x800 for info in infos)
        assert f"{TOP}/件数表.csv" not in [i.filename for i in infos]
        assert [entry_name(i).encoding for i in infos] == ["utf-8"] * 4
    result = cli(str(package))
    assert result.exit_code == 0, result.output
    report_path = tmp_path / "引継ぎ.audit.html"  # written by default, beside the package
    assert f"report: {report_path}" in result.output
    assert report_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    code, report = audit_json(package, "--no-report")
    assert code == 0 and report.passed
    assert [(b.business, b.verdict) for b in report.businesses] == [("住民基本台帳", "complete")]
    matched = {f.path: (f.layout, f.match_method, f.match_confidence, f.name_encoding) for f in report.files}
    assert matched["住民基本台帳_異動.csv"] == ("juki-ido", "header", 1.0, "utf-8")
    # the run's extension columns (行政区コード, 旧宛名番号) are no 項目名称: 2·12 / (13 + 12), 2·26 / (27 + 26)
    assert matched["住民基本台帳_世帯.csv"] == ("juki-setai", "header", 0.96, "utf-8")
    assert matched["住民基本台帳_住民.csv"][:3] == ("juki-jumin", "header", pytest.approx(52 / 53, abs=1e-6))
    roles = {e.path: e.role for e in report.inventory}
    assert roles["件数表.csv"] == "control"
    for file in report.files:
        assert [(c.source, c.matches) for c in file.controls] == [("件数表.csv", True)]


def test_one_wrong_count_is_a_count_mismatch_naming_the_file(demo: tuple[DemoExport, Path], tmp_path: Path) -> None:
    name = VENDOR_NAMES["juki-setai"]
    rows = read_csv(demo[1] / "data" / "juki-setai.csv").height
    package = infozip(tmp_path / "引継ぎ.zip", vendor_files(demo[1], {name: rows + 3}))
    result = cli(str(package), "--no-report")
    assert result.exit_code == 1
    assert f"count-mismatch           {name}: count mismatch — 件数表.csv: recorded {rows + 3} records, found {rows}" in result.output
    # the warnings explaining the rest are listed too, each naming its file
    assert f"warning gaiji-unresolved         {name}: 世帯主氏名: Private Use" in result.output
    code, report = audit_json(package, "--no-report")
    mismatches = [(f.type, f.severity, f.path) for f in report.findings if f.type == "count-mismatch"]
    assert code == 1 and mismatches == [("count-mismatch", "error", name)]
    assert not any(f.type.startswith("tamper") for f in report.findings)  # a mistake, not an accusation
    assert report.businesses[0].verdict == "non-conformant"
    # in Japanese the terminal says 件数不一致
    ja = CliRunner().invoke(main, ["--lang", "ja", "audit", str(package), "--no-report"])
    assert f"{name}: 件数不一致 — 件数表.csvの記載 {rows + 3} 件、実際 {rows} 件" in ja.output


def test_hash_against_a_held_manifest_is_possible_tampering(demo: tuple[DemoExport, Path], tmp_path: Path) -> None:
    import hashlib

    files = vendor_files(demo[1])
    held = tmp_path / "held" / "受領時ハッシュ.csv"  # what the municipality recorded on receipt
    held.parent.mkdir()
    lines = ["ファイル名,SHA-256"] + [
        f"{name.split('/', 1)[1]},{hashlib.sha256(data).hexdigest()}" for name, data in files.items()
    ]
    held.write_text("\n".join(lines) + "\n", encoding="utf-8")
    name = f"{TOP}/{VENDOR_NAMES['juki-ido']}"
    files[name] = files[name].replace(b"\r\n", b"\r\n", 1) + b""  # unchanged first
    assert audit_json(infozip(tmp_path / "a.zip", files), "--control", str(held), "--no-report")[0] == 0
    files[name] = files[name][:-2] + b" \r\n"  # one byte changed after receipt
    code, report = audit_json(infozip(tmp_path / "b.zip", files), "--control", str(held), "--no-report")
    found = [(f.type, f.path, f.detail) for f in report.findings if f.category == "integrity"]
    assert code == 1 and ("tamper-suspected", VENDOR_NAMES["juki-ido"], "受領時ハッシュ.csv") in found


def test_header_less_files_are_recognised_by_field_count_and_patterns(
    demo: tuple[DemoExport, Path], tmp_path: Path
) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    for layout in ("juki-setai", "juki-jumin"):
        frame = read_csv(demo[1] / "data" / f"{layout}.csv").drop("旧宛名番号", "行政区コード", strict=False)
        frame.write_csv(package / f"DATA_{layout.upper()}.txt", include_header=False, line_terminator="\r\n")
    report = audit_package(package)
    matched = {f.path: (f.layout, f.match_method, f.has_header) for f in report.files}
    assert matched == {
        "DATA_JUKI-SETAI.txt": ("juki-setai", "fields", False),
        # 26 fields fit juki-jumin and kihon-juki-jumin: the 1-digit 住民状態 codes decide
        "DATA_JUKI-JUMIN.txt": ("juki-jumin", "fields", False),
    }
    setai = next(f for f in report.files if f.layout == "juki-setai")
    assert setai.rows == read_csv(demo[1] / "data" / "juki-setai.csv").height  # the first line is a record
    assert setai.rows_conforming == setai.rows


def kihon_frame(run: Path) -> pl.DataFrame:
    """The demo's 住民 as a 基本データリスト file: 氏名フリガナ, 2-digit 住民状態 codes, and
    宛名番号 / 世帯番号 carrying their check digit (records whose serial can carry none dropped)."""
    codes = {"1": "01", "2": "02", "3": "03", "4": "04", "9": "99"}
    frame = read_csv(run / "data" / "juki-jumin.csv")
    numbered = {}
    for item in ("宛名番号", "世帯番号"):
        check = CHECK_DIGITS[item]
        serials = frame.get_column(item).drop_nulls().unique().to_list()
        numbered[item] = {v: f"{v}{d}" for v in serials if (d := check.of(int(v))) is not None}
    return (
        frame.drop("旧宛名番号")
        .rename({"氏名カナ": "氏名フリガナ"})
        .filter(pl.col("宛名番号").is_in(list(numbered["宛名番号"])) & pl.col("世帯番号").is_in(list(numbered["世帯番号"])))
        .with_columns(
            pl.col("住民状態").replace(codes),
            pl.col("宛名番号").replace(numbered["宛名番号"]),
            pl.col("世帯番号").replace(numbered["世帯番号"]),
        )
    )


def test_a_kihon_data_list_package_is_audited_the_same_way(demo: tuple[DemoExport, Path], tmp_path: Path) -> None:
    frame = kihon_frame(demo[1])
    data = frame.write_csv(line_terminator="\r\n").encode("utf-8")
    files = {
        "住民記録/住民票_個人.csv": data,
        "住民記録/件数表.csv": f"ファイル名\tレコード件数\r\n住民票_個人.csv\t{frame.height}\r\n".encode("cp932"),
    }
    package = infozip(tmp_path / "kihon.zip", files)
    code, report = audit_json(package, "--no-report")
    [file] = report.files
    assert (file.path, file.layout, file.match_method, file.match_confidence) == (
        "住民票_個人.csv", "kihon-juki-jumin", "header", 1.0)
    [business] = report.businesses
    assert [(x.layout, x.status) for x in business.layouts] == [("kihon-juki-jumin", "present")]
    assert [(c.source, c.rows, c.matches) for c in file.controls] == [("件数表.csv", frame.height, True)]
    assert (business.verdict, code, report.passed) == ("complete", 0, True)
    # the 基本データリスト rules ran: its check digits and 2-digit codes all hold
    assert [f.type for f in report.errors] == []
    assert file.rows == file.rows_conforming == frame.height
    assert {f.type for f in report.findings} <= {"gaiji-unresolved", "gaiji-outside-repertoire"}


def test_a_pack_layout_that_ties_asks_for_map(
    demo: tuple[DemoExport, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A layout pack (as `mig layouts import` writes one) holding a copy of the 基本データリスト
    住民 layout whose 項目名称 differ only in width and punctuation: a file fits both equally."""
    source = Path(__file__).parents[1] / "layouts" / "kihon-juki"
    pack = tmp_path / "pack" / "imported"
    pack.mkdir(parents=True)
    (pack / "codes.toml").write_text((source / "codes.toml").read_text(encoding="utf-8"), encoding="utf-8")
    text = (source / "kihon-juki-jumin.toml").read_text(encoding="utf-8")
    text = text.replace('id = "kihon-juki-jumin"', 'id = "imported-juki-jumin"')
    text = text.replace('name = "氏名フリガナ"', 'name = "氏名（フリガナ）"')
    (pack / "imported-juki-jumin.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("MIG_LAYOUTS_PATH", str(tmp_path / "pack"))
    package = tmp_path / "pkg"
    package.mkdir()
    kihon_frame(demo[1]).write_csv(package / "個人.csv", line_terminator="\r\n")
    report = audit_package(package, AuditOptions(businesses=("住民基本台帳",)))
    [tie] = [f for f in report.findings if f.type == "match-ambiguous"]
    assert tie.path == "個人.csv" and "kihon-juki-jumin 1.00" in tie.detail and "imported-juki-jumin 1.00" in tie.detail
    assert report.files == [] and not report.passed  # not audited: no layout of it counts as present
    mapped = audit_package(package, AuditOptions(mappings=(("個人.csv", "imported-juki-jumin"),)))
    assert [(f.layout, f.match_method) for f in mapped.files] == [("imported-juki-jumin", "map")]


def test_vendor_control_files_are_read_by_their_headings(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    for content, encoding in [
        ("ファイル名,件数,バイト数\r\na.csv,\"1,234件\",10\r\n合計,1234,\r\n", "cp932"),
        ("ﾌｧｲﾙ名\tﾚｺｰﾄﾞ件数\tﾊﾞｲﾄ数\na.csv\t１２３４\t10\n", "euc-jp"),
        ("\ufeffFile,Rows,Bytes\r\na.csv,1234,10\r\n", "utf-8"),
    ]:
        path.write_bytes(content.encode(encoding))
        [expected] = parse_control(path, "c.csv")
        assert (expected.path, expected.rows, expected.bytes) == ("a.csv", 1234, 10), encoding
    path.write_text("氏名,住所\n山田,東京\n", encoding="utf-8")
    with pytest.raises(InputError, match="no header row naming a file column") as caught:
        parse_control(path, "c.csv")
    assert "山田" not in str(caught.value)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=40))
def test_any_entry_name_bytes_read_without_error(raw: bytes) -> None:
    raw = raw.replace(b"\0", b"_")
    read = entry_name(zipfile.ZipInfo(raw.decode("cp437")))
    # whichever encoding is chosen reads the bytes back exactly (no information lost)
    assert raw.decode(read.encoding) == read.name


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium); CI installs it")
def test_japanese_report_screenshot(demo: tuple[DemoExport, Path], tmp_path: Path) -> None:
    """The report a municipality signs, as `mig --lang ja audit` writes it beside a vendor's zip
    with one wrong count, rendered by headless Chromium. Set MIG_AUDIT_SCREENSHOT=FILE.png to
    keep a copy of the screenshot."""
    name = VENDOR_NAMES["juki-setai"]
    rows = read_csv(demo[1] / "data" / "juki-setai.csv").height
    package = infozip(tmp_path / "引継ぎ.zip", vendor_files(demo[1], {name: rows + 3}))
    result = CliRunner().invoke(main, ["--lang", "ja", "audit", str(package)])
    assert result.exit_code == 1
    page = tmp_path / "引継ぎ.audit.html"
    html = page.read_text(encoding="utf-8")
    assert "受入不可" in html and "件数不一致" in html and "見出し行（項目名称）" in html
    assert f"{name}の件数・サイズの差異について、正しいファイルまたは管理ファイルの再提出を依頼" in html
    shot = _screenshot(page, tmp_path / "audit_ja.png", tmp_path / "profile")
    width, height, pixels = _png_pixels(shot)
    assert (width, height) == (1200, 1600) and len(set(pixels)) > 100
    keep = os.environ.get("MIG_AUDIT_SCREENSHOT")
    if keep:
        shutil.copyfile(tmp_path / "audit_ja.png", keep)


def test_default_report_never_overwrites_a_file_mig_did_not_write(
    demo: tuple[DemoExport, Path], tmp_path: Path
) -> None:
    package = infozip(tmp_path / "handover.zip", vendor_files(demo[1]))
    theirs = tmp_path / "handover.audit.html"
    theirs.write_text("<p>the vendor's own page</p>", encoding="utf-8")
    first = cli(str(package))
    assert first.exit_code == 0
    assert theirs.read_text(encoding="utf-8") == "<p>the vendor's own page</p>"  # untouched
    ours = tmp_path / "handover.audit-2.html"
    assert f"report: {ours}" in first.output and '<meta name="generator" content="mig audit">' in ours.read_text("utf-8")
    # the next audit replaces the report mig wrote, and writes no third file
    ours.write_text(ours.read_text("utf-8").replace("</body>", "<!-- old --></body>"), encoding="utf-8")
    assert cli(str(package)).exit_code == 0
    assert "<!-- old -->" not in ours.read_text("utf-8")
    assert sorted(p.name for p in tmp_path.glob("handover.audit*")) == ["handover.audit-2.html", "handover.audit.html"]
    # every name taken by someone else: a clear usage error, nothing written
    for n in range(2, 21):
        (tmp_path / f"handover.audit-{n}.html").write_text("x", encoding="utf-8")
    refused = cli(str(package))
    assert refused.exit_code == 2 and "a file mig did not write is there" in refused.output


def test_progress_is_reported_per_file(demo: tuple[DemoExport, Path], tmp_path: Path) -> None:
    package = infozip(tmp_path / "p.zip", vendor_files(demo[1]))
    seen: dict[str, list[tuple[int, int]]] = {}
    audit_package(package, AuditOptions(progress=lambda path, done, total: seen.setdefault(path, []).append((done, total))))
    assert sorted(seen) == sorted(VENDOR_NAMES.values())
    sizes = {name.split("/", 1)[1]: len(data) for name, data in vendor_files(demo[1]).items()}
    for path, calls in seen.items():
        # one bar per file: hashing (copying out of the zip), then validating — two passes
        assert {total for _, total in calls} == {2 * sizes[path]}
        assert calls[0][0] == 0 and calls[-1][0] == 2 * sizes[path]
        assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_one_unreadable_file_does_not_stop_the_others(demo: tuple[DemoExport, Path], tmp_path: Path) -> None:
    files = vendor_files(demo[1])
    files[f"{TOP}/{VENDOR_NAMES['juki-ido']}"] = b"\xff\xfe\x00garbage" * 1000
    code, report = audit_json(infozip(tmp_path / "p.zip", files), "--no-report")
    assert code == 1
    assert {f.layout for f in report.files} == {"juki-jumin", "juki-setai"}  # still audited in full
    assert all(f.rows_conforming == f.rows > 0 for f in report.files)
    assert ("file-missing", "juki-ido") in {(f.type, f.layout) for f in report.findings}


def test_unicode_path_extra_field_and_ambiguous_names() -> None:
    import struct
    import zlib

    raw = "Jümin.csv".encode("cp437")  # not UTF-8; as CP932 it reads as something else
    info = zipfile.ZipInfo(raw.decode("cp437"))
    assert entry_name(info).encoding == "cp932" and entry_name(info).name != "Jümin.csv"
    field = b"\x01" + struct.pack("<I", zlib.crc32(raw)) + "Jümin.csv".encode()
    info.extra = struct.pack("<HH", 0x7075, len(field)) + field
    assert (entry_name(info).name, entry_name(info).encoding) == ("Jümin.csv", "unicode-path")
    stale = b"\x01" + struct.pack("<I", zlib.crc32(b"renamed")) + "Jümin.csv".encode()
    info.extra = struct.pack("<HH", 0x7075, len(stale)) + stale  # written for another name: ignored
    assert entry_name(info).encoding == "cp932"
    # valid UTF-8 that is also a plausible CP932 name (the classic 縺ゅ≠ mojibake): UTF-8 wins, reported
    both = entry_name(zipfile.ZipInfo("ああ.csv".encode().decode("cp437")))
    assert (both.name, both.encoding, both.ambiguous) == ("ああ.csv", "utf-8", "縺ゅ≠.csv")


def test_an_ambiguous_entry_name_is_a_warning_in_the_report(demo: tuple[DemoExport, Path], tmp_path: Path) -> None:
    files = vendor_files(demo[1])
    files["ああ.txt"] = b"note\n"
    code, report = audit_json(infozip(tmp_path / "p.zip", files), "--no-report")
    [warning] = [f for f in report.findings if f.type == "entry-name-ambiguous"]
    assert (warning.path, warning.severity, warning.detail) == ("ああ.txt", "warning", "CP932: 縺ゅ≠.txt")
    assert code == 0 and {e.path: e.name_encoding for e in report.inventory}["ああ.txt"] == "utf-8"


def test_a_count_table_workbook_is_a_control_file(demo: tuple[DemoExport, Path], tmp_path: Path) -> None:
    from tests.support.xlsx import SheetSpec, grid, write_xlsx

    files = vendor_files(demo[1])
    del files[f"{TOP}/件数表.csv"]
    rows = {name: read_csv(demo[1] / "data" / f"{layout}.csv").height for layout, name in VENDOR_NAMES.items()}
    book = write_xlsx(tmp_path / "件数表.xlsx", [SheetSpec("件数", grid(
        [["引継ぎデータ件数表"], ["ファイル名", "レコード件数"]]
        + [[name, n + (1 if "異動" in name else 0)] for name, n in rows.items()]
    ))])
    files[f"{TOP}/件数表.xlsx"] = book.read_bytes()
    code, report = audit_json(infozip(tmp_path / "p.zip", files), "--no-report")
    assert {e.path: e.role for e in report.inventory}["件数表.xlsx"] == "control"
    assert code == 1 and [(f.type, f.path) for f in report.findings if f.type == "count-mismatch"] == [
        ("count-mismatch", VENDOR_NAMES["juki-ido"])]


def test_a_manifest_the_municipality_holds_catches_a_resigned_edit(
    demo: tuple[DemoExport, Path], tmp_path: Path
) -> None:
    from test_audit_support import copy_run, resign

    held = tmp_path / "保管" / "受領時manifest.json"  # kept from the delivery as first received
    held.parent.mkdir()
    shutil.copyfile(demo[1] / "manifest.json", held)
    package = copy_run(demo[1], tmp_path / "package")
    path = package / "data" / "juki-ido.csv"
    data = path.read_bytes()
    at = data.index(b"\r\n") + 2  # a digit of the first record's 団体コード, same size after
    path.write_bytes(data[:at] + (b"7" if data[at:at + 1] != b"7" else b"8") + data[at + 1:])
    resign(package)  # the package's own manifest was rewritten to match: it sees nothing
    assert audit_json(package, "--no-report")[0] == 0
    code, report = audit_json(package, "--control", str(held), "--no-report")
    integrity = [(f.type, f.path, f.detail) for f in report.findings if f.type.endswith("mismatch") or "tamper" in f.type]
    assert code == 1 and integrity == [("tamper-suspected", "data/juki-ido.csv", "受領時manifest.json")]
    assert "改ざんの疑い" in render("tamper-suspected", "ja", path="data/juki-ido.csv", detail="受領時manifest.json")


_LINES = st.lists(
    st.lists(st.sampled_from(["ファイル名", "件数", "file", "rows", "a.csv", "1,2", "１２", '"', "", "\t", "氏名", "\xff"]),
             max_size=5).map(",".join),
    max_size=6,
).map("\n".join)


@settings(max_examples=60, deadline=None)
@given(_LINES, st.sampled_from(["utf-8", "cp932", "euc-jp"]))
def test_any_bytes_recognise_or_parse_without_traceback(text: str, encoding: str) -> None:
    from mig.audit.recognise import recognise_csv
    from mig.errors import ConfigError
    from mig.layout import list_layouts

    data = text.encode(encoding, "replace")
    match = recognise_csv(data, list_layouts())  # never raises, whatever the bytes
    assert match.layout == "" or match.method in ("header", "fields")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.csv"
        path.write_bytes(data)
        try:
            parse_control(path, "c.csv")
        except (InputError, ConfigError) as exc:
            assert str(exc).startswith("c.csv")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("氏名カナガパーｶﾞﾊﾟｰあがぱ・_ （）ABCabc123ＡＢＣ１２３ 　")), max_size=12))
def test_normalise_heading_folds_width_kana_and_punctuation(heading: str) -> None:
    from mig.jp import (
        ALNUM_HALF_TO_FULL,
        HIRAGANA_TO_KATAKANA,
        KANA_FULL_TO_HALF,
        normalise_heading,
    )

    once = normalise_heading(heading)
    assert normalise_heading(once) == once  # idempotent
    to_hiragana = {v: k for k, v in HIRAGANA_TO_KATAKANA.items()}
    for variant in (
        "".join(ALNUM_HALF_TO_FULL.get(c, c) for c in heading),  # 全角英数字
        "".join(KANA_FULL_TO_HALF.get(c, c) for c in heading),  # 半角カナ
        "".join(to_hiragana.get(c, c) for c in heading),  # ひらがな
        f" {heading}・",  # spaces and punctuation around it
    ):
        assert normalise_heading(variant) == once, variant


def test_reading_an_entry_again_does_not_count_twice_against_the_total(
    demo: tuple[DemoExport, Path], tmp_path: Path
) -> None:
    """A vendor-named file is read twice (its head to recognise it, then all of it): the
    package's inflation total counts its bytes once, so a package just under the limit passes."""
    files = {f"{TOP}/{name}": (demo[1] / "data" / f"{layout}.parquet").read_bytes()
             for layout, name in ((k, v.replace(".csv", ".parquet")) for k, v in VENDOR_NAMES.items())}
    package = infozip(tmp_path / "p.zip", files)
    total = sum(len(data) for data in files.values())
    report = audit_package(package, AuditOptions(limits=Limits(max_total_bytes=total)))
    assert "zip-bomb" not in {f.type for f in report.findings}
    assert {(f.layout, f.match_method) for f in report.files} == {
        ("juki-ido", "header"), ("juki-jumin", "header"), ("juki-setai", "header")}
    assert report.passed


def test_what_to_ask_the_vendor_names_item_and_count_never_values(
    demo: tuple[DemoExport, Path], tmp_path: Path
) -> None:
    from mig.audit import render_audit_html

    frame = read_csv(demo[1] / "data" / "juki-jumin.csv")
    addresses = set(frame.get_column("住所").drop_nulls().head(12).to_list())
    blanked = frame.with_columns(
        pl.when(pl.int_range(pl.len()) < 12).then(pl.lit("")).otherwise(pl.col("住所")).alias("住所"))
    files = vendor_files(demo[1])
    files[f"{TOP}/{VENDOR_NAMES['juki-jumin']}"] = blanked.write_csv(line_terminator="\r\n").encode("utf-8")
    code, report = audit_json(infozip(tmp_path / "p.zip", files), "--no-report")
    assert code == 1 and report.businesses[0].verdict == "non-conformant"
    page = render_audit_html(report.to_dict(), "ja")
    assert "住所の必須項目が空欄の 12 件について、値の補完または欠落理由の提示を依頼" in page
    assert "For the 12 record(s) with 住所 empty (required)" in render_audit_html(report.to_dict(), "en")
    assert not any(address in page for address in addresses)  # counts only
