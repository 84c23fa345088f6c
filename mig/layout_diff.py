"""What changed between two layouts (two versions of one file, or one file in two standards).

:func:`diff_layouts` returns data — a :class:`LayoutDiff` of :class:`Difference` entries with
stable kind codes — that ``mig layouts diff`` renders. Items are matched by 項目名称; an old
and a new item left unmatched at the same position (``no``) with the same type are one item
renamed. Code tables are compared through the items that use them.

>>> from mig.layout import get_layout
>>> diff = diff_layouts(get_layout("juki-jumin"), get_layout("kihon-juki-jumin"))
>>> [(d.kind, d.old_item, d.item) for d in diff.differences if d.kind == "item-renamed"]
[('item-renamed', '氏名カナ', '氏名フリガナ')]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from mig.layout import Item, Layout

DiffKind = Literal[
    "layout-changed",
    "item-added",
    "item-removed",
    "item-renamed",
    "item-changed",
    "code-added",
    "code-removed",
    "code-changed",
]
"""The kinds of difference, in the order they are listed."""

DIFF_KINDS: tuple[str, ...] = get_args(DiffKind)

ITEM_FIELDS: tuple[str, ...] = ("type", "length", "scale", "bytes", "required", "code_table", "check", "unknown")
"""The attributes of an item whose change is an ``item-changed`` (its number and description are not)."""

LAYOUT_FIELDS: tuple[str, ...] = ("byte_encoding", "primary_key", "foreign_keys")
"""The attributes of a layout whose change is a ``layout-changed`` (identity fields — id, name,
standard, version, provenance, description — are shown but are not differences)."""


@dataclass(frozen=True)
class Difference:
    """One difference. ``item`` is the item's name (the new name for a rename, the old for a
    removal); ``field``, ``old`` and ``new`` say what changed; ``table`` and ``code`` name a
    code-table entry."""

    kind: DiffKind
    item: str = ""
    old_item: str = ""
    field: str = ""
    table: str = ""
    code: str = ""
    old: str = ""
    new: str = ""

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v != "" or k == "kind"}

    def describe(self) -> str:
        """One line for the text output."""
        if self.kind in ("item-added", "item-removed"):
            return f"{self.kind:<14} {self.item} ({self.new or self.old})"
        if self.kind == "item-renamed":
            return f"{self.kind:<14} {self.old_item} → {self.item} (no {self.old})"
        if self.kind in ("item-changed", "layout-changed"):
            where = f"{self.item}: " if self.item else ""
            return f"{self.kind:<14} {where}{self.field} {self.old or '-'} → {self.new or '-'}"
        label = self.new if self.kind == "code-added" else self.old
        if self.kind == "code-changed":
            label = f"{self.old} → {self.new}"
        return f"{self.kind:<14} {self.table} {self.code} {label}"


@dataclass(frozen=True)
class LayoutDiff:
    """The differences from ``old`` to ``new`` (``equal`` when there are none)."""

    old: dict[str, str]
    new: dict[str, str]
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def equal(self) -> bool:
        return not self.differences

    def counts(self) -> dict[str, int]:
        """How many differences of each kind (kinds that occur only)."""
        found = [d.kind for d in self.differences]
        return {kind: found.count(kind) for kind in DIFF_KINDS if kind in found}

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "equal": self.equal,
            "counts": self.counts(),
            "differences": [d.to_dict() for d in self.differences],
        }


def _identity(layout: Layout) -> dict[str, str]:
    return {
        "id": layout.id,
        "standard": layout.standard,
        "standard_version": layout.standard_version,
        "business": layout.business,
        "name": layout.name,
        "origin": layout.origin,
        "path": layout.path,
    }


def _text(value: object) -> str:
    if value is None or value == () or value is False:
        return "" if value is None or value == () else "false"
    if value is True:
        return "true"
    if isinstance(value, tuple):
        return ", ".join(_text(v) for v in value)
    if hasattr(value, "item") and hasattr(value, "layout"):  # a ForeignKey
        return f"{value.item}→{value.layout}.{value.target_item}"  # type: ignore[attr-defined]
    return str(value)


def _summary(item: Item) -> str:
    size = f"{item.length},{item.scale}" if item.scale else str(item.length)
    return f"no {item.no}, {item.type} {size}"


def _item_changes(old: Item, new: Item) -> list[Difference]:
    return [
        Difference("item-changed", item=new.name, field=name, old=_text(getattr(old, name)), new=_text(getattr(new, name)))
        for name in ITEM_FIELDS
        if getattr(old, name) != getattr(new, name)
    ]


def _code_changes(old: Layout, new: Layout, pairs: list[tuple[Item, Item]]) -> list[Difference]:
    changes: list[Difference] = []
    seen: set[tuple[str, str]] = set()
    for old_item, new_item in pairs:
        if old_item.code_table is None or new_item.code_table is None:
            continue
        key = (old_item.code_table, new_item.code_table)
        if key in seen:
            continue
        seen.add(key)
        before = old.codes[old_item.code_table].codes
        after = new.codes[new_item.code_table].codes
        table = new_item.code_table
        changes += [Difference("code-removed", table=table, code=c, old=before[c]) for c in before if c not in after]
        changes += [Difference("code-added", table=table, code=c, new=after[c]) for c in after if c not in before]
        changes += [
            Difference("code-changed", table=table, code=c, old=before[c], new=after[c])
            for c in before
            if c in after and before[c] != after[c]
        ]
    return changes


def diff_layouts(old: Layout, new: Layout) -> LayoutDiff:
    """The differences from ``old`` to ``new``: layout fields, then items in the new layout's
    order (removed items at the old position), then code-table entries."""
    differences = [
        Difference("layout-changed", field=name, old=_text(getattr(old, name)), new=_text(getattr(new, name)))
        for name in LAYOUT_FIELDS
        if getattr(old, name) != getattr(new, name)
    ]
    old_by_name = {i.name: i for i in old.items}
    new_by_name = {i.name: i for i in new.items}
    removed = [i for i in old.items if i.name not in new_by_name]
    added = [i for i in new.items if i.name not in old_by_name]
    renamed: dict[str, Item] = {}  # new name → old item
    for new_item in added:
        twin = next((o for o in removed if o.no == new_item.no and o.type == new_item.type), None)
        if twin is not None:
            renamed[new_item.name] = twin
            removed.remove(twin)
    pairs: list[tuple[Item, Item]] = []
    item_diffs: list[tuple[int, int, list[Difference]]] = []  # (position, 0 removed / 1 other, …)
    for new_item in new.items:
        old_item = old_by_name.get(new_item.name) or renamed.get(new_item.name)
        if old_item is None:
            entry = [Difference("item-added", item=new_item.name, new=_summary(new_item))]
        else:
            pairs.append((old_item, new_item))
            entry = []
            if old_item.name != new_item.name:
                entry.append(Difference("item-renamed", item=new_item.name, old_item=old_item.name, old=str(old_item.no)))
            entry += _item_changes(old_item, new_item)
        item_diffs.append((new_item.no, 1, entry))
    item_diffs += [(o.no, 0, [Difference("item-removed", item=o.name, old=_summary(o))]) for o in removed]
    for _, _, entry in sorted(item_diffs, key=lambda x: (x[0], x[1])):
        differences += entry
    differences += _code_changes(old, new, pairs)
    return LayoutDiff(_identity(old), _identity(new), tuple(differences))
