"""``load_run``: put one run directory's accepted rows into a database, all or nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from mig.errors import ConfigError, InputError, MigError
from mig.gaiji.policy import (
    CHANGED_ACTIONS,
    ChangeTally,
    GaijiPolicy,
    GaijiPolicyError,
    get_policy,
)
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
    gaiji: tuple[dict[str, Any], ...] = ()
    """Per distinct character the 外字 policy changed (or, for ``shrink``, could not):
    ``code``, ``mj``, ``to_code``, ``action``, ``via``, ``count``, ``items``."""


@dataclass(frozen=True)
class LoadResult:
    """The outcome of :func:`load_run`."""

    run_dir: str
    target: str
    """The target URL with any password masked."""
    replace: bool
    files: tuple[FileLoad, ...]
    seconds: float
    gaiji_policy: GaijiPolicy = field(default_factory=GaijiPolicy)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``mig load --json``).

        >>> LoadResult("run", "sqlite:///x.db", False, (), 0.5).to_dict()["totals"]
        {'rows_read': 0, 'rows_loaded': 0, 'rows_rejected': 0}
        """
        return {
            "run_dir": self.run_dir,
            "target": self.target,
            "replace": self.replace,
            "gaiji_policy": self.gaiji_policy.to_dict(),
            "seconds": round(self.seconds, 3),
            "files": [
                {
                    "layout": f.layout,
                    "table": f.table,
                    "rows_read": f.rows_read,
                    "rows_loaded": f.rows_loaded,
                    "rows_rejected": f.rows_rejected,
                    "seconds": round(f.seconds, 3),
                    "gaiji": [dict(g) for g in f.gaiji],
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
    gaiji_policy: str = "keep",
    shrink_order: str | Sequence[str] | None = None,
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

    ``gaiji_policy`` (:data:`mig.gaiji.policy.POLICIES`) says what happens to characters
    the target may not hold, in the text items (全角文字 / 半角文字 / 混在文字): ``keep``
    (default; IVS kept), ``strip`` (variation selectors dropped), ``shrink`` (縮退 to
    JIS X 0213 through the MJ縮退マップ, tables tried in ``shrink_order``) or ``fail``
    (any character outside JIS X 0213 aborts the load; nothing is written). Every change
    is counted per character in :attr:`FileLoad.gaiji`.

    Example (``run`` is a directory written by ``mig extract``)::

        result = load_run(Path("run"), "sqlite:///jumin.db")
        print(result.to_dict()["totals"])
    """
    started = perf_counter()
    run_dir = Path(run_dir)
    policy = get_policy(gaiji_policy, shrink_order)  # bad names fail before anything else
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
            tally = ChangeTally()
            rows_read = _write(db, plan, progress, batch_rows, policy, tally)
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
                    gaiji=tuple(tally.entries()),
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
        gaiji_policy=policy,
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


_TEXT_TYPES = ("全角文字", "半角文字", "混在文字")


def _apply_policy(
    batch: pa.RecordBatch,
    policy: GaijiPolicy,
    text_columns: list[str],
    tally: ChangeTally,
    table: str,
) -> pa.RecordBatch:
    """The batch with ``policy`` applied to its text columns (``keep``: the batch itself)."""
    if policy.name == "keep" or not text_columns:
        return batch
    frame = pl.DataFrame(
        [pl.Series(name, batch.column(name)).cast(pl.String) for name in text_columns]
    )
    try:
        changed, changes = policy.apply(frame, text_columns)
    except GaijiPolicyError as exc:
        raise GaijiPolicyError(f"table {table}: {exc}") from None
    tally.add(changes)
    changed_items = changes.filter(pl.col("action").is_in(CHANGED_ACTIONS)).get_column("item")
    for name in changed_items.unique().sort().to_list():
        index = batch.schema.get_field_index(name)
        field_ = batch.schema.field(index)
        batch = batch.set_column(index, field_, changed.get_column(name).to_arrow().cast(field_.type))
    return batch


def _write(
    db: Target,
    plan: _Plan,
    progress: Progress | None,
    batch_rows: int,
    policy: GaijiPolicy | None = None,
    tally: ChangeTally | None = None,
) -> int:
    names = [c.name for c in plan.columns]
    policy = policy or GaijiPolicy()
    tally = tally if tally is not None else ChangeTally()
    text_columns = [c.name for c in plan.columns if c.data_type in _TEXT_TYPES]
    try:
        parquet = pq.ParquetFile(plan.parquet)
    except (pa.ArrowException, OSError):
        raise InputError(str(plan.parquet), "not a readable Parquet file") from None

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows, columns=names):
                yield _apply_policy(
                    batch.select(names), policy, text_columns, tally, plan.table
                )
        except (pa.ArrowException, OSError):
            raise InputError(str(plan.parquet), "not a readable Parquet file") from None

    with parquet:
        return db.write_batches(plan.table, plan.columns, batches(), progress)
