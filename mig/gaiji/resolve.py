"""The 外字 resolver of the conversion path, vectorised over whole batches.

:func:`resolve_frame` replaces the registered Private Use characters of every text item
of a mapped frame with their registry text (an MJ character, IVS intact) in one
``str.replace_many`` per item. Every Private Use character still left is reported by the
validation rule ``gaiji-unresolved`` (:func:`mig.validation.rules.validate_frame`) as a
finding whose ``detail`` is its code point (``U+E003``) — one finding per (row, item,
distinct character), never the value around it.

:func:`juki_code` and :func:`koseki_code` are mapping transforms for data stored as
住基ネット統一文字コード (``J+XXXX`` tokens anywhere in a value) or as
戸籍統一文字番号 (values made of 6-digit numbers): each becomes the text of its MJ
character, through one replace table built from the MJ table.

A mapping switches the registry on with a ``[gaiji]`` table (see
:func:`gaiji_settings`)::

    [gaiji]
    source = "demo-vendor-cp932"          # the registry source of this export's 外字
    registry = ["gaiji-registry.csv"]      # one or more registry files, relative to the mapping

>>> import polars as pl
>>> from mig.gaiji.mj import codepoints
>>> from mig.layout import Item, Layout
>>> layout = Layout("t", "b", "n", "s", "1", "", "", (Item(1, "氏名", "混在文字", 20),))
>>> frame = pl.DataFrame({"row": [1, 2], "氏名": ["渡\\ue003太郎", "\\ue009田"]})
>>> resolved = resolve_frame(frame, layout, {"U+E003": "邊\\U000E010F"})
>>> codepoints(resolved["氏名"][0])
'U+6E21 U+908A U+E010F U+592A U+90CE'
>>> from mig.validation.rules import validate_frame
>>> validate_frame(resolved, layout).rows()
[(2, '氏名', 'gaiji-unresolved', 'U+E009')]
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from mig.charsets import TEXT_TYPES
from mig.errors import ConfigError
from mig.gaiji.mj import juki_texts, koseki_texts
from mig.gaiji.registry import Registry, load_registries
from mig.layout import Layout
from mig.schema import unknown_keys_error

__all__ = [
    "UNRESOLVED",
    "GaijiSettings",
    "gaiji_settings",
    "juki_code",
    "koseki_code",
    "replace_table",
    "resolve_frame",
]

UNRESOLVED = "gaiji-unresolved"
"""The finding type of a Private Use character left after resolution."""

_JUKI_TOKEN = r"J\+[0-9A-F]{4}"
_KOSEKI_VALUE = r"^[0-9]{6}(?:[ ,、　]*[0-9]{6})*$"
_SETTINGS_KEYS = {"source", "registry"}


def replace_table(table: Mapping[str, str]) -> dict[str, str]:
    """Registry codes → characters: ``{"U+E000": "髙"}`` → ``{"\\ue000": "髙"}``.

    Keys that are already one character are kept; vendor byte codes (``0x80A1``) have no
    character in the data and are left out.

    >>> replace_table({"U+E000": "髙", "0x80A1": "x", "\\ue001": "﨑"}) == {"\\ue000": "髙", "\\ue001": "﨑"}
    True
    """
    chars: dict[str, str] = {}
    for code, text in table.items():
        if code.upper().startswith("U+"):
            chars[chr(int(code[2:], 16))] = text
        elif len(code) == 1:
            chars[code] = text
    return chars


def _text_items(layout: Layout, frame: pl.DataFrame) -> list[str]:
    return [
        item.name
        for item in layout.items
        if item.type in TEXT_TYPES and item.name in frame.columns
        and frame.schema[item.name] in (pl.String, pl.Null)
    ]


def resolve_frame(frame: pl.DataFrame, layout: Layout, table: Mapping[str, str]) -> pl.DataFrame:
    """Replace registered 外字 in the text items of ``frame``.

    ``frame`` is a mapped batch (``row`` + one String column per item); ``table`` maps a
    registry code (``"U+E000"``, as :meth:`Registry.for_source
    <mig.gaiji.registry.Registry.for_source>` gives) or the character itself to its text.
    Returns the frame with every registered character replaced in every text item
    (全角文字 / 半角文字 / 混在文字). The Private Use characters left are reported by the
    validation rule ``gaiji-unresolved`` (:func:`mig.validation.rules.validate_frame`),
    not here. One ``str.replace_many`` per item; no Python per row or character.
    """
    items = _text_items(layout, frame)
    chars = replace_table(table)
    if chars and items:
        keys = list(chars)
        values = [chars[k] for k in keys]
        frame = frame.with_columns(
            [pl.col(name).str.replace_many(keys, values) for name in items]
        )
    return frame


# ---------------------------------------------------------------------------------------
# transforms for data stored as codes


@cache
def _juki_pairs() -> tuple[list[str], list[str]]:
    table = juki_texts()
    keys = sorted(table)
    return keys, [table[k] for k in keys]


@cache
def _koseki_pairs() -> tuple[pl.Series, pl.Series]:
    table = koseki_texts()
    keys = sorted(table)
    return pl.Series(keys, dtype=pl.String), pl.Series([table[k] for k in keys], dtype=pl.String)


def juki_code(expr: pl.Expr) -> pl.Expr:
    """Every 住基ネット統一文字コード token ``J+XXXX`` in the value → its MJ character.

    Tokens are upper-case hex as J-LIS writes them; a token the MJ table does not know
    stays as it is (and :func:`resolve_frame` callers can find it by the pattern).

    >>> pl.select(juki_code(pl.lit("渡J+BD6B太郎"))).item() == "渡邊\\U000E010F太郎"
    True
    """
    keys, values = _juki_pairs()
    guarded = expr.str.contains(_JUKI_TOKEN)
    return pl.when(guarded.not_()).then(expr).otherwise(
        expr.str.replace_many(keys, values)
    )


def koseki_code(expr: pl.Expr) -> pl.Expr:
    """A value made of 戸籍統一文字番号 (6 digits each; spaces, commas, 、 between them
    allowed) → the text of their MJ characters, concatenated.

    A value with any number the MJ table does not know, or that is not made only of such
    numbers, is left as it is.

    >>> pl.select(koseki_code(pl.lit("445320 106730"))).item() == "邊\\U000E010F廊\\U000E0104"
    True
    """
    keys, values = _koseki_pairs()
    tokens = expr.str.extract_all(r"[0-9]{6}")
    mapped = tokens.list.eval(
        pl.element().replace_strict(keys, values, default=None, return_dtype=pl.String)
    )
    complete = mapped.list.drop_nulls().list.len() == tokens.list.len()
    return (
        pl.when(expr.str.contains(_KOSEKI_VALUE) & complete)
        .then(mapped.list.join(""))
        .otherwise(expr)
    )


# ---------------------------------------------------------------------------------------
# the mapping's [gaiji] table


@dataclass(frozen=True)
class GaijiSettings:
    """The ``[gaiji]`` table of a mapping: which registry entries resolve this export."""

    source: str
    registries: tuple[Path, ...]
    registry: Registry
    sha256: tuple[str, ...]
    table: dict[str, str] = field(default_factory=dict, compare=False)
    """Registry code → text of :attr:`source` (confirmed entries only)."""

    def manifest_entry(self) -> dict[str, Any]:
        """What the manifest records: the source and each registry's name and sha256."""
        return {
            "source": self.source,
            "registries": [
                {"path": p.name, "sha256": s} for p, s in zip(self.registries, self.sha256, strict=True)
            ],
            "confirmed": len(self.table),
        }


