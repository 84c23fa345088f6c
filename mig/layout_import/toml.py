"""Writing layout files and ``codes.toml`` in the format :mod:`mig.layout` reads.

Deterministic: the same layout gives the same bytes (keys in a fixed order, no timestamps).

>>> from mig.layout import CodeTable
>>> print(codes_toml({"性別": CodeTable("性別", {"1": "男", "2": "女"}, "from 区分!A3")}), end="")
["性別"]
description = "from 区分!A3"
<BLANKLINE>
["性別".codes]
"1" = "男"
"2" = "女"
"""

from __future__ import annotations

from mig.layout import CodeTable, Item, Layout

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped.

    >>> toml_string('a"b\\\\c\\x01')
    '"a\\\\"b\\\\\\\\c\\\\u0001"'
    """
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _item_lines(item: Item) -> list[str]:
    lines = ["[[items]]", f"no = {item.no}", f"name = {toml_string(item.name)}",
             f"type = {toml_string(item.type)}", f"length = {item.length}"]
    if item.scale:
        lines.append(f"scale = {item.scale}")
    if item.bytes is not None:
        lines.append(f"bytes = {item.bytes}")
    lines.append(f"required = {'true' if item.required else 'false'}")
    if item.code_table is not None:
        lines.append(f"code_table = {toml_string(item.code_table)}")
    if item.check is not None:
        lines.append(f"check = {toml_string(item.check)}")
    if item.unknown != "none":
        lines.append(f"unknown = {toml_string(item.unknown)}")
    if item.extension:
        lines.append("extension = true")
    if item.description:
        lines.append(f"description = {toml_string(item.description)}")
    return lines


def layout_toml(layout: Layout, header: str = "") -> str:
    """The layout file of ``layout`` (its code tables go to :func:`codes_toml`)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    lines += [
        f"id = {toml_string(layout.id)}",
        f"business = {toml_string(layout.business)}",
        f"name = {toml_string(layout.name)}",
        f"standard = {toml_string(layout.standard)}",
        f"standard_version = {toml_string(layout.standard_version)}",
        f"provenance = {toml_string(layout.provenance)}",
        f"description = {toml_string(layout.description)}",
        f"byte_encoding = {toml_string(layout.byte_encoding)}",
    ]
    if layout.primary_key:
        lines.append("primary_key = [" + ", ".join(toml_string(k) for k in layout.primary_key) + "]")
    if layout.foreign_keys:
        lines.append("foreign_keys = [")
        lines += [
            f"  {{ item = {toml_string(fk.item)}, layout = {toml_string(fk.layout)}, "
            f"target_item = {toml_string(fk.target_item)} }},"
            for fk in layout.foreign_keys
        ]
        lines.append("]")
    for item in layout.items:
        lines.append("")
        lines += _item_lines(item)
    return "\n".join(lines) + "\n"


def codes_toml(tables: dict[str, CodeTable], header: str = "") -> str:
    """A ``codes.toml`` holding ``tables`` (sorted by name; codes in their order)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for name in sorted(tables):
        table = tables[name]
        if lines:
            lines.append("")
        key = toml_string(name)
        lines += [f"[{key}]", f"description = {toml_string(table.description)}", "", f"[{key}.codes]"]
        lines += [f"{toml_string(code)} = {toml_string(label)}" for code, label in table.codes.items()]
    return "\n".join(lines) + "\n"
