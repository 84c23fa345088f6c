"""``mig audit``: the contract-end handover audit (a thin command over :func:`mig.audit_package`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, get_args

import click

from mig import Repertoire
from mig.cli.common import emit_json, json_option, progress_bar, quiet_option, user_errors
from mig.errors import ConfigError, ExitCode, OutputError
from mig.fs import check_output_file, write_text
from mig.i18n import text
from mig.jp import pad_display

if TYPE_CHECKING:
    from mig.audit import AuditFinding, AuditReport


def _pairs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        name, sep, layout = value.rpartition("=")
        if not sep or not name or not layout:
            raise ConfigError(f"--map {value!r}: expected FILE=LAYOUT (e.g. JUMIN.csv=juki-jumin)")
        pairs.append((name, layout))
    return tuple(pairs)


REPORT_MARK = '<meta name="generator" content="mig audit">'
"""The line every audit report carries in its head: how a file mig wrote is told apart."""
SUFFIXED = 20
"""How many suffixed names (``.audit-2.html`` …) are tried when the default name is taken."""


def _written_by_mig(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return REPORT_MARK.encode() in handle.read(4096)
    except OSError:
        return False


def default_report_path(package: Path) -> Path:
    """Where the report goes without ``--report``: beside the package, as
    ``<package>.audit.html`` (``handover.zip`` → ``handover.audit.html``) — a new file, or
    one mig wrote before; a name taken by another file gets a suffix (``.audit-2.html``).

    >>> default_report_path(Path("/nonexistent/handover.zip"))
    PosixPath('/nonexistent/handover.audit.html')
    """
    package = package.absolute()
    if package.name in ("", ".."):  # `mig audit ..`: name the folder itself
        package = package.resolve()
    base = package.name[: -len(package.suffix)] if package.suffix.lower() == ".zip" else package.name
    folder = package.parent
    for n in range(1, SUFFIXED + 1):
        candidate = folder / (f"{base}.audit.html" if n == 1 else f"{base}.audit-{n}.html")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        if candidate.is_file() and not candidate.is_symlink() and _written_by_mig(candidate):
            return candidate
    raise ConfigError(text("audit.report-taken", path=folder / f"{base}.audit.html"))


def _write_atomic(path: Path, text_: str) -> None:
    try:
        write_text(path, text_)
    except OutputError:  # the disk, not the usage: exit 3 naming the report
        raise
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the report: {exc.strerror}") from None


@click.command()
@click.argument("package", type=click.Path(path_type=Path))
@click.option("--business", "-b", "businesses", multiple=True, metavar="業務",
              help="Audit this 業務 (repeatable; default: the 業務 the package holds files of).")
@click.option("--map", "mappings", multiple=True, metavar="FILE=LAYOUT",
              help="Read package file FILE (path or name, glob allowed) as a file of LAYOUT.")
@click.option("--control", "controls", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="A control file (件数表): a package path, or a file the municipality holds (repeatable).")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="Write the HTML report here (default: <package>.audit.html beside the package).")
@click.option("--no-report", is_flag=True, help="Write no HTML report.")
@click.option("--repertoire", default="jisx0213", show_default=True,
              type=click.Choice(get_args(Repertoire)),
              help="Target character repertoire for the 外字 count.")
@click.option("--require-gaiji-resolved", is_flag=True,
              help="外字 left (Private Use or outside the repertoire) blocks acceptance.")
@click.option("--max-unpacked-gib", type=click.FloatRange(min=0.001), default=64.0, show_default=True,
              help="Zip packages: refuse to inflate more than this in total.")
@click.option("--max-ratio", type=click.FloatRange(min=1.0), default=200.0, show_default=True,
              help="Zip packages: refuse entries inflating more than this many times their size.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256),
              help="Processes validating the package's data files at once (default: the cores; the report is the same).")
@quiet_option
@json_option
@user_errors
def audit(
    package: Path, businesses: tuple[str, ...], mappings: tuple[str, ...], controls: tuple[Path, ...],
    report_path: Path | None, no_report: bool, repertoire: str, require_gaiji_resolved: bool,
    max_unpacked_gib: float, max_ratio: float, jobs: int | None, quiet: bool, as_json: bool,
) -> None:
    """Audit a handover PACKAGE (directory or zip): complete, conformant, untampered, 外字 left.

    Files are matched to layouts by --map, by name, or by content (header row of 項目名称,
    else field count and value patterns). Exit code 0 when nothing blocks acceptance, 1 when
    something does.
    """
    import mig
    from mig.machine import available_cores

    if report_path is not None:
        check_output_file(report_path, inputs=[package], option="--report")
    total = int(max_unpacked_gib * 1024**3)
    with progress_bar(not quiet and not as_json) as progress:
        options = mig.AuditOptions(
            businesses=businesses,
            mappings=_pairs(mappings),
            repertoire=repertoire,
            require_gaiji_resolved=require_gaiji_resolved,
            limits=mig.Limits(max_total_bytes=total, max_entry_bytes=total, max_ratio=max_ratio),
            controls=controls,
            progress=progress,
            jobs=jobs or available_cores(),
        )
        report = mig.audit_package(package, options)
    data = report.to_dict()
    if report_path is None and not no_report:
        report_path = default_report_path(package)
    # the verdict is shown first: a report that cannot be written (exit 3) does not hide it
    if as_json:
        emit_json(data)
    else:
        _print_summary(report)
    if report_path is not None:
        from mig.audit import render_audit_html

        _write_atomic(report_path, render_audit_html(data))
        if not as_json:
            click.echo(text("audit.summary-report", path=report_path))
    sys.exit(int(ExitCode.CLEAN if report.passed else ExitCode.FINDINGS))


TOP_FINDINGS = 10
"""How many findings the terminal lists (errors first, then warnings); the rest are in the report."""


def _print_summary(report: AuditReport) -> None:
    findings = report.all_findings()
    errors = [f for f in findings if f.severity == "error"]
    click.echo(text("audit.summary-package", package=report.package, kind=report.package_kind,
                    verdict=text("audit.pass" if report.passed else "audit.fail"),
                    errors=len(errors), warnings=len(findings) - len(errors)))
    for business in report.businesses:
        present = sum(1 for x in business.layouts if x.status == "present")
        click.echo(text("audit.summary-business", business=business.business,
                        verdict=text(f"audit.verdict-{business.verdict}"), present=present,
                        total=len(business.layouts), errors=business.errors, warnings=business.warnings))
    for file in report.files:
        click.echo(text("audit.summary-file", path=file.path, layout=file.layout,
                        method=text(f"audit.method-{file.match_method}"),
                        confidence=f"{file.match_confidence:.2f}", rows=file.rows,
                        rate=percent(file.rows_conforming, file.rows)))
    top = top_findings(findings)
    if top:
        click.echo(text("audit.summary-top", shown=len(top[:TOP_FINDINGS]), total=len(top)))
        for finding in top[:TOP_FINDINGS]:
            where = f"{finding.path}: " if finding.path and not finding.message.startswith(finding.path) else ""
            click.echo(f"  {pad_display(text('audit.severity-' + finding.severity), 6)} {finding.type:<24} {where}{finding.message}"
                       + (f" ({finding.count})" if finding.count and where else ""))
        if len(top) > TOP_FINDINGS:
            click.echo(text("audit.summary-more", more=len(top) - TOP_FINDINGS))
    gaiji = report.gaiji_totals()
    if gaiji["pua_values"] or gaiji["outside_values"]:
        rule = text("audit.gaiji-blocking" if report.options.get("require_gaiji_resolved") else "audit.gaiji-warning")
        click.echo(text("audit.summary-gaiji", pua=gaiji["pua_values"], items=gaiji["pua_items"],
                        outside=gaiji["outside_values"], rule=rule))


def top_findings(findings: list[AuditFinding]) -> list[AuditFinding]:
    """Findings as the terminal lists them: errors, then warnings; within each, by count."""
    return sorted(findings, key=lambda f: (f.severity != "error", -f.count, f.business, f.path, f.type, f.item))


def percent(good: int, rows: int) -> str:
    """``good / rows`` rounded down to 0.1 % (``–`` for no rows)."""
    if not rows:
        return "–"
    tenths = good * 1000 // rows
    return f"{tenths // 10}.{tenths % 10}%"
