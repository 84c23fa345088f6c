"""A synthetic mainframe 住民記録 export: one JEF-EBCDIK file holding 世帯 and 住民 records.

:func:`write_sample` writes ``JUKI.cpy`` (the copybook), ``JUKI.DAT`` (the data) and
``mapping.toml`` (onto the layouts ``juki-setai`` and ``juki-jumin``). The file shows what
such exports carry: two record types chosen by ``REC-KBN``, PIC N names with vendor 外字
(JEF user-defined area 0x80A1…), mixed PIC X addresses with shift codes, half-width kana
(EBCDIK), COMP-3 dates and counts, a signed zoned amount, a 和暦 birth date with a
REDEFINES view, and an ``OCCURS 0 TO 3 DEPENDING ON`` history table — plus deliberately
broken records (:data:`BROKEN`), one of each kind the adapter must reject.

Everything is invented and seeded: the same ``(setai, seed, framing)`` gives the same bytes.
Generation is vectorised (one encoder call per field over all records).

Run ``python -m mig_adapters.copybook.sample DIR [--framing fixed|rdw|bdw-rdw]`` to write
the files (tests/data/mainframe/ holds a small copy made this way).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mig.codecs import get_codec, pack_binary, pack_packed, pack_zoned
from mig_adapters.copybook.parser import parse_copybook

CHARSET = "jef-ebcdik"
LRECL = 300

COPYBOOK = """\
      *----------------------------------------------------------------*
      * 住民記録 移行用出力 (世帯・住民)  -- synthetic sample for mig   *
      * REC-KBN: '1' = 世帯 (SETAI-REC), '2' = 住民 (JUMIN-REC)         *
      *----------------------------------------------------------------*
       01  SETAI-REC.
           05  REC-KBN             PIC X.
               88  SETAI-KBN       VALUE '1'.
           05  SETAI-NO            PIC 9(15).
           05  NUSHI-KOJIN-NO      PIC 9(15).
           05  NUSHI-SHIMEI        PIC N(20).
           05  NUSHI-KANA          PIC X(40).
           05  ZIP                 PIC 9(7).
           05  ADDR                PIC X(100).
           05  KATAGAKI            PIC X(40).
           05  SETAI-YMD           PIC 9(8)   COMP-3.
           05  SETAI-JIYU          PIC X(3).
           05  NINZU               PIC S9(3)  COMP-3.
           05  UPD-YMD             PIC 9(8).
       01  JUMIN-REC.
           05  REC-KBN             PIC X.
           05  KOJIN-NO            PIC 9(15).
           05  SETAI-NO            PIC 9(15).
           05  SHIMEI              PIC N(20).
           05  KANA                PIC X(40).
           05  BIRTH.
               10  BIRTH-ERA       PIC 9.
               10  BIRTH-YMD       PIC 9(6).
           05  BIRTH-R             REDEFINES BIRTH.
               10  BIRTH-WAREKI    PIC 9(7).
           05  SEX                 PIC X.
           05  ZOKUGARA            PIC X(2).
           05  JUMIN-YMD           PIC 9(8).
           05  JUMIN-JIYU          PIC X(3).
           05  ZIP                 PIC 9(7).
           05  ADDR                PIC X(100).
           05  JOTAI               PIC X.
           05  TAINO               PIC S9(7)V99.
           05  RIREKI-CNT          PIC S9(4)  COMP.
           05  RIREKI              OCCURS 0 TO 3 TIMES
                                   DEPENDING ON RIREKI-CNT.
               10  RIREKI-YMD      PIC 9(8).
               10  RIREKI-JIYU     PIC X(3).
"""

MAPPING = """\
# Mapping of the synthetic mainframe export JUKI.DAT (written by mig_adapters.copybook.sample).
adapter = "copybook"

[source]
copybook = "JUKI.cpy"
charset = "jef-ebcdik"
framing = "{framing}"{lrecl}
record_selector = "REC-KBN"

[source.record_types]
"1" = "SETAI-REC"
"2" = "JUMIN-REC"

[severity]
"gaiji-unresolved" = "warning"

[code_maps."異動事由"]
"110" = "01"
"120" = "02"
"210" = "11"
"310" = "21"

[code_maps."性別"]
"M" = "1"
"F" = "2"

