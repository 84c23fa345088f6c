"""``mig gaiji lookup`` and the registry helpers, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from mig.cli import main
from mig.demo.registry import demo_registry_path
from mig.gaiji.registry import load_registry


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_lookup_text_and_json() -> None:
    result = _run("gaiji", "lookup", "J+BD6B")
    assert result.exit_code == 0
    assert result.output.startswith("MJ026199  邊\U000E010F  U+908A U+E010F  住基 J+BD6B  戸籍 445320")
    records = json.loads(_run("gaiji", "lookup", "445320", "--json").output)
    assert [r["mj"] for r in records] == ["MJ026199"]
    assert records[0]["readings"][0] == "ヘン"
    by_ivs = json.loads(_run("gaiji", "lookup", "邊\U000E010F", "--json").output)
    assert by_ivs == records
    assert json.loads(_run("gaiji", "lookup", "U+908A U+E010F", "--json").output) == records


def test_lookup_errors_are_one_line_exit_2() -> None:
    for query in ("MJ999999", "J+GGGG", "hello"):
        result = CliRunner().invoke(main, ["gaiji", "lookup", query])
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("mig: error: ")
        assert "Traceback" not in result.output


def test_registry_add_and_check(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    result = _run(
        "gaiji", "registry", "add", str(path), "--source", "v", "--code", "u+e000",
        "--mj", "MJ028902", "--decided-by", "山田", "--decided-at", "2025-04-01", "--evidence", "戸籍",
    )
    assert result.exit_code == 0
    registry = load_registry(path)
    assert registry.for_source("v") == {"U+E000": "髙"}
    assert registry.entries[0].decided_by == "山田"
    conflict = CliRunner().invoke(main, [
        "gaiji", "registry", "add", str(path), "--source", "v", "--code", "U+E000",
        "--mj", "MJ032129", "--decided-by", "b",
    ])
    assert conflict.exit_code == 2 and "registry conflict for v U+E000" in conflict.output
    assert load_registry(path).for_source("v") == {"U+E000": "髙"}  # untouched
    checked = json.loads(_run("gaiji", "registry", "check", str(path), str(demo_registry_path()), "--json").output)
    assert checked["sources"] == {
        "v": {"confirmed": 1, "proposed": 0},
        "demo-vendor-cp932": {"confirmed": 6, "proposed": 0},
    }
    missing = CliRunner().invoke(main, [
        "gaiji", "registry", "add", str(path), "--source", "v", "--code", "U+E001",
        "--mj", "MJ999999", "--decided-by", "b",
    ])
    assert missing.exit_code == 2 and "MJ999999" in missing.output


def test_registry_lines_follow_the_language(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    added = CliRunner().invoke(main, [
        "--lang", "ja", "gaiji", "registry", "add", str(path), "--source", "v", "--code", "U+E000",
        "--mj", "MJ028902", "--decided-by", "山田", "--decided-at", "2025-04-01",
    ])
    assert added.exit_code == 0 and added.stdout.rstrip().endswith("（全 1 件）")
    ja = CliRunner().invoke(main, ["--lang", "ja", "gaiji", "registry", "check", str(path)])
    en = CliRunner().invoke(main, ["--lang", "en", "gaiji", "registry", "check", str(path)])
    assert ja.stdout == "v: 確定 1 件、候補 0 件\n"
    assert en.stdout == "v: 1 confirmed, 0 proposed\n"
