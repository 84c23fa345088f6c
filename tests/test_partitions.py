"""Partitioned ``mig extract``: the run directory is the same bytes whatever the partitions,
the worker count and the batch size; a killed run resumes with the partitions it finished.

The reference is always the plain single-process run (no ``--workers``, no cut) of the same
input; every file of the run directory is compared byte for byte, the manifest and the
reports apart from their creation time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mig_adapters.copybook import CopybookAdapter, CopybookOptions
from mig_adapters.copybook.sample import Sample, write_sample
from mig_adapters.csv import CsvAdapter

from mig.cli import main
from mig.demo.generator import DemoExport, generate_legacy_export
from mig.errors import ConfigError, PartitionError
from mig.extract.engines import engine
from mig.extract.mapping import load_mapping
from mig.extract.partitions import WorkDir, source_side
from mig.extract.run import extract

SLOW = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def run_files(run: Path) -> dict[str, bytes]:
    """Every file of a run directory; ``created_at`` taken out of the manifest and reports."""
    created = json.loads((run / "manifest.json").read_text(encoding="utf-8"))["created_at"]
    files = {}
    for path in sorted(run.rglob("*")):
        if path.is_file():
            files[str(path.relative_to(run))] = path.read_bytes().replace(created.encode(), b"<created_at>")
    return files


def assert_same_run(expected: Path, got: Path) -> None:
    want, have = run_files(expected), run_files(got)
    assert sorted(want) == sorted(have)
    differ = [name for name in want if want[name] != have[name]]
    assert not differ, f"files differ: {differ}"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> DemoExport:
    return generate_legacy_export(tmp_path_factory.mktemp("legacy"), rows=300, seed=11)


def mutated_jumin(export: DemoExport, out: Path, rnd: random.Random, *, unbalanced: bool) -> Path:
    """JUMIN.csv with what partitions must not change: quoted 方書 holding line ends and
    commas, a 住民 repeated far from its first record (a key duplicate across partitions),
    a record without its line end at the end of the file; optionally one quote never closed."""
    data = export.jumin_csv.read_bytes()
    header, *lines = data.split(b"\r\n")
    lines = [line for line in lines if line]
    columns = header.split(b",")
    katagaki = columns.index(b"KATAGAKI")
    for _ in range(rnd.randint(1, 12)):
        at = rnd.randrange(len(lines))
        fields = lines[at].split(b",")
        if len(fields) == len(columns):
            fields[katagaki] = rnd.choice([b'"A\r\nB"', b'"x,y"', b'"\n"', b'"say ""hi""\r\n"'])
            lines[at] = b",".join(fields)
    for _ in range(rnd.randint(1, 4)):
        lines.insert(rnd.randrange(len(lines) // 2, len(lines) + 1), lines[rnd.randrange(len(lines) // 3)])
    if unbalanced:
        lines.insert(rnd.randrange(len(lines)), b'1,"never closed')
    path = out / "JUMIN.csv"
    path.write_bytes(b"\r\n".join([header, *lines]))  # the last record has no line end
    return path


@SLOW
@given(
    seed=st.integers(0, 2**16),
    partition_bytes=st.integers(300, 40_000),
    batch_bytes=st.integers(500, 50_000),
    workers=st.sampled_from([1, 1, 2]),
    unbalanced=st.booleans(),
)
def test_csv_partitions_give_the_single_process_run(
    export: DemoExport, tmp_path_factory: pytest.TempPathFactory,
    seed: int, partition_bytes: int, batch_bytes: int, workers: int, unbalanced: bool,
) -> None:
    root = tmp_path_factory.mktemp("csv")
    jumin = mutated_jumin(export, root, random.Random(seed), unbalanced=unbalanced)
    setai = root / "SETAI.csv"
    shutil.copy(export.setai_csv, setai)  # the parent layout of an FK, cut too
    inputs = [setai, jumin, export.ido_csv]
    extract(export.mapping, inputs, root / "one")
    extract(export.mapping, inputs, root / "parts", workers=workers, partition_bytes=partition_bytes,
            batch_bytes=batch_bytes)
    assert_same_run(root / "one", root / "parts")
    assert not (root / ".parts.work").exists()
    ranges = CsvAdapter().ranges(jumin, {"encoding": "cp932"}, size=partition_bytes)
    if unbalanced:  # a quote never closed: no cut can be certain, the file is read whole
        assert ranges == []
    else:
        assert len(ranges) == 0 or ranges[-1].end == jumin.stat().st_size


def test_a_file_is_really_cut_and_read_by_two_processes(
    export: DemoExport, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ranges = CsvAdapter().ranges(export.jumin_csv, {"encoding": "cp932"}, size=5_000)
    assert len(ranges) > 5
    assert [r.start for r in ranges[1:]] == [r.end for r in ranges[:-1]]
    whole = export.jumin_csv.read_bytes()
    for r in ranges[1:]:  # cut after a line end, and the lines before it counted
        assert whole[r.start - 1 : r.start] == b"\n" and whole[: r.start].count(b"\n") == r.line
    inputs = [export.setai_csv, export.jumin_csv, export.ido_csv]
    extract(export.mapping, inputs, tmp_path / "one")
    with caplog.at_level(logging.INFO, logger="mig"):
        extract(export.mapping, inputs, tmp_path / "two", workers=2, partition_bytes=5_000)
    ran = [r for r in caplog.records if " ran: JUMIN.csv bytes " in r.getMessage()]
    assert len(ran) == len(ranges)
    assert_same_run(tmp_path / "one", tmp_path / "two")


def test_values_and_spreadsheets_come_through_the_spill_unchanged(export: DemoExport, tmp_path: Path) -> None:
    """--show-values and --excel: the values, the rejects' decoded fields and the findings'
    messages travel through the partitions' files to the same bytes."""
    inputs = [export.setai_csv, export.jumin_csv, export.ido_csv]
    extract(export.mapping, inputs, tmp_path / "one", show_values=True, excel=True)
    extract(export.mapping, inputs, tmp_path / "two", show_values=True, excel=True, workers=2,
            partition_bytes=7_000, batch_bytes=3_000)
    assert_same_run(tmp_path / "one", tmp_path / "two")
    assert (tmp_path / "two" / "excel").is_dir()


