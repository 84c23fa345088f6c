"""Per-source 外字 registries: vendor code → MJ文字図形名 / Unicode text, with provenance.

A registry file is UTF-8 CSV (a BOM is tolerated) with exactly these columns, in any
order (format also in ``gaiji/README.md``)::

    source,code,mj,text,status,decided_by,decided_at,evidence
    demo-vendor-cp932,U+E003,MJ026199,,confirmed,山田 (戸籍係),2025-04-01,戸籍の記載と照合

- ``source``: the source system / charset the code belongs to (``demo-vendor-cp932``,
  ``jef``, …): letters, digits, ``.``, ``_``, ``-``.
- ``code``: the character as the source holds it — a code point ``U+E000`` (the Private
  Use character a CSV export or a mainframe codec decodes the 外字 to) or a raw vendor
  code ``0x80A1``. Written upper-case.
- ``mj``: the MJ文字図形名 it stands for (must exist in the MJ table), or empty.
- ``text``: the text it stands for, as characters or as ``U+`` notation
  (``U+908A U+E010F``). Empty when ``mj`` is given: then it is the MJ character's text
  (:func:`mig.gaiji.mj.mj_text`, its IVS when it has one). When both are given, ``text``
  must be one of that MJ character's forms (IVS, SVS or UCS).
- ``status``: ``confirmed`` (used by the resolver), ``proposed`` (a candidate, e.g.
  from the glyph matcher; never used to resolve) or ``own`` (not in MJ: the
  municipality's own character, kept as its Private Use character with its glyph — ``mj``
  and ``text`` empty, the glyph and why in ``evidence``; never used to resolve, so it is
  never silently mapped; a confirmed entry for the same code supersedes it).
- ``decided_by``, ``decided_at`` (ISO 8601 date or date-time), ``evidence`` (free text):
  provenance. ``decided_by`` and ``decided_at`` are required for a confirmed entry.

Rules: at most one confirmed meaning per (source, code) — two confirmed rows that give
different texts are an error naming both; identical confirmed rows collapse to the first;
a confirmed entry supersedes proposed entries for the same code; proposed entries with
different texts coexist (they are candidates). Files are written sorted (source, code,
status, mj, text) so the same registry always gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from mig.charsets import is_private_use
from mig.errors import ConfigError
from mig.fs import write_text
from mig.gaiji.mj import (
    MalformedCodeError,
    UnknownCharacterError,
    codepoints,
    mj_table,
    mj_text,
    normalise_mj_name,
    parse_codepoints,
    shown,
)

__all__ = [
    "COLUMNS",
    "OWN",
    "STATUSES",
    "Registry",
    "RegistryEntry",
    "RegistryError",
    "Status",
    "load_registries",
    "load_registry",
    "make_entry",
    "normalise_code",
    "write_registry",
]

Status = Literal["confirmed", "proposed", "own"]
STATUSES: tuple[str, ...] = ("confirmed", "proposed", "own")
OWN = "own"
"""Status of a character that is not in MJ: kept as Private Use, with its glyph."""
COLUMNS: tuple[str, ...] = (
    "source", "code", "mj", "text", "status", "decided_by", "decided_at", "evidence",
)

MAX_REGISTRY_BYTES = 256 * 1024 * 1024
"""A registry file larger than this is refused unread (a large one is a few MiB)."""

_SOURCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_UCODE_RE = re.compile(r"^U\+([0-9A-F]{4,6})$", re.IGNORECASE)
_VENDOR_RE = re.compile(r"^0X([0-9A-F]{2,8})$", re.IGNORECASE)


class RegistryError(ConfigError):
    """A registry file or entry that breaks the format or the merge rules (exit code 2)."""


@dataclass(frozen=True)
class RegistryEntry:
    """One decision: ``code`` of ``source`` stands for ``text`` (MJ ``mj`` if known).

    ``origin`` (``"file.csv:12"``) says where the entry was read; it is not part of the
    entry's identity and is not written.
    """

    source: str
    code: str
    mj: str | None
    text: str
    status: Status
    decided_by: str
    decided_at: str
    evidence: str
    origin: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.code)

    def describe(self) -> str:
        """A value-free one-liner: what it maps to, who decided, where it was read."""
        target = self.mj or codepoints(self.text)
        where = f" at {self.origin}" if self.origin else ""
        return f"{target} ({self.status} by {self.decided_by or '?'} {self.decided_at or '?'}{where})"


def normalise_code(code: str) -> str:
    """``u+e000`` → ``U+E000``, ``0x80a1`` → ``0x80A1``; anything else is malformed.

    >>> normalise_code("u+e003"), normalise_code("0x80a1")
    ('U+E003', '0x80A1')
    """
    stripped = code.strip()
    match = _UCODE_RE.match(stripped)
    if match:
        cp = int(match.group(1), 16)
        if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            raise MalformedCodeError(f"code {shown(code)} is not a Unicode scalar value")
        return f"U+{cp:04X}"
    match = _VENDOR_RE.match(stripped)
    if match:
        return "0x" + match.group(1).upper()
    raise MalformedCodeError(
        f"malformed code {shown(code)} (expected a code point U+E000 or a vendor code 0x80A1)"
    )


def _entry_order(entry: RegistryEntry) -> tuple[str, int, int, int, str, str, str]:
    """Sort key: source, code points before vendor codes, numeric code, status, mj, text."""
    is_vendor = entry.code.startswith("0x")
    return (
        entry.source,
        int(is_vendor),
        int(entry.code[2:], 16),
        STATUSES.index(entry.status),
        entry.mj or "",
        entry.text,
        entry.decided_at,
    )


def _combine(entries: Iterable[RegistryEntry]) -> tuple[RegistryEntry, ...]:
    """Apply the merge rules to ``entries`` (earlier entries win ties)."""
    confirmed: dict[tuple[str, str], RegistryEntry] = {}
    proposed: dict[tuple[str, str, str], RegistryEntry] = {}
    for entry in entries:
        if entry.status == "confirmed":
            earlier = confirmed.get(entry.key)
            if earlier is None:
                confirmed[entry.key] = entry
            elif earlier.text != entry.text:
                raise RegistryError(
                    f"registry conflict for {entry.source} {entry.code}: "
                    f"{earlier.describe()} vs {entry.describe()}"
                )
        else:
            proposed.setdefault((entry.source, entry.code, entry.text), entry)
    kept = list(confirmed.values()) + [
        e for (source, code, _), e in proposed.items() if (source, code) not in confirmed
    ]
    return tuple(sorted(kept, key=_entry_order))


@dataclass(frozen=True)
class Registry:
    """A set of registry entries: at most one confirmed entry per (source, code).

    Build one with :func:`load_registry`, :meth:`add` or :meth:`merge`; ``entries`` is
    always in the deterministic file order.

    >>> e = RegistryEntry("s", "U+E000", "MJ028902", "髙", "confirmed", "me", "2025-04-01", "")
    >>> Registry().add(e).for_source("s")
    {'U+E000': '髙'}
    """

    entries: tuple[RegistryEntry, ...] = ()

    def merge(self, other: Registry) -> Registry:
        """Union of two registries; conflicting confirmed entries raise :class:`RegistryError`
        naming both (their MJ names, deciders and origins)."""
        return Registry(_combine(self.entries + other.entries))

    def add(self, entry: RegistryEntry) -> Registry:
        """This registry with ``entry`` merged in (same rules as :meth:`merge`)."""
        return Registry(_combine(self.entries + (entry,)))

    def for_source(self, source: str) -> dict[str, str]:
        """Code → text for the confirmed entries of ``source`` (what the resolver uses)."""
        return {
            e.code: e.text for e in self.entries if e.source == source and e.status == "confirmed"
        }

    @property
    def sources(self) -> list[str]:
        """The sources the registry knows, sorted."""
        return sorted({e.source for e in self.entries})

    def confirmed(self, source: str, code: str) -> RegistryEntry | None:
        """The confirmed entry for ``code`` of ``source``, if any."""
        code = normalise_code(code)
        for entry in self.entries:
            if entry.key == (source, code) and entry.status == "confirmed":
                return entry
        return None


def make_entry(
    *,
    source: str,
    code: str,
    mj: str | None = None,
    text: str | None = None,
    status: str = "confirmed",
    decided_by: str = "",
    decided_at: str = "",
    evidence: str = "",
    origin: str = "",
) -> RegistryEntry:
    """A checked :class:`RegistryEntry` (the rules of the file format, one entry).

    Fills ``text`` from ``mj`` when it is empty; raises :class:`RegistryError` (or a
    :class:`~mig.gaiji.mj.MalformedCodeError` / :class:`~mig.gaiji.mj.UnknownCharacterError`)
    with ``origin`` in the message.

    >>> make_entry(source="s", code="u+e003", mj="MJ026199", decided_by="a", decided_at="2025-04-01").text
    '邊󠄏'
    """
    where = f"{origin}: " if origin else ""
    source = source.strip()
    if not _SOURCE_RE.match(source):
        raise RegistryError(f"{where}source {shown(source)} must be letters, digits, '.', '_' or '-'")
    try:
        code = normalise_code(code)
        mj_name = normalise_mj_name(mj) if mj and mj.strip() else None
        if mj_name is not None:
            try:
                canonical = mj_text(mj_name)
            except UnknownCharacterError:
                raise RegistryError(
                    f"{where}{source} {code} points to MJ文字図形名 {mj_name}, which is not in the MJ table"
                ) from None
        raw_text = (text or "").strip()
        if raw_text.upper().startswith("U+"):
            raw_text = parse_codepoints(raw_text)
    except (MalformedCodeError, UnknownCharacterError) as exc:
        raise type(exc)(f"{where}{exc}") from None
    if mj_name is not None:
        if not raw_text:
            raw_text = canonical
        else:
            forms = _mj_forms(mj_name)
            if raw_text not in forms:
                raise RegistryError(
                    f"{where}{source} {code}: text {codepoints(raw_text)} is not a form of {mj_name} "
                    f"({', '.join(codepoints(f) for f in forms)})"
                )
    if status == OWN and (mj_name is not None or raw_text):
        raise RegistryError(f"{where}{source} {code}: an own (not in MJ) entry has no mj and no text")
    if not raw_text and status != OWN:
        raise RegistryError(f"{where}{source} {code}: give an MJ文字図形名 or a text")
    if any(is_private_use(c) for c in raw_text):
        raise RegistryError(f"{where}{source} {code}: text must not hold Private Use characters")
    if status not in STATUSES:
        raise RegistryError(f"{where}status {shown(status)} must be one of {', '.join(STATUSES)}")
    decided_at = decided_at.strip()
    if decided_at:
        try:
            datetime.fromisoformat(decided_at) if "T" in decided_at or " " in decided_at else date.fromisoformat(decided_at)
        except ValueError:
            raise RegistryError(
                f"{where}decided_at {shown(decided_at)} is not an ISO 8601 date or date-time"
            ) from None
    if status == "confirmed" and not (decided_by.strip() and decided_at):
        raise RegistryError(f"{where}{source} {code}: a confirmed entry needs decided_by and decided_at")
    return RegistryEntry(
        source=source,
        code=code,
        mj=mj_name,
        text=raw_text,
        status=status,  # type: ignore[arg-type]
        decided_by=decided_by.strip(),
        decided_at=decided_at,
        evidence=evidence.strip(),
        origin=origin,
    )



def _mj_forms(mj_name: str) -> list[str]:
    row = mj_table().filter(mj_table()["mj"] == mj_name).row(0, named=True)
    return [row[c] for c in ("ivs", "svs", "ucs", "ucs_corresponding") if row[c]]


def load_registry(path: Path) -> Registry:
    """Read a registry file (format: this module's docstring and ``gaiji/README.md``).

    Every broken row — unknown column, malformed code, an MJ name the table lacks, two
    confirmed rows that disagree — raises one one-line :class:`~mig.errors.ConfigError`
    naming the file and line.
    """
    path = Path(path)
    try:
        if path.exists() and not path.is_file():
            raise RegistryError(f"{path}: not a registry: not a regular file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_REGISTRY_BYTES + 1)
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read registry: {exc.strerror}") from None
    if len(raw) > MAX_REGISTRY_BYTES:
        raise RegistryError(f"{path}: not a registry: larger than {MAX_REGISTRY_BYTES} bytes")
    # A path may name any file (``/etc/shadow``): what it holds is never echoed, only what
    # was expected and the shape of what was found.
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}: not a registry: not UTF-8 text (byte {exc.start})") from None
    if "\0" in text:
        raise RegistryError(f"{path}: not a registry: binary data (NUL bytes), expected UTF-8 CSV")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise RegistryError(f"{path}: empty registry (no header line)")
        header = [h.strip() for h in header]
        missing = [c for c in COLUMNS if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        if missing or unknown or len(set(header)) != len(header):
            raise RegistryError(
                f"{path}: not a registry: the first line must be the header {','.join(COLUMNS)}; "
                f"found {len(header)} field(s)"
                + (", none of them a registry column" if len(missing) == len(COLUMNS)
                   else f", missing {', '.join(missing)}" if missing else "")
                + (f", {len(unknown)} unknown" if unknown and len(missing) < len(COLUMNS) else "")
                + (", a name twice" if len(set(header)) != len(header) else "")
            )
        return Registry(_combine(_entries(path, header, reader)))
    except csv.Error:
        raise RegistryError(
            f"{path}: not a registry: line {reader.line_num} is not CSV the registry format allows "
            "(a field over the size limit or a stray quote)"
        ) from None


def _entries(path: Path, header: list[str], reader: Iterator[list[str]]) -> list[RegistryEntry]:
    entries: list[RegistryEntry] = []
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise RegistryError(f"{path}:{line_no}: {len(row)} fields; the header has {len(header)}")
        values = dict(zip(header, row, strict=True))
        entries.append(
            make_entry(
                source=values["source"],
                code=values["code"],
                mj=values["mj"],
                text=values["text"],
                status=values["status"].strip(),
                decided_by=values["decided_by"],
                decided_at=values["decided_at"],
                evidence=values["evidence"],
                origin=f"{path.name}:{line_no}",
            )
        )
    return entries


def load_registries(paths: Iterable[Path]) -> Registry:
    """Several registry files merged in order (conflicts between them raise)."""
    registry = Registry()
    for path in paths:
        registry = registry.merge(load_registry(path))
    return registry


def write_registry(registry: Registry, path: Path) -> None:
    """Write ``registry`` to ``path`` atomically (temporary file + rename), sorted.

    The same registry always gives the same bytes: UTF-8 without BOM, ``\\n`` line ends,
    the header of :data:`COLUMNS`, ``text`` as characters.
    """
    path = Path(path)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in sorted(registry.entries, key=_entry_order):
        writer.writerow(
            [e.source, e.code, e.mj or "", e.text, e.status, e.decided_by, e.decided_at, e.evidence]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, buffer.getvalue())
