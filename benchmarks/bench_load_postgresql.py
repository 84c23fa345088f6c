"""Load benchmark: ``mig load`` into PostgreSQL against psql ``\\copy`` of the same data as CSV.

One run, one server, the same rows:

1. a seeded demo export (``mig.demo.generator.generate_legacy_export``, ``--rows`` 住民 rows;
   世帯 ≈ 0.43 N and 異動 = N/2 follow) is extracted once with ``mig extract`` (not timed);
2. the run's Parquet files are written as plain CSV — exactly the bytes mig streams to
   ``COPY`` (Arrow's CSV writer, no header, NULL as an empty field) — (not timed);
3. each variant starts on an empty database, ``--repeat`` times, alternating:

   - **mig** — ``python -m mig load RUN --target URL --json`` in a fresh process, wall time:
     interpreter start, the manifest's sha256 check of every output, Parquet reading, the
     CSV serialisation, COPY with a savepoint per batch, reading the counts back, the ledger
     row, one commit;
   - **mig --jobs N** (``--jobs``, default 2; issue 20) — the same with N connections
     loading parts of the tables into staging tables, adopted in one transaction
     (:mod:`mig.load.parallel`);
   - **psql \\copy** — ``psql -1 -c "\\copy TABLE FROM 'FILE' (FORMAT csv)" …`` of the three
     CSV files into tables created beforehand (not timed) from the same DDL, primary keys
     included: one transaction, as mig.

   - **mig (baseline)** (``--baseline DIR``) — the same command run from another checkout
     of mig (``PYTHONPATH=DIR``, e.g. ``git worktree add DIR main``), for a before / after
     measured in the same session, alternating with the others.

The runs alternate (mig, psql, mig, psql, …); the **median** of each variant is the figure
that counts (the best is printed too, for comparison with older results); rows/s counts the
rows of all three files. The goal (issue 12) is mig ≥ 1.0 × psql ``\\copy`` by medians of 5.

Beside the wall time, each run's **CPU seconds** are counted (when the server runs on this
machine and ``/proc`` can be read): the loading process's (``mig`` or ``psql``: user + system
of the child) and the server's (every process of its postmaster, the backends that ended
included — they are added to the postmaster's children's times when reaped). On a machine
shared with other work, wall time depends on how much of the CPU the load gets; the CPU
seconds say how much work each way of loading asks of the machine.

The server is ``--url`` (or ``MIG_TEST_POSTGRES_URL``): a role that may create databases.
Without one, a throwaway server is started with the test suite's helper (fsync on).

Usage::

    python benchmarks/bench_load_postgresql.py [--rows 1000000] [--repeat 3] [--seed 0]
        [--url postgresql://…] [--batch-rows 65536] [--jobs 2 (0: no parallel variant)]
        [--baseline DIR] [--workdir DIR] [--keep] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
import pyarrow.parquet as pq

from mig.demo.generator import generate_legacy_export
from mig.extract.run import extract
from mig.load import ddl_for, read_manifest, table_name
from mig.load.postgresql import csv_for_copy

REPO = Path(__file__).resolve().parent.parent


def _database_url(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _child_command_line(url: str) -> tuple[str, dict[str, str]]:
    """The URL for a child's command line, its password moved to the environment
    (``PGPASSWORD``, read by libpq in psql and in mig's psycopg): a command line is visible
    to every user of the machine (``ps``), the environment is not.

    >>> _child_command_line("postgresql://mig:secret@127.0.0.1:5432/db")[0]
    'postgresql://mig@127.0.0.1:5432/db'
    """
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is None:
        return url, env
    env["PGPASSWORD"] = unquote(parts.password)
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = f"{quote(unquote(user), safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), env


def _fresh_database(url: str, name: str) -> str:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return _database_url(url, name)


def _drop_database(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _psql() -> str:
    found = shutil.which("psql")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/psql")):
        found = str(candidate)
    if not found:
        sys.exit("psql not found")
    return found


def _write_csv(run: Path, out: Path, batch_rows: int) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for entry in read_manifest(run)["files"]:
        table = table_name(entry["layout"])
        names = [i["name"] for i in entry["items"]]
        path = out / f"{table}.csv"
        with pq.ParquetFile(run / f"data/{entry['layout']}.parquet") as parquet, path.open("wb") as handle:
            for batch in parquet.iter_batches(batch_size=batch_rows, columns=names):
                handle.write(csv_for_copy(batch.select(names)).to_pybytes())
        files[table] = path
    return files


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the state on (3rd)


def _postmaster(url: str) -> int | None:
    """The server's postmaster pid when it runs on this machine (its backend's parent)."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    fields = _proc_stat(int(row[0])) if row else None
    return int(fields[1]) if fields else None


