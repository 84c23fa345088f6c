# ruff: noqa: F811  - the fixtures run_a / run_b are imported from test_load_postgresql
"""``mig load --jobs N`` into a real PostgreSQL server: parts of tables over several
connections through staging tables, with the serial load's result and guarantees.

Each test compares against the serial load (``jobs=1``) of the same run into the same
database, or against the database as it was before a failed load. The runs are the demo's,
small; ``parallel_min_rows=0`` and a small ``part_rows`` make them take the parallel path
with several parts per table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from test_load import JUMIN_ITEMS, jumin_rows, make_run
from test_load_postgresql import demo_runs, mig, parquet_rows, run_a, run_b  # noqa: F401 - fixtures

from mig.errors import ConfigError, ExitCode
from mig.gaiji.policy import GaijiPolicyError
from mig.load import ddl_for, load_run, read_manifest
from mig.load.postgresql import STAGING_COMMENT

PARALLEL = {"jobs": 3, "parallel_min_rows": 0, "part_rows": 40, "batch_rows": 16}


@pytest.fixture
def conn(pg_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the parallel path opened a worker connection and adopted a staging table
    (the real methods run: this only counts, to show the path was taken)."""
    from mig.load.postgresql import PostgresTarget

    counts = {"staging_session": 0, "adopt_staging": 0}
    for name in counts:
        real = getattr(PostgresTarget, name)

        def counted(self: Any, *args: Any, _real: Any = real, _name: str = name) -> Any:
            counts[_name] += 1
            return _real(self, *args)

        monkeypatch.setattr(PostgresTarget, name, counted)
    return counts


