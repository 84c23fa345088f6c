"""``mig --log-file PATH``: a plain-text log of one run, without values.

The log gets: the command line (every argument through :func:`mig.load.targets.redact_url`,
so a password in a target URL is masked), start and end in UTC with the exit code and the
duration, the one-line messages mig printed on stderr (``mig: error: …``, ``mig: note: …``
— they never hold a value), and what the stages log through the ``mig`` logger (counts
per layout, :mod:`mig.run.log`). Nothing mig prints on stdout goes there: with
``--show-values`` that may hold values.

The file is appended to (a log of several runs), never replaced; it is created when
missing. ``MIG_LOG_FILE`` gives the path when ``--log-file`` does not.
"""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from mig.errors import OutputError
from mig.fs import os_errno
from mig.load.targets import redact_url
from mig.run.log import LOGGER_NAME

__all__ = ["command_line", "open_log", "run_log"]


class _UtcFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def command_line(argv: Sequence[str]) -> str:
    """The command line as the log shows it: credentials masked, one line.

    >>> command_line(["load", "run", "--target", "postgresql://mig:S3cret@db/x"])
    'mig load run --target postgresql://mig:***@db/x'
    >>> command_line(["load", "run", "--target=postgresql://mig:S3cret@db/x", "-tpostgres://u:S3cret@h/y"])
    'mig load run --target=postgresql://mig:***@db/x -tpostgres://u:***@h/y'
    """
    shown = [_shown(arg) for arg in argv]
    return " ".join(["mig", *(a if a and a.isprintable() and " " not in a else repr(a) for a in shown)])


def _shown(arg: str) -> str:
    """One argument with its credentials masked, also inside ``--option=VALUE`` and a short
    option glued to its value (``-tVALUE``)."""
    if arg.startswith("--") and "=" in arg:
        name, value = arg.split("=", 1)
        return f"{name}={redact_url(value)}"
    if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
        return arg[:2] + redact_url(arg[2:])
    return redact_url(arg)


class _StderrTee(io.TextIOBase):
    """stderr as it was, plus mig's own one-line messages (``mig: …``) into the log."""

    def __init__(self, target: TextIO, log: logging.Logger) -> None:
        self._target = target
        self._log = log
        self._pending = ""

    def write(self, s: str) -> int:
        self._pending += s
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.startswith("mig:"):
                self._log.info("%s", line)
        return self._target.write(s)

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return self._target.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", "utf-8")


def open_log(path: Path) -> TextIO:
    """The log file opened for appending (created when missing); one that cannot be
    opened is an :class:`~mig.errors.OutputError` (exit 3) naming it."""
    try:
        return open(path, "a", encoding="utf-8")  # noqa: SIM115  (run_log closes it)
    except OSError as exc:
        raise OutputError(str(path), os_errno(exc), exc.strerror) from None


@contextmanager
def run_log(stream: TextIO | None, argv: Sequence[str]) -> Iterator[None]:
    """Log the command run inside the block to ``stream`` (from :func:`open_log`; nothing
    when ``None``), and close it at the end."""
    if stream is None:
        yield
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_UtcFormatter("%(asctime)s %(levelname)s %(message)s"))
    log = logging.getLogger(LOGGER_NAME)
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    stderr = sys.stderr
    sys.stderr = _StderrTee(stderr, log)
    started = time.monotonic()
    log.info("start %s", command_line(argv))
    code: int | str | None = 0
    try:
        yield
    except SystemExit as exc:
        code = exc.code
        raise
    except BaseException as exc:
        code = f"{type(exc).__name__}"
        raise
    finally:
        sys.stderr = stderr
        log.info("end exit %s (%.1f s)", 0 if code is None else code, time.monotonic() - started)
        log.removeHandler(handler)
        log.setLevel(level)
        handler.close()
        stream.close()
