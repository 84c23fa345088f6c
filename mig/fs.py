"""Atomic outputs: every file and directory mig writes appears complete or not at all.

A file is written under a temporary name in its own directory and renamed over the target
(:func:`os.replace`, atomic on one file system); a directory is built under a temporary
name beside the target and swapped in at the end. A failure — an exception, an interrupt —
removes the temporary and leaves the earlier target, if any, untouched.

Temporary names start with a dot and name the target and the process:
``.NAME.partial-PID`` for a directory, ``.NAME.partial-PID-N.tmp`` for a file. Only such
names are ever removed here; what the target replaces is the caller's decision (e.g.
:func:`mig.run.writer.atomic_run_dir` refuses a non-empty directory without ``--force``).

No ``fsync``: a crash of the machine (not of mig) may lose a just-renamed file's contents.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     target = Path(tmp) / "a.json"
...     write_json(target, {"b": 1, "a": "和"})
...     target.read_text(encoding="utf-8")
'{\\n  "a": "和",\\n  "b": 1\\n}\\n'
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = [
    "PendingDir",
    "PendingFile",
    "atomic_dir",
    "atomic_file",
    "json_text",
    "write_bytes",
    "write_json",
    "write_text",
]

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
    temporary = _create_temporary(path)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (the parent directory must exist)."""
    with atomic_file(path) as temporary:
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


class PendingDir:
    """A directory built under ``.NAME.partial-PID`` beside ``out`` and swapped in by :meth:`commit`.

    An earlier ``out`` is moved aside (``.NAME.old-PID``) during the swap, put back if the
    rename fails, and removed after it succeeds. Whether ``out`` may be replaced at all is
    the caller's decision, made before.
    """

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.path = self.out.parent / f".{self.out.name}.partial-{os.getpid()}"
        shutil.rmtree(self.path, ignore_errors=True)  # our own name: left by a crashed run
        self.path.mkdir()

    def commit(self) -> None:
        out = self.out
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            try:
                self.path.rename(out)
            except OSError:
                old.rename(out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            self.path.rename(out)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


@contextmanager
def atomic_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``out`` only if the block completes."""
    pending = PendingDir(out)
    try:
        yield pending.path
        pending.commit()
    except BaseException:
        pending.discard()
        raise


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
