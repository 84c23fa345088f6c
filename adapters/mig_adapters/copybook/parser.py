"""COBOL copybooks → record layouts: every elementary item with its byte offset, size and type.

What is read: level numbers 01–49 (66 RENAMES and 88 condition names are skipped, 77 is a
record of its own); data-names and FILLER; ``PIC``/``PICTURE`` X A N G 9 S V P and edited
pictures; ``USAGE`` DISPLAY, DISPLAY-1, NATIONAL, COMP/COMP-4/BINARY, COMP-5, COMP-3/
PACKED-DECIMAL (also written on a group, inherited by its items); ``SIGN [IS] LEADING |
TRAILING [SEPARATE [CHARACTER]]``; ``OCCURS n [TIMES]`` and ``OCCURS m TO n [TIMES]
DEPENDING ON x`` (with ASCENDING/DESCENDING KEY and INDEXED BY); ``REDEFINES``;
``SYNCHRONIZED`` binary items (aligned to their size from the record start); VALUE,
JUSTIFIED, BLANK WHEN ZERO, EXTERNAL and GLOBAL (accepted, no effect on the layout).

Source format: fixed (sequence area in columns 1–6, indicator in column 7 — ``*`` and
``/`` comment lines, ``-`` continuation of a literal or word, ``D`` debugging lines skipped
— code in columns 8–72, identification area 73–80 ignored) or free (whole line is code,
``*>`` starts a comment). ``format="auto"`` chooses free only when a line carries a level
number and a name in columns 1–7. Any mistake raises :class:`CopybookSyntaxError` (a
:class:`~mig.errors.ConfigError`) naming the copybook, the line and the column.

Each 01 level is one record type. A copybook whose items start below level 01 (meant to
be copied under an 01) is one record named after the copybook. Column names are the
elementary data-names; a name used twice in a record is qualified COBOL-style
(``NAME OF GROUP``); items under OCCURS carry their subscripts (``AMOUNT(3)``,
``CELL(2,1)``). FILLER is skipped.

>>> book = parse_copybook('''
...        01  REC.
...            05  KBN        PIC X.
...            05  AMOUNT     PIC S9(5)V99 COMP-3.
...            05  CNT        PIC 9(2).
...            05  ITEM       PIC X(3) OCCURS 0 TO 5 TIMES DEPENDING ON CNT.
... ''')
>>> [(f.name, f.offset, f.size, f.kind) for f in book.records[0].fields][:4]
[('KBN', 0, 1, 'alnum'), ('AMOUNT', 1, 4, 'packed'), ('CNT', 5, 2, 'zoned'), ('ITEM(1)', 7, 3, 'alnum')]
>>> book.records[0].size, book.records[0].min_size
(22, 7)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from mig.errors import ConfigError, UnknownNameError

FieldKind = Literal["alnum", "dbcs", "national", "zoned", "packed", "binary"]
SourceFormat = Literal["auto", "fixed", "free"]
#: How a zoned (DISPLAY numeric) item carries its sign — the names of mig.codecs.ZonedSign.
ZonedSign = Literal[
    "trailing-overpunch", "leading-overpunch", "trailing-separate", "leading-separate", "unsigned"
]

MAX_DECIMAL_DIGITS = 31
MAX_BINARY_DIGITS = 18
#: Largest record (01 level with every table at its maximum) a copybook may describe. z/OS
#: QSAM records hold at most 32,760 bytes (a VB record 32,756 after its RDW); this limit
#: leaves 32 times that for text exports and other systems, and keeps a typing mistake such
#: as ``PIC X(2000000000)`` or ``OCCURS 0 TO 99999999`` from exhausting memory.
MAX_RECORD_BYTES = 1024 * 1024
#: Most elementary items (OCCURS expanded, REDEFINES counted) of one record: each is a column.
MAX_FIELDS = 16_384
#: Most digits of a number in a copybook (counts, repetitions): 9 digits exceed every limit.
_MAX_NUMBER_DIGITS = 9


def _number(text: str) -> bool:
    """Whether ``text`` is an unsigned decimal number of ASCII digits (``isdigit`` also takes ``²``)."""
    return text.isascii() and text.isdigit()


class CopybookSyntaxError(ConfigError):
    """A copybook that cannot be read: the message names the copybook, line and column."""

    def __init__(self, source: str, line: int, column: int, message: str) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.reason = message
        super().__init__(f"{source}:{line}:{column}: {message}")


@dataclass(frozen=True)
class Field:
    """One elementary item of a record (one occurrence of it under OCCURS).

    ``offset`` is the byte offset in the record when every OCCURS DEPENDING ON table holds
    its maximum; items after such a table move left by the occurrences a record leaves
    out (see :meth:`Record.shift_tables`). ``scale`` is the number of digits after the
    implied decimal point (negative for ``P`` positions on the right).
    """

    name: str
    cobol_name: str
    path: tuple[str, ...]
    offset: int
    size: int
    kind: FieldKind
    picture: str
    usage: str
    digits: int = 0
    scale: int = 0
    signed: bool = False
    sign: ZonedSign = "unsigned"
    native: bool = False
    redefines: bool = False
    odo: int | None = None
    occurrence: int = 0
    subscripts: tuple[int, ...] = ()
    line: int = 0

    @property
    def numeric(self) -> bool:
        return self.kind in ("zoned", "packed", "binary")

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class OdoTable:
    """An ``OCCURS m TO n DEPENDING ON counter`` table of a record."""

    name: str
    counter: str  # column name of the counter field
    minimum: int
    maximum: int
    offset: int  # static start (all tables at their maximum)
    element_size: int
    line: int

    @property
    def end(self) -> int:
        return self.offset + self.maximum * self.element_size


@dataclass(frozen=True)
class Record:
    """One 01-level record type: its elementary fields in declaration order."""

    name: str
    size: int  # bytes with every OCCURS DEPENDING ON table at its maximum
    fields: tuple[Field, ...]
    odo_tables: tuple[OdoTable, ...] = ()
    line: int = 0

    @property
    def min_size(self) -> int:
        """Bytes with every OCCURS DEPENDING ON table at its minimum."""
        return self.size - sum((t.maximum - t.minimum) * t.element_size for t in self.odo_tables)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        """The field with column ``name``, or the only one with that data-name.

        ``NAME OF GROUP`` / ``NAME IN GROUP`` qualification is accepted too.
        """
        for f in self.fields:
            if f.name == name:
                return f
        words = re.split(r"\s+(?:OF|IN)\s+", name.strip().upper())
        base, qualifiers = words[0], words[1:]
        matches = [
            f for f in self.fields
            if f.cobol_name.upper() == base and not f.subscripts and _qualified_by(f.path, qualifiers)
        ]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ConfigError(
                f"record {self.name}: {name!r} is ambiguous; qualify it: "
                + ", ".join(m.name for m in matches)
            )
        raise UnknownNameError(f"field of record {self.name}", name, self.columns)

    def shift_tables(self, f: Field) -> list[int]:
        """Indices of the OCCURS DEPENDING ON tables that lie wholly before ``f``."""
        return [i for i, t in enumerate(self.odo_tables) if i != f.odo and t.end <= f.offset]


@dataclass(frozen=True)
class Copybook:
    """A parsed copybook: one :class:`Record` per 01 level, in order."""

    source: str
    records: tuple[Record, ...]

    @property
    def record_names(self) -> list[str]:
        return [r.name for r in self.records]

    def record(self, name: str) -> Record:
        for r in self.records:
            if r.name == name.upper() or r.name == name:
                return r
        raise UnknownNameError(f"record (01 level) of {self.source}", name, self.record_names)


def _qualified_by(path: tuple[str, ...], qualifiers: list[str]) -> bool:
    """Whether the group names ``qualifiers`` (innermost first) appear in ``path`` in order."""
    position = len(path)
    for q in qualifiers:
        while position > 0 and path[position - 1].upper() != q:
            position -= 1
        if position == 0:
            return False
        position -= 1
    return True


# -------------------------------------------------------------------------------------------
# Source lines → tokens


@dataclass(frozen=True)
class Token:
    text: str  # words upper-cased; literals as written, without quotes
    kind: Literal["word", "literal", "period"]
    line: int
    column: int


@dataclass(frozen=True)
class _CodeLine:
    number: int
    text: str  # the code area
    start_column: int  # 1-based column of text[0] in the physical line
    continuation: bool


_INDICATORS = set(" *-/Dd")
_FREE_HINT = re.compile(r"^\s*\d{1,2}\s+[^\W\d_]", re.UNICODE)
_DIRECTIVES = {"EJECT", "SKIP1", "SKIP2", "SKIP3"}


def _detect_format(lines: list[str]) -> Literal["fixed", "free"]:
    for raw in lines:
        if not raw.strip():
            continue
        if raw.lstrip().startswith("*"):
            continue
        if _FREE_HINT.match(raw[:7]):
            return "free"
        if len(raw) > 6 and raw[6] not in _INDICATORS:
            return "free"
    return "fixed"


def _code_lines(text: str, source: str, fmt: SourceFormat) -> Iterator[_CodeLine]:
    lines = [line.expandtabs(8) for line in text.splitlines()]
    if fmt == "auto":
        fmt = _detect_format(lines)
    for number, raw in enumerate(lines, 1):
        if fmt == "fixed":
            if len(raw) < 8:
                continue  # sequence area (and indicator) only
            indicator = raw[6]
            if indicator in "*/Dd":
                continue
            if indicator not in " -":
                raise CopybookSyntaxError(
                    source, number, 7,
                    f"unexpected {indicator!r} in the indicator column (7); "
                    "is this a free-format copybook? (format = \"free\")",
                )
            yield _CodeLine(number, raw[7:72], 8, indicator == "-")
        else:
            stripped = raw.lstrip()
            if stripped.startswith("*>") or raw.startswith("*") or raw.startswith("/"):
                continue
            yield _CodeLine(number, raw, 1, False)


_QUOTES = "'\""
_LITERAL_PREFIXES = ("NX", "N", "X", "G", "Z")


class _Tokenizer:
    """Turns code lines into tokens; handles literals, comments and continuation lines."""

    def __init__(self, source: str, fixed: bool) -> None:
        self.source = source
        self.fixed = fixed
        self.tokens: list[Token] = []
        # An open nonnumeric literal at the end of the previous line: (quote, parts, line, column).
        self.open_literal: tuple[str, list[str], int, int] | None = None

    def error(self, line: int, column: int, message: str) -> CopybookSyntaxError:
        return CopybookSyntaxError(self.source, line, column, message)

    def feed(self, code: _CodeLine) -> None:
        text = code.text
        i = 0
        glue = False
        first = len(text) - len(text.lstrip())
        if code.continuation:
            if self.open_literal is not None:
                if first >= len(text) or text[first] not in _QUOTES:
                    raise self.error(code.number, code.start_column + first,
                                     "continuation of a literal must start with a quote")
                i = self._scan_literal(code, first + 1)
                if self.open_literal is not None:
                    return
            else:
                if not self.tokens or self.tokens[-1].kind != "word":
                    raise self.error(code.number, 7, "continuation line with nothing to continue")
                glue = True
                i = first
        elif self.open_literal is not None:
            _, _, line, column = self.open_literal
            raise self.error(line, column, "literal is not closed (and the next line is no continuation)")
        elif len(text.split()) == 1 and text.split()[0].rstrip(".").upper() in _DIRECTIVES:
            return
        while i < len(text):
            c = text[i]
            if c.isspace():
                i += 1
                glue = False
                continue
            if text.startswith("*>", i):
                break
            column = code.start_column + i
            prefix = self._literal_prefix(text, i)
            if prefix is not None:
                i += len(prefix) + 1
                self.open_literal = (text[i - 1], [], code.number, column)
                i = self._scan_literal(code, i)
                glue = False
                continue
            j = i
            while j < len(text) and not text[j].isspace() and not (
                text[j] in _QUOTES and j > i
            ):
                j += 1
            word = text[i:j]
            i = j
            period = False
            if word.endswith(".") and (j >= len(text) or text[j].isspace()):
                word, period = word[:-1], True
            word = word.rstrip(",;")
            if word:
                if glue and self.tokens:
                    last = self.tokens[-1]
                    self.tokens[-1] = Token(last.text + word.upper(), "word", last.line, last.column)
                else:
                    self.tokens.append(Token(word.upper(), "word", code.number, column))
            glue = False
            if period:
                self.tokens.append(Token(".", "period", code.number, code.start_column + j - 1))

    @staticmethod
    def _literal_prefix(text: str, i: int) -> str | None:
        if text[i] in _QUOTES:
            return ""
        for prefix in _LITERAL_PREFIXES:
            end = i + len(prefix)
            if text[i:end].upper() == prefix and end < len(text) and text[end] in _QUOTES:
                if i == 0 or text[i - 1].isspace() or text[i - 1] == "(":
                    return prefix
        return None

    def _scan_literal(self, code: _CodeLine, i: int) -> int:
        """Read literal characters from ``i``; return the index after the closing quote."""
        assert self.open_literal is not None
        quote, parts, line, column = self.open_literal
        text = code.text
        while i < len(text):
            if text[i] == quote:
                if i + 1 < len(text) and text[i + 1] == quote:
                    parts.append(quote)
                    i += 2
                    continue
                self.tokens.append(Token("".join(parts), "literal", line, column))
                self.open_literal = None
                return i + 1
            parts.append(text[i])
            i += 1
        if self.fixed:  # the literal runs to column 72: trailing spaces belong to it
            parts.append(" " * (65 - len(text)))
        return i

    def finish(self) -> list[Token]:
        if self.open_literal is not None:
            _, _, line, column = self.open_literal
            raise self.error(line, column, "literal is not closed")
        return self.tokens


def tokenize(text: str, *, source: str = "copybook", format: SourceFormat = "auto") -> list[Token]:
    """The copybook's tokens (words upper-cased, literals without quotes, periods).

    >>> [t.text for t in tokenize("       01 A PIC X(2) VALUE 'a.b'.")]
    ['01', 'A', 'PIC', 'X(2)', 'VALUE', 'a.b', '.']
    """
    lines = list(_code_lines(text, source, format))
    fixed = format == "fixed" or (format == "auto" and _detect_format(
        [line.expandtabs(8) for line in text.splitlines()]) == "fixed")
    tokenizer = _Tokenizer(source, fixed)
    for code in lines:
        tokenizer.feed(code)
    return tokenizer.finish()


# -------------------------------------------------------------------------------------------
# Tokens → entries → item tree

_USAGES = {
    "DISPLAY": "DISPLAY",
    "DISPLAY-1": "DISPLAY-1",
    "NATIONAL": "NATIONAL",
    "COMP": "COMP",
    "COMPUTATIONAL": "COMP",
    "COMP-4": "COMP",
    "COMPUTATIONAL-4": "COMP",
    "BINARY": "COMP",
    "COMP-5": "COMP-5",
    "COMPUTATIONAL-5": "COMP-5",
    "COMP-3": "COMP-3",
    "COMPUTATIONAL-3": "COMP-3",
    "PACKED-DECIMAL": "COMP-3",
    "COMP-1": "COMP-1",
    "COMPUTATIONAL-1": "COMP-1",
    "COMP-2": "COMP-2",
    "COMPUTATIONAL-2": "COMP-2",
    "INDEX": "INDEX",
    "POINTER": "POINTER",
    "PROCEDURE-POINTER": "POINTER",
    "FUNCTION-POINTER": "POINTER",
}
_CLAUSE_WORDS = set(_USAGES) | {
    "REDEFINES", "PIC", "PICTURE", "USAGE", "SIGN", "LEADING", "TRAILING", "SEPARATE",
    "OCCURS", "SYNC", "SYNCHRONIZED", "JUST", "JUSTIFIED", "BLANK", "VALUE", "VALUES",
    "EXTERNAL", "GLOBAL", "RENAMES", "ASCENDING", "DESCENDING", "INDEXED", "DEPENDING",
    "TIMES", "IS", "ARE", "ON", "KEY", "BY", "TO",
}


@dataclass
class _Node:
    level: int
    name: str | None  # None: FILLER
    line: int
    column: int
    picture: str | None = None
    picture_at: tuple[int, int] = (0, 0)
    usage: str | None = None
    sign: tuple[bool, bool] | None = None  # (leading, separate)
    occurs_min: int | None = None
    occurs_max: int | None = None
    depending_on: list[str] | None = None
    redefines: str | None = None
    sync: bool = False
    children: list[_Node] = field(default_factory=list)
    parent: _Node | None = None
    # computed
    offset: int = 0
    size: int = 0
    redefined: bool = False

    @property
    def occurs(self) -> int:
        return self.occurs_max if self.occurs_max is not None else 1

    @property
    def display_name(self) -> str:
        return self.name or "FILLER"


class _Entries:
    """Cursor over one entry's tokens."""

    def __init__(self, parser: _Parser, tokens: list[Token], start: Token) -> None:
        self.parser = parser
        self.tokens = tokens
        self.start = start
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self, what: str) -> Token:
        token = self.peek()
        if token is None:
            last = self.tokens[-1] if self.tokens else self.start
            raise self.parser.error(last, f"expected {what} before the period")
        self.i += 1
        return token

    def accept(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text in words:
            self.i += 1
            return True
        return False

    def integer(self, what: str) -> int:
        token = self.next(what)
        if token.kind != "word" or not _number(token.text):
            raise self.parser.error(token, f"expected {what}, found {token.text!r}")
        if len(token.text.lstrip("0")) > _MAX_NUMBER_DIGITS:
            raise self.parser.error(token, f"{what}: {len(token.text)}-digit number; a record holds "
                                           f"at most {MAX_RECORD_BYTES} bytes")
        return int(token.text)

    def name(self, what: str) -> Token:
        token = self.next(what)
        if token.kind != "word" or token.text in _CLAUSE_WORDS or token.text.isdigit():
            raise self.parser.error(token, f"expected {what}, found {token.text!r}")
        return token


class _Parser:
    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens

    def error(self, token: Token, message: str) -> CopybookSyntaxError:
        return CopybookSyntaxError(self.source, token.line, token.column, message)

    def entries(self) -> Iterator[list[Token]]:
        current: list[Token] = []
        for token in self.tokens:
            if token.kind == "period":
                if current:
                    yield current
                current = []
            else:
                current.append(token)
        if current:
            raise self.error(current[-1], "entry is not ended by a period")

    def parse(self) -> list[_Node]:
        roots: list[_Node] = []
        stack: list[_Node] = []
        previous: _Node | None = None
        for tokens in self.entries():
            first = tokens[0]
            if first.kind == "word" and first.text in ("COPY", "REPLACE", "EXEC"):
                raise self.error(first, f"{first.text} statements inside a copybook are not supported; "
                                        "expand them first")
            if first.kind != "word" or not _number(first.text) or len(first.text.lstrip("0")) > 2:
                raise self.error(first, f"expected a level number, found {first.text!r}")
            level = int(first.text)
            if level == 88:
                if previous is None:
                    raise self.error(first, "88 level without an item before it")
                continue
            if level == 66:
                continue
            if not (1 <= level <= 49 or level == 77):
                raise self.error(first, f"level number {level} is not 01–49, 66, 77 or 88")
            node = self.entry(level, _Entries(self, tokens[1:], first), first)
            if level in (1, 77):
                roots.append(node)
                stack = [node] if level == 1 else []
            else:
                if not stack:
                    root = _Node(0, None, first.line, first.column)
                    roots.append(root)
                    stack = [root]
                while stack and stack[-1].level >= level:
                    stack.pop()
                if not stack:  # pragma: no cover - a root has level 0 or 1 < level
                    raise self.error(first, "item has no record to belong to")
                parent = stack[-1]
                if parent.picture is not None:
                    raise self.error(first, f"{parent.display_name} has a PICTURE, so it cannot hold items")
                node.parent = parent
                parent.children.append(node)
                stack.append(node)
            previous = node
        return roots

    def entry(self, level: int, e: _Entries, first: Token) -> _Node:
        token = e.peek()
        name: str | None = None
        at = first
        if token is not None and token.kind == "word" and token.text not in _CLAUSE_WORDS:
            e.i += 1
            if not token.text.isdigit():
                name = None if token.text == "FILLER" else token.text
                at = token
            else:
                raise self.error(token, f"expected a data-name, found {token.text!r}")
        node = _Node(level, name, at.line, at.column)
        while (token := e.peek()) is not None:
            e.i += 1
            word = token.text if token.kind == "word" else ""
            if word == "REDEFINES":
                node.redefines = e.name("the name of the item redefined").text
            elif word in ("PIC", "PICTURE"):
                e.accept("IS")
                pic = e.next("a PICTURE string")
                if pic.kind != "word":
                    raise self.error(pic, "expected a PICTURE string")
                node.picture = pic.text
                node.picture_at = (pic.line, pic.column)
            elif word == "USAGE":
                e.accept("IS")
                usage = e.next("a USAGE")
                if usage.text not in _USAGES:
                    raise self.error(usage, f"unknown USAGE {usage.text!r}")
                node.usage = _USAGES[usage.text]
            elif word in _USAGES:
                node.usage = _USAGES[word]
            elif word in ("SIGN", "LEADING", "TRAILING"):
                if word == "SIGN":
                    e.accept("IS")
                    where = e.next("LEADING or TRAILING")
                    if where.text not in ("LEADING", "TRAILING"):
                        raise self.error(where, f"expected LEADING or TRAILING, found {where.text!r}")
                    word = where.text
                separate = e.accept("SEPARATE")
                if separate:
                    e.accept("CHARACTER")
                node.sign = (word == "LEADING", separate)
            elif word == "OCCURS":
                self.occurs(node, e)
            elif word in ("SYNC", "SYNCHRONIZED"):
                node.sync = True
                e.accept("LEFT", "RIGHT")
            elif word in ("JUST", "JUSTIFIED"):
                e.accept("RIGHT")
            elif word == "BLANK":
                e.accept("WHEN")
                zero = e.next("ZERO")
                if zero.text not in ("ZERO", "ZEROS", "ZEROES"):
                    raise self.error(zero, f"expected ZERO, found {zero.text!r}")
            elif word in ("VALUE", "VALUES"):
                e.accept("IS", "ARE")
                e.accept("ALL")
                e.next("a value")
            elif word in ("EXTERNAL", "GLOBAL"):
                pass
            else:
                raise self.error(token, f"unexpected {token.text!r} in the entry of {node.display_name}")
        return node

    def occurs(self, node: _Node, e: _Entries) -> None:
        first = e.integer("the number of occurrences")
        ranged = e.accept("TO")
        if ranged:
            node.occurs_min, node.occurs_max = first, e.integer("the maximum number of occurrences")
        else:
            node.occurs_min = node.occurs_max = first
        e.accept("TIMES")
        if e.accept("DEPENDING"):
            e.accept("ON")
            names = [e.name("the name of the counter").text]
            while e.accept("OF", "IN"):
                names.append(e.name("a qualifying group name").text)
            node.depending_on = names
            if not ranged:
                node.occurs_min = 0  # OCCURS n DEPENDING ON x (IBM extension): 0 to n
        while (token := e.peek()) is not None and token.kind == "word" and token.text in (
            "ASCENDING", "DESCENDING", "INDEXED"
        ):
            e.i += 1
            if token.text == "INDEXED":
                e.accept("BY")
            else:
                e.accept("KEY")
                e.accept("IS")
            e.name("a name")
            while (more := e.peek()) is not None and more.kind == "word" and more.text not in _CLAUSE_WORDS:
                e.i += 1
        if node.occurs_max is not None and (node.occurs_max < 1 or (node.occurs_min or 0) > node.occurs_max):
            raise CopybookSyntaxError(self.source, node.line, node.column,
                                      f"OCCURS of {node.display_name}: bad bounds")


# -------------------------------------------------------------------------------------------
# PICTURE strings


@dataclass(frozen=True)
class Picture:
    """What a PICTURE string says: category, character positions, digits and scale."""

    category: Literal["alnum", "dbcs", "numeric", "edited"]
    length: int  # character positions that take storage
    digits: int = 0
    scale: int = 0
    signed: bool = False


_REPEAT = re.compile(r"(.)\(([0-9]+)\)")


def parse_picture(picture: str) -> Picture:
    """Read a PICTURE string; ``ValueError`` says what is wrong.

    >>> parse_picture("S9(5)V99")
    Picture(category='numeric', length=7, digits=7, scale=2, signed=True)
    >>> parse_picture("9(3)PP").scale, parse_picture("PP99").scale
    (-2, 4)
    >>> parse_picture("N(10)")
    Picture(category='dbcs', length=10, digits=0, scale=0, signed=False)
    """
    text = picture.upper()
    if not text:
        raise ValueError("empty PICTURE string")
    repeats = list(_REPEAT.finditer(text))  # X(n): the length is known before expanding
    if any(len(m.group(2).lstrip("0")) > _MAX_NUMBER_DIGITS for m in repeats) or (
        len(text) + sum(int(m.group(2)) - len(m.group(0)) for m in repeats) > MAX_RECORD_BYTES
    ):
        raise ValueError(f"PICTURE {picture[:40]!r} is longer than a record can be "
                         f"({MAX_RECORD_BYTES} bytes)")
    expanded = _REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), text)
    if "(" in expanded or ")" in expanded:
        raise ValueError(f"bad repetition in PICTURE {picture!r}")
    symbols = set(expanded)
    if symbols <= {"N", "B"} or symbols <= {"G", "B"}:
        return Picture("dbcs", len(expanded))
    if symbols <= {"S", "9", "V", "P"}:
        signed = expanded.startswith("S")
        body = expanded[1:] if signed else expanded
        if "S" in body:
            raise ValueError("S must come first in a PICTURE")
        if body.count("V") > 1:
            raise ValueError("more than one V in a PICTURE")
        digits = body.count("9")
        if digits == 0:
            raise ValueError("numeric PICTURE without a 9")
        stripped = body.replace("V", "")
        if "P" in stripped:
            if stripped.startswith("P") and stripped.lstrip("P").strip("9") == "":
                scale = stripped.count("P") + digits
            elif stripped.endswith("P") and stripped.rstrip("P").strip("9") == "":
                if "V" in body and body.index("V") < body.index("P"):
                    raise ValueError("V before P positions on the right")
                scale = -stripped.count("P")
            else:
                raise ValueError("P positions must be at one end of the digits")
        else:
            scale = len(body) - body.index("V") - 1 if "V" in body else 0
        if digits > MAX_DECIMAL_DIGITS:
            raise ValueError(f"{digits} digits; at most {MAX_DECIMAL_DIGITS}")
        return Picture("numeric", digits, digits, scale, signed)
    if symbols <= {"X", "A", "9"}:
        return Picture("alnum", len(expanded))
    if symbols <= {"X", "A", "9", "B", "0", "/"}:
        return Picture("edited", len(expanded))
    edited = {"9", "Z", "*", "+", "-", ".", ",", "$", "B", "0", "/", "C", "R", "D", "V", "P"}
    if symbols <= edited and ({"C", "R"} <= symbols or not symbols & {"C", "R"}) and (
        {"D", "B"} <= symbols or "D" not in symbols
    ):
        return Picture("edited", len(expanded) - expanded.count("V") - expanded.count("P"))
    raise ValueError(f"not a PICTURE string this reader knows: {picture!r}")