def gaiji_settings(raw: Any, mapping_path: Path) -> GaijiSettings:
    """Read a mapping's ``[gaiji]`` table; registry paths are relative to the mapping file.

    Keys: ``source`` (required: the registry source name of this export's Private Use
    characters) and ``registry`` (a path or a list of paths). Every registry is loaded
    and checked here, before any data is read; a mistake is one
    :class:`~mig.errors.ConfigError` line.
    """
    where = f"{mapping_path.name} [gaiji]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table with source and registry")
    unknown = set(raw) - _SETTINGS_KEYS
    if unknown:
        raise unknown_keys_error(where, unknown, _SETTINGS_KEYS)
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(f"{where}: give source = \"…\", the registry source of this export's 外字")
    listed = raw.get("registry", [])
    if isinstance(listed, str):
        listed = [listed]
    if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
        raise ConfigError(f"{where}: registry must be a path or a list of paths")
    base = mapping_path.parent
    paths = tuple((base / p) if not Path(p).is_absolute() else Path(p) for p in listed)
    for path in paths:
        if not path.is_file():
            raise ConfigError(f"{where}: registry file {path} does not exist")
    registry = load_registries(paths)
    digests = tuple(hashlib.sha256(p.read_bytes()).hexdigest() for p in paths)
    source = source.strip()
    return GaijiSettings(
        source=source,
        registries=paths,
        registry=registry,
        sha256=digests,
        table=registry.for_source(source),
    )
