"""The layout catalogue (issue 15): versioned, filterable, honest about provenance; named check
digits; layout file paths; layout packs (entry points, MIG_LAYOUTS_PATH); ``mig layouts diff``."""

from __future__ import annotations

import json
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

import mig
from mig.cli import main
from mig.errors import ConfigError, UnknownNameError
from mig.jp import CHECK_DIGITS
from mig.layout import CHECK_RULES, get_layout, list_layouts, load_layout_file
from mig.layout_diff import DIFF_KINDS, diff_layouts
from mig.registry import layout_pack_dirs
from mig.resources import data_dir
from mig.validation.rules import validate_frame


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def one_line_error(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mig: error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# -- the catalogue -----------------------------------------------------------------------------


def test_catalogue_spans_five_business_areas_and_two_standards() -> None:
    layouts = list_layouts()
    assert {x.business for x in layouts} >= {"住民基本台帳", "国民健康保険", "個人住民税", "固定資産税", "介護保険"}
    assert {x.standard for x in layouts} == {"中間標準レイアウト", "基本データリスト"}
    assert {(x.standard, x.standard_version) for x in layouts if x.business == "住民基本台帳"} == {
        ("中間標準レイアウト", "2.x"), ("基本データリスト", "2.1"),
    }


@pytest.mark.parametrize("layout", list_layouts(), ids=lambda x: x.id)
def test_every_shipped_layout_says_it_is_modelled(layout: mig.Layout) -> None:
    assert layout.origin == "modelled"
    assert layout.provenance.startswith("modelled:") and "not copied" in layout.provenance
    path = Path(layout.path)
    assert path.stem == layout.id and path.parent.parent == data_dir("layouts")
    assert "MODELLED, NOT COPIED" in path.read_text(encoding="utf-8").split("\nid = ", 1)[0]
    assert [i.no for i in layout.items] == list(range(1, len(layout.items) + 1))
    for item in layout.items:
        if item.code_table:
            assert all(len(code) <= item.length for code in layout.codes[item.code_table].codes), item.name
    for name in layout.primary_key:
        assert layout.item(name).required


def test_kaigo_care_levels_are_the_published_codes() -> None:
    table = get_layout("kaigo-nintei").codes["要介護状態区分"].codes
    assert table == {
        "00": "自立", "11": "経過的要介護", "12": "要支援1", "13": "要支援2",
        "21": "要介護1", "22": "要介護2", "23": "要介護3", "24": "要介護4", "25": "要介護5",
        "31": "再調査", "88": "取消", "99": "なし",
    }
    assert get_layout("kaigo-nintei").item("要介護状態区分").code_table == "要介護状態区分"


def test_list_filters_by_standard_version_and_business() -> None:
    assert [x.id for x in list_layouts(standard="基本データリスト")] == ["kihon-juki-jumin"]
    assert [x.id for x in list_layouts(version="2.1")] == ["kihon-juki-jumin"]
    assert [x.id for x in list_layouts(business="介護保険")] == ["kaigo-nintei"]
    assert [x.id for x in list_layouts(standard="中間標準レイアウト", business="住民基本台帳")] == [
        "juki-ido", "juki-jumin", "juki-setai",
    ]
    assert list_layouts(standard="基本データリスト", business="介護保険") == []
    with pytest.raises(UnknownNameError, match="known: 中間標準レイアウト, 基本データリスト"):
        list_layouts(standard="標準")


def test_cli_list_filters_and_json() -> None:
    result = run("layouts", "list", "--business", "住民基本台帳", "--json")
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [(x["id"], x["standard"], x["standard_version"], x["origin"]) for x in listed] == [
        ("juki-ido", "中間標準レイアウト", "2.x", "modelled"),
        ("juki-jumin", "中間標準レイアウト", "2.x", "modelled"),
        ("juki-setai", "中間標準レイアウト", "2.x", "modelled"),
        ("kihon-juki-jumin", "基本データリスト", "2.1", "modelled"),
    ]
    assert {x["source"] for x in listed} == {"packaged"}
    text = run("layouts", "list", "--standard", "基本データリスト", "--version", "2.1")
    assert text.exit_code == 0 and text.stdout.split()[:3] == ["kihon-juki-jumin", "基本データリスト", "2.1"]
    bad = run("layouts", "list", "--version", "9.9")
    assert bad.exit_code == 2 and "unknown standard version '9.9'; known: 2.1, 2.x" in one_line_error(bad)


# -- named check digits ---------------------------------------------------------------------------


def reference_atena(body: str) -> int | None:
    """宛名番号 / 世帯番号 as the issue states it, written out by hand: weights 2, 3, 4, 5, 6, 7,
    2, 3, … from the right; 11 − remainder; remainder 0 → 0; remainder 1 → no digit."""
    total = sum(int(d) * (2 + n % 6) for n, d in enumerate(reversed(body)))
    r = total % 11
    return 0 if r == 0 else None if r == 1 else 11 - r


def test_check_names_are_one_table() -> None:
    assert CHECK_RULES == tuple(CHECK_DIGITS) == ("個人番号", "住民票コード", "宛名番号", "世帯番号", "地方公共団体コード")


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("13101", 6),  # 千代田区: 1·6+3·5+1·4+0·3+1·2 = 27, 27 mod 11 = 5, 11−5 = 6 (the example)
        ("01100", 2),  # 札幌市 011002: 0+5+4+0+0 = 9, 11−9 = 2
        ("01000", 6),  # 北海道 010006: 5, 11−5 = 6
        ("13000", 1),  # 東京都 130001: 6+15 = 21, remainder 10, 11−10 = 1
        ("11000", 1),  # 6+5 = 11, remainder 0: (11−0) mod 10 = 1
        ("20000", 0),  # 12, remainder 1: (11−1) mod 10 = 0
    ],
)
def test_dantai_code_check_digit_worked_examples(body: str, digit: int) -> None:
    check = CHECK_DIGITS["地方公共団体コード"]
    assert check.of(int(body)) == digit
    frame = pl.DataFrame({"v": [body + str(digit), body + str((digit + 1) % 10), body]})
    assert frame.select(check.ok(pl.col("v"))).to_series().to_list() == [True, False, False]


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("1234567", 4),   # 7·2+6·3+5·4+4·5+3·6+2·7+1·2 = 106, remainder 7, 11−7 = 4
        ("14", 0),        # 4·2+1·3 = 11, remainder 0 → 0
        ("53", 1),        # 3·2+5·3 = 21, remainder 10, 11−10 = 1
        ("10000000", 8),  # the 8th digit from the right weighs 3 (2–7 repeat): 3, 11−3 = 8
        ("00010000000", 8),  # leading zeros weigh nothing
        ("23", None),     # 3·2+2·3 = 12, remainder 1: 11−1 = 10 is no digit
    ],
)
def test_atena_check_digit_worked_examples(body: str, digit: int | None) -> None:
    for name in ("宛名番号", "世帯番号"):
        check = CHECK_DIGITS[name]
        assert check.of(int(body)) == digit == reference_atena(body)
        values = [body + str(d) for d in range(10)]
        ok = pl.DataFrame({"v": values}).select(check.ok(pl.col("v"))).to_series().to_list()
        assert ok == [d == digit for d in range(10)]