def _binary_size(digits: int) -> int:
    return 2 if digits <= 4 else 4 if digits <= 9 else 8


# -------------------------------------------------------------------------------------------
# Item tree → records


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, node: _Node, message: str, at: tuple[int, int] | None = None) -> CopybookSyntaxError:
        line, column = at if at else (node.line, node.column)
        return CopybookSyntaxError(self.source, line, column, message)

    # sizes ------------------------------------------------------------------------------

    def effective_usage(self, node: _Node) -> str:
        n: _Node | None = node
        while n is not None:
            if n.usage is not None:
                return n.usage
            n = n.parent
        return "DISPLAY"

    def effective_sign(self, node: _Node) -> tuple[bool, bool] | None:
        n: _Node | None = node
        while n is not None:
            if n.sign is not None:
                return n.sign
            n = n.parent
        return None

    def elementary(self, node: _Node) -> tuple[FieldKind, int, Picture | None, str]:
        """Kind, byte size, picture and usage of an elementary item."""
        usage = self.effective_usage(node)
        if node.picture is None:
            if usage in ("COMP-1", "COMP-2"):
                raise self.error(node, f"{node.display_name}: floating point ({usage}) is not supported")
            if usage in ("INDEX", "POINTER"):
                raise self.error(node, f"{node.display_name}: USAGE {usage} holds no data to migrate")
            raise self.error(node, f"{node.display_name}: elementary item without a PICTURE")
        try:
            pic = parse_picture(node.picture)
        except ValueError as exc:
            raise self.error(node, f"{node.display_name}: {exc}", node.picture_at) from None
        if usage in ("COMP-1", "COMP-2", "INDEX", "POINTER"):
            raise self.error(node, f"{node.display_name}: USAGE {usage} with a PICTURE")
        if pic.category == "dbcs":
            if usage == "NATIONAL":
                return "national", 2 * pic.length, pic, usage
            if usage not in ("DISPLAY", "DISPLAY-1"):
                raise self.error(node, f"{node.display_name}: USAGE {usage} needs a numeric PICTURE")
            return "dbcs", 2 * pic.length, pic, "DISPLAY-1"
        if pic.category in ("alnum", "edited"):
            if usage == "NATIONAL":
                return "national", 2 * pic.length, pic, usage
            if usage not in ("DISPLAY",):
                raise self.error(node, f"{node.display_name}: USAGE {usage} needs a numeric PICTURE")
            return "alnum", pic.length, pic, usage
        # numeric
        sign = self.effective_sign(node)
        if usage == "DISPLAY":
            separate = bool(sign and sign[1] and pic.signed)
            return "zoned", pic.digits + (1 if separate else 0), pic, usage
        if usage == "COMP-3":
            return "packed", pic.digits // 2 + 1, pic, usage
        if usage in ("COMP", "COMP-5"):
            if pic.digits > MAX_BINARY_DIGITS:
                raise self.error(node, f"{node.display_name}: binary item with {pic.digits} digits; "
                                       f"at most {MAX_BINARY_DIGITS}")
            return "binary", _binary_size(pic.digits), pic, usage
        raise self.error(node, f"{node.display_name}: USAGE {usage} with a numeric PICTURE")

    def layout(self, node: _Node, base: int) -> None:
        """Compute sizes and offsets (relative to the record) of ``node``'s subtree."""
        if not node.children:
            if node.level == 0:
                node.size = 0
                return
            _, size, _, usage = self.elementary(node)
            if node.sync and usage in ("COMP", "COMP-5"):
                if node.occurs_max is not None or self.inside_occurs(node):
                    raise self.error(node, f"{node.display_name}: SYNCHRONIZED under OCCURS is not supported")
            node.size = size
            return
        if node.picture is not None:
            raise self.error(node, f"{node.display_name}: a group item cannot have a PICTURE")
        cursor = 0
        previous: dict[str, _Node] = {}
        for child in node.children:
            if child.redefines is not None:
                target = previous.get(child.redefines)
                if target is None or target.level != child.level:
                    raise self.error(child, f"{child.display_name} REDEFINES {child.redefines}, "
                                            "which is not an earlier item of the same level in this group")
                if child.occurs_max is not None and child.occurs_min != child.occurs_max:
                    raise self.error(child, "REDEFINES with OCCURS DEPENDING ON is not supported")
                start = target.offset
                target.redefined = True
                child.redefined = True
            else:
                start = cursor
            if child.sync and not child.children:
                _, size, _, usage = self.elementary(child)
                if usage in ("COMP", "COMP-5"):
                    absolute = base + start
                    start += (-absolute) % size
            child.offset = start
            self.layout(child, base + start)
            if base + start + child.size * child.occurs > MAX_RECORD_BYTES:
                raise self.error(child, f"{child.display_name} ends at byte {base + start + child.size * child.occurs}; "
                                        f"a record holds at most {MAX_RECORD_BYTES} bytes")
            cursor = max(cursor, start + child.size * child.occurs)
            if child.name is not None:
                previous[child.name] = child
            if child.redefines is not None and child.name is not None:
                previous[child.name] = child
        node.size = cursor

    @staticmethod
    def inside_occurs(node: _Node) -> bool:
        n = node.parent
        while n is not None:
            if n.occurs_max is not None:
                return True
            n = n.parent
        return False

    # flattening -------------------------------------------------------------------------

    def record(self, root: _Node, default_name: str) -> Record:
        if root.occurs_max is not None:
            raise self.error(root, "an 01 level cannot have OCCURS")
        self.layout(root, 0)
        fields: list[Field] = []
        tables: list[tuple[_Node, int]] = []  # (ODO node, static offset)
        self.flatten(root, 0, (), (), False, None, 0, fields, tables)
        name = root.name or default_name
        fields = _name_columns(fields)
        odo_tables = [self.odo_table(node, offset, fields) for node, offset in tables]
        return Record(name=name, size=root.size, fields=tuple(fields), odo_tables=tuple(odo_tables), line=root.line)

    def flatten(
        self,
        node: _Node,
        offset: int,
        path: tuple[str, ...],
        subscripts: tuple[int, ...],
        redefines: bool,
        odo: int | None,
        occurrence: int,
        out: list[Field],
        tables: list[tuple[_Node, int]],
    ) -> None:
        redefines = redefines or node.redefined
        if node.occurs_max is not None and node.level not in (0, 1):
            variable = node.depending_on is not None
            if variable:
                if odo is not None or self.inside_occurs(node):
                    raise self.error(node, f"{node.display_name}: OCCURS DEPENDING ON inside another "
                                           "OCCURS is not supported")
                if self.has_odo_below(node):
                    raise self.error(node, "nested OCCURS DEPENDING ON is not supported")
                tables.append((node, offset))
                table_index: int | None = len(tables) - 1
            else:
                table_index = odo
            for k in range(1, node.occurs + 1):
                self.flatten_one(node, offset + (k - 1) * node.size, path, subscripts + (k,), redefines,
                                 table_index, k if variable else occurrence, out, tables)
            return
        self.flatten_one(node, offset, path, subscripts, redefines, odo, occurrence, out, tables)

    def flatten_one(
        self,
        node: _Node,
        offset: int,
        path: tuple[str, ...],
        subscripts: tuple[int, ...],
        redefines: bool,
        odo: int | None,
        occurrence: int,
        out: list[Field],
        tables: list[tuple[_Node, int]],
    ) -> None:
        if node.children or node.level == 0:
            inner = path + ((node.display_name,) if node.level not in (0,) else ())
            for child in node.children:
                self.flatten(child, offset + child.offset, inner, subscripts, redefines, odo, occurrence, out, tables)
            return
        if node.name is None:
            return  # FILLER: no column
        if len(out) >= MAX_FIELDS:
            raise self.error(node, f"the record has more than {MAX_FIELDS} elementary items "
                                   "(OCCURS counted); at most that many columns")
        kind, size, pic, usage = self.elementary(node)
        assert pic is not None
        sign: ZonedSign = "unsigned"
        signed = pic.signed if pic.category == "numeric" else False
        if kind == "zoned" and signed:
            leading, separate = self.effective_sign(node) or (False, False)
            sign = ("leading-" if leading else "trailing-") + ("separate" if separate else "overpunch")  # type: ignore[assignment]
        elif node.sign is not None and pic.category == "numeric" and not pic.signed:
            raise self.error(node, f"{node.display_name}: SIGN clause on an unsigned PICTURE")
        out.append(
            Field(
                name=node.name,
                cobol_name=node.name,
                path=path,
                offset=offset,
                size=size,
                kind=kind,
                picture=node.picture or "",
                usage=usage,
                digits=pic.digits,
                scale=pic.scale,
                signed=signed,
                sign=sign,
                native=usage == "COMP-5",
                redefines=redefines,
                odo=odo,
                occurrence=occurrence,
                subscripts=subscripts,
                line=node.line,
            )
        )

    def has_odo_below(self, node: _Node) -> bool:
        return any(c.depending_on is not None or self.has_odo_below(c) for c in node.children)

    def odo_table(self, node: _Node, offset: int, fields: list[Field]) -> OdoTable:
        assert node.depending_on is not None and node.occurs_max is not None
        base, qualifiers = node.depending_on[0], node.depending_on[1:]
        matches = [
            f for f in fields
            if f.cobol_name == base and not f.subscripts and _qualified_by(f.path, qualifiers)
        ]
        label = " OF ".join(node.depending_on)
        if len(matches) != 1:
            what = "no" if not matches else "more than one"
            raise self.error(node, f"DEPENDING ON {label}: {what} elementary item of that name in the record")
        counter = matches[0]
        if not counter.numeric or counter.scale != 0:
            raise self.error(node, f"DEPENDING ON {label}: the counter is not an integer item")
        if counter.end > offset or counter.odo is not None:
            raise self.error(node, f"DEPENDING ON {label}: the counter must come before the table, "
                                   "outside any OCCURS DEPENDING ON")
        return OdoTable(
            name=node.display_name,
            counter=counter.name,
            minimum=node.occurs_min or 0,
            maximum=node.occurs_max,
            offset=offset,
            element_size=node.size,
            line=node.line,
        )


