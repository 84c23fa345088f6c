"""The load step: a run directory's accepted rows into a database, all or nothing.

>>> from mig.load import known_targets
>>> "sqlite" in known_targets()
True

Targets are chosen by URL scheme: the entry-point group ``mig.targets`` (the built-in
sqlite, duckdb, postgresql/postgres and bundle targets register there too), or
:func:`register_target` at run time; table definitions come from the manifest's items per
SQL dialect (:func:`ddl_for`, :func:`register_dialect`).
"""

from __future__ import annotations

from mig.load.ddl import (
    Column,
    ColumnShape,
    Dialect,
    columns_for,
    ddl_for,
    get_dialect,
    register_dialect,
    table_name,
)
from mig.load.run import FileLoad, LoadResult, load_run
from mig.load.targets import (
    Target,
    known_targets,
    open_target,
    redact_url,
    register_target,
    unregister_target,
)
from mig.run.manifest import load_manifest, read_manifest, verify_outputs
from mig.run.writer import sha256_file

__all__ = [
    "Column",
    "ColumnShape",
    "Dialect",
    "FileLoad",
    "LoadResult",
    "Target",
    "columns_for",
    "ddl_for",
    "get_dialect",
    "known_targets",
    "load_manifest",
    "load_run",
    "open_target",
    "read_manifest",
    "redact_url",
    "register_dialect",
    "register_target",
    "sha256_file",
    "table_name",
    "unregister_target",
    "verify_outputs",
]
