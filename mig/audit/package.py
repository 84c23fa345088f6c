"""Opening a handover package — a directory or a zip — without trusting it.

A package is listed as *entries* (regular files, named by their package-relative POSIX
path) and *refusals* (what will not be read, and why). Nothing in a package is ever
followed, executed or written under a name the package chose:

- **directory**: walked without following symbolic links; a symlink (to a file or a
  directory) or a special file (FIFO, socket, device) is refused, never opened.
- **zip**: entry names are read as :func:`entry_name` says (UTF-8 flag, strict UTF-8, the
  Unicode Path extra field 0x7075, CP932, CP437; the encoding recorded per entry). The
  central directory is checked before any byte is inflated — entry names
  (absolute, drive letters, ``..``, backslashes, NUL), symlink and special-file modes,
  encryption, compression methods other than stored/deflate, duplicate names, entries
  whose data overlap (overlapping-entry bombs), and size limits (:class:`Limits`: per
  entry, total, compression ratio). The same limits are enforced again while reading, on
  the bytes actually inflated, so a lying header cannot get past them. When every entry
  sits in one top folder (a zipped directory), that folder is the package root.

Reading is streamed in chunks (``CHUNK`` bytes): memory does not grow with a file's
size. Zip members that must be parsed (layout data, manifest, control file) are copied
— while being hashed — into a private temporary work directory under a name chosen
here (``<n>/data.csv``), read from there and deleted as soon as they are done.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Literal, Protocol

import numpy as np

from mig.errors import InputError

CHUNK = 1024 * 1024
GiB = 1024**3


@dataclass(frozen=True)
class Limits:
    """Limits a package must stay within.

    Zip packages: ``max_total_bytes``, ``max_entry_bytes``, ``max_ratio`` and
    ``max_entries`` are checked from the central directory and again on the bytes
    actually inflated; ``max_ratio`` applies to entries above ``ratio_floor`` bytes (tiny
    files compress absurdly well without being bombs). Any package: a CSV with a line
    longer than ``max_line_bytes`` is not parsed (a reader would have to hold the whole
    line), and a manifest or control file above ``max_control_bytes`` is not read.
    """

    max_total_bytes: int = 64 * GiB
    max_entry_bytes: int = 32 * GiB
    max_ratio: float = 200.0
    ratio_floor: int = 1024 * 1024
    max_entries: int = 100_000
    max_control_bytes: int = 64 * 1024 * 1024
    max_line_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """A regular file of the package. ``path`` is relative to the package root."""

    path: str
    size: int
    compressed: int | None = None
    index: int = 0
    name_encoding: str = "filesystem"


@dataclass(frozen=True)
class Refusal:
    """An entry that is not read: ``type`` is ``entry-unsafe`` or ``zip-bomb``."""

    path: str
    type: str
    detail: str


@dataclass
class Digest:
    """What reading an entry once tells: sha256, bytes, line feeds and the longest line."""

    sha256: str
    bytes: int
    line_feeds: int
    longest_line: int = 0


class ByteStream(Protocol):
    """What the audit reads an entry through: ``read(size)`` until it returns ``b""``."""

    def read(self, size: int = ..., /) -> bytes: ...


class EntryError(Exception):
    """Reading an entry stopped: a limit was hit or the member is corrupt."""

    def __init__(self, type_code: str, detail: str) -> None:
        super().__init__(detail)
        self.type = type_code
        self.detail = detail


@dataclass
class _Hasher:
    """sha256, size, line feeds and the longest line, chunk by chunk (NumPy per chunk)."""

    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0
    line_feeds: int = 0
    longest: int = 0
    _open_line: int = 0  # bytes since the last line feed

    def update(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        feeds = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 0x0A)
        if feeds.size:
            first = self._open_line + int(feeds[0])
            inner = int(np.diff(feeds).max()) - 1 if feeds.size > 1 else 0
            self.longest = max(self.longest, first, inner)
            self._open_line = len(chunk) - int(feeds[-1]) - 1
        else:
            self._open_line += len(chunk)
        self.size += len(chunk)
        self.line_feeds += int(feeds.size)

    def result(self) -> Digest:
        longest = max(self.longest, self._open_line)
        return Digest(self.digest.hexdigest(), self.size, self.line_feeds, longest)


class Package:
    """A package opened for auditing; use as a context manager (it may own a work dir)."""

    kind: Literal["directory", "zip"]

    def __init__(self, source: Path) -> None:
        self.source = source
        self.entries: list[Entry] = []
        self.refused: list[Refusal] = []
        self.root_prefix = ""
        self.ambiguous_names: dict[str, str] = {}
        """Entry path → the other plausible reading of its name (zip names only)."""

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the package (and delete the work directory, if any)."""

    def entry(self, path: str) -> Entry | None:
        """The entry at ``path``, if the package holds it and it was not refused."""
        for entry in self.entries:
            if entry.path == path:
                return entry
        return None

    def digest(self, entry: Entry, progress: Callable[[int], None] | None = None) -> Digest:
        """Stream ``entry`` once and return its sha256, size and line-feed count
        (``progress`` is told the bytes read so far, chunk by chunk)."""
        hasher = _Hasher()
        with self._open(entry) as stream:
            while chunk := stream.read(CHUNK):
                hasher.update(chunk)
                if progress is not None:
                    progress(hasher.size)
        return hasher.result()

    def head(self, entry: Entry, size: int) -> bytes:
        """The first ``size`` bytes of ``entry`` (to recognise it without reading it all)."""
        parts: list[bytes] = []
        got = 0
        with self._open(entry) as stream:
            while got < size and (chunk := stream.read(min(CHUNK, size - got))):
                parts.append(chunk)
                got += len(chunk)
        return b"".join(parts)

    @contextmanager
    def local_file(self, entry: Entry, name: str,
                   progress: Callable[[int], None] | None = None) -> Iterator[tuple[Path, Digest]]:
        """A filesystem path holding ``entry`` (named ``name`` if a copy is needed) and its digest."""
        raise NotImplementedError  # pragma: no cover

    @contextmanager
    def _open(self, entry: Entry) -> Iterator[ByteStream]:
        raise NotImplementedError  # pragma: no cover
        yield  # pragma: no cover