def _server_cpu(postmaster: int | None) -> float | None:
    """CPU seconds of the postmaster, its live children and the children it has reaped."""
    if postmaster is None:
        return None
    fields = _proc_stat(postmaster)
    if fields is None:
        return None
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = _proc_stat(int(entry.name))
            if child is not None and child[1] == str(postmaster):
                ticks += int(child[11]) + int(child[12])
    return ticks / _TICK


class _Cpu:
    """CPU seconds of one timed run: the child process's and the server's."""

    def __init__(self, postmaster: int | None) -> None:
        self.postmaster = postmaster
        self.client: float | None = None
        self.server: float | None = None

    def __enter__(self) -> _Cpu:
        self._children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._server = _server_cpu(self.postmaster)
        return self

    def __exit__(self, *_: object) -> None:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.client = round(
            after.ru_utime - self._children.ru_utime + after.ru_stime - self._children.ru_stime, 3
        )
        server = _server_cpu(self.postmaster)
        if server is not None and self._server is not None:
            self.server = round(server - self._server, 3)


def _time_mig(
    url: str, run: Path, batch_rows: int, jobs: int = 1, checkout: Path | None = None,
    postmaster: int | None = None,
) -> tuple[float, dict[str, Any], _Cpu]:
    target, env = _child_command_line(_fresh_database(url, "bench_mig"))
    if checkout is not None:  # another version of mig: its package first on the path
        env["PYTHONPATH"] = str(checkout)
    with _Cpu(postmaster) as cpu:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "mig", "load", str(run), "--target", target, "--json",
             "--batch-rows", str(batch_rows), "--jobs", str(jobs)],
            capture_output=True, text=True, check=False, env=env, cwd=checkout,
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"mig load failed: {done.stderr.strip()}")
    return seconds, json.loads(done.stdout), cpu


