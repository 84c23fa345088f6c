"""Fuzzing ``mig layouts import`` with random cell text in a workbook grid.

Property, for any grid of cells (header words, type words, numbers, marks, note lines,
random text, merged ranges) under a header or not: the import returns layouts whose written
files read back as the same items, or raises :class:`mig.errors.ConfigError` — never another exception.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mig
from mig.errors import ConfigError
from mig.layout import load_layout_file
from mig.layout_import.sheets import HEADER_SYNONYMS, TYPE_WORDS
from tests.support.xlsx import SheetSpec, letters, write_xlsx

from .fuzzcount import tried

WORDS = sorted(HEADER_SYNONYMS) + sorted(TYPE_WORDS) + [
    "整数部", "小数部", "○", "◎", "任意", "-", "※ 注記", "【見出し】", "内容", "コード値", "表紙", "01",
    "10", "0", "１２", "3.0", "-1", "", " ", "項目\n名称", "\u3000", "a&b<c>",
]
# text as XML 1.0 can hold it (Excel writes control characters as _xHHHH_ escapes)
xml_text = st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=8)
cell_text = st.one_of(st.sampled_from(WORDS), xml_text, st.integers(-5, 200))
COLUMNS = ["項番", "項目名称", "データ型", "桁数", "必須", "繰返し", "コード名称", "備考"]
header = st.one_of(
    st.lists(st.sampled_from(COLUMNS), max_size=8, unique=True),
    st.permutations(COLUMNS).map(lambda p: ["項目名称", "データ型", "桁数"] + [c for c in p if c not in ("項目名称", "データ型", "桁数")][:2]),
)


@st.composite
def sheets(draw: st.DrawFn) -> SheetSpec:
    columns = draw(st.integers(1, 8))
    rows = draw(st.integers(1, 10))
    cells: dict[str, str | int | float] = {}
    words = draw(header)
    for c, word in enumerate(words, 1):
        cells[f"{letters(c)}1"] = word
    # under a known header word, mostly what such a column holds, sometimes anything
    fitting = {
        "項目名称": st.sampled_from(["氏名", "住所", "生年月日", "氏名カナ", "世帯番号"]),
        "データ型": st.sampled_from(sorted(set(TYPE_WORDS) - {"コード"})),
        "桁数": st.integers(1, 120),
    }
    for r in range(2 if cells else 1, rows + 1):
        for c in range(1, max(columns, len(words)) + 1):
            word = words[c - 1] if c <= len(words) else ""
            if word in fitting or draw(st.integers(0, 3)):
                anything = word not in fitting or draw(st.integers(0, 15)) == 0
                value = draw(cell_text if anything else fitting[word])
                if word == "項目名称" and isinstance(value, str):
                    value += str(r)  # mostly distinct names, so that some grids import
                if value != "":
                    cells[f"{letters(c)}{r}"] = value
    merges = []
    for _ in range(draw(st.integers(0, 2))):
        top, left = draw(st.integers(1, rows)), draw(st.integers(1, columns))
        merges.append(f"{letters(left)}{top}:{letters(left + draw(st.integers(0, 2)))}{top + draw(st.integers(0, 1))}")
    name = draw(st.sampled_from(["住民", "コード一覧", "表紙", "Sheet1", "改訂履歴"]))
    return SheetSpec(name, cells, merges)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sheets(), min_size=1, max_size=3, unique_by=lambda s: s.name), st.booleans())
def test_random_grids_import_or_fail_with_a_config_error(book: list[SheetSpec], inline: bool) -> None:
    tried("layout-import (random grids)")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(Path(tmp) / "住民基本台帳_基本データリスト.xlsx", book, shared_strings=not inline)
        try:
            mig.import_layouts(path)
        except ConfigError:
            return
        tried("layout-import (grids that imported, written and read back)")
        written = mig.import_layouts(path, Path(tmp) / "out")
        for imported in written.layouts:  # what was written reads back as the same items
            assert imported.layout.items
            assert load_layout_file(Path(tmp) / "out" / imported.file).items == imported.layout.items
