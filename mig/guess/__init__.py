"""``mig guess``: draft a mapping from sample exports for one standard layout.

Like Embulk's ``guess`` and frictionless' ``describe``, but it knows the standard layouts:
it sniffs the samples (encoding through the csv adapter, delimiter, quoting, header —
:mod:`mig.guess.sniff`), matches their headings to the layout's 項目名称
(:mod:`mig.guess.match`), profiles the columns with Polars on a bounded sample (和暦 / 西暦
dates, 半角カナ, code values — :mod:`mig.guess.profile`) and writes a commented mapping TOML
(:mod:`mig.guess.draft`) that ``mig extract`` reads unedited.

It sits above the extract pipeline (tests/test_layers.py): it recognises dates with
extract's own converters, so what it calls a 和暦 column is what extract converts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from mig.errors import ConfigError
from mig.guess.draft import (
    CodeMapDraft,
    DraftItem,
    code_map_draft,
    item_source,
    merge_code_maps,
    render,
)
from mig.guess.match import Match, known_heading, match_columns
from mig.guess.profile import ColumnProfile, profile_columns
from mig.guess.sniff import SAMPLE_BYTES, SAMPLE_ROWS, Sniffed, sniff
from mig.layout import Layout, get_layout, is_layout_path

__all__ = ["GuessResult", "guess_mapping"]

#: Score factor for a column whose values do not fit the item's type (a date column for a
#: name item, a name column for a date item): the heading alone must then be very close.
MISFIT = 0.7


@dataclass(frozen=True)
class GuessResult:
    """The drafted mapping and what it is made of."""

    toml: str
    layout: str
    samples: tuple[Sniffed, ...]
    matches: tuple[Match, ...]
    unmatched_columns: tuple[str, ...]
    required_missing: tuple[str, ...]
    code_maps: tuple[CodeMapDraft, ...]


def _fit(profiles: dict[str, ColumnProfile], layout: Layout) -> Callable[[str, str], float]:
    types = {item.name: item.type for item in layout.items}

    def adjust(column: str, item: str) -> float:
        profile = profiles[column]
        if profile.filled == 0:
            return 1.0
        if types[item] == "年月":  # no 年月 forms are profiled: the heading decides
            return 1.0
        return 1.0 if (types[item] == "日付") == profile.is_date else MISFIT

    return adjust


def guess_mapping(samples: Sequence[Path], layout_id: str, layouts_root: Path | None = None) -> GuessResult:
    """Draft a mapping of ``samples`` (files of one form) onto layout ``layout_id``.

    Every sample must have the same encoding, delimiter, quoting and columns as the first:
    they feed one ``[[files]]`` entry. Unreadable samples are :class:`~mig.errors.InputError`
    (exit 3), samples of different forms a :class:`~mig.errors.ConfigError` (exit 2).
    """
    if not samples:
        raise ConfigError("mig guess: give at least one sample file")
    layout = get_layout(layout_id, layouts_root)
    known = known_heading(layout.item_names)
    sniffed = [sniff(Path(path), known) for path in samples]
    first = sniffed[0]
    for other in sniffed[1:]:
        if other.form() != first.form():
            raise ConfigError(
                f"{other.path}: its encoding, delimiter, quoting or columns differ from {first.path}; "
                "guess each form of file separately"
            )
    rows = pl.concat([s.rows for s in sniffed])
    profiles = profile_columns(rows)
    # an era column is read with its date column, not matched to an item of its own
    era_columns = {p.era_column for p in profiles.values() if p.era_column is not None}
    columns = [c for c in first.columns if c not in era_columns]
    matches = match_columns(columns, layout.item_names, _fit(profiles, layout))
    drafts: list[DraftItem] = []
    code_drafts: list[CodeMapDraft] = []
    for match in matches:
        item = layout.item(match.item)
        draft = item_source(item, match, profiles[match.column])
        code = code_map_draft(item, profiles[match.column], layout) if item.type == "コード" else None
        if code is not None:
            draft.source["code_map"] = code.table
            code_drafts.append(code)
        drafts.append(draft)
    used = {m.column for m in matches} | {str(d.source["era"]) for d in drafts if "era" in d.source}
    unmatched = tuple(c for c in first.columns if c not in used)  # headings, or our own c1…cN
    matched_items = {m.item for m in matches}
    required_missing = tuple(i.name for i in layout.items if i.required and i.name not in matched_items)
    code_maps = merge_code_maps(code_drafts)
    # a layout file is named by its absolute path: the mapping may be written anywhere
    reference = str(Path(layout_id).resolve()) if is_layout_path(layout_id) else layout.id
    toml = render(
        layout, reference, sniffed, drafts, code_maps, unmatched, required_missing, SAMPLE_BYTES, SAMPLE_ROWS
    )
    return GuessResult(
        toml=toml,
        layout=layout.id,
        samples=tuple(sniffed),
        matches=tuple(matches),
        unmatched_columns=unmatched,
        required_missing=required_missing,
        code_maps=tuple(code_maps),
    )
