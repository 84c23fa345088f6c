"""The message catalogue: every id in both languages, the locale decides, JSON never changes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mig.cli import main
from mig.i18n import LANGS, catalogue, current_lang, detect_lang, placeholders, set_lang, text
from mig.validation.findings import FINDING_TYPES, message


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    missing = [f"{msg_id} ({lang})" for msg_id, entry in catalogue().items() for lang in LANGS if not entry[lang].strip()]
    assert missing == []
    differing = [msg_id for msg_id, entry in catalogue().items() if placeholders(entry["ja"]) != placeholders(entry["en"])]
    assert differing == []


def test_every_own_finding_type_has_a_japanese_template() -> None:
    assert [code for code, t in FINDING_TYPES.items() if not t.template_ja] == []
    assert all(f"findings.{code}" in catalogue() for code in FINDING_TYPES)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "ja_JP.eucJP"}, "ja"),
        ({"LC_MESSAGES": "ja_JP.UTF-8", "LANG": "C"}, "ja"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "ja_JP.UTF-8"}, "en"),
        ({"LC_ALL": "", "LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "C.UTF-8"}, "en"),
    ],
)
def test_language_follows_the_posix_order(environ: dict[str, str], expected: str) -> None:
    assert detect_lang(environ) == expected


def test_set_lang_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert current_lang() == "ja"
    assert message("required-missing", "氏名", None) == "氏名: 必須項目が空欄です"
    set_lang("en")
    assert message("required-missing", "氏名", None) == "氏名: required value is empty"


def test_an_unknown_message_id_names_itself() -> None:
    with pytest.raises(KeyError, match="no-such"):
        text("cli.no-such")


def test_cli_errors_follow_lang() -> None:
    runner = CliRunner()
    ja = runner.invoke(main, ["--lang", "ja", "layouts", "show", "no-such-layout"])
    en = runner.invoke(main, ["--lang", "en", "layouts", "show", "no-such-layout"])
    assert ja.exit_code == en.exit_code == 2
    assert "mig: エラー:" in ja.output
    assert "mig: error:" in en.output
