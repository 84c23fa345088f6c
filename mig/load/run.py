"""``load_run``: put one run directory's accepted rows into a database, all or nothing.

Every target gets one transaction, the manifest check (sizes and sha256) before anything
is written, and the count read back against the manifest. Targets with more abilities
(:class:`~mig.load.targets.RowIsolatingTarget`, :class:`~mig.load.targets.RunLedgerTarget`
— PostgreSQL has both) also get:

- **row isolation**: a batch the server refuses is split in halves, each half tried in its
  own savepoint, until the refused rows are single; they are written to the load rejects
  (``RUN_DIR/load-rejects/<table>.jsonl`` unless told otherwise, written to a temporary
  name and renamed only after the commit) with the server's SQLSTATE, constraint and
  message, and the rest loads. ``rows_read == rows_loaded + rows_load_rejected`` is
  checked per table before the commit;
- **idempotent re-runs**: the run id (sha256 of ``manifest.json``) is recorded per table;
  loading the same run again replaces its own rows, a table holding another run's rows is
  refused unless ``replace``.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any, TypeVar

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from mig.charsets import TEXT_TYPES
from mig.errors import ConfigError, ExitCode, InputError, MigError
from mig.fs import PendingFile
from mig.gaiji.policy import (
    CHANGED_ACTIONS,
    ChangeTally,
    GaijiPolicy,
    GaijiPolicyError,
    get_policy,
)
from mig.i18n import text
from mig.jp import pad_display
from mig.load.ddl import Column, ColumnShape, columns_for, ddl_for, table_name
from mig.load.parallel import (
    PARALLEL_MIN_ROWS,
    PART_ROWS,
    Staged,
    TableJob,
    check_jobs,
    stage_tables,
)
from mig.load.targets import (
    Progress,
    RowError,
    RowIsolatingTarget,
    RunLedgerTarget,
    StagingTarget,
    StreamingTarget,
    Target,
    open_target,
)
from mig.machine import default_workers
from mig.run.manifest import (
    LOAD_REJECTS_DIR,
    MANIFEST_NAME,
    Manifest,
    ManifestFile,
    data_parquet,
    load_manifest,
    verify_outputs,
)
from mig.run.writer import sha256_file

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
    rows_load_rejected: int = 0
    """Rows the target refused (constraint or data errors); in :attr:`rejects_file`."""
    load_rejects: tuple[dict[str, Any], ...] = ()
    """Refused rows per ``sqlstate`` and ``constraint`` (``count``): no values."""
    rejects_file: str | None = None
    """The JSON-lines file holding the refused rows with the server's messages."""
    action: str = "create"
    """What happened to the table: ``create``, ``replace`` (dropped and recreated),
    ``append`` (an empty table of the same shape), ``reload`` (emptied and refilled)."""


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
    run_id: str = ""
    """sha256 of the run's ``manifest.json``: what the target's ledger records."""

    @property
    def rows_load_rejected(self) -> int:
        """Rows the target refused, over all files."""
        return sum(f.rows_load_rejected for f in self.files)

    @property
    def exit_code(self) -> ExitCode:
        """``FINDINGS`` when the target refused rows (they are in the load rejects)."""
        return ExitCode.FINDINGS if self.rows_load_rejected else ExitCode.CLEAN

    def summary_lines(self) -> list[str]:
        """The load summary for a terminal: per table read / loaded / rejected / seconds.

        Counts, SQLSTATEs, constraint names and code points only: the server's messages
        quote values and stay in the rejects file.

        >>> LoadResult("run", "sqlite:///x.db", False, (), 0.5, run_id="ab" * 32).summary_lines()[-1]
        'run abababababab → sqlite:///x.db'
        """
        lines = [summary_header("load.col-loaded")]
        lines += [
            f"{f.table:<14} {f.rows_read:>10} {f.rows_loaded:>10} {f.rows_load_rejected:>10} "
            f"{f.seconds:>8.2f}"
            for f in self.files
        ]
        for f in self.files:
            if f.rows_load_rejected:
                why = ", ".join(
                    f"{r['sqlstate']} {r['constraint'] or '-'} ×{r['count']}" for r in f.load_rejects
                )
                lines.append(text("load.refused", table=f.table, why=why, file=f.rejects_file))
        lines += [
            f"外字 {f.table}: {g['code']} {g['mj'] or ''} → {g['to_code'] or '-'} {g['action']} ×{g['count']}"
            for f in self.files
            for g in f.gaiji
        ]
        extract_rejected = sum(f.rows_rejected for f in self.files)
        stay = (
            text("load.extract-rejects-stay", count=extract_rejected, folder=Path(self.run_dir) / "rejects")
            if extract_rejected
            else ""
        )
        lines.append(text("load.run-to-target", run=self.run_id[:12], target=self.target) + stay)
        return lines

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
            "run_id": self.run_id,
            "files": [
                {
                    "layout": f.layout,
                    "table": f.table,
                    "action": f.action,
                    "rows_read": f.rows_read,
                    "rows_loaded": f.rows_loaded,
                    "rows_rejected": f.rows_rejected,
                    "rows_load_rejected": f.rows_load_rejected,
                    "load_rejects": [dict(r) for r in f.load_rejects],
                    "rejects_file": f.rejects_file,
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
            # rows_read == rows_loaded + rows_load_rejected, checked per file before commit
            "reconciliation": {
                "rows_read": sum(f.rows_read for f in self.files),
                "rows_loaded": sum(f.rows_loaded for f in self.files),
                "rows_load_rejected": self.rows_load_rejected,
                "balanced": all(
                    f.rows_read == f.rows_loaded + f.rows_load_rejected for f in self.files
                ),
            },
        }


@dataclass(frozen=True)
class _Plan:
    layout: str
    table: str
    columns: tuple[Column, ...]
    ddl: str
    #: the same table without its primary key, which a streaming target builds after the rows
    ddl_without_key: str
    parquet: Path
    rows_out: int
    rows_rejected: int
    entry: ManifestFile


def load_run(
    run_dir: Path,
    target: str,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
    gaiji_policy: str = "keep",
    shrink_order: str | Sequence[str] | None = None,
    rejects_dir: Path | None = None,
    jobs: int | None = None,
    parallel_min_rows: int = PARALLEL_MIN_ROWS,
    part_rows: int = PART_ROWS,
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

    On a target that keeps a run ledger (PostgreSQL), a table holding rows of *this* run
    (same manifest sha256) is emptied and reloaded instead of refused, and a same-shape
    table is emptied rather than dropped on ``replace``. On a target that isolates rows
    (PostgreSQL), rows the server refuses go to ``rejects_dir/<table>.jsonl`` (default
    ``run_dir/load-rejects``) and the rest loads; then the table's count must equal
    ``rows_out`` minus the refused rows.

    ``gaiji_policy`` (:data:`mig.gaiji.policy.POLICIES`) says what happens to characters
    the target may not hold, in the text items (全角文字 / 半角文字 / 混在文字): ``keep``
    (default; IVS kept), ``strip`` (variation selectors dropped), ``shrink`` (縮退 to
    JIS X 0213 through the MJ縮退マップ, tables tried in ``shrink_order``) or ``fail``
    (any character outside JIS X 0213 aborts the load; nothing is written). Every change
    is counted per character in :attr:`FileLoad.gaiji`.

    ``jobs`` (default: :func:`mig.machine.default_workers` — one on two cores) connections load parts of the tables in
    parallel on a target that stages (PostgreSQL; :mod:`mig.load.parallel`), when the run
    holds at least ``parallel_min_rows`` rows; tables are cut into parts of at least
    ``part_rows`` rows. The result and the guarantees are the serial load's.

    Example (``run`` is a directory written by ``mig extract``)::

        result = load_run(Path("run"), "sqlite:///jumin.db")
        print(result.to_dict()["totals"])
    """
    started = perf_counter()
    run_dir = Path(run_dir)
    jobs = check_jobs(default_workers() if jobs is None else jobs)
    policy = get_policy(gaiji_policy, shrink_order)  # bad names fail before anything else
    db = open_target(target)  # bad URL or unknown scheme: fail before reading anything
    manifest = load_manifest(run_dir)
    run_id = sha256_file(run_dir / MANIFEST_NAME)
    plans = _plans(run_dir, manifest, db.dialect)
    # The outputs are hashed while the load runs (hashlib releases the GIL); the commit waits
    # for the verdict, and a file that differs from its manifest is the error reported.
    verification = _Verification(run_dir, manifest)
    try:
        for plan in plans:
            check_parquet_schema(plan.parquet, plan.columns)
    except MigError:
        verification.result()
        raise
    rejects = _Rejects(Path(rejects_dir) if rejects_dir else run_dir / LOAD_REJECTS_DIR)

    loads: list[FileLoad] = []
    staging: list[str] = []
    streams: dict[int, _Stream] = {}
    try:
        db.connect()
        db.begin()
        actions = [_decide(db, plan, replace, run_id) for plan in plans]  # refuse before writing
        if isinstance(db, RunLedgerTarget):
            db.truncate_tables([p.table for p, a in zip(plans, actions, strict=True) if a == "reload"])
        staged: list[Staged | None] = [None] * len(plans)
        if (
            jobs > 1
            and isinstance(db, StagingTarget)
            and isinstance(db, RowIsolatingTarget)
            and sum(p.rows_out for p in plans) >= parallel_min_rows
        ):
            staged = list(
                _stage(db, db.dialect, plans, actions, run_id, staging, jobs, batch_rows, policy, progress, part_rows)
            )
        # a table streamed to a StreamingTarget gets its first batch read while the server
        # still finishes the table before it (see _Stream)
        def stream_of(index: int) -> _Stream | None:
            if not isinstance(db, StreamingTarget) or staged[index] is not None:
                return None
            if index not in streams:
                streams[index] = _Stream(db, plans[index], batch_rows, policy)
            return streams[index]

        def start_after(index: int) -> Callable[[], None] | None:
            def start() -> None:
                upcoming = stream_of(index + 1)
                if upcoming is not None:
                    upcoming.start()

            return start if index + 1 < len(plans) else None

        for index, (plan, action, stage) in enumerate(zip(plans, actions, staged, strict=True)):
            file_started = perf_counter()
            if action == "replace":
                db.drop_table(plan.table)
            creates = action in ("create", "replace")
            tally = ChangeTally()
            counted: int | None
            adopted = _adopt(db, plan, stage, creates, progress)
            if adopted is not None:
                written, refused, counted = adopted
                tally.merge(stage.tally if stage is not None else ChangeTally())
            else:
                if creates and not isinstance(db, StreamingTarget):
                    db.create_table(plan.ddl)
                written, refused, counted = _write(
                    db, plan, progress, batch_rows, policy, tally, rejects, creates=creates,
                    stream=stream_of(index), drained=start_after(index),
                )
            rows_read = written + refused.total
            # the server's own count of what it stored: COPY's, or a count query
            rows_loaded = db.count_rows(plan.table) if counted is None else counted
            if rows_read != plan.rows_out or rows_loaded != written:
                raise MigError(
                    f"table {plan.table}: {rows_loaded} rows after loading "
                    f"({rows_read} read from {plan.parquet.name}, {refused.total} refused) "
                    f"but the manifest says rows_out {plan.rows_out}; nothing was loaded"
                )
            if isinstance(db, RunLedgerTarget):
                db.record_load(plan.table, plan.layout, run_id, rows_loaded, refused.total)
            loads.append(
                FileLoad(
                    layout=plan.layout,
                    table=plan.table,
                    rows_read=rows_read,
                    rows_loaded=rows_loaded,
                    rows_rejected=plan.rows_rejected,
                    seconds=perf_counter() - file_started,
                    gaiji=tuple(tally.entries()),
                    rows_load_rejected=refused.total,
                    load_rejects=tuple(refused.summary()),
                    rejects_file=str(rejects.final(plan.table)) if refused.total else None,
                    action=action,
                )
            )
        verification.result()  # nothing is committed from files that differ from the manifest
        db.commit()
    except BaseException as exc:
        with contextlib.suppress(MigError):
            db.rollback()
        rejects.discard()
        if isinstance(exc, Exception):
            verification.result()  # a changed file explains whatever else went wrong
        raise
    finally:
        for stream in streams.values():  # one started for a table a failure never reached
            stream.close()
        if staging and isinstance(db, StagingTarget):
            db.drop_staging(staging)  # what was adopted is gone already
        db.close()
    # Committed: the rejects files now describe what the target holds.
    rejects.publish([plan.table for plan in plans] if isinstance(db, RowIsolatingTarget) else [])
    return LoadResult(
        run_dir=str(run_dir),
        target=db.display_url,
        replace=replace,
        files=tuple(loads),
        seconds=perf_counter() - started,
        gaiji_policy=policy,
        run_id=run_id,
    )


def _stage(
    db: StagingTarget,
    dialect: str,
    plans: Sequence[_Plan],
    actions: Sequence[str],
    run_id: str,
    staging: list[str],
    jobs: int,
    batch_rows: int,
    policy: GaijiPolicy,
    progress: Progress | None,
    part_rows: int,
) -> list[Staged]:
    """Every table's rows into a staging table over ``jobs`` connections (:mod:`mig.load.parallel`).

    ``staging`` receives the staging tables' names as soon as they are known, so the
    caller drops them on every path."""
    assert isinstance(db, RowIsolatingTarget)
    text_columns = {p.table: [c.name for c in p.columns if c.data_type in TEXT_TYPES] for p in plans}
    jobs_of = []
    for index, (plan, action) in enumerate(zip(plans, actions, strict=True)):
        name = db.staging_name(run_id, index)
        staging.append(name)
        # a table the load creates is renamed into place (a plain table); rows for an
        # existing one are copied on (UNLOGGED: they reach the WAL once, on the copy)
        unlogged = action not in ("create", "replace")
        ddl = ddl_for(plan.entry, dialect, primary_key=False, name=name, unlogged=unlogged)
        jobs_of.append(
            TableJob(plan.table, plan.layout, plan.columns, plan.parquet, plan.rows_out, ddl, name)
        )

    def apply(batch: pa.RecordBatch, tally: ChangeTally, table: str) -> pa.RecordBatch:
        return _apply_policy(batch, policy, text_columns[table], tally, table)

    def encode(batch: pa.RecordBatch, columns: Sequence[Column]) -> object:
        if isinstance(db, StreamingTarget):  # the form of one stream per table (binary COPY)
            return db.encode_stream(batch, columns)
        return db.encode_batch(batch)

    return stage_tables(
        db,
        jobs_of,
        jobs=jobs,
        batch_rows=batch_rows,
        apply_policy=apply,
        encode=encode,
        progress=progress,
        part_rows=part_rows,
    )


def _adopt(
    db: Target, plan: _Plan, stage: Staged | None, creates: bool, progress: Progress | None
) -> tuple[int, _Refused, int] | None:
    """Move a staged table into place; None when it must be loaded serially instead (the
    server refused a row of it: the serial path isolates the refused rows)."""
    if stage is None or not isinstance(db, StagingTarget):
        return None
    if stage.refused is None:
        moved = db.adopt_staging(stage.staging, plan.table, plan.columns, creates)
        if not isinstance(moved, RowError):
            return stage.rows, _Refused(), moved
    if progress is not None:
        progress(-stage.sent)
    return None


class _Verification:
    """:func:`~mig.run.manifest.verify_outputs` in a daemon thread (Ctrl-C need not wait
    for it); :meth:`result` waits and raises its error, if any."""

    def __init__(self, run_dir: Path, manifest: Manifest) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(run_dir, manifest), name="mig-load-verify", daemon=True
        )
        self._thread.start()

    def _run(self, run_dir: Path, manifest: Manifest) -> None:
        try:
            verify_outputs(run_dir, manifest)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def layout_tables(run_dir: Path, manifest: Manifest) -> list[tuple[ManifestFile, str, Path]]:
    """Per ``files[]`` entry of the manifest: the entry, its table name and its Parquet file.

    Two layouts that would share a table, or an entry without ``data/<layout>.parquet``
    among its outputs, are an :class:`~mig.errors.InputError` naming the manifest.
    """
    where = str(run_dir / MANIFEST_NAME)
    found: list[tuple[ManifestFile, str, Path]] = []
    tables: dict[str, str] = {}
    for entry in manifest.files:
        layout = entry.layout
        table = table_name(layout)
        if table in tables:
            raise InputError(
                where, f"layouts {tables[table]!r} and {layout!r} would share table {table}"
            )
        tables[table] = layout
        data = data_parquet(layout)
        if entry.output(data) is None:
            raise InputError(where, f"layout {layout}: no {data} among its outputs")
        found.append((entry, table, run_dir / data))
    return found


def _plans(run_dir: Path, manifest: Manifest, dialect: str) -> list[_Plan]:
    return [
        _Plan(
            layout=entry.layout,
            table=table,
            columns=columns_for(entry, dialect),
            ddl=ddl_for(entry, dialect),
            ddl_without_key=ddl_for(entry, dialect, primary_key=False),
            parquet=parquet,
            rows_out=entry.rows_out,
            rows_rejected=entry.rows_rejected,
            entry=entry,
        )
        for entry, table, parquet in layout_tables(run_dir, manifest)
    ]


def check_parquet_schema(parquet: Path, columns: Sequence[Column]) -> None:
    """The Parquet file must hold exactly the manifest's items, typed as declared."""
    where = str(parquet)
    try:
        schema = pq.read_schema(parquet)
    except (pa.ArrowException, OSError):
        raise InputError(where, "not a readable Parquet file") from None
    expected = [c.name for c in columns]
    missing = [name for name in expected if name not in schema.names]
    extra = [name for name in schema.names if name not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(extra)}")
        raise InputError(where, f"columns do not match the manifest's items ({'; '.join(parts)})")
    for column in columns:
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


def _decide(db: Target, plan: _Plan, replace: bool, run_id: str) -> str:
    """``create``, ``replace``, ``reload`` (empty and refill) or ``append`` (empty table)."""
    if not db.table_exists(plan.table):
        return "create"
    if isinstance(db, RunLedgerTarget):
        existing = db.table_shape(plan.table)
        wanted = tuple(
            ColumnShape(c.name, db.canonical_type(c.sql_type), c.not_null, c.pk)
            for c in plan.columns
        )
        if existing != wanted:
            if replace:
                return "replace"
            raise ConfigError(
                f"table {plan.table} already exists with a different shape; "
                "load with --replace to drop and recreate it"
            )
        rows = db.count_rows(plan.table)
        if not rows:
            return "append"
        if replace or db.loaded_run(plan.table) == run_id:
            return "reload"
        raise ConfigError(
            f"table {plan.table} already holds {rows} rows of another run (or not loaded by "
            "mig); load with --replace to replace them"
        )
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


class _Refused:
    """The rows one table refused: counted per (sqlstate, constraint), kept in a file."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str | None]] = Counter()

    @property
    def total(self) -> int:
        return self.counts.total()

    def add(self, error: RowError) -> None:
        self.counts[(error.sqlstate, error.constraint)] += 1

    def summary(self) -> list[dict[str, Any]]:
        return [
            {"sqlstate": sqlstate, "constraint": constraint, "count": count}
            for (sqlstate, constraint), count in sorted(
                self.counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
            )
        ]


class _Rejects:
    """Load rejects: ``<dir>/<table>.jsonl``, written under a temporary name, renamed after commit."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._open: dict[str, PendingFile] = {}

    def final(self, table: str) -> Path:
        return self.folder / f"{table}.jsonl"

    def write(self, table: str, record: dict[str, Any]) -> None:
        pending = self._open.get(table)
        if pending is None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                pending = PendingFile(self.final(table))
            except OSError as exc:
                raise ConfigError(
                    f"{self.folder}: cannot write the load rejects ({type(exc).__name__})"
                ) from None
            self._open[table] = pending
        pending.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def discard(self) -> None:
        """The load was rolled back: its rejects never happened."""
        for pending in self._open.values():
            pending.discard()
        self._open.clear()

    def publish(self, tables: Sequence[str]) -> None:
        """Rename each table's rejects into place; drop stale ones of tables with none."""
        for pending in self._open.values():
            pending.close()
        for table in tables:
            if table in self._open:
                self._open[table].publish()
            else:
                self.final(table).unlink(missing_ok=True)
        self._open.clear()


def _isolate(
    db: RowIsolatingTarget,
    plan: _Plan,
    batch: pa.RecordBatch,
    first_row: int,
    refused: _Refused,
    rejects: _Rejects,
    encoded: object | None = None,
) -> int:
    """Write ``batch``; split a refused one in halves until single rows. Returns rows written."""
    error = db.try_batch(plan.table, plan.columns, batch, encoded)
    if error is None:
        return int(batch.num_rows)
    if batch.num_rows == 1:
        refused.add(error)
        rejects.write(
            plan.table,
            {
                "table": plan.table,
                "layout": plan.layout,
                "parquet_row": first_row,
                "sqlstate": error.sqlstate,
                "constraint": error.constraint,
                "column": error.column,
                "message": error.message,
                "detail": error.detail,
                "context": error.context,
                "values": batch.to_pylist()[0],
            },
        )
        return 0
    half = batch.num_rows // 2
    written = _isolate(db, plan, batch.slice(0, half), first_row, refused, rejects)
    return written + _isolate(
        db, plan, batch.slice(half), first_row + half, refused, rejects
    )


_T = TypeVar("_T")
_END = object()


def _prefetched(source: Iterator[_T]) -> Iterator[_T]:
    """``source``'s items, the next one produced in a worker thread while this one is used.

    Reading Parquet and encoding a batch (Arrow, GIL released) then overlap the server's
    work on the previous batch. Exceptions of ``source`` surface here, in order.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mig-load-read") as pool:
        future = pool.submit(next, source, _END)
        while True:
            item = future.result()
            if item is _END:
                return
            future = pool.submit(next, source, _END)
            yield item  # type: ignore[misc]


class _Stream:
    """One table's batches for its single-stream attempt: read, 外字-policed and encoded
    one batch ahead in a worker thread. :meth:`start` may run before the stream is used —
    while the server still finishes the table before (its COPY's end, its key build), the
    first batch of this one is already being read — errors surface when it is used."""

    def __init__(
        self, db: StreamingTarget, plan: _Plan, batch_rows: int, policy: GaijiPolicy
    ) -> None:
        self.plan = plan
        self.attempt = ChangeTally()  # counts only if the attempt stands
        self._encode = db.encode_stream
        self._batch_rows = batch_rows
        self._policy = policy
        self._pool: ThreadPoolExecutor | None = None
        self._source: Generator[tuple[pa.RecordBatch, object], None, None] | None = None
        self._future: Future[object] | None = None

    def start(self) -> None:
        """Start reading the first batch (once)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mig-load-read")
            self._source = self._produce()
            self._future = self._pool.submit(next, self._source, _END)

    def _produce(self) -> Generator[tuple[pa.RecordBatch, object], None, None]:
        plan = self.plan
        names = [c.name for c in plan.columns]
        text_columns = [c.name for c in plan.columns if c.data_type in TEXT_TYPES]
        try:
            parquet = pq.ParquetFile(plan.parquet)
        except (pa.ArrowException, OSError):
            raise InputError(str(plan.parquet), "not a readable Parquet file") from None
        with parquet:
            try:
                for batch in parquet.iter_batches(batch_size=self._batch_rows, columns=names):
                    policed = _apply_policy(
                        batch.select(names), self._policy, text_columns, self.attempt, plan.table
                    )
                    yield policed, self._encode(policed, plan.columns)
            except (pa.ArrowException, OSError):
                raise InputError(str(plan.parquet), "not a readable Parquet file") from None

    def items(self) -> Iterator[tuple[pa.RecordBatch, object]]:
        """The (batch, encoded) pairs, in order; the next one produced while this is used."""
        self.start()
        assert self._pool is not None and self._source is not None and self._future is not None
        while True:
            item = self._future.result()
            if item is _END:
                return
            self._future = self._pool.submit(next, self._source, _END)
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """Stop the worker and close the Parquet file (whether or not the stream was used)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            if self._source is not None:
                with contextlib.suppress(Exception):
                    self._source.close()
            self._pool = None


def _write(
    db: Target,
    plan: _Plan,
    progress: Progress | None,
    batch_rows: int,
    policy: GaijiPolicy | None = None,
    tally: ChangeTally | None = None,
    rejects: _Rejects | None = None,
    *,
    creates: bool = False,
    stream: _Stream | None = None,
    drained: Callable[[], None] | None = None,
) -> tuple[int, _Refused, int | None]:
    """Write the plan's Parquet file; returns rows sent, the rows refused and the rows the
    target counted as stored (None: ask it with ``count_rows``).

    A :class:`StreamingTarget` first gets the whole file as one stream (creating the table
    itself when ``creates``); only if it refuses a row is that attempt undone and the file
    written again batch by batch to isolate the refused rows. Without a streaming target
    the table exists already when ``creates`` (the caller made it). ``stream`` is the
    table's :class:`_Stream` if the caller started it already; ``drained`` is called once
    the stream's last batch has been handed over (the caller starts the next table's).
    """
    names = [c.name for c in plan.columns]
    policy = policy or GaijiPolicy()
    tally = tally if tally is not None else ChangeTally()
    text_columns = [c.name for c in plan.columns if c.data_type in TEXT_TYPES]
    refused = _Refused()
    try:
        parquet = pq.ParquetFile(plan.parquet)
    except (pa.ArrowException, OSError):
        raise InputError(str(plan.parquet), "not a readable Parquet file") from None

    def batches(counts: ChangeTally) -> Iterator[pa.RecordBatch]:
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows, columns=names):
                yield _apply_policy(
                    batch.select(names), policy, text_columns, counts, plan.table
                )
        except (pa.ArrowException, OSError):
            raise InputError(str(plan.parquet), "not a readable Parquet file") from None

    with parquet:
        if not isinstance(db, RowIsolatingTarget) or rejects is None:
            if creates and isinstance(db, StreamingTarget):
                db.create_table(plan.ddl)
            return db.write_batches(plan.table, plan.columns, batches(tally), progress), refused, None
        encode = db.encode_batch
        if isinstance(db, StreamingTarget):
            source = stream if stream is not None else _Stream(db, plan, batch_rows, policy)
            sent = 0

            def encoded() -> Iterator[object]:
                nonlocal sent
                for batch, data in source.items():
                    sent += batch.num_rows
                    yield data
                    if progress is not None:
                        progress(batch.num_rows)
                if drained is not None:
                    drained()

            try:
                outcome = db.try_stream(
                    plan.table, plan.columns, encoded(), plan.ddl_without_key if creates else None
                )
            finally:
                source.close()
            if not isinstance(outcome, RowError):
                tally.merge(source.attempt)
                return sent, refused, outcome
            # a row was refused: the attempt is undone (its table too); isolate the rows
            if progress is not None:
                progress(-sent)
            if creates:
                db.create_table(plan.ddl)
        written = 0
        row = 0
        for batch, data in _prefetched((b, encode(b)) for b in batches(tally)):
            written += _isolate(db, plan, batch, row, refused, rejects, data)
            row += batch.num_rows
            if progress is not None:
                progress(batch.num_rows)
        return written, refused, None


def summary_header(written: str) -> str:
    """The column heads of a load or bundle summary (``written``: the id of the third
    column's word), in the current language, aligned by display width.

    >>> from mig.i18n import set_lang
    >>> set_lang("en")
    >>> summary_header("load.col-loaded")
    'table                read     loaded   rejected  seconds'
    >>> set_lang(None)
    """
    return (
        f"{pad_display(text('load.col-table'), 14)} {pad_display(text('load.col-read'), 10, '>')} "
        f"{pad_display(text(written), 10, '>')} {pad_display(text('load.col-rejected'), 10, '>')} "
        f"{pad_display(text('load.col-seconds'), 8, '>')}"
    )
