"""Atomic outputs: every file and directory mig writes appears complete or not at all.

A file is written under a temporary name in its own directory and renamed over the target
(:func:`os.replace`, atomic on one file system); a directory is built under a temporary
name beside the target and swapped in at the end. A failure — an exception, an interrupt —
removes the temporary and leaves the earlier target, if any, untouched.

Temporary names start with a dot and name the target and the process:
``.NAME.partial-PID`` for a directory, ``.NAME.partial-PID-N.tmp`` for a file. Only such
names are ever removed here.

Output directories (a run, a demo, a loader bundle) go through :func:`output_dir`, the one
place that decides what may be replaced: only a directory mig wrote itself, recognised by
its :class:`Owner` marker (the run's ``manifest.json``, the demo's ``.mig-demo``, the
bundle's ``bundle.json``); never ``/``, the home folder, a mount point, the current folder
or one holding an input. One process at a time writes an output (a lock file
``.NAME.lock`` beside it), and partial folders left by a killed run are removed by the
next run into the same place. A write that fails for want of space or permission is an
:class:`~mig.errors.OutputError` naming the output (exit code 3).

No ``fsync``: a crash of the machine (not of mig) may lose a just-renamed file's contents.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     target = Path(tmp) / "a.json"
...     write_json(target, {"b": 1, "a": "和"})
...     target.read_text(encoding="utf-8")
'{\\n  "a": "和",\\n  "b": 1\\n}\\n'
"""

from __future__ import annotations

import errno as _errno
import itertools
import json
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from mig.errors import Msg, OutputBusyError, OutputError, OutputExistsError

__all__ = [
    "PARTIAL_MARK",
    "Owner",
    "PendingDir",
    "PendingFile",
    "atomic_dir",
    "atomic_file",
    "is_write_failure",
    "json_owner",
    "json_text",
    "os_errno",
    "output_dir",
    "writing",
    "write_bytes",
    "write_json",
    "write_text",
]

#: Error numbers only a write can cause: never the fault of an input being read.
WRITE_ERRNOS = frozenset(
    {_errno.ENOSPC, _errno.EDQUOT, _errno.EROFS, _errno.EFBIG}
)


def os_errno(exc: OSError) -> int | None:
    """The error number of ``exc``, also when a library (Polars) gives it only in the text:
    its own I/O error, or a Python file object's error it passed on (writing to a
    :class:`~mig.run.writer.HashingFile`).

    >>> os_errno(OSError("No space left on device (os error 28)"))
    28
    >>> os_errno(OSError("[Errno 28] No space left on device"))
    28
    """
    if exc.errno:
        return exc.errno
    found = re.search(r"\(os error ([0-9]{1,4})\)|^\[Errno ([0-9]{1,4})\]", str(exc)[:1000])
    return int(found.group(1) or found.group(2)) if found else None


def is_write_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is an :class:`OSError` that only writing can cause (disk full, read-only)."""
    return isinstance(exc, OutputError) or (
        isinstance(exc, OSError) and os_errno(exc) in WRITE_ERRNOS
    )


def _within(path: str | bytes | None, roots: Iterable[Path]) -> bool:
    if path is None:
        return False
    candidate = Path(os.fsdecode(path)).absolute()
    return any(candidate == root or root in candidate.parents for root in roots)


@contextmanager
def writing(output: Path, *also: Path, every: bool = False) -> Iterator[None]:
    """Turn an :class:`OSError` of writing ``output`` into an :class:`OutputError` naming it.

    Converted: every error if ``every`` (the block only writes), else errors only a write
    can cause (:data:`WRITE_ERRNOS`) and any error on a path at or under ``output`` or
    ``also`` (e.g. its temporary). Others — an input that cannot be read — pass unchanged:
    the output is never blamed for an input, nor the other way round.
    """
    roots = [Path(output).absolute(), *(Path(p).absolute() for p in also)]
    try:
        yield
    except OutputError as exc:  # of something inside, e.g. a temporary: name the output
        if _within(exc.path, roots[1:]):
            raise OutputError(str(output), exc.errno, exc.strerror) from None
        raise
    except OSError as exc:
        if (
            every or is_write_failure(exc)
            or _within(exc.filename, roots) or _within(exc.filename2, roots)
        ):
            raise OutputError(str(output), os_errno(exc)) from None
        raise

_counter = itertools.count()


def json_text(data: Any) -> str:
    """The one JSON form of mig's files: UTF-8 text, keys sorted, indent 2, newline at the end.

    >>> json_text({"z": [1], "あ": None})
    '{\\n  "z": [\\n    1\\n  ],\\n  "あ": null\\n}\\n'
    """
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _create_temporary(path: Path) -> Path:
    """Create an empty, new temporary file beside ``path`` (mode 0666 less the umask)."""
    while True:
        temporary = path.with_name(f".{path.name}.partial-{os.getpid()}-{next(_counter)}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # left by a crashed process of the same id: not ours to remove
            continue
        os.close(fd)
        return temporary


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a new empty temporary file beside ``path``; it becomes ``path`` if the block completes.

    For writers that want a path (a font library, ``numpy.savez``) or a stream::

        with atomic_file(target) as temporary, temporary.open("wb") as handle:
            handle.write(...)
    """
    path = Path(path)
    with writing(path, every=True):
        temporary = _create_temporary(path)
    try:
        yield temporary
        with writing(path, every=True):
            os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (the parent directory must exist).

    A failure is an :class:`~mig.errors.OutputError` naming ``path`` (the earlier file stays).
    """
    with atomic_file(path) as temporary, writing(path, every=True):
        temporary.write_bytes(data)


def write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` atomically in ``encoding`` (``utf-8-sig`` for a BOM); line ends as given."""
    write_bytes(path, text.encode(encoding))


