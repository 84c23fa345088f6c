"""Mainframe decoding benchmark: a seeded JEF file of fixed-length records, decoded field by
field through :mod:`mig.codecs`, reporting MB/s and records/s per field kind.

The records follow this copybook (104 bytes, LRECL fixed)::

       01  JUMIN-REC.
           05  JUMIN-NO     PIC 9(10).                 zoned, unsigned
           05  SHIMEI-KANA  PIC X(40).                 mixed JEF-EBCDIK: カナ / ASCII + shifted kanji
           05  SHIMEI       PIC N(20).                 JEF double-byte, no shift codes
           05  ZEIGAKU      PIC S9(9)V99 COMP-3.       packed, 6 bytes
           05  SETAI-SU     PIC S9(7) SIGN TRAILING.   zoned, overpunch
           05  FILLER       PIC X(1).

The mixed field holds 0–6 single-byte characters (half-width カナ, digits), a shift into
double-byte (0x28), 1–16 kanji of the JEF standard area, a shift back (0x29) and spaces; the
PIC N field holds 1–20 kanji padded with the full-width space. The file is written to a
temporary directory and read back with ``np.fromfile`` (fields are strided views of the
record matrix, as the copybook adapter hands them over). Each field kind is decoded
``--repeat`` rounds (one call of each kind per round); the best time counts.

In-run reference: CPython's ``bytes.decode("cp932")`` of a CP932 buffer of the same byte
count as the field — the field's own decoded text re-encoded to CP932 (characters CP932 lacks,
such as variation selectors, left out) and repeated to that length. The kinds are timed
round-robin (one of each per round), and the ratio field MB/s ÷ cp932 MB/s is the median of
the rounds' ratios, so a busy moment on the machine slows both sides alike (also printed
from CPU times, steadier when other jobs share the cores). Issue 12 puts the Java reference
(jef4j, ≈ 79 MB/s on mixed JEF-EBCDIK) at ≈ 0.63× CPython cp932 and sets the goal for
mixed fields at ≥ 0.75× (see benchmarks/README.md for how that compares here).

``--jef4j CLASSPATH`` measures that Java reference itself, side by side: jef4j's compiled
classes (or jar) decode the same field bytes — the mixed field as ``x-Fujitsu-JEF-EBCDIK``,
the PIC N field as ``x-Fujitsu-JEF`` (standard codes to plain characters, as mig; jef4j's
``HanyoDenshi`` charsets add a selector to many standard kanji for their JIS78 glyph) —
field by field into Strings with one reused ``CharsetDecoder`` (``benchmarks/jef4j/DecodeFields.java``, compiled with
``javac`` for the run). Each round runs one JVM: a few untimed passes for the JIT, then one
timed pass, in the round-robin with mig's decoders; ``÷ jef4j`` is the median over the
rounds of mig's MB/s ÷ jef4j's. How many fields both decode to the same text is printed.
jef4j is not shipped with mig; build it from its source
(``javac -d classes $(find src/main/java -name '*.java') && cp -r src/main/resources/* classes/``).

Usage::

    python benchmarks/bench_mainframe_decode.py [--records 200000] [--repeat 5] [--seed 0] [--json FILE]
                                                [--jef4j CLASSPATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mig.codecs import get_codec, pack_packed, pack_zoned, unpack_packed, unpack_zoned

CHARSET = "jef-ebcdik"
LAYOUT = (("JUMIN-NO", 10), ("SHIMEI-KANA", 40), ("SHIMEI", 40), ("ZEIGAKU", 6), ("SETAI-SU", 7), ("FILLER", 1))
LRECL = sum(width for _, width in LAYOUT)


def _offsets() -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    at = 0
    for name, width in LAYOUT:
        out[name] = (at, width)
        at += width
    return out


def generate(n: int, seed: int) -> np.ndarray:
    """``n`` records of the layout above as a (n, LRECL) uint8 matrix (vectorised)."""
    rng = np.random.default_rng(seed)
    codec = get_codec(CHARSET)
    kanji = np.array(sorted(c for c in codec.dbcs.texts if 0xB0A1 <= c <= 0xCFFE and (c & 0xFF) >= 0xA1), dtype=np.uint16)
    kana = np.array([b for b in range(256) if (t := codec.sbcs.texts[b]) and ("\uff66" <= t <= "\uff9d" or t.isdigit())], dtype=np.uint8)
    records = np.full((n, LRECL), 0x40, dtype=np.uint8)
    cols = _offsets()
    # JUMIN-NO
    at, w = cols["JUMIN-NO"]
    records[:, at : at + w] = pack_zoned(rng.integers(0, 10**10, n), w, 0, sign="unsigned")
    # SHIMEI-KANA: prefix of 0-6 single bytes, 0x28, 1-16 kanji, 0x29, spaces
    at, w = cols["SHIMEI-KANA"]
    prefix = rng.integers(0, 7, n)
    count = rng.integers(1, 17, n)
    codes = rng.choice(kanji, (n, 16)).astype(">u2").view(np.uint8).reshape(n, 32)
    col = np.arange(w)[None, :]
    field = np.full((n, w), 0x40, dtype=np.uint8)
    single = col < prefix[:, None]
    field[single] = rng.choice(kana, int(single.sum()))
    field[col == prefix[:, None]] = 0x28
    rel = col - prefix[:, None] - 1
    inside = (rel >= 0) & (rel < 2 * count[:, None])
    field[inside] = np.take_along_axis(codes, np.clip(rel, 0, 31), axis=1)[inside]
    field[rel == 2 * count[:, None]] = 0x29
    records[:, at : at + w] = field
    # SHIMEI: 1-20 kanji, full-width space padding
    at, w = cols["SHIMEI"]
    count = rng.integers(1, 21, n)
    codes = rng.choice(kanji, (n, w // 2))
    codes[np.arange(w // 2)[None, :] >= count[:, None]] = 0x4040
    records[:, at : at + w] = codes.astype(">u2").view(np.uint8).reshape(n, w)
    # ZEIGAKU, SETAI-SU
    at, w = cols["ZEIGAKU"]
    records[:, at : at + w] = pack_packed(rng.integers(-(10**11) + 1, 10**11, n), w, 2)
    at, w = cols["SETAI-SU"]
    records[:, at : at + w] = pack_zoned(rng.integers(-(10**7) + 1, 10**7, n), w, 0, sign="trailing-overpunch")
    return records


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall time, CPU time of this process (other jobs on the machine inflate the wall time,
    not the CPU time) and the result of one call."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - start, time.process_time() - start_cpu, result


def cp932_reference(text: str, nbytes: int) -> bytes:
    """``text`` in CP932 (what it lacks left out), repeated and cut to ``nbytes`` on a
    character boundary (a cut double-byte character is dropped, a space fills its place)."""
    unit = text.encode("cp932", errors="ignore") or b" "
    data = (unit * (nbytes // len(unit) + 1))[:nbytes]
    kept = data.decode("cp932", errors="ignore").encode("cp932")
    return kept + b" " * (nbytes - len(kept))


JEF4J_CHARSETS = {"SHIMEI-KANA": "x-Fujitsu-JEF-EBCDIK", "SHIMEI": "x-Fujitsu-JEF"}
JEF4J_WARMUP = 5
HARNESS = Path(__file__).parent / "jef4j" / "DecodeFields.java"
SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


class Jef4j:
    """jef4j in a JVM per round (see the module docstring), on the field bytes of ``work``."""

    def __init__(self, classpath: Path, work: Path) -> None:
        for tool in ("java", "javac"):
            if shutil.which(tool) is None:
                raise SystemExit(f"--jef4j needs {tool} on PATH")
        self.work = work
        built = work / "harness"
        built.mkdir()
        subprocess.run(["javac", "-nowarn", "-cp", str(classpath), "-d", str(built), str(HARNESS)], check=True)
        self.classpath = f"{classpath}{os.pathsep}{built}"

    def field_file(self, name: str, field: np.ndarray) -> Path:
        path = self.work / f"{name}.bin"
        np.ascontiguousarray(field).tofile(path)
        return path

    def run(self, path: Path, width: int, charset: str, text_out: Path | None = None) -> dict[str, Any]:
        command = ["java", "-cp", self.classpath, "DecodeFields", str(path), str(width), charset,
                   str(JEF4J_WARMUP), "1", *([str(text_out)] if text_out else [])]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        result: dict[str, Any] = json.loads(done.stdout)
        return result


def run(records: int, repeat: int, seed: int, jef4j: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "JUMIN.DAT"
        generate(records, seed).tofile(path)
        size = path.stat().st_size
        matrix = np.fromfile(path, dtype=np.uint8).reshape(-1, LRECL)
        return _run(matrix, size, repeat, Jef4j(jef4j, Path(tmp)) if jef4j else None)


def _run(matrix: np.ndarray, size: int, repeat: int, jef4j: Jef4j | None) -> dict[str, Any]:
    cols = _offsets()
    codec = get_codec(CHARSET)

    def field(name: str) -> np.ndarray:
        at, w = cols[name]
        return matrix[:, at : at + w]

    kinds: dict[str, tuple[str, Callable[[], Any]]] = {
        "mixed PIC X (SHIMEI-KANA)": ("SHIMEI-KANA", lambda: codec.decode_mixed(field("SHIMEI-KANA"))),
        "PIC N (SHIMEI)": ("SHIMEI", lambda: codec.decode_dbcs(field("SHIMEI"))),
        "COMP-3 (ZEIGAKU)": ("ZEIGAKU", lambda: unpack_packed(field("ZEIGAKU"), 2)),
        "zoned (JUMIN-NO, SETAI-SU)": (
            "",
            lambda: (
                unpack_zoned(field("JUMIN-NO"), 0, sign="unsigned"),
                unpack_zoned(field("SETAI-SU"), 0, sign="trailing-overpunch"),
            ),
        ),
    }
    references: dict[str, tuple[str, str]] = {  # field kind → (its reference, the field)
        "mixed PIC X (SHIMEI-KANA)": ("cp932 decode, mixed text", "SHIMEI-KANA"),
        "PIC N (SHIMEI)": ("cp932 decode, PIC N text", "SHIMEI"),
    }
    for label, (reference, name) in references.items():
        decoded = kinds[label][1]().values
        buffer = cp932_reference("".join(decoded.to_pylist()), cols[name][1] * len(matrix))
        kinds[reference] = (name, lambda buffer=buffer: buffer.decode("cp932"))
    java: dict[str, tuple[str, str]] = {}  # jef4j's kind → (mig's kind, the field)
    agreement: dict[str, dict[str, int]] = {}
    if jef4j is not None:
        for label, (_, name) in references.items():
            at, width = cols[name]
            field_path = jef4j.field_file(name, field(name))
            text_path = jef4j.work / f"{name}.txt"
            jef4j.run(field_path, width, JEF4J_CHARSETS[name], text_path)
            theirs = text_path.read_text(encoding="utf-8").split("\n")
            ours = kinds[label][1]().values.to_pylist()
            agreement[label] = {
                "fields": len(ours),
                "identical": sum(a == b for a, b in zip(ours, theirs, strict=True)),
                "identical_without_selectors": sum(
                    SELECTORS.sub("", a) == SELECTORS.sub("", b) for a, b in zip(ours, theirs, strict=True)
                ),
            }
            java_label = f"jef4j {label}"
            java[java_label] = (label, name)
            kinds[java_label] = (name, lambda p=field_path, w=width, c=JEF4J_CHARSETS[name]: jef4j.run(p, w, c))
    for label, (_, fn) in kinds.items():
        if label not in java:
            fn()  # warm: tables built, caches filled
    rounds: dict[str, list[tuple[float, float]]] = {label: [] for label in kinds}
    results: dict[str, Any] = {}
    for _ in range(repeat):  # round-robin: one call of each kind per round
        for label, (_, fn) in kinds.items():
            seconds, cpu, results[label] = _timed(fn)
            if label in java:  # the JVM's own timing of its pass, not its start and JIT
                seconds, cpu = results[label]["seconds"][0], results[label]["cpu_seconds"][0]
            rounds[label].append((seconds, cpu))
    rows: dict[str, dict[str, float]] = {}
    total = total_cpu = 0.0
    for label, (name, _) in kinds.items():
        seconds = min(wall for wall, _ in rounds[label])
        cpu = min(c for _, c in rounds[label])
        nbytes = cols[name][1] * len(matrix) if name else (cols["JUMIN-NO"][1] + cols["SETAI-SU"][1]) * len(matrix)
        result = results[label]
        errors = int(np.count_nonzero(result.errors)) if hasattr(result, "errors") else 0
        rows[label] = {
            "seconds": seconds,
            "cpu_seconds": cpu,
            "mb_per_s": nbytes / seconds / 1e6,
            "cpu_mb_per_s": nbytes / cpu / 1e6,
            "records_per_s": len(matrix) / seconds,
            "errors": errors,
        }
        if label in references:
            reference = references[label][0]
            ratios = [ref[0] / own[0] for own, ref in zip(rounds[label], rounds[reference], strict=True)]
            rows[label]["ratio_to_cp932"] = statistics.median(ratios)
            cpu_ratios = [ref[1] / own[1] for own, ref in zip(rounds[label], rounds[reference], strict=True) if own[1] > 0]
            rows[label]["cpu_ratio_to_cp932"] = statistics.median(cpu_ratios) if cpu_ratios else float("nan")
            continue
        if label in java:  # mig's row gets the ratio: mig MB/s ÷ jef4j MB/s, median of the rounds
            own = java[label][0]
            rows[own]["ratio_to_jef4j"] = statistics.median(
                theirs[0] / ours[0] for ours, theirs in zip(rounds[own], rounds[label], strict=True)
            )
            rows[own]["cpu_ratio_to_jef4j"] = statistics.median(
                theirs[1] / ours[1] for ours, theirs in zip(rounds[own], rounds[label], strict=True) if ours[1] > 0
            )
            rows[label]["fields_with_fffd"] = results[label]["fields_with_fffd"]
            continue
        if label.startswith("cp932"):
            continue
        total += seconds
        total_cpu += cpu
    for label in list(references):  # the whole record counts the field decoders only
        total += rows[label]["seconds"]
        total_cpu += rows[label]["cpu_seconds"]
    rows["whole record (all fields)"] = {
        "seconds": total,
        "cpu_seconds": total_cpu,
        "mb_per_s": size / total / 1e6,
        "cpu_mb_per_s": size / total_cpu / 1e6,
        "records_per_s": len(matrix) / total,
        "errors": 0,
    }
    return {
        "records": len(matrix),
        "lrecl": LRECL,
        "file_mb": size / 1e6,
        "repeat": repeat,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "results": rows,
        **({"jef4j": {"java": next(iter(results[j]["java"] for j in java)), "warmup_passes": JEF4J_WARMUP,
                      "same_text": agreement}} if java else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--jef4j", type=Path, metavar="CLASSPATH", help="jef4j's classes or jar: measure it alongside")
    args = parser.parse_args()
    report = run(args.records, args.repeat, args.seed, args.jef4j)
    print(
        f"{report['records']:,} records × {report['lrecl']} bytes = {report['file_mb']:.1f} MB "
        f"({CHARSET}; best of {report['repeat']} round-robin rounds; load average {report['load_average'][0]:.1f} "
        f"on {report['cpus']} CPUs)"
    )
    print(f"{'field':32s} {'MB/s':>9s} {'CPU MB/s':>9s} {'records/s':>13s} {'errors':>7s} {'÷ cp932':>8s} {'CPU ÷':>6s}")
    for label, row in report["results"].items():
        ratio = f"{row['ratio_to_cp932']:8.2f} {row['cpu_ratio_to_cp932']:6.2f}" if "ratio_to_cp932" in row else ""
        print(
            f"{label:32s} {row['mb_per_s']:9.1f} {row['cpu_mb_per_s']:9.1f} "
            f"{row['records_per_s']:13,.0f} {row['errors']:7d} {ratio}"
        )
    print(
        "÷ cp932: median over the rounds of field MB/s ÷ MB/s of the cp932 decode of the same text and "
        "byte count (CPU ÷: the same with this process's CPU time, steadier on a busy machine)"
    )
    for label, row in report["results"].items():
        if "ratio_to_jef4j" in row:
            same = report["jef4j"]["same_text"][label]
            print(
                f"{label} ÷ jef4j: {row['ratio_to_jef4j']:.2f} (CPU {row['cpu_ratio_to_jef4j']:.2f}; medians of the "
                f"rounds, mig's MB/s ÷ jef4j's); same text in {same['identical']:,} of {same['fields']:,} fields "
                f"({same['identical_without_selectors']:,} with variation selectors left out)"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
