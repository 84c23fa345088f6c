"""A deterministic synthetic legacy export of 住民記録, for ``mig demo`` and the benchmark.

:func:`generate_legacy_export` writes what an *old* vendor's package might hand over:
``SETAI.csv`` (世帯), ``JUMIN.csv`` (住民, including 除票) and ``IDO.csv`` (異動履歴) in
the vendor's own shape — CP932, CRLF, the vendor's ASCII column names, 和暦 birth dates
with a 年号 code, 半角カナ readings, vendor code values, ZIP codes with a hyphen — plus a
``mapping.toml`` that maps them onto the layouts ``juki-setai``, ``juki-jumin`` and
``juki-ido``. Everything is invented: the names come from lists of common names, the
numbers from seeded arithmetic; no real person is described.

The export carries what a real one carries: vendor 外字 in 氏名 (CP932 user-defined
characters, decoded by Python's cp932 as U+E000…; :data:`DEMO_GAIJI` says which character
each stands for), 日不詳 and 月日不詳 birth dates, births on the exact days an era began or
ended, and a handful of deliberately broken 住民 records (:data:`BROKEN_KINDS`), counted in
the returned :class:`DemoExport`.

Generation is vectorised (NumPy + Polars): a million 住民 take a few seconds. The output is
byte-identical for the same ``(rows, seed)``.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     export = generate_legacy_export(Path(tmp), rows=200, seed=1)
...     header = export.jumin_csv.read_bytes().split(b"\\r\\n", 1)[0].decode("cp932")
>>> header.split(",")[:4]
['KOJIN_NO', 'OLD_KOJIN_NO', 'JUMIN_CD', 'MYNUMBER']
>>> sorted(export.broken) == sorted(BROKEN_KINDS)
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from mig import fs, jp
from mig.errors import ConfigError

__all__ = [
    "BROKEN_KINDS",
    "DANTAI_CODE",
    "DEMO_GAIJI",
    "IDO_COLUMNS",
    "JUMIN_COLUMNS",
    "MIN_ROWS",
    "REFERENCE_DATE",
    "SETAI_COLUMNS",
    "DemoExport",
    "generate_legacy_export",
    "mapping_toml",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MIN_ROWS = 50
"""The smallest export: room for every broken kind, every era boundary and the 不詳 dates."""

DANTAI_CODE = "131016"
"""地方公共団体コード of the municipality the demo pretends to be (千代田区)."""

CITY = "東京都千代田区"

REFERENCE_DATE = date(2025, 3, 31)
"""The day the export was taken: no date in it lies later."""

BROKEN_KINDS: dict[str, str] = {
    "ragged-row": "ragged-row",
    "impossible-date": "wareki-invalid",
    "out-of-era-date": "wareki-out-of-era",
    "bad-check-digit": "checkdigit",
    "unknown-code": "code-unmapped",
    "orphan-setai": "fk-missing",
}
"""Kinds of deliberately broken JUMIN.csv records → the finding type each should raise.

- ``ragged-row``: one field too many (an unquoted comma in KATAGAKI);
- ``impossible-date``: BIRTH 平成4年2月30日 (era 4, ``040230``);
- ``out-of-era-date``: BIRTH 平成31年5月1日 (era 4, ``310501``) — that day is 令和元年;
- ``bad-check-digit``: JUMIN_CD whose check digit is off by one;
- ``unknown-code``: SEX ``X``, which the vendor code map does not know;
- ``orphan-setai``: SETAI_NO of a 世帯 that SETAI.csv does not hold.
"""

DEMO_GAIJI: dict[str, str] = {
    "\ue000": "髙",
    "\ue001": "﨑",
    "\ue002": "𠮷",
    "\ue003": "邊",
    "\ue004": "齋",
    "\ue005": "濵",
}
"""The vendor's 外字 registry: Private Use character (CP932 ``F040``…) → the character meant."""

SETAI_COLUMNS = (
    "SETAI_NO", "NUSHI_KOJIN_NO", "NUSHI_SHIMEI", "NUSHI_KANA", "ZIP", "ADDR", "KATAGAKI",
    "SETAI_YMD", "SETAI_JIYU", "NINZU", "CHIKU_CD", "UPD_YMD",
)
JUMIN_COLUMNS = (
    "KOJIN_NO", "OLD_KOJIN_NO", "JUMIN_CD", "MYNUMBER", "SETAI_NO", "SEI", "MEI",
    "SEI_KANA", "MEI_KANA", "KYU_SEI", "KYU_SEI_KANA", "BIRTH_ERA", "BIRTH_YMD", "SEX",
    "ZOKUGARA", "JUMIN_YMD", "JUMIN_JIYU", "TODOKE_YMD", "JUTEI_YMD", "ZIP", "ADDR",
    "KATAGAKI", "ZEN_ADDR", "HONSEKI", "HITTOSHA", "JOTAI", "SHOJO_YMD", "SHOJO_JIYU",
    "UPD_YMD",
)
IDO_COLUMNS = (
    "KOJIN_NO", "IDO_SEQ", "IDO_JIYU", "IDO_YMD", "TODOKE_YMD", "SHORI_YMD", "MAE_ADDR",
    "ATO_ADDR", "MAE_SETAI_NO", "ATO_SETAI_NO",
)


@dataclass(frozen=True)
class DemoExport:
    """What :func:`generate_legacy_export` wrote.

    ``broken`` counts the deliberately broken JUMIN.csv records by kind (keys of
    :data:`BROKEN_KINDS`); ``broken_rows`` gives their record numbers (1 = the first data
    record after the header). ``gaiji_rows`` counts JUMIN.csv records whose 氏名 holds a
    vendor 外字; none of them is a broken record.
    """

    out_dir: Path
    setai_csv: Path
    jumin_csv: Path
    ido_csv: Path
    mapping: Path
    seed: int
    rows: int
    setai_rows: int
    ido_rows: int
    gaiji_rows: int
    broken: Mapping[str, int]
    broken_rows: Mapping[str, tuple[int, ...]]

    @property
    def broken_total(self) -> int:
        """All deliberately broken JUMIN.csv records."""
        return sum(self.broken.values())


