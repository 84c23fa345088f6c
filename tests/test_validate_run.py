"""``mig validate RUN_DIR``: a run directory's data files against the layouts its manifest
names, foreign keys against the other files of the same run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from mig.cli import main
from mig.demo.generator import generate_legacy_export
from mig.extract.run import extract
from mig.run.manifest import load_manifest


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("validate-run")
    export = generate_legacy_export(base / "legacy", rows=120, seed=0)
    extract(export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], base / "run")
    return base / "run"


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / "run"))


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_fresh_run_validates_clean_file_by_file(run_dir: Path) -> None:
    code, out, _ = _invoke("validate", str(run_dir), "--json")
    assert code == 0  # the accepted rows hold only warnings (unresolved 外字)
    report = json.loads(out)
    manifest = load_manifest(run_dir)
    assert [f["layout"] for f in report["files"]] == [f.layout for f in manifest.files]
    assert [f["rows_in"] for f in report["files"]] == [f.rows_out for f in manifest.files]
    assert all(f["rows_rejected"] == 0 for f in report["files"])
    # the run's extension item (行政区コード) is part of the layout, not an extra column
    assert not any(x["type"] == "column-extra" for f in report["files"] for x in f["findings"])


def test_a_broken_value_and_a_missing_parent_are_found(run_dir: Path, tmp_path: Path) -> None:
    run = _copy(run_dir, tmp_path)
    jumin = run / "data" / "juki-jumin.parquet"
    frame = pl.read_parquet(jumin)
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("20231341"))
                               .otherwise(pl.col("生年月日")).alias("生年月日"))
    frame.write_parquet(jumin)
    setai = run / "data" / "juki-setai.parquet"
    parents = pl.read_parquet(setai)
    orphaned = parents["世帯番号"][0]
    parents.slice(1).write_parquet(setai)
    code, out, _ = _invoke("validate", str(run), "--json")
    assert code == 1
    files = {f["layout"]: f for f in json.loads(out)["files"]}
    types = {x["type"]: x for x in files["juki-jumin"]["findings"]}
    assert "date-invalid" in types and types["date-invalid"]["rows"][0] == 1
    expected_orphans = int((frame["世帯番号"] == orphaned).sum())
    assert types["fk-missing"]["count"] == expected_orphans > 0


def test_the_report_follows_the_language(run_dir: Path) -> None:
    code, out, _ = _invoke("--lang", "ja", "validate", str(run_dir))
    assert code == 0
    assert "juki-setai.parquet: " in out and " 行、うちエラー 0 行" in out
    _, en, _ = _invoke("--lang", "en", "validate", str(run_dir))
    assert "juki-setai.parquet: " in en and " rows, 0 with errors" in en


def test_a_folder_that_is_not_a_run_and_mixed_arguments_are_refused(run_dir: Path, tmp_path: Path) -> None:
    code, _, err = _invoke("validate", str(tmp_path))
    assert code == 3 and err.startswith("mig: error: ") and "manifest not found" in err
    code, _, err = _invoke("validate", str(run_dir), "--layout", "juki-jumin")
    assert code == 2 and "give a run directory alone" in err
    code, _, err = _invoke("validate", str(run_dir / "data" / "juki-setai.csv"))
    assert code == 2 and "--layout is required" in err
    assert len(err.strip().splitlines()) == 1
