"""Source headings → 項目名称: exact, normalised (width, kana), known synonyms, similarity.

Headings are compared after :func:`mig.jp.normalise_heading` (the one owner of that
folding). Each pair gets a score from 0 to 1 and the way it matched; the assignment is
greedy by score (ties: layout order, then column order), one column per item.

>>> [heading_score(c, "生年月日") for c in ("生年月日", "生年 月日", "誕生日", "生年月")]
[(1.0, 'exact'), (0.95, 'normalised'), (0.9, 'synonym'), (0.73, 'similar')]
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from mig.jp import normalise_heading

How = Literal["exact", "normalised", "synonym", "similar"]

#: Headings legacy exports use for the same item. Each group is one meaning; a heading
#: in a group matches an item named by another heading of that group.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("生年月日", "誕生日", "生年月日和暦", "生年月日西暦", "誕生年月日", "birthday", "birth_date", "date_of_birth", "dob", "seinengappi"),
    ("氏名カナ", "カナ氏名", "フリガナ", "氏名フリガナ", "ふりがな", "氏名かな", "カナ", "よみがな", "氏名よみ", "name_kana", "kana_name", "shimei_kana", "furigana"),
    ("氏名", "name", "full_name", "shimei"),
    ("世帯主氏名カナ", "世帯主カナ氏名", "世帯主フリガナ", "世帯主カナ"),
    ("世帯員数", "世帯人員", "世帯人数", "人員", "人数", "ninzu"),
    ("最終更新年月日", "最終更新日", "更新年月日", "更新日", "最終更新日付", "updated_at", "last_updated", "update_date"),
    ("性別", "男女", "男女区分", "性別区分", "性別コード", "sex", "gender", "seibetsu"),
    ("続柄", "世帯主との続柄", "続柄コード", "zokugara", "relationship"),
    ("郵便番号", "〒", "郵便", "郵便番号7桁", "zip", "zipcode", "zip_code", "postal_code", "postcode", "yubin_no"),
    ("住所", "現住所", "所在地", "address", "addr", "jusho"),
    ("方書", "方書き", "建物名", "katagaki"),
    ("本籍", "本籍地", "honseki"),
    ("筆頭者", "筆頭者氏名", "hittosha"),
    ("世帯番号", "世帯コード", "世帯no", "setai_no", "setai_cd", "household_no"),
    ("宛名番号", "宛名コード", "個人コード", "住民番号", "atena_no"),
    ("個人番号", "マイナンバー", "my_number"),
    ("住民票コード", "住民票番号", "juminhyo_code"),
    ("住民状態", "住民区分", "住民状態区分", "状態区分"),
    ("団体コード", "市区町村コード", "地方公共団体コード", "自治体コード", "lg_code"),
)


def _key(heading: str) -> str:
    """The folded heading; a heading of symbols only (``〒``) is kept as written."""
    return normalise_heading(heading) or heading.strip()


_SYNONYM_GROUP: dict[str, int] = {_key(word): n for n, group in enumerate(SYNONYMS) for word in group}
#: Below this a heading is not taken for an item.
THRESHOLD = 0.6
_SIMILAR_WEIGHT = 0.85


def heading_score(column: str, item: str) -> tuple[float, How]:
    """How well the heading ``column`` names the item ``item`` (score, how)."""
    if column == item:
        return 1.0, "exact"
    a, b = _key(column), _key(item)
    if not a or not b:
        return 0.0, "similar"
    if a == b:
        return 0.95, "normalised"
    group = _SYNONYM_GROUP.get(a)
    if group is not None and group == _SYNONYM_GROUP.get(b):
        return 0.9, "synonym"
    ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    return round(_SIMILAR_WEIGHT * ratio, 2), "similar"


@dataclass(frozen=True)
class Match:
    """A source column taken for an item."""

    item: str
    column: str
    score: float
    how: How


def match_columns(
    columns: Sequence[str],
    items: Sequence[str],
    adjust: Callable[[str, str], float] | None = None,
) -> list[Match]:
    """Assign columns to items, best pairs first; ``adjust(column, item)`` scales a score
    (values that do not fit the item's type lower it). Pairs under :data:`THRESHOLD` stay
    unmatched.

    >>> [(m.item, m.column, m.how) for m in match_columns(["ｶﾅ氏名", "氏名", "誕生日"], ["氏名", "氏名カナ", "生年月日"])]
    [('氏名', '氏名', 'exact'), ('氏名カナ', 'ｶﾅ氏名', 'synonym'), ('生年月日', '誕生日', 'synonym')]
    """
    candidates: list[tuple[float, int, int, How]] = []
    for i, item in enumerate(items):
        for c, column in enumerate(columns):
            score, how = heading_score(column, item)
            if adjust is not None:
                score = round(score * adjust(column, item), 2)
            if score >= THRESHOLD:
                candidates.append((score, i, c, how))
    candidates.sort(key=lambda t: (-t[0], t[1], t[2]))
    taken_items: set[int] = set()
    taken_columns: set[int] = set()
    matches: list[Match] = []
    for score, i, c, how in candidates:
        if i in taken_items or c in taken_columns:
            continue
        taken_items.add(i)
        taken_columns.add(c)
        matches.append(Match(items[i], columns[c], score, how))
    order = {name: n for n, name in enumerate(items)}
    return sorted(matches, key=lambda m: order[m.item])


def known_heading(items: Sequence[str]) -> Callable[[str], bool]:
    """Whether a first-line field is close to one of ``items`` (the header test)."""
    folded = {_key(i) for i in items}
    groups = {_SYNONYM_GROUP[f] for f in folded if f in _SYNONYM_GROUP}

    def known(value: str) -> bool:
        a = _key(value)
        return bool(a) and (a in folded or _SYNONYM_GROUP.get(a, -1) in groups)

    return known