def write_json(path: Path, data: Any) -> None:
    """Write :func:`json_text` of ``data`` to ``path`` atomically."""
    write_text(path, json_text(data))


class PendingFile:
    """A text file written now and published (renamed into place) or discarded later.

    For output that may still be called off after it is written, such as the rejects of a
    load that can be rolled back.
    """

    def __init__(self, path: Path, *, encoding: str = "utf-8") -> None:
        self.path = Path(path)
        self.temporary = _create_temporary(self.path)
        try:
            self._handle: IO[str] = self.temporary.open("w", encoding=encoding, newline="")
        except BaseException:
            self.temporary.unlink(missing_ok=True)
            raise

    def write(self, text: str) -> None:
        self._handle.write(text)

    def close(self) -> None:
        self._handle.close()

    def publish(self) -> None:
        """Close and rename into place."""
        self.close()
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        """Close and remove the temporary; the target is left as it was."""
        self.close()
        self.temporary.unlink(missing_ok=True)


#: The file in a directory under construction that marks it as mig's (pid, host, start).
PARTIAL_MARK = ".mig-partial"


def _holder() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _describe(holder: Any) -> str:
    """``pid 12 on host h, started …``: what a lock or partial marker says, never more."""
    if not isinstance(holder, dict):
        return "an unknown process"
    pid, host, started = holder.get("pid"), holder.get("host"), holder.get("started")
    text = f"pid {pid}" if isinstance(pid, int) else "an unknown process"
    if isinstance(host, str) and host.isprintable() and len(host) <= 255:
        text += f" on host {host}"
    if isinstance(started, str) and re.fullmatch(r"[0-9T:Z-]{1,32}", started):
        text += f", started {started}"
    return text


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _remove_marked(folder: Path, keep_last: Iterable[str]) -> None:
    """Remove ``folder``, its marker files last: a removal cut short stays recognisable."""
    last = set(keep_last)
    for entry in folder.iterdir():
        if entry.name in last:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for name in last:
        (folder / name).unlink(missing_ok=True)
    folder.rmdir()


class PendingDir:
    """A directory built under ``.NAME.partial-PID`` beside ``out`` and swapped in by :meth:`commit`.

    The partial directory holds :data:`PARTIAL_MARK` (who builds it) until the commit, so
    that one left by a killed process is recognised as mig's. An earlier ``out`` is moved
    aside (``.NAME.old-PID``) during the swap, put back if the rename fails, and removed
    after it succeeds. Whether ``out`` may be replaced at all is the caller's decision, made
    before (see :func:`output_dir`).
    """

    def __init__(self, out: Path, owner: Owner | None = None) -> None:
        self.out = Path(out)
        self.owner = owner
        self.path = self.out.parent / f".{self.out.name}.partial-{os.getpid()}"
        if self.path.is_dir() and not self.path.is_symlink():  # our own name: a crashed run
            shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir()
        try:
            (self.path / PARTIAL_MARK).write_text(json_text(_holder()), encoding="utf-8")
        except BaseException:
            self.discard()
            raise

    def _markers(self) -> list[str]:
        return [PARTIAL_MARK, *([self.owner.file] if self.owner else [])]

    def commit(self) -> None:
        out = self.out
        (self.path / PARTIAL_MARK).unlink()
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            try:
                self.path.rename(out)
            except BaseException:
                old.rename(out)
                raise
            _remove_marked(old, [self.owner.file] if self.owner else [])
        else:
            self.path.rename(out)

    def discard(self) -> None:
        try:
            _remove_marked(self.path, self._markers())
        except OSError:
            shutil.rmtree(self.path, ignore_errors=True)


