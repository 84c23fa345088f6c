"""``mig extract``: a thin command over :func:`mig.extract`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mig.cli.common import (
    emit_json,
    json_option,
    print_run_summary,
    progress_bar,
    quiet_option,
    run_json,
    user_errors,
)


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--mapping", "-m", "mapping_path", required=True, type=click.Path(path_type=Path), help="Mapping file (TOML).")
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="Run directory to create.")
@click.option("--adapter", "-a", help="Adapter name (default: the mapping's adapter).")
@click.option("--encoding", help="Override the source encoding (cp932, shift_jis, euc-jp, utf-8, utf-8-sig, utf-16…).")
@click.option("--force", is_flag=True, help="Replace an existing run directory.")
@click.option("--show-values", is_flag=True, help="Put offending values into findings and reports (個人番号 stays masked).")
@click.option("--batch-mb", default=32, show_default=True, type=click.IntRange(1, 4096), help="Bytes read per batch, in MiB.")
@click.option("--limit", type=click.IntRange(1), help="Read only the first N records of each input: a trial of the mapping (the run is marked partial; mig load refuses it).")
@click.option("--excel", is_flag=True, help="Also write excel/<layout>-findings.csv (UTF-8 with BOM) per layout, and with --show-values excel/<layout>-rejects.csv.")
@quiet_option
@json_option
@user_errors
def extract(
    inputs: tuple[Path, ...], mapping_path: Path, out: Path, adapter: str | None, encoding: str | None,
    force: bool, show_values: bool, batch_mb: int, limit: int | None, excel: bool, quiet: bool, as_json: bool,
) -> None:
    """Convert legacy export files INPUTS into a run directory in the standard layout."""
    import mig

    with progress_bar(not quiet) as progress:
        result = mig.extract(
            mapping_path, inputs, out, adapter=adapter, encoding=encoding, force=force,
            show_values=show_values, batch_bytes=batch_mb * 1024 * 1024, progress=progress,
            limit=limit, excel=excel,
        )
    if as_json:
        emit_json(run_json(result.report, result.run_manifest, result.run_dir))
    else:
        print_run_summary(result.report, result.run_manifest, result.run_dir)
    sys.exit(int(result.report.exit_code))
