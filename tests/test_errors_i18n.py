"""Errors carry a catalogue id and parameters (mig.errors.Msg) and are shown in the language
of the moment: English byte-identical to the historical messages, Japanese with --lang ja."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mig.cli import main
from mig.errors import (
    ConfigError,
    InputError,
    Msg,
    OutputError,
    OutputExistsError,
    UnknownNameError,
)
from mig.i18n import set_lang
from mig.schema import Int, ListOf, OneOf, Str, Table, check


@pytest.fixture(autouse=True)
def _lang_from_environment() -> object:
    yield
    set_lang(None)


def test_unknown_name_english_is_unchanged_and_japanese_names_the_kind() -> None:
    err = UnknownNameError("layout", "nope", ["b", "a"])
    assert str(err) == "unknown layout 'nope'; known: a, b"
    assert err.render("ja") == "レイアウト 'nope' はありません。あるもの: a, b"
    assert UnknownNameError("widget", "x", []).render("ja") == "widget 'x' はありません。あるもの: （なし）"
    assert str(UnknownNameError("widget", "x", [])) == "unknown widget 'x'; known: (none)"


def test_the_language_of_the_moment_decides() -> None:
    err = InputError("a.csv", Msg("errors.no-such-file-rule"), line=2)
    set_lang("ja")
    assert str(err) == "a.csv (2 行目): ファイルがありません"
    set_lang("en")
    assert str(err) == "a.csv (line 2): no such file"
    assert err.rule == "no such file"  # callers that rewrite the rule see English text


def test_input_error_with_a_plain_rule_keeps_its_historical_text() -> None:
    err = InputError("x.dat", "record longer than 80 bytes", offset=160)
    assert str(err) == "x.dat (byte 160): record longer than 80 bytes"
    assert err.render("ja") == "x.dat (160 バイト目): record longer than 80 bytes"


def test_output_errors_in_both_languages() -> None:
    err = OutputError("/mnt/run", 30)
    assert str(err) == "/mnt/run: cannot write: Read-only file system"
    assert err.render("ja") == "/mnt/run: 書き込めません: Read-only file system"
    exists = OutputExistsError(Msg("errors.already-holds", path="out", what="run directory", option="--force"))
    assert str(exists) == "out: already holds a run directory; use --force to replace it"
    assert "置き換えるには --force" in exists.render("ja")


@pytest.mark.parametrize("err", [
    UnknownNameError("layout", "nope", ["a"]),
    InputError("a.csv", Msg("errors.no-such-file-rule"), line=3, offset=9),
    ConfigError(Msg("errors.no-such-file", path="m.toml")),
    OutputError("/x", 28),
])
def test_errors_survive_pickling_with_their_message(err: Exception) -> None:
    """Worker processes send errors back to the parent: the message id travels along."""
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err)
    set_lang("ja")
    assert str(back) == str(err) and any("\u3000" <= c <= "\u9fff" for c in str(back))


SHAPE = Table(
    {"index": Int(minimum=1), "columns": ListOf(Str(nonempty=True), nonempty=True), "kind": Str(choices=("a", "b")),
     "either": OneOf((Int(), ListOf(Str(), label="files")))},
    required=frozenset({"index"}),
)


@pytest.mark.parametrize(("value", "en", "ja"), [
    ({"index": "x"}, "m.toml index: expected a positive integer, not a string", "m.toml index: 正の整数が必要です（文字列ではなく）"),
    ({}, "m.toml: missing key 'index'", "m.toml: キー 'index' がありません"),
    ({"index": 1, "zz": 1}, "m.toml: unknown key(s) zz; allowed: columns, either, index, kind",
     "m.toml: 不明なキー zz。使えるキー: columns, either, index, kind"),
    ({"index": 1, "kind": "c"}, "m.toml kind: expected one of a, b", "m.toml kind: a, b のいずれかが必要です"),
    ({"index": 1, "either": True}, "m.toml either: expected an integer or a list of tables ([[files]]), each a string, not true/false",
     "m.toml either: 整数またはテーブルのリスト ([[files]])（各要素は文字列）が必要です（true/falseではなく）"),
])
def test_schema_checker_messages_in_both_languages(value: dict[str, object], en: str, ja: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check(value, SHAPE, "m.toml")
    assert caught.value.render("en") == en
    assert caught.value.render("ja") == ja


def test_schema_expected_stays_english_for_machine_output() -> None:
    set_lang("ja")
    assert Int(minimum=0).expected == "an integer of at least 0"


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                    max_leaves=8))
def test_any_configuration_value_gives_a_one_line_message_in_both_languages(value: object) -> None:
    try:
        check(value, SHAPE, "m.toml")
    except ConfigError as err:
        for lang in ("en", "ja"):
            line = err.render(lang)  # type: ignore[arg-type]
            assert line.startswith("m.toml") and "\n" not in line.replace("\\n", "")


def test_cli_renders_errors_in_the_chosen_language(tmp_path: Path) -> None:
    runner = CliRunner()
    ja = runner.invoke(main, ["--lang", "ja", "layouts", "show", "nope"])
    assert ja.exit_code == 2
    assert ja.stderr.startswith("mig: エラー: レイアウト 'nope' はありません。あるもの: ")
    en = runner.invoke(main, ["--lang", "en", "layouts", "show", "nope"])
    assert en.stderr.startswith("mig: error: unknown layout 'nope'; known: ")


def test_a_missing_input_of_extract_is_reported_in_japanese(tmp_path: Path) -> None:
    from mig.demo.generator import generate_legacy_export

    export = generate_legacy_export(tmp_path / "legacy", rows=50, seed=0)
    missing = tmp_path / "nope.csv"
    args = ["extract", str(missing), "-m", str(export.mapping), "-o", str(tmp_path / "run")]
    ja = CliRunner().invoke(main, ["--lang", "ja", *args])
    en = CliRunner().invoke(main, ["--lang", "en", *args])
    assert ja.exit_code == en.exit_code == 3
    assert ja.stderr == f"mig: エラー: {missing}: ファイルがありません\n"
    assert en.stderr == f"mig: error: {missing}: no such file\n"
