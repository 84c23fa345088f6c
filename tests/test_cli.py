"""The `mig` command: exit codes, one-line errors, --json, on real files and a real SQLite database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mig.cli import main
from mig.demo.generator import generate_legacy_export
from mig.validation.report import Report


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def one_line_error(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mig: error: ")
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return generate_legacy_export(tmp_path_factory.mktemp("legacy"), rows=300, seed=3)


@pytest.fixture(scope="module")
def run_dir(export, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("cli") / "run"
    result = run("extract", "--mapping", str(export.mapping), "--out", str(out), "--quiet",
                 str(export.setai_csv), str(export.jumin_csv), str(export.ido_csv))
    assert result.exit_code == 1  # the deliberately broken rows are findings
    return out


def test_layouts_list_and_show() -> None:
    listed = run("layouts", "list", "--json")
    assert listed.exit_code == 0
    assert [x["id"] for x in json.loads(listed.stdout)][:3] == ["juki-ido", "juki-jumin", "juki-setai"]
    shown = run("layouts", "show", "juki-jumin", "--json")
    assert shown.exit_code == 0
    layout = json.loads(shown.stdout)
    assert layout["foreign_keys"] == [{"item": "世帯番号", "layout": "juki-setai", "target_item": "世帯番号"}]
    assert "性別" in layout["codes"]
    text = run("layouts", "show", "juki-setai")
    assert "世帯番号" in text.stdout


def test_unknown_layout_lists_what_exists() -> None:
    result = run("layouts", "show", "juki-nope")
    assert result.exit_code == 2
    assert "known: juki-ido, juki-jumin, juki-setai, " in one_line_error(result)


def test_adapters_list() -> None:
    result = run("adapters", "list")
    assert result.exit_code == 0 and "\ncsv " in "\n" + result.stdout and "\ncopybook " in "\n" + result.stdout


def test_extract_json_and_counts(run_dir: Path, export) -> None:  # type: ignore[no-untyped-def]
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    totals = manifest["totals"]
    assert totals["rows_in"] == totals["rows_out"] + totals["rows_rejected"]
    assert totals["rows_rejected"] >= export.broken_total


def test_extract_refuses_existing_run(run_dir: Path, export) -> None:  # type: ignore[no-untyped-def]
    result = run("extract", "-m", str(export.mapping), "-o", str(run_dir), str(export.setai_csv))
    assert result.exit_code == 2
    assert "already holds a run; use --force" in one_line_error(result)


def test_wrong_encoding_is_exit_3_with_line(export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("extract", "-m", str(export.mapping), "-o", str(tmp_path / "r"), "--encoding", "utf-8",
                 str(export.setai_csv))
    assert result.exit_code == 3
    line = one_line_error(result)
    assert "SETAI.csv (line 2, byte" in line and "not valid utf-8" in line
    assert not (tmp_path / "r").exists()


def test_missing_input_is_exit_3(export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("extract", "-m", str(export.mapping), "-o", str(tmp_path / "r"), str(tmp_path / "NOPE.csv"))
    assert result.exit_code == 3
    assert "NOPE.csv: no such file" in one_line_error(result)


def test_validate_intermediate_files(run_dir: Path) -> None:
    setai = run_dir / "data" / "juki-setai.csv"
    clean = run("validate", str(run_dir / "data" / "juki-jumin.parquet"), "--layout", "juki-jumin",
                "--ref", f"juki-setai={setai}", "--json")
    assert clean.exit_code == 0, clean.stdout
    report = Report.from_dict(json.loads(clean.stdout))
    assert Report.from_dict(report.to_dict()) == report
    assert not [f for f in report.files[0].findings if f.severity == "error"]


def test_validate_finds_edited_values(run_dir: Path, tmp_path: Path) -> None:
    lines = (run_dir / "data" / "juki-setai.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    date_at = header.index("世帯となった年月日")
    fields = lines[1].split(",")
    fields[date_at] = "20230230"
    edited = tmp_path / "setai.csv"
    edited.write_text("\n".join([lines[0], ",".join(fields)] + lines[2:]) + "\n", encoding="utf-8")
    html = tmp_path / "report.html"
    result = run("validate", str(edited), "--layout", "juki-setai", "--report", str(html))
    assert result.exit_code == 1
    assert "date-invalid" in result.stdout and "世帯となった年月日" in result.stdout
    assert "20230230" not in result.stdout  # no values unless --show-values
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    shown = run("validate", str(edited), "--layout", "juki-setai", "--show-values", "--json")
    assert "20230230" in shown.stdout


def test_load_sqlite_and_refuse_twice(run_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    result = run("load", str(run_dir), "--target", f"sqlite:///{db}", "--json")
    assert result.exit_code == 0, result.output
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    with sqlite3.connect(db) as con:
        for entry in manifest["files"]:
            table = entry["layout"].replace("-", "_")
            assert con.execute(f"select count(*) from {table}").fetchone()[0] == entry["rows_out"]
    again = run("load", str(run_dir), "--target", f"sqlite:///{db}")
    assert again.exit_code == 2
    one_line_error(again)


def test_load_unknown_target(run_dir: Path) -> None:
    result = run("load", str(run_dir), "--target", "oracle://x")
    assert result.exit_code == 2
    line = one_line_error(result)
    assert "known:" in line and "sqlite" in line and "postgresql" in line and "duckdb" in line


def test_demo_twice(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    first = run("demo", "--out", str(out), "--rows", "200", "--json")
    assert first.exit_code == 0
    summary = json.loads(first.stdout)
    assert summary["totals"]["rows_rejected"] > 0
    assert set(summary["rejection_reasons"]) >= {"ragged-row", "checkdigit", "wareki-out-of-era"}
    refused = run("demo", "--out", str(out), "--rows", "200")
    assert refused.exit_code == 2
    one_line_error(refused)
    assert run("demo", "--out", str(out), "--rows", "200", "--force").exit_code == 0


def test_installed_console_script_reports_user_errors_without_traceback(tmp_path: Path) -> None:
    mig = Path(sys.executable).with_name("mig")
    command = [str(mig)] if mig.exists() else [sys.executable, "-m", "mig"]
    done = subprocess.run(command + ["layouts", "show", "nope"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("mig: error: unknown layout 'nope'")
    assert "Traceback" not in done.stderr