# ---------------------------------------------------------------------------------------
# Vocabulary. Kana are written 全角 here and exported 半角 (the vendor's habit).

_SURNAMES: tuple[tuple[str, str], ...] = (
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
    ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
    ("阿部", "アベ"), ("石川", "イシカワ"), ("山下", "ヤマシタ"), ("中島", "ナカジマ"),
    ("石井", "イシイ"), ("小川", "オガワ"), ("前田", "マエダ"), ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"), ("藤田", "フジタ"), ("後藤", "ゴトウ"), ("近藤", "コンドウ"),
    ("村上", "ムラカミ"), ("遠藤", "エンドウ"), ("青木", "アオキ"), ("坂本", "サカモト"),
    ("斉藤", "サイトウ"), ("福田", "フクダ"), ("太田", "オオタ"), ("西村", "ニシムラ"),
    ("藤井", "フジイ"), ("金子", "カネコ"), ("岡本", "オカモト"), ("藤原", "フジワラ"),
    ("中野", "ナカノ"), ("三浦", "ミウラ"), ("原田", "ハラダ"), ("中川", "ナカガワ"),
    ("松田", "マツダ"), ("竹内", "タケウチ"), ("小野", "オノ"), ("田村", "タムラ"),
    ("中山", "ナカヤマ"), ("和田", "ワダ"), ("石田", "イシダ"), ("森田", "モリタ"),
    ("上田", "ウエダ"), ("原", "ハラ"), ("内田", "ウチダ"), ("柴田", "シバタ"),
    ("酒井", "サカイ"), ("宮崎", "ミヤザキ"), ("横山", "ヨコヤマ"), ("高木", "タカギ"),
    ("安藤", "アンドウ"), ("宮本", "ミヤモト"), ("大野", "オオノ"), ("小島", "コジマ"),
    ("工藤", "クドウ"), ("浜田", "ハマダ"), ("野口", "ノグチ"), ("菅原", "スガワラ"),
)
# Surnames as the vendor keeps them with a 外字 (see DEMO_GAIJI).
_GAIJI_SURNAMES: tuple[tuple[str, str], ...] = (
    ("\ue000橋", "タカハシ"), ("\ue000木", "タカギ"), ("山\ue001", "ヤマザキ"),
    ("宮\ue001", "ミヤザキ"), ("\ue002田", "ヨシダ"), ("渡\ue003", "ワタナベ"),
    ("\ue004藤", "サイトウ"), ("\ue005田", "ハマダ"),
)
_MALE_NAMES: tuple[tuple[str, str], ...] = (
    ("太郎", "タロウ"), ("一郎", "イチロウ"), ("健一", "ケンイチ"), ("浩", "ヒロシ"),
    ("誠", "マコト"), ("茂", "シゲル"), ("清", "キヨシ"), ("博", "ヒロシ"),
    ("隆", "タカシ"), ("勇", "イサム"), ("実", "ミノル"), ("正男", "マサオ"),
    ("和夫", "カズオ"), ("修", "オサム"), ("大輔", "ダイスケ"), ("翔太", "ショウタ"),
    ("拓也", "タクヤ"), ("健太", "ケンタ"), ("直樹", "ナオキ"), ("大樹", "ダイキ"),
    ("蓮", "レン"), ("湊", "ミナト"), ("陽翔", "ハルト"), ("悠真", "ユウマ"),
    ("蒼", "アオイ"), ("樹", "イツキ"), ("悠人", "ユウト"), ("大和", "ヤマト"),
    ("翔", "ショウ"), ("亮", "リョウ"), ("聡", "サトシ"), ("哲也", "テツヤ"),
    ("秀樹", "ヒデキ"), ("雄一", "ユウイチ"), ("達也", "タツヤ"), ("和也", "カズヤ"),
    ("涼介", "リョウスケ"), ("颯太", "ソウタ"), ("陸", "リク"), ("隼人", "ハヤト"),
    ("進", "ススム"), ("剛", "ツヨシ"), ("豊", "ユタカ"), ("譲二", "ジョウジ"),
)
_FEMALE_NAMES: tuple[tuple[str, str], ...] = (
    ("花子", "ハナコ"), ("恵子", "ケイコ"), ("幸子", "サチコ"), ("洋子", "ヨウコ"),
    ("和子", "カズコ"), ("節子", "セツコ"), ("京子", "キョウコ"), ("久美子", "クミコ"),
    ("由美子", "ユミコ"), ("美智子", "ミチコ"), ("裕子", "ユウコ"), ("直美", "ナオミ"),
    ("明美", "アケミ"), ("真由美", "マユミ"), ("智子", "トモコ"), ("陽子", "ヨウコ"),
    ("愛", "アイ"), ("彩", "アヤ"), ("美咲", "ミサキ"), ("さくら", "サクラ"),
    ("陽菜", "ヒナ"), ("結衣", "ユイ"), ("葵", "アオイ"), ("凛", "リン"),
    ("結愛", "ユア"), ("芽依", "メイ"), ("莉子", "リコ"), ("紬", "ツムギ"),
    ("杏", "アン"), ("澪", "ミオ"), ("千尋", "チヒロ"), ("舞", "マイ"),
    ("麻衣", "マイ"), ("優子", "ユウコ"), ("奈々", "ナナ"), ("沙織", "サオリ"),
    ("香織", "カオリ"), ("瞳", "ヒトミ"), ("真理子", "マリコ"), ("ゆかり", "ユカリ"),
    ("ハル", "ハル"), ("みどり", "ミドリ"),
)
# 町字 of the municipality: name, 郵便番号, number of 丁目 (0 = the 町 has none).
_TOWNS: tuple[tuple[str, str, int], ...] = (
    ("丸の内", "100-0005", 3), ("大手町", "100-0004", 2), ("有楽町", "100-0006", 2),
    ("内幸町", "100-0011", 2), ("永田町", "100-0014", 2), ("平河町", "102-0093", 2),
    ("麹町", "102-0083", 6), ("一番町", "102-0082", 0), ("二番町", "102-0084", 0),
    ("三番町", "102-0075", 0), ("四番町", "102-0081", 0), ("五番町", "102-0076", 0),
    ("六番町", "102-0085", 0), ("九段北", "102-0073", 4), ("九段南", "102-0074", 4),
    ("飯田橋", "102-0072", 4), ("富士見", "102-0071", 2), ("神田神保町", "101-0051", 3),
    ("神田小川町", "101-0052", 3), ("神田駿河台", "101-0062", 4), ("外神田", "101-0021", 6),
    ("岩本町", "101-0032", 3), ("東神田", "101-0031", 3), ("紀尾井町", "102-0094", 0),
    ("猿楽町", "101-0064", 2), ("西神田", "101-0065", 3), ("神田錦町", "101-0054", 3),
)
# Elsewhere: 前住所, 転出先, 本籍.
_OTHER_CITIES: tuple[str, ...] = (
    "北海道札幌市中央区", "岩手県盛岡市", "宮城県仙台市青葉区", "埼玉県さいたま市浦和区",
    "千葉県船橋市", "千葉県千葉市中央区", "東京都世田谷区", "東京都新宿区", "東京都練馬区",
    "東京都八王子市", "神奈川県横浜市港北区", "神奈川県川崎市中原区", "新潟県新潟市中央区",
    "長野県松本市", "静岡県静岡市葵区", "愛知県名古屋市中区", "京都府京都市左京区",
    "大阪府大阪市北区", "兵庫県神戸市中央区", "広島県広島市中区", "香川県高松市",
    "福岡県福岡市博多区", "熊本県熊本市中央区", "沖縄県那覇市",
)
_OTHER_TOWNS: tuple[str, ...] = (
    "本町", "中央", "栄町", "緑町", "旭町", "幸町", "東町", "西町", "南町", "北町",
    "桜町", "松原", "大和町", "若葉", "青葉台", "日吉",
)
_BUILDINGS: tuple[str, ...] = (
    "サンハイツ", "コーポ山田", "パークマンション", "ライオンズマンション", "グランドメゾン",
    "レジデンス九段", "シティハウス", "ハイム神田", "ロイヤルコート", "フォレストテラス",
    "第一ビル", "メゾン麹町", "プラウド", "アーバンライフ", "ヴィラ富士見",
)
# Rare 方書 the vendor exports with a comma or a double quote (needs CSV quoting).
_ODD_BUILDINGS: tuple[str, ...] = ("コーポ松本,別棟", 'ビル"A"棟')

