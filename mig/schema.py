"""Typed shapes of configuration tables (a mapping file, an adapter's options), checked
before anything is built from them.

A shape says what a value must be: :class:`Str`, :class:`Int`, :class:`Bool`,
:class:`Text` (a string, or an integer taken as its digits), :class:`ListOf`,
:class:`Table` (known keys, some required), :class:`MapOf` (any keys, one value shape),
:class:`OneOf` and :class:`AnyValue`. :func:`check` walks a value against a shape and
raises one :class:`~mig.errors.ConfigError` line naming the key path and the expected
type — never the value, which may be data::

    >>> shape = Table({"index": Int(), "columns": ListOf(Str())})
    >>> try:
    ...     check({"index": "x"}, shape, "mapping.toml item 氏名")
    ... except ConfigError as err:
    ...     print(err.render("en"))
    ...     print(err.render("ja"))
    mapping.toml item 氏名 index: expected an integer, not a string
    mapping.toml item 氏名 index: 整数が必要です（文字列ではなく）

Key paths join table keys with ``.`` and list positions (1-based) with ``[n]``; a
:class:`ListOf` with ``label`` (a TOML array of tables such as ``[[files]]``) names its
elements ``[[files]] 2`` instead. Keys are shown (they are the configuration's own
words); values never are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mig.errors import ConfigError, Msg

#: A key shown as is in a path; any other key is quoted (JSON escapes, so one line).
_BARE_KEY = re.compile(r"[^\s.\"'\[\]=\\\x00-\x1f\x7f]+")


def _type_name(value: Any) -> Msg | str:
    """The TOML word for a value's type (never the value), from the catalogue."""
    if isinstance(value, bool):
        return Msg("errors.type-bool")
    if isinstance(value, int):
        return Msg("errors.type-int")
    if isinstance(value, float):
        return Msg("errors.type-float")
    if isinstance(value, str):
        return Msg("errors.type-str")
    if isinstance(value, Mapping):
        return Msg("errors.type-table")
    if isinstance(value, Sequence | set | frozenset):
        return Msg("errors.type-list")
    return Msg("errors.type-datetime") if type(value).__module__ == "datetime" else f"a {type(value).__name__}"


def key_text(key: Any) -> str:
    """A key as shown in a path: bare when it is one plain word, else quoted on one line.

    >>> key_text("氏名"), key_text("a b")
    ('氏名', '"a b"')
    """
    text = str(key)
    return text if _BARE_KEY.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def unknown_keys_error(where: str, unknown: Iterable[Any], allowed: Iterable[str]) -> ConfigError:
    """The one-line error for keys a table does not allow; every key shown on one line.

    >>> str(unknown_keys_error("m.toml [gaiji]", ["\\n", "x"], ["source", "registry"]))
    'm.toml [gaiji]: unknown key(s) "\\\\n", x; allowed: registry, source'
    """
    names = ", ".join(sorted(key_text(k) for k in unknown))
    return ConfigError(Msg("errors.schema-unknown-keys", path=where, keys=names, allowed=", ".join(sorted(allowed))))


@dataclass(frozen=True)
class _Path:
    """Where a value sits: the configuration's name and the keys down to it."""

    where: str
    keys: str = ""

    def key(self, name: Any) -> _Path:
        key = key_text(name)
        return _Path(self.where, f"{self.keys}.{key}" if self.keys else key)

    def index(self, n: int) -> _Path:
        return _Path(self.where, f"{self.keys}[{n}]")

    def element(self, label: str, n: int) -> _Path:
        """An element of the TOML array of tables ``label`` (the last key of this path):
        ``[[files]] 2``; further keys follow a space."""
        parent = self.keys.removesuffix(key_text(label)).rstrip(".")
        head = f"{parent}." if parent else ""
        return _Path(f"{self.where} [[{head}{label}]] {n}", "")

    def text(self) -> str:
        return f"{self.where} {self.keys}" if self.keys else self.where

    def fail(self, expected: Msg, value: Any) -> ConfigError:
        return ConfigError(Msg("errors.schema-expected-not", path=self.text(), expected=expected, actual=_type_name(value)))

    def expected(self, expected: Msg) -> ConfigError:
        return ConfigError(Msg("errors.schema-expected", path=self.text(), expected=expected))


class Shape:
    """What a value must be. :meth:`phrase` is the phrase shown in an error (in the current
    language); :attr:`expected` the same in English, for machine output."""

    phrase_id: ClassVar[str] = "errors.type-value"

    def phrase(self) -> Msg:
        return Msg(self.phrase_id)

    @property
    def expected(self) -> str:
        return self.phrase().render("en")

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is of this shape's kind (its parts are checked by :meth:`walk`)."""
        raise NotImplementedError

    def walk(self, value: Any, path: _Path) -> None:
        if not self.accepts(value):
            raise path.fail(self.phrase(), value)


