#!/usr/bin/env python3
"""Build mig/codecs/tables/charsets.arrow from the jef4j mapping tables and glibc iconv.

Sources
- ``../shared/data/charsets/*.json`` — the mapping tables of jef4j (Apache License 2.0):
  Fujitsu EBCDIC / EBCDIK / ASCII + JEF, Hitachi EBCDIC / EBCDIK + KEIS78 / KEIS83,
  NEC JIS8 / EBCDIK + JIPS, and the JIS8 ↔ EBCDIK byte map used by JIPS(E).
- glibc iconv (``IBM930``, ``IBM939``, ``IBM1390``, ``IBM1399``), called through ctypes:
  every single byte and every double-byte pair 0x4040–0xFEFE is decoded (in shift-out state
  for pairs), and every decoded character is encoded back to find one-way codes; a scan of
  the BMP and plane 2 adds the characters iconv encodes to a code that decodes to something
  else (``encode_only``). A CCSID iconv does not know is left out and reported.

Output: one Arrow IPC file (zstd) with one row per mapping entry::

    table    string   e.g. "fujitsu_jef", "ibm_930_dbcs", "nec_jis8_ebcdik"
    code     uint16   byte value (single-byte tables) or lead << 8 | trail
    unicode  string   the table's Unicode text (``unicode`` + ``sp``); null when unmappable
    hd       string   the Hanyo-Denshi IVS form (base + selector) when the table gives one
    aj1      string   the Adobe-Japan1 IVS form when the table gives one
    flags    uint16   bit set, see FLAGS (options of the source plus ``shadowed``)

Where a code has more than one decodable entry, the one it decodes to is chosen here
(:func:`_mark_shadowed`): a standard entry wins over a ``cjk_ci`` (CJK compatibility
ideograph) entry, which is kept flagged ``alternative`` (decoded only by the ``compat``
variant of :mod:`mig.codecs.luts`); among equals the last entry wins, as in jef4j. Every
other losing entry is flagged ``shadowed``. jef4j itself keeps the last entry, so its JEF
tables decode 0xB7C3 (恵) to U+FA6B: mig decodes it to U+6075 (see mig/codecs/README.md). ``ERRATA`` corrects a handful of
evident code typos in the single-byte tables (each listed with its reason) before that.

Run from the repository root::

    python scripts/build_codec_tables.py [--source ../shared/data/charsets]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import shutil
import sys
from pathlib import Path

import pyarrow as pa

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "mig" / "codecs" / "tables"

FLAGS: dict[str, int] = {
    "decode_only": 1 << 0,
    "encode_only": 1 << 1,
    "oneway": 1 << 2,
    "unmappable": 1 << 3,
    "substitution": 1 << 4,
    "cjk_ci": 1 << 5,
    "combination": 1 << 6,
    "halfwidth": 1 << 7,
    "fullwidth": 1 << 8,
    "compatible": 1 << 9,
    "alternative": 1 << 14,
    "shadowed": 1 << 15,
}

JEF4J_TABLES: dict[str, str] = {
    "fujitsu_ebcdic": "fujitsu_ebcdic_mapping.json",
    "fujitsu_ebcdik": "fujitsu_ebcdik_mapping.json",
    "fujitsu_ascii": "fujitsu_ascii_mapping.json",
    "fujitsu_jef": "fujitsu_jef_mapping.json",
    "hitachi_ebcdic": "hitachi_ebcdic_mapping.json",
    "hitachi_ebcdik": "hitachi_ebcdik_mapping.json",
    "hitachi_keis78": "hitachi_keis78_mapping.json",
    "hitachi_keis83": "hitachi_keis83_mapping.json",
    "nec_jis8": "nec_jis8_mapping.json",
    "nec_ebcdik": "nec_ebcdik_mapping.json",
    "nec_jips": "nec_jips_mapping.json",
}

# (table, code as written, unicode) → corrected code. Each is a duplicated code in a
# single-byte table whose neighbours leave no doubt about the intended byte.
ERRATA: dict[tuple[str, str, str], tuple[str, str]] = {
    ("nec_jis8", "4E", "004D"): ("4D", "JIS X 0201: 'M' is 0x4D; 0x4E is listed twice, 0x4D never"),
    ("nec_jis8", "5E", "005D"): ("5D", "JIS X 0201: ']' is 0x5D; 0x5D is missing"),
    ("nec_jis8", "6E", "006D"): ("6D", "JIS X 0201: 'm' is 0x6D; 0x6D is missing"),
    ("nec_jis8", "7E", "007D"): ("7D", "JIS X 0201: '}' is 0x7D; 0x7D is missing"),
    ("hitachi_ebcdic", "8F", "FF88"): ("8E", "kana run 8A ﾄ … 8D ﾇ, 8E ﾈ, 8F ﾉ, 90 ﾊ; 0x8E is missing"),
    ("nec_ebcdik", "A8", "FF92"): ("A7", "kana run A4 ﾏ A5 ﾐ A6 ﾑ, A7 ﾒ, A8 ﾓ, A9 ﾔ; 0xA7 is missing"),
}

IBM_CCSIDS = ("930", "939", "1390", "1399")

#: EUC tables: name → (how it is made, iconv name). Each gives two packaged tables: ``<name>``
#: (two-byte codes lead << 8 | trail, and SS2 half-width kana 0x8E << 8 | byte) and
#: ``<name>_ss3`` (the two bytes after SS3 0x8F). ``euc_jp`` is Python's ``euc_jp`` (JIS
#: X 0208 + JIS X 0212 as Unicode's tables map them: 0xA1C1 → U+301C) plus the eucJP-ms
#: user-defined areas; ``eucjp_ms`` and ``euc_jis_2004`` are exactly what glibc iconv's
#: EUC-JP-MS and EUC-JISX0213 decode.
EUC_TABLES: dict[str, tuple[str, str]] = {
    "euc_jp": ("python", "euc_jp"),
    "eucjp_ms": ("iconv", "EUC-JP-MS"),
    "euc_jis_2004": ("iconv", "EUC-JISX0213"),
}
#: eucJP-ms user-defined areas (rows 85-94 of both planes) → Private Use, row by row
#: (mig.charsets.EUCJP_USER_DEFINED; the build script stays importable without mig).
EUC_USER_AREAS = (("", 0xE000), ("_ss3", 0xE3AC))

NOTICE = """mig/codecs/tables/charsets.arrow — mainframe code tables used by mig.codecs