# -- directory packages ---------------------------------------------------------------------


class DirectoryPackage(Package):
    """A directory walked without following links."""

    kind = "directory"

    def __init__(self, source: Path) -> None:
        super().__init__(source)
        self.root = source.resolve()
        self._walk(self.root, PurePosixPath())
        self.entries.sort(key=lambda e: e.path)
        self.refused.sort(key=lambda r: r.path)

    def _walk(self, folder: Path, rel: PurePosixPath) -> None:
        try:
            with os.scandir(folder) as listing:
                children = sorted(listing, key=lambda d: d.name)
        except OSError as exc:
            self.refused.append(Refusal(rel.as_posix() or ".", "entry-unsafe", f"cannot list folder ({type(exc).__name__})"))
            return
        for child in children:
            path = (rel / child.name).as_posix()
            try:
                info = child.stat(follow_symlinks=False)
            except OSError as exc:
                self.refused.append(Refusal(path, "entry-unsafe", f"cannot stat ({type(exc).__name__})"))
                continue
            if stat.S_ISLNK(info.st_mode):
                self.refused.append(Refusal(path, "entry-unsafe", "symbolic link (not followed)"))
            elif stat.S_ISDIR(info.st_mode):
                self._walk(Path(child.path), rel / child.name)
            elif stat.S_ISREG(info.st_mode):
                self.entries.append(Entry(path, info.st_size))
            else:
                self.refused.append(Refusal(path, "entry-unsafe", "not a regular file (device, FIFO or socket)"))

    def _path(self, entry: Entry) -> Path:
        return self.root.joinpath(*PurePosixPath(entry.path).parts)

    @contextmanager
    def _open(self, entry: Entry) -> Iterator[ByteStream]:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self._path(entry), flags)
        except OSError as exc:
            raise EntryError("entry-unsafe", f"cannot open ({type(exc).__name__})") from None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise EntryError("entry-unsafe", "not a regular file")
            yield handle

    @contextmanager
    def local_file(self, entry: Entry, name: str,
                   progress: Callable[[int], None] | None = None) -> Iterator[tuple[Path, Digest]]:
        path = self._path(entry)
        if path.is_symlink():  # replaced since the walk
            raise EntryError("entry-unsafe", "symbolic link (not followed)")
        yield path, self.digest(entry, progress)


# -- zip packages ---------------------------------------------------------------------------

_ALLOWED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_UTF8_FLAG = 0x800
_LOCAL_HEADER = 30