[code_maps."続柄"]
"00" = "01"
"10" = "02"
"20" = "11"

[code_maps."住民状態"]
"0" = "1"
"1" = "2"

[[files]]
layout = "juki-setai"
inputs = ["JUKI*.DAT"]
source = {{ record = "SETAI-REC" }}

[files.items]
"団体コード" = {{ const = "131016" }}
"世帯番号" = {{ column = "SETAI-NO" }}
"世帯主宛名番号" = {{ column = "NUSHI-KOJIN-NO" }}
"世帯主氏名" = {{ column = "NUSHI-SHIMEI", transforms = ["trim"] }}
"世帯主氏名カナ" = {{ column = "NUSHI-KANA", transforms = ["trim", "zenkaku"] }}
"郵便番号" = {{ column = "ZIP" }}
"住所" = {{ column = "ADDR", transforms = ["trim", "alnum_fullwidth"] }}
"方書" = {{ column = "KATAGAKI", transforms = ["trim", "zenkaku"] }}
"世帯となった年月日" = {{ column = "SETAI-YMD" }}
"異動事由" = {{ column = "SETAI-JIYU", code_map = "異動事由" }}
"世帯員数" = {{ column = "NINZU" }}
"最終更新年月日" = {{ column = "UPD-YMD" }}

[[files]]
layout = "juki-jumin"
inputs = ["JUKI*.DAT"]
source = {{ record = "JUMIN-REC" }}

[[files.extensions]]
name = "滞納額"
type = "数値"
length = 9
scale = 2
description = "An amount the old system kept with the 住民 (signed zoned decimal TAINO)."

[[files.extensions]]
name = "直近異動年月日"
type = "日付"
length = 8
description = "The first entry of the old system's history table (OCCURS DEPENDING ON)."

