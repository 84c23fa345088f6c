"""``mig extract``: a thin command over :func:`mig.extract`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

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
@click.option("--workers", "-j", type=click.IntRange(1), help="Processes that run partitions in parallel (default: one on two cores or fewer — it reads ahead in a thread —, else the cores; inputs under two partitions run in one).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="What runs the partitions: local processes, or a Ray cluster (the 'ray' extra).")
@click.option("--address", help="Address of the Ray cluster to join (--engine ray; default: start a local one).")
@click.option("--resume", is_flag=True, help="Resume an interrupted run into the same --out: partitions it completed are reused, the others run.")
@click.option("--partition-mb", type=click.IntRange(1), help="About how many MiB of a large input each partition reads (default 64).")
@quiet_option
@json_option
@user_errors
def extract(
    inputs: tuple[Path, ...], mapping_path: Path, out: Path, adapter: str | None, encoding: str | None,
    force: bool, show_values: bool, batch_mb: int, limit: int | None, excel: bool,
    workers: int | None, engine: Literal["local", "ray"], address: str | None, resume: bool,
    partition_mb: int | None, quiet: bool, as_json: bool,
) -> None:
    """Convert legacy export files INPUTS into a run directory in the standard layout."""
    import mig

    with progress_bar(not quiet) as progress:
        result = mig.extract(
            mapping_path, inputs, out, adapter=adapter, encoding=encoding, force=force,
            show_values=show_values, batch_bytes=batch_mb * 1024 * 1024, progress=progress,
            limit=limit, excel=excel, workers=workers, engine=engine, address=address, resume=resume,
            partition_bytes=None if partition_mb is None else partition_mb * 1024 * 1024,
        )
    if as_json:
        emit_json(run_json(result.report, result.run_manifest, result.run_dir))
    else:
        print_run_summary(result.report, result.run_manifest, result.run_dir)
    sys.exit(int(result.report.exit_code))