# Vendor codes. 続柄 of the internal relation ids below (spouse split by sex).
_REL_HEAD, _REL_SPOUSE, _REL_CHILD, _REL_FATHER, _REL_MOTHER = 0, 1, 2, 3, 4
_REL_GRANDCHILD, _REL_ENKO, _REL_DOKYO = 5, 6, 7
_VENDOR_ZOKUGARA = ("00", "10", "20", "30", "31", "40", "80", "90")  # spouse: 10 妻, 11 夫
_VENDOR_HUSBAND = "11"
# Vendor 異動事由.
_J_TENNYU, _J_SHUSSEI, _J_SHOKKEN_KISAI, _J_KIKA = "110", "120", "130", "140"
_J_TENSHUTSU, _J_SHIBOU, _J_SHOKKEN_SHOJO = "210", "220", "230"
_J_TENKYO, _J_SETAI_HENKO, _J_BUNRI, _J_GAPPEI, _J_NUSHI_HENKO = "310", "320", "330", "340", "350"
_J_SHIMEI_HENKO, _J_ZOKUGARA_HENKO, _J_SHOKKEN_SHUSEI = "410", "420", "510"
# Vendor 住民状態: 0 住民, 1 転出, 2 死亡, 3 職権消除.
_SHOJO_JIYU_OF_STATE = ("", _J_TENSHUTSU, _J_SHIBOU, _J_SHOKKEN_SHOJO)

# The last day of each era and the first day of the next: exported on purpose.
_BOUNDARY_DAYS = tuple(day for boundary in jp.ERA_BOUNDARIES for day in boundary)
_EARLIEST_BIRTH = date(1873, 1, 1)  # 明治6年: the solar calendar

_CHUNK_ROWS = 100_000

# ---------------------------------------------------------------------------------------
# Small helpers (loops here run over constant vocabularies, never over data rows).


def _hankaku(text: str) -> str:
    """全角カタカナ → 半角カナ (as the vendor stores readings).

    >>> _hankaku("ダイスケ")
    'ﾀﾞｲｽｹ'
    """
    return "".join(jp.KANA_FULL_TO_HALF.get(ch, ch) for ch in text)


def _day(d: date) -> int:
    """Days since 1970-01-01."""
    return d.toordinal() - date(1970, 1, 1).toordinal()


def _years(n: float) -> int:
    return round(n * 365.25)


def _strings(values: Sequence[str]) -> pl.Series:
    return pl.Series(values=list(values), dtype=pl.String)


