"""A single-process ``mig extract`` runs its stages side by side: the source of batch N+2 is
read and decoded while batch N+1 is mapped and checked and batch N merged and written
(:func:`mig.extract.engines.run_ahead`, :func:`mig.extract.partitions.run_partitions_ahead`).

What must not change with it: the run directory's bytes (whatever the batch size, with
rejects, foreign keys and duplicate keys), the error a bad input gets (same exception,
same message, same exit code, at the same point), and memory — a bounded number of
batches alive, never the input. No thread is left behind, whatever happened.

The reference is always the same run with ``pipeline=False`` (stages one after the other).
"""

from __future__ import annotations

import gc
import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mig.cli import main
from mig.demo.generator import DemoExport, generate_legacy_export
from mig.errors import InputError, MigError
from mig.extract.engines import AHEAD_THREAD, run_ahead
from mig.extract.partitions import CheckedBatch
from mig.extract.run import extract
from mig.plugin import SourceBatch

SLOW = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == AHEAD_THREAD]


def no_thread_left() -> bool:
    """True once every thread run_ahead started has ended (a join is done before the
    consumer's exception goes on, so this holds at once; the wait only bounds a failure)."""
    deadline = time.monotonic() + 5
    while ahead_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    return not ahead_threads()


def run_files(run: Path) -> dict[str, bytes]:
    """Every file of a run directory; ``created_at`` taken out of the manifest and reports."""
    created = json.loads((run / "manifest.json").read_text(encoding="utf-8"))["created_at"]
    return {
        str(path.relative_to(run)): path.read_bytes().replace(created.encode(), b"<created_at>")
        for path in sorted(run.rglob("*")) if path.is_file()
    }


def assert_same_run(expected: Path, got: Path) -> None:
    want, have = run_files(expected), run_files(got)
    assert sorted(want) == sorted(have)
    assert [name for name in want if want[name] != have[name]] == []


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> DemoExport:
    # rejects of every kind the demo breaks, an orphan 世帯 (a foreign key), 外字
    return generate_legacy_export(tmp_path_factory.mktemp("legacy"), rows=400, seed=5)


def with_duplicates(export: DemoExport, out: Path, rnd: random.Random) -> Path:
    """JUMIN.csv with records repeated far from their first (primary-key duplicates across
    batches) and a quoted field holding a line end and a comma."""
    header, *lines = [line for line in export.jumin_csv.read_bytes().split(b"\r\n") if line]
    columns = header.split(b",")
    katagaki = columns.index(b"KATAGAKI")
    for _ in range(rnd.randint(1, 5)):
        lines.insert(rnd.randrange(len(lines) + 1), lines[rnd.randrange(len(lines))])
    at = rnd.randrange(len(lines))
    fields = lines[at].split(b",")
    if len(fields) == len(columns):
        fields[katagaki] = b'"A\r\nB,C"'
        lines[at] = b",".join(fields)
    path = out / "JUMIN.csv"
    path.write_bytes(b"\r\n".join([header, *lines]) + b"\r\n")
    return path


# -- the run directory -----------------------------------------------------------------------


@SLOW
@given(
    seed=st.integers(0, 2**16),
    batch_bytes=st.integers(1_500, 60_000),
    show_values=st.booleans(),
    limit=st.sampled_from([None, None, 1, 57, 10_000]),
)
def test_pipelined_run_is_the_serial_run_byte_for_byte(
    export: DemoExport, tmp_path_factory: pytest.TempPathFactory,
    seed: int, batch_bytes: int, show_values: bool, limit: int | None,
) -> None:
    root = tmp_path_factory.mktemp("run")
    jumin = with_duplicates(export, root, random.Random(seed))
    inputs = [export.setai_csv, jumin, export.ido_csv]
    options = {"batch_bytes": batch_bytes, "show_values": show_values, "excel": show_values, "limit": limit}
    serial = extract(export.mapping, inputs, root / "serial", pipeline=False, **options)  # type: ignore[arg-type]
    piped = extract(export.mapping, inputs, root / "piped", pipeline=True, **options)  # type: ignore[arg-type]
    assert_same_run(root / "serial", root / "piped")
    totals = piped.manifest["totals"]
    assert totals["rows_in"] == totals["rows_out"] + totals["rows_rejected"]
    if limit is None:  # rejects and FK findings came through
        assert serial.report.has_findings and piped.report.has_findings
    assert no_thread_left()