NameEncoding = Literal["utf-8", "ascii", "unicode-path", "cp932", "cp437", "filesystem"]
"""How an entry's name was read: ``utf-8`` (flag set, or valid UTF-8 with the flag clear, as
Info-ZIP ``zip`` on Linux writes it), ``ascii``, ``unicode-path`` (the Info-ZIP Unicode Path
extra field 0x7075), ``cp932`` (Japanese Windows), ``cp437`` (the zip default, last resort),
``filesystem`` (a directory package)."""

_UNICODE_PATH_EXTRA = 0x7075


@dataclass(frozen=True)
class EntryName:
    """A zip entry's name as read, the encoding that read it, and whether another reading
    was as plausible (``ambiguous``: the other reading, for the report)."""

    name: str
    encoding: NameEncoding
    ambiguous: str = ""


def _unicode_path(info: zipfile.ZipInfo, raw: bytes) -> str | None:
    """The Info-ZIP Unicode Path (extra field 0x7075) when present, version 1, and its CRC
    is that of the header's own name bytes (a stale field after a rename is ignored)."""
    extra, at = info.extra, 0
    while at + 4 <= len(extra):
        tag, size = int.from_bytes(extra[at:at + 2], "little"), int.from_bytes(extra[at + 2:at + 4], "little")
        body = extra[at + 4:at + 4 + size]
        at += 4 + size
        if tag != _UNICODE_PATH_EXTRA or len(body) < 5 or body[0] != 1:
            continue
        if int.from_bytes(body[1:5], "little") != zlib.crc32(raw):
            return None
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _plausible_cp932(text: str) -> bool:
    """Whether a CP932 reading looks like a Japanese name rather than UTF-8 bytes misread:
    UTF-8 read as CP932 is full of 半角カナ (its bytes 0xA1–0xDF) and rare kanji pairs."""
    return all(
        not ("\uff61" <= c <= "\uff9f") and unicodedata.category(c) not in ("Cc", "Co", "Cn") for c in text
    )


def entry_name(info: zipfile.ZipInfo) -> EntryName:
    """Read a zip entry's name: the UTF-8 flag, then strict UTF-8, then the Unicode Path extra
    field (0x7075), then CP932, then CP437 — the encoding that read it is recorded.

    A name that is valid UTF-8 *and* a plausible CP932 name with another meaning is
    ``ambiguous`` (UTF-8 is chosen; the report says so and ``--map`` settles it).

    >>> info = zipfile.ZipInfo("住民.csv".encode("utf-8").decode("cp437"))
    >>> entry_name(info)
    EntryName(name='住民.csv', encoding='utf-8', ambiguous='')
    >>> entry_name(zipfile.ZipInfo("住民.csv".encode("cp932").decode("cp437"))).encoding
    'cp932'
    """
    if info.flag_bits & _UTF8_FLAG:
        return EntryName(info.filename, "utf-8")
    raw = info.orig_filename.encode("cp437")
    if raw.isascii():
        return EntryName(info.filename, "ascii")
    try:
        as_utf8 = raw.decode("utf-8")
    except UnicodeDecodeError:
        as_utf8 = None
    unicode_path = _unicode_path(info, raw)
    try:
        as_cp932: str | None = raw.decode("cp932")
    except UnicodeDecodeError:
        as_cp932 = None
    if as_utf8 is not None:
        other = as_cp932 if as_cp932 is not None and as_cp932 != as_utf8 and _plausible_cp932(as_cp932) else ""
        if unicode_path is not None and unicode_path != as_utf8:
            other = unicode_path
        return EntryName(as_utf8, "utf-8", other)
    if unicode_path is not None:
        return EntryName(unicode_path, "unicode-path")
    if as_cp932 is not None:
        return EntryName(as_cp932, "cp932")
    return EntryName(raw.decode("cp437"), "cp437")


