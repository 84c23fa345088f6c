"""The conformance kit: the checks every extractor plugin passes, for pytest and for
``mig adapters check``.

A plugin's test module subclasses :class:`AdapterConformance` with its sample files and
options; pytest then runs every check as a test::

    from mig.testing import AdapterConformance

    class TestMyVendor(AdapterConformance):
        adapter = "myvendor"            # the entry-point name (or an Adapter object)
        samples = ["tests/data/sample.txt"]
        options = {"encoding": "cp932"}

``mig adapters check NAME SAMPLE... --option k=v`` runs the same checks
(:func:`check_adapter`) on an installed adapter and names every one that fails.

The checks, each on every sample:

``conservation``
    every record is in ``data`` or ``rejects``: ``data`` and ``records`` have the same
    rows, and the byte ranges of records and rejects follow each other without gap or
    overlap up to the end of the file (only bytes before the first record, such as a
    header, may stay outside);
``record-bytes`` / ``reject-bytes``
    each record's and each reject's ``raw`` is not empty and equals the file's bytes at
    its ``offset``;
``batch-sizes``
    the output is identical for every batch size (:data:`BATCH_SIZES`; a size the adapter
    refuses with :class:`~mig.errors.ConfigError` is skipped);
``hostile-inputs``
    an empty file, the sample truncated mid-record, the sample in another encoding and
    garbage bytes end in :class:`~mig.errors.InputError` / :class:`~mig.errors.ConfigError`
    or in rejects (then conserved as above) — never another exception;
``memory``
    reading a large input made of copies of the sample keeps the Python heap's peak
    (:mod:`tracemalloc`) bounded by the batch size, not by the input size;
``ranges``
    for an adapter that can read byte ranges (:class:`~mig.plugin.RangeReadable`): the
    ranges it cuts the sample into (at :data:`RANGE_SIZES`) follow each other to the end of
    the file, and reading them one after the other gives the records, rejects and data of
    reading the sample whole (row ids counted on across ranges). Other adapters pass with
    a note (their files are read whole).

Messages name the check, the sample file, the row and the byte offset, never a value.
"""

from __future__ import annotations

import random
import tempfile
import tracemalloc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl

from mig.errors import AdapterContractError, ConfigError, InputError, MigError
from mig.extract.contract import ContractState, check_batch, check_end
from mig.plugin import Adapter, RangeReadable, ReportsCoverage, SourceBatch
from mig.registry import AdapterInfo, adapter_info, describe_adapter

__all__ = [
    "BATCH_SIZES", "CHECKS", "AdapterConformance", "CheckResult", "Collected", "bytes_problems",
    "check_adapter", "conservation_problems", "read_source",
]

