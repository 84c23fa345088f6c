"""The conversion path end to end, on real files: conservation, rejects, atomicity, determinism."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mig.demo.generator import generate_legacy_export
from mig.errors import ConfigError, InputError, OutputExistsError, UnknownNameError
from mig.extract.run import extract
from mig.run.writer import sha256_file

SETAI_MAPPING = """
adapter = "csv"
[source]
encoding = "cp932"
[code_maps."事由"]
"110" = "01"
"120" = "02"
[[files]]
layout = "juki-setai"
inputs = ["*.csv"]
[[files.extensions]]
name = "地区コード"
type = "数字"
length = 2
[files.items]
"団体コード" = { const = "131016" }
"世帯番号" = { column = "SETAI_NO" }
"世帯主氏名" = { column = "NAME" }
"世帯主氏名カナ" = { column = "KANA", transforms = ["trim", "zenkaku"] }
"住所" = { column = "ADDR" }
"世帯となった年月日" = { wareki = "YMD" }
"異動事由" = { column = "JIYU", code_map = "事由" }
"地区コード" = { column = "CHIKU" }
"""
SETAI_HEADER = ["SETAI_NO", "NAME", "KANA", "ADDR", "YMD", "JIYU", "CHIKU"]


def write_rows(path: Path, rows: list[list[str]], header: list[str] = SETAI_HEADER) -> None:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows([header] + rows)
    path.write_bytes(text.getvalue().encode("cp932"))


def outputs_of(run: Path, layout: str) -> tuple[pl.DataFrame, list[dict[str, object]]]:
    data = pl.read_parquet(run / "data" / f"{layout}.parquet")
    rejects = [json.loads(line) for line in (run / "rejects" / f"{layout}.jsonl").read_text(encoding="utf-8").splitlines()]
    return data, rejects


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return generate_legacy_export(tmp_path_factory.mktemp("legacy"), rows=400, seed=7)


@pytest.fixture(scope="module")
def demo_run(demo_export, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("runs") / "run"
    return extract(demo_export.mapping, [demo_export.setai_csv, demo_export.jumin_csv, demo_export.ido_csv], out)


def test_demo_run_conserves_every_record(demo_run, demo_export) -> None:  # type: ignore[no-untyped-def]
    manifest = json.loads((demo_run.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert [f["layout"] for f in manifest["files"]] == ["juki-setai", "juki-jumin", "juki-ido"]
    for entry in manifest["files"]:
        assert entry["rows_in"] == entry["rows_out"] + entry["rows_rejected"]
        data, rejects = outputs_of(demo_run.run_dir, entry["layout"])
        assert data.height == entry["rows_out"]
        assert len(rejects) == entry["rows_rejected"]
    jumin = next(f for f in manifest["files"] if f["layout"] == "juki-jumin")
    assert jumin["rows_in"] == demo_export.rows
    assert jumin["rows_rejected"] >= demo_export.broken_total > 0
    # the outputs are what the manifest says they are
    for entry in manifest["files"]:
        for output in entry["outputs"]:
            path = demo_run.run_dir / output["path"]
            assert sha256_file(path) == output["sha256"]
            assert path.stat().st_size == output["bytes"]


def test_rejects_carry_reasons_and_original_bytes(demo_run, demo_export) -> None:  # type: ignore[no-untyped-def]
    _, rejects = outputs_of(demo_run.run_dir, "juki-jumin")
    source = demo_export.jumin_csv.read_bytes()
    reasons = {reason["type"] for r in rejects for reason in r["reasons"]}  # type: ignore[attr-defined]
    assert {"ragged-row", "checkdigit", "wareki-invalid", "wareki-out-of-era", "code-unmapped", "fk-missing"} <= reasons
    for reject in rejects:
        raw = bytes.fromhex(str(reject["raw_hex"]))
        assert source[int(reject["offset"]):].startswith(raw)  # type: ignore[call-overload]
        assert raw.endswith(b"\r\n")
    broken = {row for rows in demo_export.broken_rows.values() for row in rows}
    assert broken <= {r["row"] for r in rejects}


def test_reports_hold_no_personal_values(demo_run, demo_export) -> None:  # type: ignore[no-untyped-def]
    data = pl.read_parquet(demo_run.run_dir / "data" / "juki-jumin.parquet")
    report_json = (demo_run.run_dir / "report.json").read_text(encoding="utf-8")
    report_html = (demo_run.run_dir / "report.html").read_text(encoding="utf-8")
    findings = pl.read_parquet(demo_run.run_dir / "findings" / "juki-jumin.parquet")
    assert "value" not in findings.columns
    for column in ("氏名", "住所", "個人番号", "住民票コード"):
        for value in data.get_column(column).drop_nulls().head(50).to_list():
            assert value not in report_json and value not in report_html


def test_extension_items_are_carried_through(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(SETAI_MAPPING, encoding="utf-8")
    write_rows(tmp_path / "s.csv", [["000000000000001", "山田　太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "東京都", "H310430", "110", "07"]])
    result = extract(mapping, [tmp_path / "s.csv"], tmp_path / "run")
    data = pl.read_parquet(tmp_path / "run" / "data" / "juki-setai.parquet")
    row = data.row(0, named=True)
    assert row["地区コード"] == "07"
    assert row["世帯主氏名カナ"] == "ヤマダ　タロウ"
    assert row["世帯となった年月日"] == "20190430"
    assert row["異動事由"] == "01"
    items = result.manifest["files"][0]["items"]
    assert items[-1] == {"no": 13, "name": "地区コード", "type": "数字", "length": 2, "scale": 0, "bytes": None, "unknown": "none", "required": False, "extension": True}
    header = (tmp_path / "run" / "data" / "juki-setai.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",地区コード")


values = st.text(alphabet=st.sampled_from("0123456789山田ｱｲﾞ,\"\r\n H."), max_size=16)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(values, min_size=7, max_size=7), max_size=30),
    ragged=st.lists(st.integers(0, 30), max_size=4),
    batch_bytes=st.integers(min_value=64, max_value=4000),
)
def test_conservation_property(tmp_path: Path, rows: list[list[str]], ragged: list[int], batch_bytes: int) -> None:
    """Random rows, many of them invalid, some ragged: every record ends in exactly one place."""
    work = tmp_path / f"w{abs(hash((str(rows), str(ragged), batch_bytes)))}"
    work.mkdir()
    mapping = work / "m.toml"
    mapping.write_text(SETAI_MAPPING, encoding="utf-8")
    lines = []
    for row in rows:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(row)
        lines.append(buf.getvalue())
    for position in ragged:
        lines.insert(min(position, len(lines)), "1,2,3\r\n")
    (work / "in.csv").write_bytes(("SETAI_NO,NAME,KANA,ADDR,YMD,JIYU,CHIKU\r\n" + "".join(lines)).encode("cp932"))
    result = extract(mapping, [work / "in.csv"], work / "run", batch_bytes=batch_bytes)
    entry = result.manifest["files"][0]
    data, rejects = outputs_of(work / "run", "juki-setai")
    assert entry["rows_in"] == len(rows) + len(ragged)
    assert entry["rows_in"] == entry["rows_out"] + entry["rows_rejected"]
    assert data.height == entry["rows_out"] and len(rejects) == entry["rows_rejected"]
    rejected_ids = [r["row"] for r in rejects]
    assert len(set(rejected_ids)) == len(rejected_ids)
    assert all(r["reasons"] for r in rejects)


def test_same_input_same_bytes(demo_export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inputs = [demo_export.setai_csv, demo_export.jumin_csv, demo_export.ido_csv]
    first = extract(demo_export.mapping, inputs, tmp_path / "a")
    second = extract(demo_export.mapping, inputs, tmp_path / "b", batch_bytes=20_000)
    for folder in ("data", "rejects", "findings"):
        for path in sorted((tmp_path / "a" / folder).iterdir()):
            assert path.read_bytes() == (tmp_path / "b" / folder / path.name).read_bytes(), path
    strip = lambda m: {k: v for k, v in m.items() if k != "created_at"}  # noqa: E731
    assert strip(first.manifest) == strip(second.manifest)


def test_same_bytes_across_batch_sizes_when_row_groups_span_batches(  # type: ignore[no-untyped-def]
    demo_export, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several Parquet row groups, each made of rows from several input batches: the bytes
    follow the row count only (a row group of many chunks once wrote other pages)."""
    import functools

    import pyarrow.parquet as pq

    import mig.run.writer as writer

    # small row groups and small data pages: the demo then has what a large run has, row
    # groups of several pages each, pages cut where the writer chooses
    monkeypatch.setattr(writer, "ROW_GROUP_ROWS", 150)
    monkeypatch.setattr(writer.pq, "ParquetWriter", functools.partial(pq.ParquetWriter, data_page_size=512))
    inputs = [demo_export.setai_csv, demo_export.jumin_csv, demo_export.ido_csv]
    extract(demo_export.mapping, inputs, tmp_path / "a")
    extract(demo_export.mapping, inputs, tmp_path / "b", batch_bytes=7_000)
    for path in sorted((tmp_path / "a" / "data").glob("*.parquet")):
        assert path.read_bytes() == (tmp_path / "b" / "data" / path.name).read_bytes(), path