@given(st.text(alphabet="0123456789", min_size=1, max_size=18))
def test_atena_vectorised_matches_the_hand_rule(body: str) -> None:
    got = pl.DataFrame({"b": [body]}).select(CHECK_DIGITS["宛名番号"].digit(pl.col("b"))).item()
    assert got == reference_atena(body)


def test_check_digits_reject_wrong_shapes_and_keep_null() -> None:
    values = ["131016", "13101", "1310166", "13101a", "", None]
    got = pl.DataFrame({"v": values}).select(CHECK_DIGITS["地方公共団体コード"].ok(pl.col("v"))).to_series()
    assert got.to_list() == [True, False, False, False, False, None]
    atena = pl.DataFrame({"v": ["140", "0", "", "1" * 20, None]}).select(CHECK_DIGITS["宛名番号"].ok(pl.col("v")))
    assert atena.to_series().to_list() == [True, False, False, False, None]


def _write_layout(folder: Path, layout_id: str, items: str, codes: str = "", **header: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fields = {"business": "テスト業務", "name": "テスト", "standard": "自治体独自", "standard_version": "1",
              "provenance": "own: written for a test"} | header
    head = "".join(f'{k} = "{v}"\n' for k, v in fields.items())
    path = folder / f"{layout_id}.toml"
    path.write_text(f'id = "{layout_id}"\n{head}\n' + textwrap.dedent(items), encoding="utf-8")
    if codes:
        (folder / "codes.toml").write_text(textwrap.dedent(codes), encoding="utf-8")
    return path


CHECKED_ITEMS = """
[[items]]
no = 1
name = "宛名番号"
type = "数字"
length = 15
check = "宛名番号"

[[items]]
no = 2
name = "団体コード"
type = "数字"
length = 6
check = "地方公共団体コード"
"""


def test_validation_reports_the_named_checks(tmp_path: Path) -> None:
    layout = load_layout_file(_write_layout(tmp_path, "checked", CHECKED_ITEMS))
    frame = pl.DataFrame({
        "row": [1, 2, 3, 4],
        "宛名番号": ["12345674", "12345675", "230", ""],
        "団体コード": ["131016", "131017", "011002", "130001"],
    })
    assert validate_frame(frame, layout).rows() == [
        (2, "宛名番号", "checkdigit", "宛名番号"),
        (2, "団体コード", "checkdigit", "地方公共団体コード"),
        (3, "宛名番号", "checkdigit", "宛名番号"),
    ]


def test_an_unknown_check_lists_the_known_ones(tmp_path: Path) -> None:
    path = _write_layout(tmp_path, "bad", CHECKED_ITEMS.replace('check = "宛名番号"', 'check = "宛名"'))
    with pytest.raises(ConfigError, match="unknown check '宛名'; known: 個人番号, 住民票コード, 宛名番号, 世帯番号, 地方公共団体コード"):
        load_layout_file(path)


# -- layout file paths ------------------------------------------------------------------------------


def test_show_and_validate_take_a_layout_path(tmp_path: Path) -> None:
    path = _write_layout(tmp_path / "pack", "checked", CHECKED_ITEMS)
    shown = run("layouts", "show", str(path), "--json")
    assert shown.exit_code == 0
    assert [i["check"] for i in json.loads(shown.stdout)["items"]] == ["宛名番号", "地方公共団体コード"]
    data = tmp_path / "checked.csv"
    data.write_text("宛名番号,団体コード\n12345674,131016\n12345675,131016\n", encoding="utf-8")
    result = run("validate", str(data), "--layout", str(path), "--json")
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["files"][0]["findings"]
    assert [(f["type"], f["item"], f["count"]) for f in findings] == [("checkdigit", "宛名番号", 1)]


def test_a_missing_layout_path_is_one_line_exit_2(tmp_path: Path) -> None:
    for args in (("layouts", "show", str(tmp_path / "nope.toml")),
                 ("layouts", "diff", "juki-jumin", str(tmp_path / "nope.toml")),
                 ("validate", str(tmp_path / "x.csv"), "--layout", str(tmp_path / "nope.toml"))):
        result = run(*args)
        assert result.exit_code == 2
        assert f"layout file {tmp_path / 'nope.toml'} does not exist" in one_line_error(result)


def test_mapping_layout_path_is_relative_to_the_mapping_file(tmp_path: Path) -> None:
    from mig.extract.mapping import load_mapping

    _write_layout(tmp_path / "layouts" / "own", "own-file", CHECKED_ITEMS)
    mapping = tmp_path / "conf" / "mapping.toml"
    mapping.parent.mkdir()
    mapping.write_text(
        '[[files]]\nlayout = "../layouts/own/own-file.toml"\ninputs = ["*.csv"]\n'
        '[files.items]\n"宛名番号" = "no"\n"団体コード" = "dantai"\n',
        encoding="utf-8",
    )
    loaded = load_mapping(mapping)
    assert loaded.files[0].layout.id == "own-file"
    assert loaded.files[0].layout.item("団体コード").check == "地方公共団体コード"


# -- layout packs -------------------------------------------------------------------------------------


def test_layouts_path_env_adds_a_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _write_layout(first / "own", "own-one", CHECKED_ITEMS)
    _write_layout(second, "own-two", CHECKED_ITEMS, business="介護保険")
    monkeypatch.setenv("MIG_LAYOUTS_PATH", f"{first}:{second}")
    listed = {x.id: x for x in list_layouts()}
    assert listed["own-one"].source == f"MIG_LAYOUTS_PATH {first}"
    assert listed["own-two"].origin == "own"
    assert [x.id for x in list_layouts(business="介護保険")] == ["kaigo-nintei", "own-two"]
    assert get_layout("own-one").item("宛名番号").check == "宛名番号"
    result = run("layouts", "list", "--standard", "自治体独自", "--json")
    assert [x["id"] for x in json.loads(result.stdout)] == ["own-one", "own-two"]


def test_one_id_from_two_sources_names_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_layout(tmp_path / "pack", "juki-jumin", CHECKED_ITEMS)
    monkeypatch.setenv("MIG_LAYOUTS_PATH", str(tmp_path / "pack"))
    result = run("layouts", "show", "juki-setai")
    assert result.exit_code == 2
    message = one_line_error(result)
    assert "layout id 'juki-jumin' comes from two sources: packaged (" in message
    assert f"and MIG_LAYOUTS_PATH {tmp_path / 'pack'} ({tmp_path / 'pack' / 'juki-jumin.toml'})" in message


def test_a_missing_pack_directory_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIG_LAYOUTS_PATH", str(tmp_path / "gone"))
    with pytest.raises(ConfigError, match="layout directory .*gone \\(MIG_LAYOUTS_PATH .*\\) does not exist"):
        list_layouts()


def test_entry_point_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site" / "mig_layouts_testcity"
    _write_layout(package / "kaigo", "city-kaigo", CHECKED_ITEMS, business="介護保険")
    (package / "__init__.py").write_text('from pathlib import Path\nSECOND = str(Path(__file__).parent / "kaigo")\n')
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    points = [
        EntryPoint(name="testcity", value="mig_layouts_testcity", group="mig.layouts"),
        EntryPoint(name="attr", value="mig_layouts_testcity:SECOND", group="mig.layouts"),
    ]
    assert layout_pack_dirs(points) == [
        ("entry point mig.layouts:attr", package / "kaigo"),
        ("entry point mig.layouts:testcity", package),
    ]
    broken = [EntryPoint(name="broken", value="mig_layouts_no_such_module", group="mig.layouts")]
    with pytest.raises(ConfigError, match="layout pack entry point mig.layouts:broken failed to load"):
        layout_pack_dirs(broken)
    # the catalogue reads what the registry finds
    import mig.registry

    monkeypatch.setattr(mig.registry, "entry_points", lambda group: points[:1] if group == "mig.layouts" else [])
    found = get_layout("city-kaigo")
    assert found.source == "entry point mig.layouts:testcity"
    assert found.path == str(package / "kaigo" / "city-kaigo.toml")


# -- diff ---------------------------------------------------------------------------------------------

V1 = """
[[items]]
no = 1
name = "番号"
type = "数字"
length = 10
required = true

[[items]]
no = 2
name = "氏名カナ"
type = "全角文字"
length = 40

[[items]]
no = 3
name = "金額"
type = "数値"
length = 9

[[items]]
no = 4
name = "区分"
type = "コード"
length = 1
code_table = "区分"

[[items]]
no = 5
name = "旧項目"
type = "半角文字"
length = 8
"""
V1_CODES = """
["区分"]
description = "v1"
["区分".codes]
"1" = "甲"
"2" = "乙"
"3" = "丙"
"""

V2 = """
[[items]]
no = 1
name = "番号"
type = "数字"
length = 12
required = true

[[items]]
no = 2
name = "氏名フリガナ"
type = "全角文字"
length = 40

[[items]]
no = 3
name = "金額"
type = "数値"
length = 11
scale = 2
required = true

[[items]]
no = 4
name = "区分"
type = "コード"
length = 1
code_table = "区分"

[[items]]
no = 5
name = "新項目"
type = "日付"
length = 8
"""
V2_CODES = """
["区分"]
description = "v2"
["区分".codes]
"1" = "甲"
"3" = "丙(改)"
"4" = "丁"
"""


@pytest.fixture()
def versions(tmp_path: Path) -> tuple[Path, Path]:
    return (
        _write_layout(tmp_path / "v1", "own-file", V1, V1_CODES, standard_version="1.0"),
        _write_layout(tmp_path / "v2", "own-file", V2, V2_CODES, standard_version="2.0"),
    )


EXPECTED_DIFF = [
    {"kind": "item-changed", "item": "番号", "field": "length", "old": "10", "new": "12"},
    {"kind": "item-renamed", "item": "氏名フリガナ", "old_item": "氏名カナ", "old": "2"},
    {"kind": "item-changed", "item": "金額", "field": "length", "old": "9", "new": "11"},
    {"kind": "item-changed", "item": "金額", "field": "scale", "old": "0", "new": "2"},
    {"kind": "item-changed", "item": "金額", "field": "required", "old": "false", "new": "true"},
    {"kind": "item-removed", "item": "旧項目", "old": "no 5, 半角文字 8"},
    {"kind": "item-added", "item": "新項目", "new": "no 5, 日付 8"},
    {"kind": "code-removed", "table": "区分", "code": "2", "old": "乙"},
    {"kind": "code-added", "table": "区分", "code": "4", "new": "丁"},
    {"kind": "code-changed", "table": "区分", "code": "3", "old": "丙", "new": "丙(改)"},
]


def test_diff_of_two_versions_is_exactly_their_changes(versions: tuple[Path, Path]) -> None:
    old, new = (load_layout_file(p) for p in versions)
    diff = diff_layouts(old, new)
    assert [d.to_dict() for d in diff.differences] == EXPECTED_DIFF
    assert {d.kind for d in diff.differences} <= set(DIFF_KINDS)
    assert (diff.old["standard_version"], diff.new["standard_version"]) == ("1.0", "2.0")
    assert diff_layouts(old, old).equal and not diff.equal


def test_diff_cli_exit_codes_and_json(versions: tuple[Path, Path]) -> None:
    old, new = (str(p) for p in versions)
    result = run("layouts", "diff", old, new, "--json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["differences"] == EXPECTED_DIFF and body["equal"] is False
    assert body["counts"] == {"item-added": 1, "item-removed": 1, "item-renamed": 1, "item-changed": 4,
                              "code-added": 1, "code-removed": 1, "code-changed": 1}
    text = run("layouts", "diff", old, new)
    assert text.exit_code == 1 and "  item-renamed   氏名カナ → 氏名フリガナ (no 2)" in text.stdout.splitlines()
    same = run("layouts", "diff", old, old)
    assert same.exit_code == 0 and same.stdout.endswith("0 differences\n")
    assert run("layouts", "diff", "juki-jumin", "juki-jumin").exit_code == 0


def test_diff_between_the_standards_is_the_modelled_revision() -> None:
    diff = diff_layouts(get_layout("juki-jumin"), get_layout("kihon-juki-jumin"))
    kinds = [(d.kind, d.item or d.table, d.field, d.old_item) for d in diff.differences]
    assert ("item-renamed", "氏名フリガナ", "", "氏名カナ") in kinds
    assert ("item-changed", "住民状態", "length", "") in kinds
    removed = [d.code for d in diff.differences if d.kind == "code-removed"]
    added = [d.code for d in diff.differences if d.kind == "code-added"]
    assert (removed, added) == (["1", "2", "3", "4", "9"], ["01", "02", "03", "04", "99"])
    assert {d.table for d in diff.differences if d.kind.startswith("code-")} == {"住民状態"}
    assert diff.counts() == {"layout-changed": 1, "item-renamed": 1, "item-changed": 4, "code-added": 5, "code-removed": 5}
