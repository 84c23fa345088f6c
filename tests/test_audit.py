"""`mig audit` on a real `mig demo` run directory and on packages edited from it.

Must show: the demo run passes; one file removed, one item dropped, one file edited after
the manifest and one Private Use character added each give the right finding (the first
three make the exit code 1).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result
from test_audit_support import (
    LAYOUT_IDS,
    copy_run,
    edit_csv,
    make_demo_run,
    read_csv,
    resign,
    values_of,
    write_csv,
)

from mig.audit import AuditOptions, AuditReport, audit_package, render_audit_html
from mig.audit.control import parse_control
from mig.audit.findings import AUDIT_FINDING_TYPES
from mig.cli import main
from mig.demo.generator import DemoExport
from mig.errors import InputError


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["audit", *args], catch_exceptions=False)


def audit_cli(package: Path, *args: str) -> tuple[int, AuditReport]:
    """Run `mig audit --json` once: its exit code and the report it printed."""
    result = cli(str(package), "--json", *args)
    return result.exit_code, AuditReport.from_dict(json.loads(result.stdout))


def types(report: AuditReport, severity: str | None = None) -> set[str]:
    return {f.type for f in report.all_findings() if severity is None or f.severity == severity}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoExport, Path]:
    return make_demo_run(tmp_path_factory.mktemp("audit-demo"))


@pytest.fixture(scope="module")
def baseline(demo: tuple[DemoExport, Path]) -> AuditReport:
    """The audit of the untouched demo run (shared: tests only read it)."""
    return audit_package(demo[1])


@pytest.fixture
def run(demo: tuple[DemoExport, Path], tmp_path: Path) -> Path:
    return copy_run(demo[1], tmp_path / "package")


def test_demo_run_directory_passes(demo: tuple[DemoExport, Path], baseline: AuditReport, tmp_path: Path) -> None:
    export, run_dir = demo
    page = tmp_path / "audit.html"
    result = cli(str(run_dir), "--report", str(page))
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output and "外字 left" in result.output
    report = baseline
    assert report.passed and types(report, "error") == set()
    [business] = report.businesses
    assert (business.business, business.verdict) == ("住民基本台帳", "complete")
    assert {x.layout: x.status for x in business.layouts} == dict.fromkeys(LAYOUT_IDS, "present")
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    rows_out = {f["layout"]: f["rows_out"] for f in manifest["files"]}
    assert sorted(f.path for f in report.files) == sorted(
        f"data/{lid}.{ext}" for lid in LAYOUT_IDS for ext in ("csv", "parquet")
    )
    for file in report.files:
        assert file.rows == rows_out[file.layout] == file.rows_conforming
        assert [(c.source, c.matches) for c in file.controls] == [("manifest.json", True)]
        assert not file.read_error
        assert all(i.status in ("present", "extension") for i in file.items)
    # the declared extension items are recognised as such, not as undeclared columns
    jumin = next(f for f in report.files if f.path == "data/juki-jumin.csv")
    assert {i.name for i in jumin.items if i.status == "extension"} == {"旧宛名番号"}
    assert "column-extra" not in types(report)
    # the run's rejected records and the 外字 left are visible warnings, not blockers
    rejected = [f for f in report.findings if f.type == "run-rejects"]
    assert [(f.layout, f.count) for f in rejected] == [("juki-jumin", export.broken_total)]
    gaiji = [f for f in report.findings if f.type == "gaiji-unresolved" and f.path == "data/juki-jumin.csv"]
    assert {f.item: f.count for f in gaiji}["氏名"] == export.gaiji_rows
    assert all(f.severity == "warning" for f in gaiji)
    html = page.read_text(encoding="utf-8")
    assert "✓ PASS" in html and "外字 left" in html
    # every file of the package is hashed
    assert {e.path for e in report.inventory} == {
        p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file()
    }
    assert all(re.fullmatch("[0-9a-f]{64}", e.sha256) for e in report.inventory)


def test_load_rejects_beside_a_run_are_named_for_what_they_are(run: Path) -> None:
    (run / "load-rejects").mkdir()
    (run / "load-rejects" / "juki_jumin.jsonl").write_text("{}\n", encoding="utf-8")
    code, report = audit_cli(run)
    [found] = [f for f in report.findings if f.path == "load-rejects/juki_jumin.jsonl"]
    assert (found.type, found.severity) == ("file-unexpected", "warning")
    assert "mig load" in found.message
    assert code == 0 and report.passed


def test_a_gaiji_review_beside_the_run_is_the_run_own_side_file(run: Path) -> None:
    """``mig gaiji review`` writes its sheet, CSV and (``--auto-confirm``) registry into the
    run directory by default: the audit knows them, as it knows report.json."""
    for name in ("gaiji-review.html", "gaiji-review.csv", "gaiji-review.registry.csv"):
        (run / name).write_text("x\n", encoding="utf-8")
    code, report = audit_cli(run)
    assert [f.path for f in report.findings if f.type == "file-unexpected"] == []
    assert code == 0 and report.passed


def test_file_removed_is_incomplete(run: Path) -> None:
    (run / "data" / "juki-setai.csv").unlink()
    code, report = audit_cli(run)
    missing = [f for f in report.findings if f.type == "listed-file-missing"]
    assert [(f.path, f.severity, f.layout) for f in missing] == [("data/juki-setai.csv", "error", "juki-setai")]
    assert report.businesses[0].verdict == "incomplete" and not report.passed
    assert code == 1
    # with both representations gone the layout itself is missing
    (run / "data" / "juki-setai.parquet").unlink()
    report = audit_package(run)
    assert [f.layout for f in report.findings if f.type == "file-missing"] == ["juki-setai"]
    statuses = {x.layout: x.status for x in report.businesses[0].layouts}
    assert statuses["juki-setai"] == "missing"
    # the references to 世帯 can no longer be checked, and the report says so
    jumin = next(f for f in report.files if f.path == "data/juki-jumin.csv")
    assert "fk-not-checked" in {s.type for s in jumin.findings}


def test_item_dropped_is_incomplete(run: Path) -> None:
    edit_csv(run / "data" / "juki-jumin.csv", lambda df: df.drop("性別"))
    resign(run)  # the vendor delivered it like this: only the missing item is a finding
    code, report = audit_cli(run)
    jumin = next(f for f in report.files if f.path == "data/juki-jumin.csv")
    [item] = [i for i in jumin.items if i.name == "性別"]
    assert item.status == "missing"
    assert item.required and item.checked == jumin.rows and item.conforming == 0
    assert item.conformance == 0.0
    assert [(s.type, s.severity) for s in jumin.findings if s.item == "性別"][:1] == [("column-missing", "error")]
    assert jumin.rows_conforming == 0  # every record lacks a required value
    assert not {"hash-mismatch", "count-mismatch", "tamper-suspected"} & types(report)
    assert report.businesses[0].verdict == "incomplete"
    assert "column-missing" in report.businesses[0].blocking
    assert code == 1


def test_file_edited_after_manifest_is_a_hash_mismatch(run: Path) -> None:
    # the manifest travels in the package: a difference is reported, not called tampering
    # (that needs a source the municipality holds, see test_audit_vendor)
    path = run / "data" / "juki-ido.csv"
    data = path.read_bytes()
    position = data.index(b"\r\n") + 1 + 1  # a digit of the first data record's 団体コード
    edited = data[:position] + (b"7" if data[position:position + 1] != b"7" else b"8") + data[position + 1:]
    path.write_bytes(edited)
    code, report = audit_cli(run)
    integrity = [f for f in report.findings if f.type in ("hash-mismatch", "count-mismatch", "tamper-suspected")]
    assert [(f.type, f.path, f.detail) for f in integrity] == [("hash-mismatch", "data/juki-ido.csv", "manifest.json")]
    assert report.businesses[0].verdict == "non-conformant"
    ido = next(f for f in report.files if f.path == "data/juki-ido.csv")
    assert [(c.source, c.matches) for c in ido.controls] == [("manifest.json", False)]
    assert "mismatch" in next(e.check for e in report.inventory if e.path == "data/juki-ido.csv")
    assert code == 1
    # a record appended: size and record count differ too
    path.write_bytes(data + data.splitlines(keepends=True)[-1])
    report = audit_package(run)
    found = sorted((f.type, f.detail) for f in report.findings if f.type.endswith("-mismatch"))
    size = len(data + data.splitlines(keepends=True)[-1])
    assert found == sorted([
        ("count-mismatch", f"manifest.json: recorded {len(data)} bytes, found {size}"),
        ("count-mismatch", "manifest.json: recorded 100 records, found 101"),
        ("hash-mismatch", "manifest.json"),
    ])


def test_private_use_character_added_is_counted(run: Path, baseline: AuditReport) -> None:
    def add_gaiji(df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(
            pl.when(pl.int_range(pl.len()) == 4).then(pl.col("住所") + "\ue0ff\ue0ff").otherwise(pl.col("住所")).alias("住所")
        )

    before = baseline
    edit_csv(run / "data" / "juki-setai.csv", add_gaiji)
    resign(run)
    report = audit_package(run)
    [added] = [f for f in report.findings if f.type == "gaiji-unresolved" and f.item == "住所"]
    assert (added.path, added.count, added.rows, added.severity) == ("data/juki-setai.csv", 1, [5], "warning")
    assert added.detail == "2 characters, 1 distinct"
    setai = next(f for f in report.files if f.path == "data/juki-setai.csv")
    item = next(i for i in setai.items if i.name == "住所")
    assert (item.pua_values, item.pua_chars, item.pua_distinct) == (1, 2, 1)
    assert item.conformance == 1.0  # 外字 left is its own category: it does not lower 準拠率
    assert report.passed and report.gaiji_totals()["pua_values"] == before.gaiji_totals()["pua_values"] + 1
    code, strict = audit_cli(run, "--require-gaiji-resolved")
    assert code == 1 and not strict.passed and strict.businesses[0].verdict == "non-conformant"
    assert {f.severity for f in strict.findings if f.type == "gaiji-unresolved"} == {"error"}


def test_characters_outside_the_repertoire(run: Path, tmp_path: Path) -> None:
    package = tmp_path / "plain"
    package.mkdir()
    edit = read_csv(run / "data" / "juki-setai.csv").with_columns(
        pl.when(pl.int_range(pl.len()) < 2).then(pl.lit("𠮷野")).when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("髙橋")).otherwise(pl.col("方書")).alias("方書")
    )
    write_csv(edit, package / "juki-setai.csv")
    outside = {
        repertoire: [
            (f.item, f.count, f.rows) for f in audit_package(package, AuditOptions(repertoire=repertoire)).findings
            if f.type == "gaiji-outside-repertoire"
        ]
        for repertoire in ("jisx0213", "cp932", "jisx0213+cp932")
    }
    # 𠮷 is in neither; 髙 is CP932 (IBM extension) but not JIS X 0213
    assert outside == {
        "jisx0213": [("方書", 3, [1, 2, 3])],
        "cp932": [("方書", 2, [1, 2])],
        "jisx0213+cp932": [("方書", 2, [1, 2])],
    }


def test_validation_errors_lower_the_conformance_exactly(run: Path, tmp_path: Path) -> None:
    def break_dates(df: pl.DataFrame) -> pl.DataFrame:
        index = pl.int_range(pl.len())
        return df.with_columns(
            pl.when(index.is_in([0, 1])).then(pl.lit("20230231")).otherwise(pl.col("生年月日")).alias("生年月日"),
            pl.when(index == 1).then(pl.lit("X")).otherwise(pl.col("性別")).alias("性別"),
        )

    package = tmp_path / "plain"
    package.mkdir()
    write_csv(break_dates(read_csv(run / "data" / "juki-jumin.csv")), package / "juki-jumin.csv")
    report = audit_package(package, AuditOptions(businesses=("住民基本台帳",)))
    jumin = next(f for f in report.files if f.path == "juki-jumin.csv")
    items = {i.name: i for i in jumin.items}
    assert (items["生年月日"].checked, items["生年月日"].conforming) == (jumin.rows, jumin.rows - 2)
    assert (items["性別"].checked, items["性別"].conforming) == (jumin.rows, jumin.rows - 1)
    assert jumin.rows_conforming == jumin.rows - 2  # two records, three bad values
    summary = {s.type: (s.count, s.rows) for s in jumin.findings}
    assert summary["date-invalid"] == (2, [1, 2]) and summary["code-unknown"] == (1, [2])
    # optional items count only their non-empty values
    assert items["方書"].checked == read_csv(run / "data" / "juki-jumin.csv").get_column("方書").drop_nulls().len()
    # the other layouts are missing here: incomplete wins over non-conformant
    assert report.businesses[0].verdict == "incomplete"
    assert {"date-invalid", "code-unknown", "file-missing"} <= set(report.businesses[0].blocking)


def test_plain_package_with_control_file_and_map(run: Path, tmp_path: Path) -> None:
    package = tmp_path / "plain"
    package.mkdir()
    shutil.copy(run / "data" / "juki-setai.parquet", package / "juki-setai.parquet")
    shutil.copy(run / "data" / "juki-jumin.csv", package / "JUMIN_20260401.csv")
    (package / "README.txt").write_text("delivery note\n", encoding="utf-8")
    jumin_rows = read_csv(package / "JUMIN_20260401.csv").height
    (package / "control.csv").write_text(
        f"file,rows,bytes\njuki-setai.parquet,87,\nJUMIN_20260401.csv,{jumin_rows + 1},\njuki-ido.csv,100,\n",
        encoding="utf-8",
    )
    report = audit_package(package, AuditOptions(mappings=(("JUMIN_*.csv", "juki-jumin"),)))
    found = {(f.type, f.path or f.layout) for f in report.findings}
    assert ("file-missing", "juki-ido") in found
    assert ("listed-file-missing", "juki-ido.csv") in found
    assert ("count-mismatch", "JUMIN_20260401.csv") in found
    assert ("file-unexpected", "README.txt") in found
    assert {f.path: f.layout for f in report.files} == {"JUMIN_20260401.csv": "juki-jumin", "juki-setai.parquet": "juki-setai"}
    # without a manifest the extension item is an undeclared column: a warning
    jumin = next(f for f in report.files if f.layout == "juki-jumin")
    assert [i.name for i in jumin.items if i.status == "extra"] == ["旧宛名番号"]
    assert report.businesses[0].verdict == "incomplete"
    # a --map pattern that matches nothing is said, not silently ignored
    report = audit_package(package, AuditOptions(mappings=(("NOPE*.csv", "juki-ido"),)))
    assert "map-unmatched" in types(report)


def test_control_file_format_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "control.csv"
    for text, rule in [
        ("name,rows\nx.csv,1\n", "no header row naming a file column"),
        ("file,rows\nx.csv,-1\n", "rows must be a non-negative integer"),
        ("file,rows,sha256\nx.csv,1,abc\n", "sha256 must be 64 hex digits"),
        ("file,rows\n../x.csv,1\n", "leaves the package"),
        ("file,rows\nx.csv,1\nx.csv,2\n", "listed twice"),
    ]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=re.escape(rule)):
            parse_control(path)
    path.write_text("\ufefffile,rows,sha256,bytes\r\na/b.csv,3,,10\r\n", encoding="utf-8")
    [expected] = parse_control(path)
    assert (expected.path, expected.rows, expected.bytes, expected.sha256) == ("a/b.csv", 3, 10, None)


def test_broken_control_sources_are_findings(run: Path) -> None:
    (run / "manifest.json").write_text("{not json", encoding="utf-8")
    (run / "control.csv").write_text("what,ever\n", encoding="utf-8")
    report = audit_package(run)
    invalid = sorted(f.path for f in report.findings if f.type == "control-invalid")
    assert invalid == ["control.csv", "manifest.json"]
    assert not report.passed and len(report.files) == 6  # the data is still audited


def test_wrong_encoding_is_a_finding_and_the_audit_continues(run: Path) -> None:
    path = run / "data" / "juki-ido.csv"
    data = path.read_bytes()
    lines = data.split(b"\r\n")
    lines[3] = lines[3] + "東京".encode("cp932")  # CP932 bytes inside a UTF-8 file
    path.write_bytes(b"\r\n".join(lines))
    report = audit_package(run)
    [unreadable] = [f for f in report.findings if f.type == "file-unreadable"]
    assert unreadable.path == "data/juki-ido.csv" and "not valid utf-8" in unreadable.detail
    assert "line 4" in unreadable.detail and str(run) not in unreadable.message
    assert {f.path for f in report.files if not f.read_error} >= {"data/juki-jumin.csv", "data/juki-ido.parquet"}
    assert report.businesses[0].verdict == "non-conformant"


def test_headerless_file_does_not_leak_its_first_record(run: Path, tmp_path: Path) -> None:
    package = tmp_path / "headerless"
    package.mkdir()
    frame = read_csv(run / "data" / "juki-setai.csv")
    # all columns: the first record repeats a value, so the "header" names a column twice
    frame.write_csv(package / "juki-setai.csv", include_header=False)
    # five columns with distinct values: the "header" is read, its names are data
    some = frame.select("団体コード", "世帯番号", "世帯主氏名", "住所", "世帯となった年月日")
    some.write_csv(package / "juki-jumin.csv", include_header=False)
    values = [v for v in frame.row(0) + frame.row(1) if v and len(v) > 2]
    report = audit_package(package)
    by_layout = {f.layout: f for f in report.files}
    assert by_layout["juki-setai"].read_error == "header names a column twice (names withheld) (line 1)"
    assert by_layout["juki-jumin"].columns_withheld == 5
    assert not [i for i in by_layout["juki-jumin"].items if i.status == "extra"]
    page = render_audit_html(report.to_dict()) + report.to_json()
    assert [v for v in values if v in page] == []


def test_reports_hold_no_values(demo: tuple[DemoExport, Path], baseline: AuditReport) -> None:
    run, report = demo[1], baseline
    text = report.to_json() + render_audit_html(report.to_dict())
    values = (
        values_of(run, "juki-jumin", "氏名") + values_of(run, "juki-jumin", "個人番号")
        + values_of(run, "juki-setai", "住所")
    )
    assert values and [v for v in values if v in text] == []


def test_json_round_trip_and_determinism(demo: tuple[DemoExport, Path], baseline: AuditReport) -> None:
    run = demo[1]
    first, second = baseline, audit_package(run)
    assert AuditReport.from_dict(json.loads(first.to_json())) == first
    second.created_at = first.created_at
    assert first.to_json() == second.to_json()
    assert render_audit_html(first.to_dict()) == render_audit_html(second.to_dict())
    result = cli(str(run), "--json")
    data = json.loads(result.output)
    assert data["verdict"] == "pass" and data["kind"] == "audit"
    assert data["files"][0]["conformance"] == 1.0


def test_business_selection_and_usage_errors(demo: tuple[DemoExport, Path]) -> None:
    run = demo[1]
    report = audit_package(run, AuditOptions(businesses=("住民基本台帳",)))
    assert [b.business for b in report.businesses] == ["住民基本台帳"]
    for args, pattern in [
        (["--business", "税"], "unknown 業務 '税'"),
        (["--map", "x.csv=nope"], "unknown layout 'nope'"),
        (["--map", "x.csv"], "expected FILE=LAYOUT"),
    ]:
        result = cli(str(run), *args)
        assert result.exit_code == 2 and pattern in result.stderr
    result = cli(str(run.parent / "absent"))
    assert result.exit_code == 3 and "no such file or directory" in result.stderr


def test_every_audit_finding_type_has_a_renderable_template() -> None:
    from mig.audit.findings import render

    for code in AUDIT_FINDING_TYPES:
        text = render(code, path="p", layout="l", item="i", detail="d", count=1, repertoire="r")
        assert "{" not in text and text
