"""The run report of ``mig extract`` in Japanese and in English, opened in headless Chromium.

The language comes from ``LANG`` (ja_JP.UTF-8 → Japanese) or ``--lang``; report.json's
finding messages, report.html's labels and ``<html lang>`` follow it, the type codes do not.
Needs Debian ``chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mig.demo.generator import generate_legacy_export

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
#: Where the screenshots are kept for people to look at (MIG_SCREENSHOT_DIR), else only in tmp.
KEEP = os.environ.get("MIG_SCREENSHOT_DIR")


def _mig(*args: str, lang_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG")}
    env["LANG"] = lang_env
    return subprocess.run([sys.executable, "-m", "mig", *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("reports")
    export = generate_legacy_export(base / "legacy", rows=120, seed=0)
    inputs = [str(export.setai_csv), str(export.jumin_csv), str(export.ido_csv)]
    out = {}
    for name, lang_env, extra in (("ja", "ja_JP.UTF-8", []), ("en", "ja_JP.UTF-8", ["--lang", "en"])):
        done = _mig(*extra, "extract", *inputs, "-m", str(export.mapping), "-o", str(base / name), "--quiet",
                    lang_env=lang_env)
        assert done.returncode == 1, done.stderr  # the demo has findings by design
        out[name] = base / name
    return out


def test_report_json_messages_follow_the_language_and_codes_do_not(runs: dict[str, Path]) -> None:
    ja = json.loads((runs["ja"] / "report.json").read_text(encoding="utf-8"))
    en = json.loads((runs["en"] / "report.json").read_text(encoding="utf-8"))
    types = [[f["type"] for f in file["findings"]] for file in ja["files"]]
    assert types == [[f["type"] for f in file["findings"]] for file in en["files"]] and any(types)
    ja_msgs = [f["message"] for file in ja["files"] for f in file["findings"]]
    en_msgs = [f["message"] for file in en["files"] for f in file["findings"]]
    assert all(any("\u3040" <= c <= "\u309f" for c in m) for m in ja_msgs)  # hiragana (grammar) in every message
    assert not any(any("\u3040" <= c <= "\u309f" for c in m) for m in en_msgs)
    assert ja_msgs != en_msgs


def test_report_html_declares_and_leads_with_the_language(runs: dict[str, Path]) -> None:
    ja = (runs["ja"] / "report.html").read_text(encoding="utf-8")
    en = (runs["en"] / "report.html").read_text(encoding="utf-8")
    assert '<html lang="ja">' in ja and "<h2>取込結果 / Result</h2>" in ja
    assert '<html lang="en">' in en and "<h2>Result / 取込結果</h2>" in en


def test_errors_in_the_terminal_follow_lang(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.toml")
    ja = _mig("extract", "x.csv", "-m", missing, "-o", str(tmp_path / "r"), lang_env="ja_JP.UTF-8")
    en = _mig("--lang", "en", "extract", "x.csv", "-m", missing, "-o", str(tmp_path / "r"), lang_env="ja_JP.UTF-8")
    assert ja.returncode == en.returncode != 0
    assert ja.stderr.startswith("mig: エラー: ") and en.stderr.startswith("mig: error: ")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_report_renders_in_chromium(runs: dict[str, Path], lang: str, tmp_path: Path) -> None:
    from PIL import Image

    assert CHROMIUM is not None
    shot = (Path(KEEP) if KEEP else tmp_path) / f"report_{lang}.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         "--window-size=1200,1400", (runs[lang] / "report.html").resolve().as_uri()],
        check=False, capture_output=True, timeout=120,
    )
    assert shot.is_file(), "chromium wrote no screenshot"
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (1400, 1200)
    assert pixels.std() > 20  # not blank
    # text was drawn (anti-aliased glyphs give many grey levels), not tofu boxes alone
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
