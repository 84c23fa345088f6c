"""``mig layouts show``: keys, items with descriptions and code tables, columns aligned by
display width (全角 counts 2), words in the current language."""

from __future__ import annotations

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mig.cli import main
from mig.jp import display_width, pad_display
from mig.layout import get_layout


def _show(*args: str) -> list[str]:
    result = CliRunner().invoke(main, [*args])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_show_names_keys_descriptions_and_code_tables() -> None:
    lines = _show("--lang", "en", "layouts", "show", "juki-jumin")
    layout = get_layout("juki-jumin")
    assert "  primary key: 宛名番号" in lines
    assert "  foreign key: 世帯番号 → juki-setai.世帯番号" in lines
    for item in layout.items:
        if item.description:
            assert "       " + item.description in lines, item.name
    start = lines.index("Code tables")
    assert any(line.startswith("  性別 (used by 性別)") for line in lines[start:])
    for code, label in layout.codes["性別"].codes.items():
        assert any(line.split() == [code, label] for line in lines[start:]), code


def test_item_columns_line_up_by_display_width() -> None:
    """Every item row starts its 型 column and its 桁 column at the same terminal column."""
    lines = _show("layouts", "show", "juki-jumin", "--brief")
    layout = get_layout("juki-jumin")
    rows = [line for line in lines if line[:5].strip().isdigit()]
    assert len(rows) == len(layout.items)
    type_columns = {display_width(row[: row.index(item.type, 7)]) for row, item in zip(rows, layout.items, strict=True)}
    assert len(type_columns) == 1
    ends = set()
    for row, item in zip(rows, layout.items, strict=True):
        size = f"{item.length},{item.scale}" if item.scale else str(item.length)
        head = row[: row.index(item.type, 7) + len(item.type)]
        rest = row[len(head):]
        ends.add(display_width(head) + rest.index(size) + len(size))
    assert len(ends) == 1  # the 桁 column is right-aligned at one terminal column


def test_brief_leaves_out_descriptions_and_code_tables() -> None:
    lines = _show("layouts", "show", "juki-jumin", "--brief")
    assert "Code tables" not in lines and not any("Masked in every report" in line for line in lines)


def test_japanese_words() -> None:
    lines = _show("--lang", "ja", "layouts", "show", "juki-setai")
    assert "  主キー: 世帯番号" in lines
    assert any(line.startswith("   No  項目名称") and "属性" in line for line in lines)
    assert any("必須, 120 バイト" in line for line in lines)
    assert "コード表" in lines


@given(st.text(alphabet=st.sampled_from("aｱア氏名1 \u3099\U000E0100"), max_size=12), st.integers(0, 30))
def test_pad_display_reaches_the_width(value: str, width: int) -> None:
    padded = pad_display(value, width)
    assert padded.startswith(value)
    assert display_width(padded) == max(width, display_width(value))
    assert display_width(pad_display(value, width, ">")) == display_width(padded)
