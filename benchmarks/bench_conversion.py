"""Conversion-path benchmark: ``mig extract`` side by side with its raw floor and a pandas peer.

Generates the seeded demo legacy export once (:func:`mig.demo.generator.generate_legacy_export`:
CP932 SETAI.csv, JUMIN.csv, IDO.csv + mapping.toml) in a temporary work directory, then
runs each variant in its own subprocess on the same files — so time and peak RSS are the
variant's own — and prints one table:

- ``raw floor``: read each file, ``bytes.decode("cp932")`` → UTF-8, ``polars.read_csv``
  with every column as String, write Parquet. No mapping, no checks: the lower bound.
- ``mig``: :func:`mig.extract.run.extract` with the export's mapping (the real conversion
  path: CSV adapter, mapping, validation, Parquet + CSV + rejects + findings + manifest +
  report), default batch size unless ``--batch-bytes``.
- ``pandas``: ``benchmarks/peers/pandas_convert.py``, the same work in idiomatic pandas.

``--repeat R`` runs the variants R times, interleaved (raw, mig, pandas, raw, mig, …), and
reports medians: a figure compared with another's median is itself a median. Each run also
records its CPU time (its own and its worker processes'), so ``cpu / seconds`` says how many
cores it kept busy. ``--workers N`` runs mig with N worker processes (``mig extract
--workers``); without it mig runs as ``extract()`` does by default.

``--memory`` instead runs mig alone on N/4 and N rows (N = ``--rows``: 1× and 4× the input)
with the same batch size and prints both peak RSS figures, their ratio and whether it meets
issue 12's goal (at most ×1.15); ``--repeat R`` alternates R runs per size and prints medians.

Nothing here asserts on time; this is a measurement, not a test.

Usage::

    python benchmarks/bench_conversion.py [--rows 1000000] [--seed 0] [--workdir DIR] [--keep]
                                          [--batch-bytes N] [--variants raw,mig,pandas]
                                          [--json FILE] [--repeat R] [--workers N] [--memory]
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

HERE = Path(__file__).resolve().parent
RESULT_MARK = "BENCH-RESULT "
VARIANTS = ("raw", "mig", "pandas")
LABELS = {"raw": "raw floor", "mig": "mig", "pandas": "pandas"}
INPUT_NAMES = ("SETAI.csv", "JUMIN.csv", "IDO.csv")
MEMORY_GOAL = 1.15  # issue 12: peak RSS at 4× the input at most this times the peak at 1×


# ---------------------------------------------------------------------------------------
# child side: one variant, timed and measured inside its own process


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    On Linux this is ``VmHWM`` of ``/proc/self/status``: the high-water mark of this
    process's own address space. ``ru_maxrss`` is not used there because Linux carries
    the parent's high-water mark over fork + exec into it, so a child started by a large
    parent would report the parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (worker processes), user + system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _child(variant: str, spec: dict[str, Any]) -> dict[str, Any]:
    export_dir = Path(spec["export_dir"])
    out = Path(spec["out"])
    inputs = [export_dir / name for name in INPUT_NAMES]
    t_import = time.perf_counter()
    workers = spec.get("workers")
    if variant == "raw":
        import polars as pl

        def work() -> dict[str, Any]:
            out.mkdir(parents=True, exist_ok=True)
            rows = 0
            for path in inputs:
                text = path.read_bytes().decode("cp932").encode("utf-8")
                frame = pl.read_csv(text, infer_schema=False, truncate_ragged_lines=True)
                frame.write_parquet(out / f"{path.stem}.parquet")
                rows += frame.height
            return {"rows_written": rows}

    elif variant == "mig":
        from mig.extract.run import extract

        def work() -> dict[str, Any]:
            options: dict[str, Any] = {} if workers is None else {"workers": int(workers)}
            result = extract(
                export_dir / "mapping.toml", inputs, out, force=True,
                batch_bytes=int(spec["batch_bytes"]), **options,
            )
            return {
                "files": [
                    {k: f[k] for k in ("layout", "rows_in", "rows_out", "rows_rejected")}
                    for f in result.manifest["files"]
                ],
            }

    elif variant == "pandas":
        sys.path.insert(0, str(HERE / "peers"))
        import pandas_convert  # type: ignore[import-not-found]

        def work() -> dict[str, Any]:
            manifest = pandas_convert.convert(export_dir, out)
            return {
                "files": [
                    {k: f[k] for k in ("layout", "rows_in", "rows_out", "rows_rejected")}
                    for f in manifest["files"]
                ],
            }

    else:
        raise SystemExit(f"unknown variant {variant!r}")
    import_seconds = time.perf_counter() - t_import
    rss_after_import = _peak_rss_mb()
    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    extra = work()
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    return {
        "variant": variant,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "cores_used": cpu / seconds if seconds > 0 else 0.0,
        "import_seconds": import_seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_after_import_mb": rss_after_import,
        "output_bytes": _dir_bytes(out),
        **extra,
    }


# ---------------------------------------------------------------------------------------
# parent side


def _run_variant(variant: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one variant in a fresh interpreter and return what it measured."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", variant, "--spec", json.dumps(spec)]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"variant {variant} failed (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_MARK):])
    result["process_wall_seconds"] = wall
    return result


def _warm(paths: list[Path]) -> None:
    """Read the inputs once so every variant starts from the same (warm) page cache."""
    for path in paths:
        with path.open("rb") as fh:
            while fh.read(1 << 24):
                pass


def _generate(export_dir: Path, rows: int, seed: int) -> dict[str, Any]:
    from mig.demo.generator import generate_legacy_export

    export_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    export = generate_legacy_export(export_dir, rows, seed)
    seconds = time.perf_counter() - t0
    files = {
        "SETAI.csv": export.setai_rows,
        "JUMIN.csv": export.rows,
        "IDO.csv": export.ido_rows,
    }
    return {
        "rows": rows,
        "seed": seed,
        "seconds": seconds,
        "records": {name: n for name, n in files.items()},
        "records_total": sum(files.values()),
        "bytes": {name: (export_dir / name).stat().st_size for name in files},
        "bytes_total": sum((export_dir / name).stat().st_size for name in files),
        "broken_total": export.broken_total,
    }


def _machine() -> dict[str, Any]:
    import numpy
    import polars
    import pyarrow

    try:
        import pandas  # type: ignore[import-untyped,unused-ignore]

        pandas_version = pandas.__version__
    except ImportError:  # pragma: no cover - pandas is only needed for the peer
        pandas_version = None
    import mig

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "commit": _commit(),
        "cpus": os.cpu_count(),
        "memory_gb": round(memory / 1024**3, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            "mig": mig.__version__, "polars": polars.__version__, "pandas": pandas_version,
            "pyarrow": pyarrow.__version__, "numpy": numpy.__version__,
        },
    }


def _commit() -> str | None:
    """The checkout's commit, with ``+dirty`` when the conversion path has local changes."""
    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", "-C", str(HERE.parent), *args], capture_output=True, text=True, check=False)
        except OSError:
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    head = git("rev-parse", "--short", "HEAD")
    if head is None:
        return None
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "mig", "adapters", "layouts")
    return head + ("+dirty" if dirty else "")