def test_the_pipelined_run_really_overlaps_the_stages(export: DemoExport, tmp_path: Path) -> None:
    # the premise of the tests above: with small batches the merge of a batch runs while
    # later batches are already read and checked in other threads
    seen: list[int] = []

    def progress(label: str, done: int, total: int) -> None:  # called by the merge, per batch
        gc.collect()
        seen.append(sum(isinstance(o, CheckedBatch) for o in gc.get_objects()))
        time.sleep(0.01)  # a merge not faster than the stages ahead, even on a loaded machine

    extract(export.mapping, [export.setai_csv, export.jumin_csv], tmp_path / "run", pipeline=True,
            batch_bytes=2_000, progress=progress)
    assert len(seen) > 10
    assert max(seen) == 2  # the batch being merged, and the next one checked already (serial: 1)


# -- memory ----------------------------------------------------------------------------------


def test_batches_alive_stay_bounded_when_the_merge_is_slow(export: DemoExport, tmp_path: Path) -> None:
    # A slow merge (the progress callback sleeps) lets an unbounded queue fill up with every
    # batch of the file (here over 40). The bound: one checked batch and one source batch
    # more than the serial run holds — the next batch checked, the one after it read.
    def counts() -> tuple[int, int]:
        gc.collect()  # what is counted is what is reachable
        objects = gc.get_objects()
        return (sum(isinstance(o, CheckedBatch) for o in objects),
                sum(isinstance(o, SourceBatch) for o in objects))

    def alive_per_merge(pipeline: bool) -> list[tuple[int, int]]:
        alive: list[tuple[int, int]] = []
        # batches an earlier test left reachable (a kept traceback) are not this run's
        checked_before, source_before = counts()

        def progress(label: str, done: int, total: int) -> None:
            checked, source = counts()
            alive.append((checked - checked_before, source - source_before))
            time.sleep(0.02)

        extract(export.mapping, [export.setai_csv, export.jumin_csv], tmp_path / f"run{pipeline}",
                pipeline=pipeline, batch_bytes=2_500, progress=progress)
        return alive

    serial, piped = alive_per_merge(False), alive_per_merge(True)
    assert len(piped) == len(serial) > 40
    assert max(c for c, _ in serial) == 1 and max(c for c, _ in piped) == 2
    assert max(s for _, s in piped) <= max(s for _, s in serial) + 1 <= 3
    assert no_thread_left()


# -- errors ----------------------------------------------------------------------------------


