"""``mig preview``: a thin command over :func:`mig.preview`."""

from __future__ import annotations

from pathlib import Path

import click

from mig.cli.common import emit_json, json_option, user_errors


@click.command("preview")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--mapping", "-m", "mapping_path", required=True, type=click.Path(path_type=Path), help="Mapping file (TOML).")
@click.option("--limit", "-n", default=10, show_default=True, type=click.IntRange(1, 100_000), help="Records to show.")
@click.option("--adapter", "-a", help="Adapter name (default: the mapping's adapter).")
@click.option("--mapped", is_flag=True, help="Take the records through the mapping: each item beside its source fields, with the findings.")
@json_option
@user_errors
def preview(input_path: Path, mapping_path: Path, limit: int, adapter: str | None, mapped: bool, as_json: bool) -> None:
    """Show the first decoded records of INPUT with the byte offset of each field (or, with
    --mapped, as the mapping makes them)."""
    import mig

    result = mig.preview(mapping_path, input_path, limit=limit, adapter=adapter, mapped=mapped)
    if as_json:
        emit_json(result)
        return
    from mig.extract.preview import format_mapped_preview, format_preview

    for line in (format_mapped_preview if mapped else format_preview)(result):
        click.echo(line)
