"""The layout model: one standard-layout migration file of one 業務, as data.

Layout files are TOML under ``layouts/<業務>/``; code tables live beside them in
``codes.toml``. The format is documented in README.md ("Layout files").

The catalogue is the packaged ``layouts/`` plus layout packs: directories registered by
installed packages under the ``mig.layouts`` entry-point group (:mod:`mig.registry`) and the
directories of ``MIG_LAYOUTS_PATH``. Wherever a layout id is taken, a layout file path is
taken too (:func:`get_layout`).
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast, get_args

from mig.errors import ConfigError, UnknownNameError
from mig.jp import CHECK_DIGITS
from mig.resources import data_dir
from mig.schema import unknown_keys_error

DataType = Literal["全角文字", "半角文字", "混在文字", "数字", "数値", "日付", "年月", "コード"]
CheckRule = str
"""The name of a check digit of :data:`mig.jp.CHECK_DIGITS` (``"個人番号"``, ``"宛名番号"`` …)."""
Origin = Literal["imported", "modelled", "own", "unstated"]
"""What a layout file's ``provenance`` starts with (``"modelled: …"``): see :attr:`Layout.origin`."""
Unknown = Literal["none", "day", "month"]
"""Which parts of a 日付 may be 不詳 (written ``00``): none, the day, or month and day."""

DATA_TYPES: tuple[str, ...] = get_args(DataType)
CHECK_RULES: tuple[str, ...] = tuple(CHECK_DIGITS)
UNKNOWN_PARTS: tuple[str, ...] = get_args(Unknown)
ORIGINS: tuple[str, ...] = get_args(Origin)[:-1]
BYTE_ENCODINGS = ("cp932", "utf-8")

_ITEM_KEYS = {
    "no", "name", "type", "length", "scale", "bytes", "required", "code_table",
    "check", "unknown", "extension", "description",
}
_LAYOUT_KEYS = {
    "id", "business", "name", "standard", "standard_version", "provenance",
    "description", "byte_encoding", "primary_key", "foreign_keys", "items",
}


LAYOUT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
"""What a layout id may be: it names files (``data/<id>.csv``), a table and SQL literals
of the loader scripts, so ASCII letters, digits, ``.``, ``_`` and ``-``, at most 63."""

_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _control_character(text: str) -> str | None:
    """``U+XXXX`` of the first control, format or line-separator character in ``text``."""
    for char in text:
        if unicodedata.category(char) in _CONTROL_CATEGORIES:
            return f"U+{ord(char):04X}"
    return None


def name_problem(
    layout_id: object, item_names: Iterable[object] = (), *, id_key: str = "id"
) -> str | None:
    """Why a layout id or an item name (項目名称) is unsafe as a file or SQL name, or None.

    A layout id must match :data:`LAYOUT_ID`; an item name may hold spaces, quotes and
    any printable character (the loaders quote it) but no control character. The reason
    names the field, never the value.

    >>> name_problem("juki-jumin", ["氏名", "氏名 (カナ)"]) is None
    True
    >>> print(name_problem("juki'x", id_key="layout"))
    'layout' must be ASCII letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)
    >>> print(name_problem("juki-jumin", ["氏名", "住所\\n"]))
    items[2]: 'name' holds a control character (U+000A)
    """
    if isinstance(layout_id, str) and not LAYOUT_ID.fullmatch(layout_id):
        return (
            f"{id_key!r} must be ASCII letters, digits, '.', '_' or '-' (at most 63, starting "
            "with a letter or digit)"
        )
    for n, name in enumerate(item_names, 1):
        found = _control_character(name) if isinstance(name, str) else None
        if found:
            return f"items[{n}]: 'name' holds a control character ({found})"
    return None


