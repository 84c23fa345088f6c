"""``mig load`` into a real PostgreSQL server (see ``conftest.py`` for where it comes from).

No mocks: the demo export is extracted, loaded, read back and compared value for value;
loads are killed mid-way, re-run, refused; the server's own constraints refuse rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest
from conftest import with_password
from test_load import JUMIN_ITEMS, jumin_rows, make_run

from mig.demo.generator import generate_legacy_export
from mig.demo.registry import attach_demo_registry
from mig.errors import ConfigError, ExitCode, InputError
from mig.extract.run import extract
from mig.load import ddl_for, load_run, read_manifest

IVS = re.compile("[\U000e0100-\U000e01ef]")
PAUSED_LOAD = Path(__file__).parent / "support" / "paused_load.py"


def _demo_run(base: Path, rows: int, seed: int) -> Path:
    export = generate_legacy_export(base / "legacy", rows=rows, seed=seed)
    attach_demo_registry(export.mapping)  # MJ characters with their IVS in the data
    result = extract(export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], base / "run")
    return result.run_dir


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two different demo runs (seed 0 and seed 1), extracted once for the module."""
    base = tmp_path_factory.mktemp("pgdemo")
    return {"a": _demo_run(base / "a", 200, 0), "b": _demo_run(base / "b", 200, 1)}


@pytest.fixture
def run_a(demo_runs: dict[str, Path], tmp_path: Path) -> Path:
    """A private copy of demo run A (tests write load rejects beside it)."""
    return _copy(demo_runs["a"], tmp_path / "a")


@pytest.fixture
def run_b(demo_runs: dict[str, Path], tmp_path: Path) -> Path:
    return _copy(demo_runs["b"], tmp_path / "b")


def _copy(source: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(source, dest)
    return dest


@pytest.fixture
def conn(pg_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_url, autocommit=True) as connection:
        yield connection


def mig(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mig", *args], capture_output=True, text=True, check=False,
        env={**os.environ, **(env or {})}, timeout=300,
    )


def snapshot(conn: psycopg.Connection[Any]) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the public schema with all its rows, sorted (and mig_loads)."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
    ]
    return {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}  # type: ignore[misc]


def parquet_rows(run: Path, layout: str) -> list[dict[str, Any]]:
    return pq.read_table(run / f"data/{layout}.parquet").to_pylist()


def db_rows(conn: psycopg.Connection[Any], table: str) -> list[dict[str, Any]]:
    cursor = conn.execute(f'SELECT * FROM "{table}"')
    names = [d.name for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def assert_equal_to_parquet(conn: psycopg.Connection[Any], run: Path) -> None:
    manifest = read_manifest(run)
    for entry in manifest["files"]:
        layout, table = entry["layout"], entry["layout"].replace("-", "_")
        key = entry["primary_key"]
        expected = {tuple(r[k] for k in key): r for r in parquet_rows(run, layout)}
        loaded = {tuple(r[k] for k in key): r for r in db_rows(conn, table)}
        assert len(loaded) == len(expected) == entry["rows_out"]
        assert loaded.keys() == expected.keys()
        items = {i["name"]: i for i in entry["items"]}
        for pk, want in expected.items():
            got = loaded[pk]
            assert list(got) == list(want)  # same columns, same order
            for name, value in want.items():
                item, back = items[name], got[name]
                if value is None:
                    assert back is None, (table, name)
                elif isinstance(back, dt.date):
                    assert item["type"] == "日付" and item.get("unknown", "none") == "none"
                    assert back.strftime("%Y%m%d") == value, (table, name)
                elif isinstance(back, Decimal):
                    assert back == Decimal(value) and back.as_tuple() == Decimal(value).as_tuple()
                    assert back.as_tuple().exponent == -item.get("scale", 0)
                else:
                    assert isinstance(back, str) and back == value, (table, name)


# -- the demo, loaded and read back -------------------------------------------------------


def test_demo_loads_and_reads_back_value_for_value(run_a: Path, pg_url: str, conn: Any) -> None:
    result = load_run(run_a, pg_url)
    manifest = read_manifest(run_a)
    assert [(f.table, f.rows_read, f.rows_loaded, f.rows_load_rejected) for f in result.files] == [
        (e["layout"].replace("-", "_"), e["rows_out"], e["rows_out"], 0) for e in manifest["files"]
    ]
    assert_equal_to_parquet(conn, run_a)
    # the demo data really exercise what must be exact
    texts = [
        v for e in manifest["files"] for r in db_rows(conn, e["layout"].replace("-", "_"))
        for v in r.values() if isinstance(v, str)
    ]
    assert any(IVS.search(v) for v in texts)  # IVS strings came back unchanged (compared above)
    assert "" in texts or any(v is None for r in db_rows(conn, "juki_jumin") for v in r.values())
    kinds = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'juki_jumin'"
        ).fetchall()
    )
    assert kinds["住民となった年月日"] == "date" and kinds["生年月日"] == "character varying"
    assert "numeric" in {
        r[0] for r in conn.execute("SELECT data_type FROM information_schema.columns").fetchall()
    }
    run_id = hashlib.sha256((run_a / "manifest.json").read_bytes()).hexdigest()
    assert result.run_id == run_id
    ledger = conn.execute("SELECT table_name, run_id, rows_loaded FROM mig_loads ORDER BY 1").fetchall()
    assert ledger == sorted((f.table, run_id, f.rows_loaded) for f in result.files)
    assert not (run_a / "load-rejects").exists()
    totals = result.to_dict()["reconciliation"]
    assert totals["balanced"] and totals["rows_load_rejected"] == 0


