"""The synthetic legacy export: deterministic, vendor-shaped, and broken exactly as declared."""

from __future__ import annotations

import csv
import io
import time
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig.demo import generator as demo_data
from mig.demo.generator import (
    BROKEN_KINDS,
    DEMO_GAIJI,
    IDO_COLUMNS,
    JUMIN_COLUMNS,
    MIN_ROWS,
    REFERENCE_DATE,
    SETAI_COLUMNS,
    DemoExport,
    generate_legacy_export,
)
from mig.demo.hooks import zip_digits
from mig.errors import ConfigError
from mig.layout import get_layout
from mig.resources import data_dir

ROWS = 1000

# --------------------------------------------------------------------------------------
# Plain-Python references (slow, obviously right; only for the test's 1,000 rows).

ERAS = {  # 年号コード: (first year, first day, last day)
    "1": (1868, date(1868, 10, 23), date(1912, 7, 29)),
    "2": (1912, date(1912, 7, 30), date(1926, 12, 24)),
    "3": (1926, date(1926, 12, 25), date(1989, 1, 7)),
    "4": (1989, date(1989, 1, 8), date(2019, 4, 30)),
    "5": (2019, date(2019, 5, 1), date(9999, 12, 31)),
}


def wareki_kind(era: str, yymmdd: str) -> str:
    """'ok', 'unknown-day', 'unknown-month', 'impossible' or 'out-of-era'."""
    first_year, first, last = ERAS[era]
    year, month, day = first_year + int(yymmdd[:2]) - 1, int(yymmdd[2:4]), int(yymmdd[4:])
    if month == 0 and day == 0:
        return "unknown-month" if first.year <= year <= last.year else "out-of-era"
    if day == 0:
        ok = (first.year, first.month) <= (year, month) <= (last.year, last.month)
        return "unknown-day" if ok else "out-of-era"
    try:
        when = date(year, month, day)
    except ValueError:
        return "impossible"
    return "ok" if first <= when <= last else "out-of-era"


def check_digit(body: str, weights: tuple[int, ...]) -> int:
    total = sum(int(d) * w for d, w in zip(reversed(body), weights, strict=True))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


KOJIN_W = tuple(n + 1 if n <= 6 else n - 5 for n in range(1, 12))
JUMINHYO_W = (2, 3, 4, 5, 6, 7, 2, 3, 4, 5)


def is_pua(ch: str) -> bool:
    return 0xE000 <= ord(ch) <= 0xF8FF


# --------------------------------------------------------------------------------------


@dataclass
class Parsed:
    export: DemoExport
    raw: dict[str, bytes]
    header: dict[str, list[str]]
    records: dict[str, list[list[str]]]

    def rows(self, name: str) -> list[dict[str, str]]:
        header = self.header[name]
        return [dict(zip(header, r, strict=False)) for r in self.records[name]]

    def whole_rows(self, name: str) -> list[dict[str, str]]:
        """Records with as many fields as the header (the ragged ones left out)."""
        header = self.header[name]
        return [dict(zip(header, r, strict=True)) for r in self.records[name] if len(r) == len(header)]


def parse(export: DemoExport) -> Parsed:
    raw = {p.name: p.read_bytes() for p in (export.setai_csv, export.jumin_csv, export.ido_csv)}
    header: dict[str, list[str]] = {}
    records: dict[str, list[list[str]]] = {}
    for name, data in raw.items():
        table = list(csv.reader(io.StringIO(data.decode("cp932"), newline="")))
        header[name], records[name] = table[0], table[1:]
    return Parsed(export, raw, header, records)


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Parsed:
    return parse(generate_legacy_export(tmp_path_factory.mktemp("a"), rows=ROWS, seed=0))


@pytest.fixture(scope="module")
def again(tmp_path_factory: pytest.TempPathFactory) -> DemoExport:
    return generate_legacy_export(tmp_path_factory.mktemp("b"), rows=ROWS, seed=0)


@pytest.fixture(scope="module")
def other_seed(tmp_path_factory: pytest.TempPathFactory) -> Parsed:
    return parse(generate_legacy_export(tmp_path_factory.mktemp("c"), rows=ROWS, seed=1))


