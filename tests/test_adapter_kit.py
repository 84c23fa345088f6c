"""The plugin kit: ``mig adapters new`` (a project that installs and passes its own tests),
``mig adapters check`` and ``mig.testing`` (built-in adapters pass, broken ones are named)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mig.cli import main
from mig.scaffold import new_adapter
from mig.testing import CHECKS, AdapterConformance

DATA = Path(__file__).parent / "data"
COPYBOOK_OPTIONS = {
    "copybook": "data/mainframe/JUKI.cpy", "charset": "jef-ebcdik", "lrecl": 300,
    "record_selector": "REC-KBN", "record_types": {"1": "SETAI-REC", "2": "JUMIN-REC"},
}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# -- the built-in adapters pass, through the base class and through the command --------------


class TestCsvConformance(AdapterConformance):
    adapter = "csv"
    samples = ["data/csv/JUMIN.csv"]


class TestCopybookConformance(AdapterConformance):
    adapter = "copybook"
    samples = ["data/mainframe/JUKI.DAT"]
    options = {**COPYBOOK_OPTIONS, "record": "JUMIN-REC"}


def test_check_passes_the_builtin_csv_adapter() -> None:
    result = run("adapters", "check", "csv", str(DATA / "csv" / "JUMIN.csv"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and [c["check"] for c in report["checks"]] == list(CHECKS)


def test_check_passes_the_builtin_copybook_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA / "mainframe")  # relative paths in options: from the current folder
    result = run(
        "adapters", "check", "copybook", "JUKI.DAT", "--option", "copybook=JUKI.cpy",
        "--option", "charset=jef-ebcdik", "--option", "lrecl=300", "--option", "record_selector=REC-KBN",
        "--option", 'record_types={"1" = "SETAI-REC", "2" = "JUMIN-REC"}', "--option", "record=SETAI-REC",
    )
    assert result.exit_code == 0, result.output
    assert "all 7 checks passed" in result.stdout


def test_check_refuses_a_malformed_option_in_one_line() -> None:
    result = run("adapters", "check", "csv", str(DATA / "csv" / "JUMIN.csv"), "--option", "header")
    assert result.exit_code == 2
    assert result.stderr.strip() == "mig: error: --option 'header': expected KEY=VALUE"


def test_check_reports_an_option_the_adapter_refuses_as_a_failed_sample() -> None:
    result = run("adapters", "check", "csv", str(DATA / "csv" / "JUMIN.csv"), "--option", "header=7", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["failed"] == ["conservation"]
    assert report["checks"][0]["problems"] == ["JUMIN.csv: cannot be read: ConfigError"]


# -- broken adapters are caught, each by the check it breaks -------------------------------

BROKEN = '''
"""Deliberately broken variants of the scaffold's adapter, for the conformance kit's tests."""
import polars as pl
from mig.plugin import SourceBatch
from mig_kitdemo.adapter import KitdemoAdapter, Reader


class _Changed(Reader):
    def batches(self):
        for batch in super().batches():
            yield self.change(batch)


class SkipsBlankReader(_Changed):
    def change(self, b):
        return SourceBatch(b.data, b.records, b.rejects.filter(pl.col("raw").bin.size() > 1))


class EmptyRawReader(_Changed):
    def change(self, b):
        return SourceBatch(b.data, b.records, b.rejects.with_columns(raw=pl.lit(b"", dtype=pl.Binary)))


class RowsPerBatchReader(Reader):
    def batches(self):
        for offset, block in self._blocks():
            yield self._batch(block, offset, 0)


class CrashesOnEmptyReader(Reader):
    def batches(self):
        with self.path.open("rb") as handle:
            first = handle.read(1)[0]  # an IndexError on an empty file
        yield from super().batches()


def _adapter(reader, slurp=False):
    class Broken(KitdemoAdapter):
        def open(self, path, options, *, batch_bytes):
            opened = super().open(path, options, batch_bytes=batch_bytes)
            opened.__class__ = reader
            if slurp:
                opened.batch_bytes = max(path.stat().st_size, 1)  # the whole file at once
            return opened
    return Broken


SkipsBlank = _adapter(SkipsBlankReader)
EmptyRaw = _adapter(EmptyRawReader)
RowsPerBatch = _adapter(RowsPerBatchReader)
CrashesOnEmpty = _adapter(CrashesOnEmptyReader)
Slurps = _adapter(Reader, slurp=True)
'''
BROKEN_NAMES = {
    "kit_skips_blank": "SkipsBlank", "kit_empty_raw": "EmptyRaw", "kit_rows_per_batch": "RowsPerBatch",
    "kit_crashes": "CrashesOnEmpty", "kit_slurps": "Slurps",
}


@pytest.fixture(scope="module")
def kitdemo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project written by the scaffold, with broken variants registered as real entry points."""
    root = tmp_path_factory.mktemp("kit")
    project = new_adapter("kitdemo", root / "mig-kitdemo")
    site = root / "site"
    (site / "mig_kit_broken-0.1.dist-info").mkdir(parents=True)
    (site / "mig_kit_broken.py").write_text(BROKEN, encoding="utf-8")
    (site / "mig_kit_broken-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mig-kit-broken\nVersion: 0.1\n", encoding="utf-8"
    )
    (site / "mig_kit_broken-0.1.dist-info" / "entry_points.txt").write_text(
        "[mig.adapters]\n" + "".join(f"{n} = mig_kit_broken:{c}\n" for n, c in BROKEN_NAMES.items()),
        encoding="utf-8",
    )
    sample = project / "tests" / "data" / "sample.txt"
    lines = sample.read_bytes().splitlines(keepends=True)
    (root / "blank.txt").write_bytes(b"".join([*lines[:2], b"\n", *lines[2:]]))
    return root


