"""Site overlays: a few codes of a charset decoded (and encoded) differently for one run.

Real installations differ from the published tables (JEF sites with 篭/籠 swapped, KEIS
sites writing the full-width space as 0x4040). An overlay is a small CSV file, kept with
the mapping and named from its ``[source]`` (``overlay = "site-jef.csv"``), with the
columns::

    charset,code,unicode,note,decided_by,decided_at
    jef,B3E7,U+7C60,"FACOM output of 2024-05: 0xB3E7 prints 籠",tanaka,2025-04-01

``charset``
    a charset of :data:`mig.codecs.CHARSETS` (``jef-ebcdik``) or a family — ``jef``,
    ``keis``, ``keis78``, ``keis83``, ``jips``, ``ibm`` — meaning each of its charsets
    (:func:`family_members`).
``code``
    hex, as the bytes stand in the file: two digits for a single byte (``40``), four for a
    double-byte code (``B3E7``), inside the range of the charset's tables.
``unicode``
    what the code decodes to: ``U+7C60``, or a base and a selector ``U+8FBB U+E0101``;
    assigned characters only (no surrogate, noncharacter or unassigned code point).
``note``, ``decided_by``, ``decided_at``
    the evidence: why, who, when (ISO date) — required, the overlay is a decision record.

One row per (charset, code). An overlay overrides or adds entries: the code decodes to
the given text, and that text encodes to the code. The run records the file's sha256 in
its manifest (``codec_overlay``). ``mig codecs show`` / ``mig codecs diff`` show the effect.

Bad overlays stop the run before any data is read with a one-line error naming the file,
the line and the rule (exit 2).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "o.csv").write_text(
...     "charset,code,unicode,note,decided_by,decided_at\\n"
...     "jef,B3E7,U+7C60,site prints 籠,tanaka,2025-04-01\\n", encoding="utf-8")
>>> overlay = load_overlay(folder / "o.csv")
>>> overlay.rows_for("jef-ebcdik")
{(2, 46055): '籠'}
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from mig.errors import ConfigError, UnknownNameError
from mig.i18n import text

__all__ = ["COLUMNS", "OVERLAY_KEY", "VARIANT_KEY", "active_variant", "check_variant", "Overlay", "OverlayRow", "active_overlay", "load_overlay", "overlay_scope"]

VARIANT_KEY = "codec_variant"
"""The ``[source]`` key choosing the codecs' variant form for a run (``"compat"``: CJK
compatibility ideographs where the table gives them); applied by mig like the overlay."""

OVERLAY_KEY = "overlay"
"""The ``[source]`` key (of a mapping or a ``[[files]]``) naming the overlay file, relative
to the mapping; mig applies it, the adapter never sees it."""

COLUMNS: tuple[str, ...] = ("charset", "code", "unicode", "note", "decided_by", "decided_at")
"""The columns of an overlay file, in this order."""

_CODE_RE = re.compile(r"^(?:0x)?([0-9A-Fa-f]{2}|[0-9A-Fa-f]{4})$")
_CP_RE = re.compile(r"^U\+([0-9A-Fa-f]{4,6})$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_MAX_BYTES = 4 * 1024 * 1024


_FAMILY_PREFIXES: dict[str, str] = {
    "jef": "jef-", "keis": "keis", "keis78": "keis78-", "keis83": "keis83-", "jips": "jips-", "ibm": "ibm-",
}


def family_members(name: str) -> tuple[str, ...]:
    """The charsets an overlay row for ``name`` applies to: the charset itself, or each
    charset of a family.

    >>> family_members("keis")
    ('keis78-ebcdic', 'keis78-ebcdik', 'keis83-ebcdic', 'keis83-ebcdik')
    >>> family_members("jef-ebcdik")
    ('jef-ebcdik',)
    """
    from mig.codecs.decoders import CHARSETS

    prefix = _FAMILY_PREFIXES.get(name)
    if prefix is None:
        return (name,) if name in CHARSETS else ()
    return tuple(c for c in CHARSETS if c.startswith(prefix))


@dataclass(frozen=True)
class OverlayRow:
    """One decision: ``code`` of ``charset`` decodes to ``text``."""

    line: int
    charset: str
    width: int  # 1: single-byte code, 2: double-byte code
    code: int
    text: str
    note: str
    decided_by: str
    decided_at: str

    def applies_to(self, charset: str) -> bool:
        """Whether the row is for ``charset`` (by name or by family)."""
        return charset in family_members(self.charset)


@dataclass(frozen=True)
class Overlay:
    """A loaded, checked overlay file."""

    path: str  # the file's name as given
    sha256: str
    rows: tuple[OverlayRow, ...]

    def rows_for(self, charset: str) -> dict[tuple[int, int], str]:
        """(width, code) → text of the rows that apply to ``charset``."""
        return {(r.width, r.code): r.text for r in self.rows if r.applies_to(charset)}

    def key(self, charset: str) -> tuple[tuple[int, int, str], ...]:
        """A hashable, ordered form of :meth:`rows_for` (the codec cache key)."""
        return tuple(sorted((w, c, t) for (w, c), t in self.rows_for(charset).items()))


def _fail(path: Path, line: int, key: str, **params: str | int) -> ConfigError:
    rule = text(f"codecs.{key}", None, **params)
    return ConfigError(text("codecs.overlay-error", file=path.name, line=line, rule=rule))


def _check_text(path: Path, line: int, raw: str) -> str:
    parts = raw.split()
    if not 1 <= len(parts) <= 2:
        raise _fail(path, line, "overlay-unicode-form", value=raw[:40])
    chars = []
    for part in parts:
        match = _CP_RE.match(part)
        if not match:
            raise _fail(path, line, "overlay-unicode-form", value=part[:40])
        cp = int(match.group(1), 16)
        noncharacter = 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE
        if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF or noncharacter or unicodedata.category(chr(cp)) == "Cn":
            raise _fail(path, line, "overlay-not-a-character", value=part)
        chars.append(chr(cp))
    return "".join(chars)


def load_overlay(path: Path) -> Overlay:
    """Read and check an overlay file (see the module docstring); :class:`ConfigError` if bad."""
    from mig.codecs.decoders import CHARSETS, code_range

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(text("codecs.overlay-unreadable", file=path.name, reason=exc.strerror or "")) from None
    if len(data) > _MAX_BYTES:
        raise _fail(path, 1, "overlay-too-large", limit=_MAX_BYTES // (1024 * 1024))
    try:
        body = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(path, body_line(data, exc.start), "overlay-not-utf8") from None
    reader = csv.reader(io.StringIO(body, newline=""))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise _fail(path, 1, "overlay-header", columns=",".join(COLUMNS))
    known = (*CHARSETS, *_FAMILY_PREFIXES)
    rows: list[OverlayRow] = []
    seen: dict[tuple[str, int, int], int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(COLUMNS):
            raise _fail(path, line, "overlay-fields", expected=len(COLUMNS), found=len(values))
        charset, code_raw, unicode, note, decided_by, decided_at = (v.strip() for v in values)
        charset = charset.lower()
        if charset not in known:
            raise ConfigError(
                text("codecs.overlay-error", file=path.name, line=line, rule=str(UnknownNameError("charset", charset[:40], known)))
            )
        match = _CODE_RE.match(code_raw)
        if not match:
            raise _fail(path, line, "overlay-code-form", value=code_raw[:40])
        digits = match.group(1)
        width = len(digits) // 2
        code = int(digits, 16)
        for member in family_members(charset):
            lead_lo, lead_hi, trail_lo, trail_hi = code_range(member, width)
            lead, trail = (code >> 8, code & 0xFF) if width == 2 else (code, code)
            if not (lead_lo <= lead <= lead_hi and trail_lo <= trail <= trail_hi):
                low = f"{lead_lo:02X}{trail_lo:02X}" if width == 2 else f"{lead_lo:02X}"
                high = f"{lead_hi:02X}{trail_hi:02X}" if width == 2 else f"{lead_hi:02X}"
                raise _fail(path, line, "overlay-code-range", code=digits.upper(), charset=member, low=low, high=high)
        chars = _check_text(path, line, unicode)
        if width == 1 and len(chars) != 1:
            raise _fail(path, line, "overlay-single-byte-one", code=digits.upper())
        if not note or not decided_by or not _DATE_RE.match(decided_at):
            raise _fail(path, line, "overlay-evidence")
        for member in family_members(charset):
            previous = seen.get((member, width, code))
            if previous is not None:
                raise _fail(path, line, "overlay-duplicate", code=digits.upper(), charset=member, first=previous)
            seen[(member, width, code)] = line
        rows.append(OverlayRow(line, charset, width, code, chars, note, decided_by, decided_at))
    return Overlay(path.name, hashlib.sha256(data).hexdigest(), tuple(rows))


def body_line(data: bytes, offset: int) -> int:
    """The 1-based line of byte ``offset`` of ``data``.

    >>> body_line(b"a\\nb\\nc", 4)
    3
    """
    return data.count(b"\n", 0, offset) + 1


def check_variant(value: object) -> str | None:
    """``value`` if it names a variant form of :mod:`mig.codecs.luts` (or is None); else a
    :class:`ConfigError`.

    >>> check_variant("compat"), check_variant(None)
    ('compat', None)
    """
    from mig.codecs.luts import VARIANTS

    if value is not None and value not in VARIANTS:
        raise ConfigError(f"[source] {VARIANT_KEY} must be one of {', '.join(VARIANTS)}, not {str(value)[:40]!r}")
    return None if value is None else str(value)


_ACTIVE: ContextVar[tuple[Overlay | None, str | None]] = ContextVar("mig_codec_settings", default=(None, None))


def active_overlay() -> Overlay | None:
    """The overlay of the current run (set by :func:`overlay_scope`), if any."""
    return _ACTIVE.get()[0]


def active_variant() -> str | None:
    """The variant form of the current run (``[source] codec_variant``), if one was set."""
    return _ACTIVE.get()[1]


@contextmanager
def overlay_scope(overlay: Overlay | None, variant: str | None = None) -> Iterator[None]:
    """Within the block, :func:`mig.codecs.get_codec` applies ``overlay`` to the charsets it
    names, and ``variant`` (e.g. ``"compat"``) when the caller names none — so an adapter
    needs no option of its own to honour a mapping's overlay or variant."""
    token = _ACTIVE.set((overlay, variant))
    try:
        yield
    finally:
        _ACTIVE.reset(token)
