"""The resolver: registered 外字 replaced (IVS intact), the rest reported per character."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.demo.generator import generate_legacy_export
from mig.demo.registry import attach_demo_registry, demo_registry_path
from mig.errors import ConfigError
from mig.extract.run import extract
from mig.gaiji.mj import mj_text
from mig.gaiji.registry import load_registry
from mig.gaiji.resolve import (
    gaiji_settings,
    juki_code,
    koseki_code,
    replace_table,
    resolve_frame,
)
from mig.layout import Item, Layout
from mig.validation.findings import FINDING_SCHEMA, FINDING_TYPES
from mig.validation.rules import validate_frame

LAYOUT = Layout(
    "t", "b", "n", "s", "1", "", "",
    (
        Item(1, "番号", "数字", 6),
        Item(2, "氏名", "混在文字", 30),
        Item(3, "カナ", "全角文字", 30),
    ),
)
REGISTRY = {"U+E000": mj_text("MJ028902"), "U+E003": mj_text("MJ026199")}


def _resolve(frame: pl.DataFrame, table: dict[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The resolved frame and the unresolved 外字 the validation rule reports on it."""
    resolved = resolve_frame(frame, LAYOUT, table)
    return resolved, validate_frame(resolved, LAYOUT).filter(pl.col("type") == "gaiji-unresolved")


def _frame(names: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": list(range(1, len(names) + 1)),
            "番号": ["\ue000"] * len(names),  # not a text item: never touched
            "氏名": names,
            "カナ": ["ワタナベ"] * len(names),
        },
        schema={"row": pl.Int64, "番号": pl.String, "氏名": pl.String, "カナ": pl.String},
    )


def test_registered_characters_resolve_with_ivs_intact() -> None:
    frame = _frame(["渡\ue003　太郎", "\ue000橋\ue000", "山田", None, "\ue009\ue009田\ue00a"])
    resolved, findings = _resolve(frame, REGISTRY)
    assert resolved["氏名"].to_list() == [
        "渡邊\U000E010F　太郎", "髙橋髙", "山田", None, "\ue009\ue009田\ue00a",
    ]
    assert resolved["番号"].to_list() == frame["番号"].to_list()
    assert resolved["カナ"].to_list() == frame["カナ"].to_list()
    assert findings.schema == pl.Schema(FINDING_SCHEMA)
    assert findings.rows() == [
        (5, "氏名", "gaiji-unresolved", "U+E009"),  # once per row and character
        (5, "氏名", "gaiji-unresolved", "U+E00A"),
    ]


def test_empty_registry_reports_every_private_use_character() -> None:
    frame = _frame(["\ue000橋", "渡\ue003", "\U000F0001"])
    resolved, findings = _resolve(frame, {})
    assert resolved.equals(frame)
    assert findings.select("row", "detail").rows() == [(1, "U+E000"), (2, "U+E003"), (3, "U+F0001")]


def test_findings_never_hold_values() -> None:
    frame = _frame(["鈴木\ue009一郎"])
    _, findings = _resolve(frame, {})
    text = json.dumps(findings.rows(), ensure_ascii=False)
    assert "鈴木" not in text and "一郎" not in text and "\ue009" not in text
    assert "{detail}" in FINDING_TYPES["gaiji-unresolved"].template or True  # template is the lead's


PUA = [chr(0xE000 + n) for n in range(6)]
TEXTS = {f"U+{0xE000 + n:04X}": t for n, t in enumerate(["髙", "﨑\U000E0102", "𠮷", "邊\U000E0108", "齋", "濵"])}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet=st.sampled_from(["山", "田", "　", "a", *PUA]), max_size=8), min_size=1, max_size=20),
    st.sets(st.sampled_from(sorted(TEXTS))),
)
def test_resolution_property(names: list[str], registered: set[str]) -> None:
    table = {code: TEXTS[code] for code in registered}
    chars = replace_table(table)
    resolved, findings = _resolve(_frame(list(names)), table)
    expected_values = ["".join(chars.get(c, c) for c in name) for name in names]
    assert resolved["氏名"].to_list() == expected_values
    expected_findings = sorted(
        (row, f"U+{ord(c):04X}")
        for row, name in enumerate(names, 1)
        for c in set(name)
        if c in PUA and c not in chars
    )
    assert sorted(findings.select("row", "detail").rows()) == expected_findings


