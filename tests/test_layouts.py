"""The packaged 住民基本台帳 layouts (layouts/juki/) are complete and consistent."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import mig
from mig.layout import Layout, get_layout, list_layouts, load_code_tables, load_layout_file
from mig.resources import data_dir

JUKI = data_dir("layouts") / "juki"
LAYOUT_FILES = sorted(p for p in JUKI.glob("*.toml") if p.name != "codes.toml")
EXPECTED_IDS = ["juki-ido", "juki-jumin", "juki-setai"]


@pytest.fixture(scope="module")
def layouts() -> dict[str, Layout]:
    return {layout.id: layout for layout in list_layouts()}


def test_the_juki_folder_is_exactly_the_three_chukan_files() -> None:
    # the catalogue holds more 業務 and standards since issue 15 (tests/test_layout_catalogue.py)
    assert [layout.id for layout in mig.list_layouts(standard="中間標準レイアウト", business="住民基本台帳")] == EXPECTED_IDS


@pytest.mark.parametrize("path", LAYOUT_FILES, ids=lambda p: p.stem)
def test_each_file_loads_and_its_id_is_its_file_name(path: Path) -> None:
    layout = load_layout_file(path)
    assert layout.id == path.stem
    assert layout.business == "住民基本台帳"
    assert layout.byte_encoding == "cp932"
    assert layout.standard == "中間標準レイアウト"


def test_ids_are_unique_across_files() -> None:
    ids = [load_layout_file(p).id for p in LAYOUT_FILES]
    assert len(ids) == len(set(ids)) == 3


@pytest.mark.parametrize("path", LAYOUT_FILES, ids=lambda p: p.stem)
def test_provenance_says_modelled_not_copied(path: Path) -> None:
    layout = load_layout_file(path)
    assert layout.provenance.startswith("modelled:")
    assert "not copied" in layout.provenance
    head = path.read_text(encoding="utf-8").split("\nid = ", 1)[0]
    assert "MODELLED, NOT COPIED" in head


def test_item_numbers_run_from_one_without_gaps(layouts: dict[str, Layout]) -> None:
    for layout in layouts.values():
        assert [item.no for item in layout.items] == list(range(1, len(layout.items) + 1)), layout.id


def test_sizes_are_plausible(layouts: dict[str, Layout]) -> None:
    assert 10 <= len(layouts["juki-setai"].items) <= 15
    assert 20 <= len(layouts["juki-jumin"].items) <= 30
    assert 8 <= len(layouts["juki-ido"].items) <= 15


def test_byte_limits_allow_at_least_one_byte_per_character(layouts: dict[str, Layout]) -> None:
    for layout in layouts.values():
        for item in layout.items:
            if item.bytes is not None:
                assert item.length <= item.bytes <= 2 * item.length, (layout.id, item.name)


def test_primary_keys_are_required(layouts: dict[str, Layout]) -> None:
    assert layouts["juki-jumin"].primary_key == ("宛名番号",)
    assert layouts["juki-setai"].primary_key == ("世帯番号",)
    assert layouts["juki-ido"].primary_key == ("宛名番号", "異動連番")
    for layout in layouts.values():
        for name in layout.primary_key:
            assert layout.item(name).required, (layout.id, name)


def test_foreign_keys_point_to_existing_layouts_and_items(layouts: dict[str, Layout]) -> None:
    seen = set()
    for layout in layouts.values():
        for fk in layout.foreign_keys:
            target = get_layout(fk.layout)
            source_item = layout.item(fk.item)
            target_item = target.item(fk.target_item)
            assert fk.target_item in target.primary_key
            assert (source_item.type, source_item.length) == (target_item.type, target_item.length)
            seen.add((layout.id, fk.item, fk.layout))
    assert seen == {
        ("juki-jumin", "世帯番号", "juki-setai"),
        ("juki-ido", "宛名番号", "juki-jumin"),
    }


def test_every_code_item_has_a_non_empty_table(layouts: dict[str, Layout]) -> None:
    for layout in layouts.values():
        for item in layout.items:
            if item.type == "コード":
                assert item.code_table is not None
                table = layout.codes[item.code_table]
                assert table.codes, (layout.id, item.name)
                assert table.description
                assert all(len(code) <= item.length for code in table.codes), (layout.id, item.name)


def test_jumin_key_items_carry_their_rules(layouts: dict[str, Layout]) -> None:
    jumin = layouts["juki-jumin"]
    assert jumin.item("住民票コード").check == "住民票コード"
    assert jumin.item("住民票コード").length == 11
    assert jumin.item("個人番号").check == "個人番号"
    assert jumin.item("個人番号").length == 12
    birth = jumin.item("生年月日")
    assert (birth.type, birth.unknown, birth.required) == ("日付", "month", True)
    assert jumin.item("氏名").type == "混在文字"
    assert jumin.item("氏名カナ").type == "全角文字"
    assert jumin.item("性別").code_table == "性別"
    assert jumin.item("続柄").code_table == "続柄"
    assert jumin.item("住民となった事由").code_table == "異動事由"
    # 不詳 is allowed only where a date can really be unknown.
    others = [i.name for i in jumin.items if i.type == "日付" and i.unknown != "none"]
    assert others == ["生年月日"]


def test_code_tables_hold_the_expected_codes() -> None:
    tables = load_code_tables(JUKI / "codes.toml")
    assert set(tables) >= {"性別", "続柄", "年号", "異動事由"}
    assert tables["性別"].codes == {"1": "男", "2": "女", "9": "不明"}
    assert tables["年号"].codes == {"1": "明治", "2": "大正", "3": "昭和", "4": "平成", "5": "令和"}
    assert tables["続柄"].codes["01"] == "世帯主"
    assert all(len(code) == 2 and code.isdigit() for code in tables["続柄"].codes)
    assert {"妻", "夫", "子", "父", "母", "孫", "縁故者", "同居人"} <= set(tables["続柄"].codes.values())
    jiyu = set(tables["異動事由"].codes.values())
    assert {"転入", "出生", "職権記載", "転出", "死亡", "転居", "世帯変更", "職権消除", "帰化"} <= jiyu
    for table in tables.values():
        assert len(set(table.codes.values())) == len(table.codes), table.name  # labels unique
        for label in table.codes.values():
            label.encode("cp932")


def test_codes_file_has_only_code_tables() -> None:
    raw = tomllib.loads((JUKI / "codes.toml").read_text(encoding="utf-8"))
    for name, body in raw.items():
        assert set(body) <= {"description", "codes"}, name


def test_to_dict_lists_only_the_code_tables_a_layout_uses(layouts: dict[str, Layout]) -> None:
    described = layouts["juki-setai"].to_dict()
    assert set(described["codes"]) == {"異動事由"}
    assert described["provenance"].startswith("modelled:")
