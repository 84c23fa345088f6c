"""``mig validate``: a thin command over :func:`mig.validate_files` (files against a layout)
and :func:`mig.validate_run` (a run directory against the layouts of its manifest)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mig.cli.common import json_option, user_errors
from mig.errors import ConfigError, Msg
from mig.fs import check_output_file, write_text
from mig.i18n import text


def _references(refs: tuple[str, ...]) -> dict[str, Path]:
    references = {}
    for ref in refs:
        name, sep, value = ref.partition("=")
        if not sep:
            raise ConfigError(Msg("validate.ref-syntax", ref=repr(ref)))
        references[name] = Path(value)
    return references


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--layout", "-l", "layout_id", help="Layout id (see `mig layouts list`) or layout file path; not with a run directory.")
@click.option("--ref", "refs", multiple=True, metavar="LAYOUT=PATH", help="File of a referenced layout, for cross-file keys.")
@click.option("--encoding", help="Encoding of CSV input (default: detected).")
@click.option("--show-values", is_flag=True, help="Include offending values (個人番号 stays masked).")
@click.option("--report", "report_path", type=click.Path(path_type=Path), help="Also write the report as HTML.")
@json_option
@user_errors
def validate(
    paths: tuple[Path, ...], layout_id: str | None, refs: tuple[str, ...], encoding: str | None,
    show_values: bool, report_path: Path | None, as_json: bool,
) -> None:
    """Validate intermediate CSV or Parquet files PATHS against a layout, or one run
    directory (RUN_DIR alone) against the layouts its manifest names."""
    import mig

    references = _references(refs)
    # a folder is a run directory (its manifest is checked when read); files need --layout
    run_dirs = [p for p in paths if p.is_dir()]
    if run_dirs and (len(paths) > 1 or layout_id or references or encoding):
        raise ConfigError(Msg("validate.run-dir-alone", path=run_dirs[0]))
    if not run_dirs and layout_id is None:
        raise ConfigError(Msg("validate.layout-needed"))
    if report_path:
        check_output_file(report_path, inputs=[*paths, *references.values()], option="--report")
    if run_dirs:
        report = mig.validate_run(run_dirs[0], show_values=show_values)
    else:
        assert layout_id is not None
        report = mig.validate_files(paths, layout_id, references=references, encoding=encoding, show_values=show_values)
    if report_path:
        from mig.html.run_report import render_report_html

        write_text(report_path, render_report_html(report.to_dict()))
    if as_json:
        click.echo(report.to_json(), nl=False)
    else:
        for f in report.files:
            for s in f.sources:
                click.echo(text("validate.file-counts", path=s.path, rows=f.rows_in, rejected=f.rows_rejected))
            for finding in f.findings:
                rows = ", ".join(map(str, finding.rows))
                click.echo(
                    f"  {finding.severity:<7} {finding.type:<26} {finding.count:>8}  {finding.message}"
                    + (f"  {text('validate.rows', rows=rows)}" if rows else "")
                )
    sys.exit(int(report.exit_code))
