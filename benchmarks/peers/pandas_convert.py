"""Peer of ``mig extract``: the demo legacy export converted and checked with plain pandas.

This is what a competent pandas user would write for this one job — the three files of
:func:`mig.demo.generator.generate_legacy_export` (CP932 ``SETAI.csv``, ``JUMIN.csv``,
``IDO.csv``) into the layouts juki-setai / juki-jumin / juki-ido — doing the same work as
``mig extract`` as closely as is fair:

- read: ``pd.read_csv(encoding="cp932", dtype=str, engine="pyarrow")``, whole file at once;
  a record with the wrong field count goes to the rejects through ``on_bad_lines``;
- map: the same items as the demo's ``mapping.toml`` (names concatenated, 半角カナ →
  全角 via ``str.normalize("NFKC")``, ASCII → 全角 via ``str.translate``, vendor code maps,
  和暦 → 西暦 with the era table and its boundary days, ``00`` 不詳 parts kept);
- check: every rule ``mig`` runs for these layouts — required, length (a variation
  selector does not count), CP932 bytes and encodability, 数字 / 数値 / 全角 / 半角 /
  control / 外字 classes, real dates with the allowed 不詳 parts, code tables, 住民票コード
  and 個人番号 check digits, duplicate primary keys, and the foreign keys 世帯番号 → SETAI,
  宛名番号 → JUMIN against the accepted keys of the referenced file;
- write: accepted rows as Parquet (zstd) and UTF-8 CSV (CRLF), rejected records with
  their reasons as JSON lines, findings as Parquet, and a manifest with row counts and
  sha256 of inputs and outputs.

The item rules (type, length, bytes, required, code table, check digit) are read from
``layouts/juki/*.toml`` and the extension items and vendor code maps from the export's
``mapping.toml`` with :mod:`tomllib` — data, not mig code; the mapping itself is written
out by hand below, as one would for a one-off job. Vectorised where pandas idiom allows
(``.str`` accessors, which use pyarrow compute for the default ``str`` dtype of pandas 3,
boolean masks, ``np.select``); ``str.translate`` is pandas' per-value path.

Differences that remain (none changes the amount of work much): record ids of rows
after a ragged row are shifted by one (pyarrow does not report a bad row's position);
rejects carry the decoded fields, not the original bytes; 数値 items are written to
Parquet as text, not Decimal; there is no HTML report.

Run: ``python benchmarks/peers/pandas_convert.py EXPORT_DIR OUT_DIR``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

LAYOUT_DIR = Path(__file__).resolve().parents[2] / "layouts" / "juki"
DANTAI_CODE = "131016"
WARNING_TYPES = {"gaiji-unresolved", "fk-not-checked", "split-missing", "column-extra"}

# Regex classes in RE2 syntax (pandas' pyarrow-backed ``str`` methods run RE2).
VS = r"[\x{FE00}-\x{FE0F}\x{E0100}-\x{E01EF}]"
PUA = r"[\x{E000}-\x{F8FF}\x{F0000}-\x{FFFFD}\x{100000}-\x{10FFFD}]"
CONTROL = r"[\x00-\x1F\x7F]"
CP932_SINGLE = r"[\x00-\x7F\x{FF61}-\x{FF9F}]"
NOT_ZENKAKU = r"[\x00-\x7F\x{FF61}-\x{FF9F}]"
NOT_HANKAKU = r"[^\x20-\x7E]"

#: ASCII (and space) → 全角, for str.translate.
ALNUM_FULL = {cp: cp + 0xFEE0 for cp in range(0x21, 0x7F)} | {0x20: 0x3000}

#: 年号コード → (first Gregorian year, first day, last day).
ERAS = {
    "1": (1868, 18681023, 19120729),
    "2": (1912, 19120730, 19261224),
    "3": (1926, 19261225, 19890107),
    "4": (1989, 19890108, 20190430),
    "5": (2019, 20190501, 99991231),
}
ERA_BASE = {k: v[0] for k, v in ERAS.items()}
ERA_FIRST = {k: v[1] for k, v in ERAS.items()}
ERA_LAST = {k: v[2] for k, v in ERAS.items()}

KOJIN_WEIGHTS = tuple(n + 1 if n <= 6 else n - 5 for n in range(1, 12))  # 個人番号
JUMINHYO_WEIGHTS = (2, 3, 4, 5, 6, 7, 2, 3, 4, 5)  # 住民票コード


def cp932_unencodable() -> str:
    """RE2 class of the characters CP932 cannot hold (PUA and variation selectors allowed)."""
    ranges: list[list[int]] = []
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        try:
            chr(cp).encode("cp932")
        except UnicodeEncodeError:
            continue
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(rf"\x{{{a:X}}}" if a == b else rf"\x{{{a:X}}}-\x{{{b:X}}}" for a, b in ranges)
    return rf"[^{body}\x{{E000}}-\x{{F8FF}}\x{{FE00}}-\x{{FE0F}}\x{{E0100}}-\x{{E01EF}}]"


# ---------------------------------------------------------------------------------------
# reading


def read_source(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """All records of a CP932 CSV as ``str`` columns (index = record id), plus ragged lines."""
    ragged: list[str] = []

    def keep_bad_line(bad: Any) -> str:
        ragged.append(bad.text)
        return "skip"

    frame = pd.read_csv(
        path, encoding="cp932", dtype=str, keep_default_na=False,
        engine="pyarrow", on_bad_lines=keep_bad_line,
    )
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return frame, ragged


# ---------------------------------------------------------------------------------------
# mapping


def trim(s: pd.Series) -> pd.Series:
    return s.str.strip(" \t\u3000")


def alnum_fullwidth(s: pd.Series) -> pd.Series:
    return s.str.translate(ALNUM_FULL)


def zenkaku(s: pd.Series) -> pd.Series:
    """半角カナ → 全角 (NFKC composes ｶﾞ → ガ), then ASCII → 全角."""
    return alnum_fullwidth(s.str.normalize("NFKC"))


def concat(a: pd.Series, b: pd.Series, sep: str) -> pd.Series:
    """``a + sep + b``, the separator only when both are non-empty."""
    return (a + sep + b).where((a != "") & (b != ""), a + b)


def zip_digits(s: pd.Series) -> pd.Series:
    return s.str.replace("-", "", regex=False)


class Mapper:
    """Builds one output frame and remembers the mapping's findings."""

    def __init__(self, src: pd.DataFrame, code_maps: dict[str, dict[str, str]]) -> None:
        self.src = src
        self.code_maps = code_maps
        self.columns: dict[str, pd.Series] = {}
        self.findings: list[pd.DataFrame] = []
        self.failed: dict[str, pd.Series] = {}  # item → rows where the mapping already failed

    def set(self, item: str, values: pd.Series | str) -> None:
        if isinstance(values, str):
            values = pd.Series(values, index=self.src.index, dtype=str)
        self.columns[item] = values

    def code(self, item: str, column: str, table: str) -> None:
        s = self.src[column]
        mapped = s.map(self.code_maps[table])
        self.flag(item, (s != "") & mapped.isna(), "code-unmapped", table)
        self.set(item, mapped)

    def wareki(self, item: str, era_column: str, ymd_column: str) -> None:
        era = self.src[era_column].str.strip()
        ymd = self.src[ymd_column].str.strip()
        base = era.map(ERA_BASE).astype(float)
        first = era.map(ERA_FIRST).astype(float)
        last = era.map(ERA_LAST).astype(float)
        well = ymd.str.fullmatch(r"[0-9]{6}")
        y = pd.to_numeric(ymd.str.slice(0, 2), errors="coerce")
        m = pd.to_numeric(ymd.str.slice(2, 4), errors="coerce")
        d = pd.to_numeric(ymd.str.slice(4, 6), errors="coerce")
        g = base + y - 1
        invalid = (
            base.isna() | ~well | (y < 1) | (y > last // 10000 - base + 1) | (m > 12)
            | ((m == 0) & (d != 0)) | ((m != 0) & (d > days_in_month(g, m)))
        )
        ymd_n = g * 10000 + m * 100 + d
        in_era = np.select(
            [d != 0, m != 0],
            [
                (ymd_n >= first) & (ymd_n <= last),
                (ymd_n // 100 >= first // 100) & (ymd_n // 100 <= last // 100),
            ],
            (g >= first // 10000) & (g <= last // 10000),
        )
        empty = ymd == ""
        self.flag(item, ~empty & invalid, "wareki-invalid")
        self.flag(item, ~empty & ~invalid & ~in_era, "wareki-out-of-era")
        ok = ~empty & ~invalid & in_era
        self.set(item, ymd_n.where(ok).astype("Int64").astype(str))

    def flag(self, item: str, mask: pd.Series, type_: str, detail: str | None = None) -> None:
        self.failed[item] = self.failed.get(item, False) | mask
        if mask.any():
            self.findings.append(finding_frame(self.src.index[mask.to_numpy()], item, type_, detail))

    def frame(self, items: list[str]) -> pd.DataFrame:
        out = pd.DataFrame({name: self.columns.get(name) for name in items}, index=self.src.index)
        out = out.astype(str)
        return out.mask(out == "")


def map_setai(src: pd.DataFrame, code_maps: dict[str, dict[str, str]], items: list[str]) -> Mapper:
    m = Mapper(src, code_maps)
    m.set("団体コード", DANTAI_CODE)
    m.set("世帯番号", src["SETAI_NO"])
    m.set("世帯主宛名番号", src["NUSHI_KOJIN_NO"])
    m.set("世帯主氏名", trim(src["NUSHI_SHIMEI"]))
    m.set("世帯主氏名カナ", zenkaku(trim(src["NUSHI_KANA"])))
    m.set("郵便番号", zip_digits(src["ZIP"]))
    m.set("住所", alnum_fullwidth(trim(src["ADDR"])))
    m.set("方書", trim(src["KATAGAKI"]))
    m.set("世帯となった年月日", src["SETAI_YMD"])
    m.code("異動事由", "SETAI_JIYU", "異動事由")
    m.set("世帯員数", src["NINZU"])
    m.set("最終更新年月日", src["UPD_YMD"])
    m.set("行政区コード", src["CHIKU_CD"])
    return m


def map_jumin(src: pd.DataFrame, code_maps: dict[str, dict[str, str]], items: list[str]) -> Mapper:
    m = Mapper(src, code_maps)
    m.set("団体コード", DANTAI_CODE)
    m.set("宛名番号", src["KOJIN_NO"])
    m.set("旧宛名番号", src["OLD_KOJIN_NO"])
    m.set("住民票コード", src["JUMIN_CD"])
    m.set("個人番号", src["MYNUMBER"])
    m.set("世帯番号", src["SETAI_NO"])
    m.set("氏名", trim(concat(src["SEI"], src["MEI"], "\u3000")))
    m.set("氏名カナ", zenkaku(trim(concat(src["SEI_KANA"], src["MEI_KANA"], " "))))
    m.set("旧氏", trim(src["KYU_SEI"]))
    m.set("旧氏カナ", zenkaku(trim(src["KYU_SEI_KANA"])))
    m.wareki("生年月日", "BIRTH_ERA", "BIRTH_YMD")
    m.code("性別", "SEX", "性別")
    m.code("続柄", "ZOKUGARA", "続柄")
    m.set("住民となった年月日", src["JUMIN_YMD"])
    m.code("住民となった事由", "JUMIN_JIYU", "異動事由")
    m.set("住民となった届出年月日", src["TODOKE_YMD"])
    m.set("住定年月日", src["JUTEI_YMD"])
    m.set("郵便番号", zip_digits(src["ZIP"]))
    m.set("住所", alnum_fullwidth(trim(src["ADDR"])))
    m.set("方書", trim(src["KATAGAKI"]))
    m.set("前住所", alnum_fullwidth(trim(src["ZEN_ADDR"])))
    m.set("本籍", alnum_fullwidth(trim(src["HONSEKI"])))
    m.set("筆頭者", trim(src["HITTOSHA"]))
    m.code("住民状態", "JOTAI", "住民状態")
    m.set("消除年月日", src["SHOJO_YMD"])
    m.code("消除事由", "SHOJO_JIYU", "異動事由")
    m.set("最終更新年月日", src["UPD_YMD"])
    return m


def map_ido(src: pd.DataFrame, code_maps: dict[str, dict[str, str]], items: list[str]) -> Mapper:
    m = Mapper(src, code_maps)
    m.set("団体コード", DANTAI_CODE)
    m.set("宛名番号", src["KOJIN_NO"])
    m.set("異動連番", src["IDO_SEQ"])
    m.code("異動事由", "IDO_JIYU", "異動事由")
    m.set("異動年月日", src["IDO_YMD"])
    m.set("届出年月日", src["TODOKE_YMD"])
    m.set("処理年月日", src["SHORI_YMD"])
    m.set("異動前住所", alnum_fullwidth(trim(src["MAE_ADDR"])))
    m.set("異動後住所", alnum_fullwidth(trim(src["ATO_ADDR"])))
    m.set("異動前世帯番号", src["MAE_SETAI_NO"])
    m.set("異動後世帯番号", src["ATO_SETAI_NO"])
    return m


# ---------------------------------------------------------------------------------------
# validation


def finding_frame(rows: Any, item: str, type_: str, detail: str | None) -> pd.DataFrame:
    return pd.DataFrame({"row": np.asarray(rows, dtype=np.int64), "item": item, "type": type_, "detail": detail})


def days_in_month(y: pd.Series, m: pd.Series) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    return np.select(
        [m == 2, m.isin([4, 6, 9, 11]), (m >= 1) & (m <= 12)],
        [np.where(leap, 29, 28), 30, 31],
        np.nan,
    )


def check_digit_ok(v: pd.Series, weights: tuple[int, ...]) -> pd.Series:
    """12-/11-digit numbers whose last digit is the modulus-11 check digit of the body."""
    size = len(weights) + 1
    shaped = v.str.fullmatch(f"[0-9]{{{size}}}")
    s = v.where(shaped, "0" * size)
    total = sum(
        pd.to_numeric(s.str.slice(size - 1 - n, size - n)) * w for n, w in enumerate(weights, 1)
    )
    expected = ((11 - total % 11) % 11) % 10
    return shaped & (expected == pd.to_numeric(s.str.slice(size - 1, size)))


def validate(
    frame: pd.DataFrame, items: list[dict[str, Any]], codes: dict[str, Any],
    failed: dict[str, pd.Series], unencodable: str,
) -> list[pd.DataFrame]:
    """Findings of every rule of every item (rules look at non-empty values only)."""
    found: list[pd.DataFrame] = []

    def add(mask: pd.Series, item: str, type_: str, detail: str | None = None) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            found.append(finding_frame(frame.index[mask.to_numpy()], item, type_, detail))

    for it in items:
        name, kind, length = it["name"], it["type"], it["length"]
        v = frame[name]
        present = v.notna()
        if it.get("required"):
            add(~present & ~failed.get(name, pd.Series(False, index=frame.index)), name, "required-missing")
        chars = v.str.len() - v.str.count(VS)
        if kind != "数値":
            add(present & (chars > length), name, "length-exceeded", str(length))
        if it.get("bytes") is not None:
            cp932_bytes = chars * 2 - v.str.count(CP932_SINGLE)
            add(present & (cp932_bytes > it["bytes"]), name, "bytes-exceeded", str(it["bytes"]))
            add(present & v.str.contains(unencodable), name, "not-encodable", "cp932")
        if kind == "数字":
            add(present & ~v.str.fullmatch(r"[0-9]+"), name, "type-digits")
        elif kind == "数値":
            scale = it.get("scale", 0)
            pattern = rf"[+-]?[0-9]{{1,{length - scale}}}" + (rf"(\.[0-9]{{1,{scale}}})?" if scale else "")
            add(present & ~v.str.fullmatch(pattern), name, "type-number", f"{length},{scale}")
        elif kind == "全角文字":
            add(present & v.str.contains(NOT_ZENKAKU), name, "charclass-zenkaku")
        elif kind == "半角文字":
            add(present & v.str.contains(NOT_HANKAKU), name, "charclass-hankaku")
        elif kind == "日付":
            well = v.str.fullmatch(r"[0-9]{8}")
            y = pd.to_numeric(v.str.slice(0, 4), errors="coerce")
            m = pd.to_numeric(v.str.slice(4, 6), errors="coerce")
            d = pd.to_numeric(v.str.slice(6, 8), errors="coerce")
            real_month = (y >= 1) & (m >= 1) & (m <= 12)
            full = real_month & (d >= 1) & (d <= days_in_month(y, m))
            day_unknown = real_month & (d == 0)
            month_unknown = (y >= 1) & (m == 0) & (d == 0)
            shape_ok = well & (full | day_unknown | month_unknown)
            unknown = it.get("unknown", "none")
            not_allowed = (
                day_unknown | month_unknown if unknown == "none"
                else month_unknown if unknown == "day"
                else pd.Series(False, index=frame.index)
            )
            add(present & ~shape_ok, name, "date-invalid")
            add(present & shape_ok & not_allowed, name, "date-unknown-not-allowed")
        if kind in ("全角文字", "半角文字", "混在文字"):
            add(present & v.str.contains(CONTROL), name, "charclass-control")
            add(present & v.str.contains(PUA), name, "gaiji-unresolved")
        if it.get("code_table"):
            table = codes[it["code_table"]]["codes"]
            add(present & ~v.isin(list(table)), name, "code-unknown", it["code_table"])
        if it.get("check") == "個人番号":
            add(present & ~check_digit_ok(v, KOJIN_WEIGHTS), name, "checkdigit", "個人番号")
        elif it.get("check") == "住民票コード":
            add(present & ~check_digit_ok(v, JUMINHYO_WEIGHTS), name, "checkdigit", "住民票コード")
    return found


# ---------------------------------------------------------------------------------------
# the whole job


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert_file(
    layout: dict[str, Any], src_path: Path, mapper: Any, code_maps: dict[str, dict[str, str]],
    codes: dict[str, Any], unencodable: str, references: dict[str, tuple[str, pd.Series]],
    out: Path,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Map, check and write one file; returns its manifest entry and the accepted frame."""
    layout_id = layout["id"]
    items = layout["items"]
    names = [it["name"] for it in items]
    src, ragged = read_source(src_path)
    mapped = mapper(src, code_maps, names)
    frame = mapped.frame(names)
    parts = mapped.findings + validate(frame, items, codes, mapped.failed, unencodable)
    for item, (target_layout, keys) in references.items():
        v = frame[item]
        missing = v.notna() & ~v.isin(keys)
        if missing.any():
            parts.append(finding_frame(frame.index[missing.to_numpy()], item, "fk-missing", f"{item} in {target_layout}"))
    findings = pd.concat(parts, ignore_index=True) if parts else finding_frame([], "", "", None)
    findings["severity"] = np.where(findings["type"].isin(WARNING_TYPES), "warning", "error")
    rejected = frame.index.isin(findings.loc[findings["severity"] == "error", "row"])
    keyed = frame.loc[~rejected, layout["primary_key"]].dropna()
    duplicate = keyed.index[keyed.duplicated(keep="first").to_numpy()]
    if len(duplicate):
        detail = ", ".join(layout["primary_key"])
        dup = finding_frame(duplicate, layout["primary_key"][0], "key-duplicate", detail).assign(severity="error")
        findings = pd.concat([findings, dup], ignore_index=True)
        rejected |= frame.index.isin(duplicate)
    findings = findings.sort_values(["row", "item", "type"], kind="stable")
    accepted = frame[~rejected]

    data_dir, rejects_dir, findings_dir = out / "data", out / "rejects", out / "findings"
    outputs = {
        "parquet": data_dir / f"{layout_id}.parquet",
        "csv": data_dir / f"{layout_id}.csv",
        "rejects": rejects_dir / f"{layout_id}.jsonl",
        "findings": findings_dir / f"{layout_id}.parquet",
    }
    accepted.to_parquet(outputs["parquet"], compression="zstd", index=False)
    accepted.to_csv(outputs["csv"], index=False, lineterminator="\r\n")
    errors = findings[findings["severity"] == "error"]
    reasons = (errors["type"] + ":" + errors["item"]).groupby(errors["row"]).agg("; ".join)
    rejects = src[rejected].assign(reasons=reasons).reset_index()
    if ragged:
        rejects = pd.concat(
            [rejects, pd.DataFrame({"raw": ragged, "reasons": "ragged-row"})], ignore_index=True
        )
    rejects.to_json(outputs["rejects"], orient="records", lines=True, force_ascii=False)
    findings.to_parquet(outputs["findings"], compression="zstd", index=False)

    rows_rejected = int(rejected.sum()) + len(ragged)
    entry = {
        "layout": layout_id,
        "rows_in": len(src) + len(ragged),
        "rows_out": len(accepted),
        "rows_rejected": rows_rejected,
        "findings": len(findings),
        "outputs": [
            {"path": p.relative_to(out).as_posix(), "sha256": sha256(p), "bytes": p.stat().st_size}
            for p in outputs.values()
        ],
    }
    return entry, accepted


def load_layout(layout_id: str, extensions: list[dict[str, Any]]) -> dict[str, Any]:
    with (LAYOUT_DIR / f"{layout_id}.toml").open("rb") as fh:
        layout = tomllib.load(fh)
    layout["items"] = layout["items"] + extensions
    return layout


def convert(export_dir: Path, out: Path) -> dict[str, Any]:
    """Convert ``export_dir`` (SETAI.csv, JUMIN.csv, IDO.csv, mapping.toml) into ``out``."""
    with (export_dir / "mapping.toml").open("rb") as fh:
        mapping = tomllib.load(fh)
    with (LAYOUT_DIR / "codes.toml").open("rb") as fh:
        codes = tomllib.load(fh)
    code_maps = mapping["code_maps"]
    extensions = {f["layout"]: f.get("extensions", []) for f in mapping["files"]}
    for folder in ("data", "rejects", "findings"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    unencodable = cp932_unencodable()
    inputs = [export_dir / n for n in ("SETAI.csv", "JUMIN.csv", "IDO.csv")]

    setai_layout = load_layout("juki-setai", extensions["juki-setai"])
    setai_entry, setai = convert_file(
        setai_layout, inputs[0], map_setai, code_maps, codes, unencodable, {}, out
    )
    jumin_layout = load_layout("juki-jumin", extensions["juki-jumin"])
    jumin_entry, jumin = convert_file(
        jumin_layout, inputs[1], map_jumin, code_maps, codes, unencodable,
        {"世帯番号": ("juki-setai", setai["世帯番号"].dropna().unique())}, out,
    )
    ido_layout = load_layout("juki-ido", extensions["juki-ido"])
    ido_entry, _ = convert_file(
        ido_layout, inputs[2], map_ido, code_maps, codes, unencodable,
        {"宛名番号": ("juki-jumin", jumin["宛名番号"].dropna().unique())}, out,
    )
    files = [setai_entry, jumin_entry, ido_entry]
    manifest = {
        "tool": "pandas_convert",
        "inputs": [{"path": p.name, "sha256": sha256(p), "bytes": p.stat().st_size} for p in inputs],
        "files": files,
        "totals": {k: sum(f[k] for f in files) for k in ("rows_in", "rows_out", "rows_rejected")},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("export_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    manifest = convert(args.export_dir, args.out)
    print(json.dumps(manifest["totals"]))


if __name__ == "__main__":
    main()
