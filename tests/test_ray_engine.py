"""The Ray engine against a real local Ray cluster (``ray start --head``, 2 CPUs).

The cluster belongs to this test module alone: its own temporary directory, every port it
listens on chosen free, started in a session of its own and torn down by killing exactly
the processes of that session (``ray stop`` is not used: it stops *every* Ray process of
the user on the machine, another test run's cluster included).

Cost: one cluster start (a few seconds) shared by the module's tests.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'jichitai-mig[ray]')")

from mig.errors import ConfigError, ExitCode, InputError  # noqa: E402
from mig.extract.ray_engine import EngineTaskError, RayEngine  # noqa: E402

RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _free_range(size: int = 50) -> tuple[int, int]:
    """``size`` consecutive ports none of which is bound now (for Ray's worker ports)."""
    for _ in range(200):
        low = random.randrange(20_000, 60_000 - size)
        try:
            with contextlib.ExitStack() as stack:
                for port in range(low, low + size):
                    s = stack.enter_context(socket.socket())
                    s.bind(("127.0.0.1", port))
            return low, low + size - 1
        except OSError:
            continue
    raise RuntimeError("no free port range")


def _session_pids(sid: int) -> list[int]:
    """Processes of session ``sid`` (everything ``ray start`` and its children started)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(b")", 1)[-1].split()
        if int(fields[3]) == sid:  # state ppid pgrp session
            pids.append(int(entry))
    return pids


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """The address of a throwaway 2-CPU Ray head on 127.0.0.1, stopped after the module."""
    if not RAY.exists():
        pytest.skip("the ray command is not installed beside this Python")
    temp = tempfile.mkdtemp(prefix="migray", dir="/tmp")  # short: Ray's unix sockets live here
    port = _free_port()
    low, high = _free_range()
    # a cluster on 127.0.0.1 for one test run: no token to hand around
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    command = [
        str(RAY), "start", "--head", "--block", "--num-cpus", "2", "--disable-usage-stats",
        "--node-ip-address", "127.0.0.1", "--port", str(port), "--temp-dir", temp,
        "--include-dashboard", "false", "--dashboard-port", str(_free_port()),
        "--node-manager-port", str(_free_port()), "--object-manager-port", str(_free_port()),
        "--metrics-export-port", str(_free_port()),
        "--dashboard-agent-listen-port", str(_free_port()),
        "--dashboard-agent-grpc-port", str(_free_port()),
        "--runtime-env-agent-port", str(_free_port()),
        "--min-worker-port", str(low), "--max-worker-port", str(high),
    ]
    log = open(Path(temp) / "ray-start.log", "wb")  # noqa: SIM115 - closed at teardown
    head = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if head.poll() is not None:
                pytest.fail(f"ray start exited with {head.returncode}: see {temp}/ray-start.log")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                pytest.fail("the Ray head did not come up in 90 s")
            time.sleep(0.2)
        yield address
    finally:
        # The head stops its own processes on SIGTERM; whatever of its session is left
        # (GCS, raylet, workers, agents) is killed after that.
        pids = _session_pids(head.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(head.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=20)
        for pid in {*pids, *_session_pids(head.pid)}:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=5)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
        assert not _living(_session_pids(head.pid)), "processes of the Ray head left behind"


def _living(pids: list[int]) -> list[int]:
    """``pids`` still running (a killed process may stay a zombie until its parent reaps it)."""
    alive = []
    for pid in pids:
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[-1].split()[0]
            if state != b"Z":
                alive.append(pid)
    return alive


def test_results_come_back_in_task_order(ray_cluster: str) -> None:
    import ray

    # tasks of very different sizes finish out of order; the results may not
    tasks = ["x" * (200_000 if i % 3 == 0 else i) for i in range(12)]
    engine = RayEngine(workers=2, address=ray_cluster)
    assert list(engine.map_ordered(len, tasks)) == [len(t) for t in tasks]
    # the driver disconnected: a second map connects again
    assert list(engine.map_ordered(abs, [-1, 2, -3])) == [1, 2, 3]
    assert not ray.is_initialized()  # the driver disconnected from the cluster it joined


def test_a_failing_task_is_one_line_naming_it(ray_cluster: str) -> None:
    engine = RayEngine(workers=2, address=ray_cluster)
    with pytest.raises(EngineTaskError) as caught:
        list(engine.map_ordered(int, ["1", "2", "secret-value", "4"]))
    message = str(caught.value)
    assert message == "Ray task 3 of 4 failed: ValueError"
    assert "secret" not in message and "\n" not in message  # the exception's text quotes data
    assert caught.value.exit_code == ExitCode.USAGE


def test_a_mig_error_in_a_task_keeps_its_message_and_exit_code(ray_cluster: str) -> None:
    engine = RayEngine(workers=1, address=ray_cluster)
    with pytest.raises(EngineTaskError) as caught:
        list(engine.map_ordered(_missing_file, [Path("/nonexistent/a.dat")]))
    assert str(caught.value).startswith("Ray task 1 of 1 failed: /nonexistent/a.dat")
    assert caught.value.exit_code == ExitCode.UNREADABLE_INPUT


def _missing_file(path: Path) -> int:
    # a module-level function of the tests: Ray ships it by value (registered below)
    raise InputError(str(path), "no such file", offset=0)


def test_the_cli_reports_a_task_failure_in_one_line(ray_cluster: str) -> None:
    """Through click's error wrapper: one line on stderr, the task's exit code, no traceback."""
    from mig.cli.common import user_errors

    @user_errors
    def command() -> None:
        list(RayEngine(workers=1, address=ray_cluster).map_ordered(_missing_file, [Path("/x/b.dat")]))

    with pytest.raises(SystemExit) as caught:
        command()
    assert caught.value.code == int(ExitCode.UNREADABLE_INPUT)


def test_an_unreachable_cluster_is_a_config_error_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"^cannot connect to the Ray cluster at 127\.0\.0\.1:1 "):
        list(RayEngine(address="127.0.0.1:1").map_ordered(len, ["a"]))
    assert time.monotonic() - started < 10


def test_workers_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="must be 1 or more"):
        RayEngine(workers=0)


@pytest.mark.skipif(
    importlib.util.find_spec("mig.extract.engines") is None,
    reason="needs mig.extract.engines (the partitioned extract of branch 'parts', issue 20)",
)
def test_an_extract_on_ray_is_byte_identical_to_a_single_process_run(
    ray_cluster: str, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from mig.cli import main
    from mig.demo.generator import generate_legacy_export

    export = generate_legacy_export(tmp_path / "export", rows=3000, seed=7)
    inputs = [str(export.setai_csv), str(export.jumin_csv), str(export.ido_csv)]
    runs = {}
    for name, extra in (
        ("single", ["--workers", "1"]),
        ("ray", ["--engine", "ray", "--address", ray_cluster, "--workers", "2"]),
    ):
        out = tmp_path / name
        result = CliRunner().invoke(
            main, ["extract", *inputs, "-m", str(export.mapping), "-o", str(out), "--quiet", *extra,
                   "--batch-mb", "1"],
        )
        assert result.exit_code in (0, 1), result.output
        runs[name] = out
    assert _run_files(runs["ray"]) == _run_files(runs["single"])


def _run_files(run: Path) -> dict[str, bytes]:
    """Every file of a run directory by relative path; ``created_at`` masked in the manifest."""
    import json

    files = {}
    for path in sorted(p for p in run.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.name == "manifest.json":
            manifest = json.loads(data)
            manifest.pop("created_at", None)
            data = json.dumps(manifest, sort_keys=True).encode()
        files[str(path.relative_to(run))] = data
    return files


def _ship_this_module_by_value() -> None:
    """Ray's workers cannot import ``tests.test_ray_engine``: send its functions by value."""
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])


_ship_this_module_by_value()