# -- determinism and shape --------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(first: Parsed, again: DemoExport) -> None:
    for name in ("SETAI.csv", "JUMIN.csv", "IDO.csv", "mapping.toml"):
        assert (first.export.out_dir / name).read_bytes() == (again.out_dir / name).read_bytes(), name
    assert first.export.broken_rows == again.broken_rows


def test_other_seed_gives_other_data(first: Parsed, other_seed: Parsed) -> None:
    for name in ("SETAI.csv", "JUMIN.csv", "IDO.csv"):
        assert first.raw[name] != other_seed.raw[name], name
    assert first.export.broken_rows != other_seed.export.broken_rows


def test_generation_is_quick(tmp_path: Path) -> None:
    start = time.perf_counter()
    generate_legacy_export(tmp_path, rows=ROWS, seed=7)
    assert time.perf_counter() - start < 5.0


def test_only_the_four_files_are_left(first: Parsed) -> None:
    names = sorted(p.name for p in first.export.out_dir.iterdir())
    assert names == ["IDO.csv", "JUMIN.csv", "SETAI.csv", "mapping.toml"]


def test_files_are_cp932_with_crlf_and_vendor_headers(first: Parsed) -> None:
    expected = {"SETAI.csv": SETAI_COLUMNS, "JUMIN.csv": JUMIN_COLUMNS, "IDO.csv": IDO_COLUMNS}
    for name, data in first.raw.items():
        data.decode("cp932")  # strict
        assert data.count(b"\n") == data.count(b"\r\n") > 0, name
        assert data.endswith(b"\r\n")
        assert tuple(first.header[name]) == expected[name]
        assert all(c.isascii() and c.replace("_", "").isalnum() for c in first.header[name])


def test_record_counts(first: Parsed) -> None:
    export = first.export
    assert len(first.records["JUMIN.csv"]) == export.rows == ROWS
    assert len(first.records["SETAI.csv"]) == export.setai_rows == round(ROWS / 2.3)
    assert len(first.records["IDO.csv"]) == export.ido_rows == ROWS // 2


def test_values_are_quoted_only_when_needed(first: Parsed) -> None:
    text = first.raw["JUMIN.csv"].decode("cp932")
    assert ',"",' not in text and ',""\r\n' not in text  # empty fields are bare
    quoted = [line for line in text.split("\r\n") if '"' in line]
    assert quoted, "the export should hold a 方書 that needs quoting"
    for line in quoted:
        record = next(csv.reader([line]))
        assert len(record) == len(JUMIN_COLUMNS)
        assert any("," in v or '"' in v for v in record)


def test_minimum_and_wrong_rows_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least"):
        generate_legacy_export(tmp_path, rows=MIN_ROWS - 1)
    generate_legacy_export(tmp_path, rows=MIN_ROWS)  # the minimum itself works


# -- the deliberately broken records ------------------------------------------------------------


def test_broken_counts_are_declared_and_scale_mildly(first: Parsed) -> None:
    export = first.export
    assert set(export.broken) == set(BROKEN_KINDS) == set(export.broken_rows)
    for kind, count in export.broken.items():
        assert count == len(export.broken_rows[kind]) >= 1
    assert export.broken_total == sum(export.broken.values())
    all_rows = [r for rows in export.broken_rows.values() for r in rows]
    assert len(all_rows) == len(set(all_rows)), "each broken record is broken one way only"


def test_ragged_rows_have_one_field_too_many(first: Parsed) -> None:
    widths = {n: len(r) for n, r in enumerate(first.records["JUMIN.csv"], 1)}
    ragged = sorted(n for n, w in widths.items() if w != len(JUMIN_COLUMNS))
    assert ragged == sorted(first.export.broken_rows["ragged-row"])
    assert all(widths[n] == len(JUMIN_COLUMNS) + 1 for n in ragged)
    for name in ("SETAI.csv", "IDO.csv"):
        assert {len(r) for r in first.records[name]} == {len(first.header[name])}


