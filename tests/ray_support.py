"""A throwaway local Ray head for the tests and ``benchmarks/bench_scale.py``.

:func:`local_ray_head` runs ``ray start --head --block`` with its own temporary directory
and every port it listens on chosen free (two test runs on one machine do not collide),
in a session of its own; on exit it stops exactly the processes of that session. ``ray
stop`` is never used: it stops *every* Ray process of the user on the machine.
"""

from __future__ import annotations

import contextlib
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

RAY = Path(sys.executable).with_name("ray")


class RayHeadError(RuntimeError):
    """The head did not start, or left processes behind."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _free_range(size: int = 50, avoid: frozenset[int] = frozenset()) -> tuple[int, int]:
    """``size`` consecutive ports none of which is bound now (for Ray's worker ports) nor in
    ``avoid`` (the head's other ports: Ray refuses to start when the worker range holds one,
    "a port number … that is used by other components")."""
    for _ in range(200):
        low = random.randrange(20_000, 60_000 - size)
        if any(low <= port < low + size for port in avoid):
            continue
        try:
            with contextlib.ExitStack() as stack:
                for port in range(low, low + size):
                    s = stack.enter_context(socket.socket())
                    s.bind(("127.0.0.1", port))
            return low, low + size - 1
        except OSError:
            continue
    raise RayHeadError("no free port range")


def session_pids(sid: int) -> list[int]:
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


def living(pids: list[int]) -> list[int]:
    """``pids`` still running (a killed process may stay a zombie until its parent reaps it)."""
    alive = []
    for pid in pids:
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[-1].split()[0]
            if state != b"Z":
                alive.append(pid)
    return alive


@contextlib.contextmanager
def local_ray_head(cpus: int = 2, start_timeout: float = 90) -> Iterator[str]:
    """The address (``127.0.0.1:PORT``) of a Ray head with ``cpus`` CPUs, stopped on exit."""
    temp = tempfile.mkdtemp(prefix="migray", dir="/tmp")  # short: Ray's unix sockets live here
    port = _free_port()
    ports = {
        option: _free_port()
        for option in (
            "--dashboard-port", "--node-manager-port", "--object-manager-port", "--metrics-export-port",
            "--dashboard-agent-listen-port", "--dashboard-agent-grpc-port", "--runtime-env-agent-port",
        )
    }
    low, high = _free_range(avoid=frozenset({port, *ports.values()}))
    # a cluster on 127.0.0.1 for one run: no token to hand around, no usage statistics
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    command = [
        str(RAY), "start", "--head", "--block", "--num-cpus", str(cpus), "--disable-usage-stats",
        "--node-ip-address", "127.0.0.1", "--port", str(port), "--temp-dir", temp,
        "--include-dashboard", "false",
        *(part for option, number in ports.items() for part in (option, str(number))),
        "--min-worker-port", str(low), "--max-worker-port", str(high),
    ]
    log = open(Path(temp) / "ray-start.log", "wb")  # noqa: SIM115 - closed on exit
    head = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if head.poll() is not None:
                tail = (Path(temp) / "ray-start.log").read_bytes()[-500:].decode(errors="replace")
                raise RayHeadError(f"ray start exited with {head.returncode}: {tail}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise RayHeadError(f"the Ray head did not come up in {start_timeout:.0f} s")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        # The head stops its own processes on SIGTERM; whatever of its session is left
        # (GCS, raylet, workers, agents) is killed after that.
        pids = session_pids(head.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(head.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=20)
        for pid in {*pids, *session_pids(head.pid)}:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=5)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
        left = living(session_pids(head.pid))
        if left:
            raise RayHeadError(f"processes of the Ray head left behind: {left}")
