"""``mig audit``: the contract-end handover audit (a thin command over :func:`mig.audit_package`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import get_args

import click

from mig import Repertoire
from mig.cli.common import emit_json, json_option, user_errors
from mig.errors import ConfigError, ExitCode, OutputError
from mig.fs import check_output_file, write_text


def _pairs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        name, sep, layout = value.rpartition("=")
        if not sep or not name or not layout:
            raise ConfigError(f"--map {value!r}: expected FILE=LAYOUT (e.g. JUMIN.csv=juki-jumin)")
        pairs.append((name, layout))
    return tuple(pairs)


def _write_atomic(path: Path, text: str) -> None:
    try:
        write_text(path, text)
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
@click.option("--report", "report_path", type=click.Path(path_type=Path), help="Write the HTML report here.")
@click.option("--repertoire", default="jisx0213", show_default=True,
              type=click.Choice(get_args(Repertoire)),
              help="Target character repertoire for the 外字 count.")
@click.option("--require-gaiji-resolved", is_flag=True,
              help="外字 left (Private Use or outside the repertoire) blocks acceptance.")
@click.option("--max-unpacked-gib", type=click.FloatRange(min=0.001), default=64.0, show_default=True,
              help="Zip packages: refuse to inflate more than this in total.")
@click.option("--max-ratio", type=click.FloatRange(min=1.0), default=200.0, show_default=True,
              help="Zip packages: refuse entries inflating more than this many times their size.")
@json_option
@user_errors
def audit(
    package: Path, businesses: tuple[str, ...], mappings: tuple[str, ...], report_path: Path | None,
    repertoire: str, require_gaiji_resolved: bool, max_unpacked_gib: float, max_ratio: float,
    as_json: bool,
) -> None:
    """Audit a handover PACKAGE (directory or zip): complete, conformant, untampered, 外字 left.

    Exit code 0 when nothing blocks acceptance, 1 when something does.
    """
    import mig

    if report_path is not None:
        check_output_file(report_path, inputs=[package], option="--report")
    total = int(max_unpacked_gib * 1024**3)
    options = mig.AuditOptions(
        businesses=businesses,
        mappings=_pairs(mappings),
        repertoire=repertoire,
        require_gaiji_resolved=require_gaiji_resolved,
        limits=mig.Limits(max_total_bytes=total, max_entry_bytes=total, max_ratio=max_ratio),
    )
    report = mig.audit_package(package, options)
    data = report.to_dict()
    if report_path is not None:
        from mig.audit import render_audit_html

        _write_atomic(report_path, render_audit_html(data))
    if as_json:
        emit_json(data)
    else:
        _print_summary(data, report_path)
    sys.exit(int(ExitCode.CLEAN if report.passed else ExitCode.FINDINGS))


def _print_summary(data: dict[str, object], report_path: Path | None) -> None:
    verdict = "PASS" if data["passed"] else "FAIL"
    totals = data["findings_total"]
    assert isinstance(totals, dict)
    click.echo(f"package: {data['package']} ({data['package_kind']})  {verdict}: "
               f"{totals.get('error', 0)} blocking, {totals.get('warning', 0)} warning(s)")
    businesses = data["businesses"]
    assert isinstance(businesses, list)
    for business in businesses:
        present = sum(1 for x in business["layouts"] if x["status"] == "present")
        click.echo(f"  {business['business']}: {business['verdict']}  "
                   f"(layouts {present}/{len(business['layouts'])}, errors {business['errors']}, "
                   f"warnings {business['warnings']})")
    files = data["files"]
    assert isinstance(files, list)
    for file in files:
        rows, good = file["rows"], file["rows_conforming"]
        tenths = good * 1000 // rows if rows else None
        shown = "–" if tenths is None else f"{tenths // 10}.{tenths % 10}%"
        click.echo(f"  {file['path']}: {file['rows']} records, 準拠率 {shown}")
    findings = data["findings"]
    assert isinstance(findings, list)
    for finding in findings:
        if finding["severity"] == "error":
            click.echo(f"  error   {finding['type']:<22} {finding['message']}")
    for file in files:
        for summary in file["findings"]:
            if summary["severity"] == "error":
                click.echo(f"  error   {summary['type']:<22} {file['path']}: {summary['message']} ({summary['count']})")
    gaiji = data["gaiji_total"]
    assert isinstance(gaiji, dict)
    if gaiji["pua_values"] or gaiji["outside_values"]:
        options = data["options"]
        assert isinstance(options, dict)
        rule = "blocking" if options["require_gaiji_resolved"] else "warning; --require-gaiji-resolved blocks"
        click.echo(f"  外字 left: {gaiji['pua_values']} value(s) with Private Use characters in "
                   f"{gaiji['pua_items']} item(s), {gaiji['outside_values']} outside the repertoire ({rule})")
    if report_path is not None:
        click.echo(f"report: {report_path}")
