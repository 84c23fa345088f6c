"""Where ``mig extract`` spends its time on the demo export: stage table + cProfile top list.

Runs :func:`mig.extract.run.extract` once under :mod:`cProfile` on a seeded demo export and
prints the cumulative time of each stage of the conversion path (CSV adapter, mapping,
validation, keys, writers, hashing), the mapping / validation time per layout, and the
fixed cost of one ``apply_mapping`` call on a 10-row batch per layout (query planning,
paid once per batch whatever its size). Profiling adds a little overhead; use
``bench_conversion.py`` for the figures themselves.

Usage::

    python benchmarks/profile_mig.py [--rows 1000000] [--seed 0] [--export DIR]
                                     [--batch-bytes N] [--top 25] [--workdir DIR] [--keep]
                                     [--timing R [--json FILE]]

``--timing R`` skips the profiler: it runs ``mig extract`` R times and prints, per run and
as medians, the wall time of the whole extract and the summed wall (and CPU) time of the
``apply_mapping`` and ``validate_frame`` calls — the figures to compare two versions by
(run each version's checkout alternately, e.g. with ``PYTHONPATH``; on a shared machine,
compare medians of interleaved runs only).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mig.demo.generator import generate_legacy_export
from mig.extract import run as extract_run  # ``mig.extract`` is the façade function
from mig.extract.mapping import apply_mapping, load_mapping
from mig.extract.run import DEFAULT_BATCH_BYTES, extract
from mig.registry import get_adapter
from mig.validation import batch as validation_batch

INPUT_NAMES = ("SETAI.csv", "JUMIN.csv", "IDO.csv")

#: (label, file name the function lives in, function name); indented labels are parts of
#: the stage above them. A function that no longer exists is listed as "-".
STAGES: tuple[tuple[str, str, str], ...] = (
    ("CSV adapter (read, frame, decode, split)", "csv.py", "_batches_raw"),
    ("  frame_block (quote parity, record/field ends)", "csv.py", "frame_block"),
    ("  _fast_split (Polars CSV reader, clean records)", "csv.py", "_fast_split"),
    ("  split_fields (fallback: field gather, unquote)", "csv.py", "split_fields"),
    ("  _decode (cp932 → utf-8)", "csv.py", "_decode"),
    ("per batch (_process_batch)", "run.py", "_process_batch"),
    ("  mapping (apply_mapping)", "mapping.py", "apply_mapping"),
    ("  validate_batch (rules, keys, severities)", "batch.py", "validate_batch"),
    ("    validation rules (validate_frame)", "rules.py", "validate_frame"),
    ("    foreign keys (check_foreign_keys)", "keys.py", "check_foreign_keys"),
    ("    primary keys (KeyTracker.duplicates)", "keys.py", "duplicates"),
    ("  rejects (_rejects)", "run.py", "_rejects"),
    ("  write accepted (Parquet + CSV)", "writer.py", "write_accepted"),
    ("  write rejects", "writer.py", "write_rejects"),
    ("  write findings", "writer.py", "write_findings"),
    ("  findings summary (FindingAccumulator.add)", "report.py", "add"),
    ("sha256 of inputs and outputs", "writer.py", "sha256_file"),
    ("HTML report", "run_report.py", "render_report_html"),
)


def _stage_times(stats: pstats.Stats) -> dict[tuple[str, str], float]:
    """Cumulative seconds per (file name, function name), summed over same-named functions."""
    times: dict[tuple[str, str], float] = defaultdict(float)
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        times[(Path(filename).name, function)] += row[3]
    return times


def _timed(store: dict[str, float], func: Callable[..., Any], layout_of: Callable[..., str]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            store[layout_of(*args)] += time.perf_counter() - started

    return wrapper


def _timed_cpu(store: dict[str, float], name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            store[name] += time.perf_counter() - wall
            store[name + " cpu"] += time.process_time() - cpu

    return wrapper


def _timing(export_dir: Path, root: Path, runs: int, batch_bytes: int, json_path: Path | None) -> None:
    """``runs`` extracts without the profiler: extract wall time and the stage sums per run."""
    import mig

    inputs = [export_dir / name for name in INPUT_NAMES]
    modules = {"apply_mapping": extract_run, "validate_frame": validation_batch}
    originals = {name: getattr(module, name) for name, module in modules.items()}
    results: list[dict[str, float]] = []
    for run in range(runs):
        times: dict[str, float] = defaultdict(float)
        for name, module in modules.items():
            setattr(module, name, _timed_cpu(times, name, originals[name]))
        try:
            started = time.perf_counter()
            extract(export_dir / "mapping.toml", inputs, root / "run", force=True, batch_bytes=batch_bytes)
            times["extract"] = time.perf_counter() - started
        finally:
            for name, module in modules.items():
                setattr(module, name, originals[name])
        results.append(dict(times))
        print(f"run {run + 1}: " + "  ".join(f"{k} {v:.3f}" for k, v in sorted(times.items())), flush=True)
    medians = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print("median: " + "  ".join(f"{k} {v:.3f}" for k, v in sorted(medians.items())))
    if json_path is not None:
        json_path.write_text(
            json.dumps({"mig": mig.__file__, "batch_bytes": batch_bytes, "runs": results, "median": medians}, indent=1),
            encoding="utf-8",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="profile mig extract on the demo export")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--export", type=Path, help="an existing demo export directory (skips generation)")
    parser.add_argument("--batch-bytes", type=int, default=DEFAULT_BATCH_BYTES)
    parser.add_argument("--top", type=int, default=25, help="lines of the cProfile tottime list")
    parser.add_argument("--workdir", type=Path, help="parent of the temporary work directory")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--timing", type=int, metavar="R", help="no profile: R timed extract runs")
    parser.add_argument("--json", type=Path, help="with --timing: write the runs and medians here")
    args = parser.parse_args(argv)

    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="mig-profile-", dir=args.workdir))
    try:
        export_dir = args.export
        if export_dir is None:
            export_dir = root / "export"
            export_dir.mkdir()
            print(f"generating {args.rows:,} 住民 rows (seed {args.seed}) …", file=sys.stderr)
            generate_legacy_export(export_dir, args.rows, args.seed)
        inputs = [export_dir / name for name in INPUT_NAMES]
        if args.timing:
            _timing(export_dir, root, args.timing, args.batch_bytes, args.json)
            return 0

        per_layout: dict[str, dict[str, float]] = {
            "apply_mapping": defaultdict(float),
            "validate_frame": defaultdict(float),
        }
        # patch the names extract() and validate_batch() look up, for per-layout timing
        modules = {"apply_mapping": extract_run, "validate_frame": validation_batch}
        originals = {name: getattr(modules[name], name) for name in per_layout}
        setattr(  # noqa: B010
            extract_run, "apply_mapping",
            _timed(per_layout["apply_mapping"], originals["apply_mapping"], lambda _d, fm, *_: fm.layout.id),
        )
        setattr(  # noqa: B010
            validation_batch, "validate_frame",
            _timed(per_layout["validate_frame"], originals["validate_frame"], lambda _f, layout, *_: layout.id),
        )
        profiler = cProfile.Profile()
        started = time.perf_counter()
        try:
            profiler.enable()
            extract(export_dir / "mapping.toml", inputs, root / "run", force=True, batch_bytes=args.batch_bytes)
            profiler.disable()
        finally:
            for name, func in originals.items():
                setattr(modules[name], name, func)
        total = time.perf_counter() - started
        stats = pstats.Stats(profiler)
        times = _stage_times(stats)

        print(f"\nmig extract under cProfile: {total:.1f} s, batch size {args.batch_bytes:,} bytes")
        print(f"{'stage':<50} {'seconds':>8} {'share':>6}")
        print("-" * 66)
        for label, filename, function in STAGES:
            seconds = times.get((filename, function))
            if seconds is None:
                print(f"{label:<50} {'-':>8}")
            else:
                print(f"{label:<50} {seconds:>8.2f} {seconds / total:>6.1%}")

        print(f"\n{'per layout':<14} {'apply_mapping s':>16} {'validate_frame s':>17} {'mapping, 10-row batch s':>24}")
        mapping = load_mapping(export_dir / "mapping.toml")
        adapter = get_adapter(mapping.adapter)
        for file_mapping in mapping.files:
            layout_id = file_mapping.layout.id
            path = next(p for p in inputs if any(Path(p).match(g) for g in file_mapping.inputs))
            reader = adapter.open(path, mapping.source, batch_bytes=1 << 20)
            small = next(iter(reader.batches())).data.head(10)
            started = time.perf_counter()
            apply_mapping(small, file_mapping, mapping.code_maps)
            fixed = time.perf_counter() - started
            print(
                f"{layout_id:<14} {per_layout['apply_mapping'].get(layout_id, 0.0):>16.2f} "
                f"{per_layout['validate_frame'].get(layout_id, 0.0):>17.2f} {fixed:>24.2f}"
            )

        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        print(f"\ncProfile, top {args.top} by own time (Polars work shows as PyLazyFrame.collect):")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:20000])
    finally:
        if args.keep:
            print(f"work directory kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