def _mb(n: float) -> float:
    return n / 1_000_000


def _print_table(export: dict[str, Any], results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    records, size = export["records_total"], export["bytes_total"]
    print()
    print(f"{'variant':<10} {'seconds':>9} {'rows/s':>11} {'input MB/s':>11} {'cores used':>11} {'peak RSS MB':>12}")
    print("-" * 69)
    for variant, r in results.items():
        print(
            f"{LABELS[variant]:<10} {r['seconds']:>9.2f} {records / r['seconds']:>11,.0f} "
            f"{_mb(size) / r['seconds']:>11.1f} {r.get('cores_used', 0.0):>11.2f} {r['peak_rss_mb']:>12.0f}"
        )
    print()
    ratios: dict[str, float] = {}
    if "mig" in results and "raw" in results:
        ratios["mig_vs_floor"] = results["mig"]["seconds"] / results["raw"]["seconds"]
        print(f"mig vs raw floor: {ratios['mig_vs_floor']:.2f}x the floor's time")
    if "mig" in results and "pandas" in results:
        ratios["mig_speedup_vs_pandas"] = results["pandas"]["seconds"] / results["mig"]["seconds"]
        print(f"mig vs pandas:    {ratios['mig_speedup_vs_pandas']:.2f}x speed-up (pandas time / mig time)")
    return ratios


def _print_conservation(results: dict[str, dict[str, Any]]) -> bool | None:
    if "mig" not in results:
        return None
    ok = True
    print()
    print("mig manifest, rows_in == rows_out + rows_rejected:")
    for f in results["mig"]["files"]:
        holds = f["rows_in"] == f["rows_out"] + f["rows_rejected"]
        ok &= holds
        print(
            f"  {f['layout']:<11} {f['rows_in']:>9} == {f['rows_out']:>9} + {f['rows_rejected']:>4}  "
            f"{'ok' if holds else 'BROKEN'}"
        )
    if "pandas" in results:
        same = [
            (a["rows_out"], a["rows_rejected"]) == (b["rows_out"], b["rows_rejected"])
            for a, b in zip(results["mig"]["files"], results["pandas"]["files"], strict=True)
        ]
        print(f"pandas peer accepts/rejects the same counts per file: {'yes' if all(same) else 'NO'}")
    return ok


def _bench(args: argparse.Namespace, root: Path, batch_bytes: int) -> dict[str, Any]:
    export_dir = root / "export"
    print(f"generating {args.rows:,} 住民 rows (seed {args.seed}) in {export_dir} …", file=sys.stderr)
    export = _generate(export_dir, args.rows, args.seed)
    counts = ", ".join(f"{n} {c:,}" for n, c in export["records"].items())
    print(
        f"export: {counts} = {export['records_total']:,} records, "
        f"{_mb(export['bytes_total']):.1f} MB CP932; generated in {export['seconds']:.1f} s "
        "(not part of any variant)"
    )
    inputs = [export_dir / n for n in INPUT_NAMES]
    runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in args.variants}
    for attempt in range(args.repeat):  # interleaved: load from elsewhere falls on every variant alike
        for variant in args.variants:
            out = root / f"out-{variant}"
            _warm(inputs)
            print(f"running {LABELS[variant]} ({attempt + 1}/{args.repeat}) …", file=sys.stderr)
            spec = {"export_dir": str(export_dir), "out": str(out), "batch_bytes": batch_bytes,
                    "workers": args.workers if variant == "mig" else None}
            runs[variant].append(_run_variant(variant, spec))
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
    results = {variant: _median_run(measured) for variant, measured in runs.items()}
    workers = f", {args.workers} worker(s)" if args.workers is not None else ""
    print(f"batch size (mig): {batch_bytes:,} bytes{workers}"
          + (f"; medians of {args.repeat} interleaved runs" if args.repeat > 1 else ""))
    ratios = _print_table(export, results)
    conserved = _print_conservation(results)
    return {"mode": "compare", "export": export, "batch_bytes": batch_bytes, "results": results,
            "repeat": args.repeat, "workers": args.workers,
            "runs": {v: [{k: r[k] for k in _MEDIAN_KEYS} for r in measured] for v, measured in runs.items()},
            "ratios": ratios, "mig_conservation_ok": conserved}


