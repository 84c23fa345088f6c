"""The load step: a run directory's accepted rows into a database, all or nothing.

>>> from mig.load import known_targets
>>> "sqlite" in known_targets()
True

Targets are chosen by URL scheme (:func:`register_target`); table definitions come from
the manifest's items per SQL dialect (:func:`ddl_for`, :func:`register_dialect`).
"""

from __future__ import annotations

from mig.load import bundle as _bundle  # noqa: F401  (bundle:DIR, see write_bundle)
from mig.load import duckdb as _duckdb  # noqa: F401  (registers duckdb://; driver imported on use)
from mig.load import postgresql as _postgresql  # noqa: F401  (postgresql:// and postgres://)
from mig.load import sqlite as _sqlite  # noqa: F401  (registers the sqlite:// target)
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
