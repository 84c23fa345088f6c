"""The lines of mig adapters / layouts / load / validate in Japanese with --lang ja (or
LANG=ja_JP.UTF-8), in English with --lang en; every message id has both languages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from mig.cli import main
from mig.i18n import LANGS, catalogue, placeholders

MY_DOMAINS = ("errors", "report", "layouts", "load", "gaiji", "validate", "adapters")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_every_entry_of_these_domains_has_both_languages_and_the_same_placeholders() -> None:
    entries = {k: v for k, v in catalogue().items() if k.split(".", 1)[0] in MY_DOMAINS}
    assert {k.split(".", 1)[0] for k in entries} == set(MY_DOMAINS)
    for msg_id, texts in entries.items():
        assert all(texts[lang] for lang in LANGS), msg_id
        assert placeholders(texts["ja"]) == placeholders(texts["en"]), msg_id


def test_adapters_show_in_both_languages() -> None:
    _, ja, _ = _run("--lang", "ja", "adapters", "show", "csv")
    _, en, _ = _run("--lang", "en", "adapters", "show", "csv")
    assert "  プラグイン API: 1" in ja.splitlines() and "  plugin API: 1" in en.splitlines()
    assert "  配布パッケージ: jichitai-mig " in ja and "  distribution: jichitai-mig " in en


def test_load_usage_error_in_japanese(tmp_path: Path) -> None:
    code, _, err = _run("--lang", "ja", "load", str(tmp_path))
    assert code == 2 and err.startswith("mig: エラー: 投入先を --target URL か --url-env VAR")


def test_lang_from_the_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "ja_JP.UTF-8"
    done = subprocess.run([sys.executable, "-m", "mig", "validate", str(tmp_path / "x.csv")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2 and done.stderr.startswith("mig: エラー: --layout が必要です")


def test_every_entry_of_these_domains_renders_in_both_languages() -> None:
    from mig.i18n import text

    for msg_id, texts in catalogue().items():
        if msg_id.split(".", 1)[0] not in MY_DOMAINS:
            continue
        params = {name: 7 for name in placeholders(texts["en"])}
        for lang in LANGS:
            rendered = text(msg_id, lang=lang, **params)
            assert "{" not in rendered and "7" in rendered if params else rendered == texts[lang], msg_id
            assert "\n" not in rendered, msg_id
