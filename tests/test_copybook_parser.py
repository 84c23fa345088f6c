"""COBOL copybook parser: every clause, source formats, column names, errors with line:column."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mig_adapters.copybook.parser import (
    CopybookSyntaxError,
    Field,
    Record,
    load_copybook,
    parse_copybook,
    parse_picture,
    tokenize,
)

from mig.errors import ConfigError, UnknownNameError


def fixed(*lines: str) -> str:
    """Lines of code area text → fixed-format source (sequence numbers, code from column 8)."""
    return "\n".join(f"{(n + 1) * 100:06d} {line}" for n, line in enumerate(lines)) + "\n"


def fields(record: Record) -> dict[str, Field]:
    return {f.name: f for f in record.fields}


def layout(record: Record) -> list[tuple[str, int, int, str]]:
    return [(f.name, f.offset, f.size, f.kind) for f in record.fields]


# -- every clause ---------------------------------------------------------------------------

EVERYTHING = fixed(
    "01  REC.",
    "    05  ALNUM           PIC X(10).",
    "    05  ALPHA           PIC A(3).",
    "    05  KANJI           PIC N(5).",
    "    05  GRAPHIC         PIC G(4) USAGE DISPLAY-1.",
    "    05  NATL            PIC N(2) USAGE NATIONAL.",
    "    05  UNSIGNED        PIC 9(5).",
    "    05  ZONED-T         PIC S9(5)V99.",
    "    05  ZONED-L         PIC S9(3) SIGN IS LEADING.",
    "    05  ZONED-TS PIC S9(3) SIGN TRAILING SEPARATE CHARACTER.",
    "    05  ZONED-LS        PIC S9(3) LEADING SEPARATE.",
    "    05  BIN2            PIC S9(4) COMP.",
    "    05  BIN4            PIC 9(9) COMP-4.",
    "    05  BIN8            PIC S9(18) BINARY.",
    "    05  NATIVE          PIC S9(4) COMP-5.",
    "    05  PACKED          PIC S9(7)V99 COMP-3.",
    "    05  PACKED2         PIC 9(4) USAGE IS PACKED-DECIMAL.",
    "    05  PACKED3         PIC S9(5) COMPUTATIONAL-3.",
    "    05  SCALED-R        PIC 9(3)PP.",
    "    05  SCALED-L        PIC PP99.",
    "    05  EDITED          PIC ZZ,ZZ9.99-.",
    "    05  FILLER          PIC X(2).",
    "    05                  PIC X(3).",
    "    05  AMOUNTS         COMP-3.",
    "        10  AMT-A       PIC S9(3).",
    "        10  AMT-B       PIC S9(5)V9.",
    "    05  TAB             OCCURS 2 TIMES.",
    "        10  TAB-X       PIC X.",
    "        10  TAB-N       PIC 9 OCCURS 3.",
    "    05  FLAG            PIC X VALUE 'Y'.",
    "        88  FLAG-ON     VALUE 'Y'.",
    "        88  FLAG-OFF    VALUES ARE 'N' 'n'.",
    "    05  BLANKED         PIC 9(3) BLANK WHEN ZERO.",
    "    05  JUSTIFIED-X     PIC X(4) JUST RIGHT.",
    "66  RENAMED RENAMES ALNUM THRU ALPHA.",
)


def test_every_clause_gives_its_offset_size_and_kind() -> None:
    record = parse_copybook(EVERYTHING).record("REC")
    expected = [
        ("ALNUM", 0, 10, "alnum"),
        ("ALPHA", 10, 3, "alnum"),
        ("KANJI", 13, 10, "dbcs"),
        ("GRAPHIC", 23, 8, "dbcs"),
        ("NATL", 31, 4, "national"),
        ("UNSIGNED", 35, 5, "zoned"),
        ("ZONED-T", 40, 7, "zoned"),
        ("ZONED-L", 47, 3, "zoned"),
        ("ZONED-TS", 50, 4, "zoned"),
        ("ZONED-LS", 54, 4, "zoned"),
        ("BIN2", 58, 2, "binary"),
        ("BIN4", 60, 4, "binary"),
        ("BIN8", 64, 8, "binary"),
        ("NATIVE", 72, 2, "binary"),
        ("PACKED", 74, 5, "packed"),
        ("PACKED2", 79, 3, "packed"),
        ("PACKED3", 82, 3, "packed"),
        ("SCALED-R", 85, 3, "zoned"),
        ("SCALED-L", 88, 2, "zoned"),
        ("EDITED", 90, 10, "alnum"),
        # FILLER (2) and an unnamed item (3) take 100–104 but give no column
        ("AMT-A", 105, 2, "packed"),
        ("AMT-B", 107, 4, "packed"),
        ("TAB-X(1)", 111, 1, "alnum"),
        ("TAB-N(1,1)", 112, 1, "zoned"),
        ("TAB-N(1,2)", 113, 1, "zoned"),
        ("TAB-N(1,3)", 114, 1, "zoned"),
        ("TAB-X(2)", 115, 1, "alnum"),
        ("TAB-N(2,1)", 116, 1, "zoned"),
        ("TAB-N(2,2)", 117, 1, "zoned"),
        ("TAB-N(2,3)", 118, 1, "zoned"),
        ("FLAG", 119, 1, "alnum"),
        ("BLANKED", 120, 3, "zoned"),
        ("JUSTIFIED-X", 123, 4, "alnum"),
    ]
    assert layout(record) == expected
    assert record.size == 127
    f = fields(record)
    assert (f["ZONED-T"].digits, f["ZONED-T"].scale, f["ZONED-T"].signed, f["ZONED-T"].sign) == (7, 2, True, "trailing-overpunch")
    assert f["ZONED-L"].sign == "leading-overpunch"
    assert f["ZONED-TS"].sign == "trailing-separate"
    assert f["ZONED-LS"].sign == "leading-separate"
    assert f["UNSIGNED"].sign == "unsigned" and not f["UNSIGNED"].signed
    assert f["NATIVE"].native and not f["BIN2"].native
    assert (f["SCALED-R"].scale, f["SCALED-L"].scale) == (-2, 4)
    assert f["AMT-B"].usage == "COMP-3" and f["AMT-B"].scale == 1  # USAGE inherited from the group
    assert f["PACKED2"].signed is False and f["PACKED"].signed is True
    assert f["TAB-N(2,3)"].subscripts == (2, 3)
    assert f["KANJI"].path == ("REC",)
    assert f["AMT-A"].path == ("REC", "AMOUNTS")


@pytest.mark.parametrize(
    ("picture", "category", "length", "digits", "scale", "signed"),
    [
        ("X(10)", "alnum", 10, 0, 0, False),
        ("XXX", "alnum", 3, 0, 0, False),
        ("A(2)X", "alnum", 3, 0, 0, False),
        ("N(3)", "dbcs", 3, 0, 0, False),
        ("NNBN", "dbcs", 4, 0, 0, False),
        ("G(2)", "dbcs", 2, 0, 0, False),
        ("9(4)", "numeric", 4, 4, 0, False),
        ("s9(3)v9(2)", "numeric", 5, 5, 2, True),
        ("SV999", "numeric", 3, 3, 3, True),
        ("999PPP", "numeric", 3, 3, -3, False),
        ("VPP9", "numeric", 1, 1, 3, False),
        ("9(31)", "numeric", 31, 31, 0, False),
        ("ZZZ9.99", "edited", 7, 0, 0, False),
        ("-(5)9", "edited", 6, 0, 0, False),
        ("9(5)CR", "edited", 7, 0, 0, False),
        ("$**9.99DB", "edited", 9, 0, 0, False),
        ("XXBXX/X0", "edited", 8, 0, 0, False),
        ("99/99/99", "edited", 8, 0, 0, False),
    ],
)
def test_pictures(picture: str, category: str, length: int, digits: int, scale: int, signed: bool) -> None:
    p = parse_picture(picture)
    assert (p.category, p.length, p.digits, p.scale, p.signed) == (category, length, digits, scale, signed)


@pytest.mark.parametrize("picture", ["", "9S9", "9V9V9", "X(", "9(32)", "P9P", "Q", "99VPP", "9(3)X(", "N9"])
def test_bad_pictures(picture: str) -> None:
    with pytest.raises(ValueError):
        parse_picture(picture)


@pytest.mark.parametrize(
    ("picture", "usage", "size"),
    [
        ("9(1)", "COMP", 2), ("S9(4)", "COMP", 2), ("9(5)", "COMP", 4), ("S9(9)", "BINARY", 4),
        ("9(10)", "COMP-4", 8), ("S9(18)", "COMP-5", 8),
        ("9", "COMP-3", 1), ("S9(2)", "COMP-3", 2), ("S9(3)", "COMP-3", 2), ("S9(4)", "COMP-3", 3),
        ("S9(17)V99", "COMP-3", 10), ("S9(31)", "COMP-3", 16),
    ],
)
def test_binary_and_packed_sizes(picture: str, usage: str, size: int) -> None:
    record = parse_copybook(f"01 R. 05 A PIC {picture} {usage}.", format="free").records[0]
    assert record.fields[0].size == size


def test_occurs_depending_on_and_items_after_it() -> None:
    record = parse_copybook(fixed(
        "01  R.",
        "    05  CNT         PIC 9(2).",
        "    05  ITEM        OCCURS 1 TO 4 TIMES DEPENDING ON CNT",
        "                    ASCENDING KEY IS ITEM-K INDEXED BY IX1 IX2.",
        "        10  ITEM-K  PIC X(2).",
        "        10  ITEM-V  PIC S9(3) COMP-3.",
        "    05  N2          PIC 9 COMP.",
        "    05  OTHER       PIC X(3) OCCURS 0 TO 2 DEPENDING ON N2 OF R.",
        "    05  TAIL        PIC X.",
    )).records[0]
    assert [(t.name, t.counter, t.minimum, t.maximum, t.offset, t.element_size) for t in record.odo_tables] == [
        ("ITEM", "CNT", 1, 4, 2, 4), ("OTHER", "N2", 0, 2, 20, 3),
    ]
    f = fields(record)
    assert (f["ITEM-V(4)"].offset, f["ITEM-V(4)"].odo, f["ITEM-V(4)"].occurrence) == (16, 0, 4)
    assert (f["OTHER(2)"].offset, f["OTHER(2)"].odo, f["OTHER(2)"].occurrence) == (23, 1, 2)
    assert f["TAIL"].offset == 26 and f["TAIL"].odo is None
    assert record.shift_tables(f["TAIL"]) == [0, 1]
    assert record.shift_tables(f["OTHER(1)"]) == [0]
    assert record.shift_tables(f["N2"]) == [0]
    assert (record.size, record.min_size) == (27, 27 - 3 * 4 - 2 * 3)


def test_occurs_n_depending_on_without_to_starts_at_zero() -> None:
    record = parse_copybook("01 R. 05 C PIC 9. 05 T PIC X OCCURS 5 DEPENDING ON C.", format="free").records[0]
    assert (record.odo_tables[0].minimum, record.odo_tables[0].maximum) == (0, 5)


def test_redefines_marks_both_views_and_keeps_the_larger_size() -> None:
    record = parse_copybook(fixed(
        "01  R.",
        "    05  KBN         PIC X.",
        "    05  BODY.",
        "        10  YMD     PIC 9(8).",
        "    05  BODY-R      REDEFINES BODY.",
        "        10  Y       PIC 9(4).",
        "        10  MD      PIC 9(4).",
        "    05  BODY-P      REDEFINES BODY PIC S9(9) COMP-3.",
        "    05  WIDE        PIC X(2).",
        "    05  WIDE-R      REDEFINES WIDE PIC X(6).",
        "    05  AFTER       PIC X.",
    )).records[0]
    f = fields(record)
    assert [(n, f[n].offset, f[n].redefines) for n in ("KBN", "YMD", "Y", "MD", "BODY-P", "WIDE", "WIDE-R", "AFTER")] == [
        ("KBN", 0, False), ("YMD", 1, True), ("Y", 1, True), ("MD", 5, True), ("BODY-P", 1, True),
        ("WIDE", 9, True), ("WIDE-R", 9, True), ("AFTER", 15, False),
    ]
    assert record.size == 16


def test_several_01_levels_are_record_types_and_names_repeat_across_them() -> None:
    book = parse_copybook(fixed(
        "01  SETAI-REC.",
        "    05  KBN     PIC X.",
        "    05  NO      PIC 9(5).",
        "01  JUMIN-REC.",
        "    05  KBN     PIC X.",
        "    05  NO      PIC 9(5).",
        "    05  NAME    PIC N(4).",
        "01  OTHER-REC REDEFINES JUMIN-REC PIC X(20).",
        "77  LONELY      PIC X(3).",
    ))
    assert book.record_names == ["SETAI-REC", "JUMIN-REC", "OTHER-REC", "LONELY"]
    assert book.record("jumin-rec").columns == ["KBN", "NO", "NAME"]
    assert book.record("OTHER-REC").columns == ["OTHER-REC"]
    assert book.record("LONELY").size == 3
    with pytest.raises(UnknownNameError, match="SETAI-REC"):
        book.record("NOPE")


def test_copybook_without_01_level_is_one_record_named_after_it(tmp_path: Path) -> None:
    path = tmp_path / "kojin-rec.cpy"
    path.write_text(fixed("05  A PIC X.", "05  B PIC 9(3)."), encoding="utf-8")
    book = load_copybook(path)
    assert book.record_names == ["KOJIN-REC"]
    assert layout(book.records[0]) == [("A", 0, 1, "alnum"), ("B", 1, 3, "zoned")]


def test_duplicate_names_are_qualified_and_resolvable() -> None:
    record = parse_copybook(fixed(
        "01  R.",
        "    05  NUSHI.",
        "        10  SHIMEI  PIC N(4).",
        "        10  KANA    PIC X(8).",
        "    05  HAIGUSHA.",
        "        10  SHIMEI  PIC N(4).",
        "        10  KANA    PIC X(8).",
        "    05  KANA-ONLY   PIC X.",
    )).records[0]
    assert record.columns == ["SHIMEI OF NUSHI", "KANA OF NUSHI", "SHIMEI OF HAIGUSHA", "KANA OF HAIGUSHA", "KANA-ONLY"]
    assert record.field("SHIMEI IN HAIGUSHA").offset == 16
    assert record.field("KANA-ONLY").offset == 32
    with pytest.raises(ConfigError, match="ambiguous"):
        record.field("SHIMEI")


def test_japanese_data_names_and_cp932_copybook(tmp_path: Path) -> None:
    path = tmp_path / "jp.cpy"
    text = "000050* 住民記録レイアウト\n" + fixed("01  住民.", "    05  氏名    PIC N(10).", "    05  カナ    PIC X(20).")
    path.write_bytes(text.encode("cp932"))
    record = load_copybook(path).records[0]
    assert record.name == "住民"
    assert layout(record) == [("氏名", 0, 20, "dbcs"), ("カナ", 20, 20, "alnum")]


def test_sync_aligns_binary_items_from_the_record_start() -> None:
    record = parse_copybook("01 R. 05 A PIC X. 05 B PIC S9(9) COMP SYNC. 05 C PIC X. 05 D PIC S9(4) BINARY SYNCHRONIZED.",
                            format="free").records[0]
    assert layout(record) == [("A", 0, 1, "alnum"), ("B", 4, 4, "binary"), ("C", 8, 1, "alnum"), ("D", 10, 2, "binary")]


# -- source format ------------------------------------------------------------------------------


def test_fixed_format_comments_sequence_area_identification_area_and_debug_lines() -> None:
    def line(sequence: str, indicator: str, code: str, ident: str = "") -> str:
        return sequence + indicator + code.ljust(65) + ident

    text = "\n".join([
        line("000100", "*", "  comment with a period. 01 X PIC X."),
        line("000200", "/", "  page eject comment"),
        line("000300", " ", "01  R.", "IDENT001"),
        line("000400", "D", "    05  DEBUG-ONLY  PIC X."),
        line("ABCDEF", " ", "    05  A           PIC X(3).", "05 B PIC"),
        "",
        line("000600", " ", "    EJECT"),
        line("000700", " ", "    05  B           PIC X. *> a floating comment", "X(9)."),
    ]) + "\n"
    record = parse_copybook(text).records[0]
    assert layout(record) == [("A", 0, 3, "alnum"), ("B", 3, 1, "alnum")]


def test_literal_continuation_keeps_the_spaces_up_to_column_72() -> None:
    opening = "000300     05  B  PIC X(80) VALUE 'CONTINUED LITERAL"
    text = (
        "000100 01  R.\n"
        "000200     05  A  PIC X(40) VALUE 'FIRST PART'.\n"
        f"{opening}\n"
        "000400-    'AND THE REST'.\n"
        "000500     05  C  PIC X.\n"
    )
    literals = [t.text for t in tokenize(text) if t.kind == "literal"]
    padding = " " * (72 - len(opening))
    assert literals == ["FIRST PART", "CONTINUED LITERAL" + padding + "AND THE REST"]
    assert parse_copybook(text).records[0].columns == ["A", "B", "C"]


def test_word_continuation_glues_the_next_line() -> None:
    text = "000100 01  R.\n000200     05  LONG-NA\n000300-        ME  PIC X(2).\n"
    assert parse_copybook(text).records[0].columns == ["LONG-NAME"]


def test_free_format_is_detected_and_tabs_expand() -> None:
    text = "01 REC.\n  05 A PIC X(2). *> comment\n*  comment line\n\t05 B\tPIC S9(3) COMP-3.\n"
    record = parse_copybook(text).records[0]
    assert layout(record) == [("A", 0, 2, "alnum"), ("B", 2, 2, "packed")]
    assert parse_copybook(text, format="free").records[0].columns == ["A", "B"]


def test_literals_with_periods_quotes_and_prefixes() -> None:
    text = fixed(
        "01  R.",
        "    05  A PIC X(4) VALUE 'a.b'.",
        '    05  B PIC X(4) VALUE "it""s".',
        "    05  C PIC X(2) VALUE X'0E0F'.",
        "    05  D PIC N(2) VALUE N'漢字'.",
        "    05  E PIC 9(3)V9 VALUE 12.5.",
        "    05  F PIC S9(3) VALUE -1.",
        "    05  G PIC X(3) VALUE ALL '*'.",
        "    05  H PIC X(3) VALUE SPACES.",
    )
    literals = [t.text for t in tokenize(text) if t.kind == "literal"]
    assert literals == ["a.b", 'it"s', "0E0F", "漢字", "*"]
    assert parse_copybook(text).records[0].columns == list("ABCDEFGH")


# -- errors name line and column ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "line", "column", "message"),
    [
        (["01  R.", "    05  A PIC X(3)", "    05  B PIC X."], 3, 12, "unexpected '05'"),
        (["01  R.", "    05  A PIC X(3)"], 2, 22, "not ended by a period"),
        (["01  R.", "    5O  A PIC X."], 2, 12, "expected a level number"),
        (["01  R.", "    50  A PIC X."], 2, 12, "not 01–49"),
        (["01  R.", "    05  A PIC X(3) WIBBLE."], 2, 27, "unexpected 'WIBBLE'"),
        (["01  R.", "    05  A PIC 9V9V9."], 2, 22, "more than one V"),
        (["01  R.", "    05  A PIC X.", "        10  B PIC X."], 3, 16, "has a PICTURE"),
        (["01  R.", "    05  A.", "        10  B PIC X.", "    05  C REDEFINES Z PIC X."], 4, 16, "REDEFINES Z"),
        (["01  R.", "    05  T PIC X OCCURS 1 TO 3 DEPENDING ON NOPE."], 2, 16, "DEPENDING ON NOPE"),
        (["01  R.", "    05  T PIC X OCCURS 1 TO 3 DEPENDING ON C.", "    05  C PIC 9."], 2, 16, "must come before"),
        (["01  R.", "    05  C PIC 9.", "    05  T OCCURS 2.", "        10  U PIC X OCCURS 1 TO 3 DEPENDING ON C."],
         4, 20, "inside another"),
        (["01  R.", "    05  A COMP-1."], 2, 16, "floating point"),
        (["01  R.", "    05  A PIC X COMP-3."], 2, 16, "numeric PICTURE"),
        (["01  R.", "    05  A PIC S9(19) COMP."], 2, 16, "at most 18"),
        (["01  R.", "    05  A."], 2, 16, "without a PICTURE"),
        (["    COPY OTHERBOOK."], 1, 12, "COPY statements"),
        (["01  R.", "    05  A PIC X VALUE 'never closed"], 2, 30, "literal is not closed"),
        (["01  R OCCURS 2.", "    05  A PIC X."], 1, 12, "cannot have OCCURS"),
        (["01  R.", "    05  A PIC 9 SIGN LEADING."], 2, 16, "unsigned"),
        (["01  R.", "    05  A PIC X OCCURS 3 TO 2."], 2, 16, "bad bounds"),
    ],
)
def test_syntax_errors_name_line_and_column(lines: list[str], line: int, column: int, message: str) -> None:
    with pytest.raises(CopybookSyntaxError, match=message) as caught:
        parse_copybook(fixed(*lines), source="BAD.cpy")
    assert (caught.value.line, caught.value.column) == (line, column)
    assert str(caught.value).startswith(f"BAD.cpy:{line}:{column}: ")
    assert isinstance(caught.value, ConfigError)


def test_fixed_format_errors() -> None:
    with pytest.raises(CopybookSyntaxError, match="indicator column") as caught:
        parse_copybook("000100 01  R.\n000200X    05  A PIC X.\n", format="fixed")
    assert (caught.value.line, caught.value.column) == (2, 7)
    with pytest.raises(CopybookSyntaxError, match="must start with a quote"):
        parse_copybook("000100 01  R.\n000200     05 A PIC X(80) VALUE 'OPEN\n000300-      CLOSE'.\n")
    with pytest.raises(CopybookSyntaxError, match="nothing to continue"):
        parse_copybook("000100-    01  R.\n")
    with pytest.raises(CopybookSyntaxError, match="no data description"):
        parse_copybook("000100* only a comment\n")


def test_duplicate_data_names_in_one_group_and_duplicate_records() -> None:
    with pytest.raises(ConfigError, match="used twice"):
        parse_copybook("01 R. 05 A PIC X. 05 A PIC X.", format="free")
    with pytest.raises(ConfigError, match="used twice"):
        parse_copybook("01 R. 05 A PIC X. 01 R. 05 B PIC X.", format="free")


def test_load_copybook_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_copybook(tmp_path / "missing.cpy")
    bad = tmp_path / "bad.cpy"
    bad.write_bytes(b"01 R. \x81\x20")
    with pytest.raises(ConfigError, match="neither UTF-8 nor CP932"):
        load_copybook(bad)
    with pytest.raises(ConfigError, match="not utf-8"):
        load_copybook(bad, encoding="utf-8")


# -- generated copybooks ------------------------------------------------------------------------

ELEMENTARY = st.sampled_from([
    ("PIC X({n})", lambda n: n),
    ("PIC N({n})", lambda n: 2 * n),
    ("PIC 9({n})", lambda n: n),
    ("PIC S9({n}) SIGN LEADING SEPARATE", lambda n: n + 1),
    ("PIC S9({n}) COMP-3", lambda n: n // 2 + 1),
    ("PIC 9({n}) COMP", lambda n: 2 if n <= 4 else 4 if n <= 9 else 8),
])


Tree = tuple[str, int, list["Tree"]]  # (clause text, occurs, children); no children = elementary


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> list[Tree]:
    out: list[Tree] = []
    for _ in range(draw(st.integers(1, 4))):
        occurs = draw(st.sampled_from([1, 1, 1, 2, 3]))
        if depth < 2 and draw(st.booleans()):
            out.append(("", occurs, draw(trees(depth + 1))))
        else:
            template, size_of = draw(ELEMENTARY)
            n = draw(st.integers(1, 18))
            out.append((f"{template.format(n=n)}|{size_of(n)}", occurs, []))
    return out


def size_of(tree: list[Tree]) -> int:
    return sum((int(text.split("|")[1]) if not children else size_of(children)) * occurs
               for text, occurs, children in tree)


def render(tree: list[Tree], level: int, lines: list[str], counter: list[int]) -> None:
    for text, occurs, children in tree:
        counter[0] += 1
        clause = f" OCCURS {occurs} TIMES" if occurs > 1 else ""
        indent = " " * (level // 5 * 2)
        if children:
            lines.append(f"{indent}{level:02d}  G{counter[0]}{clause}.")
            render(children, level + 5, lines, counter)
        else:
            lines.append(f"{indent}{level:02d}  F{counter[0]}  {text.split('|')[0]}{clause}.")


@settings(max_examples=60, deadline=None)
@given(tree=trees(), free=st.booleans())
def test_generated_copybooks_have_the_sum_of_their_items_as_size(tree: list[Tree], free: bool) -> None:
    lines = ["01  GEN-REC."]
    render(tree, 5, lines, [0])
    source = "\n".join(lines) + "\n" if free else fixed(*lines)
    record = parse_copybook(source, format="free" if free else "fixed").records[0]
    assert record.size == size_of(tree)
    assert all(a.end <= b.offset for a, b in zip(record.fields, record.fields[1:], strict=False))
    assert record.fields[0].offset == 0 and record.fields[-1].end == record.size
    assert len(set(record.columns)) == len(record.columns)