def state(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Everything a load can change: tables (rows sorted, the ledger without its time),
    columns, constraints by name, indexes, comments, persistence — and no staging left."""
    tables = [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1").fetchall()]
    rows = {}
    for table in tables:
        columns = "table_name, layout, run_id, rows_loaded, rows_rejected, tool_version" if table == "mig_loads" else "*"
        rows[table] = sorted(map(repr, conn.execute(f'SELECT {columns} FROM "{table}"').fetchall()))
    catalog = conn.execute(
        "SELECT c.relname, c.relpersistence, obj_description(c.oid, 'pg_class'), "
        "(SELECT array_agg(conname || ':' || pg_get_constraintdef(oid) ORDER BY conname) "
        " FROM pg_constraint WHERE conrelid = c.oid), "
        "(SELECT array_agg(indexrelid::regclass::text ORDER BY 1) FROM pg_index WHERE indrelid = c.oid), "
        "(SELECT array_agg(attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull ORDER BY attnum) "
        " FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1"
    ).fetchall()
    return {"rows": rows, "catalog": catalog}


def drop_all(conn: psycopg.Connection[Any]) -> None:
    for (table,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall():
        conn.execute(f'DROP TABLE "{table}" CASCADE')


def test_parallel_load_gives_the_serial_load_state(
    run_a: Path, pg_url: str, conn: Any, calls: dict[str, int]
) -> None:
    serial = load_run(run_a, pg_url, jobs=1)
    assert calls == {"staging_session": 0, "adopt_staging": 0}
    expected = state(conn)
    drop_all(conn)
    parallel = load_run(run_a, pg_url, **PARALLEL)  # type: ignore[arg-type]
    parts = sum(-(-f.rows_read // 40) for f in parallel.files)  # tables cut into parts of >= 40 rows, <= 3 each
    assert calls["staging_session"] >= len(parallel.files) + 2 and calls["staging_session"] <= parts
    assert calls["adopt_staging"] == len(parallel.files)
    assert state(conn) == expected
    assert not any(t.startswith("mig_staging_") for t in expected["rows"])
    for a, b in zip(serial.files, parallel.files, strict=True):
        assert (a.table, a.action, a.rows_read, a.rows_loaded, a.rows_load_rejected) == (
            b.table, b.action, b.rows_read, b.rows_loaded, b.rows_load_rejected)
    assert parallel.to_dict()["reconciliation"]["balanced"]


def test_reload_into_existing_tables_keeps_them_and_their_rows_match(
    run_a: Path, pg_url: str, conn: Any, calls: dict[str, int]
) -> None:
    """Existing tables are filled by INSERT … SELECT from UNLOGGED staging: same table
    object (its OID, the vendor's view on it), same rows as the serial load."""
    load_run(run_a, pg_url, jobs=1)
    conn.execute('CREATE VIEW jumin_names AS SELECT "宛名番号" FROM juki_jumin')
    oid = conn.execute("SELECT 'juki_jumin'::regclass::oid").fetchone()
    expected = state(conn)
    result = load_run(run_a, pg_url, **PARALLEL)  # type: ignore[arg-type]
    assert {f.action for f in result.files} == {"reload"}
    assert calls["adopt_staging"] == len(result.files)
    assert state(conn) == expected
    assert conn.execute("SELECT 'juki_jumin'::regclass::oid").fetchone() == oid
    assert conn.execute("SELECT count(*) FROM jumin_names").fetchone() == (len(parquet_rows(run_a, "juki-jumin")),)


def test_a_failure_in_one_part_leaves_the_database_exactly_as_before(
    run_a: Path, run_b: Path, pg_url: str, conn: Any, calls: dict[str, int]
) -> None:
    """Run B holds MJ characters with IVS: the ``fail`` 外字 policy stops the part holding
    the first one, in a worker, while other parts are already committed into staging."""
    load_run(run_a, pg_url, jobs=1)
    before = state(conn)
    with pytest.raises(GaijiPolicyError, match="^table "):
        load_run(run_b, pg_url, replace=True, gaiji_policy="fail", **PARALLEL)  # type: ignore[arg-type]
    assert calls["staging_session"] > 1 and calls["adopt_staging"] == 0  # failed in the parts
    assert state(conn) == before


def test_a_refused_row_sends_the_table_to_the_serial_path_with_the_same_rejects(
    run_a: Path, pg_url: str, conn: Any, tmp_path: Path
) -> None:
    manifest = read_manifest(run_a)
    jumin = next(e for e in manifest["files"] if e["layout"] == "juki-jumin")

    def prepare() -> None:
        drop_all(conn)
        conn.execute(ddl_for(jumin, "postgresql"))
        conn.execute('ALTER TABLE juki_jumin ADD CONSTRAINT vendor_no_7 CHECK (right("宛名番号", 1) <> \'7\')')

    outcomes = {}
    for name, options in (("serial", {"jobs": 1, "batch_rows": 16}), ("parallel", PARALLEL)):
        prepare()
        result = load_run(run_a, pg_url, rejects_dir=tmp_path / name, **options)  # type: ignore[arg-type]
        jsonl = (tmp_path / name / "juki_jumin.jsonl").read_text("utf-8").splitlines()
        outcomes[name] = (state(conn), [json.loads(x) for x in jsonl], result.files[1].load_rejects)
    assert outcomes["parallel"] == outcomes["serial"]
    assert outcomes["serial"][1]  # rows were refused


def test_duplicate_keys_in_a_new_table_are_isolated_as_in_the_serial_load(
    tmp_path: Path, pg_url: str, conn: Any
) -> None:
    """The key is built when staging is renamed into place; duplicates undo that and the
    table is loaded serially, isolating the duplicate."""
    rows = jumin_rows(120) | {"生年月日": [None] * 120}
    rows["宛名番号"][100] = rows["宛名番号"][3]
    run = make_run(tmp_path / "dup", {"juki-jumin": (JUMIN_ITEMS, rows, ["宛名番号"])})
    f = load_run(run, pg_url, **PARALLEL).files[0]  # type: ignore[arg-type]
    assert (f.rows_read, f.rows_loaded, f.rows_load_rejected, f.action) == (120, 119, 1, "create")
    assert [(r["sqlstate"], r["constraint"]) for r in f.load_rejects] == [("23505", "juki_jumin_pkey")]
    assert "mig_staging" not in json.dumps(state(conn)["catalog"])


def test_leftover_staging_of_a_killed_load_is_dropped_and_nothing_else(
    run_a: Path, pg_url: str, conn: Any
) -> None:
    conn.execute("CREATE TABLE mig_staging_0123456789ab_0 (x int)")
    conn.execute(f"COMMENT ON TABLE mig_staging_0123456789ab_0 IS '{STAGING_COMMENT}'")
    conn.execute("CREATE TABLE mig_staging_users_own (x int)")  # same prefix, not mig's
    load_run(run_a, pg_url, **PARALLEL)  # type: ignore[arg-type]
    tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert "mig_staging_0123456789ab_0" not in tables
    assert "mig_staging_users_own" in tables


def test_cli_jobs_option(run_a: Path, pg_url: str, conn: Any) -> None:
    done = mig("load", str(run_a), "--target", pg_url, "--jobs", "2", "--json")
    assert done.returncode == ExitCode.CLEAN, done.stderr
    assert json.loads(done.stdout)["reconciliation"]["balanced"]
    bad = mig("load", str(run_a), "--target", pg_url, "--jobs", "0")
    assert bad.returncode == ExitCode.USAGE and "--jobs" in bad.stderr and "Traceback" not in bad.stderr
    with pytest.raises(ConfigError, match="must be 1 or more"):
        load_run(run_a, pg_url, jobs=0)


def test_kill_9_during_staging_leaves_the_tables_as_before_and_the_next_load_cleans_up(
    run_a: Path, run_b: Path, pg_url: str, conn: Any, tmp_path: Path
) -> None:
    """A SIGKILL of mig itself is the one path where staging tables stay: the target tables
    and the ledger are as before, and the next load drops the leftovers first."""
    import os
    import signal
    import subprocess
    import sys
    import time

    load_run(run_a, pg_url, jobs=1)
    before = state(conn)
    marker = tmp_path / "marker"
    support = Path(__file__).parent / "support"
    script = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "from paused_load import pausing_progress; from mig.load import load_run; "
        "load_run(Path(sys.argv[2]), sys.argv[3], replace=True, jobs=3, parallel_min_rows=0, "
        "part_rows=40, batch_rows=16, progress=pausing_progress(Path(sys.argv[4]), 4, 120))"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(support), str(run_b), pg_url, str(marker)])
    try:
        deadline = time.monotonic() + 120
        while not (marker.exists() and len(marker.read_text().splitlines()) >= 4):
            assert child.poll() is None, "the load ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    time.sleep(0.5)  # the server notices the closed connections and rolls back
    after = state(conn)
    leftovers = [t for t in after["rows"] if t.startswith("mig_staging_")]
    assert leftovers  # committed staging tables of the killed load
    assert {t: r for t, r in after["rows"].items() if t not in leftovers} == before["rows"]
    assert [c for c in after["catalog"] if c[0] not in leftovers] == before["catalog"]
    assert all(c[2] == STAGING_COMMENT for c in after["catalog"] if c[0] in leftovers)
    load_run(run_b, pg_url, replace=True, **PARALLEL)  # type: ignore[arg-type]
    assert not [t for t in state(conn)["rows"] if t.startswith("mig_staging_")]


def test_ctrl_c_during_staging_drops_the_staging_and_leaves_the_tables_as_before(
    run_a: Path, run_b: Path, pg_url: str, conn: Any, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys
    import time

    load_run(run_a, pg_url, jobs=1)
    before = state(conn)
    marker = tmp_path / "marker"
    support = Path(__file__).parent / "support"
    script = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "from paused_load import pausing_progress; from mig.load import load_run\n"
        "try:\n"
        "    load_run(Path(sys.argv[2]), sys.argv[3], replace=True, jobs=3, parallel_min_rows=0, "
        "part_rows=40, batch_rows=16, progress=pausing_progress(Path(sys.argv[4]), 4, 3))\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(130)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(support), str(run_b), pg_url, str(marker)])
    deadline = time.monotonic() + 120
    while not (marker.exists() and len(marker.read_text().splitlines()) >= 4):
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=60) == 130
    assert state(conn) == before  # staging dropped, tables and ledger untouched