def _time_copy(
    url: str, run: Path, csv_files: dict[str, Path], postmaster: int | None = None
) -> tuple[float, _Cpu]:
    full_target = _fresh_database(url, "bench_copy")
    target, env = _child_command_line(full_target)
    with psycopg.connect(full_target, autocommit=True) as conn:
        for entry in read_manifest(run)["files"]:
            conn.execute(ddl_for(entry, "postgresql"))
    command = [_psql(), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", target]
    for table, path in csv_files.items():
        command += ["-c", f"\\copy {table} FROM '{path}' (FORMAT csv)"]
    with _Cpu(postmaster) as cpu:
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"psql \\copy failed: {done.stderr.strip()}")
    with psycopg.connect(full_target) as conn:
        for table in csv_files:
            conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    return seconds, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-rows", type=int, default=65_536)
    parser.add_argument("--jobs", type=int, default=2, help="connections of the parallel variant (0: none)")
    parser.add_argument("--baseline", type=Path, help="a checkout of another mig version, measured alongside")
    parser.add_argument("--url", default=os.environ.get("MIG_TEST_POSTGRES_URL"))
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", type=Path, dest="json_path")
    args = parser.parse_args(argv)

    server = None
    url = args.url
    if not url:
        sys.path.insert(0, str(REPO / "tests"))
        from conftest import start_throwaway_postgres

        server = start_throwaway_postgres(durable=True)
        url = server.url
    work = Path(tempfile.mkdtemp(prefix="mig-bench-load-", dir=args.workdir))
    try:
        started = time.perf_counter()
        export = generate_legacy_export(work / "legacy", rows=args.rows, seed=args.seed)
        result = extract(
            export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], work / "run"
        )
        run = result.run_dir
        prepared = time.perf_counter() - started
        csv_files = _write_csv(run, work / "csv", args.batch_rows)
        rows = sum(e["rows_out"] for e in read_manifest(run)["files"])
        print(f"prepared {rows} rows in {prepared:.1f} s (export + extract, not timed)")

        parallel = f"mig_jobs{args.jobs}"
        times: dict[str, list[float]] = {"mig": []}
        if args.jobs:
            times[parallel] = []
        if args.baseline:
            times["mig_baseline"] = []
        times["psql_copy"] = []
        summary: dict[str, Any] = {}
        cpu: dict[str, list[_Cpu]] = {name: [] for name in times}
        postmaster = _postmaster(url)
        load_before = os.getloadavg()
        for _ in range(args.repeat):
            seconds, summary, used = _time_mig(url, run, args.batch_rows, postmaster=postmaster)
            times["mig"].append(round(seconds, 3))
            cpu["mig"].append(used)
            if args.jobs:
                seconds, parallel_summary, used = _time_mig(
                    url, run, args.batch_rows, args.jobs, postmaster=postmaster
                )
                times[parallel].append(round(seconds, 3))
                cpu[parallel].append(used)
                if parallel_summary["reconciliation"]["rows_loaded"] != rows:
                    sys.exit("mig load --jobs did not load every row")
            if args.baseline:
                seconds, baseline_summary, used = _time_mig(
                    url, run, args.batch_rows, 1, args.baseline.resolve(), postmaster
                )
                times["mig_baseline"].append(round(seconds, 3))
                cpu["mig_baseline"].append(used)
                if baseline_summary["reconciliation"]["rows_loaded"] != rows:
                    sys.exit("the baseline's mig load did not load every row")
            seconds, used = _time_copy(url, run, csv_files, postmaster)
            times["psql_copy"].append(round(seconds, 3))
            cpu["psql_copy"].append(used)
        for name in ("bench_mig", "bench_copy"):
            _drop_database(url, name)
        if summary["reconciliation"]["rows_loaded"] != rows:
            sys.exit("mig load did not load every row")
        best = {k: min(v) for k, v in times.items()}
        median = {k: statistics.median(v) for k, v in times.items()}
        rate = {k: rows / v for k, v in best.items()}
        ratio = rate["mig"] / rate["psql_copy"]
        median_ratio = median["psql_copy"] / median["mig"]
        with psycopg.connect(url) as conn:
            version_row = conn.execute("SHOW server_version").fetchone()
        version = version_row[0] if version_row else "?"
        print(f"{'variant':<12} {'rows':>10} {'median s':>9} {'best s':>8} {'rows/s':>12}   all runs")
        for name in times:
            print(f"{name:<12} {rows:>10} {median[name]:>9.2f} {best[name]:>8.2f} {rate[name]:>12,.0f}   {times[name]}")
        print(f"speed mig / psql \\copy, medians of {args.repeat} alternating: {median_ratio:.2f} (goal >= 1.0); best runs: {ratio:.2f}")
        if args.jobs:
            print(f"mig --jobs {args.jobs} / psql \\copy, medians: {median['psql_copy'] / median[parallel]:.2f}; "
                  f"mig --jobs {args.jobs} / mig (serial), medians: {median['mig'] / median[parallel]:.2f}")
        if args.baseline:
            print(f"baseline mig / psql \\copy, medians: {median['psql_copy'] / median['mig_baseline']:.2f}; "
                  f"mig / baseline mig, speed by medians: {median['mig_baseline'] / median['mig']:.2f}")
        cpu_median: dict[str, dict[str, float | None]] = {}
        for name, runs in cpu.items():
            clients = [c.client for c in runs if c.client is not None]
            servers = [c.server for c in runs if c.server is not None]
            cpu_median[name] = {
                "client": statistics.median(clients) if clients else None,
                "server": statistics.median(servers) if len(servers) == len(runs) else None,
            }
        print("CPU seconds, medians (loading process + server = the machine's work):")
        for name, seconds_of in cpu_median.items():
            client, server_s = seconds_of["client"], seconds_of["server"]
            total = f"{client + server_s:.2f}" if client is not None and server_s is not None else "?"
            print(f"  {name:<12} {client if client is not None else '?':>6} + "
                  f"{server_s if server_s is not None else '?':>6} = {total}")
        print(f"load average (1 min) before / after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f}")
        print(f"mig's own seconds (inside the process): {summary['seconds']}")
        figures: dict[str, Any] = {
            "benchmark": "load-postgresql",
            "rows": args.rows,
            "seed": args.seed,
            "rows_loaded": rows,
            "files": {f["table"]: f["rows_loaded"] for f in summary["files"]},
            "repeat": args.repeat,
            "batch_rows": args.batch_rows,
            "seconds": times,
            "best_seconds": best,
            "rows_per_second": {k: round(v) for k, v in rate.items()},
            "ratio_mig_to_psql_copy": round(ratio, 3),
            "median_seconds": median,
            "median_ratio_mig_to_psql_copy": round(median_ratio, 3),
            "goal_ratio": 1.0,
            "jobs": args.jobs,
            "median_ratio_parallel_to_psql_copy": (
                round(median["psql_copy"] / median[parallel], 3) if args.jobs else None
            ),
            "median_ratio_parallel_to_serial": round(median["mig"] / median[parallel], 3) if args.jobs else None,
            "baseline": str(args.baseline) if args.baseline else None,
            "median_ratio_baseline_to_psql_copy": (
                round(median["psql_copy"] / median["mig_baseline"], 3) if args.baseline else None
            ),
            "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            "cpu_seconds": {
                name: {"client": [c.client for c in runs], "server": [c.server for c in runs]}
                for name, runs in cpu.items()
            },
            "median_cpu_seconds": cpu_median,
            "mig_inner_seconds": summary["seconds"],
            "server": f"PostgreSQL {version}" + (" (throwaway, fsync on)" if server else ""),
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "platform": platform.platform()},
        }
        if args.json_path:
            args.json_path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
