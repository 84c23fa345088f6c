"""A loader bundle is loaded by the new vendor with its own tools: run the bundle's psql
script against a real PostgreSQL server and read every value back."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polars as pl
import psycopg
import pytest
from test_gaiji_policy import ivs_run  # noqa: F401  (fixture: demo data, 外字 with IVS)
from test_load_bundle import expected_after_policy

from mig.load import read_manifest
from mig.load.bundle import write_bundle
from mig.load.ddl import columns_for

pytestmark = pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")


def read_back(url: str, entry: dict[str, object]) -> pl.DataFrame:
    """Every column as the text the intermediate file holds (dates as YYYYMMDD)."""
    columns = columns_for(entry, "postgresql")
    select = ", ".join(
        f"to_char(\"{c.name}\", 'YYYYMMDD')" if c.sql_type == "date" else f'"{c.name}"::text'
        for c in columns
    )
    table = str(entry["layout"]).replace("-", "_")
    with psycopg.connect(url) as conn:
        rows = conn.execute(f'SELECT {select} FROM "{table}"').fetchall()
    return pl.DataFrame(rows, schema=[c.name for c in columns], orient="row")


@pytest.mark.parametrize(("encoding", "policy", "target"), [("cp932", "shrink", "cp932"), ("utf-8", "keep", "jisx0213")])
def test_psql_loads_the_bundle_value_for_value(
    ivs_run: Path, tmp_path: Path, pg_url: str, encoding: str, policy: str, target: str  # noqa: F811
) -> None:
    bundle = tmp_path / "bundle"
    write_bundle(ivs_run, bundle, encoding=encoding, gaiji_policy=policy)
    done = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", pg_url,
         "-f", "ddl/postgresql.sql", "-f", "load/postgresql.psql"],
        cwd=bundle, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    for entry in read_manifest(ivs_run)["files"]:
        expected = expected_after_policy(ivs_run, entry["layout"], policy, target)
        got = read_back(pg_url, entry)
        assert got.height == entry["rows_out"]
        key = expected.columns
        assert got.sort(key, nulls_last=True).equals(
            expected.sort(key, nulls_last=True), null_equal=True
        ), entry["layout"]
    if policy == "keep":  # IVS survive the whole way: Parquet → UTF-8 CSV → psql → server
        with psycopg.connect(pg_url) as conn:
            (ivs,) = conn.execute(
                "SELECT count(*) FROM juki_jumin WHERE \"氏名\" ~ '[\\U000E0100-\\U000E01EF]'"
            ).fetchone() or (0,)
        assert ivs > 0
