"""mig.charsets: one definition of the classes and repertoires, and every stage agrees with it."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from mig import charsets
from mig.audit.repertoire import count_expressions
from mig.audit.repertoire import outside_pattern as audit_outside_pattern
from mig.errors import UnknownNameError
from mig.gaiji.policy import GaijiPolicyError, get_policy
from mig.layout import Item, Layout
from mig.validation.rules import validate_frame

CP1 = "\u010a"  # Ċ: JIS X 0212 10-15; not in JIS X 0213
CP0212 = "\u4e04"  # 丄: JIS X 0212 16-02 (EUC 8F B0 A2); not in JIS X 0213
TAKA = "髙"  # IBM extension of CP932 (FBFC / EEE0); not in JIS X 0213
JIS2004_ADDED = "俱剝𠮟吞噓姸屛幷瘦繫"  # 1-14-1 … 1-94-94, added by JIS X 0213:2004


@pytest.fixture(scope="module")
def every_code_point() -> pl.DataFrame:
    """One row per code point of the BMP and planes 2–3, surrogates left out."""
    points = np.concatenate(
        [np.arange(0, 0xD800), np.arange(0xE000, 0x10000), np.arange(0x20000, 0x40000)]
    ).astype("<u4")
    text = points.tobytes().decode("utf-32-le")  # one string, split by Arrow below
    chars = pl.Series("c", [text]).str.split("").explode()
    return pl.DataFrame({"cp": points.astype(np.int64), "c": chars})


def _in_classes(cp: pl.Expr, ranges: tuple[tuple[int, int], ...]) -> pl.Expr:
    out = pl.lit(False)
    for lo, hi in ranges:
        out = out | cp.is_between(lo, hi)
    return out


def _members(frame: pl.DataFrame, held: frozenset[str]) -> pl.Series:
    return frame["c"].is_in(pl.Series(sorted(held), dtype=pl.String).implode())


PUA = _in_classes(pl.col("cp"), charsets.PRIVATE_USE_RANGES)
VS = _in_classes(pl.col("cp"), charsets.VARIATION_SELECTOR_RANGES)
BMP_PUA = pl.col("cp").is_between(0xE000, 0xF8FF)
USER_DEFINED = pl.col("cp").is_between(*charsets.CP932_USER_DEFINED)


def _policy_membership(name: str) -> frozenset[str]:
    """What the load policy holds: one policy target, or for the union both of them."""
    targets = name.split("+")
    return frozenset().union(*(get_policy("fail", target=t).repertoire for t in targets))


@pytest.mark.parametrize("name", list(charsets.REPERTOIRES))
def test_audit_and_policy_agree_on_every_code_point(
    every_code_point: pl.DataFrame, name: str
) -> None:
    frame = every_code_point
    held = _members(frame, _policy_membership(name))
    audit_out = frame.select(pl.col("c").str.contains(audit_outside_pattern(name))).to_series()
    expected = frame.select(~held & ~PUA & ~VS).to_series()
    wrong = frame.filter(audit_out != expected)["cp"].head(5).to_list()
    assert wrong == [], [f"U+{cp:04X}" for cp in wrong]
    assert int(held.sum()) == len(charsets.repertoire(name))  # every member lies in the frame


@pytest.mark.parametrize("target", ["jisx0213", "cp932"])
def test_policy_patterns_agree_with_its_membership(
    every_code_point: pl.DataFrame, target: str
) -> None:
    frame = every_code_point
    held = _members(frame, get_policy("fail", target=target).repertoire)
    for policy, allowed in (("fail", pl.lit(False)), ("shrink", USER_DEFINED if target == "cp932" else pl.lit(False))):
        pattern = get_policy(policy, target=target)._pattern()
        out = frame.select(pl.col("c").str.contains(pattern)).to_series()
        expected = frame.select(~held & ~allowed).to_series()  # a lone selector is outside too
        wrong = frame.filter(out != expected)["cp"].head(5).to_list()
        assert wrong == [], (policy, [f"U+{cp:04X}" for cp in wrong])


def test_validation_not_encodable_agrees_with_cp932_membership(every_code_point: pl.DataFrame) -> None:
    frame = every_code_point
    item = Item(1, "v", "混在文字", 10, bytes=10)
    layout = Layout("t", "b", "n", "s", "1", "", "", (item,), byte_encoding="cp932")
    findings = validate_frame(
        frame.select(pl.col("cp").alias("row"), pl.col("c").alias("v")), layout
    )
    flagged = set(findings.filter(pl.col("type") == "not-encodable")["row"].to_list())
    held = _members(frame, get_policy("fail", target="cp932").repertoire)
    # Private Use U+E000–F8FF passes (reported as gaiji-unresolved), selectors are 0 bytes
    expected = set(frame.filter(~held & ~BMP_PUA & ~VS)["cp"].to_list())
    assert flagged == expected
    assert {0x301C, 0x2212, 0x2016, 0xA2, 0xA3, 0xAC} <= flagged  # one-way codec encodings
    assert 0x9AD9 not in flagged and 0xFF5E not in flagged


def test_jisx0213_is_the_standard_from_shift_jis_2004() -> None:
    two_byte = 0
    for lead in (*range(0x81, 0xA0), *range(0xE0, 0xFD)):
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFD)):
            try:
                bytes((lead, trail)).decode("shift_jis_2004")
            except UnicodeDecodeError:
                continue
            two_byte += 1
    assert two_byte == 11_233  # the standard's count of characters (plane 1 + plane 2)
    jis = charsets.repertoire("jisx0213")
    assert all(c in jis for c in JIS2004_ADDED)
    assert len(jis) == 11_398 and len(charsets.repertoire("cp932")) == 7_517
    # why euc_jis_2004 is not the definition: it falls back to JIS X 0212
    assert CP1.encode("euc_jis_2004") == b"\x8f\xaa\xaf"
    assert CP0212.encode("euc_jis_2004") == b"\x8f\xb0\xa2"
    for char in (CP1, CP0212, "\u00a5", "\u203e"):
        assert char not in jis
    for char in charsets.repertoire("cp932"):  # the CP932 repertoire round-trips
        assert char.encode("cp932").decode("cp932") == char


def test_regression_jis_x_0212_and_u010a_are_outside_jisx0213_everywhere() -> None:
    frame = pl.DataFrame({"氏名": [CP1 + "田", CP0212, TAKA + "橋", "山田"]})
    counts = {
        name: frame.select(count_expressions(["氏名"], name)).row(0)
        for name in charsets.REPERTOIRES
    }
    # (pua values, pua chars, outside values, outside chars)
    assert counts == {
        "jisx0213": (0, 0, 3, 3),
        "cp932": (0, 0, 2, 2),  # Ċ and 丄 are in neither
        "jisx0213+cp932": (0, 0, 2, 2),
    }
    for char in (CP1, CP0212, TAKA):
        with pytest.raises(GaijiPolicyError, match=f"U\\+{ord(char):04X}"):
            get_policy("fail").apply(pl.DataFrame({"v": [char]}), ["v"])
    held, _ = get_policy("fail", target="cp932").apply(pl.DataFrame({"v": [TAKA]}), ["v"])
    assert held["v"].item() == TAKA  # 髙 is CP932 only
    assert TAKA in charsets.repertoire("cp932") and TAKA not in charsets.repertoire("jisx0213")


def test_classes_predicates_and_patterns_say_the_same() -> None:
    samples = ["\ue000", "\uf8ff", "\U000f0000", "\U0010fffd", "\U000ffffe", "\ufe0f",
               "\U000e0100", "\U000e01ef", "\x1f", "\x7f", "ｱ", "a", "田", "\u0080"]
    frame = pl.DataFrame({"c": samples})
    rows = frame.select(
        pl.col("c").str.contains(charsets.private_use_pattern()).alias("pua"),
        pl.col("c").str.contains(charsets.VARIATION_SELECTOR_PATTERN).alias("vs"),
        pl.col("c").str.contains(charsets.CONTROL_PATTERN).alias("control"),
        pl.col("c").str.contains(charsets.CP932_SINGLE_BYTE_PATTERN).alias("single"),
    ).rows()
    assert rows == [
        (charsets.is_private_use(c), charsets.is_variation_selector(c), charsets.is_control(c),
         ord(c) < 0x80 or 0xFF61 <= ord(c) <= 0xFF9F)
        for c in samples
    ]
    assert [r[1] for r in rows] == [False] * 5 + [True] * 3 + [False] * 6
    assert [r[2] for r in rows] == [False] * 8 + [True] * 2 + [False] * 4
    assert [r[3] for r in rows] == [False] * 8 + [True] * 4 + [False] * 2
    assert [charsets.is_private_use(c) for c in samples[:5]] == [True, True, True, True, False]
    assert charsets.is_cp932_user_defined("\ue757") and not charsets.is_cp932_user_defined("\ue758")
    assert charsets.TEXT_TYPES == ("全角文字", "半角文字", "混在文字")


def test_unknown_repertoire_lists_the_known_names() -> None:
    with pytest.raises(UnknownNameError, match="known: cp932, jisx0213, jisx0213\\+cp932"):
        charsets.repertoire("jisx0208")
    with pytest.raises(UnknownNameError):
        audit_outside_pattern("latin-1")
    assert charsets.repertoire_label("jisx0213+cp932") == "JIS X 0213:2004 ∪ CP932"