def test_date_breaks_match_a_reference_wareki_reader(first: Parsed) -> None:
    kinds: dict[str, list[int]] = {}
    for n, row in enumerate(first.rows("JUMIN.csv"), 1):
        kinds.setdefault(wareki_kind(row["BIRTH_ERA"], row["BIRTH_YMD"]), []).append(n)
    assert kinds["impossible"] == list(first.export.broken_rows["impossible-date"])
    assert kinds["out-of-era"] == list(first.export.broken_rows["out-of-era-date"])
    assert kinds.get("unknown-day") and kinds.get("unknown-month")
    rows = first.rows("JUMIN.csv")
    assert {(rows[n - 1]["BIRTH_ERA"], rows[n - 1]["BIRTH_YMD"]) for n in kinds["impossible"]} == {("4", "040230")}
    assert {(rows[n - 1]["BIRTH_ERA"], rows[n - 1]["BIRTH_YMD"]) for n in kinds["out-of-era"]} == {("4", "310501")}


def test_era_boundaries_and_every_era_are_present(first: Parsed) -> None:
    births = {(r["BIRTH_ERA"], r["BIRTH_YMD"]) for r in first.rows("JUMIN.csv")}
    for boundary in [("1", "450729"), ("2", "010730"), ("2", "151224"), ("3", "011225"),
                     ("3", "640107"), ("4", "010108"), ("4", "310430"), ("5", "010501")]:
        assert boundary in births
    assert {era for era, _ in births} == {"1", "2", "3", "4", "5"}


def test_check_digit_breaks_and_valid_numbers(first: Parsed) -> None:
    rows = first.rows("JUMIN.csv")
    bad = [n for n, r in enumerate(rows, 1)
           if r["JUMIN_CD"] and int(r["JUMIN_CD"][-1]) != check_digit(r["JUMIN_CD"][:-1], JUMINHYO_W)]
    assert bad == list(first.export.broken_rows["bad-check-digit"])
    mynumbers = [r["MYNUMBER"] for r in rows if r["MYNUMBER"]]
    assert len(mynumbers) > 0.9 * ROWS
    assert all(len(m) == 12 and int(m[-1]) == check_digit(m[:-1], KOJIN_W) for m in mynumbers)
    assert all(len(r["JUMIN_CD"]) == 11 for r in rows if r["JUMIN_CD"])
    for column in ("KOJIN_NO", "JUMIN_CD", "MYNUMBER"):
        values = [r[column] for r in rows if r[column]]
        assert len(values) == len(set(values)), column


def test_unknown_codes_and_orphans(first: Parsed) -> None:
    rows = first.rows("JUMIN.csv")
    mapping = tomllib.loads(first.export.mapping.read_text(encoding="utf-8"))
    sex_map = mapping["code_maps"]["性別"]
    unknown = [n for n, r in enumerate(rows, 1) if r["SEX"] not in sex_map]
    assert unknown == list(first.export.broken_rows["unknown-code"])
    setai_numbers = {r["SETAI_NO"] for r in first.rows("SETAI.csv")}
    orphans = [n for n, r in enumerate(rows, 1) if r["SETAI_NO"] not in setai_numbers]
    assert orphans == list(first.export.broken_rows["orphan-setai"])


def test_other_vendor_codes_are_all_mapped(first: Parsed) -> None:
    maps = tomllib.loads(first.export.mapping.read_text(encoding="utf-8"))["code_maps"]
    columns = {
        "JUMIN.csv": {"ZOKUGARA": "続柄", "JUMIN_JIYU": "異動事由", "SHOJO_JIYU": "異動事由", "JOTAI": "住民状態"},
        "SETAI.csv": {"SETAI_JIYU": "異動事由"},
        "IDO.csv": {"IDO_JIYU": "異動事由"},
    }
    for name, wanted in columns.items():
        for column, map_name in wanted.items():
            values = {r[column] for r in first.whole_rows(name)} - {""}
            assert values and values <= set(maps[map_name]), (name, column)