def test_cli_summary_and_json(run_a: Path, pg_url: str) -> None:
    done = mig("load", str(run_a), "--target", pg_url, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["target"].count("***") == 1 and pg_url not in done.stdout
    for f in summary["files"]:
        assert f["rows_read"] == f["rows_loaded"] + f["rows_load_rejected"]
        assert f["seconds"] >= 0 and f["action"] == "create"
    again = mig("load", str(run_a), "--target", pg_url)  # same run: reloads
    assert again.returncode == 0, again.stderr
    header, *lines = again.stdout.splitlines()
    assert header.split() == ["table", "read", "loaded", "rejected", "seconds"]
    assert lines[0].split()[0] == "juki_setai"


# -- re-runs, other runs, other shapes ----------------------------------------------------


def test_rerun_of_same_run_replaces_its_rows(run_a: Path, pg_url: str, conn: Any) -> None:
    first = load_run(run_a, pg_url)
    before = snapshot(conn)
    second = load_run(run_a, pg_url, batch_rows=64)
    assert [f.action for f in second.files] == ["reload"] * 3
    assert [f.rows_loaded for f in second.files] == [f.rows_loaded for f in first.files]
    after = snapshot(conn)
    assert {t: v for t, v in after.items() if t != "mig_loads"} == {
        t: v for t, v in before.items() if t != "mig_loads"
    }
    (count, distinct) = conn.execute(
        'SELECT count(*), count(DISTINCT "宛名番号") FROM juki_jumin'
    ).fetchone()
    assert count == distinct == first.files[1].rows_loaded  # no duplicates
    assert conn.execute("SELECT count(*) FROM mig_loads").fetchone() == (3,)


def test_other_run_refused_unless_replace(run_a: Path, run_b: Path, pg_url: str, conn: Any) -> None:
    load_run(run_a, pg_url)
    before = snapshot(conn)
    with pytest.raises(ConfigError, match="juki_setai already holds .* rows of another run"):
        load_run(run_b, pg_url)
    assert snapshot(conn) == before
    done = mig("load", str(run_b), "--target", pg_url)
    assert done.returncode == ExitCode.USAGE and done.stderr.count("\n") == 1
    result = load_run(run_b, pg_url, replace=True)
    assert [f.action for f in result.files] == ["reload"] * 3  # same shape: emptied, kept
    assert_equal_to_parquet(conn, run_b)


def test_table_of_other_shape_refused_unless_replace(run_a: Path, pg_url: str, conn: Any) -> None:
    conn.execute('CREATE TABLE juki_jumin ("宛名番号" text PRIMARY KEY, "氏名" text)')
    conn.execute("INSERT INTO juki_jumin VALUES ('1', 'x')")
    before = snapshot(conn)
    done = mig("load", str(run_a), "--target", pg_url)
    assert done.returncode == ExitCode.USAGE
    assert done.stderr.startswith("mig: error: table juki_jumin already exists with a different shape")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert snapshot(conn) == before  # nothing created, not even the ledger
    # a type difference is another shape too
    conn.execute('ALTER TABLE juki_jumin ALTER COLUMN "氏名" TYPE varchar(5)')
    result = load_run(run_a, pg_url, replace=True)
    assert result.files[1].action == "replace"
    assert_equal_to_parquet(conn, run_a)


def test_tampered_run_directory_refused(run_a: Path, pg_url: str, conn: Any) -> None:
    path = run_a / "data/juki-jumin.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"juki-jumin.parquet: does not match manifest \(sha256"):
        load_run(run_a, pg_url)
    done = mig("load", str(run_a), "--target", pg_url)
    assert done.returncode == ExitCode.UNREADABLE_INPUT and "does not match manifest" in done.stderr
    assert snapshot(conn) == {}


# -- bad targets --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_bad_credentials_and_unreachable_server(run_a: Path, pg_url: str, conn: Any) -> None:
    wrong = with_password(pg_url, "not-the-password-42")
    try:
        psycopg.connect(wrong).close()
        password_checked = False  # a trust-authenticated server: the password is not checked
    except psycopg.OperationalError:
        password_checked = True
    cases = [
        (f"postgresql://mig:secret-99@127.0.0.1:{_free_port()}/x", "Connection refused"),
        (re.sub(r"//[^:@/]+", "//no_such_role_x", pg_url, count=1), "no_such_role_x"),
    ]
    if password_checked:
        cases.append((wrong, "password authentication failed"))
    for url, reason in cases:
        done = mig("load", str(run_a), "--target", url)
        assert done.returncode == ExitCode.USAGE, done.stderr
        assert done.stderr.startswith("mig: error: postgresql://")
        assert "cannot connect to PostgreSQL" in done.stderr and reason in done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        for secret in ("secret-99", "not-the-password-42"):
            assert secret not in done.stderr
        assert done.stdout == ""
    assert snapshot(conn) == {}
    assert not (run_a / "load-rejects").exists()
    with pytest.raises(ConfigError, match="bad PostgreSQL URL"):
        load_run(run_a, "postgresql://x/y?nonsense_option=1")


def test_concurrent_load_into_same_database_refused(run_a: Path, pg_url: str) -> None:
    with psycopg.connect(pg_url) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (0x6D6967_6C6F6164,))
        with pytest.raises(ConfigError, match="another mig load into this database is in progress"):
            load_run(run_a, pg_url)


# -- rows the server refuses --------------------------------------------------------------


def test_server_constraints_send_rows_to_rejects(run_a: Path, pg_url: str, conn: Any, tmp_path: Path) -> None:
    """The new vendor's CHECK on an existing table of the same shape refuses some rows."""
    manifest = read_manifest(run_a)
    jumin = next(e for e in manifest["files"] if e["layout"] == "juki-jumin")
    conn.execute(ddl_for(jumin, "postgresql"))
    conn.execute(
        'ALTER TABLE juki_jumin ADD CONSTRAINT vendor_no_7 CHECK (right("宛名番号", 1) <> \'7\')'
    )
    conn.execute('CREATE VIEW jumin_names AS SELECT "宛名番号", "氏名" FROM juki_jumin')
    rows = parquet_rows(run_a, "juki-jumin")
    bad = sorted(r["宛名番号"] for r in rows if r["宛名番号"].endswith("7"))
    assert 0 < len(bad) < len(rows) // 4
    rejects_dir = tmp_path / "refused"
    done = mig(
        "load", str(run_a), "--target", pg_url, "--batch-rows", "32", "--rejects", str(rejects_dir)
    )
    assert done.returncode == ExitCode.FINDINGS, done.stderr  # loaded, with rows refused
    line = next(x for x in done.stdout.splitlines() if x.startswith("juki_jumin"))
    assert line.split()[1:4] == [str(len(rows)), str(len(rows) - len(bad)), str(len(bad))]
    assert f"refused juki_jumin: 23514 vendor_no_7 ×{len(bad)}" in done.stdout
    for value in bad:  # personal data stays out of the terminal
        assert value not in done.stdout and value not in done.stderr
    loaded = {r[0] for r in conn.execute('SELECT "宛名番号" FROM jumin_names').fetchall()}
    assert loaded == {r["宛名番号"] for r in rows} - set(bad)  # the view still works
    records = [json.loads(x) for x in (rejects_dir / "juki_jumin.jsonl").read_text("utf-8").splitlines()]
    assert sorted(r["values"]["宛名番号"] for r in records) == bad
    by_key = {r["宛名番号"]: r for r in rows}
    for record in records:
        assert record["sqlstate"] == "23514" and record["constraint"] == "vendor_no_7"
        assert "vendor_no_7" in record["message"]
        original = by_key[record["values"]["宛名番号"]]
        assert record["values"] == {k: None if v is None else str(v) for k, v in original.items()}
        assert rows[record["parquet_row"]]["宛名番号"] == record["values"]["宛名番号"]
    assert not list(rejects_dir.glob(".*.tmp"))
    ledger = conn.execute("SELECT rows_loaded, rows_rejected FROM mig_loads WHERE table_name = 'juki_jumin'")
    assert ledger.fetchone() == (len(rows) - len(bad), len(bad))
    # the other tables loaded in full, in the same transaction
    assert_equal_to_parquet_layouts = {e["layout"] for e in manifest["files"]} - {"juki-jumin"}
    for layout in assert_equal_to_parquet_layouts:
        table = layout.replace("-", "_")
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (len(parquet_rows(run_a, layout)),)


def test_a_new_table_gets_its_key_after_one_stream_and_duplicates_still_isolate(
    tmp_path: Path, pg_url: str, conn: Any
) -> None:
    """A table mig creates is filled by one COPY and keyed afterwards; when only the key
    build fails (duplicates COPY accepted), the attempt is undone, table and all, and the
    rows are isolated batch by batch as before — the key ends up in place either way."""
    rows = jumin_rows(60) | {"生年月日": [None] * 60}
    clean = make_run(tmp_path / "clean", {"juki-jumin": (JUMIN_ITEMS, rows, ["宛名番号"])})
    result = load_run(clean, pg_url, batch_rows=16)
    assert (result.files[0].rows_loaded, result.files[0].rows_load_rejected) == (60, 0)
    key = "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'juki_jumin'::regclass AND i.indisprimary"
    assert conn.execute(key).fetchall() == [("宛名番号",)]
    conn.execute("DROP TABLE juki_jumin")
    conn.execute("DROP TABLE mig_loads")
    rows["宛名番号"][33] = rows["宛名番号"][2]
    dup = make_run(tmp_path / "dup", {"juki-jumin": (JUMIN_ITEMS, rows, ["宛名番号"])})
    f = load_run(dup, pg_url, batch_rows=16).files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_load_rejected) == (60, 59, 1)
    assert [(r["sqlstate"], r["constraint"], r["count"]) for r in f.load_rejects] == [("23505", "juki_jumin_pkey", 1)]
    assert conn.execute(key).fetchall() == [("宛名番号",)]
    assert conn.execute("SELECT count(*) FROM juki_jumin").fetchone() == (59,)


