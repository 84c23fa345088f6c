"""Target policies at load: keep, strip, shrink (縮退), fail — each change counted per character."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.charsets import cp932_repertoire, jisx0213_repertoire
from mig.demo.generator import DEMO_GAIJI, generate_legacy_export
from mig.demo.registry import DEMO_SOURCE, demo_registry_path
from mig.errors import ConfigError, ExitCode, UnknownNameError
from mig.extract.run import extract
from mig.gaiji.policy import (
    CHANGE_SCHEMA,
    DEFAULT_SHRINK_ORDER,
    ChangeTally,
    GaijiPolicyError,
    get_policy,
    parse_shrink_order,
    scan_encoding,
)
from mig.gaiji.registry import load_registry
from mig.load import load_run

IVS_HEN = "邊\U000E010F"  # MJ026199
NAMES = ["渡" + IVS_HEN + "　太郎", "髙橋　𠮷子", "山田　花子", None, "\ue000田", "葛\U000E0199飾"]


def _frame() -> pl.DataFrame:
    return pl.DataFrame({"氏名": NAMES, "住所": ["東京都", None, "﨑\U000E0102町", "x", "y", "z"]})


def _rows(changes: pl.DataFrame) -> list[tuple[object, ...]]:
    return changes.select("item", "code", "mj", "to_code", "action", "count").rows()


def test_keep_changes_nothing() -> None:
    frame = _frame()
    out, changes = get_policy("keep").apply(frame, ["氏名", "住所"])
    assert out.equals(frame) and changes.height == 0
    assert changes.schema == pl.Schema(CHANGE_SCHEMA)


def test_strip_drops_variation_selectors_and_counts_them() -> None:
    out, changes = get_policy("strip").apply(_frame(), ["氏名", "住所"])
    assert out["氏名"].to_list() == ["渡邊　太郎", "髙橋　𠮷子", "山田　花子", None, "\ue000田", "葛飾"]
    assert out["住所"].to_list()[2] == "﨑町"
    assert _rows(changes) == [
        ("住所", "U+FA11 U+E0102", "MJ030196", "U+FA11", "stripped", 1),
        ("氏名", "U+845B U+E0199", None, "U+845B", "stripped", 1),
        ("氏名", "U+908A U+E010F", "MJ026199", "U+908A", "stripped", 1),
    ]


def test_shrink_to_jis_x_0213() -> None:
    out, changes = get_policy("shrink").apply(_frame(), ["氏名", "住所"])
    assert out["氏名"].to_list() == ["渡邊　太郎", "高橋　吉子", "山田　花子", None, "\ue000田", "葛飾"]
    assert out["住所"].to_list()[2] == "﨑町"
    rows = {(r[1], r[4]): r for r in _rows(changes)}
    assert rows[("U+9AD9", "shrunk")][2:4] == ("MJ028902", "U+9AD8")
    assert rows[("U+20BB7", "shrunk")][2:4] == ("MJ032129", "U+5409")
    assert rows[("U+E000", "unshrinkable")][3] is None  # an unresolved 外字 cannot be shrunk
    assert rows[("U+845B U+E0199", "stripped")][3] == "U+845B"  # an IVS the MJ table lacks, on a JIS base
    via = changes.filter(pl.col("code") == "U+9AD9")["via"].item()
    assert via == "JIS包摂規準UCS統合規則"
    for value in out["氏名"].drop_nulls().to_list():
        assert all(c in jisx0213_repertoire() or "\ue000" <= c <= "\uf8ff" for c in value)


def test_shrink_order_changes_the_result() -> None:
    frame = pl.DataFrame({"氏名": [IVS_HEN]})
    jis_first, _ = get_policy("shrink").apply(frame, ["氏名"])
    koseki_first, changes = get_policy("shrink", "koseki,jis").apply(frame, ["氏名"])
    assert jis_first["氏名"].item() == "邊"
    assert koseki_first["氏名"].item() == "辺"
    assert changes["via"].item() == "戸籍統一文字情報_親字正字"


def test_fail_names_characters_not_values() -> None:
    with pytest.raises(GaijiPolicyError) as info:
        get_policy("fail").apply(_frame(), ["氏名", "住所"])
    message = str(info.value)
    assert info.value.exit_code == ExitCode.FINDINGS
    assert "U+908A U+E010F ×1" in message and "U+E000 ×1" in message and "U+20BB7 ×1" in message
    assert "太郎" not in message and "橋" not in message
    # inside JIS X 0213 passes untouched
    clean = pl.DataFrame({"氏名": ["山田　花子", "﨑", "ｱｲｳ abc"]})
    out, changes = get_policy("fail").apply(clean, ["氏名"])
    assert out.equals(clean) and changes.height == 0


def test_shrink_order_parsing() -> None:
    assert parse_shrink_order(None) == DEFAULT_SHRINK_ORDER
    assert parse_shrink_order(["jis", "辞書類等による関連字"]) == ("JIS包摂規準UCS統合規則", "辞書類等による関連字")
    with pytest.raises(UnknownNameError, match="known: 2842-betsu"):
        parse_shrink_order("jis,nope")
    with pytest.raises(ConfigError, match="twice"):
        parse_shrink_order("jis,JIS包摂規準UCS統合規則")
    with pytest.raises(UnknownNameError, match="gaiji policy"):
        get_policy("squash")
    with pytest.raises(ConfigError, match="only applies"):
        get_policy("keep", "jis")


def test_tally_adds_batches() -> None:
    policy = get_policy("strip")
    tally = ChangeTally()
    for _ in range(3):
        tally.add(policy.apply(_frame(), ["氏名", "住所"])[1])
    entries = {e["code"]: e for e in tally.entries()}
    assert entries["U+908A U+E010F"]["count"] == 3
    assert entries["U+908A U+E010F"]["items"] == {"氏名": 3}


# -- through mig load ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ivs_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run whose 氏名 hold the demo registry's MJ characters (written as UTF-8 input)."""
    root = tmp_path_factory.mktemp("policy")
    export = generate_legacy_export(root / "legacy", rows=2000, seed=5)
    table = load_registry(demo_registry_path()).for_source(DEMO_SOURCE)
    swap = {char: table[f"U+{ord(char):04X}"] for char in DEMO_GAIJI}
    inputs = []
    for path in (export.setai_csv, export.jumin_csv, export.ido_csv):
        text = path.read_bytes().decode("cp932")
        for char, resolved in swap.items():
            text = text.replace(char, resolved)
        target = root / "utf8" / path.name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        inputs.append(target)
    mapping = root / "mapping.toml"
    mapping.write_text(
        export.mapping.read_text(encoding="utf-8").replace(
            "[severity]\n", '[severity]\n"not-encodable" = "warning"\n'
        ),
        encoding="utf-8",
    )
    run = extract(mapping, inputs, root / "run", source_overrides={"encoding": "utf-8"})
    names = pl.read_parquet(run.run_dir / "data" / "juki-jumin.parquet")["氏名"]
    assert names.str.contains("[\U000E0100-\U000E01EF]").any(), "the run should hold IVS"
    return run.run_dir