@dataclass(frozen=True)
class AnyValue(Shape):
    """Anything (its owner checks it, e.g. an adapter's own options)."""

    def accepts(self, value: Any) -> bool:
        return True


@dataclass(frozen=True)
class Str(Shape):
    """A string; ``choices`` (names from the schema, shown in errors; exact case) restrict it."""

    choices: tuple[str, ...] = ()
    nonempty: bool = False

    def phrase(self) -> Msg:
        if self.choices:
            return Msg("errors.type-one-of", choices=", ".join(self.choices))
        return Msg("errors.type-nonempty-str" if self.nonempty else "errors.type-str")

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str)

    def walk(self, value: Any, path: _Path) -> None:
        super().walk(value, path)
        if self.nonempty and not value.strip():
            raise path.expected(Msg("errors.type-nonempty-str"))
        if self.choices and value not in self.choices:
            raise path.expected(self.phrase())


@dataclass(frozen=True)
class Int(Shape):
    """An integer (``true``/``false`` are not integers) within ``minimum``…``maximum``."""

    minimum: int | None = None
    maximum: int | None = None

    def phrase(self) -> Msg:
        if self.minimum is not None and self.maximum is not None:
            return Msg("errors.type-int-range", minimum=self.minimum, maximum=self.maximum)
        if self.minimum is not None:
            return Msg("errors.type-positive-int") if self.minimum == 1 else Msg("errors.type-int-min", minimum=self.minimum)
        return Msg("errors.type-int")

    def accepts(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def walk(self, value: Any, path: _Path) -> None:
        super().walk(value, path)
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise path.expected(self.phrase())


@dataclass(frozen=True)
class Bool(Shape):
    """``true`` or ``false`` (a string such as ``"no"`` is not)."""

    phrase_id = "errors.type-true-or-false"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)


@dataclass(frozen=True)
class Text(Shape):
    """A string, or an integer taken as its decimal digits (``const = 131016``)."""

    phrase_id = "errors.type-text"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


@dataclass(frozen=True)
class ListOf(Shape):
    """A list whose elements have shape ``item``; ``label`` names a TOML array of tables."""

    item: Shape
    nonempty: bool = False
    label: str = ""

    def phrase(self) -> Msg:
        kind = Msg("errors.type-list-of-tables", label=self.label) if self.label else Msg("errors.type-list")
        return Msg("errors.type-list-of", kind=kind, item=self.item.phrase())

    def accepts(self, value: Any) -> bool:
        return isinstance(value, list | tuple)

    def walk(self, value: Any, path: _Path) -> None:
        super().walk(value, path)
        if self.nonempty and not value:
            raise path.expected(Msg("errors.type-nonempty-list"))
        for n, element in enumerate(value, 1):
            self.item.walk(element, path.element(self.label, n) if self.label else path.index(n))


@dataclass(frozen=True)
class Table(Shape):
    """A table of known keys (``fields``), of which ``required`` must be present."""

    fields: Mapping[str, Shape]
    required: frozenset[str] = field(default_factory=frozenset)

    phrase_id = "errors.type-table"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, Mapping)

    def walk(self, value: Any, path: _Path) -> None:
        super().walk(value, path)
        unknown = [k for k in value if k not in self.fields]
        if unknown:
            raise unknown_keys_error(path.text(), unknown, self.fields)
        for name in sorted(self.required):
            if name not in value:
                raise ConfigError(Msg("errors.schema-missing-key", path=path.text(), key=repr(name)))
        for name, shape in self.fields.items():
            if name in value:
                shape.walk(value[name], path.key(name))


@dataclass(frozen=True)
class MapOf(Shape):
    """A table with any keys, each value of shape ``value``."""

    value: Shape

    phrase_id = "errors.type-table"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, Mapping)

    def walk(self, value: Any, path: _Path) -> None:
        super().walk(value, path)
        for key, element in value.items():
            self.value.walk(element, path.key(key))


@dataclass(frozen=True)
class OneOf(Shape):
    """The first of ``shapes`` whose kind the value has (then checked deeply by it)."""

    shapes: tuple[Shape, ...]

    def phrase(self) -> Msg:
        phrase = self.shapes[0].phrase()
        for shape in self.shapes[1:]:
            phrase = Msg("errors.type-or", left=phrase, right=shape.phrase())
        return phrase

    def accepts(self, value: Any) -> bool:
        return any(s.accepts(value) for s in self.shapes)

    def walk(self, value: Any, path: _Path) -> None:
        for shape in self.shapes:
            if shape.accepts(value):
                shape.walk(value, path)
                return
        raise path.fail(self.phrase(), value)


def check(value: Any, shape: Shape, where: str) -> None:
    """Raise a :class:`ConfigError` naming the first key path in ``value`` that does not
    have ``shape`` (``where`` names the configuration, e.g. the mapping file's name)."""
    shape.walk(value, _Path(where))