#: Batch sizes compared by ``batch-sizes``: mig's default, then smaller ones down to a few bytes.
BATCH_SIZES: tuple[int, ...] = (32 * 1024 * 1024, 64 * 1024, 1024, 7)
#: The batch size and the input size (a multiple of it) of the ``memory`` check.
MEMORY_BATCH_BYTES = 128 * 1024
MEMORY_INPUT_BATCHES = 32
#: Allowed peak of the Python heap while reading in batches of ``b`` bytes: ``32 b + 2 MiB``.
MEMORY_FACTOR = 32
MEMORY_SLACK = 2 * 1024 * 1024
#: The checks, in the order they run.
CHECKS: tuple[str, ...] = (
    "conservation", "record-bytes", "reject-bytes", "batch-sizes", "hostile-inputs", "memory", "ranges",
)
#: The range sizes of the ``ranges`` check, in bytes (small: samples are small).
RANGE_SIZES: tuple[int, ...] = (1, 97, 4096)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``problems`` empty when it passed."""

    check: str
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "problems": list(self.problems), "notes": list(self.notes)}


@dataclass
class Collected:
    """Every batch of one read, concatenated."""

    data: pl.DataFrame
    records: pl.DataFrame
    rejects: pl.DataFrame
    problems: list[str] = field(default_factory=list)
    #: The reader reports its coverage (``mig.plugin.ReportsCoverage``): the contract then
    #: checks that records, rejects and the bytes it declares outside them make up the file,
    #: so bytes between records (XML wrappers, separators) are not gaps.
    declares_coverage: bool = False


def _contract(adapter: Adapter, path: Path, reader: Any) -> ContractState:
    """The run-time plugin contract (:mod:`mig.extract.contract`, what ``mig extract`` checks
    on every batch) for one reader: the kit checks it on every batch it reads."""
    return ContractState.of(_info(adapter), path, reader)


def _info(adapter: Adapter) -> AdapterInfo:
    """The adapter as mig sees it: its installed entry point (distribution and version, as
    ``mig extract`` names it) when it is the installed one, else the object alone."""
    try:
        info = adapter_info(str(getattr(adapter, "name", "")))
    except MigError:
        info = None
    if info is not None and type(info.adapter) is type(adapter):
        return info
    return describe_adapter(adapter)


def _checked(check: Callable[..., None], *args: Any) -> None:
    """Run one contract check; a violation is a kit failure, never an accepted ConfigError."""
    try:
        check(*args)
    except AdapterContractError as exc:
        raise _ContractBroken(str(exc)) from None


def _frames(batches: list[SourceBatch], part: str) -> pl.DataFrame:
    frames: list[pl.DataFrame] = [getattr(b, part) for b in batches]
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames, how="diagonal_relaxed")


def read_source(
    adapter: Adapter, path: Path, options: Mapping[str, Any], *, batch_bytes: int
) -> Collected:
    """Open ``path`` and read every batch (each through the contract hook); concatenated."""
    reader = adapter.open(path, dict(options), batch_bytes=batch_bytes)
    batches: list[SourceBatch] = []
    problems: list[str] = []
    contract = _contract(adapter, path, reader)
    for number, batch in enumerate(reader.batches(), start=1):
        _checked(check_batch, batch, contract)
        if batch.data.height != batch.records.height:
            problems.append(
                f"batch {number}: data has {batch.data.height} rows but records {batch.records.height}"
            )
        batches.append(batch)
    _checked(check_end, reader, contract)
    try:
        return Collected(
            _frames(batches, "data"), _frames(batches, "records"), _frames(batches, "rejects"), problems,
            declares_coverage=isinstance(reader, ReportsCoverage),
        )
    except pl.exceptions.PolarsError as exc:
        raise _KitFailure(f"batches do not concatenate ({type(exc).__name__})") from None


class _KitFailure(Exception):
    """A failure the kit found while reading (the message names no value)."""


class _ContractBroken(_KitFailure):
    """The adapter broke the run-time plugin contract (the message names the rule)."""


def _where(exc: BaseException) -> str:
    """``TypeName at file.py:LINE``: where an unexpected exception came from, never its message
    (a contract violation says its rule, which names no value)."""
    if isinstance(exc, _ContractBroken):
        return f"contract violation: {exc}"
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return type(exc).__name__
    return f"{type(exc).__name__} at {Path(last.tb_frame.f_code.co_filename).name}:{last.tb_lineno}"


def _spans(frame: pl.DataFrame) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    if frame.height == 0 or "offset" not in frame.columns or "raw" not in frame.columns:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    offsets = frame.get_column("offset").fill_null(-1).to_numpy().astype(np.int64)
    lengths = frame.get_column("raw").bin.size().fill_null(0).to_numpy().astype(np.int64)
    return offsets, lengths


def conservation_problems(got: Collected, size: int) -> list[str]:
    """Records and rejects together cover the file from the first record to its end."""
    problems = list(got.problems)
    if got.data.height != got.records.height:
        problems.append(f"data has {got.data.height} rows but records {got.records.height}")
    elif "row" in got.data.columns and "row" in got.records.columns and not got.data.get_column("row").equals(
        got.records.get_column("row")
    ):
        problems.append("data and records are not the same rows in the same order")
    offsets_r, lengths_r = _spans(got.records)
    offsets_j, lengths_j = _spans(got.rejects)
    offsets = np.concatenate([offsets_r, offsets_j])
    lengths = np.concatenate([lengths_r, lengths_j])
    if offsets.size == 0:
        return problems
    order = np.argsort(offsets, kind="stable")
    starts, ends = offsets[order], offsets[order] + lengths[order]
    gaps = np.flatnonzero(starts[1:] > ends[:-1])
    overlaps = np.flatnonzero(starts[1:] < ends[:-1])
    if got.declares_coverage:  # the contract has checked the whole file's bytes (check_end)
        gaps = gaps[:0]
    if gaps.size:
        k = int(gaps[0])
        problems.append(
            f"{gaps.size} gap(s) between records: bytes {int(ends[k])}..{int(starts[k + 1])} are in no "
            "record and no reject (records skipped?)"
        )
    if overlaps.size:
        problems.append(f"{overlaps.size} record(s) overlap the one before (first at byte {int(starts[overlaps[0] + 1])})")
    if int(ends[-1]) != size and not got.declares_coverage:
        problems.append(f"the last record ends at byte {int(ends[-1])}, the file at {size} (records skipped?)")
    return problems


def bytes_problems(frame: pl.DataFrame, content: bytes, what: str) -> list[str]:
    """Each row's ``raw`` is not empty and equals ``content`` at its ``offset``."""
    if frame.height == 0:
        return []
    if "raw" not in frame.columns or "offset" not in frame.columns:
        return [f"{what} have no raw/offset columns"]
    offsets, lengths = _spans(frame)
    problems: list[str] = []
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        problems.append(f"{empty.size} {what} with empty raw bytes (first at row index {int(empty[0])})")
    outside = np.flatnonzero((offsets < 0) | (offsets + lengths > len(content)))
    if outside.size:
        problems.append(f"{outside.size} {what} with an offset outside the file (first at row index {int(outside[0])})")
    good = (lengths > 0) & (offsets >= 0) & (offsets + lengths <= len(content))
    if not good.any():
        return problems
    raws = frame.get_column("raw").filter(pl.Series(good))
    joined = np.frombuffer(b"".join(raws.to_list()), dtype=np.uint8)
    lens, offs = lengths[good], offsets[good]
    firsts = np.repeat(np.cumsum(lens) - lens, lens)
    index = np.repeat(offs, lens) + (np.arange(joined.size) - firsts)
    file_bytes = np.frombuffer(content, dtype=np.uint8)
    differ = np.flatnonzero(file_bytes[index] != joined)
    if differ.size:
        row = int(np.searchsorted(np.cumsum(lens), differ[0], side="right"))
        bad = np.unique(np.searchsorted(np.cumsum(lens), differ, side="right")).size
        problems.append(
            f"{bad} {what} whose raw bytes differ from the file's at their offset "
            f"(first at byte {int(index[differ[0]])}, row index {int(np.flatnonzero(good)[row])})"
        )
    return problems


