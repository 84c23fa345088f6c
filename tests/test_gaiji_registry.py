"""Registries: the file format, merge rules, conflicts and bad rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.demo.generator import DEMO_GAIJI
from mig.demo.registry import DEMO_SOURCE, demo_registry_path
from mig.errors import ConfigError
from mig.gaiji.mj import MalformedCodeError, mj_text
from mig.gaiji.registry import (
    COLUMNS,
    Registry,
    RegistryEntry,
    RegistryError,
    load_registries,
    load_registry,
    make_entry,
    write_registry,
)

HEADER = ",".join(COLUMNS) + "\n"


def _write(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _entry(code: str, mj: str, status: str = "confirmed", by: str = "a") -> RegistryEntry:
    return make_entry(
        source="s", code=code, mj=mj, status=status, decided_by=by, decided_at="2025-04-01"
    )


def test_load_fills_text_from_mj_and_reads_u_notation(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "r.csv",
        "s,U+E003,MJ026199,,confirmed,山田,2025-04-01,戸籍と照合",
        "s,u+e004,,U+9F4B U+E0102,confirmed,山田,2025-04-01T10:00:00,",
        "s,0x80a1,,髙,proposed,,,glyph match",
    )
    registry = load_registry(path)
    assert registry.for_source("s") == {"U+E003": mj_text("MJ026199"), "U+E004": "齋\U000E0102"}
    assert registry.for_source("other") == {}
    assert [e.code for e in registry.entries] == ["U+E003", "U+E004", "0x80A1"]
    assert registry.entries[0].text == "邊\U000E010F"  # the IVS, intact


def test_write_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    entries = [_entry("U+E001", "MJ030196"), _entry("U+E000", "MJ028902"), _entry("U+E002", "MJ032129", "proposed")]
    a, b = Registry(), Registry()
    for e in entries:
        a = a.add(e)
    for e in reversed(entries):
        b = b.add(e)
    write_registry(a, tmp_path / "a.csv")
    write_registry(b, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert load_registry(tmp_path / "a.csv") == a
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]  # no temp file left


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(8))))
def test_order_never_depends_on_insertion(order: list[int]) -> None:
    entries = [_entry(f"U+E00{n}", "MJ028902") for n in range(8)]
    registry = Registry()
    for n in order:
        registry = registry.add(entries[n])
    assert [e.code for e in registry.entries] == [f"U+E00{n}" for n in range(8)]


def test_conflicting_rows_in_one_file_name_both(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "r.csv",
        "s,U+E000,MJ028902,,confirmed,a,2025-04-01,",
        "s,U+E000,MJ032129,,confirmed,b,2025-04-02,",
    )
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    message = str(info.value)
    assert "r.csv:2" in message and "r.csv:3" in message
    assert "MJ028902" in message and "MJ032129" in message


def test_merge_rules(tmp_path: Path) -> None:
    first = _write(tmp_path / "one.csv", "s,U+E000,MJ028902,,confirmed,a,2025-04-01,")
    second = _write(tmp_path / "two.csv", "s,U+E000,MJ032129,,confirmed,b,2025-04-02,")
    with pytest.raises(RegistryError, match=r"one\.csv:2.*two\.csv:2"):
        load_registries([first, second])
    # the same decision twice collapses to the first
    same = _write(tmp_path / "same.csv", "s,U+E000,MJ028902,,confirmed,b,2025-05-01,")
    merged = load_registries([first, same])
    assert len(merged.entries) == 1 and merged.entries[0].decided_by == "a"
    # proposals coexist; a confirmation supersedes them
    proposals = Registry().add(_entry("U+E001", "MJ030196", "proposed")).add(_entry("U+E001", "MJ030197", "proposed"))
    assert len(proposals.entries) == 2 and proposals.for_source("s") == {}
    decided = proposals.merge(Registry().add(_entry("U+E001", "MJ030197")))
    assert [(e.mj, e.status) for e in decided.entries] == [("MJ030197", "confirmed")]


@pytest.mark.parametrize(
    ("row", "error", "pattern"),
    [
        ("s,U+E000,MJ999999,,confirmed,a,2025-04-01,", RegistryError, r"r\.csv:2: .*MJ999999.*not in the MJ table"),
        ("s,U+E000,MJ12,,confirmed,a,2025-04-01,", MalformedCodeError, r"r\.csv:2: .*MJ文字図形名"),
        ("s,E000,MJ028902,,confirmed,a,2025-04-01,", MalformedCodeError, r"r\.csv:2: malformed code"),
        ("s,U+ZZZZ,MJ028902,,confirmed,a,2025-04-01,", MalformedCodeError, "malformed code"),
        ("s,U+E000,MJ028902,高,confirmed,a,2025-04-01,", RegistryError, "not a form of MJ028902"),
        ("s,U+E000,,,confirmed,a,2025-04-01,", RegistryError, "give an MJ文字図形名 or a text"),
        ("s,U+E000,,\ue001,confirmed,a,2025-04-01,", RegistryError, "Private Use"),
        ("s,U+E000,MJ028902,,maybe,a,2025-04-01,", RegistryError, "status 'maybe'"),
        ("s,U+E000,MJ028902,,confirmed,,2025-04-01,", RegistryError, "needs decided_by"),
        ("s,U+E000,MJ028902,,confirmed,a,yesterday,", RegistryError, "ISO 8601"),
        ("bad source!,U+E000,MJ028902,,confirmed,a,2025-04-01,", RegistryError, "source"),
        ("s,U+E000,MJ028902,,confirmed,a,2025-04-01", RegistryError, "7 fields"),
    ],
)
def test_bad_rows_are_one_line_errors(tmp_path: Path, row: str, error: type[Exception], pattern: str) -> None:
    with pytest.raises(error, match=pattern) as info:
        load_registry(_write(tmp_path / "r.csv", row))
    assert isinstance(info.value, ConfigError)
    assert "\n" not in str(info.value)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path / "missing.csv")
    (tmp_path / "h.csv").write_text("source,code,mj\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="missing text"):
        load_registry(tmp_path / "h.csv")
    (tmp_path / "e.csv").write_text("", encoding="utf-8")
    with pytest.raises(RegistryError, match="empty"):
        load_registry(tmp_path / "e.csv")
    (tmp_path / "x.csv").write_bytes(HEADER.encode() + "s,U+E000,,髙,proposed,,,\n".encode("cp932"))
    with pytest.raises(RegistryError, match="not UTF-8"):
        load_registry(tmp_path / "x.csv")
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + (HEADER + "s,U+E000,MJ028902,,confirmed,a,2025-04-01,\n").encode())
    assert load_registry(bom).for_source("s") == {"U+E000": "髙"}


def test_demo_registry_covers_the_demo_gaiji_with_ivs() -> None:
    registry = load_registry(demo_registry_path())
    table = registry.for_source(DEMO_SOURCE)
    assert set(table) == {f"U+{ord(c):04X}" for c in DEMO_GAIJI}
    for char, meant in DEMO_GAIJI.items():
        assert table[f"U+{ord(char):04X}"][0] == meant  # the registered base is the meant character
    assert sum(len(t) == 2 for t in table.values()) >= 1  # at least one IVS
