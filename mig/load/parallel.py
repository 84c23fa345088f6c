"""Parallel ``mig load``: parts of tables over several connections, still all or nothing.

One connection and one transaction (today's guarantee, :mod:`mig.load.postgresql`) run one
``COPY`` stream at a time. With ``--jobs N`` a :class:`~mig.load.targets.StagingTarget`
(PostgreSQL) is loaded like this:

1. The load's transaction starts and takes its lock; every decision (create, reload,
   refuse) is made as in the serial load, before anything is written.
2. One **staging table** per table is created and committed (``mig_staging_<run>_<n>``,
   marked with a comment): a plain table for a table the load creates (it will be renamed
   into place), ``UNLOGGED`` for an existing one (its rows are copied on, so writing them
   to the WAL once is enough). Leftovers of a killed earlier load are dropped first.
3. Each table's Parquet file is cut into parts (whole row groups where it has enough of
   them, else equal row ranges), at most ``jobs`` per table; ``jobs`` threads, each with
   its own connection, ``COPY`` the parts into staging, each part in a transaction of its
   own. Reading Parquet, the 外字 policy and the COPY encoding (binary where the table has
   one, :mod:`mig.load.pgbinary`) run in those threads too
   (Arrow and libpq release the GIL).
4. Back in the load's one transaction, table by table in manifest order, the staging
   table is **adopted**: renamed to the table and its primary key built (a table the load
   creates), or its rows inserted with ``INSERT … SELECT`` into the existing table, whose
   own constraints and triggers apply, and dropped. A row the server refuses at that point
   (a duplicate key, a vendor's CHECK) or in a part undoes the adoption, and that table is
   loaded by the serial path with row isolation instead — the load rejects are exactly
   the serial load's.
5. ``COMMIT``. Until then no table, row or ledger entry is visible; the staging tables are
   dropped on every path (error, Ctrl-C, SIGTERM). Only a ``kill -9`` of mig itself leaves
   staging tables behind — the target tables and ``mig_loads`` are as before — and the next
   ``mig load`` into that database drops them.

The final state is the serial load's: same tables, same rows, same keys (named as the
serial load names them), same ledger. Row *order* on disk may differ; SQL has none.

Small loads stay serial (:data:`PARALLEL_MIN_ROWS`): connections and staging cost more
than they save there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from mig.errors import ConfigError, InputError, MigError, Msg
from mig.gaiji.policy import ChangeTally
from mig.load.ddl import Column
from mig.load.targets import Progress, RowError, StagingTarget

PARALLEL_MIN_ROWS = 200_000
"""Below this many rows in all, a load stays on one connection (nothing to win)."""

PART_ROWS = 250_000
"""A table is cut into parts of at least this many rows (and at most ``jobs`` parts)."""


def check_jobs(jobs: int) -> int:
    """``jobs`` if it is a positive number of connections; a ConfigError otherwise.

    >>> check_jobs(4)
    4
    >>> check_jobs(0)
    Traceback (most recent call last):
    mig.errors.ConfigError: --jobs must be 1 or more (got 0)
    """
    if jobs < 1:
        raise ConfigError(Msg("engines.jobs-invalid", jobs=jobs))
    return jobs


@dataclass(frozen=True)
class TableJob:
    """What :func:`stage_tables` needs to know of one table."""

    table: str
    layout: str
    columns: tuple[Column, ...]
    parquet: Path
    rows: int
    staging_ddl: str
    """``CREATE [UNLOGGED] TABLE <staging> …`` without the primary key."""
    staging: str


@dataclass(frozen=True)
class Part:
    """Rows ``first`` … ``first + rows - 1`` of one table's Parquet file."""

    table: int
    """Index of the table in the jobs given to :func:`stage_tables`."""
    number: int
    """1-based within the table (for messages)."""
    first: int
    rows: int


@dataclass
class Staged:
    """One table after staging: its rows in ``staging``, or refused (load it serially)."""

    staging: str
    rows: int = 0
    sent: int = 0
    """Rows sent to the server (parts refused included: the progress to take back)."""
    tally: ChangeTally = field(default_factory=ChangeTally)
    refused: RowError | None = None