@contextmanager
def atomic_dir(out: Path, owner: Owner | None = None) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``out`` only if the block completes.

    Nothing is checked about ``out``: for a directory a user names, use :func:`output_dir`.
    """
    pending = PendingDir(out, owner)
    try:
        yield pending.path
        pending.commit()
    except BaseException:
        pending.discard()
        raise


# -- output directories: what mig may replace, one writer at a time, leftovers ----------------


MARKER_LIMIT = 256 * 1024 * 1024


@dataclass(frozen=True)
class Owner:
    """How mig recognises an output directory it wrote: a file in it whose bytes pass a test.

    ``what`` names the kind in messages (``"run directory"``); ``file`` is the marker's name
    inside the directory; ``test`` looks at its bytes. See :func:`json_owner`.
    """

    what: str
    file: str
    test: Callable[[bytes], bool]

    def owns(self, folder: Path) -> bool:
        """Whether ``folder`` holds this owner's marker (a regular file that passes the test)."""
        marker = Path(folder) / self.file
        try:
            if marker.is_symlink() or not marker.is_file():
                return False
            if marker.stat().st_size > MARKER_LIMIT:
                return False
            return bool(self.test(marker.read_bytes()))
        except (OSError, ValueError, RecursionError):
            return False


def json_owner(what: str, file: str, key: str, value: str) -> Owner:
    """An :class:`Owner` whose marker is a JSON object with ``key`` equal to ``value``.

    >>> owner = json_owner("loader bundle", "bundle.json", "kind", "mig-loader-bundle")
    >>> owner.test(b'{"kind": "mig-loader-bundle"}'), owner.test(b"[1]")
    (True, False)
    """

    def test(data: bytes) -> bool:
        if json_depth(data) > JSON_MAX_DEPTH:  # the same limit as read_json
            return False
        try:
            parsed = json.loads(data)
        except (ValueError, RecursionError):
            return False
        return isinstance(parsed, dict) and parsed.get(key) == value

    return Owner(what, file, test)


def _lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


class _Lock:
    """``.NAME.lock`` beside ``out``: held (``flock``) by the one process writing ``out``.

    The file says who holds it (pid, host, start time). The kernel releases the lock when
    its process ends, however it ends: a lock file whose lock is free was left by a process
    that is gone, and is taken over.
    """

    def __init__(self, out: Path, notify: Callable[[str], None]) -> None:
        self.out = out
        self.path = _lock_path(out)
        self.notify = notify
        self.fd = -1

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: exclusive creation only
            self._acquire_exclusive()
            return
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise OutputBusyError(
                    f"{self.out}: another mig run is writing it ({_describe(holder)}); "
                    "wait for it to finish"
                ) from None
            except BaseException:
                os.close(fd)
                raise
            try:
                current = os.stat(self.path)
            except FileNotFoundError:
                current = None
            opened = os.fstat(fd)
            if current is not None and (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino):
                break
            os.close(fd)  # released and removed by its holder meanwhile: take the new one
        self.fd = fd
        previous = _read_holder(fd)
        if previous is not None:
            self.notify(
                f"{self.out}: took over the lock of an earlier mig run ({_describe(previous)}) "
                "whose process is gone"
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, json_text(_holder()).encode("utf-8"), 0)

    def _acquire_exclusive(self) -> None:  # pragma: no cover - not POSIX
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            raise OutputBusyError(
                f"{self.out}: another mig run is writing it (lock file {self.path.name})"
            ) from None
        os.write(self.fd, json_text(_holder()).encode("utf-8"))

    def release(self) -> None:
        if self.fd < 0:
            return
        try:
            self.path.unlink(missing_ok=True)  # while still held: nobody holds a removed lock
        finally:
            os.close(self.fd)
            self.fd = -1


def _read_holder(fd: int) -> Any:
    try:
        data = os.pread(fd, 4096, 0)
    except OSError:
        return None
    if not data:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return "?"


def _leftovers(out: Path) -> Iterator[tuple[Path, str, int]]:
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(partial|old)-([0-9]{{1,10}})")
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return
    for entry in sorted(entries):
        match = pattern.fullmatch(entry.name)
        if match and entry.is_dir() and not entry.is_symlink():
            yield entry, match.group(1), int(match.group(2))


