"""Values you can see, safely: ``--show-values`` shows the source value behind every finding
(個人番号 masked), and without it findings name non-personal facts only (codes, eras, rows)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.demo.generator import DemoExport, generate_legacy_export
from mig.extract.run import RunResult, extract
from mig.validation.report import MASK, record_text


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> DemoExport:
    return generate_legacy_export(tmp_path_factory.mktemp("legacy"), rows=300, seed=3)


def run(export: DemoExport, out: Path, *, show_values: bool) -> RunResult:
    return extract(
        export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], out, show_values=show_values,
        excel=True,
    )


@pytest.fixture(scope="module")
def shown(export: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return run(export, tmp_path_factory.mktemp("shown") / "run", show_values=True)


@pytest.fixture(scope="module")
def hidden(export: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return run(export, tmp_path_factory.mktemp("hidden") / "run", show_values=False)


def jumin_findings(result: RunResult) -> dict[str, list[object]]:
    file = next(f for f in result.report.files if f.layout == "juki-jumin")
    return {f.type: [f.detail, f.values, f.message] for f in file.findings if f.severity == "error"}


def source_rows(export: DemoExport, rows: list[int]) -> list[dict[str, str]]:
    """The demo's JUMIN.csv records of the given data-record numbers (1-based)."""
    with io.StringIO(export.jumin_csv.read_bytes().decode("cp932"), newline="") as text:
        records = list(csv.DictReader(text))
    return [records[r - 1] for r in rows]


def test_mapping_findings_show_their_source_values(shown: RunResult, export: DemoExport) -> None:
    found = jumin_findings(shown)
    for kind, type_code in (("unknown-code", "code-unmapped"), ("impossible-date", "wareki-invalid"),
                            ("out-of-era-date", "wareki-out-of-era")):
        rows = sorted(export.broken_rows[kind])
        _, values, _ = found[type_code]
        sources = source_rows(export, rows)
        if type_code == "code-unmapped":
            expected = [s["SEX"] for s in sources]
        else:  # 和暦: the era column, then the date
            expected = [f"{s['BIRTH_ERA']} {s['BIRTH_YMD']}" for s in sources]
        assert values == expected, type_code
        assert None not in values and "None" not in values


def test_ragged_row_shows_the_record_with_every_twelve_digit_run_masked(shown: RunResult, export: DemoExport) -> None:
    _, values, _ = jumin_findings(shown)["ragged-row"]
    assert isinstance(values, list) and len(values) == len(export.broken_rows["ragged-row"])
    raw_lines = export.jumin_csv.read_bytes().decode("cp932").split("\r\n")
    for value, row in zip(values, sorted(export.broken_rows["ragged-row"]), strict=True):
        line = raw_lines[row]  # line 1 is the header: data record n is line n + 1
        assert MASK in value
        number = line.split(",")[3]  # MYNUMBER: never shown, even with --show-values
        assert len(number) == 12 and number not in value
        assert value == line.replace(number, MASK)


def test_individual_numbers_never_leave_the_source(shown: RunResult, export: DemoExport) -> None:
    with io.StringIO(export.jumin_csv.read_bytes().decode("cp932"), newline="") as text:
        numbers = {r["MYNUMBER"] for r in csv.DictReader(text) if r.get("MYNUMBER")}
    assert numbers
    findings = pl.read_parquet(shown.run_dir / "findings" / "juki-jumin.parquet")
    shown_values = set(findings.get_column("value").drop_nulls().to_list())
    texts = [(shown.run_dir / "report.json").read_text(encoding="utf-8"), "\n".join(shown_values)]
    texts += [p.read_text(encoding="utf-8-sig") for p in sorted((shown.run_dir / "excel").iterdir())]
    assert len(texts) == 2 + 6  # findings and rejects sheets of three layouts
    assert not any(n in t for n in numbers for t in texts)
    rejects = (shown.run_dir / "excel" / "juki-jumin-rejects.csv").read_text(encoding="utf-8-sig")
    assert rejects.count(MASK) >= len(export.broken_rows["ragged-row"]) + 2  # MYNUMBER column and record texts


