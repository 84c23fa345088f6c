"""The Ray engine against a real local Ray cluster (``ray start --head``, 2 CPUs).

The cluster belongs to this test module alone: its own temporary directory, every port it
listens on chosen free, started in a session of its own and torn down by killing exactly
the processes of that session (``ray stop`` is not used: it stops *every* Ray process of
the user on the machine, another test run's cluster included).

Cost: one cluster start (a few seconds) shared by the module's tests.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'jichitai-mig[ray]')")

from ray_support import RAY, RayHeadError, local_ray_head  # noqa: E402

from mig.errors import ConfigError, ExitCode, InputError  # noqa: E402
from mig.extract.ray_engine import EngineTaskError, RayEngine  # noqa: E402


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """The address of a throwaway 2-CPU Ray head on 127.0.0.1, stopped after the module."""
    if not RAY.exists():
        pytest.skip("the ray command is not installed beside this Python")
    try:
        with local_ray_head(cpus=2) as address:
            yield address
    except RayHeadError as exc:
        pytest.fail(str(exc))


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


def test_the_cli_reports_a_task_failure_in_one_line(ray_cluster: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Through click's error wrapper: one line on stderr, the task's exit code, no traceback."""
    from mig.cli.common import user_errors

    @user_errors
    def command() -> None:
        list(RayEngine(workers=1, address=ray_cluster).map_ordered(_missing_file, [Path("/x/b.dat")]))

    with pytest.raises(SystemExit) as caught:
        command()
    assert caught.value.code == int(ExitCode.UNREADABLE_INPUT)
    err = capsys.readouterr().err
    assert err.splitlines() == ["mig: error: Ray task 1 of 1 failed: /x/b.dat (byte 0): no such file"]


def test_an_unreachable_cluster_is_a_config_error_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"^cannot connect to the Ray cluster at 127\.0\.0\.1:1 "):
        list(RayEngine(address="127.0.0.1:1").map_ordered(len, ["a"]))
    assert time.monotonic() - started < 10


def test_workers_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="--workers must be at least 1"):
        RayEngine(workers=0)


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
    """Every file of a run directory by relative path, the run's ``created_at`` (the one
    field a run may change: manifest, report.json, report.html) masked wherever it appears."""
    import json

    created = json.loads((run / "manifest.json").read_bytes())["created_at"].encode()
    return {
        str(path.relative_to(run)): path.read_bytes().replace(created, b"<created_at>")
        for path in sorted(p for p in run.rglob("*") if p.is_file())
    }


def _ship_this_module_by_value() -> None:
    """Ray's workers cannot import ``tests.test_ray_engine``: send its functions by value."""
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])


_ship_this_module_by_value()


def _die_on_three(n: int) -> int:
    if n == 3:
        os._exit(1)  # the worker process dies, as on an OOM kill or a lost node
    return n


def test_a_worker_that_dies_is_retried_then_reported_in_one_line(
    ray_cluster: str, capfd: pytest.CaptureFixture[str]
) -> None:
    engine = RayEngine(workers=2, address=ray_cluster, max_retries=1)
    with pytest.raises(EngineTaskError) as caught:
        list(engine.map_ordered(_die_on_three, [1, 2, 3, 4]))
    assert str(caught.value) == "Ray task 3 of 4 did not complete after 1 retries (WorkerCrashedError)"
    assert caught.value.exit_code == ExitCode.CANNOT_WRITE
    err = capfd.readouterr().err
    assert "Traceback" not in err