@pytest.fixture
def broken(kitdemo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(kitdemo / "mig-kitdemo" / "src"))
    monkeypatch.syspath_prepend(str(kitdemo / "site"))
    return kitdemo / "blank.txt"


@pytest.mark.parametrize(("name", "failed", "problem"), [
    # the run-time plugin contract (mig.extract.contract) stops these at the first read
    ("kit_skips_blank", ["conservation"], "blank.txt: cannot be read: unexpected contract violation: adapter kitdemo (not installed, version 0.1.0) broke the plugin contract: blank.txt: records and rejects cover 195 byte(s) and the reader declares 0 other byte(s), but the file has 196: bytes were skipped"),
    ("kit_empty_raw", ["conservation"], "blank.txt: cannot be read: unexpected contract violation: adapter kitdemo (not installed, version 0.1.0) broke the plugin contract: blank.txt batch 1: 2 reject(s) with empty raw bytes"),
    ("kit_rows_per_batch", ["batch-sizes", "hostile-inputs", "memory"], "blank.txt: batch size 7: contract violation: adapter kitdemo (not installed, version 0.1.0) broke the plugin contract: blank.txt batch 2: row ids not increasing"),
    ("kit_crashes", ["hostile-inputs"], "blank.txt empty file: unexpected IndexError at mig_kit_broken.py:"),
    ("kit_slurps", ["memory"], "blank.txt: peak memory grows with the input"),
])
def test_check_names_the_check_a_broken_adapter_fails(
    broken: Path, name: str, failed: list[str], problem: str
) -> None:
    result = run("adapters", "check", name, str(broken), "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["failed"] == failed
    problems = [p for c in report["checks"] for p in c["problems"]]
    assert any(p.startswith(problem) for p in problems), problems
    text = run("adapters", "check", name, str(broken))
    assert text.exit_code == 1
    assert text.stderr.strip() == f"mig: adapter {name}: failed check(s): {', '.join(failed)}"
    assert "Traceback" not in text.output


def test_the_unbroken_scaffold_adapter_passes_on_the_same_sample(broken: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (broken.parent / "site" / "mig_kit_ok-0.1.dist-info").mkdir(exist_ok=True)
    (broken.parent / "site" / "mig_kit_ok-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mig-kit-ok\nVersion: 0.1\n", encoding="utf-8"
    )
    (broken.parent / "site" / "mig_kit_ok-0.1.dist-info" / "entry_points.txt").write_text(
        "[mig.adapters]\nkitdemo = mig_kitdemo.adapter:KitdemoAdapter\n", encoding="utf-8"
    )
    result = run("adapters", "check", "kitdemo", str(broken))
    assert result.exit_code == 0, result.output


# -- the scaffold -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Vendor", "1vendor", "my-vendor", "a__b", "vendor_", "class", "x" * 41, "csv"])
def test_new_refuses_a_bad_or_taken_name(name: str, tmp_path: Path) -> None:
    result = run("adapters", "new", name, "--out", str(tmp_path / "p"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"mig: error: adapter name {name!r}")
    assert not (tmp_path / "p").exists()


def test_new_never_writes_into_an_existing_folder(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "mine.txt").write_text("keep", encoding="utf-8")
    result = run("adapters", "new", "vendor", "--out", str(tmp_path / "p"))
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert [p.name for p in (tmp_path / "p").iterdir()] == ["mine.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("adapters", "new", "vendor", "--out", str(empty)).exit_code == 2
    assert list(empty.iterdir()) == []


def test_new_refuses_a_missing_parent_folder(tmp_path: Path) -> None:
    result = run("adapters", "new", "vendor", "--out", str(tmp_path / "no" / "p"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"mig: error: {tmp_path / 'no'}: no such folder"
    assert not (tmp_path / "no").exists()


def test_new_is_deterministic(tmp_path: Path) -> None:
    a = new_adapter("vendor", tmp_path / "a")
    b = new_adapter("vendor", tmp_path / "b")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    assert Path("src/mig_vendor/adapter.py") in files and Path("tests/data/sample.txt") in files
    assert not any("__" in str(f).replace("__init__", "") for f in files)


def test_scaffolded_plugin_installs_passes_its_tests_and_is_listed(tmp_path: Path) -> None:
    """The whole path of a plugin author, in a throwaway venv that sees this mig."""
    result = run("adapters", "new", "fixed_text", "--out", str(tmp_path / "mig-fixed-text"))
    assert result.exit_code == 0, result.output
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # this environment's packages (mig, polars, pytest) are visible in the throwaway one
    here = sysconfig.get_paths()["purelib"]
    Path(purelib, "_mig_parent.pth").write_text(f"import site; site.addsitedir({here!r})\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(tmp_path / "mig-fixed-text")],
        capture_output=True, text=True, env=env,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    tests = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "mig-fixed-text", capture_output=True, text=True, env=env,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "9 passed" in tests.stdout  # 7 conformance checks + the template's own 2
    listed = subprocess.run(
        [str(python), "-m", "mig", "adapters", "list", "--json"], capture_output=True, text=True, env=env,
    )
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["fixed_text"]["description"].startswith("Fixed-width text lines")
    assert "csv" in rows
