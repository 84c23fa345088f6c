"""A load that a test can kill between two batches (``tests/test_load_postgresql.py``).

Run as a separate process::

    python tests/support/paused_load.py MARKER AFTER RUN_DIR TARGET [--replace] [--batch-rows N] [--seconds S]

It loads ``RUN_DIR`` into ``TARGET`` through the library (:func:`mig.load`) with a
``progress`` hook that appends a line to the file ``MARKER`` after every batch written
and, after the ``AFTER``-th batch, sleeps ``S`` seconds (default 30) — so the test sees
the batches land and kills the process in the middle of the load. The hook is the
progress callback every load takes; production code has no test switch.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path


def pausing_progress(marker: Path, after: int, seconds: float) -> Callable[[int], None]:
    """A ``progress(rows)`` hook: one line in ``marker`` per batch; sleep after batch ``after``."""
    written = 0

    def progress(rows: int) -> None:
        nonlocal written
        written += 1
        with marker.open("a", encoding="utf-8") as handle:
            handle.write(f"batch {rows}\n")
        if written == after:
            time.sleep(seconds)

    return progress


def main(argv: list[str] | None = None) -> int:
    import mig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("marker", type=Path)
    parser.add_argument("after", type=int)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("target")
    parser.add_argument("--replace", action="store_true")
    parser.add_argument("--batch-rows", type=int, default=65_536)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    result = mig.load(
        args.run_dir, args.target, replace=args.replace, batch_rows=args.batch_rows,
        progress=pausing_progress(args.marker, args.after, args.seconds),
    )
    return int(result.exit_code)


if __name__ == "__main__":
    raise SystemExit(main())