def test_duplicate_keys_and_impossible_dates_are_isolated(tmp_path: Path, pg_url: str, conn: Any) -> None:
    rows = jumin_rows(50)
    rows["宛名番号"][10] = rows["宛名番号"][4]  # duplicate key: the second one is refused
    rows["宛名番号"][41] = rows["宛名番号"][40]
    # 生年月日 is a 日付 that may not be 不詳 (a date column); the data say "19800100" every
    # third row, which the server refuses (22008)
    items = [dict(i, unknown="none") if i["name"] == "生年月日" else i for i in JUMIN_ITEMS]
    run = make_run(tmp_path / "run", {"juki-jumin": (items, rows, ["宛名番号"])})
    undated = [i for i, v in enumerate(rows["生年月日"]) if v is not None]
    result = load_run(run, pg_url, batch_rows=16)
    f = result.files[0]
    refused = set(undated) | {10, 41}
    assert (f.rows_read, f.rows_loaded, f.rows_load_rejected) == (50, 50 - len(refused), len(refused))
    assert f.rows_read == f.rows_loaded + f.rows_load_rejected
    states = {(r["sqlstate"], r["constraint"]): r["count"] for r in f.load_rejects}
    assert states[("23505", "juki_jumin_pkey")] == len({10, 41} - set(undated))
    assert states[("22008", None)] == len(undated)
    assert conn.execute("SELECT count(*) FROM juki_jumin").fetchone() == (f.rows_loaded,)
    records = [json.loads(x) for x in Path(f.rejects_file or "").read_text("utf-8").splitlines()]
    assert {r["parquet_row"] for r in records} == refused
    dup = next(r for r in records if r["sqlstate"] == "23505")
    assert "already exists" in (dup["detail"] or "")
    # a later clean load of the same tables removes the stale rejects file
    clean = make_run(tmp_path / "clean", {"juki-jumin": (JUMIN_ITEMS, jumin_rows(5) | {"生年月日": [None] * 5}, ["宛名番号"])})
    (clean / "load-rejects").mkdir()
    (clean / "load-rejects/juki_jumin.jsonl").write_text("stale\n", encoding="utf-8")
    load_run(clean, pg_url, replace=True)
    assert not (clean / "load-rejects/juki_jumin.jsonl").exists()


