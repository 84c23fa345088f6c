"""The CSV adapter alone: read the demo's JUMIN.csv (CP932) through every batch, optionally
side by side with another version of ``mig_adapters/csv.py`` (e.g. the base commit's).

Generates the seeded demo export once, then times ``CsvAdapter().open(...).batches()``
drained to the end (data, records and rejects built, nothing else), interleaving the
variants so that a busy machine slows both alike, and prints the median of each and their
ratio. With ``--baseline`` it first checks that both versions yield equal batches.

Nothing here asserts on time; this is a measurement, not a test.

Usage::

    python benchmarks/bench_csv_adapter.py [--rows 200000] [--seed 0] [--batch-bytes N]
                                           [--repeat 5] [--baseline OLD_CSV_PY] [--workdir DIR]
                                           [--json FILE]

e.g. ``git show BASE:adapters/mig_adapters/csv.py > /tmp/old_csv.py`` and
``--baseline /tmp/old_csv.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from mig_adapters import csv as current

from mig.demo.generator import generate_legacy_export
from mig.extract.run import DEFAULT_BATCH_BYTES


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("baseline_csv", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def read(module: ModuleType, path: Path, batch_bytes: int) -> list[Any]:
    reader = module.CsvAdapter().open(path, {"encoding": "cp932"}, batch_bytes=batch_bytes)
    return list(reader.batches())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-bytes", type=int, default=DEFAULT_BATCH_BYTES)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another csv.py to time against")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        export = generate_legacy_export(Path(tmp), rows=args.rows, seed=args.seed)
        path = export.jumin_csv
        variants: dict[str, ModuleType] = {"current": current}
        if args.baseline is not None:
            variants = {"baseline": load_module(args.baseline), **variants}
            for old, new in zip(read(variants["baseline"], path, args.batch_bytes),
                                read(current, path, args.batch_bytes), strict=True):
                for part in ("data", "records", "rejects"):
                    if not getattr(old, part).equals(getattr(new, part)):
                        raise SystemExit(f"baseline and current differ in {part}")
            print("baseline and current yield equal batches")
        seconds: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, module in variants.items():
                start = time.perf_counter()
                read(module, path, args.batch_bytes)
                seconds[name].append(time.perf_counter() - start)
        size = path.stat().st_size
    results = {
        name: {"seconds": statistics.median(times), "runs": times, "mb_per_s": size / 1e6 / statistics.median(times)}
        for name, times in seconds.items()
    }
    print(f"JUMIN.csv {args.rows} rows, {size / 1e6:.1f} MB, batches of {args.batch_bytes} bytes, "
          f"median of {args.repeat} interleaved runs")
    for name, result in results.items():
        print(f"  {name:9s} {result['seconds']:7.3f} s  {result['mb_per_s']:6.1f} MB/s  "
              f"runs {' '.join(f'{t:.2f}' for t in result['runs'])}")
    if "baseline" in results:
        print(f"  speed-up  {results['baseline']['seconds'] / results['current']['seconds']:.2f}×")
    if args.json:
        args.json.write_text(json.dumps({
            "benchmark": "csv-adapter", "rows": args.rows, "bytes": size, "batch_bytes": args.batch_bytes,
            "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
            "results": results,
        }, indent=2) + "\n")


if __name__ == "__main__":
    main()
