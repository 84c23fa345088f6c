"""Faults of the machine, not of the data: a full disk, a read-only output, a killed or
terminated run, two runs into one place, and ``--force`` / ``--replace`` pointed at folders
mig did not write.

Every command runs as its own process (``python -m mig``), as a user runs it. The full disk
is a small tmpfs (we are root in CI); where mounting is not allowed, a file-size limit
(``RLIMIT_FSIZE``) makes the same writes fail for real with ``EFBIG``.
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mig.demo.generator import DemoExport, generate_legacy_export
from mig.errors import ExitCode, OutputError, OutputExistsError
from mig.extract.run import extract
from mig.fs import PARTIAL_MARK

PAUSED_EXTRACT = Path(__file__).parent / "support" / "paused_extract.py"


# -- helpers ------------------------------------------------------------------------------


def mig(*args: str | Path, cwd: Path | None = None, limit: int | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``mig ARGS`` in a new process; ``limit``: the largest file it may write (bytes)."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # type: ignore[arg-type]

    return subprocess.run(
        [sys.executable, "-m", "mig", *map(str, args)], cwd=cwd, capture_output=True, text=True,
        preexec_fn=limited if limit is not None else None, env=env, timeout=300,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with its sha256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name
                  or p.name.endswith(".lock"))


def _mount(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True, check=False)
    return done.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


class Disk:
    """A folder whose writes fail for want of space: a tmpfs of ``size``, else a file-size limit."""

    def __init__(self, path: Path, mounted: bool, limit: int | None) -> None:
        self.path, self.mounted, self.limit = path, mounted, limit
        self.reason = "No space left on device" if mounted else "File too large"

    def fill(self) -> None:
        """Leave no byte free (with a file-size limit, writes fail anyway)."""
        if self.mounted:
            with (self.path / "filler").open("wb") as handle, pytest.raises(OSError):
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Disk]]:
    mounts: list[Path] = []

    def make(size: str) -> Disk:
        path = tmp_path / f"disk{len(mounts)}"
        if _mount(path, f"size={size}"):
            mounts.append(path)
            return Disk(path, True, None)
        return Disk(path, False, 1024)

    yield make
    for path in mounts:
        _umount(path)


@contextmanager
def read_only(path: Path) -> Iterator[str]:
    """Make ``path`` (a tmpfs mounted here, or a folder when not root) read-only; yield the reason."""
    if subprocess.run(["mount", "-o", "remount,ro", str(path)], capture_output=True).returncode == 0:
        try:
            yield "Read-only file system"
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(path)], capture_output=True)
        return
    if os.geteuid() == 0:
        pytest.skip("root without mount: no way to make a folder read-only")
    path.chmod(0o555)
    try:
        yield "Permission denied"
    finally:
        path.chmod(0o755)


@pytest.fixture
def writable_mount(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "mnt"
    if not _mount(path, "size=4m"):
        path.mkdir(exist_ok=True)
    yield path
    _umount(path)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> DemoExport:
    return generate_legacy_export(tmp_path_factory.mktemp("faults") / "legacy", rows=1000)


@pytest.fixture(scope="module")
def run_dir(export: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faults-run") / "run"
    extract(export.mapping, inputs(export), out)
    return out


def inputs(export: DemoExport) -> list[Path]:
    return [export.setai_csv, export.jumin_csv, export.ido_csv]


def extract_args(export: DemoExport, out: Path, *extra: str) -> list[str | Path]:
    return ["extract", "-m", export.mapping, "-o", out, "-q", *extra, *inputs(export)]


# -- disk full ----------------------------------------------------------------------------


def commands(export: DemoExport, run_dir: Path, target: Path) -> dict[str, list[str | Path]]:
    return {
        "extract": extract_args(export, target),
        "bundle": ["load", run_dir, "--target", f"bundle:{target}"],
        "audit --report": ["audit", run_dir, "--report", target],
        "gaiji review": ["gaiji", "review", run_dir, "-o", target, "-q"],
        "demo": ["demo", "--out", target, "--rows", "200", "-q"],
    }


@pytest.mark.parametrize("command", ["extract", "bundle", "audit --report", "gaiji review", "demo"])
@pytest.mark.parametrize("size", ["8k", "200k"])
def test_disk_full_is_one_line_exit_3_naming_the_output(
    command: str, size: str, export: DemoExport, run_dir: Path, small_disk: Callable[[str], Disk]
) -> None:
    disk = small_disk(size)
    if command in ("audit --report", "gaiji review"):
        disk.fill()  # their files are small: no room at all
    target = disk.path / ("out.html" if command in ("audit --report", "gaiji review") else "out")
    before = tree(run_dir)
    result = mig(*commands(export, run_dir, target)[command], limit=disk.limit)
    assert result.returncode == ExitCode.CANNOT_WRITE == 3, result.stderr
    assert one_line(result) == f"mig: error: {target}: cannot write: {disk.reason}"
    assert not target.exists()
    assert [p.name for p in disk.path.iterdir() if p.name != "filler"] == []  # nothing half-written
    assert tree(run_dir) == before  # the input untouched, and never blamed


def test_disk_full_keeps_the_earlier_run(export: DemoExport, small_disk: Callable[[str], Disk]) -> None:
    disk = small_disk("512k")
    out = disk.path / "run"
    small = generate_legacy_export(disk.path.parent / "small", rows=50)
    assert mig(*extract_args(small, out)).returncode in (0, 1)
    earlier = tree(out)
    result = mig(*extract_args(export, out, "--force"), limit=disk.limit)
    assert result.returncode == 3
    assert one_line(result) == f"mig: error: {out}: cannot write: {disk.reason}"
    assert tree(out) == earlier
    assert sorted(p.name for p in disk.path.iterdir()) == ["run"]


# -- read-only output ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["extract", "bundle", "audit --report", "gaiji review", "demo"])
def test_read_only_output_is_one_line_exit_3(
    command: str, export: DemoExport, run_dir: Path, writable_mount: Path
) -> None:
    target = writable_mount / ("out.html" if command in ("audit --report", "gaiji review") else "out")
    with read_only(writable_mount) as reason:
        result = mig(*commands(export, run_dir, target)[command])
    assert result.returncode == 3, result.stderr
    assert one_line(result) == f"mig: error: {target}: cannot write: {reason}"
    assert list(writable_mount.iterdir()) == []


def test_read_only_output_keeps_the_earlier_run(export: DemoExport, writable_mount: Path) -> None:
    out = writable_mount / "run"
    assert mig(*extract_args(export, out)).returncode in (0, 1)
    earlier = tree(out)
    with read_only(writable_mount):
        result = mig(*extract_args(export, out, "--force"))
    assert result.returncode == 3 and "cannot write" in one_line(result)
    assert tree(out) == earlier and leftovers(writable_mount) == []


# -- killed, terminated, interrupted ------------------------------------------------------


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> DemoExport:
    return generate_legacy_export(tmp_path_factory.mktemp("faults-big") / "legacy", rows=20_000)


def _paused_extract(export: DemoExport, out: Path, marker: Path, after: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, str(PAUSED_EXTRACT), str(marker), str(after), str(export.mapping), str(out),
         *map(str, inputs(export)), "--force"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (marker.exists() and len(marker.read_text().splitlines()) >= after):
        assert process.poll() is None, "the extract ended before it could be stopped"
        assert time.monotonic() < deadline, "the extract did not write its batches"
        time.sleep(0.02)
    return process


# the points: after the first batch, and two batches drawn once with a fixed seed
KILL_POINTS = [1, *random.Random(11).sample(range(2, 40), 2)]


@pytest.mark.parametrize("after", KILL_POINTS)
def test_kill_9_keeps_the_old_run_and_the_next_run_cleans_up(
    after: int, big_export: DemoExport, export: DemoExport, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    assert mig(*extract_args(export, out)).returncode in (0, 1)
    earlier = tree(out)
    process = _paused_extract(big_export, out, tmp_path / "marker", after)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = tmp_path / f".run.partial-{process.pid}"
    assert (partial / PARTIAL_MARK).is_file()  # left behind, recognisably mig's
    assert tree(out) == earlier
    assert leftovers(tmp_path) == sorted([".run.lock", partial.name])

    again = mig(*extract_args(export, out, "--force"))
    assert again.returncode in (0, 1), again.stderr
    assert "Traceback" not in again.stderr
    assert f"took over the lock of an earlier mig run (pid {process.pid} on host" in again.stderr
    assert f"{tmp_path}: removed 1 unfinished folder(s) of runs left by mig runs that were killed" \
        in again.stderr
    assert leftovers(tmp_path) == []
    assert (out / "manifest.json").is_file()


def test_a_foreign_folder_with_a_partial_name_is_left_alone(export: DemoExport, tmp_path: Path) -> None:
    out = tmp_path / "run"
    foreign = tmp_path / ".run.partial-999999"  # the name, not the marker
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep", encoding="utf-8")
    assert mig(*extract_args(export, out)).returncode in (0, 1)
    assert (foreign / "mine.txt").read_text(encoding="utf-8") == "keep"


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_sigterm_and_ctrl_c_remove_the_partial_and_keep_the_old_run(
    how: str, big_export: DemoExport, export: DemoExport, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    assert mig(*extract_args(export, out)).returncode in (0, 1)
    earlier = tree(out)
    process = subprocess.Popen(
        [sys.executable, "-m", "mig", *map(str, extract_args(big_export, out, "--force", "--batch-mb", "1"))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    partial = tmp_path / f".run.partial-{process.pid}"
    deadline = time.monotonic() + 60
    while not (partial / "data").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(getattr(signal, how))
    _, stderr = process.communicate(timeout=60)
    code, word = (143, "terminated") if how == "SIGTERM" else (130, "interrupted")
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    assert stderr.strip() == f"mig: {word}; nothing half-written was kept"
    assert tree(out) == earlier and leftovers(tmp_path) == []


# -- two runs into one place --------------------------------------------------------------


def test_a_second_extract_into_the_same_out_is_refused_naming_the_first(
    big_export: DemoExport, export: DemoExport, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    first = _paused_extract(big_export, out, tmp_path / "marker", 1)
    try:
        second = mig(*extract_args(export, out, "--force"))
        assert second.returncode == ExitCode.USAGE
        line = one_line(second)
        assert line.startswith(f"mig: error: {out}: another mig run is writing it (pid {first.pid} on host ")
        assert line.endswith("wait for it to finish") and ", started 20" in line
        assert not out.exists()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()


def test_two_concurrent_extracts_exactly_one_wins(export: DemoExport, tmp_path: Path) -> None:
    out = tmp_path / "run"
    processes = [
        subprocess.Popen([sys.executable, "-m", "mig", *map(str, extract_args(export, out))],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in processes]
    codes = sorted(code for code, _ in results)
    assert codes[0] in (0, 1) and codes[1] == 2, results
    loser = next(err for code, err in results if code == 2)
    assert "Traceback" not in loser
    assert "another mig run is writing it" in loser or "already holds a run" in loser
    assert (out / "manifest.json").is_file() and leftovers(tmp_path) == []


# -- --force / --replace only for what mig wrote ------------------------------------------


def _copy_export(export: DemoExport, folder: Path) -> None:
    folder.mkdir()
    for path in [*inputs(export), export.mapping]:
        (folder / path.name).write_bytes(path.read_bytes())


def test_force_refuses_the_current_folder_holding_the_inputs(export: DemoExport, tmp_path: Path) -> None:
    work = tmp_path / "x"
    _copy_export(export, work)
    before = tree(work)
    result = mig("extract", "SETAI.csv", "--mapping", "mapping.toml", "--out", ".", "--force", cwd=work)
    assert result.returncode == 2
    assert one_line(result) == (
        f"mig: error: {work}: holds SETAI.csv, an input of this run; refusing to replace it"
    )
    assert tree(work) == before


def test_force_refuses_a_folder_holding_the_mapping(export: DemoExport, tmp_path: Path) -> None:
    work = tmp_path / "x"
    _copy_export(export, work)
    (work / "manifest.json").write_text('{"tool": "mig"}', encoding="utf-8")  # even if it looks like a run
    before = tree(work)
    result = mig("extract", export.setai_csv, "-m", work / "mapping.toml", "-o", work, "--force")
    assert result.returncode == 2
    assert one_line(result).endswith(f"{work}: holds mapping.toml, an input of this run; refusing to replace it")
    assert tree(work) == before


def test_force_refuses_a_folder_mig_did_not_write(export: DemoExport, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    result = mig(*extract_args(export, mine, "--force"))
    assert result.returncode == 2
    assert one_line(result) == f"mig: error: {mine}: is not empty and is not a mig run; refusing to replace it"
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"
    demo = mig("demo", "--out", mine, "--rows", "50", "--force")
    assert demo.returncode == 2
    assert one_line(demo) == f"mig: error: {mine}: is not empty and is not a mig demo; refusing to replace it"
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("where", ["/", "~"])
def test_force_refuses_root_and_home(where: str, export: DemoExport, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "manifest.json").write_text('{"tool": "mig"}', encoding="utf-8")
    env = {**os.environ, "HOME": str(home)}
    out = Path("/") if where == "/" else home
    result = mig(*extract_args(export, out, "--force"), env=env, cwd=tmp_path)
    assert result.returncode == 2
    why = "is the root of the file system" if where == "/" else "is the home folder"
    assert one_line(result) == f"mig: error: {out}: {why}; refusing to replace it"
    assert (home / "manifest.json").is_file()


def test_force_refuses_a_mount_point(export: DemoExport, writable_mount: Path) -> None:
    if not os.path.ismount(writable_mount):
        pytest.skip("no tmpfs here")
    empty = mig(*extract_args(export, writable_mount))  # cannot be renamed away, even empty
    assert empty.returncode == 2
    assert one_line(empty) == f"mig: error: {writable_mount}: is a mount point; refusing to replace it"
    (writable_mount / "manifest.json").write_text('{"tool": "mig"}', encoding="utf-8")
    result = mig(*extract_args(export, writable_mount, "--force"))
    assert result.returncode == 2
    assert one_line(result) == f"mig: error: {writable_mount}: is a mount point; refusing to replace it"
    assert [p.name for p in writable_mount.iterdir()] == ["manifest.json"]


def test_force_replaces_its_own_run_by_renames(export: DemoExport, tmp_path: Path) -> None:
    out = tmp_path / "run"
    extract(export.mapping, inputs(export), out)
    (out / "stray.txt").write_text("x", encoding="utf-8")  # inside mig's run: replaced with it
    extract(export.mapping, inputs(export), out, force=True)
    assert not (out / "stray.txt").exists()
    assert PARTIAL_MARK not in {p.name for p in out.iterdir()}
    assert leftovers(tmp_path) == []
    with pytest.raises(OutputExistsError, match="already holds a run; use --force"):
        extract(export.mapping, inputs(export), out)


def test_bundle_replace_refuses_the_folder_holding_the_run(run_dir: Path, tmp_path: Path) -> None:
    from mig.load.bundle import write_bundle

    bundle = tmp_path / "b"
    write_bundle(run_dir, bundle)
    inside = bundle / "run"
    inside.mkdir()
    for path in run_dir.rglob("*"):
        target = inside / path.relative_to(run_dir)
        if path.is_dir():
            target.mkdir(exist_ok=True)
        else:
            target.write_bytes(path.read_bytes())
    with pytest.raises(OutputExistsError, match="holds run, an input of this run; refusing"):
        write_bundle(inside, bundle, replace=True)
    assert (inside / "manifest.json").is_file()


def test_output_error_is_an_os_error_and_one_line() -> None:
    exc = OutputError("/x/run", 28)
    assert isinstance(exc, OSError) and exc.errno == 28 and exc.exit_code == 3
    assert str(exc) == "/x/run: cannot write: No space left on device"
