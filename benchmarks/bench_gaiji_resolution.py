"""外字 resolution benchmark: ``mig extract`` of the demo export with and without a registry.

Generates the seeded demo legacy export once (:func:`mig.demo.generator.generate_legacy_export`,
whose 氏名 carry the vendor's Private Use 外字), writes a second mapping that adds the
demo registry (:func:`mig.demo.registry.attach_demo_registry`: ``[gaiji]`` with the six
characters of ``gaiji/registries/demo-vendor.csv``), then runs :func:`mig.extract.run.extract`
on the same files alternately without (``plain``) and with (``registry``) it, each run in
its own fresh interpreter, ``--repeat`` times. It prints the median seconds of each and
their ratio; the target is ``registry / plain ≤ 1.10``.

``plain`` already pays for the per-character scan that reports unresolved 外字 (it runs
whether or not a registry is given); ``registry`` adds loading the MJ table and registry and
one ``str.replace_many`` per text item and batch.

Nothing here asserts on time; this is a measurement, not a test.

Usage::

    python benchmarks/bench_gaiji_resolution.py [--rows 200000] [--seed 0] [--repeat 3]
                                                [--workdir DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULT_MARK = "BENCH-RESULT "
INPUT_NAMES = ("SETAI.csv", "JUMIN.csv", "IDO.csv")


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    from mig.extract import run as extract_run  # ``mig.extract`` is the façade function
    from mig.extract.run import extract

    in_resolver = [0.0]
    resolve = getattr(extract_run, "resolve_frame", None)
    if resolve is not None:  # time the resolver's own share (instrumentation, not a stub)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return resolve(*args, **kwargs)
            finally:
                in_resolver[0] += time.perf_counter() - t

        extract_run.resolve_frame = timed  # type: ignore[attr-defined]
    export_dir = Path(spec["export_dir"])
    out = Path(spec["out"])
    t0 = time.perf_counter()
    c0 = time.process_time()
    result = extract(Path(spec["mapping"]), [export_dir / n for n in INPUT_NAMES], out, force=True)
    cpu = time.process_time() - c0
    seconds = time.perf_counter() - t0
    unresolved = sum(g["count"] for f in result.report.files for g in f.gaiji)
    return {
        "seconds": seconds, "cpu_seconds": cpu, "resolver_seconds": in_resolver[0],
        "unresolved": unresolved, "totals": result.manifest["totals"],
    }


def _run(spec: dict[str, Any]) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"run failed (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_MARK):])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(RESULT_MARK + json.dumps(_child(json.loads(args.child))))
        return

    from mig.demo.generator import generate_legacy_export
    from mig.demo.registry import attach_demo_registry

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mig-bench-gaiji-"))
    try:
        export_dir = workdir / "export"
        export = generate_legacy_export(export_dir, args.rows, args.seed)
        with_registry = workdir / "registry" / "mapping.toml"
        with_registry.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(export.mapping, with_registry)
        attach_demo_registry(with_registry)
        for name in INPUT_NAMES:  # warm the page cache
            (export_dir / name).read_bytes()
        variants = {"plain": export.mapping, "registry": with_registry}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, mapping in variants.items():  # interleaved: drift hits both alike
                spec = {"export_dir": str(export_dir), "mapping": str(mapping), "out": str(workdir / f"run-{name}")}
                runs[name].append(_run(spec))
        median = {name: statistics.median(r["seconds"] for r in rs) for name, rs in runs.items()}
        best = {name: min(r["seconds"] for r in rs) for name, rs in runs.items()}
        cpu = {name: statistics.median(r["cpu_seconds"] for r in rs) for name, rs in runs.items()}
        share = statistics.median(r["resolver_seconds"] / r["seconds"] for r in runs["registry"])
        ratio = median["registry"] / median["plain"]
        result = {
            "benchmark": "gaiji-resolution",
            "rows": args.rows,
            "seed": args.seed,
            "records_total": runs["plain"][0]["totals"]["rows_in"],
            "gaiji_rows": export.gaiji_rows,
            "repeat": args.repeat,
            "seconds": {name: [round(r["seconds"], 3) for r in rs] for name, rs in runs.items()},
            "median_seconds": {k: round(v, 3) for k, v in median.items()},
            "best_seconds": {k: round(v, 3) for k, v in best.items()},
            "median_cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
            "resolver_share_of_registry_run": round(share, 4),
            "ratio_best": round(best["registry"] / best["plain"], 4),
            "ratio_cpu": round(cpu["registry"] / cpu["plain"], 4),
            "unresolved": {name: rs[0]["unresolved"] for name, rs in runs.items()},
            "ratio": round(ratio, 4),
            "target_ratio": 1.10,
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        }
        print(f"rows {args.rows:,} (records {result['records_total']:,}; 外字 rows {export.gaiji_rows:,})")
        for name in variants:
            print(
                f"{name:<9} median {median[name]:7.2f} s  best {best[name]:7.2f} s  cpu {cpu[name]:7.2f} s"
                f"   runs {result['seconds'][name]}   unresolved {result['unresolved'][name]}"
            )
        print(
            f"ratio registry / plain = {ratio:.3f} median wall, {result['ratio_best']:.3f} best wall, "
            f"{result['ratio_cpu']:.3f} cpu (target ≤ 1.10)"
        )
        print(f"resolve_frame share of the registry run's wall time: {share:.1%}")
        if args.json:
            args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
