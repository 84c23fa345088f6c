"""EUC-JP decoding benchmark: :func:`mig.codecs.euc.decode_euc` (vectorised, eucJP-ms 外字 as
Private Use) against CPython's ``bytes.decode("euc_jp")`` (C, but refuses the user areas) on
the same seeded CSV-like text, in MB/s. Nothing asserts on time.

The text: lines of ASCII digits and commas, JIS X 0208 kanji and kana, half-width kana
(SS2) and one JIS X 0212 kanji (SS3) every few lines; ``--gaiji`` adds eucJP-ms user-area
characters (then only mig decodes it).

Usage::

    python benchmarks/bench_euc_decode.py [--mb 64] [--repeat 5] [--seed 0] [--gaiji] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from mig.codecs.euc import decode_euc


def generate(megabytes: int, seed: int, gaiji: bool) -> bytes:
    """About ``megabytes`` MB of EUC-JP lines (built from a small pool of encoded pieces)."""
    rng = np.random.default_rng(seed)
    kanji = [bytes((lead, trail)) for lead in range(0xB0, 0xCF) for trail in range(0xA1, 0xFF)]
    kana = [bytes((0xA4, trail)) for trail in range(0xA2, 0xF3)]
    pieces = kanji + kana + [bytes((0x8E, t)) for t in range(0xB1, 0xDD)] + [b"\x8f\xb0\xa1"]
    if gaiji:
        pieces += [bytes((0xF5, 0xA1)), b"\x8f\xf5\xa1"]
    pool = []
    for _ in range(4096):
        body = b"".join(pieces[i] for i in rng.integers(0, len(pieces), int(rng.integers(4, 24))))
        pool.append(b"%d," % int(rng.integers(10**9)) + body + b",2026-01-01\n")
    size = megabytes * 1_000_000
    lines = [pool[i] for i in rng.integers(0, len(pool), size // 40)]
    return b"".join(lines)[: size].rsplit(b"\n", 1)[0] + b"\n"


def best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gaiji", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    data = generate(args.mb, args.seed, args.gaiji)
    mb = len(data) / 1e6
    results = {"bytes": len(data), "gaiji": args.gaiji, "machine": platform.machine(), "python": platform.python_version()}
    block = 32 * 1024 * 1024  # the csv adapter's default batch

    def mig() -> None:
        for start in range(0, len(data), block):
            decode_euc("euc-jp", data[start : start + block].rsplit(b"\n", 1)[0])

    results["mig_mb_s"] = round(mb / best(mig, args.repeat), 1)
    if not args.gaiji:
        results["cpython_mb_s"] = round(mb / best(lambda: data.decode("euc_jp").encode("utf-8"), args.repeat), 1)
    for key, value in results.items():
        print(f"{key}: {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
