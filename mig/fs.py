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
