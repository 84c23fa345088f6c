"""Shared fixtures: a real PostgreSQL server for the load tests.

Where the server comes from, in order:

1. ``MIG_TEST_POSTGRES_URL`` (``.ci/run`` starts a throwaway server and exports it): a
   URL of a role allowed to create databases;
2. otherwise, when the PostgreSQL server binaries are installed (``initdb``/``pg_ctl`` on
   ``PATH``, ``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin``), a throwaway server
   started for this test session: ``initdb`` into a temporary directory (as the
   ``postgres`` user when running as root), listening on 127.0.0.1 on a free port and on a
   unix socket in that directory, password (scram-sha-256) authentication over TCP;
3. otherwise the PostgreSQL tests are skipped — except in CI (``CI=true``), where a
   missing server fails them.

:func:`start_throwaway_postgres` is also used by ``benchmarks/bench_load_postgresql.py``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_URL_ENV = "MIG_TEST_POSTGRES_URL"


def pytest_configure(config: pytest.Config) -> None:
    """English for the whole session too, so that the docstring examples of mig/ (run with
    ``--doctest-modules``, outside this folder's fixtures) read the English messages the
    errors render in whatever the developer's locale."""
    for name in ("LC_ALL", "LC_MESSAGES"):
        os.environ.pop(name, None)
    os.environ["LANG"] = "C.UTF-8"


@pytest.fixture(autouse=True)
def english_messages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests read English messages whatever the developer's locale; a test that wants
    Japanese sets ``LANG`` itself or passes ``--lang ja``."""
    from mig.i18n import set_lang

    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    set_lang(None)
    yield
    set_lang(None)


def in_ci() -> bool:
    """Whether the tests run in CI (``CI`` set to true/1/yes), where skips are failures."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def postgres_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None when not installed."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(done.stdout.strip())
        if done.returncode == 0 and (candidate / "initdb").exists():
            return candidate
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL server in a temporary directory; :meth:`stop` removes it."""

    base: Path
    bindir: Path
    port: int
    user: str
    password: str
    run_as: list[str]

    @property
    def url(self) -> str:
        """URL of the bootstrap superuser over TCP (password checked)."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Stop the server at once and delete its directory."""
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"),
             "-m", "immediate", "-w", "stop"],
            capture_output=True, check=False,
        )
        shutil.rmtree(self.base, ignore_errors=True)


def start_throwaway_postgres(*, durable: bool = False) -> ThrowawayPostgres:
    """initdb + pg_ctl start into a new temporary directory; raises RuntimeError if impossible.

    ``durable=False`` turns off fsync (tests); the benchmark passes ``durable=True``.
    """
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    run_as: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="mig-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            import pwd

            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base, ignore_errors=True)
            raise RuntimeError("running as root and there is no 'postgres' user") from None
        os.chown(base, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    password = secrets.token_hex(12)
    server = ThrowawayPostgres(base, bindir, _free_port(), "mig", password, run_as)
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    if run_as:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    (base / "sock").mkdir()
    if run_as:
        os.chown(base / "sock", owner.pw_uid, owner.pw_gid)
    try:
        subprocess.run(
            [*run_as, str(bindir / "initdb"), "-D", str(base / "data"), "-U", "mig",
             f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
             "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            capture_output=True, check=True,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {base / 'sock'}"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(base / "data"), "-l",
             str(base / "server.log"), "-o", options, "-w", "-t", "60", "start"],
            capture_output=True, check=True,
        )
    except subprocess.CalledProcessError as exc:
        log = (base / "server.log").read_text(errors="replace") if (base / "server.log").exists() else ""
        server.stop()
        raise RuntimeError(
            f"could not start PostgreSQL: {exc.stderr.decode(errors='replace')[-500:]} {log[-500:]}"
        ) from None
    return server


def with_database(url: str, database: str) -> str:
    """``url`` pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def with_password(url: str, password: str) -> str:
    """``url`` with another password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL role that may create databases (skips, or fails in CI, if none)."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        yield url
        return
    try:
        server = start_throwaway_postgres()
    except RuntimeError as exc:
        message = f"no PostgreSQL for the load tests ({exc}); set {POSTGRES_URL_ENV}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield server.url
    finally:
        server.stop()


_counter = iter(range(1_000_000))


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """URL of a fresh, empty database on the test server; dropped afterwards."""
    import psycopg

    name = f"mig_test_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(postgres_server, name)
    finally:
        with contextlib.suppress(psycopg.Error):
            with psycopg.connect(postgres_server, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
