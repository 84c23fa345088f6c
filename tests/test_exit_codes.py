"""``mig extract`` and ``mig validate`` map a report to an exit code the same way
(:attr:`mig.validation.report.Report.exit_code`, the README's "Exit codes"): 1 for a rejected
record or an error finding, 0 for warnings only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mig.cli import main
from mig.demo.generator import DemoExport, generate_legacy_export
from mig.errors import ExitCode

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> DemoExport:
    return generate_legacy_export(tmp_path_factory.mktemp("exit-codes"), rows=200, seed=5)


def severities(report: dict) -> tuple[int, set[str]]:  # type: ignore[type-arg]
    return (
        sum(f["rows_rejected"] for f in report["files"]),
        {x["severity"] for f in report["files"] for x in f["findings"]},
    )


def test_warnings_only_exit_0_for_extract_and_validate(export: DemoExport, tmp_path: Path) -> None:
    # the demo's 世帯 file: no broken record, but unresolved 外字 (a warning)
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["extract", str(export.setai_csv), "-m", str(export.mapping),
                                       "-o", str(out), "--quiet", "--json"])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert severities(report) == (0, {"warning"})
    assert result.exit_code == ExitCode.CLEAN, result.output
    result = CliRunner().invoke(main, ["validate", str(out / "data" / "juki-setai.csv"), "-l", "juki-setai", "--json"])
    assert severities(json.loads(result.stdout)) == (0, {"warning"})
    assert result.exit_code == ExitCode.CLEAN, result.output


def test_errors_exit_1_for_extract_and_validate(export: DemoExport, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["extract", str(export.setai_csv), str(export.jumin_csv),
                                       "-m", str(export.mapping), "-o", str(out), "--quiet"])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    rejected, kinds = severities(report)
    assert rejected > 0 and "error" in kinds
    assert result.exit_code == ExitCode.FINDINGS
    csv = out / "data" / "juki-jumin.csv"  # accepted rows only, but their references are unchecked …
    lines = csv.read_text(encoding="utf-8").splitlines()
    broken = tmp_path / "juki-jumin.csv"  # … and one row loses a required value
    header = lines[0].split(",")
    fields = lines[1].split(",")
    fields[header.index("氏名")] = ""
    broken.write_text("\r\n".join([lines[0], ",".join(fields), *lines[2:]]) + "\r\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(broken), "-l", "juki-jumin", "--json"])
    assert "error" in severities(json.loads(result.stdout))[1]
    assert result.exit_code == ExitCode.FINDINGS


def test_readme_says_what_warnings_do() -> None:
    assert "findings of severity `warning` only" in README and "Report.exit_code" in README
    assert "警告だけなら 0" in README