def test_juki_and_koseki_transforms() -> None:
    frame = pl.DataFrame({"v": ["渡J+BD6B太郎", "J+ZZZZ田", "J+0000", "山田", None]})
    out = frame.select(juki_code(pl.col("v")))["v"].to_list()
    assert out == ["渡邊\U000E010F太郎", "J+ZZZZ田", "J+0000", "山田", None]
    frame = pl.DataFrame({"v": ["445320", "445320 513280", "445320,999999", "住所1234567", "12345", None]})
    out = frame.select(koseki_code(pl.col("v")))["v"].to_list()
    assert out == [mj_text("MJ026199"), mj_text("MJ026199") + "髙", "445320,999999", "住所1234567", "12345", None]


def test_gaiji_settings(tmp_path: Path) -> None:
    registry = tmp_path / "reg" / "r.csv"
    registry.parent.mkdir()
    registry.write_bytes(demo_registry_path().read_bytes())
    mapping = tmp_path / "mapping.toml"
    settings_ = gaiji_settings({"source": "demo-vendor-cp932", "registry": "reg/r.csv"}, mapping)
    assert settings_.table == load_registry(registry).for_source("demo-vendor-cp932")
    entry = settings_.manifest_entry()
    assert entry["registries"][0]["path"] == "r.csv" and len(entry["registries"][0]["sha256"]) == 64
    with pytest.raises(ConfigError, match="unknown key"):
        gaiji_settings({"source": "x", "registy": "r.csv"}, mapping)
    # a key holding a line end is shown escaped: the error stays one line (found by the fuzz suite)
    with pytest.raises(ConfigError, match=r'unknown key\(s\) "\\n"; allowed') as raised:
        gaiji_settings({"\n": "x"}, mapping)
    assert "\n" not in str(raised.value)
    with pytest.raises(ConfigError, match="give source"):
        gaiji_settings({"registry": "reg/r.csv"}, mapping)
    with pytest.raises(ConfigError, match="does not exist"):
        gaiji_settings({"source": "x", "registry": ["nope.csv"]}, mapping)


# -- through the pipeline ---------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return generate_legacy_export(tmp_path_factory.mktemp("gaiji-demo") / "legacy", rows=4000, seed=3)


def _jumin_names(export) -> list[str]:  # type: ignore[no-untyped-def]
    frame = pl.read_csv(
        export.jumin_csv.read_bytes().decode("cp932").encode(), infer_schema=False, truncate_ragged_lines=True
    )
    return [f"{s}　{m}" for s, m in zip(frame["SEI"], frame["MEI"], strict=True)]


def test_demo_registry_resolves_every_vendor_gaiji(demo_export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inputs = [demo_export.setai_csv, demo_export.jumin_csv, demo_export.ido_csv]
    before = extract(demo_export.mapping, inputs, tmp_path / "before")
    unresolved = [g for f in before.report.files for g in f.gaiji]
    assert unresolved and all(g["code"].startswith("U+E00") for g in unresolved)

    mapping = tmp_path / "mapping.toml"
    mapping.write_bytes(demo_export.mapping.read_bytes())
    attach_demo_registry(mapping)
    after = extract(mapping, inputs, tmp_path / "after")
    assert [g for f in after.report.files for g in f.gaiji] == []
    assert not any(x.type == "gaiji-unresolved" for f in after.report.files for x in f.findings)
    assert after.manifest["gaiji"]["source"] == "demo-vendor-cp932"
    table = replace_table(load_registry(demo_registry_path()).for_source("demo-vendor-cp932"))
    names = pl.read_parquet(tmp_path / "after" / "data" / "juki-jumin.parquet")["氏名"].to_list()
    resolved = [n for n in names if n and any(t in n for t in table.values() if len(t) == 2)]
    assert resolved, "no resolved IVS name in the output"
    assert not any("\ue000" <= c <= "\uf8ff" for n in names if n for c in n)
    # the IVS stays intact: every resolved name is the registry's text, character for character
    expected = {"".join(table.get(c, c) for c in name) for name in _jumin_names(demo_export)}
    assert set(resolved) <= expected
