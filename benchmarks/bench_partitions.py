"""Partitioned ``mig extract``: ``--workers N`` against ``--workers 1`` on the demo-like export.

Generates the synthetic 住民記録 export (:mod:`mig.demo.generator`: SETAI, JUMIN, IDO) of
``--rows`` 住民, runs ``mig extract`` once per worker count in a fresh process — alternating,
``--repeat`` rounds, medians — and checks that every run directory is byte-identical to the
first one (manifest and reports apart from ``created_at``). Prints seconds, records/s and the
speed-up; ``--json`` saves them. Times are wall-clock of the whole command (start-up, the
partition stage, the serial merge, the reports).

    python benchmarks/bench_partitions.py --rows 1000000 --workers 1,2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def run_digest(run: Path) -> dict[str, str]:
    """sha256 of every file of a run directory, ``created_at`` taken out."""
    created = json.loads((run / "manifest.json").read_text(encoding="utf-8"))["created_at"].encode()
    return {
        str(path.relative_to(run)): hashlib.sha256(path.read_bytes().replace(created, b"")).hexdigest()
        for path in sorted(run.rglob("*")) if path.is_file()
    }


def _tree_bytes(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:  # removed meanwhile
                pass
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--partition-mb", type=int, default=None, help="mig's --partition-mb (default: mig's own)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", type=Path, dest="json_path")
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    from mig.demo.generator import generate_legacy_export

    root = Path(tempfile.mkdtemp(prefix="mig-bench-parts-", dir=args.workdir))
    try:
        export = generate_legacy_export(root / "export", args.rows, args.seed)
        inputs = [export.setai_csv, export.jumin_csv, export.ido_csv]
        records = export.rows + export.setai_rows + export.ido_rows
        size = sum(p.stat().st_size for p in inputs)
        print(f"input: {records} records, {size / 2**20:.0f} MiB; cores this process may use: "
              f"{len(os.sched_getaffinity(0))} (a shared machine: figures vary with the others' load)")
        seconds: dict[int, list[float]] = {w: [] for w in counts}
        digests: dict[int, dict[str, str]] = {}
        peak: dict[int, int] = {}
        for _ in range(args.repeat):
            for workers in counts:
                out = root / f"run-{workers}"
                command = [sys.executable, "-m", "mig", "extract", *map(str, inputs), "-m", str(export.mapping),
                           "-o", str(out), "--force", "--quiet", "--workers", str(workers)]
                if args.partition_mb is not None:
                    command += ["--partition-mb", str(args.partition_mb)]
                start = time.perf_counter()
                process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                work = root / f".run-{workers}.work"
                while process.poll() is None:  # the spill's peak size: the partitions' files
                    peak[workers] = max(peak.get(workers, 0), _tree_bytes(work))
                    time.sleep(0.2)
                stderr = process.stderr.read() if process.stderr else ""
                seconds[workers].append(time.perf_counter() - start)
                if process.returncode not in (0, 1):
                    print(stderr[-2000:], file=sys.stderr)
                    return 2
                digests[workers] = run_digest(out)
        first = digests[counts[0]]
        figures: dict[str, Any] = {"rows": args.rows, "records": records, "bytes": size, "runs": {}}
        base = statistics.median(seconds[counts[0]])
        for workers in counts:
            median = statistics.median(seconds[workers])
            same = digests[workers] == first
            figures["runs"][str(workers)] = {
                "seconds": seconds[workers], "median": median, "records_per_s": records / median,
                "speed_up": base / median, "identical": same, "spill_peak_bytes": peak.get(workers, 0),
            }
            print(f"--workers {workers}: {median:7.1f} s  {records / median:10.0f} records/s  "
                  f"×{base / median:.2f}  spill peak {peak.get(workers, 0) / 2**20:.0f} MiB  "
                  f"run directory {'identical' if same else 'DIFFERENT'}")
        if args.json_path is not None:
            args.json_path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        return 0 if all(r["identical"] for r in figures["runs"].values()) else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