@pytest.fixture(scope="module", params=["fixed", "rdw"])
def mainframe(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Sample, Path]:
    root = tmp_path_factory.mktemp("mainframe")
    sample = write_sample(root / "legacy", setai=40, seed=5, framing=str(request.param))
    extract(sample.mapping, [sample.data], root / "one", batch_bytes=4096)
    return sample, root / "one"


@SLOW
@given(records=st.integers(1, 60), batch_bytes=st.integers(200, 20_000), workers=st.sampled_from([1, 1, 2]))
def test_fixed_width_jef_partitions_give_the_single_process_run(
    mainframe: tuple[Sample, Path], tmp_path_factory: pytest.TempPathFactory,
    records: int, batch_bytes: int, workers: int,
) -> None:
    sample, one = mainframe
    out = tmp_path_factory.mktemp("jef") / "run"
    record_bytes = sample.data.stat().st_size // sample.records  # LRECL, or the mean RDW record
    extract(sample.mapping, [sample.data], out, batch_bytes=batch_bytes, workers=workers,
            partition_bytes=records * record_bytes)
    assert_same_run(one, out)


def test_mainframe_ranges_start_at_records(mainframe: tuple[Sample, Path]) -> None:
    sample, _ = mainframe
    adapter = CopybookAdapter()
    mapping = load_mapping(sample.mapping)
    options = {**source_side(mapping, mapping.files[0].source).options, "_mapping_dir": str(sample.mapping.parent)}
    ranges = adapter.ranges(sample.data, options, size=1000)
    assert len(ranges) > 3 and ranges[0].start == 0 and ranges[-1].end == sample.data.stat().st_size
    assert [r.start for r in ranges[1:]] == [r.end for r in ranges[:-1]]
    whole = sample.data.read_bytes()
    lrecl = CopybookOptions.parse(options).lrecl or 0
    at, record = 0, 0  # walk the file's own descriptors (or LRECL slots): every cut is on one
    starts = {}
    while at < len(whole):
        starts[at] = record
        at += int.from_bytes(whole[at:at + 2], "big") if sample.framing == "rdw" else lrecl
        record += 1
    assert all(starts.get(r.start) == r.line for r in ranges)


