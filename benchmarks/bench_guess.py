"""``mig guess`` benchmark: time and peak memory against the size of the sample file.

``mig guess`` reads a bounded sample (the first 1 MiB / 2000 records of each file,
:mod:`mig.guess.sniff`), so its time and memory should not grow with the file. This
generates the seeded demo 住民 export (``JUMIN.csv``) at ``--rows`` and at ten times that,
runs :func:`mig.guess` on each in its own fresh interpreter ``--repeat`` times and prints
the median seconds and the peak RSS of each size.

Nothing here asserts on time; this is a measurement, not a test.

Usage::

    python benchmarks/bench_guess.py [--rows 100000] [--repeat 3] [--workdir DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHILD = """
import resource, sys, time
from pathlib import Path
import mig
t = time.perf_counter()
result = mig.guess([Path(sys.argv[1])], "juki-jumin")
seconds = time.perf_counter() - t
print(f"{seconds:.3f} {len(result.matches)} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
"""


GENERATE = """
import sys
from pathlib import Path
from mig.demo.generator import generate_legacy_export
print(generate_legacy_export(Path(sys.argv[1]), rows=int(sys.argv[2])).rows)
"""


def run_child(path: Path) -> tuple[float, int, int]:
    """Seconds inside :func:`mig.guess`, items matched, peak RSS (KiB) of a fresh process."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], check=True, capture_output=True, text=True)
    seconds, matched, peak = out.stdout.split()
    return float(seconds), int(matched), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        results: list[dict[str, Any]] = []
        for rows in (args.rows, args.rows * 10):
            folder = Path(tmp) / str(rows)
            folder.mkdir()
            t = time.perf_counter()
            # in its own process: a fork of a parent that had built the export would count
            # the parent's memory in the child's peak RSS
            generated_rows = subprocess.run(
                [sys.executable, "-c", GENERATE, str(folder), str(rows)], check=True, capture_output=True, text=True
            ).stdout.strip()
            generated = time.perf_counter() - t
            sample = folder / "JUMIN.csv"
            runs = [run_child(sample) for _ in range(args.repeat)]
            results.append({
                "rows": int(generated_rows),
                "bytes": sample.stat().st_size,
                "seconds_median": statistics.median(r[0] for r in runs),
                "matched": runs[0][1],
                "peak_rss_kib": max(r[2] for r in runs),
                "generate_seconds": round(generated, 1),
            })
    print(f"{'rows':>10} {'MiB':>8} {'guess s':>8} {'peak RSS MiB':>13} {'items matched':>14}")
    for r in results:
        print(f"{r['rows']:>10} {r['bytes'] / 2**20:>8.1f} {r['seconds_median']:>8.2f} "
              f"{r['peak_rss_kib'] / 1024:>13.0f} {r['matched']:>14}")
    if args.json:
        args.json.write_text(json.dumps({
            "benchmark": "guess", "python": platform.python_version(), "machine": platform.machine(),
            "repeat": args.repeat, "results": results,
        }, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