def _name_columns(fields: list[Field]) -> list[Field]:
    """Give every field a unique column name: data-name, qualified when used twice, subscripts."""
    by_name: dict[str, list[int]] = {}
    for i, f in enumerate(fields):
        by_name.setdefault(f.cobol_name, []).append(i)
    labels = [f.cobol_name for f in fields]
    for indices in by_name.values():
        if len({fields[i].path for i in indices}) == 1:
            continue  # one item, several occurrences: subscripts tell them apart
        longest = max(len(fields[i].path) for i in indices)
        for depth in range(1, longest + 1):
            candidates = {i: _qualified(fields[i], depth) for i in indices}
            keys = {(label, fields[i].subscripts) for i, label in candidates.items()}
            if len(keys) == len(indices) or depth == longest:
                for i, label in candidates.items():
                    labels[i] = label
                break
    out = []
    seen: dict[str, Field] = {}
    for f, label in zip(fields, labels, strict=True):
        name = label + (f"({','.join(map(str, f.subscripts))})" if f.subscripts else "")
        if name in seen:
            raise ConfigError(
                f"data-name {f.cobol_name} is used twice in the same group (lines {seen[name].line} "
                f"and {f.line}); rename one"
            )
        named = Field(**{**f.__dict__, "name": name})
        seen[name] = named
        out.append(named)
    return out


