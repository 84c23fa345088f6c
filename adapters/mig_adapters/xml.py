"""The XML adapter: package exports as XML, one record per element selected by a path.

Mapping (``[source]``, a ``[[files]]``'s own ``source`` table merged over it)::

    adapter = "xml"
    [source]
    namespaces = { j = "urn:example:juki" }
    record = "/j:移行データ/j:世帯一覧/j:世帯"     # absolute path of element names
    [source.columns]                             # column = XPath relative to the record
    SETAI_NO = "@番号"
    NUSHI_SHIMEI = "j:世帯主/j:氏名"              # string of the first match, "" when absent

How a batch is read. The file is read in windows of ``batch_bytes``. Each window's raw
bytes are scanned with NumPy for markup: every ``<`` outside comments, CDATA sections and
processing instructions (found with one regular expression, in C) starts a tag — ``<``
can be neither a trail byte of CP932 / EUC-JP / UTF-8 nor a literal in text or an
attribute value. A cumulative sum over the tags gives the depth at every tag, so the
record elements (depth of the record path, matching local name) and their matching end
tags — their exact byte spans — come out of array operations. The window is cut after
the last complete record, decoded with the same codecs as the CSV adapter (CP932 user-
defined 外字 → Private Use U+E000…) and fed to an ``lxml`` pull parser, which checks
well-formedness, resolves namespaces and confirms which candidate elements the record
path selects. One XSLT pass over the tree (which holds only this window's records and their
open ancestors) evaluates every record's column XPaths into one text, split into columns
by Polars; then the records are removed from the tree. Memory holds one window, the open
ancestors and one batch of values, whatever the file size.

Safe by default: the parser never loads a DTD, resolves entities or touches the network
(``load_dtd``, ``resolve_entities``, ``no_network``; ``huge_tree`` off), and a document
with anything in its DOCTYPE beyond the root name (an internal subset, entities, an
external identifier) is refused before it reaches the parser. ``max_depth`` bounds the
element depth and ``max_record_bytes`` bounds a record, and any text between records,
while the file is still being read.

A malformed document (an unclosed tag mid-file, a wrong encoding) stops the run with the
file, line and rule: mig's run directory is written atomically, so nothing half-written
remains. UTF-16 files are transcoded to UTF-8 as they are read; offsets and raw bytes are
then those of the UTF-8 text, as in the CSV adapter.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
from lxml import etree

from mig.errors import ConfigError, InputError, UnknownNameError
from mig.plugin import (
    RECORD_SCHEMA,
    Coverage,
    Int,
    MapOf,
    OptionsSchema,
    SourceBatch,
    Str,
    empty_rejects,
)
from mig_adapters.csv import ENCODINGS, read_blocks

Positions = npt.NDArray[np.int64]

#: The ``[source]`` options of this adapter and their types.
OPTIONS = OptionsSchema("xml", {
    "record": Str(nonempty=True),  # absolute path of the record element: /a:x/a:y/a:z
    "namespaces": MapOf(Str()),  # prefix → namespace URI, for record and columns
    "columns": MapOf(Str()),  # column name → XPath relative to the record element
    "encoding": Str(),  # overrides the XML declaration (a file that declares it wrong)
    "max_depth": Int(minimum=1),
    "max_record_bytes": Int(minimum=1),
})
DEFAULT_MAX_DEPTH = 100
DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024
_HEAD_BYTES = 1024
_LT, _GT, _SLASH, _DQ, _SQ, _COLON = 0x3C, 0x3E, 0x2F, 0x22, 0x27, 0x3A
#: Comments, CDATA sections, processing instructions and declarations: no tags inside.
_SPECIAL = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!(?!--|\[CDATA\[)[^>]*>", re.S)
_OPENER = re.compile(rb"<!--|<!\[CDATA\[|<\?|<!")
#: The only DOCTYPE accepted: the root element's name and nothing else.
_PLAIN_DOCTYPE = re.compile(rb"<!DOCTYPE\s+[^\s>\[]+\s*>")
#: A whole start tag, quotes respected (used only where a quoted value holds '>' or the
#: other quote character).
_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
#: An ``&`` that is not one of XML's five predefined entities or a character reference:
#: with no DTD, an undeclared entity (libxml2's push parser lets some pass unreported).
_BAD_REFERENCE = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)")
_DECLARED = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_QNAME = re.compile(r"^(?:([^\W\d][\w.-]*):)?([^\W\d][\w.-]*)$")


@dataclass(frozen=True)
class XmlOptions:
    record: tuple[str, ...]  # Clark names of the record path's steps, root first
    record_text: str
    namespaces: dict[str, str]
    columns: dict[str, str]
    encoding: str | None
    max_depth: int
    max_record_bytes: int

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> XmlOptions:
        OPTIONS.check(options)
        namespaces = {str(k): str(v) for k, v in (options.get("namespaces") or {}).items()}
        for prefix in namespaces:
            match = _QNAME.match(prefix)
            if match is None or match.group(1) is not None or prefix == "migxsl":
                raise ConfigError(
                    f"xml adapter: namespaces: {prefix!r} is not a usable prefix (a name such as j; "
                    "an unprefixed step matches elements in no namespace)"
                )
        record_text = options.get("record")
        if not record_text:
            raise ConfigError('xml adapter: give the record element path, e.g. record = "/export/list/item"')
        columns = {str(k): str(v) for k, v in (options.get("columns") or {}).items()}
        if not columns:
            raise ConfigError("xml adapter: give the columns as [source.columns] NAME = \"XPath\"")
        encoding = options.get("encoding")
        if encoding is not None:
            encoding = str(encoding).lower()
            if encoding not in ENCODINGS:
                raise UnknownNameError("encoding", encoding, ENCODINGS)
        return cls(
            record=_record_path(str(record_text), namespaces),
            record_text=str(record_text),
            namespaces=namespaces,
            columns=columns,
            encoding=encoding,
            max_depth=int(options.get("max_depth") or DEFAULT_MAX_DEPTH),
            max_record_bytes=int(options.get("max_record_bytes") or DEFAULT_MAX_RECORD_BYTES),
        )


def _record_path(text: str, namespaces: Mapping[str, str]) -> tuple[str, ...]:
    """The Clark names of an absolute element path (``/j:a/j:b``).

    >>> _record_path("/j:移行データ/j:世帯", {"j": "urn:x"})
    ('{urn:x}移行データ', '{urn:x}世帯')
    >>> _record_path("/a//b", {})
    Traceback (most recent call last):
    ...
    mig.errors.ConfigError: xml adapter: record = "/a//b": give an absolute path of element names, such as /export/list/item (no //, predicates or functions)
    """
    steps = text.split("/")
    matches = [_QNAME.match(step) for step in steps[1:]]
    if not text.startswith("/") or len(steps) < 2 or not all(matches):
        raise ConfigError(
            f'xml adapter: record = "{text}": give an absolute path of element names, '
            "such as /export/list/item (no //, predicates or functions)"
        )
    names = []
    for match in matches:
        assert match is not None
        prefix, local = match.group(1), match.group(2)
        if prefix is not None and prefix not in namespaces:
            raise ConfigError(f'xml adapter: record = "{text}": prefix {prefix}: is not in namespaces')
        names.append(f"{{{namespaces[prefix]}}}{local}" if prefix is not None else local)
    return tuple(names)


def _compile_columns(columns: Mapping[str, str], namespaces: Mapping[str, str]) -> list[etree.XPath]:
    """One compiled ``string(...)`` XPath per column; a mistake names the column."""
    compiled = []
    probe = etree.Element("probe")
    for name, expression in columns.items():
        try:
            xpath = etree.XPath(f"string({expression})", namespaces=dict(namespaces))
            xpath(probe)  # undefined prefixes and functions show only when evaluated
        except etree.XPathError as exc:
            raise ConfigError(f"xml adapter: column {name}: not a valid XPath ({exc})") from None
        compiled.append(xpath)
    return compiled


#: Field and record separators of the batch stylesheet's text output: Unicode noncharacters,
#: reserved for a program's internal use. A window whose text holds one is read the slow way.
_FIELD, _RECORD = "\ufdd0", "\ufdd1"
_XSL = "http://www.w3.org/1999/XSL/Transform"


def _stylesheet(record: str, columns: Mapping[str, str], namespaces: Mapping[str, str]) -> etree.XSLT:
    """One XSLT pass over the tree gives every record's column values as one text:
    values separated by :data:`_FIELD`, records ended by :data:`_RECORD`."""
    xsl = f"{{{_XSL}}}"
    nsmap: dict[str | None, str] = {"migxsl": _XSL}
    nsmap.update(namespaces)
    sheet = etree.Element(xsl + "stylesheet", nsmap=nsmap, version="1.0")
    etree.SubElement(sheet, xsl + "output", method="text", encoding="UTF-8")
    template = etree.SubElement(sheet, xsl + "template", match="/")
    loop = etree.SubElement(template, xsl + "for-each", select=record)
    for position, expression in enumerate(columns.values(), 1):
        etree.SubElement(loop, xsl + "value-of", select=expression)
        etree.SubElement(loop, xsl + "text").text = _RECORD if position == len(columns) else _FIELD
    try:
        return etree.XSLT(sheet, access_control=etree.XSLTAccessControl.DENY_ALL)
    except etree.XSLTParseError as exc:  # an XPath valid alone but not in a stylesheet
        raise ConfigError(f"xml adapter: columns: not usable as XPath ({exc})") from None


def declared_encoding(head: bytes) -> tuple[str | None, int]:
    """The encoding a document's first bytes announce (BOM, then the XML declaration),
    and the length of a UTF-8 BOM to skip. ``None``: nothing declared (UTF-8 by default).

    >>> declared_encoding(b'<?xml version="1.0" encoding="Shift_JIS"?><a/>')
    ('shift_jis', 0)
    >>> declared_encoding(codecs.BOM_UTF8 + b"<a/>")
    ('utf-8', 3)
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16", 0
    if head.startswith(b"<\x00?\x00"):
        return "utf-16-le", 0
    if head.startswith(b"\x00<\x00?"):
        return "utf-16-be", 0
    match = _DECLARED.match(head)
    return (match.group(1).decode("ascii").lower() if match else None), 0


@dataclass(frozen=True)
class Scan:
    """Record spans of a window, from its markup."""

    cut: int  # bytes of the window handed to the parser now
    depth_at_cut: int
    starts: Positions  # record candidates (depth and local name match) ending before cut
    ends: Positions
    max_depth: int
    max_depth_at: int  # position of the deepest start tag (-1: none)
    bad_reference_at: int  # position of an undeclared entity reference before cut (-1: none)


def scan_window(
    buf: bytes, depth0: int, depth: int, local: bytes, *, final: bool
) -> Scan:
    """Find the elements of depth ``depth`` named ``local`` (any prefix) in ``buf``.

    ``buf`` begins outside any tag at depth ``depth0``. Unless ``final``, the window is cut
    before its last tag, an unterminated comment / CDATA / PI, and any candidate element
    that does not end in it, so that the next window begins at a known depth.

    >>> s = scan_window(b'<r><x:i a="1">t</x:i><i/><o><i/></o><i>', 0, 2, b"i", final=False)
    >>> s.starts.tolist(), s.ends.tolist(), s.cut, s.depth_at_cut
    ([3, 21], [21, 25], 36, 1)
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    n = arr.shape[0]
    spans = [(m.start(), m.end()) for m in _SPECIAL.finditer(buf)] if b"<!" in buf or b"<?" in buf else []
    sp_starts = np.array([s for s, _ in spans], dtype=np.int64)
    sp_ends = np.array([e for _, e in spans], dtype=np.int64)
    limit = n
    if spans or b"<!" in buf or b"<?" in buf:
        openers = np.array([m.start() for m in _OPENER.finditer(buf)], dtype=np.int64)
        covered = _inside(openers, sp_starts, sp_ends, inclusive_start=True)
        if (~covered).any():
            limit = int(openers[~covered][0])
    lt = np.flatnonzero(arr == _LT).astype(np.int64)
    lt = lt[(lt < limit) & ~_inside(lt, sp_starts, sp_ends, inclusive_start=True)]
    gt = np.flatnonzero(arr == _GT).astype(np.int64)
    after = np.searchsorted(gt, lt)
    closed = after < gt.shape[0]
    if not closed.all():  # a tag cut by the window's end
        limit = int(lt[~closed][0])
        lt, after = lt[closed], after[closed]
    close = gt[after]
    nxt = arr[np.minimum(lt + 1, n - 1)]
    is_end = nxt == _SLASH
    # A start tag ends at its first '>' unless a quoted value holds '>' (odd quotes before it)
    # (quote counts from the sorted quote positions: memory follows the quotes, not the window)
    odd = np.zeros(lt.shape[0], dtype=np.bool_)
    for quote in (_DQ, _SQ):
        at = np.flatnonzero(arr == quote)
        odd |= (np.searchsorted(at, close) - np.searchsorted(at, lt)) % 2 == 1
    odd &= ~is_end
    for i in np.flatnonzero(odd):  # rare: a value holding '>' or the other quote
        match = _START_TAG.match(buf, int(lt[i]))
        if match is None:  # cut by the window's end, or malformed: the parser will say
            if final:
                continue
            limit = min(limit, int(lt[i]))
        else:
            close[i] = match.end() - 1
    keep = lt < limit
    lt, close, is_end = lt[keep], close[keep], is_end[keep]
    self_closing = ~is_end & (arr[close - 1] == _SLASH) if lt.size else np.zeros(0, dtype=np.bool_)
    delta = np.where(is_end, -1, np.where(self_closing, 0, 1)).astype(np.int64)
    depth_after = depth0 + np.cumsum(delta)
    depth_before = depth_after - delta
    element_depth = depth_before + 1
    opening = ~is_end
    deepest = int(element_depth[opening].max()) if opening.any() else 0
    deepest_at = int(lt[opening][np.argmax(element_depth[opening])]) if opening.any() else -1
    # candidates: start tags at the record depth whose name is [prefix:]local
    cand = np.flatnonzero(opening & (element_depth == depth))
    starts = lt[cand]
    ends = np.full(cand.shape[0], -1, dtype=np.int64)
    if cand.size:
        name_ends = _name_ends(arr, starts)
        size = len(local)
        first = name_ends - size
        ok = first >= starts + 1
        index = np.clip(first[:, None] + np.arange(size, dtype=np.int64)[None, :], 0, max(n - 1, 0))
        ok &= (arr[index] == np.frombuffer(local, dtype=np.uint8)[None, :]).all(axis=1)
        ok &= (first == starts + 1) | (arr[np.maximum(first - 1, 0)] == _COLON)
        cand, starts, ends = cand[ok], starts[ok], ends[ok]
        # end: its own '/>' or the next end tag that returns to the parent's depth
        closers = np.flatnonzero(is_end & (depth_after == depth - 1))
        nearest = np.searchsorted(closers, cand)
        found = nearest < closers.shape[0]
        ends[found] = close[closers[nearest[found]]] + 1
        ends[self_closing[cand]] = close[cand[self_closing[cand]]] + 1
    cut = n if final else limit
    if not final and lt.size:
        cut = min(cut, int(lt[-1]))
    open_records = (ends < 0) | (ends > cut)
    if open_records.any():
        cut = min(cut, int(starts[open_records][0]))
    done = ~open_records & (starts < cut)
    depth_at_cut = depth0 + int(delta[lt < cut].sum())
    bad_reference_at = -1
    if b"&" in buf:
        bad = np.array([m.start() for m in _BAD_REFERENCE.finditer(buf, 0, cut)], dtype=np.int64)
        bad = bad[~_inside(bad, sp_starts, sp_ends, inclusive_start=True)]
        bad_reference_at = int(bad[0]) if bad.size else -1
    return Scan(cut, depth_at_cut, starts[done], ends[done], deepest, deepest_at, bad_reference_at)


def _inside(points: Positions, starts: Positions, ends: Positions, *, inclusive_start: bool) -> npt.NDArray[np.bool_]:
    """Mask of ``points`` inside one of the sorted, disjoint spans [start, end)."""
    if starts.size == 0 or points.size == 0:
        return np.zeros(points.shape[0], dtype=np.bool_)
    owner = np.searchsorted(starts, points, side="right" if inclusive_start else "left") - 1
    valid = owner >= 0
    result = np.zeros(points.shape[0], dtype=np.bool_)
    result[valid] = points[valid] < ends[owner[valid]]
    return result


def _name_ends(arr: npt.NDArray[np.uint8], starts: Positions) -> Positions:
    """For tags starting at ``starts``, the position where the element name ends."""
    stops = np.flatnonzero(
        (arr == 0x20) | (arr == 0x09) | (arr == 0x0A) | (arr == 0x0D) | (arr == _SLASH) | (arr == _GT)
    ).astype(np.int64)
    found = np.searchsorted(stops, starts + 1)
    return stops[np.minimum(found, stops.shape[0] - 1)]


def _gather(region: bytes, starts: Positions, ends: Positions) -> pa.Array:
    """The bytes of the spans [start, end) of ``region`` as one binary array (no copy loop)."""
    arr = np.frombuffer(region, dtype=np.uint8)
    marks = np.zeros(arr.shape[0] + 1, dtype=np.int8)
    np.add.at(marks, starts, 1)
    np.add.at(marks, ends, -1)
    inside = np.cumsum(marks[:-1], dtype=np.int8).view(np.bool_)
    offsets = np.zeros(starts.shape[0] + 1, dtype=np.int64)
    np.cumsum(ends - starts, out=offsets[1:])
    data = np.ascontiguousarray(arr[inside])
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), starts.shape[0], [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


class XmlReader:
    """An XML file opened for batch reading."""

    def __init__(self, path: Path, options: XmlOptions, *, batch_bytes: int) -> None:
        self.path = path
        self.options = options
        self.batch_bytes = max(int(batch_bytes), 1)
        self.columns: list[str] = list(options.columns)
        self._xpaths = _compile_columns(options.columns, options.namespaces)
        self._xslt = _stylesheet(options.record_text, options.columns, options.namespaces)
        try:
            self._fh: BinaryIO = path.open("rb")
        except OSError as exc:
            raise InputError(str(path), f"cannot open: {exc.strerror}") from None
        head = self._fh.read(_HEAD_BYTES)
        if not head.strip():
            self._fh.close()
            raise InputError(str(path), "file is empty")
        declared, self._bom = declared_encoding(head)
        if options.encoding is not None:
            self.encoding = options.encoding
        elif declared is None:
            self.encoding = "utf-8"
        elif declared in ENCODINGS:
            self.encoding = declared
        else:
            self._fh.close()
            raise InputError(
                str(path), f"declares encoding {declared!r}, which the xml adapter does not read "
                f"(reads {', '.join(sorted(ENCODINGS))}); give encoding = ... in [source]", line=1,
            )
        self._codec = ENCODINGS[self.encoding]
        self._transcode = self._codec.startswith("utf-16")
        self._fh.seek(self._bom)
        self.stats: dict[str, Any] = {"records": 0}
        #: UTF-16 files are read as UTF-8 text: then ``raw`` holds that text's bytes
        self.raw_is_file_bytes = not self._transcode
        self._record_bytes = 0
        local = self._local_name = options.record[-1].rsplit("}", 1)[-1]
        self._local = local.encode("utf-8" if self._transcode else self._codec)
        self._depth = len(options.record)

    def coverage(self) -> Coverage:
        """The bytes outside every record (the declaration, wrapper elements, whitespace and
        comments between records) once the batches are read: records are found by the
        element structure of the whole file, so nothing between them is a record."""
        if not self.raw_is_file_bytes:
            return Coverage()
        return Coverage(other_bytes=self.path.stat().st_size - self._record_bytes)

    def batches(self) -> Iterator[SourceBatch]:
        try:
            yield from self._batches()
        finally:
            self._fh.close()

    def _blocks(self) -> Iterator[tuple[bytes, bool]]:
        return read_blocks(self._fh, self.batch_bytes, self.path, self.encoding, transcode=self._transcode)

    def _parser(self) -> etree.XMLPullParser:
        root = self.options.record[0]
        return etree.XMLPullParser(
            events=("start", "end"),
            tag=(f"{{*}}{self.options.record[-1].rsplit('}', 1)[-1]}", root),
            encoding="utf-8",  # the text fed is UTF-8 whatever the declaration says
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )

    def _batches(self) -> Iterator[SourceBatch]:
        parser = self._parser()
        root: Any = None
        carry = b""
        offset = self._bom  # file offset of carry[0]
        lines_before = 0
        depth = 0
        row = 0
        for block, final in self._blocks():
            buf = carry + block
            scan = scan_window(buf, depth, self._depth, self._local, final=final)
            region = buf[: scan.cut]
            self._refuse_dtd(region, offset, lines_before)
            if scan.max_depth > self.options.max_depth:
                raise InputError(
                    str(self.path), f"elements nest deeper than {self.options.max_depth} (max_depth)",
                    line=lines_before + buf.count(b"\n", 0, scan.max_depth_at) + 1,
                    offset=offset + scan.max_depth_at,
                )
            if scan.bad_reference_at >= 0:
                raise InputError(
                    str(self.path), "malformed XML: undeclared entity reference (mig never expands entities)",
                    line=lines_before + buf.count(b"\n", 0, scan.bad_reference_at) + 1,
                    offset=offset + scan.bad_reference_at,
                )
            if not final and len(buf) - scan.cut > self.options.max_record_bytes:
                raise InputError(
                    str(self.path),
                    f"a record or text runs over {self.options.max_record_bytes} bytes (max_record_bytes)",
                    line=lines_before + buf.count(b"\n", 0, scan.cut) + 1,
                    offset=offset + scan.cut,
                )
            events, text = self._feed(parser, region, offset, lines_before, final=final)
            if final and scan.depth_at_cut != 0:
                raise InputError(
                    str(self.path), "malformed XML: the document ends inside an element",
                    line=lines_before + buf.count(b"\n") + 1,
                )
            elements = []
            for event, element in events:  # C-filtered: the root and the record's local name
                if event == "start":
                    if root is None and element.getparent() is None:
                        root = element
                elif _depth(element) == self._depth and etree.QName(element).localname == self._local_name:
                    elements.append(element)
            if len(elements) != scan.starts.shape[0]:  # pragma: no cover - framing invariant
                raise InputError(
                    str(self.path), f"record framing disagrees with the parser ({len(elements)} elements, "
                    f"{scan.starts.shape[0]} spans)", line=lines_before + 1, offset=offset,
                )
            fast = _FIELD.encode() not in text and _RECORD.encode() not in text
            batch, row = self._make_batch(region, scan, elements, offset, lines_before, row, fast=fast)
            if batch is not None:
                yield batch
            if root is not None:
                _drop_finished(root)
            lines_before += region.count(b"\n")
            carry = buf[scan.cut:]
            offset += scan.cut
            depth = scan.depth_at_cut
        if row == 0:
            raise ConfigError(
                f"{self.path.name}: record = \"{self.options.record_text}\" selects no element; "
                f"element paths seen: {', '.join(self._paths_seen()) or '(none)'}"
            )

    def _feed(
        self, parser: etree.XMLPullParser, region: bytes, offset: int, lines_before: int, *, final: bool
    ) -> tuple[list[tuple[str, Any]], bytes]:
        text = self._decode(region, offset, lines_before)
        try:
            if text:
                parser.feed(text)
            if final:
                parser.close()
            # libxml2 may report an error only as the events are read
            return list(parser.read_events()), text
        except etree.XMLSyntaxError as exc:
            raise InputError(str(self.path), f"malformed XML: {_rule(exc)}", line=exc.lineno) from None

    def _decode(self, region: bytes, offset: int, lines_before: int) -> bytes:
        if self._transcode:
            return region
        try:
            if self._codec == "utf-8":
                region.decode("utf-8")
                return region
            return region.decode(self._codec).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                str(self.path),
                f"bytes {region[exc.start:exc.end].hex()} are not valid {self.encoding} — wrong or missing "
                "encoding declaration? (give encoding = ... in [source])",
                line=lines_before + region.count(b"\n", 0, exc.start) + 1,
                offset=offset + exc.start,
            ) from None

    def _refuse_dtd(self, region: bytes, offset: int, lines_before: int) -> None:
        at = region.find(b"<!DOCTYPE")
        if at < 0:
            return
        plain = _PLAIN_DOCTYPE.match(region, at)
        if plain is None:
            raise InputError(
                str(self.path),
                "the document declares a DTD (entities, an internal subset or an external "
                "identifier): refused — mig never loads DTDs or expands entities",
                line=lines_before + region.count(b"\n", 0, at) + 1,
                offset=offset + at,
            )

    def _make_batch(
        self, region: bytes, scan: Scan, elements: list[Any], offset: int, lines_before: int, row: int,
        *, fast: bool,
    ) -> tuple[SourceBatch | None, int]:
        selected = [i for i, e in enumerate(elements) if _path(e) == self.options.record]
        columns = self._values([elements[i] for i in selected], fast=fast) if selected else []
        for element in elements:  # finished: free them and take them out of the tree
            element.clear()
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
        if not selected:
            return None, row
        index = np.asarray(selected, dtype=np.int64)
        starts, ends = scan.starts[index], scan.ends[index]
        rows = row + np.arange(1, index.shape[0] + 1, dtype=np.int64)
        line_feeds = np.flatnonzero(np.frombuffer(region, dtype=np.uint8) == 0x0A)
        lines = lines_before + np.searchsorted(line_feeds, starts) + 1
        records = pl.DataFrame(
            {
                "row": rows,
                "line": lines.astype(np.int64),
                "offset": starts + offset,
                "raw": pl.Series("raw", _gather(region, starts, ends)),
            },
            schema=RECORD_SCHEMA,
        )
        data = pl.DataFrame([pl.Series("row", rows)] + columns)
        self.stats["records"] += index.shape[0]
        self._record_bytes += int((ends - starts).sum())
        return SourceBatch(data, records, empty_rejects()), int(rows[-1])

    def _values(self, records: list[Any], *, fast: bool) -> list[pl.Series]:
        """The column values of ``records`` (the records now in the tree, in order)."""
        names = self.columns
        if fast:
            # One XSLT pass over the tree (it holds this window's records and their open
            # ancestors only), split with Polars.
            text = str(self._xslt(records[0].getroottree()))
            if text.count(_RECORD) == len(records) and text.endswith(_RECORD):
                lines = pl.Series("v", text[: -len(_RECORD)].split(_RECORD), dtype=pl.String)
                if len(names) == 1:
                    return [lines.alias(names[0])]
                fields = lines.str.split_exact(_FIELD, len(names) - 1).struct.unnest()
                return [fields[:, i].alias(name) for i, name in enumerate(names)]
        values: list[list[str]] = [[] for _ in names]
        for element in records:  # the slow way: one XPath call per record and column
            for column, xpath in zip(values, self._xpaths, strict=True):
                column.append(str(xpath(element)))
        return [pl.Series(name, column, dtype=pl.String) for name, column in zip(names, values, strict=True)]

    def _paths_seen(self, limit: int = 20) -> list[str]:
        """Distinct element paths (with the document's prefixes) near the start of the file."""
        seen: list[str] = []
        try:
            self._fh.seek(self._bom)
            head = self._fh.read(256 * 1024).decode(self._codec, errors="replace").encode("utf-8")
        except (OSError, ValueError):
            return seen
        parser = self._parser_all()
        try:
            parser.feed(head)
        except etree.XMLSyntaxError:
            pass
        for _event, element in parser.read_events():
            steps = []
            node = element
            while node is not None:
                name = etree.QName(node).localname
                steps.append(f"{node.prefix}:{name}" if node.prefix else name)
                node = node.getparent()
            path = "/" + "/".join(reversed(steps))
            if path not in seen:
                seen.append(path)
            if len(seen) >= limit:
                break
        return seen

    def _parser_all(self) -> etree.XMLPullParser:
        return etree.XMLPullParser(
            events=("start",), encoding="utf-8", resolve_entities=False, no_network=True,
            load_dtd=False, huge_tree=False, recover=True,
        )


def _rule(exc: etree.XMLSyntaxError) -> str:
    """The parser's rule without its text, which can quote names and values of the file.

    >>> try:
    ...     etree.fromstring("<a><b></a>")
    ... except etree.XMLSyntaxError as exc:
    ...     _rule(exc)
    'tag name mismatch'
    """
    last = exc.error_log.last_error if exc.error_log else None
    name = last.type_name if last is not None else ""
    return name.removeprefix("ERR_").replace("_", " ").lower() or "not well-formed"


def _depth(element: Any) -> int:
    depth = 0
    while element is not None:
        depth += 1
        element = element.getparent()
    return depth


def _path(element: Any) -> tuple[str, ...]:
    steps = []
    while element is not None:
        steps.append(element.tag)
        element = element.getparent()
    return tuple(reversed(steps))


def _drop_finished(root: Any) -> None:
    """Delete every finished element: keep only the last child along the open path."""
    node = root
    while len(node):
        if len(node) > 1:
            del node[: len(node) - 1]
        node = node[-1]


class XmlAdapter:
    """XML exports: ``[source]`` options record, namespaces, columns, encoding, max_depth,
    max_record_bytes."""

    name = "xml"
    description = (
        "XML package exports: one record per element of a path, columns as XPath, namespaces; "
        "streamed, no DTD or entities (UTF-8, UTF-16, Shift_JIS / CP932, EUC-JP)"
    )

    def open(self, path: Path, options: Mapping[str, Any], *, batch_bytes: int) -> XmlReader:
        return XmlReader(path, XmlOptions.parse(options), batch_bytes=batch_bytes)