def _names(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return [r[0] for r in con.execute('SELECT "氏名" FROM juki_jumin ORDER BY "宛名番号"')]


def test_load_policies_end_to_end(ivs_run: Path, tmp_path: Path) -> None:
    kept = load_run(ivs_run, f"sqlite:///{tmp_path / 'keep.db'}")
    assert all(f.gaiji == () for f in kept.files)
    assert kept.to_dict()["gaiji_policy"] == {"policy": "keep"}
    keep_names = _names(tmp_path / "keep.db")
    assert any("\U000E0100" <= c <= "\U000E01EF" for n in keep_names for c in n)

    shrunk = load_run(ivs_run, f"sqlite:///{tmp_path / 'shrink.db'}", gaiji_policy="shrink")
    shrink_names = _names(tmp_path / "shrink.db")
    assert len(shrink_names) == len(keep_names)
    assert all(c in jisx0213_repertoire() for n in shrink_names for c in n)
    data = shrunk.to_dict()
    assert data["gaiji_policy"]["policy"] == "shrink"
    jumin = next(f for f in data["files"] if f["layout"] == "juki-jumin")
    counted = sum(g["count"] for g in jumin["gaiji"])
    changed = sum(a != b for a, b in zip(keep_names, shrink_names, strict=True))
    assert changed > 0
    assert sum(g["items"].get("氏名", 0) for g in jumin["gaiji"]) >= changed
    assert counted > 0
    assert all(set(g) >= {"code", "mj", "to_code", "action", "count"} for g in jumin["gaiji"])

    with pytest.raises(GaijiPolicyError, match="table juki_setai|table juki_jumin"):
        load_run(ivs_run, f"sqlite:///{tmp_path / 'fail.db'}", gaiji_policy="fail")
    with sqlite3.connect(tmp_path / "fail.db") as con:  # all or nothing: no table was left
        assert con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0] == 0