def _clean_leftovers(out: Path, owner: Owner, notify: Callable[[str], None]) -> None:
    """Remove what killed runs into ``out`` left beside it (called with the lock held).

    Only mig's own folders: named ``.NAME.partial-PID`` or ``.NAME.old-PID`` and holding
    :data:`PARTIAL_MARK` or the owner's marker, of a process that is gone. An earlier
    ``out`` moved aside by a run killed mid-swap is put back first.
    """
    found = [(p, kind, pid) for p, kind, pid in _leftovers(out) if pid == os.getpid() or not _alive(pid)]
    if not out.exists() and not out.is_symlink():
        for path, kind, _pid in found:
            if kind == "old" and owner.owns(path):
                path.rename(out)
                notify(f"{out}: put back the earlier {owner.what} a killed run had moved aside")
                found = [f for f in found if f[0] != path]
                break
    removed = 0
    for path, _kind, _pid in found:
        if (path / PARTIAL_MARK).is_file() or owner.owns(path) or not any(path.iterdir()):
            _remove_marked(path, [PARTIAL_MARK, owner.file])
            removed += 1
    if removed:
        notify(
            f"{out.parent}: removed {removed} unfinished folder(s) of {owner.what}s "
            f"left by mig runs that were killed"
        )


def _refuse(out: Path, why: str) -> OutputExistsError:
    return OutputExistsError(Msg("errors.exists-refuse", path=out, why=why))


def _check_replaceable(
    out: Path, owner: Owner, *, replace: bool, option: str, protect: Iterable[Path]
) -> None:
    """Raise :class:`OutputExistsError` unless ``out`` is absent or may be replaced."""
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir():
        raise OutputExistsError(Msg("errors.exists-not-dir", path=out))
    if out == Path(out.anchor):
        raise _refuse(out, "is the root of the file system")
    home = Path.home().resolve()
    if out == home or out in home.parents:
        raise _refuse(out, "is the home folder" if out == home else "holds the home folder")
    if os.path.ismount(out):
        raise _refuse(out, "is a mount point")
    for path in protect:
        resolved = Path(path).resolve()
        if out == resolved or out in resolved.parents:
            raise _refuse(out, f"holds {resolved.name}, an input of this run")
    cwd = Path.cwd().resolve()
    if out == cwd or out in cwd.parents:
        raise _refuse(out, "is the current folder" if out == cwd else "holds the current folder")
    if not any(out.iterdir()):
        return
    if not owner.owns(out):
        raise _refuse(out, f"is not empty and is not a mig {owner.what}")
    if not replace:
        raise OutputExistsError(Msg("errors.already-holds", path=out, what=owner.what, option=option))


def _stderr(message: str) -> None:
    import sys

    print(f"mig: {message}", file=sys.stderr)


@contextmanager
def output_dir(
    out: Path,
    owner: Owner,
    *,
    replace: bool = False,
    option: str = "--force",
    protect: Iterable[Path] = (),
    notify: Callable[[str], None] | None = None,
) -> Iterator[Path]:
    """Build the output directory ``out`` under a temporary name; it appears complete or not at all.

    In order: take the lock beside ``out`` (another writer: :class:`OutputBusyError`); clean
    what killed runs left (said through ``notify``, default stderr: counts, never contents);
    check that ``out`` is absent, empty, or — with ``replace`` (the CLI's ``option``) — a
    directory ``owner`` recognises, and not ``/``, the home or current folder, a mount
    point, nor holding one of ``protect`` (the inputs); then yield the partial directory.
    When the block completes, the partial replaces ``out`` by renames (the earlier one stays
    if that fails). An :class:`OSError` of writing becomes :class:`OutputError` naming ``out``.
    The parent of ``out`` must exist.
    """
    say = notify or _stderr
    out = Path(out)
    out = out.resolve() if out.exists() else out.absolute()
    protect = tuple(protect)
    lock = _Lock(out, say)
    with writing(out, out.parent / f".{out.name}.partial-{os.getpid()}", _lock_path(out)):
        lock.acquire()
        try:
            _clean_leftovers(out, owner, say)
            _check_replaceable(out, owner, replace=replace, option=option, protect=protect)
            with atomic_dir(out, owner) as path:
                yield path
        finally:
            lock.release()


# -- reading JSON that comes from outside (runs, packages, bundles) -------------------------

#: Largest JSON file :func:`read_json` reads unless told otherwise (a manifest of thousands
#: of inputs is a few MiB).
JSON_MAX_BYTES = 64 * 1024 * 1024
#: Deepest nesting of arrays and objects :func:`read_json` accepts (mig's own files: < 10).
JSON_MAX_DEPTH = 64

