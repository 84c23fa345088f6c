"""Build the packaged MJ tables under ``gaiji/`` from the MJ source CSVs.

Reads the four CSVs of the 文字情報基盤 reference data (MJ文字情報一覧表 Ver.006.02 with
its reading and radical-stroke indexes, and MJ縮退マップ Ver.1.2.0; CC BY-SA 2.1 JP,
IPA / 文字情報技術促進協議会) and writes:

- ``gaiji/mj.parquet``    one row per MJ文字図形名 (see :func:`mig.gaiji.mj.mj_table`);
- ``gaiji/mjsm.parquet``  the MJ縮退マップ: (table, mj, ucs, x0213, hops, rank);
- ``gaiji/LICENSE-MJ.md`` the attribution and licence of both derived tables.

Usage::

    python scripts/build_gaiji_tables.py [--source ../shared/data/mj] [--out gaiji]

The output is deterministic (same sources → byte-identical files). The project never reads
the source folder at run time; only this script does.
"""

from __future__ import annotations

import argparse
import hashlib
import unicodedata
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "data" / "mj"
DEFAULT_OUT = HERE.parent / "gaiji"

MJI_COLUMNS = {
    "MJ文字図形名": "mj",
    "対応するUCS": "ucs_corresponding",
    "実装したUCS": "ucs",
    "実装したMoji_JohoコレクションIVS": "ivs",
    "実装したSVS": "svs",
    "戸籍統一文字番号": "koseki",
    "住基ネット統一文字コード": "juki",
    "入管正字コード": "nyukan_seiji",
    "入管外字コード": "nyukan_gaiji",
    "漢字施策": "kanji_policy",
    "対応する互換漢字": "compat",
    "X0213": "x0213",
    "X0213_包摂連番": "x0213_inclusion_no",
    "X0213_包摂区分": "x0213_inclusion",
    "X0212": "x0212",
    "MJ文字図形バージョン": "version",
    "登記統一文字番号": "touki",
    "総画数": "strokes",
    "備考": "note",
}

MJSM_COLUMNS = {
    "表": "table",
    "MJ文字図形名": "mj",
    "縮退UCS": "ucs",
    "縮退X0213": "x0213",
    "ホップ数": "hops",
    "順位": "rank",
}

LICENSE_TEXT = """\
# 外字 data: attribution and licence

`mj.parquet` and `mjsm.parquet` in this folder are derived from

- **MJ文字情報一覧表** Ver.006.02 (with its reading index and radical-stroke index), and
- **MJ縮退マップ** Ver.1.2.0,

published by 一般社団法人 文字情報技術促進協議会 (originally by the Information-technology
Promotion Agency, Japan, IPA) as part of 文字情報基盤.

Attribution: **IPA / 文字情報技術促進協議会**.

Licence: **Creative Commons Attribution-ShareAlike 2.1 Japan (CC BY-SA 2.1 JP)** —
<https://creativecommons.org/licenses/by-sa/2.1/jp/> (legal code:
<https://creativecommons.org/licenses/by-sa/2.1/jp/legalcode>). The derived tables are
distributed under the same licence. This licence covers these two data files only; the
rest of mig is Apache-2.0.

Changes made: columns renamed to English identifiers; readings (hiragana and katakana)
normalised to katakana, de-duplicated and attached as a list per character; radical and
inner-stroke count taken from the radical-stroke index (first entry; all radicals kept as
a list); numbers typed as integers; stored as Parquet (zstd). Built by
`scripts/build_gaiji_tables.py`; source files and their sha256:

{sources}
"""


def _katakana(text: str) -> str:
    """Hiragana → katakana (other characters unchanged), NFC."""
    return unicodedata.normalize(
        "NFC", "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)
    )


def build_mj(source: Path) -> pl.DataFrame:
    """The MJ table with readings and radicals attached."""
    mji = pl.read_csv(source / "mji.csv", infer_schema=False).rename(MJI_COLUMNS)
    readings = pl.read_csv(source / "mji_reading.csv", infer_schema=False).rename(
        {"MJ文字図形名": "mj", "読み": "reading"}
    )
    kana = readings.get_column("reading").unique()
    table = dict(zip(kana.to_list(), [_katakana(k) for k in kana.to_list()], strict=True))
    readings = (
        readings.with_columns(
            pl.col("reading").replace_strict(table, return_dtype=pl.String),
            pl.int_range(pl.len()).alias("order"),
        )
        .group_by("mj", "reading")
        .agg(pl.col("order").min())
        .sort("mj", "order")
        .group_by("mj", maintain_order=True)
        .agg(pl.col("reading").alias("readings"))
    )
    rs = (
        pl.read_csv(source / "mji_rsindex.csv", infer_schema=False)
        .rename({"MJ文字図形名": "mj", "部首": "radical", "内画数": "inner_strokes"})
        .with_columns(
            pl.col("radical").cast(pl.Int16),
            pl.col("inner_strokes").cast(pl.Int16, strict=False),
        )
        .group_by("mj", maintain_order=True)
        .agg(
            pl.col("radical").first(),
            pl.col("inner_strokes").first(),
            pl.col("radical").alias("radicals"),
            pl.col("inner_strokes").alias("inner_strokes_all"),
        )
    )
    frame = (
        mji.with_columns(
            pl.col("strokes").cast(pl.Int16),
            pl.col("x0213_inclusion").cast(pl.Int8),
        )
        .join(rs, on="mj", how="left")
        .join(readings, on="mj", how="left")
        .with_columns(pl.col("readings").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .sort("mj")
    )
    order = [
        "mj", "ucs", "ivs", "svs", "juki", "koseki", "x0213", "strokes", "radical",
        "inner_strokes", "readings", "version", "ucs_corresponding", "x0213_inclusion",
        "x0213_inclusion_no", "x0212", "touki", "nyukan_seiji", "nyukan_gaiji",
        "kanji_policy", "compat", "radicals", "inner_strokes_all", "note",
    ]
    return frame.select(order)


def build_mjsm(source: Path) -> pl.DataFrame:
    """The MJ縮退マップ, one row per (table, MJ, candidate)."""
    return (
        pl.read_csv(source / "mjsm.csv", infer_schema=False)
        .rename(MJSM_COLUMNS)
        .with_columns(
            pl.col("hops").cast(pl.Int8),
            pl.col("rank").cast(pl.Int8),
            pl.int_range(pl.len(), dtype=pl.Int32).alias("source_order"),
        )
    )


def _write(frame: pl.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    frame.write_parquet(tmp, compression="zstd", compression_level=19, statistics=False)
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    source: Path = args.source
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    mj = build_mj(source)
    mjsm = build_mjsm(source)
    _write(mj, out / "mj.parquet")
    _write(mjsm, out / "mjsm.parquet")
    sources = "\n".join(
        f"- `{name}` sha256 `{hashlib.sha256((source / name).read_bytes()).hexdigest()}`"
        for name in ("mji.csv", "mji_reading.csv", "mji_rsindex.csv", "mjsm.csv")
    )
    (out / "LICENSE-MJ.md").write_text(LICENSE_TEXT.format(sources=sources), encoding="utf-8")
    for name in ("mj.parquet", "mjsm.parquet"):
        print(f"{out / name}: {(out / name).stat().st_size:,} bytes")
    print(f"mj rows {mj.height:,}; mjsm rows {mjsm.height:,}")


if __name__ == "__main__":
    main()
