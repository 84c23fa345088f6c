"""The drafted mapping: per matched item its source, transforms and code map, written as
commented TOML that ``mig extract`` reads unedited.

Comments say how each column was matched and what was detected (in the message language);
they never hold a value of the sample except codes of code-like columns, which are no
personal data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from mig.guess.match import Match
from mig.guess.profile import ColumnProfile
from mig.guess.sniff import Sniffed
from mig.i18n import text
from mig.jp import normalise_heading
from mig.layout import Item, Layout


def toml_string(value: str) -> str:
    """A TOML basic string (JSON escapes are TOML escapes).

    >>> toml_string('氏名"カナ')
    '"氏名\\\\"カナ"'
    """
    return json.dumps(value, ensure_ascii=False)


@dataclass
class DraftItem:
    """One item of the draft: its TOML inline table and the notes for its comment."""

    item: Item
    match: Match
    source: dict[str, object]
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = []
        for key, value in self.source.items():
            if isinstance(value, str):
                parts.append(f"{key} = {toml_string(value)}")
            else:
                assert isinstance(value, list)
                parts.append(f"{key} = [{', '.join(_toml_value(v) for v in value)}]")
        how = text(f"guess.how-{self.match.how}")
        comment = "; ".join([f"{self.match.score:.2f} {how}", *self.notes])
        return f"{toml_string(self.item.name)} = {{ {', '.join(parts)} }}  # {comment}"


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return toml_string(value)
    assert isinstance(value, dict)
    inner = ", ".join(f"{k} = {toml_string(v) if isinstance(v, str) else v}" for k, v in value.items())
    return f"{{ {inner} }}"


@dataclass(frozen=True)
class CodeMapDraft:
    """A ``[code_maps."…"]`` stub: found codes mapped where the standard code is clear."""

    table: str
    columns: tuple[str, ...]
    mapped: tuple[tuple[str, str, str], ...]  # (source code, standard code, label)
    unresolved: tuple[str, ...]
    #: Values not shaped like codes (not ASCII letters and digits): counted, never written.
    hidden: int = 0


def standard_code(value: str, codes: dict[str, str]) -> str | None:
    """The standard code a source code stands for: itself, the same number padded
    (``1`` → ``01``), or the code whose label it is (``男`` → ``1``, width and kana folded).

    >>> standard_code("男", {"1": "男", "2": "女"}), standard_code("1", {"01": "世帯主"}), standard_code("M", {"1": "男"})
    ('1', '01', None)
    """
    if value in codes:
        return value
    if value.isdigit():
        for code in codes:
            if code.isdigit() and len(code) > len(value) and code == value.zfill(len(code)):
                return code
    folded = normalise_heading(value)
    hits = [code for code, label in codes.items() if folded and normalise_heading(label) == folded]
    return hits[0] if len(hits) == 1 else None


def item_source(item: Item, match: Match, profile: ColumnProfile) -> DraftItem:
    """How ``item`` reads ``match.column``: the source kind, transforms and notes."""
    column = match.column
    draft = DraftItem(item, match, {"column": column})
    transforms: list[object] = []
    if item.type == "日付" and profile.wareki:
        draft.source = {"wareki": column}
        draft.notes.append(text("guess.note-wareki"))
    elif item.type == "日付" and profile.era_column is not None:
        draft.source = {"wareki": column, "era": profile.era_column}
        draft.notes.append(text("guess.note-wareki-era", era=profile.era_column))
    elif item.type == "日付" and profile.date_format not in (None, "%Y%m%d"):
        transforms.append({"date": profile.date_format})
        draft.notes.append(text("guess.note-date", format=profile.date_format))
    elif item.type == "全角文字":
        transforms += ["trim", "zenkaku"]
        if profile.halfwidth_kana:
            draft.notes.append(text("guess.note-kana"))
    elif item.type == "混在文字":
        transforms.append("trim")
        if profile.halfwidth_kana:
            transforms.append("kana_fullwidth")
            draft.notes.append(text("guess.note-kana"))
    elif item.type == "数字" and profile.separated_digits:
        transforms.append("digits")
        draft.notes.append(text("guess.note-digits"))
    elif profile.padded:
        transforms.append("trim")
    if item.type == "コード" and item.code_table and profile.codes is None and profile.filled:
        draft.notes.append(text("guess.note-not-codes", count=profile.distinct))
    if transforms:
        draft.source["transforms"] = transforms
    return draft


def code_map_draft(item: Item, profile: ColumnProfile, layout: Layout) -> CodeMapDraft | None:
    """The code map a code item needs, or ``None`` when the column already holds standard
    codes (or does not look like a code column)."""
    table = layout.codes.get(item.code_table or "")
    if table is None or profile.codes is None:
        return None
    if all(value in table.codes for value in profile.codes):
        return None
    mapped = []
    unresolved = []
    hidden = 0
    for value in profile.codes:
        code = standard_code(value, table.codes)
        if code is not None:
            mapped.append((value, code, table.codes[code]))
        elif value.isascii() and value.isalnum():
            unresolved.append(value)
        else:  # not code-shaped: it may be a name or another value, so it is only counted
            hidden += 1
    return CodeMapDraft(table.name, (profile.name,), tuple(mapped), tuple(unresolved), hidden)


def merge_code_maps(drafts: Sequence[CodeMapDraft]) -> list[CodeMapDraft]:
    """One code map per code table (two items of one table share it)."""
    merged: dict[str, CodeMapDraft] = {}
    for d in drafts:
        if d.table not in merged:
            merged[d.table] = d
            continue
        old = merged[d.table]
        mapped = dict((s, (c, label)) for s, c, label in old.mapped) | {s: (c, label) for s, c, label in d.mapped}
        unresolved = sorted((set(old.unresolved) | set(d.unresolved)) - set(mapped))
        merged[d.table] = CodeMapDraft(
            d.table, old.columns + d.columns,
            tuple((s, c, label) for s, (c, label) in sorted(mapped.items())), tuple(unresolved),
            old.hidden + d.hidden,
        )
    return list(merged.values())


def render(
    layout: Layout,
    reference: str,
    samples: Sequence[Sniffed],
    items: Sequence[DraftItem],
    code_maps: Sequence[CodeMapDraft],
    unmatched_columns: Sequence[str],
    required_missing: Sequence[str],
    sample_bytes: int,
    sample_rows: int,
) -> str:
    """The commented mapping TOML."""
    first = samples[0]
    lines = [
        "# " + text("guess.title", layout=layout.id, name=f"{layout.business} {layout.name}", files=len(samples)),
        "# " + text("guess.review"),
        "# " + text(
            "guess.detected", encoding=first.encoding, delimiter=json.dumps(first.delimiter),
            quote=json.dumps(first.quote) if first.quote else "-", header=text("guess.header-yes" if first.header else "guess.header-no"),
            mib=sample_bytes // (1 << 20) or 1, rows=sample_rows,
        ),
    ]
    if not first.header:
        lines.append("# " + text("guess.no-header", count=len(first.columns)))
    if unmatched_columns:
        lines.append("# " + text("guess.unmatched", columns=", ".join(unmatched_columns)))
    if required_missing:
        lines.append("# " + text("guess.required-missing", items=", ".join(required_missing)))
    lines += ["", 'adapter = "csv"', "", "[source]"]
    for key, value in first.options().items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, list):
            lines.append(f"{key} = [{', '.join(toml_string(str(v)) for v in value)}]")
        else:
            lines.append(f"{key} = {toml_string(str(value))}")
    for cm in code_maps:
        lines += ["", "# " + text("guess.code-map", columns=", ".join(cm.columns), table=cm.table)]
        lines.append(f"[code_maps.{toml_string(cm.table)}]")
        lines += [f"{toml_string(s)} = {toml_string(c)}  # {label}" for s, c, label in cm.mapped]
        if cm.unresolved:
            lines.append("# " + text("guess.code-unresolved"))
            lines += [f"# {toml_string(s)} = \"\"" for s in cm.unresolved]
        if cm.hidden:
            lines.append("# " + text("guess.code-hidden", count=cm.hidden))
    lines += ["", "[[files]]", f"layout = {toml_string(reference)}"]
    names = sorted({s.path.name for s in samples})
    lines.append(f"inputs = [{', '.join(toml_string(n) for n in names)}]")
    lines += ["", "[files.items]"]
    lines += [d.line() for d in items]
    for name in required_missing:
        lines.append(f"# {toml_string(name)} = {{ const = \"\" }}  # " + text("guess.required-line"))
    return "\n".join(lines) + "\n"
