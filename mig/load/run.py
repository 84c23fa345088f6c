"""``load_run``: put one run directory's accepted rows into a database, all or nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mig.errors import ConfigError, InputError, MigError
from mig.load.ddl import Column, columns_for, ddl_for, table_name
from mig.load.manifest import MANIFEST_NAME, read_manifest, verify_outputs
from mig.load.targets import Progress, Target, open_target

BATCH_ROWS = 65_536
"""Rows per Arrow record batch read from a Parquet file (bounds memory)."""


@dataclass(frozen=True)
class FileLoad:
    """What happened to one layout's file."""

    layout: str
    table: str
    rows_read: int
    """Rows in the Parquet file."""
    rows_loaded: int
    """Rows counted back from the table after inserting."""
    rows_rejected: int
    """Rows the extract rejected (from the manifest; they stay in ``rejects/``)."""
    seconds: float


@dataclass(frozen=True)
class LoadResult:
    """The outcome of :func:`load_run`."""

    run_dir: str
    target: str
    """The target URL with any password masked."""
    replace: bool
    files: tuple[FileLoad, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``mig load --json``).

        >>> LoadResult("run", "sqlite:///x.db", False, (), 0.5).to_dict()["totals"]
        {'rows_read': 0, 'rows_loaded': 0, 'rows_rejected': 0}
        """
        return {
            "run_dir": self.run_dir,
            "target": self.target,
            "replace": self.replace,
            "seconds": round(self.seconds, 3),
            "files": [
                {
                    "layout": f.layout,
                    "table": f.table,
                    "rows_read": f.rows_read,
                    "rows_loaded": f.rows_loaded,
                    "rows_rejected": f.rows_rejected,
                    "seconds": round(f.seconds, 3),
                }
                for f in self.files
            ],
            "totals": {
                "rows_read": sum(f.rows_read for f in self.files),
                "rows_loaded": sum(f.rows_loaded for f in self.files),
                "rows_rejected": sum(f.rows_rejected for f in self.files),
            },
        }


@dataclass(frozen=True)
class _Plan:
    layout: str
    table: str
    columns: tuple[Column, ...]
    ddl: str
    parquet: Path
    rows_out: int
    rows_rejected: int


def load_run(
    run_dir: Path,
    target: str,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
) -> LoadResult:
    """Load the accepted rows of ``run_dir`` into ``target`` in one transaction.

    Before anything is written, every output listed in ``manifest.json`` must match its
    recorded size and sha256. Each layout goes into a table named after its id
    (``juki-jumin`` → ``juki_jumin``), created from the manifest's items. An existing
    table of another shape, or one that already holds rows, is refused unless
    ``replace`` (then it is dropped and recreated). After inserting, each table's row
    count must equal the manifest's ``rows_out``; otherwise everything is rolled back.
    ``progress`` is called with the number of rows written after every batch of at
    most ``batch_rows`` rows (memory is bounded by the batch, not the file).

    Example (``run`` is a directory written by ``mig extract``)::

        result = load_run(Path("run"), "sqlite:///jumin.db")
        print(result.to_dict()["totals"])
    """
    started = perf_counter()
    run_dir = Path(run_dir)
    db = open_target(target)  # bad URL or unknown scheme: fail before reading anything
    manifest = read_manifest(run_dir)
    plans = _plans(run_dir, manifest, db.dialect)
    verify_outputs(run_dir, manifest)
    for plan in plans:
        _check_parquet_schema(plan)

    loads: list[FileLoad] = []
    try:
        db.connect()
        db.begin()
        actions = [_decide(db, plan, replace) for plan in plans]  # refuse before writing
        for plan, action in zip(plans, actions, strict=True):
            file_started = perf_counter()
            if action == "replace":
                db.drop_table(plan.table)
            if action in ("create", "replace"):
                db.create_table(plan.ddl)
            rows_read = _write(db, plan, progress, batch_rows)
            rows_loaded = db.count_rows(plan.table)
            if rows_loaded != plan.rows_out or rows_read != plan.rows_out:
                raise MigError(
                    f"table {plan.table}: {rows_loaded} rows after loading "
                    f"({rows_read} read from {plan.parquet.name}) but the manifest says "
                    f"rows_out {plan.rows_out}; nothing was loaded"
                )
            loads.append(
                FileLoad(
                    layout=plan.layout,
                    table=plan.table,
                    rows_read=rows_read,
                    rows_loaded=rows_loaded,
                    rows_rejected=plan.rows_rejected,
                    seconds=perf_counter() - file_started,
                )
            )
        db.commit()
    except BaseException:
        with contextlib.suppress(MigError):
            db.rollback()
        raise
    finally:
        db.close()
    return LoadResult(
        run_dir=str(run_dir),
        target=db.display_url,
        replace=replace,
        files=tuple(loads),
        seconds=perf_counter() - started,
    )


def _plans(run_dir: Path, manifest: dict[str, Any], dialect: str) -> list[_Plan]:
    where = str(run_dir / MANIFEST_NAME)
    plans: list[_Plan] = []
    tables: dict[str, str] = {}
    for entry in manifest["files"]:
        layout: str = entry["layout"]
        table = table_name(layout)
        if table in tables:
            raise InputError(
                where, f"layouts {tables[table]!r} and {layout!r} would share table {table}"
            )
        tables[table] = layout
        data = f"data/{layout}.parquet"
        if not any(output["path"] == data for output in entry["outputs"]):
            raise InputError(where, f"layout {layout}: no {data} among its outputs")
        plans.append(
            _Plan(
                layout=layout,
                table=table,
                columns=columns_for(entry, dialect),
                ddl=ddl_for(entry, dialect),
                parquet=run_dir / data,
                rows_out=entry["rows_out"],
                rows_rejected=entry["rows_rejected"],
            )
        )
    return plans


def _check_parquet_schema(plan: _Plan) -> None:
    """The Parquet file must hold exactly the manifest's items, typed as declared."""
    where = str(plan.parquet)
    try:
        schema = pq.read_schema(plan.parquet)
    except (pa.ArrowException, OSError):
        raise InputError(where, "not a readable Parquet file") from None
    expected = [c.name for c in plan.columns]
    missing = [name for name in expected if name not in schema.names]
    extra = [name for name in schema.names if name not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(extra)}")
        raise InputError(where, f"columns do not match the manifest's items ({'; '.join(parts)})")
    for column in plan.columns:
        arrow_type = schema.field(column.name).type
        if column.data_type == "数値":
            ok = (pa.types.is_decimal(arrow_type) and arrow_type.scale == column.scale) or (
                column.scale == 0 and pa.types.is_integer(arrow_type)
            )
            wanted = f"decimal with scale {column.scale}"
        else:
            ok = (
                pa.types.is_string(arrow_type)
                or pa.types.is_large_string(arrow_type)
                or pa.types.is_string_view(arrow_type)
                or pa.types.is_null(arrow_type)
            )
            wanted = "string"
        if not ok:
            raise InputError(where, f"column {column.name} is {arrow_type}, expected {wanted}")


def _decide(db: Target, plan: _Plan, replace: bool) -> str:
    """``create``, ``replace`` or ``append`` (into an empty table of the same shape)."""
    if not db.table_exists(plan.table):
        return "create"
    if replace:
        return "replace"
    if db.table_shape(plan.table) != tuple(c.shape for c in plan.columns):
        raise ConfigError(
            f"table {plan.table} already exists with a different shape; "
            "load with --replace to drop and recreate it"
        )
    rows = db.count_rows(plan.table)
    if rows:
        raise ConfigError(
            f"table {plan.table} already holds {rows} rows; load with --replace to replace them"
        )
    return "append"


def _write(db: Target, plan: _Plan, progress: Progress | None, batch_rows: int) -> int:
    names = [c.name for c in plan.columns]
    try:
        parquet = pq.ParquetFile(plan.parquet)
    except (pa.ArrowException, OSError):
        raise InputError(str(plan.parquet), "not a readable Parquet file") from None

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows, columns=names):
                yield batch.select(names)
        except (pa.ArrowException, OSError):
            raise InputError(str(plan.parquet), "not a readable Parquet file") from None

    with parquet:
        return db.write_batches(plan.table, plan.columns, batches(), progress)
