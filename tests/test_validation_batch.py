"""One validation loop: extract, validate and audit give the same findings for the same rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.audit.conformance import audit_file
from mig.cli import main
from mig.extract.run import extract
from mig.layout import ForeignKey, Item, Layout, get_layout
from mig.validation.batch import validate_batch
from mig.validation.files import validate_files
from mig.validation.findings import severity_table
from mig.validation.keys import KeyTracker, check_foreign_keys
from mig.validation.report import FindingSummary

SETAI = get_layout("juki-setai")
JUMIN = get_layout("juki-jumin")


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[row.get(name, "") for name in header] for row in rows])
    path.write_bytes(text.getvalue().encode("utf-8"))
    return path


def setai_row(number: str) -> dict[str, str]:
    return {
        "団体コード": "131016", "世帯番号": number, "世帯主氏名": "山田　太郎", "住所": "東京都千代田区1-1",
        "世帯となった年月日": "20200401", "異動事由": "01",
    }


def jumin_row(number: str, setai: str = "1", **changes: str) -> dict[str, str]:
    row = {
        "団体コード": "131016", "宛名番号": number, "世帯番号": setai, "氏名": "山田　太郎",
        "生年月日": "19800101", "性別": "1", "続柄": "01", "住民となった年月日": "20200401",
        "住民となった事由": "01", "住所": "東京都千代田区1-1", "住民状態": "1",
    }
    return {**row, **changes}


def test_validate_cli_rejects_a_duplicated_primary_key(tmp_path: Path) -> None:
    """Regression: ``mig validate`` used not to track primary keys (exit 0, no finding)."""
    path = write_csv(tmp_path / "juki-setai.csv", SETAI.item_names, [setai_row("1"), setai_row("2"), setai_row("1")])
    result = CliRunner().invoke(main, ["validate", str(path), "--layout", "juki-setai", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    [file] = report["files"]
    duplicates = [f for f in file["findings"] if f["type"] == "key-duplicate"]
    assert [(f["item"], f["severity"], f["count"], f["rows"]) for f in duplicates] == [("世帯番号", "error", 1, [3])]
    assert (file["rows_in"], file["rows_out"], file["rows_rejected"]) == (3, 2, 1)


JUMIN_ROWS = [
    jumin_row("1"),  # row 1: clean
    jumin_row("1"),  # row 2: key-duplicate
    jumin_row("3", 氏名="山\ue000田\ue001\ue000"),  # row 3: two distinct Private Use characters (warning)
    jumin_row("4", 生年月日="20230230"),  # row 4: date-invalid
    jumin_row("5", setai="99"),  # row 5: fk-missing
    jumin_row("6", 性別="7"),  # row 6: code-unknown
    jumin_row("7", 氏名=""),  # row 7: required-missing
    jumin_row("1", 住所=""),  # row 8: required-missing; rejected, so not also a key-duplicate
    jumin_row("4"),  # row 9: row 4 was rejected, so its key is free: clean
    jumin_row("3"),  # row 10: row 3 was kept (a warning only): key-duplicate
]


def summaries(findings: list[FindingSummary]) -> set[tuple[str, str, str | None, str, int, tuple[int, ...]]]:
    return {(f.type, f.item, f.detail, f.severity, f.count, tuple(f.rows)) for f in findings}


def row_findings(findings: list[FindingSummary]) -> set[tuple[int, str, str]]:
    assert all(f.count == len(f.rows) for f in findings)  # small: every row is listed
    return {(row, f.item, f.type) for f in findings for row in f.rows}


def test_extract_validate_and_audit_agree(tmp_path: Path) -> None:
    setai = write_csv(tmp_path / "setai.csv", SETAI.item_names, [setai_row("1"), setai_row("2")])
    jumin = write_csv(tmp_path / "jumin.csv", JUMIN.item_names, JUMIN_ROWS)
    lines = ['adapter = "csv"', "[source]", 'encoding = "utf-8"']
    for layout, pattern in ((SETAI, "setai.csv"), (JUMIN, "jumin.csv")):
        lines += ["[[files]]", f'layout = "{layout.id}"', f'inputs = ["{pattern}"]', "[files.items]"]
        lines += [f'"{name}" = {{ column = "{name}" }}' for name in layout.item_names]
    mapping = tmp_path / "mapping.toml"
    mapping.write_text("\n".join(lines) + "\n", encoding="utf-8")

    run = extract(mapping, [setai, jumin], tmp_path / "run")
    [extracted] = [f for f in run.report.files if f.layout == "juki-jumin"]
    written = pl.read_parquet(tmp_path / "run" / "findings" / "juki-jumin.parquet")
    expected = {
        (2, "宛名番号", "key-duplicate"),
        (3, "氏名", "gaiji-unresolved"),
        (4, "生年月日", "date-invalid"),
        (5, "世帯番号", "fk-missing"),
        (6, "性別", "code-unknown"),
        (7, "氏名", "required-missing"),
        (8, "住所", "required-missing"),
        (10, "宛名番号", "key-duplicate"),
    }
    assert set(written.select("row", "item", "type").rows()) == expected
    assert written.filter(pl.col("type") == "gaiji-unresolved")["detail"].to_list() == ["U+E000", "U+E001"]
    assert row_findings(extracted.findings) == expected
    assert (extracted.rows_in, extracted.rows_out, extracted.rows_rejected) == (10, 3, 7)

    validated = validate_files([jumin], "juki-jumin", references={"juki-setai": setai}).files[0]
    assert summaries(validated.findings) == summaries(extracted.findings)
    assert (validated.rows_in, validated.rows_out, validated.rows_rejected) == (10, 3, 7)
    assert validated.gaiji == [{k: v for k, v in g.items() if k != "charsets"} for g in extracted.gaiji]

    setai_keys = pl.Series(["1", "2"])
    audited = audit_file(
        jumin, "jumin.csv", JUMIN, "csv",
        extensions=[], keys={"juki-setai": setai_keys}, collect=[], repertoire="jisx0213",
    )
    # audit counts 外字 per repertoire itself instead of listing them as findings
    no_gaiji = [f for f in extracted.findings if f.type != "gaiji-unresolved"]
    assert summaries(audited.audit.findings) == summaries(no_gaiji)
    assert (audited.audit.rows, audited.audit.rows_conforming) == (10, 3)
    name = next(i for i in audited.audit.items if i.name == "氏名")
    assert (name.pua_values, name.pua_chars, name.pua_distinct) == (1, 3, 2)


def test_validate_batch_is_the_reject_decision() -> None:
    layout = SETAI
    severities = severity_table({"key-duplicate": "warning"})
    frame = pl.DataFrame(
        {"row": [1, 2], **{n: [setai_row("1").get(n, "")] * 2 for n in layout.item_names}}
    )
    result = validate_batch(
        frame, layout, severities=severities, references={}, primary_keys=KeyTracker(layout)
    )
    # a warning keeps the record, whatever its type
    assert result.findings.select("row", "type", "severity").rows() == [(2, "key-duplicate", "warning")]
    assert result.rejected_rows.to_list() == []
    assert result.accepted["row"].to_list() == [1, 2]
    framing = pl.DataFrame({"row": [3], "type": ["ragged-row"], "detail": ["2"]})
    strict = validate_batch(
        frame, layout, severities=severity_table(), references={}, primary_keys=KeyTracker(layout),
        framing=framing,
    )
    assert sorted(strict.rejected_rows.to_list()) == [2, 3]
    assert strict.accepted["row"].to_list() == [1]
    assert strict.errors.select("row", "item", "type").rows() == [(2, "世帯番号", "key-duplicate"), (3, "", "ragged-row")]


@pytest.mark.parametrize("show_values", [False, True])
def test_show_values_with_a_duplicate_key(tmp_path: Path, show_values: bool) -> None:
    path = write_csv(tmp_path / "juki-setai.csv", SETAI.item_names, [setai_row("1"), setai_row("1")])
    [file] = validate_files([path], "juki-setai", show_values=show_values).files
    [duplicate] = [f for f in file.findings if f.type == "key-duplicate"]
    assert duplicate.rows == [2]
    assert duplicate.values == (["1"] if show_values else None)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.sampled_from(["", "1", "2", "3", "10", "あ"])), max_size=20),
    known=st.lists(st.one_of(st.none(), st.sampled_from(["1", "2", "10", "あ", "", "7", "8"])), max_size=40),
)
def test_foreign_keys_against_any_key_list(values: list[str | None], known: list[str | None]) -> None:
    """A key set with repeats and nulls (taken as given, not made distinct first) flags
    exactly the non-empty values it lacks."""
    layout = Layout("a", "b", "n", "s", "1", "", "", (Item(1, "k", "数字", 3),),
                    foreign_keys=(ForeignKey("k", "p", "id"),))
    frame = pl.DataFrame({"row": list(range(1, len(values) + 1)), "k": values}, schema={"row": pl.Int64, "k": pl.String})
    found = check_foreign_keys(frame, layout, {"p": pl.Series("id", known, dtype=pl.String)})
    present = {k for k in known if k is not None}
    expected = [n for n, v in enumerate(values, 1) if v not in (None, "") and v not in present]
    assert found.get_column("row").to_list() == expected
    assert set(found.get_column("type").to_list()) <= {"fk-missing"}


@settings(max_examples=150, deadline=None)
@given(
    batches=st.lists(
        st.lists(st.tuples(st.one_of(st.none(), st.sampled_from(["1", "2", "3", "4", "5", "6", "7", ""])), st.booleans()),
                 max_size=15),
        max_size=5,
    )
)
def test_primary_keys_across_batches_match_a_running_set(batches: list[list[tuple[str | None, bool]]]) -> None:
    """The tracker flags a key taken by an earlier accepted row, in this batch or an
    earlier one, and only that — whichever side of the test is the larger."""
    layout = Layout("t", "b", "n", "s", "1", "", "", (Item(1, "k", "数字", 3),), primary_key=("k",))
    tracker = KeyTracker(layout)
    taken: set[str] = set()
    row = 0
    for batch in batches:
        rows = list(range(row + 1, row + len(batch) + 1))
        row += len(batch)
        frame = pl.DataFrame({"row": rows, "k": [k for k, _ in batch]}, schema={"row": pl.Int64, "k": pl.String})
        rejected = pl.Series("row", [r for r, (_, gone) in zip(rows, batch, strict=True) if gone], dtype=pl.Int64)
        expected = []
        for r, (key, gone) in zip(rows, batch, strict=True):
            if gone or key is None:
                continue
            if key in taken:
                expected.append(r)
            taken.add(key)
        assert tracker.duplicates(frame, rejected).get_column("row").to_list() == expected
    assert sorted(tracker.accepted_keys("k").to_list()) == sorted(taken)
