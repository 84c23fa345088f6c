"""An extract that a test can kill between two batches (``tests/test_faults.py``).

Run as a separate process::

    python tests/support/paused_extract.py MARKER AFTER MAPPING OUT INPUT... [--force] [--seconds S]

It extracts through the library (:func:`mig.extract.run.extract`, ``batch_bytes`` 64 KiB)
with a ``progress`` hook that appends a line to the file ``MARKER`` after every batch and,
after the ``AFTER``-th batch, sleeps ``S`` seconds (default 60) — so the test sees the run
directory under construction and kills the process there. The hook is the progress
callback every extract takes; production code has no test switch.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path


def pausing_progress(marker: Path, after: int, seconds: float) -> Callable[[str, int, int], None]:
    """A ``progress(path, done, total)`` hook: one line per call; sleep after call ``after``."""
    calls = 0

    def progress(path: str, done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        with marker.open("a", encoding="utf-8") as handle:
            handle.write(f"batch {done}/{total}\n")
        if calls == after:
            time.sleep(seconds)

    return progress


def main(argv: list[str] | None = None) -> int:
    from mig.extract.run import extract

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("marker", type=Path)
    parser.add_argument("after", type=int)
    parser.add_argument("mapping", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("inputs", type=Path, nargs="+")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    extract(
        args.mapping, args.inputs, args.out, force=args.force, batch_bytes=64 * 1024,
        progress=pausing_progress(args.marker, args.after, args.seconds),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
