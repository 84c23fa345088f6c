"""``mig codecs show`` / ``mig codecs diff``: a code's entries and decode, an overlay's effect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mig.cli import main

OVERLAYS = Path(__file__).resolve().parent.parent / "mig" / "codecs" / "overlays"
SWAPS = OVERLAYS / "jef-78jis-swaps.csv"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_show_names_the_entries_and_the_standard_decode() -> None:
    code, out = run("codecs", "show", "jef-ebcdik", "B7C3")
    assert code == 0
    assert out.splitlines() == [
        "jef-ebcdik B7C3 (table fujitsu_jef)",
        "  entry: U+6075 ",
        "  entry: U+FA6B cjk_ci alternative",
        "  decodes to: 恵 U+6075",
        "  with variant compat: U+FA6B",
    ]


def test_show_json_with_an_overlay() -> None:
    code, out = run("codecs", "show", "jef-ascii", "0xE4C6", "--overlay", str(SWAPS), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["decodes_to"] == "U+7BED" and data["overlay"]["decodes_to"] == "U+7C60"
    assert data["overlay"]["path"] == "jef-78jis-swaps.csv" and len(data["overlay"]["sha256"]) == 64


def test_show_user_defined_area() -> None:
    code, out = run("codecs", "show", "keis83-ebcdik", "81A1", "--json")
    assert code == 0 and json.loads(out)["decodes_to"] == "U+E000" and json.loads(out)["gaiji"] is True


def test_diff_lists_exactly_the_changed_codes() -> None:
    code, out = run("codecs", "diff", "jef-ebcdik", "--overlay", str(SWAPS), "--json")
    assert code == 0
    changes = {c["code"]: (c["before"], c["after"]) for c in json.loads(out)["changes"]}
    assert changes == {
        "B0B3": ("U+9C3A", "U+9BF5"), "F2CD": ("U+9BF5", "U+9C3A"),
        "CFB6": ("U+7C60", "U+7BED"), "E4C6": ("U+7BED", "U+7C60"),
    }
    code, out = run("codecs", "diff", "keis83-ebcdik", "--overlay", str(SWAPS))
    assert code == 0 and out.strip() == "jef-78jis-swaps.csv changes no decode of keis83-ebcdik"
    code, out = run("codecs", "diff", "keis78-ebcdik", "--overlay", str(OVERLAYS / "keis-4040-halfwidth.csv"))
    assert code == 0 and out.startswith("4040: \u3000 U+3000 -> U+0020")


def test_show_speaks_japanese() -> None:
    code, out = run("--lang", "ja", "codecs", "show", "jef-ebcdik", "B7C3")
    assert code == 0 and "デコード: 恵 U+6075" in out


@pytest.mark.parametrize(
    ("args", "rule"),
    [
        (("codecs", "show", "sjis", "8160"), "unknown charset 'sjis'"),
        (("codecs", "show", "jef-ebcdik", "3030"), "code 3030 is outside the range of jef-ebcdik"),
        (("codecs", "show", "jef-ebcdik", "B7C"), "must be 2 (single byte) or 4 (double byte) hex digits"),
        (("codecs", "diff", "jef-ebcdik", "--overlay", "/nonexistent/o.csv"), "cannot read overlay o.csv"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(args: tuple[str, ...], rule: str) -> None:
    code, out = run(*args)
    assert code == 2 and len(out.strip().splitlines()) == 1 and rule in out


def test_a_bad_overlay_in_diff_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("charset,code,unicode,note,decided_by,decided_at\njef,B7C3,U+D800,n,a,2025-01-01\n", encoding="utf-8")
    code, out = run("codecs", "diff", "jef-ebcdik", "--overlay", str(path))
    assert code == 2 and out.strip() == "mig: error: o.csv line 2: unicode U+D800 is not a character (surrogate, noncharacter or unassigned)"
