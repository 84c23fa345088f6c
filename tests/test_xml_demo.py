"""The demo's 世帯 and 住民 as a namespaced XML export extract exactly as the CSV route does."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import polars as pl
import pytest

from mig.demo.generator import generate_legacy_export
from mig.extract.run import extract

LAYOUTS = ("juki-setai", "juki-jumin")
ADDRESS_COLUMNS = {"ZIP", "ADDR", "KATAGAKI", "ZEN_ADDR"}  # in the address namespace
KEYS = {"世帯": "SETAI_NO", "住民": "KOJIN_NO"}  # carried as attributes


def read_demo_csv(path: Path) -> pl.DataFrame:
    text = path.read_bytes().decode("cp932")
    return pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=True)


def xml_elements(frame: pl.DataFrame, element: str) -> pl.Series:
    """One ``<j:ELEMENT>`` per row: the key as an attribute, every other column a child
    element (absent when empty), built with Polars expressions."""
    def escaped(name: str) -> pl.Expr:
        return pl.col(name).str.replace_all("&", "&amp;").str.replace_all("<", "&lt;").str.replace_all(">", "&gt;")

    children = []
    for name in frame.columns:
        if name == KEYS[element]:
            continue
        tag = f"{'a' if name in ADDRESS_COLUMNS else 'j'}:{name}"
        children.append(
            pl.when(pl.col(name).is_null()).then(pl.lit("")).otherwise(pl.concat_str(
                pl.lit(f"<{tag}>"), escaped(name), pl.lit(f"</{tag}>")
            ))
        )
    key = KEYS[element]
    return frame.select(pl.concat_str(
        pl.lit(f'  <j:{element} {key}="'), escaped(key).str.replace_all('"', "&quot;"), pl.lit('">'),
        *children, pl.lit(f"</j:{element}>\n"),
    ))[:, 0]


def source_table(element: str, frame: pl.DataFrame) -> str:
    columns = ", ".join(
        f'{name} = "{"@" + name if name == KEYS[element] else ("a:" if name in ADDRESS_COLUMNS else "j:") + name}"'
        for name in frame.columns
    )
    return f'\n[files.source]\nrecord = "/j:移行データ/j:{element}一覧/j:{element}"\ncolumns = {{ {columns} }}\n'


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, int]]:
    tmp = tmp_path_factory.mktemp("xmldemo")
    export = generate_legacy_export(tmp / "legacy", rows=300, seed=11)
    ragged = {r - 1 for r in export.broken_rows["ragged-row"]}
    setai = read_demo_csv(export.setai_csv)
    jumin = read_demo_csv(export.jumin_csv).with_row_index("__i").filter(~pl.col("__i").is_in(sorted(ragged))).drop("__i")
    # The CSV route: the same records as clean CP932 CSVs, read by the demo's own mapping.
    csv_dir = tmp / "csv"
    csv_dir.mkdir()
    for name, frame in (("SETAI.csv", setai), ("JUMIN.csv", jumin)):
        (csv_dir / name).write_bytes(frame.write_csv(line_terminator="\r\n").encode("cp932"))
    mapping = export.mapping.read_text(encoding="utf-8")
    mapping = mapping[: mapping.index('[[files]]\nlayout = "juki-ido"')]  # 世帯 and 住民 only
    (csv_dir / "mapping.toml").write_text(mapping, encoding="utf-8")
    # The XML route: one namespaced CP932 document holding both lists.
    xml_dir = tmp / "xml"
    xml_dir.mkdir()
    body = "".join([
        '<?xml version="1.0" encoding="Windows-31J"?>\n',
        '<j:移行データ xmlns:j="urn:example:juki" xmlns:a="urn:example:addr">\n<j:世帯一覧>\n',
        *xml_elements(setai, "世帯").to_list(),
        "</j:世帯一覧>\n<j:住民一覧>\n",
        *xml_elements(jumin, "住民").to_list(),
        "</j:住民一覧>\n</j:移行データ>\n",
    ])
    (xml_dir / "export.xml").write_bytes(body.encode("cp932"))
    source = re.search(r"\[source\]\n(?:[^\[\n][^\n]*\n)*", mapping)
    assert source is not None
    xml_mapping = mapping.replace('adapter = "csv"', 'adapter = "xml"').replace(
        source.group(0), '[source]\nnamespaces = { j = "urn:example:juki", a = "urn:example:addr" }\n'
    )
    xml_mapping = xml_mapping.replace('inputs = ["SETAI*.csv"]\n', 'inputs = ["export.xml"]\n' + source_table("世帯", setai))
    xml_mapping = xml_mapping.replace('inputs = ["JUMIN*.csv"]\n', 'inputs = ["export.xml"]\n' + source_table("住民", jumin))
    (xml_dir / "mapping.toml").write_text(xml_mapping, encoding="utf-8")
    csv_run = extract(csv_dir / "mapping.toml", [csv_dir / "SETAI.csv", csv_dir / "JUMIN.csv"], tmp / "run-csv")
    xml_run = extract(xml_dir / "mapping.toml", [xml_dir / "export.xml"], tmp / "run-xml", batch_bytes=64 * 1024)
    return csv_run.run_dir, xml_run.run_dir, {"juki-setai": setai.height, "juki-jumin": jumin.height}


def test_xml_export_extracts_to_the_same_rows_and_values(routes: tuple[Path, Path, dict[str, int]]) -> None:
    csv_run, xml_run, heights = routes
    for layout in LAYOUTS:
        from_csv = pl.read_parquet(csv_run / "data" / f"{layout}.parquet")
        from_xml = pl.read_parquet(xml_run / "data" / f"{layout}.parquet")
        assert from_xml.height > 0
        assert from_xml.columns == from_csv.columns
        assert from_xml.equals(from_csv), layout  # value for value, nulls included


def test_conservation_holds_on_both_routes(routes: tuple[Path, Path, dict[str, int]]) -> None:
    csv_run, xml_run, heights = routes
    totals = {}
    for run in (csv_run, xml_run):
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        entries = {f["layout"]: f for f in manifest["files"]}
        for layout in LAYOUTS:
            entry = entries[layout]
            assert entry["rows_in"] == heights[layout]  # every element is a record
            assert entry["rows_in"] == entry["rows_out"] + entry["rows_rejected"]
        totals[run] = {k: (e["rows_in"], e["rows_out"], e["rows_rejected"]) for k, e in entries.items()}
    assert totals[csv_run] == totals[xml_run]
    assert totals[xml_run]["juki-jumin"][2] > 0  # the demo's broken values are rejected by both


def test_xml_rejects_carry_the_exact_element_bytes(routes: tuple[Path, Path, dict[str, int]]) -> None:
    _, xml_run, _ = routes
    source = (xml_run.parent / "xml" / "export.xml").read_bytes()
    rejects = [json.loads(line) for line in (xml_run / "rejects" / "juki-jumin.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rejects
    for reject in rejects:
        raw = bytes.fromhex(reject["raw_hex"])
        assert source[reject["offset"]: reject["offset"] + len(raw)] == raw
        assert raw.startswith("<j:住民 KOJIN_NO=".encode("cp932")) and raw.endswith("</j:住民>".encode("cp932"))
