"""Target policies for 外字 at load time: keep, strip, shrink (縮退) or fail.

The intermediate files keep what the resolver produced — MJ characters with their IVS.
A target system may hold less, so ``mig load --gaiji-policy`` chooses:

- ``keep``: write the text as it is (IVS kept). Nothing changes, nothing is scanned.
- ``strip``: drop the variation selector of every variation sequence (``邊`` + VS → ``邊``).
- ``shrink``: 縮退 every character outside JIS X 0213 (variation sequences included) to
  a JIS X 0213 character through the MJ縮退マップ, trying its tables in a configurable
  order (:data:`DEFAULT_SHRINK_ORDER`; aliases in :data:`SHRINK_TABLES`). A character
  with no candidate in those tables (or not an MJ character at all, e.g. an unresolved
  Private Use character) stays as it is and is reported as ``unshrinkable``.
- ``fail``: refuse the load if any character lies outside JIS X 0213 (a variation
  sequence or a Private Use character counts as outside); nothing is written.

The repertoire is the target's (:data:`TARGETS`, defined in :mod:`mig.charsets`):
``jisx0213`` (JIS X 0213:2004, the default, for
databases holding Unicode) or ``cp932`` (a Shift_JIS file for the new system: JIS X 0208
plus the NEC and IBM extensions). For ``cp932``, ``shrink`` picks a 縮退 candidate CP932
holds (so ``髙``, an IBM extension, stays), ``fail`` refuses what CP932 lacks, and the
user-defined area U+E000–U+E757 (CP932 F040–F9FC) counts as holdable for ``keep``,
``strip`` and ``shrink``: an unresolved vendor 外字 passes as a user-defined code and is
reported by :func:`scan_encoding` — it is never turned into ``?``.

After the policy, :func:`scan_encoding` finds, per distinct character, what the target
*encoding* still cannot hold (``not-encodable``) and the Private Use characters it
carries (``private-use``); a writer refuses the former and reports the latter.

Every change is counted per distinct character: code points, MJ文字図形名, what it became,
which shrink table, how often, in which items — never the value it sat in.

The work per batch is vectorised: one ``str.contains`` to find the values that need it,
``str.extract_all`` of the characters in question, a group-by for the counts, one
``str.replace_many`` per column. Only the distinct characters found (a few hundred at
most) are decided in Python.

>>> import polars as pl
>>> frame = pl.DataFrame({"氏名": ["渡邊\\U000E010F　太郎", "髙橋"]})
>>> out, changes = get_policy("shrink").apply(frame, ["氏名"])
>>> out["氏名"].to_list()
['渡邊\\u3000太郎', '高橋']
>>> changes.select("code", "mj", "to_code", "action", "count").rows()
[('U+908A U+E010F', 'MJ026199', 'U+908A', 'shrunk', 1), ('U+9AD9', 'MJ028902', 'U+9AD8', 'shrunk', 1)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import polars as pl

from mig.charsets import (
    CP932_USER_DEFINED_CLASS,
    REPERTOIRES,
    VARIATION_SELECTOR_CLASS,
    VARIATION_SELECTOR_PATTERN,
    VARIATION_SEQUENCE_PATTERN,
    is_cp932_user_defined,
    is_private_use,
    is_variation_selector,
    outside_pattern,
    private_use_pattern,
    repertoire,
)
from mig.errors import ConfigError, ExitCode, UnknownNameError, UserError
from mig.gaiji.mj import codepoints, mj_by_text, shrink_table

__all__ = [
    "CHANGED_ACTIONS",
    "CHANGE_SCHEMA",
    "DEFAULT_SHRINK_ORDER",
    "ENCODINGS",
    "POLICIES",
    "SHRINK_TABLES",
    "TARGETS",
    "ChangeTally",
    "GaijiPolicy",
    "GaijiPolicyError",
    "count_units",
    "get_policy",
    "parse_shrink_order",
    "scan_encoding",
]

POLICIES: tuple[str, ...] = ("keep", "strip", "shrink", "fail")

TARGETS: dict[str, str] = {name: REPERTOIRES[name] for name in ("jisx0213", "cp932")}
"""Target repertoires a policy works against → their labels (:data:`mig.charsets.REPERTOIRES`)."""

ENCODINGS: tuple[str, ...] = ("utf-8", "cp932")
"""Encodings :func:`scan_encoding` checks (``utf-8`` holds every character)."""

SHRINK_TABLES: dict[str, str] = {
    "jis": "JIS包摂規準UCS統合規則",
    "582-1": "法務省告示582号別表第四_一",
    "582-2": "法務省告示582号別表第四_二",
    "koseki": "戸籍統一文字情報_親字正字",
    "2842-zoku": "民一2842号通達別表_誤字俗字正字一覧表_俗字",
    "2842-betsu": "民一2842号通達別表_誤字俗字正字一覧表_別字",
    "2842-mujirushi": "民一2842号通達別表_誤字俗字正字一覧表_無印",
    "5202": "民二5202号通知別表_正字俗字等対照表",
    "jisho": "辞書類等による関連字",
    "ruisui": "読み字形による類推",
}
"""Short alias → table name of the MJ縮退マップ (either may be given in an order)."""

DEFAULT_SHRINK_ORDER: tuple[str, ...] = tuple(SHRINK_TABLES.values())
"""The order the MJ縮退マップ documentation recommends: JIS包摂規準・UCS統合規則, then
法務省告示582号, the 戸籍 tables and 通達・通知, then dictionaries, then inference."""

CHANGED_ACTIONS: tuple[str, ...] = ("stripped", "shrunk")
"""Actions that changed the text (``unshrinkable`` and ``outside`` leave it)."""

CHANGE_SCHEMA: dict[str, pl.DataType] = {
    "item": pl.String(),
    "code": pl.String(),
    "mj": pl.String(),
    "to_code": pl.String(),
    "action": pl.String(),
    "via": pl.String(),
    "count": pl.Int64(),
}
"""Per batch and policy: one row per (item, distinct character) that the policy touched."""


class GaijiPolicyError(UserError):
    """The ``fail`` policy met characters outside the target repertoire (exit code 1)."""

    exit_code = ExitCode.FINDINGS


@cache
def _outside_pattern(target: str = "jisx0213", user_defined: bool = False) -> str:
    """One unit outside ``target``: a variation sequence, a lone selector, or a character
    the repertoire lacks (with ``user_defined``, CP932's user-defined area counts as in)."""
    allow = VARIATION_SELECTOR_CLASS + (CP932_USER_DEFINED_CLASS if user_defined else "")
    outside = outside_pattern(target, allow)
    return f"{VARIATION_SEQUENCE_PATTERN}|{outside}|{VARIATION_SELECTOR_PATTERN}"


def parse_shrink_order(order: str | Sequence[str] | None) -> tuple[str, ...]:
    """Table names (or :data:`SHRINK_TABLES` aliases), comma-separated or a sequence.

    >>> parse_shrink_order("koseki,jis")
    ('戸籍統一文字情報_親字正字', 'JIS包摂規準UCS統合規則')
    >>> parse_shrink_order("nope")
    Traceback (most recent call last):
    ...
    mig.errors.UnknownNameError: unknown shrink table 'nope'; known: 2842-betsu, 2842-mujirushi, 2842-zoku, 5202, 582-1, 582-2, jis, jisho, koseki, ruisui
    """
    if order is None:
        return DEFAULT_SHRINK_ORDER
    names = [p.strip() for p in order.split(",")] if isinstance(order, str) else [p.strip() for p in order]
    names = [n for n in names if n]
    if not names:
        raise ConfigError("shrink order names no table")
    tables: list[str] = []
    for name in names:
        table = SHRINK_TABLES.get(name, name if name in SHRINK_TABLES.values() else None)
        if table is None:
            raise UnknownNameError("shrink table", name, SHRINK_TABLES)
        if table in tables:
            raise ConfigError(f"shrink table {name!r} appears twice in the shrink order")
        tables.append(table)
    return tuple(tables)


@cache
def _shrink_targets(
    order: tuple[str, ...], target: str = "jisx0213"
) -> dict[str, tuple[str, str]]:
    """MJ文字図形名 → (character of ``target``, table) for the first table of ``order``
    that has a candidate inside the repertoire (rank 1 first, then fewest hops)."""
    held = pl.Series(sorted(repertoire(target)), dtype=pl.String)
    rank = {table: n for n, table in enumerate(order)}
    chosen = (
        shrink_table()
        .filter(pl.col("table").is_in(list(order)) & pl.col("ucs").is_in(held.implode()))
        .with_columns(pl.col("table").replace_strict(rank, return_dtype=pl.Int32).alias("__table"))
        .sort(
            ["__table", "rank", "hops", "source_order"],
            nulls_last=[False, True, False, False],
        )
        .group_by("mj", maintain_order=True)
        .first()
    )
    return {
        mj: (ucs, table)
        for mj, ucs, table in chosen.select("mj", "ucs", "table").iter_rows()
    }


@dataclass(frozen=True)
class _Decision:
    to: str | None
    mj: str | None
    action: str
    via: str | None


@dataclass(frozen=True)
class GaijiPolicy:
    """A target policy: :data:`POLICIES` ``name``, for ``shrink`` the table order, and the
    target repertoire (:data:`TARGETS`) it works against.

    >>> GaijiPolicy("shrink", target="cp932").to_dict()["target"]
    'cp932'
    """

    name: str = "keep"
    shrink_order: tuple[str, ...] = DEFAULT_SHRINK_ORDER
    target: str = "jisx0213"

    def to_dict(self) -> dict[str, Any]:
        """``{"policy": ..., "shrink_order": [...], "target": ...}`` (the order only for
        ``shrink``, the target only when it is not the default ``jisx0213``)."""
        data: dict[str, Any] = {"policy": self.name}
        if self.name == "shrink":
            data["shrink_order"] = list(self.shrink_order)
        if self.target != "jisx0213":
            data["target"] = self.target
        return data

    @property
    def repertoire(self) -> frozenset[str]:
        """The characters of the policy's target (:func:`mig.charsets.repertoire`)."""
        return repertoire(self.target)

    def _pattern(self) -> str:
        if self.name == "strip":
            return f"{VARIATION_SEQUENCE_PATTERN}|{VARIATION_SELECTOR_PATTERN}"
        # CP932's user-defined area is holdable, except where ``fail`` asks for the
        # repertoire proper (an unresolved 外字 counts as outside, as for JIS X 0213).
        return _outside_pattern(self.target, self.target == "cp932" and self.name != "fail")

    def _decide(self, unit: str) -> _Decision:
        if self.name == "strip":
            plain = "".join(c for c in unit if not is_variation_selector(c))
            return _Decision(plain, mj_by_text().get(unit), "stripped", None)
        if self.name == "fail":
            return _Decision(None, mj_by_text().get(unit), "outside", None)
        if len(unit) == 1 and is_variation_selector(unit):  # a selector with no base
            return _Decision("", None, "stripped", None)
        mj = mj_by_text().get(unit)
        base = unit[0] if len(unit) == 2 and is_variation_selector(unit[1]) else None
        if mj is None and base is not None:
            if base in self.repertoire:  # a sequence the MJ table lacks, on a held base
                return _Decision(base, None, "stripped", None)
            mj = mj_by_text().get(base)
        target = _shrink_targets(self.shrink_order, self.target).get(mj) if mj else None
        if target is None:
            return _Decision(None, mj, "unshrinkable", None)
        return _Decision(target[0], mj, "shrunk", target[1])

    def apply(
        self, frame: pl.DataFrame, columns: Sequence[str]
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Apply the policy to ``columns`` of ``frame``; return it and the changes
        (:data:`CHANGE_SCHEMA`, one row per item and distinct character touched).

        ``fail`` raises :class:`GaijiPolicyError` naming the characters (code points and
        counts, never values) when any lies outside the target repertoire.
        """
        columns = [c for c in columns if c in frame.columns and frame.schema[c] == pl.String]
        if self.name == "keep" or not columns or frame.height == 0:
            return frame, pl.DataFrame(schema=CHANGE_SCHEMA)
        pattern = self._pattern()
        found = count_units(frame, columns, pattern)
        if found.height == 0:
            return frame, pl.DataFrame(schema=CHANGE_SCHEMA)
        units = sorted(found.get_column("unit").unique().to_list())
        decisions = {unit: self._decide(unit) for unit in units}  # distinct characters only
        if self.name == "fail":
            raise GaijiPolicyError(_fail_message(found, TARGETS[self.target]))
        changed = {u: d.to for u, d in decisions.items() if d.to is not None and d.to != u}
        if changed:
            keys = sorted(units, key=len, reverse=True)  # every unit, so sequences stay whole
            values = [changed.get(u, u) for u in keys]
            touched = found.filter(pl.col("unit").is_in(list(changed))).get_column("item").unique()
            frame = frame.with_columns(
                [
                    pl.col(name).str.replace_many(keys, values, leftmost=True)
                    for name in columns if name in set(touched.to_list())
                ]
            )
        table = pl.DataFrame(
            {
                "unit": units,
                "code": [codepoints(u) for u in units],
                "mj": [decisions[u].mj for u in units],
                "to_code": [_code_or_none(decisions[u].to) for u in units],
                "action": [decisions[u].action for u in units],
                "via": [decisions[u].via for u in units],
            },
            schema={"unit": pl.String, "code": pl.String, "mj": pl.String, "to_code": pl.String,
                    "action": pl.String, "via": pl.String},
        )
        changes = (
            found.join(table, on="unit", how="left")
            .select(list(CHANGE_SCHEMA))
            .sort("item", "code")
            .cast(CHANGE_SCHEMA)  # type: ignore[arg-type]
        )
        return frame, changes


def _code_or_none(text: str | None) -> str | None:
    return codepoints(text) if text else None


def _fail_message(found: pl.DataFrame, repertoire: str = REPERTOIRES["jisx0213"]) -> str:
    totals = (
        found.group_by("unit").agg(pl.col("count").sum()).sort(["count", "unit"], descending=[True, False])
    )
    shown = [f"{codepoints(u)} ×{n}" for u, n in totals.head(10).iter_rows()]
    more = f" and {totals.height - 10} more" if totals.height > 10 else ""
    return (
        f"gaiji policy fail: {totals.height} distinct character(s) outside {repertoire} "
        f"({', '.join(shown)}{more}); nothing was loaded"
    )


def get_policy(
    name: str, shrink_order: str | Sequence[str] | None = None, target: str = "jisx0213"
) -> GaijiPolicy:
    """The policy called ``name`` (:data:`POLICIES`) against ``target`` (:data:`TARGETS`);
    ``shrink_order`` only with ``shrink``.

    >>> get_policy("shrink", "jis").shrink_order
    ('JIS包摂規準UCS統合規則',)
    >>> import polars as pl
    >>> frame = pl.DataFrame({"氏名": ["髙橋　𠮷子"]})
    >>> get_policy("shrink", target="cp932").apply(frame, ["氏名"])[0]["氏名"].item()
    '髙橋　吉子'
    """
    if name not in POLICIES:
        raise UnknownNameError("gaiji policy", name, POLICIES)
    if target not in TARGETS:
        raise UnknownNameError("gaiji target repertoire", target, TARGETS)
    if shrink_order is not None and name != "shrink":
        raise ConfigError("a shrink order only applies to --gaiji-policy shrink")
    return GaijiPolicy(name, parse_shrink_order(shrink_order), target)


@cache
def _scan_pattern(encoding: str) -> str:
    if encoding == "utf-8":
        return private_use_pattern()
    vs = VARIATION_SELECTOR_CLASS
    return rf"[^{vs}][{vs}]+|[{vs}]|{outside_pattern('cp932')}"


def _is_private_use(unit: str, encoding: str) -> bool:
    if len(unit) != 1:
        return False
    return is_cp932_user_defined(unit) if encoding == "cp932" else is_private_use(unit)


def scan_encoding(
    frame: pl.DataFrame, columns: Sequence[str], encoding: str
) -> pl.DataFrame:
    """Per item and distinct character, what ``encoding`` (:data:`ENCODINGS`) cannot hold
    (action ``not-encodable``) and the Private Use characters it would carry
    (``private-use``: for ``cp932`` the user-defined area U+E000–U+E757, written as
    F040–F9FC; for ``utf-8`` every Private Use code point). Rows follow
    :data:`CHANGE_SCHEMA` (``to_code`` is the code kept for ``private-use``); values are
    never part of it. Vectorised: one ``str.contains`` and ``str.extract_all`` per column;
    only the distinct characters found are classified in Python.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"氏名": ["渡邊\U000E010F", "\ue001田", "髙"]})
    >>> scan_encoding(frame, ["氏名"], "cp932").select("code", "mj", "action", "count").rows()
    [('U+908A U+E010F', 'MJ026199', 'not-encodable', 1), ('U+E001', None, 'private-use', 1)]
    """
    if encoding not in ENCODINGS:
        raise UnknownNameError("target encoding", encoding, ENCODINGS)
    columns = [c for c in columns if c in frame.columns and frame.schema[c] == pl.String]
    if not columns or frame.height == 0:
        return pl.DataFrame(schema=CHANGE_SCHEMA)
    pattern = _scan_pattern(encoding)
    found = count_units(frame, columns, pattern)
    if found.height == 0:
        return pl.DataFrame(schema=CHANGE_SCHEMA)
    units = sorted(found.get_column("unit").unique().to_list())
    actions = {
        u: "private-use" if _is_private_use(u, encoding) else "not-encodable" for u in units
    }
    table = pl.DataFrame(
        {
            "unit": units,
            "code": [codepoints(u) for u in units],
            "mj": [mj_by_text().get(u) for u in units],
            "to_code": [codepoints(u) if actions[u] == "private-use" else None for u in units],
            "action": [actions[u] for u in units],
            "via": [None] * len(units),
        },
        schema={"unit": pl.String, "code": pl.String, "mj": pl.String, "to_code": pl.String,
                "action": pl.String, "via": pl.String},
    )
    return (
        found.join(table, on="unit", how="left")
        .select(list(CHANGE_SCHEMA))
        .sort("item", "code")
        .cast(CHANGE_SCHEMA)  # type: ignore[arg-type]
    )


@dataclass
class ChangeTally:
    """Adds up the changes of many batches: one entry per (item, distinct character)."""

    _counts: dict[tuple[str, str, str | None, str | None, str, str | None], int] = field(
        default_factory=dict
    )

    def add(self, changes: pl.DataFrame) -> None:
        """Add one batch's changes (:data:`CHANGE_SCHEMA`); a loop over distinct characters."""
        for item, code, mj, to_code, action, via, count in changes.iter_rows():
            key = (item, code, mj, to_code, action, via)
            self._counts[key] = self._counts.get(key, 0) + int(count)

    def merge(self, other: ChangeTally) -> None:
        """Add every count of ``other`` (a batch's tally kept apart until it is known to count)."""
        for key, count in other._counts.items():
            self._counts[key] = self._counts.get(key, 0) + count

    def entries(self) -> list[dict[str, Any]]:
        """Per distinct character: ``code``, ``mj``, ``to_code``, ``action``, ``via``,
        ``count`` (all items) and ``items`` (item → count), sorted by code."""
        merged: dict[tuple[str, str | None, str | None, str, str | None], dict[str, int]] = {}
        for (item, code, mj, to_code, action, via), count in self._counts.items():
            merged.setdefault((code, mj, to_code, action, via), {})[item] = count
        return [
            {
                "code": code, "mj": mj, "to_code": to_code, "action": action, "via": via,
                "count": sum(items.values()), "items": dict(sorted(items.items())),
            }
            for (code, mj, to_code, action, via), items in sorted(
                merged.items(), key=lambda kv: (kv[0][0], kv[0][3])
            )
        ]


def count_units(frame: pl.DataFrame, columns: Sequence[str], pattern: str) -> pl.DataFrame:
    """``item``, ``unit``, ``count``: how often each match of ``pattern`` occurs per column.

    One ``str.contains`` picks the values that hold a match, ``str.extract_all`` takes the
    matches out and a group-by counts them; no Python loop over rows or characters.

    >>> frame = pl.DataFrame({"氏名": ["髙橋", "髙田", None], "住所": ["髙", "東京", "x"]})
    >>> count_units(frame, ["氏名", "住所"], "髙").sort("item").rows()
    [('住所', '髙', 1), ('氏名', '髙', 2)]
    """
    parts = [
        frame.lazy()
        .select(pl.col(name).alias("value"))
        .filter(pl.col("value").str.contains(pattern).fill_null(False))
        .select(
            pl.lit(name, dtype=pl.String).alias("item"),
            pl.col("value").str.extract_all(pattern).alias("unit"),
        )
        .explode("unit")
        .group_by("item", "unit")
        .agg(pl.len().cast(pl.Int64).alias("count"))
        for name in columns
    ]
    return pl.concat(pl.collect_all(parts))