def _outcome(got: Collected) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    return got.data, got.records, got.rejects


def _same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    return a.columns == b.columns and a.equals(b, null_equal=True)


@dataclass
class _Sample:
    path: Path
    content: bytes
    got: Collected | None = None
    error: str | None = None


def _read(adapter: Adapter, path: Path, options: Mapping[str, Any], batch_bytes: int) -> Collected:
    return read_source(adapter, path, options, batch_bytes=batch_bytes)


def _guarded(run: Callable[[], Collected]) -> tuple[Collected | None, str | None]:
    """Run a read: (result, None) or (None, why it failed — an exception type and place)."""
    try:
        return run(), None
    except (InputError, ConfigError) as exc:
        return None, f"{type(exc).__name__}"
    except _ContractBroken as exc:
        return None, f"unexpected contract violation: {exc}"
    except _KitFailure as exc:
        return None, str(exc)
    except Exception as exc:  # the kit reports any failure of the adapter, never raises it
        return None, f"unexpected {_where(exc)}"


def _hostile_inputs(content: bytes) -> Iterator[tuple[str, bytes]]:
    yield "empty file", b""
    if len(content) > 1:
        cut = max(1, len(content) * 2 // 3 - 1)
        yield f"truncated at byte {cut}", content[:cut]
    # every byte over 0x7F read as Latin-1 and written as UTF-8: the wrong encoding, other lengths
    yield "in another encoding", content.decode("latin-1").encode("utf-8")
    yield "garbage bytes", random.Random(13).randbytes(4096) + b"\n" + bytes(range(256))


def _large_input(content: bytes, size: int) -> bytes:
    if not content:
        return b""
    return content * (size // len(content) + 1)


def check_adapter(
    adapter: Adapter,
    samples: Sequence[Path],
    options: Mapping[str, Any] | None = None,
    *,
    checks: Iterable[str] = CHECKS,
    batch_sizes: Sequence[int] = BATCH_SIZES,
) -> list[CheckResult]:
    """Run ``checks`` on ``adapter`` with each of ``samples`` and ``options``; one result per check.

    A sample the adapter cannot read at all fails ``conservation`` with the exception's
    type (an :class:`InputError` on a sample is a failure too: samples are meant to be read).
    """
    wanted = [c for c in CHECKS if c in set(checks)]
    unknown = sorted(set(checks) - set(CHECKS))
    if unknown:
        raise ConfigError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    opts = dict(options or {})
    opts.setdefault("_mapping_dir", str(Path.cwd()))
    default = batch_sizes[0]
    read: list[_Sample] = []
    for sample in samples:
        path = Path(sample)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise InputError(str(path), f"cannot read the sample: {exc.strerror}") from None
        got, error = _guarded(lambda p=path: _read(adapter, p, opts, default))  # type: ignore[misc]
        read.append(_Sample(path, content, got, error))

    results: list[CheckResult] = []
    for check in wanted:
        problems: list[str] = []
        notes: list[str] = []
        for s in read:
            name = s.path.name
            if s.got is None:
                if check == "conservation":
                    problems.append(f"{name}: cannot be read: {s.error}")
                continue
            if check == "conservation":
                problems += [f"{name}: {p}" for p in conservation_problems(s.got, len(s.content))]
            elif check == "record-bytes":
                problems += [f"{name}: {p}" for p in bytes_problems(s.got.records, s.content, "records")]
            elif check == "reject-bytes":
                problems += [f"{name}: {p}" for p in bytes_problems(s.got.rejects, s.content, "rejects")]
            elif check == "batch-sizes":
                problems += _batch_size_problems(adapter, s, opts, batch_sizes, notes)
            elif check == "hostile-inputs":
                problems += _hostile_problems(adapter, s, opts, default)
            elif check == "memory":
                problems += _memory_problems(adapter, s, opts, notes)
            elif check == "ranges":
                problems += _range_problems(adapter, s, opts, default, notes)
        results.append(CheckResult(check, tuple(problems), tuple(notes)))
    return results


def _batch_size_problems(
    adapter: Adapter, s: _Sample, opts: Mapping[str, Any], sizes: Sequence[int], notes: list[str]
) -> list[str]:
    assert s.got is not None
    expected = _outcome(s.got)
    problems: list[str] = []
    for size in sizes[1:]:
        try:
            got = _read(adapter, s.path, opts, size)
        except ConfigError:
            notes.append(f"{s.path.name}: batch size {size} refused by the adapter (skipped)")
            continue
        except Exception as exc:
            problems.append(f"{s.path.name}: batch size {size}: {_where(exc)}")
            continue
        for part, a, b in zip(("data", "records", "rejects"), expected, _outcome(got), strict=True):
            if not _same(a, b):
                problems.append(
                    f"{s.path.name}: batch size {size} gives other {part} than {sizes[0]} "
                    f"({b.height} rows against {a.height})"
                )
    return problems


def _range_problems(
    adapter: Adapter, s: _Sample, opts: Mapping[str, Any], batch_bytes: int, notes: list[str]
) -> list[str]:
    """Reading the sample in the adapter's ranges gives what reading it whole gives."""
    assert s.got is not None
    name = s.path.name
    if not isinstance(adapter, RangeReadable):
        notes.append(f"{name}: the adapter does not read byte ranges (files are read whole)")
        return []
    problems: list[str] = []
    for size in RANGE_SIZES:
        try:
            ranges = adapter.ranges(s.path, dict(opts), size=size)
        except Exception as exc:
            problems.append(f"{name}: ranges of {size} bytes: {_where(exc)}")
            continue
        if not ranges:
            notes.append(f"{name}: not cut at {size} bytes (read whole)")
            continue
        if ranges[-1].end != len(s.content) or any(a.end != b.start for a, b in zip(ranges, ranges[1:], strict=False)):
            problems.append(f"{name}: ranges of {size} bytes do not follow each other to the end of the file")
            continue
        parts: list[Collected] = []
        for span in ranges:
            try:
                parts.append(_read(adapter, s.path, span.open_options(opts), batch_bytes))
            except Exception as exc:
                problems.append(f"{name}: range {span.start}–{span.end}: {_where(exc)}")
                break
        else:
            base = 0
            renumbered: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]] = []
            for got in parts:
                shift = [f.with_columns(pl.col("row") + base) if "row" in f.columns else f for f in _outcome(got)]
                renumbered.append((shift[0], shift[1], shift[2]))
                base += got.records.height + got.rejects.height
            for index, part in enumerate(("data", "records", "rejects")):
                whole = _outcome(s.got)[index]
                frames = [r[index] for r in renumbered if r[index].width]
                joined = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
                if whole.height != joined.height or (whole.height and not _same(whole, joined.select(whole.columns))):
                    problems.append(
                        f"{name}: the {len(ranges)} ranges of {size} bytes give other {part} than the whole file "
                        f"({joined.height} rows against {whole.height})"
                    )
    return problems


