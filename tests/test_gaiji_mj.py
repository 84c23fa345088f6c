"""The packaged MJ table and ``lookup``: round trips over random rows, bad queries."""

from __future__ import annotations

import doctest
import importlib

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.errors import ConfigError, ExitCode
from mig.gaiji.mj import (
    MalformedCodeError,
    UnknownCharacterError,
    codepoints,
    lookup,
    mj_table,
    mj_text,
    parse_codepoints,
    shrink_table,
)
from mig.resources import data_dir

TABLE = mj_table()
JUKI = TABLE.filter(pl.col("juki").is_not_null()).select("mj", "juki").rows()
KOSEKI = TABLE.filter(pl.col("koseki").is_not_null()).select("mj", "koseki").rows()
IVS = TABLE.filter(pl.col("ivs").is_not_null()).select("mj", "ivs").rows()
UCS = TABLE.filter(pl.col("ucs").is_not_null()).select("mj", "ucs").rows()
NAMES = TABLE["mj"].to_list()


def test_table_shape_and_contract_columns() -> None:
    assert TABLE.height == 58_862
    assert TABLE["mj"].is_unique().all()
    expected = {
        "mj": pl.String, "ucs": pl.String, "ivs": pl.String, "svs": pl.String,
        "juki": pl.String, "koseki": pl.String, "x0213": pl.String, "strokes": pl.Int16,
        "radical": pl.Int16, "inner_strokes": pl.Int16, "readings": pl.List(pl.String),
        "version": pl.String,
    }
    for name, dtype in expected.items():
        assert TABLE.schema[name] == dtype, name
    # readings are katakana only (hiragana normalised)
    readings = TABLE["readings"].explode().drop_nulls()
    assert not readings.str.contains("[ぁ-ゖ]").any()
    assert readings.len() > 100_000
    assert shrink_table().height == 62_682


def test_licence_ships_beside_the_tables() -> None:
    folder = data_dir("gaiji")
    licence = (folder / "LICENSE-MJ.md").read_text(encoding="utf-8")
    assert "CC BY-SA 2.1 JP" in licence
    assert "IPA / 文字情報技術促進協議会" in licence
    sizes = sum((folder / name).stat().st_size for name in ("mj.parquet", "mjsm.parquet"))
    assert sizes < 4_000_000


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(JUKI))
def test_juki_code_round_trip(pair: tuple[str, str]) -> None:
    mj, juki = pair
    records = lookup(juki)
    assert [r["mj"] for r in records] == [mj]
    assert records[0]["juki"] == juki
    # and back: the record's own text finds the same character first
    assert lookup(records[0]["text"])[0]["mj"] == mj or records[0]["ucs"] is None


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(KOSEKI))
def test_koseki_number_round_trip(pair: tuple[str, str]) -> None:
    mj, koseki = pair
    records = lookup(koseki)
    assert [r["mj"] for r in records] == [mj]
    assert lookup(records[0]["mj"])[0]["koseki"] == koseki


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(IVS))
def test_ivs_round_trip(pair: tuple[str, str]) -> None:
    mj, ivs = pair
    assert [r["mj"] for r in lookup(ivs)] == [mj]
    assert [r["mj"] for r in lookup(codepoints(ivs))] == [mj]
    assert mj_text(mj) == ivs  # an IVS is what gets stored


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(UCS))
def test_plain_character_finds_its_implementing_record_first(pair: tuple[str, str]) -> None:
    mj, ucs = pair
    records = lookup(ucs)
    assert records[0]["mj"] == mj
    assert all(r["ucs"] == ucs or r["ucs_corresponding"] == ucs for r in records)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(NAMES))
def test_mj_name_lookup_is_case_insensitive(name: str) -> None:
    assert [r["mj"] for r in lookup(name.lower())] == [name]


def test_known_records() -> None:
    (record,) = lookup("J+BD6B")
    assert record["mj"] == "MJ026199"
    assert record["codepoints"] == "U+908A U+E010F"
    assert record["koseki"] == "445320"
    assert record["radical"] == 162 and record["strokes"] == 18
    assert "ヘン" in record["readings"]
    assert [r["mj"] for r in lookup("00445320")] == ["MJ026199"]  # 登記統一文字番号
    assert "MJ026199" in [r["mj"] for r in lookup("1-78-20")]
    assert mj_text("MJ028902") == "髙"  # no IVS: the UCS


@pytest.mark.parametrize(
    "query",
    ["MJ12", "J+12", "J+GGGG", "U+ZZZZ", "U+110000", "U+D800", "12345", "ab", "", "邊邊", "\U000E0100"],
)
def test_malformed_queries(query: str) -> None:
    with pytest.raises(MalformedCodeError) as info:
        lookup(query)
    assert isinstance(info.value, ConfigError)
    assert info.value.exit_code == ExitCode.USAGE
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("query", ["MJ999999", "J+0000", "999999", "U+E000", "a", "邊\U000E01EF"])
def test_unknown_queries(query: str) -> None:
    with pytest.raises(UnknownCharacterError):
        lookup(query)


def test_mj_text_errors() -> None:
    with pytest.raises(UnknownCharacterError, match="MJ999999"):
        mj_text("MJ999999")
    with pytest.raises(UnknownCharacterError, match="no Unicode form"):
        mj_text("MJ037229")  # withdrawn: neither UCS nor IVS
    with pytest.raises(MalformedCodeError):
        mj_text("XJ000001")


def test_parse_codepoints() -> None:
    assert parse_codepoints("U+908A,U+E010F") == "邊\U000E010F"
    assert parse_codepoints("u+9ad9") == "髙"


@pytest.mark.parametrize(
    "module", ["mig.gaiji.mj", "mig.gaiji.registry", "mig.gaiji.resolve", "mig.gaiji.policy"]
)
def test_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
