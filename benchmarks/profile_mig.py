"""Where ``mig extract`` spends its time on the demo export: stage table + cProfile top list.

Runs :func:`mig.extract.run.extract` on a seeded demo export and prints the time of each
stage of the conversion path as the run is built since the partition refactor (issue 20):
the partition stage — adapter (read, frame, decode, split), contract check, mapping,
外字 resolution, ``check_rows`` (the layout's rules) — and the serial merge — ``check_keys``
(foreign and primary keys), the rejects, writing (Parquet + intermediate CSV + rejects +
findings), hashing (sha256 of inputs and outputs) and the HTML report. Also the mapping /
rules time per layout, the number of batches (calls) per stage, and the fixed cost of one
``apply_mapping`` and one ``validate_frame`` call on a 10-row batch per layout (planning
and Python overhead, paid once per batch whatever its size).

Default mode: one run under :mod:`cProfile`; the stage table is the cumulative time of
each stage's function (profiling adds overhead to Python-heavy code; use
``bench_conversion.py`` for the figures themselves).

``--timing R`` skips the profiler: it runs ``mig extract`` R times and prints, per run and
as medians, the wall time of the whole extract and the summed wall **and CPU** seconds of
each stage, measured by wrapping the stage functions where the partition stage and the
merge look them up. CPU seconds are the process's (Polars', Arrow's and NumPy's threads
included), so on a shared machine they are the steadier figure to compare two versions by
(run each version's checkout alternately, e.g. with ``PYTHONPATH``; compare medians of
interleaved runs only). Nested stages (indented) are part of the stage above them. While
stages run at the same time in several threads, a stage's CPU seconds include the other
threads' work of that time.

A stage whose function the running mig does not have is listed as ``-``.

Usage::

    python benchmarks/profile_mig.py [--rows 1000000] [--seed 0] [--export DIR]
                                     [--batch-bytes N] [--top 25] [--workdir DIR] [--keep]
                                     [--timing R [--json FILE] [--serial]] [--workers N]

An input large enough to be cut into partitions runs them in worker processes, which the
stage table does not see (it says so): ``--workers 1`` keeps them in this process. The
profile runs the stages one after the other in this thread (``extract(pipeline=False)``),
since cProfile sees one thread and the pipeline's reader thread would hide the partition
stage; ``--timing --serial`` does the same without the profiler.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import json
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mig.demo.generator import generate_legacy_export
from mig.extract.mapping import apply_mapping, load_mapping
from mig.extract.run import DEFAULT_BATCH_BYTES, extract
from mig.registry import get_adapter
from mig.validation.rules import validate_frame

INPUT_NAMES = ("SETAI.csv", "JUMIN.csv", "IDO.csv")


@dataclass(frozen=True)
class Stage:
    """One row of the stage table.

    ``depth``: nesting under the stage above. ``file`` / ``function``: where cProfile finds
    it (cumulative time, summed over same-named functions of that file). ``module`` /
    ``attribute``: the name the caller looks the function up by, wrapped for ``--timing``
    (``Class.method`` for a method; ``None``: not timed there). ``per_layout``: the
    positional argument whose layout id splits the stage per layout (``layout`` itself,
    or an object with ``.layout``).
    """

    label: str
    depth: int
    file: str
    function: str
    module: str | None = None
    attribute: str | None = None
    generator: bool = False
    per_layout: int | None = None


STAGES: tuple[Stage, ...] = (
    Stage("partition stage (run_partition, merge included)", 0, "partitions.py", "run_partition"),
    Stage("adapter: open (header; CSV reads its first batch ahead)", 1, "registry.py", "open_reader",
          "mig.extract.partitions", "open_reader"),
    Stage("adapter: next batches", 1, "partitions.py", "scoped", "mig.extract.partitions", "scoped", generator=True),
    Stage("CSV batches: read, frame, decode, split (both rows above)", 1, "csv.py", "_batches_raw"),
    Stage("frame_block (quotes, record/field ends)", 2, "csv.py", "frame_block"),
    Stage("_decode (cp932 → utf-8)", 2, "csv.py", "_decode"),
    Stage("_fast_split (Polars CSV reader)", 2, "csv.py", "_fast_split"),
    Stage("split_fields (fallback splitter)", 2, "csv.py", "split_fields"),
    Stage("contract check (check_batch)", 1, "contract.py", "check_batch", "mig.extract.partitions", "check_batch"),
    Stage("mapping (apply_mapping)", 1, "mapping.py", "apply_mapping",
          "mig.extract.partitions", "apply_mapping", per_layout=1),
    Stage("外字 (resolve_frame)", 1, "resolve.py", "resolve_frame", "mig.extract.partitions", "resolve_frame"),
    Stage("check_rows", 1, "batch.py", "check_rows", "mig.extract.partitions", "check_rows"),
    Stage("rules (validate_frame)", 2, "rules.py", "validate_frame",
          "mig.validation.batch", "validate_frame", per_layout=1),
    Stage("merge (_LayoutMerge.add)", 0, "run.py", "add", "mig.extract.run", "_LayoutMerge.add"),
    Stage("check_keys", 1, "batch.py", "check_keys", "mig.extract.run", "check_keys"),
    Stage("foreign keys (check_foreign_keys)", 2, "keys.py", "check_foreign_keys",
          "mig.validation.batch", "check_foreign_keys"),
    Stage("primary keys (KeyTracker.duplicates)", 2, "keys.py", "duplicates",
          "mig.validation.keys", "KeyTracker.duplicates"),
    Stage("rejects (_rejects)", 1, "run.py", "_rejects", "mig.extract.run", "_rejects"),
    Stage("write accepted (Parquet + CSV; handed to the writer threads)", 1, "writer.py", "write_accepted",
          "mig.run.writer", "LayoutWriter.write_accepted"),
    Stage("write rejects", 1, "writer.py", "write_rejects", "mig.run.writer", "LayoutWriter.write_rejects"),
    Stage("write findings", 1, "writer.py", "write_findings", "mig.run.writer", "LayoutWriter.write_findings"),
    Stage("findings summary (FindingAccumulator.add)", 1, "report.py", "add",
          "mig.validation.report", "FindingAccumulator.add"),
    Stage("writers closed (last row groups, waiting for the writers)", 0, "writer.py", "close",
          "mig.run.writer", "LayoutWriter.close"),
    Stage("sha256 of inputs (in a side thread: --timing only)", 0, "writer.py", "sha256_file", "mig.run.writer", "sha256_file"),
    Stage("HTML report", 0, "run_report.py", "render_report_html", "mig.extract.run", "render_report_html"),
)


def _layout_id(argument: Any) -> str:
    layout = getattr(argument, "layout", argument)
    return str(getattr(layout, "id", "?"))


class Probe:
    """The stage functions wrapped with wall / CPU timers while a run goes (``--timing``)."""

    def __init__(self) -> None:
        self.times: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.layouts: dict[tuple[str, str], float] = defaultdict(float)
        self._undo: list[Callable[[], None]] = []

    def __enter__(self) -> Probe:
        for stage in STAGES:
            if stage.module is not None and stage.attribute is not None:
                self._wrap(stage)
        return self

    def __exit__(self, *_: object) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def _wrap(self, stage: Stage) -> None:
        assert stage.module is not None and stage.attribute is not None
        owner: Any = importlib.import_module(stage.module)
        *path, name = stage.attribute.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        original = getattr(owner, name, None) if owner is not None else None
        if original is None:  # not in this version of mig
            return
        wrapped = self._generator(stage, original) if stage.generator else self._function(stage, original)
        setattr(owner, name, wrapped)
        self._undo.append(lambda: setattr(owner, name, original))

    def _add(self, stage: Stage, wall: float, cpu: float, args: tuple[Any, ...]) -> None:
        self.times[stage.label] += wall
        self.times[stage.label + " cpu"] += cpu
        if stage.per_layout is not None and len(args) > stage.per_layout:
            self.layouts[(stage.label, _layout_id(args[stage.per_layout]))] += cpu

    def _function(self, stage: Stage, original: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.calls[stage.label] += 1
                self._add(stage, time.perf_counter() - wall, time.process_time() - cpu, args)

        return timed

    def _generator(self, stage: Stage, original: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            items = original(*args, **kwargs)
            while True:  # time each step of the generator, not what its consumer does
                wall, cpu = time.perf_counter(), time.process_time()
                try:
                    item = next(items)
                except StopIteration:
                    self._add(stage, time.perf_counter() - wall, time.process_time() - cpu, args)
                    return
                self.calls[stage.label] += 1
                self._add(stage, time.perf_counter() - wall, time.process_time() - cpu, args)
                yield item

        return timed


def _stage_times(stats: pstats.Stats) -> dict[tuple[str, str], float]:
    """Cumulative seconds per (file name, function name), summed over same-named functions."""
    times: dict[tuple[str, str], float] = defaultdict(float)
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        times[(Path(filename).name, function)] += row[3]
    return times


def _label(stage: Stage) -> str:
    return "  " * stage.depth + stage.label


def _run_extract(
    export_dir: Path, root: Path, batch_bytes: int, workers: int | None, pipeline: bool | None = None
) -> float:
    inputs = [export_dir / name for name in INPUT_NAMES]
    started = time.perf_counter()
    extract(
        export_dir / "mapping.toml", inputs, root / "run", force=True, batch_bytes=batch_bytes, workers=workers,
        pipeline=pipeline,
    )
    return time.perf_counter() - started


def _partitions_note(calls: dict[str, int]) -> None:
    if not calls.get(STAGES[1].label):
        print("(the partition stage ran in worker processes, which are not measured here: --workers 1 "
              "runs it in this process)")


def _timing(
    export_dir: Path, root: Path, runs: int, batch_bytes: int, json_path: Path | None, workers: int | None,
    pipeline: bool | None = None,
) -> None:
    """``runs`` extracts without the profiler: extract wall / CPU and the stage sums per run."""
    import mig

    results: list[dict[str, float]] = []
    calls: dict[str, int] = {}
    layouts: dict[tuple[str, str], list[float]] = defaultdict(list)
    for run in range(runs):
        with Probe() as probe:
            cpu = time.process_time()
            wall = _run_extract(export_dir, root, batch_bytes, workers, pipeline)
            cpu = time.process_time() - cpu
        times = {"extract": wall, "extract cpu": cpu, **probe.times}
        results.append(times)
        calls = dict(probe.calls)
        for key, seconds in probe.layouts.items():
            layouts[key].append(seconds)
        print(f"run {run + 1}: extract {wall:.3f} s wall, {cpu:.3f} s CPU", flush=True)
    medians = {k: statistics.median(r.get(k, 0.0) for r in results) for k in results[0]}
    total_cpu = medians["extract cpu"]
    print(f"\nmig extract, median of {runs} run(s): {medians['extract']:.2f} s wall, {total_cpu:.2f} s CPU "
          f"(batch size {batch_bytes:,} bytes; CPU = all threads of the process)")
    print(f"{'stage':<56} {'calls':>6} {'wall s':>8} {'CPU s':>8} {'CPU share':>9}")
    print("-" * 91)
    for stage in STAGES:
        if stage.module is None:
            continue
        label = _label(stage)
        if stage.label not in medians:
            print(f"{label:<56} {'-':>6}")
            continue
        seconds, cpu = medians[stage.label], medians[stage.label + " cpu"]
        print(f"{label:<56} {calls.get(stage.label, 0):>6} {seconds:>8.3f} {cpu:>8.3f} {cpu / total_cpu:>9.1%}")
    _partitions_note(calls)
    if layouts:
        print(f"\n{'per layout, CPU s':<40} {'median':>8}")
        for (label, layout_id), values in sorted(layouts.items()):
            print(f"{label + ' ' + layout_id:<40} {statistics.median(values):>8.3f}")
    if json_path is not None:
        json_path.write_text(
            json.dumps({"mig": mig.__file__, "batch_bytes": batch_bytes, "workers": workers, "runs": results,
                        "median": medians,
                        "calls": calls}, indent=1, ensure_ascii=False),
            encoding="utf-8",
        )


def _median_seconds(call: Callable[[], object], times: int = 7) -> float:
    """The median wall seconds of ``times`` calls (one call is at the mercy of the machine)."""
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def _fixed_costs(export_dir: Path) -> None:
    """Per layout: the seconds of one ``apply_mapping`` and one ``validate_frame`` call on 10
    rows (median of 7, after a first call that also builds what is cached per layout)."""
    inputs = [export_dir / name for name in INPUT_NAMES]
    mapping = load_mapping(export_dir / "mapping.toml")
    adapter = get_adapter(mapping.adapter)
    print(f"\n{'fixed cost per batch (10 rows)':<32} {'apply_mapping s':>16} {'validate_frame s':>17}  (median of 7)")
    for file_mapping in mapping.files:
        path = next(p for p in inputs if any(Path(p).match(g) for g in file_mapping.inputs))
        reader = adapter.open(path, mapping.source, batch_bytes=1 << 20)
        small = next(iter(reader.batches())).data.head(10)
        mapped, _ = apply_mapping(small, file_mapping, mapping.code_maps)  # warm: per-layout caches
        validate_frame(mapped, file_mapping.layout)
        seconds = [
            _median_seconds(lambda: apply_mapping(small, file_mapping, mapping.code_maps)),  # noqa: B023
            _median_seconds(lambda: validate_frame(mapped, file_mapping.layout)),  # noqa: B023
        ]
        print(f"{file_mapping.layout.id:<32} {seconds[0]:>16.4f} {seconds[1]:>17.4f}")


def _profile(export_dir: Path, root: Path, batch_bytes: int, top: int, workers: int | None) -> None:
    profiler = cProfile.Profile()
    with Probe() as probe:
        profiler.enable()
        try:
            # cProfile sees this thread only: the stages run one after the other in it
            total = _run_extract(export_dir, root, batch_bytes, workers, pipeline=False)
        finally:
            profiler.disable()
    times = _stage_times(pstats.Stats(profiler))

    print(f"\nmig extract under cProfile: {total:.1f} s, batch size {batch_bytes:,} bytes "
          "(stages one after the other in this thread, as extract(pipeline=False) runs them)")
    print(f"{'stage':<56} {'calls':>6} {'seconds':>8} {'share':>6}")
    print("-" * 79)
    for stage in STAGES:
        seconds = times.get((stage.file, stage.function))
        calls = probe.calls.get(stage.label)
        shown = "" if calls is None else str(calls)
        if seconds is None:
            print(f"{_label(stage):<56} {shown:>6} {'-':>8}")
        else:
            print(f"{_label(stage):<56} {shown:>6} {seconds:>8.2f} {seconds / total:>6.1%}")
    _partitions_note(probe.calls)
    if probe.layouts:
        print(f"\n{'per layout (CPU s, profiled)':<40} {'seconds':>8}")
        for (label, layout_id), seconds in sorted(probe.layouts.items()):
            print(f"{label + ' ' + layout_id:<40} {seconds:>8.2f}")
    _fixed_costs(export_dir)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(f"\ncProfile, top {top} by own time (Polars work shows as PyLazyFrame.collect):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:20000])


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
    parser.add_argument("--workers", type=int, help="extract's --workers (default: its own); 1 keeps every "
                        "stage in this process, where it is measured")
    parser.add_argument("--serial", action="store_true", help="with --timing: extract(pipeline=False), the "
                        "stages one after the other in one thread, so that each stage's time is its own "
                        "(the profile always runs so)")
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
        if args.timing:
            _timing(export_dir, root, args.timing, args.batch_bytes, args.json, args.workers,
                    False if args.serial else None)
        else:
            _profile(export_dir, root, args.batch_bytes, args.top, args.workers)
    finally:
        if args.keep:
            print(f"work directory kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