def _hostile_problems(adapter: Adapter, s: _Sample, opts: Mapping[str, Any], batch_bytes: int) -> list[str]:
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mig-check-") as tmp:
        for label, content in _hostile_inputs(s.content):
            path = Path(tmp) / s.path.name
            path.write_bytes(content)
            got, error = _guarded(lambda p=path: _read(adapter, p, opts, batch_bytes))  # type: ignore[misc]
            where = f"{s.path.name} {label}"
            if got is None:
                if error is not None and error.startswith("unexpected"):
                    problems.append(f"{where}: {error} (expected InputError, ConfigError or rejects)")
                continue
            problems += [f"{where}: {p}" for p in conservation_problems(got, len(content))]
            problems += [f"{where}: {p}" for p in bytes_problems(got.records, content, "records")]
            problems += [f"{where}: {p}" for p in bytes_problems(got.rejects, content, "rejects")]
    return problems


def _peak(adapter: Adapter, path: Path, opts: Mapping[str, Any], batch: int) -> int:
    """Peak of the Python heap while reading ``path`` in batches of ``batch`` bytes, discarding each."""
    tracemalloc.start()
    try:
        reader = adapter.open(path, dict(opts), batch_bytes=batch)
        contract = _contract(adapter, path, reader)
        for b in reader.batches():
            _checked(check_batch, b, contract)
            del b
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _memory_problems(adapter: Adapter, s: _Sample, opts: Mapping[str, Any], notes: list[str]) -> list[str]:
    """Read copies of the sample of ``n`` and ``2 n`` batches: the peak must not grow with the
    input, and stay under :data:`MEMORY_FACTOR` batches plus :data:`MEMORY_SLACK`."""
    batch = MEMORY_BATCH_BYTES
    if not s.content:
        return []
    limit = MEMORY_FACTOR * batch + MEMORY_SLACK
    peaks: list[tuple[int, int]] = []
    with tempfile.TemporaryDirectory(prefix="mig-check-") as tmp:
        path = Path(tmp) / s.path.name
        try:
            _peak(adapter, s.path, opts, batch)  # warm up: imports and caches are not the input's
            for batches in (MEMORY_INPUT_BATCHES // 2, MEMORY_INPUT_BATCHES):
                path.write_bytes(_large_input(s.content, batch * batches))
                peaks.append((path.stat().st_size, _peak(adapter, path, opts, batch)))
        except (InputError, ConfigError) as exc:
            # a format with one document per file (XML) is not a file again when repeated:
            # the adapter refused it cleanly, so this check cannot measure it — say so
            notes.append(
                f"{s.path.name}: memory not measured: the sample repeated is not a valid input "
                f"for this adapter ({type(exc).__name__}); bound its memory in its own tests"
            )
            return []
        except Exception as exc:
            return [f"{s.path.name}: reading a large copy failed: {_where(exc)}"]
    mib = 1024 * 1024
    (small, small_peak), (size, peak) = peaks
    notes.append(
        f"{s.path.name}: peak {small_peak / mib:.1f} MiB reading {small / mib:.1f} MiB, "
        f"{peak / mib:.1f} MiB reading {size / mib:.1f} MiB, in batches of {batch // 1024} KiB "
        f"(limit {limit / mib:.1f} MiB)"
    )
    problems = []
    if peak > small_peak * 5 // 4 + batch:
        problems.append(
            f"{s.path.name}: peak memory grows with the input: {small_peak / mib:.1f} MiB reading "
            f"{small / mib:.1f} MiB, {peak / mib:.1f} MiB reading {size / mib:.1f} MiB"
        )
    if peak > limit:
        problems.append(
            f"{s.path.name}: peak memory {peak / mib:.1f} MiB reading {size / mib:.1f} MiB in batches "
            f"of {batch // 1024} KiB, over {limit / mib:.1f} MiB ({MEMORY_FACTOR} batches + "
            f"{MEMORY_SLACK // mib} MiB)"
        )
    return problems


class AdapterConformance:
    """Base class of a plugin's conformance tests: subclass it as ``TestSomething`` and set
    :attr:`adapter`, :attr:`samples` and :attr:`options`; pytest runs one test per check.
    """

    #: The adapter: its ``mig.adapters`` entry-point name, or an object implementing Adapter.
    adapter: ClassVar[str | Adapter]
    #: Sample files (paths, relative ones to the test module's folder).
    samples: ClassVar[Sequence[str | Path]] = ()
    #: The ``[source]`` options the samples are read with.
    options: ClassVar[Mapping[str, Any]] = {}

    def _run(self, check: str) -> None:
        from mig.registry import get_adapter

        adapter = get_adapter(self.adapter) if isinstance(self.adapter, str) else self.adapter
        import sys

        module = sys.modules[type(self).__module__]
        file = getattr(module, "__file__", None)
        base = Path(file).parent if file else Path.cwd()
        samples = [p if Path(p).is_absolute() else base / p for p in map(Path, self.samples)]
        assert samples, f"{type(self).__name__}: give samples = [...]"
        options = {"_mapping_dir": str(base), **self.options}
        (result,) = check_adapter(adapter, samples, options, checks=[check])
        assert result.ok, f"{check} failed:\n" + "\n".join(result.problems)

    def test_conservation(self) -> None:
        self._run("conservation")

    def test_record_bytes(self) -> None:
        self._run("record-bytes")

    def test_reject_bytes(self) -> None:
        self._run("reject-bytes")

    def test_batch_sizes(self) -> None:
        self._run("batch-sizes")

    def test_hostile_inputs(self) -> None:
        self._run("hostile-inputs")

    def test_memory(self) -> None:
        self._run("memory")

    def test_ranges(self) -> None:
        self._run("ranges")
