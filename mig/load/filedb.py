"""What the file-database targets (SQLite, DuckDB) share: URL → path, path checks, cleanup.

A file target that created its database file and then rolled the load back removes the
file again (:func:`remove_database_files`), so a failed load leaves no empty database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from mig.errors import ConfigError
from mig.load.targets import redact_url


def database_path(url: str, scheme: str, kind: str, suffix: str) -> str:
    """The database path of a ``scheme:///path`` URL (taken literally, not %-decoded).

    >>> database_path("duckdb:///out/run.duckdb", "duckdb", "DuckDB", ".duckdb")
    'out/run.duckdb'
    >>> database_path("sqlite:////var/lib/mig/run.db", "sqlite", "SQLite", ".db")
    '/var/lib/mig/run.db'
    """
    prefix = f"{scheme}:///"
    if not url.lower().startswith(prefix) or len(url) == len(prefix):
        raise ConfigError(
            f"bad {kind} URL {redact_url(url)!r}; expected {prefix}relative{suffix} or "
            f"{prefix}/absolute{suffix}"
        )
    return url[len(prefix) :]


def check_database_path(path: str, kind: str) -> bool:
    """Refuse a directory or a missing parent directory; whether the file is new.

    ``:memory:`` is never new (there is no file to remove).
    """
    if path == ":memory:":
        return False
    file = Path(path)
    if file.is_dir():
        raise ConfigError(f"{path}: is a directory, not a {kind} database file")
    if not file.parent.is_dir():
        raise ConfigError(f"{path}: directory {file.parent} does not exist")
    return not file.exists()


def remove_database_files(path: str, suffixes: Sequence[str]) -> None:
    """Remove ``path`` and its companions (journal, WAL), ignoring any that are not there."""
    for suffix in ("", *suffixes):
        with contextlib.suppress(OSError):
            Path(path + suffix).unlink(missing_ok=True)


def sql_literal(text: str) -> str:
    """``text`` as an SQL string literal.

    >>> sql_literal("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"
