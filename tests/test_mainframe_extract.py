"""A mainframe file through ``mig extract``: a JEF-EBCDIK file with 世帯 and 住民 records
(COMP-3, signed zoned, OCCURS DEPENDING ON, REDEFINES, PIC N names with 外字) becomes the
standard layouts juki-setai and juki-jumin, every record accounted for."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from mig_adapters.copybook.sample import BROKEN, Sample, write_sample

from mig.extract.run import extract
from mig.registry import adapter_names

pytestmark = pytest.mark.skipif(
    "copybook" not in adapter_names(),
    reason="copybook adapter not registered yet (pyproject entry point + reinstall)",
)


def files_hook_present() -> bool:
    """Whether a [[files]] may hold its own ``source`` table (needed for two record types)."""
    from mig.extract.mapping import FileMapping

    return "source" in getattr(FileMapping, "__dataclass_fields__", {})


needs_files_source = pytest.mark.skipif(
    not files_hook_present(), reason="[[files]].source (per-file adapter options) not in mig.extract.mapping yet"
)

PUA = re.compile("[\ue000-\uf8ff]")


def rejects_of(run: Path, layout: str) -> list[dict[str, Any]]:
    path = run / "rejects" / f"{layout}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module", params=["fixed", "rdw", "bdw-rdw"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Sample, Path, Any]:
    if not files_hook_present():
        pytest.skip("[[files]].source (per-file adapter options) not in mig.extract.mapping yet")
    framing = str(request.param)
    root = tmp_path_factory.mktemp(f"mainframe-{framing}")
    sample = write_sample(root / "legacy", setai=30, seed=3, framing=framing)
    result = extract(sample.mapping, [sample.data], root / "run", batch_bytes=4096)
    return sample, root / "run", result


def test_every_record_is_in_the_output_or_the_rejects(run: tuple[Sample, Path, Any]) -> None:
    sample, out, result = run
    files = {f["layout"]: f for f in result.manifest["files"]}
    for f in files.values():
        assert f["rows_in"] == f["rows_out"] + f["rows_rejected"]
    assert files["juki-setai"]["rows_in"] + files["juki-jumin"]["rows_in"] == sample.records
    totals = result.manifest["totals"]
    assert totals["rows_in"] == totals["rows_out"] + totals["rows_rejected"] == sample.records
    setai = pl.read_parquet(out / "data" / "juki-setai.parquet")
    jumin = pl.read_parquet(out / "data" / "juki-jumin.parquet")
    assert setai.height == files["juki-setai"]["rows_out"] and jumin.height == files["juki-jumin"]["rows_out"]
    # every input record once: by its number in the file (line) across both layouts
    stats = {i["layout"]: i["adapter_stats"] for i in result.manifest["inputs"]}
    assert stats["juki-setai"]["records_in_file"] == stats["juki-jumin"]["records_in_file"] == sample.records
    assert stats["juki-setai"]["records_read"] + stats["juki-jumin"]["records_read"] == sample.records
    assert stats["juki-jumin"]["records_left_to_siblings"] == {"SETAI-REC": sample.setai}


def test_broken_records_are_rejected_with_their_bytes(run: tuple[Sample, Path, Any]) -> None:
    sample, out, _ = run
    whole = sample.data.read_bytes()
    found: dict[int, str] = {}
    orphans = 0
    for layout in ("juki-setai", "juki-jumin"):
        for reject in rejects_of(out, layout):
            raw = bytes.fromhex(reject["raw_hex"])
            assert whole[reject["offset"]: reject["offset"] + len(raw)] == raw
            types = [r["type"] for r in reject["reasons"]]
            if types == ["fk-missing"]:
                orphans += 1
                continue
            found[reject["line"]] = types[0]
    assert found == {line: BROKEN[kind] for kind, line in sample.broken.items()}
    assert orphans == sample.orphaned


def test_values_arrive_in_the_standard_layout(run: tuple[Sample, Path, Any]) -> None:
    _, out, _ = run
    setai = pl.read_parquet(out / "data" / "juki-setai.parquet")
    jumin = pl.read_parquet(out / "data" / "juki-jumin.parquet")
    assert setai.get_column("世帯番号").str.contains(r"^\d{15}$").all()  # 9(15): leading zeros kept
    assert setai.get_column("世帯となった年月日").str.contains(r"^(19|20)\d{6}$").all()  # COMP-3 date
    assert setai.get_column("世帯員数").cast(pl.Int64).is_between(1, 5).all()  # S9(3) COMP-3
    assert jumin.get_column("生年月日").str.contains(r"^19[2-9]\d|^20[01]\d").all()  # 和暦 → 西暦
    assert jumin.schema["滞納額"] == pl.Decimal(9, 2)  # signed zoned S9(7)V99, exact
    assert jumin.get_column("滞納額").cast(pl.Float64).min() < 0  # type: ignore[operator]
    latest = jumin.get_column("直近異動年月日")  # RIREKI-YMD(1): absent when the count is 0
    assert latest.null_count() > 0 and latest.drop_nulls().str.contains(r"^20\d{6}$").all()
    assert jumin.get_column("氏名カナ").str.contains("^[ァ-ヶー　 ]+$").all()  # 半角 EBCDIK kana → 全角
    assert jumin.get_column("住所").str.starts_with("東京都").all()


def test_gaiji_arrive_as_private_use_tagged_and_counted(run: tuple[Sample, Path, Any]) -> None:
    sample, out, result = run
    setai = pl.read_parquet(out / "data" / "juki-setai.parquet")
    jumin = pl.read_parquet(out / "data" / "juki-jumin.parquet")
    assert setai.get_column("世帯主氏名").str.contains("\ue000").sum() == sample.gaiji_setai > 0
    assert jumin.get_column("氏名").str.contains("\ue000").sum() == sample.gaiji_jumin > 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    gaiji = {f["layout"]: f["gaiji"] for f in report["files"]}
    assert [(g["item"], g["count"]) for g in gaiji["juki-setai"]] == [("世帯主氏名", sample.gaiji_setai)]
    assert [(g["item"], g["count"]) for g in gaiji["juki-jumin"]] == [("氏名", sample.gaiji_jumin)]
    for entries in gaiji.values():  # tagged with the source charset, for the 外字 resolver
        assert all(g.get("charsets") == ["jef-ebcdik"] for g in entries)
    stats = {i["layout"]: i["adapter_stats"] for i in result.manifest["inputs"]}
    assert stats["juki-setai"]["gaiji"] == {"NUSHI-SHIMEI": sample.gaiji_setai}
    assert stats["juki-jumin"]["gaiji"] == {"SHIMEI": sample.gaiji_jumin}
    assert {s["gaiji_source"] for s in stats.values()} == {"jef"}
    assert all(i["encoding"] == "jef-ebcdik" for i in result.manifest["inputs"])


@needs_files_source
def test_batch_size_does_not_change_the_outputs(tmp_path: Path) -> None:
    sample = write_sample(tmp_path / "legacy", setai=20, seed=5, framing="rdw")
    small = extract(sample.mapping, [sample.data], tmp_path / "small", batch_bytes=1)
    large = extract(sample.mapping, [sample.data], tmp_path / "large")
    assert [f["outputs"] for f in small.manifest["files"]] == [f["outputs"] for f in large.manifest["files"]]


def test_one_record_type_per_mapping_rejects_the_other_type(tmp_path: Path) -> None:
    sample = write_sample(tmp_path / "legacy", setai=12, seed=1, framing="fixed")
    text = sample.mapping.read_text(encoding="utf-8")
    jumin_only = text[: text.index("[[files]]")] + text[text.index("[[files]]", text.index("[[files]]") + 1):]
    jumin_only = jumin_only.replace('source = { record = "JUMIN-REC" }\n', "").replace(
        'record_selector = "REC-KBN"', 'record_selector = "REC-KBN"\nrecord = "JUMIN-REC"'
    )
    mapping = tmp_path / "legacy" / "jumin-only.toml"
    # an absolute copybook path: without the per-file hook mig passes no mapping directory
    mapping.write_text(jumin_only.replace('"JUKI.cpy"', json.dumps(str(sample.copybook))), encoding="utf-8")
    result = extract(mapping, [sample.data], tmp_path / "run")
    (f,) = result.manifest["files"]
    assert f["rows_in"] == sample.records == f["rows_out"] + f["rows_rejected"]
    types = [r["reasons"][0]["type"] for r in rejects_of(tmp_path / "run", "juki-jumin")]
    assert types.count("record-type-unread") == sample.setai
    assert "fk-not-checked" in {x.type for x in result.report.files[0].findings}


def test_extract_command_with_the_copybook_adapter(tmp_path: Path) -> None:
    from mig.cli import main

    sample = write_sample(tmp_path / "legacy", setai=10, seed=2, framing="fixed")
    text = sample.mapping.read_text(encoding="utf-8")
    if not files_hook_present():  # one record type only
        text = text[: text.index("[[files]]")] + text[text.index("[[files]]", text.index("[[files]]") + 1):]
        text = text.replace('source = { record = "JUMIN-REC" }\n', "").replace(
            'record_selector = "REC-KBN"', 'record_selector = "REC-KBN"\nrecord = "JUMIN-REC"')
    text = text.replace('"JUKI.cpy"', json.dumps(str(sample.copybook)))
    sample.mapping.write_text(text.replace('adapter = "copybook"\n', ""), encoding="utf-8")
    result = CliRunner().invoke(main, [
        "extract", str(sample.data), "--mapping", str(sample.mapping), "--out", str(tmp_path / "run"),
        "--adapter", "copybook", "--encoding", "jef-ebcdik", "--json",
    ])
    assert result.exit_code == 1, result.output  # data findings: the broken records
    manifest = json.loads(result.output)["manifest"]
    assert manifest["adapter"] == "copybook"
    assert manifest["totals"]["rows_in"] == sample.records