def test_existing_run_is_refused_unless_forced(demo_export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inputs = [demo_export.setai_csv]
    extract(demo_export.mapping, inputs, tmp_path / "run")
    with pytest.raises(OutputExistsError, match="already holds a run"):
        extract(demo_export.mapping, inputs, tmp_path / "run")
    extract(demo_export.mapping, inputs, tmp_path / "run", force=True)
    assert (tmp_path / "run" / "manifest.json").exists()


def test_failed_run_leaves_nothing_that_looks_complete(demo_export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "IDO.csv"
    bad.write_bytes(demo_export.ido_csv.read_bytes() + "9,壊れた行\r\n".encode())
    with pytest.raises(InputError, match="not valid cp932"):
        extract(demo_export.mapping, [demo_export.setai_csv, demo_export.jumin_csv, bad], tmp_path / "run")
    assert not (tmp_path / "run").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["IDO.csv"]


def test_header_mismatch_names_the_missing_columns(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(SETAI_MAPPING, encoding="utf-8")
    write_rows(tmp_path / "s.csv", [["1", "x"]], header=["SETAI_NO", "NAME"])
    with pytest.raises(ConfigError, match="missing column.s. KANA, ADDR, YMD, JIYU, CHIKU"):
        extract(mapping, [tmp_path / "s.csv"], tmp_path / "run")


@pytest.mark.parametrize(
    ("edit", "error", "pattern"),
    [
        (lambda m: m.replace('layout = "juki-setai"', 'layout = "juki-nope"'), UnknownNameError, "known: juki-ido, juki-jumin, juki-setai"),
        (lambda m: m.replace('"住所" = {', '"住み家" = {'), UnknownNameError, "item of layout juki-setai"),
        (lambda m: m.replace('transforms = ["trim", "zenkaku"]', 'transforms = ["shout"]'), UnknownNameError, "known: alnum_fullwidth"),
        (lambda m: m.replace('code_map = "事由"', 'code_map = "理由"'), UnknownNameError, "code map"),
        (lambda m: m + "\n[severity]\n\"no-such-type\" = \"error\"\n", UnknownNameError, "finding type"),
        (lambda m: m.replace('adapter = "csv"', 'adapter = "cobol"'), UnknownNameError, "known: copybook, csv"),
        (lambda m: m.replace("[source]", "[source\n"), ConfigError, "not a valid UTF-8 TOML"),
    ],
)
def test_mapping_mistakes_are_one_line_errors(tmp_path: Path, edit, error, pattern) -> None:  # type: ignore[no-untyped-def]
    mapping = tmp_path / "m.toml"
    mapping.write_text(edit(SETAI_MAPPING), encoding="utf-8")
    write_rows(tmp_path / "s.csv", [])
    with pytest.raises(error, match=pattern) as caught:
        extract(mapping, [tmp_path / "s.csv"], tmp_path / "run")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "run").exists()


def test_input_matching_no_pattern(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(SETAI_MAPPING.replace('inputs = ["*.csv"]', 'inputs = ["SETAI*.csv"]'), encoding="utf-8")
    write_rows(tmp_path / "other.csv", [])
    with pytest.raises(ConfigError, match=r"other.csv: matches no .*\(juki-setai: SETAI"):
        extract(mapping, [tmp_path / "other.csv"], tmp_path / "run")


def test_show_values_masks_kojin_bango(demo_export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inputs = [demo_export.setai_csv, demo_export.jumin_csv]
    result = extract(demo_export.mapping, inputs, tmp_path / "run", show_values=True)
    findings = pl.read_parquet(tmp_path / "run" / "findings" / "juki-jumin.parquet")
    assert "value" in findings.columns
    assert any(f.values for f in result.report.files[1].findings)
    masked = findings.filter(pl.col("item") == "個人番号").get_column("value").unique().to_list()
    assert all(v in (None, "●●●●●●●●●●●●") for v in masked)