def display_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as :func:`entry_name` reads it."""
    return entry_name(info).name


def unsafe_name(name: str) -> str | None:
    """Why a zip entry name is unsafe to use as a path, or ``None`` if it is safe.

    >>> unsafe_name("../etc/passwd"), unsafe_name("/abs"), unsafe_name("data/x.csv")
    ('path leaves the package (..)', 'absolute path', None)
    """
    if not name:
        return "empty name"
    if "\x00" in name:
        return "NUL in name"
    if "\\" in name:
        return "backslash in name"
    if name.startswith("/"):
        return "absolute path"
    if len(name) >= 2 and name[1] == ":" and name[0].isalpha():
        return "drive letter (absolute path)"
    if ".." in PurePosixPath(name).parts:
        return "path leaves the package (..)"
    if any(ord(c) < 0x20 for c in name):
        return "control character in name"
    return None


class _LimitedReader:
    """A zip member stream that stops at the package's limits on the bytes inflated."""

    def __init__(self, raw: IO[bytes], entry: Entry, limits: Limits, spent: list[int],
                 counted: dict[int, int] | None = None) -> None:
        self._raw = raw
        self._entry = entry
        self._limits = limits
        self._spent = spent  # one shared counter: inflated bytes of the whole package
        # bytes of each entry already in the counter: reading an entry again (its head to
        # recognise it, then all of it) does not count its bytes twice
        self._counted = counted if counted is not None else {}
        self.count = 0

    def read(self, size: int = CHUNK) -> bytes:
        try:
            chunk = self._raw.read(size)
        except zipfile.BadZipFile as exc:
            raise EntryError("entry-unsafe", f"corrupt member ({exc})") from None
        except (EOFError, OSError, ValueError) as exc:
            raise EntryError("entry-unsafe", f"corrupt member ({type(exc).__name__})") from None
        self.count += len(chunk)
        before = self._counted.get(self._entry.index, 0)
        if self.count > before:
            self._spent[0] += self.count - before
            self._counted[self._entry.index] = self.count
        limits, entry = self._limits, self._entry
        if self.count > entry.size:
            raise EntryError("zip-bomb", f"inflates beyond its declared {entry.size} bytes")
        if self.count > limits.max_entry_bytes:
            raise EntryError("zip-bomb", f"inflates beyond the entry limit of {limits.max_entry_bytes} bytes")
        if self._spent[0] > limits.max_total_bytes:
            raise EntryError("zip-bomb", f"the package inflates beyond the total limit of {limits.max_total_bytes} bytes")
        if (
            entry.compressed is not None
            and self.count > limits.ratio_floor
            and self.count > limits.max_ratio * max(entry.compressed, 1)
        ):
            raise EntryError("zip-bomb", f"inflates more than {limits.max_ratio:g}× its compressed size")
        return chunk


