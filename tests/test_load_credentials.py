"""A target password off the command line, against the real PostgreSQL of conftest.py:
``PGPASSWORD``, a password file (``~/.pgpass`` via ``PGPASSFILE``), a service file, or
``--url-env VAR``; and ``mig --log-file`` writes a run log with neither values nor the
password."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from conftest import with_password
from test_load import JUMIN_ITEMS, jumin_rows, make_run

from mig.errors import ExitCode


@pytest.fixture
def clean_run(tmp_path: Path) -> Path:
    return make_run(tmp_path / "run", {"juki-jumin": (JUMIN_ITEMS, jumin_rows(20), ["宛名番号"])})


@pytest.fixture
def server(pg_url: str) -> str:
    try:
        psycopg.connect(with_password(pg_url, "certainly-not-it")).close()
    except psycopg.OperationalError:
        return pg_url
    pytest.skip("the test server does not check passwords")


def _password(url: str) -> str:
    password = urlsplit(url).password
    assert password
    return password


def _no_password(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}"))


def mig(*args: str, env: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    """``mig`` with no credential in the environment but those given (HOME elsewhere, so a
    developer's own ~/.pgpass plays no part)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "MIG_TARGET_URL"}
    base |= {"HOME": str(home), "PGPASSFILE": str(home / "none.pgpass")}
    return subprocess.run([sys.executable, "-m", "mig", *args], capture_output=True, text=True,
                          env={**base, **env}, timeout=300, check=False)


def _loaded(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM juki_jumin").fetchone()
    assert row is not None
    return int(row[0])


def _nowhere(secret: str, done: subprocess.CompletedProcess[str]) -> None:
    assert secret not in done.stdout and secret not in done.stderr
    assert "Traceback" not in done.stderr


def test_without_a_password_the_server_refuses(server: str, clean_run: Path, tmp_path: Path) -> None:
    """The control: the URL alone does not get in, so the cases below used their secret."""
    done = mig("load", str(clean_run), "--target", _no_password(server), env={}, home=tmp_path)
    assert done.returncode == ExitCode.USAGE and "password" in done.stderr


def test_pgpassword(server: str, clean_run: Path, tmp_path: Path) -> None:
    password = _password(server)
    done = mig("load", str(clean_run), "--target", _no_password(server), env={"PGPASSWORD": password}, home=tmp_path)
    assert done.returncode == ExitCode.CLEAN, done.stderr
    _nowhere(password, done)
    assert _loaded(server) == 20


def test_password_file(server: str, clean_run: Path, tmp_path: Path) -> None:
    password = _password(server)
    parts = urlsplit(server)
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{parts.hostname}:{parts.port}:*:{parts.username}:{password}\n", encoding="utf-8")
    passfile.chmod(stat.S_IRUSR | stat.S_IWUSR)  # libpq ignores a password file others can read
    done = mig("load", str(clean_run), "--target", _no_password(server), env={"PGPASSFILE": str(passfile)},
               home=tmp_path)
    assert done.returncode == ExitCode.CLEAN, done.stderr
    _nowhere(password, done)
    assert _loaded(server) == 20


def test_service_file(server: str, clean_run: Path, tmp_path: Path) -> None:
    password = _password(server)
    parts = urlsplit(server)
    services = tmp_path / "pg_service.conf"
    services.write_text(
        f"[migload]\nhost={parts.hostname}\nport={parts.port}\nuser={parts.username}\n"
        f"dbname={parts.path.lstrip('/')}\npassword={password}\n", encoding="utf-8",
    )
    done = mig("load", str(clean_run), "--target", "postgresql://?service=migload",
               env={"PGSERVICEFILE": str(services)}, home=tmp_path)
    assert done.returncode == ExitCode.CLEAN, done.stderr
    _nowhere(password, done)
    assert "service=migload" in done.stdout  # the summary names the target by its service
    assert _loaded(server) == 20


def test_url_from_an_environment_variable_and_the_run_log(server: str, clean_run: Path, tmp_path: Path) -> None:
    password = _password(server)
    log = tmp_path / "run.log"
    args = ("--log-file", str(log), "load", str(clean_run), "--url-env", "MIG_TARGET_URL")
    done = mig(*args, env={"MIG_TARGET_URL": server}, home=tmp_path)
    assert password not in " ".join(args)
    assert done.returncode == ExitCode.CLEAN, done.stderr
    _nowhere(password, done)
    assert _loaded(server) == 20
    text = log.read_text(encoding="utf-8")
    assert password not in text
    lines = text.splitlines()
    assert lines[0].endswith(f"INFO start mig --log-file {log} load {clean_run} --url-env MIG_TARGET_URL")
    assert any(" INFO load juki_jumin " in line and " 20 " in line for line in lines)
    assert " INFO end exit 0 (" in lines[-1]


def test_a_password_given_on_the_command_line_is_masked_in_the_log(
    server: str, clean_run: Path, tmp_path: Path
) -> None:
    password = _password(server)
    log = tmp_path / "run.log"
    log.write_text("earlier run\n", encoding="utf-8")
    done = mig("--log-file", str(log), "load", str(clean_run), "--target", server, env={}, home=tmp_path)
    assert done.returncode == ExitCode.CLEAN, done.stderr
    text = log.read_text(encoding="utf-8")
    assert text.startswith("earlier run\n")  # appended to, never replaced
    assert password not in text and ":***@" in text


@pytest.mark.parametrize(("args", "env", "expected"), [
    (["--url-env", "MIG_TARGET_URL"], {}, "--url-env MIG_TARGET_URL: the environment variable MIG_TARGET_URL is not set"),
    (["--url-env", "NO SUCH"], {}, "not an environment variable name"),
    (["--url-env", "MIG_TARGET_URL", "--target", "sqlite:///x.db"], {"MIG_TARGET_URL": "sqlite:///y.db"},
     "give --target or --url-env, not both"),
    ([], {}, "give the target as --target URL or --url-env VAR"),
])
def test_target_usage_errors(clean_run: Path, tmp_path: Path, args: list[str], env: dict[str, str], expected: str) -> None:
    done = mig("load", str(clean_run), *args, env=env, home=tmp_path)
    assert done.returncode == ExitCode.USAGE
    assert done.stderr.startswith("mig: error: ") and expected in done.stderr
    assert done.stderr.count("\n") == 1


def test_the_run_log_of_an_extract_has_counts_and_no_values(tmp_path: Path) -> None:
    from mig.demo.generator import generate_legacy_export

    export = generate_legacy_export(tmp_path / "legacy", rows=60, seed=1)
    log = tmp_path / "extract.log"
    done = mig("--log-file", str(log), "extract", str(export.setai_csv), str(export.jumin_csv), str(export.ido_csv),
               "-m", str(export.mapping), "-o", str(tmp_path / "run"), "--show-values", "--quiet",
               env={}, home=tmp_path)
    assert done.returncode == ExitCode.FINDINGS, done.stderr
    text = log.read_text(encoding="utf-8")
    assert "INFO manifest juki-jumin: rows_in 60 = rows_out " in text
    # no value of the export: none of its 個人番号 (MYNUMBER) or 氏 (SEI) is in the log
    rows = [line.split(",") for line in export.jumin_csv.read_text(encoding="cp932").splitlines()]
    header = rows[0]
    values = {row[header.index(column)] for row in rows[1:] for column in ("MYNUMBER", "SEI") if len(row) == len(header)}
    assert len(values) > 10 and not any(value and value in text for value in values)