# A JSON string (with its escapes); what is left after removing them is structure and scalars.
_JSON_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest in the JSON text ``data`` (brackets inside strings
    do not count), found by one linear scan without recursion.

    >>> json_depth(b'{"a": [1, {"b": "[[["}]}'), json_depth(b"1"), json_depth(b"[" * 5)
    (3, 0, 5)
    """
    import re

    import numpy as np

    structure = np.frombuffer(re.sub(_JSON_STRING, b'""', data, flags=re.S), dtype=np.uint8)
    # "[" 0x5B and "{" 0x7B open, "]" 0x5D and "}" 0x7D close: equal after clearing bit 0x20
    folded = structure & 0xDF
    step = (folded == 0x5B).astype(np.int32) - (folded == 0x5D)
    return int(np.cumsum(step, dtype=np.int64).max(initial=0))


def read_json(
    path: Path, *, max_bytes: int | None = None, max_depth: int | None = None, what: str = "JSON file"
) -> Any:
    """Read a JSON file that mig did not necessarily write (a run's manifest, a package's
    control file, a bundle's ``bundle.json``) within limits.

    The size is checked before reading and the nesting depth before parsing, so a hostile
    file costs at most ``max_bytes`` of memory and no deep recursion. Anything wrong — not
    found, unreadable, too large, not UTF-8, nested deeper than ``max_depth``, not JSON, an
    integer too long to convert — is an :class:`~mig.errors.InputError` (exit code 3)
    naming ``path`` and the rule, never the file's content. ``what`` names the file in the
    message (``"manifest"``). The limits default to :data:`JSON_MAX_BYTES` and
    :data:`JSON_MAX_DEPTH`.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "deep.json").write_text("[" * 100)
    ...     read_json(Path(tmp) / "deep.json", max_depth=10)
    Traceback (most recent call last):
    mig.errors.InputError: .../deep.json: JSON nested deeper than 10 levels
    """
    from mig.errors import InputError

    max_bytes = JSON_MAX_BYTES if max_bytes is None else max_bytes
    max_depth = JSON_MAX_DEPTH if max_depth is None else max_depth
    path = Path(path)
    where = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(where, f"{what} not found") from None
    except IsADirectoryError:
        raise InputError(where, f"{what} expected, found a directory") from None
    except OSError as exc:
        raise InputError(where, f"cannot read {what} ({exc.strerror or type(exc).__name__})") from None
    if len(data) > max_bytes:
        raise InputError(where, f"{what} larger than {max_bytes} bytes (not read)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(where, f"{what} is not UTF-8", offset=exc.start) from None
    depth = json_depth(data)
    if depth > max_depth:
        raise InputError(where, f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(where, f"not valid JSON ({exc.msg})", line=exc.lineno) from None
    except (ValueError, RecursionError):  # an integer past Python's digit limit; a backstop
        raise InputError(where, "not valid JSON (a number or nesting beyond limits)") from None


# -- output paths given by the user (--report, --out) -------------------------------------


def check_output_file(
    path: Path, *, inputs: list[Path] | tuple[Path, ...] = (), option: str = "output"
) -> None:
    """Refuse, before any work is done, an output file the command could not write or
    that would overwrite one of its own ``inputs``.

    ``path`` must not be a directory and its directory must exist. It must not be the same
    file as an input (:func:`os.path.samefile`, so links count; else the resolved paths),
    nor an existing file inside an input that is a directory (a package being audited).
    Each problem is one :class:`~mig.errors.ConfigError` (exit code 2) naming ``option``.

    >>> check_output_file(Path("report.html"), inputs=[Path("report.html")], option="--report")
    Traceback (most recent call last):
    mig.errors.ConfigError: --report report.html: is also an input of this command (report.html); choose another file
    """
    from mig.errors import ConfigError

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a directory; give a file name")
    parent = path.parent
    if not parent.is_dir():
        problem = "does not exist" if not parent.exists() else "is not a directory"
        raise ConfigError(f"{option} {path}: the directory {parent} {problem}")
    target = path.resolve()
    for source in inputs:
        source = Path(source)
        if source.is_dir():
            clash = path.exists() and target.is_relative_to(source.resolve())
        else:
            try:
                clash = os.path.samefile(path, source)
            except OSError:  # one of them does not exist (yet)
                clash = target == source.resolve()
        if clash:
            raise ConfigError(f"{option} {path}: is also an input of this command ({source}); choose another file")
