"""``mig layouts import``: a specification workbook (.xlsx) → layout files and code tables."""

from __future__ import annotations

from pathlib import Path

import click

from mig.cli.common import emit_json, json_option, user_errors
from mig.cli.layouts import layouts
from mig.i18n import text
from mig.jp import pad_display


@layouts.command("import")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="New (or empty) directory for the layout files and codes.toml.")
@click.option("--standard", help="The standard (default: from the file name, e.g. 基本データリスト).")
@click.option("--version", "version", help="The standard's version (default: from the file name, e.g. 【第2.1版】).")
@click.option("--business", help="The 業務 (default: from the file name).")
@click.option("--id-prefix", help="Layout ids are PREFIX-01, PREFIX-02, … (default: layout).")
@click.option("--columns", type=click.Path(path_type=Path),
              help="Column-mapping override file (TOML) for unusual headers.")
@json_option
@user_errors
def layouts_import(
    workbook: Path, out: Path, standard: str | None, version: str | None, business: str | None,
    id_prefix: str | None, columns: Path | None, as_json: bool,
) -> None:
    """Import a specification workbook: one layout file per layout sheet, plus codes.toml."""
    import mig

    result = mig.import_layouts(
        workbook, out, standard=standard, version=version, business=business,
        id_prefix=id_prefix, columns=columns,
    )
    if as_json:
        emit_json(result.to_dict())
        return
    for note in result.notes:
        click.echo(text("layouts.import-note", cell=note.cell, message=note.message), err=True)
    for sheet, reason in result.skipped:
        click.echo(text("layouts.import-skipped", sheet=sheet, reason=reason))
    for imported in result.layouts:
        click.echo(text(
            "layouts.import-layout", id=pad_display(imported.layout.id, 16), sheet=imported.sheet,
            items=len(imported.layout.items),
        ))
    click.echo(text("layouts.import-codes", count=len(result.codes)))
    click.echo(text("layouts.import-written", out=result.out))
