"""Mapping conveniences: the transforms ``digits``, ``date``, ``regex_replace``, ``pad_left``
and hook modules beside the mapping file (no PYTHONPATH)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.errors import ConfigError, UnknownNameError
from mig.extract.mapping import load_mapping
from mig.extract.run import extract
from mig.extract.transforms import (
    PARAMETERISED,
    date_from_format,
    digits,
    get_transform,
    transform_step,
)

FORMATS = ["%Y/%m/%d", "%Y-%m-%d", "%Y年%m月%d日", "%Y%m%d", "%Y.%m.%d"]


def apply(expr_of: object, values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"s": values}, schema={"s": pl.String})
    return frame.select(expr_of(pl.col("s")))["s"].to_list()  # type: ignore[operator]


# -- digits ------------------------------------------------------------------------------


def test_digits_keeps_ascii_and_fullwidth_digits_only() -> None:
    assert apply(digits, ["102-0083", "〒１０２－００８３", "TEL 03(1234)5678", "なし", None]) == [
        "1020083", "1020083", "0312345678", "", None,
    ]
    assert get_transform("digits") is digits


# -- date --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@given(day=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
@settings(max_examples=40, deadline=None)
def test_date_reads_every_real_date_in_its_format(fmt: str, day: dt.date) -> None:
    text = f"{day.year:04d}" + fmt[2:].replace("%m", f"{day.month:02d}").replace("%d", f"{day.day:02d}")
    assert apply(lambda e: date_from_format(e, fmt), [text]) == [day.strftime("%Y%m%d").zfill(8)]


def test_date_unpadded_fullwidth_unknown_parts_and_impossible_dates() -> None:
    values = ["2024/3/1", "２０２４／１２／３１", " 2024/02/29 ", "2024/03/00", "2024/00/00",
              "2023/02/29", "2024/13/01", "2024/00/05", "24/03/01", "2024-03-01", "", None]
    assert apply(lambda e: date_from_format(e, "%Y/%m/%d"), values) == [
        "20240301", "20241231", "20240229", "20240300", "20240000",
        None, None, None, None, None, None, None,
    ]
    assert apply(lambda e: date_from_format(e, "%Y年%m月%d日"), ["2024年3月31日", "令和6年3月31日"]) == ["20240331", None]
    assert apply(lambda e: date_from_format(e, "%Y/%m"), ["2024/3", "2024/3/1"]) == ["202403", None]


@given(st.text(max_size=14))
@settings(max_examples=200, deadline=None)
def test_date_never_fails_on_any_text(text: str) -> None:
    (out,) = apply(lambda e: date_from_format(e, "%Y/%m/%d"), [text])
    assert out is None or (len(out) == 8 and out.isdigit())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"date": "%d.%m.%y"}, "%y is not allowed"),
        ({"date": "%Y"}, "needs %Y and %m"),
        ({"date": "%Y/%m/%d/%d"}, "%d is not allowed"),
        ({"date": 1}, "date: expected a string"),
        ({"regex_replace": "("}, "not a valid regular expression"),
        ({"pad_left": 0}, "width from 1"),
        ({"pad_left": 3, "fill": "00"}, "fill of one character"),
        ({"pad_left": 3, "replacement": ""}, "unknown key(s) replacement for pad_left"),
        ({"date": "%Y%m%d", "pad_left": 3}, "exactly one of"),
    ],
)
def test_wrong_parameters_are_one_config_error(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        transform_step(spec, "m.toml item 'x' transforms[1]")
    assert message in str(info.value) and str(info.value).startswith("m.toml item 'x' transforms[1]")


def test_a_parameterised_name_without_its_table_says_how_to_write_it() -> None:
    for name in PARAMETERISED:
        with pytest.raises(ConfigError, match="takes a parameter"):
            get_transform(name)
    with pytest.raises(UnknownNameError, match="pad_left"):
        get_transform("pad_right")


def test_regex_replace_and_pad_left() -> None:
    step = transform_step({"regex_replace": r"^(\d{3})(\d{4})$", "replacement": "${1}-${2}"})
    assert apply(step.apply, ["1020083", "10200"]) == ["102-0083", "10200"]
    pad = transform_step({"pad_left": 6})
    assert apply(pad.apply, ["123", "1234567", ""]) == ["000123", "1234567", "000000"]


# -- in a mapping, end to end ------------------------------------------------------------

MAPPING = """adapter = "csv"
[source]
encoding = "utf-8"
[[files]]
layout = "juki-setai"
[files.items]
"団体コード" = { const = "131016" }
"世帯番号" = { column = "NO", transforms = ["digits", { pad_left = 6 }] }
"世帯主氏名" = { column = "NAME" }
"住所" = { const = "東京都千代田区" }
"異動事由" = { const = "01" }
"郵便番号" = { column = "ZIP", transforms = [{ regex_replace = "[-ー－]" }] }
"世帯となった年月日" = { column = "SINCE", transforms = [{ date = "%Y/%m/%d" }] }
"""


def run_outputs(run: Path) -> tuple[pl.DataFrame, pl.DataFrame, list[dict[str, object]]]:
    data = pl.read_parquet(run / "data" / "juki-setai.parquet")
    findings = pl.read_parquet(run / "findings" / "juki-setai.parquet")
    rejects = [json.loads(line) for line in (run / "rejects" / "juki-setai.jsonl").read_text(encoding="utf-8").splitlines()]
    return data, findings, rejects


def test_transforms_in_a_mapping_convert_and_an_unreadable_date_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "s.csv").write_text(
        "NO,NAME,ZIP,SINCE\nNo.12,山田　太郎,102-0083,2024/3/31\n13,鈴木　花子,102ー0084,2024/02/30\n"
        "14,佐藤　一郎,102-0085,\u3000 \n",  # spaces only: no date, not a bad one
        encoding="utf-8",
    )
    result = extract(tmp_path / "mapping.toml", [tmp_path / "s.csv"], tmp_path / "run")
    entry = result.report.files[0]
    assert (entry.rows_in, entry.rows_out, entry.rows_rejected) == (3, 1, 2)
    data, findings, rejects = run_outputs(tmp_path / "run")
    assert data.select("世帯番号", "郵便番号", "世帯となった年月日").rows() == [("000012", "1020083", "20240331")]
    bad = findings.filter(pl.col("type") == "date-invalid")
    assert bad.select("row", "item", "detail").rows() == [(2, "世帯となった年月日", "%Y/%m/%d")]
    reasons = {r["row"]: [x["type"] for x in r["reasons"]] for r in rejects}  # type: ignore[attr-defined]
    # a date of spaces only is no date (the required item is missing), not an unreadable one
    assert reasons == {2: ["date-invalid"], 3: ["required-missing"]}


def test_a_bare_parameterised_name_in_a_mapping_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "mapping.toml").write_text(MAPPING.replace('[{ date = "%Y/%m/%d" }]', '["date"]'), encoding="utf-8")
    with pytest.raises(ConfigError, match="transforms\\[1\\]: .*date.*takes a parameter|takes a parameter"):
        load_mapping(tmp_path / "mapping.toml")


# -- hooks beside the mapping ------------------------------------------------------------

HOOK = """import polars as pl