def entry_name_problem(entry: dict[str, Any]) -> str | None:
    """:func:`name_problem` of a manifest ``files[]`` entry (``layout`` and ``items[].name``)."""
    items = entry.get("items")
    names = [i.get("name") for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    return name_problem(entry.get("layout"), names, id_key="layout")


@dataclass(frozen=True)
class CodeTable:
    """A code table: code → label (e.g. 性別 ``1`` → ``男``)."""

    name: str
    codes: dict[str, str]
    description: str = ""


@dataclass(frozen=True)
class Item:
    """One item (項目) of a layout.

    ``length`` counts characters (a base character plus its variation selector is one
    character); ``bytes``, when set, is an additional limit in the layout's
    ``byte_encoding``. For 数値, ``length`` is the number of digits and ``scale`` how
    many of them follow the decimal point.
    """

    no: int
    name: str
    type: DataType
    length: int
    scale: int = 0
    bytes: int | None = None
    required: bool = False
    code_table: str | None = None
    check: CheckRule | None = None
    unknown: Unknown = "none"
    extension: bool = False
    description: str = ""


@dataclass(frozen=True)
class ForeignKey:
    """Values of ``item`` in this layout must exist as ``target_item`` of ``layout``."""

    item: str
    layout: str
    target_item: str


@dataclass(frozen=True)
class Layout:
    """One migration file of one 業務 in one version of a standard."""

    id: str
    business: str
    name: str
    standard: str
    standard_version: str
    provenance: str
    description: str
    items: tuple[Item, ...]
    codes: dict[str, CodeTable] = field(default_factory=dict)
    byte_encoding: str = "cp932"
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    path: str = ""
    source: str = ""
    """Where the catalogue found the file: ``packaged``, a ``mig.layouts`` entry point,
    ``MIG_LAYOUTS_PATH`` or ``file`` (given by path)."""

    @property
    def origin(self) -> Origin:
        """What :attr:`provenance` says of the file, from its first word: ``imported`` from an
        official workbook, ``modelled`` on a standard, a municipality's ``own`` layout, or
        ``unstated``.

        >>> get_layout("juki-setai").origin
        'modelled'
        """
        word = self.provenance.split(":", 1)[0].strip()
        return cast(Origin, word) if word in ORIGINS else "unstated"

    @property
    def item_names(self) -> list[str]:
        """The 項目名称 in layout order."""
        return [item.name for item in self.items]

    def item(self, name: str) -> Item:
        """Return the item called ``name``; unknown names list what exists."""
        for item in self.items:
            if item.name == name:
                return item
        raise UnknownNameError(f"item of layout {self.id}", name, self.item_names)

    def with_extensions(self, extra: list[Item]) -> Layout:
        """Return this layout with declared extension items appended after its own."""
        if not extra:
            return self
        clashes = {i.name for i in extra} & set(self.item_names)
        if clashes:
            raise ConfigError(
                f"extension items of {self.id} clash with standard items: {', '.join(sorted(clashes))}"
            )
        start = max((i.no for i in self.items), default=0)
        numbered = [
            replace(item, no=start + n, extension=True) for n, item in enumerate(extra, 1)
        ]
        return replace(self, items=self.items + tuple(numbered))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (used by ``mig layouts show --json``)."""
        return {
            "id": self.id,
            "business": self.business,
            "name": self.name,
            "standard": self.standard,
            "standard_version": self.standard_version,
            "provenance": self.provenance,
            "description": self.description,
            "byte_encoding": self.byte_encoding,
            "primary_key": list(self.primary_key),
            "foreign_keys": [
                {"item": fk.item, "layout": fk.layout, "target_item": fk.target_item}
                for fk in self.foreign_keys
            ],
            "items": [
                {k: v for k, v in item.__dict__.items() if v not in (None, "", False) or k in ("required",)}
                for item in self.items
            ],
            "codes": {
                name: {"description": t.description, "codes": t.codes}
                for name, t in sorted(self.codes.items())
                if any(i.code_table == name for i in self.items)
            },
        }


def parse_item(raw: dict[str, Any], where: str, codes: dict[str, CodeTable]) -> Item:
    """Build an :class:`Item` from its TOML table, naming ``where`` in any error."""
    unknown_keys = set(raw) - _ITEM_KEYS
    if unknown_keys:
        raise unknown_keys_error(where, unknown_keys, _ITEM_KEYS)
    for key in ("name", "type", "length"):
        if key not in raw:
            raise ConfigError(f"{where}: missing key {key!r}")
    name = raw["name"]
    found = _control_character(name) if isinstance(name, str) else None
    if found:
        raise ConfigError(f"{where}: 'name' holds a control character ({found})")
    if raw["type"] not in DATA_TYPES:
        raise ConfigError(
            f"{where} ({name}): unknown type {raw['type']!r}; known: {', '.join(DATA_TYPES)}"
        )
    if raw.get("check") is not None and raw["check"] not in CHECK_RULES:
        raise ConfigError(
            f"{where} ({name}): unknown check {raw['check']!r}; known: {', '.join(CHECK_RULES)}"
        )
    unknown = raw.get("unknown", "none")
    if unknown not in UNKNOWN_PARTS:
        raise ConfigError(
            f"{where} ({name}): unknown 'unknown' {unknown!r}; known: {', '.join(UNKNOWN_PARTS)}"
        )
    length = raw["length"]
    if not isinstance(length, int) or length <= 0:
        raise ConfigError(f"{where} ({name}): length must be a positive integer")
    code_table = raw.get("code_table")
    if code_table is not None and code_table not in codes:
        raise UnknownNameError(f"code table (in {where})", code_table, codes)
    if raw["type"] == "コード" and code_table is None:
        raise ConfigError(f"{where} ({name}): type コード needs a code_table")
    scale = int(raw.get("scale", 0))
    if not 0 <= scale < length:
        raise ConfigError(f"{where} ({name}): scale must be in 0..length-1")
    return Item(
        no=int(raw.get("no", 0)),
        name=str(name),
        type=cast(DataType, raw["type"]),
        length=length,
        scale=scale,
        bytes=raw.get("bytes"),
        required=bool(raw.get("required", False)),
        code_table=code_table,
        check=raw.get("check"),
        unknown=cast(Unknown, unknown),
        extension=bool(raw.get("extension", False)),
        description=str(raw.get("description", "")),
    )


def load_code_tables(path: Path) -> dict[str, CodeTable]:
    """Read a ``codes.toml``: one TOML table per code table with ``codes`` and ``description``."""
    if not path.exists():
        return {}
    raw = _read_toml(path)
    tables: dict[str, CodeTable] = {}
    for name, body in raw.items():
        if not isinstance(body, dict) or not isinstance(body.get("codes"), dict):
            raise ConfigError(f"{path}: code table {name!r} needs a 'codes' table")
        tables[name] = CodeTable(
            name=name,
            codes={str(k): str(v) for k, v in body["codes"].items()},
            description=str(body.get("description", "")),
        )
    return tables


def load_layout_file(path: Path) -> Layout:
    """Read one layout file (and the ``codes.toml`` beside it)."""
    raw = _read_toml(path)
    unknown_keys = set(raw) - _LAYOUT_KEYS
    if unknown_keys:
        raise unknown_keys_error(str(path), unknown_keys, _LAYOUT_KEYS)
    for key in ("id", "business", "name", "items"):
        if key not in raw:
            raise ConfigError(f"{path}: missing key {key!r}")
    if problem := name_problem(str(raw["id"])):
        raise ConfigError(f"{path}: {problem}")
    codes = load_code_tables(path.parent / "codes.toml")
    items = tuple(
        parse_item(item, f"{path.name} item {n}", codes) for n, item in enumerate(raw["items"], 1)
    )
    names = [i.name for i in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{path}: duplicate 項目名称 {', '.join(duplicates)}")
    encoding = str(raw.get("byte_encoding", "cp932"))
    if encoding not in BYTE_ENCODINGS:
        raise UnknownNameError(f"byte_encoding (in {path})", encoding, BYTE_ENCODINGS)
    foreign_keys = tuple(
        ForeignKey(item=fk["item"], layout=fk["layout"], target_item=fk.get("target_item", fk["item"]))
        for fk in raw.get("foreign_keys", [])
    )
    layout = Layout(
        id=str(raw["id"]),
        business=str(raw["business"]),
        name=str(raw["name"]),
        standard=str(raw.get("standard", "中間標準レイアウト")),
        standard_version=str(raw.get("standard_version", "")),
        provenance=str(raw.get("provenance", "")),
        description=str(raw.get("description", "")),
        items=items,
        codes=codes,
        byte_encoding=encoding,
        primary_key=tuple(raw.get("primary_key", ())),
        foreign_keys=foreign_keys,
        path=str(path),
    )
    for key_item in list(layout.primary_key) + [fk.item for fk in foreign_keys]:
        layout.item(key_item)
    return layout


LAYOUTS_PATH_ENV = "MIG_LAYOUTS_PATH"
"""Directories of layout packs (``os.pathsep``-separated), after the packaged ones and the
``mig.layouts`` entry points."""


@dataclass(frozen=True)
class LayoutSource:
    """A directory of layout files and what put it in the catalogue."""

    label: str
    root: Path


def layout_sources() -> list[LayoutSource]:
    """The directories of the catalogue: packaged, ``mig.layouts`` entry points, ``MIG_LAYOUTS_PATH``.

    >>> layout_sources()[0].label
    'packaged'
    """
    from mig.registry import layout_pack_dirs

    sources = [LayoutSource("packaged", data_dir("layouts"))]
    sources += [LayoutSource(label, root) for label, root in layout_pack_dirs()]
    for part in os.environ.get(LAYOUTS_PATH_ENV, "").split(os.pathsep):
        if part:
            sources.append(LayoutSource(f"{LAYOUTS_PATH_ENV} {part}", Path(part)))
    return sources


@cache
def _scan(source: LayoutSource) -> dict[str, Layout]:
    """The layouts of one directory: ``*.toml`` in it and in its folders (``codes.toml`` excepted)."""
    if not source.root.is_dir():
        raise ConfigError(f"layout directory {source.root} ({source.label}) does not exist")
    layouts: dict[str, Layout] = {}
    files = sorted(source.root.glob("*.toml")) + sorted(source.root.glob("*/*.toml"))
    for path in files:
        if path.name == "codes.toml":
            continue
        layout = replace(load_layout_file(path), source=source.label)
        if layout.id in layouts:
            raise ConfigError(f"layout id {layout.id!r} is defined twice ({layouts[layout.id].path}, {path})")
        layouts[layout.id] = layout
    return layouts


def _catalogue(root: Path | None) -> dict[str, Layout]:
    sources = [LayoutSource("packaged", root)] if root is not None else layout_sources()
    layouts: dict[str, Layout] = {}
    for source in sources:
        for layout_id, layout in _scan(source).items():
            if (first := layouts.get(layout_id)) is not None:
                raise ConfigError(
                    f"layout id {layout_id!r} comes from two sources: {first.source} ({first.path}) "
                    f"and {layout.source} ({layout.path}); uninstall or rename one"
                )
            layouts[layout_id] = layout
    return layouts


def list_layouts(
    root: Path | None = None,
    *,
    standard: str | None = None,
    version: str | None = None,
    business: str | None = None,
) -> list[Layout]:
    """The catalogue's layouts, ordered by id; ``standard``, ``version`` (of the standard) and
    ``business`` (業務) keep those that match exactly. A filter value no layout has raises
    :class:`~mig.errors.UnknownNameError` listing the values that exist.

    ``root`` replaces the whole catalogue by one directory.

    >>> [layout.id for layout in list_layouts()][:3]
    ['juki-ido', 'juki-jumin', 'juki-setai']
    >>> [layout.id for layout in list_layouts(standard="基本データリスト")]
    ['kihon-juki-jumin']
    """
    registry = _catalogue(root)
    found = [registry[k] for k in sorted(registry)]
    for kind, attribute, wanted in (
        ("standard", "standard", standard),
        ("standard version", "standard_version", version),
        ("業務", "business", business),
    ):
        if wanted is None:
            continue
        known = {getattr(layout, attribute) for layout in registry.values()}
        if wanted not in known:
            raise UnknownNameError(kind, wanted, known)
        found = [layout for layout in found if getattr(layout, attribute) == wanted]
    return found


def is_layout_path(ref: str) -> bool:
    """Whether a layout reference names a file (it ends in ``.toml`` or holds a path
    separator) rather than a catalogue id.

    >>> is_layout_path("juki-jumin"), is_layout_path("packs/x.toml"), is_layout_path("x.toml")
    (False, True, True)
    """
    return ref.endswith(".toml") or "/" in ref or os.sep in ref


def get_layout(layout_id: str, root: Path | None = None, *, base: Path | None = None) -> Layout:
    """Return the layout ``layout_id``: a catalogue id, or a layout file path
    (:func:`is_layout_path`; relative to ``base`` when given). An unknown id lists the ids
    that exist; a path that is not a file is a :class:`~mig.errors.ConfigError`.

    >>> get_layout("juki-setai").business
    '住民基本台帳'
    """
    if is_layout_path(layout_id):
        path = Path(layout_id)
        if base is not None and not path.is_absolute():
            path = base / path
        if not path.is_file():
            raise ConfigError(f"layout file {path} does not exist")
        return replace(load_layout_file(path), source="file")
    registry = _catalogue(root)
    try:
        return registry[layout_id]
    except KeyError:
        raise UnknownNameError("layout", layout_id, registry) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