def test_a_failing_partition_names_its_byte_range(export: DemoExport, tmp_path: Path) -> None:
    data = bytearray(export.jumin_csv.read_bytes())
    bad = len(data) * 3 // 4
    bad = data.index(b"\r\n", bad) + 2
    data[bad:bad] = b"\x81\x20"  # a CP932 lead byte without its trail byte
    jumin = tmp_path / "JUMIN.csv"
    jumin.write_bytes(bytes(data))
    with pytest.raises(PartitionError) as caught:
        extract(export.mapping, [export.setai_csv, jumin], tmp_path / "run", workers=1, partition_bytes=4_000)
    message = str(caught.value)
    assert message.startswith("JUMIN.csv bytes ") and f"byte {bad}" in message
    assert caught.value.exit_code == 3
    result = CliRunner().invoke(main, [
        "extract", str(export.setai_csv), str(jumin), "-m", str(export.mapping), "-o", str(tmp_path / "cli"),
        "--workers", "2", "--partition-mb", "1", "--quiet",
    ])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert not (tmp_path / "cli").exists()


def test_engine_choices() -> None:
    assert list(engine("local", workers=3).map_ordered(str, [1, 2])) == ["1", "2"]
    with pytest.raises(ConfigError, match="at least 1"):
        engine("local", workers=0)
    with pytest.raises(ConfigError, match="died"):  # a worker killed from outside: one line, no traceback
        list(engine("local", workers=2).map_ordered(os._exit, [3, 3]))
    if importlib.util.find_spec("mig.extract.ray_engine") is None:
        with pytest.raises(ConfigError, match=r"jichitai-mig\[ray\]"):
            engine("ray")


def test_a_work_folder_mig_did_not_write_is_left_alone(export: DemoExport, tmp_path: Path) -> None:
    theirs = tmp_path / ".run.work"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a mig work folder"):
        extract(export.mapping, [export.setai_csv], tmp_path / "run", resume=True)
    assert (theirs / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not WorkDir(tmp_path / "run").mine()


def _big_export(root: Path) -> DemoExport:
    return generate_legacy_export(root, rows=30_000, seed=3)


def test_kill_9_then_resume_gives_the_same_bytes_and_redoes_only_the_rest(tmp_path: Path) -> None:
    export = _big_export(tmp_path / "legacy")
    inputs = [str(p) for p in (export.setai_csv, export.jumin_csv, export.ido_csv)]
    out = tmp_path / "run"
    command = [sys.executable, "-m", "mig", "extract", *inputs, "-m", str(export.mapping), "-o", str(out),
               "--workers", "2", "--partition-mb", "1", "--batch-mb", "1", "--quiet"]
    work = tmp_path / ".run.work"
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not list(work.glob("p*.done.json")):
            assert process.poll() is None, "the run ended before a partition completed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the run and its worker processes
        process.wait()
    done = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in work.glob("p*.done.json")}
    assert done and not out.exists()
    log = tmp_path / "resume.log"
    result = subprocess.run(
        [sys.executable, "-m", "mig", "--log-file", str(log), *command[3:], "--resume"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    lines = log.read_text(encoding="utf-8")
    reused = {int(part) for part in _numbers(lines, "reused:")}
    ran = {int(part) for part in _numbers(lines, "ran:")}
    assert reused == {int(name[1:6]) for name in done}  # every finished partition, and only those
    assert ran and reused.isdisjoint(ran) and reused | ran == set(range(len(reused | ran)))
    assert not work.exists()
    extract(export.mapping, [Path(p) for p in inputs], tmp_path / "one")
    assert_same_run(tmp_path / "one", out)


def _numbers(log: str, word: str) -> list[str]:
    return [line.split("partition ", 1)[1].split(" ", 1)[0] for line in log.splitlines() if f" {word} " in line]