def test_seireki_dates_are_real_and_not_later_than_the_export(first: Parsed) -> None:
    columns = {
        "JUMIN.csv": ("JUMIN_YMD", "TODOKE_YMD", "JUTEI_YMD", "SHOJO_YMD", "UPD_YMD"),
        "SETAI.csv": ("SETAI_YMD", "UPD_YMD"),
        "IDO.csv": ("IDO_YMD", "TODOKE_YMD", "SHORI_YMD"),
    }
    for name, wanted in columns.items():
        for row in first.whole_rows(name):
            for column in wanted:
                if row[column]:
                    value = row[column]
                    assert len(value) == 8, (name, column)
                    assert date(int(value[:4]), int(value[4:6]), int(value[6:])) <= REFERENCE_DATE


# -- names, 外字, addresses ----------------------------------------------------------------------


def test_gaiji_are_user_defined_cp932_characters(first: Parsed) -> None:
    rows = first.rows("JUMIN.csv")
    with_gaiji = [n for n, r in enumerate(rows, 1) if any(is_pua(c) for c in r["SEI"] + r["MEI"])]
    assert len(with_gaiji) == first.export.gaiji_rows >= 1
    broken = {n for rows_ in first.export.broken_rows.values() for n in rows_}
    assert not broken & set(with_gaiji)
    pua = {c for r in rows for v in r.values() for c in v if is_pua(c)}
    assert pua and pua <= set(DEMO_GAIJI)
    assert all(c.encode("cp932")[0] in range(0xF0, 0xFA) for c in pua)
    for ch in pua:
        assert ch.encode("cp932") in first.raw["JUMIN.csv"]
    # No 外字 outside the name columns (and the 筆頭者/世帯主 names derived from them).
    allowed = {"SEI", "HITTOSHA"}
    assert {k for r in rows for k, v in r.items() if any(is_pua(c) for c in v)} <= allowed


def test_kana_are_halfwidth_and_match_the_name_lists(first: Parsed) -> None:
    for row in first.whole_rows("JUMIN.csv"):
        for column in ("SEI_KANA", "MEI_KANA", "KYU_SEI_KANA"):
            value = row[column]
            assert all(0xFF61 <= ord(c) <= 0xFF9F for c in value), column
        full = unicodedata.normalize("NFKC", row["SEI_KANA"])
        assert all("ァ" <= c <= "ヶ" or c == "ー" for c in full)
    for row in first.rows("SETAI.csv"):
        sei, _, mei = row["NUSHI_KANA"].partition(" ")
        assert sei and mei and row["NUSHI_SHIMEI"].count("　") == 1


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(demo_data._SURNAMES + demo_data._MALE_NAMES + demo_data._FEMALE_NAMES))
def test_hankaku_round_trips_through_nfkc(entry: tuple[str, str]) -> None:
    kanji, kana = entry
    half = demo_data._hankaku(kana)
    assert unicodedata.normalize("NFKC", half) == kana
    assert all(0xFF61 <= ord(c) <= 0xFF9F for c in half)
    kanji.encode("cp932")
    half.encode("cp932")


def test_known_kojin_bango_example() -> None:
    assert check_digit("12345678901", KOJIN_W) == 8


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2099, 12, 31)))
def test_vectorised_wareki_matches_the_reference(day: date) -> None:
    era, yymmdd = demo_data._wareki(np.array([demo_data._day(day)], dtype=np.int64))
    assert wareki_kind(str(era[0]), f"{int(yymmdd[0]):06d}") == "ok"
    first_year = ERAS[str(era[0])][0]
    assert first_year + int(yymmdd[0]) // 10000 - 1 == day.year


def test_households_share_address_and_heads(first: Parsed) -> None:
    setai = {r["SETAI_NO"]: r for r in first.rows("SETAI.csv")}
    jumin = first.rows("JUMIN.csv")
    by_kojin = {r["KOJIN_NO"]: r for r in jumin}
    orphans = set(first.export.broken_rows["orphan-setai"])
    for n, row in enumerate(jumin, 1):
        if n in orphans:
            continue
        household = setai[row["SETAI_NO"]]
        assert (row["ADDR"], row["ZIP"]) == (household["ADDR"], household["ZIP"])
    for household in setai.values():
        head = by_kojin[household["NUSHI_KOJIN_NO"]]
        assert head["ZOKUGARA"] == "00" and head["SETAI_NO"] == household["SETAI_NO"]
        assert household["NUSHI_SHIMEI"] == head["SEI"] + "　" + head["MEI"]
        assert household["ZIP"][3] == "-" and household["ADDR"].startswith(demo_data.CITY)
    heads = Counter(r["SETAI_NO"] for r in jumin if r["ZOKUGARA"] == "00")
    assert set(heads.values()) == {1}