def zip7(zip_code: pl.Expr) -> pl.Expr:
    return zip_code.str.replace_all("-", "", literal=True) + pl.lit("{mark}")
"""


def hook_mapping(folder: Path, mark: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "vendor_hooks.py").write_text(HOOK.replace("{mark}", mark), encoding="utf-8")
    mapping = folder / "mapping.toml"
    mapping.write_text(
        MAPPING.replace('{ column = "ZIP", transforms = [{ regex_replace = "[-ー－]" }] }',
                        '{ hook = "vendor_hooks:zip7", columns = ["ZIP"] }'),
        encoding="utf-8",
    )
    return mapping


def test_a_hook_module_beside_the_mapping_is_found_without_pythonpath(tmp_path: Path) -> None:
    path_before = list(sys.path)
    first = hook_mapping(tmp_path / "a", "")
    second = hook_mapping(tmp_path / "b", "9")  # same module name, another directory
    (tmp_path / "s.csv").write_text("NO,NAME,ZIP,SINCE\n1,山田　太郎,102-008,2024/3/31\n", encoding="utf-8")
    extract(first, [tmp_path / "s.csv"], tmp_path / "run-a")
    extract(second, [tmp_path / "s.csv"], tmp_path / "run-b")
    assert run_outputs(tmp_path / "run-a")[0]["郵便番号"].to_list() == ["102008"]
    assert run_outputs(tmp_path / "run-b")[0]["郵便番号"].to_list() == ["1020089"]
    assert sys.path == path_before
    assert "vendor_hooks" not in sys.modules


def test_a_broken_hook_file_beside_the_mapping_is_one_config_error(tmp_path: Path) -> None:
    mapping = hook_mapping(tmp_path / "a", "")
    (tmp_path / "a" / "vendor_hooks.py").write_text("raise RuntimeError('secret 山田')\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_mapping(mapping)
    assert "importing it raised RuntimeError" in str(info.value) and "山田" not in str(info.value)


def test_the_readme_lists_every_transform_with_parameters() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Mapping files", 1)[1].split("\n### ", 1)[0]
    for name in PARAMETERISED:
        assert f"`{{ {name} = " in section, name


@given(pattern=st.text(alphabet="ab[]()*+?{}\\^$|.-0123456789,年%YmdS ", max_size=12),
       replacement=st.text(alphabet="a$1{}\\", max_size=4))
@settings(max_examples=200, deadline=None)
def test_any_pattern_or_format_is_a_working_step_or_one_config_error(pattern: str, replacement: str) -> None:
    for spec in ({"regex_replace": pattern, "replacement": replacement}, {"date": pattern}):
        try:
            step = transform_step(spec, "m.toml item 'x' transforms[1]")
        except ConfigError as exc:
            assert "\n" not in str(exc)
            continue
        out = apply(step.apply, ["2024/03/31", "", None, "山田 1-2"])
        assert len(out) == 4


def test_a_hook_in_a_package_folder_beside_the_mapping(tmp_path: Path) -> None:
    mapping = hook_mapping(tmp_path / "m", "")
    (tmp_path / "m" / "vendor").mkdir()
    (tmp_path / "m" / "vendor_hooks.py").rename(tmp_path / "m" / "vendor" / "zipcode.py")
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("vendor_hooks:zip7", "vendor.zipcode:zip7"), encoding="utf-8")
    (tmp_path / "s.csv").write_text("NO,NAME,ZIP,SINCE\n1,山田　太郎,102-0083,2024/3/31\n", encoding="utf-8")
    extract(mapping, [tmp_path / "s.csv"], tmp_path / "run")
    assert run_outputs(tmp_path / "run")[0]["郵便番号"].to_list() == ["1020083"]
    assert not any(name == "vendor" or name.startswith("vendor.") for name in sys.modules)