# -- killed mid-way -----------------------------------------------------------------------


def _loader_backends(conn: psycopg.Connection[Any], database: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT state FROM pg_stat_activity WHERE application_name = 'mig load' AND datname = %s",
            (database,),
        ).fetchall()
    ]


def _kill_after_batches(
    run: Path, url: str, marker: Path, batches: int, *extra: str,
    while_paused: Callable[[], None] | None = None,
) -> None:
    """Start a load that pauses after ``batches`` batches (``support/paused_load.py``, the
    library's progress hook); SIGKILL it once they are written."""
    process = subprocess.Popen(
        [sys.executable, str(PAUSED_LOAD), str(marker), str(batches), str(run), url,
         "--batch-rows", "40", "--seconds", "60", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (marker.exists() and len(marker.read_text().splitlines()) >= batches):
            assert process.poll() is None, "the load ended before it could be killed"
            assert time.monotonic() < deadline, "the load did not write its batches"
            time.sleep(0.05)
        if while_paused is not None:
            while_paused()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def _wait_gone(conn: psycopg.Connection[Any], database: str) -> None:
    deadline = time.monotonic() + 30
    while _loader_backends(conn, database):
        assert time.monotonic() < deadline, "the killed load's session did not end"
        time.sleep(0.05)


def test_kill_mid_load_leaves_target_as_before_then_rerun_completes(
    run_a: Path, run_b: Path, pg_url: str, conn: Any, tmp_path: Path
) -> None:
    database = pg_url.rsplit("/", 1)[1]
    run_a_id = load_run(run_a, pg_url).run_id
    before = snapshot(conn)
    # juki-setai is written and juki-jumin has begun when the process dies
    setai_batches = -(-read_manifest(run_b)["files"][0]["rows_out"] // 40)

    def in_flight() -> None:
        # the loader holds an open transaction with rows written, which no one else sees —
        # mid-COPY ("active": each table is one COPY stream) or between statements — readers
        # of its tables wait (TRUNCATE's lock) and the ledger still says run A
        assert _loader_backends(conn, database) in (["active"], ["idle in transaction"])
        locked = conn.execute(
            "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.application_name = 'mig load' "
            "AND l.mode = 'AccessExclusiveLock' AND l.granted AND c.relkind = 'r'"
        ).fetchall()
        assert {r[0] for r in locked} >= {"juki_setai", "juki_jumin", "juki_ido"}
        assert {r[0] for r in conn.execute("SELECT run_id FROM mig_loads").fetchall()} == {run_a_id}

    _kill_after_batches(
        run_b, pg_url, tmp_path / "batches", setai_batches + 1, "--replace", while_paused=in_flight
    )
    _wait_gone(conn, database)
    assert snapshot(conn) == before  # exactly as before the killed load
    assert not (run_b / "load-rejects").exists()
    # the re-run completes, and a second one adds no duplicates
    done = mig("load", str(run_b), "--target", pg_url, "--replace")
    assert done.returncode == 0, done.stderr
    assert_equal_to_parquet(conn, run_b)
    again = mig("load", str(run_b), "--target", pg_url)
    assert again.returncode == 0, again.stderr
    assert_equal_to_parquet(conn, run_b)


def test_kill_during_first_load_leaves_nothing(run_a: Path, pg_url: str, conn: Any, tmp_path: Path) -> None:
    database = pg_url.rsplit("/", 1)[1]
    _kill_after_batches(run_a, pg_url, tmp_path / "batches", 4)
    _wait_gone(conn, database)
    assert snapshot(conn) == {}  # no table, no ledger
    done = mig("load", str(run_a), "--target", pg_url)
    assert done.returncode == 0, done.stderr
    assert_equal_to_parquet(conn, run_a)


def _random_kill_points(run: Path, count: int, seed: int) -> list[int]:
    """``count`` distinct batch numbers (of 40 rows) inside the whole load of ``run``,
    drawn with a fixed seed so that a failure reproduces."""
    import random

    total = sum(-(-int(f["rows_out"]) // 40) for f in read_manifest(run)["files"])
    return sorted(random.Random(seed).sample(range(1, total), count))


def test_kill_9_at_random_points_of_a_replacing_load(
    run_a: Path, run_b: Path, pg_url: str, conn: Any, tmp_path: Path
) -> None:
    """Wherever in the load the process dies — which table, which batch — the target is
    exactly as it was before, and the next load completes."""
    database = pg_url.rsplit("/", 1)[1]
    load_run(run_a, pg_url, replace=True)
    before = snapshot(conn)
    points = _random_kill_points(run_b, 3, seed=11)
    for n, after in enumerate(points):
        _kill_after_batches(run_b, pg_url, tmp_path / f"batches-{n}", after, "--replace")
        _wait_gone(conn, database)
        assert snapshot(conn) == before, f"killed after batch {after} of {points}"
    done = mig("load", str(run_b), "--target", pg_url, "--replace")
    assert done.returncode == 0, done.stderr
    assert_equal_to_parquet(conn, run_b)