def _qualified(f: Field, depth: int) -> str:
    groups = [g for g in reversed(f.path)][:depth]
    return " OF ".join([f.cobol_name, *groups])


# -------------------------------------------------------------------------------------------
# Entry points


def parse_copybook(text: str, *, source: str = "copybook", format: SourceFormat = "auto") -> Copybook:
    """Parse copybook ``text`` into its records (one per 01 level)."""
    if format not in ("auto", "fixed", "free"):
        raise ConfigError(f"copybook format must be auto, fixed or free, not {format!r}")
    tokens = tokenize(text, source=source, format=format)
    if not tokens:
        raise CopybookSyntaxError(source, 1, 1, "the copybook holds no data description entries")
    roots = _Parser(source, tokens).parse()
    builder = _Builder(source)
    default_name = re.sub(r"[^0-9A-Za-z-]+", "-", Path(source).stem).strip("-").upper() or "RECORD"
    records = [builder.record(root, default_name) for root in roots]
    names = [r.name for r in records]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{source}: record name(s) used twice: {', '.join(duplicates)}")
    for r in records:
        if not r.fields:
            raise CopybookSyntaxError(source, r.line, 1, f"record {r.name} has no elementary items")
    return Copybook(source=source, records=tuple(records))


def load_copybook(path: Path, *, format: SourceFormat = "auto", encoding: str | None = None) -> Copybook:
    """Read and parse a copybook file (UTF-8, or CP932 when it is not valid UTF-8)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read copybook: {exc.strerror}") from None
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ConfigError(f"{path}: copybook is not {encoding}: {exc}") from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp932")
            except UnicodeDecodeError:
                raise ConfigError(f"{path}: copybook is neither UTF-8 nor CP932 text") from None
    return parse_copybook(text, source=path.name, format=format)