def cut_parts(row_groups: Sequence[int], jobs: int, part_rows: int = PART_ROWS) -> list[tuple[int, int]]:
    """``(first, rows)`` ranges covering a file with these row-group sizes, in order.

    At most ``jobs`` parts of at least ``part_rows`` rows (one part for a small file); a
    cut falls on a row-group boundary when there are enough row groups, so no part reads a
    row group another part reads too.

    >>> cut_parts([100] * 8, jobs=4, part_rows=1)
    [(0, 200), (200, 200), (400, 200), (600, 200)]
    >>> cut_parts([1000], jobs=3, part_rows=10)
    [(0, 333), (333, 333), (666, 334)]
    >>> cut_parts([50, 50], jobs=4, part_rows=1000)
    [(0, 100)]
    >>> cut_parts([], jobs=4)
    []
    """
    total = sum(row_groups)
    if total == 0:
        return []
    count = max(1, min(jobs, total // max(1, part_rows)))
    if len(row_groups) >= count:
        starts = [0]
        offsets = [0]
        for size in row_groups:
            offsets.append(offsets[-1] + size)
        for i in range(1, count):
            want = total * i / count
            nearest = min(offsets[1:-1], key=lambda o: (abs(o - want), o))
            if nearest > starts[-1]:
                starts.append(nearest)
    else:
        starts = [total * i // count for i in range(count)]
    ends = [*starts[1:], total]
    return [(s, e - s) for s, e in zip(starts, ends, strict=True) if e > s]


def part_batches(parquet: pq.ParquetFile, first: int, rows: int, names: Sequence[str],
                 batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Rows ``first`` … ``first + rows - 1`` of ``parquet`` (columns ``names``), in batches
    of at most ``batch_rows``, reading only the row groups that hold them."""
    meta = parquet.metadata
    groups: list[int] = []
    skip = 0
    offset = 0
    for index in range(meta.num_row_groups):
        size = meta.row_group(index).num_rows
        if offset + size > first and offset < first + rows:
            if not groups:
                skip = first - offset
            groups.append(index)
        offset += size
    left = rows
    for batch in parquet.iter_batches(batch_size=batch_rows, row_groups=groups, columns=list(names)):
        if skip >= batch.num_rows:
            skip -= batch.num_rows
            continue
        if skip:
            batch = batch.slice(skip)
            skip = 0
        if batch.num_rows > left:
            batch = batch.slice(0, left)
        if batch.num_rows:
            yield batch.select(list(names))
            left -= batch.num_rows
        if not left:
            return


PolicyApplier = Callable[[pa.RecordBatch, ChangeTally, str], pa.RecordBatch]
"""Applies the load's 外字 policy to one batch of a table, counting the changes in the tally."""


def stage_tables(
    target: StagingTarget,
    jobs_of: Sequence[TableJob],
    *,
    jobs: int,
    batch_rows: int,
    apply_policy: PolicyApplier,
    encode: Callable[[pa.RecordBatch, Sequence[Column]], object],
    progress: Progress | None = None,
    part_rows: int = PART_ROWS,
) -> list[Staged]:
    """Create the staging tables and COPY every part into them over ``jobs`` connections.

    Returns one :class:`Staged` per table, in the order given. A part the server refuses
    marks its table ``refused`` (the caller loads it serially); any other failure — a
    file that cannot be read, the ``fail`` 外字 policy, a lost connection — stops the other
    parts and is raised (the first in table and part order, so the same error whatever the
    timing). The caller drops the staging tables whatever happens.
    """
    target.create_staging([(job.staging, job.staging_ddl) for job in jobs_of])
    parts: list[Part] = []
    for index, job in enumerate(jobs_of):
        try:
            meta = pq.read_metadata(job.parquet)
        except (pa.ArrowException, OSError):
            raise InputError(str(job.parquet), "not a readable Parquet file") from None
        sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
        for number, (first, rows) in enumerate(cut_parts(sizes, jobs, part_rows), 1):
            parts.append(Part(index, number, first, rows))
    staged = [Staged(job.staging) for job in jobs_of]
    stop = threading.Event()
    lock = threading.Lock()

    def run(part: Part) -> tuple[int | RowError, ChangeTally, int]:
        job = jobs_of[part.table]
        tally = ChangeTally()
        sent = 0
        if stop.is_set():
            raise _Stopped
        session = target.staging_session()
        try:
            with pq.ParquetFile(job.parquet) as parquet:

                def encoded() -> Iterator[object]:
                    nonlocal sent
                    try:
                        for batch in part_batches(parquet, part.first, part.rows,
                                                  [c.name for c in job.columns], batch_rows):
                            if stop.is_set():
                                raise _Stopped
                            data = encode(apply_policy(batch, tally, job.table), job.columns)
                            yield data
                            sent += batch.num_rows
                            if progress is not None:
                                with lock:
                                    progress(batch.num_rows)
                    except (pa.ArrowException, OSError):
                        raise InputError(str(job.parquet), "not a readable Parquet file") from None

                outcome = session.copy_part(job.staging, job.columns, encoded())
        except (pa.ArrowException, OSError):
            raise InputError(str(job.parquet), "not a readable Parquet file") from None
        finally:
            session.close()
        return outcome, tally, sent

    # Longest parts first: the last part to start is a short one (less idle time at the end).
    order = sorted(range(len(parts)), key=lambda i: (-parts[i].rows, i))
    outcomes: dict[int, tuple[int | RowError, ChangeTally, int] | BaseException] = {}
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="mig-load-part")
    try:
        futures = {i: pool.submit(run, parts[i]) for i in order}
        for i in order:
            try:
                outcomes[i] = futures[i].result()
            except BaseException as exc:  # the first failure stops the rest
                stop.set()
                outcomes[i] = exc
                if not isinstance(exc, Exception):
                    raise
    except BaseException:  # Ctrl-C, SIGTERM: the parts still running stop at their next batch
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for i in range(len(parts)):  # in table and part order: the same error every time
        outcome = outcomes[i]
        if isinstance(outcome, _Stopped):
            continue
        if isinstance(outcome, BaseException):
            raise outcome
    for i, part in enumerate(parts):
        outcome = outcomes[i]
        assert not isinstance(outcome, BaseException)
        written, tally, sent = outcome
        table = staged[part.table]
        table.sent += sent
        if isinstance(written, RowError):
            table.refused = table.refused or written
        else:
            table.rows += written
            table.tally.merge(tally)
    return staged


class _Stopped(MigError):
    """A part not run (or cut short) because another part failed first."""