Fujitsu (EBCDIC, EBCDIK, ASCII, JEF), Hitachi (EBCDIC, EBCDIK, KEIS78, KEIS83) and NEC
(JIS8, EBCDIK, JIPS, JIS8<->EBCDIK) tables are derived from the mapping tables of jef4j
(https://github.com/hidekatsu-izuno/jef4j), Copyright 2018 Hidekatsu Izuno,
licensed under the Apache License, Version 2.0 (see LICENSE-Apache-2.0.txt beside this file).
Changes: converted to one Arrow table; where a code has two decodable entries, the standard
one is chosen over a CJK compatibility ideograph (kept as "alternative"), else the last
(the others marked "shadowed"); six single-byte code typos corrected (listed in ERRATA of
scripts/build_codec_tables.py).

IBM CCSID 930, 939, 1390 and 1399 tables are generated from the GNU C Library's iconv
converters (IBM930, IBM939, IBM1390, IBM1399) by scripts/build_codec_tables.py; so are the
eucJP-ms (EUC-JP-MS) and EUC-JIS-2004 (EUC-JISX0213) tables. The EUC-JP table is Python's
euc_jp codec plus the eucJP-ms user-defined areas (Private Use).

Rebuild: python scripts/build_codec_tables.py
"""


def _text(hexes: str) -> str:
    return "".join(chr(int(h, 16)) for h in hexes.split())


def load_jef4j(source: Path) -> list[dict[str, object]]:
    """Rows of the jef4j tables, errata applied, shadowed entries marked."""
    rows: list[dict[str, object]] = []
    applied = set()
    for table, filename in JEF4J_TABLES.items():
        entries = json.loads((source / filename).read_text(encoding="utf-8"))
        table_rows: list[dict[str, object]] = []
        for entry in entries:
            code_hex = entry["code"]
            key = (table, code_hex, entry["unicode"])
            if key in ERRATA:
                code_hex = ERRATA[key][0]
                applied.add(key)
            flags = 0
            for option in entry.get("options", []):
                flags |= FLAGS[option]
            unicode: str | None = _text(entry["unicode"])
            if entry["unicode"] == "FFFD":
                unicode = None
                flags |= FLAGS["unmappable"]
            sp = entry.get("sp")
            if unicode is not None and sp:
                unicode += _text(sp)
            hd = unicode[0] + _text(entry["hd"]) if unicode and entry.get("hd") else None
            aj1 = unicode[0] + _text(entry["aj1"]) if unicode and entry.get("aj1") else None
            table_rows.append(
                {"table": table, "code": int(code_hex, 16), "unicode": unicode, "hd": hd, "aj1": aj1, "flags": flags}
            )
        _mark_shadowed(table_rows)
        rows.extend(table_rows)
    missing = set(ERRATA) - applied
    if missing:
        raise SystemExit(f"errata no longer match the source: {sorted(missing)}")
    rows.extend(_jis8_ebcdik(source))
    return rows


def _mark_shadowed(table_rows: list[dict[str, object]]) -> None:
    """Choose the entry each code decodes to: a standard entry before a ``cjk_ci`` one, then
    the last. A losing ``cjk_ci`` entry becomes ``alternative``; any other loser ``shadowed``."""
    best: dict[int, int] = {}
    for i, row in enumerate(table_rows):
        flags = int(row["flags"])  # type: ignore[call-overload]
        if flags & FLAGS["encode_only"]:
            continue
        code = int(row["code"])  # type: ignore[call-overload]
        current = best.get(code)
        if current is None or not (flags & FLAGS["cjk_ci"] and not int(table_rows[current]["flags"]) & FLAGS["cjk_ci"]):  # type: ignore[call-overload]
            best[code] = i
    for i, row in enumerate(table_rows):
        flags = int(row["flags"])  # type: ignore[call-overload]
        if flags & FLAGS["encode_only"] or best[int(row["code"])] == i:  # type: ignore[call-overload]
            continue
        loser = FLAGS["alternative"] if flags & FLAGS["cjk_ci"] else FLAGS["shadowed"]
        row["flags"] = flags | loser


def _jis8_ebcdik(source: Path) -> list[dict[str, object]]:
    """The JIS8 → EBCDIK byte map (code = JIS8 byte, unicode = chr(EBCDIK byte))."""
    pairs = json.loads((source / "nec_jis8_ebcdik_mapping.json").read_text(encoding="utf-8"))
    mapping = {int(p["jis8"], 16): int(p["ebcdik"], 16) for p in pairs}
    if sorted(mapping) != list(range(256)) or sorted(mapping.values()) != list(range(256)):
        raise SystemExit("nec_jis8_ebcdik_mapping.json is not a permutation of 0x00-0xFF")
    return [
        {"table": "nec_jis8_ebcdik", "code": j, "unicode": chr(e), "hd": None, "aj1": None, "flags": 0}
        for j, e in sorted(mapping.items())
    ]


class _Iconv:
    """One glibc iconv conversion descriptor, reset before every call."""

    def __init__(self, libc: ctypes.CDLL, to: str, frm: str) -> None:
        self.libc = libc
        self.cd = libc.iconv_open(to.encode(), frm.encode())
        if self.cd in (None, ctypes.c_void_p(-1).value):
            raise LookupError(f"iconv does not know {frm} → {to}")
        self.buf = ctypes.create_string_buffer(64)

    def __call__(self, data: bytes) -> bytes | None:
        size_max = ctypes.c_size_t(-1).value
        self.libc.iconv(self.cd, None, None, None, None)
        inbuf = ctypes.c_char_p(data)
        inleft = ctypes.c_size_t(len(data))
        outp = ctypes.cast(self.buf, ctypes.c_char_p)
        outleft = ctypes.c_size_t(64)
        if self.libc.iconv(self.cd, ctypes.byref(inbuf), ctypes.byref(inleft), ctypes.byref(outp), ctypes.byref(outleft)) == size_max:
            return None
        if self.libc.iconv(self.cd, None, None, ctypes.byref(outp), ctypes.byref(outleft)) == size_max:
            return None
        return self.buf.raw[: 64 - outleft.value]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.iconv_open.restype = ctypes.c_void_p
    libc.iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.iconv.restype = ctypes.c_size_t
    libc.iconv.argtypes = [ctypes.c_void_p] + [ctypes.c_void_p] * 4
    return libc


def load_ibm() -> tuple[list[dict[str, object]], list[str]]:
    """Rows of the IBM tables generated from iconv, and the CCSIDs iconv lacks."""
    libc = _libc()
    rows: list[dict[str, object]] = []
    missing: list[str] = []
    for ccsid in IBM_CCSIDS:
        try:
            decode = _Iconv(libc, "UTF-8", f"IBM{ccsid}")
            encode = _Iconv(libc, f"IBM{ccsid}", "UTF-8")
        except LookupError:
            missing.append(f"IBM{ccsid}")
            continue
        sbcs: dict[int, str] = {}
        dbcs: dict[int, str] = {}
        for b in range(256):
            if b in (0x0E, 0x0F):
                continue
            out = decode(bytes([b]))
            if out:
                sbcs[b] = out.decode("utf-8")
        for lead in range(0x40, 0xFF):
            for trail in range(0x40, 0xFF):
                out = decode(bytes([0x0E, lead, trail, 0x0F]))
                if out:
                    dbcs[lead << 8 | trail] = out.decode("utf-8")
        decoded_texts = set(sbcs.values()) | set(dbcs.values())
        for kind, table in (("sbcs", sbcs), ("dbcs", dbcs)):
            for code, text in sorted(table.items()):
                back = encode(text.encode("utf-8"))
                expect = bytes([code]) if kind == "sbcs" else bytes([0x0E, code >> 8, code & 0xFF, 0x0F])
                flags = 0 if back == expect else FLAGS["decode_only"]
                rows.append({"table": f"ibm_{ccsid}_{kind}", "code": code, "unicode": text, "hd": None, "aj1": None, "flags": flags})
        # characters iconv encodes although no code decodes to them (encode_only)
        for cp in list(range(0x20, 0xD800)) + list(range(0xE000, 0x10000)) + list(range(0x20000, 0x30000)):
            ch = chr(cp)
            if ch in decoded_texts:
                continue
            out = encode(ch.encode("utf-8"))
            if not out:
                continue
            if len(out) == 1 and out[0] in sbcs and out[0] != 0x3F:  # 0x3F: iconv's substitute (SUB)
                rows.append({"table": f"ibm_{ccsid}_sbcs", "code": out[0], "unicode": ch, "hd": None, "aj1": None, "flags": FLAGS["encode_only"]})
            elif len(out) == 4 and out[0] == 0x0E and out[3] == 0x0F and (out[1] << 8 | out[2]) in dbcs:
                rows.append({"table": f"ibm_{ccsid}_dbcs", "code": out[1] << 8 | out[2], "unicode": ch, "hd": None, "aj1": None, "flags": FLAGS["encode_only"]})
        print(f"IBM{ccsid}: {len(sbcs)} single-byte, {len(dbcs)} double-byte codes", file=sys.stderr)
    return rows, missing


def load_euc() -> tuple[list[dict[str, object]], list[str]]:
    """Rows of the EUC tables (see EUC_TABLES), and the iconv names iconv lacks."""
    libc = _libc()
    rows: list[dict[str, object]] = []
    missing: list[str] = []
    codes2 = [(lead, trail) for lead in range(0xA1, 0xFF) for trail in range(0xA1, 0xFF)]
    codes2 += [(0x8E, trail) for trail in range(0xA1, 0xFF)]
    codes3 = [(b2, b3) for b2 in range(0xA1, 0xFF) for b3 in range(0xA1, 0xFF)]
    for name, (kind, codec) in EUC_TABLES.items():
        if kind == "iconv":
            try:
                iconv = _Iconv(libc, "UTF-8", codec)
            except LookupError:
                missing.append(codec)
                continue

            def decode(data: bytes, iconv: _Iconv = iconv) -> str | None:
                out = iconv(data)
                return out.decode("utf-8") if out else None
        else:

            def decode(data: bytes, codec: str = codec) -> str | None:
                try:
                    return data.decode(codec)
                except UnicodeDecodeError:
                    return None
        for suffix, prefix, codes in (("", b"", codes2), ("_ss3", b"\x8f", codes3)):
            for b1, b2 in codes:
                text = decode(prefix + bytes((b1, b2)))
                if text is None and kind == "python" and b1 >= 0xF5 and b1 != 0x8E:
                    first = dict(EUC_USER_AREAS)[suffix]
                    text = chr(first + (b1 - 0xF5) * 94 + (b2 - 0xA1))
                if text is not None:
                    rows.append({"table": name + suffix, "code": b1 << 8 | b2, "unicode": text, "hd": None, "aj1": None, "flags": 0})
    return rows, missing


def check(rows: list[dict[str, object]]) -> None:
    """Every decoded form must be one or two code points (the decoders' limit)."""
    for row in rows:
        for form in ("unicode", "hd", "aj1"):
            text = row[form]
            if text is not None and not 1 <= len(str(text)) <= 2:
                raise SystemExit(f"{row['table']} 0x{int(row['code']):04X}: {form} has {len(str(text))} code points")  # type: ignore[call-overload]


def write(rows: list[dict[str, object]], path: Path) -> None:
    schema = pa.schema(
        [
            ("table", pa.string()),
            ("code", pa.uint16()),
            ("unicode", pa.string()),
            ("hd", pa.string()),
            ("aj1", pa.string()),
            ("flags", pa.uint16()),
        ]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    table = table.replace_schema_metadata({"flags": json.dumps(FLAGS), "source": "jef4j (Apache-2.0); glibc iconv"})
    tmp = path.with_suffix(".tmp")
    with pa.OSFile(str(tmp), "wb") as sink:
        with pa.ipc.new_file(sink, schema.with_metadata(table.schema.metadata), options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
            writer.write_table(table)
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=REPO.parent / "shared" / "data" / "charsets")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    rows = load_jef4j(args.source)
    ibm_rows, missing = load_ibm()
    rows.extend(ibm_rows)
    euc_rows, missing_euc = load_euc()
    rows.extend(euc_rows)
    missing += missing_euc
    check(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    write(rows, args.out / "charsets.arrow")
    shutil.copyfile(args.source / "LICENSE-Apache-2.0.txt", args.out / "LICENSE-Apache-2.0.txt")
    (args.out / "NOTICE").write_text(NOTICE, encoding="utf-8")
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row["table"])] = counts.get(str(row["table"]), 0) + 1
    for name, count in counts.items():
        print(f"{name}: {count} entries", file=sys.stderr)
    if missing:
        print(f"iconv lacks {', '.join(missing)}: left out", file=sys.stderr)
    print(f"wrote {args.out / 'charsets.arrow'} ({(args.out / 'charsets.arrow').stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
