"""What a code decodes to, and what a site overlay changes: ``mig codecs show`` / ``diff``.

>>> show_code("jef-ebcdik", "B7C3")["decodes_to"]
'U+6075'
>>> [e["unicode"] for e in show_code("jef-ebcdik", "B7C3")["entries"]]
['U+6075', 'U+FA6B']
"""

from __future__ import annotations

import re
from typing import Any

from mig.codecs.decoders import CHARSETS, SPECS, code_range, get_codec
from mig.codecs.luts import flag_bits, table_entries
from mig.codecs.overlay import Overlay, family_members
from mig.errors import ConfigError, UnknownNameError

__all__ = ["codepoints", "overlay_diff", "parse_code", "show_code"]

_CODE_RE = re.compile(r"^(?:0x)?([0-9A-Fa-f]{2}|[0-9A-Fa-f]{4})$")


def codepoints(text: str | None) -> str | None:
    """``"U+6075"``, or ``"U+8FBB U+E0101"`` for a sequence; None stays None.

    >>> codepoints("辻\\U000e0101")
    'U+8FBB U+E0101'
    """
    return None if text is None else " ".join(f"U+{ord(c):04X}" for c in text)


def parse_code(charset: str, code: str) -> tuple[int, int]:
    """(width, code) of a hex code of ``charset``: two digits a single byte, four a pair;
    a code outside the charset's range is a :class:`ConfigError`.

    >>> parse_code("jef-ebcdik", "0xB7C3")
    (2, 47043)
    """
    if charset not in CHARSETS:
        raise UnknownNameError("charset", charset, CHARSETS)
    match = _CODE_RE.match(code.strip())
    if not match:
        raise ConfigError(f"code {code[:20]!r} must be 2 (single byte) or 4 (double byte) hex digits")
    digits = match.group(1)
    width, value = len(digits) // 2, int(digits, 16)
    lead_lo, lead_hi, trail_lo, trail_hi = code_range(charset, width)
    lead, trail = (value >> 8, value & 0xFF) if width == 2 else (value, value)
    if not (lead_lo <= lead <= lead_hi and trail_lo <= trail <= trail_hi):
        raise ConfigError(f"code {digits.upper()} is outside the range of {charset}")
    return width, value


def _table_code(charset: str, width: int, code: int) -> tuple[str, int]:
    """The packaged table and its code for a code as it stands in a file of ``charset``."""
    spec = SPECS[charset]
    if width == 1:
        return spec.sbcs, code
    if spec.byte_map is None:
        return spec.dbcs, code
    back = {ord(str(e["unicode"])): int(e["code"]) for e in table_entries(spec.byte_map)}  # type: ignore[call-overload]
    return spec.dbcs, back[code >> 8] << 8 | back[code & 0xFF]


def _decode(charset: str, width: int, code: int, **kw: Any) -> str | None:
    codec = get_codec(charset, **kw)
    if width == 1:
        text = codec.sbcs.texts[code]
    else:
        text = codec.dbcs.texts.get(code)
    return text


def show_code(charset: str, code: str, overlay: Overlay | None = None) -> dict[str, Any]:
    """Everything about one code: the table's entries (with their options), what it decodes
    to by default, with variant ``compat``, and with ``overlay``."""
    width, value = parse_code(charset, code)
    table, table_code = _table_code(charset, width, value)
    names = {bit: name for name, bit in flag_bits().items()}
    entries = [
        {
            "unicode": codepoints(None if e["unicode"] is None else str(e["unicode"])),
            "hd": codepoints(None if e["hd"] is None else str(e["hd"])),
            "aj1": codepoints(None if e["aj1"] is None else str(e["aj1"])),
            "options": [n for bit, n in sorted(names.items()) if int(e["flags"]) & bit],  # type: ignore[call-overload]
        }
        for e in table_entries(table)
        if int(e["code"]) == table_code  # type: ignore[call-overload]
    ]
    default = _decode(charset, width, value)
    result: dict[str, Any] = {
        "charset": charset,
        "code": f"{value:0{2 * width}X}",
        "table": table,
        "entries": entries,
        "decodes_to": codepoints(default),
        "text": default,
        "compat": codepoints(_decode(charset, width, value, variant="compat")),
        "gaiji": default is not None and not entries and width == 2,
    }
    if overlay is not None:
        result["overlay"] = {"path": overlay.path, "sha256": overlay.sha256,
                             "decodes_to": codepoints(_decode(charset, width, value, overlay=overlay))}
    return result


def overlay_diff(charset: str, overlay: Overlay) -> list[dict[str, Any]]:
    """Every code of ``charset`` whose decode the overlay changes (added codes included),
    with the overlay row's evidence, sorted by code."""
    if charset not in CHARSETS:
        raise UnknownNameError("charset", charset, CHARSETS)
    rows = [r for r in overlay.rows if charset in family_members(r.charset)]
    out: list[dict[str, Any]] = []
    for row in sorted(rows, key=lambda r: (r.width, r.code)):
        before = _decode(charset, row.width, row.code)
        after = _decode(charset, row.width, row.code, overlay=overlay)
        if before != after:
            out.append({
                "code": f"{row.code:0{2 * row.width}X}", "before": codepoints(before), "after": codepoints(after),
                "before_text": before, "after_text": after, "line": row.line, "note": row.note,
                "decided_by": row.decided_by, "decided_at": row.decided_at,
            })
    return out