def undecodable_late(export: DemoExport, out: Path) -> tuple[Path, int]:
    """JUMIN.csv with a CP932 lead byte without its trail byte three quarters in: an error
    of the partition stage of a late batch, after earlier batches were merged and written."""
    data = bytearray(export.jumin_csv.read_bytes())
    bad = data.index(b"\r\n", len(data) * 3 // 4) + 2
    data[bad:bad] = b"\x81\x20"
    path = out / "JUMIN.csv"
    path.write_bytes(bytes(data))
    return path, bad


def failure(run: Callable[[], object]) -> MigError:
    with pytest.raises(MigError) as caught:
        run()
    return caught.value


@pytest.mark.parametrize("batch_bytes", [2_000, 9_000, 32 * 1024 * 1024])
def test_an_error_in_a_late_batch_is_the_serial_error(export: DemoExport, tmp_path: Path, batch_bytes: int) -> None:
    jumin, bad = undecodable_late(export, tmp_path)
    inputs = [export.setai_csv, jumin, export.ido_csv]
    errors = {
        pipeline: failure(lambda pipeline=pipeline: extract(  # type: ignore[misc]
            export.mapping, inputs, tmp_path / f"run{pipeline}", pipeline=pipeline, batch_bytes=batch_bytes,
        ))
        for pipeline in (False, True)
    }
    serial, piped = errors[False], errors[True]
    assert type(piped) is type(serial) is InputError
    assert str(piped) == str(serial)
    assert f"byte {bad}" in str(piped)
    assert piped.exit_code == serial.exit_code == 3
    assert not (tmp_path / "runTrue").exists() and not (tmp_path / "runFalse").exists()
    assert no_thread_left()


def test_an_error_in_a_later_file_comes_after_the_earlier_files(export: DemoExport, tmp_path: Path) -> None:
    # the stage running ahead opens the next file before the merge is done with this one;
    # a missing header there must still stop the run as the serial path does
    ido = tmp_path / "IDO.csv"
    ido.write_bytes(b"X,Y\r\n1,2\r\n")
    inputs = [export.setai_csv, export.jumin_csv, ido]
    serial = failure(lambda: extract(export.mapping, inputs, tmp_path / "serial", pipeline=False, batch_bytes=3_000))
    piped = failure(lambda: extract(export.mapping, inputs, tmp_path / "piped", pipeline=True, batch_bytes=3_000))
    assert (type(piped), str(piped), piped.exit_code) == (type(serial), str(serial), serial.exit_code)
    assert "IDO.csv" in str(piped)
    assert no_thread_left()


def test_cli_error_in_a_later_file_is_one_line_and_exit_3(export: DemoExport, tmp_path: Path) -> None:
    # on more than one core the command runs pipelined by default: SETAI.csv is merged and
    # written while JUMIN.csv is read, and JUMIN.csv's bad byte stops the run
    jumin, bad = undecodable_late(export, tmp_path)
    result = CliRunner().invoke(main, [
        "extract", str(export.setai_csv), str(jumin), "-m", str(export.mapping), "-o", str(tmp_path / "cli"),
        "--quiet",
    ])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"byte {bad}" in lines[0]
    assert not (tmp_path / "cli").exists()
    assert no_thread_left()


@pytest.mark.parametrize("stop", [KeyboardInterrupt, RuntimeError])
def test_the_merge_stopping_stops_the_stages_ahead(
    export: DemoExport, tmp_path: Path, stop: type[BaseException]
) -> None:
    # Ctrl-C (or any error) in the merge, while the stages ahead hold batches of their own
    calls = 0

    def progress(label: str, done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise stop("stop")

    with pytest.raises(stop):
        extract(export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], tmp_path / "run",
                pipeline=True, batch_bytes=1_000, progress=progress)
    assert calls == 3
    assert no_thread_left()
    assert not (tmp_path / "run").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no partial directory either


# -- run_ahead itself ------------------------------------------------------------------------


@given(count=st.integers(0, 30), depth=st.integers(1, 3), fail_at=st.none() | st.integers(0, 30))
@settings(deadline=None, max_examples=40)
def test_run_ahead_keeps_order_bound_and_error_position(count: int, depth: int, fail_at: int | None) -> None:
    emitted = 0
    taken = 0
    ahead_by: list[int] = []

    def produce(emit: Callable[[int], None]) -> None:
        nonlocal emitted
        for n in range(count):
            if n == fail_at:
                raise ValueError(f"item {n}")
            emitted += 1
            emit(n)

    got: list[int] = []
    try:
        for item in run_ahead(produce, depth=depth):
            taken += 1
            time.sleep(0.001)  # a consumer slower than its producer
            ahead_by.append(emitted - taken)
            got.append(item)
    except ValueError as exc:
        assert fail_at is not None and fail_at < count
        assert str(exc) == f"item {fail_at}"
        assert got == list(range(fail_at))  # every item before the error, then the error
    else:
        assert fail_at is None or fail_at >= count
        assert got == list(range(count))
    assert max(ahead_by, default=0) <= depth
    assert no_thread_left()


def test_run_ahead_closed_early_stops_its_producer() -> None:
    produced: list[int] = []

    def produce(emit: Callable[[int], None]) -> None:
        for n in range(1_000_000):
            produced.append(n)
            emit(n)

    ahead = run_ahead(produce)
    assert [next(ahead), next(ahead)] == [0, 1]
    ahead.close()  # type: ignore[attr-defined]
    assert no_thread_left()
    assert len(produced) <= 3


def test_run_ahead_uncounted_items_do_not_hold_the_producer() -> None:
    # a partition's small result after its batches must not keep the next file from being read
    events: list[str] = []
    first_taken = threading.Event()

    def produce(emit: Callable[[str], None]) -> None:
        emit("batch 1")
        emit("result 1")  # not counted: the producer goes on at once
        events.append("next file opened")
        emit("batch 2")

    ahead = run_ahead(produce, counted=lambda item: item.startswith("batch"))
    assert next(ahead) == "batch 1"
    first_taken.set()
    deadline = time.monotonic() + 5
    while not events and time.monotonic() < deadline:
        time.sleep(0.005)
    assert events == ["next file opened"]  # while the consumer still holds "batch 1"
    assert list(ahead) == ["result 1", "batch 2"]
    assert no_thread_left()


def test_stages_ahead_run_in_the_callers_context() -> None:
    # codec overlays are context variables: the producer thread sees the caller's settings
    from mig.codecs.overlay import active_variant, overlay_scope

    with overlay_scope(None, "compat"):
        seen = list(run_ahead(lambda emit: emit(active_variant())))
    assert seen == ["compat"]
    assert list(run_ahead(lambda emit: emit(active_variant()))) == [None]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_stops_every_stage_and_keeps_nothing(tmp_path: Path, sig: int, code: int) -> None:
    # the real command in its own process, pipelined (one process, two cores), stopped while
    # its stages hold batches: the exit code of the signal, one line, nothing left behind
    export = generate_legacy_export(tmp_path / "legacy", rows=60_000, seed=2)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "mig", "extract", str(export.setai_csv), str(export.jumin_csv),
               str(export.ido_csv), "-m", str(export.mapping), "-o", str(out), "--workers", "1",
               "--batch-mb", "1", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not [p for p in tmp_path.iterdir() if p.name != "legacy"]:  # the run directory being built
            assert process.poll() is None, "the run ended before it started writing"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # into the batches
        assert process.poll() is None, "the run ended before the signal"
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == code
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["legacy"]