_MEDIAN_KEYS = ("seconds", "cpu_seconds", "cores_used", "peak_rss_mb", "process_wall_seconds")


def _median_run(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """One variant's runs as one result: the first run's fields, timings replaced by medians."""
    result = dict(measured[0])
    for key in _MEDIAN_KEYS:
        result[key] = statistics.median(r[key] for r in measured)
    return result


def _memory(args: argparse.Namespace, root: Path, batch_bytes: int) -> dict[str, Any]:
    """mig alone on N/4 rows (1× input) and N rows (4×), same batch size: peak RSS of each.

    With ``--repeat R`` each size runs R times, alternating sizes (1×, 4×, 1×, 4×, …) so
    that load from other processes falls on both alike; the figures are medians.
    """
    sizes = [max(args.rows // 4, 1), args.rows]
    exports: dict[int, dict[str, Any]] = {}
    for rows in sizes:
        export_dir = root / f"export-{rows}"
        print(f"generating {rows:,} 住民 rows (seed {args.seed}) …", file=sys.stderr)
        exports[rows] = _generate(export_dir, rows, args.seed)
    measured: dict[int, list[dict[str, Any]]] = {rows: [] for rows in sizes}
    for attempt in range(args.repeat):
        for rows in sizes:
            export_dir = root / f"export-{rows}"
            _warm([export_dir / n for n in INPUT_NAMES])
            print(f"running mig on {rows:,} rows ({attempt + 1}/{args.repeat}) …", file=sys.stderr)
            out = root / f"out-mig-{rows}"
            spec = {"export_dir": str(export_dir), "out": str(out), "batch_bytes": batch_bytes,
                    "workers": args.workers}
            measured[rows].append(_run_variant("mig", spec))
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
    runs = []
    for rows in sizes:
        result = dict(measured[rows][0])
        for key in ("seconds", "peak_rss_mb", "rss_after_import_mb"):
            result[key] = statistics.median(r[key] for r in measured[rows])
        runs.append({"export": exports[rows], "result": result,
                     "repeats": [{k: r[k] for k in ("seconds", "peak_rss_mb")} for r in measured[rows]]})
    median = f" (medians of {args.repeat} alternating runs)" if args.repeat > 1 else ""
    print(f"\nmig alone, batch size {batch_bytes:,} bytes{median}")
    print(f"{'input':>5} {'住民 rows':>10} {'records':>10} {'input MB':>9} {'seconds':>8} {'peak RSS MB':>12} {'after import MB':>16}")
    print("-" * 76)
    for label, run in zip(("1×", "4×"), runs, strict=True):
        e, r = run["export"], run["result"]
        print(
            f"{label:>5} {e['rows']:>10,} {e['records_total']:>10,} {_mb(e['bytes_total']):>9.1f} {r['seconds']:>8.1f} "
            f"{r['peak_rss_mb']:>12.0f} {r['rss_after_import_mb']:>16.0f}"
        )
    small, large = runs[0], runs[1]
    input_ratio = large["export"]["bytes_total"] / small["export"]["bytes_total"]
    rss_ratio = large["result"]["peak_rss_mb"] / small["result"]["peak_rss_mb"]
    work_small = small["result"]["peak_rss_mb"] - small["result"]["rss_after_import_mb"]
    work_large = large["result"]["peak_rss_mb"] - large["result"]["rss_after_import_mb"]
    work_ratio = work_large / work_small if work_small > 0 else float("nan")
    print()
    print(f"input ratio {input_ratio:.2f}x; peak RSS ratio {rss_ratio:.2f}x "
          f"({small['result']['peak_rss_mb']:.0f} -> {large['result']['peak_rss_mb']:.0f} MB; "
          f"issue 12 goal <= {MEMORY_GOAL:.2f}x: {'met' if rss_ratio <= MEMORY_GOAL else 'NOT met'}); "
          f"ratio of RSS above the post-import baseline {work_ratio:.2f}x")
    return {"mode": "memory", "batch_bytes": batch_bytes, "runs": runs, "repeat": args.repeat,
            "input_ratio": input_ratio, "peak_rss_ratio": rss_ratio, "work_rss_ratio": work_ratio}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mig conversion-path benchmark")
    parser.add_argument("--rows", type=int, default=1_000_000, help="住民 rows (SETAI and IDO follow)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, help="parent of the temporary work directory")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--batch-bytes", type=int, help="mig batch size (default: mig's own)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of raw,mig,pandas")
    parser.add_argument("--json", type=Path, dest="json_path", help="also save the figures as JSON")
    parser.add_argument("--memory", action="store_true", help="mig alone on rows/4 and rows: peak RSS")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved runs per variant (or per size with --memory); medians")
    parser.add_argument("--workers", type=int, help="mig: worker processes (mig extract --workers)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        result = _child(args.child, json.loads(args.spec))
        print(RESULT_MARK + json.dumps(result), flush=True)
        return 0

    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown or not args.variants:
        parser.error(f"--variants takes a subset of {','.join(VARIANTS)}")
    if args.rows < 200:
        parser.error("--rows must be at least 200")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    from mig.extract.run import DEFAULT_BATCH_BYTES

    batch_bytes = args.batch_bytes or DEFAULT_BATCH_BYTES
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="mig-bench-", dir=args.workdir))
    machine = _machine()
    print(f"machine: {machine['cpus']} CPUs, {machine['memory_gb']} GB, {machine['platform']}; "
          f"commit {machine['commit']}; "
          + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()))
    try:
        figures = _memory(args, root, batch_bytes) if args.memory else _bench(args, root, batch_bytes)
    finally:
        if args.keep:
            print(f"work directory kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    figures["machine"] = machine
    figures["args"] = {"rows": args.rows, "seed": args.seed, "variants": args.variants,
                       "repeat": args.repeat, "workers": args.workers}
    if args.json_path is not None:
        args.json_path.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"figures saved to {args.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
