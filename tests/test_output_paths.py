"""Output files the user names (``validate --report``, ``audit --report``, ``gaiji review
--out``) are checked before any work (:func:`mig.fs.check_output_file`): a directory, a
missing directory or one of the command's own inputs is one line and exit 2, never a
traceback and never an overwritten input."""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_audit_support import make_demo_run

from mig.cli import main
from mig.errors import ConfigError, ExitCode
from mig.fs import check_output_file


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_run(tmp_path_factory.mktemp("outputs"), rows=60)[1]


@pytest.fixture
def run(demo_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(demo_run, tmp_path / "run"))


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def refused(result: Result, *words: str) -> str:
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mig: error: "), result.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


def mig(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_validate_report_must_be_a_writable_file_and_not_an_input(run: Path, tmp_path: Path) -> None:
    setai, jumin = run / "data" / "juki-setai.csv", run / "data" / "juki-jumin.csv"
    before = digests(run)
    refused(mig("validate", setai, "-l", "juki-setai", "--report", tmp_path), "--report", "is a directory")
    refused(mig("validate", setai, "-l", "juki-setai", "--report", tmp_path / "missing" / "x.html"),
            "--report", "does not exist")
    refused(mig("validate", setai, "-l", "juki-setai", "--report", setai), "is also an input")
    os.link(setai, tmp_path / "same.csv")  # the same file under another name
    refused(mig("validate", setai, "-l", "juki-setai", "--report", tmp_path / "same.csv"), "is also an input")
    (tmp_path / "sym.html").symlink_to(setai)
    refused(mig("validate", setai, "-l", "juki-setai", "--report", tmp_path / "sym.html"), "is also an input")
    # the file of a referenced layout is an input too
    refused(mig("validate", jumin, "-l", "juki-jumin", "--ref", f"juki-setai={setai}", "--report", setai),
            "is also an input")
    assert digests(run) == before
    ok = mig("validate", setai, "-l", "juki-setai", "--report", tmp_path / "report.html")
    assert ok.exit_code == ExitCode.CLEAN, ok.output
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_audit_report_may_not_overwrite_the_package_or_a_file_in_it(run: Path, tmp_path: Path) -> None:
    before = digests(run)
    for inside in ("manifest.json", "data/juki-setai.csv", "report.html"):
        refused(mig("audit", run, "--report", run / inside), "--report", "is also an input")
    refused(mig("audit", run, "--report", run / "data"), "is a directory")
    refused(mig("audit", run, "--report", tmp_path / "nowhere" / "a.html"), "does not exist")
    assert digests(run) == before
    package = tmp_path / "handover.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.write(run / "data" / "juki-setai.csv", "juki-setai.csv")
    zipped = package.read_bytes()
    refused(mig("audit", package, "--report", package), "is also an input")
    assert package.read_bytes() == zipped
    ok = mig("audit", run, "--report", run / "audit.html")  # a new file beside the package's files
    assert ok.exit_code in (ExitCode.CLEAN, ExitCode.FINDINGS) and (run / "audit.html").is_file()


def test_gaiji_review_out_is_checked_before_the_work(run: Path, tmp_path: Path) -> None:
    before = digests(run)
    refused(mig("gaiji", "review", run, "--out", tmp_path), "--out", "is a directory")
    refused(mig("gaiji", "review", run, "--out", tmp_path / "missing" / "sheet.html"), "does not exist")
    refused(mig("gaiji", "review", run, "--out", run / "data" / "juki-setai.parquet"), "is also an input")
    refused(mig("gaiji", "review", run, "--out", run / "manifest.json"), "is also an input")
    refused(mig("gaiji", "review", run, "--out", tmp_path / "sheet.csv"), ".html")
    hints = tmp_path / "hints.csv"
    hints.write_text("code,radical,strokes\n", encoding="utf-8")
    # the template goes beside the sheet as .csv: it may not be the hints file either
    refused(mig("gaiji", "review", run, "--hints", hints, "--out", tmp_path / "hints.html"), "is also an input")
    assert hints.read_text(encoding="utf-8") == "code,radical,strokes\n"
    assert digests(run) == before


def test_check_output_file_accepts_a_new_file(tmp_path: Path) -> None:
    check_output_file(tmp_path / "new.html", inputs=[tmp_path / "in.csv", tmp_path])
    (tmp_path / "in.csv").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="is also an input"):
        check_output_file(tmp_path / "in.csv", inputs=[tmp_path / "in.csv"])
    with pytest.raises(ConfigError, match="is also an input"):  # an existing file inside an input folder
        check_output_file(tmp_path / "in.csv", inputs=[tmp_path])