def _pick(values: Sequence[str], index: npt.NDArray[np.integer]) -> pl.Series:
    """``values[index]`` for every row, as a String series."""
    return _strings(values).gather(index.astype(np.int64))


def _digits(values: npt.NDArray[np.integer], width: int) -> pl.Series:
    """Zero-padded decimal strings."""
    return pl.Series(values=values.astype(np.int64)).cast(pl.String).str.zfill(width)


def _numbers(values: npt.NDArray[np.integer]) -> pl.Series:
    return pl.Series(values=values.astype(np.int64)).cast(pl.String)


def _blank(series: pl.Series, mask: BoolArray) -> pl.Series:
    """``series`` with the rows of ``mask`` emptied."""
    return series.scatter(np.flatnonzero(mask), "")


def _where(mask: BoolArray, then: pl.Series, otherwise: pl.Series | str) -> pl.Series:
    """Per row: ``then`` where ``mask`` holds, else ``otherwise``."""
    frame = pl.DataFrame({"mask": mask, "then": then})
    fallback = pl.lit(otherwise, dtype=pl.String) if isinstance(otherwise, str) else pl.lit(otherwise)
    return frame.select(
        pl.when(pl.col("mask")).then(pl.col("then")).otherwise(fallback).alias(then.name)
    ).to_series()


def _zipf(n: int, shift: float = 3.0) -> npt.NDArray[np.float64]:
    weights: npt.NDArray[np.float64] = 1.0 / (np.arange(n, dtype=np.float64) + shift)
    return weights / float(weights.sum())


def _ymd_parts(days: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months).astype(np.int64) + 1
    return year, month, day


def _ymd(days: IntArray) -> pl.Series:
    """YYYYMMDD (西暦) strings of day numbers."""
    year, month, day = _ymd_parts(days)
    return _numbers(year * 10000 + month * 100 + day)


def _between(rng: np.random.Generator, lo: IntArray, hi: IntArray) -> IntArray:
    """A uniform day in ``[lo, hi]`` per row (``hi < lo`` gives ``lo``)."""
    span = np.maximum(hi - lo, 0) + 1
    step: IntArray = (rng.random(lo.shape[0]) * span).astype(np.int64)
    return lo + step


