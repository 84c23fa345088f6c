"""``mig audit --jobs N``: the package's data files validated in N processes, the report
byte-identical to the serial audit's — on a directory, on a zip, and with findings."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from test_audit_support import copy_run, edit_csv, make_demo_run, zip_dir

from mig.audit import AuditOptions, AuditReport, audit_package, render_audit_html
from mig.cli import main


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo run with findings: one 住民 file edited after its manifest (hash mismatch,
    a Private Use character), so the report has something in every section."""
    _, run = make_demo_run(tmp_path_factory.mktemp("audit-par"), rows=300)
    run = copy_run(run, tmp_path_factory.mktemp("edited") / "run")
    jumin = next(run.glob("**/juki-jumin*.csv"))
    edit_csv(jumin, lambda f: f.with_columns(pl.col(f.columns[5]).str.replace(r"^.", "\ue001")))
    return run


def same_reports(serial: AuditReport, parallel: AuditReport) -> None:
    parallel.created_at = serial.created_at  # the one field a run may change
    assert parallel.to_json() == serial.to_json()
    assert render_audit_html(parallel.to_dict()) == render_audit_html(serial.to_dict())


def test_directory_package_report_is_byte_identical(package: Path) -> None:
    serial = audit_package(package, AuditOptions(jobs=1))
    assert serial.findings and len(serial.files) >= 3
    same_reports(serial, audit_package(package, AuditOptions(jobs=3)))


def test_zip_package_report_is_byte_identical(package: Path, tmp_path: Path) -> None:
    archive = zip_dir(package, tmp_path / "package.zip")
    serial = audit_package(archive, AuditOptions(jobs=1, work_root=tmp_path))
    same_reports(serial, audit_package(archive, AuditOptions(jobs=2, work_root=tmp_path)))
    assert [p.name for p in tmp_path.iterdir()] == ["package.zip"]  # work copies removed


def test_cli_jobs_gives_the_same_html_report(package: Path, tmp_path: Path) -> None:
    outputs = {}
    for jobs in ("1", "2"):
        report = tmp_path / f"r{jobs}.html"
        result = CliRunner().invoke(main, ["audit", str(package), "--jobs", jobs, "--report", str(report), "--quiet"])
        assert result.exit_code == 1, result.output  # the hash mismatch blocks acceptance
        outputs[jobs] = report.read_text("utf-8")
    strip = lambda html: "\n".join(x for x in html.splitlines() if "created" not in x.lower())  # noqa: E731
    assert strip(outputs["2"]) == strip(outputs["1"])


def test_progress_is_reported_per_file_in_parallel(package: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    report = audit_package(package, AuditOptions(jobs=2, progress=lambda p, d, t: calls.append((p, d, t))))
    finished = {p for p, done, total in calls if done == total}
    assert finished == {f.path for f in report.files}