[files.items]
"団体コード" = {{ const = "131016" }}
"宛名番号" = {{ column = "KOJIN-NO" }}
"世帯番号" = {{ column = "SETAI-NO" }}
"氏名" = {{ column = "SHIMEI", transforms = ["trim"] }}
"氏名カナ" = {{ column = "KANA", transforms = ["trim", "zenkaku"] }}
"生年月日" = {{ wareki = "BIRTH-YMD", era = "BIRTH-ERA" }}
"性別" = {{ column = "SEX", code_map = "性別" }}
"続柄" = {{ column = "ZOKUGARA", code_map = "続柄" }}
"住民となった年月日" = {{ column = "JUMIN-YMD" }}
"住民となった事由" = {{ column = "JUMIN-JIYU", code_map = "異動事由" }}
"郵便番号" = {{ column = "ZIP" }}
"住所" = {{ column = "ADDR", transforms = ["trim", "alnum_fullwidth"] }}
"住民状態" = {{ column = "JOTAI", code_map = "住民状態" }}
"滞納額" = {{ column = "TAINO" }}
"直近異動年月日" = {{ column = "RIREKI-YMD(1)" }}
"""

#: Deliberately broken records → the finding type each must be rejected with. Their record
#: numbers (1-based, in the file) are in :attr:`Sample.broken`.
BROKEN: dict[str, str] = {
    "packed-nibble": "packed-invalid",  # 世帯: SETAI-YMD with a digit nibble 0xA
    "zoned-zone": "zoned-invalid",  # 住民: TAINO with a zone 0x3 in a digit
    "odo-count": "odo-count-exceeded",  # 住民: RIREKI-CNT 5, maximum 3
    "shift-open": "shift-unbalanced",  # 住民: ADDR enters double-byte mode and never leaves
    "unknown-type": "record-type-unknown",  # REC-KBN '9'
    "truncated": "record-truncated",  # the last record, cut short
}

GAIJI = "\ue000"  # JEF 0x80A1, the first code of the user-defined area

_SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
_SURNAME_KANA = ["ｻﾄｳ", "ｽｽﾞｷ", "ﾀｶﾊｼ", "ﾀﾅｶ", "ｲﾄｳ", "ﾜﾀﾅﾍﾞ", "ﾔﾏﾓﾄ", "ﾅｶﾑﾗ", "ｺﾊﾞﾔｼ", "ｶﾄｳ"]
_GIVEN = ["太郎", "花子", "一郎", "美咲", "健太", "陽子", "翔", "優子"]
_GIVEN_KANA = ["ﾀﾛｳ", "ﾊﾅｺ", "ｲﾁﾛｳ", "ﾐｻｷ", "ｹﾝﾀ", "ﾖｳｺ", "ｼｮｳ", "ﾕｳｺ"]
_TOWNS = ["千代田", "神田錦町", "内神田", "外神田", "九段南"]


@dataclass(frozen=True)
class Sample:
    """What :func:`write_sample` wrote, and what a correct reader must find in it."""

    copybook: Path
    data: Path
    mapping: Path
    framing: str
    setai: int  # 世帯 records (including broken ones)
    jumin: int  # 住民 records (including broken ones)
    records: int  # all records in the file, including the unknown-type and truncated ones
    broken: dict[str, int]  # kind (BROKEN) → record number in the file
    gaiji_setai: int  # 世帯 records (not broken) whose NUSHI-SHIMEI holds the 外字
    gaiji_jumin: int  # 住民 records (not broken) whose SHIMEI holds the 外字
    orphaned: int  # 住民 records (not broken) of the 世帯 whose record is broken (fk-missing)


def _pick(rng: np.random.Generator, words: list[str], n: int) -> npt.NDArray[np.int64]:
    return rng.integers(0, len(words), n)


def _dates(rng: np.random.Generator, n: int, first: int, last: int) -> npt.NDArray[np.int64]:
    year = rng.integers(first, last + 1, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    return np.asarray(year * 10000 + month * 100 + day, dtype=np.int64)


def _text(values: npt.NDArray[np.str_] | list[str]) -> list[str]:
    return [str(v) for v in values]


def _records(setai: int, seed: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], dict[str, object]]:
    """Byte matrices of the 世帯 and 住民 records (住民 at their maximum length)."""
    rng = np.random.default_rng(seed)
    codec = get_codec(CHARSET)
    sbcs, dbcs, mixed = codec.encode_sbcs, codec.encode_dbcs, codec.encode_mixed
    n = setai
    sur = _pick(rng, _SURNAMES, n)
    given = _pick(rng, _GIVEN, n)
    surnames = np.array(_SURNAMES, dtype=object)[sur]
    gaiji_setai = np.zeros(n, dtype=np.bool_)
    gaiji_setai[::7] = True
    surnames = np.where(gaiji_setai, GAIJI + surnames.astype(str).astype(object), surnames)
    names = surnames + "　" + np.array(_GIVEN, dtype=object)[given]
    kana = np.array(_SURNAME_KANA, dtype=object)[sur] + " " + np.array(_GIVEN_KANA, dtype=object)[given]
    town = np.array(_TOWNS, dtype=object)[_pick(rng, _TOWNS, n)]
    numbers = np.arange(1, n + 1)
    addr = "東京都千代田区" + town + (numbers % 9 + 1).astype(str).astype(object) + "-" + (numbers % 20 + 1).astype(str).astype(object)
    katagaki = np.where(numbers % 3 == 0, "ｺｰﾎﾟ" + (numbers % 50 + 100).astype(str).astype(object), "")
    setai_no = 100000 + numbers
    parts = [
        sbcs(["1"] * n, 1),
        pack_zoned(setai_no, 15, 0, sign="unsigned"),
        pack_zoned(setai_no * 10, 15, 0, sign="unsigned"),
        dbcs(_text(names), 40),
        sbcs(_text(kana), 40),
        pack_zoned(1000000 + rng.integers(0, 999999, n), 7, 0, sign="unsigned"),
        mixed(_text(addr), 100),
        mixed(_text(katagaki), 40),
        pack_packed(_dates(rng, n, 1990, 2024), 5, 0, signed=False),
        sbcs(list(np.array(["110", "120", "210"], dtype=object)[rng.integers(0, 3, n)]), 3),
        pack_packed(rng.integers(1, 6, n), 2, 0, signed=True),
        pack_zoned(_dates(rng, n, 2020, 2024), 8, 0, sign="unsigned"),
    ]
    setai_matrix = np.hstack(parts).astype(np.uint8)

    # 住民: two or three per 世帯
    per = rng.integers(2, 4, n)
    m = int(per.sum())
    household = np.repeat(np.arange(n), per)
    member = np.arange(m) - np.repeat(np.cumsum(per) - per, per)
    head = member == 0
    sur_j = sur[household]
    given_j = _pick(rng, _GIVEN, m)
    gaiji_jumin = gaiji_setai[household] & head
    surnames_j = np.where(gaiji_jumin, GAIJI + np.array(_SURNAMES, dtype=object)[sur_j].astype(str).astype(object),
                          np.array(_SURNAMES, dtype=object)[sur_j])
    names_j = surnames_j + "　" + np.array(_GIVEN, dtype=object)[given_j]
    kana_j = np.array(_SURNAME_KANA, dtype=object)[sur_j] + " " + np.array(_GIVEN_KANA, dtype=object)[given_j]
    era = np.where(rng.random(m) < 0.5, 3, 4)  # 昭和 / 平成
    year = np.where(era == 3, rng.integers(20, 64, m), rng.integers(1, 31, m))
    wareki = year * 10000 + rng.integers(1, 13, m) * 100 + rng.integers(1, 29, m)
    count = rng.integers(0, 4, m)
    taino = rng.integers(-50000, 500000, m)  # in 1/100 yen units → scale 2
    parts_j = [
        sbcs(["2"] * m, 1),
        pack_zoned(setai_no[household] * 10 + member, 15, 0, sign="unsigned"),
        pack_zoned(setai_no[household], 15, 0, sign="unsigned"),
        dbcs(_text(names_j), 40),
        sbcs(_text(kana_j), 40),
        pack_zoned(era, 1, 0, sign="unsigned"),
        pack_zoned(wareki, 6, 0, sign="unsigned"),
        sbcs(list(np.array(["M", "F"], dtype=object)[rng.integers(0, 2, m)]), 1),
        sbcs(list(np.where(head, "00", np.where(member == 1, "10", "20"))), 2),
        pack_zoned(_dates(rng, m, 1990, 2024), 8, 0, sign="unsigned"),
        sbcs(list(np.array(["110", "120"], dtype=object)[rng.integers(0, 2, m)]), 3),
        pack_zoned(1000000 + rng.integers(0, 999999, m), 7, 0, sign="unsigned"),
        mixed(_text(addr[household]), 100),
        sbcs(list(np.where(rng.random(m) < 0.9, "0", "1")), 1),
        pack_zoned(taino, 9, 2, sign="trailing-overpunch"),
        pack_binary(count, 2, 0, signed=True),
    ]
    for k in range(3):  # the history table at its maximum: 3 × (9(8) + X(3))
        parts_j.append(pack_zoned(np.where(count > k, _dates(rng, m, 2000, 2024), 0), 8, 0, sign="unsigned"))
        parts_j.append(sbcs(list(np.where(count > k, "210", "   ")), 3))
    jumin_matrix = np.hstack(parts_j).astype(np.uint8)
    info: dict[str, object] = {
        "household": household, "count": count, "gaiji_setai": gaiji_setai, "gaiji_jumin": gaiji_jumin,
    }
    return setai_matrix, jumin_matrix, info


def _frame(records: list[bytes], framing: str) -> bytes:
    if framing == "fixed":
        return b"".join(r.ljust(LRECL, b"\x40") for r in records)
    with_rdw = [(len(r) + 4).to_bytes(2, "big") + b"\0\0" + r for r in records]
    if framing == "rdw":
        return b"".join(with_rdw)
    blocks: list[bytes] = []
    for start in range(0, len(with_rdw), 20):  # 20 records per block (a loop over blocks)
        body = b"".join(with_rdw[start:start + 20])
        blocks.append((len(body) + 4).to_bytes(2, "big") + b"\0\0" + body)
    return b"".join(blocks)


def write_sample(out: Path, *, setai: int = 40, seed: int = 0, framing: str = "fixed") -> Sample:
    """Write ``JUKI.cpy``, ``JUKI.DAT`` and ``mapping.toml`` into ``out``."""
    if setai < 10:
        raise ValueError("at least 10 世帯, so that every broken kind has a record")
    out.mkdir(parents=True, exist_ok=True)
    setai_matrix, jumin_matrix, info = _records(setai, seed)
    count = np.asarray(info["count"])
    household = np.asarray(info["household"])
    jumin_length = jumin_matrix.shape[1] - (3 - count) * 11  # ODO: the table holds `count` entries
    # Break one record of each kind (records chosen among the non-外字 ones).
    gaiji_setai = np.asarray(info["gaiji_setai"]).copy()
    gaiji_jumin = np.asarray(info["gaiji_jumin"]).copy()
    book = parse_copybook(COPYBOOK, source="JUKI.cpy")
    setai_record, jumin_record = book.record("SETAI-REC"), book.record("JUMIN-REC")
    assert setai_matrix.shape[1] == setai_record.size and jumin_matrix.shape[1] == jumin_record.size
    setai_matrix[3, setai_record.field("SETAI-YMD").offset] = 0xA1  # digit nibble A
    taino = jumin_record.field("TAINO").offset
    jumin_matrix[5, taino + 2] = 0x35  # zone 3 in a digit of TAINO
    counter = jumin_record.field("RIREKI-CNT").offset
    jumin_matrix[8, counter: counter + 2] = [0, 5]  # RIREKI-CNT 5 > 3
    jumin_length[8] = jumin_matrix.shape[1]
    addr_end = jumin_record.field("ADDR").end  # ADDR ends in double-byte mode: KI + 4 pairs, no KO
    jumin_matrix[11, addr_end - 9: addr_end] = [0x28, 0xB0, 0xA1, 0xB0, 0xA2, 0xA1, 0xA1, 0xA1, 0xA1]
    for i in (3,):
        gaiji_setai[i] = False
    for i in (5, 8, 11):
        gaiji_jumin[i] = False
    # Interleave: each 世帯 record followed by its 住民 records, as a 住基 system writes them.
    setai_bytes = [bytes(r) for r in setai_matrix]
    jumin_bytes = [bytes(r[: int(length)]) for r, length in zip(jumin_matrix, jumin_length, strict=True)]
    order: list[bytes] = []
    kinds: list[str] = []
    for h in range(setai):  # writing a file of a few hundred records: a loop over households
        order.append(setai_bytes[h])
        kinds.append("setai")
        for j in np.flatnonzero(household == h):
            order.append(jumin_bytes[int(j)])
            kinds.append(f"jumin{int(j)}")
    unknown = b"\xf9" + setai_bytes[0][1:]  # REC-KBN '9'
    order.insert(len(order) // 2, unknown)
    kinds.insert(len(kinds) // 2, "unknown")
    data = _frame(order, framing)
    cut = 7
    data = data[: len(data) - cut]  # the last record (a 住民) is cut short
    broken = {
        "packed-nibble": [i for i, k in enumerate(kinds) if k == "setai"][3] + 1,
        "zoned-zone": kinds.index("jumin5") + 1,
        "odo-count": kinds.index("jumin8") + 1,
        "shift-open": kinds.index("jumin11") + 1,
        "unknown-type": kinds.index("unknown") + 1,
        "truncated": len(kinds),
    }
    last_jumin = int(kinds[-1][5:])
    gaiji_jumin[last_jumin] = False
    broken_jumin = {5, 8, 11, last_jumin}
    orphaned = sum(1 for j in np.flatnonzero(household == 3) if int(j) not in broken_jumin)
    copybook = out / "JUKI.cpy"
    copybook.write_text(COPYBOOK, encoding="utf-8")
    path = out / "JUKI.DAT"
    path.write_bytes(data)
    mapping = out / "mapping.toml"
    lrecl = f"\nlrecl = {LRECL}" if framing == "fixed" else ""
    mapping.write_text(MAPPING.format(framing=framing, lrecl=lrecl), encoding="utf-8")
    return Sample(
        copybook=copybook, data=path, mapping=mapping, framing=framing,
        setai=setai, jumin=int(jumin_matrix.shape[0]), records=len(kinds), broken=broken,
        gaiji_setai=int(gaiji_setai.sum()), gaiji_jumin=int(gaiji_jumin.sum()), orphaned=orphaned,
    )


def main() -> None:  # pragma: no cover - command-line wrapper
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--setai", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--framing", default="fixed", choices=["fixed", "rdw", "bdw-rdw"])
    args = parser.parse_args()
    sample = write_sample(args.out, setai=args.setai, seed=args.seed, framing=args.framing)
    print(f"wrote {sample.data} ({sample.records} records), {sample.copybook}, {sample.mapping}")


if __name__ == "__main__":  # pragma: no cover
    main()
