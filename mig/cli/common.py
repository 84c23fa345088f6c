"""What every ``mig`` command shares: the error wrapper, JSON output, the progress bar and
the common options."""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mig.errors import ExitCode, MigError
from mig.fs import json_text, os_errno
from mig.i18n import text

if TYPE_CHECKING:
    from mig.run.manifest import Manifest, ManifestFile
    from mig.validation.report import Report

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "emit_json", "json_option", "print_counts", "print_run_summary", "progress_bar", "quiet_option",
    "run_json", "run_summary_lines", "user_errors",
]


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every partial output is removed on the way out."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


@contextmanager
def _sigterm_cleans_up() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _os_error_line(exc: OSError) -> str:
    """An unexpected :class:`OSError`: the path and the system's reason, nothing a library added."""
    number = os_errno(exc)
    reason = os.strerror(number) if number else "input/output error"
    where = exc.filename if isinstance(exc.filename, str) and exc.filename.isprintable() else None
    return f"{where}: {reason}" if where else reason


def user_errors(command: F) -> F:
    """Show a :class:`MigError` as ``mig: error: …`` and exit with its code.

    Also one line, never a traceback: an :class:`OSError` nothing else handled (exit 3: a
    file that could not be read or written), Ctrl-C (exit 130) and SIGTERM (exit 143),
    after the partial outputs are removed.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _sigterm_cleans_up():
                return command(*args, **kwargs)
        except MigError as exc:
            click.echo(text("cli.error", message=exc), err=True)
            sys.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            click.echo("mig: " + text("cli.interrupted"), err=True)
            sys.exit(int(ExitCode.INTERRUPTED))
        except Terminated:
            click.echo("mig: " + text("cli.terminated"), err=True)
            sys.exit(int(ExitCode.TERMINATED))
        except OSError as exc:
            click.echo(text("cli.error", message=_os_error_line(exc)), err=True)
            sys.exit(int(ExitCode.CANNOT_WRITE))

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    click.echo(json_text(data), nl=False)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar on stderr; ``None`` when off (not a TTY, or ``--quiet``)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def advance(label: str, done: int, total: int) -> None:
            # label: the phase (``juki-jumin ← JUMIN.csv``, "writing reports"); a path its name
            if label not in tasks:
                tasks[label] = bar.add_task(Path(label).name if os.sep in label else label, total=total or None)
            bar.update(tasks[label], completed=done)

        yield advance


def print_counts(files: Sequence[ManifestFile], run_dir: Path) -> None:
    """The per-layout counts table of a run directory (``mig extract``, ``mig demo``)."""
    from mig.jp import pad_display
    from mig.run.manifest import REPORT_HTML

    heads = [text(f"extract.counts-{key}") for key in ("rows-in", "rows-out", "rejected")]
    click.echo(" ".join([pad_display(text("extract.counts-layout"), 14), *(pad_display(h, 10, ">") for h in heads)]))
    for f in files:
        rows_in = "" if f.rows_in is None else f.rows_in
        click.echo(f"{f.layout:<14} {rows_in:>10} {f.rows_out:>10} {f.rows_rejected:>10}")
    click.echo(text("extract.counts-run-directory", run_dir=run_dir, report=run_dir / REPORT_HTML))


def run_summary_lines(report: Report, manifest: Manifest) -> list[str]:
    """What a run came to, after its counts: conservation, why records were rejected, the
    外字 left — the one summary ``mig extract`` and ``mig demo`` both print. Names types,
    items and code points, never a value."""
    totals = manifest.totals
    conserved = totals.rows_in == totals.rows_out + totals.rows_rejected
    reasons = report.rejection_reasons()
    separator = text("extract.list-separator")
    lines = [
        text(
            "extract.conserved", rows_in=totals.rows_in, rows_out=totals.rows_out,
            rows_rejected=totals.rows_rejected, mark="✓" if conserved else "✗",
        ),
        text(
            "extract.rejected-because",
            reasons=separator.join(text("extract.reason", type=k, count=v) for k, v in reasons.items()),
        ) if reasons else text("extract.rejected-none"),
    ]
    gaiji = [g for f in report.files for g in f.gaiji]
    if manifest.gaiji is not None:
        lines.append(text(
            "extract.gaiji-registry", source=manifest.gaiji.source, confirmed=manifest.gaiji.confirmed,
            unresolved=sum(g["count"] for g in gaiji),
        ))
    if gaiji:
        entries = separator.join(
            text("extract.gaiji-entry", item=g["item"], code=g.get("code") or "", count=g["count"]) for g in gaiji
        )
        lines.append(text("extract.gaiji-left", entries=entries))
    if manifest.partial is not None:
        lines.append(text("extract.partial", limit=manifest.partial.limit))
    return lines


def print_run_summary(report: Report, manifest: Manifest, run_dir: Path) -> None:
    """The counts table and :func:`run_summary_lines` of a run (``mig extract``, ``mig demo``)."""
    print_counts(manifest.files, run_dir)
    for line in run_summary_lines(report, manifest):
        click.echo(line)


def run_json(report: Report, manifest: Manifest, run_dir: Path) -> dict[str, Any]:
    """``mig extract --json``: the run directory, its manifest and the findings in brief."""
    return {"run_dir": str(run_dir), "manifest": manifest.to_dict(), "findings": report.findings_summary()}


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
