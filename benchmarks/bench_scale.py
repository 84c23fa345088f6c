"""Scale benchmark (issue 20): one big input extracted with 1 and 2 local partitions and
with Ray (a local cluster of 2 worker CPUs); speed-up, merge cost, identical run directories.

The input — ``--records`` 住民 records (default 10,000,000) — is generated *streaming*: the
seeded demo export (:func:`mig.demo.generator.generate_legacy_export`) is made
``--chunk-rows`` at a time in a scratch folder and its ``JUMIN.csv`` body appended to one
CP932 file, chunk ``k``'s 宛名番号 (``KOJIN_NO``, ten digits, below 10⁷ within a chunk)
prefixed with ``k`` so keys stay unique; memory is bounded by one chunk. It is never
committed (``--workdir`` decides where it goes; deleted unless ``--keep``).

Variants, each ``mig extract`` in a fresh process, wall time:

- ``single`` — one process (``--workers 1`` once the partitioned extract exists);
- ``workers2`` — ``--workers 2`` (needs ``mig.extract.engines``, branch ``parts``);
- ``ray2`` — ``--engine ray --address A`` against a throwaway 2-CPU Ray head
  (``tests/ray_support.py``), needs the same.

Every variant's run directory is compared with ``single``'s, file by file (the run's ``created_at``
masked wherever it appears); a difference is printed and the exit code is 1. The merge cost
is read from the run's JSON summary when the extract reports one (``merge_seconds``);
until then it is printed as ``n/a``.

Without ``mig.extract.engines`` the partitioned variants are skipped (said so) and the
benchmark still measures the single-process rate — the records/s per core of the capacity
model (``benchmarks/README.md``) — and the Ray engine's per-task overhead on the local
cluster (``--ray-overhead``: N trivial tasks through :class:`mig.extract.ray_engine.RayEngine`).

Shared machine: figures from a machine others use at the same time are indications, not
results; repeat with ``--repeat`` and read the medians.

Usage::

    python benchmarks/bench_scale.py [--records 10000000] [--chunk-rows 500000]
        [--variants single,workers2,ray2] [--repeat 1] [--ray-overhead 200]
        [--workdir DIR] [--keep] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VARIANTS = ("single", "workers2", "ray2")


def generate(out: Path, records: int, chunk_rows: int, seed: int) -> tuple[Path, Path]:
    """``JUMIN.csv`` with ``records`` rows and the demo mapping beside it, chunk by chunk."""
    from mig.demo.generator import generate_legacy_export, mapping_toml

    out.mkdir(parents=True, exist_ok=True)
    target = out / "JUMIN.csv"
    chunks = -(-records // chunk_rows)
    if chunks > 999:
        sys.exit("--records / --chunk-rows must stay under 1000 chunks (the key prefix has 3 digits)")
    with target.open("wb") as sink:
        for k in range(chunks):
            rows = min(chunk_rows, records - k * chunk_rows)
            scratch = out / f".chunk{k}"
            export = generate_legacy_export(scratch, rows=rows, seed=seed + k)
            data = export.jumin_csv.read_bytes()
            header, body = data.split(b"\r\n", 1)
            if k == 0:
                sink.write(header + b"\r\n")
            # KOJIN_NO is the first field, ten digits starting with 000 in every chunk
            prefix = f"{k:03d}".encode()
            body = prefix + body[3:] if body.startswith(b"000") else body
            sink.write(body.replace(b"\r\n000", b"\r\n" + prefix))
            shutil.rmtree(scratch)
    (out / "mapping.toml").write_bytes(mapping_toml())
    return target, out / "mapping.toml"


def run_files(run: Path) -> dict[str, str]:
    """sha256 of every file of a run directory, the run's ``created_at`` (the one field a run
    may change; the manifest, report.json and report.html show it) masked wherever it appears."""
    created = json.loads((run / "manifest.json").read_bytes())["created_at"].encode()
    digests = {}
    for path in sorted(p for p in run.rglob("*") if p.is_file()):
        data = path.read_bytes().replace(created, b"<created_at>")
        digests[str(path.relative_to(run))] = hashlib.sha256(data).hexdigest()
    return digests


def extract(source: Path, mapping: Path, out: Path, extra: list[str]) -> tuple[float, dict[str, Any]]:
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "mig", "extract", str(source), "-m", str(mapping), "-o", str(out),
               "--quiet", "--json", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"mig extract {' '.join(extra)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return seconds, json.loads(done.stdout)


def ray_overhead(address: str, tasks: int) -> float:
    """Seconds per trivial task through RayEngine on the cluster (submission + ordered get)."""
    from mig.extract.ray_engine import RayEngine

    engine = RayEngine(workers=2, address=address)
    list(engine.map_ordered(abs, list(range(8))))  # workers started, function shipped
    started = time.perf_counter()
    list(engine.map_ordered(abs, list(range(tasks))))
    return (time.perf_counter() - started) / tasks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--ray-overhead", type=int, default=200, metavar="TASKS",
                        help="measure RayEngine's per-task overhead with this many tasks (0: skip)")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", type=Path, dest="json_path")
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    if unknown := set(variants) - set(VARIANTS):
        sys.exit(f"unknown variants: {', '.join(sorted(unknown))}")
    partitioned = importlib.util.find_spec("mig.extract.engines") is not None
    has_ray = importlib.util.find_spec("ray") is not None
    sys.path.insert(0, str(REPO / "tests"))

    work = Path(tempfile.mkdtemp(prefix="mig-bench-parts-", dir=args.workdir))
    figures: dict[str, Any] = {"benchmark": "scale", "records": args.records, "seed": args.seed,
                               "chunk_rows": args.chunk_rows, "partitioned_extract": partitioned}
    same = True
    try:
        started = time.perf_counter()
        source, mapping = generate(work / "input", args.records, args.chunk_rows, args.seed)
        size = source.stat().st_size
        print(f"generated {args.records:,} records, {size / 1e6:,.0f} MB CP932, in "
              f"{time.perf_counter() - started:.1f} s (not timed)")
        with ExitStack() as stack:
            address = None
            if has_ray and ("ray2" in variants or args.ray_overhead):
                from ray_support import local_ray_head

                address = stack.enter_context(local_ray_head(cpus=2))
            extras = {"single": ["--workers", "1"] if partitioned else [],
                      "workers2": ["--workers", "2"],
                      "ray2": ["--engine", "ray", "--address", str(address), "--workers", "2"]}
            times: dict[str, list[float]] = {}
            merge: dict[str, float | None] = {}
            digests: dict[str, dict[str, str]] = {}
            for _ in range(args.repeat):
                for variant in variants:
                    if variant != "single" and not partitioned:
                        continue
                    if variant == "ray2" and address is None:
                        continue
                    out = work / f"run-{variant}"
                    seconds, summary = extract(source, mapping, out, extras[variant])
                    times.setdefault(variant, []).append(round(seconds, 3))
                    merge[variant] = summary.get("merge_seconds")
                    digests[variant] = run_files(out)
                    totals = json.loads((out / "manifest.json").read_text("utf-8"))["totals"]
                    figures.setdefault("totals", totals)
            skipped = [v for v in variants if v not in times]
            base = statistics.median(times["single"]) if "single" in times else None
            print(f"{'variant':<10} {'median s':>9} {'records/s':>12} {'speed-up':>9} {'merge s':>8}  identical  all runs")
            for variant, runs in times.items():
                median = statistics.median(runs)
                identical = digests[variant] == digests.get("single", digests[variant])
                same = same and identical
                speedup = f"{base / median:.2f}" if base else "-"
                merge_s = f"{merge[variant]:.2f}" if merge[variant] is not None else "n/a"
                print(f"{variant:<10} {median:>9.2f} {args.records / median:>12,.0f} {speedup:>9} {merge_s:>8}  "
                      f"{'yes' if identical else 'NO':<9}  {runs}")
            for variant in skipped:
                why = "needs mig.extract.engines (branch 'parts')" if not partitioned else "ray not installed"
                print(f"{variant:<10} skipped: {why}")
            figures.update({
                "seconds": times,
                "median_seconds": {k: statistics.median(v) for k, v in times.items()},
                "records_per_second": {k: round(args.records / statistics.median(v)) for k, v in times.items()},
                "merge_seconds": merge, "identical_to_single": same, "skipped": skipped,
            })
            if address is not None and args.ray_overhead:
                per_task = ray_overhead(address, args.ray_overhead)
                figures["ray_seconds_per_task"] = round(per_task, 5)
                print(f"RayEngine overhead on the local 2-CPU cluster: {per_task * 1000:.1f} ms per task "
                      f"({args.ray_overhead} trivial tasks)")
        figures["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                              "platform": platform.platform(), "shared": True}
        if args.json_path:
            args.json_path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
