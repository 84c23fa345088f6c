"""``mig demo``: a thin command over :func:`mig.run_demo`."""

from __future__ import annotations

from pathlib import Path

import click

from mig.cli.common import (
    emit_json,
    json_option,
    print_run_summary,
    progress_bar,
    quiet_option,
    user_errors,
)
from mig.i18n import text


@click.command()
@click.option("--out", "-o", default="mig-demo", show_default=True, type=click.Path(path_type=Path))
@click.option("--rows", default=1000, show_default=True, type=click.IntRange(10, 10_000_000), help="住民 rows to generate.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--force", is_flag=True, help="Replace an existing demo directory.")
@click.option("--gaiji-registry", is_flag=True, help="Resolve the vendor 外字 through the demo's registry (MJ characters, IVS kept).")
@quiet_option
@json_option
@user_errors
def demo(out: Path, rows: int, seed: int, force: bool, gaiji_registry: bool, quiet: bool, as_json: bool) -> None:
    """Generate a synthetic legacy 住民記録 export, extract, validate and load it into SQLite."""
    import mig

    with progress_bar(not quiet) as progress:
        result = mig.run_demo(out, rows=rows, seed=seed, force=force, progress=progress, gaiji_registry=gaiji_registry)
    if as_json:
        emit_json(result.to_dict())
        return
    click.echo(text("extract.demo-legacy-export", path=result.export_dir))
    print_run_summary(result.run.report, result.run.run_manifest, result.run_dir)
    click.echo(text("extract.demo-loaded-into", path=result.database))