class ZipPackage(Package):
    """A zip archive, read member by member as streams."""

    kind = "zip"

    def __init__(self, source: Path, limits: Limits, work_root: Path | None = None) -> None:
        super().__init__(source)
        self.limits = limits
        self._work_root = work_root
        self._work: Path | None = None
        self._spent = [0]
        self._counted: dict[int, int] = {}
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise InputError(str(source), f"not a readable zip archive ({exc})") from None
        try:
            self._infos: dict[int, zipfile.ZipInfo] = {}
            self._scan()
        except BaseException:
            self._zip.close()
            raise

    def _scan(self) -> None:
        infos = self._zip.infolist()
        if len(infos) > self.limits.max_entries:
            raise InputError(
                str(self.source), f"holds {len(infos)} entries, more than the limit of {self.limits.max_entries}"
            )
        read = [entry_name(i) for i in infos]
        names = [r.name for r in read]
        files = [(n, i, name) for n, (i, name) in enumerate(zip(infos, names, strict=True)) if not name.endswith("/")]
        safe = [name for _, _, name in files if unsafe_name(name) is None]
        tops = {name.split("/", 1)[0] for name in safe}
        if safe and len(tops) == 1 and all("/" in name for name in safe):
            self.root_prefix = tops.pop() + "/"
        overlapping = self._overlaps(infos)
        seen: dict[str, int] = {}
        for _, _, name in files:
            seen[name] = seen.get(name, 0) + 1
        declared_total = 0
        for n, (info, name) in enumerate(zip(infos, names, strict=True)):
            reason = unsafe_name(name)
            shown = name[len(self.root_prefix):] if self.root_prefix and name.startswith(self.root_prefix) else name
            mode = info.external_attr >> 16
            if reason is not None:
                self.refused.append(Refusal(shown or name, "entry-unsafe", reason))
                continue
            if name.endswith("/"):
                continue
            file_type = stat.S_IFMT(mode) if info.create_system == 3 else 0  # 0: type not recorded
            if file_type == stat.S_IFLNK:
                self.refused.append(Refusal(shown, "entry-unsafe", "symbolic link (not followed)"))
            elif file_type not in (0, stat.S_IFREG):
                self.refused.append(Refusal(shown, "entry-unsafe", "not a regular file"))
            elif info.flag_bits & 0x1:
                self.refused.append(Refusal(shown, "entry-unsafe", "encrypted"))
            elif info.compress_type not in _ALLOWED_METHODS:
                self.refused.append(Refusal(
                    shown, "entry-unsafe", f"compression method {info.compress_type} (only stored and deflate are read)"
                ))
            elif seen[name] > 1:
                self.refused.append(Refusal(shown, "entry-unsafe", f"the name appears {seen[name]} times"))
            elif n in overlapping:
                self.refused.append(Refusal(shown, "zip-bomb", "its data overlaps another entry"))
            elif info.file_size > self.limits.max_entry_bytes:
                self.refused.append(Refusal(
                    shown, "zip-bomb", f"declares {info.file_size} bytes, more than the entry limit of {self.limits.max_entry_bytes}"
                ))
            elif (
                info.file_size > self.limits.ratio_floor
                and info.file_size > self.limits.max_ratio * max(info.compress_size, 1)
            ):
                ratio = info.file_size / max(info.compress_size, 1)
                self.refused.append(Refusal(
                    shown, "zip-bomb", f"declares a compression ratio of {ratio:.0f}× (limit {self.limits.max_ratio:g}×)"
                ))
            elif declared_total + info.file_size > self.limits.max_total_bytes:
                self.refused.append(Refusal(
                    shown, "zip-bomb", f"the package would inflate beyond the total limit of {self.limits.max_total_bytes} bytes"
                ))
            else:
                declared_total += info.file_size
                self._infos[n] = info
                self.entries.append(Entry(shown, info.file_size, info.compress_size, n, read[n].encoding))
                if read[n].ambiguous:
                    self.ambiguous_names[shown] = read[n].ambiguous
        self.entries.sort(key=lambda e: e.path)
        self.refused.sort(key=lambda r: (r.path, r.detail))

    def _overlaps(self, infos: list[zipfile.ZipInfo]) -> set[int]:
        """Indexes of entries whose local header + data run into the next entry (or the central directory)."""
        order = sorted(range(len(infos)), key=lambda n: infos[n].header_offset)
        end_of_data = getattr(self._zip, "start_dir", None)
        bad: set[int] = set()
        for position, n in enumerate(order):
            info = infos[n]
            raw_name = info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8_FLAG else "cp437", "replace")
            reach = info.header_offset + _LOCAL_HEADER + len(raw_name) + info.compress_size
            limit = infos[order[position + 1]].header_offset if position + 1 < len(order) else end_of_data
            if limit is not None and reach > limit:
                bad.add(n)
                if position + 1 < len(order):
                    bad.add(order[position + 1])
        return bad

    def close(self) -> None:
        self._zip.close()
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None

    @property
    def work_dir(self) -> Path:
        """The private temporary directory copies of members go to (created on first use)."""
        if self._work is None:
            if self._work_root is not None:
                self._work_root.mkdir(parents=True, exist_ok=True)
            self._work = Path(tempfile.mkdtemp(prefix="mig-audit-", dir=self._work_root))
        return self._work

    @contextmanager
    def _open(self, entry: Entry) -> Iterator[ByteStream]:
        info = self._infos[entry.index]
        try:
            raw = self._zip.open(info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, ValueError) as exc:
            raise EntryError("entry-unsafe", f"cannot open member ({exc})") from None
        with raw:
            yield _LimitedReader(raw, entry, self.limits, self._spent, self._counted)

    @contextmanager
    def local_file(self, entry: Entry, name: str,
                   progress: Callable[[int], None] | None = None) -> Iterator[tuple[Path, Digest]]:
        folder = self.work_dir / f"{entry.index:06d}"
        folder.mkdir()
        target = folder / name
        try:
            hasher = _Hasher()
            with self._open(entry) as stream, target.open("xb") as out:
                while chunk := stream.read(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    if progress is not None:
                        progress(hasher.size)
            yield target, hasher.result()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def open_package(source: Path, limits: Limits | None = None, work_root: Path | None = None) -> Package:
    """Open ``source`` (a directory or a zip file) as a :class:`Package`.

    A missing path or anything else raises :class:`~mig.errors.InputError`.
    """
    if not source.exists():
        raise InputError(str(source), "no such file or directory")
    if source.is_dir():
        return DirectoryPackage(source)
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise InputError(str(source), "not a directory or a zip archive")
        return ZipPackage(source, limits or Limits(), work_root)
    raise InputError(str(source), "not a directory or a zip archive")