ALPHABET = ["山", "髙", "𠮷", "邊", "\U000E010F", "\U000E0108", "﨑", "\U000E0102", "\ue000", "a", "　", "ｶ", "葛", "\U000E0199"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(ALPHABET), max_size=6), min_size=1, max_size=15))
def test_policy_properties(values: list[str]) -> None:
    frame = pl.DataFrame({"v": values})
    stripped, changes = get_policy("strip").apply(frame, ["v"])
    expected = ["".join(c for c in v if not ("\U000E0100" <= c <= "\U000E01EF")) for v in values]
    assert stripped["v"].to_list() == expected
    selectors = sum(1 for v in values for c in v if "\U000E0100" <= c <= "\U000E01EF")
    assert int(changes["count"].sum() or 0) == selectors  # every selector counted once
    shrunk, changes = get_policy("shrink").apply(frame, ["v"])
    repertoire = jisx0213_repertoire()
    for value in shrunk["v"].to_list():  # only the unresolved 外字 (with any selector) stays outside
        assert all(c in repertoire for c in re.sub("\ue000[\U000E0100-\U000E01EF]?", "", value))
    unshrinkable = changes.filter(pl.col("action") == "unshrinkable")["code"].to_list()
    assert all(code.startswith("U+E000") for code in unshrinkable)


# -- target repertoires: CP932 -------------------------------------------------------------


def test_cp932_target_shrinks_only_what_cp932_lacks() -> None:
    frame = pl.DataFrame({"氏名": ["髙橋　𠮷子", "渡" + IVS_HEN, "\ue000田", "俱知安"]})
    out, changes = get_policy("shrink", target="cp932").apply(frame, ["氏名"])
    assert out["氏名"].to_list() == ["髙橋　吉子", "渡邊", "\ue000田", "俱知安"]  # 髙: IBM extension, kept
    rows = {r[1]: r[4] for r in _rows(changes)}
    assert rows == {"U+20BB7": "shrunk", "U+908A U+E010F": "shrunk", "U+4FF1": "unshrinkable"}
    assert get_policy("shrink", target="cp932").to_dict()["target"] == "cp932"
    with pytest.raises(GaijiPolicyError, match=r"2 distinct character\(s\) outside CP932") as info:
        get_policy("fail", target="cp932").apply(pl.DataFrame({"v": ["髙", "俱", "\ue000"]}), ["v"])
    assert "U+9AD9" not in str(info.value)
    with pytest.raises(UnknownNameError, match="target repertoire"):
        get_policy("keep", target="latin-1")


def test_scan_encoding_reports_per_character() -> None:
    frame = pl.DataFrame({"a": ["渡" + IVS_HEN, "𠮷", "𠮷𠮷", "\ue757", None], "b": ["\ue758", "x", "y", "z", "w"]})
    rows = scan_encoding(frame, ["a", "b"], "cp932").select("item", "code", "action", "count").rows()
    assert rows == [
        ("a", "U+20BB7", "not-encodable", 3),
        ("a", "U+908A U+E010F", "not-encodable", 1),
        ("a", "U+E757", "private-use", 1),
        ("b", "U+E758", "not-encodable", 1),  # past the user-defined area F040–F9FC
    ]
    utf8 = scan_encoding(frame, ["a", "b"], "utf-8").select("code", "action").rows()
    assert utf8 == [("U+E757", "private-use"), ("U+E758", "private-use")]
    assert "\ue000" not in cp932_repertoire() and "髙" in cp932_repertoire()
    for char in cp932_repertoire():  # the repertoire round-trips through the codec
        assert char.encode("cp932").decode("cp932") == char