def _unique_numbers(rng: np.random.Generator, count: int, modulus: int) -> IntArray:
    """``count`` distinct, scattered-looking numbers below ``modulus`` (an affine bijection)."""
    multiplier = int(rng.integers(modulus // 3, modulus)) | 1
    while multiplier % 5 == 0:
        multiplier += 2
    offset = int(rng.integers(0, modulus))
    index = np.arange(count, dtype=np.int64)
    # index * multiplier stays below 2**63 for the sizes used here (count ≤ 10**7, modulus ≤ 10**11).
    return (index * multiplier + offset) % modulus


def _with_check_digit(body: IntArray, weights: tuple[int, ...], width: int) -> pl.Series:
    return _digits(body * 10 + jp.check_digit(body, weights), width)


def _broken_per_kind(rows: int) -> int:
    """A handful that grows mildly: 2 at 1,000 rows, 5 at 1,000,000."""
    return max(1, int(math.log10(rows)) - 1)


def _at_least_one(rng: np.random.Generator, rows: int, rate: float) -> int:
    return max(1, int(rng.binomial(rows, rate)))


# ---------------------------------------------------------------------------------------
# Generation.


@dataclass(frozen=True)
class _Addresses:
    town: IntArray
    addr: pl.Series
    zip: pl.Series
    katagaki: pl.Series


def _city_addresses(rng: np.random.Generator, n: int) -> _Addresses:
    town = rng.choice(len(_TOWNS), size=n, p=_zipf(len(_TOWNS), 8.0)).astype(np.int64)
    chome_max = np.array([t[2] for t in _TOWNS], dtype=np.int64)[town]
    chome = 1 + (rng.random(n) * np.maximum(chome_max, 1)).astype(np.int64)
    banchi = rng.integers(1, 31, n)
    go = rng.integers(1, 26, n)
    chome_text = _blank(_numbers(chome) + "丁目", chome_max == 0)
    addr = CITY + _pick([t[0] for t in _TOWNS], town) + chome_text + _numbers(banchi) + "番" + _numbers(go) + "号"
    zip_code = _pick([t[1] for t in _TOWNS], town)
    has_building = rng.random(n) < 0.45
    building = _pick(_BUILDINGS, rng.integers(0, len(_BUILDINGS), n))
    odd = rng.random(n) < 0.004
    building = building.scatter(
        np.flatnonzero(odd), _pick(_ODD_BUILDINGS, rng.integers(0, len(_ODD_BUILDINGS), int(odd.sum())))
    )
    room = _numbers(rng.integers(1, 13, n) * 100 + rng.integers(1, 9, n))
    katagaki = _blank(building + room + "号室", ~has_building)
    return _Addresses(town=town, addr=addr, zip=zip_code, katagaki=katagaki)


def _other_addresses(rng: np.random.Generator, n: int) -> pl.Series:
    city = _pick(_OTHER_CITIES, rng.integers(0, len(_OTHER_CITIES), n))
    town = _pick(_OTHER_TOWNS, rng.integers(0, len(_OTHER_TOWNS), n))
    chome, banchi, go = rng.integers(1, 6, n), rng.integers(1, 41, n), rng.integers(1, 31, n)
    return city + town + _numbers(chome) + "丁目" + _numbers(banchi) + "番" + _numbers(go) + "号"


def _honseki(rng: np.random.Generator, n: int) -> pl.Series:
    here = rng.random(n) < 0.35
    city = _pick(_OTHER_CITIES, rng.integers(0, len(_OTHER_CITIES), n))
    city = city.scatter(np.flatnonzero(here), CITY)
    town = _pick(_OTHER_TOWNS, rng.integers(0, len(_OTHER_TOWNS), n))
    town = town.scatter(
        np.flatnonzero(here), _pick([t[0] for t in _TOWNS], rng.integers(0, len(_TOWNS), int(here.sum())))
    )
    return city + town + _numbers(rng.integers(1, 2000, n)) + "番地"


def _wareki(days: IntArray) -> tuple[IntArray, IntArray]:
    """(年号 code 1–5, YYMMDD as an int) of day numbers."""
    era = np.maximum(jp.era_codes(days), 1)  # no birth lies before 明治
    year, month, day = _ymd_parts(days)
    era_year = year - np.array([e.first_year for e in jp.ERAS], dtype=np.int64)[era - 1] + 1
    return era, era_year * 10000 + month * 100 + day


def generate_legacy_export(out_dir: Path, rows: int = 1000, seed: int = 0) -> DemoExport:
    """Write a synthetic old-vendor 住民記録 export and its mapping into ``out_dir``.

    ``rows`` is the number of 住民 records (JUMIN.csv); about ``rows / 2.3`` 世帯 and
    ``rows / 2`` 異動 records come with them. Same ``(rows, seed)`` → the same bytes.
    Existing files of the same names in ``out_dir`` are replaced.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     export = generate_legacy_export(Path(tmp), rows=100)
    >>> (export.rows, export.setai_rows, export.ido_rows)
    (100, 43, 50)
    """
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < MIN_ROWS:
        raise ConfigError(f"rows must be an integer of at least {MIN_ROWS}")
    if rows > 10_000_000:
        raise ConfigError("rows must be at most 10,000,000")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{out_dir}: cannot create the output directory: {exc.strerror}") from None
    rng = np.random.default_rng(seed)
    ref = _day(REFERENCE_DATE)

    # -- 世帯 and their members ------------------------------------------------------------
    n_setai = max(1, round(rows / 2.3))
    setai_of = np.concatenate([np.arange(n_setai), rng.integers(0, n_setai, rows - n_setai)]).astype(np.int64)
    is_head = np.arange(rows) < n_setai
    order = np.lexsort((~is_head, setai_of))
    setai_of, is_head = setai_of[order], is_head[order]
    starts = np.flatnonzero(np.r_[True, setai_of[1:] != setai_of[:-1]]).astype(np.int64)
    head_of = starts[setai_of]
    rank = np.arange(rows, dtype=np.int64) - head_of

    rel = rng.choice(
        np.array([_REL_CHILD, _REL_FATHER, _REL_MOTHER, _REL_GRANDCHILD, _REL_ENKO, _REL_DOKYO]),
        size=rows, p=[0.82, 0.03, 0.05, 0.05, 0.02, 0.03],
    ).astype(np.int64)
    rel = np.where((rank == 1) & (rng.random(rows) < 0.75), _REL_SPOUSE, rel)
    rel = np.where(is_head, _REL_HEAD, rel)

    sex = np.where(rng.random(rows) < 0.5, 1, 2).astype(np.int64)
    sex = np.where(is_head, np.where(rng.random(rows) < 0.78, 1, 2), sex)
    sex = np.where(rel == _REL_SPOUSE, 3 - sex[head_of], sex)
    sex = np.where(rel == _REL_FATHER, 1, np.where(rel == _REL_MOTHER, 2, sex))

    # 氏: members share the 世帯主's, except 縁故者 and 同居人. A few 世帯 carry a 外字 氏.
    surnames = _SURNAMES + _GAIJI_SURNAMES
    own_sei = rng.choice(len(_SURNAMES), size=rows, p=_zipf(len(_SURNAMES))).astype(np.int64)
    gaiji_head = is_head & (rng.random(rows) < 0.001)
    if not gaiji_head.any():
        gaiji_head[starts[int(rng.integers(0, n_setai))]] = True
    own_sei = np.where(gaiji_head, len(_SURNAMES) + rng.integers(0, len(_GAIJI_SURNAMES), rows), own_sei)
    shares_sei = (rel != _REL_ENKO) & (rel != _REL_DOKYO)
    sei = np.where(shares_sei, own_sei[head_of], own_sei)
    gaiji = sei >= len(_SURNAMES)

    # -- rows chosen for special treatment (disjoint; never a 外字 row) -------------------------
    k = _broken_per_kind(rows)
    free = ~gaiji
    chosen: dict[str, IntArray] = {}

    def choose(name: str, count: int, pool: BoolArray) -> None:
        candidates = np.flatnonzero(pool & free)
        picked = np.sort(rng.choice(candidates, size=min(count, candidates.size), replace=False))
        free[picked] = False
        chosen[name] = picked.astype(np.int64)

    choose("orphan-setai", k, ~is_head)
    for kind in ("ragged-row", "impossible-date", "out-of-era-date", "bad-check-digit", "unknown-code"):
        choose(kind, k, np.ones(rows, dtype=bool))
    choose("boundary", len(_BOUNDARY_DAYS), np.ones(rows, dtype=bool))
    choose("day-unknown", _at_least_one(rng, rows, 0.0005), np.ones(rows, dtype=bool))
    choose("month-unknown", _at_least_one(rng, rows, 0.0001), np.ones(rows, dtype=bool))
    choose("old", _at_least_one(rng, rows, 0.002), np.ones(rows, dtype=bool))
    broken_mask = np.zeros(rows, dtype=bool)
    for kind in BROKEN_KINDS:
        broken_mask[chosen[kind]] = True

    # -- births ------------------------------------------------------------------------------
    head_age = np.clip(rng.normal(55.0, 17.0, rows), 19.0, 98.0)
    birth = ref - (head_age * 365.25).astype(np.int64) - rng.integers(0, 365, rows)
    hb = birth[head_of]
    offset = np.select(
        [rel == _REL_SPOUSE, rel == _REL_CHILD, (rel == _REL_FATHER) | (rel == _REL_MOTHER), rel == _REL_GRANDCHILD],
        [
            (rng.normal(0.0, 3.0, rows) * 365.25).astype(np.int64),
            rng.integers(_years(22), _years(42), rows),
            -rng.integers(_years(22), _years(36), rows),
            rng.integers(_years(45), _years(65), rows),
        ],
        default=0,
    )
    birth = np.where(is_head | (rel == _REL_ENKO) | (rel == _REL_DOKYO), birth, hb + offset)
    birth = np.minimum(birth, ref - 1 - rng.integers(0, 1500, rows))
    old = chosen["old"]
    birth[old] = rng.integers(_day(_EARLIEST_BIRTH), _day(date(1926, 12, 24)), old.size)
    birth[chosen["boundary"]] = np.array([_day(d) for d in _BOUNDARY_DAYS], dtype=np.int64)[: chosen["boundary"].size]
    birth = np.maximum(birth, _day(_EARLIEST_BIRTH))

    # -- 住民状態 and dates ---------------------------------------------------------------------
    state = rng.choice(4, size=rows, p=[0.95, 0.03, 0.018, 0.002]).astype(np.int64)
    state = np.where(is_head, 0, state)  # a 世帯 keeps a living 世帯主 …
    state = np.where(birth < _day(date(1920, 1, 1)), 2, state)  # … unless born before 1920
    state[broken_mask] = 0
    removed = state != 0
    shojo_lo = np.maximum(birth + np.where(state == 2, _years(60), 0), _day(date(1970, 1, 1)))
    shojo = _between(rng, np.minimum(shojo_lo, ref), np.full(rows, ref, dtype=np.int64))
    shojo = np.maximum(shojo, birth)
    until = np.where(removed, shojo, ref)

    jiyu_pick = rng.random(rows)
    jumin_jiyu = np.where(jiyu_pick < 0.36, _J_SHUSSEI, np.where(jiyu_pick < 0.975, _J_TENNYU, np.where(jiyu_pick < 0.99, _J_SHOKKEN_KISAI, _J_KIKA)))
    unknown_rows = np.concatenate([chosen["day-unknown"], chosen["month-unknown"]])
    jumin_jiyu[unknown_rows] = _J_SHOKKEN_KISAI
    jumin_lo = np.minimum(np.maximum(birth, _day(date(1960, 1, 1))), until)
    jumin_day = np.where(jumin_jiyu == _J_SHUSSEI, birth, _between(rng, jumin_lo, until))
    todoke_day = np.minimum(jumin_day + rng.integers(0, 15, rows), ref)
    moved = rng.random(rows) < 0.2
    jutei_day = np.where(moved, _between(rng, jumin_day, until), jumin_day)
    upd_day = _between(rng, np.maximum.reduce([jutei_day, todoke_day, np.where(removed, shojo, 0)]), np.full(rows, ref, dtype=np.int64))

    # -- identifiers -----------------------------------------------------------------------------
    kojin_no = _digits(100_000 + np.cumsum(rng.integers(1, 4, rows)), 10)
    setai_numbers = 5_000_000 + np.cumsum(rng.integers(1, 6, n_setai))
    setai_no = _digits(setai_numbers[setai_of], 10)
    orphans = chosen["orphan-setai"]
    setai_no = setai_no.scatter(orphans, _digits(setai_numbers[-1] + 7 + np.arange(orphans.size), 10))
    juminhyo_body = _unique_numbers(rng, rows, 10**10)
    jumin_cd_digit = juminhyo_body * 10 + jp.check_digit(juminhyo_body, jp.JUMINHYO_CODE_WEIGHTS)
    bad = chosen["bad-check-digit"]
    jumin_cd_digit[bad] = juminhyo_body[bad] * 10 + (jp.check_digit(juminhyo_body[bad], jp.JUMINHYO_CODE_WEIGHTS) + 1) % 10
    jumin_cd = _blank(_digits(jumin_cd_digit, 11), removed & (shojo < _day(date(2002, 8, 5))))
    mynumber = _with_check_digit(_unique_numbers(rng, rows, 10**11), jp.KOJIN_BANGO_WEIGHTS, 12)
    no_mynumber = (removed & (shojo < _day(date(2015, 10, 5)))) | (rng.random(rows) < 0.005)
    no_mynumber[broken_mask] = False
    mynumber = _blank(mynumber, no_mynumber)
    old_kojin = _blank("A" + _digits(rng.integers(0, 10**7, rows), 7), rng.random(rows) >= 0.3)

    # -- names ---------------------------------------------------------------------------------
    sei_text = _pick([s for s, _ in surnames], sei)
    sei_kana = _pick([_hankaku(k) for _, k in surnames], sei)
    male_idx = rng.choice(len(_MALE_NAMES), size=rows, p=_zipf(len(_MALE_NAMES), 6.0))
    female_idx = rng.choice(len(_FEMALE_NAMES), size=rows, p=_zipf(len(_FEMALE_NAMES), 6.0))
    given = pl.Series(values=np.where(sex == 1, male_idx, len(_MALE_NAMES) + female_idx))
    given_all = _MALE_NAMES + _FEMALE_NAMES
    mei_text = _strings([g for g, _ in given_all]).gather(given)
    mei_kana = _strings([_hankaku(k) for _, k in given_all]).gather(given)
    kyu = (rel == _REL_SPOUSE) & (rng.random(rows) < 0.05)
    kyu_idx = rng.integers(0, len(_SURNAMES), rows)
    kyu_sei = _blank(_pick([s for s, _ in _SURNAMES], kyu_idx), ~kyu)
    kyu_kana = _blank(_pick([_hankaku(k) for _, k in _SURNAMES], kyu_idx), ~kyu)
    full_name = sei_text + "　" + mei_text
    hittosha = full_name.gather(pl.Series(values=np.where(shares_sei, head_of, np.arange(rows))))

    # -- addresses -------------------------------------------------------------------------------
    home = _city_addresses(rng, n_setai)
    addr = home.addr.gather(setai_of)
    zip_code = home.zip.gather(setai_of)
    katagaki = home.katagaki.gather(setai_of)
    ragged = chosen["ragged-row"]
    katagaki = katagaki.scatter(ragged, "コーポ山田,201号室")
    zen_addr = _blank(_other_addresses(rng, rows), jumin_jiyu != _J_TENNYU)
    honseki = _where(shares_sei, _honseki(rng, n_setai).gather(setai_of), _honseki(rng, rows))

    # -- birth in 和暦, with 不詳 parts and the broken dates ------------------------------------
    era, yymmdd = _wareki(birth)
    day_unknown, month_unknown = chosen["day-unknown"], chosen["month-unknown"]
    yymmdd[day_unknown] = yymmdd[day_unknown] // 100 * 100
    yymmdd[month_unknown] = yymmdd[month_unknown] // 10000 * 10000
    era[chosen["impossible-date"]] = 4
    yymmdd[chosen["impossible-date"]] = 40230  # 平成4年2月30日
    era[chosen["out-of-era-date"]] = 4
    yymmdd[chosen["out-of-era-date"]] = 310501  # 平成31年5月1日 (that day is 令和元年5月1日)

    sex_code = _pick(["", "M", "F"], sex)
    sex_code = sex_code.scatter(month_unknown, "9")
    sex_code = sex_code.scatter(chosen["unknown-code"], "X")
    zokugara = _pick(_VENDOR_ZOKUGARA, rel)
    zokugara = zokugara.scatter(np.flatnonzero((rel == _REL_SPOUSE) & (sex == 1)), _VENDOR_HUSBAND)

    jumin = pl.DataFrame({
        "KOJIN_NO": kojin_no,
        "OLD_KOJIN_NO": old_kojin,
        "JUMIN_CD": jumin_cd,
        "MYNUMBER": mynumber,
        "SETAI_NO": setai_no,
        "SEI": sei_text,
        "MEI": mei_text,
        "SEI_KANA": sei_kana,
        "MEI_KANA": mei_kana,
        "KYU_SEI": kyu_sei,
        "KYU_SEI_KANA": kyu_kana,
        "BIRTH_ERA": _numbers(era),
        "BIRTH_YMD": _digits(yymmdd, 6),
        "SEX": sex_code,
        "ZOKUGARA": zokugara,
        "JUMIN_YMD": _ymd(jumin_day),
        "JUMIN_JIYU": pl.Series(values=jumin_jiyu, dtype=pl.String),
        "TODOKE_YMD": _blank(_ymd(todoke_day), jumin_jiyu == _J_SHOKKEN_KISAI),
        "JUTEI_YMD": _ymd(jutei_day),
        "ZIP": zip_code,
        "ADDR": addr,
        "KATAGAKI": katagaki,
        "ZEN_ADDR": zen_addr,
        "HONSEKI": honseki,
        "HITTOSHA": hittosha,
        "JOTAI": _numbers(state),
        "SHOJO_YMD": _blank(_ymd(shojo), ~removed),
        "SHOJO_JIYU": _pick(_SHOJO_JIYU_OF_STATE, state),
        "UPD_YMD": _ymd(upd_day),
    })
    assert tuple(jumin.columns) == JUMIN_COLUMNS

    # -- 世帯 --------------------------------------------------------------------------------------
    head_rows = starts
    separated = rng.random(n_setai) < 0.15
    setai_day = np.where(separated, _between(rng, jumin_day[head_rows], until[head_rows]), jumin_day[head_rows])
    setai_jiyu = np.where(separated, _J_BUNRI, jumin_jiyu[head_rows])
    counted = ~removed
    counted[orphans] = False
    members = np.bincount(setai_of, weights=counted.astype(np.float64), minlength=n_setai).astype(np.int64)
    setai = pl.DataFrame({
        "SETAI_NO": _digits(setai_numbers, 10),
        "NUSHI_KOJIN_NO": kojin_no.gather(head_rows),
        "NUSHI_SHIMEI": full_name.gather(head_rows),
        "NUSHI_KANA": (sei_kana + " " + mei_kana).gather(head_rows),
        "ZIP": home.zip,
        "ADDR": home.addr,
        "KATAGAKI": home.katagaki,
        "SETAI_YMD": _ymd(setai_day),
        "SETAI_JIYU": pl.Series(values=setai_jiyu, dtype=pl.String),
        "NINZU": _numbers(members),
        "CHIKU_CD": _digits(home.town % 12 + 1, 2),
        "UPD_YMD": _ymd(_between(rng, setai_day, np.full(n_setai, ref, dtype=np.int64))),
    })
    assert tuple(setai.columns) == SETAI_COLUMNS

    # -- 異動履歴 (never of a broken 住民) ------------------------------------------------------
    n_ido = rows // 2
    person = rng.choice(np.flatnonzero(~broken_mask), size=n_ido).astype(np.int64)
    kinds = np.array([
        _J_TENNYU, _J_TENKYO, _J_SETAI_HENKO, _J_SHUSSEI, _J_TENSHUTSU, _J_SHIBOU,
        _J_SHIMEI_HENKO, _J_ZOKUGARA_HENKO, _J_BUNRI, _J_GAPPEI, _J_NUSHI_HENKO, _J_SHOKKEN_SHUSEI,
    ])
    ido_jiyu = kinds[rng.choice(kinds.size, size=n_ido, p=[0.28, 0.24, 0.08, 0.1, 0.08, 0.05, 0.05, 0.04, 0.03, 0.02, 0.02, 0.01])]
    ido_lo = np.minimum(np.maximum(birth[person], _day(date(1985, 1, 1))), until[person])
    ido_day = np.where(ido_jiyu == _J_SHUSSEI, birth[person], _between(rng, ido_lo, until[person]))
    ido_order = np.lexsort((ido_day, person))
    person, ido_jiyu, ido_day = person[ido_order], ido_jiyu[ido_order], ido_day[ido_order]
    first = np.flatnonzero(np.r_[True, person[1:] != person[:-1]])
    run_start = np.repeat(first, np.diff(np.r_[first, n_ido]))
    seq = np.arange(n_ido) - run_start + 1
    shokken = np.isin(ido_jiyu, [_J_SHOKKEN_SHUSEI])
    ido_todoke = np.minimum(ido_day + rng.integers(0, 15, n_ido), ref)
    shori = np.minimum(np.where(shokken, ido_day, ido_todoke) + rng.integers(0, 4, n_ido), ref)
    person_s = pl.Series(values=person)
    current = addr.gather(person_s)
    elsewhere = _other_addresses(rng, n_ido)
    in_city = _city_addresses(rng, n_ido).addr
    address_kind = np.isin(ido_jiyu, [_J_TENNYU, _J_TENSHUTSU, _J_TENKYO, _J_SHUSSEI])
    mae = _where(
        ido_jiyu == _J_TENNYU,
        elsewhere,
        _where(ido_jiyu == _J_TENSHUTSU, current, _where(ido_jiyu == _J_TENKYO, in_city, "")),
    )
    ato = _blank(_where(ido_jiyu == _J_TENSHUTSU, elsewhere, current), ~address_kind)
    own_setai = setai_no.gather(person_s)
    other_setai = _digits(setai_numbers[rng.integers(0, n_setai, n_ido)], 10)
    setai_change = np.isin(ido_jiyu, [_J_SETAI_HENKO, _J_BUNRI, _J_GAPPEI])
    mae_setai = _where(setai_change, other_setai, own_setai)
    mae_setai = _blank(mae_setai, np.isin(ido_jiyu, [_J_TENNYU, _J_SHUSSEI]))
    ido = pl.DataFrame({
        "KOJIN_NO": kojin_no.gather(person_s),
        "IDO_SEQ": _numbers(seq),
        "IDO_JIYU": pl.Series(values=ido_jiyu, dtype=pl.String),
        "IDO_YMD": _ymd(ido_day),
        "TODOKE_YMD": _blank(_ymd(ido_todoke), shokken),
        "SHORI_YMD": _ymd(shori),
        "MAE_ADDR": mae,
        "ATO_ADDR": ato,
        "MAE_SETAI_NO": mae_setai,
        "ATO_SETAI_NO": own_setai,
    })
    assert tuple(ido.columns) == IDO_COLUMNS

    # -- files -------------------------------------------------------------------------------------
    paths = {name: out_dir / name for name in ("SETAI.csv", "JUMIN.csv", "IDO.csv", "mapping.toml")}
    _write_csv(paths["SETAI.csv"], setai)
    _write_csv(paths["JUMIN.csv"], jumin, ragged=ragged)
    _write_csv(paths["IDO.csv"], ido)
    fs.write_bytes(paths["mapping.toml"], mapping_toml())

    return DemoExport(
        out_dir=out_dir,
        setai_csv=paths["SETAI.csv"],
        jumin_csv=paths["JUMIN.csv"],
        ido_csv=paths["IDO.csv"],
        mapping=paths["mapping.toml"],
        seed=seed,
        rows=rows,
        setai_rows=n_setai,
        ido_rows=n_ido,
        gaiji_rows=int(gaiji.sum()),
        broken={kind: int(chosen[kind].size) for kind in BROKEN_KINDS},
        broken_rows={kind: tuple(int(r) + 1 for r in chosen[kind]) for kind in BROKEN_KINDS},
    )


def mapping_toml() -> bytes:
    """The mapping written beside the export: the packaged ``mig/demo/mapping.toml``.

    Its mapping hook is :func:`mig.demo.hooks.zip_digits`.
    """
    return resources.files("mig.demo").joinpath("mapping.toml").read_bytes()


def _write_csv(path: Path, frame: pl.DataFrame, ragged: IntArray | None = None) -> None:
    """CP932, CRLF, quoted only where needed, empty fields unquoted; atomic.

    A row listed in ``ragged`` is written without any quoting, so the comma its KATAGAKI
    holds splits it into one field too many (the vendor bug this export reproduces).
    """
    frame = frame.with_columns(pl.all().replace("", None))
    ragged_rows = {int(r) for r in (ragged if ragged is not None else ())}
    cuts = sorted(
        {0, frame.height}
        | set(range(0, frame.height, _CHUNK_ROWS))
        | ragged_rows
        | {r + 1 for r in ragged_rows}
    )
    with fs.atomic_file(path) as tmp, tmp.open("wb") as fh:
        fh.write(frame.head(0).write_csv(line_terminator="\r\n").encode("cp932"))
        for start, stop in zip(cuts, cuts[1:], strict=False):
            part = frame.slice(start, stop - start)
            if start in ragged_rows:
                text = part.write_csv(include_header=False, line_terminator="\r\n", quote_style="never")
            else:
                text = part.write_csv(include_header=False, line_terminator="\r\n")
            fh.write(text.encode("cp932"))
