"""Trying a mapping and reading what extract says: ``--limit`` (a partial run load refuses),
a required item left unmapped, the summary shared with ``mig demo``, ``--json``, and the
spreadsheet CSVs of ``--excel`` (BOM, formulas neutralised, rejects only with values)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mig.cli import main
from mig.demo.generator import DemoExport, generate_legacy_export
from mig.extract.run import extract
from mig.run.spreadsheet import BOM


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> DemoExport:
    return generate_legacy_export(tmp_path_factory.mktemp("legacy"), rows=300, seed=5)


def inputs(export: DemoExport) -> list[str]:
    return [str(export.setai_csv), str(export.jumin_csv), str(export.ido_csv)]


def test_limit_reads_the_first_records_and_marks_the_run_partial(export: DemoExport, tmp_path: Path) -> None:
    out = tmp_path / "trial"
    result = run("extract", "-m", str(export.mapping), "-o", str(out), "--limit", "7", "-q", *inputs(export))
    assert result.exit_code in (0, 1), result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["partial"] == {"limit": 7}
    assert [f["rows_in"] for f in manifest["files"]] == [7, 7, 7]
    for f in manifest["files"]:
        assert f["rows_in"] == f["rows_out"] + f["rows_rejected"]
    first = pl.read_csv(out / "data" / "juki-setai.csv", infer_schema=False)
    assert first.height == 7
    assert "trial run: only the first 7 records of each input were read" in result.stdout
    # the same trial with tiny batches: byte-identical outputs
    small = tmp_path / "small"
    extract(export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], small, limit=7, batch_bytes=600)
    for name in ("data/juki-jumin.parquet", "data/juki-jumin.csv", "rejects/juki-jumin.jsonl", "findings/juki-jumin.parquet"):
        assert (small / name).read_bytes() == (out / name).read_bytes(), name


def test_limit_keeps_the_rejects_among_the_first_records(export: DemoExport, tmp_path: Path) -> None:
    ragged = min(export.broken_rows["ragged-row"])  # a framing reject: counted among the first N
    result = extract(export.mapping, [export.jumin_csv], tmp_path / "run", limit=ragged, batch_bytes=700)
    jumin = result.run_manifest.file("juki-jumin")
    assert jumin is not None and jumin.rows_in == ragged
    rejects = [json.loads(line) for line in (tmp_path / "run" / "rejects" / "juki-jumin.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rejects[-1]["row"] == ragged and rejects[-1]["reasons"][0]["type"] == "ragged-row"


def test_load_refuses_a_partial_run_unless_allowed(export: DemoExport, tmp_path: Path) -> None:
    out = tmp_path / "trial"
    assert run("extract", "-m", str(export.mapping), "-o", str(out), "--limit", "5", "-q", *inputs(export)).exit_code in (0, 1)
    db = tmp_path / "x.db"
    refused = run("load", str(out), "--target", f"sqlite:///{db}")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        f"mig: error: {out}: a trial run (first 5 records of each input only); refused so that part "
        "of the data is not loaded as if whole (--allow-partial to load it anyway)"
    )
    assert not db.exists()
    allowed = run("load", str(out), "--target", f"sqlite:///{db}", "--allow-partial")
    assert allowed.exit_code == 0, allowed.output
    # nor does an audit pass it as a handover: one blocking finding names the limit
    audited = run("audit", str(out), "--json", "--no-report")
    assert audited.exit_code == 1, audited.output
    partial = [f for f in json.loads(audited.stdout)["findings"] if f["type"] == "run-partial"]
    assert [(f["severity"], f["detail"]) for f in partial] == [("error", "5")]


def test_a_required_item_without_mapping_stops_before_any_row(export: DemoExport, tmp_path: Path) -> None:
    text = export.mapping.read_text(encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    # drop two required items of juki-jumin (宛名番号, 氏名) from the mapping
    cut = re.sub(r'^"(宛名番号|氏名)" = .*\n', "", text, flags=re.MULTILINE)
    assert cut.count("\n") == text.count("\n") - 3  # 宛名番号 in juki-jumin and juki-ido, 氏名
    mapping.write_text(cut, encoding="utf-8")
    out = tmp_path / "run"
    result = run("extract", "-m", str(mapping), "-o", str(out), "-q", *inputs(export))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "mig: error: mapping.toml [[files]] 2 (juki-jumin): required item(s) with no mapping: 宛名番号, 氏名"
    )
    assert not out.exists()
    # a mapping that lowers required-missing keeps such records: it asked for them, so it runs
    mapping.write_text(cut.replace("[severity]\n", '[severity]\n"required-missing" = "warning"\n', 1), encoding="utf-8")
    kept = run("extract", "-m", str(mapping), "-o", str(out), "-q", *inputs(export))
    assert kept.exit_code in (0, 1), kept.stderr
    assert pl.read_parquet(out / "data" / "juki-jumin.parquet")["氏名"].null_count() > 0


def test_extract_prints_the_demo_summary(export: DemoExport, tmp_path: Path) -> None:
    demo = run("demo", "--out", str(tmp_path / "demo"), "--rows", "300", "--seed", "5", "-q")
    assert demo.exit_code == 0, demo.output
    legacy = tmp_path / "demo" / "legacy"
    extracted = run("extract", "-m", str(legacy / "mapping.toml"), "-o", str(tmp_path / "run"), "-q",
                    str(legacy / "SETAI.csv"), str(legacy / "JUMIN.csv"), str(legacy / "IDO.csv"))
    assert extracted.exit_code == 1

    def summary(output: str) -> list[str]:
        lines = output.splitlines()
        start = next(n for n, line in enumerate(lines) if line.startswith("rows_in "))
        return [line for line in lines[start:] if not line.startswith("loaded into:")]

    said = summary(extracted.stdout)
    assert said == summary(demo.stdout)
    assert re.fullmatch(r"rows_in (\d+) = rows_out (\d+) \+ rows_rejected (\d+)  ✓", said[0])
    assert said[1].startswith("rejected because: checkdigit ")
    assert said[2].startswith("外字 (unresolved, kept as Private Use characters): ")


def test_extract_speaks_japanese(export: DemoExport, tmp_path: Path) -> None:
    result = run("--lang", "ja", "extract", "-m", str(export.mapping), "-o", str(tmp_path / "run"), "-q", *inputs(export))
    assert result.exit_code == 1
    assert re.search(r"^入力 \d+ 件 = 出力 \d+ 件 \+ 不合格 \d+ 件  ✓$", result.stdout, re.MULTILINE)
    assert "不合格の理由: " in result.stdout


def test_json_adds_a_findings_summary(export: DemoExport, tmp_path: Path) -> None:
    result = run("extract", "-m", str(export.mapping), "-o", str(tmp_path / "run"), "--json", *inputs(export))
    data = json.loads(result.stdout)
    assert {"run_dir", "manifest", "findings"} <= set(data)
    findings = data["findings"]
    assert findings["rejection_reasons"]["ragged-row"] == len(export.broken_rows["ragged-row"])
    assert findings["by_type"]["gaiji-unresolved"]["warning"] >= 1
    assert findings["total"]["error"] == sum(findings["rejection_reasons"].values())
    assert all(set(g) == {"layout", "item", "code", "count"} for g in findings["gaiji_unresolved"])


SETAI_MAPPING = """
adapter = "csv"
[source]
encoding = "cp932"
[code_maps."事由"]
"110" = "01"
[[files]]
layout = "juki-setai"
inputs = ["*.csv"]
[files.items]
"団体コード" = { const = "131016" }
"世帯番号" = { column = "SETAI_NO" }
"世帯主氏名" = { column = "NAME" }
"住所" = { column = "ADDR" }
"異動事由" = { column = "JIYU", code_map = "事由" }
"世帯となった年月日" = { const = "20200401" }
"""


def sheet(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(BOM)
    assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n")
    return list(csv.reader(io.StringIO(data[len(BOM):].decode("utf-8"), newline="")))


@pytest.fixture()
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(SETAI_MAPPING, encoding="utf-8")
    source = tmp_path / "SETAI.csv"
    rows = [["SETAI_NO", "NAME", "ADDR", "JIYU"],
            ["0000000001", "山田　太郎", "東京都", "110"],
            ["0000000002", "=HYPERLINK(\"x\")", "@SUM(A1)", "=1+2"],
            ["0000000003", "鈴木　花子", "-大阪府", "+9"]]
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    source.write_bytes(text.getvalue().encode("cp932"))
    return mapping, source


def test_excel_sheets_neutralise_formulas(hostile: tuple[Path, Path], tmp_path: Path) -> None:
    mapping, source = hostile
    out = tmp_path / "run"
    result = run("extract", "-m", str(mapping), "-o", str(out), "--excel", "--show-values", "-q", str(source))
    assert result.exit_code == 1, result.output
    findings = sheet(out / "excel" / "juki-setai-findings.csv")
    assert findings[0] == ["row", "item", "type", "severity", "message", "detail", "source value"]
    unmapped = {r[0]: r for r in findings[1:] if r[2] == "code-unmapped"}
    assert unmapped["2"][6] == "'=1+2" and unmapped["3"][6] == "'+9"
    assert unmapped["2"][5] == '事由: "=1+2"'  # a code is named: not personal data
    rejects = sheet(out / "excel" / "juki-setai-rejects.csv")
    header = rejects[0]
    assert header[:6] == ["source file", "row", "line", "byte offset", "reasons", "record (not split into fields)"]
    by_row = {r[1]: dict(zip(header, r, strict=True)) for r in rejects[1:]}
    assert set(by_row) == {"2", "3"}
    assert by_row["2"]["NAME"] == "'=HYPERLINK(\"x\")" and by_row["2"]["ADDR"] == "'@SUM(A1)"
    assert by_row["3"]["ADDR"] == "'-大阪府" and by_row["3"]["JIYU"] == "'+9"
    assert by_row["3"]["reasons"].startswith("異動事由: source code has no entry in the code map")
    # listed in the manifest: the run vouches for them like for its other files
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = [o["path"] for o in manifest["files"][0]["outputs"]]
    assert listed[-2:] == ["excel/juki-setai-findings.csv", "excel/juki-setai-rejects.csv"]
    # the intermediate CSV (the migration format) is untouched: no BOM, no apostrophe
    assert not (out / "data" / "juki-setai.csv").read_bytes().startswith(BOM)


def test_excel_without_values_writes_no_rejects_sheet(hostile: tuple[Path, Path], tmp_path: Path) -> None:
    mapping, source = hostile
    out = tmp_path / "run"
    assert run("--lang", "ja", "extract", "-m", str(mapping), "-o", str(out), "--excel", "-q", str(source)).exit_code == 1
    assert sorted(p.name for p in (out / "excel").iterdir()) == ["juki-setai-findings.csv"]
    findings = sheet(out / "excel" / "juki-setai-findings.csv")
    assert findings[0] == ["行番号", "項目名称", "種別コード", "重大度", "内容", "詳細"]
    body = "\n".join(",".join(r) for r in findings[1:])
    assert "HYPERLINK" not in body and "大阪" not in body
    assert "異動事由: 元のコードがコード変換表にありません（事由: \"=1+2\"）" in body


def test_preview_mapped_shows_items_beside_their_sources(export: DemoExport) -> None:
    ragged = min(export.broken_rows["ragged-row"])
    unknown = min(r for r in export.broken_rows["unknown-code"])
    limit = max(ragged, unknown)
    result = run("preview", "--mapped", "-m", str(export.mapping), "-n", str(limit), str(export.jumin_csv))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{export.jumin_csv} → juki-jumin: adapter csv, charset cp932"
    assert sum(1 for line in lines if line.startswith("record ")) == limit
    with io.StringIO(export.jumin_csv.read_bytes().decode("cp932"), newline="") as text:
        first = next(csv.DictReader(text))
    assert f'  宛名番号 = "{first["KOJIN_NO"]}"  ← KOJIN_NO "{first["KOJIN_NO"]}"' in lines
    assert '  団体コード = "131016"  ← (constant)' in lines
    assert '  個人番号 = "●●●●●●●●●●●●"  ← MYNUMBER "●●●●●●●●●●●●"' in lines
    assert first["MYNUMBER"] not in result.stdout
    assert f"record {ragged}  line {ragged + 1}  REJECT ragged-row (30)" in lines
    assert '  ! error code-unmapped: 性別: source code has no entry in the code map (性別: "X")  ["X"]' in lines
    as_json = json.loads(run("preview", "--mapped", "--json", "-m", str(export.mapping), "-n", "2", str(export.jumin_csv)).stdout)
    assert [r["record"] for r in as_json["records"]] == [1, 2]
    assert {i["name"] for i in as_json["records"][0]["items"]} >= {"宛名番号", "生年月日", "性別"}


def test_preview_mapped_refuses_a_mapping_missing_required_items(export: DemoExport, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(re.sub(r'^"氏名" = .*\n', "", export.mapping.read_text(encoding="utf-8"), flags=re.MULTILINE), encoding="utf-8")
    result = run("preview", "--mapped", "-m", str(mapping), str(export.jumin_csv))
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("required item(s) with no mapping: 氏名")


def test_values_and_sheets_do_not_depend_on_the_batch_size(export: DemoExport, tmp_path: Path) -> None:
    paths = [export.setai_csv, export.jumin_csv, export.ido_csv]
    big = extract(export.mapping, paths, tmp_path / "big", show_values=True, excel=True)
    small = extract(export.mapping, paths, tmp_path / "small", show_values=True, excel=True, batch_bytes=900)
    for layout in ("juki-setai", "juki-jumin", "juki-ido"):
        for name in (f"excel/{layout}-findings.csv", f"excel/{layout}-rejects.csv",
                     f"findings/{layout}.parquet", f"rejects/{layout}.jsonl"):
            assert (big.run_dir / name).read_bytes() == (small.run_dir / name).read_bytes(), name
    assert big.report.to_dict()["files"] == small.report.to_dict()["files"]


def test_progress_names_the_phases(export: DemoExport, tmp_path: Path) -> None:
    seen: list[str] = []
    extract(export.mapping, [export.setai_csv, export.jumin_csv], tmp_path / "run",
            progress=lambda label, done, total: seen.append(label) if not seen or seen[-1] != label else None)
    assert seen == ["juki-setai ← SETAI.csv", "juki-jumin ← JUMIN.csv", "writing reports"]


@pytest.fixture(scope="module")
def full_setai(export: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract(export.mapping, [export.setai_csv], tmp_path_factory.mktemp("full") / "run").run_dir


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(min_value=1, max_value=400), batch=st.integers(min_value=300, max_value=20_000))
def test_a_trial_is_the_head_of_the_full_run(
    export: DemoExport, full_setai: Path, tmp_path_factory: pytest.TempPathFactory, limit: int, batch: int
) -> None:
    out = tmp_path_factory.mktemp("trial") / "run"
    result = extract(export.mapping, [export.setai_csv], out, limit=limit, batch_bytes=batch)
    entry = result.run_manifest.file("juki-setai")
    full = json.loads((full_setai / "manifest.json").read_text(encoding="utf-8"))["files"][0]
    assert entry is not None and entry.rows_in == min(limit, full["rows_in"])
    assert entry.rows_in == entry.rows_out + entry.rows_rejected
    assert result.run_manifest.partial is not None and result.run_manifest.partial.limit == limit
    head = (full_setai / "data" / "juki-setai.csv").read_bytes().split(b"\r\n")
    mine = (out / "data" / "juki-setai.csv").read_bytes().split(b"\r\n")
    assert mine[:-1] == head[: len(mine) - 1]  # the accepted rows are the full run's first ones


def test_the_library_refuses_a_partial_run_too(export: DemoExport, tmp_path: Path) -> None:
    import mig

    run_dir = extract(export.mapping, [export.setai_csv], tmp_path / "run", limit=3).run_dir
    with pytest.raises(mig.ConfigError, match="a trial run"):
        mig.write_bundle(run_dir, tmp_path / "bundle")
    with pytest.raises(mig.ConfigError, match="a trial run"):
        mig.load(run_dir, f"sqlite:///{tmp_path / 'x.db'}")
    assert not (tmp_path / "bundle").exists() and not (tmp_path / "x.db").exists()
    assert mig.write_bundle(run_dir, tmp_path / "bundle", allow_partial=True).exit_code == 0
