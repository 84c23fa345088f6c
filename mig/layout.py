"""The layout model: one standard-layout migration file of one 業務, as data.

Layout files are TOML under ``layouts/<業務>/``; code tables live beside them in
``codes.toml``. The format is documented in README.md ("Layout files").
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast, get_args

from mig.errors import ConfigError, UnknownNameError
from mig.resources import data_dir

DataType = Literal["全角文字", "半角文字", "混在文字", "数字", "数値", "日付", "年月", "コード"]
CheckRule = Literal["個人番号", "住民票コード"]
Unknown = Literal["none", "day", "month"]
"""Which parts of a 日付 may be 不詳 (written ``00``): none, the day, or month and day."""

DATA_TYPES: tuple[str, ...] = get_args(DataType)
CHECK_RULES: tuple[str, ...] = get_args(CheckRule)
UNKNOWN_PARTS: tuple[str, ...] = get_args(Unknown)
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
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown_keys))}; "
            f"allowed: {', '.join(sorted(_ITEM_KEYS))}"
        )
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
        check=cast("CheckRule | None", raw.get("check")),
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
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown_keys))}; "
            f"allowed: {', '.join(sorted(_LAYOUT_KEYS))}"
        )
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


@cache
def _registry(root: str) -> dict[str, Layout]:
    layouts: dict[str, Layout] = {}
    for path in sorted(Path(root).glob("*/*.toml")):
        if path.name == "codes.toml":
            continue
        layout = load_layout_file(path)
        if layout.id in layouts:
            raise ConfigError(f"layout id {layout.id!r} is defined twice ({layouts[layout.id].path}, {path})")
        layouts[layout.id] = layout
    return layouts


def list_layouts(root: Path | None = None) -> list[Layout]:
    """All packaged layouts, ordered by id.

    >>> [layout.id for layout in list_layouts()][:3]
    ['juki-ido', 'juki-jumin', 'juki-setai']
    """
    registry = _registry(str(root or data_dir("layouts")))
    return [registry[k] for k in sorted(registry)]


def get_layout(layout_id: str, root: Path | None = None) -> Layout:
    """Return the layout ``layout_id``; an unknown id lists the ids that exist.

    >>> get_layout("juki-setai").business
    '住民基本台帳'
    """
    registry = _registry(str(root or data_dir("layouts")))
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
