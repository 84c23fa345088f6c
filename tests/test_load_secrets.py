"""No credential of a target URL in any output: messages, the summary, ``--json``, files.

The properties build URLs around a password of arbitrary characters (``@``, ``/``, ``?``,
``&``, quotes, %-escapes) and check that no character of it survives :func:`redact_url`;
the PostgreSQL tests run ``mig load`` against a real server (``conftest.py``) with wrong
and right passwords in every spelling and look for the secret in stdout, stderr, the
``--json`` document, every file under the test's directory and the target's ledger.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
import pytest
from conftest import with_password
from hypothesis import assume, given
from hypothesis import strategies as st
from test_load import JUMIN_ITEMS, jumin_rows, make_run

from mig.errors import ConfigError, ExitCode
from mig.load import load_run, open_target, redact_url
from mig.load.targets import redact_text, url_secrets

# Upper-case letters never occur in the scaffolding of the URLs below, so any of them in a
# redacted URL came from the password: a leak, even of a fragment.
MARKERS = "ABCXYZ"
PASSWORD = st.text(alphabet=MARKERS + "@/?&=:%#'\"\\ ;,.-_+", min_size=1, max_size=24)


def _leaked(shown: str) -> bool:
    return any(c in shown for c in MARKERS)


@given(PASSWORD)
def test_userinfo_password_never_survives(password: str) -> None:
    assume(_leaked(password))
    for url in (
        f"postgresql://mig:{password}@db:5432/x",
        f"postgresql://mig:{password}@db:5432/x?sslmode=require&application_name=a@b",
        *([f"mig:{password}@db/x"] if not password.startswith("//") else []),  # else a URL of user "mig"
    ):
        shown = redact_url(url)
        assert not _leaked(shown), (url, shown)
    assert redact_url(f"postgresql://mig:{password}@db:5432/x") == "postgresql://mig:***@db:5432/x"


@given(PASSWORD.filter(lambda p: "&" not in p), st.sampled_from(["password", "passfile", "sslpassword", "pass%77ord"]))
def test_query_secret_never_survives(password: str, key: str) -> None:
    assume(_leaked(password))
    for url in (
        f"postgresql://mig@db/x?sslmode=require&{key}={password}",
        f"postgresql://mig@db/x?{key}={password}&sslmode=require",
        f"postgresql:///x?host=/run/postgresql&{key}={password}",
    ):
        shown = redact_url(url)
        assert not _leaked(shown), (url, shown)
        if "@" not in password:  # with an "@" the URL also reads as user:password@…, and
            # whatever that reading calls a password is masked everywhere (safe, less legible)
            assert "sslmode=require" in shown or "host=/run/postgresql" in shown or shown.endswith("***")


@given(PASSWORD)
def test_keyword_value_secret_never_survives(password: str) -> None:
    assume(_leaked(password))
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    url = f"host=db user=mig password='{escaped}' dbname=x"
    shown = redact_url(url)
    assert not _leaked(shown), shown
    assert shown.startswith("host=db user=mig password=***")


def test_redaction_keeps_what_is_not_secret() -> None:
    assert redact_url("postgresql://mig:p@ss@db:5432/x?service=hr") == "postgresql://mig:***@db:5432/x?service=hr"
    assert redact_url("postgresql://mig@db/x?passfile=/home/mig/.pgpass") == "postgresql://mig@db/x?passfile=***"
    assert redact_url("sqlite:///out/a@b.db") == "sqlite:///out/a@b.db"
    assert redact_url("bundle:out/handover") == "bundle:out/handover"
    assert url_secrets("postgresql://mig:p%40ss@db/x") == ["p%40ss", "p@ss"]
    assert redact_text("host 'ss@db' and p@ss", ["p@ss", "ss"]) == "host '***@db' and ***"


def test_every_target_shows_its_url_redacted(tmp_path: Path) -> None:
    for url in (f"sqlite:///{tmp_path}/x.db?password=S3CRET", f"duckdb:///{tmp_path}/x.duckdb?password=S3CRET"):
        assert "S3CRET" not in open_target(url).display_url
    for url in ("sqlite://mig:S3CRET@x.db", "host=db password=S3CRET", "bundle://mig:S3CRET@x"):
        with pytest.raises(ConfigError) as info:
            open_target(url)
        assert "S3CRET" not in str(info.value)


# -- a real PostgreSQL server ---------------------------------------------------------------


def mig(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mig", *args], capture_output=True, text=True, check=False,
        env={**os.environ, **(env or {})}, timeout=300,
    )


def _files_holding(root: Path, secrets: list[str]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path}: {s}" for s in secrets if s.encode() in data]
    return hits


def _assert_nowhere(secrets: list[str], done: subprocess.CompletedProcess[str], root: Path) -> None:
    for secret in secrets:
        assert secret not in done.stdout, secret
        assert secret not in done.stderr, secret
    assert "Traceback" not in done.stderr
    assert _files_holding(root, secrets) == []


@pytest.fixture
def small_run(tmp_path: Path) -> Path:
    rows = jumin_rows(20)
    rows["宛名番号"][5] = rows["宛名番号"][4]  # a duplicate key: one row to the load rejects
    return make_run(tmp_path / "run", {"juki-jumin": (JUMIN_ITEMS, rows, ["宛名番号"])})


def _real_password(url: str) -> str:
    password = urlsplit(url).password
    assert password
    return password


def _without_userinfo_password(url: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}@{parts.hostname}:{parts.port}"
    return parts._replace(netloc=netloc).geturl()


def test_wrong_passwords_with_at_sign_and_in_query_never_shown(
    small_run: Path, pg_url: str, tmp_path: Path
) -> None:
    base = _without_userinfo_password(pg_url)
    if not psycopg_checks_passwords(pg_url):
        pytest.skip("the test server does not check passwords")
    cases: list[tuple[str, list[str], str]] = [
        # unencoded '@': libpq would split at the first one; refused before connecting
        (with_password(pg_url, "wr@ng-S3cret"), ["wr@ng-S3cret", "ng-S3cret", "S3cret"], "percent-encode"),
        (with_password(pg_url, quote("wr@ng-S3cret", safe="")), ["wr@ng-S3cret", "wr%40ng-S3cret", "S3cret"],
         "password authentication failed"),
        (f"{base}?password=Wr0ngQuery-S3cret", ["Wr0ngQuery-S3cret", "S3cret"], "password authentication failed"),
        (f"{base}?sslmode=disable&password=a%40Wr0ng-S3cret", ["a@Wr0ng-S3cret", "a%40Wr0ng-S3cret", "S3cret"],
         "password authentication failed"),
    ]
    for url, secrets, reason in cases:
        for json_flag in ([], ["--json"]):
            done = mig("load", str(small_run), "--target", url, *json_flag)
            assert done.returncode == ExitCode.USAGE, done.stderr
            assert reason in done.stderr, done.stderr
            assert done.stderr.count("\n") == 1
            _assert_nowhere(secrets, done, tmp_path)


def psycopg_checks_passwords(url: str) -> bool:
    try:
        psycopg.connect(with_password(url, "certainly-not-it")).close()
    except psycopg.OperationalError:
        return True
    return False


def test_driver_text_echoing_the_secret_is_masked(small_run: Path, tmp_path: Path) -> None:
    # libpq names the host it could not resolve; here that host is the password itself.
    url = "postgresql://mig:nohost-S3cret.invalid@nohost-S3cret.invalid:5432/x?connect_timeout=3"
    done = mig("load", str(small_run), "--target", url)
    assert done.returncode == ExitCode.USAGE
    assert "cannot connect to PostgreSQL" in done.stderr
    _assert_nowhere(["S3cret"], done, tmp_path)


def test_successful_load_shows_no_password(small_run: Path, pg_url: str, tmp_path: Path) -> None:
    password = _real_password(pg_url)
    in_query = f"{_without_userinfo_password(pg_url)}?password={quote(password, safe='')}"
    for url, flags in ((in_query, ["--json"]), (pg_url, ["--replace"])):
        done = mig("load", str(small_run), "--target", url, *flags)
        assert done.returncode == ExitCode.FINDINGS, done.stderr  # the duplicate key was refused
        _assert_nowhere([password], done, tmp_path)
        if "--json" in flags:
            result: dict[str, Any] = json.loads(done.stdout)
            assert result["target"].endswith("?password=***")
            assert result["files"][0]["rows_load_rejected"] == 1
        else:
            assert f"→ {redact_url(pg_url)};" in done.stdout.splitlines()[-1]
    assert (small_run / "load-rejects" / "juki_jumin.jsonl").is_file()  # a file mig wrote, checked above
    with psycopg.connect(pg_url) as conn:
        ledger = conn.execute("SELECT * FROM mig_loads").fetchall()
    assert ledger and all(password not in repr(row) for row in ledger)
    result_target = load_run(small_run, in_query, replace=True).target
    assert password not in result_target and result_target.endswith("password=***")


def test_service_file_content_never_shown(small_run: Path, pg_url: str, tmp_path: Path) -> None:
    if not psycopg_checks_passwords(pg_url):
        pytest.skip("the test server does not check passwords")
    parts = urlsplit(pg_url)
    service_file = tmp_path / "pg_service.conf"
    service_file.write_text(
        f"[migtest]\nhost={parts.hostname}\nport={parts.port}\nuser={parts.username}\n"
        f"dbname={parts.path.lstrip('/')}\npassword=Svc-Wr0ng-S3cret\n",
        encoding="utf-8",
    )
    done = mig("load", str(small_run), "--target", "postgresql://?service=migtest",
               env={"PGSERVICEFILE": str(service_file)})
    assert done.returncode == ExitCode.USAGE
    assert "password authentication failed" in done.stderr
    assert "service=migtest" in done.stderr  # the service name is not a secret
    for secret in ("Svc-Wr0ng-S3cret", "S3cret"):
        assert secret not in done.stdout and secret not in done.stderr
    assert _files_holding(small_run, ["S3cret"]) == []