def test_ido_refers_to_unbroken_people_in_sequence(first: Parsed) -> None:
    jumin = first.rows("JUMIN.csv")
    broken = {n for rows in first.export.broken_rows.values() for n in rows}
    good = {r["KOJIN_NO"] for n, r in enumerate(jumin, 1) if n not in broken}
    sequences: dict[str, list[tuple[int, str]]] = {}
    for row in first.rows("IDO.csv"):
        assert row["KOJIN_NO"] in good
        sequences.setdefault(row["KOJIN_NO"], []).append((int(row["IDO_SEQ"]), row["IDO_YMD"]))
    for events in sequences.values():
        assert [s for s, _ in events] == list(range(1, len(events) + 1))
        assert [d for _, d in events] == sorted(d for _, d in events)


# -- the mapping ------------------------------------------------------------------------------------


def test_mapping_uses_every_vendor_column_and_fills_every_item(first: Parsed) -> None:
    mapping = tomllib.loads(first.export.mapping.read_text(encoding="utf-8"))
    assert mapping["adapter"] == "csv" and mapping["source"]["encoding"] == "cp932"
    files = {"juki-setai": "SETAI.csv", "juki-jumin": "JUMIN.csv", "juki-ido": "IDO.csv"}
    assert [f["layout"] for f in mapping["files"]] == list(files)
    for file in mapping["files"]:
        layout = get_layout(file["layout"])
        extensions = {e["name"] for e in file.get("extensions", [])}
        assert set(file["items"]) == set(layout.item_names) | extensions, layout.id
        used: set[str] = set()
        for spec in file["items"].values():
            for key in ("column", "wareki", "era"):
                if key in spec:
                    used.add(spec[key])
            used.update(spec.get("concat", []))
            used.update(spec.get("columns", []))
            if "code_map" in spec:
                table = layout.item(next(k for k, v in file["items"].items() if v is spec)).code_table
                assert table is not None
                targets = set(mapping["code_maps"][spec["code_map"]].values())
                assert targets <= set(layout.codes[table].codes), spec["code_map"]
        assert used == set(first.header[files[layout.id]]), layout.id
        assert file["items"]["団体コード"] == {"const": demo_data.DANTAI_CODE}


def test_dantai_code_has_a_valid_check_digit() -> None:
    code = demo_data.DANTAI_CODE
    total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2), strict=True))
    assert int(code[5]) == (11 - total % 11) % 10


def test_zip_hook() -> None:
    import polars as pl

    frame = pl.DataFrame({"z": ["102-0083", "1000005", None]})
    assert frame.select(zip_digits(pl.col("z")))["z"].to_list() == ["1020083", "1000005", None]


def test_mapping_loads_in_the_mapping_module(first: Parsed) -> None:
    mapping_module = pytest.importorskip("mig.extract.mapping")
    mapping = mapping_module.load_mapping(first.export.mapping)
    assert [f.layout.id for f in mapping.files] == ["juki-setai", "juki-jumin", "juki-ido"]


def test_extract_rejects_exactly_the_broken_records(first: Parsed, tmp_path: Path) -> None:
    extract_module = pytest.importorskip("mig.extract.run")
    export = first.export
    result = extract_module.extract(
        export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], tmp_path / "run"
    )
    per_layout = {f["layout"]: f["rows_rejected"] for f in result.manifest["files"]}
    assert per_layout == {"juki-setai": 0, "juki-jumin": export.broken_total, "juki-ido": 0}


def test_layout_root_is_the_packaged_one() -> None:
    assert (data_dir("layouts") / "juki" / "juki-jumin.toml").is_file()
