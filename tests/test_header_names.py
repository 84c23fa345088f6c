"""A file whose header line is missing has a record where the column names should be: its
values never reach an extract error, a validate report or an audit report (one rule,
mig.validation.header, for all three)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mig.cli import main
from mig.errors import ConfigError, ExitCode, InputError
from mig.extract.run import extract
from mig.registry import get_adapter
from mig.validation.files import validate_files
from mig.validation.header import WITHHOLD_SHARE, HeaderMatch

MAPPING = """
adapter = "csv"
[source]
encoding = "utf-8"
[[files]]
layout = "juki-setai"
[files.items]
"団体コード" = { const = "131016" }
"世帯番号" = { column = "SETAI_NO" }
"世帯主氏名" = { column = "NAME" }
"住所" = { column = "ADDR" }
"世帯となった年月日" = { column = "YMD" }
"異動事由" = { column = "JIYU" }
"""
#: The first record of a file whose header line is missing: a person's data.
RECORD = ["987654321", "山田太郎", "東京都千代田区霞が関1-2-3", "19720229", "QZX7"]
SETAI_ITEMS = ["団体コード", "世帯番号", "世帯主宛名番号", "世帯主氏名", "世帯主氏名カナ", "郵便番号", "住所",
               "方書", "世帯となった年月日", "異動事由", "世帯員数", "最終更新年月日"]


def no_record_value(text: str) -> None:
    for value in RECORD:
        assert value not in text, f"a value of the first record leaked: {value}"


def test_extract_of_a_headerless_file_says_so_without_the_record(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(MAPPING, encoding="utf-8")
    data = tmp_path / "SETAI.csv"
    data.write_text(",".join(RECORD) + "\n" + ",".join(RECORD) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", "--mapping", str(tmp_path / "m.toml"), "--out",
                                       str(tmp_path / "run"), "--quiet", str(data)])
    assert result.exit_code == ExitCode.USAGE
    line = result.stderr.strip()
    assert "\n" not in line
    assert "the first line does not look like a header (5 fields, no known column names)" in line
    assert "missing column(s) SETAI_NO, NAME, ADDR, YMD, JIYU" in line  # the mapping's words
    no_record_value(result.output)


def test_extract_with_a_plausible_header_names_only_the_mapping_columns_missing(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(MAPPING, encoding="utf-8")
    data = tmp_path / "SETAI.csv"
    data.write_text("SETAI_NO,NAME,ADDR,YMD,ZOKUGARA_SECRET\n1,a,b,20200401,x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        extract(tmp_path / "m.toml", [data], tmp_path / "run")
    assert str(info.value).endswith("header does not match the mapping for juki-setai: missing column(s) JIYU")
    assert "ZOKUGARA_SECRET" not in str(info.value)


def test_extract_lists_unmapped_columns_of_a_real_header(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(MAPPING, encoding="utf-8")
    data = tmp_path / "SETAI.csv"
    data.write_text("SETAI_NO,NAME,ADDR,YMD,JIYU,BIKO\n1,a,b,20200401,01,x\n", encoding="utf-8")
    result = extract(tmp_path / "m.toml", [data], tmp_path / "run")
    assert result.report.files[0].unmapped_columns == ["BIKO"]


def test_validate_withholds_the_names_of_a_headerless_file(tmp_path: Path) -> None:
    data = tmp_path / "juki-setai.csv"
    data.write_text(",".join(RECORD) + "\n" + ",".join(RECORD) + "\n", encoding="utf-8")
    report = validate_files([data], "juki-setai")
    text = report.to_json()
    no_record_value(text)
    file = report.files[0]
    assert file.unmapped_columns == []
    assert not [f for f in file.findings if f.type == "column-extra"]
    withheld = [f for f in file.findings if f.type == "columns-withheld"]
    assert len(withheld) == 1 and withheld[0].message.startswith("5 column name(s) not in the layout withheld")
    assert {f.item for f in file.findings if f.type == "column-missing"} == set(SETAI_ITEMS)
    # the CLI's outputs (HTML report, --json, text) hold none of them either
    html = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["validate", "--layout", "juki-setai", "--report", str(html), "--json", str(data)])
    assert result.exit_code == ExitCode.FINDINGS, result.output
    no_record_value(html.read_text(encoding="utf-8"))
    assert json.loads(result.stdout)["files"][0]["unmapped_columns"] == []
    no_record_value(result.output)
    plain = CliRunner().invoke(main, ["validate", "--layout", "juki-setai", str(data)])
    assert "columns-withheld" in plain.stdout
    no_record_value(plain.output)


def test_validate_still_names_extra_columns_of_a_real_header(tmp_path: Path) -> None:
    data = tmp_path / "juki-setai.csv"
    data.write_text(",".join(SETAI_ITEMS + ["備考"]) + "\n", encoding="utf-8")
    file = validate_files([data], "juki-setai").files[0]
    assert file.unmapped_columns == ["備考"]
    assert [f.item for f in file.findings if f.type == "column-extra"] == ["備考"]
    assert not [f for f in file.findings if f.type in ("columns-withheld", "column-missing")]


def test_one_rule_for_a_plausible_header() -> None:
    half = int(len(SETAI_ITEMS) * WITHHOLD_SHARE)
    at_threshold = HeaderMatch.of(SETAI_ITEMS[:half] + ["x"], SETAI_ITEMS)
    below = HeaderMatch.of(SETAI_ITEMS[: half - 1] + ["x"], SETAI_ITEMS)
    assert at_threshold.plausible and at_threshold.shown_extra == ("x",) and at_threshold.withheld == 0
    assert not below.plausible and below.shown_extra == () and below.withheld == 1
    assert below.not_a_header() == (
        f"the first line does not look like a header ({half} fields, only {half - 1} of the "
        f"{len(SETAI_ITEMS)} known column names)"
    )
    nothing_known = HeaderMatch.of(["a", "b"], [])  # nothing to judge by: never shown
    assert not nothing_known.plausible and nothing_known.withheld == 2


def test_a_duplicate_header_name_is_reported_by_position(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("000123,山田太郎,山田太郎\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        get_adapter("csv").open(path, {}, batch_bytes=1 << 20)
    assert info.value.rule == "header names a column twice (fields 2 and 3)"
    assert "山田" not in str(info.value)