def test_without_show_values_the_code_and_era_are_named_but_no_value(hidden: RunResult, export: DemoExport) -> None:
    found = jumin_findings(hidden)
    code = source_rows(export, sorted(export.broken_rows["unknown-code"]))[0]["SEX"]
    detail, values, message = found["code-unmapped"]
    assert detail == f'性別: "{code}"' and values is None
    assert message == f'性別: source code has no entry in the code map (性別: "{code}")'
    detail, values, message = found["wareki-out-of-era"]
    assert detail == "平成" and values is None and "era 平成" in str(message)
    assert found["ragged-row"][1] is None
    assert "value" not in pl.read_parquet(hidden.run_dir / "findings" / "juki-jumin.parquet").columns
    report = (hidden.run_dir / "report.json").read_text(encoding="utf-8")
    for record in source_rows(export, sorted(export.broken_rows["unknown-code"])):
        assert record["SEI"] not in report and record["ADDR"] not in report


def test_code_unmapped_never_names_a_value_that_is_no_code(tmp_path: Path) -> None:
    from mig.extract.mapping import code_unmapped_detail

    frame = pl.DataFrame({"c": ["X9", "山田", "0123456789012", "a b", "", "1234567"]})
    details = frame.select(code_unmapped_detail("m", pl.col("c"))).to_series().to_list()
    assert details == ['m: "X9"', "m", "m", "m", "m", "m"]


def test_a_rejected_parent_is_named_with_its_row(export: DemoExport, tmp_path: Path) -> None:
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    for path in (export.setai_csv, export.jumin_csv, export.ido_csv, export.mapping):
        (legacy / path.name).write_bytes(path.read_bytes())
    setai = legacy / export.setai_csv.name
    with io.StringIO(setai.read_bytes().decode("cp932"), newline="") as text:
        rows = list(csv.reader(text))
    header, records = rows[0], rows[1:]
    broken = 5  # data record 5: its 異動事由 has no entry in the code map, so the 世帯 is rejected
    records[broken - 1][header.index("SETAI_JIYU")] = "999"
    setai_no = records[broken - 1][header.index("SETAI_NO")]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *records])
    setai.write_bytes(out.getvalue().encode("cp932"))
    result = extract(
        legacy / export.mapping.name,
        [setai, legacy / export.jumin_csv.name, legacy / export.ido_csv.name],
        tmp_path / "run", show_values=True,
    )
    jumin = next(f for f in result.report.files if f.layout == "juki-jumin")
    parent = [f for f in jumin.findings if f.type == "fk-parent-rejected"]
    with io.StringIO((legacy / export.jumin_csv.name).read_bytes().decode("cp932"), newline="") as text:
        members = [r for r in csv.DictReader(text) if r["SETAI_NO"] == setai_no]
    assert len(parent) == 1 and parent[0].count == len(members) > 0
    assert parent[0].detail == f"世帯番号 in juki-setai, row {broken}"
    assert parent[0].message == f"世帯番号: the matching 世帯番号 in juki-setai, row {broken} was itself rejected"
    assert parent[0].values == [setai_no] * min(len(members), 10)
    # the orphans the demo breaks on purpose stay "missing": their 世帯 never existed
    missing = [f for f in jumin.findings if f.type == "fk-missing"]
    assert sum(f.count for f in missing) == len(export.broken_rows["orphan-setai"])
    rejects = [json.loads(line) for line in (result.run_dir / "rejects" / "juki-setai.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rejects] == [broken]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=8), st.sampled_from(["cp932", "euc-jp", "utf-8", "utf-16", "jef"]))
def test_record_text_takes_any_bytes(records: list[bytes], encoding: str) -> None:
    texts = record_text(pl.Series("raw", records, dtype=pl.Binary), encoding)
    assert texts.len() == len(records)
    for text, raw in zip(texts.to_list(), records, strict=True):
        assert text is not None
        if text == raw.hex():
            continue
        digits = "".join(ch if ch in "0123456789０１２３４５６７８９" else " " for ch in text)
        assert not any(len(run) == 12 for run in digits.split())
